//! The sane ranges of dates and sizes the API accepts, in one place so the documentation and the checks
//! agree. A value outside them is a typo or an attack, never a real record.

use jiff::{SignedDuration, Timestamp};

/// Nothing this service records (consent, discharge) happened before the first caring-contact programs.
pub const EARLIEST_RECORD: Timestamp = Timestamp::constant(631_152_000, 0); // 1990-01-01T00:00:00Z

/// Appointments and rotation starts are planned at most this far ahead.
pub const MAX_PLANNED_AHEAD: SignedDuration = SignedDuration::from_hours(2 * 366 * 24);

/// Names people choose (rotations), in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Steps of an escalation policy: a real one pages a handful of people in turn.
pub const MAX_POLICY_STEPS: usize = 20;

/// Step ids of a schedule, in characters.
pub const MAX_STEP_ID_CHARS: usize = 64;

/// `Err` with the reason when `at` is before [`EARLIEST_RECORD`].
pub fn not_before_earliest(at: Timestamp) -> Result<(), String> {
    if at < EARLIEST_RECORD {
        return Err("must not be before 1990".to_owned());
    }
    Ok(())
}

/// `Err` with the reason when `at` is further ahead of `now` than [`MAX_PLANNED_AHEAD`].
pub fn within_planning_horizon(at: Timestamp, now: Timestamp) -> Result<(), String> {
    if at > now + MAX_PLANNED_AHEAD {
        return Err("must be at most 2 years ahead".to_owned());
    }
    Ok(())
}

/// A schedule step's id: letters, digits, `_`, `-` and `.`, not starting with a dot, so it can never
/// name a path or be empty.
pub fn check_step_id(id: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if id.is_empty() || id.len() > MAX_STEP_ID_CHARS || id.starts_with('.') || !id.chars().all(allowed) {
        return Err(format!(
            "step id `{}` must be 1 to {MAX_STEP_ID_CHARS} letters, digits, `_`, `-` or `.`, not starting with `.`",
            id.chars().take(MAX_STEP_ID_CHARS).collect::<String>()
        ));
    }
    Ok(())
}

/// A medication reminder's phrase goes into a text to the client, who trusts it: one line of words, no
/// link that could send them anywhere.
pub fn check_phrase(phrase: &str) -> Result<(), String> {
    if phrase.chars().any(char::is_control) {
        return Err("must be one line, without control characters".to_owned());
    }
    let looks_like_link = |word: &str| {
        let word = word.to_ascii_lowercase();
        let inner_dot = word
            .trim_end_matches(|c: char| c.is_ascii_punctuation())
            .split('.')
            .filter(|part| !part.is_empty())
            .count()
            > 1;
        word.contains("://") || word.starts_with("www.") || word.contains('/') || word.contains('@') || inner_dot
    };
    if phrase.split_whitespace().any(looks_like_link) {
        return Err("must not contain a link, address or path".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_record_is_1990() {
        assert_eq!(EARLIEST_RECORD.to_string(), "1990-01-01T00:00:00Z");
    }

    #[test]
    fn phrases_are_one_line_of_words_without_links() {
        for bad in [
            "take it\nnow",
            "see https://evil.example",
            "evil.com",
            "www.x.org",
            "a\u{7}b",
            "bit.ly/x",
        ] {
            assert!(check_phrase(bad).is_err(), "{bad:?}");
        }
        for good in [
            "your blood pressure pill",
            "Dr. Lee's 5 mg tablet",
            "vitamin D, then water.",
        ] {
            assert!(check_phrase(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn step_ids_cannot_be_empty_or_name_a_path() {
        for bad in ["", "../../etc/passwd", ".hidden", "a b", "x/y", &"a".repeat(65)] {
            assert!(check_step_id(bad).is_err(), "{bad:?}");
        }
        for good in ["day_1", "plan.place", "week-2"] {
            assert!(check_step_id(good).is_ok(), "{good}");
        }
    }
}
