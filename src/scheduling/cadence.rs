//! When each step of a schedule falls for one client: pure calendar arithmetic in the client's zone.
//!
//! A step N days after discharge keeps the discharge's local wall-clock time (calendar days, not 24-hour
//! blocks), so a DST change never moves a text by an hour. The step's send window and weekday rule move it
//! forward, then quiet hours do.

use jiff::{
    SignedDuration, Timestamp,
    civil::{Date, Time, Weekday},
    tz::TimeZone,
};

use super::QuietHours;
use crate::domain::MessageKind;

/// A named cadence of texts anchored at discharge, loaded from `message_templates/schedules/NAME.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub name: String,
    /// Bumped whenever the steps change; part of each text's idempotency key.
    pub version: i64,
    pub kind: MessageKind,
    /// How late a text may still go out; later than this it is marked expired instead.
    pub max_lateness: SignedDuration,
    /// A bridge over the first days: other schedules' steps on days up to this one are replaced by this
    /// schedule's, for a client who follows both (so no day gets two planned texts).
    pub replaces_through_day: Option<i32>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Stable name of the step, like `day_3`.
    pub id: String,
    /// Calendar days after the discharge date (0 is the discharge day itself).
    pub day: i32,
    /// A fixed local time of day; without one the step keeps the time of day of the discharge.
    pub at: Option<Time>,
    /// Template name without language, like `caring/first`.
    pub template: String,
    pub window: Option<SendWindow>,
    /// Saturday and Sunday move to Monday, for steps that should reach staff on shift if the client replies.
    pub weekdays_only: bool,
}

/// A local time span within one day in which a step may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub start: Time,
    pub end: Time,
}

impl SendWindow {
    pub fn new(start: Time, end: Time) -> Result<Self, String> {
        if start >= end {
            return Err("a send window must start before it ends, within one day".into());
        }
        Ok(Self { start, end })
    }
}

impl Step {
    /// The instant this step is due for a client discharged at `discharged_at` who lives in `zone`.
    pub fn send_at(&self, discharged_at: Timestamp, zone: &TimeZone, quiet: &QuietHours) -> Timestamp {
        let discharge = discharged_at.to_zoned_datetime(zone.clone());
        let mut date = add_days(discharge.date(), self.day);
        // Whole minutes: seconds in a send time look automated and make previews noisy.
        let mut time = self
            .at
            .unwrap_or_else(|| Time::new(discharge.hour(), discharge.minute(), 0, 0).unwrap_or(Time::midnight()));

        if let Some(window) = self.window {
            if time < window.start {
                time = window.start;
            } else if time >= window.end {
                date = add_days(date, 1);
                time = window.start;
            }
        }
        if self.weekdays_only {
            while matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
                date = add_days(date, 1);
            }
        }

        // A time in a spring-forward gap moves later by the gap; a time in a fall-back fold takes the
        // first occurrence. Either way the text goes out once.
        let nominal = zone
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .unwrap_or(discharged_at);
        quiet.next_allowed(nominal, zone)
    }
}

fn add_days(date: Date, days: i32) -> Date {
    date.checked_add(jiff::Span::new().days(days)).unwrap_or(date)
}

/// One step of a schedule laid out for a client.
#[derive(Debug, Clone)]
pub struct PlannedStep<'a> {
    pub index: usize,
    pub step: &'a Step,
    pub send_at: Timestamp,
}

impl Schedule {
    /// Whether `other` plans the same texts at the same times (the version number aside).
    pub fn same_plan(&self, other: &Schedule) -> bool {
        self.kind == other.kind
            && self.max_lateness == other.max_lateness
            && self.replaces_through_day == other.replaces_through_day
            && self.steps == other.steps
    }

    /// Every step that falls after the discharge, with its send time, in step order. A step on the discharge
    /// day whose time has already gone by at discharge (an evening check-in for someone discharged at 19:00)
    /// is not part of that client's plan.
    pub fn lay_out(&self, discharged_at: Timestamp, zone: &TimeZone, quiet: &QuietHours) -> Vec<PlannedStep<'_>> {
        self.steps
            .iter()
            .enumerate()
            .map(|(index, step)| PlannedStep {
                index,
                step,
                send_at: step.send_at(discharged_at, zone, quiet),
            })
            // Send times are whole minutes: a day-0 step at the discharge minute itself still counts.
            .filter(|planned| planned.send_at + SignedDuration::from_mins(1) > discharged_at)
            .collect()
    }

    /// The steps one enrolment follows: those after the discharge, from day `starts_on_day` on (earlier days
    /// belong to a bridge schedule the client also follows).
    pub fn lay_out_from(
        &self,
        discharged_at: Timestamp,
        zone: &TimeZone,
        quiet: &QuietHours,
        starts_on_day: i32,
    ) -> Vec<PlannedStep<'_>> {
        let mut planned = self.lay_out(discharged_at, zone, quiet);
        planned.retain(|planned| planned.step.day >= starts_on_day);
        planned
    }

    /// The first step still worth sending at `now`: steps whose time is past by more than the allowed
    /// lateness are skipped, so a late enrolment starts mid-sequence rather than with a burst of old texts.
    pub fn first_step_due_after(
        &self,
        discharged_at: Timestamp,
        zone: &TimeZone,
        quiet: &QuietHours,
        starts_on_day: i32,
        now: Timestamp,
    ) -> Option<PlannedStep<'_>> {
        self.lay_out_from(discharged_at, zone, quiet, starts_on_day)
            .into_iter()
            .find(|planned| planned.send_at + self.max_lateness >= now)
    }

    /// Where an enrolment picks up after this schedule was edited: the first step not already sent (by id),
    /// later than the last text it was sent, and not too late to send. Steps moved earlier than what the
    /// client already got are skipped rather than sent out of order.
    pub fn resume_after_edit(
        &self,
        discharged_at: Timestamp,
        zone: &TimeZone,
        quiet: &QuietHours,
        starts_on_day: i32,
        now: Timestamp,
        already_sent: &SentSteps,
    ) -> Option<PlannedStep<'_>> {
        self.lay_out_from(discharged_at, zone, quiet, starts_on_day)
            .into_iter()
            .find(|planned| {
                !already_sent.ids.contains(&planned.step.id)
                    && already_sent.last_planned_at.is_none_or(|last| planned.send_at > last)
                    && planned.send_at + self.max_lateness >= now
            })
    }

    /// Whether some day of this schedule has more than one step: the client must have agreed to that.
    pub fn sends_several_a_day(&self) -> bool {
        self.steps.windows(2).any(|pair| pair[0].day == pair[1].day)
    }
}

/// The last day a bridge among `schedules` covers, if one is among them.
pub fn bridge_through<'a>(schedules: impl IntoIterator<Item = &'a Schedule>) -> Option<i32> {
    schedules.into_iter().filter_map(|s| s.replaces_through_day).max()
}

/// The day `schedule` starts on for a client who also follows a bridge covering days up to `bridge_through`:
/// a bridge starts at once, any other schedule the day after the bridge's last.
pub fn starts_on_day(schedule: &Schedule, bridge_through: Option<i32>) -> i32 {
    match (schedule.replaces_through_day, bridge_through) {
        (None, Some(through)) => through + 1,
        _ => 0,
    }
}

/// The steps of one enrolment that have already gone out (or are going out right now).
#[derive(Debug, Clone, Default)]
pub struct SentSteps {
    pub ids: std::collections::HashSet<String>,
    pub last_planned_at: Option<Timestamp>,
}

impl SentSteps {
    pub fn add(&mut self, id: String, planned_at: Timestamp) {
        self.ids.insert(id);
        self.last_planned_at = Some(self.last_planned_at.map_or(planned_at, |last| last.max(planned_at)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_time::{local, ny};

    fn quiet() -> QuietHours {
        "21:00-08:00".parse().unwrap()
    }

    fn step(day: i32, window: Option<(i8, i8)>, weekdays_only: bool) -> Step {
        Step {
            id: format!("day_{day}"),
            day,
            at: None,
            template: "caring/checkin".into(),
            window: window
                .map(|(s, e)| SendWindow::new(Time::constant(s, 0, 0, 0), Time::constant(e, 0, 0, 0)).unwrap()),
            weekdays_only,
        }
    }

    fn schedule(days: &[i32]) -> Schedule {
        Schedule {
            name: "caring_contacts".into(),
            version: 2,
            kind: MessageKind::CaringContact,
            max_lateness: SignedDuration::from_hours(24),
            replaces_through_day: None,
            steps: days.iter().map(|d| step(*d, None, false)).collect(),
        }
    }

    fn bridge() -> Schedule {
        let at = |day: i32, hour: i8| Step {
            id: format!("day_{day}_{hour}"),
            day,
            at: Some(Time::constant(hour, 0, 0, 0)),
            template: "bridge/checkin".into(),
            window: None,
            weekdays_only: false,
        };
        Schedule {
            name: "bridge".into(),
            version: 1,
            kind: MessageKind::BridgeCheckIn,
            max_lateness: SignedDuration::from_hours(6),
            replaces_through_day: Some(3),
            steps: vec![
                at(0, 18),
                at(1, 10),
                at(1, 18),
                at(2, 10),
                at(2, 18),
                at(3, 10),
                at(3, 18),
            ],
        }
    }

    fn times(planned: &[PlannedStep<'_>]) -> Vec<String> {
        planned
            .iter()
            .map(|p| p.send_at.to_zoned_datetime(ny()).strftime("%a %H:%M").to_string())
            .collect()
    }

    #[test]
    fn fixed_time_steps_go_at_their_hour_and_an_evening_already_past_at_discharge_is_left_out() {
        let bridge = bridge();
        assert!(bridge.sends_several_a_day());
        assert!(!schedule(&[1, 3, 7]).sends_several_a_day());
        // Friday 15:00: that evening, then mornings and evenings over the weekend and Monday.
        let friday_afternoon = bridge.lay_out(local("2026-03-06T15:00"), &ny(), &quiet());
        assert_eq!(
            times(&friday_afternoon),
            [
                "Fri 18:00",
                "Sat 10:00",
                "Sat 18:00",
                "Sun 10:00",
                "Sun 18:00",
                "Mon 10:00",
                "Mon 18:00"
            ]
        );
        // Friday 19:00: the discharge-day evening is already gone.
        let friday_evening = bridge.lay_out(local("2026-03-06T19:00"), &ny(), &quiet());
        assert_eq!(times(&friday_evening)[0], "Sat 10:00");
        assert_eq!(friday_evening.len(), 6);
    }

    #[test]
    fn an_enrolment_starting_after_the_bridge_skips_the_days_it_covers() {
        let caring = schedule(&[1, 3, 7, 14]);
        let discharged = local("2026-03-06T15:00");
        let from_day_4 = caring.lay_out_from(discharged, &ny(), &quiet(), 4);
        assert_eq!(
            from_day_4.iter().map(|p| p.step.id.as_str()).collect::<Vec<_>>(),
            ["day_7", "day_14"]
        );
        let first = caring
            .first_step_due_after(discharged, &ny(), &quiet(), 4, discharged)
            .unwrap();
        assert_eq!((first.index, first.send_at), (2, local("2026-03-13T15:00")));
        let mut sent = SentSteps::default();
        sent.add("day_7".into(), local("2026-03-13T15:00"));
        let resumed = caring
            .resume_after_edit(discharged, &ny(), &quiet(), 4, local("2026-03-14T09:00"), &sent)
            .unwrap();
        assert_eq!(resumed.step.id, "day_14");
    }

    #[test]
    fn an_edit_resumes_after_what_was_sent_and_never_resends() {
        let discharged = local("2026-03-06T15:00");
        let mut sent = SentSteps::default();
        sent.add("day_1".into(), local("2026-03-07T15:00"));
        sent.add("day_3".into(), local("2026-03-09T15:00"));
        let now = local("2026-03-10T16:00");
        // day_7 moved to day_5: the next text is day 5, not a repeat of day 3.
        let edited = schedule(&[1, 3, 5, 14]);
        let next = edited
            .resume_after_edit(discharged, &ny(), &quiet(), 0, now, &sent)
            .unwrap();
        assert_eq!((next.index, next.step.id.as_str()), (2, "day_5"));
        // A new step before the last sent one is skipped, not sent out of order.
        let edited = schedule(&[1, 2, 3, 14]);
        let next = edited
            .resume_after_edit(discharged, &ny(), &quiet(), 0, now, &sent)
            .unwrap();
        assert_eq!(next.step.id, "day_14");
        // Nothing sent yet: same as a new enrolment, steps more than a day past are skipped.
        let fresh = schedule(&[1, 3, 5]);
        let next = fresh
            .resume_after_edit(discharged, &ny(), &quiet(), 0, now, &SentSteps::default())
            .unwrap();
        assert_eq!(next.step.id, "day_5");
        // Everything sent: nothing left.
        assert!(
            schedule(&[1, 3])
                .resume_after_edit(discharged, &ny(), &quiet(), 0, now, &sent)
                .is_none()
        );
    }

    #[test]
    fn calendar_days_keep_local_wall_time_across_both_dst_changes() {
        // Friday 2026-03-06 15:00 EST; DST starts 2026-03-08 and ends 2026-11-01.
        let discharged = local("2026-03-06T15:00");
        let day_3 = step(3, None, false).send_at(discharged, &ny(), &quiet());
        assert_eq!(
            day_3.to_zoned_datetime(ny()).to_string(),
            "2026-03-09T15:00:00-04:00[America/New_York]"
        );
        let day_240 = step(240, None, false).send_at(discharged, &ny(), &quiet());
        assert_eq!(
            day_240.to_zoned_datetime(ny()).to_string(),
            "2026-11-01T15:00:00-05:00[America/New_York]"
        );
    }

    #[test]
    fn a_step_landing_at_half_past_eleven_goes_at_eight_the_next_morning() {
        let discharged = local("2026-03-06T23:30");
        assert_eq!(
            step(1, None, false).send_at(discharged, &ny(), &quiet()),
            local("2026-03-08T08:00")
        );
    }

    #[test]
    fn a_send_window_moves_early_times_to_its_start_and_late_ones_to_the_next_day() {
        let window = Some((10, 18));
        assert_eq!(
            step(1, window, false).send_at(local("2026-03-06T07:15"), &ny(), &quiet()),
            local("2026-03-07T10:00")
        );
        assert_eq!(
            step(1, window, false).send_at(local("2026-03-06T19:00"), &ny(), &quiet()),
            local("2026-03-08T10:00")
        );
        assert_eq!(
            step(1, window, false).send_at(local("2026-03-06T15:00"), &ny(), &quiet()),
            local("2026-03-07T15:00")
        );
    }

    #[test]
    fn weekend_steps_wait_for_monday_only_when_asked() {
        // Friday discharge: day 1 is a Saturday.
        let discharged = local("2026-03-06T15:00");
        assert_eq!(
            step(1, Some((10, 18)), false).send_at(discharged, &ny(), &quiet()),
            local("2026-03-07T15:00")
        );
        assert_eq!(
            step(1, Some((10, 18)), true).send_at(discharged, &ny(), &quiet()),
            local("2026-03-09T15:00")
        );
    }

    #[test]
    fn a_nominal_time_inside_the_spring_forward_gap_is_sent_once_after_it() {
        // Quiet hours would hide the gap, so use a span that does not cover 02:30.
        let quiet: QuietHours = "23:00-01:00".parse().unwrap();
        let at = step(1, None, false).send_at(local("2026-03-07T02:30"), &ny(), &quiet);
        assert_eq!(
            at.to_zoned_datetime(ny()).to_string(),
            "2026-03-08T03:30:00-04:00[America/New_York]"
        );
        let at = step(1, None, false).send_at(local("2026-10-31T01:30"), &ny(), &quiet);
        assert_eq!(
            at.to_zoned_datetime(ny()).to_string(),
            "2026-11-01T01:30:00-04:00[America/New_York]"
        );
    }

    #[test]
    fn a_late_enrolment_skips_steps_past_their_lateness() {
        let schedule = Schedule {
            name: "test".into(),
            version: 1,
            kind: MessageKind::CaringContact,
            max_lateness: SignedDuration::from_hours(12),
            replaces_through_day: None,
            steps: vec![step(1, None, false), step(3, None, false)],
        };
        let discharged = local("2026-03-06T15:00");
        let first = schedule
            .first_step_due_after(discharged, &ny(), &quiet(), 0, local("2026-03-08T09:00"))
            .unwrap();
        assert_eq!(first.step.id, "day_3");
        let first = schedule
            .first_step_due_after(discharged, &ny(), &quiet(), 0, local("2026-03-08T02:00"))
            .unwrap();
        assert_eq!(first.step.id, "day_1", "within 12 hours of its time, day 1 still goes");
    }
}
