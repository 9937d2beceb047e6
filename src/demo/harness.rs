//! A whole Tether in one process for `tether demo`: a throw-away SQLite database, the mock provider, the
//! real HTTP server on a random local port, and a virtual clock the caller moves. Each scheduler pass is
//! run by the caller, so a story of days plays in a moment and in a fixed order.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::app::Application;
use crate::config::Settings;
use crate::sandbox::mock_provider::{MockProvider, ReceivedText};
use crate::sandbox::people::Api;
use crate::scheduler::Scheduler;
use crate::scheduling::{Clock, ManualClock};
use crate::storage::Store;

/// What the service believes its public address is; signatures are computed over it.
const PUBLIC_URL: &str = "https://tether.sandbox";
/// Bounds a run of passes, so a scheduling loop fails loudly instead of hanging.
const MAX_PASSES: usize = 10_000;

pub struct Sandbox {
    pub address: String,
    pub store: Store,
    pub mock: MockProvider,
    pub clock: ManualClock,
    scheduler: Arc<Scheduler>,
    api: Api,
    shutdown: CancellationToken,
    /// Texts the mock accepted, each with the virtual time it was accepted at.
    seen: usize,
    _database: tempfile::TempDir,
}

impl Sandbox {
    pub async fn start(templates_dir: &Path, start_at: Timestamp) -> anyhow::Result<Self> {
        let database = tempfile::tempdir().context("cannot make a scratch folder for the database")?;
        let database_url = format!("sqlite://{}", database.path().join("sandbox.db").display());
        let mock = MockProvider::start().await.context("cannot start the mock provider")?;
        let admin_token =
            crate::access::new_secret("sandbox_").map_err(|_| anyhow::anyhow!("the random generator failed"))?;
        let mut settings = Settings::sandbox(&database_url, templates_dir.to_owned(), &mock.base_url, PUBLIC_URL);
        settings.admin_token = Some(SecretString::from(admin_token.clone()));
        let clock = ManualClock::new(start_at);
        let app = Application::build(&settings, Clock::Manual(clock.clone())).await?;
        let address = format!("http://{}", app.local_addr());
        let (store, scheduler) = (app.store(), app.scheduler());
        let shutdown = CancellationToken::new();
        let server = shutdown.clone();
        tokio::spawn(async move {
            if let Err(err) = app.run_http_until_stopped(server).await {
                tracing::error!(error = %err, "sandbox server stopped");
            }
        });
        Ok(Self {
            address: address.clone(),
            store,
            mock,
            clock,
            scheduler,
            api: Api {
                base_url: address.clone(),
                token: admin_token,
                http: reqwest::Client::new(),
            },
            shutdown,
            seen: 0,
            _database: database,
        })
    }

    /// The admin API, with the sandbox's admin token.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// A text from `from` to the service, signed as the provider would sign it.
    pub async fn text_in(&self, from: &str, body: &str) -> anyhow::Result<()> {
        let status = self.mock.send_inbound(&self.address, PUBLIC_URL, from, body).await?;
        anyhow::ensure!(status.is_success(), "the service refused an inbound text: {status}");
        Ok(())
    }

    /// Runs scheduler passes, jumping the virtual clock from one deadline to the next, until the next one
    /// is after `until`; answers the texts the provider accepted meanwhile, each with the time it went.
    pub async fn run_until(&mut self, until: Timestamp) -> anyhow::Result<Vec<(Timestamp, ReceivedText)>> {
        let mut sent = Vec::new();
        let (scheduler, clock) = (self.scheduler.clone(), self.clock.clone());
        run_passes_until(&scheduler, &clock, until, || sent.extend(self.newly_accepted())).await?;
        Ok(sent)
    }

    fn newly_accepted(&mut self) -> Vec<(Timestamp, ReceivedText)> {
        let accepted = self.mock.accepted();
        let now = self.clock.now();
        let new = accepted[self.seen.min(accepted.len())..]
            .iter()
            .map(|t| (now, t.clone()))
            .collect();
        self.seen = accepted.len();
        new
    }
}

/// Runs scheduler passes, jumping the virtual clock from one deadline to the next, until the next deadline
/// is after `until` (the clock is then left at `until`); `after_pass` runs after every pass. Bounded, so a
/// scheduling loop fails loudly instead of hanging. The demo and the end-to-end tests drive time with it.
pub async fn run_passes_until(
    scheduler: &Scheduler,
    clock: &ManualClock,
    until: Timestamp,
    mut after_pass: impl FnMut(),
) -> anyhow::Result<()> {
    for _ in 0..MAX_PASSES {
        let report = scheduler.tick().await?;
        after_pass();
        match report.next_deadline {
            Some(next) if next <= until => {
                if next > clock.now() {
                    clock.set(next);
                } else {
                    // Due now but not handled: let any in-flight work settle, then look again.
                    tokio::task::yield_now().await;
                }
            }
            _ => {
                clock.set(until);
                scheduler.tick().await?;
                after_pass();
                return Ok(());
            }
        }
    }
    anyhow::bail!("the scheduler did not settle before {until}")
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
