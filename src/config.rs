//! Configuration, from the environment (12-factor) with a flag for each setting. Secrets are
//! `SecretString`s: `Debug` prints `[REDACTED]`, and `--help` never shows their values.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use jiff::SignedDuration;
use secrecy::SecretString;

use crate::domain::PhoneNumber;
pub use crate::domain::phone::{FallbackNumbers, parse_fallback_numbers};
use crate::inbound::InboundSettings;
use crate::outbox::{DispatchSettings, LivenessSettings};
use crate::provider::{Provider, Sender, TwilioClient, TwilioCredentials};
use crate::scheduling::QuietHours;
use crate::scheduling::medication_limits::MedicationLimits;
use crate::signals::Thresholds;
use crate::telemetry::LogFormat;

#[derive(clap::Args, Debug, Clone)]
pub struct Settings {
    /// Where state lives: sqlite://PATH (embedded, the default) or postgres://… for several instances.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "TETHER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// The public base URL the provider reaches this service at, like https://tether.example.org. Webhook
    /// signatures are checked against it, and texts ask for status callbacks under it.
    #[arg(long, env = "TETHER_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Folder with program.toml, schedules/ and sms/.
    #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
    pub templates_dir: PathBuf,

    /// Bearer token for the admin API. Without one the API answers 401 to everything.
    #[arg(long, env = "TETHER_ADMIN_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub admin_token: Option<SecretString>,

    /// Client-local hours in which scheduled texts are held, HH:MM-HH:MM.
    #[arg(long, env = "TETHER_QUIET_HOURS", default_value = "21:00-08:00")]
    pub quiet_hours: QuietHours,

    /// How long before an appointment its reminders go, comma-separated.
    #[arg(long, env = "TETHER_APPOINTMENT_REMINDERS", default_value = "24h,2h", value_parser = parse_reminder_offsets)]
    pub appointment_reminders: ReminderOffsets,

    /// Early warning: unanswered caring texts in a row, from someone who used to reply.
    #[arg(long, env = "TETHER_SIGNAL_SILENT_AFTER", default_value_t = 3)]
    pub signal_silent_after: u32,

    /// Early warning: medication reminders in a row with no TAKEN.
    #[arg(long, env = "TETHER_SIGNAL_MISSED_DOSES", default_value_t = 3)]
    pub signal_missed_doses: u32,

    /// Hours a concern notice may stay unseen before whoever is on call is texted about it, once.
    #[arg(long, env = "TETHER_CONCERN_UNSEEN_HOURS", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub concern_unseen_hours: u32,

    /// Most medication reminders one pattern may send on a client's day.
    #[arg(long, env = "TETHER_MEDICATION_MAX_PER_DAY", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=48))]
    pub medication_max_per_day: u32,

    /// Fewest minutes between two reminders of one medication pattern, changes of clock included.
    #[arg(long, env = "TETHER_MEDICATION_MIN_GAP_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub medication_min_gap_minutes: u32,

    /// Log output: pretty for a terminal, json for a log pipeline.
    #[arg(long, env = "TETHER_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// Forward a client's ordinary replies to their assigned peer with the client's words (true) or as a
    /// reference only, to be read in the console (false). Under 42 CFR Part 2 the words are a record of the
    /// program: see the README before turning this on.
    #[arg(long, env = "TETHER_FORWARD_BODY", default_value_t = false, action = clap::ArgAction::Set)]
    pub forward_body: bool,

    /// Phone numbers (E.164, comma-separated) paged when the escalation policy yields nobody reachable or
    /// runs out unacknowledged, and again until someone acknowledges.
    #[arg(long, env = "TETHER_FALLBACK_PAGE_TO", default_value = "", value_parser = parse_fallback_numbers)]
    pub fallback_page_to: FallbackNumbers,

    /// Answer texts from numbers that are neither client nor staff with a short note (crisis texts from
    /// them are always answered and escalated).
    #[arg(long, env = "TETHER_REPLY_TO_UNKNOWN", default_value_t = true, action = clap::ArgAction::Set)]
    pub reply_to_unknown: bool,

    /// Accept webhooks without a valid signature. Only allowed with the log provider, for local trials.
    #[arg(long, env = "TETHER_INSECURE_SKIP_WEBHOOK_SIGNATURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub insecure_skip_webhook_signature: bool,

    #[command(flatten)]
    pub twilio: TwilioSettings,

    #[command(flatten)]
    pub sending: SendingSettings,

    #[command(flatten)]
    pub http: HttpSettings,
}

/// What the HTTP server trusts and how long it waits; see docs/http-limits.md.
#[derive(clap::Args, Debug, Clone)]
pub struct HttpSettings {
    /// The proxy in front of the service whose client-address header is believed (`fly`: `Fly-Client-IP`);
    /// `none` keys the console's sign-in limit on the TCP peer.
    #[arg(long, env = "TETHER_TRUSTED_PROXY", value_enum, default_value = "none")]
    pub trusted_proxy: TrustedProxy,

    /// Open connections at most; beyond them new ones wait in the kernel's queue.
    #[arg(long, env = "TETHER_HTTP_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,

    /// Of those, kept for the provider's webhooks: a connection in this band serves only webhooks.
    #[arg(long, env = "TETHER_HTTP_WEBHOOK_CONNECTIONS", default_value_t = 64)]
    pub webhook_connections: usize,

    /// API and console requests handled at once; more are answered 503 with Retry-After.
    #[arg(long, env = "TETHER_HTTP_MAX_IN_FLIGHT", default_value_t = 128)]
    pub max_in_flight: usize,

    /// Seconds a connection may take to send a request's headers, or sit idle between requests.
    #[arg(long, env = "TETHER_HTTP_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,

    /// Seconds a request may take to send its whole body.
    #[arg(long, env = "TETHER_HTTP_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_timeout_seconds: u64,

    /// Seconds an API or console request may take in all (webhooks are never cut short).
    #[arg(long, env = "TETHER_HTTP_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            trusted_proxy: TrustedProxy::None,
            max_connections: 512,
            webhook_connections: 64,
            max_in_flight: 128,
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            request_timeout_seconds: 30,
        }
    }
}

/// Whose word the service takes for a client's address.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrustedProxy {
    /// The TCP peer: no proxy, or one whose headers anyone could forge.
    #[default]
    None,
    /// Fly.io's edge, which sets `Fly-Client-IP` and overwrites any value the client sent.
    Fly,
}

#[derive(clap::Args, Debug, Clone)]
pub struct TwilioSettings {
    /// Account SID (Twilio) or project ID (SignalWire). With the auth token, selects the Twilio provider;
    /// without both, texts go to the log provider.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub account_sid: Option<String>,

    /// Auth token: API password and webhook signing key.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub auth_token: Option<SecretString>,

    /// Number texts are sent from, in E.164 form.
    #[arg(long, env = "TWILIO_FROM")]
    pub from: Option<String>,

    /// Messaging Service that picks the sending number (instead of TWILIO_FROM).
    #[arg(long, env = "TWILIO_MESSAGING_SERVICE_SID")]
    pub messaging_service_sid: Option<String>,

    /// Base URL of the Twilio-compatible API: Twilio, a SignalWire space's /api/laml, or a local mock.
    #[arg(long, env = "TWILIO_API_BASE", default_value = "https://api.twilio.com")]
    pub api_base: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SendingSettings {
    /// Texts per second per sending number; 0 turns the limit off.
    #[arg(long, env = "TETHER_SEND_RATE_PER_SECOND", default_value_t = 1)]
    pub send_rate_per_second: u32,

    /// Provider requests in flight at once.
    #[arg(long, env = "TETHER_SEND_CONCURRENCY", default_value_t = 4)]
    pub send_concurrency: usize,

    /// Temporary failures (429, 5xx, timeouts) tolerated before a text is marked failed.
    #[arg(long, env = "TETHER_SEND_MAX_ATTEMPTS", default_value_t = 6)]
    pub send_max_attempts: i64,

    /// Seconds a dispatcher's claim on a text lasts; after a crash, its texts are retried once it runs out.
    #[arg(long, env = "TETHER_SEND_LEASE_SECONDS", default_value_t = 60)]
    pub send_lease_seconds: u32,

    /// Seconds to wait for the provider before treating a request as failed (and retrying it).
    #[arg(long, env = "TETHER_PROVIDER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub provider_timeout_seconds: u64,

    /// Hours before its time that a text is written to the outbox, where staff can see it coming.
    #[arg(long, env = "TETHER_PLAN_AHEAD_HOURS", default_value_t = 24)]
    pub plan_ahead_hours: u32,

    /// PostgreSQL: seconds between an instance's heartbeats.
    #[arg(long, env = "TETHER_INSTANCE_HEARTBEAT_SECONDS", default_value_t = 5)]
    pub instance_heartbeat_seconds: u32,

    /// PostgreSQL: seconds without a heartbeat after which an instance counts as dead and its claimed
    /// texts are released to the live ones.
    #[arg(long, env = "TETHER_INSTANCE_SILENCE_SECONDS", default_value_t = 15)]
    pub instance_silence_seconds: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to send through Twilio, or neither to use the log provider"
    )]
    PartialCredentials,
    #[error("set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID")]
    SenderChoice,
    #[error("TWILIO_FROM: {0}")]
    From(String),
    #[error("TETHER_SEND_LEASE_SECONDS must be at least 5")]
    LeaseTooShort,
    #[error(
        "TETHER_INSTANCE_SILENCE_SECONDS must be at least twice TETHER_INSTANCE_HEARTBEAT_SECONDS (at least 1), so one late heartbeat does not count as a death"
    )]
    SilenceTooShort,
    #[error("could not build the HTTP client for the provider")]
    HttpClient(#[source] reqwest::Error),
}

impl Settings {
    /// The provider these settings select: Twilio-compatible with credentials, the log provider without.
    pub fn provider(&self) -> Result<Provider, ConfigError> {
        let twilio = &self.twilio;
        let (account_sid, auth_token) = match (&twilio.account_sid, &twilio.auth_token) {
            (None, None) => return Ok(Provider::Log),
            (Some(sid), Some(token)) => (sid.clone(), token.clone()),
            _ => return Err(ConfigError::PartialCredentials),
        };
        let sender = match (&twilio.from, &twilio.messaging_service_sid) {
            (Some(from), None) => {
                Sender::Number(PhoneNumber::parse(from).map_err(ConfigError::From)?.as_str().to_owned())
            }
            (None, Some(service)) => Sender::MessagingService(service.clone()),
            _ => return Err(ConfigError::SenderChoice),
        };
        let client = TwilioClient::new(
            &twilio.api_base,
            TwilioCredentials {
                account_sid,
                auth_token,
            },
            sender,
            Duration::from_secs(self.sending.provider_timeout_seconds.max(1)),
        )
        .map_err(ConfigError::HttpClient)?;
        Ok(Provider::Twilio(client))
    }

    pub fn dispatch(&self) -> Result<DispatchSettings, ConfigError> {
        if self.sending.send_lease_seconds < 5 {
            return Err(ConfigError::LeaseTooShort);
        }
        Ok(DispatchSettings {
            lease: SignedDuration::from_secs(i64::from(self.sending.send_lease_seconds)),
            rate_per_second: NonZeroU32::new(self.sending.send_rate_per_second),
            concurrency: self.sending.send_concurrency.max(1),
            max_attempts: self.sending.send_max_attempts.max(1),
            public_url: self.public_url.clone(),
            quiet_hours: self.quiet_hours,
            liveness: self.liveness()?,
        })
    }

    fn liveness(&self) -> Result<LivenessSettings, ConfigError> {
        let heartbeat = self.sending.instance_heartbeat_seconds;
        let silence = self.sending.instance_silence_seconds;
        if heartbeat == 0 || silence < heartbeat.saturating_mul(2) {
            return Err(ConfigError::SilenceTooShort);
        }
        Ok(LivenessSettings {
            heartbeat: SignedDuration::from_secs(i64::from(heartbeat)),
            silence: SignedDuration::from_secs(i64::from(silence)),
        })
    }

    pub fn inbound(&self) -> InboundSettings {
        InboundSettings {
            forward_body: self.forward_body,
            reply_to_unknown: self.reply_to_unknown,
        }
    }

    pub fn signal_thresholds(&self) -> Thresholds {
        Thresholds {
            silent_after: i64::from(self.signal_silent_after.max(1)),
            missed_doses: i64::from(self.signal_missed_doses.max(1)),
        }
    }

    pub fn concern_unseen_after(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.concern_unseen_hours))
    }

    pub fn medication_limits(&self) -> MedicationLimits {
        MedicationLimits {
            max_per_day: self.medication_max_per_day,
            min_gap: SignedDuration::from_mins(i64::from(self.medication_min_gap_minutes)),
        }
    }

    pub fn plan_ahead(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.sending.plan_ahead_hours))
    }
}

/// Offsets before an appointment, like `24h,2h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderOffsets(pub Vec<SignedDuration>);

fn parse_reminder_offsets(value: &str) -> Result<ReminderOffsets, String> {
    crate::scheduling::reminders::parse_offsets(value).map(ReminderOffsets)
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

fn parse_public_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("must start with https:// (or http:// for local testing)")?;
    if rest.is_empty() || rest.contains(['?', '#']) {
        return Err("must be a scheme and host with an optional path, like https://tether.example.org".into());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn parse(args: &[&str]) -> Settings {
        Cli::try_parse_from(std::iter::once("tether").chain(args.iter().copied()))
            .unwrap()
            .settings
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let settings = parse(&[
            "--admin-token",
            "admin-secret-value",
            "--account-sid",
            "AC123",
            "--auth-token",
            "twilio-secret-value",
        ]);
        let debug = format!("{settings:?}");
        assert!(!debug.contains("admin-secret-value"), "{debug}");
        assert!(!debug.contains("twilio-secret-value"), "{debug}");
        assert!(debug.contains("REDACTED"));
    }

    #[test]
    fn no_credentials_selects_the_log_provider_and_half_of_them_is_an_error() {
        assert_eq!(parse(&[]).provider().unwrap().name(), "log");
        assert!(matches!(
            parse(&["--account-sid", "AC123"]).provider(),
            Err(ConfigError::PartialCredentials)
        ));
        assert!(matches!(
            parse(&["--account-sid", "AC1", "--auth-token", "t"]).provider(),
            Err(ConfigError::SenderChoice)
        ));
        let twilio = parse(&["--account-sid", "AC1", "--auth-token", "t", "--from", "+14155550100"]);
        assert_eq!(twilio.provider().unwrap().name(), "twilio");
    }

    #[test]
    fn fallback_numbers_are_checked_one_by_one_and_name_the_bad_one() {
        let numbers = parse(&["--fallback-page-to", "+1 415 555 0100, +14155550101,,+14155550100"]).fallback_page_to;
        assert_eq!(numbers.as_strs(), ["+14155550100", "+14155550101"]);
        assert_eq!(parse(&[]).fallback_page_to, FallbackNumbers::default());
        let error = parse_fallback_numbers("+14155550100,4155550101").unwrap_err();
        assert!(error.starts_with("`4155550101` must be in E.164 form"), "{error}");
        let cli = Cli::try_parse_from(["tether", "--fallback-page-to", "+14155550100,+1415"]);
        let message = cli.err().map(|err| err.to_string()).unwrap_or_default();
        assert!(message.contains("`+1415`"), "{message}");
    }

    #[test]
    fn client_words_stay_off_staff_phones_unless_turned_on() {
        assert!(!parse(&[]).forward_body);
        assert!(parse(&["--forward-body", "true"]).forward_body);
        let sandbox = Settings::sandbox("sqlite://x.db", PathBuf::from("t"), "http://p", "https://s");
        assert_eq!(
            sandbox.forward_body,
            parse(&[]).forward_body,
            "the sandbox and tests run on the defaults"
        );
        assert_eq!(sandbox.fallback_page_to, parse(&[]).fallback_page_to);
    }

    #[test]
    fn public_urls_are_normalised_and_checked() {
        assert_eq!(
            parse_public_url("https://tether.example.org/").unwrap(),
            "https://tether.example.org"
        );
        assert!(parse_public_url("tether.example.org").is_err());
        assert!(parse_public_url("https://x.org/?a=1").is_err());
    }
}
