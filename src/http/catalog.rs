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
use crate::catalog::SaveError;
use crate::domain::FieldError;
use crate::storage::CatalogVersionSummary;
use crate::templates::edit::{ScheduleDocument, ScheduleFile};
use crate::templates::{CatalogError, Severity};

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
    let (saved, replanned) = save_schedule(&state, &caller, &name, &document).await?;
    let mut response = Json(saved).into_response();
    response
        .headers_mut()
        .insert("tether-replanned-enrollments", HeaderValue::from(replanned));
    Ok(response)
}

/// Checks and saves one edited schedule; shared with the console. Returns it as saved, and how many
/// enrolments were moved onto it.
pub(crate) async fn save_schedule(
    state: &AppState,
    caller: &Caller,
    name: &str,
    document: &ScheduleDocument,
) -> Result<(ScheduleDocument, usize), ApiError> {
    if document.name != name {
        return Err(ApiError::Invalid(FieldError::new(
            "name",
            format!("must match the schedule in the address (`{name}`); renaming is not supported"),
        )));
    }
    let current = state.catalog.current();
    let existing = current.schedule(name).ok_or(ApiError::NotFound("schedule"))?;
    if document.version != existing.version {
        return Err(ApiError::Conflict(FieldError::new(
            "version",
            format!(
                "version {} is not the current one ({}); reload the schedule and edit again",
                document.version, existing.version
            ),
        )));
    }
    let (catalog_version, mut files) = state.catalogs.current_files().await?;
    let file = document.to_file(existing.version + 1, &caller.name);
    files.insert(format!("schedules/{name}.toml"), file.text.clone());
    let summary = format!("schedule {name} edited");
    let saved = state
        .catalogs
        .save(catalog_version, &files, &caller.name, &summary)
        .await
        .map_err(|err| schedule_error(err, &file))?;
    let replanned = saved.replanned.iter().map(|(_, moved)| moved).sum();
    state.scheduler.nudge();
    let catalog = state.catalog.current();
    let schedule = catalog.schedule(name).ok_or(ApiError::NotFound("schedule"))?;
    Ok((schedule.into(), replanned))
}

fn schedule_error(err: SaveError, file: &ScheduleFile) -> ApiError {
    match err {
        SaveError::Invalid(CatalogError(problems)) => {
            let problem = problems.into_iter().find(|p| p.severity == Severity::Error);
            match problem {
                Some(problem) => ApiError::Invalid(FieldError::new(file.field_at(problem.line), problem.message)),
                None => ApiError::Internal(anyhow::anyhow!("catalog refused without an error")),
            }
        }
        other => save_error(other),
    }
}

fn save_error(err: SaveError) -> ApiError {
    match err {
        SaveError::Invalid(CatalogError(problems)) => {
            let message = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            ApiError::Invalid(FieldError::new("body", message))
        }
        SaveError::Stale { .. } => ApiError::Conflict(FieldError::new("version", err.to_string())),
        SaveError::Store(err) => err.into(),
        SaveError::Check(err) => ApiError::Internal(err.into()),
    }
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
    save_template(&state, &caller, &language, &format!("{group}/{name}"), &input.body).await?;
    Ok(Json(TemplateView {
        language,
        name: format!("{group}/{name}"),
        body: input.body,
    }))
}

/// Shared with the console. Texts already planned keep their words; the new ones use the new text.
pub(crate) async fn save_template(
    state: &AppState,
    caller: &Caller,
    language: &str,
    name: &str,
    body: &str,
) -> Result<i64, ApiError> {
    let (catalog_version, mut files) = state.catalogs.current_files().await?;
    let path = format!("sms/{language}/{name}.txt");
    if !files.contains_key(&path) {
        return Err(ApiError::NotFound("template"));
    }
    if body.trim().is_empty() {
        return Err(ApiError::Invalid(FieldError::new("body", "must not be empty")));
    }
    files.insert(path.clone(), body.to_owned());
    let saved = state
        .catalogs
        .save(
            catalog_version,
            &files,
            &caller.name,
            &format!("template {language}/{name} edited"),
        )
        .await
        .map_err(|err| match err {
            // Only this file changed, so every problem is about it; the line is within the body.
            SaveError::Invalid(CatalogError(problems)) => {
                let message = problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .map(|p| match p.line {
                        Some(line) => format!("line {line}: {}", p.message),
                        None => p.message.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::Invalid(FieldError::new("body", message))
            }
            other => save_error(other),
        })?;
    Ok(saved.version)
}

async fn list_versions(
    _: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<CatalogVersionSummary>>, ApiError> {
    Ok(Json(state.store.catalog_versions().await?))
}
