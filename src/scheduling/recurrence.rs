//! Recurring reminders from cron patterns (medication times), evaluated in the client's own time zone.
//!
//! croner matches the pattern; this module gives it jiff's zone rules through croner's `CronDateTime`
//! trait, so a daily 02:30 fires once on the spring-forward day (at 03:00, when the clock shows the first
//! minute after the gap) and a daily 01:30 fires once on the fall-back day (the first 01:30). The `cron`
//! crate gets both wrong (rust-stack.md §4).

use std::cmp::Ordering;
use std::str::FromStr;

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ZonedDateTime, civil::DateTime};

/// A validated 5-field cron pattern (`minute hour day-of-month month day-of-week`), like `30 8 * * *`.
#[derive(Debug, Clone)]
pub struct Recurrence {
    pattern: Cron,
}

impl FromStr for Recurrence {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let fields = value.split_whitespace().count();
        if fields != 5 {
            return Err(format!(
                "`{value}` has {fields} fields; use the 5-field crontab form `minute hour day month weekday`, like `30 8 * * *`"
            ));
        }
        let pattern = Cron::from_str(value).map_err(|err| format!("`{value}` is not a cron pattern: {err}"))?;
        Ok(Self { pattern })
    }
}

impl Recurrence {
    /// The first occurrence strictly after `after`, in `zone`.
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let start = Local(after.to_zoned_datetime(zone.clone()));
        self.pattern
            .find_next_occurrence(&start, false)
            .ok()
            .map(|found| found.0.timestamp())
    }

    /// The pattern in words, like "At 08:30", for previews.
    pub fn describe(&self) -> String {
        self.pattern.describe()
    }

    pub fn as_str(&self) -> &str {
        self.pattern.as_str()
    }
}

/// jiff 1.0's zoned time, as croner's search type.
#[derive(Debug, Clone)]
struct Local(ZonedDateTime);

fn to_civil(datetime: DateTime) -> CivilDateTime {
    CivilDateTime::new(
        CivilDate::from_parts_unchecked(
            i32::from(datetime.year()),
            datetime.month() as u32,
            datetime.day() as u32,
        ),
        CivilTime::from_parts_unchecked(
            datetime.hour() as u32,
            datetime.minute() as u32,
            datetime.second() as u32,
        ),
    )
}

fn to_jiff(civil: CivilDateTime) -> Result<DateTime, CronError> {
    let year = i16::try_from(civil.year()).map_err(|_| CronError::InvalidDate)?;
    DateTime::new(
        year,
        civil.month() as i8,
        civil.day() as i8,
        civil.hour() as i8,
        civil.minute() as i8,
        civil.second() as i8,
        0,
    )
    .map_err(|_| CronError::InvalidDate)
}

impl CronDateTime for Local {
    fn to_civil(&self) -> CivilDateTime {
        to_civil(self.0.datetime())
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(self.0.weekday().to_sunday_zero_offset() as u32)
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        let datetime = to_jiff(civil)?;
        let ambiguous = self.0.time_zone().to_ambiguous_zoned_datetime(datetime);
        Ok(match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => {
                Resolution::Single(Local(ambiguous.unambiguous().map_err(|_| CronError::InvalidTime)?))
            }
            AmbiguousOffset::Fold { .. } => {
                let earlier = ambiguous.clone().earlier().map_err(|_| CronError::InvalidTime)?;
                let later = ambiguous.later().map_err(|_| CronError::InvalidTime)?;
                Resolution::Ambiguous(Local(earlier), Local(later))
            }
            AmbiguousOffset::Gap { .. } => Resolution::Gap,
        })
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0.checked_add(SignedDuration::from_secs(seconds)).ok().map(Local)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.timestamp().cmp(&other.0.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrences(pattern: &str, zone: &str, from: &str, count: usize) -> Vec<String> {
        let zone = TimeZone::get(zone).unwrap();
        let recurrence: Recurrence = pattern.parse().unwrap();
        let mut at: Timestamp = from.parse().unwrap();
        (0..count)
            .map(|_| {
                at = recurrence.next_after(at, &zone).unwrap();
                at.to_zoned_datetime(zone.clone()).to_string()
            })
            .collect()
    }

    #[test]
    fn spring_forward_fires_once_at_three_in_new_york_and_berlin() {
        assert_eq!(
            occurrences("30 2 * * *", "America/New_York", "2026-03-07T00:00:00Z", 3),
            [
                "2026-03-07T02:30:00-05:00[America/New_York]",
                "2026-03-08T03:00:00-04:00[America/New_York]",
                "2026-03-09T02:30:00-04:00[America/New_York]",
            ]
        );
        assert_eq!(
            occurrences("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 3),
            [
                "2026-03-28T02:30:00+01:00[Europe/Berlin]",
                "2026-03-29T03:00:00+02:00[Europe/Berlin]",
                "2026-03-30T02:30:00+02:00[Europe/Berlin]",
            ]
        );
    }

    #[test]
    fn fall_back_fires_once_at_the_first_half_past_one() {
        assert_eq!(
            occurrences("30 1 * * *", "America/New_York", "2026-10-31T00:00:00Z", 3),
            [
                "2026-10-31T01:30:00-04:00[America/New_York]",
                "2026-11-01T01:30:00-04:00[America/New_York]",
                "2026-11-02T01:30:00-05:00[America/New_York]",
            ]
        );
        assert_eq!(
            occurrences("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 3),
            [
                "2026-10-25T02:30:00+02:00[Europe/Berlin]",
                "2026-10-26T02:30:00+01:00[Europe/Berlin]",
                "2026-10-27T02:30:00+01:00[Europe/Berlin]",
            ]
        );
    }

    #[test]
    fn only_five_field_patterns_are_accepted() {
        assert!("30 8 * * *".parse::<Recurrence>().is_ok());
        assert!("0 30 8 * * *".parse::<Recurrence>().unwrap_err().contains("6 fields"));
        assert!(
            "61 8 * * *"
                .parse::<Recurrence>()
                .unwrap_err()
                .contains("not a cron pattern")
        );
        assert!("daily".parse::<Recurrence>().is_err());
    }
}
