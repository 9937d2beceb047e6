//! Rotations, overrides, the escalation policy, and which staff member a client's replies go to.

use jiff::{Timestamp, civil::Date, tz::TimeZone};

use super::{Result, Store, StoreError, instant, unix};
use crate::domain::oncall::{Override, Policy, Rotation};
use crate::scheduling::quiet_hours::parse_clock_time;

/// A rotation to create; already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewRotation {
    pub name: String,
    pub timezone: String,
    pub shift_hours: u32,
    pub handoff_time: String,
    pub start_date: Date,
    pub members: Vec<i64>,
}

type RotationRow = (i64, String, String, i64, String, String, String);

fn rotation_from_row((id, name, timezone, shift_hours, handoff, start_date, members): RotationRow) -> Option<Rotation> {
    Some(Rotation {
        id,
        name,
        zone: TimeZone::get(&timezone).ok()?,
        shift_hours: u32::try_from(shift_hours).ok()?,
        handoff: parse_clock_time(&handoff).ok()?,
        start_date: start_date.parse().ok()?,
        members: serde_json::from_str(&members).ok()?,
    })
}

impl Store {
    pub async fn insert_rotation(&self, rotation: &NewRotation, now: Timestamp) -> Result<i64> {
        let members = serde_json::to_string(&rotation.members).unwrap_or_else(|_| "[]".into());
        let id = sqlx::query_scalar(
            "INSERT INTO rotations (name, timezone, shift_hours, handoff_time, start_date, members, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&rotation.name)
        .bind(&rotation.timezone)
        .bind(i64::from(rotation.shift_hours))
        .bind(&rotation.handoff_time)
        .bind(rotation.start_date.to_string())
        .bind(members)
        .bind(unix(now))
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    pub async fn rotations(&self) -> Result<Vec<Rotation>> {
        let rows: Vec<RotationRow> = sqlx::query_as(
            "SELECT id, name, timezone, shift_hours, handoff_time, start_date, members FROM rotations ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        // Rows were validated on the way in; one that no longer parses is skipped, not fatal to paging.
        Ok(rows.into_iter().filter_map(rotation_from_row).collect())
    }

    pub async fn insert_override(&self, rotation_id: i64, cover: &Override, now: Timestamp) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO overrides (rotation_id, staff_id, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(rotation_id)
        .bind(cover.staff_id)
        .bind(unix(cover.starts_at))
        .bind(unix(cover.ends_at))
        .bind(unix(now))
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// Overrides of a rotation covering `at`, oldest first.
    pub async fn overrides_at(&self, rotation_id: i64, at: Timestamp) -> Result<Vec<Override>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT staff_id, starts_at, ends_at FROM overrides WHERE rotation_id = $1 AND starts_at <= $2 AND ends_at > $2 \
             ORDER BY id",
        )
        .bind(rotation_id)
        .bind(unix(at))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(staff_id, starts_at, ends_at)| Override {
                staff_id,
                starts_at: instant(starts_at),
                ends_at: instant(ends_at),
            })
            .collect())
    }

    /// Overrides of a rotation overlapping `from..to`, oldest first: what a check of the days ahead needs.
    pub async fn overrides_between(&self, rotation_id: i64, from: Timestamp, to: Timestamp) -> Result<Vec<Override>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT staff_id, starts_at, ends_at FROM overrides WHERE rotation_id = $1 AND starts_at < $3 AND ends_at > $2 \
             ORDER BY id",
        )
        .bind(rotation_id)
        .bind(unix(from))
        .bind(unix(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(staff_id, starts_at, ends_at)| Override {
                staff_id,
                starts_at: instant(starts_at),
                ends_at: instant(ends_at),
            })
            .collect())
    }

    pub async fn escalation_policy(&self) -> Result<Option<Policy>> {
        let policy: Option<String> = sqlx::query_scalar("SELECT policy FROM escalation_policy WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(policy.and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub async fn set_escalation_policy(&self, policy: &Policy, now: Timestamp) -> Result<()> {
        let json =
            serde_json::to_string(policy).map_err(|err| StoreError::Database(sqlx::Error::Encode(err.into())))?;
        sqlx::query(
            "INSERT INTO escalation_policy (id, policy, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET policy = $1, updated_at = $2",
        )
        .bind(json)
        .bind(unix(now))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Sets the staff member a client's replies and concern notices go to.
    pub async fn assign_staff(&self, client_id: i64, staff_id: Option<i64>, now: Timestamp) -> Result<bool> {
        let updated = sqlx::query("UPDATE clients SET assigned_staff_id = $1, updated_at = $2 WHERE id = $3")
            .bind(staff_id)
            .bind(unix(now))
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(updated.rows_affected() == 1)
    }
}
