//! Appointments (create, move, cancel) with their reminders, medication reminders, and the staff task list;
//! the rules are in [`crate::service::reminders`].

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Writer;
use super::error::ErrorBody;
use super::extract::{JsonBody, Path, Query};
use super::oncall::{Seen, UnseenQuery};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::service::reminders::{self, AppointmentInput, MedicationInput};
use crate::storage::{AppointmentView, SignalView, TaskView};

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_appointment))
        .routes(routes!(show_appointment, move_appointment))
        .routes(routes!(cancel_appointment))
        .routes(routes!(create_medication))
        .routes(routes!(stop_medication))
        .routes(routes!(list_tasks))
        .routes(routes!(list_signals))
        .routes(routes!(mark_signal_seen))
}

/// Books an appointment; its reminders are planned at once, in the client's time zone.
#[utoipa::path(post, path = "/api/v1/clients/{id}/appointments", tag = "reminders",
    params(("id" = i64, Path, description = "The client")), request_body = AppointmentInput,
    responses((status = 201, description = "The appointment", body = AppointmentView),
        (status = 409, description = "The client opted out", body = ErrorBody)))]
async fn create_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<AppointmentInput>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let booked = reminders::book_appointment(&state.services(), &caller, client_id, &input).await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

/// An appointment and whether the client confirmed it.
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "reminders",
    params(("id" = i64, Path, description = "The appointment")),
    responses((status = 200, description = "The appointment", body = AppointmentView)))]
async fn show_appointment(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(reminders::appointment(&state.services(), &caller, id).await?))
}

/// Moves an appointment; its waiting reminders are replaced, never sent for the old time.
#[utoipa::path(put, path = "/api/v1/appointments/{id}", tag = "reminders",
    params(("id" = i64, Path, description = "The appointment")), request_body = AppointmentInput,
    responses((status = 200, description = "The appointment, moved", body = AppointmentView),
        (status = 409, description = "The client opted out, or the appointment was cancelled", body = ErrorBody)))]
async fn move_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<AppointmentInput>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(
        reminders::move_appointment(&state.services(), &caller, id, &input).await?,
    ))
}

/// Cancels an appointment and every reminder of it not yet sent.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/cancel", tag = "reminders",
    params(("id" = i64, Path, description = "The appointment")),
    responses((status = 200, description = "The appointment, cancelled", body = AppointmentView)))]
async fn cancel_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(
        reminders::cancel_appointment(&state.services(), &caller, id).await?,
    ))
}

#[derive(Serialize, ToSchema)]
struct MedicationView {
    id: i64,
    client_id: i64,
    /// The cron pattern, as saved.
    schedule: String,
    /// The pattern in words, like "At 20:00".
    describes: String,
    night_ok: bool,
    /// When the first reminder goes.
    first_at: String,
}

/// Starts a recurring medication reminder on a cron pattern in the client's time zone.
#[utoipa::path(post, path = "/api/v1/clients/{id}/medications", tag = "reminders",
    params(("id" = i64, Path, description = "The client")), request_body = MedicationInput,
    responses((status = 201, description = "The reminder, and when it first goes", body = MedicationView),
        (status = 409, description = "The client opted out", body = ErrorBody)))]
async fn create_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<MedicationInput>,
) -> Result<(StatusCode, Json<MedicationView>), ApiError> {
    let started = reminders::start_medication(&state.services(), &caller, client_id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(MedicationView {
            id: started.id,
            client_id: started.client_id,
            schedule: started.recurrence.as_str().to_owned(),
            describes: started.recurrence.describe(),
            night_ok: started.night_ok,
            first_at: started.first_at.to_string(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
struct MedicationStopped {
    id: i64,
    /// Always `stopped`.
    status: &'static str,
}

/// Stops a medication reminder; none of it goes after this.
#[utoipa::path(post, path = "/api/v1/medications/{id}/stop", tag = "reminders",
    params(("id" = i64, Path, description = "The medication reminder")),
    responses((status = 200, description = "Stopped", body = MedicationStopped)))]
async fn stop_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<MedicationStopped>, ApiError> {
    reminders::stop_medication(&state.services(), &caller, id).await?;
    Ok(Json(MedicationStopped { id, status: "stopped" }))
}

/// Open tasks for staff (a client asked to reschedule, say), for the clients the caller may see.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "reminders",
    responses((status = 200, description = "The open tasks", body = Vec<TaskView>)))]
async fn list_tasks(caller: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<TaskView>>, ApiError> {
    Ok(Json(state.store.open_tasks(caller.client_filter()).await?))
}

/// Early warnings about clients: gone quiet, an appointment started without being confirmed, missed doses.
#[utoipa::path(get, path = "/api/v1/signals", tag = "reminders", params(UnseenQuery),
    responses((status = 200, description = "The signals the caller may see", body = Vec<SignalView>)))]
async fn list_signals(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<UnseenQuery>,
) -> Result<Json<Vec<SignalView>>, ApiError> {
    Ok(Json(state.store.signals(query.unseen, caller.client_filter()).await?))
}

/// Staff dismiss only their own clients' signals; anyone else's is answered as missing.
#[utoipa::path(post, path = "/api/v1/signals/{id}/seen", tag = "reminders",
    params(("id" = i64, Path, description = "The signal")),
    responses((status = 200, description = "Marked seen", body = Seen)))]
async fn mark_signal_seen(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Seen>, ApiError> {
    reminders::mark_signal_seen(&state.services(), &caller, id).await?;
    Ok(Json(Seen { id, seen: true }))
}
