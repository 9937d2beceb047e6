//! One inbound text, processed as one unit: the text is stored first (a duplicate `MessageSid` writes
//! nothing and stops there), then every effect — opt-out, escalation, notice, replies — is written with it,
//! so a crash leaves either all of it or none, and the provider's retry finishes the job.
//!
//! Texts arriving together are handled in one [`InboundGroup`]: one database transaction, each text in its
//! own savepoint, one durable commit for all. A text whose handling fails rolls back to its savepoint alone.

use jiff::{SignedDuration, Timestamp};
use sqlx::{Acquire, Any, Transaction};

use super::clients::{CLIENT_COLUMNS, ClientRow, opt_out};
use super::staff::staff_member;
use super::{ClientRecord, NewText, OpenPrompt, Result, Store, instant, outbox::insert_text, unix};
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

/// The transaction shared by a group of inbound texts.
pub struct InboundGroup {
    tx: Transaction<'static, Any>,
}

/// An open savepoint on one inbound text, inside its group.
pub struct InboundTx<'g> {
    tx: Transaction<'g, Any>,
    pub inbound_id: i64,
    now: Timestamp,
}

impl Store {
    pub async fn begin_inbound_group(&self) -> Result<InboundGroup> {
        Ok(InboundGroup {
            tx: self.pool.begin().await?,
        })
    }
}

impl InboundGroup {
    /// Commits every text finished in the group: one durable write for all of them.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Stores an inbound text and opens its savepoint; `None` if this `MessageSid` was already received.
    pub async fn begin_inbound(&mut self, inbound: &NewInbound<'_>) -> Result<Option<InboundTx<'_>>> {
        let mut tx = (&mut self.tx).begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO inbound_messages (message_sid, from_phone, to_phone, body, sender, risk_tier, risk_matches, \
             action, opt_out_type, received_at) VALUES ($1, $2, $3, $4, 'unknown', $5, $6, 'received', $7, $8) \
             ON CONFLICT (message_sid) DO NOTHING RETURNING id",
        )
        .bind(inbound.message_sid)
        .bind(inbound.from_phone)
        .bind(inbound.to_phone)
        .bind(inbound.body)
        .bind(inbound.risk_tier)
        .bind(inbound.risk_matches)
        .bind(inbound.opt_out_type)
        .bind(unix(inbound.received_at))
        .fetch_optional(&mut *tx)
        .await?;
        match id {
            Some(inbound_id) => Ok(Some(InboundTx {
                tx,
                inbound_id,
                now: inbound.received_at,
            })),
            None => {
                tx.rollback().await?;
                Ok(None)
            }
        }
    }
}

impl InboundTx<'_> {
    /// When the text was received; every write in this transaction is stamped with it.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub async fn client_by_phone(&mut self, phone: &str) -> Result<Option<ClientRecord>> {
        let row: Option<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE phone = $1"
        )))
        .bind(phone)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(ClientRecord::from))
    }

    pub async fn client_by_id(&mut self, id: i64) -> Result<Option<ClientRecord>> {
        let row: Option<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(ClientRecord::from))
    }

    pub async fn staff_by_phone(&mut self, phone: &str) -> Result<Option<StaffMember>> {
        staff_where(&mut self.tx, "phone = $1", phone).await
    }

    pub async fn staff_by_id(&mut self, id: i64) -> Result<Option<StaffMember>> {
        staff_member(&mut self.tx, id).await
    }

    /// Texts received from `phone` in the last `window`, this one included: a loop with another bot shows
    /// up here, and automatic replies stop.
    pub async fn recent_from(&mut self, phone: &str, window: SignedDuration) -> Result<i64> {
        let count =
            sqlx::query_scalar("SELECT COUNT(*) FROM inbound_messages WHERE from_phone = $1 AND received_at > $2")
                .bind(phone)
                .bind(unix(self.now - window))
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(count)
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
        opt_out(&mut self.tx, client_id, "client opted out", self.now).await
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
        insert_text(&mut self.tx, text, self.now).await
    }

    /// Opens an escalation for this text, due to page its first step now. Returns its id and reply code.
    pub async fn open_escalation(&mut self, client_id: Option<i64>, from_phone: &str) -> Result<(i64, String)> {
        let open_codes: Vec<String> = sqlx::query_scalar("SELECT code FROM escalations WHERE status = 'open'")
            .fetch_all(&mut *self.tx)
            .await?;
        // Four digits are easy to type on a phone; collisions with open escalations are avoided here and
        // forbidden by a unique index.
        let code = loop {
            let candidate = fastrand::u32(1000..10_000).to_string();
            if !open_codes.contains(&candidate) {
                break candidate;
            }
        };
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
        Ok((id, code))
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

    /// Acknowledges the open escalation with `code` on behalf of `staff_id`.
    pub async fn acknowledge_code(&mut self, code: &str, staff_id: i64) -> Result<AckOutcome> {
        acknowledge(&mut self.tx, code, staff_id, self.now).await
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
    pub async fn mark_appointment(&mut self, appointment_id: i64, confirmed: bool) -> Result<Option<Timestamp>> {
        let column = if confirmed {
            "confirmed_at"
        } else {
            "reschedule_requested_at"
        };
        let starts_at: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE appointments SET {column} = $1, updated_at = $1 WHERE id = $2 AND status = 'scheduled' RETURNING starts_at"
        )))
        .bind(unix(self.now))
        .bind(appointment_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(starts_at.map(instant))
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

    /// Records what was done and closes the text's savepoint; it is durable once its group commits.
    pub async fn finish(
        mut self,
        sender: &str,
        client_id: Option<i64>,
        staff_id: Option<i64>,
        action: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE inbound_messages SET sender = $1, client_id = $2, staff_id = $3, action = $4 WHERE id = $5",
        )
        .bind(sender)
        .bind(client_id)
        .bind(staff_id)
        .bind(action)
        .bind(self.inbound_id)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

async fn staff_where(tx: &mut Transaction<'_, Any>, condition: &str, value: &str) -> Result<Option<StaffMember>> {
    let row: Option<(i64, String, String, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, name, phone, opted_out_at FROM staff WHERE {condition}"
    )))
    .bind(value)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id, name, phone, opted_out_at)| StaffMember {
        id,
        name,
        phone,
        opted_out: opted_out_at.is_some(),
    }))
}

/// Acknowledges the open escalation with reply code `code`, recording who and when.
pub(super) async fn acknowledge(
    tx: &mut Transaction<'_, Any>,
    code: &str,
    staff_id: i64,
    now: Timestamp,
) -> Result<AckOutcome> {
    let acknowledged: Option<(i64, Option<i64>)> = sqlx::query_as(
        "UPDATE escalations SET status = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, \
         next_action_at = NULL, updated_at = $2 WHERE status = 'open' AND code = $3 RETURNING id, client_id",
    )
    .bind(staff_id)
    .bind(unix(now))
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((escalation_id, client_id)) = acknowledged {
        sqlx::query(
            "INSERT INTO escalation_events (escalation_id, kind, staff_id, detail, at) \
             VALUES ($1, 'acknowledged', $2, 'acknowledged', $3)",
        )
        .bind(escalation_id)
        .bind(staff_id)
        .bind(unix(now))
        .execute(&mut **tx)
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
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match earlier {
        Some(_) => AckOutcome::AlreadyAcknowledged { code: code.to_owned() },
        None => AckOutcome::UnknownCode,
    })
}

/// How staff texts name a client: the client id, or the escalation for a number that is no client.
pub fn reference(escalation_id: i64, client_id: Option<i64>) -> String {
    client_id.map_or_else(|| format!("unknown-{escalation_id}"), |id| id.to_string())
}
