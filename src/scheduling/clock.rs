//! The one source of "now" for everything that plans or sends, so tests can move time instead of sleeping.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// Wall-clock time, real or virtual. Cloning shares the same virtual time.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The host's clock; sleeping uses tokio timers.
    System,
    /// A clock that only moves when a test says so.
    Manual(ManualClock),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(manual) => manual.now(),
        }
    }

    /// Resolves once the clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: Timestamp) {
        match self {
            Clock::System => {
                let remaining = deadline.duration_since(Timestamp::now());
                if remaining.is_positive() {
                    // A negative or zero duration needs no sleep; unsigned_abs is safe after the check.
                    tokio::time::sleep(remaining.unsigned_abs()).await;
                }
            }
            Clock::Manual(manual) => manual.wait_until(deadline).await,
        }
    }
}

/// Virtual time for tests: starts where the test puts it and moves only by [`ManualClock::set`] or
/// [`ManualClock::advance`]. Sleepers wake as soon as the time passes their deadline.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<watch::Sender<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    pub fn now(&self) -> Timestamp {
        *self.now.borrow()
    }

    /// Moves time to `at`; time never goes backwards, so an earlier `at` is ignored.
    pub fn set(&self, at: Timestamp) {
        self.now.send_if_modified(|now| {
            let forward = at > *now;
            if forward {
                *now = at;
            }
            forward
        });
    }

    pub fn advance(&self, by: SignedDuration) {
        self.set(self.now() + by);
    }

    async fn wait_until(&self, deadline: Timestamp) {
        let mut receiver = self.now.subscribe();
        // The sender lives in self, so wait_for cannot fail while we hold it.
        let _ = receiver.wait_for(|now| *now >= deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleeper_wakes_when_time_passes_its_deadline() {
        let start: Timestamp = "2026-03-06T20:00:00Z".parse().unwrap();
        let manual = ManualClock::new(start);
        let clock = Clock::Manual(manual.clone());
        let sleeper = tokio::spawn(async move { clock.sleep_until(start + SignedDuration::from_hours(1)).await });
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        manual.advance(SignedDuration::from_mins(30));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        manual.advance(SignedDuration::from_mins(30));
        sleeper.await.unwrap();
    }

    #[test]
    fn manual_time_never_goes_backwards() {
        let start: Timestamp = "2026-03-06T20:00:00Z".parse().unwrap();
        let manual = ManualClock::new(start);
        manual.set(start - SignedDuration::from_hours(1));
        assert_eq!(manual.now(), start);
    }
}
