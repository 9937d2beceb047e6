//! Escalation: a crisis text opens an escalation, and this module pages the policy's steps one after
//! another until someone acknowledges. All state is in the database, so the chain survives restarts, and
//! each move is guarded by the position it read, so two instances never page the same step twice.

pub mod oncall;

use std::collections::HashSet;

use jiff::Timestamp;

use crate::domain::MessageKind;
use crate::scheduling::Clock;
use crate::storage::{DueEscalation, EscalationAdvance, EscalationEvent, NewText, Store, StoreError};
use crate::templates::{SharedCatalog, StaffContext};
use oncall::{Policy, Rotation, Target};

/// Escalations handled per database round trip.
const BATCH: i64 = 100;

#[derive(Clone)]
pub struct Escalator {
    store: Store,
    catalog: SharedCatalog,
    clock: Clock,
}

impl Escalator {
    pub fn new(store: Store, catalog: SharedCatalog, clock: Clock) -> Self {
        Self { store, catalog, clock }
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
            for escalation in &due {
                let advance = self.next_move(escalation, policy.as_ref(), &rotations, now).await?;
                if self.store.advance_escalation(&advance, now).await? {
                    moved += 1;
                }
            }
        }
    }

    /// Walks the policy from the escalation's position to the first step with someone reachable, skipping
    /// empty steps and staff who said STOP at once, and plans that page.
    async fn next_move(
        &self,
        escalation: &DueEscalation,
        policy: Option<&Policy>,
        rotations: &[Rotation],
        now: Timestamp,
    ) -> Result<EscalationAdvance, StoreError> {
        let from = (escalation.step, escalation.round);
        let mut events = Vec::new();
        let Some(policy) = policy.filter(|p| !p.steps.is_empty()) else {
            tracing::error!(
                escalation_id = escalation.id,
                "crisis escalation with no escalation policy: nobody paged"
            );
            events.push(event("nobody_reachable", None, "no escalation policy is set".into()));
            return Ok(stop(escalation, from, events));
        };
        let steps = policy.steps.len() as i64;
        let (mut step, mut round) = from;
        if step >= steps {
            (step, round) = (0, round + 1);
        }
        while round <= i64::from(policy.repeat) {
            let policy_step = &policy.steps[step as usize];
            let next = if step + 1 >= steps {
                (0, round + 1)
            } else {
                (step + 1, round)
            };
            let label = format!("step {} of round {}", step + 1, round + 1);
            match self.reachable(policy_step.target, rotations, now).await? {
                Reachable::Yes(staff_id, phone) => {
                    let page = self.page_text(escalation, staff_id, &phone, (step, round), now + policy_step.delay());
                    return Ok(EscalationAdvance {
                        id: escalation.id,
                        from,
                        to: next,
                        next_action_at: Some(now + policy_step.delay()),
                        page: Some((staff_id, page)),
                        events,
                    });
                }
                Reachable::No(staff_id, why) => events.push(event("step_skipped", staff_id, format!("{label}: {why}"))),
            }
            (step, round) = next;
        }
        tracing::error!(
            escalation_id = escalation.id,
            "escalation chain exhausted without an acknowledgement"
        );
        events.push(event(
            "exhausted",
            None,
            "every step was paged or skipped and nobody acknowledged".into(),
        ));
        Ok(stop(escalation, (step, round), events))
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

    fn page_text(
        &self,
        escalation: &DueEscalation,
        staff_id: i64,
        phone: &str,
        (step, round): (i64, i64),
        expires_at: Timestamp,
    ) -> NewText {
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
            idempotency_key: format!("page:{}:{round}:{step}:{staff_id}", escalation.id),
            to_phone: phone.to_owned(),
            body,
            template: Some("staff/page".into()),
            step: None,
            planned_at: now,
            // A page that cannot go out before the next step is due is moot: the next step pages instead.
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

/// Leaves the escalation open and visible, with nothing more scheduled.
fn stop(escalation: &DueEscalation, to: (i64, i64), events: Vec<EscalationEvent>) -> EscalationAdvance {
    EscalationAdvance {
        id: escalation.id,
        from: (escalation.step, escalation.round),
        to,
        next_action_at: None,
        page: None,
        events,
    }
}
