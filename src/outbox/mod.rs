//! Sending what is due: the dispatcher claims due texts from the outbox, re-checks the rules at the moment of
//! sending, calls the provider and records the outcome.

pub mod dispatcher;
pub mod liveness;
pub mod recorder;
pub mod rules;

pub use dispatcher::{DispatchSettings, Dispatcher};
pub use liveness::{Liveness, LivenessSettings};
