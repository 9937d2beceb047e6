//! The message catalog: program settings, schedules and per-language text templates, loaded from
//! `message_templates/` and checked as a whole before anything is sent.
//!
//! ```text
//! message_templates/
//!   program.toml                 program name, languages, terms that must never appear in a text
//!   schedules/NAME.toml          a cadence of steps (see scheduling::cadence)
//!   sms/LANG/GROUP/NAME.txt      a text in one language, a MiniJinja template with strict variables
//!   risk/LANG.toml               risk lexicons (see crate::risk)
//! ```

pub mod edit;
pub mod files;
mod load;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use crate::domain::AppointmentKind;
use crate::risk::Classifier;
use crate::scheduling::Schedule;

pub use crate::domain::problem::{Problem, Severity};
pub use files::{CatalogFiles, load_files};
pub use load::{Loaded, load};

/// What texts to clients (`caring/…`, `system/…`) may refer to, besides `program_name`. Anything else is an
/// error at load time, not a blank in a client's text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageContext<'a> {
    pub first_name: &'a str,
}

/// What texts to staff (`staff/…`) may refer to, besides `program_name`. Staff texts name a client only by
/// reference, and carry the client's words only where the program configured it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StaffContext<'a> {
    /// The escalation's reply code.
    pub code: &'a str,
    /// The client reference staff use in the dashboard and in `R <ref> <message>`.
    pub reference: &'a str,
    /// The client's words, for forwarded replies.
    pub body: &'a str,
}

/// What reminder texts (`appointment/…`, `medication/…`) may refer to, besides `program_name`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReminderContext<'a> {
    pub first_name: &'a str,
    /// When the appointment is, in the client's language and time zone ("Tue Mar 10 at 10:00 AM").
    pub when: &'a str,
    /// The words the client chose for a medication reminder; empty for the neutral default.
    pub phrase: &'a str,
    /// Whether an appointment reminder may say what the appointment is (the program lists its kind in
    /// `named_appointment_kinds`); false words it neutrally ("your appointment at the place we talked about").
    pub named: bool,
    /// Whether the client has confirmed the appointment: a reminder still to go then says "see you" instead
    /// of asking them to confirm again.
    pub confirmed: bool,
}

/// Templates under this folder are texts to staff and get a [`StaffContext`].
pub const STAFF_TEMPLATES: &str = "staff/";

/// Texts the service itself sends in answer to inbound texts and for escalations; every catalog must have
/// them, in every language.
pub const REQUIRED_TEMPLATES: &[&str] = &[
    "system/crisis_reply",
    "system/emergency_reply",
    "system/concern_reply",
    "system/stop_confirmation",
    "system/stop_confirmation_crisis",
    "system/start_confirmation",
    "system/help",
    "system/unknown_sender",
    "staff/page",
    "staff/ack_confirmation",
    "staff/already_acknowledged",
    "staff/unknown_code",
    "staff/notice",
    "staff/forward",
    "staff/forward_without_body",
    "staff/relay_blocked",
    "staff/stop_confirmation",
    "staff/start_confirmation",
    "staff/help",
    "staff/signal",
    "appointment/reminder",
    "appointment/therapy",
    "appointment/pharmacy_pickup",
    "appointment/benefits_office",
    "appointment/court_date",
    "appointment/other",
    "appointment/confirmed",
    "appointment/reschedule",
    "medication/reminder",
    "plan/intro",
    "plan/warning_signs",
    "plan/coping",
    "plan/distractions",
    "plan/people",
    "plan/professionals",
    "plan/environment",
    "plan/closing",
    "plan/none",
    "plan/offer",
];

/// Reminder templates get a [`ReminderContext`].
pub const REMINDER_TEMPLATES: [&str; 2] = ["appointment/", "medication/"];

/// The catalog in use, replaced as a whole when an admin saves a new version. Readers take a snapshot
/// ([`SharedCatalog::current`]) and keep it for one piece of work, so a text is never half old, half new.
#[derive(Debug, Clone)]
pub struct SharedCatalog(Arc<RwLock<(Arc<Catalog>, i64)>>);

impl SharedCatalog {
    pub fn new(catalog: Catalog, version: i64) -> Self {
        Self(Arc::new(RwLock::new((Arc::new(catalog), version))))
    }

    pub fn current(&self) -> Arc<Catalog> {
        // A panic while holding this lock can only come from a clone of an Arc; the value stays whole.
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).0.clone()
    }

    /// The database version of the catalog in use.
    pub fn version(&self) -> i64 {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).1
    }

    /// Puts `catalog` in use if `version` is newer than the one in use; an older one arriving late is ignored.
    pub fn replace(&self, catalog: Catalog, version: i64) {
        let mut live = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if version > live.1 {
            *live = (Arc::new(catalog), version);
        }
    }
}

/// The loaded, validated catalog.
#[derive(Debug)]
pub struct Catalog {
    pub program: Program,
    pub schedules: BTreeMap<String, Schedule>,
    pub risk: Classifier,
    templates: minijinja::Environment<'static>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// The neutral name every text is signed with.
    pub program_name: String,
    pub languages: Vec<String>,
    pub default_language: String,
    /// Words that would reveal treatment to whoever sees the phone; no template may contain one.
    #[serde(default)]
    pub blocked_terms: Vec<String>,
    /// The schedules an enrolment follows when it names none.
    #[serde(default = "Program::caring_contacts_only")]
    pub default_schedules: Vec<String>,
    /// How long before an appointment of a kind its reminders go (`court_date = ["48h", "3h"]`), over the
    /// built-in ones ([`Program::BUILT_IN_REMINDER_OFFSETS`]); a kind in neither uses
    /// TETHER_APPOINTMENT_REMINDERS. Checked by the loader, which keeps the parsed durations.
    #[serde(default)]
    pub appointment_reminders: BTreeMap<AppointmentKind, Vec<String>>,
    /// Kinds a reminder may name ("your court date"); by default none is named, since whoever sees the
    /// phone reads the text too.
    #[serde(default)]
    pub named_appointment_kinds: Vec<AppointmentKind>,
    /// Kinds that count as a follow-up visit on the dashboard (the 7- and 30-day figures).
    #[serde(default = "Program::clinical_by_default")]
    pub clinical_appointment_kinds: Vec<AppointmentKind>,
    /// The durations of `appointment_reminders` over the built-in ones, filled in by the loader.
    #[serde(skip)]
    reminder_offsets: BTreeMap<AppointmentKind, Vec<jiff::SignedDuration>>,
    /// Words a client texts to ask for something (`[keywords]` in program.toml).
    #[serde(default)]
    pub keywords: Keywords,
}

/// The configurable keywords, beside the fixed compliance ones (src/domain/keywords.rs); `tether check`
/// refuses one that could be read as another keyword. Matched on the whole message, case and spaces ignored.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    /// Asks for the client's safety plan; with a section number after it (`PLAN 3`), for one section.
    #[serde(default = "Keywords::default_plan")]
    pub plan: Vec<String>,
}

impl Keywords {
    fn default_plan() -> Vec<String> {
        ["PLAN", "MI PLAN", "PLAN DE SEGURIDAD"].map(String::from).into()
    }
}

impl Default for Keywords {
    fn default() -> Self {
        Self {
            plan: Self::default_plan(),
        }
    }
}

impl Program {
    /// Offsets a kind has even when program.toml does not list it (a catalog stored by a release before
    /// appointment kinds has no `appointment_reminders`): the ones the programs asked for, so a court date
    /// is reminded two days ahead wherever it is booked.
    pub const BUILT_IN_REMINDER_OFFSETS: [(AppointmentKind, &[i64]); 3] = [
        (AppointmentKind::CourtDate, &[48, 3]),
        (AppointmentKind::PharmacyPickup, &[24, 4]),
        (AppointmentKind::BenefitsOffice, &[72, 24]),
    ];

    fn caring_contacts_only() -> Vec<String> {
        vec!["caring_contacts".to_owned()]
    }

    fn clinical_by_default() -> Vec<AppointmentKind> {
        vec![AppointmentKind::ClinicVisit, AppointmentKind::Therapy]
    }

    /// The reminder offsets of `kind`, if the program or the built-in defaults give it its own; `None`
    /// means the service-wide TETHER_APPOINTMENT_REMINDERS.
    pub fn reminder_offsets(&self, kind: AppointmentKind) -> Option<&[jiff::SignedDuration]> {
        self.reminder_offsets.get(&kind).map(Vec::as_slice)
    }

    /// Whether reminders for `kind` may say what the appointment is.
    pub fn names_kind(&self, kind: AppointmentKind) -> bool {
        self.named_appointment_kinds.contains(&kind)
    }
}

/// Template engine steps one render may take: a text's template needs a few hundred, while two nested
/// `range(10000)` loops would hold the runtime for seconds and take hundreds of megabytes (docs/templates.md
/// has what was measured).
pub const RENDER_FUEL: u64 = 100_000;
/// The most a render may write: ten times Twilio's 1,600-character limit in the widest UTF-8.
pub const MAX_RENDERED_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no template `{template}` in language `{language}`")]
    Missing { template: String, language: String },
    #[error("template `{template}` failed to render: {source}")]
    Failed {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("template `{template}` writes more than {MAX_RENDERED_BYTES} bytes; a text is at most 1,600 characters")]
    TooLong { template: String },
}

/// A rendered text that refuses to grow past [`MAX_RENDERED_BYTES`], so a runaway template stops early
/// instead of filling memory.
#[derive(Default)]
struct CappedOutput {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_RENDERED_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("the rendered text is too long"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Catalog {
    pub fn schedule(&self, name: &str) -> Option<&Schedule> {
        self.schedules.get(name)
    }

    pub fn supports_language(&self, language: &str) -> bool {
        self.program.languages.iter().any(|l| l == language)
    }

    /// A client whose language the templates no longer offer still gets the program's default language.
    pub fn language_or_default<'a>(&'a self, language: &'a str) -> &'a str {
        if self.supports_language(language) {
            language
        } else {
            &self.program.default_language
        }
    }

    /// Renders `template` (like `caring/first`) in `language` for one client.
    pub fn render(
        &self,
        template: &str,
        language: &str,
        context: &impl serde::Serialize,
    ) -> Result<String, RenderError> {
        self.render_with(
            template,
            language,
            minijinja::Value::from(minijinja::value::Serde(context)),
        )
    }

    /// Renders a text to staff (`staff/…`) in the program's language.
    pub fn render_staff(&self, template: &str, context: &StaffContext<'_>) -> Result<String, RenderError> {
        let language = self.program.default_language.clone();
        self.render_with(
            template,
            &language,
            minijinja::Value::from(minijinja::value::Serde(context)),
        )
    }

    pub(crate) fn render_with(
        &self,
        template: &str,
        language: &str,
        context: minijinja::Value,
    ) -> Result<String, RenderError> {
        let name = template_key(language, template);
        let compiled = self.templates.get_template(&name).map_err(|_| RenderError::Missing {
            template: template.to_owned(),
            language: language.to_owned(),
        })?;
        render_capped(
            template,
            &compiled,
            minijinja::context! {
                program_name => &self.program.program_name,
                ..context
            },
        )
    }
}

/// An environment whose every render is bounded by [`RENDER_FUEL`], failing on undefined variables.
pub(crate) fn bounded_environment() -> minijinja::Environment<'static> {
    let mut templates = minijinja::Environment::new();
    templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    templates.set_fuel(Some(RENDER_FUEL));
    templates
}

/// Renders `compiled` (named `template` in errors) into a buffer capped at [`MAX_RENDERED_BYTES`].
pub(crate) fn render_capped(
    template: &str,
    compiled: &minijinja::Template<'_, '_>,
    context: minijinja::Value,
) -> Result<String, RenderError> {
    let mut output = CappedOutput::default();
    match compiled.render_captured_to(context, &mut output) {
        Ok(_) => Ok(String::from_utf8_lossy(&output.bytes).into_owned()),
        Err(_) if output.overflowed => Err(RenderError::TooLong {
            template: template.to_owned(),
        }),
        Err(source) => Err(RenderError::Failed {
            template: template.to_owned(),
            source,
        }),
    }
}

fn template_key(language: &str, template: &str) -> String {
    format!("{language}/{template}")
}

/// The catalog could not be loaded; every problem found is listed, not just the first.
#[derive(Debug, thiserror::Error)]
#[error("message templates have {} error(s):\n{}", .0.iter().filter(|p| p.severity == Severity::Error).count(), ProblemList(.0))]
pub struct CatalogError(pub Vec<Problem>);

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            writeln!(f, "{problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Template text from pieces that make loops, repetition, conditions and output, nested any way, and
    /// some arbitrary text between them.
    fn template_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            (0u32..100_000).prop_map(|n| format!("{{% for i in range({n}) %}}")),
            Just("{% endfor %}".to_owned()),
            (0u32..1_000_000).prop_map(|n| format!("{{{{ 'ab' * {n} }}}}")),
            Just("{{ first_name }}".to_owned()),
            Just("{{ i }}".to_owned()),
            Just("{% if first_name %}".to_owned()),
            Just("{% endif %}".to_owned()),
            Just("{{ nickname }}".to_owned()),
            "\\PC{0,12}",
        ];
        prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever an admin types, checking it never panics, and a render either fails with a reason or
        /// writes at most the cap, within the fuel.
        #[test]
        fn any_template_text_renders_within_the_budget_or_is_refused(text in template_text()) {
            let mut environment = bounded_environment();
            if environment.add_template_owned("edited", text).is_ok() {
                let compiled = environment.get_template("edited").expect("just added");
                let context = minijinja::context! { first_name => "Alexandria", program_name => "Care Team" };
                if let Ok(body) = render_capped("edited", &compiled, context) {
                    prop_assert!(body.len() <= MAX_RENDERED_BYTES);
                }
            }
        }
    }
}
