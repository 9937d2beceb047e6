//! Appointments and medications with their reminders, the prompts replies are matched to, and staff tasks.
//! Moving or cancelling an appointment replans its reminders in the same transaction, so no stale reminder
//! can be sent.

use jiff::Timestamp;
use serde::Serialize;

use super::{NewText, Result, Store, instant, optional_instant, outbox::insert_text, unix};
use crate::domain::{AppointmentKind, MessageKind, OutboxStatus};

/// A reminder to write for an appointment.
#[derive(Debug, Clone)]
pub struct ReminderDraft {
    /// Minutes before the start this reminder serves; part of its idempotency key.
    pub offset_minutes: i64,
    pub send_at: Timestamp,
    pub body: String,
    /// The template the body came from (the appointment kind's), kept on the text for the thread.
    pub template: &'static str,
}

/// Something a person has to do (call a client back about an appointment, say), until it is done.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub client_id: Option<i64>,
    /// `reschedule` (the client asked for another time) or `ambiguous_reply` (a YES that could answer two
    /// reminders).
    pub kind: String,
    pub appointment_id: Option<i64>,
    pub detail: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppointmentView {
    pub id: i64,
    pub client_id: i64,
    /// What the appointment is for (`clinic_visit`, `court_date`…).
    pub kind: String,
    pub starts_at: String,
    pub status: String,
    pub version: i64,
    pub confirmed_at: Option<String>,
    pub reschedule_requested_at: Option<String>,
}

type AppointmentRow = (i64, i64, String, i64, String, i64, Option<i64>, Option<i64>);

fn appointment_view(
    (id, client_id, kind, starts_at, status, version, confirmed_at, reschedule): AppointmentRow,
) -> AppointmentView {
    AppointmentView {
        id,
        client_id,
        kind,
        starts_at: instant(starts_at).to_string(),
        status,
        version,
        confirmed_at: optional_instant(confirmed_at).map(|t| t.to_string()),
        reschedule_requested_at: optional_instant(reschedule).map(|t| t.to_string()),
    }
}

#[derive(Debug, Clone)]
pub struct NewMedication {
    pub client_id: i64,
    pub schedule: String,
    pub phrase: Option<String>,
    pub consented_at: Timestamp,
    pub consent_source: String,
    /// The client consented to reminders inside quiet hours.
    pub night_ok: bool,
    pub first_at: Option<Timestamp>,
}

/// An active medication whose next reminder is due, with what it takes to render it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueMedication {
    pub id: i64,
    pub client_id: i64,
    pub schedule: String,
    pub phrase: Option<String>,
    pub next_at: i64,
    pub phone: String,
    pub first_name: String,
    pub language: String,
    pub timezone: String,
}

/// An open question a reminder asked, that a reply may answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenPrompt {
    pub id: i64,
    pub kind: String,
    pub appointment_id: Option<i64>,
    pub medication_id: Option<i64>,
    pub opens_at: i64,
}

pub(super) async fn insert_reminder(
    conn: &mut sqlx::AnyConnection,
    text: &NewText,
    link: (&str, i64),
    prompt: (&str, Timestamp),
    now: Timestamp,
) -> Result<()> {
    let Some(outbox_id) = insert_text(conn, text, now).await? else {
        return Ok(());
    };
    let (column, id) = link;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET {column} = $1 WHERE id = $2"
    )))
    .bind(id)
    .bind(outbox_id)
    .execute(&mut *conn)
    .await?;
    let (kind, closes_at) = prompt;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO prompts (client_id, kind, {column}, outbox_id, opens_at, closes_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )))
    .bind(text.client_id)
    .bind(kind)
    .bind(id)
    .bind(outbox_id)
    .bind(unix(text.planned_at))
    .bind(unix(closes_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn appointment_reminder(
    client_id: i64,
    appointment_id: i64,
    version: i64,
    to: &str,
    starts_at: Timestamp,
    draft: &ReminderDraft,
) -> NewText {
    NewText {
        client_id: Some(client_id),
        staff_id: None,
        enrollment_id: None,
        kind: MessageKind::AppointmentReminder,
        idempotency_key: format!("appt:{appointment_id}:v{version}:{}", draft.offset_minutes),
        to_phone: to.to_owned(),
        body: draft.body.clone(),
        template: Some(draft.template.into()),
        step: Some(format!("{}m before", draft.offset_minutes)),
        planned_at: draft.send_at,
        // A reminder after the start makes no sense: it expires then.
        expires_at: Some(starts_at),
    }
}

impl Store {
    pub async fn create_appointment(
        &self,
        client_id: i64,
        kind: AppointmentKind,
        to_phone: &str,
        starts_at: Timestamp,
        drafts: &[ReminderDraft],
        now: Timestamp,
    ) -> Result<i64> {
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO appointments (client_id, kind, starts_at, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, 'scheduled', 1, $4, $4) RETURNING id",
        )
        .bind(client_id)
        .bind(kind.as_str())
        .bind(unix(starts_at))
        .bind(unix(now))
        .fetch_one(&mut *tx)
        .await?;
        for draft in drafts {
            let text = appointment_reminder(client_id, id, 1, to_phone, starts_at, draft);
            insert_reminder(&mut tx, &text, ("appointment_id", id), ("appointment", starts_at), now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Moves a scheduled appointment: its waiting reminders are cancelled and the new ones written, in one
    /// transaction. Returns false if there is no scheduled appointment with this id.
    pub async fn move_appointment(
        &self,
        id: i64,
        kind: AppointmentKind,
        to_phone: &str,
        starts_at: Timestamp,
        drafts: &[ReminderDraft],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let moved: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE appointments SET starts_at = $1, kind = $2, version = version + 1, confirmed_at = NULL, \
             updated_at = $3 WHERE id = $4 AND status = 'scheduled' RETURNING version, client_id",
        )
        .bind(unix(starts_at))
        .bind(kind.as_str())
        .bind(unix(now))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version, client_id)) = moved else {
            tx.rollback().await?;
            return Ok(false);
        };
        retire_reminders(&mut tx, id, "appointment moved", now).await?;
        for draft in drafts {
            let text = appointment_reminder(client_id, id, version, to_phone, starts_at, draft);
            insert_reminder(&mut tx, &text, ("appointment_id", id), ("appointment", starts_at), now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels a scheduled appointment and its waiting reminders. Returns false if there is none.
    pub async fn cancel_appointment(&self, id: i64, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let cancelled = sqlx::query(
            "UPDATE appointments SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status = 'scheduled'",
        )
        .bind(unix(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if cancelled.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        retire_reminders(&mut tx, id, "appointment cancelled", now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn appointment(&self, id: i64) -> Result<Option<AppointmentView>> {
        let row: Option<AppointmentRow> = sqlx::query_as(
            "SELECT id, client_id, kind, starts_at, status, version, confirmed_at, reschedule_requested_at \
             FROM appointments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(appointment_view))
    }

    pub async fn insert_medication(&self, medication: &NewMedication, now: Timestamp) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO medications (client_id, schedule, phrase, consented_at, consent_source, night_ok, status, \
             next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8) RETURNING id",
        )
        .bind(medication.client_id)
        .bind(&medication.schedule)
        .bind(medication.phrase.as_deref())
        .bind(unix(medication.consented_at))
        .bind(&medication.consent_source)
        .bind(i64::from(medication.night_ok))
        .bind(medication.first_at.map(unix))
        .bind(unix(now))
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// Stops a medication's reminders; the waiting one is cancelled. Returns false if there is none active.
    /// The client a medication belongs to.
    pub async fn medication_client(&self, id: i64) -> Result<Option<i64>> {
        let client_id = sqlx::query_scalar("SELECT client_id FROM medications WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(client_id)
    }

    pub async fn stop_medication(&self, id: i64, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let stopped = sqlx::query(
            "UPDATE medications SET status = 'stopped', next_at = NULL, updated_at = $1 WHERE id = $2 AND status = 'active'",
        )
        .bind(unix(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if stopped.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE outbox SET status = $1, status_reason = 'medication reminders stopped', updated_at = $2 \
             WHERE medication_id = $3 AND status = $4",
        )
        .bind(OutboxStatus::Cancelled.as_str())
        .bind(unix(now))
        .bind(id)
        .bind(OutboxStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn due_medications(&self, until: Timestamp, limit: i64) -> Result<Vec<DueMedication>> {
        let rows = sqlx::query_as(
            "SELECT m.id, m.client_id, m.schedule, m.phrase, m.next_at, c.phone, c.first_name, c.language, c.timezone \
             FROM medications m JOIN clients c ON c.id = m.client_id \
             WHERE m.status = 'active' AND m.next_at <= $1 ORDER BY m.next_at LIMIT $2",
        )
        .bind(unix(until))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Writes one medication reminder and moves the medication to its next occurrence, atomically; false
    /// if another planner got there first.
    pub async fn advance_medication(
        &self,
        medication: &DueMedication,
        text: &NewText,
        prompt_closes_at: Timestamp,
        next_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let moved = sqlx::query("UPDATE medications SET next_at = $1, updated_at = $2 WHERE id = $3 AND next_at = $4")
            .bind(next_at.map(unix))
            .bind(unix(now))
            .bind(medication.id)
            .bind(medication.next_at)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_reminder(
            &mut tx,
            text,
            ("medication_id", medication.id),
            ("medication", prompt_closes_at),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Open tasks for staff: reschedule requests and replies that could not be matched for sure.
    /// Tasks not done yet, oldest first; with `assigned_to`, only those about that staff member's clients.
    pub async fn open_tasks(&self, assigned_to: Option<i64>) -> Result<Vec<TaskView>> {
        type TaskRow = (i64, Option<i64>, String, Option<i64>, String, i64);
        let rows: Vec<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, client_id, kind, appointment_id, detail, created_at FROM tasks \
             WHERE done_at IS NULL AND {} ORDER BY id",
            super::escalations::assigned_to_filter(1)
        )))
        .bind(i64::from(assigned_to.is_some()))
        .bind(assigned_to.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, client_id, kind, appointment_id, detail, created_at)| TaskView {
                id,
                client_id,
                kind,
                appointment_id,
                detail,
                created_at: instant(created_at).to_string(),
            })
            .collect())
    }
}

/// Cancels an appointment's waiting reminders and closes its open prompts.
async fn retire_reminders(
    conn: &mut sqlx::AnyConnection,
    appointment_id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = $1, status_reason = $2, updated_at = $3 WHERE appointment_id = $4 AND status = $5",
    )
    .bind(OutboxStatus::Cancelled.as_str())
    .bind(reason)
    .bind(unix(now))
    .bind(appointment_id)
    .bind(OutboxStatus::Pending.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE prompts SET closes_at = $1 WHERE appointment_id = $2 AND answered_at IS NULL AND closes_at > $1",
    )
    .bind(unix(now))
    .bind(appointment_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
