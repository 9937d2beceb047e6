//! The console's pages. Each handler gathers what its page shows through the same storage calls and rules
//! as the API, and renders one template from `assets/console/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::{ConsoleError, ConsoleSession, render};
use crate::access::{EscalationAccess, escalation_access};
use crate::domain::client::NewClientInput;
use crate::domain::safety_plan::{Contact, ContactInput, SafetyPlanInput, Section};
use crate::domain::{AppointmentKind, ConsentInput, TimeZoneName, segments};
use crate::http::AppState;
use crate::http::auth::{ChangesNothing, audited};
use crate::preview::{self, PreviewRequest};
use crate::scheduling::{QuietHours, Schedule};
use crate::service::clients::{self, RelayInput};
use crate::service::enrolling::{self, EnrollmentInput};
use crate::service::escalations::{self, as_seen_by};
use crate::service::{ServiceError, catalog_edits, safety_plans};
use crate::storage::{SafetyPlanVersion, StoreError};
use crate::templates::edit::ScheduleDocument;
use crate::templates::{Catalog, CatalogError, Severity};

/// More segments than this cost real money per text and read as a wall of text on a phone.
const SEGMENT_WARNING: usize = 2;

/// What every page's layout needs.
pub(super) fn page(session: &ConsoleSession, section: &str, title: &str) -> minijinja::Value {
    context! {
        caller => context! {
            name => session.caller.name.clone(),
            role => session.caller.role.as_str(),
            may_write => session.caller.may_write(),
            is_admin => session.caller.is_admin(),
        },
        sandbox => session.sandbox,
        paging_problems => session.paging_problems.clone(),
        csrf => session.csrf_token.clone(),
        section,
        title,
    }
}

pub(super) fn with(base: minijinja::Value, extra: minijinja::Value) -> minijinja::Value {
    context! { ..extra, ..base }
}

fn local(seconds: i64, zone: &str) -> String {
    let zone = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    Timestamp::from_second(seconds)
        .map(|t| t.to_zoned_datetime(zone).strftime("%a %b %-d, %H:%M %Z").to_string())
        .unwrap_or_default()
}

fn require_writer(session: &ConsoleSession) -> Result<(), ConsoleError> {
    session.caller.check_write().map_err(ConsoleError::Forbidden)
}

fn require_admin(session: &ConsoleSession) -> Result<(), ConsoleError> {
    session.caller.check_admin().map_err(ConsoleError::Forbidden)
}

#[derive(Serialize)]
struct ClientRow {
    id: i64,
    first_name: String,
    phone_ending: String,
    timezone: String,
    status: &'static str,
}

/// The last four digits are enough to tell clients apart on screen; the full number is on the client page.
fn phone_ending(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{digits}")
}

pub async fn clients(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
) -> Result<Html<String>, ConsoleError> {
    client_list(&state, &session, None, None).await
}

async fn client_list(
    state: &AppState,
    session: &ConsoleSession,
    error: Option<(String, String)>,
    form: Option<&NewClientForm>,
) -> Result<Html<String>, ConsoleError> {
    let rows: Vec<ClientRow> = state
        .store
        .clients(session.caller.client_filter())
        .await?
        .into_iter()
        .map(|c| ClientRow {
            id: c.id,
            first_name: c.first_name.as_str().to_owned(),
            phone_ending: phone_ending(c.phone.as_str()),
            timezone: c.timezone.as_str().to_owned(),
            status: c.status.as_str(),
        })
        .collect();
    let catalog = state.catalog.current();
    render(
        "clients.html",
        with(
            page(session, "clients", "Clients"),
            context! {
                clients => Serde(rows),
                languages => catalog.program.languages.clone(),
                error => error.map(|(field, message)| context! { field, message }),
                form => Serde(form),
            },
        ),
    )
}

#[derive(Deserialize, Serialize)]
pub struct NewClientForm {
    csrf: String,
    phone: String,
    first_name: String,
    language: String,
    timezone: String,
    consent_source: String,
}

pub async fn create_client(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Form(form): Form<NewClientForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    let input = NewClientInput {
        phone: form.phone.clone(),
        first_name: form.first_name.clone(),
        language: form.language.clone(),
        timezone: form.timezone.clone(),
        // Consent is recorded in the form's wording as given now, at the bedside.
        consented_at: state.clock.now().to_string(),
        consent_source: form.consent_source.clone(),
    };
    match clients::create(&state.services(), &session.caller, input).await {
        Ok(client) => Ok(Redirect::to(&format!("/console/clients/{}", client.id)).into_response()),
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => {
            let page = client_list(&state, &session, Some((err.field, err.message)), Some(&form)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Serialize)]
struct ThreadEntry {
    at: i64,
    when: String,
    direction: &'static str,
    body: Option<String>,
    status: String,
    detail: String,
}

pub async fn client(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    client_page(&state, &session, id, None).await
}

async fn client_page(
    state: &AppState,
    session: &ConsoleSession,
    id: i64,
    enroll_error: Option<(String, String)>,
) -> Result<Response, ConsoleError> {
    client_page_with_plan(state, session, id, enroll_error, None).await
}

/// The client page, with the safety plan form as it was sent and what was wrong with it, after a refusal.
async fn client_page_with_plan(
    state: &AppState,
    session: &ConsoleSession,
    id: i64,
    enroll_error: Option<(String, String)>,
    plan_refused: Option<(PlanForm, String, String)>,
) -> Result<Response, ConsoleError> {
    let (client, access) = clients::with_access(&state.services(), &session.caller, id).await?;
    let bodies = access.may_read_words();
    let thread = client_thread(state, id, client.timezone.as_str(), bodies).await?;
    let now = state.clock.now();
    let mut escalations = state.store.escalations(None, now).await?;
    escalations.retain(|e| e.client_id == Some(id));
    let escalations = as_seen_by(&session.caller, escalations, now);
    let (schedules, bridges) = schedule_choices(&state.catalog.current());
    let plan = readable_plan(state, id).await?;
    let plan_view = plan.as_ref().map(|saved| SafetyPlanView::of(saved, bodies));
    let (plan_form, plan_error) = match plan_refused {
        Some((form, field, message)) => (Some(form), Some(context! { field, message })),
        None => (plan.as_ref().filter(|_| bodies).map(PlanForm::of), None),
    };
    let html = render(
        "client.html",
        with(
            page(session, "clients", client.first_name.as_str()),
            context! {
                client => context! {
                    id => client.id,
                    first_name => client.first_name.as_str(),
                    phone => if bodies { client.phone.as_str().to_owned() } else { phone_ending(client.phone.as_str()) },
                    timezone => client.timezone.as_str(),
                    language => client.language,
                    status => client.status.as_str(),
                },
                thread => Serde(thread),
                escalations => Serde(escalations),
                may_manage => access.may_manage(),
                may_relay => access.may_relay() && session.caller.may_write(),
                schedules,
                bridges,
                enroll_error => enroll_error.map(|(field, message)| context! { field, message }),
                plan => Serde(plan_view),
                plan_form => Serde(plan_form),
                plan_error,
            },
        ),
    )?;
    Ok(audited(html))
}

/// The client's saved plan, if it still reads: a stored plan that no longer does must not take the client's
/// whole page down with it.
async fn readable_plan(state: &AppState, id: i64) -> Result<Option<SafetyPlanVersion>, ConsoleError> {
    match state.store.safety_plan(id).await {
        Ok(plan) => Ok(plan),
        Err(StoreError::Corrupt(problem)) => {
            tracing::warn!(
                client_id = id,
                problem,
                "stored safety plan unreadable; page shown without it"
            );
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// The client's thread, texts out and in, oldest first; the words only when `bodies`.
async fn client_thread(
    state: &AppState,
    id: i64,
    timezone: &str,
    bodies: bool,
) -> Result<Vec<ThreadEntry>, ConsoleError> {
    let mut thread: Vec<ThreadEntry> = state
        .store
        .texts_for_client(id)
        .await?
        .into_iter()
        .map(|text| {
            let at = text.sent_at.unwrap_or(text.send_at);
            ThreadEntry {
                at,
                when: local(at, timezone),
                direction: "out",
                body: bodies.then_some(text.body),
                status: text.provider_status.unwrap_or(text.status),
                detail: {
                    let purpose = text.step.or(text.template).unwrap_or(text.kind);
                    // Staff see what a reminder was for, which the text itself may not say.
                    let purpose = match text.appointment_kind.as_deref().map(AppointmentKind::parse) {
                        Some(Ok(kind)) => format!("{} · {purpose}", kind.label()),
                        Some(Err(_)) | None => purpose,
                    };
                    match text.held_by_escalation {
                        Some(escalation) => format!("{purpose} · held while crisis escalation {escalation} was open"),
                        None => purpose,
                    }
                },
            }
        })
        .collect();
    thread.extend(
        state
            .store
            .received_from_client(id)
            .await?
            .into_iter()
            .map(|text| ThreadEntry {
                at: text.received_at,
                when: local(text.received_at, timezone),
                direction: "in",
                body: bodies.then_some(text.body),
                status: "received".into(),
                detail: if text.risk_tier == "none" {
                    String::new()
                } else {
                    format!("risk: {}", text.risk_tier)
                },
            }),
    );
    // A reply goes out in the same second as the text it answers; the text comes first.
    thread.sort_by_key(|entry| (entry.at, entry.direction == "out"));
    Ok(thread)
}

/// The schedules a client can be enrolled in, and apart from them the bridges, which are offered beside a
/// schedule rather than instead of one: they cover only the first days.
fn schedule_choices(catalog: &Catalog) -> (Vec<String>, Vec<String>) {
    let (bridges, schedules): (Vec<&Schedule>, Vec<&Schedule>) = catalog
        .schedules
        .values()
        .partition(|s| s.replaces_through_day.is_some());
    let names = |list: Vec<&Schedule>| list.iter().map(|s| s.name.clone()).collect();
    (names(schedules), names(bridges))
}

/// A saved plan as the client page shows it: the words only to a caller who may read the client's words.
#[derive(Serialize)]
struct SafetyPlanView {
    version: i64,
    saved_by: String,
    saved_at: String,
    texted_on_request: bool,
    share_environment_by_text: bool,
    consent_source: Option<String>,
    /// Each section's number, heading and lines; empty for a caller who may not read them.
    sections: Vec<(u8, &'static str, Vec<String>)>,
}

impl SafetyPlanView {
    fn of(saved: &SafetyPlanVersion, with_words: bool) -> Self {
        let plan = &saved.plan;
        let sections = if with_words {
            Section::ALL
                .into_iter()
                .map(|section| (section.number(), section_heading(section), plan.sections.items(section)))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            version: saved.version,
            saved_by: saved.saved_by.clone(),
            saved_at: saved.saved_at.to_string(),
            texted_on_request: plan.texted_on_request(),
            share_environment_by_text: plan.share_environment_by_text,
            consent_source: plan.text_consent.as_ref().map(|c| c.source.as_str().to_owned()),
            sections,
        }
    }
}

/// The Stanley–Brown headings as staff know them (the client's texts use the templates' words).
fn section_heading(section: Section) -> &'static str {
    match section {
        Section::WarningSigns => "Warning signs",
        Section::Coping => "Things I can do on my own",
        Section::Distractions => "People and places that distract me",
        Section::People => "People I can ask for help",
        Section::Professionals => "Professionals and 24/7 lines",
        Section::Environment => "Making my environment safer",
    }
}

/// The plan form: one item per line; contacts as `name, +1 phone`.
#[derive(Deserialize, Serialize)]
pub struct PlanForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    warning_signs: String,
    #[serde(default)]
    coping: String,
    #[serde(default)]
    distractions: String,
    #[serde(default)]
    people: String,
    #[serde(default)]
    professionals: String,
    #[serde(default)]
    environment: String,
    /// A ticked checkbox sends `on`; an unticked one sends nothing.
    #[serde(default)]
    share_environment_by_text: Option<String>,
    /// Where the client agreed to get the plan by text; empty when they did not.
    #[serde(default)]
    consent_source: String,
}

impl PlanForm {
    fn of(saved: &SafetyPlanVersion) -> Self {
        let sections = &saved.plan.sections;
        let contacts = |contacts: &[Contact]| {
            contacts
                .iter()
                .map(|c| format!("{}, {}", c.name, c.phone))
                .collect::<Vec<_>>()
                .join("\n")
        };
        Self {
            csrf: String::new(),
            warning_signs: sections.warning_signs.join("\n"),
            coping: sections.coping.join("\n"),
            distractions: sections.distractions.join("\n"),
            people: contacts(&sections.people),
            professionals: contacts(&sections.professionals),
            environment: sections.environment.join("\n"),
            share_environment_by_text: saved.plan.share_environment_by_text.then(|| "on".to_owned()),
            consent_source: saved
                .plan
                .text_consent
                .as_ref()
                .map(|c| c.source.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// The form as the API's input. Consent given with an earlier version keeps its time while its source is
    /// unchanged; a new source is consent recorded now, at the bedside.
    fn to_input(&self, current: Option<&SafetyPlanVersion>, now: Timestamp) -> SafetyPlanInput {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        // The phone number comes last and has no comma, so a name may have one.
        let contacts = |text: &str| -> Vec<ContactInput> {
            lines(text)
                .into_iter()
                .map(|line| match line.rsplit_once(',') {
                    Some((name, phone)) => ContactInput {
                        name: name.trim().to_owned(),
                        phone: phone.trim().to_owned(),
                    },
                    None => ContactInput {
                        name: line,
                        phone: String::new(),
                    },
                })
                .collect()
        };
        let source = self.consent_source.trim();
        let earlier = current
            .and_then(|saved| saved.plan.text_consent.as_ref())
            .filter(|consent| consent.source.as_str() == source);
        let text_consent = (!source.is_empty()).then(|| ConsentInput {
            consented_at: earlier.map_or(now, |consent| consent.at).to_string(),
            consent_source: source.to_owned(),
        });
        SafetyPlanInput {
            warning_signs: lines(&self.warning_signs),
            coping: lines(&self.coping),
            distractions: lines(&self.distractions),
            people: contacts(&self.people),
            professionals: contacts(&self.professionals),
            environment: lines(&self.environment),
            share_environment_by_text: self.share_environment_by_text.is_some(),
            text_consent,
        }
    }
}

/// Saves the client's safety plan from the console, under the same rule and checks as the API.
pub async fn save_plan(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<PlanForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    let current = state.store.safety_plan(id).await?;
    let input = form.to_input(current.as_ref(), state.clock.now());
    match safety_plans::save(&state.services(), &session.caller, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/clients/{id}#plan")).into_response()),
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => {
            let page = client_page_with_plan(&state, &session, id, None, Some((form, err.field, err.message))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct EnrollForm {
    csrf: String,
    schedule: String,
    /// The bridge schedule's name, when its box is ticked.
    #[serde(default)]
    bridge: Option<String>,
    /// Where the client agreed to more than one text a day, which the bridge needs.
    #[serde(default)]
    several_daily_consent_source: Option<String>,
    /// Local to the client, from a datetime-local field (`2026-03-06T15:00`).
    discharged_at: String,
}

pub async fn enroll(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<EnrollForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    let client = clients::managed(&state.services(), &session.caller, id).await?;
    let discharged_at = match preview::parse_discharge(&form.discharged_at, &client.timezone) {
        Ok(at) => at.to_string(),
        Err(message) => {
            let page = client_page(&state, &session, id, Some(("discharged_at".into(), message))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let input = match form.bridge.filter(|bridge| !bridge.is_empty()) {
        None => EnrollmentInput {
            schedule: Some(form.schedule),
            schedules: None,
            discharged_at,
            several_texts_a_day_consent: None,
        },
        Some(bridge) => EnrollmentInput {
            schedule: None,
            schedules: Some(vec![bridge, form.schedule]),
            discharged_at,
            // Recorded as given now, by the staff member filling in the form with the client.
            several_texts_a_day_consent: form
                .several_daily_consent_source
                .filter(|source| !source.trim().is_empty())
                .map(|consent_source| ConsentInput {
                    consented_at: state.clock.now().to_string(),
                    consent_source,
                }),
        },
    };
    match enrolling::enroll(&state.services(), &session.caller, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/clients/{id}")).into_response()),
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => {
            let page = client_page(&state, &session, id, Some((err.field, err.message))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct RelayForm {
    csrf: String,
    text: String,
}

/// Texts the client from the service number, under the same rule as the API and `R <ref>` by SMS.
pub async fn relay(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<RelayForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    match clients::relay(&state.services(), &session.caller, id, &RelayInput { text: form.text }).await {
        Ok(()) => Ok(Redirect::to(&format!("/console/clients/{id}")).into_response()),
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => {
            let page = client_page(&state, &session, id, Some((err.field, err.message))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn pause(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    set_paused(&state, &session, id, &form, true).await
}

pub async fn resume(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    set_paused(&state, &session, id, &form, false).await
}

async fn set_paused(
    state: &AppState,
    session: &ConsoleSession,
    id: i64,
    form: &CsrfForm,
    paused: bool,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(session)?;
    match clients::set_paused(&state.services(), &session.caller, id, paused).await {
        // An opted-out client stays so, whom only their own START brings back; the page shows the status.
        Ok(_) | Err(ServiceError::Conflict(_)) => Ok(Redirect::to(&format!("/console/clients/{id}")).into_response()),
        Err(other) => Err(other.into()),
    }
}

pub async fn schedules(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
) -> Result<Html<String>, ConsoleError> {
    let catalog = state.catalog.current();
    let list: Vec<ScheduleDocument> = catalog.schedules.values().map(ScheduleDocument::from).collect();
    let versions = state.store.catalog_versions().await?;
    render(
        "schedules.html",
        with(
            page(&session, "schedules", "Schedules"),
            context! { schedules => Serde(list), versions => Serde(versions) },
        ),
    )
}

pub async fn schedule(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(name): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    let catalog = state.catalog.current();
    let schedule = catalog.schedule(&name).ok_or(ConsoleError::NotFound("schedule"))?;
    let document = ScheduleDocument::from(schedule);
    let json = serde_json::to_string(&document).map_err(|err| ConsoleError::Internal(err.into()))?;
    let templates: Vec<String> = state
        .catalogs
        .current_files()
        .await?
        .1
        .keys()
        .filter_map(|path| {
            let rest = path.strip_prefix("sms/")?.strip_suffix(".txt")?;
            let (language, name) = rest.split_once('/')?;
            (language == catalog.program.default_language && name.starts_with("caring/")).then(|| name.to_owned())
        })
        .collect();
    render(
        "schedule.html",
        with(
            page(&session, "schedules", &format!("Schedule {name}")),
            context! { schedule => Serde(document), schedule_json => json, templates },
        ),
    )
}

/// The editor's request: the edited schedule and the sample discharge to lay it out for.
#[derive(Deserialize)]
pub struct PreviewInput {
    schedule: ScheduleDocument,
    discharged_at: String,
    timezone: String,
}

#[derive(Serialize)]
struct PreviewText {
    language: String,
    body: String,
    segments: usize,
    encoding: &'static str,
}

#[derive(Serialize)]
struct PreviewStep {
    step: String,
    day: Option<i32>,
    send_at: String,
    texts: Vec<PreviewText>,
    warning: Option<String>,
}

/// Lays out an unsaved schedule for a sample discharge: send times in the chosen zone, each text in every
/// language with its segment count. An invalid schedule answers 422 with the field, as a save would.
pub async fn preview_schedule(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::Json(input): axum::Json<PreviewInput>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(csrf_header(&headers))?;
    let mut response = lay_out_preview(&state, &session, &name, input).await?;
    response.extensions_mut().insert(ChangesNothing);
    Ok(response)
}

async fn lay_out_preview(
    state: &AppState,
    session: &ConsoleSession,
    name: &str,
    input: PreviewInput,
) -> Result<Response, ConsoleError> {
    let invalid = |field: &str, message: String| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": { "field": field, "message": message } })),
        )
            .into_response()
    };
    let zone = match TimeZoneName::parse(&input.timezone) {
        Ok(zone) => zone,
        Err(message) => return Ok(invalid("timezone", message)),
    };
    let discharged_at = match preview::parse_discharge(&input.discharged_at, &zone) {
        Ok(at) => at,
        Err(message) => return Ok(invalid("discharged_at", message)),
    };
    let (_, mut files) = state.catalogs.current_files().await?;
    let file = input.schedule.to_file(input.schedule.version + 1, &session.caller.name);
    files.insert(format!("schedules/{name}.toml"), file.text.clone());
    let catalog = match crate::templates::load_files(&files) {
        Ok(loaded) => loaded.catalog,
        Err(CatalogError(problems)) => {
            let problem = problems.into_iter().find(|p| p.severity == Severity::Error);
            let (field, message) = problem
                .map(|p| (file.field_at(p.line).to_owned(), p.message))
                .unwrap_or_else(|| ("steps".into(), "invalid".into()));
            return Ok(invalid(&field, message));
        }
    };
    let steps = preview_in_every_language(&catalog, name, discharged_at, &zone, &state.quiet_hours)?;
    Ok(axum::Json(steps).into_response())
}

/// Each step of the edited schedule as it would go out, in every language of the program, with its length
/// in segments and a warning when that is costly.
fn preview_in_every_language(
    catalog: &Catalog,
    name: &str,
    discharged_at: jiff::Timestamp,
    zone: &TimeZoneName,
    quiet_hours: &QuietHours,
) -> Result<Vec<PreviewStep>, ConsoleError> {
    let mut by_step: BTreeMap<usize, PreviewStep> = BTreeMap::new();
    for language in &catalog.program.languages {
        let rows = preview::preview(
            catalog,
            &PreviewRequest {
                schedules: &[name],
                discharged_at,
                zone,
                language,
                first_name: "Alexandria",
                quiet_hours,
            },
        )
        .map_err(|err| ConsoleError::Internal(err.into()))?;
        for (index, row) in rows.into_iter().enumerate() {
            let entry = by_step.entry(index).or_insert_with(|| PreviewStep {
                step: row.step.clone(),
                day: row.day,
                send_at: row.send_at.clone(),
                texts: Vec::new(),
                warning: None,
            });
            let count = segments::count(&row.body);
            if count.segments > SEGMENT_WARNING {
                entry.warning = Some(format!(
                    "{language}: {} segments ({}), each billed as a text",
                    count.segments,
                    count.encoding.as_str()
                ));
            }
            entry.texts.push(PreviewText {
                language: language.clone(),
                body: row.body,
                segments: count.segments,
                encoding: count.encoding.as_str(),
            });
        }
    }
    Ok(by_step.into_values().collect())
}

pub(super) fn csrf_header(headers: &HeaderMap) -> &str {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Saves the editor's schedule as a new version: JSON from the page's script, answered with the saved
/// schedule or the field that is wrong.
pub async fn save_schedule(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::Json(document): axum::Json<ScheduleDocument>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(csrf_header(&headers))?;
    require_admin(&session)?;
    match catalog_edits::save_schedule(&state.services(), &session.caller, &name, &document).await {
        Ok((saved, replanned)) => {
            Ok(axum::Json(serde_json::json!({ "schedule": saved, "replanned": replanned })).into_response())
        }
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": { "field": err.field, "message": err.message } })),
        )
            .into_response()),
        Err(other) => Err(other.into()),
    }
}

#[derive(Serialize)]
struct TemplateEntry {
    language: String,
    name: String,
    body: String,
    segments: usize,
    encoding: &'static str,
    error: Option<String>,
}

pub async fn templates(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
) -> Result<Html<String>, ConsoleError> {
    templates_page(&state, &session, None).await
}

/// The template list; `failed` is an edit that was refused, shown with its text and the reason in place.
async fn templates_page(
    state: &AppState,
    session: &ConsoleSession,
    failed: Option<(String, String, String)>,
) -> Result<Html<String>, ConsoleError> {
    let (version, files) = state.catalogs.current_files().await?;
    let entries: Vec<TemplateEntry> = files
        .into_iter()
        .filter_map(|(path, body)| {
            let (language, name) = path.strip_prefix("sms/")?.strip_suffix(".txt")?.split_once('/')?;
            let key = format!("{language}/{name}");
            let (body, error) = match &failed {
                Some((failed_key, failed_body, message)) if *failed_key == key => {
                    (failed_body.clone(), Some(message.clone()))
                }
                _ => (body, None),
            };
            let count = segments::count(&body);
            Some(TemplateEntry {
                language: language.to_owned(),
                name: name.to_owned(),
                body,
                segments: count.segments,
                encoding: count.encoding.as_str(),
                error,
            })
        })
        .collect();
    render(
        "templates.html",
        with(
            page(session, "templates", "Templates"),
            context! { templates => Serde(entries), version },
        ),
    )
}

#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: String,
    body: String,
}

pub async fn save_template(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path((language, group, name)): Path<(String, String, String)>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_admin(&session)?;
    let template = format!("{group}/{name}");
    // Browsers send textarea line breaks as CRLF; the files use LF.
    let body = form.body.replace("\r\n", "\n");
    match catalog_edits::save_template(&state.services(), &session.caller, &language, &template, &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/templates#{language}/{template}")).into_response()),
        Err(ServiceError::Invalid(err) | ServiceError::Conflict(err)) => {
            let failed = (format!("{language}/{template}"), body, err.message);
            let page = templates_page(&state, &session, Some(failed)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    show: Option<String>,
}

pub async fn escalations(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Query(query): Query<BoardQuery>,
) -> Result<Html<String>, ConsoleError> {
    let all = query.show.as_deref() == Some("all");
    let now = state.clock.now();
    let mut list = as_seen_by(&session.caller, state.store.escalations(None, now).await?, now);
    // Only those who respond to an escalation resolve it; anyone else on staff may take it over first.
    let responding: Vec<i64> = list
        .iter()
        .filter(|e| {
            escalation_access(&session.caller, e.assigned_staff_id, &e.parties, now) == EscalationAccess::Responder
        })
        .map(|e| e.id)
        .collect();
    if !all {
        list.retain(|e| e.status != "resolved");
    }
    list.reverse();
    // Open escalations nobody could be paged for, or nobody acknowledged, come first.
    list.sort_by_key(|e| !(e.status == "open" && e.exhausted_reason.is_some()));
    let staff = state.store.staff().await?;
    let staff: Vec<_> = staff
        .into_iter()
        .map(|s| context! { id => s.id, name => s.name })
        .collect();
    render(
        "escalations.html",
        with(
            page(&session, "escalations", "Escalations"),
            context! { escalations => Serde(list), staff, all, own_staff_id => session.caller.staff_id, responding },
        ),
    )
}

#[derive(Deserialize)]
pub struct AcknowledgeForm {
    csrf: String,
    staff_id: Option<i64>,
}

pub async fn acknowledge(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<AcknowledgeForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    // Staff take it themselves; an admin says who.
    let staff_id = form.staff_id.filter(|_| session.caller.is_admin());
    match escalations::acknowledge(&state.services(), &session.caller, id, staff_id).await {
        // Someone else took it first: the board shows who.
        Ok(_) | Err(ServiceError::Conflict(_)) => Ok(Redirect::to("/console/escalations").into_response()),
        Err(other) => Err(other.into()),
    }
}

pub async fn resolve(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_writer(&session)?;
    // Resolved already by someone else, the board shows it so.
    escalations::resolve(&state.services(), &session.caller, id).await?;
    Ok(Redirect::to("/console/escalations").into_response())
}

pub async fn on_call(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
) -> Result<Html<String>, ConsoleError> {
    let now = state.clock.now();
    let names: BTreeMap<i64, String> = state.store.staff().await?.into_iter().map(|s| (s.id, s.name)).collect();
    let name_of = |id: Option<i64>| {
        id.and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "nobody".into())
    };
    let mut rotations = Vec::new();
    for rotation in state.store.rotations().await? {
        let mut days = Vec::new();
        for day in 0..7 {
            let at = now + SignedDuration::from_hours(24 * day);
            let overrides = state.store.overrides_at(rotation.id, at).await?;
            let who = crate::domain::oncall::on_call(&rotation, &overrides, at);
            days.push(context! {
                when => at.to_zoned_datetime(rotation.zone.clone()).strftime("%a %b %-d, %H:%M").to_string(),
                who => name_of(who),
                overridden => !overrides.is_empty(),
            });
        }
        rotations.push(context! { name => rotation.name, zone => rotation.zone.iana_name().unwrap_or("UTC"), days });
    }
    render(
        "on_call.html",
        with(page(&session, "on-call", "On call"), context! { rotations }),
    )
}

pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
) -> Result<Html<String>, ConsoleError> {
    let clinical = state.catalog.current().program.clinical_appointment_kinds.clone();
    let figures = state.store.engagement(&clinical).await?;
    let rate = |part: i64, whole: i64| {
        if whole == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}%", 100.0 * part as f64 / whole as f64)
        }
    };
    let signals = state.store.signals(true, session.caller.client_filter()).await?;
    let reply_rate = rate(figures.clients_replied, figures.clients_texted);
    let confirmation_rate = rate(figures.appointments_confirmed, figures.appointments_reminded);
    let follow_up_7 = rate(figures.follow_up_7_days, figures.discharges);
    let follow_up_30 = rate(figures.follow_up_30_days, figures.discharges);
    let clinical_kinds = clinical.iter().map(|kind| kind.label()).collect::<Vec<_>>().join(", ");
    render(
        "dashboard.html",
        with(
            page(&session, "dashboard", "Engagement"),
            context! {
                figures => Serde(figures), reply_rate, confirmation_rate, follow_up_7, follow_up_30,
                clinical_kinds, signals => Serde(signals),
            },
        ),
    )
}
