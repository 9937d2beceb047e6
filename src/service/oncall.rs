//! Setting up who gets paged: the escalation policy, rotations and their overrides, a client's peer, and
//! concern notices. Admins set these up; everyone reads them.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

use super::{ServiceError, Services};
use crate::access::Caller;
use crate::domain::client::parse_instant;
use crate::domain::limits;
use crate::domain::oncall::{self, Override, Policy, Rotation, Target};
use crate::domain::{FieldError, TimeZoneName};
use crate::scheduling::quiet_hours::parse_clock_time;
use crate::storage::{NewRotation, StoreError, UniqueConstraint};

/// Longer than a day between pages is no escalation at all; zero would page every step at once.
const MAX_STEP_DELAY_MINUTES: u32 = 24 * 60;
const MAX_REPEAT: u32 = 10;

async fn require_staff(services: &Services<'_>, id: i64, field: &str) -> Result<(), ServiceError> {
    match services.store.staff_member(id).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::invalid(field, format!("no staff member with id {id}"))),
    }
}

/// Replaces the escalation policy: the steps a crisis pages through, and how often the whole chain repeats.
pub async fn set_policy(services: &Services<'_>, caller: &Caller, policy: &Policy) -> Result<(), ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    if policy.steps.is_empty() {
        return Err(ServiceError::invalid("steps", "must list at least one step"));
    }
    if policy.steps.len() > limits::MAX_POLICY_STEPS {
        return Err(ServiceError::invalid(
            "steps",
            format!("must list at most {} steps", limits::MAX_POLICY_STEPS),
        ));
    }
    if policy.repeat > MAX_REPEAT {
        return Err(ServiceError::invalid("repeat", format!("must be at most {MAX_REPEAT}")));
    }
    let rotations = services.store.rotations().await?;
    for (index, step) in policy.steps.iter().enumerate() {
        if !(1..=MAX_STEP_DELAY_MINUTES).contains(&step.delay_minutes) {
            return Err(ServiceError::invalid(
                format!("steps[{index}].delay_minutes"),
                format!("must be between 1 and {MAX_STEP_DELAY_MINUTES}"),
            ));
        }
        match step.target {
            Target::Rotation(id) if !rotations.iter().any(|r| r.id == id) => {
                return Err(ServiceError::invalid(
                    format!("steps[{index}].target"),
                    format!("no rotation with id {id}"),
                ));
            }
            Target::Staff(id) => require_staff(services, id, &format!("steps[{index}].target")).await?,
            Target::Rotation(_) => {}
        }
    }
    services
        .store
        .set_escalation_policy(policy, services.clock.now())
        .await?;
    tracing::info!(
        steps = policy.steps.len(),
        repeat = policy.repeat,
        "escalation policy replaced"
    );
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationInput {
    #[schema(example = "peers")]
    pub name: String,
    /// The IANA zone its handoff time is in.
    #[schema(example = "America/Chicago")]
    pub timezone: String,
    /// How long each member's shift lasts.
    #[schema(example = 24)]
    pub shift_hours: u32,
    /// Local time of each handoff, `HH:MM`.
    #[schema(example = "09:00")]
    pub handoff_time: String,
    /// The first shift's date, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01")]
    pub start_date: String,
    /// Staff ids, in the order they take shifts.
    pub members: Vec<i64>,
}

/// Adds a rotation; returns its id and name as saved.
pub async fn create_rotation(
    services: &Services<'_>,
    caller: &Caller,
    input: RotationInput,
) -> Result<(i64, String), ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > limits::MAX_NAME_CHARS {
        return Err(ServiceError::invalid(
            "name",
            format!("must be at most {} characters", limits::MAX_NAME_CHARS),
        ));
    }
    let zone = TimeZoneName::parse(&input.timezone).map_err(|m| ServiceError::invalid("timezone", m))?;
    if !(1..=24 * 28).contains(&input.shift_hours) {
        return Err(ServiceError::invalid(
            "shift_hours",
            "must be between 1 and 672 (four weeks)",
        ));
    }
    parse_clock_time(&input.handoff_time).map_err(|m| ServiceError::invalid("handoff_time", m))?;
    let start_date: Date = input.start_date.parse().map_err(|_| {
        ServiceError::invalid(
            "start_date",
            format!("`{}` is not a date like 2026-03-01", input.start_date),
        )
    })?;
    let latest_start = (services.clock.now() + limits::MAX_PLANNED_AHEAD)
        .in_tz("UTC")
        .map_err(anyhow::Error::new)?
        .date();
    if start_date > latest_start {
        return Err(ServiceError::invalid("start_date", "must be at most 2 years ahead"));
    }
    if input.members.is_empty() {
        return Err(ServiceError::invalid("members", "must list at least one staff member"));
    }
    for (index, id) in input.members.iter().enumerate() {
        require_staff(services, *id, &format!("members[{index}]")).await?;
    }
    let rotation = NewRotation {
        name,
        timezone: zone.as_str().to_owned(),
        shift_hours: input.shift_hours,
        handoff_time: input.handoff_time.trim().to_owned(),
        start_date,
        members: input.members,
    };
    match services.store.insert_rotation(&rotation, services.clock.now()).await {
        Ok(id) => Ok((id, rotation.name)),
        Err(StoreError::Conflict(UniqueConstraint::RotationName)) => Err(ServiceError::Conflict(FieldError::new(
            "name",
            "a rotation with this name exists",
        ))),
        Err(err) => Err(err.into()),
    }
}

/// A rotation, and who is on call in it now.
pub struct RotationNow {
    pub rotation: Rotation,
    pub on_call_now: Option<i64>,
}

/// Every rotation, with who is on call in each now (overrides included).
pub async fn rotations(services: &Services<'_>) -> Result<Vec<RotationNow>, ServiceError> {
    let now = services.clock.now();
    let mut listed = Vec::new();
    for rotation in services.store.rotations().await? {
        let overrides = services.store.overrides_at(rotation.id, now).await?;
        listed.push(RotationNow {
            on_call_now: oncall::on_call(&rotation, &overrides, now),
            rotation,
        });
    }
    Ok(listed)
}

/// Who is on call in rotation `id` at `at` (overrides included).
pub async fn on_call_at(services: &Services<'_>, id: i64, at: Timestamp) -> Result<Option<i64>, ServiceError> {
    let rotation = services
        .store
        .rotations()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ServiceError::NotFound("rotation"))?;
    let overrides = services.store.overrides_at(id, at).await?;
    Ok(oncall::on_call(&rotation, &overrides, at))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    /// Who is on call instead.
    pub staff_id: i64,
    /// RFC 3339.
    #[schema(example = "2026-12-24T18:00:00-06:00")]
    pub starts_at: String,
    /// RFC 3339, after `starts_at`.
    #[schema(example = "2026-12-25T09:00:00-06:00")]
    pub ends_at: String,
}

/// Puts someone on call in a rotation for a while (cover for a sick day); returns the override's id.
pub async fn create_override(
    services: &Services<'_>,
    caller: &Caller,
    rotation_id: i64,
    input: &OverrideInput,
) -> Result<i64, ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    if !services.store.rotations().await?.iter().any(|r| r.id == rotation_id) {
        return Err(ServiceError::NotFound("rotation"));
    }
    require_staff(services, input.staff_id, "staff_id").await?;
    let starts_at = parse_instant(&input.starts_at).map_err(|m| ServiceError::invalid("starts_at", m))?;
    let ends_at = parse_instant(&input.ends_at).map_err(|m| ServiceError::invalid("ends_at", m))?;
    if ends_at <= starts_at {
        return Err(ServiceError::invalid("ends_at", "must be after starts_at"));
    }
    let cover = Override {
        staff_id: input.staff_id,
        starts_at,
        ends_at,
    };
    Ok(services
        .store
        .insert_override(rotation_id, &cover, services.clock.now())
        .await?)
}

/// Makes `staff_id` the client's peer (their replies and concern notices go to them), or nobody.
pub async fn assign_staff(
    services: &Services<'_>,
    caller: &Caller,
    client_id: i64,
    staff_id: Option<i64>,
) -> Result<(), ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    if let Some(staff_id) = staff_id {
        require_staff(services, staff_id, "staff_id").await?;
    }
    if services
        .store
        .assign_staff(client_id, staff_id, services.clock.now())
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound("client"))
    }
}

/// Dismisses a concern notice. Staff dismiss only their own clients' notices; anyone else's is answered as
/// missing.
pub async fn mark_notice_seen(services: &Services<'_>, caller: &Caller, id: i64) -> Result<(), ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let assigned_to = caller.client_filter();
    let marked = services
        .store
        .mark_notice_seen(id, assigned_to, services.clock.now())
        .await?;
    super::marked_seen(marked, assigned_to, "notice")
}
