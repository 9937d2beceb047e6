//! Who is on call at a given moment: rotations with hand-offs at a local time of day, overrides on top,
//! and the escalation policy that says whom to page in what order. Pure functions, right across DST.

use jiff::{SignedDuration, Timestamp, civil::Date, civil::Time, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// Steps to page in order, each waiting `delay_minutes` for an acknowledgement, the whole list repeated
/// `repeat` more times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub steps: Vec<PolicyStep>,
    #[serde(default)]
    pub repeat: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyStep {
    pub target: Target,
    pub delay_minutes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Whoever is on call in this rotation at the time.
    Rotation(i64),
    /// This staff member.
    Staff(i64),
}

impl PolicyStep {
    pub fn delay(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.delay_minutes))
    }
}

/// A rotation of staff: each takes a shift of `shift_hours`, handing off at `handoff` local time.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub id: i64,
    pub name: String,
    pub zone: TimeZone,
    pub shift_hours: u32,
    pub handoff: Time,
    pub start_date: Date,
    pub members: Vec<i64>,
}

/// Someone covering a rotation from `starts_at` until `ends_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    pub staff_id: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

impl Rotation {
    /// The member on call at `at`, before overrides. Shifts that are whole days hand off at the same local
    /// time every time, so a DST change neither lengthens nor shortens anyone's shift on the clock; other
    /// shift lengths are exact hours.
    pub fn scheduled_at(&self, at: Timestamp) -> Option<i64> {
        if self.members.is_empty() || self.shift_hours == 0 {
            return None;
        }
        let shifts = if self.shift_hours.is_multiple_of(24) {
            let local = at.to_zoned_datetime(self.zone.clone());
            let mut date = local.date();
            if local.time() < self.handoff {
                date = date.yesterday().unwrap_or(date);
            }
            let days = i64::from((date - self.start_date).get_days());
            days.div_euclid(i64::from(self.shift_hours / 24))
        } else {
            let first = self
                .zone
                .to_ambiguous_timestamp(self.start_date.to_datetime(self.handoff))
                .compatible()
                .unwrap_or(at);
            at.duration_since(first)
                .as_secs()
                .div_euclid(i64::from(self.shift_hours) * 3600)
        };
        let index = shifts.rem_euclid(self.members.len() as i64) as usize;
        Some(self.members[index])
    }
}

impl Rotation {
    /// Every moment in `from..to` at which [`Rotation::scheduled_at`] may change: each hand-off, plus the
    /// time zone's own transitions (a hand-off time that a DST change skips or repeats moves with it).
    /// Between two consecutive moments the scheduled member is the same, so looking at each one covers the
    /// whole span exactly; a few moments more than the real hand-offs do no harm.
    pub fn handoffs_between(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let mut moments = Vec::new();
        if self.members.is_empty() || self.shift_hours == 0 || from >= to {
            return moments;
        }
        if self.shift_hours.is_multiple_of(24) {
            let days_per_shift = i64::from(self.shift_hours / 24);
            let first = from.to_zoned_datetime(self.zone.clone()).date().yesterday().ok();
            let last = to.to_zoned_datetime(self.zone.clone()).date().tomorrow().ok();
            let mut day = first;
            while let Some(date) = day.filter(|d| Some(*d) <= last) {
                let offset = i64::from((date - self.start_date).get_days());
                if offset.rem_euclid(days_per_shift) == 0 {
                    let ambiguous = self.zone.to_ambiguous_timestamp(date.to_datetime(self.handoff));
                    moments.extend(ambiguous.earlier().ok());
                    moments.extend(ambiguous.later().ok());
                }
                day = date.tomorrow().ok();
            }
            moments.extend(
                self.zone
                    .following(from)
                    .map(|transition| transition.timestamp())
                    .take_while(|at| *at < to),
            );
        } else if let Ok(first) = self
            .zone
            .to_ambiguous_timestamp(self.start_date.to_datetime(self.handoff))
            .compatible()
        {
            let shift = i64::from(self.shift_hours) * 3600;
            let elapsed = from.duration_since(first).as_secs();
            let mut n = elapsed.div_euclid(shift);
            while let Ok(at) = first.checked_add(SignedDuration::from_secs(n.saturating_mul(shift))) {
                if at >= to {
                    break;
                }
                moments.push(at);
                n += 1;
            }
        }
        moments.retain(|at| from < *at && *at < to);
        moments.sort();
        moments.dedup();
        moments
    }
}

/// The person on call at `at`: the latest-created override covering that moment wins, else the rotation.
pub fn on_call(rotation: &Rotation, overrides: &[Override], at: Timestamp) -> Option<i64> {
    overrides
        .iter()
        .rev()
        .find(|o| o.starts_at <= at && at < o.ends_at)
        .map(|o| o.staff_id)
        .or_else(|| rotation.scheduled_at(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_time::{local, ny};

    fn daily() -> Rotation {
        Rotation {
            id: 1,
            name: "peers".into(),
            zone: ny(),
            shift_hours: 24,
            handoff: Time::constant(8, 0, 0, 0),
            start_date: Date::constant(2026, 3, 1),
            members: vec![10, 20, 30],
        }
    }

    #[test]
    fn daily_shifts_hand_off_at_eight_local_across_both_dst_changes() {
        let rotation = daily();
        assert_eq!(rotation.scheduled_at(local("2026-03-01T08:00")), Some(10));
        assert_eq!(rotation.scheduled_at(local("2026-03-02T07:59")), Some(10));
        assert_eq!(rotation.scheduled_at(local("2026-03-02T08:00")), Some(20));
        // 2026-03-08 springs forward: the hand-off is still at 08:00 local, on the 8th and the 9th.
        assert_eq!(rotation.scheduled_at(local("2026-03-08T07:59")), Some(10));
        assert_eq!(rotation.scheduled_at(local("2026-03-08T08:00")), Some(20));
        assert_eq!(rotation.scheduled_at(local("2026-03-09T07:59")), Some(20));
        assert_eq!(rotation.scheduled_at(local("2026-03-09T08:00")), Some(30));
        // 2026-11-01 falls back; 245 days after the start, member 245 % 3 = 2 takes 08:00 that day.
        assert_eq!(rotation.scheduled_at(local("2026-11-01T07:59")), Some(20));
        assert_eq!(rotation.scheduled_at(local("2026-11-01T08:00")), Some(30));
    }

    #[test]
    fn hourly_shifts_are_exact_hours() {
        let rotation = Rotation {
            shift_hours: 12,
            ..daily()
        };
        assert_eq!(rotation.scheduled_at(local("2026-03-01T19:59")), Some(10));
        assert_eq!(rotation.scheduled_at(local("2026-03-01T20:00")), Some(20));
        // Across the spring-forward night, twelve real hours after 20:00 EST is 09:00 EDT.
        assert_eq!(
            rotation.scheduled_at(local("2026-03-08T08:30")),
            rotation.scheduled_at(local("2026-03-07T20:30"))
        );
    }

    #[test]
    fn an_override_covers_its_span_only() {
        let rotation = daily();
        let cover = Override {
            staff_id: 99,
            starts_at: local("2026-03-02T12:00"),
            ends_at: local("2026-03-02T18:00"),
        };
        assert_eq!(on_call(&rotation, &[cover], local("2026-03-02T11:59")), Some(20));
        assert_eq!(on_call(&rotation, &[cover], local("2026-03-02T12:00")), Some(99));
        assert_eq!(on_call(&rotation, &[cover], local("2026-03-02T18:00")), Some(20));
    }

    #[test]
    fn an_empty_rotation_has_nobody() {
        let rotation = Rotation {
            members: vec![],
            ..daily()
        };
        assert_eq!(on_call(&rotation, &[], local("2026-03-02T12:00")), None);
    }

    /// Every change of the scheduled member, found minute by minute across both DST changes of 2026, falls
    /// on one of the moments `handoffs_between` lists.
    fn assert_changes_only_at_handoffs(rotation: &Rotation, from: Timestamp, days: i64) {
        let to = from + SignedDuration::from_hours(24 * days);
        let moments = rotation.handoffs_between(from, to);
        let mut at = from;
        let mut who = rotation.scheduled_at(at);
        while at < to {
            at += SignedDuration::from_mins(1);
            let now = rotation.scheduled_at(at);
            if now != who {
                assert!(
                    moments.contains(&at),
                    "{} changed at {at}, not listed in {moments:?}",
                    rotation.name
                );
                who = now;
            }
        }
    }

    #[test]
    fn hand_off_moments_cover_every_change_of_the_scheduled_member() {
        let spring = local("2026-03-05T00:00");
        let autumn = local("2026-10-29T00:00");
        for rotation in [
            daily(),
            Rotation {
                shift_hours: 48,
                ..daily()
            },
            Rotation {
                shift_hours: 12,
                ..daily()
            },
            // Hand-offs inside the skipped and the repeated hour.
            Rotation {
                handoff: Time::constant(2, 30, 0, 0),
                ..daily()
            },
            Rotation {
                handoff: Time::constant(1, 30, 0, 0),
                ..daily()
            },
        ] {
            assert_changes_only_at_handoffs(&rotation, spring, 7);
            assert_changes_only_at_handoffs(&rotation, autumn, 7);
        }
        let one_day = daily().handoffs_between(local("2026-03-02T00:00"), local("2026-03-03T00:00"));
        assert_eq!(one_day, [local("2026-03-02T08:00")], "a plain day has one hand-off");
    }

    #[test]
    fn policies_read_as_json() {
        let policy: Policy = serde_json::from_str(
            r#"{"steps": [{"target": {"rotation": 1}, "delay_minutes": 10}, {"target": {"staff": 7}, "delay_minutes": 20}], "repeat": 2}"#,
        )
        .unwrap();
        assert_eq!(policy.steps[1].target, Target::Staff(7));
        assert_eq!(policy.steps[0].delay(), SignedDuration::from_mins(10));
    }
}
