//! Appointments (create, move, cancel) with their reminders, medication reminders, and the staff task list;
//! the rules are in [`crate::service::reminders`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::auth::Writer;
use super::extract::{JsonBody, Path, Query};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::service::reminders::{self, AppointmentInput, MedicationInput};
use crate::storage::{AppointmentView, SignalView};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/clients/{id}/appointments", post(create_appointment))
        .route("/api/v1/appointments/{id}", get(show_appointment).put(move_appointment))
        .route("/api/v1/appointments/{id}/cancel", post(cancel_appointment))
        .route("/api/v1/clients/{id}/medications", post(create_medication))
        .route("/api/v1/medications/{id}/stop", post(stop_medication))
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/signals", get(list_signals))
        .route("/api/v1/signals/{id}/seen", post(mark_signal_seen))
}

async fn create_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<AppointmentInput>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let booked = reminders::book_appointment(&state.services(), &caller, client_id, &input).await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

async fn show_appointment(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(reminders::appointment(&state.services(), &caller, id).await?))
}

/// Moves an appointment; its waiting reminders are replaced, never sent for the old time.
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

async fn cancel_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(
        reminders::cancel_appointment(&state.services(), &caller, id).await?,
    ))
}

async fn create_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<MedicationInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let started = reminders::start_medication(&state.services(), &caller, client_id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": started.id, "client_id": started.client_id, "schedule": started.recurrence.as_str(),
            "describes": started.recurrence.describe(), "night_ok": started.night_ok,
            "first_at": started.first_at.to_string(),
        })),
    ))
}

async fn stop_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    reminders::stop_medication(&state.services(), &caller, id).await?;
    Ok(Json(json!({ "id": id, "status": "stopped" })))
}

async fn list_tasks(caller: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(state.store.open_tasks(caller.client_filter()).await?))
}

async fn list_signals(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Vec<SignalView>>, ApiError> {
    let unseen_only = query.get("unseen").is_some_and(|v| v == "true");
    Ok(Json(state.store.signals(unseen_only, caller.client_filter()).await?))
}

/// Staff dismiss only their own clients' signals; anyone else's is answered as missing.
async fn mark_signal_seen(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    reminders::mark_signal_seen(&state.services(), &caller, id).await?;
    Ok(Json(json!({ "id": id, "seen": true })))
}
