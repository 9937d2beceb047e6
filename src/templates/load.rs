//! Reads `message_templates/` and reports every problem with its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jiff::SignedDuration;
use serde::Deserialize;
use toml::Spanned;

use super::{
    Catalog, CatalogError, MessageContext, Problem, Program, REMINDER_TEMPLATES, RENDER_FUEL, REQUIRED_TEMPLATES,
    ReminderContext, STAFF_TEMPLATES, Severity, StaffContext, bounded_environment, template_key,
};
use crate::domain::problem::line_of;
use crate::domain::{AppointmentKind, MessageKind, contains_word, segments};
use crate::scheduling::reminders::parse_offset;
use crate::scheduling::{Schedule, SendWindow, Step, quiet_hours::parse_clock_time};

/// A name as long as most, for counting segments in `tether check`; `tether preview` shows exact counts.
const SAMPLE_FIRST_NAME: &str = "Alexandria";
/// More segments than this costs real money per text and reads as a wall of text on a phone.
const SEGMENT_WARNING_THRESHOLD: usize = 2;
/// Twilio refuses bodies over 1,600 characters (error 21617).
const MAX_BODY_CHARS: usize = 1600;
const MAX_LATENESS_LIMIT: SignedDuration = SignedDuration::from_hours(7 * 24);
/// More reminders than this for one appointment reads as nagging, and each one is billed.
const MAX_REMINDERS_PER_APPOINTMENT: usize = 4;

#[derive(Debug)]
pub struct Loaded {
    pub catalog: Catalog,
    /// Problems that do not stop the catalog from being used.
    pub warnings: Vec<Problem>,
}

/// Loads and checks the whole catalog under `dir`. Fails if any problem is an error.
pub fn load(dir: &Path) -> Result<Loaded, CatalogError> {
    let mut problems = Problems::default();
    let program_path = dir.join("program.toml");
    // Read once: parsed here, and searched for the lines that settings' problems point at.
    let Some(program_text) = read_text(&program_path, &mut problems) else {
        return Err(CatalogError(problems.0));
    };
    let Some(mut program) = parse_toml::<Program>(&program_path, &program_text, &mut problems) else {
        return Err(CatalogError(problems.0));
    };
    check_program(&program, &program_path, &mut problems);
    program.reminder_offsets = check_appointment_settings(&program, &program_path, &program_text, &mut problems);

    let mut templates = bounded_environment();
    let mut names_by_language: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for language in &program.languages {
        let language_dir = dir.join("sms").join(language);
        if !language_dir.is_dir() {
            problems.error(
                &program_path,
                None,
                format!("language `{language}` has no folder {}", language_dir.display()),
            );
            continue;
        }
        let mut names = BTreeMap::new();
        for path in text_files(&language_dir, &mut problems) {
            let name = template_name(&language_dir, &path);
            match fs::read_to_string(&path) {
                Ok(source) if source.trim().is_empty() => {
                    problems.error(&path, None, "is empty; a template holds the words of its text");
                }
                Ok(source) => {
                    if let Err(err) = templates.add_template_owned(template_key(language, &name), source) {
                        problems.error(&path, err.line(), describe(&err));
                        continue;
                    }
                    names.insert(name, path);
                }
                Err(err) => problems.error(&path, None, format!("cannot be read: {err}")),
            }
        }
        for required in REQUIRED_TEMPLATES {
            if !names.contains_key(*required) {
                problems.error(
                    &language_dir,
                    None,
                    format!(
                        "required template `{required}` is missing ({}/{required}.txt)",
                        language_dir.display()
                    ),
                );
            }
        }
        names_by_language.insert(language.clone(), names);
    }

    let risk = crate::risk::load(&dir.join("risk"), &mut problems.0);
    let Some(risk) = risk else {
        return Err(CatalogError(problems.0));
    };
    let mut catalog = Catalog {
        program,
        schedules: BTreeMap::new(),
        risk,
        templates,
    };
    check_templates(&catalog, &names_by_language, &mut problems);
    check_plan_offer(&catalog, &names_by_language, &mut problems);
    check_plan_keywords_say_nothing_of_risk(&catalog, &program_path, &mut problems);
    catalog.schedules = load_schedules(dir, &names_by_language, &mut problems);
    check_default_schedules(&catalog, &program_path, &mut problems);

    if problems.has_errors() {
        return Err(CatalogError(problems.0));
    }
    Ok(Loaded {
        catalog,
        warnings: problems.0,
    })
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn error(&mut self, path: &Path, line: Option<usize>, message: impl Into<String>) {
        self.push(path, line, Severity::Error, message.into());
    }

    fn warning(&mut self, path: &Path, line: Option<usize>, message: impl Into<String>) {
        self.push(path, line, Severity::Warning, message.into());
    }

    fn push(&mut self, path: &Path, line: Option<usize>, severity: Severity, message: String) {
        self.0.push(Problem {
            path: path.to_owned(),
            line,
            severity,
            message,
        });
    }

    fn has_errors(&self) -> bool {
        self.0.iter().any(|p| p.severity == Severity::Error)
    }
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path, problems: &mut Problems) -> Option<T> {
    parse_toml(path, &read_text(path, problems)?, problems)
}

fn read_text(path: &Path, problems: &mut Problems) -> Option<String> {
    fs::read_to_string(path)
        .map_err(|err| problems.error(path, None, format!("cannot be read: {err}")))
        .ok()
}

fn parse_toml<T: for<'de> Deserialize<'de>>(path: &Path, text: &str, problems: &mut Problems) -> Option<T> {
    match toml::from_str(text) {
        Ok(value) => Some(value),
        Err(err) => {
            let line = err.span().map(|span| line_of(text, span.start));
            problems.error(path, line, err.message().to_owned());
            None
        }
    }
}

fn check_program(program: &Program, path: &Path, problems: &mut Problems) {
    if program.program_name.trim().is_empty() {
        problems.error(path, None, "program_name must not be empty");
    }
    if program.languages.is_empty() {
        problems.error(path, None, "languages must list at least one language");
    }
    if !program.languages.contains(&program.default_language) {
        problems.error(
            path,
            None,
            format!("default_language `{}` is not in languages", program.default_language),
        );
    }
    let lowered = program.program_name.to_lowercase();
    for term in &program.blocked_terms {
        if contains_word(&lowered, &term.to_lowercase()) {
            problems.error(path, None, format!("program_name contains the blocked term `{term}`"));
        }
    }
    check_keywords(program, path, problems);
}

/// The longest configurable keyword, in characters: a word or two a client can type.
const MAX_KEYWORD_CHARS: usize = 30;

/// Each `[keywords]` word is letters and spaces, and none can be read as another keyword: a client's `PLAN`
/// must never opt them out, confirm a visit or count as a dose.
fn check_keywords(program: &Program, path: &Path, problems: &mut Problems) {
    use crate::domain::keywords::{reserved_words, starts_with_opt_out};
    use crate::domain::squeeze_keyword;
    let plan = &program.keywords.plan;
    if plan.is_empty() {
        problems.error(path, None, "keywords.plan must list at least one word, like \"PLAN\"");
    }
    let reserved = reserved_words();
    let mut seen = BTreeSet::new();
    for keyword in plan {
        let squeezed = squeeze_keyword(keyword);
        let letters = keyword.chars().all(|c| c.is_alphabetic() || c == ' ');
        if squeezed.is_empty() || !letters || keyword.chars().count() > MAX_KEYWORD_CHARS {
            problems.error(
                path,
                None,
                format!(
                    "keywords.plan `{keyword}` must be 1 to {MAX_KEYWORD_CHARS} letters and spaces (a section \
                     number may follow it in a text, so no digits)"
                ),
            );
            continue;
        }
        if reserved.contains(&squeezed.as_str()) || starts_with_opt_out(keyword) {
            problems.error(
                path,
                None,
                format!("keywords.plan `{keyword}` is already a keyword (STOP, START, HELP, a reminder answer or ACK)"),
            );
        }
        if !seen.insert(squeezed) {
            problems.error(path, None, format!("keywords.plan lists `{keyword}` twice"));
        }
    }
}

/// A text that is only a plan keyword is not read for risk (`read_risk` in src/inbound/mod.rs), so a keyword
/// must be one the risk rules find nothing in: a program that chose "I want to die" would otherwise send the
/// plan to a client in crisis, and page nobody. The rules alone judge: the model, which learnt "plan" from
/// "I have a plan", reads a bare "PLAN" as a crisis, and is exactly what the bypass is for.
fn check_plan_keywords_say_nothing_of_risk(catalog: &Catalog, path: &Path, problems: &mut Problems) {
    for keyword in &catalog.program.keywords.plan {
        for text in [keyword.clone(), format!("{keyword} 1")] {
            let tier = catalog.risk.assess_by_rules(&text).tier;
            if tier != crate::risk::Tier::None {
                problems.error(
                    path,
                    None,
                    format!(
                        "keywords.plan `{keyword}`: the risk rules read `{text}` as a {} text, and a text that is \
                         only a keyword is not read for risk; choose a word that says nothing of risk",
                        tier.as_str()
                    ),
                );
                break;
            }
        }
    }
}

/// The crisis reply's offer of the plan names a word that asks for it, or the client would be told to
/// reply with something that does nothing.
fn check_plan_offer(catalog: &Catalog, names: &BTreeMap<String, BTreeMap<String, PathBuf>>, problems: &mut Problems) {
    use crate::domain::safety_plan::{OFFER_TEMPLATE, plan_request};
    let keywords = &catalog.program.keywords.plan;
    for (language, templates) in names {
        let Some(path) = templates.get(OFFER_TEMPLATE) else {
            continue;
        };
        let Ok(offer) = catalog.render(OFFER_TEMPLATE, language, &MessageContext { first_name: "" }) else {
            continue;
        };
        // Any run of words in the offer that is a keyword on its own will do.
        let words: Vec<&str> = offer
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let names_one = (0..words.len()).any(|start| {
            (start + 1..=words.len()).any(|end| plan_request(&words[start..end].join(" "), keywords).is_some())
        });
        if !names_one {
            problems.warning(
                path,
                None,
                format!(
                    "names none of keywords.plan ({}); a client who replies as it says gets no plan",
                    keywords.join(", ")
                ),
            );
        }
    }
}

/// The appointment settings: each kind's reminder offsets parse (the same rule as
/// TETHER_APPOINTMENT_REMINDERS) and some kind counts as clinical. Answers the offsets in force per kind,
/// the built-in ones overridden by the file's.
fn check_appointment_settings(
    program: &Program,
    path: &Path,
    text: &str,
    problems: &mut Problems,
) -> BTreeMap<AppointmentKind, Vec<SignedDuration>> {
    let reminders_line = key_line(text, "appointment_reminders");
    let mut offsets: BTreeMap<AppointmentKind, Vec<SignedDuration>> = Program::BUILT_IN_REMINDER_OFFSETS
        .iter()
        .map(|(kind, hours)| (*kind, hours.iter().map(|h| SignedDuration::from_hours(*h)).collect()))
        .collect();
    for (kind, values) in &program.appointment_reminders {
        if values.is_empty() || values.len() > MAX_REMINDERS_PER_APPOINTMENT {
            problems.error(
                path,
                reminders_line,
                format!("appointment_reminders.{kind} must list 1 to {MAX_REMINDERS_PER_APPOINTMENT} offsets, like [\"48h\", \"3h\"]"),
            );
            continue;
        }
        let mut parsed = Vec::with_capacity(values.len());
        for value in values {
            match parse_offset(value) {
                Ok(offset) if parsed.contains(&offset) => problems.error(
                    path,
                    reminders_line,
                    format!("appointment_reminders.{kind}: `{value}` is listed twice"),
                ),
                Ok(offset) => parsed.push(offset),
                Err(message) => {
                    problems.error(path, reminders_line, format!("appointment_reminders.{kind}: {message}"))
                }
            }
        }
        if parsed.len() == values.len() {
            offsets.insert(*kind, parsed);
        }
    }
    if program.clinical_appointment_kinds.is_empty() {
        problems.error(
            path,
            key_line(text, "clinical_appointment_kinds"),
            format!(
                "clinical_appointment_kinds must list at least one kind (the follow-up figures count only these): {}",
                AppointmentKind::names().join(", ")
            ),
        );
    }
    offsets
}

/// The line a top-level key (or a `[key]` table) of a TOML file starts on, for pointing at it.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
                || line.trim_end() == format!("[{key}]")
        })
        .map(|index| index + 1)
}

/// The schedules an enrolment follows when it names none must exist.
fn check_default_schedules(catalog: &Catalog, path: &Path, problems: &mut Problems) {
    let defaults = &catalog.program.default_schedules;
    if defaults.is_empty() {
        problems.error(path, None, "default_schedules must list at least one schedule");
    }
    for name in defaults {
        if !catalog.schedules.contains_key(name) {
            let known: Vec<&str> = catalog.schedules.keys().map(String::as_str).collect();
            problems.error(
                path,
                None,
                format!(
                    "default_schedules names `{name}`, which is not in schedules/ (there: {})",
                    known.join(", ")
                ),
            );
        }
    }
}

fn text_files(dir: &Path, problems: &mut Problems) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = match fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(err) => {
                problems.error(&current, None, format!("cannot be listed: {err}"));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "txt") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// `sms/en/caring/first.txt` → `caring/first`.
fn template_name(language_dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(language_dir).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn describe(err: &minijinja::Error) -> String {
    if err.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!(
            "takes more than {RENDER_FUEL} steps to render; a text needs no large loops (two nested `range(10000)` would stall the service)"
        );
    }
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

fn check_templates(catalog: &Catalog, names: &BTreeMap<String, BTreeMap<String, PathBuf>>, problems: &mut Problems) {
    let all_names: BTreeSet<&String> = names.values().flat_map(|n| n.keys()).collect();
    let client_sample = minijinja::Value::from(minijinja::value::Serde(MessageContext {
        first_name: SAMPLE_FIRST_NAME,
    }));
    let staff_sample = minijinja::Value::from(minijinja::value::Serde(StaffContext {
        code: "4821",
        reference: "1234",
        body: "a client's words",
    }));
    let reminder_sample = |named: bool, confirmed: bool| {
        minijinja::Value::from(minijinja::value::Serde(ReminderContext {
            first_name: SAMPLE_FIRST_NAME,
            when: "tomorrow (Tue Mar 10) at 10:00 AM",
            phrase: "time for your evening routine",
            named,
            confirmed,
        }))
    };
    for (language, templates) in names {
        for (name, path) in templates {
            // A reminder is checked as worded every way: neutral and naming its kind, since a program may
            // name a kind later without touching the template, and before and after the client confirmed.
            let samples = if name.starts_with(STAFF_TEMPLATES) {
                vec![staff_sample.clone()]
            } else if REMINDER_TEMPLATES.iter().any(|prefix| name.starts_with(prefix)) {
                vec![
                    reminder_sample(false, false),
                    reminder_sample(true, false),
                    reminder_sample(false, true),
                    reminder_sample(true, true),
                ]
            } else {
                vec![client_sample.clone()]
            };
            let before = problems.0.len();
            for sample in samples {
                match catalog.render_with(name, language, sample) {
                    Ok(body) => check_body(catalog, path, &body, problems),
                    Err(super::RenderError::Failed { source, .. }) => {
                        problems.error(path, source.line(), describe(&source));
                        break;
                    }
                    Err(missing) => {
                        problems.error(path, None, missing.to_string());
                        break;
                    }
                }
            }
            // What both wordings share is reported once.
            let mut said = BTreeSet::new();
            let found = problems.0.split_off(before);
            problems
                .0
                .extend(found.into_iter().filter(|p| said.insert(p.to_string())));
        }
        for name in all_names.iter().filter(|n| !templates.contains_key(**n)) {
            let elsewhere = names
                .values()
                .find_map(|n| n.get(*name))
                .map(|p| p.display().to_string());
            problems.error(
                Path::new(&elsewhere.unwrap_or_default()),
                None,
                format!("template `{name}` has no `{language}` translation (sms/{language}/{name}.txt)"),
            );
        }
    }
}

fn check_body(catalog: &Catalog, path: &Path, body: &str, problems: &mut Problems) {
    if body.trim().is_empty() {
        problems.error(path, None, "renders an empty text");
        return;
    }
    let lowered = body.to_lowercase();
    for term in &catalog.program.blocked_terms {
        if contains_word(&lowered, &term.to_lowercase()) {
            problems.error(
                path,
                None,
                format!("mentions `{term}`, which would reveal treatment to anyone who sees the phone (blocked_terms in program.toml)"),
            );
        }
    }
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        problems.error(
            path,
            None,
            format!("is {chars} characters; providers refuse more than {MAX_BODY_CHARS}"),
        );
        return;
    }
    let count = segments::count(body);
    if count.segments > SEGMENT_WARNING_THRESHOLD {
        problems.warning(
            path,
            None,
            format!(
                "takes {} {} segments with a {}-letter first name; each segment is billed",
                count.segments,
                count.encoding.as_str(),
                SAMPLE_FIRST_NAME.len()
            ),
        );
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    version: Spanned<i64>,
    kind: Spanned<String>,
    max_lateness: Spanned<String>,
    replaces_through_day: Option<Spanned<i32>>,
    steps: Vec<StepFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    id: Spanned<String>,
    day: Spanned<i32>,
    at: Option<Spanned<String>>,
    template: Spanned<String>,
    window: Option<Spanned<String>>,
    #[serde(default)]
    weekdays_only: bool,
}

fn load_schedules(
    dir: &Path,
    templates: &BTreeMap<String, BTreeMap<String, PathBuf>>,
    problems: &mut Problems,
) -> BTreeMap<String, Schedule> {
    let schedules_dir = dir.join("schedules");
    let mut paths: Vec<PathBuf> = match fs::read_dir(&schedules_dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(err) => {
            problems.error(&schedules_dir, None, format!("cannot be listed: {err}"));
            return BTreeMap::new();
        }
    };
    paths.sort();
    let mut schedules = BTreeMap::new();
    for path in paths {
        let Ok(text) = fs::read_to_string(&path) else {
            problems.error(&path, None, "cannot be read");
            continue;
        };
        let Some(file) = read_toml::<ScheduleFile>(&path, problems) else {
            continue;
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let at = |span: std::ops::Range<usize>| Some(line_of(&text, span.start));
        if let Some(schedule) = build_schedule(name.clone(), file, templates, &path, &at, problems) {
            schedules.insert(name, schedule);
        }
    }
    schedules
}

fn build_schedule(
    name: String,
    file: ScheduleFile,
    templates: &BTreeMap<String, BTreeMap<String, PathBuf>>,
    path: &Path,
    at: &dyn Fn(std::ops::Range<usize>) -> Option<usize>,
    problems: &mut Problems,
) -> Option<Schedule> {
    let errors_before = problems.0.len();
    if *file.version.get_ref() < 1 {
        problems.error(path, at(file.version.span()), "version must be 1 or more");
    }
    // Only the kinds whose texts follow a discharge: reminders and replies have their own rules.
    let kind = MessageKind::parse(file.kind.get_ref())
        .filter(|kind| matches!(kind, MessageKind::CaringContact | MessageKind::BridgeCheckIn));
    if kind.is_none() {
        problems.error(
            path,
            at(file.kind.span()),
            format!(
                "unknown kind `{}`; expected `caring_contact` or `bridge_check_in`",
                file.kind.get_ref()
            ),
        );
    }
    if let Some(through) = &file.replaces_through_day
        && !(0..=30).contains(through.get_ref())
    {
        problems.error(
            path,
            at(through.span()),
            format!("replaces_through_day {} must be between 0 and 30", through.get_ref()),
        );
    }
    let max_lateness = match SignedDuration::from_str(file.max_lateness.get_ref()) {
        Ok(d) if d.is_positive() && d <= MAX_LATENESS_LIMIT => Some(d),
        _ => {
            problems.error(
                path,
                at(file.max_lateness.span()),
                format!(
                    "max_lateness `{}` must be a duration like `12h`, above zero and at most 7 days",
                    file.max_lateness.get_ref()
                ),
            );
            None
        }
    };
    if file.steps.is_empty() {
        problems.error(path, None, "steps must list at least one step");
    }

    let mut steps = Vec::with_capacity(file.steps.len());
    let mut ids = BTreeSet::new();
    let mut previous: Option<(i32, Option<jiff::civil::Time>)> = None;
    for step in file.steps {
        let line = at(step.id.span());
        if let Err(message) = crate::domain::limits::check_step_id(step.id.get_ref()) {
            problems.error(path, line, message);
        }
        if !ids.insert(step.id.get_ref().clone()) {
            problems.error(path, line, format!("step id `{}` is used twice", step.id.get_ref()));
        }
        let day = *step.day.get_ref();
        if !(0..=3660).contains(&day) {
            problems.error(
                path,
                at(step.day.span()),
                format!("day {day} must be between 0 and 3660"),
            );
        }
        let fixed_time = step
            .at
            .as_ref()
            .and_then(|at_time| match parse_clock_time(at_time.get_ref()) {
                Ok(time) => Some(time),
                Err(message) => {
                    problems.error(path, at(at_time.span()), format!("at: {message}"));
                    None
                }
            });
        // Two steps on one day need fixed times, in order: otherwise both would go at the discharge's time.
        let in_order = match previous {
            None => true,
            Some((previous_day, _)) if day > previous_day => true,
            Some((previous_day, Some(previous_at))) if day == previous_day => {
                fixed_time.is_some_and(|time| time > previous_at)
            }
            Some(_) => false,
        };
        if !in_order {
            problems.error(
                path,
                at(step.day.span()),
                format!(
                    "day {day} must come after the previous step's day, or on the same day at a later `at` time \
                     when both steps have one"
                ),
            );
        }
        previous = Some((day, fixed_time));
        for (language, names) in templates {
            if !names.contains_key(step.template.get_ref()) {
                problems.error(
                    path,
                    at(step.template.span()),
                    format!(
                        "template `{}` does not exist in `{language}` (expected sms/{language}/{}.txt)",
                        step.template.get_ref(),
                        step.template.get_ref()
                    ),
                );
            }
        }
        let window = step.window.as_ref().and_then(|w| match parse_window(w.get_ref()) {
            Ok(window) => Some(window),
            Err(message) => {
                problems.error(path, at(w.span()), format!("window: {message}"));
                None
            }
        });
        steps.push(Step {
            id: step.id.into_inner(),
            day,
            at: fixed_time,
            template: step.template.into_inner(),
            window,
            weekdays_only: step.weekdays_only,
        });
    }
    if problems.0.len() > errors_before {
        return None;
    }
    Some(Schedule {
        name,
        version: file.version.into_inner(),
        kind: kind?,
        max_lateness: max_lateness?,
        replaces_through_day: file.replaces_through_day.map(Spanned::into_inner),
        steps,
    })
}

fn parse_window(value: &str) -> Result<SendWindow, String> {
    let (start, end) = value
        .split_once('-')
        .ok_or_else(|| format!("`{value}` is not HH:MM-HH:MM, like 10:00-18:00"))?;
    SendWindow::new(parse_clock_time(start)?, parse_clock_time(end)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_appointment_kind_has_a_required_reminder_template() {
        for template in AppointmentKind::reminder_templates() {
            assert!(REQUIRED_TEMPLATES.contains(&template), "{template}");
        }
    }

    #[test]
    fn a_settings_key_is_found_on_its_line() {
        let text = "program_name = \"x\"\n\nclinical_appointment_kinds = []\n[appointment_reminders]\n";
        assert_eq!(key_line(text, "clinical_appointment_kinds"), Some(3));
        assert_eq!(key_line(text, "appointment_reminders"), Some(4));
        assert_eq!(key_line(text, "named_appointment_kinds"), None);
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_word("your detox team", "detox"));
        assert!(!contains_word("detoxify", "detox"));
        assert!(contains_word("see you at rehab.", "rehab"));
        assert!(contains_word("the care team", "care team"));
    }
}
