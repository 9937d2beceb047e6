//! When texts are due: the clock, quiet hours and the cadence, reminder and medication maths, all pure. The
//! planner that writes due steps into the outbox (`src/planner.rs`) uses these and storage; nothing here
//! knows either.

pub mod cadence;
pub mod clock;
pub mod medication_limits;
pub mod quiet_hours;
pub mod recurrence;
pub mod reminders;

pub use cadence::{Schedule, SendWindow, SentSteps, Step, bridge_through, starts_on_day};
pub use clock::{Clock, ManualClock};
pub use quiet_hours::QuietHours;
