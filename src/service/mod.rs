//! The use cases: what a caller may do to clients, enrolments, safety plans, the catalog and escalations.
//! Each takes the [`Caller`](crate::access::Caller) and typed input, checks what that caller may do, and
//! answers with a typed result or a [`ServiceError`]. Nothing here knows about HTTP: the API's handlers,
//! the console's pages and the CLI are all callers of these functions, and turn a [`ServiceError`] into
//! their own answer (`From<ServiceError> for ApiError` lives in `http`).
//!
//! - [`clients`]: who may see or change a client, creating and editing clients and staff, pausing, relaying.
//! - [`enrolling`]: enrolling a client at discharge in one schedule or several.
//! - [`safety_plans`]: saving and reading a client's safety plan.
//! - [`catalog_edits`]: editing a schedule or a template as a new catalog version.
//! - [`reminders`]: appointments with their reminders, medication reminders, early-warning signals.
//! - [`escalations`]: the escalation board (acknowledge, resolve, notes).
//! - [`oncall`]: who gets paged (policy, rotations, overrides), a client's peer, concern notices.
//! - [`tokens`]: issuing and revoking API tokens (from the CLI).

pub mod catalog_edits;
pub mod clients;
pub mod enrolling;
pub mod escalations;
pub mod oncall;
pub mod reminders;
pub mod safety_plans;
pub mod tokens;

use crate::catalog::CatalogService;
use crate::domain::FieldError;
use crate::scheduler::Scheduler;
use crate::scheduling::medication_limits::MedicationLimits;
use crate::scheduling::{Clock, QuietHours};
use crate::storage::{Store, StoreError};
use crate::templates::SharedCatalog;

/// What the use cases work with, borrowed from whoever runs them (the HTTP state, or the CLI).
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub store: &'a Store,
    pub catalog: &'a SharedCatalog,
    /// Saves and loads catalog versions (schedule and template edits).
    pub catalogs: &'a CatalogService,
    pub clock: &'a Clock,
    /// Woken when a use case queued something to send, so it goes now rather than at the next pass.
    pub scheduler: &'a Scheduler,
    pub quiet_hours: &'a QuietHours,
    /// What a medication reminder pattern may ask for.
    pub medication_limits: &'a MedicationLimits,
    /// How long before an appointment its reminders go, where its kind sets no offsets of its own.
    pub appointment_reminders: &'a [jiff::SignedDuration],
}

/// Why a use case refused, or failed. Every refusal names what was wrong; each caller turns it into its own
/// answer (a status and JSON body for the API, a page for the console).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Something the caller may not see: answered exactly like [`ServiceError::NotFound`], so a refusal does
    /// not tell that it exists, and audited as a refusal.
    #[error("{0} not found")]
    Hidden(&'static str),
    #[error("invalid {0}")]
    Invalid(FieldError),
    #[error("conflict on {0}")]
    Conflict(FieldError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid(FieldError::new(field, message))
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Conflict(FieldError::new(field, message))
    }
}

/// The answer to marking something seen (a concern notice, a signal) in a list scoped to the caller's
/// clients: for staff, nothing marked may mean someone else's, answered as missing and audited as a refusal.
fn marked_seen(marked: bool, assigned_to: Option<i64>, what: &'static str) -> Result<(), ServiceError> {
    match (marked, assigned_to) {
        (true, _) => Ok(()),
        (false, Some(_)) => Err(ServiceError::Hidden(what)),
        (false, None) => Err(ServiceError::NotFound(what)),
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        ServiceError::Internal(anyhow::Error::new(err))
    }
}
