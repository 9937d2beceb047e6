//! On-call and escalation endpoints: rotations and overrides, the escalation policy, the escalation board
//! (list, acknowledge, resolve), concern notices, and which peer a client's replies go to.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::{AdminOnly, Writer};
use super::extract::{JsonBody, Path, Query};
use super::{ApiError, AppState};
use crate::access::{Caller, EscalationAccess, escalation_access};
use crate::domain::client::parse_instant;
use crate::domain::limits;
use crate::domain::oncall::{self, Override, Policy, Target};
use crate::domain::{FieldError, MessageKind, TimeZoneName};
use crate::scheduling::quiet_hours::parse_clock_time;
use crate::storage::{AckOutcome, EscalationView, NewRotation, NewText, NoticeView, StoreError, UniqueConstraint};
use crate::templates::StaffContext;

/// Longer than a day between pages is no escalation at all; zero would page every step at once.
const MAX_STEP_DELAY_MINUTES: u32 = 24 * 60;
const MAX_REPEAT: u32 = 10;

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

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(FieldError::new(field, message))
}

async fn require_staff(state: &AppState, id: i64, field: &str) -> Result<(), ApiError> {
    match state.store.staff_member(id).await? {
        Some(_) => Ok(()),
        None => Err(invalid(field, format!("no staff member with id {id}"))),
    }
}

async fn set_policy(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(policy): JsonBody<Policy>,
) -> Result<Json<Policy>, ApiError> {
    if policy.steps.is_empty() {
        return Err(invalid("steps", "must list at least one step"));
    }
    if policy.steps.len() > limits::MAX_POLICY_STEPS {
        return Err(invalid(
            "steps",
            format!("must list at most {} steps", limits::MAX_POLICY_STEPS),
        ));
    }
    if policy.repeat > MAX_REPEAT {
        return Err(invalid("repeat", format!("must be at most {MAX_REPEAT}")));
    }
    let rotations = state.store.rotations().await?;
    for (index, step) in policy.steps.iter().enumerate() {
        if !(1..=MAX_STEP_DELAY_MINUTES).contains(&step.delay_minutes) {
            return Err(invalid(
                format!("steps[{index}].delay_minutes"),
                format!("must be between 1 and {MAX_STEP_DELAY_MINUTES}"),
            ));
        }
        match step.target {
            Target::Rotation(id) if !rotations.iter().any(|r| r.id == id) => {
                return Err(invalid(
                    format!("steps[{index}].target"),
                    format!("no rotation with id {id}"),
                ));
            }
            Target::Staff(id) => require_staff(&state, id, &format!("steps[{index}].target")).await?,
            Target::Rotation(_) => {}
        }
    }
    state.store.set_escalation_policy(&policy, state.clock.now()).await?;
    tracing::info!(
        steps = policy.steps.len(),
        repeat = policy.repeat,
        "escalation policy replaced"
    );
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotationInput {
    name: String,
    timezone: String,
    shift_hours: u32,
    handoff_time: String,
    start_date: String,
    members: Vec<i64>,
}

async fn create_rotation(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<RotationInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if name.chars().count() > limits::MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("must be at most {} characters", limits::MAX_NAME_CHARS),
        ));
    }
    let zone = TimeZoneName::parse(&input.timezone).map_err(|m| invalid("timezone", m))?;
    if !(1..=24 * 28).contains(&input.shift_hours) {
        return Err(invalid("shift_hours", "must be between 1 and 672 (four weeks)"));
    }
    parse_clock_time(&input.handoff_time).map_err(|m| invalid("handoff_time", m))?;
    let start_date: Date = input.start_date.parse().map_err(|_| {
        invalid(
            "start_date",
            format!("`{}` is not a date like 2026-03-01", input.start_date),
        )
    })?;
    let latest_start = (state.clock.now() + limits::MAX_PLANNED_AHEAD)
        .in_tz("UTC")
        .map_err(|err| ApiError::Internal(err.into()))?
        .date();
    if start_date > latest_start {
        return Err(invalid("start_date", "must be at most 2 years ahead"));
    }
    if input.members.is_empty() {
        return Err(invalid("members", "must list at least one staff member"));
    }
    for (index, id) in input.members.iter().enumerate() {
        require_staff(&state, *id, &format!("members[{index}]")).await?;
    }
    let rotation = NewRotation {
        name,
        timezone: zone.as_str().to_owned(),
        shift_hours: input.shift_hours,
        handoff_time: input.handoff_time.trim().to_owned(),
        start_date,
        members: input.members,
    };
    let id = match state.store.insert_rotation(&rotation, state.clock.now()).await {
        Ok(id) => id,
        Err(StoreError::Conflict(UniqueConstraint::RotationName)) => {
            return Err(ApiError::Conflict(FieldError::new(
                "name",
                "a rotation with this name exists",
            )));
        }
        Err(err) => return Err(err.into()),
    };
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": rotation.name }))))
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
    let now = state.clock.now();
    let mut views = Vec::new();
    for rotation in state.store.rotations().await? {
        let overrides = state.store.overrides_at(rotation.id, now).await?;
        views.push(RotationView {
            on_call_now: oncall::on_call(&rotation, &overrides, now),
            id: rotation.id,
            timezone: rotation.zone.iana_name().unwrap_or_default().to_owned(),
            shift_hours: rotation.shift_hours,
            handoff_time: rotation.handoff.strftime("%H:%M").to_string(),
            start_date: rotation.start_date.to_string(),
            members: rotation.members,
            name: rotation.name,
        });
    }
    Ok(Json(views))
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
        Some(at) => parse_instant(at).map_err(|m| invalid("at", m))?,
        None => state.clock.now(),
    };
    let rotation = state
        .store
        .rotations()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ApiError::NotFound("rotation"))?;
    let overrides = state.store.overrides_at(id, at).await?;
    Ok(Json(
        json!({ "rotation_id": id, "at": at.to_string(), "staff_id": oncall::on_call(&rotation, &overrides, at) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideInput {
    staff_id: i64,
    starts_at: String,
    ends_at: String,
}

async fn create_override(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(rotation_id): Path<i64>,
    JsonBody(input): JsonBody<OverrideInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !state.store.rotations().await?.iter().any(|r| r.id == rotation_id) {
        return Err(ApiError::NotFound("rotation"));
    }
    require_staff(&state, input.staff_id, "staff_id").await?;
    let starts_at = parse_instant(&input.starts_at).map_err(|m| invalid("starts_at", m))?;
    let ends_at = parse_instant(&input.ends_at).map_err(|m| invalid("ends_at", m))?;
    if ends_at <= starts_at {
        return Err(invalid("ends_at", "must be after starts_at"));
    }
    let cover = Override {
        staff_id: input.staff_id,
        starts_at,
        ends_at,
    };
    let id = state
        .store
        .insert_override(rotation_id, &cover, state.clock.now())
        .await?;
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
    if let Some(status) = &query.status
        && !["open", "acknowledged", "resolved"].contains(&status.as_str())
    {
        return Err(invalid("status", "must be open, acknowledged or resolved"));
    }
    let now = state.clock.now();
    let escalations = state.store.escalations(query.status.as_deref(), now).await?;
    Ok(Json(as_seen_by(&caller, escalations, now)))
}

/// Escalations as `caller` may see them (see [`escalation_access`]): every staff member sees each one,
/// its status and its reply code, so anyone can take over; notes, which are staff's words about a client,
/// only those who respond to it; viewers neither codes nor notes (they see that a note was written).
/// Shared by the API and the console.
pub(crate) fn as_seen_by(caller: &Caller, mut escalations: Vec<EscalationView>, now: Timestamp) -> Vec<EscalationView> {
    for escalation in &mut escalations {
        let access = escalation_access(caller, escalation.assigned_staff_id, &escalation.parties, now);
        if access < EscalationAccess::Board {
            escalation.code = None;
        }
        if access < EscalationAccess::Responder {
            for note in escalation.events.iter_mut().filter(|e| e.kind == "note") {
                note.detail = String::new();
            }
        }
    }
    escalations
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
    let staff_id = match (input.staff_id, caller.staff_id) {
        (Some(requested), Some(own)) if requested != own && !caller.is_admin() => {
            return Err(ApiError::Forbidden("staff acknowledge as themselves"));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Err(invalid("staff_id", "say which staff member takes the escalation")),
    };
    acknowledge_as(&state, id, staff_id).await.map(Json)
}

/// Shared by the API and the console's escalation board.
pub(crate) async fn acknowledge_as(state: &AppState, id: i64, staff_id: i64) -> Result<Value, ApiError> {
    let Some(member) = state.store.staff_member(staff_id).await? else {
        return Err(invalid("staff_id", format!("no staff member with id {staff_id}")));
    };
    let now = state.clock.now();
    let outcome = state
        .store
        .acknowledge_escalation(id, member.id, now)
        .await?
        .ok_or(ApiError::NotFound("escalation"))?;
    match outcome {
        AckOutcome::Acknowledged { code, reference, .. } => {
            let body = state
                .catalog
                .current()
                .render_staff(
                    "staff/ack_confirmation",
                    &StaffContext {
                        code: &code,
                        reference: &reference,
                        body: "",
                    },
                )
                .map_err(|err| ApiError::Internal(err.into()))?;
            let confirmation = NewText {
                client_id: None,
                staff_id: Some(member.id),
                enrollment_id: None,
                kind: MessageKind::StaffNotice,
                idempotency_key: format!("ack:{id}:{}", member.id),
                to_phone: member.phone.clone(),
                body,
                template: Some("staff/ack_confirmation".into()),
                step: None,
                planned_at: now,
                expires_at: None,
            };
            state.store.enqueue(&confirmation, now).await?;
            state.scheduler.nudge();
            tracing::info!(
                escalation_id = id,
                staff_id = member.id,
                "escalation acknowledged through the API"
            );
            Ok(json!({ "id": id, "status": "acknowledged", "acknowledged_by": member.id }))
        }
        AckOutcome::AlreadyAcknowledged { .. } | AckOutcome::UnknownCode => Err(ApiError::Conflict(FieldError::new(
            "status",
            "escalation is not open; it was already acknowledged or resolved",
        ))),
    }
}

/// Staff who respond to escalation `id` (see [`escalation_access`]): only they resolve it or write in its
/// notes. Anyone else on staff sees it on the board and takes it over by acknowledging it first.
pub(crate) async fn require_responder(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let (parties, assigned_staff_id) = state
        .store
        .escalation_with_parties(id)
        .await?
        .ok_or(ApiError::NotFound("escalation"))?;
    if escalation_access(caller, assigned_staff_id, &parties, state.clock.now()) == EscalationAccess::Responder {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only staff paged for this escalation, who took it, or the client's peer may do this; acknowledge it to take it over",
        ))
    }
}

async fn resolve(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    require_responder(&state, &caller, id).await?;
    if state.store.resolve_escalation(id, state.clock.now()).await? {
        // The client's texts it held are due now.
        state.scheduler.nudge();
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
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(invalid("text", "must be between 1 and 2,000 characters"));
    }
    require_responder(&state, &caller, id).await?;
    if !state
        .store
        .add_escalation_note(id, &caller.name, caller.staff_id, text, state.clock.now())
        .await?
    {
        return Err(ApiError::NotFound("escalation"));
    }
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "note": text }))))
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
    let assigned_to = caller.client_filter();
    if state.store.mark_notice_seen(id, assigned_to, state.clock.now()).await? {
        Ok(Json(json!({ "id": id, "seen": true })))
    } else if assigned_to.is_some() {
        Err(ApiError::Hidden("notice"))
    } else {
        Err(ApiError::NotFound("notice"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignInput {
    staff_id: Option<i64>,
}

async fn assign_staff(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<AssignInput>,
) -> Result<Json<Value>, ApiError> {
    if let Some(staff_id) = input.staff_id {
        require_staff(&state, staff_id, "staff_id").await?;
    }
    if state
        .store
        .assign_staff(client_id, input.staff_id, state.clock.now())
        .await?
    {
        Ok(Json(json!({ "client_id": client_id, "staff_id": input.staff_id })))
    } else {
        Err(ApiError::NotFound("client"))
    }
}
