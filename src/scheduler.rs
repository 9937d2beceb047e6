//! The background loop: plan what is coming due, send what is due, then sleep until the next deadline or
//! until something new is enrolled. No fixed poll: an idle service wakes once a minute at most, to notice
//! work another instance added.

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use std::sync::Mutex;

use crate::catalog::CatalogService;
use crate::domain::message::URGENT_PRIORITY;
use crate::escalation::Escalator;
use crate::outbox::Dispatcher;
use crate::planner::{PlanError, Planner};
use crate::scheduling::Clock;
use crate::signals::{CHECK_INTERVAL, Watcher};
use crate::storage::{Store, StoreError};

/// Longest sleep with nothing due. Another instance sharing a PostgreSQL database may add work this one was
/// not told about; one cheap query a minute bounds how late that is noticed.
const MAX_IDLE: SignedDuration = SignedDuration::from_mins(1);
/// Pause after a failed pass (database down, say) before trying again, so errors do not spin.
const ERROR_BACKOFF: SignedDuration = SignedDuration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TickError {
    #[error("planning failed")]
    Plan(#[from] PlanError),
    #[error("dispatching failed")]
    Dispatch(#[from] StoreError),
    #[error("checking early-warning signals failed")]
    Signals(#[source] StoreError),
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub planned: usize,
    /// Escalation moves: pages planned, steps skipped.
    pub escalated: usize,
    pub handled: usize,
    /// When there is next something to do, if anything is scheduled at all.
    pub next_deadline: Option<Timestamp>,
}

/// Which lanes new work needs. Under load every wake is a pass competing for the database writer, so work
/// only the urgent lane sends (crisis replies, pages, escalation steps) wakes only that lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Wake {
    Nobody,
    UrgentLane,
    BothLanes,
}

pub struct Scheduler {
    store: Store,
    planner: Planner,
    escalator: Escalator,
    dispatcher: Dispatcher,
    watcher: Watcher,
    /// Picks up catalog versions saved by other instances.
    catalogs: CatalogService,
    /// When the early-warning rules last looked; they look at what changed since.
    signals_checked: Mutex<Option<Timestamp>>,
    clock: Clock,
    wake: Notify,
    /// Wakes the urgent lane: a crisis text arrived, or an acknowledgement changed a chain.
    urgent_wake: Notify,
    sleeping_until: watch::Sender<Option<Timestamp>>,
}

impl Scheduler {
    pub fn new(
        store: Store,
        planner: Planner,
        escalator: Escalator,
        dispatcher: Dispatcher,
        watcher: Watcher,
        catalogs: CatalogService,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            planner,
            escalator,
            dispatcher,
            watcher,
            catalogs,
            signals_checked: Mutex::new(None),
            clock,
            wake: Notify::new(),
            urgent_wake: Notify::new(),
            sleeping_until: watch::Sender::new(None),
        }
    }

    /// Wakes both lanes now, because something due soon may have been added.
    pub fn nudge(&self) {
        self.wake(Wake::BothLanes);
    }

    pub fn wake(&self, lanes: Wake) {
        // notify_one keeps a permit if a lane is busy, so a wake during a pass is not lost.
        if lanes == Wake::BothLanes {
            self.wake.notify_one();
        }
        if lanes >= Wake::UrgentLane {
            self.urgent_wake.notify_one();
        }
    }

    /// The deadline the loop is currently sleeping until.
    pub fn sleeping_until(&self) -> watch::Receiver<Option<Timestamp>> {
        self.sleeping_until.subscribe()
    }

    /// One pass: plan every step coming due, page every escalation step due, then send every text due now.
    /// A page that fails while sending moves its chain on at once, so escalation and sending repeat (a few
    /// times at most) until neither has anything left to do now.
    #[tracing::instrument(name = "scheduler_pass", skip_all)]
    pub async fn tick(&self) -> Result<TickReport, TickError> {
        /// Bounds the repeats; each is one step of one chain further, and policies are short.
        const MAX_ROUNDS: usize = 8;
        // A failed look only delays an edit made elsewhere; it must not stop texts going out.
        if let Err(err) = self.catalogs.refresh().await {
            tracing::warn!(error = %err, "could not check for a newer catalog version");
        }
        let planned = self.planner.plan_due().await?;
        // Before sending, so a notice's text goes in this same pass. A failure here is logged and the pass goes
        // on: pages and crisis replies must never wait on a reminder about a concern.
        if let Err(err) = self.escalator.tell_on_call_of_unseen_notices().await {
            tracing::error!(error = %err, "telling whoever is on call about unseen concern notices failed");
        }
        let (mut escalated, mut handled) = (0, 0);
        for _ in 0..MAX_ROUNDS {
            let moved = self.escalator.advance_due().await?;
            let sent = self.dispatcher.dispatch_due().await?;
            escalated += moved;
            handled += sent;
            if moved == 0 {
                break;
            }
        }
        self.check_signals().await?;
        self.escalator.log_readiness_if_due().await;
        let next_deadline = self.store.next_deadline(self.planner.plan_ahead()).await?;
        let next_unseen_notice = match self.escalator.next_unseen_notice_due().await {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(error = %err, "could not find when the next unseen concern notice falls due");
                None
            }
        };
        let next_deadline = next_deadline.into_iter().chain(next_unseen_notice).min();
        Ok(TickReport {
            planned,
            escalated,
            handled,
            next_deadline,
        })
    }

    /// Runs the early-warning rules if they have not looked for a while. After a start they look back a
    /// week; a signal already raised is not raised again.
    async fn check_signals(&self) -> Result<(), TickError> {
        let now = self.clock.now();
        let since = {
            let checked = self
                .signals_checked
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match *checked {
                Some(last) if now - last < CHECK_INTERVAL => return Ok(()),
                Some(last) => last,
                None => now - SignedDuration::from_hours(7 * 24),
            }
        };
        self.watcher.check(since).await.map_err(TickError::Signals)?;
        *self
            .signals_checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now);
        Ok(())
    }

    /// Runs both lanes until `shutdown`: the main loop (planning, escalation, every due text, signals)
    /// and the urgent lane (escalation steps, crisis replies and pages only), so a crisis never waits behind
    /// scheduled texts pacing through the rate limit.
    pub async fn run_until_stopped(&self, shutdown: CancellationToken) {
        let stopping = self.dispatcher.stopping();
        let relay = shutdown.clone();
        tokio::join!(
            async move {
                relay.cancelled().await;
                stopping.cancel();
            },
            self.run_main_lane(shutdown.clone()),
            self.run_urgent_lane(shutdown.clone()),
            self.run_heartbeat(shutdown)
        );
    }

    /// Tells other instances this one is alive, and releases the claims of instances that are not. Texts
    /// released wake both lanes at once: among them may be a crisis page.
    pub async fn keep_alive(&self) -> Result<u64, StoreError> {
        let released = self.dispatcher.liveness().beat().await?;
        if released > 0 {
            self.wake(Wake::BothLanes);
        }
        Ok(released)
    }

    async fn run_heartbeat(&self, shutdown: CancellationToken) {
        if !self.dispatcher.liveness().beats() {
            return;
        }
        while !shutdown.is_cancelled() {
            if let Err(err) = self.keep_alive().await {
                tracing::error!(error = %err, "heartbeat failed");
            }
            let next = self.clock.now() + self.dispatcher.liveness().heartbeat_interval();
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.clock.sleep_until(next) => {}
            }
        }
    }

    async fn run_urgent_lane(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let now = self.clock.now();
            let pass = async {
                self.escalator.advance_due().await?;
                self.dispatcher.dispatch_urgent().await?;
                self.store.next_urgent_deadline(URGENT_PRIORITY).await
            };
            let deadline = match pass.await {
                Ok(next) => next.map_or(now + MAX_IDLE, |next| next.min(now + MAX_IDLE)),
                Err(err) => {
                    tracing::error!(error = %err, "urgent lane pass failed");
                    now + ERROR_BACKOFF
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.urgent_wake.notified() => {}
                _ = self.clock.sleep_until(deadline) => {}
            }
        }
    }

    async fn run_main_lane(&self, shutdown: CancellationToken) {
        tracing::info!("scheduler started");
        while !shutdown.is_cancelled() {
            let now = self.clock.now();
            let deadline = match self.tick().await {
                Ok(report) => {
                    if report.planned + report.escalated + report.handled > 0 {
                        tracing::debug!(
                            planned = report.planned,
                            escalated = report.escalated,
                            handled = report.handled,
                            "scheduler pass"
                        );
                    }
                    let idle_limit = now + MAX_IDLE;
                    report.next_deadline.map_or(idle_limit, |next| next.min(idle_limit))
                }
                Err(err) => {
                    tracing::error!(error = %err, cause = ?std::error::Error::source(&err), "scheduler pass failed");
                    now + ERROR_BACKOFF
                }
            };
            self.sleeping_until.send_replace(Some(deadline));
            // Whichever comes first: the next due time, a nudge from an enrolment, or shutdown. A pass in
            // progress is never interrupted, so a provider call is never abandoned half-recorded.
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = self.clock.sleep_until(deadline) => {}
            }
        }
        tracing::info!("scheduler stopped");
    }
}
