//! Early-warning signals and the queries that find them.

use jiff::Timestamp;
use serde::Serialize;

use super::{CARING_KINDS, NewText, Result, Store, optional_instant, outbox::insert_text, staff::staff_member, unix};
use crate::domain::MessageKind;

#[derive(Debug, Clone)]
pub struct NewSignal {
    pub client_id: i64,
    pub rule: &'static str,
    /// What the condition started from; a rule fires once per episode.
    pub episode: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignalView {
    pub id: i64,
    pub client_id: i64,
    /// `silence`, `unconfirmed` (an appointment started without being confirmed) or `missed_doses`.
    pub rule: String,
    pub reason: String,
    pub staff_id: Option<i64>,
    pub created_at: String,
    pub seen_at: Option<String>,
}

impl Store {
    pub async fn clients_with_caring_texts_since(&self, since: Timestamp) -> Result<Vec<i64>> {
        let ids = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT client_id FROM outbox WHERE kind IN {CARING_KINDS} AND status IN ('sent', 'delivered') \
             AND sent_at > $1 AND client_id IS NOT NULL"
        )))
        .bind(unix(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// The first caring text of an unanswered run since the client's latest reply, if the client has replied
    /// at all and the run holds texts of at least `count` different days. Texts less than 20 hours after the
    /// last one counted count as that one: with the bridge's two check-ins a day, three unanswered in a day
    /// and a half are a quiet day, not a client gone quiet. The same run keeps the same first text, so it is
    /// one episode.
    pub async fn unanswered_caring_streak(&self, client_id: i64, count: i64) -> Result<Option<i64>> {
        let last_reply: Option<i64> =
            sqlx::query_scalar("SELECT MAX(received_at) FROM inbound_messages WHERE client_id = $1")
                .bind(client_id)
                .fetch_one(&self.pool)
                .await?;
        let Some(last_reply) = last_reply else {
            return Ok(None);
        };
        let run: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, sent_at FROM outbox WHERE client_id = $1 AND kind IN {CARING_KINDS} \
             AND status IN ('sent', 'delivered') AND sent_at > $2 ORDER BY sent_at, id"
        )))
        .bind(client_id)
        .bind(last_reply)
        .fetch_all(&self.pool)
        .await?;
        Ok(run
            .first()
            .map(|&(first, _)| first)
            .filter(|_| days_in_run(&run) >= count))
    }

    /// Appointments that started in (since, now] unconfirmed although a reminder went out.
    pub async fn unconfirmed_appointments_started(&self, since: Timestamp, now: Timestamp) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query_as(
            "SELECT a.id, a.client_id FROM appointments a WHERE a.status = 'scheduled' AND a.confirmed_at IS NULL \
             AND a.starts_at > $1 AND a.starts_at <= $2 AND EXISTS (SELECT 1 FROM outbox o \
             WHERE o.appointment_id = a.id AND o.status IN ('sent', 'delivered'))",
        )
        .bind(unix(since))
        .bind(unix(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    pub async fn medications_with_prompts_closed(&self, since: Timestamp, now: Timestamp) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query_as(
            "SELECT DISTINCT medication_id, client_id FROM prompts WHERE kind = 'medication' \
             AND closes_at > $1 AND closes_at <= $2",
        )
        .bind(unix(since))
        .bind(unix(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The first reminder of a run of at least `count` closed, unanswered medication reminders since the
    /// last one answered: one episode per run.
    pub async fn missed_dose_streak(&self, medication_id: i64, count: i64, now: Timestamp) -> Result<Option<i64>> {
        let last_taken: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(opens_at) FROM prompts WHERE medication_id = $1 AND answered_at IS NOT NULL",
        )
        .bind(medication_id)
        .fetch_one(&self.pool)
        .await?;
        let run: Vec<i64> = sqlx::query_scalar(
            "SELECT p.id FROM prompts p JOIN outbox o ON o.id = p.outbox_id \
             WHERE p.medication_id = $1 AND p.closes_at <= $2 AND p.opens_at > $3 AND p.answered_at IS NULL \
             AND o.status IN ('sent', 'delivered') ORDER BY p.opens_at, p.id",
        )
        .bind(medication_id)
        .bind(unix(now))
        .bind(last_taken.unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?;
        Ok(run.first().copied().filter(|_| run.len() as i64 >= count))
    }

    /// Records a signal unless its episode already fired, and tells the client's assigned peer. Returns
    /// whether it was new.
    pub async fn raise_signal(
        &self,
        signal: &NewSignal,
        kind: MessageKind,
        body: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let inserted: Option<(i64, Option<i64>)> = sqlx::query_as(
            "INSERT INTO signals (client_id, rule, episode, reason, staff_id, created_at) \
             SELECT $1, $2, $3, $4, assigned_staff_id, $5 FROM clients WHERE id = $1 \
             ON CONFLICT (client_id, rule, episode) DO NOTHING RETURNING id, staff_id",
        )
        .bind(signal.client_id)
        .bind(signal.rule)
        .bind(&signal.episode)
        .bind(&signal.reason)
        .bind(unix(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, staff_id)) = inserted else {
            tx.rollback().await?;
            return Ok(false);
        };
        if let Some(staff_id) = staff_id
            && let Some(peer) = staff_member(&mut tx, staff_id).await?
        {
            let text = NewText {
                client_id: None,
                staff_id: Some(peer.id),
                enrollment_id: None,
                kind,
                idempotency_key: format!("signal:{id}"),
                to_phone: peer.phone,
                body: body.to_owned(),
                template: Some("staff/signal".into()),
                step: None,
                planned_at: now,
                expires_at: None,
            };
            insert_text(&mut tx, &text, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Early-warning signals, newest first; with `assigned_to`, only those about that staff member's clients.
    pub async fn signals(&self, unseen_only: bool, assigned_to: Option<i64>) -> Result<Vec<SignalView>> {
        type Row = (i64, i64, String, String, Option<i64>, i64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, client_id, rule, reason, staff_id, created_at, seen_at FROM signals \
             WHERE ($1 = 0 OR seen_at IS NULL) AND {} ORDER BY id DESC LIMIT 500",
            super::escalations::assigned_to_filter(2)
        )))
        .bind(i64::from(unseen_only))
        .bind(i64::from(assigned_to.is_some()))
        .bind(assigned_to.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, client_id, rule, reason, staff_id, created_at, seen_at)| SignalView {
                    id,
                    client_id,
                    rule,
                    reason,
                    staff_id,
                    created_at: optional_instant(Some(created_at))
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    seen_at: optional_instant(seen_at).map(|t| t.to_string()),
                },
            )
            .collect())
    }

    pub async fn mark_signal_seen(&self, id: i64, assigned_to: Option<i64>, now: Timestamp) -> Result<bool> {
        self.mark_seen("signals", id, assigned_to, now).await
    }
}

/// How many days an unanswered run of `(id, sent_at)` covers, counting a text sent less than 20 hours after
/// the last counted one as part of the same day.
fn days_in_run(run: &[(i64, i64)]) -> i64 {
    const SAME_DAY_SECONDS: i64 = 20 * 60 * 60;
    let mut days = 0;
    let mut counted_at: Option<i64> = None;
    for &(_, sent_at) in run {
        if counted_at.is_none_or(|at| sent_at - at >= SAME_DAY_SECONDS) {
            days += 1;
            counted_at = Some(sent_at);
        }
    }
    days
}
