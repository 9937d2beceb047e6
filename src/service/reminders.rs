//! Reminders: appointments (booked, moved, cancelled) with their reminders, recurring medication reminders,
//! and dismissing an early-warning signal. An appointment's reminders are written when it is booked, at the
//! offsets its kind has ([`crate::scheduling::reminders`]); moving it replaces its waiting reminders in the
//! same transaction, so a reminder for the old time can never be sent.

use jiff::Timestamp;
use serde::Deserialize;

use super::{ServiceError, Services, clients};
use crate::access::Caller;
use crate::domain::client::parse_instant;
use crate::domain::limits;
use crate::domain::{AppointmentKind, ClientStatus, ConsentSource, FieldError};
use crate::scheduling::medication_limits::check_pattern;
use crate::scheduling::recurrence::Recurrence;
use crate::scheduling::reminders::{describe_when, reminder_times};
use crate::storage::{AppointmentView, ClientRecord, NewMedication, ReminderDraft};
use crate::templates::ReminderContext;

/// A refusal about an item of a hidden client names the item, as a missing item would.
fn hidden_as(what: &'static str) -> impl Fn(ServiceError) -> ServiceError {
    move |err| match err {
        ServiceError::Hidden(_) => ServiceError::Hidden(what),
        other => other,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

/// A client the caller (a writer) may change and who can still be texted.
async fn reachable_client(services: &Services<'_>, caller: &Caller, id: i64) -> Result<ClientRecord, ServiceError> {
    let client = clients::managed(services, caller, id).await?;
    if client.status == ClientStatus::OptedOut {
        return Err(ServiceError::Conflict(FieldError::new(
            "client",
            "client opted out; only the client can opt back in, by texting START",
        )));
    }
    Ok(client)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentInput {
    /// When it starts (RFC 3339).
    #[schema(example = "2026-12-08T14:00:00-06:00")]
    pub starts_at: String,
    /// What the appointment is for; a new one is a clinic visit when left out, a moved one keeps its kind.
    #[serde(default)]
    pub kind: Option<String>,
}

fn parse_kind(input: &AppointmentInput) -> Result<Option<AppointmentKind>, ServiceError> {
    input
        .kind
        .as_deref()
        .map(AppointmentKind::parse)
        .transpose()
        .map_err(|m| invalid("kind", m))
}

fn parse_start(input: &AppointmentInput, now: Timestamp) -> Result<Timestamp, ServiceError> {
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
    services: &Services<'_>,
    client: &ClientRecord,
    kind: AppointmentKind,
    starts_at: Timestamp,
) -> Result<Vec<ReminderDraft>, ServiceError> {
    let zone = client.timezone.zone().clone();
    let catalog = services.catalog.current();
    let language = catalog.language_or_default(&client.language);
    let when = describe_when(starts_at, &zone, language);
    let context = ReminderContext {
        first_name: client.first_name.as_str(),
        when: &when,
        phrase: "",
        named: catalog.program.names_kind(kind),
        confirmed: false,
    };
    let template = kind.reminder_template();
    let body = catalog
        .render(template, language, &context)
        .map_err(|err| ServiceError::Internal(anyhow::Error::new(err)))?;
    let offsets = catalog
        .program
        .reminder_offsets(kind)
        .unwrap_or(services.appointment_reminders);
    let now = services.clock.now();
    Ok(reminder_times(starts_at, offsets, now, &zone, services.quiet_hours)
        .into_iter()
        .map(|time| ReminderDraft {
            offset_minutes: time.offset.as_secs() / 60,
            send_at: time.send_at,
            body: body.clone(),
            template,
        })
        .collect())
}

/// Books an appointment with its reminders, in the client's time zone and outside quiet hours.
pub async fn book_appointment(
    services: &Services<'_>,
    caller: &Caller,
    client_id: i64,
    input: &AppointmentInput,
) -> Result<AppointmentView, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let now = services.clock.now();
    let starts_at = parse_start(input, now)?;
    let kind = parse_kind(input)?.unwrap_or_default();
    let client = reachable_client(services, caller, client_id).await?;
    let drafts = drafts(services, &client, kind, starts_at)?;
    let id = services
        .store
        .create_appointment(client_id, kind, client.phone.as_str(), starts_at, &drafts, now)
        .await?;
    services.scheduler.nudge();
    tracing::info!(
        client_id,
        appointment_id = id,
        kind = kind.as_str(),
        reminders = drafts.len(),
        "appointment created"
    );
    load_appointment(services, id).await
}

async fn load_appointment(services: &Services<'_>, id: i64) -> Result<AppointmentView, ServiceError> {
    services
        .store
        .appointment(id)
        .await?
        .ok_or(ServiceError::NotFound("appointment"))
}

/// An appointment, if the caller may see its client.
pub async fn appointment(services: &Services<'_>, caller: &Caller, id: i64) -> Result<AppointmentView, ServiceError> {
    let appointment = load_appointment(services, id).await?;
    clients::visible(services, caller, appointment.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    Ok(appointment)
}

/// Moves an appointment. Its waiting reminders are replaced in the same transaction, so a reminder for the
/// old time can never be sent.
pub async fn move_appointment(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
    input: &AppointmentInput,
) -> Result<AppointmentView, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let now = services.clock.now();
    let starts_at = parse_start(input, now)?;
    let requested_kind = parse_kind(input)?;
    let current = load_appointment(services, id).await?;
    let client = reachable_client(services, caller, current.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    let kind = match requested_kind {
        Some(kind) => kind,
        // Written by this service from the same enum; a name it does not know is a fault, not input.
        None => AppointmentKind::parse(&current.kind).map_err(|m| {
            ServiceError::Internal(anyhow::anyhow!(
                "appointment {id} has a stored kind it cannot read: {m}"
            ))
        })?,
    };
    let drafts = drafts(services, &client, kind, starts_at)?;
    if !services
        .store
        .move_appointment(id, kind, client.phone.as_str(), starts_at, &drafts, now)
        .await?
    {
        return Err(ServiceError::Conflict(FieldError::new(
            "status",
            "appointment was cancelled",
        )));
    }
    services.scheduler.nudge();
    load_appointment(services, id).await
}

/// Cancels an appointment and its waiting reminders.
pub async fn cancel_appointment(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
) -> Result<AppointmentView, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let appointment = load_appointment(services, id).await?;
    clients::managed(services, caller, appointment.client_id)
        .await
        .map_err(hidden_as("appointment"))?;
    if !services.store.cancel_appointment(id, services.clock.now()).await? {
        return Err(ServiceError::NotFound("scheduled appointment"));
    }
    load_appointment(services, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MedicationInput {
    /// 5-field cron pattern in the client's time zone, like `0 20 * * *`.
    #[schema(example = "0 20 * * *")]
    pub schedule: String,
    /// Words the client chose for the text. Leave out for the neutral "your daily reminder".
    #[serde(default)]
    pub phrase: Option<String>,
    /// Recurring reminders need recorded prior express consent (TCPA): when and how it was given.
    #[serde(default)]
    pub consented_at: Option<String>,
    #[serde(default)]
    pub consent_source: Option<String>,
    /// The client's explicit consent to reminders inside quiet hours; without it such a pattern is refused,
    /// never moved.
    #[serde(default)]
    pub night_ok: bool,
}

/// A medication reminder as started.
pub struct StartedMedication {
    pub id: i64,
    pub client_id: i64,
    pub recurrence: Recurrence,
    pub night_ok: bool,
    pub first_at: Timestamp,
}

/// Starts a recurring medication reminder on a cron pattern in the client's time zone.
pub async fn start_medication(
    services: &Services<'_>,
    caller: &Caller,
    client_id: i64,
    input: &MedicationInput,
) -> Result<StartedMedication, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let now = services.clock.now();
    let recurrence: Recurrence = input.schedule.parse().map_err(|m: String| invalid("schedule", m))?;
    let (consented_at, consent_source) = medication_consent(input, now)?;
    let phrase = medication_phrase(input, &services.catalog.current().program.blocked_terms)?;
    let client = reachable_client(services, caller, client_id).await?;
    let zone = client.timezone.zone().clone();
    let first_at = check_pattern(
        &recurrence,
        &zone,
        services.quiet_hours,
        input.night_ok,
        services.medication_limits,
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
    let id = services.store.insert_medication(&medication, now).await?;
    services.scheduler.nudge();
    Ok(StartedMedication {
        id,
        client_id,
        recurrence,
        night_ok: medication.night_ok,
        first_at,
    })
}

/// The client's recorded consent to recurring reminders (TCPA): when, not in the future nor before the
/// earliest date any record may carry, and where it was given.
fn medication_consent(input: &MedicationInput, now: Timestamp) -> Result<(Timestamp, ConsentSource), ServiceError> {
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
fn medication_phrase<'a>(
    input: &'a MedicationInput,
    blocked_terms: &[String],
) -> Result<Option<&'a str>, ServiceError> {
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

/// Stops a medication reminder; its waiting texts are dropped.
pub async fn stop_medication(services: &Services<'_>, caller: &Caller, id: i64) -> Result<(), ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let client_id = services
        .store
        .medication_client(id)
        .await?
        .ok_or(ServiceError::NotFound("medication"))?;
    clients::managed(services, caller, client_id)
        .await
        .map_err(hidden_as("medication"))?;
    if services.store.stop_medication(id, services.clock.now()).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("active medication"))
    }
}

/// Staff dismiss only their own clients' signals; anyone else's is answered as missing.
pub async fn mark_signal_seen(services: &Services<'_>, caller: &Caller, id: i64) -> Result<(), ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let assigned_to = caller.client_filter();
    let marked = services
        .store
        .mark_signal_seen(id, assigned_to, services.clock.now())
        .await?;
    super::marked_seen(marked, assigned_to, "signal")
}
