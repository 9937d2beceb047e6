//! The escalation board: who sees what of each escalation, acknowledging one (taking it), resolving it and
//! writing notes on what was done. Acknowledging by SMS reply goes through [`crate::inbound`], in the same
//! transaction as the reply; this is the same act from the API or the console.

use jiff::Timestamp;

use super::{ServiceError, Services};
use crate::access::{Caller, EscalationAccess, escalation_access};
use crate::domain::MessageKind;
use crate::storage::{AckOutcome, EscalationView, NewText};
use crate::templates::StaffContext;

/// The longest note, in characters: a few paragraphs on what was done.
const MAX_NOTE_CHARS: usize = 2000;

/// Escalations (all, or those with one status) as the caller may see them (see [`as_seen_by`]).
pub async fn board(
    services: &Services<'_>,
    caller: &Caller,
    status: Option<&str>,
) -> Result<Vec<EscalationView>, ServiceError> {
    if let Some(status) = status
        && !["open", "acknowledged", "resolved"].contains(&status)
    {
        return Err(ServiceError::invalid(
            "status",
            "must be open, acknowledged or resolved",
        ));
    }
    let now = services.clock.now();
    let escalations = services.store.escalations(status, now).await?;
    Ok(as_seen_by(caller, escalations, now))
}

/// Escalations as `caller` may see them (see [`escalation_access`]): every staff member sees each one,
/// its status and its reply code, so anyone can take over; notes, which are staff's words about a client,
/// only those who respond to it; viewers neither codes nor notes (they see that a note was written).
pub fn as_seen_by(caller: &Caller, mut escalations: Vec<EscalationView>, now: Timestamp) -> Vec<EscalationView> {
    for escalation in &mut escalations {
        let access = escalation_access(caller, escalation.assigned_staff_id, &escalation.parties, now);
        if access < EscalationAccess::Board {
            escalation.code = None;
        }
        if access < EscalationAccess::Responder {
            for note in escalation.events.iter_mut().filter(|e| e.kind == "note") {
                note.detail = String::new();
            }
        }
    }
    escalations
}

/// Who took an escalation.
pub struct Acknowledged {
    pub id: i64,
    pub staff_id: i64,
}

/// Takes escalation `id` for a staff member, who is told by text, as with an SMS acknowledgement. Staff
/// take it as themselves (`staff_id` may be left out); an admin says who.
pub async fn acknowledge(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
    staff_id: Option<i64>,
) -> Result<Acknowledged, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let staff_id = match (staff_id, caller.staff_id) {
        (Some(requested), Some(own)) if requested != own && !caller.is_admin() => {
            return Err(ServiceError::Forbidden("staff acknowledge as themselves"));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            return Err(ServiceError::invalid(
                "staff_id",
                "say which staff member takes the escalation",
            ));
        }
    };
    let Some(member) = services.store.staff_member(staff_id).await? else {
        return Err(ServiceError::invalid(
            "staff_id",
            format!("no staff member with id {staff_id}"),
        ));
    };
    let now = services.clock.now();
    let outcome = services
        .store
        .acknowledge_escalation(id, member.id, now)
        .await?
        .ok_or(ServiceError::NotFound("escalation"))?;
    let (code, reference) = match outcome {
        AckOutcome::Acknowledged { code, reference, .. } => (code, reference),
        AckOutcome::AlreadyAcknowledged { .. } | AckOutcome::UnknownCode => {
            return Err(ServiceError::conflict(
                "status",
                "escalation is not open; it was already acknowledged or resolved",
            ));
        }
    };
    let body = services
        .catalog
        .current()
        .render_staff(
            "staff/ack_confirmation",
            &StaffContext {
                code: &code,
                reference: &reference,
                body: "",
            },
        )
        .map_err(anyhow::Error::new)?;
    let confirmation = NewText {
        client_id: None,
        staff_id: Some(member.id),
        enrollment_id: None,
        kind: MessageKind::StaffNotice,
        idempotency_key: format!("ack:{id}:{}", member.id),
        to_phone: member.phone.clone(),
        body,
        template: Some("staff/ack_confirmation".into()),
        step: None,
        planned_at: now,
        expires_at: None,
    };
    services.store.enqueue(&confirmation, now).await?;
    services.scheduler.nudge();
    tracing::info!(escalation_id = id, staff_id = member.id, "escalation acknowledged");
    Ok(Acknowledged {
        id,
        staff_id: member.id,
    })
}

/// Staff who respond to escalation `id` (see [`escalation_access`]): only they resolve it or write in its
/// notes. Anyone else on staff sees it on the board and takes it over by acknowledging it first.
async fn require_responder(services: &Services<'_>, caller: &Caller, id: i64) -> Result<(), ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let (parties, assigned_staff_id) = services
        .store
        .escalation_with_parties(id)
        .await?
        .ok_or(ServiceError::NotFound("escalation"))?;
    if escalation_access(caller, assigned_staff_id, &parties, services.clock.now()) == EscalationAccess::Responder {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only staff paged for this escalation, who took it, or the client's peer may do this; acknowledge it to take it over",
        ))
    }
}

/// Closes escalation `id`; the client's routine texts it held are due again at once. False when it was
/// already resolved.
pub async fn resolve(services: &Services<'_>, caller: &Caller, id: i64) -> Result<bool, ServiceError> {
    require_responder(services, caller, id).await?;
    let resolved = services.store.resolve_escalation(id, services.clock.now()).await?;
    if resolved {
        services.scheduler.nudge();
    }
    Ok(resolved)
}

/// Adds a note on what was done ("called, she is with her sister tonight") to the escalation's log, and
/// returns it as kept.
pub async fn add_note(services: &Services<'_>, caller: &Caller, id: i64, text: &str) -> Result<String, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return Err(ServiceError::invalid("text", "must be between 1 and 2,000 characters"));
    }
    require_responder(services, caller, id).await?;
    if !services
        .store
        .add_escalation_note(id, &caller.name, caller.staff_id, text, services.clock.now())
        .await?
    {
        return Err(ServiceError::NotFound("escalation"));
    }
    Ok(text.to_owned())
}
