//! Escalation: a crisis text opens an escalation, and this module pages the policy's steps one after
//! another until someone acknowledges. All state is in the database, so the chain survives restarts, and
//! each move is guarded by the position and page count it read, so two instances never page the same step
//! twice.
//!
//! # A crisis never pages nobody
//! When the policy yields nobody reachable (no policy, an empty one, nobody on call, everyone opted out)
//! or its steps run out unacknowledged (after `repeat` more rounds), the escalation is marked (`exhausted`
//! or `unreachable`, shown on the console's board and recorded in the audit log) and the numbers of
//! `TETHER_FALLBACK_PAGE_TO` are paged, then paged again at the last step's delay
//! ([`FALLBACK_REPEAT_WITHOUT_POLICY`] with no policy) until someone acknowledges. An `unreachable`
//! escalation looks at the policy again each time, so one set up after the crisis arrived still pages. With
//! no fallback number to page, an exhausted chain starts over from its first step instead.
//!
//! Fallback numbers are staff rows marked `fallback`, kept in step with the setting at every start
//! (`Store::sync_fallback_staff` in `src/storage/staff.rs`) rather than a separate list of numbers. So a
//! fallback phone is paged with the same text as staff (a reference and a reply code, never the client's
//! words), acknowledges the same way (`ACK 4821` or a bare `ACK`, see `src/inbound/mod.rs`), can say STOP
//! and START, and shows in the escalation log by staff id, with nothing in inbound handling, the
//! dispatcher's STOP rule or the console knowing about fallback at all. The cost: a number taken out of the
//! setting stays on staff (its pages and acknowledgements refer to it), unmarked.

pub mod readiness;
mod unseen;

use std::collections::HashSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::domain::MessageKind;
use crate::domain::oncall::{self, Policy, Rotation, Target};
use crate::domain::phone::Masked;
use crate::scheduling::Clock;
use crate::storage::{
    DueEscalation, EscalationAdvance, EscalationEvent, EscalationPage, NewText, StaffMember, Store, StoreError,
};
use crate::templates::{SharedCatalog, StaffContext};
use readiness::Monitor;

/// Escalations handled per database round trip.
const BATCH: i64 = 100;

/// How often the fallback numbers are paged again when there is no policy whose last step's delay to use.
pub const FALLBACK_REPEAT_WITHOUT_POLICY: SignedDuration = SignedDuration::from_mins(10);

/// Why an escalation fell to the fallback numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhaustion {
    /// Every step was paged or skipped, repeats included, and nobody acknowledged.
    Exhausted,
    /// Nobody in the policy could be paged at all (or there is no policy).
    Unreachable,
}

impl Exhaustion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exhaustion::Exhausted => "exhausted",
            Exhaustion::Unreachable => "unreachable",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Exhaustion::Exhausted, Exhaustion::Unreachable]
            .into_iter()
            .find(|reason| reason.as_str() == value)
    }
}

#[derive(Clone)]
pub struct Escalator {
    store: Store,
    catalog: SharedCatalog,
    clock: Clock,
    /// Whether a crisis would reach anyone, logged hourly on the scheduler's passes.
    readiness: Arc<Monitor>,
    /// How long a concern notice may go unseen before whoever is on call is told ([`unseen`]).
    concern_unseen_after: SignedDuration,
}

/// What walking the policy from a position found.
enum Walk {
    /// Someone to page at `at`; the chain goes on at `next` after `delay`.
    Page {
        staff_id: i64,
        phone: String,
        at: (i64, i64),
        next: (i64, i64),
        delay: SignedDuration,
        skipped: Vec<EscalationEvent>,
    },
    /// Nobody reachable from the position to the end of the last round.
    Nobody { skipped: Vec<EscalationEvent> },
}

impl Escalator {
    pub fn new(
        store: Store,
        catalog: SharedCatalog,
        clock: Clock,
        readiness: Monitor,
        concern_unseen_after: SignedDuration,
    ) -> Self {
        Self {
            store,
            catalog,
            clock,
            readiness: Arc::new(readiness),
            concern_unseen_after,
        }
    }

    /// Logs the readiness check if an hour has passed since it last was (see [`readiness::Monitor`]).
    /// Only a log line depends on it, so a failed look is logged and must not stop texts going out.
    pub async fn log_readiness_if_due(&self) {
        if let Err(err) = self.readiness.check_if_due().await {
            tracing::warn!(error = %err, "could not check whether crisis paging is ready");
        }
    }

    /// Moves every escalation whose next step is due. Returns how many moved.
    pub async fn advance_due(&self) -> Result<usize, StoreError> {
        let mut moved = 0;
        let mut seen = HashSet::new();
        loop {
            let now = self.clock.now();
            let due: Vec<DueEscalation> = self
                .store
                .due_escalations(now, BATCH)
                .await?
                .into_iter()
                .filter(|e| seen.insert(e.id))
                .collect();
            if due.is_empty() {
                return Ok(moved);
            }
            let policy = self.store.escalation_policy().await?;
            let rotations = self.store.rotations().await?;
            let fallback = self.store.fallback_staff().await?;
            for escalation in &due {
                let advance = self
                    .next_move(escalation, policy.as_ref(), &rotations, &fallback, now)
                    .await?;
                if self.store.advance_escalation(&advance, now).await? {
                    moved += 1;
                }
            }
        }
    }

    /// The escalation's next move: the next step with someone reachable, or, past the end of the chain (or
    /// with no chain), the fallback numbers.
    #[tracing::instrument(name = "escalation_step", skip_all, fields(escalation_id = escalation.id))]
    async fn next_move(
        &self,
        escalation: &DueEscalation,
        policy: Option<&Policy>,
        rotations: &[Rotation],
        fallback: &[StaffMember],
        now: Timestamp,
    ) -> Result<EscalationAdvance, StoreError> {
        let from = (escalation.step, escalation.round);
        let policy = policy.filter(|p| !p.steps.is_empty());
        let marked = escalation.exhausted_reason.as_deref().and_then(Exhaustion::parse);
        let since = escalation
            .exhausted_at
            .and_then(|at| Timestamp::from_second(at).ok())
            .unwrap_or(now);
        let mut advance = EscalationAdvance {
            id: escalation.id,
            from,
            page_batch: escalation.page_batch,
            to: from,
            next_action_at: None,
            pages: Vec::new(),
            events: Vec::new(),
            exhausted: marked.map(|reason| (reason.as_str(), since)),
            audit_outcome: None,
        };

        let mut walked_off_the_end = false;
        if let Some(policy) = policy {
            let steps = policy.steps.len() as i64;
            // Nobody could be paged last time: look from the top again, someone may be on call by now.
            let start = match marked {
                Some(Exhaustion::Unreachable) => (0, 0),
                _ if from.0 >= steps => (0, from.1 + 1),
                _ => from,
            };
            if start.1 <= i64::from(policy.repeat) {
                match self.walk(policy, start, rotations, now).await? {
                    Walk::Page {
                        staff_id,
                        phone,
                        at,
                        next,
                        delay,
                        skipped,
                    } => {
                        advance.events = skipped;
                        if marked == Some(Exhaustion::Unreachable) {
                            advance.exhausted = None;
                            advance.events.push(event(
                                "reachable_again",
                                None,
                                "someone in the escalation policy can be paged again; the chain goes on".into(),
                            ));
                        }
                        let detail = format!("paged step {} of round {}", at.0 + 1, at.1 + 1);
                        let text = self.page_text(escalation, staff_id, &phone, now + delay);
                        advance.pages.push(EscalationPage { staff_id, text, detail });
                        advance.to = next;
                        advance.next_action_at = Some(now + delay);
                        return Ok(advance);
                    }
                    // Looking again for an unreachable escalation says nothing new when nothing changed.
                    Walk::Nobody { skipped } if marked != Some(Exhaustion::Unreachable) => {
                        advance.events = skipped;
                        walked_off_the_end = true;
                    }
                    Walk::Nobody { .. } => {}
                }
            }
        }

        // Past the end of the chain, or no chain at all: the fallback numbers' turn.
        let first_time = marked.is_none();
        let reason = marked.unwrap_or(if escalation.page_batch == 0 {
            Exhaustion::Unreachable
        } else {
            Exhaustion::Exhausted
        });
        let interval = policy
            .and_then(|p| p.steps.last())
            .map_or(FALLBACK_REPEAT_WITHOUT_POLICY, oncall::PolicyStep::delay);
        let end = policy.map_or((0, 0), |p| (0, i64::from(p.repeat) + 1));
        if first_time || walked_off_the_end {
            let (kind, detail) = match (reason, policy) {
                (Exhaustion::Exhausted, Some(p)) => (
                    "exhausted",
                    format!(
                        "every step was paged or skipped {} and nobody acknowledged",
                        times(i64::from(p.repeat) + 1)
                    ),
                ),
                (Exhaustion::Exhausted, None) => ("exhausted", "nobody acknowledged".to_owned()),
                (Exhaustion::Unreachable, Some(_)) => (
                    "nobody_reachable",
                    "nobody in the escalation policy can be paged".to_owned(),
                ),
                (Exhaustion::Unreachable, None) => ("nobody_reachable", "no escalation policy is set".to_owned()),
            };
            tracing::error!(escalation_id = escalation.id, reason = reason.as_str(), "{detail}");
            advance.events.push(event(kind, None, detail));
        }
        advance.exhausted = Some((reason.as_str(), since));
        advance.next_action_at = Some(now + interval);
        let reachable: Vec<&StaffMember> = fallback.iter().filter(|member| !member.opted_out).collect();
        let minutes = interval.as_mins();
        let outcome = if !reachable.is_empty() {
            advance.to = end;
            advance.events.push(event(
                "fallback_paged",
                None,
                format!(
                    "paging {} (TETHER_FALLBACK_PAGE_TO), again every {minutes} minutes until someone acknowledges",
                    count(reachable.len(), "fallback number")
                ),
            ));
            for member in reachable {
                let text = self.page_text(escalation, member.id, &member.phone, now + interval);
                let detail = format!("paged fallback number {}", Masked(&member.phone));
                advance.pages.push(EscalationPage {
                    staff_id: member.id,
                    text,
                    detail,
                });
            }
            "fallback_paged"
        } else if reason == Exhaustion::Exhausted && policy.is_some() {
            advance.to = (0, 0);
            advance.events.push(event(
                "restarted",
                None,
                format!(
                    "no fallback number to page (TETHER_FALLBACK_PAGE_TO): the policy starts over in {minutes} minutes"
                ),
            ));
            "policy_restarted"
        } else {
            advance.to = end;
            if first_time {
                advance.events.push(event(
                    "nobody_paged",
                    None,
                    format!(
                        "no fallback number to page either (TETHER_FALLBACK_PAGE_TO); looking again every {minutes} minutes"
                    ),
                ));
            }
            "nobody_paged"
        };
        advance.audit_outcome = first_time.then_some(outcome);
        Ok(advance)
    }

    /// Walks the policy from `start` to the first step with someone reachable, skipping empty steps and
    /// staff who said STOP at once.
    async fn walk(
        &self,
        policy: &Policy,
        start: (i64, i64),
        rotations: &[Rotation],
        now: Timestamp,
    ) -> Result<Walk, StoreError> {
        let steps = policy.steps.len() as i64;
        let (mut step, mut round) = start;
        let mut skipped = Vec::new();
        while round <= i64::from(policy.repeat) {
            let policy_step = &policy.steps[step as usize];
            let next = if step + 1 >= steps {
                (0, round + 1)
            } else {
                (step + 1, round)
            };
            match self.reachable(policy_step.target, rotations, now).await? {
                Reachable::Yes(staff_id, phone) => {
                    return Ok(Walk::Page {
                        staff_id,
                        phone,
                        at: (step, round),
                        next,
                        delay: policy_step.delay(),
                        skipped,
                    });
                }
                Reachable::No(staff_id, why) => {
                    let label = format!("step {} of round {}", step + 1, round + 1);
                    skipped.push(event("step_skipped", staff_id, format!("{label}: {why}")));
                }
            }
            (step, round) = next;
        }
        Ok(Walk::Nobody { skipped })
    }

    async fn reachable(&self, target: Target, rotations: &[Rotation], now: Timestamp) -> Result<Reachable, StoreError> {
        let staff_id = match target {
            Target::Staff(id) => id,
            Target::Rotation(id) => {
                let Some(rotation) = rotations.iter().find(|r| r.id == id) else {
                    return Ok(Reachable::No(None, format!("rotation {id} does not exist")));
                };
                let overrides = self.store.overrides_at(id, now).await?;
                match oncall::on_call(rotation, &overrides, now) {
                    Some(staff_id) => staff_id,
                    None => return Ok(Reachable::No(None, format!("nobody on call in {}", rotation.name))),
                }
            }
        };
        Ok(match self.store.staff_member(staff_id).await? {
            None => Reachable::No(Some(staff_id), "staff member does not exist".into()),
            Some(member) if member.opted_out => Reachable::No(Some(staff_id), "staff member opted out of texts".into()),
            Some(member) => Reachable::Yes(staff_id, member.phone),
        })
    }

    /// The page: the same words for everyone paged, a step's person or a fallback number.
    fn page_text(&self, escalation: &DueEscalation, staff_id: i64, phone: &str, expires_at: Timestamp) -> NewText {
        let reference = escalation.reference();
        let context = StaffContext {
            code: &escalation.code,
            reference: &reference,
            body: "",
        };
        // Templates are checked at start-up; a failure here would be a bug, and a page must still go.
        let body = self
            .catalog
            .current()
            .render_staff("staff/page", &context)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "page template failed; sending the fallback text");
                format!(
                    "Tether alert {}: a client text needs a response now. Reply ACK {}.",
                    escalation.code, escalation.code
                )
            });
        let now = self.clock.now();
        NewText {
            client_id: None,
            staff_id: Some(staff_id),
            enrollment_id: None,
            kind: MessageKind::Page,
            // The move's batch number: every move that pages has its own, also when a chain starts over or
            // the fallback numbers are paged again.
            idempotency_key: format!("page:{}:{}:{staff_id}", escalation.id, escalation.page_batch + 1),
            to_phone: phone.to_owned(),
            body,
            template: Some("staff/page".into()),
            step: None,
            planned_at: now,
            // A page that cannot go out before the next move is due is moot: the next move pages instead.
            expires_at: Some(expires_at),
        }
    }
}

enum Reachable {
    Yes(i64, String),
    No(Option<i64>, String),
}

fn event(kind: &'static str, staff_id: Option<i64>, detail: String) -> EscalationEvent {
    EscalationEvent { kind, staff_id, detail }
}

/// `once`, `twice`, `3 times`.
fn times(n: i64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// `1 fallback number`, `2 fallback numbers`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
