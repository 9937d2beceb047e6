//! Quiet while a crisis is open: from the moment a client's escalation opens until it is resolved, their
//! routine texts are held (docs/crisis-hold.md). The hold is capped, so an escalation nobody closes does not
//! silence the client's care for good: at the cap the texts go and the board flags the escalation.

use jiff::{SignedDuration, Timestamp};

/// The longest one escalation holds a client's routine texts.
pub const CRISIS_HOLD_LIMIT: SignedDuration = SignedDuration::from_hours(12);

/// When the hold of an escalation opened at `opened_at` ends if nobody resolves it first.
pub fn hold_ends_at(opened_at: Timestamp) -> Timestamp {
    opened_at + CRISIS_HOLD_LIMIT
}

/// Whether the escalation was (or still is) unresolved when its hold reached the cap, so the hold ended
/// without anyone closing the crisis.
pub fn hold_ran_out(opened_at: Timestamp, resolved_at: Option<Timestamp>, now: Timestamp) -> bool {
    resolved_at.unwrap_or(now) >= hold_ends_at(opened_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_hold_runs_out_twelve_hours_after_opening_unless_resolved_before() {
        let opened = at("2026-03-08T03:00:00Z");
        assert_eq!(hold_ends_at(opened), at("2026-03-08T15:00:00Z"));
        assert!(!hold_ran_out(opened, None, at("2026-03-08T14:59:59Z")));
        assert!(hold_ran_out(opened, None, at("2026-03-08T15:00:00Z")));
        assert!(!hold_ran_out(
            opened,
            Some(at("2026-03-08T10:00:00Z")),
            at("2026-03-09T00:00:00Z")
        ));
        assert!(hold_ran_out(
            opened,
            Some(at("2026-03-08T16:00:00Z")),
            at("2026-03-09T00:00:00Z")
        ));
    }
}
