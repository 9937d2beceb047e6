//! Validated domain types: each parses once at the edge and is trusted everywhere after.

pub mod appointment;
pub mod client;
pub mod crisis_hold;
pub mod keywords;
pub mod limits;
pub mod message;
pub mod oncall;
pub mod phone;
pub mod problem;
pub mod safety_plan;
pub mod segments;
#[cfg(test)]
pub(crate) mod test_time;

pub use appointment::AppointmentKind;
pub use client::{
    ClientStatus, ConsentInput, ConsentSource, FirstName, Language, NewClient, RecordedConsent, TimeZoneName,
};
pub use message::{MessageKind, OutboxStatus, ProviderStatus};
pub use phone::PhoneNumber;

/// Why one field of some input was refused; the API answers with both parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A message as a keyword candidate: upper-case, every space removed, trailing punctuation dropped, so
/// "stop.", "S T O P" and "Plan 3!" read as `STOP` and `PLAN3`. One rule for every keyword, fixed or
/// configured, so none can be read one way here and another there.
pub fn squeeze_keyword(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches(['.', '!', '?'])
        .to_uppercase()
}

/// Whether `term` appears in `text` as a whole word or phrase, both already lower-cased: "detox" is in "your
/// detox team" but not in "detoxify". The blocked terms of program.toml are matched this way wherever
/// words reach a text (templates, safety plans).
pub fn contains_word(text: &str, term: &str) -> bool {
    if term.is_empty() {
        return false;
    }
    text.match_indices(term).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + term.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}
