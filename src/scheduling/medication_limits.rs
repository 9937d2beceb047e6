//! What a medication reminder pattern may ask for, checked over its real firings in the client's zone for a
//! year ahead (both changes of clock included): a few reminders a day, well apart, none at night without the
//! client's consent (docs/medication-reminders.md).

use jiff::{SignedDuration, Timestamp, civil::Date, tz::TimeZone};

use super::QuietHours;
use super::recurrence::Recurrence;

/// How far ahead a pattern is checked, and the furthest its first firing may be.
const HORIZON: SignedDuration = SignedDuration::from_hours(366 * 24);

/// `TETHER_MEDICATION_MAX_PER_DAY` and `TETHER_MEDICATION_MIN_GAP_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedicationLimits {
    pub max_per_day: u32,
    pub min_gap: SignedDuration,
}

impl Default for MedicationLimits {
    fn default() -> Self {
        Self {
            max_per_day: 6,
            min_gap: SignedDuration::from_mins(60),
        }
    }
}

/// Why a pattern is refused; the message is the API's explanation on the `schedule` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternRefusal {
    #[error("never fires within a year; choose days that exist, like `0 9 28 2 *` rather than `0 9 31 2 *`")]
    NeverFires,
    #[error(
        "fires {count} times on {date}; at most {max} medication reminders a day are allowed (TETHER_MEDICATION_MAX_PER_DAY)"
    )]
    TooManyInADay { date: Date, count: u32, max: u32 },
    #[error(
        "fires at {first} and again at {second}, {apart} minutes later; medication reminders must be at least {min} minutes apart (TETHER_MEDICATION_MIN_GAP_MINUTES), changes of clock included"
    )]
    TooClose {
        first: String,
        second: String,
        apart: i64,
        min: i64,
    },
    #[error(
        "fires at {at}, inside quiet hours ({quiet}); reminders are never moved, so choose a time outside them or record the client's consent to reminders at night with `night_ok: true`"
    )]
    InQuietHours { at: String, quiet: QuietHours },
}

/// Checks `recurrence` for a client in `zone` from `now`, and returns its first firing.
pub fn check_pattern(
    recurrence: &Recurrence,
    zone: &TimeZone,
    quiet: &QuietHours,
    night_ok: bool,
    limits: &MedicationLimits,
    now: Timestamp,
) -> Result<Timestamp, PatternRefusal> {
    let horizon = now + HORIZON;
    let local = |at: Timestamp| at.to_zoned_datetime(zone.clone());
    let first = recurrence
        .next_after(now, zone)
        .filter(|&at| at <= horizon)
        .ok_or(PatternRefusal::NeverFires)?;
    let mut previous: Option<Timestamp> = None;
    let mut day = local(first).date();
    let mut on_day = 0;
    let mut at = first;
    while at <= horizon {
        let zoned = local(at);
        if !night_ok && quiet.contains(zoned.time()) {
            return Err(PatternRefusal::InQuietHours {
                at: zoned.strftime("%H:%M on %Y-%m-%d").to_string(),
                quiet: *quiet,
            });
        }
        if zoned.date() != day {
            day = zoned.date();
            on_day = 0;
        }
        on_day += 1;
        if on_day > limits.max_per_day {
            let count = count_on_day(recurrence, zone, day, at, horizon);
            return Err(PatternRefusal::TooManyInADay {
                date: day,
                count,
                max: limits.max_per_day,
            });
        }
        if let Some(before) = previous
            && at.duration_since(before) < limits.min_gap
        {
            return Err(PatternRefusal::TooClose {
                first: local(before).strftime("%H:%M %Z on %Y-%m-%d").to_string(),
                second: zoned.strftime("%H:%M %Z").to_string(),
                apart: at.duration_since(before).as_mins(),
                min: limits.min_gap.as_mins(),
            });
        }
        previous = Some(at);
        let Some(next) = recurrence.next_after(at, zone) else {
            break;
        };
        at = next;
    }
    Ok(first)
}

/// How many times the pattern fires on `day`, counting on from `at` (which is on it), for the error.
fn count_on_day(recurrence: &Recurrence, zone: &TimeZone, day: Date, at: Timestamp, horizon: Timestamp) -> u32 {
    let start_of_day = zone
        .to_ambiguous_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .unwrap_or(at);
    let mut count = 0;
    let mut cursor = start_of_day - SignedDuration::from_secs(1);
    while let Some(next) = recurrence.next_after(cursor, zone) {
        if next > horizon || next.to_zoned_datetime(zone.clone()).date() != day {
            break;
        }
        count += 1;
        cursor = next;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_time::{local, ny};

    fn check(pattern: &str, night_ok: bool) -> Result<Timestamp, PatternRefusal> {
        check_in(pattern, &ny(), night_ok, local("2026-03-06T12:00"))
    }

    fn check_in(pattern: &str, zone: &TimeZone, night_ok: bool, now: Timestamp) -> Result<Timestamp, PatternRefusal> {
        let recurrence: Recurrence = pattern.parse().unwrap();
        check_pattern(
            &recurrence,
            zone,
            &QuietHours::default(),
            night_ok,
            &MedicationLimits::default(),
            now,
        )
    }

    #[test]
    fn every_minute_is_refused_however_it_is_written() {
        for pattern in [
            "* * * * *",
            "*/1 * * * *",
            "0-59 * * * *",
            "1,2,3,4,5,6,7,8,9,10 * * * *",
        ] {
            for night_ok in [false, true] {
                let refusal = check(pattern, night_ok).unwrap_err();
                assert!(
                    matches!(refusal, PatternRefusal::TooClose { apart: 1, min: 60, .. }),
                    "{pattern}: {refusal}"
                );
            }
        }
    }

    #[test]
    fn more_than_six_a_day_is_refused_even_when_they_are_apart() {
        // From noon on 6 March five are left that day; 7 March is the first whole day.
        let refusal = check("0 8,10,12,14,16,18,20 * * *", false).unwrap_err();
        assert_eq!(
            refusal,
            PatternRefusal::TooManyInADay {
                date: jiff::civil::date(2026, 3, 7),
                count: 7,
                max: 6
            }
        );
        assert!(refusal.to_string().contains("at most 6 medication reminders a day"));
        assert!(check("0 8,10,12,14,16,18 * * *", false).is_ok());
        assert!(
            check("0 */4 * * *", true).is_ok(),
            "six a day, four hours apart, with consent"
        );
    }

    #[test]
    fn a_pattern_that_never_fires_within_a_year_is_refused() {
        assert_eq!(check("0 9 31 2 *", false), Err(PatternRefusal::NeverFires));
        assert_eq!(check("0 9 30 2 *", false), Err(PatternRefusal::NeverFires));
        // The next 29 February is in 2028, more than a year ahead.
        assert_eq!(check("0 9 29 2 *", false), Err(PatternRefusal::NeverFires));
        assert!(check("0 9 28 2 *", false).is_ok());
    }

    #[test]
    fn night_times_need_consent_and_are_never_moved() {
        let refusal = check("0 22 * * *", false).unwrap_err();
        assert!(matches!(refusal, PatternRefusal::InQuietHours { .. }), "{refusal}");
        assert!(refusal.to_string().contains("22:00 on 2026-03-06"), "{refusal}");
        assert!(refusal.to_string().contains("night_ok"), "{refusal}");
        assert_eq!(check("0 22 * * *", true), Ok(local("2026-03-06T22:00")));
        assert!(check("0 8 * * *", false).is_ok(), "08:00 is when quiet hours end");
        assert!(check("59 20 * * *", false).is_ok());
    }

    #[test]
    fn the_gap_is_measured_on_the_real_firings_across_a_change_of_clock() {
        // On 8 March 2026 New York skips 02:00-03:00: 01:30 and 02:30 (sent at 03:00) are 30 minutes apart.
        let refusal = check("30 1,2 * * *", true).unwrap_err();
        assert!(
            matches!(&refusal, PatternRefusal::TooClose { apart: 30, .. }),
            "{refusal}"
        );
        assert!(refusal.to_string().contains("2026-03-08"), "{refusal}");
        // On 1 November 01:00 is sent once (the earlier instant), so 01:00 and 02:00 EST are two hours apart.
        let from_autumn = local("2026-10-01T12:00");
        assert!(check_in("0 1,2 * * *", &ny(), true, from_autumn).is_ok());
        // Lord Howe's half-hour shift on 4 October 2026: 02:15 does not exist and goes at 02:30, which is
        // 45 minutes after 01:15.
        let lord_howe = TimeZone::get("Australia/Lord_Howe").unwrap();
        let refusal = check_in("15 1,2 * * *", &lord_howe, true, from_autumn).unwrap_err();
        assert!(
            matches!(refusal, PatternRefusal::TooClose { apart: 45, .. }),
            "{refusal}"
        );
        assert!(refusal.to_string().contains("2026-10-04"), "{refusal}");
    }

    #[test]
    fn limits_are_configurable() {
        let recurrence: Recurrence = "0 9,12 * * *".parse().unwrap();
        let strict = MedicationLimits {
            max_per_day: 1,
            min_gap: SignedDuration::from_mins(60),
        };
        let refusal = check_pattern(
            &recurrence,
            &ny(),
            &QuietHours::default(),
            false,
            &strict,
            local("2026-03-06T12:00"),
        )
        .unwrap_err();
        assert!(
            matches!(refusal, PatternRefusal::TooManyInADay { count: 2, max: 1, .. }),
            "{refusal}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_time::local;

    /// One cron field: `*`, a value, a range, a step or a list, some of them out of range.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            (0u32..70).prop_map(|n| n.to_string()),
            (0u32..70, 0u32..70).prop_map(|(a, b)| format!("{a}-{b}")),
            (1u32..30).prop_map(|n| format!("*/{n}")),
            prop::collection::vec(0u32..70, 1..5).prop_map(|v| v
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")),
            "[A-Z?LW#0-9]{1,4}",
        ]
    }

    /// Five fields, mostly shaped like real medication times (a minute, a few hours) so that many are
    /// accepted, the rest anything.
    fn pattern() -> impl Strategy<Value = String> {
        let minute = prop_oneof![3 => (0u32..60).prop_map(|n| n.to_string()), 1 => field()];
        let hour = prop_oneof![
            2 => prop::collection::vec(0u32..24, 1..8)
                .prop_map(|v| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
            1 => (1u32..12).prop_map(|n| format!("*/{n}")),
            1 => field(),
        ];
        let calendar = || prop_oneof![3 => Just("*".to_owned()), 1 => field()];
        (minute, hour, calendar(), calendar(), calendar())
            .prop_map(|(m, h, dom, month, dow)| format!("{m} {h} {dom} {month} {dow}"))
    }

    fn zone() -> impl Strategy<Value = TimeZone> {
        prop::sample::select(vec![
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "UTC",
        ])
        .prop_map(|name| TimeZone::get(name).expect("bundled zone"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        /// Arbitrary text never panics the parser or the check.
        #[test]
        fn any_text_is_parsed_or_refused_without_panicking(text in "\\PC{0,40}") {
            if let Ok(recurrence) = text.parse::<Recurrence>() {
                let _ = check_pattern(&recurrence, &TimeZone::UTC, &QuietHours::default(), true,
                    &MedicationLimits::default(), local("2026-03-06T12:00"));
            }
        }

        /// A pattern the check accepts keeps the limits over its real firings, checked here on their own
        /// across both changes of clock of 2026.
        #[test]
        fn accepted_patterns_keep_the_limits(
            text in pattern(),
            zone in zone(),
            night_ok in any::<bool>(),
        ) {
            let Ok(recurrence) = text.parse::<Recurrence>() else { return Ok(()) };
            let now: Timestamp = "2026-03-01T00:00:00Z".parse().expect("instant");
            let limits = MedicationLimits::default();
            let quiet = QuietHours::default();
            let Ok(first) = check_pattern(&recurrence, &zone, &quiet, night_ok, &limits, now) else { return Ok(()) };
            prop_assert!(first <= now + HORIZON);
            let mut per_day: std::collections::BTreeMap<Date, u32> = std::collections::BTreeMap::new();
            let mut at = first;
            let mut previous: Option<Timestamp> = None;
            while at <= now + SignedDuration::from_hours(300 * 24) {
                let local = at.to_zoned_datetime(zone.clone());
                prop_assert!(night_ok || !quiet.contains(local.time()), "{local} is in quiet hours");
                *per_day.entry(local.date()).or_default() += 1;
                if let Some(before) = previous {
                    prop_assert!(at.duration_since(before) >= limits.min_gap, "{before} then {at}");
                }
                previous = Some(at);
                let Some(next) = recurrence.next_after(at, &zone) else { break };
                at = next;
            }
            prop_assert!(per_day.values().all(|&count| count <= limits.max_per_day), "{per_day:?}");
        }
    }
}
