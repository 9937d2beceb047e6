//! Schedules and templates under `/api/v1`: read by every role, edited by admins. Each edit is checked as
//! part of the whole catalog, saved as a new version, and moves enrolled clients onto it (see
//! [`crate::catalog`]); sent texts are never touched.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::AdminOnly;
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::service::catalog_edits;
use crate::storage::CatalogVersionSummary;
use crate::templates::edit::ScheduleDocument;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/schedules", get(list_schedules))
        .route("/api/v1/schedules/{name}", get(show_schedule).put(replace_schedule))
        .route("/api/v1/templates", get(list_templates))
        .route(
            "/api/v1/templates/{language}/{group}/{name}",
            get(show_template).put(replace_template),
        )
        .route("/api/v1/catalog/versions", get(list_versions))
}

async fn list_schedules(_: Caller, State(state): State<Arc<AppState>>) -> Json<Vec<ScheduleDocument>> {
    let catalog = state.catalog.current();
    Json(catalog.schedules.values().map(ScheduleDocument::from).collect())
}

async fn show_schedule(
    _: Caller,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<ScheduleDocument>, ApiError> {
    let catalog = state.catalog.current();
    let schedule = catalog.schedule(&name).ok_or(ApiError::NotFound("schedule"))?;
    Ok(Json(schedule.into()))
}

/// Replaces a schedule with a new version. The answer is the schedule as saved; the
/// `Tether-Replanned-Enrollments` header says how many enrolled clients now follow it.
async fn replace_schedule(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(document): JsonBody<ScheduleDocument>,
) -> Result<Response, ApiError> {
    let (saved, replanned) = catalog_edits::save_schedule(&state.services(), &caller, &name, &document).await?;
    let mut response = Json(saved).into_response();
    response
        .headers_mut()
        .insert("tether-replanned-enrollments", HeaderValue::from(replanned));
    Ok(response)
}

#[derive(Serialize)]
struct TemplateView {
    language: String,
    /// Like `caring/first`.
    name: String,
    body: String,
}

async fn list_templates(_: Caller, State(state): State<Arc<AppState>>) -> Result<Json<Vec<TemplateView>>, ApiError> {
    let (_, files) = state.catalogs.current_files().await?;
    Ok(Json(
        files
            .into_iter()
            .filter_map(|(path, body)| {
                let (language, name) = path.strip_prefix("sms/")?.strip_suffix(".txt")?.split_once('/')?;
                Some(TemplateView {
                    language: language.to_owned(),
                    name: name.to_owned(),
                    body,
                })
            })
            .collect(),
    ))
}

fn template_path(language: &str, group: &str, name: &str) -> String {
    format!("sms/{language}/{group}/{name}.txt")
}

async fn show_template(
    _: Caller,
    State(state): State<Arc<AppState>>,
    Path((language, group, name)): Path<(String, String, String)>,
) -> Result<Json<TemplateView>, ApiError> {
    let (_, files) = state.catalogs.current_files().await?;
    let body = files
        .get(&template_path(&language, &group, &name))
        .ok_or(ApiError::NotFound("template"))?;
    Ok(Json(TemplateView {
        language,
        name: format!("{group}/{name}"),
        body: body.clone(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateInput {
    pub body: String,
}

/// Replaces one existing template's text as a new catalog version. New templates come in with a whole
/// folder (`tether templates import`), where the schedules that use them are edited too.
async fn replace_template(
    AdminOnly(caller): AdminOnly,
    State(state): State<Arc<AppState>>,
    Path((language, group, name)): Path<(String, String, String)>,
    JsonBody(input): JsonBody<TemplateInput>,
) -> Result<Json<TemplateView>, ApiError> {
    catalog_edits::save_template(
        &state.services(),
        &caller,
        &language,
        &format!("{group}/{name}"),
        &input.body,
    )
    .await?;
    Ok(Json(TemplateView {
        language,
        name: format!("{group}/{name}"),
        body: input.body,
    }))
}

async fn list_versions(
    _: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<CatalogVersionSummary>>, ApiError> {
    Ok(Json(state.store.catalog_versions().await?))
}
