//! Early-warning signals: the leading indicators counselors watch — sudden silence, a visit never
//! confirmed, medication not taken — noticed by the service so staff can step in early. Each rule fires once
//! per episode (recorded with a unique key), not on every pass, and tells the client's assigned peer.

use jiff::{SignedDuration, Timestamp};

use crate::domain::MessageKind;
use crate::scheduling::Clock;
use crate::storage::{NewSignal, Store, StoreError};
use crate::templates::{SharedCatalog, StaffContext};

#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Unanswered caring contacts in a row, from someone who used to reply.
    pub silent_after: i64,
    /// Medication reminders in a row with no TAKEN.
    pub missed_doses: i64,
}

#[derive(Clone)]
pub struct Watcher {
    store: Store,
    catalog: SharedCatalog,
    clock: Clock,
    thresholds: Thresholds,
}

impl Watcher {
    pub fn new(store: Store, catalog: SharedCatalog, clock: Clock, thresholds: Thresholds) -> Self {
        Self {
            store,
            catalog,
            clock,
            thresholds,
        }
    }

    /// Looks at what changed since `since` and raises any signal whose condition has started. Returns how
    /// many new signals were raised.
    pub async fn check(&self, since: Timestamp) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut found: Vec<NewSignal> = Vec::new();

        for client_id in self.store.clients_with_caring_texts_since(since).await? {
            if let Some(first) = self
                .store
                .unanswered_caring_streak(client_id, self.thresholds.silent_after)
                .await?
            {
                found.push(NewSignal {
                    client_id,
                    rule: "silence",
                    episode: first.to_string(),
                    reason: format!("no reply to the caring texts of {} days", self.thresholds.silent_after),
                });
            }
        }
        for (appointment_id, client_id) in self.store.unconfirmed_appointments_started(since, now).await? {
            found.push(NewSignal {
                client_id,
                rule: "unconfirmed",
                episode: appointment_id.to_string(),
                reason: "a visit started without being confirmed".into(),
            });
        }
        for (medication_id, client_id) in self.store.medications_with_prompts_closed(since, now).await? {
            if let Some(first) = self
                .store
                .missed_dose_streak(medication_id, self.thresholds.missed_doses, now)
                .await?
            {
                found.push(NewSignal {
                    client_id,
                    rule: "missed_doses",
                    episode: first.to_string(),
                    reason: format!(
                        "{} medication reminders in a row with no reply",
                        self.thresholds.missed_doses
                    ),
                });
            }
        }

        let mut raised = 0;
        for signal in &found {
            let reference = signal.client_id.to_string();
            let body = self
                .catalog
                .current()
                .render_staff(
                    "staff/signal",
                    &StaffContext {
                        code: "",
                        reference: &reference,
                        body: &signal.reason,
                    },
                )
                .unwrap_or_default();
            if self
                .store
                .raise_signal(signal, MessageKind::StaffNotice, &body, now)
                .await?
            {
                tracing::info!(
                    client_id = signal.client_id,
                    rule = signal.rule,
                    "early-warning signal raised"
                );
                raised += 1;
            }
        }
        Ok(raised)
    }
}

/// How often the rules are looked at: they are about days, not minutes.
pub const CHECK_INTERVAL: SignedDuration = SignedDuration::from_mins(10);
