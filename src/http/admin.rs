//! Clients and staff under `/api/v1`: create, list and update clients, enrol them, pause and resume them,
//! and read their thread. Staff tokens see only the clients assigned to them; viewers never see the words.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::auth::{AdminOnly, Writer, audited, client_access, managed_client, visible_client};
use super::extract::{JsonBody, Path};
use super::safety_plans::{get_plan, plan_versions, put_plan};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::client::NewClientInput;
use crate::domain::{ClientStatus, FieldError, FirstName, PhoneNumber, TimeZoneName};
use crate::storage::{ClientRecord, StaffRecord, StoreError, TextRecord, UniqueConstraint};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/clients", post(create_client).get(list_clients))
        .route("/api/v1/clients/{id}", get(show_client).patch(update_client))
        .route("/api/v1/clients/{id}/pause", post(pause_client))
        .route("/api/v1/clients/{id}/resume", post(resume_client))
        .route("/api/v1/clients/{id}/enrollments", post(super::enrollments::enroll))
        .route("/api/v1/clients/{id}/messages", get(client_messages))
        .route("/api/v1/clients/{id}/relay", post(relay))
        .route("/api/v1/clients/{id}/safety-plan", get(get_plan).put(put_plan))
        .route("/api/v1/clients/{id}/safety-plan/versions", get(plan_versions))
        .route("/api/v1/staff", post(create_staff).get(list_staff))
}

#[derive(Serialize)]
struct ClientView {
    id: i64,
    phone: String,
    first_name: String,
    language: String,
    timezone: String,
    consented_at: Option<String>,
    consent_source: Option<String>,
    status: &'static str,
    opted_out_at: Option<String>,
    phone_invalid: bool,
    assigned_staff_id: Option<i64>,
    created_at: String,
}

impl From<ClientRecord> for ClientView {
    fn from(client: ClientRecord) -> Self {
        Self {
            id: client.id,
            phone: client.phone,
            first_name: client.first_name,
            language: client.language,
            timezone: client.timezone,
            consented_at: client.consented_at.map(|t| t.to_string()),
            consent_source: client.consent_source,
            status: client.status.as_str(),
            opted_out_at: client.opted_out_at.map(|t| t.to_string()),
            phone_invalid: client.phone_invalid_at.is_some(),
            assigned_staff_id: client.assigned_staff_id,
            created_at: client.created_at.to_string(),
        }
    }
}

async fn create_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<NewClientInput>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    let created = create_client_as(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Creates a client for a caller who may write; shared with the console.
pub(crate) async fn create_client_as(
    state: &AppState,
    caller: &Caller,
    input: NewClientInput,
) -> Result<ClientRecord, ApiError> {
    let now = state.clock.now();
    let client = input.validate(now).map_err(ApiError::Invalid)?;
    if !state.catalog.current().supports_language(client.language.as_str()) {
        return Err(ApiError::Invalid(FieldError::new(
            "language",
            format!(
                "no templates in `{}`; supported: {}",
                client.language.as_str(),
                state.catalog.current().program.languages.join(", ")
            ),
        )));
    }
    let id = match state.store.insert_client(&client, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(rule @ (UniqueConstraint::ClientPhone | UniqueConstraint::PhoneOfTheOtherKind))) => {
            // Staff see only their own clients, so they are not told whose the number is.
            let message = match rule {
                _ if !caller.is_admin() => "this number cannot be used for a new client; an administrator can tell why",
                UniqueConstraint::ClientPhone => "a client with this number already exists",
                _ => "this number is a staff member's; a client needs a number of their own",
            };
            return Err(ApiError::Conflict(FieldError::new("phone", message)));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(client_id = id, phone = %client.phone.masked(), "client created");
    // A client a staff member enrols is theirs; otherwise they could not see whom they just added.
    if let Some(staff_id) = caller.staff_id {
        state.store.assign_staff(id, Some(staff_id), now).await?;
    }
    load_client(state, id).await
}

async fn load_client(state: &AppState, id: i64) -> Result<ClientRecord, ApiError> {
    state.store.client(id).await?.ok_or(ApiError::NotFound("client"))
}

/// Every client the caller may see, newest first.
async fn list_clients(caller: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<ClientView>>, ApiError> {
    let clients = state.store.clients(caller.client_filter()).await?;
    Ok(Json(clients.into_iter().map(ClientView::from).collect()))
}

async fn show_client(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(visible_client(&state, &caller, id).await?.into()))
}

/// What may change about a client after creation; the phone number and opt-out state may not (a new number
/// is a new client, and only the client can opt back in).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientUpdate {
    first_name: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
}

async fn update_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(update): JsonBody<ClientUpdate>,
) -> Result<Json<ClientView>, ApiError> {
    let client = managed_client(&state, &caller, id).await?;
    let first_name = match &update.first_name {
        Some(name) => FirstName::parse(name).map_err(|m| ApiError::Invalid(FieldError::new("first_name", m)))?,
        None => FirstName::parse(&client.first_name).map_err(|m| ApiError::Internal(anyhow::anyhow!(m)))?,
    };
    let language = update.language.as_deref().unwrap_or(&client.language).trim().to_owned();
    if !state.catalog.current().supports_language(&language) {
        return Err(ApiError::Invalid(FieldError::new(
            "language",
            format!("no templates in `{language}`"),
        )));
    }
    let timezone = TimeZoneName::parse(update.timezone.as_deref().unwrap_or(&client.timezone))
        .map_err(|m| ApiError::Invalid(FieldError::new("timezone", m)))?;
    state
        .store
        .update_client(id, &first_name, &language, &timezone, state.clock.now())
        .await?;
    Ok(Json(load_client(&state, id).await?.into()))
}

async fn pause_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    set_paused(&state, &caller, id, true).await
}

async fn resume_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    set_paused(&state, &caller, id, false).await
}

/// Only for writers: the handlers take a [`Writer`].
async fn set_paused(state: &AppState, caller: &Caller, id: i64, paused: bool) -> Result<Json<ClientView>, ApiError> {
    let client = managed_client(state, caller, id).await?;
    if client.status == ClientStatus::OptedOut {
        return Err(ApiError::Conflict(FieldError::new(
            "status",
            "client opted out; only the client can opt back in, by texting START",
        )));
    }
    state.store.set_client_paused(id, paused, state.clock.now()).await?;
    tracing::info!(client_id = id, paused, "client status changed");
    Ok(Json(load_client(state, id).await?.into()))
}

#[derive(Serialize)]
struct MessageView {
    id: i64,
    kind: String,
    step: Option<String>,
    template: Option<String>,
    /// `None` for viewers, who see that a text went, never what it said.
    body: Option<String>,
    status: String,
    status_reason: Option<String>,
    provider_sid: Option<String>,
    provider_status: Option<String>,
    error_code: Option<i64>,
    attempts: i64,
    planned_at: String,
    send_at: String,
    sent_at: Option<String>,
    updated_at: String,
    /// The crisis escalation that held this routine text back while it was open, if one did; the
    /// `status_reason` says until when, or that it was released.
    held_by_escalation: Option<i64>,
    /// For an appointment reminder, what the appointment is for (`court_date`…).
    appointment_kind: Option<String>,
}

fn rfc3339(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl From<TextRecord> for MessageView {
    fn from(text: TextRecord) -> Self {
        Self {
            id: text.id,
            kind: text.kind,
            step: text.step,
            template: text.template,
            body: Some(text.body),
            status: text.status,
            status_reason: text.status_reason,
            provider_sid: text.provider_sid,
            provider_status: text.provider_status,
            error_code: text.error_code,
            attempts: text.attempts,
            planned_at: rfc3339(text.planned_at),
            send_at: rfc3339(text.send_at),
            sent_at: text.sent_at.map(rfc3339),
            updated_at: rfc3339(text.updated_at),
            held_by_escalation: text.held_by_escalation,
            appointment_kind: text.appointment_kind,
        }
    }
}

#[derive(Serialize)]
struct MessageList {
    client_id: i64,
    /// Texts to the client, oldest first.
    messages: Vec<MessageView>,
    /// Texts from the client, oldest first.
    received: Vec<ReceivedView>,
}

#[derive(Serialize)]
struct ReceivedView {
    id: i64,
    body: Option<String>,
    risk_tier: String,
    received_at: String,
}

/// A client's thread, both ways. Every read is audited: these are the words of someone in treatment.
async fn client_messages(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let (_, access) = client_access(&state, &caller, id).await?;
    let bodies = access.may_read_words();
    let messages = state
        .store
        .texts_for_client(id)
        .await?
        .into_iter()
        .map(MessageView::from)
        .map(|mut view| {
            if !bodies {
                view.body = None;
            }
            view
        })
        .collect();
    let received = state
        .store
        .received_from_client(id)
        .await?
        .into_iter()
        .map(|text| ReceivedView {
            id: text.id,
            body: bodies.then_some(text.body),
            risk_tier: text.risk_tier,
            received_at: rfc3339(text.received_at),
        })
        .collect();
    Ok(audited(Json(MessageList {
        client_id: id,
        messages,
        received,
    })))
}

/// The provider's limit for one text.
const MAX_RELAY_CHARS: usize = 1600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RelayInput {
    pub text: String,
}

/// Texts the client from the service number, as `R <ref> <message>` by SMS does.
async fn relay(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<RelayInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    relay_as(&state, &caller, id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "client_id": id, "status": "pending" })),
    ))
}

/// Queues a relay to a client for a caller the access rule lets text them (see
/// [`crate::access::ClientAccess::may_relay`]); shared with the console.
pub(crate) async fn relay_as(state: &AppState, caller: &Caller, id: i64, input: &RelayInput) -> Result<(), ApiError> {
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > MAX_RELAY_CHARS {
        return Err(ApiError::Invalid(FieldError::new(
            "text",
            format!("must be between 1 and {MAX_RELAY_CHARS} characters"),
        )));
    }
    let (client, access) = client_access(state, caller, id).await?;
    if !access.may_relay() {
        return Err(ApiError::Forbidden(
            "only the client's assigned peer, staff in their escalation, or an admin may text them",
        ));
    }
    if client.status == ClientStatus::OptedOut || client.phone_invalid_at.is_some() {
        return Err(ApiError::Conflict(FieldError::new(
            "client",
            "client opted out or their number cannot be reached",
        )));
    }
    let now = state.clock.now();
    let nonce = crate::access::new_secret("")
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("the random generator failed")))?;
    let relay = crate::storage::NewText {
        client_id: Some(client.id),
        staff_id: None,
        enrollment_id: None,
        kind: crate::domain::MessageKind::Relay,
        idempotency_key: format!("relay:{}:{nonce}", caller.name),
        to_phone: client.phone.clone(),
        body: text.to_owned(),
        template: None,
        step: None,
        planned_at: now,
        expires_at: None,
    };
    state.store.enqueue(&relay, now).await?;
    state.scheduler.nudge();
    tracing::info!(client_id = client.id, caller = caller.name, "relay queued");
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffInput {
    name: String,
    phone: String,
}

#[derive(Serialize)]
struct StaffView {
    id: i64,
    name: String,
    phone: String,
    created_at: String,
    opted_out: bool,
    /// A `TETHER_FALLBACK_PAGE_TO` number.
    fallback: bool,
}

impl From<StaffRecord> for StaffView {
    fn from(staff: StaffRecord) -> Self {
        Self {
            id: staff.id,
            name: staff.name,
            phone: staff.phone,
            created_at: staff.created_at.to_string(),
            opted_out: staff.opted_out,
            fallback: staff.fallback,
        }
    }
}

/// Adds a staff member who can later be put on call or assigned clients.
async fn create_staff(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<StaffInput>,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let name = FirstName::parse(&input.name).map_err(|m| ApiError::Invalid(FieldError::new("name", m)))?;
    let phone = PhoneNumber::parse(&input.phone).map_err(|m| ApiError::Invalid(FieldError::new("phone", m)))?;
    let now = state.clock.now();
    let id = match state.store.insert_staff(&name, &phone, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(UniqueConstraint::StaffPhone)) => {
            return Err(ApiError::Conflict(FieldError::new(
                "phone",
                "a staff member with this number already exists",
            )));
        }
        Err(StoreError::Conflict(UniqueConstraint::PhoneOfTheOtherKind)) => {
            return Err(ApiError::Conflict(FieldError::new(
                "phone",
                "this number is a client's; a staff member needs a number of their own",
            )));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(staff_id = id, phone = %phone.masked(), "staff member added");
    Ok((
        StatusCode::CREATED,
        Json(StaffView {
            id,
            name: name.as_str().to_owned(),
            phone: phone.as_str().to_owned(),
            created_at: now.to_string(),
            opted_out: false,
            fallback: false,
        }),
    ))
}

async fn list_staff(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<StaffView>>, ApiError> {
    Ok(Json(
        state.store.staff().await?.into_iter().map(StaffView::from).collect(),
    ))
}
