//! Client-local hours in which scheduled texts are held until morning.

use std::fmt;
use std::str::FromStr;

use jiff::{Timestamp, civil::Time, tz::TimeZone};

/// A daily span of local time, like 21:00-08:00, in which non-urgent texts are not sent. The span may wrap
/// past midnight. Start is inclusive, end exclusive: at 08:00 sharp sending is allowed again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: Time,
    end: Time,
}

/// 21:00-08:00, the service's default (`TETHER_QUIET_HOURS`).
impl Default for QuietHours {
    fn default() -> Self {
        Self {
            start: Time::constant(21, 0, 0, 0),
            end: Time::constant(8, 0, 0, 0),
        }
    }
}

impl QuietHours {
    pub fn new(start: Time, end: Time) -> Result<Self, String> {
        if start == end {
            return Err("start and end must differ".into());
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, local: Time) -> bool {
        if self.start < self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// The first instant at or after `at` that is outside quiet hours for someone in `zone`.
    pub fn next_allowed(&self, at: Timestamp, zone: &TimeZone) -> Timestamp {
        let local = at.to_zoned_datetime(zone.clone());
        if !self.contains(local.time()) {
            return at;
        }
        let mut date = local.date();
        // In a span that wraps midnight, the evening part ends tomorrow morning.
        if self.start > self.end && local.time() >= self.start {
            date = date.tomorrow().unwrap_or(date);
        }
        // If the end falls in a DST gap, "compatible" moves it later, which is still outside quiet hours.
        zone.to_ambiguous_timestamp(date.to_datetime(self.end))
            .compatible()
            .unwrap_or(at)
    }
}

impl QuietHours {
    /// The last allowed minute at or before `at`: the minute before the quiet span containing `at` began.
    pub fn previous_allowed(&self, at: Timestamp, zone: &TimeZone) -> Timestamp {
        let local = at.to_zoned_datetime(zone.clone());
        if !self.contains(local.time()) {
            return at;
        }
        let mut date = local.date();
        // In a span that wraps midnight, the small hours belong to the span that began yesterday evening.
        if self.start > self.end && local.time() < self.end {
            date = date.yesterday().unwrap_or(date);
        }
        let began = zone
            .to_ambiguous_timestamp(date.to_datetime(self.start))
            .compatible()
            .unwrap_or(at);
        began - jiff::SignedDuration::from_mins(1)
    }
}

impl FromStr for QuietHours {
    type Err = String;

    /// Parses `HH:MM-HH:MM`, like the default `21:00-08:00`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (start, end) = value
            .split_once('-')
            .ok_or_else(|| format!("`{value}` is not HH:MM-HH:MM, like 21:00-08:00"))?;
        Self::new(parse_clock_time(start)?, parse_clock_time(end)?)
    }
}

/// Parses a local clock time written `HH:MM`.
pub fn parse_clock_time(value: &str) -> Result<Time, String> {
    let value = value.trim();
    let parsed = value
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
        .filter(|_| value.len() == 5);
    match parsed {
        Some((hour, minute)) => {
            Time::new(hour, minute, 0, 0).map_err(|_| format!("`{value}` is not a time of day between 00:00 and 23:59"))
        }
        None => Err(format!("`{value}` is not a time of day written HH:MM")),
    }
}

impl fmt::Debug for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start.strftime("%H:%M"), self.end.strftime("%H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_time::{local, ny};

    #[test]
    fn late_evening_and_small_hours_wait_for_eight_in_the_morning() {
        let quiet: QuietHours = "21:00-08:00".parse().unwrap();
        assert_eq!(
            quiet.next_allowed(local("2026-03-06T23:30"), &ny()),
            local("2026-03-07T08:00")
        );
        assert_eq!(
            quiet.next_allowed(local("2026-03-07T03:00"), &ny()),
            local("2026-03-07T08:00")
        );
        assert_eq!(
            quiet.next_allowed(local("2026-03-06T21:00"), &ny()),
            local("2026-03-07T08:00")
        );
        assert_eq!(
            quiet.next_allowed(local("2026-03-06T20:59"), &ny()),
            local("2026-03-06T20:59")
        );
        assert_eq!(
            quiet.next_allowed(local("2026-03-07T08:00"), &ny()),
            local("2026-03-07T08:00")
        );
    }

    #[test]
    fn the_morning_after_a_dst_change_is_still_eight_local() {
        let quiet: QuietHours = "21:00-08:00".parse().unwrap();
        // 2026-03-08 springs forward at 02:00; 2026-11-01 falls back at 02:00.
        assert_eq!(
            quiet.next_allowed(local("2026-03-07T22:00"), &ny()).to_string(),
            "2026-03-08T12:00:00Z"
        );
        assert_eq!(
            quiet.next_allowed(local("2026-10-31T22:00"), &ny()).to_string(),
            "2026-11-01T13:00:00Z"
        );
    }

    #[test]
    fn the_last_allowed_minute_before_quiet_hours() {
        let quiet: QuietHours = "21:00-08:00".parse().unwrap();
        assert_eq!(
            quiet.previous_allowed(local("2026-03-07T06:00"), &ny()),
            local("2026-03-06T20:59")
        );
        assert_eq!(
            quiet.previous_allowed(local("2026-03-07T23:00"), &ny()),
            local("2026-03-07T20:59")
        );
        assert_eq!(
            quiet.previous_allowed(local("2026-03-07T12:00"), &ny()),
            local("2026-03-07T12:00")
        );
    }

    #[test]
    fn a_span_that_does_not_wrap_midnight_works_too() {
        let quiet: QuietHours = "00:00-07:30".parse().unwrap();
        assert!(quiet.contains(Time::constant(3, 0, 0, 0)));
        assert!(!quiet.contains(Time::constant(22, 0, 0, 0)));
        assert_eq!(
            quiet.next_allowed(local("2026-03-07T03:00"), &ny()),
            local("2026-03-07T07:30")
        );
    }

    #[test]
    fn malformed_spans_are_refused_with_the_reason() {
        assert!("21:00".parse::<QuietHours>().unwrap_err().contains("HH:MM-HH:MM"));
        assert!(
            "25:00-08:00"
                .parse::<QuietHours>()
                .unwrap_err()
                .contains("between 00:00 and 23:59")
        );
        assert!("8:00-9:00".parse::<QuietHours>().unwrap_err().contains("HH:MM"));
        assert!("08:00-08:00".parse::<QuietHours>().unwrap_err().contains("differ"));
    }
}
