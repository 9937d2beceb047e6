//! Splitting a text into the tokens risk rules are matched against, folded so that the same words typed
//! differently look alike: "K1LL  myselff!!" and "kill myself" give the same words.
//!
//! This step knows no lexicon. What needs one (joining spaced-out letters, textspeak, misspellings) happens
//! after it, in [`super::Classifier`].

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub kind: TokenKind,
    /// A letter was typed three or more times and is kept twice ("diiiie" → "diie"): the classifier may
    /// read it once.
    pub stretched: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters, or letters and digits ("m30s"), lowercase, without accents or apostrophes; a starred-out
    /// letter is a `*`.
    Word,
    /// Digits, possibly followed by letters ("800mg", "2nite"); read further by the classifier.
    Number,
    /// One emoji or pictograph ("💊"): they carry meaning next to risk words.
    Emoji,
    /// Punctuation between words. `hard` ends a sentence (`.`, `!`, `?`, `;`, a line break); a comma or a
    /// dash is soft. A negation reaches no further than a break.
    Break { hard: bool },
}

/// Folds and splits a text:
/// - lowercase, accents dropped (`está` → `esta`, `ñ` → `n`), apostrophes removed inside words (`don't` →
///   `dont`);
/// - a digit between letters read as the letter it stands for (`su1cide` → `suicide`), `@` and `$` inside
///   a word as `a` and `s`;
/// - a `*` between letters kept, for a word starred out (`s*icide`);
/// - a letter repeated three or more times kept twice (`killllll` → `kill`, `diiiie` → `diie`): the
///   classifier drops a doubled letter where that makes a word it knows;
/// - dots between single letters dropped (`o.d.` → `od`);
/// - emoji kept one per token, without skin tones or joiners.
pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).map(fold_accent).collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut word = String::new();
    // Whether the word is being spelt with dots between its letters ("o.d."), so its last dot is no break.
    let mut dotted = false;
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            let (text, stretched) = read_digits_as_letters(word);
            let kind = if text.starts_with(|c: char| c.is_ascii_digit()) {
                TokenKind::Number
            } else {
                TokenKind::Word
            };
            tokens.push(Token { text, kind, stretched });
            word.clear();
        }
    };
    for (index, &c) in chars.iter().enumerate() {
        let previous = index.checked_sub(1).and_then(|i| chars.get(i)).copied();
        let next = chars.get(index + 1).copied();
        let is_letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
        match c {
            c if c.is_alphanumeric() => word.push(c),
            // "od'd" would fold to the everyday word "odd": it is kept apart as "oded".
            '\'' | '’' | '‘' | '`' | '´' if word == "od" && next == Some('d') => word.push('e'),
            '\'' | '’' | '‘' | '`' | '´' if !word.is_empty() && is_letter(next) => {}
            '@' if is_letter(previous) || is_letter(next) => word.push('a'),
            '$' if is_letter(previous) && is_letter(next) => word.push('s'),
            // A letter starred out ("s*icide", "k*ll") stays a word; the classifier fills the gap.
            '*' if is_letter(previous) && is_letter(next) => word.push('*'),
            // "o.d." and "o.d" are one word; a dot after an ordinary word ends a sentence.
            '.' if is_letter(previous) && is_letter(next) && (word.chars().count() == 1 || dotted) => dotted = true,
            '.' if dotted && is_letter(previous) => {}
            // "w/o" is one word.
            '/' if word == "w" && next == Some('o') => {}
            // ".22", ".45": a calibre or a decimal, not the end of a sentence.
            '.' if word.is_empty() && next.is_some_and(|c| c.is_ascii_digit()) => {}
            c if is_pictograph(c) => {
                dotted = false;
                flush(&mut word, &mut tokens);
                tokens.push(Token {
                    text: c.to_string(),
                    kind: TokenKind::Emoji,
                    stretched: false,
                });
            }
            c if is_ignorable(c) => {}
            c if c.is_whitespace() && c != '\n' => {
                dotted = false;
                flush(&mut word, &mut tokens);
            }
            c => {
                dotted = false;
                flush(&mut word, &mut tokens);
                if let Some(hard) = break_strength(c) {
                    push_break(&mut tokens, hard);
                }
            }
        }
    }
    flush(&mut word, &mut tokens);
    while tokens
        .first()
        .is_some_and(|t| matches!(t.kind, TokenKind::Break { .. }))
    {
        tokens.remove(0);
    }
    while tokens.last().is_some_and(|t| matches!(t.kind, TokenKind::Break { .. })) {
        tokens.pop();
    }
    tokens
}

/// Runs of breaks become one; a hard break wins over a soft one.
fn push_break(tokens: &mut Vec<Token>, hard: bool) {
    if let Some(Token {
        kind: TokenKind::Break { hard: previous },
        ..
    }) = tokens.last_mut()
    {
        *previous |= hard;
        return;
    }
    tokens.push(Token {
        text: String::new(),
        kind: TokenKind::Break { hard },
        stretched: false,
    });
}

fn break_strength(c: char) -> Option<bool> {
    match c {
        '.' | '!' | '?' | ';' | '\n' | '¡' | '¿' | '…' => Some(true),
        ',' | ':' | '(' | ')' | '-' | '–' | '—' | '/' | '"' | '“' | '”' | '*' => Some(false),
        _ => None,
    }
}

/// Emoji and pictographs (💊, 😭, 🔫, 🪦) carry meaning in crisis texts and are kept.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F300..=0x1F3FA | 0x1F400..=0x1FAFF)
}

/// Skin-tone modifiers, zero-width joiners and variation selectors change how an emoji looks, not what
/// it says; a combining accent (a text in decomposed form, `u` + `◌́`) is dropped like any accent.
fn is_ignorable(c: char) -> bool {
    matches!(c as u32, 0x1F3FB..=0x1F3FF | 0x200D | 0xFE0E | 0xFE0F | 0x0300..=0x036F)
}

/// Leetspeak inside a word (`su1cide`, `k1ll`), and letters repeated three or more times kept twice;
/// whether any were.
fn read_digits_as_letters(word: &str) -> (String, bool) {
    let plain = word.is_ascii()
        && !word.bytes().any(|b| b.is_ascii_digit())
        && !word.as_bytes().windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
    if plain {
        return (word.to_owned(), false);
    }
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut stretched = false;
    let mut run = 0;
    let mut last = None;
    for (i, &c) in chars.iter().enumerate() {
        let between_letters =
            i > 0 && i + 1 < chars.len() && chars[i - 1].is_alphabetic() && chars[i + 1].is_alphabetic();
        let c = match (c, between_letters) {
            ('1', true) => 'i',
            ('3', true) => 'e',
            ('0', true) => 'o',
            ('4', true) => 'a',
            ('5', true) => 's',
            ('7', true) => 't',
            _ => c,
        };
        if Some(c) == last && c.is_alphabetic() && c != '*' {
            run += 1;
            if run >= 2 {
                stretched = true;
                continue;
            }
        } else {
            run = 0;
        }
        last = Some(c);
        out.push(c);
    }
    (out, stretched)
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .into_iter()
            .map(|t| match t.kind {
                TokenKind::Break { hard: true } => ".".to_owned(),
                TokenKind::Break { hard: false } => ",".to_owned(),
                _ => t.text,
            })
            .collect()
    }

    #[test]
    fn case_accents_apostrophes_and_repeats_are_folded() {
        assert_eq!(
            words("¿Estás bien? Ya no aguanto más"),
            ["estas", "bien", ".", "ya", "no", "aguanto", "mas"]
        );
        assert_eq!(
            words("I don't want to be here"),
            ["i", "dont", "want", "to", "be", "here"]
        );
        assert_eq!(words("KILLLLL myselfff!!"), ["kill", "myselff"]);
        assert_eq!(words("su1cide k1ll"), ["suicide", "kill"]);
        assert_eq!(
            words("u\u{301}ltimo adio\u{301}s"),
            ["ultimo", "adios"],
            "decomposed accents"
        );
        assert_eq!(
            words("i od'd, o.d. again. ok."),
            ["i", "oded", ",", "od", "again", ".", "ok"]
        );
    }

    #[test]
    fn numbers_emoji_and_breaks_are_tokens() {
        let tokens = tokenize("took 30 💊💊🏽 - bye.");
        let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TokenKind::Word,
                TokenKind::Number,
                TokenKind::Emoji,
                TokenKind::Emoji,
                TokenKind::Break { hard: false },
                TokenKind::Word,
            ]
        );
        assert_eq!(words("800mg of advil"), ["800mg", "of", "advil"]);
        assert_eq!(words("line one\nline two"), ["line", "one", ".", "line", "two"]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any Unicode splits into at most one token per character (after lowercasing), none of them empty
        /// and none wider than the text.
        #[test]
        fn any_text_splits_into_bounded_tokens(text in "\\PC{0,300}") {
            let folded = text.chars().flat_map(char::to_lowercase).count();
            let tokens = tokenize(&text);
            prop_assert!(tokens.len() <= folded);
            for token in &tokens {
                prop_assert!(token.text.chars().count() <= folded);
                if matches!(token.kind, TokenKind::Word | TokenKind::Number | TokenKind::Emoji) {
                    prop_assert!(!token.text.is_empty(), "{tokens:?}");
                }
            }
        }
    }
}
