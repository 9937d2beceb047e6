//! Clients and staff under `/api/v1`: create, list and update clients, enrol them, pause and resume them,
//! and read their thread. Staff tokens see only the clients assigned to them; viewers never see the words.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminOnly, Writer, audited};
use super::error::ErrorBody;
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::client::NewClientInput;
use crate::service::clients::{self, ClientChanges, RelayInput, StaffInput};
use crate::storage::{ClientRecord, StaffRecord, TextRecord};

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(show_client, update_client))
        .routes(routes!(pause_client))
        .routes(routes!(resume_client))
        .routes(routes!(client_messages))
        .routes(routes!(relay))
        .routes(routes!(create_staff, list_staff))
}

#[derive(Serialize, ToSchema)]
struct ClientView {
    id: i64,
    phone: String,
    first_name: String,
    language: String,
    timezone: String,
    consented_at: Option<String>,
    consent_source: Option<String>,
    /// `active`, `paused` or `opted_out`.
    status: &'static str,
    opted_out_at: Option<String>,
    /// The provider said the number cannot take texts; nothing more is sent to it.
    phone_invalid: bool,
    assigned_staff_id: Option<i64>,
    created_at: String,
}

impl From<ClientRecord> for ClientView {
    fn from(client: ClientRecord) -> Self {
        Self {
            id: client.id,
            phone: client.phone.as_str().to_owned(),
            first_name: client.first_name.as_str().to_owned(),
            language: client.language,
            timezone: client.timezone.as_str().to_owned(),
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

/// Adds a client with their consent to be texted; nothing is sent until they are enrolled.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = NewClientInput,
    responses((status = 201, description = "The client, ready to be enrolled", body = ClientView),
        (status = 409, description = "The phone number is already a client's or a staff member's", body = ErrorBody)))]
async fn create_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<NewClientInput>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    let created = clients::create(&state.services(), &caller, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Every client the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients",
    responses((status = 200, description = "The clients", body = Vec<ClientView>)))]
async fn list_clients(caller: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<ClientView>>, ApiError> {
    let clients = state.store.clients(caller.client_filter()).await?;
    Ok(Json(clients.into_iter().map(ClientView::from).collect()))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "The client", body = ClientView)))]
async fn show_client(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(clients::visible(&state.services(), &caller, id).await?.into()))
}

/// Changes a client's name, language or time zone; fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = i64, Path, description = "The client")),
    request_body = ClientChanges, responses((status = 200, description = "The client as changed", body = ClientView)))]
async fn update_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(changes): JsonBody<ClientChanges>,
) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(
        clients::update(&state.services(), &caller, id, &changes).await?.into(),
    ))
}

/// Stops the client's scheduled texts: those due while paused are skipped, not sent later. Their replies,
/// crisis handling and STOP still work.
#[utoipa::path(post, path = "/api/v1/clients/{id}/pause", tag = "clients", params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "The client, paused", body = ClientView),
        (status = 409, description = "The client opted out; only they can opt back in", body = ErrorBody)))]
async fn pause_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    set_paused(&state, &caller, id, true).await
}

/// Starts a paused client's scheduled texts again, from the next one due.
#[utoipa::path(post, path = "/api/v1/clients/{id}/resume", tag = "clients", params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "The client, active again", body = ClientView),
        (status = 409, description = "The client opted out; only they can opt back in", body = ErrorBody)))]
async fn resume_client(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<ClientView>, ApiError> {
    set_paused(&state, &caller, id, false).await
}

async fn set_paused(state: &AppState, caller: &Caller, id: i64, paused: bool) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(
        clients::set_paused(&state.services(), caller, id, paused).await?.into(),
    ))
}

#[derive(Serialize, ToSchema)]
struct MessageView {
    id: i64,
    kind: String,
    step: Option<String>,
    template: Option<String>,
    /// `null` for viewers, who see that a text went, never what it said.
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

impl MessageView {
    fn of(text: TextRecord, with_words: bool) -> Self {
        Self {
            id: text.id,
            kind: text.kind,
            step: text.step,
            template: text.template,
            body: with_words.then_some(text.body),
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

#[derive(Serialize, ToSchema)]
struct MessageList {
    client_id: i64,
    /// Texts to the client, oldest first.
    messages: Vec<MessageView>,
    /// Texts from the client, oldest first.
    received: Vec<ReceivedView>,
}

#[derive(Serialize, ToSchema)]
struct ReceivedView {
    id: i64,
    body: Option<String>,
    risk_tier: String,
    received_at: String,
}

/// A client's thread, both ways. Every read is audited: these are the words of someone in treatment.
#[utoipa::path(get, path = "/api/v1/clients/{id}/messages", tag = "clients", params(("id" = i64, Path, description = "The client")),
    responses((status = 200, description = "Texts both ways; viewers get no words", body = MessageList)))]
async fn client_messages(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, ApiError> {
    let thread = clients::thread(&state.services(), &caller, id).await?;
    let with_words = thread.with_words;
    let messages = thread
        .sent
        .into_iter()
        .map(|text| MessageView::of(text, with_words))
        .collect();
    let received = thread
        .received
        .into_iter()
        .map(|text| ReceivedView {
            id: text.id,
            body: with_words.then_some(text.body),
            risk_tier: text.risk_tier,
            received_at: rfc3339(text.received_at),
        })
        .collect();
    Ok(audited(Json(MessageList {
        client_id: thread.client_id,
        messages,
        received,
    })))
}

#[derive(Serialize, ToSchema)]
struct RelayQueued {
    client_id: i64,
    /// Always `pending`: the text is in the outbox; the client's thread shows when it went.
    status: &'static str,
}

/// Texts the client from the service number, as `R <ref> <message>` by SMS does.
#[utoipa::path(post, path = "/api/v1/clients/{id}/relay", tag = "clients", params(("id" = i64, Path, description = "The client")), request_body = RelayInput,
    responses((status = 201, description = "The text is queued", body = RelayQueued),
        (status = 409, description = "The client opted out", body = ErrorBody)))]
async fn relay(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<RelayInput>,
) -> Result<(StatusCode, Json<RelayQueued>), ApiError> {
    clients::relay(&state.services(), &caller, id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(RelayQueued {
            client_id: id,
            status: "pending",
        }),
    ))
}

#[derive(Serialize, ToSchema)]
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
            phone: staff.phone.as_str().to_owned(),
            created_at: staff.created_at.to_string(),
            opted_out: staff.opted_out,
            fallback: staff.fallback,
        }
    }
}

/// Adds a staff member who can later be put on call or assigned clients.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = StaffInput,
    responses((status = 201, description = "The staff member", body = StaffView),
        (status = 409, description = "The phone number is already a staff member's or a client's", body = ErrorBody)))]
async fn create_staff(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    JsonBody(input): JsonBody<StaffInput>,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let added = clients::add_staff(&state.services(), &caller, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffView {
            id: added.id,
            name: added.name.as_str().to_owned(),
            phone: added.phone.as_str().to_owned(),
            created_at: added.created_at.to_string(),
            opted_out: false,
            fallback: false,
        }),
    ))
}

/// Every staff member.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff",
    responses((status = 200, description = "Every staff member", body = Vec<StaffView>)))]
async fn list_staff(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<StaffView>>, ApiError> {
    Ok(Json(
        state.store.staff().await?.into_iter().map(StaffView::from).collect(),
    ))
}
