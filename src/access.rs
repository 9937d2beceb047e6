//! Who may do what: bearer tokens with a role, and the rules each role lives by. Tokens are random, shown
//! once and stored only as a SHA-256 hash, so a copy of the database does not let anyone in.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
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

    /// A staff member acting by SMS, who has no token: the same rules as their staff token would have.
    pub fn staff_member(staff_id: i64) -> Self {
        Self {
            name: format!("staff {staff_id}"),
            role: Role::Staff,
            staff_id: Some(staff_id),
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

    /// Which clients a list shows: `Some(staff id)` for staff (nobody, for a staff token without a staff
    /// member), `None` (everyone) for admins and viewers.
    pub fn client_filter(&self) -> Option<i64> {
        match self.role {
            Role::Admin | Role::Viewer => None,
            Role::Staff => Some(self.staff_id.unwrap_or(-1)),
        }
    }
}

/// How long the staff member who took an escalation may still text its client after it was resolved: the
/// next morning's follow-up, and a weekend's.
pub const HANDLER_FOLLOW_UP: SignedDuration = SignedDuration::from_hours(72);

/// What the access rule needs to know about one escalation: who was paged for it, who took it, and
/// whether it is over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationParties {
    /// Staff paged for it, at any step.
    pub paged: Vec<i64>,
    /// Who acknowledged it: its handler.
    pub acknowledged_by: Option<i64>,
    /// When it was resolved; `None` while it is open or acknowledged.
    pub resolved_at: Option<Timestamp>,
}

/// How far a caller may go with one escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EscalationAccess {
    /// That it exists, its status and log, without the reply code or the notes (viewers).
    Outline,
    /// The reply code too, and acknowledging it: any staff member may take over an escalation.
    Board,
    /// The notes, the client's words and relays to the client: staff paged for it or who took it (the
    /// handler until [`HANDLER_FOLLOW_UP`] after it was resolved), the client's assigned peer, admins.
    Responder,
}

/// How far a caller may go with one client. A client the caller may not see at all is answered as absent
/// (404), so a refusal never tells whether someone is a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientAccess {
    Hidden,
    /// Who the client is, their status and when they were texted, never a word (viewers).
    Outline,
    /// The client's words and relays to them, for staff in one of the client's escalations.
    Responder,
    /// Everything, changes included: the assigned peer and admins.
    Full,
}

impl ClientAccess {
    pub fn may_see(self) -> bool {
        self >= ClientAccess::Outline
    }

    /// The words of texts both ways, and escalation notes.
    pub fn may_read_words(self) -> bool {
        self >= ClientAccess::Responder
    }

    /// `R <ref> <message>` and any other way of texting the client as staff.
    pub fn may_relay(self) -> bool {
        self >= ClientAccess::Responder
    }

    /// Changes to the client and their follow-up lists (notices, signals, tasks).
    pub fn may_manage(self) -> bool {
        self == ClientAccess::Full
    }
}

/// The one rule for an escalation, used by the API, the console and SMS commands alike.
pub fn escalation_access(
    caller: &Caller,
    assigned_staff_id: Option<i64>,
    escalation: &EscalationParties,
    now: Timestamp,
) -> EscalationAccess {
    let staff_id = match (caller.role, caller.staff_id) {
        (Role::Admin, _) => return EscalationAccess::Responder,
        (Role::Viewer, _) => return EscalationAccess::Outline,
        (Role::Staff, None) => return EscalationAccess::Board,
        (Role::Staff, Some(id)) => id,
    };
    let handler = escalation.acknowledged_by == Some(staff_id);
    let involved = match escalation.resolved_at {
        None => handler || escalation.paged.contains(&staff_id),
        Some(resolved_at) => handler && now < resolved_at + HANDLER_FOLLOW_UP,
    };
    if involved || assigned_staff_id == Some(staff_id) {
        EscalationAccess::Responder
    } else {
        EscalationAccess::Board
    }
}

/// The one rule for a client: staff manage the clients assigned to them and respond to those in an
/// escalation they are part of; admins manage everyone; viewers see everyone's outline.
pub fn client_access(
    caller: &Caller,
    assigned_staff_id: Option<i64>,
    escalations: &[EscalationParties],
    now: Timestamp,
) -> ClientAccess {
    match caller.role {
        Role::Admin => ClientAccess::Full,
        Role::Viewer => ClientAccess::Outline,
        Role::Staff if caller.staff_id.is_some() && caller.staff_id == assigned_staff_id => ClientAccess::Full,
        Role::Staff
            if escalations
                .iter()
                .any(|e| escalation_access(caller, assigned_staff_id, e, now) == EscalationAccess::Responder) =>
        {
            ClientAccess::Responder
        }
        Role::Staff => ClientAccess::Hidden,
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
        assert!(admin.may_write() && staff.may_write() && !staff.is_admin() && !viewer.may_write());
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(client_access(&staff, Some(8), &[], now), ClientAccess::Hidden);
        assert_eq!(client_access(&staff, None, &[], now), ClientAccess::Hidden);
        assert_eq!(
            client_access(&caller(Role::Staff, None), None, &[], now),
            ClientAccess::Hidden
        );
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
    fn staff_respond_to_escalations_they_are_part_of_and_the_handler_follows_up_for_72_hours() {
        let now: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        let (assigned, paged, handler, other) = (1, 2, 3, 4);
        let open = EscalationParties {
            paged: vec![paged],
            acknowledged_by: Some(handler),
            resolved_at: None,
        };
        let staff = |id| caller(Role::Staff, Some(id));
        for (id, expected) in [
            (assigned, EscalationAccess::Responder),
            (paged, EscalationAccess::Responder),
            (handler, EscalationAccess::Responder),
            (other, EscalationAccess::Board),
        ] {
            assert_eq!(
                escalation_access(&staff(id), Some(assigned), &open, now),
                expected,
                "staff {id}"
            );
        }
        assert_eq!(
            client_access(&staff(other), Some(assigned), std::slice::from_ref(&open), now),
            ClientAccess::Hidden
        );
        assert_eq!(
            client_access(&staff(paged), Some(assigned), std::slice::from_ref(&open), now),
            ClientAccess::Responder
        );
        assert_eq!(
            client_access(&staff(assigned), Some(assigned), &[], now),
            ClientAccess::Full
        );
        assert_eq!(
            escalation_access(&caller(Role::Viewer, None), None, &open, now),
            EscalationAccess::Outline
        );
        assert_eq!(
            client_access(&caller(Role::Viewer, None), None, &[], now),
            ClientAccess::Outline
        );
        assert_eq!(
            client_access(&caller(Role::Admin, None), None, &[], now),
            ClientAccess::Full
        );

        let resolved = EscalationParties {
            resolved_at: Some(now),
            ..open
        };
        let within = now + HANDLER_FOLLOW_UP - SignedDuration::from_secs(1);
        let after = now + HANDLER_FOLLOW_UP;
        assert!(client_access(&staff(handler), Some(assigned), std::slice::from_ref(&resolved), within).may_relay());
        assert!(!client_access(&staff(handler), Some(assigned), std::slice::from_ref(&resolved), after).may_see());
        assert!(!client_access(&staff(paged), Some(assigned), &[resolved], now).may_see());
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
