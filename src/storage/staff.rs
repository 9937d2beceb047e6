//! Staff who may be paged or receive notices about clients.

use jiff::Timestamp;

use super::{Result, StaffMember, Store, StoreError, UniqueConstraint, instant, unix};
use crate::domain::{FirstName, PhoneNumber};

#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub id: i64,
    pub name: String,
    pub phone: PhoneNumber,
    pub created_at: Timestamp,
    /// Said STOP: nothing is texted to them until START.
    pub opted_out: bool,
    /// One of the `TETHER_FALLBACK_PAGE_TO` numbers (see [`Store::sync_fallback_staff`]).
    pub fallback: bool,
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
        // One statement, so no client can take the number between a check and the insert.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO staff (name, phone, created_at) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM clients WHERE phone = $2) RETURNING id",
        )
        .bind(name.as_str())
        .bind(phone.as_str())
        .bind(unix(now))
        .fetch_optional(&self.writer)
        .await?;
        id.ok_or(StoreError::Conflict(UniqueConstraint::PhoneOfTheOtherKind))
    }

    pub async fn staff(&self) -> Result<Vec<StaffRecord>> {
        let rows: Vec<(i64, String, String, i64, Option<i64>, i64)> =
            sqlx::query_as("SELECT id, name, phone, created_at, opted_out_at, fallback FROM staff ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, name, phone, created_at, opted_out_at, fallback)| {
                Ok(StaffRecord {
                    phone: PhoneNumber::parse(&phone)
                        .map_err(|why| StoreError::Corrupt(format!("staff {id}: phone: {why}")))?,
                    id,
                    name,
                    created_at: instant(created_at),
                    opted_out: opted_out_at.is_some(),
                    fallback: fallback == 1,
                })
            })
            .collect()
    }

    /// Makes the staff rows marked fallback the numbers of `TETHER_FALLBACK_PAGE_TO`, at start. A number
    /// already on staff is marked, keeping its name; a new one gets a row named after its last four digits.
    /// A number taken out of the setting keeps its row (pages and acknowledgements refer to it) but is no
    /// longer marked. Whether a number said STOP is never touched here: only its own START undoes that.
    pub async fn sync_fallback_staff(&self, numbers: &[PhoneNumber], now: Timestamp) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let marked: Vec<(i64, String)> = sqlx::query_as("SELECT id, phone FROM staff WHERE fallback = 1")
            .fetch_all(&mut *tx)
            .await?;
        for (id, phone) in marked {
            if !numbers.iter().any(|n| n.as_str() == phone) {
                sqlx::query("UPDATE staff SET fallback = 0 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for number in numbers {
            sqlx::query(
                "INSERT INTO staff (name, phone, created_at, fallback) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (phone) DO UPDATE SET fallback = 1",
            )
            .bind(format!("Fallback {}", number.masked()))
            .bind(number.as_str())
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The fallback numbers as staff, those who said STOP included (the caller decides what that means).
    pub async fn fallback_staff(&self) -> Result<Vec<StaffMember>> {
        let rows: Vec<(i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, name, phone, opted_out_at FROM staff WHERE fallback = 1 ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, phone, opted_out_at)| StaffMember {
                id,
                name,
                phone,
                opted_out: opted_out_at.is_some(),
            })
            .collect())
    }
}
