//! How many SMS segments a text costs: GSM-7 when every character is in the GSM alphabet, UCS-2 otherwise
//! (docs/provider-protocol.md). Segments are billed one by one, so `tether check` and `tether preview` show them.

use unicode_segmentation::UnicodeSegmentation;

/// Characters that cost one septet in GSM-7.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters that cost two septets (an escape, then the character).
const GSM_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    pub encoding: Encoding,
    pub segments: usize,
}

pub fn count(body: &str) -> SegmentCount {
    match gsm_septets(body) {
        Some(septets) => SegmentCount {
            encoding: Encoding::Gsm7,
            segments: pack(&septets, 160, 153),
        },
        None => {
            // A grapheme is never split across segments, so pack whole graphemes by their UTF-16 length.
            let units: Vec<usize> = body.graphemes(true).map(|g| g.encode_utf16().count()).collect();
            SegmentCount {
                encoding: Encoding::Ucs2,
                segments: pack(&units, 70, 67),
            }
        }
    }
}

/// The septet cost of each character, or `None` if any character is outside the GSM alphabet.
fn gsm_septets(body: &str) -> Option<Vec<usize>> {
    body.chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .collect()
}

/// The longest body the provider takes in one request (longer ones fail with error 21617), counted here in UTF-16 code
/// units: never less than characters, so a body within it is within the limit however it is counted.
pub const PROVIDER_MAX_LENGTH: usize = 1600;

/// Ends a body cut short, so its reader knows where the rest is.
pub const MORE_IN_THE_CONSOLE: &str = "… (more in the console)";

/// A body's length as the provider counts it: UTF-16 code units, never fewer than characters.
pub fn provider_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The longest start of `text` made of whole graphemes (a letter with its accents, an emoji with its
/// modifiers) that is at most `budget` long as the provider counts.
pub fn whole_graphemes_within(text: &str, budget: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (start, grapheme) in text.grapheme_indices(true) {
        used += provider_length(grapheme);
        if used > budget {
            break;
        }
        end = start + grapheme.len();
    }
    &text[..end]
}

/// The body itself if the provider takes it whole; otherwise as many whole graphemes as fit before
/// [`MORE_IN_THE_CONSOLE`].
pub fn fit_to_provider(body: String) -> String {
    if provider_length(&body) <= PROVIDER_MAX_LENGTH {
        return body;
    }
    let budget = PROVIDER_MAX_LENGTH - provider_length(MORE_IN_THE_CONSOLE);
    format!(
        "{}{MORE_IN_THE_CONSOLE}",
        whole_graphemes_within(&body, budget).trim_end()
    )
}

/// Segments needed for indivisible pieces of the given sizes: one segment if everything fits in `single`,
/// otherwise `per_segment` each (the rest is the concatenation header).
fn pack(sizes: &[usize], single: usize, per_segment: usize) -> usize {
    let total: usize = sizes.iter().sum();
    if total <= single {
        return 1;
    }
    let mut segments = 1;
    let mut used = 0;
    for &size in sizes {
        if used + size > per_segment {
            segments += 1;
            used = 0;
        }
        used += size;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(n: usize) -> String {
        "1234567890".chars().cycle().take(n).collect()
    }

    #[test]
    fn twilio_segmentation_vectors() {
        let cases: Vec<(String, Encoding, usize)> = vec![
            (digits(160), Encoding::Gsm7, 1),
            (digits(161), Encoding::Gsm7, 2),
            (digits(307), Encoding::Gsm7, 3),
            (format!("😜{}", digits(68)), Encoding::Ucs2, 1),
            (format!("😜{}", digits(69)), Encoding::Ucs2, 2),
            (format!("😜{}", digits(133)), Encoding::Ucs2, 3),
            (format!("🇮🇹{}", digits(66)), Encoding::Ucs2, 1),
            (format!("🏳️‍🌈{}", digits(64)), Encoding::Ucs2, 1),
            (format!("|{}", digits(158)), Encoding::Gsm7, 1),
            (format!("€{}", digits(159)), Encoding::Gsm7, 2),
            ("Á".repeat(70), Encoding::Ucs2, 1),
            ("ú".repeat(71), Encoding::Ucs2, 2),
            (format!("😀{}", "]".repeat(68)), Encoding::Ucs2, 1),
            (format!("😀{}", "]".repeat(69)), Encoding::Ucs2, 2),
        ];
        for (body, encoding, segments) in cases {
            assert_eq!(count(&body), SegmentCount { encoding, segments }, "{body}");
        }
    }

    #[test]
    fn a_body_within_the_limit_is_left_whole() {
        let body = digits(PROVIDER_MAX_LENGTH);
        assert_eq!(fit_to_provider(body.clone()), body);
    }

    #[test]
    fn a_long_body_is_cut_between_graphemes_and_points_to_the_console() {
        // Flags are two code points and four UTF-16 units; a family emoji is seven code points. A cut
        // inside either would leave half a character on the staff member's phone.
        for piece in ["a", "é", "🇮🇹", "👨‍👩‍👧", "e\u{301}"] {
            let body = piece.repeat(3000);
            let fitted = fit_to_provider(body.clone());
            assert!(fitted.encode_utf16().count() <= PROVIDER_MAX_LENGTH, "{piece}");
            let kept = fitted.strip_suffix(MORE_IN_THE_CONSOLE).expect("the pointer ends it");
            assert!(body.starts_with(kept), "{piece}");
            assert_eq!(
                kept.graphemes(true).count() * piece.len(),
                kept.len(),
                "{piece}: only whole graphemes"
            );
            assert!(!kept.is_empty());
        }
    }

    #[test]
    fn spanish_n_and_e_acute_stay_gsm_but_other_accents_do_not() {
        assert_eq!(count("Mañana é").encoding, Encoding::Gsm7);
        assert_eq!(count("Qué día").encoding, Encoding::Ucs2);
        assert_eq!(
            count("it’s").encoding,
            Encoding::Ucs2,
            "a curly apostrophe forces UCS-2"
        );
    }
}
