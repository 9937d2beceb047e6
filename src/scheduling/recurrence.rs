//! Recurring reminders from cron patterns (medication times), evaluated in the client's own time zone.
//!
//! croner searches the wall clock only (a time zone never enters its walk); this module then places the
//! wall-clock time it found on the time line with jiff's zone rules. So every firing is one wall-clock time
//! sent once:
//! - in a fall-back fold the earlier instant is the firing and the repeated one is never a firing, for any
//!   pattern. croner's own zoned search treats a pattern with more than one hour or minute as an interval job
//!   that runs on both instants of a repeated time, so `30 1,3 * * *` in New York sent 01:30 twice on
//!   1 November 2026 (docs/medication-reminders.md);
//! - a time inside a spring-forward gap is sent once, at the first instant after the gap (a daily 02:30 goes
//!   at 03:00 that night), for any pattern; croner's zoned search dropped it for interval patterns.

use std::cmp::Ordering;
use std::str::FromStr;

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, civil::DateTime};

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

/// The most wall-clock matches that can fall behind `after` in a row: every minute of the longest fold
/// (an hour) that has already been sent once, and the match that ends it.
const MAX_MATCHES_BEHIND: usize = 61;

impl Recurrence {
    /// The first firing strictly after `after`, in `zone`.
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let mut wall = WallClock(after.to_zoned_datetime(zone.clone()).datetime());
        for _ in 0..MAX_MATCHES_BEHIND {
            let found = self.pattern.find_next_occurrence(&wall, false).ok()?;
            let at = place_on_time_line(found.0, zone)?;
            // Only in the repeated half of a fold is a wall-clock time ahead of `after` already past: its
            // firing was the earlier instant, so the search goes on from that wall-clock time.
            if at > after {
                return Some(at);
            }
            wall = found;
        }
        None
    }

    /// The pattern in words, like "At 08:30", for previews.
    pub fn describe(&self) -> String {
        self.pattern.describe()
    }

    pub fn as_str(&self) -> &str {
        self.pattern.as_str()
    }
}

/// The instant a wall-clock firing stands for in `zone`: the earlier one in a fold, the first instant after
/// the gap in a gap.
fn place_on_time_line(wall: DateTime, zone: &TimeZone) -> Option<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(wall);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } | AmbiguousOffset::Fold { before: offset, .. } => {
            offset.to_timestamp(wall).ok()
        }
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the offset after the gap, the wall-clock time lies before the change of clock, so
            // the change is the first transition following it.
            let before_the_change = after.to_timestamp(wall).ok()?;
            zone.following(before_the_change)
                .next()
                .map(|transition| transition.timestamp())
        }
    }
}

/// A wall-clock time without a zone, as croner's search type: croner finds the next matching wall-clock
/// time and [`place_on_time_line`] decides which instant it is.
#[derive(Debug, Clone)]
struct WallClock(DateTime);

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

impl CronDateTime for WallClock {
    fn to_civil(&self) -> CivilDateTime {
        to_civil(self.0)
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(self.0.weekday().to_sunday_zero_offset() as u32)
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        Ok(Resolution::Single(WallClock(to_jiff(civil)?)))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
            .map(WallClock)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
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

    #[test]
    fn a_repeated_hour_is_sent_once_whatever_the_pattern() {
        // The bug this replaces: croner's zoned search sent the repeated 01:30 after the first one.
        assert_eq!(
            occurrences("30 1,3 * * *", "America/New_York", "2026-10-31T12:00:00Z", 4),
            [
                "2026-11-01T01:30:00-04:00[America/New_York]",
                "2026-11-01T03:30:00-05:00[America/New_York]",
                "2026-11-02T01:30:00-05:00[America/New_York]",
                "2026-11-02T03:30:00-05:00[America/New_York]",
            ]
        );
        assert_eq!(
            occurrences("0,30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", 4),
            [
                "2026-10-25T01:00:00+01:00[Europe/London]",
                "2026-10-25T01:30:00+01:00[Europe/London]",
                "2026-10-26T01:00:00+00:00[Europe/London]",
                "2026-10-26T01:30:00+00:00[Europe/London]",
            ]
        );
        // Lord Howe goes back half an hour, from 02:00 to 01:30, on 5 April 2026.
        assert_eq!(
            occurrences("45 1,9 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z", 3),
            [
                "2026-04-05T01:45:00+11:00[Australia/Lord_Howe]",
                "2026-04-05T09:45:00+10:30[Australia/Lord_Howe]",
                "2026-04-06T01:45:00+10:30[Australia/Lord_Howe]",
            ]
        );
    }

    #[test]
    fn a_search_from_inside_the_repeated_half_does_not_go_back_to_the_first() {
        // 01:10 EST on 1 November 2026 is after the first 01:30 (EDT): the next firing is the next day's.
        let zone = TimeZone::get("America/New_York").unwrap();
        let recurrence: Recurrence = "30 1 * * *".parse().unwrap();
        let inside_repeat: Timestamp = "2026-11-01T06:10:00Z".parse().unwrap();
        assert_eq!(
            recurrence.next_after(inside_repeat, &zone).unwrap().to_string(),
            "2026-11-02T06:30:00Z"
        );
        let every_quarter: Recurrence = "*/15 * * * *".parse().unwrap();
        assert_eq!(
            every_quarter.next_after(inside_repeat, &zone).unwrap().to_string(),
            "2026-11-01T07:00:00Z",
            "02:00 EST, the first wall-clock time not already sent"
        );
    }

    #[test]
    fn a_time_in_a_gap_is_sent_once_after_the_gap_whatever_the_pattern() {
        assert_eq!(
            occurrences("0,30 2,12 * * *", "America/New_York", "2026-03-08T05:00:00Z", 3),
            [
                "2026-03-08T03:00:00-04:00[America/New_York]",
                "2026-03-08T12:00:00-04:00[America/New_York]",
                "2026-03-08T12:30:00-04:00[America/New_York]",
            ]
        );
        // Lord Howe goes forward half an hour, from 02:00 to 02:30, on 4 October 2026.
        assert_eq!(
            occurrences("15 2,9 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 3),
            [
                "2026-10-04T02:30:00+11:00[Australia/Lord_Howe]",
                "2026-10-04T09:15:00+11:00[Australia/Lord_Howe]",
                "2026-10-05T02:15:00+11:00[Australia/Lord_Howe]",
            ]
        );
    }
}
