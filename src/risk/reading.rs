//! Reading a text's tokens as the words they stand for, before any rule is tried: spaced-out letters and
//! run-together words, textspeak, doubled letters and misspellings. Each change that is not plain textspeak
//! is reported as a [`super::Reading`], so a match on a corrected word can be explained.

use super::normalize::{Token, TokenKind, tokenize};
use super::{Classifier, Reading, ReadingKind, spelling};

/// A token as the rules see it.
#[derive(Debug, Clone)]
pub struct Word {
    pub text: String,
    pub kind: TokenKind,
    /// The lexicon word it is, if any.
    pub id: Option<u32>,
    /// Its value, for a number.
    pub number: Option<u64>,
    /// Inside an idiom: takes part in no rule.
    pub masked: bool,
}

impl Word {
    pub fn is_break(&self) -> bool {
        matches!(self.kind, TokenKind::Break { .. })
    }

    pub fn ends_sentence(&self) -> bool {
        matches!(self.kind, TokenKind::Break { hard: true })
    }
}

/// Runs of single letters at least this long are joined when they spell a word ("k i l l").
const SPACED_LETTERS: usize = 3;
/// A run-together word is split in two only if both halves are lexicon words this long or longer
/// ("killmyself", "dopesick"): shorter halves turn ordinary words of other languages into risk words
/// ("dieron" is not "die ron").
const SPLIT_PART_LETTERS: usize = 4;

impl Classifier {
    pub(super) fn read(&self, text: &str, readings: &mut Vec<Reading>) -> Vec<Word> {
        let tokens = self.join_spaced_letters(tokenize(text), readings);
        let tokens = self.rewrite_textspeak(tokens);
        let mut words = Vec::with_capacity(tokens.len());
        for token in tokens {
            match token.kind {
                TokenKind::Number => self.push_number(token, &mut words),
                TokenKind::Word => self.push_word(token.text, token.stretched, &mut words, readings),
                kind => words.push(Word {
                    id: self.vocabulary.get(&token.text).copied(),
                    text: token.text,
                    kind,
                    number: None,
                    masked: false,
                }),
            }
        }
        words
    }

    fn knows(&self, word: &str) -> bool {
        self.vocabulary.contains_key(word) || spelling::is_ordinary(word)
    }

    fn join_spaced_letters(&self, tokens: Vec<Token>, readings: &mut Vec<Reading>) -> Vec<Token> {
        let is_letter = |t: &Token| t.kind == TokenKind::Word && t.text.chars().count() == 1;
        if tokens.iter().filter(|t| is_letter(t)).count() < SPACED_LETTERS {
            return tokens;
        }
        let mut out = Vec::with_capacity(tokens.len());
        let mut index = 0;
        while index < tokens.len() {
            let run = tokens[index..].iter().take_while(|t| is_letter(t)).count();
            if run >= SPACED_LETTERS {
                let joined: String = tokens[index..index + run].iter().map(|t| t.text.as_str()).collect();
                if self.knows(&joined) {
                    readings.push(Reading {
                        typed: tokens[index..index + run]
                            .iter()
                            .map(|t| t.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        read_as: joined.clone(),
                        how: ReadingKind::Letters,
                    });
                    out.push(Token {
                        text: joined,
                        kind: TokenKind::Word,
                        stretched: false,
                    });
                    index += run;
                    continue;
                }
            }
            // A run that spells nothing is kept as it is, letter by letter, and not tried again from its
            // second letter: a long run costs one pass, not one per letter.
            let keep = run.max(1);
            out.extend(tokens[index..index + keep].iter().cloned());
            index += keep;
        }
        out
    }

    /// Rewrites textspeak, longest first: `want 2` → `want to` before `2` is read as a number.
    fn rewrite_textspeak(&self, tokens: Vec<Token>) -> Vec<Token> {
        if !tokens.iter().any(|t| self.textspeak.contains_key(&t.text)) {
            return tokens;
        }
        let mut out = Vec::with_capacity(tokens.len() + 4);
        let mut index = 0;
        while index < tokens.len() {
            let token = &tokens[index];
            let rewrite = self.textspeak.get(&token.text).and_then(|rewrites| {
                rewrites.iter().find(|rewrite| {
                    rewrite.rest.iter().enumerate().all(|(offset, word)| {
                        tokens
                            .get(index + 1 + offset)
                            .is_some_and(|next| !matches!(next.kind, TokenKind::Break { .. }) && &next.text == word)
                    })
                })
            });
            match rewrite {
                Some(rewrite) if !matches!(token.kind, TokenKind::Break { .. }) => {
                    out.extend(rewrite.replacement.iter().cloned());
                    index += 1 + rewrite.rest.len();
                }
                _ => {
                    out.push(token.clone());
                    index += 1;
                }
            }
        }
        out
    }

    /// `800mg` is the number 800 and the word `mg`, unless the lexicon knows it whole (`8ball`).
    fn push_number(&self, token: Token, words: &mut Vec<Word>) {
        let digits = token.text.chars().take_while(char::is_ascii_digit).count();
        let (number, rest) = token.text.split_at(digits);
        let value = number.parse::<u64>().unwrap_or(u64::MAX);
        if let Some(&id) = self.vocabulary.get(&token.text) {
            words.push(Word {
                text: token.text,
                kind: TokenKind::Word,
                id: Some(id),
                number: Some(value),
                masked: false,
            });
            return;
        }
        words.push(Word {
            text: number.to_owned(),
            kind: TokenKind::Number,
            id: None,
            number: Some(value),
            masked: false,
        });
        if !rest.is_empty() {
            words.push(Word {
                id: self.vocabulary.get(rest).copied(),
                text: rest.to_owned(),
                kind: TokenKind::Word,
                number: None,
                masked: false,
            });
        }
    }

    /// A word read as another: the reading is kept, to be shown beside the matches, and the word is read as
    /// what it stands for.
    fn push_reading(
        &self,
        typed: String,
        read_as: String,
        how: ReadingKind,
        words: &mut Vec<Word>,
        readings: &mut Vec<Reading>,
    ) {
        let id = self.vocabulary.get(&read_as).copied();
        readings.push(Reading {
            typed,
            read_as: read_as.clone(),
            how,
        });
        words.push(Word {
            text: read_as,
            kind: TokenKind::Word,
            id,
            number: None,
            masked: false,
        });
    }

    fn push_word(&self, text: String, stretched: bool, words: &mut Vec<Word>, readings: &mut Vec<Reading>) {
        let word = |text: String, id: Option<u32>| Word {
            text,
            kind: TokenKind::Word,
            id,
            number: None,
            masked: false,
        };
        // Before the vocabulary: a pattern never needs to spell "killin" for "killing" to be read.
        if let Some(full) = with_clipped_ending(&text) {
            self.push_reading(text, full, ReadingKind::Dropped, words, readings);
            return;
        }
        if let Some(&id) = self.vocabulary.get(&text) {
            words.push(word(text, Some(id)));
            return;
        }
        if text.contains('*') {
            let read_as = self.fill_starred(&text).unwrap_or_else(|| text.replace('*', ""));
            self.push_reading(text, read_as, ReadingKind::Letters, words, readings);
            return;
        }
        if let Some(single) = stretched.then(|| self.without_a_doubled_letter(&text)).flatten() {
            self.push_reading(text, single, ReadingKind::Letters, words, readings);
            return;
        }
        if spelling::is_ordinary(&text) || text.chars().count() > self.longest_correctable {
            words.push(word(text, None));
            return;
        }
        if let Some(full) = with_ll_for_y(&text).filter(|full| self.vocabulary.contains_key(full)) {
            self.push_reading(text, full, ReadingKind::Dropped, words, readings);
            return;
        }
        if let Some(parts) = self.split(&text) {
            readings.push(Reading {
                typed: text,
                read_as: parts.join(" "),
                how: ReadingKind::Split,
            });
            for part in parts {
                let id = self.vocabulary.get(&part).copied();
                words.push(word(part, id));
            }
            return;
        }
        let corrected = self
            .speller
            .correct(&text)
            .or_else(|| self.swapped_letters(&text))
            .or_else(|| self.letter_left_out(&text));
        if let Some(target) = corrected {
            self.push_reading(text, target, ReadingKind::Spelling, words, readings);
            return;
        }
        words.push(word(text, None));
    }

    /// A short word with one letter left out of a protected word (`vivr`, `matr`).
    fn letter_left_out(&self, text: &str) -> Option<String> {
        let letters = text.chars().count();
        if !(3..spelling::MIN_LETTERS).contains(&letters) || !text.chars().all(char::is_alphabetic) {
            return None;
        }
        self.speller.one_letter_short(text)
    }

    /// A short word with two neighbouring letters swapped (`wnat`, `dei`) read as the protected word it
    /// spells: the one slip short words are corrected for, since too many short words are a letter apart.
    fn swapped_letters(&self, text: &str) -> Option<String> {
        let mut chars: Vec<char> = text.chars().collect();
        if !(3..spelling::MIN_LETTERS).contains(&chars.len()) || !chars.iter().all(|c| c.is_alphabetic()) {
            return None;
        }
        for i in 1..chars.len() {
            if chars[i] == chars[i - 1] {
                continue;
            }
            chars.swap(i - 1, i);
            let candidate: String = chars.iter().collect();
            if self.speller.protects(&candidate) {
                return Some(candidate);
            }
            chars.swap(i - 1, i);
        }
        None
    }

    /// `s*icide` → `suicide`: the lexicon word of the same length that the starred word spells, if there is
    /// exactly one.
    fn fill_starred(&self, text: &str) -> Option<String> {
        let typed: Vec<char> = text.chars().collect();
        let mut found = self.vocabulary.keys().filter(|word| {
            word.chars().count() == typed.len() && word.chars().zip(&typed).all(|(letter, &t)| t == '*' || t == letter)
        });
        let first = found.next()?;
        found.next().is_none().then(|| first.clone())
    }

    /// `diie` is `die` and `myselff` is `myself`: letters typed three times or more were cut to two by the
    /// tokenizer, and the lexicon word may have had one.
    fn without_a_doubled_letter(&self, text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let doubles: Vec<usize> = (1..chars.len()).filter(|&i| chars[i] == chars[i - 1]).collect();
        if doubles.is_empty() || doubles.len() > 3 {
            return None;
        }
        // Every combination of the doubles, each kept or made single.
        for mask in 1..(1u32 << doubles.len()) {
            let candidate: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    !doubles
                        .iter()
                        .enumerate()
                        .any(|(bit, &double)| mask & (1 << bit) != 0 && double == *i)
                })
                .map(|(_, &c)| c)
                .collect();
            if self.vocabulary.contains_key(&candidate) {
                return Some(candidate);
            }
        }
        None
    }

    /// `killmyself` → `kill myself`: split in two lexicon words (never ordinary words, so ordinary compounds
    /// stay whole).
    fn split(&self, text: &str) -> Option<Vec<String>> {
        if !text.is_ascii() || text.len() < 2 * SPLIT_PART_LETTERS {
            return None;
        }
        (SPLIT_PART_LETTERS..=text.len() - SPLIT_PART_LETTERS).find_map(|cut| {
            let (head, tail) = text.split_at(cut);
            (self.vocabulary.contains_key(head) && self.vocabulary.contains_key(tail))
                .then(|| vec![head.to_owned(), tail.to_owned()])
        })
    }
}

/// `text` with the ending people clip put back: the g of "thinkin", "endin", "killin"; the d of Caribbean and
/// Andalusian "amarrao", "tomao", "guardaos". Ordinary words are what they are ("thin" is not "thing"), and
/// short ones are left alone ("in" is not "ing").
pub(super) fn with_clipped_ending(text: &str) -> Option<String> {
    // The suffix first: it rules out almost every word before a dictionary look-up.
    let (stem, full_ending) = [("in", "ing"), ("ao", "ado"), ("aos", "ados")]
        .iter()
        .find_map(|(clipped, full)| text.strip_suffix(clipped).map(|stem| (stem, full)))?;
    if text.chars().count() < 4 || spelling::is_ordinary(text) {
        return None;
    }
    let full = format!("{stem}{full_ending}");
    spelling::is_ordinary(&full).then_some(full)
}

/// `text`, a word that is not an ordinary one, with the ll a Spanish y before a vowel is written for
/// ("pastiyas", "cuchiyo", "yamen"). The caller takes it only when the ll form is a lexicon word.
fn with_ll_for_y(text: &str) -> Option<String> {
    text.char_indices()
        .any(|(i, c)| c == 'y' && text[i + 1..].starts_with(['a', 'e', 'i', 'o', 'u']))
        .then(|| text.replace('y', "ll"))
}
