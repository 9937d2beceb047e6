//! Start-up: turns settings into a running service, with seams for tests (a port-0 listener, an injected
//! clock, a shutdown token, and the scheduler reachable so a test can drive it pass by pass).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::catalog::CatalogService;
use crate::config::Settings;
use crate::escalation::Escalator;
use crate::escalation::readiness::Monitor;
use crate::http::{self, AppState};
use crate::inbound::InboundService;
use crate::inbound::intake::Intake;
use crate::outbox::Dispatcher;
use crate::planner::Planner;
use crate::scheduler::Scheduler;
use crate::scheduling::Clock;
use crate::signals::Watcher;
use crate::storage::Store;
use crate::templates;

/// How long each half of a shutdown (the scheduler's drain, then the requests in flight) may take: a
/// provider call is bounded by TETHER_PROVIDER_TIMEOUT_SECONDS (5 by default), so the drain is a few seconds.
pub const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Application {
    listener: TcpListener,
    state: Arc<AppState>,
    limits: http::HttpLimits,
    /// The background writers (inbound groups, provider acceptances): waited on before the database closes.
    tasks: TaskTracker,
}

impl Application {
    /// Loads and checks the templates, connects and migrates the database, and binds the listener. Fails
    /// before serving anything if any of it is wrong.
    pub async fn build(settings: &Settings, clock: Clock) -> anyhow::Result<Self> {
        Self::build_with_sandbox(settings, clock, None).await
    }

    /// [`Application::build`], with the console's phone simulator on `mock` when given (`serve --sandbox`):
    /// the simulator texts the service at the address the listener got, so it is made here, once that is
    /// known, and never attached to a service already running.
    pub async fn build_with_sandbox(
        settings: &Settings,
        clock: Clock,
        mock: Option<crate::sandbox::mock_provider::MockProvider>,
    ) -> anyhow::Result<Self> {
        // The folder is checked before the database is touched, so a typo in it fails fast and writes nothing.
        templates::load(&settings.templates_dir)?;
        let store = Store::connect(&settings.database_url)
            .await
            .context("cannot open the database at DATABASE_URL")?;
        store.migrate().await.context("cannot migrate the database")?;
        let (catalogs, warnings) = CatalogService::open(
            store.clone(),
            &settings.templates_dir,
            clock.clone(),
            settings.quiet_hours,
        )
        .await?;
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let catalog = catalogs.live().clone();
        let missing = crate::catalog::missing_schedules(&store, &catalog.current()).await?;
        anyhow::ensure!(
            missing.is_empty(),
            "active enrollments follow schedules missing from the live catalog (version {}): {}",
            catalog.version(),
            missing.join(", ")
        );

        // Fallback numbers are staff rows (see `crate::escalation`), so they follow the setting from here on.
        store
            .sync_fallback_staff(&settings.fallback_page_to.0, clock.now())
            .await
            .context("cannot record the fallback numbers of TETHER_FALLBACK_PAGE_TO")?;
        let readiness = Monitor::new(store.clone(), settings.fallback_page_to.clone(), clock.clone());
        // Logged at start, then hourly by the scheduler; whatever it says, the service starts.
        if let Err(err) = readiness.check_if_due().await {
            tracing::error!(error = %err, "could not check whether crisis paging is ready");
        }

        let provider = settings.provider()?;
        if matches!(provider, crate::provider::Provider::Log) {
            tracing::warn!("no Twilio credentials: texts go to the log provider and reach no phone");
        }
        let verify_signatures = !settings.insecure_skip_webhook_signature;
        if !verify_signatures {
            anyhow::ensure!(
                matches!(provider, crate::provider::Provider::Log),
                "TETHER_INSECURE_SKIP_WEBHOOK_SIGNATURE is only allowed with the log provider (no Twilio credentials)"
            );
            tracing::warn!("webhook signatures are NOT verified: anyone who can reach this service can post texts");
        }
        if settings.admin_token.is_none() {
            tracing::warn!("TETHER_ADMIN_TOKEN is not set: the admin API refuses every call");
        }
        if settings.public_url.is_none() {
            tracing::warn!("TETHER_PUBLIC_URL is not set: no delivery status callbacks, and webhooks are refused");
        }

        let planner = Planner::new(
            store.clone(),
            catalog.clone(),
            clock.clone(),
            settings.quiet_hours,
            settings.plan_ahead(),
        );
        let tasks = TaskTracker::new();
        let dispatcher = Dispatcher::new(
            store.clone(),
            provider.clone(),
            clock.clone(),
            settings.dispatch()?,
            &tasks,
        );
        // Before this process claims anything: a crisis page a dead predecessor held goes out now.
        dispatcher
            .liveness()
            .recover_at_start()
            .await
            .context("cannot take back the claims of a stopped process")?;
        let escalator = Escalator::new(
            store.clone(),
            catalog.clone(),
            clock.clone(),
            readiness,
            settings.concern_unseen_after(),
        );
        let watcher = Watcher::new(
            store.clone(),
            catalog.clone(),
            clock.clone(),
            settings.signal_thresholds(),
        );
        let scheduler = Arc::new(Scheduler::new(
            store.clone(),
            planner,
            escalator,
            dispatcher,
            watcher,
            catalogs.clone(),
            clock.clone(),
        ));
        let inbound = Intake::start(
            InboundService::new(store.clone(), catalog.clone(), clock.clone(), settings.inbound()),
            store.backend(),
            &tasks,
        );

        let listener = TcpListener::bind(&settings.bind)
            .await
            .with_context(|| format!("cannot listen on TETHER_BIND={}", settings.bind))?;
        let local_addr = listener.local_addr()?;
        tracing::info!(
            address = %local_addr,
            database = ?store.backend(),
            provider = provider.name(),
            "tether ready"
        );
        let state = Arc::new(AppState {
            store,
            catalog,
            catalogs,
            clock,
            scheduler,
            inbound,
            verify_signatures,
            quiet_hours: settings.quiet_hours,
            medication_limits: settings.medication_limits(),
            appointment_reminders: settings.appointment_reminders.0.clone(),
            admin_token: settings.admin_token.clone(),
            webhook_key: settings.twilio.auth_token.clone(),
            public_url: settings.public_url.clone(),
            trusted_proxy: settings.http.trusted_proxy,
            fallback_page_to: settings.fallback_page_to.clone(),
            sign_in_limiter: crate::http::console::sign_in_limiter(),
            sandbox: mock.map(|mock| {
                let url = format!("http://{local_addr}");
                mock.deliver_automatically(&url);
                Arc::new(crate::sandbox::serve::Phones::new(mock, url))
            }),
        });
        let limits = http::HttpLimits::from(&settings.http);
        Ok(Self {
            listener,
            state,
            limits,
            tasks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn scheduler(&self) -> Arc<Scheduler> {
        self.state.scheduler.clone()
    }

    pub fn store(&self) -> Store {
        self.state.store.clone()
    }

    /// Serves HTTP and runs the scheduler until `shutdown`, then stops in an order that loses nothing: the
    /// scheduler first (no new claims; the provider calls in flight finish and their answers are recorded;
    /// claimed texts not yet sent go back in the queue), while the listener still takes the provider's
    /// webhooks, since a crisis text refused now might never be sent again; then the listener closes and
    /// the requests in flight finish. Each half is bounded by [`SHUTDOWN_LIMIT`].
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let scheduler = self.state.scheduler.clone();
        let loop_shutdown = shutdown.clone();
        let mut scheduler_task = tokio::spawn(async move { scheduler.run_until_stopped(loop_shutdown).await });
        let store = self.state.store.clone();
        let tasks = self.tasks.clone();
        let listener_shutdown = CancellationToken::new();
        let mut http_task = tokio::spawn(self.run_http_until_stopped(listener_shutdown.clone()));
        tokio::select! {
            () = shutdown.cancelled() => {}
            // The server stopped on its own (it failed): stop the scheduler too and say why.
            served = &mut http_task => {
                shutdown.cancel();
                let _ = tokio::time::timeout(SHUTDOWN_LIMIT, &mut scheduler_task).await;
                return served.context("HTTP task panicked")?;
            }
        }
        match tokio::time::timeout(SHUTDOWN_LIMIT, &mut scheduler_task).await {
            Ok(finished) => finished.context("scheduler task panicked")?,
            Err(_) => tracing::error!("the scheduler did not stop in time; its claims go back when their lease ends"),
        }
        listener_shutdown.cancel();
        let served = match tokio::time::timeout(SHUTDOWN_LIMIT, &mut http_task).await {
            Ok(served) => served.context("HTTP task panicked")?,
            Err(_) => {
                tracing::error!("requests were still running at the shutdown limit");
                Ok(())
            }
        };
        // The writers end once the last handle to them is gone with the server and the scheduler.
        tasks.close();
        if tokio::time::timeout(SHUTDOWN_LIMIT, tasks.wait()).await.is_err() {
            tracing::error!("background writers were still running at the shutdown limit");
        }
        store.close().await;
        tracing::info!("stopped");
        served
    }

    /// Serves HTTP only; the caller drives the scheduler (tests do, pass by pass, on a virtual clock).
    pub async fn run_http_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let router = http::router(self.state, &self.limits);
        http::limits::serve(self.listener, router, &self.limits, shutdown)
            .await
            .context("HTTP server failed")
    }
}
