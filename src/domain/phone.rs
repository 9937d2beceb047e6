//! Phone numbers in E.164 form, and the masked form that is the only one allowed in logs.

use std::fmt;

/// A phone number in E.164 form (`+` then 8 to 15 digits), checked against the North American numbering
/// plan when the country code is 1. Punctuation people type (spaces, dashes, dots, brackets) is removed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, String> {
        let trimmed = input.trim();
        let Some(rest) = trimmed.strip_prefix('+') else {
            return Err("must be in E.164 form with a leading + and country code, like +14155550123".into());
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(format!("contains `{c}`; only digits may follow the +")),
            }
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(format!("has {} digits; E.164 numbers have 8 to 15", digits.len()));
        }
        if digits.starts_with('0') {
            return Err("country codes never start with 0".into());
        }
        if let Some(national) = digits.strip_prefix('1') {
            check_north_american(national)?;
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as logs may show it: only the last four digits.
    pub fn masked(&self) -> Masked<'_> {
        Masked(&self.0)
    }
}

/// Whether an automatic reply may go to `address`: a number exactly in E.164 form (`+14155550123`). A
/// provider always writes `From` that way, so anything else (empty, no `+`, spaces, SQL) is a forged or
/// broken request, and answering it would only spend texts on nobody.
pub fn is_reply_address(address: &str) -> bool {
    PhoneNumber::parse(address).is_ok_and(|number| number.as_str() == address)
}

fn check_north_american(national: &str) -> Result<(), String> {
    let bytes = national.as_bytes();
    if bytes.len() != 10 {
        return Err(format!(
            "has {} digits after +1; North American numbers have 10",
            bytes.len()
        ));
    }
    if bytes[0] < b'2' {
        return Err("area code cannot start with 0 or 1".into());
    }
    if bytes[3] < b'2' {
        return Err("exchange (digits 4-6) cannot start with 0 or 1".into());
    }
    Ok(())
}

// Debug must not leak the number into panic messages or `?` logs.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// Shows only the last four digits of any phone-like string: `…0123`.
pub struct Masked<'a>(pub &'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        write!(f, "…{tail}")
    }
}

/// The numbers of `TETHER_FALLBACK_PAGE_TO` (paged when nobody on call can be), each a valid E.164 number, in the order given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FallbackNumbers(pub Vec<PhoneNumber>);

impl FallbackNumbers {
    pub fn as_strs(&self) -> Vec<&str> {
        self.0.iter().map(PhoneNumber::as_str).collect()
    }
}

/// A bad number is named in the error, so a typo in a long list is found at once.
pub fn parse_fallback_numbers(value: &str) -> Result<FallbackNumbers, String> {
    let mut numbers = Vec::new();
    for part in value.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let number = PhoneNumber::parse(part).map_err(|why| format!("`{part}` {why}"))?;
        if !numbers.contains(&number) {
            numbers.push(number);
        }
    }
    Ok(FallbackNumbers(numbers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_punctuation_is_removed() {
        let phone = PhoneNumber::parse(" +1 (415) 555-0123 ").unwrap();
        assert_eq!(phone.as_str(), "+14155550123");
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn malformed_numbers_say_why() {
        for (input, why) in [
            ("4155550123", "leading +"),
            ("+1415555012", "10"),
            ("+1415555012x", "contains `x`"),
            ("+0123456789", "never start with 0"),
            ("+11155550123", "area code"),
            ("+14150550123", "exchange"),
            ("+1234", "8 to 15"),
        ] {
            let err = PhoneNumber::parse(input).unwrap_err();
            assert!(err.contains(why), "{input}: {err}");
        }
    }

    #[test]
    fn only_exact_e164_numbers_get_automatic_replies() {
        assert!(is_reply_address("+14155550199"));
        assert!(is_reply_address("+447700900123"));
        for address in [
            "",
            "4155550199",
            "+1 415 555 0199",
            "'; DROP TABLE clients; --",
            "+",
            "whatsapp:+14155550199",
        ] {
            assert!(!is_reply_address(address), "{address}");
        }
    }

    #[test]
    fn debug_and_masked_show_only_the_last_four_digits() {
        let phone = PhoneNumber::parse("+14155550123").unwrap();
        assert_eq!(format!("{:?}", phone), "PhoneNumber(…0123)");
        assert_eq!(phone.masked().to_string(), "…0123");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::PhoneNumber;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// Whatever is typed, parsing answers (never panics), and a number it accepts is E.164 and parses
        /// to itself again.
        #[test]
        fn any_input_parses_to_e164_or_a_reason(input in any::<String>()) {
            match PhoneNumber::parse(&input) {
                Ok(number) => {
                    let text = number.as_str();
                    prop_assert!(text.starts_with('+'));
                    prop_assert!((9..=16).contains(&text.len()), "{text}");
                    prop_assert!(text[1..].chars().all(|c| c.is_ascii_digit()), "{text}");
                    prop_assert_eq!(PhoneNumber::parse(text), Ok(number.clone()));
                }
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        /// Numbers typed with the punctuation people use parse; a few hundred characters of it stays quick.
        #[test]
        fn typed_numbers_with_punctuation_parse(digits in "[2-9][0-9]{2}[2-9][0-9]{6}", noise in "[ .()-]{0,300}") {
            let typed = format!("+1 {noise}{}{noise}", digits);
            prop_assert_eq!(PhoneNumber::parse(&typed).map(|n| n.as_str().to_owned()), Ok(format!("+1{digits}")));
        }
    }
}
