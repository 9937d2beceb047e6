//! A client's safety plan under `/api/v1/clients/{id}/safety-plan` (see [`crate::service::safety_plans`]).
//! Every save and every read is in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Writer, audited};
use super::error::ErrorBody;
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::safety_plan::{SafetyPlan, SafetyPlanInput, Sections};
use crate::service::safety_plans;
use crate::storage::SafetyPlanVersion;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_plan, put_plan))
        .routes(routes!(plan_versions))
}

/// The plan in the shape a PUT takes, so a GET's `plan` can be edited and sent back as it is.
#[derive(Serialize, ToSchema)]
pub(crate) struct PlanBody {
    #[serde(flatten)]
    sections: Sections,
    share_environment_by_text: bool,
    text_consent: Option<ConsentView>,
}

#[derive(Serialize, ToSchema)]
struct ConsentView {
    consented_at: String,
    consent_source: String,
}

/// One version, as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct PlanView {
    client_id: i64,
    version: i64,
    saved_by: String,
    saved_at: String,
    /// Whether `PLAN` by text gets the plan: consent recorded and something in it goes by text.
    texted_on_request: bool,
    /// `null` for a caller who may not read the client's words (viewers).
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
#[utoipa::path(put, path = "/api/v1/clients/{id}/safety-plan", tag = "safety plans",
    params(("id" = i64, Path, description = "The client")), request_body = SafetyPlanInput,
    responses((status = 200, description = "The version saved", body = PlanView),
        (status = 409, description = "Someone else saved a version at the same moment; read it and try again", body = ErrorBody)))]
async fn put_plan(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SafetyPlanInput>,
) -> Result<axum::response::Response, ApiError> {
    let saved = safety_plans::save(&state.services(), &caller, id, &input).await?;
    Ok(audited(Json(PlanView::of(saved, true))))
}

/// The plan in force.
#[utoipa::path(get, path = "/api/v1/clients/{id}/safety-plan", tag = "safety plans",
    params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "The plan in force; viewers get no words", body = PlanView)))]
async fn get_plan(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let readable = safety_plans::in_force(&state.services(), &caller, id).await?;
    let plan = readable.plans.ok_or(ApiError::NotFound("safety plan"))?;
    Ok(audited(Json(PlanView::of(plan, readable.with_words))))
}

#[derive(Serialize, ToSchema)]
struct PlanVersions {
    client_id: i64,
    /// Newest first.
    versions: Vec<PlanView>,
}

/// Every saved version, newest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/safety-plan/versions", tag = "safety plans",
    params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "Every version; viewers get no words", body = PlanVersions)))]
async fn plan_versions(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let readable = safety_plans::versions(&state.services(), &caller, id).await?;
    let versions: Vec<PlanView> = readable
        .plans
        .into_iter()
        .map(|version| PlanView::of(version, readable.with_words))
        .collect();
    Ok(audited(Json(PlanVersions {
        client_id: id,
        versions,
    })))
}
