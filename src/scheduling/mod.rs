//! When texts are due: the clock, quiet hours, the pure cadence maths, and the planner that writes due steps
//! into the outbox.

pub mod cadence;
pub mod clock;
pub mod medication_limits;
pub mod planner;
pub mod quiet_hours;
pub mod recurrence;
pub mod reminders;
#[cfg(test)]
pub(crate) mod test_time;

pub use cadence::{Schedule, SendWindow, SentSteps, Step, bridge_through, starts_on_day};
pub use clock::{Clock, ManualClock};
pub use quiet_hours::QuietHours;
