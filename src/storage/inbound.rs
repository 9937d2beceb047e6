//! One inbound text, processed as one unit: the text is stored first (a duplicate `MessageSid` writes
//! nothing and stops there), then every effect — opt-out, escalation, notice, replies — is written with it,
//! so a crash leaves either all of it or none, and the provider's retry finishes the job.
//!
//! Texts arriving together are handled in one [`InboundGroup`]: one database transaction and one durable
//! commit for all. If any text in a group fails, the caller rolls the whole group back and handles its texts
//! one by one (see `inbound::InboundService::handle_group`), so one bad text never takes others with it; a
//! savepoint per text would do the same at two more round trips for every text.

use jiff::{SignedDuration, Timestamp};
use sqlx::{Any, AnyConnection, FromRow, Row, Transaction};

use super::access::insert_escalation_audit;
use super::clients::{CLIENT_COLUMNS, ClientRow, opt_out};
use super::{
    ClientRecord, NewText, OpenPrompt, Result, Store, in_chunks, instant, outbox::insert_text_after, unix, value_rows,
};
use crate::domain::MessageKind;

#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub message_sid: &'a str,
    pub from_phone: &'a str,
    pub to_phone: &'a str,
    pub body: &'a str,
    pub risk_tier: &'a str,
    pub risk_matches: &'a str,
    pub opt_out_type: Option<&'a str>,
    pub received_at: Timestamp,
}

/// A staff member as inbound processing needs them.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub opted_out: bool,
}

/// What acknowledging a reply code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    Acknowledged {
        escalation_id: i64,
        code: String,
        reference: String,
    },
    AlreadyAcknowledged {
        code: String,
    },
    UnknownCode,
}

/// Who sent an inbound text, found in one statement: the client with that number or, failing that, the staff
/// member; the client's assigned peer; and how many texts came from the number lately (this one included),
/// because a loop with another bot shows up there and automatic replies stop.
#[derive(Debug, Clone)]
pub struct Sender {
    pub client: Option<ClientRecord>,
    pub staff: Option<StaffMember>,
    pub peer: Option<StaffMember>,
    pub recent_texts: i64,
    /// Whether a reminder was waiting for this client's answer when the sender was looked up. Only then is
    /// a one-word reply worth looking up prompts for; `InboundTx::open_prompts` says which, as of the text.
    pub may_have_open_prompts: bool,
}

/// The transaction shared by a group of inbound texts.
pub struct InboundGroup {
    tx: Transaction<'static, Any>,
    handled: Vec<Handled>,
}

/// What a text turned out to be, written to its row for the whole group at once when the group commits.
struct Handled {
    inbound_id: i64,
    sender: &'static str,
    client_id: Option<i64>,
    staff_id: Option<i64>,
    action: String,
}

/// One inbound text being handled inside its group's transaction.
pub struct InboundTx<'g> {
    pub(super) tx: &'g mut AnyConnection,
    handled: &'g mut Vec<Handled>,
    pub inbound_id: i64,
    now: Timestamp,
    queued: QueuedWork,
}

/// What a text put in the outbox or opened, so the scheduler knows which of its lanes to wake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueuedWork {
    /// Crisis replies, pages, an escalation to page: the urgent lane's work.
    pub urgent: bool,
    /// Any other text.
    pub routine: bool,
}

impl Store {
    pub async fn begin_inbound_group(&self) -> Result<InboundGroup> {
        Ok(InboundGroup {
            tx: self.writer.begin().await?,
            handled: Vec::new(),
        })
    }
}

impl InboundGroup {
    /// Stores a group's texts; each one's id, or `None` for a `MessageSid` already received.
    pub async fn store(&mut self, texts: &[NewInbound<'_>]) -> Result<Vec<Option<i64>>> {
        let mut ids = std::collections::HashMap::with_capacity(texts.len());
        for chunk in in_chunks(texts) {
            // `WHERE true`: without it SQLite would read `ON CONFLICT` as a join's `ON` (a documented
            // ambiguity of `INSERT … SELECT` with an upsert clause).
            let sql = format!(
                "WITH arriving (sid, from_phone, to_phone, body, risk_tier, risk_matches, opt_out_type, received_at) \
                 AS (VALUES {}) \
                 INSERT INTO inbound_messages (message_sid, from_phone, to_phone, body, risk_tier, risk_matches, \
                 opt_out_type, received_at, sender, action) \
                 SELECT sid, from_phone, to_phone, body, risk_tier, risk_matches, opt_out_type, received_at, \
                 'unknown', 'received' FROM arriving WHERE true \
                 ON CONFLICT (message_sid) DO NOTHING RETURNING id, message_sid",
                value_rows(chunk.len(), 8)
            );
            let mut insert = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
            for text in chunk {
                insert = insert
                    .bind(text.message_sid)
                    .bind(text.from_phone)
                    .bind(text.to_phone)
                    .bind(text.body)
                    .bind(text.risk_tier)
                    .bind(text.risk_matches)
                    .bind(text.opt_out_type)
                    .bind(unix(text.received_at));
            }
            ids.extend(
                insert
                    .fetch_all(&mut *self.tx)
                    .await?
                    .into_iter()
                    .map(|(id, sid)| (sid, id)),
            );
        }
        // A MessageSid twice in one group is stored once: the first text gets the id, the second is a duplicate.
        Ok(texts.iter().map(|text| ids.remove(text.message_sid)).collect())
    }

    /// Who sent texts from each of `phones` (see [`Sender`]), counting texts received after `since`.
    pub async fn senders(
        &mut self,
        phones: &[&str],
        now: Timestamp,
        window: SignedDuration,
    ) -> Result<std::collections::HashMap<String, Sender>> {
        let mut senders = std::collections::HashMap::with_capacity(phones.len());
        for chunk in in_chunks(phones) {
            senders.extend(senders_of(&mut self.tx, chunk, now, window).await?);
        }
        Ok(senders)
    }

    /// Opens the handling of the stored text `inbound_id`, received at `now`.
    pub fn text(&mut self, inbound_id: i64, now: Timestamp) -> InboundTx<'_> {
        InboundTx {
            tx: &mut self.tx,
            handled: &mut self.handled,
            inbound_id,
            now,
            queued: QueuedWork::default(),
        }
    }

    /// Records what every text in the group turned out to be and commits: one durable write for all.
    pub async fn commit(mut self) -> Result<()> {
        for chunk in in_chunks(&self.handled) {
            let sql = format!(
                "WITH handled (id, sender, client_id, staff_id, action) AS (VALUES {}) \
                 UPDATE inbound_messages SET sender = handled.sender, client_id = handled.client_id, \
                 staff_id = handled.staff_id, action = handled.action FROM handled WHERE inbound_messages.id = handled.id",
                value_rows(chunk.len(), 5)
            );
            let mut update = sqlx::query(sqlx::AssertSqlSafe(sql));
            for done in chunk {
                update = update
                    .bind(done.inbound_id)
                    .bind(done.sender)
                    .bind(done.client_id)
                    .bind(done.staff_id)
                    .bind(done.action.as_str());
            }
            update.execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

impl InboundTx<'_> {
    /// When the text was received; every write in this transaction is stamped with it.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// What this text put in the outbox or opened: only that gives the scheduler anything to do sooner than
    /// it planned.
    pub fn queued_work(&self) -> QueuedWork {
        self.queued
    }

    /// Who sent the text from `phone`, as things stand now, counting texts within `window`.
    pub async fn sender(&mut self, phone: &str, window: SignedDuration) -> Result<Sender> {
        let mut found = senders_of(self.tx, &[phone], self.now, window).await?;
        found
            .pop()
            .map(|(_, sender)| sender)
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    pub async fn client_by_id(&mut self, id: i64) -> Result<Option<ClientRecord>> {
        let row: Option<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(ClientRecord::try_from).transpose()
    }

    /// The parties to this client's escalations, for the access rule (see [`Store::escalation_parties`]).
    pub async fn escalation_parties(&mut self, client_id: i64) -> Result<Vec<crate::access::EscalationParties>> {
        super::escalations::escalation_parties(self.tx, client_id, self.now).await
    }

    /// Texts of `kind` planned to `phone` within `window`, for rate-limiting automatic replies.
    pub async fn recent_replies(&mut self, phone: &str, kind: MessageKind, window: SignedDuration) -> Result<i64> {
        let count =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE to_phone = $1 AND kind = $2 AND planned_at > $3")
                .bind(phone)
                .bind(kind.as_str())
                .bind(unix(self.now - window))
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(count)
    }

    /// Opts a client out and cancels every text still waiting for them.
    pub async fn opt_out_client(&mut self, client_id: i64) -> Result<()> {
        opt_out(self.tx, client_id, "client opted out", self.now).await
    }

    /// Subscribes an opted-out client again; scheduled texts resume from the next step.
    pub async fn opt_in_client(&mut self, client_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE clients SET status = 'active', opted_out_at = NULL, updated_at = $1 \
             WHERE id = $2 AND status = 'opted_out'",
        )
        .bind(unix(self.now))
        .bind(client_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_staff_opted_out(&mut self, staff_id: i64, opted_out: bool) -> Result<()> {
        sqlx::query("UPDATE staff SET opted_out_at = $1 WHERE id = $2")
            .bind(opted_out.then(|| unix(self.now)))
            .bind(staff_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn enqueue(&mut self, text: &NewText) -> Result<Option<i64>> {
        self.enqueue_after(text, None).await
    }

    /// [`InboundTx::enqueue`] for a text that waits for the one it `follows` (see `insert_text_after`).
    pub(super) async fn enqueue_after(&mut self, text: &NewText, follows: Option<i64>) -> Result<Option<i64>> {
        let id = insert_text_after(self.tx, text, follows, self.now).await?;
        if id.is_some() {
            if text.kind.is_urgent() {
                self.queued.urgent = true;
            } else {
                self.queued.routine = true;
            }
        }
        Ok(id)
    }

    /// Opens an escalation for this text, due to page its first step now. Returns its id and reply code.
    pub async fn open_escalation(&mut self, client_id: Option<i64>, from_phone: &str) -> Result<(i64, String)> {
        let code = self.free_reply_code().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO escalations (code, inbound_id, client_id, from_phone, status, step, round, next_action_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', 0, 0, $5, $5, $5) RETURNING id",
        )
        .bind(&code)
        .bind(self.inbound_id)
        .bind(client_id)
        .bind(from_phone)
        .bind(unix(self.now))
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query(
            "INSERT INTO escalation_events (escalation_id, kind, detail, at) VALUES ($1, 'opened', 'crisis text received', $2)",
        )
        .bind(id)
        .bind(unix(self.now))
        .execute(&mut *self.tx)
        .await?;
        self.queued.urgent = true;
        Ok((id, code))
    }

    /// Asks the index about a few random four-digit codes rather than listing every open escalation under
    /// the write lock; only when all of them are taken (half the codes open: odds of 1 in 256) does it list.
    async fn free_reply_code(&mut self) -> Result<String> {
        let candidates: Vec<String> = (0..REPLY_CODE_CANDIDATES)
            .map(|_| fastrand::u32(FOUR_DIGITS).to_string())
            .collect();
        let mut probe = sqlx::query_scalar::<_, String>(
            "SELECT code FROM escalations WHERE status = 'open' AND code IN ($1, $2, $3, $4, $5, $6, $7, $8)",
        );
        for candidate in &candidates {
            probe = probe.bind(candidate);
        }
        let taken = probe.fetch_all(&mut *self.tx).await?;
        if let Some(free) = candidates.into_iter().find(|candidate| !taken.contains(candidate)) {
            return Ok(free);
        }
        let open_codes: Vec<String> = sqlx::query_scalar("SELECT code FROM escalations WHERE status = 'open'")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(reply_code(&open_codes))
    }

    pub async fn open_notice(&mut self, client_id: Option<i64>, staff_id: Option<i64>, reason: &str) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO notices (inbound_id, client_id, staff_id, reason, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(self.inbound_id)
        .bind(client_id)
        .bind(staff_id)
        .bind(reason)
        .bind(unix(self.now))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    /// Marks the client's unseen concern notices seen: a staff member has just answered the client, so nobody
    /// needs to be told of a concern somebody already took up (`TETHER_CONCERN_UNSEEN_HOURS`).
    pub async fn mark_client_notices_seen(&mut self, client_id: i64) -> Result<u64> {
        let marked = sqlx::query("UPDATE notices SET seen_at = $1 WHERE client_id = $2 AND seen_at IS NULL")
            .bind(unix(self.now))
            .bind(client_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(marked.rows_affected())
    }

    /// Acknowledges the open escalation with `code` on behalf of `staff_id`.
    pub async fn acknowledge_code(&mut self, code: &str, staff_id: i64) -> Result<AckOutcome> {
        acknowledge(self.tx, code, staff_id, self.now).await
    }

    /// The reply code of the latest open escalation this staff member was paged for.
    pub async fn latest_code_paged_to(&mut self, staff_id: i64) -> Result<Option<String>> {
        let code = sqlx::query_scalar(
            "SELECT e.code FROM escalations e JOIN escalation_events ev ON ev.escalation_id = e.id \
             WHERE ev.staff_id = $1 AND ev.kind = 'page' AND e.status = 'open' ORDER BY ev.id DESC LIMIT 1",
        )
        .bind(staff_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(code)
    }

    /// Questions reminders asked this client that are still open: the reminder went out, the window has not
    /// closed, nobody answered. Latest first.
    pub async fn open_prompts(&mut self, client_id: i64) -> Result<Vec<OpenPrompt>> {
        let prompts = sqlx::query_as(
            "SELECT p.id, p.kind, p.appointment_id, p.medication_id, p.opens_at FROM prompts p \
             JOIN outbox o ON o.id = p.outbox_id \
             WHERE p.client_id = $1 AND p.answered_at IS NULL AND p.opens_at <= $2 AND p.closes_at > $2 \
             AND o.status IN ('sent', 'delivered') ORDER BY p.opens_at DESC, p.id DESC",
        )
        .bind(client_id)
        .bind(unix(self.now))
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(prompts)
    }

    pub async fn answer_prompt(&mut self, prompt_id: i64, answer: &str) -> Result<()> {
        sqlx::query("UPDATE prompts SET answered_at = $1, answer = $2 WHERE id = $3")
            .bind(unix(self.now))
            .bind(answer)
            .bind(prompt_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Marks an appointment confirmed (or asked to be moved) and returns when it starts.
    /// Records a confirmation or a request for another time; answers the appointment's start and kind, or
    /// `None` when it is no longer scheduled.
    pub async fn mark_appointment(
        &mut self,
        appointment_id: i64,
        confirmed: bool,
    ) -> Result<Option<(Timestamp, String)>> {
        let column = if confirmed {
            "confirmed_at"
        } else {
            "reschedule_requested_at"
        };
        let row: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE appointments SET {column} = $1, updated_at = $1 WHERE id = $2 AND status = 'scheduled' \
             RETURNING starts_at, kind"
        )))
        .bind(unix(self.now))
        .bind(appointment_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|(starts_at, kind)| (instant(starts_at), kind)))
    }

    /// Gives the appointment's reminders not yet sent a new wording (after a confirmation they no longer ask
    /// for one).
    pub async fn reword_pending_reminders(&mut self, appointment_id: i64, body: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET body = $1, updated_at = $2 WHERE appointment_id = $3 \
             AND kind = 'appointment_reminder' AND status = 'pending'",
        )
        .bind(body)
        .bind(unix(self.now))
        .bind(appointment_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn open_task(
        &mut self,
        client_id: i64,
        kind: &str,
        appointment_id: Option<i64>,
        detail: &str,
    ) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO tasks (client_id, kind, inbound_id, appointment_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(client_id)
        .bind(kind)
        .bind(self.inbound_id)
        .bind(appointment_id)
        .bind(detail)
        .bind(unix(self.now))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    /// Records what the text turned out to be; written, and durable, when its group commits.
    pub fn finish(self, sender: &'static str, client_id: Option<i64>, staff_id: Option<i64>, action: String) {
        self.handled.push(Handled {
            inbound_id: self.inbound_id,
            sender,
            client_id,
            staff_id,
            action,
        });
    }
}

/// One statement for who sent texts from `phones`: a row per number, whether or not anyone has it, with
/// the texts from it within `window` of `now` and whether any reminder waits for its answer.
async fn senders_of(
    conn: &mut AnyConnection,
    phones: &[&str],
    now: Timestamp,
    window: SignedDuration,
) -> Result<Vec<(String, Sender)>> {
    let since_parameter = phones.len() + 1;
    let now_parameter = phones.len() + 2;
    let sql = format!(
        "WITH phones (from_phone) AS (VALUES {}) \
         SELECT phones.from_phone, (SELECT COUNT(*) FROM inbound_messages m \
         WHERE m.from_phone = phones.from_phone AND m.received_at > ${since_parameter}) AS recent_texts, \
         CASE WHEN EXISTS (SELECT 1 FROM prompts p WHERE p.client_id = c.id AND p.answered_at IS NULL \
         AND p.closes_at > ${now_parameter} AND p.opens_at <= ${now_parameter}) THEN 1 ELSE 0 END AS may_have_open_prompts, \
         c.*, s.id AS staff_id, s.name AS staff_name, s.phone AS staff_phone, s.opted_out_at AS staff_opted_out_at, \
         p.id AS peer_id, p.name AS peer_name, p.phone AS peer_phone, p.opted_out_at AS peer_opted_out_at \
         FROM phones \
         LEFT JOIN (SELECT {CLIENT_COLUMNS} FROM clients) AS c ON c.phone = phones.from_phone \
         LEFT JOIN staff s ON s.phone = phones.from_phone AND c.id IS NULL \
         LEFT JOIN staff p ON p.id = c.assigned_staff_id",
        value_rows(phones.len(), 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for phone in phones {
        query = query.bind(*phone);
    }
    let rows = query
        .bind(unix(now - window))
        .bind(unix(now))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let client = match row.try_get::<Option<i64>, _>("id")? {
                Some(_) => Some(ClientRecord::try_from(ClientRow::from_row(row)?)?),
                None => None,
            };
            let sender = Sender {
                client,
                staff: staff_in(row, "staff")?,
                peer: staff_in(row, "peer")?,
                recent_texts: row.try_get("recent_texts")?,
                may_have_open_prompts: row.try_get::<i64, _>("may_have_open_prompts")? == 1,
            };
            Ok((row.try_get("from_phone")?, sender))
        })
        .collect()
}

/// The staff member in the `{prefix}_…` columns of a row, if the join found one.
fn staff_in(row: &sqlx::any::AnyRow, prefix: &str) -> Result<Option<StaffMember>> {
    let Some(id) = row.try_get::<Option<i64>, _>(format!("{prefix}_id").as_str())? else {
        return Ok(None);
    };
    Ok(Some(StaffMember {
        id,
        name: row.try_get(format!("{prefix}_name").as_str())?,
        phone: row.try_get(format!("{prefix}_phone").as_str())?,
        opted_out: row
            .try_get::<Option<i64>, _>(format!("{prefix}_opted_out_at").as_str())?
            .is_some(),
    }))
}

/// Acknowledges the open escalation with reply code `code`, recording who and when.
pub(super) async fn acknowledge(
    tx: &mut AnyConnection,
    code: &str,
    staff_id: i64,
    now: Timestamp,
) -> Result<AckOutcome> {
    let acknowledged: Option<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
        "UPDATE escalations SET status = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, \
         next_action_at = NULL, updated_at = $2 WHERE status = 'open' AND code = $3 \
         RETURNING id, client_id, exhausted_reason",
    )
    .bind(staff_id)
    .bind(unix(now))
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((escalation_id, client_id, exhausted_reason)) = acknowledged {
        // The audit log recorded when this escalation fell to the fallback numbers; it records the end too,
        // however the acknowledgement came (an SMS has no request of its own to be audited).
        if exhausted_reason.is_some() {
            let actor = format!("staff {staff_id}");
            insert_escalation_audit(&mut *tx, &actor, escalation_id, "escalation_acknowledged", "ok", now).await?;
        }
        sqlx::query(
            "INSERT INTO escalation_events (escalation_id, kind, staff_id, detail, at) \
             VALUES ($1, 'acknowledged', $2, 'acknowledged', $3)",
        )
        .bind(escalation_id)
        .bind(staff_id)
        .bind(unix(now))
        .execute(&mut *tx)
        .await?;
        return Ok(AckOutcome::Acknowledged {
            escalation_id,
            code: code.to_owned(),
            reference: reference(escalation_id, client_id),
        });
    }
    let earlier: Option<i64> =
        sqlx::query_scalar("SELECT id FROM escalations WHERE status <> 'open' AND code = $1 LIMIT 1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(match earlier {
        Some(_) => AckOutcome::AlreadyAcknowledged { code: code.to_owned() },
        None => AckOutcome::UnknownCode,
    })
}

const FOUR_DIGITS: std::ops::Range<u32> = 1_000..10_000;
/// As many as the probe in `InboundTx::free_reply_code` has placeholders.
const REPLY_CODE_CANDIDATES: usize = 8;

/// A reply code no open escalation has. Four digits are easy to type on a phone; collisions with open
/// escalations are avoided here and forbidden by a unique index. Once half the four-digit codes are taken
/// (thousands of crises open at once, as in a load test) codes get six digits, so the search always ends.
fn reply_code(open_codes: &[String]) -> String {
    let range = if open_codes.len() < 4_500 {
        FOUR_DIGITS
    } else {
        100_000..1_000_000
    };
    loop {
        let candidate = fastrand::u32(range.clone()).to_string();
        if !open_codes.contains(&candidate) {
            return candidate;
        }
    }
}

/// How staff texts name a client: the client id, or the escalation for a number that is no client.
pub fn reference(escalation_id: i64, client_id: Option<i64>) -> String {
    client_id.map_or_else(|| format!("unknown-{escalation_id}"), |id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_never_run_out() {
        let all_four_digit: Vec<String> = (1_000..10_000).map(|code: u32| code.to_string()).collect();
        let code = reply_code(&all_four_digit);
        assert_eq!(code.len(), 6, "{code}");
        assert_eq!(reply_code(&[]).len(), 4);
    }
}
