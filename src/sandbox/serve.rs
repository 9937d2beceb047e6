//! `tether serve --sandbox`: the real service with the mock provider in place of a real one, a throw-away
//! database with the demo's people in it, and the console's phone simulator. Nothing leaves the machine.

use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use super::mock_provider::MockProvider;
use super::people::{self, Api, JORDAN, MAYA};
use crate::config::Settings;

/// What the service believes its public address is; signatures are computed over it.
pub const PUBLIC_URL: &str = "https://tether.sandbox";

/// The sandbox's side of a running service, for the phone simulator.
pub struct Phones {
    pub mock: MockProvider,
    /// Where the service really listens.
    pub service_url: String,
    typed: Mutex<Vec<Typed>>,
}

/// A text typed into the simulator.
#[derive(Debug, Clone)]
pub struct Typed {
    pub from: String,
    pub body: String,
    pub at: Timestamp,
}

impl Phones {
    pub fn new(mock: MockProvider, service_url: String) -> Self {
        Self {
            mock,
            service_url,
            typed: Mutex::new(Vec::new()),
        }
    }

    /// Sends a text to the service as `from`, signed like the provider's webhook.
    pub async fn type_text(&self, from: &str, body: &str, at: Timestamp) -> anyhow::Result<()> {
        self.typed.lock().unwrap_or_else(PoisonError::into_inner).push(Typed {
            from: from.to_owned(),
            body: body.to_owned(),
            at,
        });
        let status = self
            .mock
            .send_inbound(&self.service_url, PUBLIC_URL, from, body)
            .await?;
        anyhow::ensure!(status.is_success(), "the service answered {status}");
        Ok(())
    }

    pub fn typed(&self) -> Vec<Typed> {
        self.typed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A service prepared for the sandbox, before it starts.
pub struct Prepared {
    pub settings: Settings,
    pub mock: MockProvider,
    pub admin_token: String,
    /// Holds the throw-away database until the service stops.
    pub database: TempDir,
}

/// Points `settings` at a throw-away database and the mock provider, with a fresh admin token.
pub async fn prepare(settings: Settings) -> anyhow::Result<Prepared> {
    let database = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", database.path().join("sandbox.db").display());
    let mock = MockProvider::start().await?;
    let admin_token =
        crate::access::new_secret("sandbox_").map_err(|_| anyhow::anyhow!("the random generator failed"))?;
    let mut sandboxed = Settings::sandbox(
        &database_url,
        settings.templates_dir.clone(),
        &mock.base_url,
        PUBLIC_URL,
    );
    sandboxed.bind = settings.bind;
    sandboxed.quiet_hours = settings.quiet_hours;
    sandboxed.log_format = settings.log_format;
    sandboxed.admin_token = Some(secrecy::SecretString::from(admin_token.clone()));
    Ok(Prepared {
        settings: sandboxed,
        mock,
        admin_token,
        database,
    })
}

/// The demo's people: Sam, Riley and Alex on staff and on call; Jordan (Sam's client, discharged now) and
/// Maya.
pub async fn seed(api: &Api, now: Timestamp) -> anyhow::Result<()> {
    people::staff_on_call(api).await?;
    let jordan = people::client(api, "Jordan", JORDAN).await?;
    people::client(api, "Maya", MAYA).await?;
    api.call(
        Method::PUT,
        &format!("/api/v1/clients/{jordan}/assigned-staff"),
        json!({ "staff_id": 1 }),
    )
    .await?;
    api.call(
        Method::POST,
        &format!("/api/v1/clients/{jordan}/enrollments"),
        json!({ "schedule": "caring_contacts", "discharged_at": now.to_string() }),
    )
    .await?;
    Ok(())
}
