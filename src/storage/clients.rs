//! Clients and their consent state.

use jiff::Timestamp;

use super::{Result, Store, StoreError, UniqueConstraint, instant, optional_instant, unix};
use crate::domain::{ClientStatus, FirstName, MessageKind, NewClient, OutboxStatus, PhoneNumber, TimeZoneName};

#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: i64,
    pub phone: PhoneNumber,
    pub first_name: FirstName,
    pub language: String,
    pub timezone: TimeZoneName,
    pub consented_at: Option<Timestamp>,
    pub consent_source: Option<String>,
    pub status: ClientStatus,
    pub opted_out_at: Option<Timestamp>,
    pub phone_invalid_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The peer a client's replies and concern notices go to.
    pub assigned_staff_id: Option<i64>,
}

/// A text a client sent.
#[derive(Debug, Clone)]
pub struct ReceivedText {
    pub id: i64,
    pub body: String,
    pub risk_tier: String,
    /// Unix seconds.
    pub received_at: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: i64,
    phone: String,
    first_name: String,
    language: String,
    timezone: String,
    consented_at: Option<i64>,
    consent_source: Option<String>,
    status: String,
    opted_out_at: Option<i64>,
    phone_invalid_at: Option<i64>,
    created_at: i64,
    assigned_staff_id: Option<i64>,
}

/// Every value was checked on its way in; one that no longer reads is a fault in the database, named with
/// the client's id (never the value: it may be a phone number).
impl TryFrom<ClientRow> for ClientRecord {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self> {
        let corrupt = |column: &str, why: String| StoreError::Corrupt(format!("client {}: {column}: {why}", row.id));
        Ok(Self {
            phone: PhoneNumber::parse(&row.phone).map_err(|why| corrupt("phone", why))?,
            first_name: FirstName::parse(&row.first_name).map_err(|why| corrupt("first_name", why))?,
            timezone: TimeZoneName::parse(&row.timezone).map_err(|why| corrupt("timezone", why))?,
            id: row.id,
            language: row.language,
            consented_at: optional_instant(row.consented_at),
            consent_source: row.consent_source,
            // The CHECK constraint admits only known values; an unknown one is treated as the safest.
            status: ClientStatus::parse(&row.status).unwrap_or(ClientStatus::OptedOut),
            opted_out_at: optional_instant(row.opted_out_at),
            phone_invalid_at: optional_instant(row.phone_invalid_at),
            created_at: instant(row.created_at),
            assigned_staff_id: row.assigned_staff_id,
        })
    }
}

/// What the dispatcher must know about a text's recipient at the moment of sending.
#[derive(Debug, Clone)]
pub struct SendTarget {
    pub status: ClientStatus,
    pub timezone: String,
    pub consented_at: Option<Timestamp>,
    pub phone_invalid: bool,
}

impl SendTarget {
    pub(super) fn from_columns(
        status: Option<String>,
        timezone: Option<String>,
        consented_at: Option<i64>,
        phone_invalid_at: Option<i64>,
    ) -> Option<Self> {
        Some(Self {
            status: ClientStatus::parse(&status?).unwrap_or(ClientStatus::OptedOut),
            timezone: timezone?,
            consented_at: optional_instant(consented_at),
            phone_invalid: phone_invalid_at.is_some(),
        })
    }
}

pub(super) const CLIENT_COLUMNS: &str = "id, phone, first_name, language, timezone, consented_at, consent_source, \
     status, opted_out_at, phone_invalid_at, created_at, assigned_staff_id";

impl Store {
    pub async fn insert_client(&self, client: &NewClient, now: Timestamp) -> Result<i64> {
        // One statement, so no staff member can take the number between a check and the insert.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO clients (phone, first_name, language, timezone, consented_at, consent_source, status, \
             created_at, updated_at) SELECT $1, $2, $3, $4, $5, $6, 'active', $7, $7 \
             WHERE NOT EXISTS (SELECT 1 FROM staff WHERE phone = $1) RETURNING id",
        )
        .bind(client.phone.as_str())
        .bind(client.first_name.as_str())
        .bind(client.language.as_str())
        .bind(client.timezone.as_str())
        .bind(unix(client.consented_at))
        .bind(client.consent_source.as_str())
        .bind(unix(now))
        .fetch_optional(&self.writer)
        .await?;
        id.ok_or(StoreError::Conflict(UniqueConstraint::PhoneOfTheOtherKind))
    }

    pub async fn client(&self, id: i64) -> Result<Option<ClientRecord>> {
        let row: Option<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ClientRecord::try_from).transpose()
    }

    /// Every client, newest first; only those assigned to `assigned_to` when given.
    pub async fn clients(&self, assigned_to: Option<i64>) -> Result<Vec<ClientRecord>> {
        let rows: Vec<ClientRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE $1 IS NULL OR assigned_staff_id = $1 ORDER BY id DESC"
        )))
        .bind(assigned_to)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ClientRecord::try_from).collect()
    }

    pub async fn update_client(
        &self,
        id: i64,
        first_name: &FirstName,
        language: &str,
        timezone: &TimeZoneName,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE clients SET first_name = $1, language = $2, timezone = $3, updated_at = $4 WHERE id = $5")
            .bind(first_name.as_str())
            .bind(language)
            .bind(timezone.as_str())
            .bind(unix(now))
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Texts from a client, oldest first.
    pub async fn received_from_client(&self, id: i64) -> Result<Vec<ReceivedText>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, body, risk_tier, received_at FROM inbound_messages WHERE client_id = $1 ORDER BY received_at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, body, risk_tier, received_at)| ReceivedText {
                id,
                body,
                risk_tier,
                received_at,
            })
            .collect())
    }

    /// Pauses or resumes a client. An opted-out client stays opted out: only the client's own START can
    /// undo a STOP. Returns false if no such client may change.
    pub async fn set_client_paused(&self, id: i64, paused: bool, now: Timestamp) -> Result<bool> {
        let (to, from) = if paused {
            (ClientStatus::Paused, ClientStatus::Active)
        } else {
            (ClientStatus::Active, ClientStatus::Paused)
        };
        let result =
            sqlx::query("UPDATE clients SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ($1, $4)")
                .bind(to.as_str())
                .bind(unix(now))
                .bind(id)
                .bind(from.as_str())
                .execute(&self.writer)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records that a client opted out (STOP, or the provider's 21610) and cancels every text still waiting.
    pub async fn record_opt_out(&self, client_id: i64, reason: &str, now: Timestamp) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        opt_out(&mut tx, client_id, reason, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that the provider refused the client's number as invalid, and cancels every text still waiting.
    pub async fn flag_invalid_phone(&self, client_id: i64, reason: &str, now: Timestamp) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE clients SET phone_invalid_at = COALESCE(phone_invalid_at, $1), updated_at = $1 WHERE id = $2",
        )
        .bind(unix(now))
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        cancel_pending(&mut tx, client_id, reason, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Marks a client opted out and cancels their waiting texts, inside the caller's transaction.
pub(super) async fn opt_out(
    conn: &mut sqlx::AnyConnection,
    client_id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE clients SET status = 'opted_out', opted_out_at = COALESCE(opted_out_at, $1), updated_at = $1 WHERE id = $2",
    )
    .bind(unix(now))
    .bind(client_id)
    .execute(&mut *conn)
    .await?;
    cancel_pending(conn, client_id, reason, now).await
}

// Each transaction here starts with a write, so SQLite takes the write lock at once and never has to
// upgrade a stale read snapshot (which would fail with SQLITE_BUSY_SNAPSHOT instead of waiting).
/// Cancels a client's waiting texts, except the ones still allowed after an opt-out: the confirmation of
/// that very opt-out must not be cancelled by a second STOP arriving before it is sent.
async fn cancel_pending(conn: &mut sqlx::AnyConnection, client_id: i64, reason: &str, now: Timestamp) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = $1, status_reason = $2, updated_at = $3 \
         WHERE client_id = $4 AND status = $5 AND kind <> $6 AND kind <> $7",
    )
    .bind(OutboxStatus::Cancelled.as_str())
    .bind(reason)
    .bind(unix(now))
    .bind(client_id)
    .bind(OutboxStatus::Pending.as_str())
    .bind(MessageKind::OptOutConfirmation.as_str())
    .bind(MessageKind::HelpReply.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
