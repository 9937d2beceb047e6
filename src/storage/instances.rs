//! Running processes and the claims they hold, so that the texts of a process that died are sent again
//! within seconds rather than after their lease.

use jiff::{SignedDuration, Timestamp};

use super::{Result, Store, unix};

/// Characters of `outbox.lease_owner` that name the instance holding the claim; the rest tell its claims
/// apart.
pub(super) const INSTANCE_ID_LEN: usize = 16;

impl Store {
    /// This process's instance id, which every claim it makes starts with.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Makes every claimed text claimable now, whoever claimed it. Only for a start on SQLite, where the
    /// database file belongs to one process: any claim found at start is a dead predecessor's. Returns how
    /// many texts were taken back.
    pub async fn take_back_every_claim(&self, now: Timestamp) -> Result<u64> {
        let taken = sqlx::query(
            "UPDATE outbox SET lease_until = $1, updated_at = $1 WHERE status = 'sending' AND lease_until > $1",
        )
        .bind(unix(now))
        .execute(&self.writer)
        .await?;
        Ok(taken.rows_affected())
    }

    /// Records that this instance is alive now.
    pub async fn heartbeat(&self, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(self.instance())
        .bind(unix(now))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Makes the claims of every instance silent for longer than `silence` claimable now, and forgets those
    /// instances. An instance that was only paused comes back with a new heartbeat; a text it was sending
    /// may then go twice, as it would after a lease ran out. Returns how many texts were released.
    pub async fn release_silent_instances(&self, now: Timestamp, silence: SignedDuration) -> Result<u64> {
        let cutoff = unix(now - silence);
        let mut tx = self.writer.begin().await?;
        let release = format!(
            "UPDATE outbox SET lease_until = $1, updated_at = $1 WHERE status = 'sending' AND lease_until > $1 \
             AND substr(lease_owner, 1, {INSTANCE_ID_LEN}) IN (SELECT id FROM instances WHERE heartbeat_at < $2)"
        );
        let released = sqlx::query(sqlx::AssertSqlSafe(release))
            .bind(unix(now))
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(released.rows_affected())
    }
}
