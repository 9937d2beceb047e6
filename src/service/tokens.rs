//! API tokens: issued to a name and a role (a staff token acts for one staff member), listed, revoked.
//! Only a token's hash is stored, so issuing is the one moment its secret exists outside the caller's hands.
//! The CLI is the one caller today: tokens are made by whoever runs the service, not through the API.

use jiff::Timestamp;

use super::ServiceError;
use crate::access::{self, Role};
use crate::storage::Store;

/// A new token: its id, and its secret, to be shown once.
pub struct Issued {
    pub id: i64,
    pub secret: String,
}

/// Issues a token; `staff_id` only, and always, for a staff token.
pub async fn issue(
    store: &Store,
    name: &str,
    role: Role,
    staff_id: Option<i64>,
    now: Timestamp,
) -> Result<Issued, ServiceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "must not be empty"));
    }
    match (role, staff_id) {
        (Role::Staff, None) => {
            return Err(ServiceError::invalid(
                "staff_id",
                "a staff token acts for a staff member; say which",
            ));
        }
        (Role::Admin | Role::Viewer, Some(_)) => {
            return Err(ServiceError::invalid(
                "staff_id",
                "only staff tokens act for a staff member",
            ));
        }
        _ => {}
    }
    if let Some(id) = staff_id
        && store.staff_member(id).await?.is_none()
    {
        return Err(ServiceError::invalid("staff_id", format!("no staff member {id}")));
    }
    let secret = access::new_secret(access::TOKEN_PREFIX)
        .map_err(|_| anyhow::anyhow!("the operating system's random generator failed"))?;
    let id = store
        .insert_token(name, role, staff_id, &access::hash_secret(&secret), now)
        .await?;
    Ok(Issued { id, secret })
}

/// Revokes a live token; its console sessions end at once.
pub async fn revoke(store: &Store, id: i64, now: Timestamp) -> Result<(), ServiceError> {
    if store.revoke_token(id, now).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("live token"))
    }
}
