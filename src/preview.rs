//! `tether preview`: when each text of a caring-contact schedule, an appointment's reminders or a medication
//! pattern would go out, and what it would say.

use jiff::{Timestamp, civil::DateTime};
use serde::Serialize;

use crate::domain::{AppointmentKind, TimeZoneName, segments};
use crate::scheduling::recurrence::Recurrence;
use crate::scheduling::reminders::{describe_when, reminder_times};
use crate::scheduling::{QuietHours, bridge_through, starts_on_day};
use crate::templates::{Catalog, MessageContext, ReminderContext, RenderError};

#[derive(Debug, Serialize)]
pub struct PreviewRow {
    /// The schedule the step belongs to; empty for appointment and medication reminders.
    pub schedule: String,
    pub step: String,
    /// Days after discharge, for caring-contact steps.
    pub day: Option<i32>,
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
    /// One schedule, or several a client follows together (a bridge and the caring contacts after it).
    pub schedules: &'a [&'a str],
    pub discharged_at: Timestamp,
    pub zone: &'a TimeZoneName,
    pub language: &'a str,
    pub first_name: &'a str,
    pub quiet_hours: &'a QuietHours,
}

/// The texts of every schedule in the request, merged in the order they go out: a bridge among them replaces
/// the others' first days, as it does for an enrolled client.
pub fn preview(catalog: &Catalog, request: &PreviewRequest<'_>) -> Result<Vec<PreviewRow>, PreviewError> {
    let schedules = request
        .schedules
        .iter()
        .map(|name| {
            catalog
                .schedule(name)
                .ok_or_else(|| PreviewError::UnknownSchedule((*name).to_owned()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !catalog.supports_language(request.language) {
        return Err(PreviewError::UnknownLanguage(request.language.to_owned()));
    }
    let context = MessageContext {
        first_name: request.first_name,
    };
    let through = bridge_through(schedules.iter().copied());
    let mut rows = Vec::new();
    for schedule in schedules {
        let planned = schedule.lay_out_from(
            request.discharged_at,
            request.zone.zone(),
            request.quiet_hours,
            starts_on_day(schedule, through),
        );
        for planned in planned {
            let body = catalog.render(&planned.step.template, request.language, &context)?;
            rows.push((
                planned.send_at,
                row(
                    &schedule.name,
                    planned.step.id.clone(),
                    Some(planned.step.day),
                    &planned.step.template,
                    planned.send_at,
                    request.zone,
                    body,
                ),
            ));
        }
    }
    // Stable: steps of one schedule at the same minute keep their order.
    rows.sort_by_key(|(send_at, _)| *send_at);
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

fn row(
    schedule: &str,
    step: String,
    day: Option<i32>,
    template: &str,
    send_at: Timestamp,
    zone: &TimeZoneName,
    body: String,
) -> PreviewRow {
    let count = segments::count(&body);
    let local = send_at.to_zoned_datetime(zone.zone().clone());
    PreviewRow {
        schedule: schedule.to_owned(),
        step,
        day,
        template: template.to_owned(),
        send_at: local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        send_at_utc: send_at.to_string(),
        weekday: local.strftime("%a").to_string(),
        segments: count.segments,
        encoding: count.encoding.as_str(),
        body,
    }
}

/// The reminders an appointment of `kind` at `starts_at` would get, after the quiet-hours rule: the kind's
/// wording and offsets from the catalog, `default_offsets` (TETHER_APPOINTMENT_REMINDERS) for a kind the
/// program gives none.
#[allow(clippy::too_many_arguments)]
pub fn preview_appointment(
    catalog: &Catalog,
    kind: AppointmentKind,
    starts_at: Timestamp,
    default_offsets: &[jiff::SignedDuration],
    zone: &TimeZoneName,
    language: &str,
    first_name: &str,
    quiet_hours: &QuietHours,
) -> Result<Vec<PreviewRow>, PreviewError> {
    if !catalog.supports_language(language) {
        return Err(PreviewError::UnknownLanguage(language.to_owned()));
    }
    let when = describe_when(starts_at, zone.zone(), language);
    let context = ReminderContext {
        first_name,
        when: &when,
        phrase: "",
        named: catalog.program.names_kind(kind),
        confirmed: false,
    };
    let template = kind.reminder_template();
    let body = catalog.render(template, language, &context)?;
    let offsets = catalog.program.reminder_offsets(kind).unwrap_or(default_offsets);
    // Preview as if booked long ago, so no reminder is left out for being past.
    let booked = starts_at - jiff::SignedDuration::from_hours(24 * 365);
    Ok(reminder_times(starts_at, offsets, booked, zone.zone(), quiet_hours)
        .into_iter()
        .map(|time| {
            let step = format!("{:#} before", time.offset);
            row("", step, None, template, time.send_at, zone, body.clone())
        })
        .collect())
}

/// The next `count` medication reminders after `from`.
pub fn preview_medication(
    catalog: &Catalog,
    recurrence: &Recurrence,
    from: Timestamp,
    count: usize,
    zone: &TimeZoneName,
    language: &str,
    first_name: &str,
) -> Result<Vec<PreviewRow>, PreviewError> {
    if !catalog.supports_language(language) {
        return Err(PreviewError::UnknownLanguage(language.to_owned()));
    }
    let context = ReminderContext {
        first_name,
        when: "",
        phrase: "",
        named: false,
        confirmed: false,
    };
    let body = catalog.render("medication/reminder", language, &context)?;
    let mut rows = Vec::with_capacity(count);
    let mut at = from;
    while rows.len() < count {
        let Some(next) = recurrence.next_after(at, zone.zone()) else {
            break;
        };
        rows.push(row(
            "",
            recurrence.describe(),
            None,
            "medication/reminder",
            next,
            zone,
            body.clone(),
        ));
        at = next;
    }
    Ok(rows)
}

/// The rows as a table for a terminal.
pub fn render_table(rows: &[PreviewRow]) -> String {
    let mut out = format!(
        "{:<16} {:<14} {:<4} {:<30} {:<21} {:<10} {}\n",
        "schedule", "step", "day", "local send time", "UTC", "segments", "text"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<16} {:<14} {:<4} {:<30} {:<21} {:<10} {}\n",
            row.schedule,
            row.step,
            row.day.map(|d| d.to_string()).unwrap_or_default(),
            format!("{} {}", row.weekday, row.send_at),
            row.send_at_utc,
            format!("{} {}", row.segments, row.encoding),
            row.body
        ));
    }
    out
}
