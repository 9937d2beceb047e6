//! Would a crisis text reach someone? One check, in one place, for `tether check --database`, the log of
//! `tether serve` (at start and every hour), the console's banner and the detail of `/healthz`.
//!
//! [`check`] is pure: it reads a [`Snapshot`] taken at one moment and answers a [`Report`], one [`Check`]
//! per question. A *problem* is a way a crisis can page nobody, or page nobody in a rotation the policy
//! counts on: nobody in the policy reachable now *and* no fallback number to page, or, in the next
//! [`LOOK_AHEAD`], a moment when a rotation the policy uses has nobody reachable on call. Gaps are found at
//! hand-offs, override edges and the zone's DST changes (see [`Rotation::handoffs_between`]), not by
//! sampling, so a gap of a minute is found as surely as one of a day. A *warning* is worth knowing but
//! leaves someone to page (no policy, but a fallback number; no fallback number, but someone on call).
//!
//! A problem never stops the service: it is logged, shown and reported, and crisis texts are still
//! received, answered and escalated to whoever can be paged.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::PhoneNumber;
use crate::domain::oncall::{self, Override, Policy, Rotation, Target};
use crate::domain::phone::FallbackNumbers;
use crate::scheduling::Clock;
use crate::storage::{Store, StoreError};

/// How far ahead rotation coverage is checked.
pub const LOOK_AHEAD: SignedDuration = SignedDuration::from_hours(7 * 24);
/// How often a running service logs the check.
pub const LOG_INTERVAL: SignedDuration = SignedDuration::from_hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Problem,
}

/// One question about paging, answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `escalation_policy`, `on_call`, `fallback` or `coverage` (and, in `/healthz`, `database` and
    /// `paging` when the check itself could not run).
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Status::Warning => write!(f, "{}: warning: {}", self.name, self.detail),
            _ => write!(f, "{}: {}", self.name, self.detail),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn problems(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Problem)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Warning)
    }

    pub fn has_problems(&self) -> bool {
        self.problems().next().is_some()
    }
}

/// A staff member as far as paging is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffState {
    pub phone: PhoneNumber,
    pub opted_out: bool,
}

/// Everything the check looks at, read at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Timestamp,
    pub policy: Option<Policy>,
    pub rotations: Vec<Rotation>,
    /// Each rotation's overrides overlapping `now..now + LOOK_AHEAD`, oldest first.
    pub overrides: HashMap<i64, Vec<Override>>,
    pub staff: HashMap<i64, StaffState>,
    /// The numbers of `TETHER_FALLBACK_PAGE_TO`.
    pub fallback: Vec<PhoneNumber>,
}

/// Reads what the check needs, then checks.
pub async fn assess(store: &Store, fallback: &FallbackNumbers, now: Timestamp) -> Result<Report, StoreError> {
    let policy = store.escalation_policy().await?.filter(|p| !p.steps.is_empty());
    let rotations = store.rotations().await?;
    let mut overrides = HashMap::new();
    for rotation in &rotations {
        let spans = store.overrides_between(rotation.id, now, now + LOOK_AHEAD).await?;
        overrides.insert(rotation.id, spans);
    }
    let staff = store
        .staff()
        .await?
        .into_iter()
        .map(|s| {
            let state = StaffState {
                phone: s.phone,
                opted_out: s.opted_out,
            };
            (s.id, state)
        })
        .collect();
    Ok(check(&Snapshot {
        now,
        policy,
        rotations,
        overrides,
        staff,
        fallback: fallback.0.clone(),
    }))
}

/// The checks, in order: the policy, who can be paged now, the fallback numbers, the days ahead.
pub fn check(snapshot: &Snapshot) -> Report {
    let policy = snapshot.policy.as_ref().filter(|p| !p.steps.is_empty());
    let paged_now = policy.and_then(|p| first_reachable(snapshot, p, snapshot.now));
    let fallback = fallback_state(snapshot);
    let fallback_ok = !fallback.reachable.is_empty();
    // Missing pieces are problems only together: with nobody to page now and no fallback, a crisis
    // would page nobody.
    let unless_fallback = if fallback_ok { Status::Warning } else { Status::Problem };
    let mut checks = Vec::new();

    checks.push(match policy {
        Some(p) => Check {
            name: "escalation_policy",
            status: Status::Ok,
            detail: format!("{} step(s), repeated {} more time(s)", p.steps.len(), p.repeat),
        },
        None => Check {
            name: "escalation_policy",
            status: unless_fallback,
            detail: "no escalation policy is set".into(),
        },
    });

    checks.push(match (policy, &paged_now) {
        (Some(_), Some((index, staff_id))) => Check {
            name: "on_call",
            status: Status::Ok,
            detail: format!("step {} pages staff {staff_id} now", index + 1),
        },
        (Some(p), None) => Check {
            name: "on_call",
            status: unless_fallback,
            detail: format!(
                "nobody in the escalation policy can be paged now ({})",
                p.steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| format!("step {}: {}", i + 1, why_not(snapshot, step.target, snapshot.now)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        },
        (None, _) => Check {
            name: "on_call",
            status: unless_fallback,
            detail: if snapshot.rotations.iter().any(|r| !r.members.is_empty()) {
                "no rotation member is paged: no escalation policy uses a rotation".into()
            } else {
                "no rotation member to page: no rotation has members".into()
            },
        },
    });

    let nobody_now = paged_now.is_none();
    checks.push(if fallback_ok {
        Check {
            name: "fallback",
            status: Status::Ok,
            detail: format!(
                "{} fallback number(s) can be paged: {}",
                fallback.reachable.len(),
                fallback.reachable.join(", ")
            ),
        }
    } else {
        let detail = if snapshot.fallback.is_empty() {
            "no fallback number is reachable: TETHER_FALLBACK_PAGE_TO is not set".to_owned()
        } else {
            format!(
                "no fallback number is reachable: every one said STOP ({})",
                fallback.opted_out.join(", ")
            )
        };
        Check {
            name: "fallback",
            status: if nobody_now { Status::Problem } else { Status::Warning },
            detail,
        }
    });

    if let Some(policy) = policy {
        let mut gaps = Vec::new();
        let mut seen = Vec::new();
        for target in policy.steps.iter().map(|s| s.target) {
            let Target::Rotation(id) = target else {
                continue;
            };
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            match snapshot.rotations.iter().find(|r| r.id == id) {
                Some(rotation) => gaps.extend(coverage_gaps(snapshot, rotation)),
                None => gaps.push(format!("rotation {id} in the escalation policy does not exist")),
            }
        }
        if gaps.is_empty() && !seen.is_empty() {
            checks.push(Check {
                name: "coverage",
                status: Status::Ok,
                detail: "every rotation in the escalation policy has someone reachable on call for the next 7 days"
                    .into(),
            });
        }
        checks.extend(gaps.into_iter().map(|detail| Check {
            name: "coverage",
            status: Status::Problem,
            detail,
        }));
    }
    Report { checks }
}

struct FallbackState {
    /// Masked numbers.
    reachable: Vec<String>,
    opted_out: Vec<String>,
}

/// A fallback number not yet on staff (the service has not started since it was added) is reachable: the
/// service adds it at start. Only one that said STOP is not.
fn fallback_state(snapshot: &Snapshot) -> FallbackState {
    let mut state = FallbackState {
        reachable: Vec::new(),
        opted_out: Vec::new(),
    };
    for number in &snapshot.fallback {
        let opted_out = snapshot.staff.values().any(|s| s.phone == *number && s.opted_out);
        let masked = number.masked().to_string();
        if opted_out {
            state.opted_out.push(masked);
        } else {
            state.reachable.push(masked);
        }
    }
    state
}

/// Who a policy step pages at `at`, if anyone can be paged.
fn paged_by(snapshot: &Snapshot, target: Target, at: Timestamp) -> Result<i64, String> {
    let staff_id = match target {
        Target::Staff(id) => id,
        Target::Rotation(id) => {
            let rotation = snapshot
                .rotations
                .iter()
                .find(|r| r.id == id)
                .ok_or_else(|| format!("rotation {id} does not exist"))?;
            let overrides = snapshot.overrides.get(&id).map(Vec::as_slice).unwrap_or_default();
            oncall::on_call(rotation, overrides, at).ok_or_else(|| format!("nobody on call in `{}`", rotation.name))?
        }
    };
    match snapshot.staff.get(&staff_id) {
        None => Err(format!("staff {staff_id} does not exist")),
        Some(member) if member.opted_out => Err(format!("staff {staff_id} said STOP")),
        Some(_) => Ok(staff_id),
    }
}

fn why_not(snapshot: &Snapshot, target: Target, at: Timestamp) -> String {
    paged_by(snapshot, target, at).err().unwrap_or_default()
}

/// The first step (its index) and staff member a crisis at `at` would page.
fn first_reachable(snapshot: &Snapshot, policy: &Policy, at: Timestamp) -> Option<(usize, i64)> {
    policy
        .steps
        .iter()
        .enumerate()
        .find_map(|(index, step)| paged_by(snapshot, step.target, at).ok().map(|id| (index, id)))
}

/// Spans of the days ahead in which `rotation` has nobody reachable on call, each described. Who is on call
/// changes only at hand-offs and override edges, so looking at each of those moments covers every moment.
fn coverage_gaps(snapshot: &Snapshot, rotation: &Rotation) -> Vec<String> {
    let (from, to) = (snapshot.now, snapshot.now + LOOK_AHEAD);
    let overrides = snapshot
        .overrides
        .get(&rotation.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut moments = vec![from];
    moments.extend(rotation.handoffs_between(from, to));
    moments.extend(
        overrides
            .iter()
            .flat_map(|o| [o.starts_at, o.ends_at])
            .filter(|at| from < *at && *at < to),
    );
    moments.sort();
    moments.dedup();

    // (start, why) of each span with nobody reachable, merged while the reason stays the same.
    let mut spans: Vec<(Timestamp, Timestamp, String)> = Vec::new();
    for (i, at) in moments.iter().enumerate() {
        let end = moments.get(i + 1).copied().unwrap_or(to);
        if let Err(why) = paged_by(snapshot, Target::Rotation(rotation.id), *at) {
            match spans.last_mut() {
                Some(last) if last.1 == *at && last.2 == why => last.1 = end,
                _ => spans.push((*at, end, why)),
            }
        }
    }
    let local = |at: Timestamp| {
        at.to_zoned_datetime(rotation.zone.clone())
            .strftime("%a %b %-d %H:%M %Z")
            .to_string()
    };
    spans
        .into_iter()
        .map(|(start, end, why)| {
            let until = if end == to {
                "beyond the next 7 days".to_owned()
            } else {
                format!("until {}", local(end))
            };
            format!(
                "rotation `{}` has nobody reachable on call from {} {until} ({why})",
                rotation.name,
                local(start)
            )
        })
        .collect()
}

/// Logs the check where operators look: each problem as an error, each warning as a warning. Never fails
/// the service: a missing policy must not stop crisis texts from being received and answered.
pub fn log(report: &Report) {
    for problem in report.problems() {
        tracing::error!(check = problem.name, "crisis paging is not ready: {}", problem.detail);
    }
    for warning in report.warnings() {
        tracing::warn!(check = warning.name, "{}", warning.detail);
    }
}

/// Runs the check on the scheduler's clock: at start, then once every [`LOG_INTERVAL`].
pub struct Monitor {
    store: Store,
    fallback: FallbackNumbers,
    clock: Clock,
    last: Mutex<Option<Timestamp>>,
}

impl Monitor {
    pub fn new(store: Store, fallback: FallbackNumbers, clock: Clock) -> Self {
        Self {
            store,
            fallback,
            clock,
            last: Mutex::new(None),
        }
    }

    /// Checks and logs if it never has, or not for an [`LOG_INTERVAL`]; answers the report when it did.
    pub async fn check_if_due(&self) -> Result<Option<Report>, StoreError> {
        let now = self.clock.now();
        let due = {
            let last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            last.is_none_or(|last| now - last >= LOG_INTERVAL)
        };
        if !due {
            return Ok(None);
        }
        let report = assess(&self.store, &self.fallback, now).await?;
        log(&report);
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now);
        Ok(Some(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::oncall::PolicyStep;
    use crate::domain::test_time::{local, ny};
    use jiff::civil::{Date, Time};

    fn rotation(id: i64, members: Vec<i64>) -> Rotation {
        Rotation {
            id,
            name: format!("r{id}"),
            zone: ny(),
            shift_hours: 24,
            handoff: Time::constant(8, 0, 0, 0),
            start_date: Date::constant(2026, 3, 1),
            members,
        }
    }

    fn staff(ids: &[i64]) -> HashMap<i64, StaffState> {
        ids.iter()
            .map(|id| {
                let state = StaffState {
                    phone: PhoneNumber::parse(&format!("+1415555{:04}", 100 + id)).unwrap(),
                    opted_out: false,
                };
                (*id, state)
            })
            .collect()
    }

    fn policy(targets: &[Target]) -> Policy {
        Policy {
            steps: targets
                .iter()
                .map(|target| PolicyStep {
                    target: *target,
                    delay_minutes: 10,
                })
                .collect(),
            repeat: 0,
        }
    }

    fn fresh() -> Snapshot {
        Snapshot {
            now: local("2026-03-05T12:00"),
            policy: None,
            rotations: Vec::new(),
            overrides: HashMap::new(),
            staff: HashMap::new(),
            fallback: Vec::new(),
        }
    }

    fn problems(snapshot: &Snapshot) -> Vec<String> {
        check(snapshot).problems().map(ToString::to_string).collect()
    }

    #[test]
    fn a_fresh_install_names_each_missing_piece() {
        assert_eq!(
            problems(&fresh()),
            [
                "escalation_policy: no escalation policy is set",
                "on_call: no rotation member to page: no rotation has members",
                "fallback: no fallback number is reachable: TETHER_FALLBACK_PAGE_TO is not set",
            ]
        );
    }

    #[test]
    fn a_fallback_number_alone_is_enough_to_page_someone() {
        let snapshot = Snapshot {
            fallback: vec![PhoneNumber::parse("+14155550199").unwrap()],
            ..fresh()
        };
        let report = check(&snapshot);
        assert!(!report.has_problems(), "{report:?}");
        assert_eq!(
            report.warnings().count(),
            2,
            "no policy, nobody on call: worth a warning"
        );
        // Unless that number said STOP.
        let opted_out = Snapshot {
            staff: HashMap::from([(
                9,
                StaffState {
                    phone: PhoneNumber::parse("+14155550199").unwrap(),
                    opted_out: true,
                },
            )]),
            ..snapshot
        };
        assert!(
            problems(&opted_out)
                .contains(&"fallback: no fallback number is reachable: every one said STOP (…0199)".to_owned())
        );
    }

    #[test]
    fn a_policy_with_someone_on_call_all_week_is_ready() {
        let snapshot = Snapshot {
            policy: Some(policy(&[Target::Rotation(1)])),
            rotations: vec![rotation(1, vec![1, 2])],
            staff: staff(&[1, 2]),
            ..fresh()
        };
        let report = check(&snapshot);
        assert!(!report.has_problems(), "{report:?}");
        assert_eq!(report.warnings().map(|c| c.name).collect::<Vec<_>>(), ["fallback"]);
    }

    #[test]
    fn a_member_who_said_stop_leaves_a_gap_from_hand_off_to_hand_off() {
        let mut staff = staff(&[1, 2, 3]);
        if let Some(member) = staff.get_mut(&2) {
            member.opted_out = true;
        }
        // Daily shifts from 1 March: staff 2 is on from Thu 5 March 08:00 (day 4 of 1, 2, 3, 1, 2…).
        let snapshot = Snapshot {
            policy: Some(policy(&[Target::Rotation(1)])),
            rotations: vec![rotation(1, vec![1, 2, 3])],
            staff,
            ..fresh()
        };
        assert_eq!(
            problems(&snapshot),
            [
                "on_call: nobody in the escalation policy can be paged now (step 1: staff 2 said STOP)",
                "fallback: no fallback number is reachable: TETHER_FALLBACK_PAGE_TO is not set",
                "coverage: rotation `r1` has nobody reachable on call from Thu Mar 5 12:00 EST until Fri Mar 6 08:00 EST (staff 2 said STOP)",
                "coverage: rotation `r1` has nobody reachable on call from Sun Mar 8 08:00 EDT until Mon Mar 9 08:00 EDT (staff 2 said STOP)",
                "coverage: rotation `r1` has nobody reachable on call from Wed Mar 11 08:00 EDT until Thu Mar 12 08:00 EDT (staff 2 said STOP)",
            ]
        );
    }

    #[test]
    fn an_override_covers_a_gap_to_the_minute_and_one_that_ends_early_leaves_the_rest() {
        let mut staff = staff(&[1, 2, 3, 4]);
        if let Some(member) = staff.get_mut(&2) {
            member.opted_out = true;
        }
        let cover = |starts: &str, ends: &str| Override {
            staff_id: 4,
            starts_at: local(starts),
            ends_at: local(ends),
        };
        let snapshot = Snapshot {
            now: local("2026-03-06T09:00"),
            policy: Some(policy(&[Target::Rotation(1)])),
            rotations: vec![rotation(1, vec![1, 2, 3])],
            overrides: HashMap::from([(
                1,
                vec![
                    cover("2026-03-08T08:00", "2026-03-09T08:00"),
                    cover("2026-03-11T08:00", "2026-03-12T07:59"),
                ],
            )]),
            staff,
            ..fresh()
        };
        assert_eq!(
            check(&snapshot)
                .problems()
                .map(|c| c.detail.clone())
                .collect::<Vec<_>>(),
            [
                "rotation `r1` has nobody reachable on call from Thu Mar 12 07:59 EDT until Thu Mar 12 08:00 EDT (staff 2 said STOP)"
            ]
        );
    }

    #[test]
    fn a_staff_step_that_can_be_paged_makes_the_policy_reachable_without_rotations() {
        let snapshot = Snapshot {
            policy: Some(policy(&[Target::Staff(7)])),
            staff: staff(&[7]),
            ..fresh()
        };
        let report = check(&snapshot);
        assert!(!report.has_problems(), "{report:?}");
        assert!(
            report.checks.iter().all(|c| c.name != "coverage"),
            "no rotation, nothing to cover"
        );
    }
}
