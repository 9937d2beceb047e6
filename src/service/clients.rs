//! Clients and staff: who may see or change a client, creating and editing them, pausing their texts, and
//! texting them from the service number. Staff see only the clients assigned to them (or whose escalation
//! they respond to); viewers see that texts went, never their words.

use serde::Deserialize;

use super::{ServiceError, Services};
use crate::access::{Caller, ClientAccess, Role};
use crate::domain::client::NewClientInput;
use crate::domain::{ClientStatus, FirstName, MessageKind, PhoneNumber, TimeZoneName};
use crate::storage::{ClientRecord, NewText, ReceivedText, StoreError, TextRecord, UniqueConstraint};

/// The provider's limit for one text.
const MAX_RELAY_CHARS: usize = 1600;

/// The client and how far the caller may go with them (see [`crate::access::client_access`]); a client the
/// caller may not see is answered as absent.
pub async fn with_access(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
) -> Result<(ClientRecord, ClientAccess), ServiceError> {
    let client = services
        .store
        .client(id)
        .await?
        .ok_or(ServiceError::NotFound("client"))?;
    let now = services.clock.now();
    // Only staff get anything from an escalation: admins see everything anyway, viewers never more.
    let escalations = if caller.role == Role::Staff {
        services.store.escalation_parties(id, now).await?
    } else {
        Vec::new()
    };
    let access = crate::access::client_access(caller, client.assigned_staff_id, &escalations, now);
    if access.may_see() {
        Ok((client, access))
    } else {
        Err(ServiceError::Hidden("client"))
    }
}

/// The client, if the caller may see them at all.
pub async fn visible(services: &Services<'_>, caller: &Caller, id: i64) -> Result<ClientRecord, ServiceError> {
    Ok(with_access(services, caller, id).await?.0)
}

/// The client, if the caller may change them: their assigned peer or an admin. Staff who only respond to
/// an escalation read and relay, nothing more.
pub async fn managed(services: &Services<'_>, caller: &Caller, id: i64) -> Result<ClientRecord, ServiceError> {
    match with_access(services, caller, id).await? {
        (client, access) if access.may_manage() => Ok(client),
        _ => Err(ServiceError::Forbidden(
            "only the client's assigned peer or an admin may change this client",
        )),
    }
}

/// Creates a client. A client a staff member adds is theirs; otherwise they could not see whom they just
/// added.
pub async fn create(
    services: &Services<'_>,
    caller: &Caller,
    input: NewClientInput,
) -> Result<ClientRecord, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let now = services.clock.now();
    let client = input.validate(now).map_err(ServiceError::Invalid)?;
    let catalog = services.catalog.current();
    if !catalog.supports_language(client.language.as_str()) {
        return Err(ServiceError::invalid(
            "language",
            format!(
                "no templates in `{}`; supported: {}",
                client.language.as_str(),
                catalog.program.languages.join(", ")
            ),
        ));
    }
    let id = match services.store.insert_client(&client, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(rule @ (UniqueConstraint::ClientPhone | UniqueConstraint::PhoneOfTheOtherKind))) => {
            // Staff see only their own clients, so they are not told whose the number is.
            let message = match rule {
                _ if !caller.is_admin() => "this number cannot be used for a new client; an administrator can tell why",
                UniqueConstraint::ClientPhone => "a client with this number already exists",
                _ => "this number is a staff member's; a client needs a number of their own",
            };
            return Err(ServiceError::conflict("phone", message));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(client_id = id, phone = %client.phone.masked(), "client created");
    if let Some(staff_id) = caller.staff_id {
        services.store.assign_staff(id, Some(staff_id), now).await?;
    }
    reload(services, id).await
}

async fn reload(services: &Services<'_>, id: i64) -> Result<ClientRecord, ServiceError> {
    services.store.client(id).await?.ok_or(ServiceError::NotFound("client"))
}

/// What may change about a client after creation; the phone number and opt-out state may not (a new number
/// is a new client, and only the client can opt back in).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChanges {
    pub first_name: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

/// Changes a client's name, language or time zone; what the changes leave out stays as it is.
pub async fn update(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
    changes: &ClientChanges,
) -> Result<ClientRecord, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let client = managed(services, caller, id).await?;
    let first_name = match &changes.first_name {
        Some(name) => FirstName::parse(name).map_err(|m| ServiceError::invalid("first_name", m))?,
        None => client.first_name,
    };
    let language = changes
        .language
        .as_deref()
        .unwrap_or(&client.language)
        .trim()
        .to_owned();
    if !services.catalog.current().supports_language(&language) {
        return Err(ServiceError::invalid(
            "language",
            format!("no templates in `{language}`"),
        ));
    }
    let timezone = match &changes.timezone {
        Some(zone) => TimeZoneName::parse(zone).map_err(|m| ServiceError::invalid("timezone", m))?,
        None => client.timezone,
    };
    services
        .store
        .update_client(id, &first_name, &language, &timezone, services.clock.now())
        .await?;
    reload(services, id).await
}

/// Pauses or resumes a client's planned texts. Someone who said STOP stays opted out: only their own START
/// brings them back.
pub async fn set_paused(
    services: &Services<'_>,
    caller: &Caller,
    id: i64,
    paused: bool,
) -> Result<ClientRecord, ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let client = managed(services, caller, id).await?;
    if client.status == ClientStatus::OptedOut {
        return Err(ServiceError::conflict(
            "status",
            "client opted out; only the client can opt back in, by texting START",
        ));
    }
    services
        .store
        .set_client_paused(id, paused, services.clock.now())
        .await?;
    tracing::info!(client_id = id, paused, "client status changed");
    reload(services, id).await
}

/// A client's thread both ways, oldest first; the words blanked for a caller who may not read them.
pub struct Thread {
    pub client_id: i64,
    /// Whether the bodies below hold the words; false for viewers.
    pub with_words: bool,
    pub sent: Vec<TextRecord>,
    pub received: Vec<ReceivedText>,
}

/// Reads a client's thread. The caller records the read in the audit log: these are the words of someone in
/// treatment.
pub async fn thread(services: &Services<'_>, caller: &Caller, id: i64) -> Result<Thread, ServiceError> {
    let (_, access) = with_access(services, caller, id).await?;
    let with_words = access.may_read_words();
    let mut sent = services.store.texts_for_client(id).await?;
    let mut received = services.store.received_from_client(id).await?;
    if !with_words {
        sent.iter_mut().for_each(|text| text.body.clear());
        received.iter_mut().for_each(|text| text.body.clear());
    }
    Ok(Thread {
        client_id: id,
        with_words,
        sent,
        received,
    })
}

/// A text to the client from the service number, as `R <ref> <message>` by SMS.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayInput {
    pub text: String,
}

/// Queues a relay to a client for a caller the access rule lets text them (see
/// [`crate::access::ClientAccess::may_relay`]).
pub async fn relay(services: &Services<'_>, caller: &Caller, id: i64, input: &RelayInput) -> Result<(), ServiceError> {
    caller.check_write().map_err(ServiceError::Forbidden)?;
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > MAX_RELAY_CHARS {
        return Err(ServiceError::invalid(
            "text",
            format!("must be between 1 and {MAX_RELAY_CHARS} characters"),
        ));
    }
    let (client, access) = with_access(services, caller, id).await?;
    if !access.may_relay() {
        return Err(ServiceError::Forbidden(
            "only the client's assigned peer, staff in their escalation, or an admin may text them",
        ));
    }
    if client.status == ClientStatus::OptedOut || client.phone_invalid_at.is_some() {
        return Err(ServiceError::conflict(
            "client",
            "client opted out or their number cannot be reached",
        ));
    }
    let now = services.clock.now();
    let nonce = crate::access::new_secret("").map_err(|_| anyhow::anyhow!("the random generator failed"))?;
    let relay = NewText {
        client_id: Some(client.id),
        staff_id: None,
        enrollment_id: None,
        kind: MessageKind::Relay,
        idempotency_key: format!("relay:{}:{nonce}", caller.name),
        to_phone: client.phone.as_str().to_owned(),
        body: text.to_owned(),
        template: None,
        step: None,
        planned_at: now,
        expires_at: None,
    };
    services.store.enqueue(&relay, now).await?;
    services.scheduler.nudge();
    tracing::info!(client_id = client.id, caller = caller.name, "relay queued");
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    #[schema(example = "Jordan")]
    pub name: String,
    /// Where pages and forwarded replies go, in E.164 form.
    #[schema(example = "+14155550188")]
    pub phone: String,
}

/// A staff member as added.
pub struct AddedStaff {
    pub id: i64,
    pub name: FirstName,
    pub phone: PhoneNumber,
    pub created_at: jiff::Timestamp,
}

/// Adds a staff member who can later be put on call or assigned clients; admins only.
pub async fn add_staff(
    services: &Services<'_>,
    caller: &Caller,
    input: &StaffInput,
) -> Result<AddedStaff, ServiceError> {
    caller.check_admin().map_err(ServiceError::Forbidden)?;
    let name = FirstName::parse(&input.name).map_err(|m| ServiceError::invalid("name", m))?;
    let phone = PhoneNumber::parse(&input.phone).map_err(|m| ServiceError::invalid("phone", m))?;
    let now = services.clock.now();
    let id = match services.store.insert_staff(&name, &phone, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(UniqueConstraint::StaffPhone)) => {
            return Err(ServiceError::conflict(
                "phone",
                "a staff member with this number already exists",
            ));
        }
        Err(StoreError::Conflict(UniqueConstraint::PhoneOfTheOtherKind)) => {
            return Err(ServiceError::conflict(
                "phone",
                "this number is a client's; a staff member needs a number of their own",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(staff_id = id, phone = %phone.masked(), "staff member added");
    Ok(AddedStaff {
        id,
        name,
        phone,
        created_at: now,
    })
}
