//! Appointments (create, move, cancel) with their reminders, medication reminders, and the staff task list.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Writer, managed_client, visible_client};
use super::extract::{JsonBody, Path, Query};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::client::parse_instant;
use crate::domain::limits;
use crate::domain::{AppointmentKind, ClientStatus, ConsentSource, FieldError};
use crate::scheduling::medication_limits::check_pattern;
use crate::scheduling::recurrence::Recurrence;
use crate::scheduling::reminders::{describe_when, reminder_times};
use crate::storage::{AppointmentView, ClientRecord, NewMedication, ReminderDraft, SignalView};
use crate::templates::ReminderContext;

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

/// A refusal about an item of a hidden client names the item, as a missing item would.
fn hidden_as(what: &'static str) -> impl Fn(ApiError) -> ApiError {
    move |err| match err {
        ApiError::Hidden(_) => ApiError::Hidden(what),
        other => other,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(FieldError::new(field, message))
}

/// A client the caller (a writer) may change and who can still be texted.
async fn reachable_client(state: &AppState, caller: &Caller, id: i64) -> Result<ClientRecord, ApiError> {
    let client = managed_client(state, caller, id).await?;
    if client.status == ClientStatus::OptedOut {
        return Err(ApiError::Conflict(FieldError::new(
            "client",
            "client opted out; only the client can opt back in, by texting START",
        )));
    }
    Ok(client)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppointmentInput {
    starts_at: String,
    /// What the appointment is for; a new one is a clinic visit when left out, a moved one keeps its kind.
    #[serde(default)]
    kind: Option<String>,
}

fn parse_kind(input: &AppointmentInput) -> Result<Option<AppointmentKind>, ApiError> {
    input
        .kind
        .as_deref()
        .map(AppointmentKind::parse)
        .transpose()
        .map_err(|m| invalid("kind", m))
}

fn parse_start(input: &AppointmentInput, now: Timestamp) -> Result<Timestamp, ApiError> {
    let starts_at = parse_instant(&input.starts_at).map_err(|m| invalid("starts_at", m))?;
    // A past appointment is recorded too, so attendance can be noted afterwards; it gets no reminder, since
    // every reminder time is already behind it.
    limits::not_before_earliest(starts_at).map_err(|m| invalid("starts_at", m))?;
    limits::within_planning_horizon(starts_at, now).map_err(|m| invalid("starts_at", m))?;
    Ok(starts_at)
}

/// The reminders for an appointment, rendered in its kind's wording and at its kind's offsets: no clinic,
/// treatment type or reason, just the time, and what it is only where the program names the kind.
fn drafts(
    state: &AppState,
    client: &ClientRecord,
    kind: AppointmentKind,
    starts_at: Timestamp,
) -> Result<Vec<ReminderDraft>, ApiError> {
    let zone = jiff::tz::TimeZone::get(&client.timezone).map_err(|err| ApiError::Internal(err.into()))?;
    let catalog = state.catalog.current();
    let language = catalog.language_or_default(&client.language);
    let when = describe_when(starts_at, &zone, language);
    let context = ReminderContext {
        first_name: &client.first_name,
        when: &when,
        phrase: "",
        named: catalog.program.names_kind(kind),
        confirmed: false,
    };
    let template = kind.reminder_template();
    let body = catalog
        .render(template, language, &context)
        .map_err(|err| ApiError::Internal(err.into()))?;
    let offsets = catalog
        .program
        .reminder_offsets(kind)
        .unwrap_or(&state.appointment_reminders);
    let now = state.clock.now();
    Ok(reminder_times(starts_at, offsets, now, &zone, &state.quiet_hours)
        .into_iter()
        .map(|time| ReminderDraft {
            offset_minutes: time.offset.as_secs() / 60,
            send_at: time.send_at,
            body: body.clone(),
            template,
        })
        .collect())
}

async fn create_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<AppointmentInput>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let now = state.clock.now();
    let starts_at = parse_start(&input, now)?;
    let kind = parse_kind(&input)?.unwrap_or_default();
    let client = reachable_client(&state, &caller, client_id).await?;
    let drafts = drafts(&state, &client, kind, starts_at)?;
    let id = state
        .store
        .create_appointment(client_id, kind, &client.phone, starts_at, &drafts, now)
        .await?;
    state.scheduler.nudge();
    tracing::info!(
        client_id,
        appointment_id = id,
        kind = kind.as_str(),
        reminders = drafts.len(),
        "appointment created"
    );
    let view = load_appointment(&state, id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn load_appointment(state: &AppState, id: i64) -> Result<AppointmentView, ApiError> {
    state
        .store
        .appointment(id)
        .await?
        .ok_or(ApiError::NotFound("appointment"))
}

async fn show_appointment(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    let appointment = load_appointment(&state, id).await?;
    visible_client(&state, &caller, appointment.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    Ok(Json(appointment))
}

/// Moves an appointment. Its waiting reminders are replaced in the same transaction, so a reminder for the
/// old time can never be sent.
async fn move_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<AppointmentInput>,
) -> Result<Json<AppointmentView>, ApiError> {
    let now = state.clock.now();
    let starts_at = parse_start(&input, now)?;
    let requested_kind = parse_kind(&input)?;
    let current = load_appointment(&state, id).await?;
    let client = reachable_client(&state, &caller, current.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    let kind = match requested_kind {
        Some(kind) => kind,
        // Written by this service from the same enum; a name it does not know is a fault, not input.
        None => AppointmentKind::parse(&current.kind).map_err(|m| {
            ApiError::Internal(anyhow::anyhow!(
                "appointment {id} has a stored kind it cannot read: {m}"
            ))
        })?,
    };
    let drafts = drafts(&state, &client, kind, starts_at)?;
    if !state
        .store
        .move_appointment(id, kind, &client.phone, starts_at, &drafts, now)
        .await?
    {
        return Err(ApiError::Conflict(FieldError::new(
            "status",
            "appointment was cancelled",
        )));
    }
    state.scheduler.nudge();
    Ok(Json(load_appointment(&state, id).await?))
}

async fn cancel_appointment(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    let appointment = load_appointment(&state, id).await?;
    managed_client(&state, &caller, appointment.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    if !state.store.cancel_appointment(id, state.clock.now()).await? {
        return Err(ApiError::NotFound("scheduled appointment"));
    }
    Ok(Json(load_appointment(&state, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MedicationInput {
    /// 5-field cron pattern in the client's time zone, like `0 20 * * *`.
    schedule: String,
    /// Words the client chose for the text. Leave out for the neutral "your daily reminder".
    #[serde(default)]
    phrase: Option<String>,
    /// Recurring reminders need recorded prior express consent (TCPA): when and how it was given.
    #[serde(default)]
    consented_at: Option<String>,
    #[serde(default)]
    consent_source: Option<String>,
    /// The client's explicit consent to reminders inside quiet hours; without it such a pattern is refused,
    /// never moved.
    #[serde(default)]
    night_ok: bool,
}

async fn create_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<MedicationInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = state.clock.now();
    let recurrence: Recurrence = input.schedule.parse().map_err(|m: String| invalid("schedule", m))?;
    let (consented_at, consent_source) = medication_consent(&input, now)?;
    let phrase = medication_phrase(&input, &state.catalog.current().program.blocked_terms)?;
    let client = reachable_client(&state, &caller, client_id).await?;
    let zone = jiff::tz::TimeZone::get(&client.timezone).map_err(|err| ApiError::Internal(err.into()))?;
    let first_at = check_pattern(
        &recurrence,
        &zone,
        &state.quiet_hours,
        input.night_ok,
        &state.medication_limits,
        now,
    )
    .map_err(|refusal| invalid("schedule", format!("`{}` {refusal}", recurrence.as_str())))?;
    let medication = NewMedication {
        client_id,
        schedule: recurrence.as_str().to_owned(),
        phrase: phrase.map(str::to_owned),
        consented_at,
        consent_source: consent_source.as_str().to_owned(),
        night_ok: input.night_ok,
        first_at: Some(first_at),
    };
    let id = state.store.insert_medication(&medication, now).await?;
    state.scheduler.nudge();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": id, "client_id": client_id, "schedule": medication.schedule, "describes": recurrence.describe(),
            "night_ok": medication.night_ok, "first_at": first_at.to_string(),
        })),
    ))
}

/// The client's recorded consent to recurring reminders (TCPA): when, not in the future nor before the
/// earliest date any record may carry, and where it was given.
fn medication_consent(input: &MedicationInput, now: Timestamp) -> Result<(Timestamp, ConsentSource), ApiError> {
    let Some(consented_at) = &input.consented_at else {
        return Err(invalid(
            "consented_at",
            "recurring reminders need the client's recorded prior express consent (TCPA): give consented_at and consent_source",
        ));
    };
    let consented_at = parse_instant(consented_at).map_err(|m| invalid("consented_at", m))?;
    if consented_at > now {
        return Err(invalid("consented_at", "is in the future"));
    }
    limits::not_before_earliest(consented_at).map_err(|m| invalid("consented_at", m))?;
    let consent_source = ConsentSource::parse(input.consent_source.as_deref().unwrap_or(""))
        .map_err(|m| invalid("consent_source", m))?;
    Ok((consented_at, consent_source))
}

/// The client's own words for the reminder, if any: one short line, naming no treatment or medication.
fn medication_phrase<'a>(input: &'a MedicationInput, blocked_terms: &[String]) -> Result<Option<&'a str>, ApiError> {
    let phrase = input.phrase.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if let Some(phrase) = phrase {
        if phrase.chars().count() > 60 {
            return Err(invalid("phrase", "must be at most 60 characters"));
        }
        limits::check_phrase(phrase).map_err(|m| invalid("phrase", m))?;
        let lowered = phrase.to_lowercase();
        if let Some(term) = blocked_terms.iter().find(|t| lowered.contains(&t.to_lowercase())) {
            return Err(invalid(
                "phrase",
                format!(
                    "mentions `{term}`; texts never name treatment or medication unless the program changes blocked_terms"
                ),
            ));
        }
    }
    Ok(phrase)
}

async fn stop_medication(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let client_id = state
        .store
        .medication_client(id)
        .await?
        .ok_or(ApiError::NotFound("medication"))?;
    managed_client(&state, &caller, client_id)
        .await
        .map_err(hidden_as("medication"))?;
    if state.store.stop_medication(id, state.clock.now()).await? {
        Ok(Json(json!({ "id": id, "status": "stopped" })))
    } else {
        Err(ApiError::NotFound("active medication"))
    }
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
    let assigned_to = caller.client_filter();
    if state.store.mark_signal_seen(id, assigned_to, state.clock.now()).await? {
        Ok(Json(json!({ "id": id, "seen": true })))
    } else if assigned_to.is_some() {
        Err(ApiError::Hidden("signal"))
    } else {
        Err(ApiError::NotFound("signal"))
    }
}
