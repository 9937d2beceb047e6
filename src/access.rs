//! Who may do what: bearer tokens with a role, and the rules each role lives by. Tokens are random, shown
//! once and stored only as a SHA-256 hash, so a copy of the database does not let anyone in.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read-only, and never the words of a text.
    Viewer,
    /// Their assigned clients, escalations and messages; schedules read-only.
    Staff,
    /// Everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "viewer" => Ok(Role::Viewer),
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}`; expected admin, staff or viewer")),
        }
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, as recorded in the audit log.
    pub name: String,
    pub role: Role,
    /// For staff tokens: the staff member whose clients they may see.
    pub staff_id: Option<i64>,
}

impl Caller {
    /// The bootstrap `TETHER_ADMIN_TOKEN`, which has no database row.
    pub fn bootstrap() -> Self {
        Self {
            name: "bootstrap".into(),
            role: Role::Admin,
            staff_id: None,
        }
    }

    /// May change clients, their reminders and escalations (within what [`Caller::may_see_client`] allows).
    pub fn may_write(&self) -> bool {
        self.role >= Role::Staff
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// [`Caller::may_write`], with the reason when not, for a 403 in the API or the console.
    pub fn check_write(&self) -> Result<(), &'static str> {
        if self.may_write() {
            Ok(())
        } else {
            Err("this token is read-only")
        }
    }

    /// [`Caller::is_admin`], with the reason when not.
    pub fn check_admin(&self) -> Result<(), &'static str> {
        if self.is_admin() {
            Ok(())
        } else {
            Err("only an admin may do this")
        }
    }

    /// Viewers see who was texted and when, never what was said.
    pub fn may_read_bodies(&self) -> bool {
        self.role >= Role::Staff
    }

    /// Which clients a list shows: `Some(staff id)` for staff (nobody, for a staff token without a staff
    /// member), `None` (everyone) for admins and viewers.
    pub fn client_filter(&self) -> Option<i64> {
        match self.role {
            Role::Admin | Role::Viewer => None,
            Role::Staff => Some(self.staff_id.unwrap_or(-1)),
        }
    }

    /// Staff see the clients assigned to them; admins and viewers (who see no words) see every client.
    pub fn may_see_client(&self, assigned_staff_id: Option<i64>) -> bool {
        match self.role {
            Role::Admin | Role::Viewer => true,
            Role::Staff => self.staff_id.is_some() && self.staff_id == assigned_staff_id,
        }
    }
}

/// Marks API tokens, so one pasted in the wrong place is recognisable.
pub const TOKEN_PREFIX: &str = "tether_";

/// A new random secret: 32 bytes from the operating system's generator, base64url, with a prefix that says
/// what it is when one turns up in a config file or a secret scanner.
pub fn new_secret(prefix: &str) -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a secret. Tokens carry 256 random bits, so a plain hash (no salt, no stretching) is
/// enough: there is nothing to guess.
pub fn hash_secret(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, staff_id: Option<i64>) -> Caller {
        Caller {
            name: "t".into(),
            role,
            staff_id,
        }
    }

    #[test]
    fn each_role_sees_what_it_should() {
        let admin = caller(Role::Admin, None);
        let staff = caller(Role::Staff, Some(7));
        let viewer = caller(Role::Viewer, None);
        assert!(admin.may_write() && admin.may_read_bodies() && admin.may_see_client(None));
        assert!(staff.may_write() && staff.may_read_bodies() && !staff.is_admin());
        assert!(staff.may_see_client(Some(7)));
        assert!(!staff.may_see_client(Some(8)));
        assert!(!staff.may_see_client(None));
        assert!(!caller(Role::Staff, None).may_see_client(None));
        assert!(!viewer.may_write() && !viewer.may_read_bodies() && viewer.may_see_client(Some(8)));
        assert_eq!(
            (admin.client_filter(), staff.client_filter(), viewer.client_filter()),
            (None, Some(7), None)
        );
        assert_eq!(
            caller(Role::Staff, None).client_filter(),
            Some(-1),
            "a staff token without a member sees nobody"
        );
    }

    #[test]
    fn secrets_are_random_and_hashed_stably() {
        let a = new_secret("tt_").unwrap();
        let b = new_secret("tt_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("tt_") && a.len() == 3 + 43);
        assert_eq!(hash_secret("abc").len(), 64);
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn roles_parse_by_name_only() {
        assert_eq!("staff".parse::<Role>(), Ok(Role::Staff));
        assert!("root".parse::<Role>().unwrap_err().contains("admin, staff or viewer"));
    }
}
