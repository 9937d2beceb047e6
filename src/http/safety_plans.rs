//! A client's safety plan under `/api/v1/clients/{id}/safety-plan` (docs/safety-plan.md): saved by whoever
//! may change the client (their assigned peer, an admin), each save a new version; read, with its words, by
//! whoever may read the client's words; viewers see that a plan exists, never what it says. Every save and
//! every read is in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::auth::{Writer, audited, client_access, managed_client};
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::FieldError;
use crate::domain::safety_plan::{SafetyPlan, SafetyPlanInput, Sections};
use crate::storage::{SafetyPlanVersion, StoreError, UniqueConstraint};

/// The plan in the shape a PUT takes, so a GET's `plan` can be edited and sent back as it is.
#[derive(Serialize)]
pub(crate) struct PlanBody {
    #[serde(flatten)]
    sections: Sections,
    share_environment_by_text: bool,
    text_consent: Option<ConsentView>,
}

#[derive(Serialize)]
struct ConsentView {
    consented_at: String,
    consent_source: String,
}

/// One version, as the API shows it.
#[derive(Serialize)]
pub(crate) struct PlanView {
    client_id: i64,
    version: i64,
    saved_by: String,
    saved_at: String,
    /// Whether `PLAN` by text gets the plan: consent recorded and something in it goes by text.
    texted_on_request: bool,
    /// `None` for a caller who may not read the client's words (viewers).
    plan: Option<PlanBody>,
}

impl PlanView {
    fn of(version: SafetyPlanVersion, with_words: bool) -> Self {
        let texted_on_request = version.plan.texted_on_request();
        let SafetyPlan {
            sections,
            share_environment_by_text,
            text_consent,
        } = version.plan;
        let plan = with_words.then(|| PlanBody {
            sections,
            share_environment_by_text,
            text_consent: text_consent.map(|consent| ConsentView {
                consented_at: consent.at.to_string(),
                consent_source: consent.source.as_str().to_owned(),
            }),
        });
        Self {
            client_id: version.client_id,
            version: version.version,
            saved_by: version.saved_by,
            saved_at: version.saved_at.to_string(),
            texted_on_request,
            plan,
        }
    }
}

/// Saves the client's plan as its next version.
pub async fn put_plan(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SafetyPlanInput>,
) -> Result<axum::response::Response, ApiError> {
    let saved = save_plan_as(&state, &caller, id, &input).await?;
    Ok(audited(Json(PlanView::of(saved, true))))
}

/// Checks and saves a plan for a caller who may change the client; shared with the console. Nothing is
/// written when any field is wrong.
pub(crate) async fn save_plan_as(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &SafetyPlanInput,
) -> Result<SafetyPlanVersion, ApiError> {
    let client = managed_client(state, caller, id).await?;
    let now = state.clock.now();
    let plan = input.validate(now).map_err(ApiError::Invalid)?;
    plan.check_blocked_terms(&state.catalog.current().program.blocked_terms)
        .map_err(ApiError::Invalid)?;
    let version = match state.store.save_safety_plan(client.id, &plan, &caller.name, now).await {
        Ok(version) => version,
        Err(StoreError::Conflict(UniqueConstraint::SafetyPlanVersion)) => {
            return Err(ApiError::Conflict(FieldError::new(
                "version",
                "someone saved this plan at the same moment; load it again and save your changes",
            )));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(client_id = client.id, version, "safety plan saved");
    Ok(SafetyPlanVersion {
        client_id: client.id,
        version,
        plan,
        saved_by: caller.name.clone(),
        saved_at: now,
    })
}

/// The plan in force.
pub async fn get_plan(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let (_, access) = client_access(&state, &caller, id).await?;
    let plan = state
        .store
        .safety_plan(id)
        .await?
        .ok_or(ApiError::NotFound("safety plan"))?;
    Ok(audited(Json(PlanView::of(plan, access.may_read_words()))))
}

/// Every saved version, newest first.
pub async fn plan_versions(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let (_, access) = client_access(&state, &caller, id).await?;
    let with_words = access.may_read_words();
    let versions: Vec<PlanView> = state
        .store
        .safety_plan_versions(id)
        .await?
        .into_iter()
        .map(|version| PlanView::of(version, with_words))
        .collect();
    Ok(audited(Json(
        serde_json::json!({ "client_id": id, "versions": versions }),
    )))
}
