//! A client's safety plan: the six Stanley–Brown sections, checked once when they arrive, and the pure rule
//! that turns a plan into texts when the client asks for it (docs/safety-plan.md).
//!
//! The sections are the client's own words and contacts, written down with staff at discharge. What goes by
//! text is split at section boundaries into texts the provider takes whole (1,600 characters), and the last
//! always ends with the 988/911 line. "Making my environment safer" names the means someone might use and
//! where they are kept: it never goes by text unless the plan says so, since a text sits on a lock screen.

use serde::{Deserialize, Serialize};

use super::segments::{PROVIDER_MAX_LENGTH, provider_length, whole_graphemes_within};
use super::{ConsentInput, FieldError, PhoneNumber, RecordedConsent, contains_word, squeeze_keyword};

/// Items in one section at most: a plan is read on a phone, in a hard moment.
pub const MAX_ITEMS: usize = 8;
/// Characters in one item. With [`MAX_ITEMS`], a whole section, its heading and the closing line fit in
/// one text with the shipped wording, so a section is never cut in two.
pub const MAX_ITEM_CHARS: usize = 150;
/// Characters in a contact's name.
pub const MAX_NAME_CHARS: usize = 60;

/// The sections, in the order and with the numbers of the Stanley–Brown form the client takes home: `PLAN 3`
/// means the same section on paper and by text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    WarningSigns,
    /// Things I can do on my own.
    Coping,
    /// People and places that take my mind off things.
    Distractions,
    /// People I can ask for help: the client's own contacts.
    People,
    /// Professionals and 24/7 lines.
    Professionals,
    /// Making my environment safer (lethal means): out of texts unless the plan shares it.
    Environment,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::WarningSigns,
        Section::Coping,
        Section::Distractions,
        Section::People,
        Section::Professionals,
        Section::Environment,
    ];

    /// 1 to 6, as on the form.
    pub fn number(self) -> u8 {
        match self {
            Section::WarningSigns => 1,
            Section::Coping => 2,
            Section::Distractions => 3,
            Section::People => 4,
            Section::Professionals => 5,
            Section::Environment => 6,
        }
    }

    pub fn from_number(number: u32) -> Option<Self> {
        Section::ALL.into_iter().find(|s| u32::from(s.number()) == number)
    }

    /// The section's field in the API's JSON, and in error messages.
    pub fn field(self) -> &'static str {
        match self {
            Section::WarningSigns => "warning_signs",
            Section::Coping => "coping",
            Section::Distractions => "distractions",
            Section::People => "people",
            Section::Professionals => "professionals",
            Section::Environment => "environment",
        }
    }

    /// The template holding the section's heading, in each language.
    pub fn template(self) -> &'static str {
        match self {
            Section::WarningSigns => "plan/warning_signs",
            Section::Coping => "plan/coping",
            Section::Distractions => "plan/distractions",
            Section::People => "plan/people",
            Section::Professionals => "plan/professionals",
            Section::Environment => "plan/environment",
        }
    }
}

/// Every template a plan's texts use besides the headings: the first line, the closing 988/911 line, the
/// answer when there is no plan to send, and the line a crisis reply adds when there is one.
pub const INTRO_TEMPLATE: &str = "plan/intro";
pub const CLOSING_TEMPLATE: &str = "plan/closing";
pub const NONE_TEMPLATE: &str = "plan/none";
pub const OFFER_TEMPLATE: &str = "plan/offer";

/// A person or a line to call, as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    pub phone: String,
}

/// A safety plan as it arrives (the API's PUT body, the console's form).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyPlanInput {
    #[serde(default)]
    pub warning_signs: Vec<String>,
    #[serde(default)]
    pub coping: Vec<String>,
    #[serde(default)]
    pub distractions: Vec<String>,
    #[serde(default)]
    pub people: Vec<ContactInput>,
    #[serde(default)]
    pub professionals: Vec<ContactInput>,
    #[serde(default)]
    pub environment: Vec<String>,
    /// The client asked for the environment section in their texts too.
    #[serde(default)]
    pub share_environment_by_text: bool,
    /// The client's consent to get the plan by text when they ask; without it `PLAN` gets the short answer.
    #[serde(default)]
    pub text_consent: Option<ConsentInput>,
}

/// A checked contact: a name of one line, and a number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// The six sections, checked. Stored as JSON in this shape, and checked again when read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    pub warning_signs: Vec<String>,
    pub coping: Vec<String>,
    pub distractions: Vec<String>,
    pub people: Vec<Contact>,
    pub professionals: Vec<Contact>,
    pub environment: Vec<String>,
}

/// A plan ready to be stored: every field already valid.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyPlan {
    pub sections: Sections,
    pub share_environment_by_text: bool,
    pub text_consent: Option<RecordedConsent>,
}

impl SafetyPlanInput {
    /// Checks every field in section order and names the first one that is wrong (`coping[2]`,
    /// `people[0].phone`, `text_consent.consented_at`). `now` bounds the consent time.
    pub fn validate(&self, now: jiff::Timestamp) -> Result<SafetyPlan, FieldError> {
        let sections = Sections {
            warning_signs: lines("warning_signs", &self.warning_signs)?,
            coping: lines("coping", &self.coping)?,
            distractions: lines("distractions", &self.distractions)?,
            people: contacts("people", &self.people)?,
            professionals: contacts("professionals", &self.professionals)?,
            environment: lines("environment", &self.environment)?,
        };
        let text_consent = self
            .text_consent
            .as_ref()
            .map(|consent| consent.validate("text_consent", now))
            .transpose()?;
        Ok(SafetyPlan {
            sections,
            share_environment_by_text: self.share_environment_by_text,
            text_consent,
        })
    }
}

impl Sections {
    /// Reads sections stored by [`Sections::to_stored`], checking them again: a row edited by hand must not
    /// put an unchecked line in a text.
    pub fn from_stored(json: &str) -> Result<Self, String> {
        let stored: Sections = serde_json::from_str(json).map_err(|err| err.to_string())?;
        let as_input = |contacts: &[Contact]| -> Vec<ContactInput> {
            contacts
                .iter()
                .map(|c| ContactInput {
                    name: c.name.clone(),
                    phone: c.phone.clone(),
                })
                .collect()
        };
        let input = SafetyPlanInput {
            warning_signs: stored.warning_signs,
            coping: stored.coping,
            distractions: stored.distractions,
            people: as_input(&stored.people),
            professionals: as_input(&stored.professionals),
            environment: stored.environment,
            share_environment_by_text: false,
            text_consent: None,
        };
        input
            .validate(jiff::Timestamp::UNIX_EPOCH)
            .map(|plan| plan.sections)
            .map_err(|err| err.to_string())
    }

    pub fn to_stored(&self) -> String {
        // A struct of strings always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The section's lines as they appear in a text, one per item.
    pub fn items(&self, section: Section) -> Vec<String> {
        let contact = |c: &Contact| format!("{}: {}", c.name, c.phone);
        match section {
            Section::WarningSigns => self.warning_signs.clone(),
            Section::Coping => self.coping.clone(),
            Section::Distractions => self.distractions.clone(),
            Section::People => self.people.iter().map(contact).collect(),
            Section::Professionals => self.professionals.iter().map(contact).collect(),
            Section::Environment => self.environment.clone(),
        }
    }

    /// Every item with the field that names it, for checks that must say where a word is.
    fn fields(&self, section: Section) -> Vec<(String, &str)> {
        let field = section.field();
        match section {
            Section::WarningSigns => plain_fields(field, &self.warning_signs),
            Section::Coping => plain_fields(field, &self.coping),
            Section::Distractions => plain_fields(field, &self.distractions),
            Section::People => name_fields(field, &self.people),
            Section::Professionals => name_fields(field, &self.professionals),
            Section::Environment => plain_fields(field, &self.environment),
        }
    }
}

fn plain_fields<'a>(field: &str, items: &'a [String]) -> Vec<(String, &'a str)> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (format!("{field}[{i}]"), item.as_str()))
        .collect()
}

/// A contact's number is checked as a number; its name is the words that could reveal something.
fn name_fields<'a>(field: &str, contacts: &'a [Contact]) -> Vec<(String, &'a str)> {
    contacts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("{field}[{i}].name"), c.name.as_str()))
        .collect()
}

impl SafetyPlan {
    /// Whether the plan goes back to the client when they ask by text: they consented to it, and something
    /// in it goes by text.
    pub fn texted_on_request(&self) -> bool {
        self.text_consent.is_some() && !self.sections_for(None).is_empty()
    }

    /// Whether `section` may go by text: it has something in it, and it is not the environment section of a
    /// plan that keeps it out.
    pub fn texts_section(&self, section: Section) -> bool {
        !self.sections.items(section).is_empty() && (section != Section::Environment || self.share_environment_by_text)
    }

    /// The sections a request by text gets: the one asked for (`PLAN 3`) if it goes by text, otherwise every
    /// section that does, in order. Empty when nothing in the plan goes by text.
    pub fn sections_for(&self, asked: Option<Section>) -> Vec<Section> {
        match asked {
            Some(section) if self.texts_section(section) => vec![section],
            _ => Section::ALL.into_iter().filter(|s| self.texts_section(*s)).collect(),
        }
    }

    /// The first item of a section that goes by text and contains one of `blocked_terms` (as a whole word),
    /// as an error naming it: a text on a lock screen must not reveal treatment, whoever wrote its words.
    pub fn check_blocked_terms(&self, blocked_terms: &[String]) -> Result<(), FieldError> {
        for section in Section::ALL {
            if section == Section::Environment && !self.share_environment_by_text {
                continue;
            }
            for (field, item) in self.sections.fields(section) {
                let lowered = item.to_lowercase();
                if let Some(term) = blocked_terms
                    .iter()
                    .find(|term| contains_word(&lowered, &term.to_lowercase()))
                {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "mentions `{term}`; this section goes by text when the client asks, and a text must not \
                             reveal treatment to anyone who sees the phone (blocked_terms in program.toml)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn lines(field: &str, items: &[String]) -> Result<Vec<String>, FieldError> {
    if items.len() > MAX_ITEMS {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_ITEMS} items: a plan is read on a phone"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| one_line(item, MAX_ITEM_CHARS).map_err(|m| FieldError::new(format!("{field}[{i}]"), m)))
        .collect()
}

fn contacts(field: &str, items: &[ContactInput]) -> Result<Vec<Contact>, FieldError> {
    if items.len() > MAX_ITEMS {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_ITEMS} contacts: a plan is read on a phone"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, contact)| {
            let name = one_line(&contact.name, MAX_NAME_CHARS)
                .map_err(|m| FieldError::new(format!("{field}[{i}].name"), m))?;
            let phone = PhoneNumber::parse(&contact.phone).map_err(|m| {
                FieldError::new(
                    format!("{field}[{i}].phone"),
                    format!("{m} (988 and 911 close every text of the plan already)"),
                )
            })?;
            Ok(Contact {
                name,
                phone: phone.as_str().to_owned(),
            })
        })
        .collect()
}

/// A non-empty line of at most `max` characters, trimmed.
fn one_line(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must be one line, without control characters".into());
    }
    Ok(value.to_owned())
}

/// The words around the plan's items, rendered from the catalog in the client's language.
#[derive(Debug, Clone)]
pub struct PlanWording {
    /// The first line of the first text.
    pub intro: String,
    /// One heading per section, in [`Section::ALL`] order.
    pub headings: [String; 6],
    /// The 988/911 line that ends the last text.
    pub closing: String,
}

/// The plan's `sections` as texts, in order: the intro, then each section (its number and heading, then one
/// line per item), then the closing line. Sections are packed into as few texts as fit within the provider's
/// limit, and a text breaks only between sections; only a section longer than a whole text on its own
/// (possible with long edited headings, never with the shipped ones) is broken between its lines. The last
/// text always ends with the closing line.
pub fn render_texts(plan: &SafetyPlan, wording: &PlanWording, sections: &[Section]) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for section in sections {
        let heading = &wording.headings[usize::from(section.number() - 1)];
        let mut lines = vec![fit(format!("{}. {}", section.number(), heading.trim()))];
        lines.extend(
            plan.sections
                .items(*section)
                .into_iter()
                .map(|item| fit(format!("- {item}"))),
        );
        pieces.extend(split_lines(lines));
    }
    pieces.push(fit(wording.closing.trim().to_owned()));

    let mut texts = Vec::new();
    let mut current = fit(wording.intro.trim().to_owned());
    for piece in pieces {
        let joined = if current.is_empty() {
            piece.clone()
        } else {
            format!("{current}\n\n{piece}")
        };
        if provider_length(&joined) <= PROVIDER_MAX_LENGTH {
            current = joined;
        } else {
            texts.push(std::mem::replace(&mut current, piece));
        }
    }
    texts.push(current);
    texts
}

/// Lines joined into as few pieces as fit in one text each, breaking only between lines.
fn split_lines(lines: Vec<String>) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in lines {
        if current.is_empty() {
            current = line;
        } else if provider_length(&current) + 1 + provider_length(&line) <= PROVIDER_MAX_LENGTH {
            current.push('\n');
            current.push_str(&line);
        } else {
            pieces.push(std::mem::replace(&mut current, line));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// A line cut to whole graphemes within one text. Items are far shorter; only an edited heading or closing
/// line of more than 1,600 characters is ever cut.
fn fit(line: String) -> String {
    if provider_length(&line) <= PROVIDER_MAX_LENGTH {
        return line;
    }
    whole_graphemes_within(&line, PROVIDER_MAX_LENGTH).to_owned()
}

/// What a client's text asks of their plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanRequest {
    /// `PLAN`: every section that goes by text.
    Whole,
    /// `PLAN 3`: one section. A number out of 1–6 is kept as asked, and answered with the whole plan.
    Section(u32),
}

impl PlanRequest {
    pub fn section(self) -> Option<Section> {
        match self {
            PlanRequest::Whole => None,
            PlanRequest::Section(number) => Section::from_number(number),
        }
    }
}

/// Whether `body` is one of the plan `keywords` (`PLAN`, `MI PLAN`…), alone or followed by a section number
/// (`PLAN 3`, `plan3`). The longest keyword that fits wins, so `PLAN DE SEGURIDAD 2` is section 2.
pub fn plan_request(body: &str, keywords: &[String]) -> Option<PlanRequest> {
    let squeezed = squeeze_keyword(body);
    let mut keywords: Vec<String> = keywords.iter().map(|k| squeeze_keyword(k)).collect();
    keywords.sort_by_key(|k| std::cmp::Reverse(k.len()));
    keywords.into_iter().filter(|k| !k.is_empty()).find_map(|keyword| {
        let rest = squeezed.strip_prefix(&keyword)?;
        if rest.is_empty() {
            Some(PlanRequest::Whole)
        } else if rest.len() <= 2 && rest.chars().all(|c| c.is_ascii_digit()) {
            rest.parse().ok().map(PlanRequest::Section)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> jiff::Timestamp {
        "2026-03-06T20:00:00Z".parse().unwrap()
    }

    fn input() -> SafetyPlanInput {
        SafetyPlanInput {
            warning_signs: vec!["Not sleeping".into(), "Staying in my room".into()],
            coping: vec!["Walk the dog".into()],
            distractions: vec!["The library on Main St".into()],
            people: vec![ContactInput {
                name: "Ana (sister)".into(),
                phone: "+1 (415) 555-0177".into(),
            }],
            professionals: vec![ContactInput {
                name: "Clinic front desk".into(),
                phone: "+14155550100".into(),
            }],
            environment: vec!["Pills stay with Ana".into()],
            share_environment_by_text: false,
            text_consent: Some(ConsentInput {
                consented_at: "2026-03-06T14:00:00-05:00".into(),
                consent_source: "discharge conversation".into(),
            }),
        }
    }

    fn wording() -> PlanWording {
        PlanWording {
            intro: "Jordan, your safety plan:".into(),
            headings: [
                "Warning signs",
                "On my own",
                "Distractions",
                "People",
                "Professionals",
                "Safer space",
            ]
            .map(String::from),
            closing: "In danger now? Call 911. Call or text 988.".into(),
        }
    }

    #[test]
    fn a_plan_validates_and_normalises_numbers() {
        let plan = input().validate(now()).unwrap();
        assert_eq!(plan.sections.people[0].phone, "+14155550177");
        assert_eq!(plan.text_consent.unwrap().source.as_str(), "discharge conversation");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut SafetyPlanInput);
        let cases: [(Spoil, &str); 8] = [
            (|i| i.warning_signs[1] = "  ".into(), "warning_signs[1]"),
            (|i| i.coping = vec!["x".into(); MAX_ITEMS + 1], "coping"),
            (
                |i| i.distractions[0] = "a".repeat(MAX_ITEM_CHARS + 1),
                "distractions[0]",
            ),
            (|i| i.people[0].phone = "555-0177".into(), "people[0].phone"),
            (
                |i| i.professionals[0].name = "two\nlines".into(),
                "professionals[0].name",
            ),
            (|i| i.environment[0] = "".into(), "environment[0]"),
            (
                |i| i.text_consent.as_mut().unwrap().consented_at = "2027-01-01T00:00:00Z".into(),
                "text_consent.consented_at",
            ),
            (
                |i| i.text_consent.as_mut().unwrap().consent_source = "".into(),
                "text_consent.consent_source",
            ),
        ];
        for (spoil, field) in cases {
            let mut bad = input();
            spoil(&mut bad);
            assert_eq!(bad.validate(now()).unwrap_err().field, field);
        }
    }

    #[test]
    fn blocked_terms_are_refused_only_where_they_would_be_texted() {
        let terms = vec!["alcohol".to_owned(), "detox".to_owned()];
        let mut with_term = input();
        with_term.coping.push("Stay away from alcohol".into());
        let err = with_term
            .validate(now())
            .unwrap()
            .check_blocked_terms(&terms)
            .unwrap_err();
        assert_eq!(err.field, "coping[1]");
        let mut kept_out = input();
        kept_out.environment.push("No alcohol in the house".into());
        assert!(kept_out.validate(now()).unwrap().check_blocked_terms(&terms).is_ok());
        kept_out.share_environment_by_text = true;
        let err = kept_out
            .validate(now())
            .unwrap()
            .check_blocked_terms(&terms)
            .unwrap_err();
        assert_eq!(err.field, "environment[1]");
        let mut not_a_word = input();
        not_a_word.coping.push("Detoxify my phone from news apps".into());
        assert!(not_a_word.validate(now()).unwrap().check_blocked_terms(&terms).is_ok());
    }

    #[test]
    fn stored_sections_read_back_the_same_and_bad_ones_are_refused() {
        let plan = input().validate(now()).unwrap();
        let stored = plan.sections.to_stored();
        assert_eq!(Sections::from_stored(&stored).unwrap(), plan.sections);
        assert!(Sections::from_stored(&stored.replace("+14155550177", "5550177")).is_err());
        assert!(Sections::from_stored("not json").is_err());
    }

    #[test]
    fn a_short_plan_is_one_text_ending_with_988_and_without_the_environment() {
        let plan = input().validate(now()).unwrap();
        let texts = render_texts(&plan, &wording(), &plan.sections_for(None));
        assert_eq!(texts.len(), 1);
        let text = &texts[0];
        assert!(
            text.starts_with("Jordan, your safety plan:\n\n1. Warning signs\n- Not sleeping\n"),
            "{text}"
        );
        assert!(text.contains("4. People\n- Ana (sister): +14155550177"), "{text}");
        assert!(!text.contains("Pills") && !text.contains("6. "), "{text}");
        assert!(text.ends_with("Call or text 988."), "{text}");
    }

    #[test]
    fn the_environment_goes_only_when_the_plan_shares_it() {
        let mut shared = input();
        shared.share_environment_by_text = true;
        let plan = shared.validate(now()).unwrap();
        let texts = render_texts(&plan, &wording(), &plan.sections_for(None));
        assert!(texts[0].contains("6. Safer space\n- Pills stay with Ana"), "{texts:?}");
    }

    #[test]
    fn one_section_on_request_and_the_whole_plan_for_a_section_that_is_not_texted() {
        let plan = input().validate(now()).unwrap();
        assert_eq!(plan.sections_for(Some(Section::Distractions)), [Section::Distractions]);
        let texts = render_texts(&plan, &wording(), &[Section::Distractions]);
        assert_eq!(
            texts,
            [
                "Jordan, your safety plan:\n\n3. Distractions\n- The library on Main St\n\n\
              In danger now? Call 911. Call or text 988."
            ]
        );
        assert_eq!(plan.sections_for(Some(Section::Environment)).len(), 5);
        assert_eq!(PlanRequest::Section(9).section(), None);
    }

    #[test]
    fn a_long_plan_splits_between_sections_and_every_text_fits() {
        let mut long = input();
        for section in [&mut long.warning_signs, &mut long.coping, &mut long.distractions] {
            *section = (0..MAX_ITEMS)
                .map(|i| format!("{i} {}", "ñ".repeat(MAX_ITEM_CHARS - 2)))
                .collect();
        }
        long.people = (0..MAX_ITEMS)
            .map(|i| ContactInput {
                name: format!("{i}{}", "x".repeat(MAX_NAME_CHARS - 1)),
                phone: "+14155550177".into(),
            })
            .collect();
        let plan = long.validate(now()).unwrap();
        let texts = render_texts(&plan, &wording(), &plan.sections_for(None));
        assert_eq!(texts.len(), 4, "{texts:#?}");
        for (text, heading) in texts.iter().zip(["1. ", "2. ", "3. ", "4. "]) {
            assert!(provider_length(text) <= PROVIDER_MAX_LENGTH);
            let first_section = text
                .lines()
                .find(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()));
            assert!(first_section.is_some_and(|l| l.starts_with(heading)), "{text}");
        }
        assert!(texts[3].contains("5. Professionals"), "small sections share a text");
        assert!(texts.last().unwrap().ends_with("Call or text 988."));
        assert_eq!(texts.iter().filter(|t| t.contains("988")).count(), 1);
    }

    #[test]
    fn an_overlong_heading_is_cut_and_never_makes_a_text_too_long() {
        let plan = input().validate(now()).unwrap();
        let mut wording = wording();
        wording.headings[0] = "é".repeat(3000);
        wording.closing = format!("{} 988", "c".repeat(1700));
        let texts = render_texts(&plan, &wording, &plan.sections_for(None));
        assert!(
            texts.iter().all(|t| provider_length(t) <= PROVIDER_MAX_LENGTH),
            "{texts:?}"
        );
        assert!(texts.len() >= 3);
    }

    #[test]
    fn plan_keywords_alone_or_with_a_section_number() {
        let keywords: Vec<String> = ["PLAN", "MI PLAN", "PLAN DE SEGURIDAD"].map(String::from).into();
        assert_eq!(plan_request("PLAN", &keywords), Some(PlanRequest::Whole));
        assert_eq!(plan_request(" plan. ", &keywords), Some(PlanRequest::Whole));
        assert_eq!(plan_request("Mi plan", &keywords), Some(PlanRequest::Whole));
        assert_eq!(plan_request("plan 3", &keywords), Some(PlanRequest::Section(3)));
        assert_eq!(plan_request("PLAN3", &keywords), Some(PlanRequest::Section(3)));
        assert_eq!(
            plan_request("plan de seguridad 2", &keywords),
            Some(PlanRequest::Section(2))
        );
        assert_eq!(plan_request("plan 12", &keywords), Some(PlanRequest::Section(12)));
        for other in [
            "my plan is to leave early",
            "plan b",
            "planes",
            "PLAN 123456",
            "explain",
            "",
        ] {
            assert_eq!(plan_request(other, &keywords), None, "{other}");
        }
    }
}
