//! On-call and escalation endpoints: rotations and overrides, the escalation policy, the escalation board
//! (list, acknowledge, resolve), concern notices, and which peer a client's replies go to. The rules are in
//! [`crate::service::oncall`] and [`crate::service::escalations`].

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminOnly, Writer};
use super::error::ErrorBody;
use super::extract::{JsonBody, Path, Query};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::FieldError;
use crate::domain::client::parse_instant;
use crate::domain::oncall::Policy;
use crate::service::oncall::{OverrideInput, RotationInput};
use crate::service::{escalations, oncall};
use crate::storage::{EscalationView, NoticeView};

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(set_policy, show_policy))
        .routes(routes!(create_rotation, list_rotations))
        .routes(routes!(on_call))
        .routes(routes!(create_override))
        .routes(routes!(list_escalations))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
        .routes(routes!(add_note))
        .routes(routes!(list_notices))
        .routes(routes!(mark_seen))
        .routes(routes!(assign_staff))
}

/// Replaces the escalation policy: who is paged, in what order, and how long each has to acknowledge.
#[utoipa::path(put, path = "/api/v1/escalation-policy", tag = "on call", request_body = Policy,
    responses((status = 200, description = "The policy as saved", body = Policy)))]
async fn set_policy(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(policy): JsonBody<Policy>,
) -> Result<Json<Policy>, ApiError> {
    oncall::set_policy(&state.services(), &caller, &policy).await?;
    Ok(Json(policy))
}

/// The escalation policy in force.
#[utoipa::path(get, path = "/api/v1/escalation-policy", tag = "on call",
    responses((status = 200, description = "The policy in force", body = Policy),
        (status = 404, description = "No policy has been set: a crisis would page only the fallback numbers", body = ErrorBody)))]
async fn show_policy(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Policy>, ApiError> {
    state
        .store
        .escalation_policy()
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("escalation policy"))
}

#[derive(Serialize, ToSchema)]
struct RotationCreated {
    id: i64,
    name: String,
}

/// Adds a rotation: members taking shifts in turn from a start date, handing off at a local time.
#[utoipa::path(post, path = "/api/v1/rotations", tag = "on call", request_body = RotationInput,
    responses((status = 201, description = "The rotation", body = RotationCreated),
        (status = 409, description = "A rotation has that name", body = ErrorBody)))]
async fn create_rotation(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<RotationInput>,
) -> Result<(StatusCode, Json<RotationCreated>), ApiError> {
    let (id, name) = oncall::create_rotation(&state.services(), &caller, input).await?;
    Ok((StatusCode::CREATED, Json(RotationCreated { id, name })))
}

#[derive(Serialize, ToSchema)]
struct RotationView {
    id: i64,
    name: String,
    timezone: String,
    shift_hours: u32,
    handoff_time: String,
    start_date: String,
    /// Staff ids, in the order their shifts come.
    members: Vec<i64>,
    /// Who is on call now, overrides included.
    on_call_now: Option<i64>,
}

/// Every rotation, with who is on call in it now.
#[utoipa::path(get, path = "/api/v1/rotations", tag = "on call",
    responses((status = 200, description = "Every rotation", body = Vec<RotationView>)))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AtQuery {
    /// An RFC 3339 instant like `2026-12-24T23:00:00Z`; now when left out.
    at: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct OnCallView {
    rotation_id: i64,
    at: String,
    /// `null` when the rotation has nobody at that time.
    staff_id: Option<i64>,
}

/// Who is on call in a rotation at `at` (default: now), overrides included.
#[utoipa::path(get, path = "/api/v1/rotations/{id}/on-call", tag = "on call",
    params(("id" = i64, Path, description = "The rotation"), AtQuery),
    responses((status = 200, description = "Who is on call", body = OnCallView)))]
async fn on_call(
    _: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Query(query): Query<AtQuery>,
) -> Result<Json<OnCallView>, ApiError> {
    let at = match &query.at {
        Some(at) => parse_instant(at).map_err(|m| ApiError::Invalid(FieldError::new("at", m)))?,
        None => state.clock.now(),
    };
    let staff_id = oncall::on_call_at(&state.services(), id, at).await?;
    Ok(Json(OnCallView {
        rotation_id: id,
        at: at.to_string(),
        staff_id,
    }))
}

#[derive(Serialize, ToSchema)]
struct OverrideCreated {
    id: i64,
}

/// Puts someone on call in a rotation for a while (a swap, a sick day), over its shifts.
#[utoipa::path(post, path = "/api/v1/rotations/{id}/overrides", tag = "on call",
    params(("id" = i64, Path, description = "The rotation")), request_body = OverrideInput,
    responses((status = 201, description = "The override", body = OverrideCreated)))]
async fn create_override(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(rotation_id): Path<i64>,
    JsonBody(input): JsonBody<OverrideInput>,
) -> Result<(StatusCode, Json<OverrideCreated>), ApiError> {
    let id = oncall::create_override(&state.services(), &caller, rotation_id, &input).await?;
    Ok((StatusCode::CREATED, Json(OverrideCreated { id })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatusQuery {
    /// Only escalations in this state: `open`, `acknowledged` or `resolved`.
    status: Option<String>,
}

/// The escalation board: every escalation the caller may see, with its log.
#[utoipa::path(get, path = "/api/v1/escalations", tag = "escalations", params(StatusQuery),
    responses((status = 200, description = "The escalations", body = Vec<EscalationView>)))]
async fn list_escalations(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<StatusQuery>,
) -> Result<Json<Vec<EscalationView>>, ApiError> {
    Ok(Json(
        escalations::board(&state.services(), &caller, query.status.as_deref()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AcknowledgeInput {
    /// Who takes it. Staff tokens acknowledge as their own staff member and may leave this out.
    staff_id: Option<i64>,
}

/// An escalation's state after a change.
#[derive(Serialize, ToSchema)]
struct EscalationState {
    id: i64,
    /// `acknowledged` or `resolved`.
    status: &'static str,
    /// Who took it, after an acknowledgement.
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged_by: Option<i64>,
}

/// Acknowledges as a staff member, who is told by text, as with an SMS acknowledgement.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/acknowledge", tag = "escalations",
    params(("id" = i64, Path, description = "The escalation")), request_body = AcknowledgeInput,
    responses((status = 200, description = "Acknowledged; paging stops", body = EscalationState),
        (status = 409, description = "The escalation was already acknowledged or resolved", body = ErrorBody)))]
async fn acknowledge(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<AcknowledgeInput>,
) -> Result<Json<EscalationState>, ApiError> {
    let taken = escalations::acknowledge(&state.services(), &caller, id, input.staff_id).await?;
    Ok(Json(EscalationState {
        id: taken.id,
        status: "acknowledged",
        acknowledged_by: Some(taken.staff_id),
    }))
}

/// Closes an escalation; the client's held routine texts go again.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/resolve", tag = "escalations",
    params(("id" = i64, Path, description = "The escalation")),
    responses((status = 200, description = "Resolved", body = EscalationState)))]
async fn resolve(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<EscalationState>, ApiError> {
    if escalations::resolve(&state.services(), &caller, id).await? {
        Ok(Json(EscalationState {
            id,
            status: "resolved",
            acknowledged_by: None,
        }))
    } else {
        Err(ApiError::NotFound("open or acknowledged escalation"))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NoteInput {
    text: String,
}

#[derive(Serialize, ToSchema)]
struct NoteAdded {
    /// The escalation.
    id: i64,
    /// The note as kept in the escalation's log.
    note: String,
}

/// A note on what was done ("called, she is with her sister tonight"), kept in the escalation's log.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/notes", tag = "escalations",
    params(("id" = i64, Path, description = "The escalation")), request_body = NoteInput,
    responses((status = 201, description = "The note is in the log", body = NoteAdded)))]
async fn add_note(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<NoteInput>,
) -> Result<(StatusCode, Json<NoteAdded>), ApiError> {
    let note = escalations::add_note(&state.services(), &caller, id, &input.text).await?;
    Ok((StatusCode::CREATED, Json(NoteAdded { id, note })))
}

/// For the lists of things to look at (concern notices, disengagement signals).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct UnseenQuery {
    /// `true` for only those nobody has marked seen; `true` or `false`, anything else is refused.
    #[serde(default)]
    pub unseen: bool,
}

/// A notice or signal, marked seen.
#[derive(Serialize, ToSchema)]
pub(super) struct Seen {
    pub id: i64,
    /// Always true.
    pub seen: bool,
}

/// Concern notices: texts that worried the risk check without amounting to a crisis.
#[utoipa::path(get, path = "/api/v1/notices", tag = "escalations", params(UnseenQuery),
    responses((status = 200, description = "The notices the caller may see", body = Vec<NoticeView>)))]
async fn list_notices(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<UnseenQuery>,
) -> Result<Json<Vec<NoticeView>>, ApiError> {
    Ok(Json(state.store.notices(query.unseen, caller.client_filter()).await?))
}

/// Staff dismiss only their own clients' notices; anyone else's is answered as missing.
#[utoipa::path(post, path = "/api/v1/notices/{id}/seen", tag = "escalations",
    params(("id" = i64, Path, description = "The notice")),
    responses((status = 200, description = "Marked seen", body = Seen)))]
async fn mark_seen(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Seen>, ApiError> {
    oncall::mark_notice_seen(&state.services(), &caller, id).await?;
    Ok(Json(Seen { id, seen: true }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assignment {
    /// The peer the client's replies go to; `null` to assign nobody.
    staff_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct AssignmentView {
    client_id: i64,
    staff_id: Option<i64>,
}

/// Which peer a client's replies and relays go to, and whose client list they are on.
#[utoipa::path(put, path = "/api/v1/clients/{id}/assigned-staff", tag = "clients",
    params(("id" = i64, Path, description = "The client")), request_body = Assignment,
    responses((status = 200, description = "The assignment", body = AssignmentView)))]
async fn assign_staff(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<Assignment>,
) -> Result<Json<AssignmentView>, ApiError> {
    oncall::assign_staff(&state.services(), &caller, client_id, input.staff_id).await?;
    Ok(Json(AssignmentView {
        client_id,
        staff_id: input.staff_id,
    }))
}
