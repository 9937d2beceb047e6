//! The figures on the console's engagement dashboard, each one query over what is already recorded.

use serde::Serialize;

use super::{CARING_KINDS, Result, Store};
use crate::domain::AppointmentKind;

/// Counts behind the dashboard's rates; the console divides, so a rate is never shown without its base.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Engagement {
    pub active_enrollments: i64,
    /// Clients sent at least one caring contact.
    pub clients_texted: i64,
    /// Of those, clients who replied after one.
    pub clients_replied: i64,
    /// Appointments at least one reminder went out for.
    pub appointments_reminded: i64,
    pub appointments_confirmed: i64,
    /// Every enrolment (one per discharge), and those with an appointment of a clinical kind
    /// (`clinical_appointment_kinds` in program.toml) kept on the books within 7 and 30 days of discharge: the
    /// HEDIS follow-up measures, as far as this service can see them. A court date or a pharmacy pickup is
    /// not a follow-up visit.
    pub discharges: i64,
    pub follow_up_7_days: i64,
    pub follow_up_30_days: i64,
    pub open_signals: i64,
    pub open_escalations: i64,
    /// Appointments of each kind booked and not cancelled, with how many were reminded and confirmed, every kind
    /// listed even at zero so the board reads the same from day one.
    pub appointments_by_kind: Vec<KindFigures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindFigures {
    pub kind: AppointmentKind,
    /// How staff read it (`court date`).
    pub label: &'static str,
    /// Whether it counts toward the follow-up figures.
    pub clinical: bool,
    pub booked: i64,
    pub reminded: i64,
    pub confirmed: i64,
}

const SENT: &str = "('sent', 'delivered')";

impl Store {
    /// The dashboard's figures; follow-up counts appointments of the `clinical` kinds only.
    pub async fn engagement(&self, clinical: &[AppointmentKind]) -> Result<Engagement> {
        let count = |sql: String| {
            let pool = self.pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await?;
                Ok::<i64, super::StoreError>(n)
            }
        };
        // The kinds are names from the enum, never input, so they are safe to write into the query; an empty
        // list (the loader refuses one) would count nothing rather than everything.
        let clinical_list = if clinical.is_empty() {
            "NULL".to_owned()
        } else {
            clinical
                .iter()
                .map(|kind| format!("'{}'", kind.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let follow_up = |days: i64| {
            format!(
                "SELECT COUNT(*) FROM enrollments e WHERE EXISTS (SELECT 1 FROM appointments a \
                 WHERE a.client_id = e.client_id AND a.status = 'scheduled' AND a.kind IN ({clinical_list}) \
                 AND a.starts_at >= e.discharged_at AND a.starts_at <= e.discharged_at + {})",
                days * 86_400
            )
        };
        Ok(Engagement {
            active_enrollments: count("SELECT COUNT(*) FROM enrollments WHERE status = 'active'".into()).await?,
            clients_texted: count(format!(
                "SELECT COUNT(DISTINCT client_id) FROM outbox WHERE kind IN {CARING_KINDS} AND status IN {SENT}"
            ))
            .await?,
            clients_replied: count(format!(
                "SELECT COUNT(DISTINCT o.client_id) FROM outbox o WHERE o.kind IN {CARING_KINDS} \
                 AND o.status IN {SENT} AND EXISTS (SELECT 1 FROM inbound_messages i \
                 WHERE i.client_id = o.client_id AND i.received_at >= o.sent_at)"
            ))
            .await?,
            appointments_reminded: count(format!(
                "SELECT COUNT(*) FROM appointments a WHERE EXISTS (SELECT 1 FROM outbox o \
                 WHERE o.appointment_id = a.id AND o.status IN {SENT})"
            ))
            .await?,
            appointments_confirmed: count(format!(
                "SELECT COUNT(*) FROM appointments a WHERE a.confirmed_at IS NOT NULL AND EXISTS (SELECT 1 \
                 FROM outbox o WHERE o.appointment_id = a.id AND o.status IN {SENT})"
            ))
            .await?,
            discharges: count("SELECT COUNT(*) FROM enrollments".into()).await?,
            follow_up_7_days: count(follow_up(7)).await?,
            follow_up_30_days: count(follow_up(30)).await?,
            open_signals: count("SELECT COUNT(*) FROM signals WHERE seen_at IS NULL".into()).await?,
            open_escalations: count("SELECT COUNT(*) FROM escalations WHERE status = 'open'".into()).await?,
            appointments_by_kind: self.appointments_by_kind(clinical).await?,
        })
    }

    async fn appointments_by_kind(&self, clinical: &[AppointmentKind]) -> Result<Vec<KindFigures>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.kind, COUNT(*), \
             SUM(CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id AND o.status IN {SENT}) \
               THEN 1 ELSE 0 END), \
             SUM(CASE WHEN a.confirmed_at IS NOT NULL THEN 1 ELSE 0 END) \
             FROM appointments a WHERE a.status = 'scheduled' GROUP BY a.kind"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(AppointmentKind::ALL
            .into_iter()
            .map(|kind| {
                let (booked, reminded, confirmed) = rows
                    .iter()
                    .find(|(name, ..)| name == kind.as_str())
                    .map_or((0, 0, 0), |(_, s, r, c)| (*s, *r, *c));
                KindFigures {
                    kind,
                    label: kind.label(),
                    clinical: clinical.contains(&kind),
                    booked,
                    reminded,
                    confirmed,
                }
            })
            .collect())
    }
}
