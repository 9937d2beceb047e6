//! API tokens, console sessions and the audit log.

use jiff::Timestamp;

use super::{Result, Store, instant, optional_instant, unix};
use crate::access::{Caller, Role};

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub staff_id: Option<i64>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// One line of the audit log: who did what to what, and how it ended.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub status: i64,
}

/// What the audit log is told about one request.
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub role: Option<Role>,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub status: u16,
}

/// A signed-in console session.
pub struct Session {
    pub caller: Caller,
    pub csrf_token: String,
}

/// id, name, role, staff_id, created_at, revoked_at
type TokenRow = (i64, String, String, Option<i64>, i64, Option<i64>);
/// bootstrap, csrf_token, and the token's name, role and staff_id (NULL for a bootstrap session)
/// bootstrap, csrf_token, token_fingerprint, name, role, staff_id
type SessionRow = (i64, String, Option<String>, Option<String>, Option<String>, Option<i64>);
/// id, at, actor, role, action, target, outcome, status
type AuditRow = (i64, i64, String, Option<String>, String, String, String, i64);

fn caller_from_row(name: String, role: &str, staff_id: Option<i64>) -> Option<Caller> {
    // The CHECK constraint admits only known roles; an unknown one gets no access at all.
    let role = role.parse::<Role>().ok()?;
    Some(Caller { name, role, staff_id })
}

impl Store {
    pub async fn insert_token(
        &self,
        name: &str,
        role: Role,
        staff_id: Option<i64>,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, role, staff_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(staff_id)
        .bind(token_hash)
        .bind(unix(now))
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows: Vec<TokenRow> =
            sqlx::query_as("SELECT id, name, role, staff_id, created_at, revoked_at FROM api_tokens ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, role, staff_id, created_at, revoked_at)| TokenRecord {
                id,
                name,
                role,
                staff_id,
                created_at: instant(created_at),
                revoked_at: optional_instant(revoked_at),
            })
            .collect())
    }

    /// Revokes the token with this id and ends its console sessions. False if there is no such live token.
    pub async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(unix(now))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query("DELETE FROM console_sessions WHERE token_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// The live token with this hash, as a caller, with its row id.
    pub async fn token_caller(&self, token_hash: &str) -> Result<Option<(i64, Caller)>> {
        let row: Option<(i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, role, staff_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(id, name, role, staff_id)| caller_from_row(name, &role, staff_id).map(|c| (id, c))))
    }

    /// Opens a console session for a token (`None` for the bootstrap admin token), remembering the hash of
    /// the token itself so that the session ends when the token changes or is revoked.
    pub async fn insert_session(
        &self,
        id_hash: &str,
        token_id: Option<i64>,
        token_fingerprint: &str,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        // Sessions are few and short; expired ones are swept whenever someone signs in.
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, token_id, bootstrap, csrf_token, created_at, expires_at, \
             token_fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id_hash)
        .bind(token_id)
        .bind(i64::from(token_id.is_none()))
        .bind(csrf_token)
        .bind(unix(now))
        .bind(unix(expires_at))
        .bind(token_fingerprint)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unexpired session with this hash, while the token that opened it is still the one in force: a
    /// database token unrevoked with the same hash, or for the bootstrap token, `bootstrap_fingerprint`
    /// (the hash of today's `TETHER_ADMIN_TOKEN`; `None` when it is unset).
    pub async fn session(
        &self,
        id_hash: &str,
        bootstrap_fingerprint: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.bootstrap, s.csrf_token, s.token_fingerprint, t.name, t.role, t.staff_id \
             FROM console_sessions s LEFT JOIN api_tokens t \
               ON t.id = s.token_id AND t.revoked_at IS NULL AND t.token_hash = s.token_fingerprint \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(unix(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.and_then(|(bootstrap, csrf_token, fingerprint, name, role, staff_id)| {
                let caller = if bootstrap == 1 {
                    let opened_with_todays_token =
                        fingerprint.is_some() && fingerprint.as_deref() == bootstrap_fingerprint;
                    opened_with_todays_token.then(Caller::bootstrap)?
                } else {
                    caller_from_row(name?, &role?, staff_id)?
                };
                Some(Session { caller, csrf_token })
            }),
        )
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn record_audit(&self, entry: &NewAuditEntry<'_>, now: Timestamp) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        insert_audit(&mut conn, entry, now).await
    }

    /// The newest entries first, `limit` of them, older than `before` (an entry id) when given.
    pub async fn audit_log(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, role, action, target, outcome, status FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, at, actor, role, action, target, outcome, status)| AuditEntry {
                id,
                at: instant(at).to_string(),
                actor,
                role,
                action,
                target,
                outcome,
                status,
            })
            .collect())
    }
}

/// Writes one audit entry inside whatever transaction or connection the caller holds, so an entry is
/// committed with the change it records.
pub(super) async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    entry: &NewAuditEntry<'_>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, outcome, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(unix(now))
    .bind(entry.actor)
    .bind(entry.role.map(Role::as_str))
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.outcome)
    .bind(i64::from(entry.status))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What is recorded about an escalation nobody acknowledged in time, outside any request: when it fell to
/// the fallback numbers (`actor` is the service, [`SERVICE_ACTOR`]) and when someone finally took it
/// (`actor` names the staff member, who may have answered by SMS). No role, and status 0: no HTTP call.
pub(super) async fn insert_escalation_audit(
    conn: &mut sqlx::AnyConnection,
    actor: &str,
    escalation_id: i64,
    action: &str,
    outcome: &str,
    now: Timestamp,
) -> Result<()> {
    let target = format!("/api/v1/escalations/{escalation_id}");
    let entry = NewAuditEntry {
        actor,
        role: None,
        action,
        target: &target,
        outcome,
        status: 0,
    };
    insert_audit(conn, &entry, now).await
}

/// The audit log's actor for what the service does on its own.
pub const SERVICE_ACTOR: &str = "tether";
