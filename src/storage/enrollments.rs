//! Enrolments of clients into schedules. Each active enrolment remembers only its next step, so the planner
//! touches one row per client per step however long the schedule is.

use jiff::Timestamp;

use super::{Result, Store, instant, outbox::insert_text, unix};
use crate::domain::RecordedConsent;
use crate::scheduling::SentSteps;
use crate::storage::NewText;

#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub client_id: i64,
    pub schedule: String,
    pub schedule_version: i64,
    pub discharged_at: Timestamp,
    /// Steps on earlier days belong to a bridge schedule the client also follows.
    pub starts_on_day: i32,
    /// The first step still worth sending, and when; `None` when every step is already past.
    pub first_step: Option<(usize, Timestamp)>,
    /// The client's consent to more than one text a day, for a schedule that sends that many.
    pub several_daily_consent: Option<RecordedConsent>,
}

/// An active enrolment as a new enrolment of the same client sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveEnrollment {
    pub id: i64,
    pub schedule: String,
    pub starts_on_day: i32,
}

/// An enrolment already under way whose first days a newly enrolled bridge now covers.
#[derive(Debug, Clone)]
pub struct BridgedEnrollment {
    pub id: i64,
    pub starts_on_day: i32,
    /// Its steps on the covered days: texts already planned for them are cancelled.
    pub covered_steps: Vec<String>,
}

/// An active enrolment whose next step is due, with what it takes to render the text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueEnrollment {
    pub id: i64,
    pub client_id: i64,
    pub schedule: String,
    pub schedule_version: i64,
    pub discharged_at: i64,
    pub next_step: i64,
    pub starts_on_day: i32,
    pub phone: String,
    pub first_name: String,
    pub language: String,
    pub timezone: String,
}

impl DueEnrollment {
    pub fn discharged_at(&self) -> Timestamp {
        instant(self.discharged_at)
    }
}

/// Plans one step: writes its text and moves the enrolment to the following step, atomically.
#[derive(Debug, Clone)]
pub struct StepAdvance {
    pub enrollment_id: i64,
    /// The step the planner read; if another planner already moved on, nothing is written.
    pub expected_step: i64,
    /// The schedule version the planner read; a re-plan after an edit bumps it, and the stale step is dropped.
    pub expected_version: i64,
    /// The first day the planner read as this enrolment's own; a bridge enrolled meanwhile raises it and
    /// cancels the covered steps' texts, so a stale step written after that would give a day two texts.
    pub expected_starts_on_day: i32,
    /// `None` when the step no longer exists (the schedule was shortened): the enrolment just moves on.
    pub text: Option<NewText>,
    /// The step after, and when it is due; `None` completes the enrolment.
    pub next: Option<(i64, Timestamp)>,
}

/// An active enrolment as a schedule edit sees it.
#[derive(Debug, Clone)]
pub struct EnrollmentToReplan {
    pub id: i64,
    pub discharged_at: Timestamp,
    pub starts_on_day: i32,
    pub timezone: String,
    pub sent: SentSteps,
}

/// Where one enrolment goes on under a new schedule version.
#[derive(Debug, Clone)]
pub struct Replan {
    pub enrollment_id: i64,
    /// The next step and when it is due; `None` completes the enrolment.
    pub next: Option<(i64, Timestamp)>,
}

impl Store {
    /// Active enrolments in `schedule` with ids above `after`, oldest first, with the steps each was sent.
    pub async fn enrollments_to_replan(
        &self,
        schedule: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<EnrollmentToReplan>> {
        let rows: Vec<(i64, i64, i32, String)> = sqlx::query_as(
            "SELECT e.id, e.discharged_at, e.starts_on_day, c.timezone FROM enrollments e \
             JOIN clients c ON c.id = e.client_id \
             WHERE e.schedule = $1 AND e.status = 'active' AND e.id > $2 ORDER BY e.id LIMIT $3",
        )
        .bind(schedule)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let (Some(first), Some(last)) = (rows.first().map(|r| r.0), rows.last().map(|r| r.0)) else {
            return Ok(Vec::new());
        };
        // Texts in flight count as sent: the provider may already have them.
        let sent: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT enrollment_id, step, planned_at FROM outbox WHERE enrollment_id BETWEEN $1 AND $2 \
             AND step IS NOT NULL AND status NOT IN ('pending', 'cancelled', 'expired')",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        let mut by_enrollment: std::collections::HashMap<i64, SentSteps> = std::collections::HashMap::new();
        for (enrollment_id, step, planned_at) in sent {
            by_enrollment
                .entry(enrollment_id)
                .or_default()
                .add(step, instant(planned_at));
        }
        Ok(rows
            .into_iter()
            .map(|(id, discharged_at, starts_on_day, timezone)| EnrollmentToReplan {
                id,
                discharged_at: instant(discharged_at),
                starts_on_day,
                timezone,
                sent: by_enrollment.remove(&id).unwrap_or_default(),
            })
            .collect())
    }

    /// Moves enrolments onto `version` of their schedule: their planned-but-unsent texts are cancelled (the
    /// planner writes them again from the new version) and each gets its new next step. Sent texts stay.
    pub async fn replan_enrollments(&self, version: i64, replans: &[Replan], now: Timestamp) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for replan in replans {
            let (status, next_step, next_send_at) = match replan.next {
                Some((step, at)) => ("active", step, Some(unix(at))),
                None => ("completed", 0, None),
            };
            sqlx::query(
                "UPDATE enrollments SET schedule_version = $1, status = $2, next_step = $3, next_send_at = $4, \
                 updated_at = $5 WHERE id = $6 AND status = 'active'",
            )
            .bind(version)
            .bind(status)
            .bind(next_step)
            .bind(next_send_at)
            .bind(unix(now))
            .bind(replan.enrollment_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE outbox SET status = 'cancelled', status_reason = 'schedule changed', updated_at = $1 \
                 WHERE enrollment_id = $2 AND status = 'pending'",
            )
            .bind(unix(now))
            .bind(replan.enrollment_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The client's active enrolments.
    pub async fn active_enrollments(&self, client_id: i64) -> Result<Vec<ActiveEnrollment>> {
        let rows = sqlx::query_as(
            "SELECT id, schedule, starts_on_day FROM enrollments WHERE client_id = $1 AND status = 'active' \
             ORDER BY id",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Enrols a client in several schedules at once, and moves the start of enrolments a new bridge now
    /// covers, all or nothing: a refused enrolment (already enrolled) leaves no other behind.
    pub async fn insert_enrollments(
        &self,
        enrollments: &[NewEnrollment],
        bridged: &[BridgedEnrollment],
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let mut tx = self.writer.begin().await?;
        for moved in bridged {
            sqlx::query(
                "UPDATE enrollments SET starts_on_day = $1, updated_at = $2 WHERE id = $3 AND status = 'active'",
            )
            .bind(moved.starts_on_day)
            .bind(unix(now))
            .bind(moved.id)
            .execute(&mut *tx)
            .await?;
            for step in &moved.covered_steps {
                sqlx::query(
                    "UPDATE outbox SET status = 'cancelled', status_reason = 'replaced by the bridge', \
                     updated_at = $1 WHERE enrollment_id = $2 AND step = $3 AND status = 'pending'",
                )
                .bind(unix(now))
                .bind(moved.id)
                .bind(step)
                .execute(&mut *tx)
                .await?;
            }
        }
        let mut ids = Vec::with_capacity(enrollments.len());
        for enrollment in enrollments {
            let (status, next_step, next_send_at) = match enrollment.first_step {
                Some((step, at)) => ("active", step as i64, Some(unix(at))),
                None => ("completed", 0, None),
            };
            let consent = enrollment.several_daily_consent.as_ref();
            let id = sqlx::query_scalar(
                "INSERT INTO enrollments (client_id, schedule, schedule_version, discharged_at, status, next_step, \
                 next_send_at, starts_on_day, several_daily_consented_at, several_daily_consent_source, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(enrollment.client_id)
            .bind(&enrollment.schedule)
            .bind(enrollment.schedule_version)
            .bind(unix(enrollment.discharged_at))
            .bind(status)
            .bind(next_step)
            .bind(next_send_at)
            .bind(enrollment.starts_on_day)
            .bind(consent.map(|c| unix(c.at)))
            .bind(consent.map(|c| c.source.as_str()))
            .bind(unix(now))
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Active enrolments whose next step is due at or before `until`, oldest first.
    pub async fn due_enrollments(&self, until: Timestamp, limit: i64) -> Result<Vec<DueEnrollment>> {
        let rows = sqlx::query_as(
            "SELECT e.id, e.client_id, e.schedule, e.schedule_version, e.discharged_at, e.next_step, e.starts_on_day, \
             c.phone, c.first_name, c.language, c.timezone FROM enrollments e JOIN clients c ON c.id = e.client_id \
             WHERE e.status = 'active' AND e.next_send_at <= $1 ORDER BY e.next_send_at LIMIT $2",
        )
        .bind(unix(until))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Writes a step's text and advances the enrolment in one transaction. Returns false, writing nothing,
    /// if another planner got there first.
    pub async fn advance_enrollment(&self, advance: &StepAdvance, now: Timestamp) -> Result<bool> {
        let (status, next_step, next_send_at) = match advance.next {
            Some((step, at)) => ("active", step, Some(unix(at))),
            None => ("completed", advance.expected_step + 1, None),
        };
        let mut tx = self.writer.begin().await?;
        // The guarded update comes first so SQLite takes the write lock before reading anything.
        let moved = sqlx::query(
            "UPDATE enrollments SET status = $1, next_step = $2, next_send_at = $3, updated_at = $4 \
             WHERE id = $5 AND next_step = $6 AND schedule_version = $7 AND starts_on_day = $8 AND status = 'active'",
        )
        .bind(status)
        .bind(next_step)
        .bind(next_send_at)
        .bind(unix(now))
        .bind(advance.enrollment_id)
        .bind(advance.expected_step)
        .bind(advance.expected_version)
        .bind(advance.expected_starts_on_day)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(text) = &advance.text {
            insert_text(&mut tx, text, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Names of schedules that active enrolments still follow; start-up refuses to run without them.
    pub async fn schedules_in_use(&self) -> Result<Vec<String>> {
        let names = sqlx::query_scalar("SELECT DISTINCT schedule FROM enrollments WHERE status = 'active'")
            .fetch_all(&self.pool)
            .await?;
        Ok(names)
    }
}
