//! Bulk enrolment: many clients and their enrolments written in large multi-row statements, one
//! transaction per batch, for programs bringing their caseload over at once.

use std::collections::HashMap;

use jiff::Timestamp;

use super::{Result, Store, unix};
use crate::domain::NewClient;

/// A client to create and enrol, with the enrolment's first step already worked out.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub client: NewClient,
    pub discharged_at: Timestamp,
    /// The first step still worth sending and when; `None` if every step is past.
    pub first_step: Option<(usize, Timestamp)>,
}

/// Rows per statement. sqlx looks up each SQLite parameter by name, which grows with the square of the
/// parameter count: a profile of 1,000-row statements showed sqlite3_bind_parameter_name on top, and 100 rows
/// a statement enrol faster (BENCHMARKS.md, "Fixed before these numbers", has by how much).
const ROWS_PER_STATEMENT: usize = 100;

impl Store {
    /// Creates the clients and enrols each in `schedule` (at `version`), all or nothing per call. Returns
    /// how many were enrolled. A phone number already present fails the whole call with a conflict.
    pub async fn import_enrollments(
        &self,
        schedule: &str,
        version: i64,
        rows: &[ImportRow],
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO clients (phone, first_name, language, timezone, consented_at, consent_source, status, \
                 created_at, updated_at) VALUES ",
            );
            for (i, _) in chunk.iter().enumerate() {
                let b = i * 7;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, 'active', ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 7
                ));
            }
            sql.push_str(" RETURNING id, phone");
            let mut query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                let client = &row.client;
                query = query
                    .bind(client.phone.as_str().to_owned())
                    .bind(client.first_name.as_str().to_owned())
                    .bind(client.language.as_str().to_owned())
                    .bind(client.timezone.as_str().to_owned())
                    .bind(unix(client.consented_at))
                    .bind(client.consent_source.as_str().to_owned())
                    .bind(unix(now));
            }
            // RETURNING promises no order, so ids are matched back by phone number (unique).
            let ids: HashMap<String, i64> = query
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(id, phone)| (phone, id))
                .collect();

            let mut sql = String::from(
                "INSERT INTO enrollments (client_id, schedule, schedule_version, discharged_at, status, next_step, \
                 next_send_at, created_at, updated_at) VALUES ",
            );
            for (i, _) in chunk.iter().enumerate() {
                let b = i * 5;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    chunk.len() * 5 + 1,
                    chunk.len() * 5 + 2,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    chunk.len() * 5 + 3,
                    chunk.len() * 5 + 3
                ));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                let id = ids.get(row.client.phone.as_str()).copied().unwrap_or_default();
                let (status, next_step, next_send_at) = match row.first_step {
                    Some((step, at)) => ("active", step as i64, Some(unix(at))),
                    None => ("completed", 0, None),
                };
                query = query
                    .bind(id)
                    .bind(unix(row.discharged_at))
                    .bind(status)
                    .bind(next_step)
                    .bind(next_send_at);
            }
            query
                .bind(schedule.to_owned())
                .bind(version)
                .bind(unix(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}
