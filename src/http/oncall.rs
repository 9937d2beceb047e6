//! On-call and escalation endpoints: rotations and overrides, the escalation policy, the escalation board
//! (list, acknowledge, resolve), concern notices, and which peer a client's replies go to. The rules are in
//! [`crate::service::oncall`] and [`crate::service::escalations`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::{AdminOnly, Writer};
use super::extract::{JsonBody, Path, Query};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::FieldError;
use crate::domain::client::parse_instant;
use crate::domain::oncall::Policy;
use crate::service::oncall::{OverrideInput, RotationInput};
use crate::service::{escalations, oncall};
use crate::storage::{EscalationView, NoticeView};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/escalation-policy", put(set_policy).get(show_policy))
        .route("/api/v1/rotations", post(create_rotation).get(list_rotations))
        .route("/api/v1/rotations/{id}/on-call", get(on_call))
        .route("/api/v1/rotations/{id}/overrides", post(create_override))
        .route("/api/v1/escalations", get(list_escalations))
        .route("/api/v1/escalations/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/escalations/{id}/resolve", post(resolve))
        .route("/api/v1/escalations/{id}/notes", post(add_note))
        .route("/api/v1/notices", get(list_notices))
        .route("/api/v1/notices/{id}/seen", post(mark_seen))
        .route("/api/v1/clients/{id}/assigned-staff", put(assign_staff))
}

async fn set_policy(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(policy): JsonBody<Policy>,
) -> Result<Json<Policy>, ApiError> {
    oncall::set_policy(&state.services(), &caller, &policy).await?;
    Ok(Json(policy))
}

async fn show_policy(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Policy>, ApiError> {
    state
        .store
        .escalation_policy()
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("escalation policy"))
}

async fn create_rotation(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<RotationInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (id, name) = oncall::create_rotation(&state.services(), &caller, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": name }))))
}

#[derive(Serialize)]
struct RotationView {
    id: i64,
    name: String,
    timezone: String,
    shift_hours: u32,
    handoff_time: String,
    start_date: String,
    members: Vec<i64>,
    on_call_now: Option<i64>,
}

async fn list_rotations(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<RotationView>>, ApiError> {
    let rotations = oncall::rotations(&state.services()).await?;
    Ok(Json(
        rotations
            .into_iter()
            .map(|listed| RotationView {
                on_call_now: listed.on_call_now,
                id: listed.rotation.id,
                timezone: listed.rotation.zone.iana_name().unwrap_or_default().to_owned(),
                shift_hours: listed.rotation.shift_hours,
                handoff_time: listed.rotation.handoff.strftime("%H:%M").to_string(),
                start_date: listed.rotation.start_date.to_string(),
                members: listed.rotation.members,
                name: listed.rotation.name,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct AtQuery {
    at: Option<String>,
}

/// Who is on call in a rotation at `at` (default: now), overrides included.
async fn on_call(
    _: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Query(query): Query<AtQuery>,
) -> Result<Json<Value>, ApiError> {
    let at = match &query.at {
        Some(at) => parse_instant(at).map_err(|m| ApiError::Invalid(FieldError::new("at", m)))?,
        None => state.clock.now(),
    };
    let staff_id = oncall::on_call_at(&state.services(), id, at).await?;
    Ok(Json(
        json!({ "rotation_id": id, "at": at.to_string(), "staff_id": staff_id }),
    ))
}

async fn create_override(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(rotation_id): Path<i64>,
    JsonBody(input): JsonBody<OverrideInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = oncall::create_override(&state.services(), &caller, rotation_id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct StatusQuery {
    status: Option<String>,
}

async fn list_escalations(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<StatusQuery>,
) -> Result<Json<Vec<EscalationView>>, ApiError> {
    Ok(Json(
        escalations::board(&state.services(), &caller, query.status.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcknowledgeInput {
    /// Who takes it. Staff tokens acknowledge as their own staff member and may leave this out.
    staff_id: Option<i64>,
}

/// Acknowledges as a staff member, who is told by text, as with an SMS acknowledgement.
async fn acknowledge(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<AcknowledgeInput>,
) -> Result<Json<Value>, ApiError> {
    let taken = escalations::acknowledge(&state.services(), &caller, id, input.staff_id).await?;
    Ok(Json(
        json!({ "id": taken.id, "status": "acknowledged", "acknowledged_by": taken.staff_id }),
    ))
}

async fn resolve(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    if escalations::resolve(&state.services(), &caller, id).await? {
        Ok(Json(json!({ "id": id, "status": "resolved" })))
    } else {
        Err(ApiError::NotFound("open or acknowledged escalation"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteInput {
    text: String,
}

/// A note on what was done ("called, she is with her sister tonight"), kept in the escalation's log.
async fn add_note(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<NoteInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let note = escalations::add_note(&state.services(), &caller, id, &input.text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "note": note }))))
}

async fn list_notices(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<NoticeView>>, ApiError> {
    let unseen_only = query.get("unseen").is_some_and(|v| v == "true");
    Ok(Json(state.store.notices(unseen_only, caller.client_filter()).await?))
}

/// Staff dismiss only their own clients' notices; anyone else's is answered as missing.
async fn mark_seen(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    oncall::mark_notice_seen(&state.services(), &caller, id).await?;
    Ok(Json(json!({ "id": id, "seen": true })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignInput {
    staff_id: Option<i64>,
}

async fn assign_staff(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<AssignInput>,
) -> Result<Json<Value>, ApiError> {
    oncall::assign_staff(&state.services(), &caller, client_id, input.staff_id).await?;
    Ok(Json(json!({ "client_id": client_id, "staff_id": input.staff_id })))
}
