//! Compliance keywords and staff commands. Keywords count only as the whole message (case, spaces and
//! trailing punctuation ignored), so "stop by the clinic later" is not an opt-out; the one exception is a
//! message that starts with an unambiguous STOP word ("STOP I want to die"), which opts out too.

use crate::domain::squeeze_keyword;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    /// START and UNSTOP; YES only counts while opted out, which the caller decides.
    OptIn,
    Yes,
    Help,
}

/// The STOP family: Twilio's list, the FCC's per-se words, and common Spanish ones.
const OPT_OUT: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
    "ALTO",
    "PARAR",
    "BAJA",
    "CANCELAR",
];
/// Words that can only mean "stop texting me" even with more words after them.
const LEADING_OPT_OUT: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE"];
const OPT_IN: &[&str] = &["START", "UNSTOP"];
const HELP: &[&str] = &["HELP", "INFO", "AYUDA"];

/// Every fixed word a text is matched against, squeezed: compliance keywords, reminder answers and the
/// staff's `ACK`. A configurable keyword (`[keywords]` in program.toml) must be none of them, or a client
/// asking for their plan could opt out or confirm a visit instead.
pub fn reserved_words() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = [OPT_OUT, OPT_IN, HELP, REMINDER_WORDS].concat();
    words.extend(["YES", "SI", "SÍ", "ACK"]);
    words
}

/// Whether `keyword`'s first word opts out whatever follows it ("STOP PLAN" is an opt-out).
pub fn starts_with_opt_out(keyword: &str) -> bool {
    keyword
        .split_whitespace()
        .next()
        .is_some_and(|first| LEADING_OPT_OUT.contains(&first.to_uppercase().as_str()))
}

/// The one-word answers [`reminder_reply`] knows.
const REMINDER_WORDS: &[&str] = &[
    "C",
    "CONFIRM",
    "CONFIRMED",
    "CONFIRMAR",
    "R",
    "RESCHEDULE",
    "CAMBIAR",
    "TAKEN",
    "Y",
    "DONE",
    "TOMADA",
    "LISTO",
];

pub fn keyword(body: &str) -> Option<Keyword> {
    let word = squeeze_keyword(body);
    let leading = body
        .split_whitespace()
        .next()
        .map(|w| w.trim_end_matches(['.', '!', ',', ':']).to_uppercase());
    if OPT_OUT.contains(&word.as_str()) || leading.is_some_and(|w| LEADING_OPT_OUT.contains(&w.as_str())) {
        Some(Keyword::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else if word == "YES" || word == "SI" || word == "SÍ" {
        Some(Keyword::Yes)
    } else if HELP.contains(&word.as_str()) {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// A one-word answer to a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderReply {
    /// `C`, `CONFIRM`: the appointment.
    Confirm,
    /// `R`, `RESCHEDULE`: the appointment needs another time.
    Reschedule,
    /// `TAKEN`, `Y`, `DONE`: the medication.
    Taken,
    /// `YES`, `SI`, `SÍ`: whichever single reminder is open.
    Yes,
}

/// CANCEL is deliberately absent: it is an opt-out word and is never an appointment command.
pub fn reminder_reply(body: &str) -> Option<ReminderReply> {
    match squeeze_keyword(body).as_str() {
        "C" | "CONFIRM" | "CONFIRMED" | "CONFIRMAR" => Some(ReminderReply::Confirm),
        "R" | "RESCHEDULE" | "CAMBIAR" => Some(ReminderReply::Reschedule),
        "TAKEN" | "Y" | "DONE" | "TOMADA" | "LISTO" => Some(ReminderReply::Taken),
        "YES" | "SI" | "SÍ" => Some(ReminderReply::Yes),
        _ => None,
    }
}

/// What a staff member's text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// `ACK 4821`, `ack4821` or `4821`; `ACK` alone acknowledges the latest alert paged to them.
    Acknowledge(Option<String>),
    /// `R 12 text…`: send text to client reference 12 from the service number.
    Relay {
        reference: i64,
        text: String,
    },
    Keyword(Keyword),
    Unknown,
}

pub fn staff_command(body: &str) -> StaffCommand {
    if let Some(keyword) = keyword(body) {
        return StaffCommand::Keyword(keyword);
    }
    let trimmed = body.trim();
    let upper = trimmed.to_uppercase();
    let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let squeezed: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(code) = squeezed.strip_prefix("ACK") {
        return if code.is_empty() {
            StaffCommand::Acknowledge(None)
        } else if digits_only(code) {
            StaffCommand::Acknowledge(Some(code.to_owned()))
        } else {
            StaffCommand::Unknown
        };
    }
    if digits_only(&squeezed) {
        return StaffCommand::Acknowledge(Some(squeezed));
    }
    let mut words = trimmed.splitn(3, char::is_whitespace);
    if let (Some(r), Some(reference), Some(text)) = (words.next(), words.next(), words.next())
        && r.eq_ignore_ascii_case("r")
        && let Ok(reference) = reference.parse::<i64>()
        && !text.trim().is_empty()
    {
        return StaffCommand::Relay {
            reference,
            text: text.trim().to_owned(),
        };
    }
    StaffCommand::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_family_is_matched_on_the_whole_message() {
        for body in [
            "STOP",
            "stop",
            " Stop. ",
            "S T O P",
            "opt out",
            "OptOut",
            "unsubscribe",
            "cancel",
            "End",
            "quit",
            "REVOKE",
            "stopall",
            "alto",
        ] {
            assert_eq!(keyword(body), Some(Keyword::OptOut), "{body}");
        }
        for body in [
            "I will stop by later",
            "the end of my shift",
            "cancel my appointment",
            "don't stop",
        ] {
            assert_eq!(keyword(body), None, "{body}");
        }
        assert_eq!(keyword("STOP I want to die"), Some(Keyword::OptOut), "leading STOP");
        assert_eq!(keyword("stop texting me"), Some(Keyword::OptOut));
    }

    #[test]
    fn start_yes_and_help() {
        assert_eq!(keyword("start"), Some(Keyword::OptIn));
        assert_eq!(keyword("UNSTOP"), Some(Keyword::OptIn));
        assert_eq!(keyword("Yes!"), Some(Keyword::Yes));
        assert_eq!(keyword("help"), Some(Keyword::Help));
        assert_eq!(keyword("INFO"), Some(Keyword::Help));
        assert_eq!(keyword("yes please call me"), None);
    }

    #[test]
    fn reminder_replies() {
        assert_eq!(reminder_reply("c"), Some(ReminderReply::Confirm));
        assert_eq!(reminder_reply("Confirm."), Some(ReminderReply::Confirm));
        assert_eq!(reminder_reply(" r "), Some(ReminderReply::Reschedule));
        assert_eq!(reminder_reply("taken"), Some(ReminderReply::Taken));
        assert_eq!(reminder_reply("Sí"), Some(ReminderReply::Yes));
        assert_eq!(
            reminder_reply("cancel"),
            None,
            "an opt-out word, never an appointment command"
        );
        assert_eq!(reminder_reply("c u later"), None);
        for word in REMINDER_WORDS {
            assert!(
                reminder_reply(word).is_some(),
                "{word} is listed as an answer but is none"
            );
        }
    }

    #[test]
    fn staff_commands() {
        assert_eq!(
            staff_command("ACK 4821"),
            StaffCommand::Acknowledge(Some("4821".into()))
        );
        assert_eq!(staff_command("ack4821"), StaffCommand::Acknowledge(Some("4821".into())));
        assert_eq!(staff_command(" 4821 "), StaffCommand::Acknowledge(Some("4821".into())));
        assert_eq!(staff_command("ack"), StaffCommand::Acknowledge(None));
        assert_eq!(
            staff_command("R 12 Hi Maya, I'm here. Can I call you?"),
            StaffCommand::Relay {
                reference: 12,
                text: "Hi Maya, I'm here. Can I call you?".into()
            }
        );
        assert_eq!(staff_command("stop"), StaffCommand::Keyword(Keyword::OptOut));
        assert_eq!(staff_command("what is this"), StaffCommand::Unknown);
        assert_eq!(staff_command("R 12"), StaffCommand::Unknown);
    }
}
