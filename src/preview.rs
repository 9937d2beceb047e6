//! `tether preview`: when each step of a schedule would go out for a sample discharge, and what it would say.

use jiff::{Timestamp, civil::DateTime};
use serde::Serialize;

use crate::domain::{TimeZoneName, segments};
use crate::scheduling::QuietHours;
use crate::templates::{Catalog, MessageContext, RenderError};

#[derive(Debug, Serialize)]
pub struct PreviewRow {
    pub step: String,
    pub day: i32,
    pub template: String,
    /// RFC 3339 with the client's UTC offset at that moment.
    pub send_at: String,
    pub send_at_utc: String,
    pub weekday: String,
    pub segments: usize,
    pub encoding: &'static str,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("no schedule named `{0}`")]
    UnknownSchedule(String),
    #[error("no templates in language `{0}`")]
    UnknownLanguage(String),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Reads a discharge time as RFC 3339 with an offset, or as a local time like `2026-03-06T15:00` in `zone`.
pub fn parse_discharge(value: &str, zone: &TimeZoneName) -> Result<Timestamp, String> {
    if let Ok(instant) = value.parse::<Timestamp>() {
        return Ok(instant);
    }
    let local: DateTime = value
        .parse()
        .map_err(|_| format!("`{value}` is neither RFC 3339 nor a local time like 2026-03-06T15:00"))?;
    zone.zone()
        .to_ambiguous_timestamp(local)
        .compatible()
        .map_err(|err| format!("`{value}` cannot be placed in {}: {err}", zone.as_str()))
}

pub struct PreviewRequest<'a> {
    pub schedule: &'a str,
    pub discharged_at: Timestamp,
    pub zone: &'a TimeZoneName,
    pub language: &'a str,
    pub first_name: &'a str,
    pub quiet_hours: &'a QuietHours,
}

pub fn preview(catalog: &Catalog, request: &PreviewRequest<'_>) -> Result<Vec<PreviewRow>, PreviewError> {
    let schedule = catalog
        .schedule(request.schedule)
        .ok_or_else(|| PreviewError::UnknownSchedule(request.schedule.to_owned()))?;
    if !catalog.supports_language(request.language) {
        return Err(PreviewError::UnknownLanguage(request.language.to_owned()));
    }
    let context = MessageContext {
        first_name: request.first_name,
    };
    schedule
        .lay_out(request.discharged_at, request.zone.zone(), request.quiet_hours)
        .into_iter()
        .map(|planned| {
            let body = catalog.render(&planned.step.template, request.language, &context)?;
            let count = segments::count(&body);
            let local = planned.send_at.to_zoned_datetime(request.zone.zone().clone());
            Ok(PreviewRow {
                step: planned.step.id.clone(),
                day: planned.step.day,
                template: planned.step.template.clone(),
                send_at: local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                send_at_utc: planned.send_at.to_string(),
                weekday: local.strftime("%a").to_string(),
                segments: count.segments,
                encoding: count.encoding.as_str(),
                body,
            })
        })
        .collect()
}

/// The rows as a table for a terminal.
pub fn render_table(rows: &[PreviewRow]) -> String {
    let mut out = format!(
        "{:<9} {:<4} {:<30} {:<21} {:<10} {}\n",
        "step", "day", "local send time", "UTC", "segments", "text"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<9} {:<4} {:<30} {:<21} {:<10} {}\n",
            row.step,
            row.day,
            format!("{} {}", row.weekday, row.send_at),
            row.send_at_utc,
            format!("{} {}", row.segments, row.encoding),
            row.body
        ));
    }
    out
}
