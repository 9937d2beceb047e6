//! Schedules and templates under `/api/v1`: read by every role, edited by admins. Each edit is checked as
//! part of the whole catalog, saved as a new version, and moves enrolled clients onto it (see
//! [`crate::catalog`]); sent texts are never touched.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminOnly;
use super::error::ErrorBody;
use super::extract::{JsonBody, Path};
use super::{ApiError, AppState};
use crate::access::Caller;
use crate::service::catalog_edits;
use crate::storage::CatalogVersionSummary;
use crate::templates::edit::ScheduleDocument;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules))
        .routes(routes!(show_schedule, replace_schedule))
        .routes(routes!(list_templates))
        .routes(routes!(show_template, replace_template))
        .routes(routes!(list_versions))
}

/// Every schedule in the catalog in force.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "catalog",
    responses((status = 200, description = "Every schedule in the catalog in force", body = Vec<ScheduleDocument>)))]
async fn list_schedules(_: Caller, State(state): State<Arc<AppState>>) -> Json<Vec<ScheduleDocument>> {
    let catalog = state.catalog.current();
    Json(catalog.schedules.values().map(ScheduleDocument::from).collect())
}

/// One schedule, in the shape a PUT takes.
#[utoipa::path(get, path = "/api/v1/schedules/{name}", tag = "catalog",
    params(("name" = String, Path, description = "The schedule, like `caring_contacts`")),
    responses((status = 200, description = "The schedule", body = ScheduleDocument)))]
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
#[utoipa::path(put, path = "/api/v1/schedules/{name}", tag = "catalog",
    params(("name" = String, Path, description = "The schedule, like `caring_contacts`")),
    request_body = ScheduleDocument,
    responses((status = 200, description = "The schedule as saved", body = ScheduleDocument,
        headers(("tether-replanned-enrollments" = u64, description = "How many enrolled clients now follow the new version"))),
        (status = 409, description = "`version` is not the one in force: someone saved since it was read", body = ErrorBody)))]
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

#[derive(Serialize, ToSchema)]
struct TemplateView {
    language: String,
    /// Like `caring/first`.
    name: String,
    body: String,
}

/// Every SMS template in the catalog in force.
#[utoipa::path(get, path = "/api/v1/templates", tag = "catalog",
    responses((status = 200, description = "Every SMS template in the catalog in force", body = Vec<TemplateView>)))]
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

/// One SMS template.
#[utoipa::path(get, path = "/api/v1/templates/{language}/{group}/{name}", tag = "catalog",
    params(
        ("language" = String, Path, description = "Like `en` or `es`"),
        ("group" = String, Path, description = "Like `caring`"),
        ("name" = String, Path, description = "Like `first`"),
    ),
    responses((status = 200, description = "The template", body = TemplateView)))]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateInput {
    /// The template's text (minijinja); checked with the whole catalog before it is saved.
    pub body: String,
}

/// Replaces one existing template's text as a new catalog version. New templates come in with a whole
/// folder (`tether templates import`), where the schedules that use them are edited too.
#[utoipa::path(put, path = "/api/v1/templates/{language}/{group}/{name}", tag = "catalog",
    params(
        ("language" = String, Path, description = "Like `en` or `es`"),
        ("group" = String, Path, description = "Like `caring`"),
        ("name" = String, Path, description = "Like `first`"),
    ),
    request_body = TemplateInput,
    responses((status = 200, description = "The template as saved", body = TemplateView),
        (status = 409, description = "Someone saved the catalog at the same moment; try again", body = ErrorBody)))]
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

/// Every saved catalog version, newest first: who saved it and what changed.
#[utoipa::path(get, path = "/api/v1/catalog/versions", tag = "catalog",
    responses((status = 200, description = "Every saved catalog version, newest first", body = Vec<CatalogVersionSummary>)))]
async fn list_versions(
    _: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<CatalogVersionSummary>>, ApiError> {
    Ok(Json(state.store.catalog_versions().await?))
}
