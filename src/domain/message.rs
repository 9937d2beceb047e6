//! What an outbound text is for, where it is in its life, and what the provider last said about it.

/// Texts at or above this priority (crisis replies, pages) go through the dispatcher's urgent lane.
pub const URGENT_PRIORITY: i64 = 10;

/// What a text is for; the kind decides which rules hold at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A brief, non-demanding text on a schedule after discharge.
    CaringContact,
    /// A check-in of the bridge over the first days after discharge, morning and evening.
    BridgeCheckIn,
    /// A reminder of an appointment, before it starts.
    AppointmentReminder,
    /// A recurring medication reminder, at times the client chose.
    MedicationReminder,
    /// The answer to a reply to a reminder (confirmed, will be rescheduled).
    ReminderReply,
    /// Safe-messaging words to someone whose text showed a crisis.
    CrisisReply,
    /// An acknowledgement to someone whose text showed a concern.
    ConcernReply,
    /// The one text allowed after STOP.
    OptOutConfirmation,
    OptInConfirmation,
    HelpReply,
    /// A short answer to a number that is neither client nor staff.
    UnknownSenderReply,
    /// A staff member's reply relayed to a client from the service number.
    Relay,
    /// An escalation page to on-call staff.
    Page,
    /// Any other text to staff: acknowledgements, concern notices, forwarded replies.
    StaffNotice,
    /// A part of the client's own safety plan, or the short answer when there is none to send, in answer to
    /// their `PLAN` (docs/safety-plan.md). Only ever to the client's enrolled number.
    SafetyPlan,
}

const ALL_KINDS: [MessageKind; 15] = [
    MessageKind::CaringContact,
    MessageKind::BridgeCheckIn,
    MessageKind::AppointmentReminder,
    MessageKind::MedicationReminder,
    MessageKind::ReminderReply,
    MessageKind::CrisisReply,
    MessageKind::ConcernReply,
    MessageKind::OptOutConfirmation,
    MessageKind::OptInConfirmation,
    MessageKind::HelpReply,
    MessageKind::UnknownSenderReply,
    MessageKind::Relay,
    MessageKind::Page,
    MessageKind::StaffNotice,
    MessageKind::SafetyPlan,
];

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::CaringContact => "caring_contact",
            MessageKind::BridgeCheckIn => "bridge_check_in",
            MessageKind::AppointmentReminder => "appointment_reminder",
            MessageKind::MedicationReminder => "medication_reminder",
            MessageKind::ReminderReply => "reminder_reply",
            MessageKind::CrisisReply => "crisis_reply",
            MessageKind::ConcernReply => "concern_reply",
            MessageKind::OptOutConfirmation => "opt_out_confirmation",
            MessageKind::OptInConfirmation => "opt_in_confirmation",
            MessageKind::HelpReply => "help_reply",
            MessageKind::UnknownSenderReply => "unknown_sender_reply",
            MessageKind::Relay => "relay",
            MessageKind::Page => "page",
            MessageKind::StaffNotice => "staff_notice",
            MessageKind::SafetyPlan => "safety_plan",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|kind| kind.as_str() == value)
    }

    /// Texts planned ahead rather than sent in answer to something: held for quiet hours, skipped while the
    /// client is paused, and sent only with recorded consent.
    pub fn is_scheduled(self) -> bool {
        matches!(
            self,
            MessageKind::CaringContact
                | MessageKind::BridgeCheckIn
                | MessageKind::AppointmentReminder
                | MessageKind::MedicationReminder
        )
    }

    /// Routine texts wait while a crisis escalation for the client is open: a "thinking of you" or an
    /// appointment reminder in the middle of a crisis reads as not listening. Medication reminders keep going,
    /// since a missed dose can make the crisis worse. Any scheduled kind added later is held by default.
    pub fn held_during_crisis(self) -> bool {
        self.is_scheduled() && self != MessageKind::MedicationReminder
    }

    /// Scheduled, non-urgent texts wait for the morning; replies to someone texting now, and pages, do not.
    /// Medication reminders go at the times the client chose, even late in the evening.
    pub fn respects_quiet_hours(self) -> bool {
        matches!(
            self,
            MessageKind::CaringContact | MessageKind::BridgeCheckIn | MessageKind::AppointmentReminder
        )
    }

    /// Texts that still go to a client who opted out: the one confirmation, and the HELP answer carriers
    /// require. Everything else stops at STOP, including automatic crisis replies (staff are paged instead).
    pub fn allowed_after_opt_out(self) -> bool {
        matches!(self, MessageKind::OptOutConfirmation | MessageKind::HelpReply)
    }

    /// Texts the client did not ask for need recorded consent; answers to a text they sent do not.
    pub fn requires_consent(self) -> bool {
        self.is_scheduled() || self == MessageKind::Relay
    }

    /// Dispatch order: a crisis reply or a page never waits behind scheduled texts, and skips the
    /// per-number rate limit meant for bulk sending.
    pub fn priority(self) -> i64 {
        match self {
            MessageKind::CrisisReply | MessageKind::Page => URGENT_PRIORITY,
            MessageKind::CaringContact | MessageKind::BridgeCheckIn => 0,
            MessageKind::AppointmentReminder | MessageKind::MedicationReminder => 1,
            _ => 5,
        }
    }

    /// Whether the dispatcher's urgent lane sends it.
    pub fn is_urgent(self) -> bool {
        self.priority() >= URGENT_PRIORITY
    }
}

/// Where a text is in Tether's own life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its `send_at`.
    Pending,
    /// Claimed by a dispatcher holding a lease; the provider call may be in flight.
    Sending,
    /// Accepted by the provider.
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Will never be sent: opted out, paused, no consent, invalid number.
    Cancelled,
    /// Found later than its kind allows; sending it now would no longer make sense.
    Expired,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Undelivered => "undelivered",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
            OutboxStatus::Expired => "expired",
        }
    }
}

/// A status reported by a Twilio-compatible provider, ranked so that status only ever moves forward:
/// callbacks arrive out of order, and a late `sent` must never overwrite `delivered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderStatus {
    pub name: &'static str,
    pub rank: i64,
    /// The outbox status this provider status settles the text in, for final statuses.
    pub outcome: Option<OutboxStatus>,
}

impl ProviderStatus {
    /// Known statuses (docs/provider-protocol.md); anything else is ignored by the caller.
    pub fn parse(value: &str) -> Option<Self> {
        let (name, rank, outcome) = match value {
            "accepted" => ("accepted", 0, None),
            "scheduled" => ("scheduled", 0, None),
            "queued" => ("queued", 1, None),
            "initiated" => ("initiated", 1, None),
            "sending" => ("sending", 2, None),
            "sent" => ("sent", 3, None),
            "delivered" => ("delivered", 4, Some(OutboxStatus::Delivered)),
            "read" => ("read", 4, Some(OutboxStatus::Delivered)),
            "undelivered" => ("undelivered", 4, Some(OutboxStatus::Undelivered)),
            "failed" => ("failed", 4, Some(OutboxStatus::Failed)),
            "canceled" => ("canceled", 4, Some(OutboxStatus::Cancelled)),
            _ => return None,
        };
        Some(Self { name, rank, outcome })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_outrank_every_intermediate_one() {
        let intermediate = ["accepted", "scheduled", "queued", "sending", "sent"];
        let last = ["delivered", "undelivered", "failed", "canceled", "read"];
        for a in intermediate {
            for b in last {
                assert!(ProviderStatus::parse(a).unwrap().rank < ProviderStatus::parse(b).unwrap().rank);
            }
        }
        assert!(ProviderStatus::parse("queued").unwrap().rank < ProviderStatus::parse("sent").unwrap().rank);
        assert_eq!(ProviderStatus::parse("receiving"), None);
    }
}
