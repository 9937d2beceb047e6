//! Time helpers shared by unit tests: New York, and local wall-clock times there.

use std::str::FromStr;

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};

pub fn ny() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

/// `2026-03-06T15:00` in New York, as an instant (gaps resolve later, folds to the first occurrence).
pub fn local(s: &str) -> Timestamp {
    DateTime::from_str(s)
        .unwrap()
        .to_zoned_datetime(ny())
        .unwrap()
        .timestamp()
}
