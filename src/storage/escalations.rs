//! Escalations: the paging chain's durable state, its event log, and concern notices.

use jiff::Timestamp;
use serde::Serialize;

use super::access::{SERVICE_ACTOR, insert_escalation_audit};
use super::inbound::{AckOutcome, acknowledge, reference};
use super::{NewText, Result, Store, instant, optional_instant, outbox::insert_text, unix};
use crate::access::{EscalationParties, HANDLER_FOLLOW_UP};
use crate::domain::crisis_hold::{hold_ends_at, hold_ran_out};

/// An open escalation whose next step is due.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueEscalation {
    pub id: i64,
    pub code: String,
    pub client_id: Option<i64>,
    pub step: i64,
    pub round: i64,
    pub page_batch: i64,
    pub exhausted_at: Option<i64>,
    /// `exhausted` or `unreachable` once the escalation has fallen to the fallback numbers.
    pub exhausted_reason: Option<String>,
}

impl DueEscalation {
    pub fn reference(&self) -> String {
        reference(self.id, self.client_id)
    }
}

/// Something that happened to an escalation, for its log.
#[derive(Debug, Clone)]
pub struct EscalationEvent {
    pub kind: &'static str,
    pub staff_id: Option<i64>,
    pub detail: String,
}

/// One move of the chain, written atomically: who is paged (if anyone), what was skipped, and when the next
/// step is due. Guarded by the position and the page count read, so two instances never both move the same
/// escalation, even when the move re-pages the fallback numbers without changing the position.
#[derive(Debug, Clone)]
pub struct EscalationAdvance {
    pub id: i64,
    pub from: (i64, i64),
    /// `page_batch` as read.
    pub page_batch: i64,
    pub to: (i64, i64),
    pub next_action_at: Option<Timestamp>,
    /// Everyone paged by this move (one step's person, or every fallback number), as one batch.
    pub pages: Vec<EscalationPage>,
    pub events: Vec<EscalationEvent>,
    /// The escalation's exhausted mark after the move: the reason and since when (`None` clears it).
    pub exhausted: Option<(&'static str, Timestamp)>,
    /// Set when this move is the one that finds the chain exhausted or nobody reachable: recorded in the
    /// audit log as `escalation_{reason}` with this outcome.
    pub audit_outcome: Option<&'static str>,
}

/// One page of a move, with what its log entry says.
#[derive(Debug, Clone)]
pub struct EscalationPage {
    pub staff_id: i64,
    pub text: NewText,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    pub id: i64,
    /// `null` for callers who may not see reply codes (viewers).
    pub code: Option<String>,
    pub client_id: Option<i64>,
    pub status: String,
    pub step: i64,
    pub round: i64,
    pub next_action_at: Option<String>,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<String>,
    pub created_at: String,
    /// When it fell to the fallback numbers, if it did: `exhausted_reason` says why (`exhausted`: every
    /// step paged and nobody acknowledged; `unreachable`: nobody in the policy could be paged).
    pub exhausted_at: Option<String>,
    pub exhausted_reason: Option<String>,
    /// A client's escalation holds their routine texts until it is resolved or this moment, whichever
    /// comes first (`null` for an escalation with no client record).
    pub hold_ends_at: Option<String>,
    /// The hold reached its 12-hour cap before anyone resolved the escalation: the client's routine texts
    /// go again although the crisis was never closed.
    pub hold_ran_out: bool,
    pub events: Vec<EventView>,
    /// For the access rule: who was paged, who took it, when it was resolved.
    #[serde(skip)]
    pub parties: EscalationParties,
    /// The client's assigned peer, for the access rule.
    #[serde(skip)]
    pub assigned_staff_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub kind: String,
    pub staff_id: Option<i64>,
    pub outbox_id: Option<i64>,
    pub detail: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub client_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub reason: String,
    pub created_at: String,
    pub seen_at: Option<String>,
    /// Who was texted because nobody marked it seen in time (`on_call`, `fallback`, or `nobody`), if it
    /// came to that, and when.
    pub unseen_outcome: Option<String>,
    pub unseen_handled_at: Option<String>,
}

/// A concern notice nobody has marked seen, whose time to be texted to whoever is on call has come.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnseenNotice {
    pub id: i64,
    pub client_id: Option<i64>,
    pub inbound_id: i64,
}

impl UnseenNotice {
    /// The same reference the notice's first text carried: the client id, or the inbound text for a number
    /// that is no client.
    pub fn reference(&self) -> String {
        self.client_id
            .map_or_else(|| format!("unknown-{}", self.inbound_id), |id| id.to_string())
    }
}

/// Who an unseen notice went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnseenOutcome {
    /// The first person reachable in the escalation policy right now.
    OnCall,
    /// Nobody in the policy was reachable: the `TETHER_FALLBACK_PAGE_TO` numbers.
    Fallback,
    /// Nobody at all; logged as an error.
    Nobody,
}

impl UnseenOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            UnseenOutcome::OnCall => "on_call",
            UnseenOutcome::Fallback => "fallback",
            UnseenOutcome::Nobody => "nobody",
        }
    }
}

/// The filter of a follow-up list (notices, signals, tasks) by the client's assigned peer, with the
/// parameter `$flag` saying whether to filter (0 or 1) and the next one the staff id.
pub(super) fn assigned_to_filter(flag: usize) -> String {
    format!(
        "(${flag} = 0 OR client_id IN (SELECT id FROM clients WHERE assigned_staff_id = ${}))",
        flag + 1
    )
}

fn rfc3339(seconds: Option<i64>) -> Option<String> {
    optional_instant(seconds).map(|t| t.to_string())
}

impl Store {
    pub async fn due_escalations(&self, now: Timestamp, limit: i64) -> Result<Vec<DueEscalation>> {
        let rows = sqlx::query_as(
            "SELECT id, code, client_id, step, round, page_batch, exhausted_at, exhausted_reason FROM escalations \
             WHERE status = 'open' AND next_action_at <= $1 ORDER BY next_action_at LIMIT $2",
        )
        .bind(unix(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Applies one move of a chain. Returns false, writing nothing, if another instance moved it first.
    pub async fn advance_escalation(&self, advance: &EscalationAdvance, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let batch_increment = i64::from(!advance.pages.is_empty());
        let (exhausted_reason, exhausted_at) = match advance.exhausted {
            Some((reason, since)) => (Some(reason), Some(unix(since))),
            None => (None, None),
        };
        let moved: Option<i64> = sqlx::query_scalar(
            "UPDATE escalations SET step = $1, round = $2, next_action_at = $3, page_batch = page_batch + $4, \
             updated_at = $5, exhausted_reason = $6, exhausted_at = $7 \
             WHERE id = $8 AND step = $9 AND round = $10 AND page_batch = $11 AND status = 'open' \
             RETURNING page_batch",
        )
        .bind(advance.to.0)
        .bind(advance.to.1)
        .bind(advance.next_action_at.map(unix))
        .bind(batch_increment)
        .bind(unix(now))
        .bind(exhausted_reason)
        .bind(exhausted_at)
        .bind(advance.id)
        .bind(advance.from.0)
        .bind(advance.from.1)
        .bind(advance.page_batch)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(batch) = moved else {
            tx.rollback().await?;
            return Ok(false);
        };
        for event in &advance.events {
            sqlx::query(
                "INSERT INTO escalation_events (escalation_id, kind, staff_id, detail, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(advance.id)
            .bind(event.kind)
            .bind(event.staff_id)
            .bind(&event.detail)
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
        }
        for page in &advance.pages {
            let outbox_id = insert_text(&mut tx, &page.text, now).await?;
            sqlx::query(
                "INSERT INTO escalation_events (escalation_id, kind, staff_id, outbox_id, page_batch, detail, at) \
                 VALUES ($1, 'page', $2, $3, $4, $5, $6)",
            )
            .bind(advance.id)
            .bind(page.staff_id)
            .bind(outbox_id)
            .bind(batch)
            .bind(&page.detail)
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
        }
        if let (Some(outcome), Some((reason, _))) = (advance.audit_outcome, advance.exhausted) {
            let action = format!("escalation_{reason}");
            insert_escalation_audit(&mut tx, SERVICE_ACTOR, advance.id, &action, outcome, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A page could not be delivered: if it was the chain's latest page, the next step is due now instead of
    /// after the wait. Returns whether the chain was moved up. A failed page to a fallback number is logged
    /// but moves nothing: there is no step after the fallback, and re-paging every fallback number at once
    /// because one of them failed would loop on a number that can never be reached.
    pub async fn page_failed(&self, outbox_id: i64, reason: &str, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let latest: Option<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT e.id, e.page_batch, e.exhausted_reason FROM escalations e JOIN escalation_events ev ON ev.escalation_id = e.id \
             WHERE ev.outbox_id = $1 AND ev.kind = 'page' AND ev.page_batch = e.page_batch AND e.status = 'open'",
        )
        .bind(outbox_id)
        .fetch_optional(&mut *tx)
        .await?;
        let moved: Option<i64> = match latest {
            Some((escalation_id, batch, None)) => {
                // Guarded again: another instance may have moved the chain on since the look-up.
                sqlx::query_scalar(
                    "UPDATE escalations SET next_action_at = $1, updated_at = $1 WHERE id = $2 AND page_batch = $3 \
                     AND status = 'open' AND exhausted_reason IS NULL RETURNING id",
                )
                .bind(unix(now))
                .bind(escalation_id)
                .bind(batch)
                .fetch_optional(&mut *tx)
                .await?
            }
            Some((escalation_id, _, Some(_))) => {
                sqlx::query(
                    "INSERT INTO escalation_events (escalation_id, kind, outbox_id, detail, at) \
                     VALUES ($1, 'page_failed', $2, $3, $4)",
                )
                .bind(escalation_id)
                .bind(outbox_id)
                .bind(format!(
                    "{reason}; the fallback numbers are paged again at the usual time"
                ))
                .bind(unix(now))
                .execute(&mut *tx)
                .await?;
                None
            }
            None => None,
        };
        if let Some(escalation_id) = moved {
            sqlx::query(
                "INSERT INTO escalation_events (escalation_id, kind, outbox_id, detail, at) VALUES ($1, 'page_failed', $2, $3, $4)",
            )
            .bind(escalation_id)
            .bind(outbox_id)
            .bind(reason)
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(moved.is_some())
    }

    /// Acknowledges escalation `id` for `staff_id` (from the API). `None` if there is no such escalation.
    pub async fn acknowledge_escalation(&self, id: i64, staff_id: i64, now: Timestamp) -> Result<Option<AckOutcome>> {
        let mut tx = self.writer.begin().await?;
        // A no-op write first, so SQLite takes the write lock before the read.
        sqlx::query("UPDATE escalations SET updated_at = updated_at WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let code: Option<String> = sqlx::query_scalar("SELECT code FROM escalations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(code) = code else {
            tx.rollback().await?;
            return Ok(None);
        };
        let outcome = acknowledge(&mut tx, &code, staff_id, now).await?;
        tx.commit().await?;
        Ok(Some(outcome))
    }

    /// Closes an escalation; no more pages either way. Returns false if there is none, or it is closed.
    pub async fn resolve_escalation(&self, id: i64, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let resolved = sqlx::query(
            "UPDATE escalations SET status = 'resolved', resolved_at = $1, next_action_at = NULL, updated_at = $1 \
             WHERE id = $2 AND status <> 'resolved'",
        )
        .bind(unix(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if resolved {
            sqlx::query("INSERT INTO escalation_events (escalation_id, kind, detail, at) VALUES ($1, 'resolved', 'resolved', $2)")
                .bind(id)
                .bind(unix(now))
                .execute(&mut *tx)
                .await?;
            // The client's routine texts it held go now, each through the send-time rules again: quiet hours,
            // lateness, and any other escalation of theirs still open.
            sqlx::query(
                "UPDATE outbox SET send_at = $1, updated_at = $1, status_reason = $3 \
                 WHERE held_by_escalation = $2 AND status = 'pending' AND send_at > $1",
            )
            .bind(unix(now))
            .bind(id)
            .bind(format!(
                "held while crisis escalation {id} was open; released when it was resolved"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(resolved)
    }

    /// Adds a note to an escalation's log: who wrote it and what. False if there is no such escalation.
    pub async fn add_escalation_note(
        &self,
        id: i64,
        author: &str,
        staff_id: Option<i64>,
        text: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let added = sqlx::query(
            "INSERT INTO escalation_events (escalation_id, kind, staff_id, detail, at) \
             SELECT id, 'note', $2, $3, $4 FROM escalations WHERE id = $1",
        )
        .bind(id)
        .bind(staff_id)
        .bind(format!("{author}: {text}"))
        .bind(unix(now))
        .execute(&self.writer)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    /// Escalations, newest first, optionally only those with `status`, each with its event log.
    pub async fn escalations(&self, status: Option<&str>, now: Timestamp) -> Result<Vec<EscalationView>> {
        type Row = (
            i64,
            String,
            Option<i64>,
            String,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            i64,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.id, e.code, e.client_id, e.status, e.step, e.round, e.next_action_at, e.acknowledged_by, \
             e.acknowledged_at, e.created_at, e.exhausted_at, e.exhausted_reason, e.resolved_at, c.assigned_staff_id \
             FROM escalations e LEFT JOIN clients c ON c.id = e.client_id WHERE ($1 = '' OR e.status = $1) \
             ORDER BY e.id DESC LIMIT 500",
        )
        .bind(status.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut views = Vec::with_capacity(rows.len());
        for (
            id,
            code,
            client_id,
            status,
            step,
            round,
            next_action_at,
            acknowledged_by,
            acknowledged_at,
            created_at,
            exhausted_at,
            exhausted_reason,
            resolved_at,
            assigned_staff_id,
        ) in rows
        {
            type EventRow = (String, Option<i64>, Option<i64>, String, i64);
            let events: Vec<EventRow> = sqlx::query_as(
                "SELECT kind, staff_id, outbox_id, detail, at FROM escalation_events WHERE escalation_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let parties = EscalationParties {
                paged: events
                    .iter()
                    .filter(|(kind, ..)| kind == "page")
                    .filter_map(|(_, staff_id, ..)| *staff_id)
                    .collect(),
                acknowledged_by,
                resolved_at: optional_instant(resolved_at),
            };
            let opened_at = instant(created_at);
            let holds = client_id.is_some();
            views.push(EscalationView {
                hold_ends_at: holds.then(|| hold_ends_at(opened_at).to_string()),
                hold_ran_out: holds && hold_ran_out(opened_at, optional_instant(resolved_at), now),
                id,
                code: Some(code),
                client_id,
                status,
                step,
                round,
                next_action_at: rfc3339(next_action_at),
                acknowledged_by,
                acknowledged_at: rfc3339(acknowledged_at),
                created_at: rfc3339(Some(created_at)).unwrap_or_default(),
                exhausted_at: rfc3339(exhausted_at),
                exhausted_reason,
                events: events
                    .into_iter()
                    .map(|(kind, staff_id, outbox_id, detail, at)| EventView {
                        kind,
                        staff_id,
                        outbox_id,
                        detail,
                        at: rfc3339(Some(at)).unwrap_or_default(),
                    })
                    .collect(),
                parties,
                assigned_staff_id,
            });
        }
        Ok(views)
    }

    /// The parties to escalation `id` and its client's assigned peer, for the access rule; `None` if there
    /// is no such escalation.
    pub async fn escalation_with_parties(&self, id: i64) -> Result<Option<(EscalationParties, Option<i64>)>> {
        /// acknowledged_by, resolved_at, the client's assigned peer, and one staff member paged (a row per page)
        type Row = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.acknowledged_by, e.resolved_at, c.assigned_staff_id, ev.staff_id FROM escalations e \
             LEFT JOIN clients c ON c.id = e.client_id \
             LEFT JOIN escalation_events ev ON ev.escalation_id = e.id AND ev.kind = 'page' WHERE e.id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let Some(&(acknowledged_by, resolved_at, assigned_staff_id, _)) = rows.first() else {
            return Ok(None);
        };
        let parties = EscalationParties {
            paged: rows.iter().filter_map(|row| row.3).collect(),
            acknowledged_by,
            resolved_at: optional_instant(resolved_at),
        };
        Ok(Some((parties, assigned_staff_id)))
    }

    /// The parties to the escalations about `client_id` that can still give anyone access to the client.
    pub async fn escalation_parties(&self, client_id: i64, now: Timestamp) -> Result<Vec<EscalationParties>> {
        let mut conn = self.pool.acquire().await?;
        escalation_parties(&mut conn, client_id, now).await
    }

    /// Concern notices, newest first; with `assigned_to`, only those about that staff member's clients.
    pub async fn notices(&self, unseen_only: bool, assigned_to: Option<i64>) -> Result<Vec<NoticeView>> {
        type NoticeRow = (
            i64,
            Option<i64>,
            Option<i64>,
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, client_id, staff_id, reason, created_at, seen_at, unseen_outcome, unseen_handled_at \
             FROM notices \
             WHERE ($1 = 0 OR seen_at IS NULL) AND {} ORDER BY id DESC LIMIT 500",
            assigned_to_filter(2)
        )))
        .bind(i64::from(unseen_only))
        .bind(i64::from(assigned_to.is_some()))
        .bind(assigned_to.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, client_id, staff_id, reason, created_at, seen_at, unseen_outcome, unseen_handled_at)| {
                    NoticeView {
                        id,
                        client_id,
                        staff_id,
                        reason,
                        created_at: rfc3339(Some(created_at)).unwrap_or_default(),
                        seen_at: rfc3339(seen_at),
                        unseen_outcome,
                        unseen_handled_at: rfc3339(unseen_handled_at),
                    }
                },
            )
            .collect())
    }

    /// Notices still unseen that were opened at or before `opened_by` and have not been texted on for it.
    pub async fn unseen_notices_due(&self, opened_by: Timestamp, limit: i64) -> Result<Vec<UnseenNotice>> {
        let rows = sqlx::query_as(
            "SELECT id, client_id, inbound_id FROM notices \
             WHERE seen_at IS NULL AND unseen_outcome IS NULL AND created_at <= $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(unix(opened_by))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// When the oldest notice still waiting would be due, `unseen_for` after it was opened.
    pub async fn next_unseen_notice_due(&self, unseen_for: jiff::SignedDuration) -> Result<Option<Timestamp>> {
        let opened: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM notices WHERE seen_at IS NULL AND unseen_outcome IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(optional_instant(opened).map(|at| at + unseen_for))
    }

    /// Records what became of unseen notice `id` and queues its `texts`, all or nothing. The outcome is the
    /// claim: returns false, writing nothing, if the notice was seen meanwhile or another instance (or an
    /// earlier pass) has already handled it.
    pub async fn handle_unseen_notice(
        &self,
        id: i64,
        outcome: UnseenOutcome,
        texts: &[NewText],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let claimed = sqlx::query(
            "UPDATE notices SET unseen_outcome = $1, unseen_handled_at = $2 \
             WHERE id = $3 AND seen_at IS NULL AND unseen_outcome IS NULL",
        )
        .bind(outcome.as_str())
        .bind(unix(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            tx.rollback().await?;
            return Ok(false);
        }
        for text in texts {
            insert_text(&mut tx, text, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a notice seen. Returns false if there is no such notice (about one of `assigned_to`'s clients).
    pub async fn mark_notice_seen(&self, id: i64, assigned_to: Option<i64>, now: Timestamp) -> Result<bool> {
        self.mark_seen("notices", id, assigned_to, now).await
    }

    /// Marks a row of a follow-up list (notices, signals) seen; seeing it again keeps the first time. With
    /// `assigned_to`, only a row about one of that staff member's clients.
    pub(super) async fn mark_seen(
        &self,
        table: &'static str,
        id: i64,
        assigned_to: Option<i64>,
        now: Timestamp,
    ) -> Result<bool> {
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET seen_at = COALESCE(seen_at, $1) WHERE id = $2 AND {}",
            assigned_to_filter(3)
        )))
        .bind(unix(now))
        .bind(id)
        .bind(i64::from(assigned_to.is_some()))
        .bind(assigned_to.unwrap_or_default())
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }
}

/// The parties to the escalations about `client_id` that are open, or resolved so recently that their
/// handler may still follow up; the rule itself is [`crate::access::escalation_access`].
pub(super) async fn escalation_parties(
    conn: &mut sqlx::AnyConnection,
    client_id: i64,
    now: Timestamp,
) -> Result<Vec<EscalationParties>> {
    /// escalation id, acknowledged_by, resolved_at, and one staff member paged (a row per page)
    type PartyRow = (i64, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<PartyRow> = sqlx::query_as(
        "SELECT e.id, e.acknowledged_by, e.resolved_at, ev.staff_id FROM escalations e \
         LEFT JOIN escalation_events ev ON ev.escalation_id = e.id AND ev.kind = 'page' \
         WHERE e.client_id = $1 AND (e.resolved_at IS NULL OR e.resolved_at > $2) ORDER BY e.id",
    )
    .bind(client_id)
    .bind(unix(now - HANDLER_FOLLOW_UP))
    .fetch_all(&mut *conn)
    .await?;
    let mut parties: Vec<(i64, EscalationParties)> = Vec::new();
    for (id, acknowledged_by, resolved_at, paged) in rows {
        if parties.last().is_none_or(|(last, _)| *last != id) {
            parties.push((
                id,
                EscalationParties {
                    paged: Vec::new(),
                    acknowledged_by,
                    resolved_at: optional_instant(resolved_at),
                },
            ));
        }
        if let (Some((_, escalation)), Some(staff_id)) = (parties.last_mut(), paged) {
            escalation.paged.push(staff_id);
        }
    }
    Ok(parties.into_iter().map(|(_, escalation)| escalation).collect())
}
