//! A client's safety plan (docs/safety-plan.md): saved by whoever may change the client (their assigned peer,
//! an admin), each save a new version; read, with its words, by whoever may read the client's words;
//! viewers learn that a plan exists, never what it says.

use super::{ServiceError, Services, clients};
use crate::access::Caller;
use crate::domain::safety_plan::SafetyPlanInput;
use crate::storage::{SafetyPlanVersion, StoreError, UniqueConstraint};

/// Plans as a caller may see them: `with_words` is false for a caller who may not read the client's words,
/// who is shown only that each version exists.
pub struct Readable<T> {
    pub plans: T,
    pub with_words: bool,
}

/// Checks and saves a plan as the client's next version. Nothing is written when any field is wrong.
pub async fn save(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
    input: &SafetyPlanInput,
) -> Result<SafetyPlanVersion, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let client = clients::managed(services, caller, id).await?;
    let now = services.clock.now();
    let plan = input.validate(now).map_err(ServiceError::Invalid)?;
    plan.check_blocked_terms(&services.catalog.current().program.blocked_terms)
        .map_err(ServiceError::Invalid)?;
    let version = match services
        .store
        .save_safety_plan(client.id, &plan, &caller.name, now)
        .await
    {
        Ok(version) => version,
        Err(StoreError::Conflict(UniqueConstraint::SafetyPlanVersion)) => {
            return Err(ServiceError::conflict(
                "version",
                "someone saved this plan at the same moment; load it again and save your changes",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(client_id = client.id, version, "safety plan saved");
    Ok(SafetyPlanVersion {
        client_id: client.id,
        version,
        plan,
        saved_by: caller.name.clone(),
        saved_at: now,
    })
}

/// The plan in force, if the client has one.
pub async fn in_force(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
) -> Result<Readable<Option<SafetyPlanVersion>>, ServiceError> {
    let (_, access) = clients::with_access(services, caller, id).await?;
    Ok(Readable {
        plans: services.store.safety_plan(id).await?,
        with_words: access.may_read_words(),
    })
}

/// Every saved version, newest first.
pub async fn versions(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
) -> Result<Readable<Vec<SafetyPlanVersion>>, ServiceError> {
    let (_, access) = clients::with_access(services, caller, id).await?;
    Ok(Readable {
        plans: services.store.safety_plan_versions(id).await?,
        with_words: access.may_read_words(),
    })
}
