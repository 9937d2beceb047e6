//! Editing the message catalog: one schedule or one template at a time, each checked as part of the whole
//! catalog, saved as a new version, and moving enrolled clients onto it (see [`crate::catalog`]); texts
//! already sent or planned are never touched. Admins only.

use super::{ServiceError, Services};
use crate::access::Caller;
use crate::catalog::SaveError;
use crate::domain::FieldError;
use crate::templates::edit::{ScheduleDocument, ScheduleFile};
use crate::templates::{CatalogError, Severity};

/// Checks and saves one edited schedule, for an admin. Returns it as saved, and how many
/// enrolments were moved onto it.
pub async fn save_schedule(
    services: &Services<'_>,
    caller: &Caller,
    name: &str,
    document: &ScheduleDocument,
) -> Result<(ScheduleDocument, usize), ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    if document.name != name {
        return Err(ServiceError::Invalid(FieldError::new(
            "name",
            format!("must match the schedule in the address (`{name}`); renaming is not supported"),
        )));
    }
    let current = services.catalog.current();
    let existing = current.schedule(name).ok_or(ServiceError::NotFound("schedule"))?;
    if document.version != existing.version {
        return Err(ServiceError::Conflict(FieldError::new(
            "version",
            format!(
                "version {} is not the current one ({}); reload the schedule and edit again",
                document.version, existing.version
            ),
        )));
    }
    let (catalog_version, mut files) = services.catalogs.current_files().await?;
    let file = document.to_file(existing.version + 1, &caller.name);
    files.insert(format!("schedules/{name}.toml"), file.text.clone());
    let summary = format!("schedule {name} edited");
    let saved = services
        .catalogs
        .save(catalog_version, &files, &caller.name, &summary)
        .await
        .map_err(|err| schedule_error(err, &file))?;
    let replanned = saved.replanned.iter().map(|(_, moved)| moved).sum();
    services.scheduler.nudge();
    let catalog = services.catalog.current();
    let schedule = catalog.schedule(name).ok_or(ServiceError::NotFound("schedule"))?;
    Ok((schedule.into(), replanned))
}

fn schedule_error(err: SaveError, file: &ScheduleFile) -> ServiceError {
    match err {
        SaveError::Invalid(CatalogError(problems)) => {
            let problem = problems.into_iter().find(|p| p.severity == Severity::Error);
            match problem {
                Some(problem) => ServiceError::Invalid(FieldError::new(file.field_at(problem.line), problem.message)),
                None => ServiceError::Internal(anyhow::anyhow!("catalog refused without an error")),
            }
        }
        other => save_error(other),
    }
}

fn save_error(err: SaveError) -> ServiceError {
    match err {
        SaveError::Invalid(CatalogError(problems)) => {
            let message = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            ServiceError::Invalid(FieldError::new("body", message))
        }
        SaveError::Stale { .. } => ServiceError::Conflict(FieldError::new("version", err.to_string())),
        SaveError::Store(err) => err.into(),
        SaveError::Check(err) => ServiceError::Internal(err.into()),
    }
}

/// Replaces one existing template's text, for an admin. Texts already planned keep their words; the new ones
/// use the new text. Returns the catalog version it made.
pub async fn save_template(
    services: &Services<'_>,
    caller: &Caller,
    language: &str,
    name: &str,
    body: &str,
) -> Result<i64, ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    let (catalog_version, mut files) = services.catalogs.current_files().await?;
    let path = format!("sms/{language}/{name}.txt");
    if !files.contains_key(&path) {
        return Err(ServiceError::NotFound("template"));
    }
    if body.trim().is_empty() {
        return Err(ServiceError::Invalid(FieldError::new("body", "must not be empty")));
    }
    files.insert(path.clone(), body.to_owned());
    let saved = services
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
                ServiceError::Invalid(FieldError::new("body", message))
            }
            other => save_error(other),
        })?;
    Ok(saved.version)
}
