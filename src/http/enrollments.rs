//! `POST /api/v1/clients/{id}/enrollments`: enrols a client at discharge (see [`crate::service::enrolling`]).

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
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::service::enrolling::{self, Enrolled, EnrollmentInput};

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(enroll))
}

#[derive(Serialize, ToSchema)]
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

impl From<Enrolled> for EnrollmentView {
    fn from(enrolled: Enrolled) -> Self {
        Self {
            id: enrolled.id,
            client_id: enrolled.client_id,
            schedule: enrolled.schedule,
            schedule_version: enrolled.schedule_version,
            discharged_at: enrolled.discharged_at.to_string(),
            first_step: enrolled.first_step,
            first_send_at: enrolled.first_send_at.map(|at| at.to_string()),
            skipped_steps: enrolled.skipped_steps,
            replaced_steps: enrolled.replaced_steps,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct EnrollmentsView {
    enrollments: Vec<EnrollmentView>,
}

/// One schedule named (`schedule`) is answered with that one enrolment, as before `schedules` existed;
/// otherwise with the list.
#[utoipa::path(post, path = "/api/v1/clients/{id}/enrollments", tag = "clients",
    params(("id" = i64, Path, description = "The client")), request_body = EnrollmentInput,
    responses((status = 201, description = "The enrolment, or with `schedules` each of them",
        body = EnrollmentAnswer),
        (status = 409, description = "The client opted out, or is already enrolled in the schedule", body = ErrorBody)))]
async fn enroll(
    Writer(caller): Writer,
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<i64>,
    JsonBody(input): JsonBody<EnrollmentInput>,
) -> Result<(StatusCode, Json<EnrollmentAnswer>), ApiError> {
    let one_schedule = input.schedule.is_some();
    let mut enrolled: Vec<EnrollmentView> = enrolling::enroll(&state.services(), &caller, client_id, input)
        .await?
        .into_iter()
        .map(EnrollmentView::from)
        .collect();
    if one_schedule && let Some(only) = enrolled.pop() {
        return Ok((StatusCode::CREATED, Json(EnrollmentAnswer::One(only))));
    }
    let several = EnrollmentsView { enrollments: enrolled };
    Ok((StatusCode::CREATED, Json(EnrollmentAnswer::Several(several))))
}

/// `schedule` is answered with its one enrolment (as before `schedules` existed), `schedules` with the list.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum EnrollmentAnswer {
    One(EnrollmentView),
    Several(EnrollmentsView),
}
