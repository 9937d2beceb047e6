//! Enrolling a client at discharge in one schedule or several at once (`"schedules": ["bridge",
//! "caring_contacts"]`; none named: program.toml's `default_schedules`). A bridge schedule replaces the first
//! days of the others the client follows, so no day gets two planned texts; a schedule that sends more than
//! one text a day needs the client's consent to that, recorded here.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::{ServiceError, Services, clients};
use crate::access::Caller;
use crate::domain::client::parse_instant;
use crate::domain::{ClientStatus, ConsentInput, FieldError, RecordedConsent, limits};
use crate::scheduling::{QuietHours, Schedule, Step, bridge_through, starts_on_day};
use crate::storage::{ActiveEnrollment, BridgedEnrollment, NewEnrollment, StoreError, UniqueConstraint};
use crate::templates::Catalog;

/// Discharge can be planned a little ahead (enrolment at the bedside); further out is more likely a typo.
const MAX_DISCHARGE_AHEAD: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Where the consent to several texts a day sits in the request, for naming it in errors.
const SEVERAL_A_DAY_FIELD: &str = "several_texts_a_day_consent";

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentInput {
    /// One schedule; the answer is that one enrolment, as before `schedules` existed.
    #[serde(default)]
    #[schema(example = "caring_contacts")]
    pub schedule: Option<String>,
    /// Several schedules at once; the answer lists each enrolment.
    #[serde(default)]
    pub schedules: Option<Vec<String>>,
    /// When the client left care (RFC 3339); the schedule's days count from it, in the client's zone.
    #[schema(example = "2026-12-01T10:00:00-06:00")]
    pub discharged_at: String,
    /// The client's consent to more than one text a day, which the bridge needs.
    #[serde(default)]
    pub several_texts_a_day_consent: Option<ConsentInput>,
}

/// One enrolment as made: its first step, and the steps before it, skipped (already past) or replaced (a
/// bridge's days).
pub struct Enrolled {
    pub id: i64,
    pub client_id: i64,
    pub schedule: String,
    pub schedule_version: i64,
    pub discharged_at: Timestamp,
    /// The first step that will be sent and when; steps already too far past are skipped.
    pub first_step: Option<String>,
    pub first_send_at: Option<Timestamp>,
    pub skipped_steps: Vec<String>,
    /// Steps on the days a bridge schedule covers for this client; the bridge's check-ins go instead.
    pub replaced_steps: Vec<String>,
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

/// Enrols a client at discharge, for their assigned peer or an admin. All or nothing: one refused schedule
/// leaves the client enrolled in none of the others.
pub async fn enroll(
    services: &Services<'_>,
    caller: &Caller,
    client_id: i64,
    input: EnrollmentInput,
) -> Result<Vec<Enrolled>, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let now = services.clock.now();
    let client = clients::managed(services, caller, client_id).await?;
    refuse_opted_out(client.status)?;
    let catalog = services.catalog.current();
    let chosen = chosen_schedules(&catalog, &input).map_err(ServiceError::Invalid)?;
    let discharged_at = discharge_time(&input, now).map_err(ServiceError::Invalid)?;
    let consent = several_a_day_consent(&input, &chosen, now).map_err(ServiceError::Invalid)?;

    let existing = services.store.active_enrollments(client_id).await?;
    if let Some((field, already)) = chosen
        .iter()
        .find(|(_, s)| existing.iter().any(|e| e.schedule == s.name))
    {
        return Err(already_enrolled(field, &already.name));
    }
    let (bridge_through, bridged) = bridged_by(&chosen, &existing, &catalog);
    let plan = Plan {
        client_id,
        discharged_at,
        zone: client.timezone.zone(),
        quiet_hours: services.quiet_hours,
        bridge_through,
        now,
    };
    let (enrollments, mut views): (Vec<NewEnrollment>, Vec<Enrolled>) = chosen
        .iter()
        .map(|(_, schedule)| plan.enrolment(schedule, consent.as_ref()))
        .unzip();
    let ids = services
        .store
        .insert_enrollments(&enrollments, &bridged, now)
        .await
        .map_err(|err| enrolled_meanwhile(err, &chosen))?;
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
    services.scheduler.nudge();
    Ok(views)
}

/// Someone who said STOP is never enrolled by staff: only the client can opt back in.
fn refuse_opted_out(status: ClientStatus) -> Result<(), ServiceError> {
    if status == ClientStatus::OptedOut {
        return Err(ServiceError::Conflict(FieldError::new(
            "client",
            "client opted out; only the client can opt back in, by texting START",
        )));
    }
    Ok(())
}

/// A store error as the API answers it: another request that enrolled the client in one of these between
/// the check and the insert is a 409, like an enrolment found by the check.
fn enrolled_meanwhile(err: StoreError, chosen: &[(String, &Schedule)]) -> ServiceError {
    match err {
        StoreError::Conflict(UniqueConstraint::OneActiveEnrollmentPerSchedule) => {
            let names: Vec<&str> = chosen.iter().map(|(_, s)| s.name.as_str()).collect();
            already_enrolled(&chosen[0].0, &names.join("` or `"))
        }
        err => err.into(),
    }
}

/// The schedules the request names (or the program's default set), each with the field to blame for it.
fn chosen_schedules<'c>(
    catalog: &'c Catalog,
    input: &EnrollmentInput,
) -> Result<Vec<(String, &'c Schedule)>, FieldError> {
    let mut chosen: Vec<(String, &Schedule)> = Vec::new();
    for (field, name) in requested_names(input, &catalog.program.default_schedules)? {
        let Some(schedule) = catalog.schedule(&name) else {
            let known: Vec<&str> = catalog.schedules.keys().map(String::as_str).collect();
            return Err(FieldError::new(
                field,
                format!("no schedule named `{name}`; available: {}", known.join(", ")),
            ));
        };
        if chosen.iter().any(|(_, s)| s.name == schedule.name) {
            return Err(FieldError::new(field, format!("`{name}` is named twice")));
        }
        chosen.push((field, schedule));
    }
    Ok(chosen)
}

/// When the client was discharged: not before the earliest date any record may carry, and not more than a
/// week ahead.
fn discharge_time(input: &EnrollmentInput, now: Timestamp) -> Result<Timestamp, FieldError> {
    let field = |message: String| FieldError::new("discharged_at", message);
    let discharged_at = parse_instant(&input.discharged_at).map_err(field)?;
    limits::not_before_earliest(discharged_at).map_err(field)?;
    if discharged_at > now + MAX_DISCHARGE_AHEAD {
        return Err(field("is more than 7 days ahead; enrol at or near discharge".into()));
    }
    Ok(discharged_at)
}

/// The client's consent to several texts a day: checked when given, and required when a chosen schedule
/// sends more than one text a day.
fn several_a_day_consent(
    input: &EnrollmentInput,
    chosen: &[(String, &Schedule)],
    now: Timestamp,
) -> Result<Option<RecordedConsent>, FieldError> {
    let consent = input
        .several_texts_a_day_consent
        .as_ref()
        .map(|consent| consent.validate(SEVERAL_A_DAY_FIELD, now))
        .transpose()?;
    if consent.is_none()
        && let Some((_, several)) = chosen.iter().find(|(_, s)| s.sends_several_a_day())
    {
        return Err(FieldError::new(
            SEVERAL_A_DAY_FIELD,
            format!(
                "`{}` sends more than one text a day; record the client's consent to that (consented_at, \
                 consent_source)",
                several.name
            ),
        ));
    }
    Ok(consent)
}

/// The last day a bridge covers for this client, whether it comes with this request or is under way
/// already, and the enrolments under way that a bridge in this request moves past its days.
fn bridged_by(
    chosen: &[(String, &Schedule)],
    existing: &[ActiveEnrollment],
    catalog: &Catalog,
) -> (Option<i32>, Vec<BridgedEnrollment>) {
    let through = bridge_through(
        chosen
            .iter()
            .map(|(_, s)| *s)
            .chain(existing.iter().filter_map(|e| catalog.schedule(&e.schedule))),
    );
    let Some(through) = through.filter(|_| chosen.iter().any(|(_, s)| s.replaces_through_day.is_some())) else {
        return (through, Vec::new());
    };
    let moved = existing
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
        .collect();
    (Some(through), moved)
}

/// What every enrolment of one request shares.
struct Plan<'a> {
    client_id: i64,
    discharged_at: Timestamp,
    zone: &'a jiff::tz::TimeZone,
    quiet_hours: &'a QuietHours,
    bridge_through: Option<i32>,
    now: Timestamp,
}

impl Plan<'_> {
    /// The enrolment in `schedule` to store, and how the answer describes it: its first step, and the steps
    /// before it, skipped (already past) or replaced (a bridge's days).
    fn enrolment(&self, schedule: &Schedule, consent: Option<&RecordedConsent>) -> (NewEnrollment, Enrolled) {
        let starts_on_day = starts_on_day(schedule, self.bridge_through);
        let first =
            schedule.first_step_due_after(self.discharged_at, self.zone, self.quiet_hours, starts_on_day, self.now);
        let before_first = &schedule.steps[..first.as_ref().map_or(schedule.steps.len(), |p| p.index)];
        let (replaced, skipped): (Vec<&Step>, Vec<&Step>) =
            before_first.iter().partition(|step| step.day < starts_on_day);
        let ids = |steps: Vec<&Step>| steps.into_iter().map(|step| step.id.clone()).collect();
        let enrollment = NewEnrollment {
            client_id: self.client_id,
            schedule: schedule.name.clone(),
            schedule_version: schedule.version,
            discharged_at: self.discharged_at,
            starts_on_day,
            first_step: first.as_ref().map(|p| (p.index, p.send_at)),
            several_daily_consent: consent.cloned().filter(|_| schedule.sends_several_a_day()),
        };
        let view = Enrolled {
            id: 0,
            client_id: self.client_id,
            schedule: schedule.name.clone(),
            schedule_version: schedule.version,
            discharged_at: self.discharged_at,
            first_step: first.as_ref().map(|p| p.step.id.clone()),
            first_send_at: first.as_ref().map(|p| p.send_at),
            skipped_steps: ids(skipped),
            replaced_steps: ids(replaced),
        };
        (enrollment, view)
    }
}

fn already_enrolled(field: &str, schedule: &str) -> ServiceError {
    let field = if field.starts_with("schedules") {
        "schedules"
    } else {
        "schedule"
    };
    ServiceError::Conflict(FieldError::new(
        field,
        format!("client is already enrolled in `{schedule}`"),
    ))
}
