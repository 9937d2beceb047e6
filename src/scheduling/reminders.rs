//! When appointment reminders go: at fixed offsets before the start, never in quiet hours and never after
//! the start. A reminder that falls in quiet hours goes when quiet hours end if that is still before the
//! appointment, otherwise earlier, at the last allowed minute the evening before.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use super::QuietHours;

/// One reminder to send: which offset it serves and when it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderTime {
    pub offset: SignedDuration,
    pub send_at: Timestamp,
}

/// Reminder times for an appointment at `starts_at`, skipping any already past at `now` and any that would
/// coincide with an earlier one.
pub fn reminder_times(
    starts_at: Timestamp,
    offsets: &[SignedDuration],
    now: Timestamp,
    zone: &TimeZone,
    quiet: &QuietHours,
) -> Vec<ReminderTime> {
    let mut times: Vec<ReminderTime> = Vec::new();
    for &offset in offsets {
        let nominal = starts_at - offset;
        let after_quiet = quiet.next_allowed(nominal, zone);
        let send_at = if after_quiet < starts_at {
            after_quiet
        } else {
            quiet.previous_allowed(nominal, zone)
        };
        if send_at <= now || send_at >= starts_at || times.iter().any(|t| t.send_at == send_at) {
            continue;
        }
        times.push(ReminderTime { offset, send_at });
    }
    times.sort_by_key(|t| t.send_at);
    times
}

/// Parses offsets like `24h,2h`.
pub fn parse_offsets(value: &str) -> Result<Vec<SignedDuration>, String> {
    value.split(',').map(parse_offset).collect()
}

/// Parses one offset like `48h` or `90m`: above zero and at most 14 days, the same rule for
/// TETHER_APPOINTMENT_REMINDERS and for the per-kind offsets in program.toml.
pub fn parse_offset(value: &str) -> Result<SignedDuration, String> {
    let part = value.trim();
    part.parse::<SignedDuration>()
        .ok()
        .filter(|d| d.is_positive() && *d <= SignedDuration::from_hours(14 * 24))
        .ok_or_else(|| format!("`{part}` is not a duration before the start like `24h` or `90m` (at most 14 days)"))
}

/// An appointment time as a reminder says it, in the client's language and zone: "Tue Mar 10 at 10:00 AM",
/// "mar 10 de marzo a las 10:00". Nothing about where or why: texts name neither.
pub fn describe_when(at: Timestamp, zone: &TimeZone, language: &str) -> String {
    let local = at.to_zoned_datetime(zone.clone());
    match language {
        "es" => {
            const DAYS: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
            const MONTHS: [&str; 12] = [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ];
            let day = DAYS[local.weekday().to_monday_zero_offset() as usize];
            let month = MONTHS[(local.month() - 1) as usize];
            format!("el {day} {} de {month} a las {}", local.day(), local.strftime("%H:%M"))
        }
        _ => format!("on {}", local.strftime("%a %b %-d at %-I:%M %p")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_time::{local, ny};

    fn quiet() -> QuietHours {
        "21:00-08:00".parse().unwrap()
    }

    fn offsets() -> Vec<SignedDuration> {
        parse_offsets("24h,2h").unwrap()
    }

    #[test]
    fn a_tuesday_ten_oclock_visit_is_reminded_the_day_before_and_two_hours_before() {
        let times = reminder_times(
            local("2026-03-10T10:00"),
            &offsets(),
            local("2026-03-06T12:00"),
            &ny(),
            &quiet(),
        );
        let at: Vec<Timestamp> = times.iter().map(|t| t.send_at).collect();
        assert_eq!(at, [local("2026-03-09T10:00"), local("2026-03-10T08:00")]);
    }

    #[test]
    fn a_reminder_due_at_six_goes_at_eight_if_that_is_before_the_start_else_the_evening_before() {
        // 24 h before a 06:00 visit is 06:00 the day before: 08:00 that day is still before the visit.
        let early = reminder_times(
            local("2026-03-10T06:00"),
            &offsets(),
            local("2026-03-06T12:00"),
            &ny(),
            &quiet(),
        );
        assert_eq!(early[0].send_at, local("2026-03-09T08:00"));
        // 2 h before an 08:00 visit is 06:00: 08:00 is the start itself, so it goes the evening before.
        assert_eq!(early.len(), 2);
        let morning = reminder_times(
            local("2026-03-10T08:00"),
            &offsets(),
            local("2026-03-06T12:00"),
            &ny(),
            &quiet(),
        );
        assert_eq!(
            morning.iter().map(|t| t.send_at).collect::<Vec<_>>(),
            [local("2026-03-09T08:00"), local("2026-03-09T20:59")]
        );
    }

    #[test]
    fn past_reminders_are_skipped_and_none_goes_after_the_start() {
        let times = reminder_times(
            local("2026-03-10T10:00"),
            &offsets(),
            local("2026-03-09T12:00"),
            &ny(),
            &quiet(),
        );
        assert_eq!(times.len(), 1, "only the 2 h reminder is still ahead");
        assert!(times.iter().all(|t| t.send_at < local("2026-03-10T10:00")));
    }

    #[test]
    fn times_are_said_in_the_clients_language() {
        assert_eq!(
            describe_when(local("2026-03-10T14:05"), &ny(), "en"),
            "on Tue Mar 10 at 2:05 PM"
        );
        assert_eq!(
            describe_when(local("2026-03-10T14:05"), &ny(), "es"),
            "el mar 10 de marzo a las 14:05"
        );
    }

    #[test]
    fn offsets_are_validated() {
        assert!(parse_offsets("24h, 2h").is_ok());
        assert!(parse_offsets("tomorrow").unwrap_err().contains("tomorrow"));
        assert!(parse_offsets("-2h").is_err());
    }
}
