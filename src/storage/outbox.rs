//! The outbox: every text Tether means to send, one row each, from plan to final delivery status.

use jiff::{SignedDuration, Timestamp};

use super::{
    Backend, Result, Store, StoreError, clients::SendTarget, in_chunks, instant, optional_instant, unix, value_rows,
};
use crate::domain::{MessageKind, OutboxStatus, ProviderStatus};

/// A text to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewText {
    pub client_id: Option<i64>,
    /// For texts to staff, so their STOP is honoured at send time.
    pub staff_id: Option<i64>,
    pub enrollment_id: Option<i64>,
    pub kind: MessageKind,
    /// Unique per intended text; a second insert with the same key writes nothing.
    pub idempotency_key: String,
    pub to_phone: String,
    pub body: String,
    pub template: Option<String>,
    pub step: Option<String>,
    pub planned_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// A provider's acceptance of one text, to be recorded.
#[derive(Debug, Clone)]
pub struct SentRecord {
    pub id: i64,
    pub sid: String,
    pub status: Option<ProviderStatus>,
    pub at: Timestamp,
}

/// A text claimed for sending, with its recipient's state read in the same moment.
#[derive(Debug, Clone)]
pub struct ClaimedText {
    pub id: i64,
    pub client_id: Option<i64>,
    pub kind: Option<MessageKind>,
    pub to_phone: String,
    pub body: String,
    pub planned_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Including the attempt this claim starts.
    pub attempts: i64,
    pub recipient: Option<SendTarget>,
    pub staff_id: Option<i64>,
    pub staff_opted_out: bool,
    /// The client's newest unresolved escalation, read in the same moment as the claim.
    pub open_crisis: Option<OpenCrisis>,
}

/// A crisis escalation for a text's client that nobody has resolved yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCrisis {
    pub escalation_id: i64,
    pub opened_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    client_id: Option<i64>,
    kind: String,
    to_phone: String,
    body: String,
    planned_at: i64,
    expires_at: Option<i64>,
    attempts: i64,
    client_status: Option<String>,
    timezone: Option<String>,
    consented_at: Option<i64>,
    phone_invalid_at: Option<i64>,
    staff_id: Option<i64>,
    staff_opted_out_at: Option<i64>,
    crisis_escalation_id: Option<i64>,
    crisis_opened_at: Option<i64>,
}

/// A text as the admin API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TextRecord {
    pub id: i64,
    pub kind: String,
    pub step: Option<String>,
    pub template: Option<String>,
    pub body: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub provider_sid: Option<String>,
    pub provider_status: Option<String>,
    pub error_code: Option<i64>,
    pub attempts: i64,
    pub planned_at: i64,
    pub send_at: i64,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
    /// The crisis escalation that held this text back, if one did.
    pub held_by_escalation: Option<i64>,
    /// For an appointment reminder, the appointment's kind (`court_date`…), as it is now.
    pub appointment_kind: Option<String>,
}

/// A waiting row (`outbox`) that follows another may go only once that one has left `pending` and `sending`:
/// accepted by the provider, or never to be sent. The parts of a safety plan are queued this way, so part 2
/// reaches the provider only after part 1 was accepted, whichever instance claims them. One that failed for
/// good does not hold the rest back: the client asked for the plan, and the other parts still help.
/// A macro, so the claim statements below stay single string literals.
macro_rules! waits_for_its_predecessor {
    () => {
        "(outbox.follows IS NULL OR NOT EXISTS (SELECT 1 FROM outbox prior \
         WHERE prior.id = outbox.follows AND prior.status IN ('pending', 'sending')))"
    };
}
/// [`waits_for_its_predecessor`] as a constant, for statements built with `format!`.
const WAITS_FOR_ITS_PREDECESSOR: &str = waits_for_its_predecessor!();

/// Rows that may be claimed: due and waiting (and not following a text still in the outbox), or claimed by a
/// dispatcher whose lease ran out (it crashed or hung). Each half is read in claim order through its own
/// index and cut at the limit, so a claim costs about what it takes, however many texts wait; only the two
/// short lists are merged and sorted. PostgreSQL skips rows another instance is claiming this very moment
/// instead of waiting for it.
const CLAIM_SQLITE: &str = concat!(
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = $1, \
     lease_owner = $2, updated_at = $3 WHERE id IN (SELECT id FROM (\
     SELECT id, priority, send_at FROM (SELECT id, priority, send_at FROM outbox \
       WHERE status = 'pending' AND send_at <= $3 AND priority >= $5 AND ",
    waits_for_its_predecessor!(),
    " ORDER BY priority DESC, send_at \
       LIMIT $4) \
     UNION ALL SELECT id, priority, send_at FROM (SELECT id, priority, send_at FROM outbox \
       WHERE status = 'sending' AND lease_until <= $3 AND priority >= $5 ORDER BY priority DESC, send_at LIMIT $4)) \
     ORDER BY priority DESC, send_at LIMIT $4)"
);
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = $1, \
     lease_owner = $2, updated_at = $3 WHERE id IN (SELECT id FROM (\
     SELECT id, priority, send_at FROM (SELECT id, priority, send_at FROM outbox \
       WHERE status = 'pending' AND send_at <= $3 AND priority >= $5 AND ",
    waits_for_its_predecessor!(),
    " ORDER BY priority DESC, send_at \
       LIMIT $4 FOR UPDATE SKIP LOCKED) pending \
     UNION ALL SELECT id, priority, send_at FROM (SELECT id, priority, send_at FROM outbox \
       WHERE status = 'sending' AND lease_until <= $3 AND priority >= $5 ORDER BY priority DESC, send_at LIMIT $4 \
       FOR UPDATE SKIP LOCKED) expired) due \
     ORDER BY priority DESC, send_at LIMIT $4)"
);

/// The newest escalation of a claimed text's client (`o`) that was open at `$2` and is not resolved: the one
/// whose hold, if any, lasts longest. Follows the column to read in a scalar subquery.
const NEWEST_OPEN_CRISIS: &str = "FROM escalations e WHERE e.client_id = o.client_id \
     AND e.resolved_at IS NULL AND e.created_at <= $2 ORDER BY e.created_at DESC, e.id DESC LIMIT 1";

/// Inserts a text; returns its id, or `None` if a text with the same idempotency key exists.
pub(super) async fn insert_text(conn: &mut sqlx::AnyConnection, text: &NewText, now: Timestamp) -> Result<Option<i64>> {
    insert_text_after(conn, text, None, now).await
}

/// Inserts a text that no dispatcher claims before the text `follows` has left the outbox's waiting
/// states (see [`waits_for_its_predecessor`]); `None` is an ordinary text.
pub(super) async fn insert_text_after(
    conn: &mut sqlx::AnyConnection,
    text: &NewText,
    follows: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>> {
    let id = sqlx::query_scalar(
        "INSERT INTO outbox (client_id, enrollment_id, kind, idempotency_key, to_phone, body, template, step, \
         planned_at, send_at, expires_at, status, created_at, updated_at, priority, staff_id, follows) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, 'pending', $11, $11, $12, $13, $14) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(text.client_id)
    .bind(text.enrollment_id)
    .bind(text.kind.as_str())
    .bind(&text.idempotency_key)
    .bind(&text.to_phone)
    .bind(&text.body)
    .bind(text.template.as_deref())
    .bind(text.step.as_deref())
    .bind(unix(text.planned_at))
    .bind(text.expires_at.map(unix))
    .bind(unix(now))
    .bind(text.kind.priority())
    .bind(text.staff_id)
    .bind(follows)
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Splits acceptances into rounds in which no provider id appears twice. The rounds are written one
/// after another, so a later round sees the ids an earlier one took and a repeat within one group is
/// caught like a repeat of an older text's id.
fn rounds_of_distinct_ids(records: &[SentRecord]) -> Vec<Vec<&SentRecord>> {
    let mut rounds: Vec<(std::collections::HashSet<&str>, Vec<&SentRecord>)> = Vec::new();
    for record in records {
        match rounds.iter_mut().find(|(ids, _)| !ids.contains(record.sid.as_str())) {
            Some((ids, round)) => {
                ids.insert(&record.sid);
                round.push(record);
            }
            None => rounds.push((std::iter::once(record.sid.as_str()).collect(), vec![record])),
        }
    }
    rounds.into_iter().map(|(_, round)| round).collect()
}

impl Store {
    /// Adds one text to the outbox. Returns false if a text with the same idempotency key exists.
    pub async fn enqueue(&self, text: &NewText, now: Timestamp) -> Result<bool> {
        let mut conn = self.writer.acquire().await?;
        Ok(insert_text(&mut conn, text, now).await?.is_some())
    }

    /// Adds many texts in one transaction (one commit, one fsync), skipping any whose key already exists.
    /// Returns how many were new.
    pub async fn enqueue_many(&self, texts: &[NewText], now: Timestamp) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        let mut inserted = 0;
        for text in texts {
            if insert_text(&mut tx, text, now).await?.is_some() {
                inserted += 1;
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Atomically claims up to `limit` due texts of at least `min_priority` under a lease until `now + lease`.
    /// Two dispatchers, in one process or on two machines, never claim the same row while its lease holds.
    pub async fn claim_due(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: i64,
        min_priority: i64,
    ) -> Result<Vec<ClaimedText>> {
        // The instance first: if this process dies, a live one releases its claims by that prefix.
        let owner = format!("{}{:016x}", self.instance(), fastrand::u64(..));
        let claim = match self.backend {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let claimed = sqlx::query(claim)
            .bind(unix(now + lease))
            .bind(&owner)
            .bind(unix(now))
            .bind(limit)
            .bind(min_priority)
            .execute(&self.writer)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<ClaimedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT o.id, o.client_id, o.kind, o.to_phone, o.body, o.planned_at, o.expires_at, o.attempts, \
             c.status AS client_status, c.timezone, c.consented_at, c.phone_invalid_at, \
             o.staff_id, s.opted_out_at AS staff_opted_out_at, \
             (SELECT e.id {NEWEST_OPEN_CRISIS}) AS crisis_escalation_id, \
             (SELECT e.created_at {NEWEST_OPEN_CRISIS}) AS crisis_opened_at \
             FROM outbox o LEFT JOIN clients c ON c.id = o.client_id LEFT JOIN staff s ON s.id = o.staff_id \
             WHERE o.lease_owner = $1 AND o.status = 'sending' ORDER BY o.priority DESC, o.send_at"
        )))
        .bind(&owner)
        .bind(unix(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ClaimedText {
                id: row.id,
                client_id: row.client_id,
                kind: MessageKind::parse(&row.kind),
                to_phone: row.to_phone,
                body: row.body,
                planned_at: instant(row.planned_at),
                expires_at: optional_instant(row.expires_at),
                attempts: row.attempts,
                recipient: SendTarget::from_columns(
                    row.client_status,
                    row.timezone,
                    row.consented_at,
                    row.phone_invalid_at,
                ),
                staff_id: row.staff_id,
                staff_opted_out: row.staff_opted_out_at.is_some(),
                open_crisis: row
                    .crisis_escalation_id
                    .zip(row.crisis_opened_at)
                    .map(|(escalation_id, opened_at)| OpenCrisis {
                        escalation_id,
                        opened_at: instant(opened_at),
                    }),
            })
            .collect())
    }

    /// Records providers' acceptances, many in one transaction: one commit (one fsync) for all of them.
    /// A status callback may have raced ahead of a record; its status stays. A provider id already held by
    /// another text is an anomaly of the provider's: the text is recorded as sent without it, the reason
    /// says so, and its id is returned, since sending it again would only repeat the anomaly.
    pub async fn mark_sent(&self, records: &[SentRecord]) -> Result<Vec<i64>> {
        // Nearly always every id is new, and one plain statement per chunk is the fastest write: a repeated
        // id breaks the unique rule on provider ids and undoes it, and the group is then written again
        // looking up each id's holder (that look-up cost about a tenth of the dispatch rate when always done).
        match self.write_acceptances(records, false).await {
            Err(StoreError::Database(sqlx::Error::Database(ref db))) if db.is_unique_violation() => {
                self.write_acceptances(records, true).await
            }
            written => written,
        }
    }

    /// Writes acceptances in one transaction. With `look_for_repeats`, a provider id another text holds is
    /// left out and noted, and the ids of those texts are returned.
    async fn write_acceptances(&self, records: &[SentRecord], look_for_repeats: bool) -> Result<Vec<i64>> {
        const TAKEN: &str = "EXISTS (SELECT 1 FROM outbox holder \
                             WHERE holder.provider_sid = accepted.sid AND holder.id <> outbox.id)";
        let (sid, reason, returning) = if look_for_repeats {
            (
                format!("CASE WHEN {TAKEN} THEN NULL ELSE accepted.sid END"),
                format!(
                    "CASE WHEN {TAKEN} THEN 'the provider answered with an id another text already has' \
                     ELSE outbox.status_reason END"
                ),
                "RETURNING outbox.id, outbox.provider_sid",
            )
        } else {
            ("accepted.sid".to_owned(), "outbox.status_reason".to_owned(), "")
        };
        // Two texts with one id in the same statement would both pass the look-up: rounds keep ids apart.
        let rounds = if look_for_repeats {
            rounds_of_distinct_ids(records)
        } else {
            vec![records.iter().collect()]
        };
        let mut repeated = Vec::new();
        let mut tx = self.writer.begin().await?;
        for round in rounds {
            for chunk in in_chunks(&round) {
                let sql = format!(
                    "WITH accepted (id, sid, at, rank, name) AS (VALUES {}) \
                     UPDATE outbox SET provider_sid = {sid}, status_reason = {reason}, \
                     sent_at = accepted.at, updated_at = accepted.at, lease_until = NULL, lease_owner = NULL, \
                     status = CASE WHEN outbox.status = 'sending' THEN 'sent' ELSE outbox.status END, \
                     provider_status = CASE WHEN outbox.provider_rank < accepted.rank THEN accepted.name \
                       ELSE outbox.provider_status END, \
                     provider_rank = CASE WHEN outbox.provider_rank < accepted.rank THEN accepted.rank \
                       ELSE outbox.provider_rank END \
                     FROM accepted WHERE outbox.id = accepted.id {returning}",
                    value_rows(chunk.len(), 5)
                );
                let mut update = sqlx::query_as::<_, (i64, Option<String>)>(sqlx::AssertSqlSafe(sql));
                for record in chunk {
                    let (name, rank) = record.status.map_or((None, -1), |s| (Some(s.name), s.rank));
                    update = update
                        .bind(record.id)
                        .bind(&record.sid)
                        .bind(unix(record.at))
                        .bind(rank)
                        .bind(name);
                }
                let written = update.fetch_all(&mut *tx).await?;
                repeated.extend(
                    written
                        .into_iter()
                        .filter(|(id, sid)| chunk.iter().any(|r| r.id == *id && sid.as_deref() != Some(&r.sid)))
                        .map(|(id, _)| id),
                );
            }
        }
        tx.commit().await?;
        Ok(repeated)
    }

    /// Releases a claimed text to be tried again at `send_at`; the claim counts as one of its attempts.
    pub async fn reschedule(&self, id: i64, send_at: Timestamp, reason: &str, now: Timestamp) -> Result<()> {
        self.release(id, send_at, reason, now, 0).await
    }

    /// Releases a claimed text that was never offered to the provider (quiet hours, shutdown, a provider
    /// misconfigured for every text): its claim does not count as an attempt.
    pub async fn hand_back(&self, id: i64, send_at: Timestamp, reason: &str, now: Timestamp) -> Result<()> {
        self.release(id, send_at, reason, now, 1).await
    }

    /// Releases a claimed text held for a client's open crisis escalation, marked with it, to be looked at
    /// again at `until`, when the hold runs out. The claim does not count as an attempt. If the escalation
    /// was resolved since the claim read it, the text is released for now instead and is not marked.
    pub async fn hold_for_crisis(&self, id: i64, escalation_id: i64, until: Timestamp, now: Timestamp) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        // Locks the escalation's row against a resolution in flight: either the resolution commits first and
        // is read below, or it waits for this hold and then releases the text it finds marked.
        sqlx::query("UPDATE escalations SET updated_at = updated_at WHERE id = $1")
            .bind(escalation_id)
            .execute(&mut *tx)
            .await?;
        const STILL_OPEN: &str = "SELECT 1 FROM escalations WHERE id = $2 AND resolved_at IS NULL";
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'pending', lease_until = NULL, lease_owner = NULL, updated_at = $3, \
             attempts = attempts - 1, \
             send_at = CASE WHEN EXISTS ({STILL_OPEN}) THEN $4 ELSE $3 END, \
             held_by_escalation = CASE WHEN EXISTS ({STILL_OPEN}) THEN $2 ELSE held_by_escalation END, \
             status_reason = CASE WHEN EXISTS ({STILL_OPEN}) THEN $5 ELSE status_reason END \
             WHERE id = $1 AND status = 'sending'"
        )))
        .bind(id)
        .bind(escalation_id)
        .bind(unix(now))
        .bind(unix(until))
        .bind(format!(
            "held while crisis escalation {escalation_id} is open: until it is resolved, {} at the latest",
            until.strftime("%Y-%m-%d %H:%M UTC")
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn release(&self, id: i64, send_at: Timestamp, reason: &str, now: Timestamp, refund: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'pending', send_at = $1, status_reason = $2, lease_until = NULL, \
             lease_owner = NULL, updated_at = $3, attempts = attempts - $5 WHERE id = $4 AND status = 'sending'",
        )
        .bind(unix(send_at))
        .bind(reason)
        .bind(unix(now))
        .bind(id)
        .bind(refund)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Ends a claimed text's life without a provider acceptance: failed, cancelled or expired.
    pub async fn settle(
        &self,
        id: i64,
        status: OutboxStatus,
        reason: &str,
        error_code: Option<i64>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = $1, status_reason = $2, error_code = COALESCE($3, error_code), \
             lease_until = NULL, lease_owner = NULL, updated_at = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(error_code)
        .bind(unix(now))
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Applies a provider status callback, forward only: a status ranked at or below the stored one changes
    /// nothing. `outbox_id` comes from the callback URL, so a callback that beats the create response still
    /// finds its row. Returns the row's client when something changed.
    pub async fn apply_provider_status(
        &self,
        outbox_id: Option<i64>,
        sid: &str,
        status: ProviderStatus,
        error_code: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<(i64, Option<i64>)>> {
        let target = match outbox_id {
            Some(_) => "id = $7 AND (provider_sid IS NULL OR provider_sid = $4)",
            None => "provider_sid = $4",
        };
        let sql = format!(
            "UPDATE outbox SET provider_status = $1, provider_rank = $2, error_code = COALESCE($3, error_code), \
             provider_sid = CASE WHEN provider_sid IS NULL AND NOT EXISTS (SELECT 1 FROM outbox holder \
               WHERE holder.provider_sid = $4) THEN $4 ELSE provider_sid END, \
             status = CASE WHEN status IN ('sending', 'sent') AND $5 <> '' THEN $5 ELSE status END, \
             updated_at = $6 WHERE {target} AND provider_rank < $2 RETURNING id, client_id"
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status.name)
            .bind(status.rank)
            .bind(error_code)
            .bind(sid)
            .bind(status.outcome.map_or("", OutboxStatus::as_str))
            .bind(unix(now));
        if let Some(id) = outbox_id {
            query = query.bind(id);
        }
        Ok(query.fetch_optional(&self.writer).await?)
    }

    /// Every text for one client, in planned order.
    /// What a text was for: its kind, template and step, for timelines and logs.
    pub async fn text_purpose(&self, id: i64) -> Result<Option<(String, Option<String>, Option<String>)>> {
        let row = sqlx::query_as("SELECT kind, template, step FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row)
    }

    pub async fn texts_for_client(&self, client_id: i64) -> Result<Vec<TextRecord>> {
        let rows = sqlx::query_as(
            "SELECT o.id, o.kind, o.step, o.template, o.body, o.status, o.status_reason, o.provider_sid, \
             o.provider_status, o.error_code, o.attempts, o.planned_at, o.send_at, o.sent_at, o.updated_at, \
             o.held_by_escalation, a.kind AS appointment_kind \
             FROM outbox o LEFT JOIN appointments a ON a.id = o.appointment_id WHERE o.client_id = $1 \
             ORDER BY o.planned_at, o.id",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The earliest moment the urgent lane has work: an escalation step or a crisis reply or page falls due.
    pub async fn next_urgent_deadline(&self, min_priority: i64) -> Result<Option<Timestamp>> {
        let earliest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(send_at) AS t FROM outbox WHERE status = 'pending' AND priority >= $1 \
               UNION ALL SELECT MIN(next_action_at) AS t FROM escalations WHERE status = 'open' \
             ) AS deadlines",
        )
        .bind(min_priority)
        .fetch_one(&self.pool)
        .await?;
        Ok(optional_instant(earliest))
    }

    /// The earliest moment the scheduler has work: a text falls due, a lease runs out, an enrolment's next
    /// step comes within `plan_ahead` of being due, or an escalation must page its next step. A text waiting
    /// for the one it follows is not due: that one's own moment is (else the loop would spin while it waits).
    pub async fn next_deadline(&self, plan_ahead: SignedDuration) -> Result<Option<Timestamp>> {
        let earliest: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(send_at) AS t FROM outbox WHERE status = 'pending' AND {WAITS_FOR_ITS_PREDECESSOR} \
               UNION ALL SELECT MIN(lease_until) AS t FROM outbox WHERE status = 'sending' \
               UNION ALL SELECT MIN(next_send_at) - $1 AS t FROM enrollments WHERE status = 'active' \
               UNION ALL SELECT MIN(next_action_at) AS t FROM escalations WHERE status = 'open' \
               UNION ALL SELECT MIN(next_at) - $1 AS t FROM medications WHERE status = 'active' \
             ) AS deadlines"
        )))
        .bind(plan_ahead.as_secs())
        .fetch_one(&self.pool)
        .await?;
        Ok(optional_instant(earliest))
    }
}
