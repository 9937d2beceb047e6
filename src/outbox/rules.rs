//! What to do with a claimed text right now. Consent, status and quiet hours are checked here again, at send
//! time, because anything may have changed since the text was planned.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use crate::domain::crisis_hold::hold_ends_at;
use crate::domain::{ClientStatus, MessageKind};
use crate::scheduling::QuietHours;
use crate::storage::ClaimedText;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// Never send this text; the reason is recorded on it.
    Cancel(&'static str),
    /// Too late to make sense any more.
    Expire,
    /// Not now; try again at this time (quiet hours).
    Defer(Timestamp),
    /// Not while this crisis escalation for the client is open; at the latest at `until`, when its hold
    /// runs out. Resolving the escalation releases the text sooner.
    HoldForCrisis {
        escalation_id: i64,
        until: Timestamp,
    },
}

pub fn decide(text: &ClaimedText, now: Timestamp, quiet: &QuietHours) -> Verdict {
    let Some(kind) = text.kind else {
        return Verdict::Cancel("unknown message kind");
    };
    if let Some(expires_at) = text.expires_at
        && now > expires_at
    {
        return Verdict::Expire;
    }
    if text.staff_opted_out {
        return Verdict::Cancel("staff member opted out");
    }
    // A safety plan is the client's own, for the client's own number: never to staff or to no one's.
    if kind == MessageKind::SafetyPlan && (text.client_id.is_none() || text.staff_id.is_some()) {
        return Verdict::Cancel("a safety plan goes only to its client");
    }
    // Texts to staff or unknown numbers have no client record; the client rules below do not apply.
    if text.client_id.is_none() {
        return Verdict::Send;
    }
    let Some(recipient) = &text.recipient else {
        return Verdict::Cancel("client no longer exists");
    };
    match recipient.status {
        ClientStatus::OptedOut if !kind.allowed_after_opt_out() => return Verdict::Cancel("client opted out"),
        ClientStatus::Paused if kind.is_scheduled() => return Verdict::Cancel("client paused"),
        _ => {}
    }
    if recipient.phone_invalid {
        return Verdict::Cancel("phone number flagged invalid");
    }
    if kind.requires_consent() && recipient.consented_at.is_none_or(|at| at > now) {
        return Verdict::Cancel("no recorded consent");
    }
    if kind.held_during_crisis()
        && let Some(crisis) = &text.open_crisis
        && hold_ends_at(crisis.opened_at) > now
    {
        return Verdict::HoldForCrisis {
            escalation_id: crisis.escalation_id,
            until: hold_ends_at(crisis.opened_at),
        };
    }
    if kind.respects_quiet_hours() {
        let Ok(zone) = TimeZone::get(&recipient.timezone) else {
            return Verdict::Cancel("client time zone unknown");
        };
        let allowed = quiet.next_allowed(now, &zone);
        if allowed > now {
            return match text.expires_at {
                Some(expires_at) if allowed > expires_at => Verdict::Expire,
                _ => Verdict::Defer(allowed),
            };
        }
    }
    Verdict::Send
}

/// First retry after about 2 s, doubling to at most 15 minutes, with jitter so that many texts failing
/// together do not retry together. A provider's `Retry-After` is honoured as a minimum.
pub fn retry_delay(attempt: i64, retry_after: Option<Duration>) -> SignedDuration {
    const BASE_SECS: f64 = 2.0;
    const CAP_SECS: f64 = 15.0 * 60.0;
    let exponent = (attempt.max(1) - 1).min(20) as i32;
    let ceiling = (BASE_SECS * 2f64.powi(exponent)).min(CAP_SECS);
    let jittered = ceiling * (0.5 + fastrand::f64() * 0.5);
    let floor = retry_after.map_or(0.0, |d| d.as_secs_f64());
    SignedDuration::from_secs_f64(jittered.max(floor).max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MessageKind;
    use crate::storage::{OpenCrisis, SendTarget};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn text(status: ClientStatus) -> ClaimedText {
        ClaimedText {
            id: 1,
            client_id: Some(1),
            kind: Some(MessageKind::CaringContact),
            to_phone: "+14155550123".into(),
            body: "Hi".into(),
            planned_at: at("2026-03-07T20:00:00Z"),
            expires_at: Some(at("2026-03-08T20:00:00Z")),
            attempts: 1,
            recipient: Some(SendTarget {
                status,
                timezone: "America/New_York".into(),
                consented_at: Some(at("2026-03-06T19:00:00Z")),
                phone_invalid: false,
            }),
            staff_id: None,
            staff_opted_out: false,
            open_crisis: None,
        }
    }

    fn quiet() -> QuietHours {
        "21:00-08:00".parse().unwrap()
    }

    #[test]
    fn an_active_consenting_client_in_the_afternoon_gets_the_text() {
        assert_eq!(
            decide(&text(ClientStatus::Active), at("2026-03-07T20:00:00Z"), &quiet()),
            Verdict::Send
        );
    }

    #[test]
    fn opted_out_paused_invalid_and_unconsented_clients_get_nothing() {
        let now = at("2026-03-07T20:00:00Z");
        assert_eq!(
            decide(&text(ClientStatus::OptedOut), now, &quiet()),
            Verdict::Cancel("client opted out")
        );
        assert_eq!(
            decide(&text(ClientStatus::Paused), now, &quiet()),
            Verdict::Cancel("client paused")
        );
        let mut invalid = text(ClientStatus::Active);
        invalid.recipient.as_mut().unwrap().phone_invalid = true;
        assert_eq!(
            decide(&invalid, now, &quiet()),
            Verdict::Cancel("phone number flagged invalid")
        );
        let mut unconsented = text(ClientStatus::Active);
        unconsented.recipient.as_mut().unwrap().consented_at = None;
        assert_eq!(
            decide(&unconsented, now, &quiet()),
            Verdict::Cancel("no recorded consent")
        );
    }

    #[test]
    fn found_during_quiet_hours_it_waits_for_morning_or_expires() {
        // 23:30 in New York on 2026-03-07.
        let late_evening = at("2026-03-08T04:30:00Z");
        assert_eq!(
            decide(&text(ClientStatus::Active), late_evening, &quiet()),
            Verdict::Defer(at("2026-03-08T12:00:00Z"))
        );
        let mut short_lived = text(ClientStatus::Active);
        short_lived.expires_at = Some(at("2026-03-08T06:00:00Z"));
        assert_eq!(decide(&short_lived, late_evening, &quiet()), Verdict::Expire);
    }

    #[test]
    fn after_stop_only_the_confirmation_and_help_go_out() {
        let now = at("2026-03-07T20:00:00Z");
        for (kind, verdict) in [
            (MessageKind::OptOutConfirmation, Verdict::Send),
            (MessageKind::HelpReply, Verdict::Send),
            (MessageKind::CrisisReply, Verdict::Cancel("client opted out")),
            (MessageKind::Relay, Verdict::Cancel("client opted out")),
        ] {
            let mut reply = text(ClientStatus::OptedOut);
            reply.kind = Some(kind);
            assert_eq!(decide(&reply, now, &quiet()), verdict, "{kind:?}");
        }
    }

    #[test]
    fn a_paused_client_still_gets_answers_to_their_own_texts_at_night() {
        let mut reply = text(ClientStatus::Paused);
        reply.kind = Some(MessageKind::CrisisReply);
        assert_eq!(decide(&reply, at("2026-03-08T07:00:00Z"), &quiet()), Verdict::Send);
    }

    #[test]
    fn a_staff_member_who_said_stop_is_not_paged() {
        let mut page = text(ClientStatus::Active);
        page.client_id = None;
        page.kind = Some(MessageKind::Page);
        page.staff_opted_out = true;
        assert_eq!(
            decide(&page, at("2026-03-07T20:00:00Z"), &quiet()),
            Verdict::Cancel("staff member opted out")
        );
    }

    #[test]
    fn a_text_to_no_client_record_skips_the_client_rules() {
        let mut to_staff = text(ClientStatus::OptedOut);
        to_staff.client_id = None;
        to_staff.recipient = None;
        // 03:00 in New York: quiet hours are a client rule too.
        assert_eq!(decide(&to_staff, at("2026-03-08T07:00:00Z"), &quiet()), Verdict::Send);
    }

    #[test]
    fn past_its_lateness_it_expires() {
        assert_eq!(
            decide(&text(ClientStatus::Active), at("2026-03-08T20:00:01Z"), &quiet()),
            Verdict::Expire
        );
    }

    /// A crisis escalation opened Saturday 22:00 in New York (Sunday 03:00 UTC).
    fn in_crisis(kind: MessageKind) -> ClaimedText {
        let mut text = text(ClientStatus::Active);
        text.kind = Some(kind);
        text.open_crisis = Some(OpenCrisis {
            escalation_id: 7,
            opened_at: at("2026-03-08T03:00:00Z"),
        });
        text
    }

    #[test]
    fn routine_texts_wait_for_an_open_crisis_at_most_twelve_hours() {
        let sunday_ten = at("2026-03-08T14:00:00Z");
        for kind in [MessageKind::CaringContact, MessageKind::AppointmentReminder] {
            assert_eq!(
                decide(&in_crisis(kind), sunday_ten, &quiet()),
                Verdict::HoldForCrisis {
                    escalation_id: 7,
                    until: at("2026-03-08T15:00:00Z")
                },
                "{kind:?}"
            );
            assert_eq!(
                decide(&in_crisis(kind), at("2026-03-08T15:00:00Z"), &quiet()),
                Verdict::Send,
                "{kind:?}: the hold ran out"
            );
        }
    }

    #[test]
    fn answers_relays_and_medication_reminders_are_never_held() {
        for kind in [
            MessageKind::MedicationReminder,
            MessageKind::Relay,
            MessageKind::CrisisReply,
            MessageKind::ConcernReply,
            MessageKind::HelpReply,
            MessageKind::ReminderReply,
        ] {
            assert_eq!(
                decide(&in_crisis(kind), at("2026-03-08T14:00:00Z"), &quiet()),
                Verdict::Send,
                "{kind:?}"
            );
        }
    }

    /// The client asked for their plan: it goes at 03:00 and in the middle of their crisis, stops at STOP,
    /// and never goes to a number that is not the client's.
    #[test]
    fn a_safety_plan_goes_at_night_and_in_a_crisis_but_only_to_its_client() {
        let three_am = at("2026-03-08T07:00:00Z");
        let mut plan = in_crisis(MessageKind::SafetyPlan);
        plan.expires_at = None;
        assert_eq!(decide(&plan, three_am, &quiet()), Verdict::Send);
        let mut opted_out = text(ClientStatus::OptedOut);
        opted_out.kind = Some(MessageKind::SafetyPlan);
        assert_eq!(
            decide(&opted_out, three_am, &quiet()),
            Verdict::Cancel("client opted out")
        );
        let mut to_staff = plan.clone();
        to_staff.staff_id = Some(3);
        let mut to_nobody = plan;
        to_nobody.client_id = None;
        for text in [to_staff, to_nobody] {
            assert_eq!(
                decide(&text, three_am, &quiet()),
                Verdict::Cancel("a safety plan goes only to its client")
            );
        }
    }

    #[test]
    fn a_held_text_past_its_lateness_expires() {
        let mut late = in_crisis(MessageKind::CaringContact);
        late.expires_at = Some(at("2026-03-08T13:00:00Z"));
        assert_eq!(decide(&late, at("2026-03-08T14:00:00Z"), &quiet()), Verdict::Expire);
    }

    #[test]
    fn retry_delays_grow_and_respect_retry_after() {
        for _ in 0..100 {
            let first = retry_delay(1, None).as_secs_f64();
            assert!((1.0..=2.0).contains(&first), "{first}");
            let fifth = retry_delay(5, None).as_secs_f64();
            assert!((16.0..=32.0).contains(&fifth), "{fifth}");
            assert!(retry_delay(40, None).as_secs_f64() <= 900.0);
            assert!(retry_delay(1, Some(Duration::from_secs(30))).as_secs_f64() >= 30.0);
        }
    }
}
