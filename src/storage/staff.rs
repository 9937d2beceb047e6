//! Staff who may be paged or receive notices about clients.

use jiff::Timestamp;

use super::{Result, StaffMember, Store, instant, unix};
use crate::domain::{FirstName, PhoneNumber};

#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub created_at: Timestamp,
}

/// A staff member by id, inside whatever transaction or connection the caller holds.
pub(super) async fn staff_member(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<StaffMember>> {
    let row: Option<(i64, String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, name, phone, opted_out_at FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(id, name, phone, opted_out_at)| StaffMember {
        id,
        name,
        phone,
        opted_out: opted_out_at.is_some(),
    }))
}

impl Store {
    pub async fn staff_member(&self, id: i64) -> Result<Option<StaffMember>> {
        let mut conn = self.pool.acquire().await?;
        staff_member(&mut conn, id).await
    }

    pub async fn insert_staff(&self, name: &FirstName, phone: &PhoneNumber, now: Timestamp) -> Result<i64> {
        let id = sqlx::query_scalar("INSERT INTO staff (name, phone, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(name.as_str())
            .bind(phone.as_str())
            .bind(unix(now))
            .fetch_one(&self.writer)
            .await?;
        Ok(id)
    }

    pub async fn staff(&self) -> Result<Vec<StaffRecord>> {
        let rows: Vec<(i64, String, String, i64)> =
            sqlx::query_as("SELECT id, name, phone, created_at FROM staff ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, phone, created_at)| StaffRecord {
                id,
                name,
                phone,
                created_at: instant(created_at),
            })
            .collect())
    }
}
