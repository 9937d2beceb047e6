//! A client: someone discharged from care who receives texts.

use std::fmt;

use jiff::{Timestamp, tz::TimeZone};

use super::{FieldError, PhoneNumber};

/// Whether scheduled texts may go to a client. Risk handling ignores this: it always runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    /// Held by staff: scheduled texts due meanwhile are skipped, not saved up.
    Paused,
    /// Said STOP (or the provider reported 21610): nothing but the one confirmation.
    OptedOut,
}

impl ClientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "active",
            ClientStatus::Paused => "paused",
            ClientStatus::OptedOut => "opted_out",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(ClientStatus::Active),
            "paused" => Some(ClientStatus::Paused),
            "opted_out" => Some(ClientStatus::OptedOut),
            _ => None,
        }
    }
}

/// The name a text greets the client by. Kept short: it is repeated in every text and counts toward segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstName(String);

impl FirstName {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters or line breaks".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A language code like `en` or `es` (ISO 639-1/2 primary subtag). Whether templates exist for it is checked
/// against the loaded catalog by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    pub fn parse(input: &str) -> Result<Self, String> {
        let code = input.trim();
        let well_formed = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
        if !well_formed {
            return Err(format!("`{code}` is not a lowercase language code like `en` or `es`"));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name that exists in the bundled time zone database.
#[derive(Clone)]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        let zone = TimeZone::get(name)
            .map_err(|_| format!("`{name}` is not an IANA time zone name like `America/New_York`"))?;
        Ok(Self {
            name: name.to_owned(),
            zone,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZoneName({})", self.name)
    }
}

/// Where consent was given (a form, a conversation with a named staff member…), for the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentSource(String);

impl ConsentSource {
    pub fn parse(input: &str) -> Result<Self, String> {
        let source = input.trim();
        if source.is_empty() {
            return Err("must say where consent was given, like `intake form v3`".into());
        }
        if source.chars().count() > 200 {
            return Err("must be at most 200 characters".into());
        }
        Ok(Self(source.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client ready to be stored: every field already valid.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub phone: PhoneNumber,
    pub first_name: FirstName,
    pub language: Language,
    pub timezone: TimeZoneName,
    pub consented_at: Timestamp,
    pub consent_source: ConsentSource,
}

/// The fields of a new client as they arrive, before validation.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientInput {
    /// A mobile number in E.164 form.
    #[schema(example = "+14155550123")]
    pub phone: String,
    /// How texts greet them, at most 40 characters.
    #[schema(example = "Sam")]
    pub first_name: String,
    /// A language the templates are written in.
    #[schema(example = "en")]
    pub language: String,
    /// An IANA time zone: texts go at local times, never in quiet hours.
    #[schema(example = "America/Chicago")]
    pub timezone: String,
    /// When the client agreed to be texted (RFC 3339, not in the future).
    #[schema(example = "2026-12-01T15:30:00Z")]
    pub consented_at: String,
    /// Where they agreed, at most 200 characters.
    #[schema(example = "intake form v3")]
    pub consent_source: String,
}

impl NewClientInput {
    /// Validates every field in order and names the first one that is wrong. `now` bounds the consent time:
    /// consent cannot be recorded as given in the future.
    pub fn validate(&self, now: Timestamp) -> Result<NewClient, FieldError> {
        let phone = PhoneNumber::parse(&self.phone).map_err(|m| FieldError::new("phone", m))?;
        let first_name = FirstName::parse(&self.first_name).map_err(|m| FieldError::new("first_name", m))?;
        let language = Language::parse(&self.language).map_err(|m| FieldError::new("language", m))?;
        let timezone = TimeZoneName::parse(&self.timezone).map_err(|m| FieldError::new("timezone", m))?;
        let consented_at = consent_time(&self.consented_at, now).map_err(|m| FieldError::new("consented_at", m))?;
        let consent_source =
            ConsentSource::parse(&self.consent_source).map_err(|m| FieldError::new("consent_source", m))?;
        Ok(NewClient {
            phone,
            first_name,
            language,
            timezone,
            consented_at,
            consent_source,
        })
    }
}

/// A consent given for one purpose beyond the client's consent to be texted at all (more than one text a
/// day, say), as it arrives.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// When it was given (RFC 3339, not in the future).
    #[schema(example = "2026-12-01T15:30:00Z")]
    pub consented_at: String,
    /// Where it was given.
    #[schema(example = "discharge paperwork")]
    pub consent_source: String,
}

/// A consent checked and ready to record: when, and where it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedConsent {
    pub at: Timestamp,
    pub source: ConsentSource,
}

impl ConsentInput {
    /// `field` is where the consent sits in the request, so an error names `field.consented_at`.
    pub fn validate(&self, field: &str, now: Timestamp) -> Result<RecordedConsent, FieldError> {
        let at =
            consent_time(&self.consented_at, now).map_err(|m| FieldError::new(format!("{field}.consented_at"), m))?;
        let source = ConsentSource::parse(&self.consent_source)
            .map_err(|m| FieldError::new(format!("{field}.consent_source"), m))?;
        Ok(RecordedConsent { at, source })
    }
}

/// When consent was given: an RFC 3339 time, not in the future and not implausibly long ago.
fn consent_time(value: &str, now: Timestamp) -> Result<Timestamp, String> {
    let at = parse_instant(value)?;
    // A few minutes of skew between the caller's clock and ours is not a lie about consent.
    if at > now + jiff::SignedDuration::from_mins(5) {
        return Err("is in the future".into());
    }
    super::limits::not_before_earliest(at)?;
    Ok(at)
}

/// Parses an RFC 3339 instant; the offset is required so that nobody's local time is guessed.
pub fn parse_instant(input: &str) -> Result<Timestamp, String> {
    input
        .trim()
        .parse::<Timestamp>()
        .map_err(|_| format!("`{input}` is not an RFC 3339 time with an offset, like 2026-03-06T15:00:00-05:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewClientInput {
        NewClientInput {
            phone: "+14155550123".into(),
            first_name: "Jordan".into(),
            language: "en".into(),
            timezone: "America/New_York".into(),
            consented_at: "2026-03-06T14:00:00-05:00".into(),
            consent_source: "discharge form".into(),
        }
    }

    fn now() -> Timestamp {
        "2026-03-06T20:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_complete_client_validates() {
        let client = input().validate(now()).unwrap();
        assert_eq!(client.timezone.as_str(), "America/New_York");
        assert_eq!(
            client.consented_at,
            "2026-03-06T19:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut NewClientInput);
        let cases: [(Spoil, &str); 7] = [
            (|i| i.phone = "555-0123".into(), "phone"),
            (|i| i.first_name = "  ".into(), "first_name"),
            (|i| i.language = "English".into(), "language"),
            (|i| i.timezone = "Eastern".into(), "timezone"),
            (|i| i.consented_at = "2026-03-06 14:00".into(), "consented_at"),
            (|i| i.consented_at = "2027-01-01T00:00:00Z".into(), "consented_at"),
            (|i| i.consent_source = "".into(), "consent_source"),
        ];
        for (spoil, field) in cases {
            let mut bad = input();
            spoil(&mut bad);
            assert_eq!(bad.validate(now()).unwrap_err().field, field);
        }
    }
}
