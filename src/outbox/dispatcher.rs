//! Claims due texts, sends them, and records what happened. Never holds a database transaction across a
//! provider call: a claim is a lease, and the rows of a dispatcher that dies return when it runs out.
//!
//! The one at-least-once window: if the process dies after the provider accepted a text but before the
//! acceptance is written, the text is sent again when its lease runs out. Everything else is exactly once.

use std::num::NonZeroU32;
use std::sync::Arc;

use futures_util::StreamExt;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jiff::SignedDuration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::liveness::{Liveness, LivenessSettings};
use super::recorder::{Committed, SentRecorder};
use super::rules::{self, Verdict};
use crate::domain::message::URGENT_PRIORITY;
use crate::domain::phone::Masked;
use crate::domain::{MessageKind, OutboxStatus, ProviderStatus};
use crate::provider::{OutgoingText, Provider, SendError};
use crate::scheduling::{Clock, QuietHours};
use crate::storage::{ClaimedText, SentRecord, Store, StoreError};

#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// How long a claim keeps other dispatchers away from its rows.
    pub lease: SignedDuration,
    /// Texts per sending number per second; `None` sends as fast as the provider takes them.
    pub rate_per_second: Option<NonZeroU32>,
    /// Provider calls in flight at once.
    pub concurrency: usize,
    /// Temporary failures tolerated before a text is marked failed.
    pub max_attempts: i64,
    /// `TETHER_PUBLIC_URL`; when set, each text asks for status callbacks there.
    pub public_url: Option<String>,
    pub quiet_hours: QuietHours,
    pub liveness: LivenessSettings,
}

impl DispatchSettings {
    /// Claims no more than can be sent well within the lease at the configured rate.
    fn batch_size(&self) -> i64 {
        let most = 100;
        match self.rate_per_second {
            None => most,
            Some(rate) => (i64::from(rate.get()) * self.lease.as_secs() / 2).clamp(1, most),
        }
    }
}

/// Acceptances waiting for their commit, per provider call in flight. Bounded so that a crash re-sends a
/// handful of texts at most, not a backlog, and so a stalled database stops the sending.
const COMMITS_WAITING_PER_CALL: usize = 4;

/// Where a claimed text stands once the dispatcher is done with it.
enum Outcome {
    /// The provider took it; the acceptance is on its way to the database.
    Accepted(Committed),
    /// It will never be delivered, for this reason.
    Undeliverable(String),
    /// It stays in the outbox for later: quiet hours, a retry, handed back at shutdown.
    Later,
}

#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    provider: Provider,
    clock: Clock,
    settings: Arc<DispatchSettings>,
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    stopping: CancellationToken,
    recorder: SentRecorder,
    liveness: Arc<Liveness>,
}

impl Dispatcher {
    /// `tasks` owns the acceptance recorder's writer, so shutdown can wait for it.
    pub fn new(
        store: Store,
        provider: Provider,
        clock: Clock,
        settings: DispatchSettings,
        tasks: &TaskTracker,
    ) -> Self {
        let limiter = settings
            .rate_per_second
            .map(|rate| Arc::new(RateLimiter::keyed(Quota::per_second(rate))));
        let recorder = SentRecorder::start(store.clone(), tasks);
        let liveness = Arc::new(Liveness::new(store.clone(), clock.clone(), settings.liveness));
        Self {
            store,
            provider,
            clock,
            settings: Arc::new(settings),
            limiter,
            stopping: CancellationToken::new(),
            recorder,
            liveness,
        }
    }

    /// Cancelled when the service shuts down: no new batch is claimed, and texts still waiting for the
    /// rate limiter are handed back rather than holding shutdown up for minutes.
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// What tells other instances this one is alive, and takes back the claims of dead ones.
    pub fn liveness(&self) -> &Liveness {
        &self.liveness
    }

    /// Sends everything due now, batch after batch, until nothing due is left. Returns how many texts were
    /// handled (sent, deferred, cancelled, expired or failed).
    pub async fn dispatch_due(&self) -> Result<usize, StoreError> {
        self.dispatch_due_from(0).await
    }

    /// Sends only crisis replies and pages: the urgent lane, which never waits behind a batch of scheduled
    /// texts pacing through the rate limit.
    pub async fn dispatch_urgent(&self) -> Result<usize, StoreError> {
        self.dispatch_due_from(URGENT_PRIORITY).await
    }

    /// Claims batches and sends them through a pipeline: the next batch is claimed while the last texts of
    /// the current one are still with the provider, so the provider calls in flight never drain to zero
    /// between batches. At most `concurrency` claimed texts wait, so a lease is never eaten by the queue.
    async fn dispatch_due_from(&self, min_priority: i64) -> Result<usize, StoreError> {
        let (ready, waiting) = mpsc::channel::<ClaimedText>(self.settings.concurrency.max(1));
        let (claimed, ()) = tokio::join!(self.claim_into(ready, min_priority), self.send_from(waiting));
        claimed
    }

    /// Claims due texts, batch after batch, until none are due or the service is stopping.
    async fn claim_into(&self, ready: mpsc::Sender<ClaimedText>, min_priority: i64) -> Result<usize, StoreError> {
        let mut claimed = 0;
        while !self.stopping.is_cancelled() {
            let now = self.clock.now();
            let batch = self
                .store
                .claim_due(now, self.settings.lease, self.settings.batch_size(), min_priority)
                .await?;
            if batch.is_empty() {
                break;
            }
            claimed += batch.len();
            for text in batch {
                // The sending side ends only after this one, so a send cannot fail.
                if ready.send(text).await.is_err() {
                    break;
                }
            }
        }
        Ok(claimed)
    }

    /// Sends claimed texts, `concurrency` at a time, until the claiming side is done and every acceptance
    /// is committed. A call slot is free again once the provider answers: waiting for the group commit there
    /// would leave the slots idle for a commit's fsync after every call.
    async fn send_from(&self, mut waiting: mpsc::Receiver<ClaimedText>) {
        let calls = self.settings.concurrency.max(1);
        futures_util::stream::poll_fn(|cx| waiting.poll_recv(cx))
            .map(|text| self.handle(text))
            .buffer_unordered(calls)
            .filter_map(std::future::ready)
            .for_each_concurrent(calls * COMMITS_WAITING_PER_CALL, |(id, committed)| async move {
                if let Err(err) = committed.wait().await {
                    // The row keeps its lease and is sent again when the lease runs out.
                    tracing::error!(outbox_id = id, error = %err, "could not record a provider's acceptance");
                }
            })
            .await;
    }

    /// Handles one claimed text; returns its acceptance still to be committed, if the provider took it.
    async fn handle(&self, text: ClaimedText) -> Option<(i64, Committed)> {
        let id = text.id;
        let kind = text.kind;
        match self.try_handle(text).await {
            Ok(Outcome::Accepted(committed)) => return Some((id, committed)),
            // A page that will never arrive must not leave its escalation waiting out the step's delay.
            Ok(Outcome::Undeliverable(reason)) if kind == Some(MessageKind::Page) => {
                if let Err(err) = self.store.page_failed(id, &reason, self.clock.now()).await {
                    tracing::error!(outbox_id = id, error = %err, "could not move an escalation past a failed page");
                }
            }
            Ok(_) => {}
            // The row keeps its lease and is retried when the lease runs out.
            Err(err) => tracing::error!(outbox_id = id, error = %err, "could not record the outcome of a text"),
        }
        None
    }

    async fn try_handle(&self, text: ClaimedText) -> Result<Outcome, StoreError> {
        let now = self.clock.now();
        match rules::decide(&text, now, &self.settings.quiet_hours) {
            Verdict::Cancel(reason) => {
                tracing::info!(outbox_id = text.id, reason, "text cancelled at send time");
                self.end(&text, OutboxStatus::Cancelled, reason.to_owned(), None, now)
                    .await
            }
            Verdict::Expire => {
                tracing::warn!(outbox_id = text.id, planned_at = %text.planned_at, "text expired before it could be sent");
                let reason = "later than its kind's maximum lateness".to_owned();
                self.end(&text, OutboxStatus::Expired, reason, None, now).await
            }
            Verdict::Defer(until) => {
                tracing::info!(outbox_id = text.id, %until, "text held for quiet hours");
                self.store.hand_back(text.id, until, "quiet hours", now).await?;
                Ok(Outcome::Later)
            }
            Verdict::HoldForCrisis { escalation_id, until } => {
                tracing::info!(outbox_id = text.id, escalation_id, %until, "text held while a crisis escalation is open");
                self.store.hold_for_crisis(text.id, escalation_id, until, now).await?;
                Ok(Outcome::Later)
            }
            // Every claim counts as an attempt, so a text whose acceptance could not be recorded (it may well
            // have gone out) is not offered to the provider again and again, one lease after another.
            Verdict::Send if text.attempts > self.settings.max_attempts => {
                tracing::warn!(
                    outbox_id = text.id,
                    attempts = text.attempts,
                    "giving up on a text claimed too often"
                );
                let reason = format!(
                    "gave up after {} attempts: earlier attempts ended without a recorded outcome",
                    self.settings.max_attempts
                );
                self.end(&text, OutboxStatus::Failed, reason, None, now).await
            }
            Verdict::Send => self.send(text).await,
        }
    }

    /// Settles a text that will never be delivered.
    async fn end(
        &self,
        text: &ClaimedText,
        status: OutboxStatus,
        reason: String,
        code: Option<i64>,
        now: jiff::Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.store.settle(text.id, status, &reason, code, now).await?;
        Ok(Outcome::Undeliverable(reason))
    }

    async fn send(&self, text: ClaimedText) -> Result<Outcome, StoreError> {
        // Stopping: only the calls already with the provider are finished. A claimed text not yet sent goes
        // back in the queue at once, for the next process or another instance, rather than holding the
        // shutdown (or its lease) while it waits its turn.
        if self.stopping.is_cancelled() {
            self.store
                .hand_back(text.id, text.planned_at, "handed back at shutdown", self.clock.now())
                .await?;
            return Ok(Outcome::Later);
        }
        // Crisis replies and pages have their own lane: the bulk rate limit never delays them.
        let urgent = text.kind.is_some_and(MessageKind::is_urgent);
        if let (false, Some(limiter), Some(sender)) = (urgent, &self.limiter, self.provider.sender()) {
            let key = sender.rate_key().to_owned();
            tokio::select! {
                _ = limiter.until_key_ready(&key) => {}
                _ = self.stopping.cancelled() => {
                    // Not sent: back in the queue as it was, for the next run to send.
                    self.store.hand_back(text.id, text.planned_at, "handed back at shutdown", self.clock.now()).await?;
                    return Ok(Outcome::Later);
                }
            }
        }
        let callback = self.settings.public_url.as_ref().map(|base| {
            format!(
                "{}/webhooks/twilio/status?outbox_id={}",
                base.trim_end_matches('/'),
                text.id
            )
        });
        let outgoing = OutgoingText {
            to: &text.to_phone,
            body: &text.body,
            status_callback: callback,
        };
        let result = self.provider.send(&outgoing).await;
        let now = self.clock.now();
        let to = Masked(&text.to_phone);
        match result {
            Ok(accepted) => {
                tracing::info!(outbox_id = text.id, %to, sid = accepted.sid, "text accepted by provider");
                let status = accepted.status.as_deref().and_then(ProviderStatus::parse);
                let committed = self
                    .recorder
                    .submit(SentRecord {
                        id: text.id,
                        sid: accepted.sid,
                        status,
                        at: now,
                    })
                    .await?;
                Ok(Outcome::Accepted(committed))
            }
            Err(err @ SendError::OptedOut { code }) => {
                tracing::warn!(outbox_id = text.id, %to, code, "provider reports the recipient opted out");
                if let Some(client_id) = text.client_id {
                    self.store
                        .record_opt_out(client_id, "opted out at the provider (21610)", now)
                        .await?;
                }
                self.end(&text, OutboxStatus::Failed, err.to_string(), Some(code), now)
                    .await
            }
            Err(err @ SendError::InvalidNumber { code }) => {
                tracing::warn!(outbox_id = text.id, %to, code, "provider refused the number as invalid");
                if let Some(client_id) = text.client_id {
                    self.store.flag_invalid_phone(client_id, &err.to_string(), now).await?;
                }
                self.end(&text, OutboxStatus::Failed, err.to_string(), Some(code), now)
                    .await
            }
            Err(err @ SendError::Rejected { .. }) => {
                tracing::warn!(outbox_id = text.id, %to, error = %err, "provider rejected a text");
                self.end(&text, OutboxStatus::Failed, err.to_string(), err.code(), now)
                    .await
            }
            Err(err @ SendError::Misconfigured { .. }) => {
                // Every text would fail the same way; keep them waiting rather than burn them.
                tracing::error!(outbox_id = text.id, error = %err, "provider configuration problem; text will be retried");
                let retry_at = now + rules::retry_delay(i64::MAX, None);
                self.store.hand_back(text.id, retry_at, &err.to_string(), now).await?;
                Ok(Outcome::Later)
            }
            // A page is not retried: the next escalation step is its retry (docs/provider-protocol.md).
            Err(SendError::Retryable { reason, .. }) if text.kind == Some(MessageKind::Page) => {
                self.end(&text, OutboxStatus::Failed, reason, None, now).await
            }
            Err(SendError::Retryable { reason, retry_after }) => {
                if text.attempts >= self.settings.max_attempts {
                    tracing::warn!(
                        outbox_id = text.id,
                        attempts = text.attempts,
                        reason,
                        "giving up on a text"
                    );
                    let reason = format!("gave up after {} attempts: {reason}", text.attempts);
                    return self.end(&text, OutboxStatus::Failed, reason, None, now).await;
                }
                let retry_at = now + rules::retry_delay(text.attempts, retry_after);
                tracing::info!(outbox_id = text.id, attempts = text.attempts, reason, %retry_at, "text will be retried");
                self.store.reschedule(text.id, retry_at, &reason, now).await?;
                Ok(Outcome::Later)
            }
        }
    }
}
