//! Safety plans, one row per saved version (docs/safety-plan.md), and the in-order queueing of a plan's
//! texts in answer to a client's `PLAN`.

use jiff::Timestamp;

use super::inbound::InboundTx;
use super::{NewText, Result, Store, StoreError, instant, unix};
use crate::domain::safety_plan::{SafetyPlan, Sections};
use crate::domain::{ConsentSource, RecordedConsent};

/// One saved version of a client's plan.
#[derive(Debug, Clone)]
pub struct SafetyPlanVersion {
    pub client_id: i64,
    /// 1 for the first save; the highest is the plan in force.
    pub version: i64,
    pub plan: SafetyPlan,
    /// The API token's or console user's name, as in the audit log.
    pub saved_by: String,
    pub saved_at: Timestamp,
}

/// client_id, version, sections, share_environment_by_text, text_consented_at, text_consent_source, saved_by,
/// saved_at
type PlanRow = (i64, i64, String, i64, Option<i64>, Option<String>, String, i64);

const PLAN_COLUMNS: &str = "client_id, version, sections, share_environment_by_text, text_consented_at, \
                            text_consent_source, saved_by, saved_at";

/// The client's newest version, the plan in force; read by the API and inside an inbound text's transaction.
fn latest_plan_query() -> String {
    format!("SELECT {PLAN_COLUMNS} FROM safety_plans WHERE client_id = $1 ORDER BY version DESC LIMIT 1")
}

/// A stored row as a plan, checked again on the way out: a row that no longer passes the checks is refused
/// rather than texted. The error names the part that failed and never quotes it: the plan's words must not
/// reach a log.
fn plan_from_row(row: PlanRow) -> Result<SafetyPlanVersion> {
    let (client_id, version, sections, share, consented_at, consent_source, saved_by, saved_at) = row;
    let corrupt = |part: &str| {
        StoreError::Corrupt(format!(
            "safety plan {version} of client {client_id}: its {part} fail the checks"
        ))
    };
    let sections = Sections::from_stored(&sections).map_err(|_| corrupt("sections"))?;
    let text_consent = match (consented_at, consent_source) {
        (Some(at), Some(source)) => Some(RecordedConsent {
            at: instant(at),
            source: ConsentSource::parse(&source).map_err(|_| corrupt("consent source"))?,
        }),
        _ => None,
    };
    Ok(SafetyPlanVersion {
        client_id,
        version,
        plan: SafetyPlan {
            sections,
            share_environment_by_text: share != 0,
            text_consent,
        },
        saved_by,
        saved_at: instant(saved_at),
    })
}

impl Store {
    /// Saves `plan` as the client's next version and returns its number. Two saves at the same moment for
    /// one client cannot both take a number: the second is a [`StoreError::Conflict`].
    pub async fn save_safety_plan(
        &self,
        client_id: i64,
        plan: &SafetyPlan,
        saved_by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let version = sqlx::query_scalar(
            "INSERT INTO safety_plans (client_id, version, sections, share_environment_by_text, text_consented_at, \
             text_consent_source, saved_by, saved_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7 FROM safety_plans WHERE client_id = $1 \
             RETURNING version",
        )
        .bind(client_id)
        .bind(plan.sections.to_stored())
        .bind(i64::from(plan.share_environment_by_text))
        .bind(plan.text_consent.as_ref().map(|c| unix(c.at)))
        .bind(plan.text_consent.as_ref().map(|c| c.source.as_str().to_owned()))
        .bind(saved_by)
        .bind(unix(now))
        .fetch_one(&self.writer)
        .await?;
        Ok(version)
    }

    /// The client's plan in force: their newest version.
    pub async fn safety_plan(&self, client_id: i64) -> Result<Option<SafetyPlanVersion>> {
        let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(latest_plan_query()))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(plan_from_row).transpose()
    }

    /// Every saved version of the client's plan, newest first.
    pub async fn safety_plan_versions(&self, client_id: i64) -> Result<Vec<SafetyPlanVersion>> {
        let rows: Vec<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS} FROM safety_plans WHERE client_id = $1 ORDER BY version DESC"
        )))
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(plan_from_row).collect()
    }
}

impl InboundTx<'_> {
    /// The client's plan in force, read inside the text's transaction.
    pub async fn safety_plan(&mut self, client_id: i64) -> Result<Option<SafetyPlan>> {
        let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(latest_plan_query()))
            .bind(client_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(plan_from_row).transpose()?.map(|version| version.plan))
    }

    /// Queues `texts` so that each goes to the provider only after the one before it was accepted (see
    /// `waits_for_its_predecessor` in the outbox). Returns how many were queued; a text whose key exists
    /// already ends the chain, since what it would follow is not this one's.
    pub async fn enqueue_in_order(&mut self, texts: &[NewText]) -> Result<usize> {
        let mut previous = None;
        let mut queued = 0;
        for text in texts {
            let Some(id) = self.enqueue_after(text, previous).await? else {
                break;
            };
            previous = Some(id);
            queued += 1;
        }
        Ok(queued)
    }
}
