//! Crash recovery for claims. A claim is a lease, so the texts of a process that dies are sent again once
//! their lease runs out; a minute is too long for a crisis page. Each claim names its instance (see
//! [`Store::instance`]), and the claims of a dead instance are released as soon as its death is known:
//!
//! - on SQLite, at start: the database file belongs to one process, so every claim found then is its
//!   dead predecessor's;
//! - on PostgreSQL, where several instances share the database, by heartbeat: every instance beats every
//!   few seconds, and any live one releases the claims of an instance silent for longer than the limit.
//!
//! A released text may have been with the provider when its instance died; it is sent again, as after a
//! lease running out. Nothing else is.

use jiff::SignedDuration;

use crate::scheduling::Clock;
use crate::storage::{Backend, Store, StoreError};

#[derive(Debug, Clone, Copy)]
pub struct LivenessSettings {
    /// How often an instance beats (PostgreSQL).
    pub heartbeat: SignedDuration,
    /// How long an instance may stay silent before its claims are released (PostgreSQL).
    pub silence: SignedDuration,
}

pub struct Liveness {
    store: Store,
    clock: Clock,
    settings: LivenessSettings,
}

impl Liveness {
    pub fn new(store: Store, clock: Clock, settings: LivenessSettings) -> Self {
        Self { store, clock, settings }
    }

    /// Takes back what a dead predecessor held, before this process claims anything. Returns how many
    /// texts are claimable again.
    pub async fn recover_at_start(&self) -> Result<u64, StoreError> {
        match self.store.backend() {
            Backend::Sqlite => {
                let taken = self.store.take_back_every_claim(self.clock.now()).await?;
                if taken > 0 {
                    tracing::warn!(
                        texts = taken,
                        "took back the claims of a process that stopped without releasing them"
                    );
                }
                Ok(taken)
            }
            Backend::Postgres => self.beat().await,
        }
    }

    /// Whether this backend needs heartbeats at all: only PostgreSQL is shared between instances.
    pub fn beats(&self) -> bool {
        self.store.backend() == Backend::Postgres
    }

    pub fn heartbeat_interval(&self) -> SignedDuration {
        self.settings.heartbeat
    }

    /// One heartbeat: this instance is alive, and the claims of instances silent too long are released.
    /// Returns how many texts were released.
    pub async fn beat(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        self.store.heartbeat(now).await?;
        let released = self.store.release_silent_instances(now, self.settings.silence).await?;
        if released > 0 {
            tracing::warn!(
                texts = released,
                "released the claims of an instance that stopped beating"
            );
        }
        Ok(released)
    }
}
