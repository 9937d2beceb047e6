//! What lets Tether run with nothing leaving the machine: the mock provider (also the tests'), the demo's
//! people, and `tether serve --sandbox`'s phone simulator. `tether demo`, which drives a whole service, is
//! `src/demo/`, above the application.

pub mod mock_provider;
pub mod people;
pub mod serve;

use std::path::PathBuf;

use jiff::SignedDuration;
use secrecy::SecretString;

use crate::config::{FallbackNumbers, HttpSettings, ReminderOffsets, SendingSettings, Settings, TwilioSettings};
use crate::scheduling::QuietHours;
use crate::telemetry::LogFormat;
use mock_provider::{ACCOUNT_SID, AUTH_TOKEN, FROM};

// Here rather than in config: the settings of a sandbox are the mock's, and config knows nothing of it.
impl Settings {
    /// Settings for a service that talks only to the in-process mock provider ([`crate::sandbox`]): the
    /// mock's credentials, no rate limit, defaults everywhere else.
    pub fn sandbox(database_url: &str, templates_dir: PathBuf, provider_base: &str, public_url: &str) -> Self {
        Settings {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".to_owned(),
            public_url: Some(public_url.to_owned()),
            templates_dir,
            admin_token: None,
            quiet_hours: QuietHours::default(),
            appointment_reminders: ReminderOffsets(vec![SignedDuration::from_hours(24), SignedDuration::from_hours(2)]),
            log_format: LogFormat::Pretty,
            forward_body: false,
            fallback_page_to: FallbackNumbers::default(),
            signal_silent_after: 3,
            signal_missed_doses: 3,
            concern_unseen_hours: 4,
            medication_max_per_day: 6,
            medication_min_gap_minutes: 60,
            reply_to_unknown: true,
            insecure_skip_webhook_signature: false,
            twilio: TwilioSettings {
                account_sid: Some(ACCOUNT_SID.to_owned()),
                auth_token: Some(SecretString::from(AUTH_TOKEN)),
                from: Some(FROM.to_owned()),
                messaging_service_sid: None,
                api_base: provider_base.to_owned(),
            },
            sending: SendingSettings {
                send_rate_per_second: 0,
                send_concurrency: 4,
                send_max_attempts: 6,
                send_lease_seconds: 60,
                provider_timeout_seconds: 5,
                plan_ahead_hours: 24,
                instance_heartbeat_seconds: 5,
                instance_silence_seconds: 15,
            },
            http: HttpSettings::default(),
        }
    }
}
