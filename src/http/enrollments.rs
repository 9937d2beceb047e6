//! `POST /api/v1/clients/{id}/enrollments`: enrols a client at discharge in one schedule or several at once
//! (`"schedules": ["bridge", "caring_contacts"]`; none named: program.toml's `default_schedules`). A bridge
//! schedule replaces the first days of the others the client follows, so no day gets two planned texts; a
//! schedule that sends more than one text a day needs the client's consent to that, recorded here.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::auth::{Writer, managed_client};
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::domain::client::parse_instant;
use crate::domain::{ClientStatus, ConsentInput, FieldError, TimeZoneName, limits};
use crate::scheduling::{Schedule, Step, bridge_through, starts_on_day};
use crate::storage::{BridgedEnrollment, NewEnrollment, StoreError, UniqueConstraint};

/// Discharge can be planned a little ahead (enrolment at the bedside); further out is more likely a typo.
const MAX_DISCHARGE_AHEAD: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Where the consent to several texts a day sits in the request, for naming it in errors.
const SEVERAL_A_DAY_FIELD: &str = "several_texts_a_day_consent";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrollmentInput {
    /// One schedule; the answer is that one enrolment, as before `schedules` existed.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Several schedules at once; the answer lists each enrolment.
    #[serde(default)]
    pub schedules: Option<Vec<String>>,
    pub discharged_at: String,
    /// The client's consent to more than one text a day, which the bridge needs.
    #[serde(default)]
    pub several_texts_a_day_consent: Option<ConsentInput>,
}

#[derive(Serialize)]
pub(crate) struct EnrollmentView {
    id: i64,
    client_id: i64,
    schedule: String,
    schedule_version: i64,
    discharged_at: String,
    /// The first step that will be sent and when; steps already too far past are skipped.
    first_step: Option<String>,
    first_send_at: Option<String>,
    skipped_steps: Vec<String>,
    /// Steps on the days a bridge schedule covers for this client; the bridge's check-ins go instead.
    replaced_steps: Vec<String>,
}

#[derive(Serialize)]
struct EnrollmentsView {
    enrollments: Vec<EnrollmentView>,
}

pub(super) async fn enroll(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<EnrollmentInput>,
) -> Result<Response, ApiError> {
    let one_schedule = input.schedule.is_some();
    let mut enrolled = enroll_as(&state, &caller, client_id, input).await?;
    if one_schedule && let Some(only) = enrolled.pop() {
        return Ok((StatusCode::CREATED, Json(only)).into_response());
    }
    Ok((StatusCode::CREATED, Json(EnrollmentsView { enrollments: enrolled })).into_response())
}

/// The schedules a request names, each with the field to blame if it is wrong.
fn requested_names(input: &EnrollmentInput, defaults: &[String]) -> Result<Vec<(String, String)>, FieldError> {
    match (&input.schedule, &input.schedules) {
        (Some(_), Some(_)) => Err(FieldError::new(
            "schedules",
            "give `schedule` (one) or `schedules` (several), not both",
        )),
        (Some(one), None) => Ok(vec![("schedule".to_owned(), one.trim().to_owned())]),
        (None, Some(several)) if several.is_empty() => Err(FieldError::new(
            "schedules",
            "must name at least one schedule; leave it out for the program's default set",
        )),
        (None, Some(several)) => Ok(several
            .iter()
            .enumerate()
            .map(|(index, name)| (format!("schedules[{index}]"), name.trim().to_owned()))
            .collect()),
        (None, None) => Ok(defaults
            .iter()
            .map(|name| ("schedules".to_owned(), name.clone()))
            .collect()),
    }
}

/// Enrols a client at discharge for a caller who may write; shared with the console. All or nothing: one
/// refused schedule leaves the client enrolled in none of the others.
pub(crate) async fn enroll_as(
    state: &AppState,
    caller: &Caller,
    client_id: i64,
    input: EnrollmentInput,
) -> Result<Vec<EnrollmentView>, ApiError> {
    let now = state.clock.now();
    let client = managed_client(state, caller, client_id).await?;
    if client.status == ClientStatus::OptedOut {
        return Err(ApiError::Conflict(FieldError::new(
            "client",
            "client opted out; only the client can opt back in, by texting START",
        )));
    }
    let catalog = state.catalog.current();
    let mut schedules: Vec<&Schedule> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for (field, name) in requested_names(&input, &catalog.program.default_schedules).map_err(ApiError::Invalid)? {
        let schedule = catalog.schedule(&name).ok_or_else(|| {
            let known: Vec<&str> = catalog.schedules.keys().map(String::as_str).collect();
            ApiError::Invalid(FieldError::new(
                field.clone(),
                format!("no schedule named `{name}`; available: {}", known.join(", ")),
            ))
        })?;
        if schedules.iter().any(|s| s.name == schedule.name) {
            return Err(ApiError::Invalid(FieldError::new(
                field,
                format!("`{name}` is named twice"),
            )));
        }
        schedules.push(schedule);
        fields.push(field);
    }
    let discharged_at =
        parse_instant(&input.discharged_at).map_err(|m| ApiError::Invalid(FieldError::new("discharged_at", m)))?;
    limits::not_before_earliest(discharged_at).map_err(|m| ApiError::Invalid(FieldError::new("discharged_at", m)))?;
    if discharged_at > now + MAX_DISCHARGE_AHEAD {
        return Err(ApiError::Invalid(FieldError::new(
            "discharged_at",
            "is more than 7 days ahead; enrol at or near discharge",
        )));
    }
    let consent = input
        .several_texts_a_day_consent
        .as_ref()
        .map(|consent| consent.validate(SEVERAL_A_DAY_FIELD, now))
        .transpose()
        .map_err(ApiError::Invalid)?;
    if consent.is_none()
        && let Some(several) = schedules.iter().find(|s| s.sends_several_a_day())
    {
        return Err(ApiError::Invalid(FieldError::new(
            SEVERAL_A_DAY_FIELD,
            format!(
                "`{}` sends more than one text a day; record the client's consent to that (consented_at, \
                 consent_source)",
                several.name
            ),
        )));
    }

    let existing = state.store.active_enrollments(client_id).await?;
    if let Some((field, already)) = fields
        .iter()
        .zip(&schedules)
        .find(|(_, s)| existing.iter().any(|e| e.schedule == s.name))
    {
        return Err(already_enrolled(field, &already.name));
    }
    // The bridge may come with this request or be under way already; either way it covers the same days.
    let bridge_through = bridge_through(
        schedules
            .iter()
            .copied()
            .chain(existing.iter().filter_map(|e| catalog.schedule(&e.schedule))),
    );
    let bridged: Vec<BridgedEnrollment> = match bridge_through {
        Some(through) if schedules.iter().any(|s| s.replaces_through_day.is_some()) => existing
            .iter()
            .filter_map(|e| Some((e, catalog.schedule(&e.schedule)?)))
            .filter(|(e, schedule)| schedule.replaces_through_day.is_none() && e.starts_on_day <= through)
            .map(|(e, schedule)| BridgedEnrollment {
                id: e.id,
                starts_on_day: through + 1,
                covered_steps: schedule
                    .steps
                    .iter()
                    .filter(|step| step.day <= through)
                    .map(|step| step.id.clone())
                    .collect(),
            })
            .collect(),
        _ => Vec::new(),
    };

    let zone =
        TimeZoneName::parse(&client.timezone).map_err(|m| ApiError::Internal(anyhow::anyhow!("stored zone: {m}")))?;
    let mut views = Vec::with_capacity(schedules.len());
    let mut enrollments = Vec::with_capacity(schedules.len());
    for schedule in &schedules {
        let starts_on_day = starts_on_day(schedule, bridge_through);
        let first = schedule.first_step_due_after(discharged_at, zone.zone(), &state.quiet_hours, starts_on_day, now);
        let before_first = &schedule.steps[..first.as_ref().map_or(schedule.steps.len(), |p| p.index)];
        let (replaced, skipped): (Vec<_>, Vec<_>) = before_first.iter().partition(|step| step.day < starts_on_day);
        let ids = |steps: Vec<&Step>| steps.into_iter().map(|step| step.id.clone()).collect();
        let (replaced_steps, skipped_steps) = (ids(replaced), ids(skipped));
        enrollments.push(NewEnrollment {
            client_id,
            schedule: schedule.name.clone(),
            schedule_version: schedule.version,
            discharged_at,
            starts_on_day,
            first_step: first.as_ref().map(|p| (p.index, p.send_at)),
            several_daily_consent: consent.clone().filter(|_| schedule.sends_several_a_day()),
        });
        views.push(EnrollmentView {
            id: 0,
            client_id,
            schedule: schedule.name.clone(),
            schedule_version: schedule.version,
            discharged_at: discharged_at.to_string(),
            first_step: first.as_ref().map(|p| p.step.id.clone()),
            first_send_at: first.as_ref().map(|p| p.send_at.to_string()),
            skipped_steps,
            replaced_steps,
        });
    }
    let ids = match state.store.insert_enrollments(&enrollments, &bridged, now).await {
        Ok(ids) => ids,
        // Another request enrolled the client in one of these between our check and the insert.
        Err(StoreError::Conflict(UniqueConstraint::OneActiveEnrollmentPerSchedule)) => {
            let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
            return Err(already_enrolled(&fields[0], &names.join("` or `")));
        }
        Err(err) => return Err(err.into()),
    };
    for (view, id) in views.iter_mut().zip(ids) {
        view.id = id;
        tracing::info!(
            client_id,
            enrollment_id = id,
            schedule = view.schedule,
            "client enrolled"
        );
    }
    if !bridged.is_empty() {
        tracing::info!(
            client_id,
            moved = bridged.len(),
            "enrolments under way now start after the bridge"
        );
    }
    state.scheduler.nudge();
    Ok(views)
}

fn already_enrolled(field: &str, schedule: &str) -> ApiError {
    let field = if field.starts_with("schedules") {
        "schedules"
    } else {
        "schedule"
    };
    ApiError::Conflict(FieldError::new(
        field,
        format!("client is already enrolled in `{schedule}`"),
    ))
}
