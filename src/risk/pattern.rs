//! The pattern language of the lexicons, and its parser. A pattern is a sequence of words matched against
//! consecutive tokens of a text:
//!
//! | written        | matches                                                                  |
//! |----------------|--------------------------------------------------------------------------|
//! | `pills`        | the word, folded like a text (`está` and `esta` are the same word)       |
//! | `suicid*`      | any word starting so (`suicide`, `suicidal`, `suicidarme`)               |
//! | `@means`       | whatever the class `means` matches, one word or several                  |
//! | `(a \| b c)`   | one of the alternatives; `(…)?` may also be left out                     |
//! | `..3`          | up to three words of any kind, within a sentence                         |
//! | `#10+`, `#`    | a number of at least 10; any number (`#2-9`: from 2 to 9)                |
//! | `!(a \| b)`    | nothing, where the next words are none of these (`#10+ !(lbs \| years)`) |
//!
//! Patterns are written in plain words: textspeak (`im`, `gonna`, `rn`) is rewritten before matching, so
//! a pattern never needs to spell it out, and one that does is refused at load.

/// One step of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Word(u32),
    Stem(u32),
    Class(u32),
    Number {
        min: u64,
        max: u64,
    },
    /// Up to this many tokens of any kind, never across the end of a sentence.
    Gap(u8),
    Group {
        alternatives: Vec<Vec<Element>>,
        optional: bool,
    },
    /// Matches no token, and only where none of the alternatives would match next.
    Not(Vec<Vec<Element>>),
}

/// What the first token of a match can be: how patterns are indexed, so a text only tries the patterns
/// that can start at each of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FirstKey {
    Word(u32),
    Stem(u32),
    Class(u32),
    Number,
}

/// Gives ids to the words, stems and classes a pattern names.
pub trait Names {
    fn word(&mut self, word: &str) -> u32;
    fn stem(&mut self, stem: &str) -> u32;
    fn class(&mut self, name: &str) -> u32;
    /// `Some(replacement)` if texts never hold `word` because reading rewrites it (textspeak, dropped letters).
    fn rewritten(&self, word: &str) -> Option<String>;
}

/// Parses `source` into elements, folding each literal word like a text.
pub fn parse(source: &str, names: &mut impl Names) -> Result<Vec<Element>, String> {
    let tokens = lex(source);
    let mut position = 0;
    let elements = parse_sequence(&tokens, &mut position, names)?;
    if position != tokens.len() {
        return Err(format!("unexpected `{}`", tokens[position]));
    }
    if elements.is_empty() {
        return Err("is empty".into());
    }
    if can_be_empty(&elements) {
        return Err("can match nothing at all; give it at least one word that must be there".into());
    }
    if matches!(elements.first(), Some(Element::Gap(_) | Element::Not(_))) {
        return Err("starts with a gap (`..N`) or a `!(…)`; start with a word".into());
    }
    Ok(elements)
}

/// Whether a class is named anywhere in the pattern.
pub fn names_a_class(elements: &[Element]) -> bool {
    elements.iter().any(|element| match element {
        Element::Class(_) => true,
        Element::Group { alternatives, .. } | Element::Not(alternatives) => {
            alternatives.iter().any(|a| names_a_class(a))
        }
        _ => false,
    })
}

/// The classes a pattern names, for ordering classes so each is matched after those it uses.
pub fn classes_named(elements: &[Element], out: &mut Vec<u32>) {
    for element in elements {
        match element {
            Element::Class(class) => out.push(*class),
            Element::Group { alternatives, .. } | Element::Not(alternatives) => {
                for alternative in alternatives {
                    classes_named(alternative, out);
                }
            }
            _ => {}
        }
    }
}

/// Every key a match of `elements` can start with.
pub fn first_keys(elements: &[Element]) -> Vec<FirstKey> {
    let mut keys = Vec::new();
    for element in elements {
        let may_be_skipped = match element {
            Element::Word(id) => {
                keys.push(FirstKey::Word(*id));
                false
            }
            Element::Stem(id) => {
                keys.push(FirstKey::Stem(*id));
                false
            }
            Element::Class(id) => {
                keys.push(FirstKey::Class(*id));
                false
            }
            Element::Number { .. } => {
                keys.push(FirstKey::Number);
                false
            }
            Element::Gap(_) | Element::Not(_) => true,
            Element::Group { alternatives, optional } => {
                for alternative in alternatives {
                    keys.extend(first_keys(alternative));
                }
                *optional || alternatives.iter().any(|a| can_be_empty(a))
            }
        };
        if !may_be_skipped {
            break;
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The pattern as several, none starting with a group: `(the | a)? rope` is `the rope`, `a rope` and
/// `rope`. Matching is the same; but each can then be indexed by its first word and filtered by its second
/// (see [`second_keys`]), where a leading group would make it a candidate at every word it might start with.
pub fn without_leading_groups(elements: Vec<Element>) -> Result<Vec<Vec<Element>>, String> {
    let mut elements = elements.into_iter();
    let (alternatives, optional) = match elements.next() {
        Some(Element::Group { alternatives, optional }) => (alternatives, optional),
        Some(first) => return Ok(vec![std::iter::once(first).chain(elements).collect()]),
        None => return Ok(Vec::new()),
    };
    let rest: Vec<Element> = elements.collect();
    let mut out = Vec::new();
    for alternative in alternatives {
        let mut joined = alternative;
        joined.extend(rest.iter().cloned());
        out.extend(without_leading_groups(joined)?);
    }
    if optional && !rest.is_empty() {
        out.extend(without_leading_groups(rest)?);
    }
    if out
        .iter()
        .any(|pattern| matches!(pattern.first(), None | Some(Element::Gap(_) | Element::Not(_))))
    {
        return Err("an optional first part is followed by a gap or a `!(…)`; start with a word".into());
    }
    Ok(out)
}

/// When the first element takes exactly one token, what the next token can be; `None` if anything can
/// follow (the pattern ends there, or a gap or an optional part comes next and all of the rest may be
/// left out).
pub fn second_keys(elements: &[Element]) -> Option<Vec<FirstKey>> {
    let (first, rest) = elements.split_first()?;
    if !matches!(first, Element::Word(_) | Element::Stem(_) | Element::Number { .. }) || rest.is_empty() {
        return None;
    }
    if can_be_empty(rest) || may_skip_first(rest) {
        return None;
    }
    Some(first_keys(rest))
}

/// Whether a gap can come before the first token `elements` match: then that token can be anything.
fn may_skip_first(elements: &[Element]) -> bool {
    for element in elements {
        match element {
            Element::Gap(_) => return true,
            Element::Not(_) => continue,
            Element::Group { alternatives, optional } => {
                if alternatives.iter().any(|a| may_skip_first(a)) {
                    return true;
                }
                if !*optional && !alternatives.iter().any(|a| can_be_empty(a)) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    false
}

fn can_be_empty(elements: &[Element]) -> bool {
    elements.iter().all(|element| match element {
        Element::Gap(_) | Element::Not(_) => true,
        Element::Group { alternatives, optional } => *optional || alternatives.iter().any(|a| can_be_empty(a)),
        _ => false,
    })
}

fn lex(source: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '!' if chars.peek() == Some(&'(') => {
                push_word(&mut current, &mut tokens);
                chars.next();
                tokens.push("!(".into());
            }
            '(' | '|' => {
                push_word(&mut current, &mut tokens);
                tokens.push(c.to_string());
            }
            ')' => {
                push_word(&mut current, &mut tokens);
                if chars.peek() == Some(&'?') {
                    chars.next();
                    tokens.push(")?".into());
                } else {
                    tokens.push(")".into());
                }
            }
            c if c.is_whitespace() => push_word(&mut current, &mut tokens),
            c => current.push(c),
        }
    }
    push_word(&mut current, &mut tokens);
    tokens
}

fn push_word(current: &mut String, tokens: &mut Vec<String>) {
    if !current.is_empty() {
        tokens.push(std::mem::take(current));
    }
}

fn parse_sequence(tokens: &[String], position: &mut usize, names: &mut impl Names) -> Result<Vec<Element>, String> {
    let mut elements = Vec::new();
    while let Some(token) = tokens.get(*position) {
        match token.as_str() {
            "|" | ")" | ")?" => break,
            "(" | "!(" => {
                let negated = token == "!(";
                *position += 1;
                let mut alternatives = vec![parse_sequence(tokens, position, names)?];
                loop {
                    match tokens.get(*position).map(String::as_str) {
                        Some("|") => {
                            *position += 1;
                            alternatives.push(parse_sequence(tokens, position, names)?);
                        }
                        Some(")") | Some(")?") => break,
                        _ => return Err("a `(` is never closed".into()),
                    }
                }
                let optional = tokens[*position] == ")?";
                *position += 1;
                if alternatives.iter().any(Vec::is_empty) {
                    return Err("a group has an empty alternative; use `(…)?` for an optional part".into());
                }
                if negated {
                    if optional {
                        return Err("`!(…)` cannot be optional".into());
                    }
                    elements.push(Element::Not(alternatives));
                } else {
                    elements.push(Element::Group { alternatives, optional });
                }
            }
            _ => {
                elements.push(parse_item(token, names)?);
                *position += 1;
            }
        }
    }
    Ok(elements)
}

fn parse_item(item: &str, names: &mut impl Names) -> Result<Element, String> {
    if let Some(class) = item.strip_prefix('@') {
        if class.is_empty() || !class.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{item}`: a class name is letters, digits and `_`"));
        }
        return Ok(Element::Class(names.class(class)));
    }
    if let Some(count) = item.strip_prefix("..") {
        return match count.parse::<u8>() {
            Ok(n @ 1..=9) => Ok(Element::Gap(n)),
            _ => Err(format!("`{item}`: a gap is `..1` to `..9`")),
        };
    }
    if let Some(range) = item.strip_prefix('#') {
        return parse_number(range).ok_or_else(|| format!("`{item}`: write `#`, `#10+` or `#2-9`"));
    }
    if let Some(stem) = item.strip_suffix('*') {
        let folded = fold_literal(stem)?;
        if folded.chars().count() < 3 {
            return Err(format!("`{item}`: a stem needs at least three letters"));
        }
        return Ok(Element::Stem(names.stem(&folded)));
    }
    let folded = fold_literal(item)?;
    if let Some(replacement) = names.rewritten(&folded) {
        return Err(format!(
            "`{item}` never reaches the rules: texts are read with it as `{replacement}`; write that instead"
        ));
    }
    Ok(Element::Word(names.word(&folded)))
}

fn parse_number(range: &str) -> Option<Element> {
    if range.is_empty() {
        return Some(Element::Number { min: 0, max: u64::MAX });
    }
    if let Some(min) = range.strip_suffix('+') {
        return Some(Element::Number {
            min: min.parse().ok()?,
            max: u64::MAX,
        });
    }
    let (min, max) = range.split_once('-')?;
    let (min, max) = (min.parse().ok()?, max.parse().ok()?);
    (min <= max).then_some(Element::Number { min, max })
}

/// A literal word folded the way texts are, so lexicons may be written with accents and apostrophes.
fn fold_literal(item: &str) -> Result<String, String> {
    let tokens = super::normalize::tokenize(item);
    match tokens.as_slice() {
        [one] if !matches!(one.kind, super::normalize::TokenKind::Break { .. }) => Ok(one.text.clone()),
        _ => Err(format!("`{item}` is not one word once folded like a text")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Table(BTreeMap<String, u32>);

    impl Names for Table {
        fn word(&mut self, word: &str) -> u32 {
            let next = self.0.len() as u32;
            *self.0.entry(format!("w:{word}")).or_insert(next)
        }
        fn stem(&mut self, stem: &str) -> u32 {
            let next = self.0.len() as u32;
            *self.0.entry(format!("s:{stem}")).or_insert(next)
        }
        fn class(&mut self, name: &str) -> u32 {
            let next = self.0.len() as u32;
            *self.0.entry(format!("c:{name}")).or_insert(next)
        }
        fn rewritten(&self, word: &str) -> Option<String> {
            (word == "gonna").then(|| "going to".to_owned())
        }
    }

    #[test]
    fn every_element_parses() {
        let mut table = Table::default();
        let parsed = parse("(took | swallowed) (all | #10+)? ..2 @pills suicid* está", &mut table).unwrap();
        assert_eq!(parsed.len(), 6);
        assert!(matches!(&parsed[0], Element::Group { alternatives, optional: false } if alternatives.len() == 2));
        assert!(matches!(&parsed[1], Element::Group { optional: true, .. }));
        assert_eq!(parsed[2], Element::Gap(2));
        assert!(table.0.contains_key("w:esta"), "literals are folded: {:?}", table.0);
        assert!(table.0.contains_key("s:suicid"));
        let keys = first_keys(&parsed);
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn mistakes_are_named() {
        let mut table = Table::default();
        for (source, expected) in [
            ("(all | some", "never closed"),
            ("!(lbs) #", "start with a word"),
            ("..2 pills", "starts with a gap"),
            ("(all)?", "match nothing"),
            ("gonna die", "going to"),
            ("#x", "write `#`"),
            ("su*", "three letters"),
            ("@", "class name"),
        ] {
            let err = parse(source, &mut table).unwrap_err();
            assert!(err.contains(expected), "{source}: {err}");
        }
    }

    #[test]
    fn a_negative_group_takes_no_token() {
        let mut table = Table::default();
        let parsed = parse("#10+ !(lbs | years ago)", &mut table).unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(matches!(&parsed[1], Element::Not(alternatives) if alternatives.len() == 2));
    }

    #[test]
    fn leading_groups_become_patterns_of_their_own() {
        let mut table = Table::default();
        let parsed = parse("(the | a big)? rope", &mut table).unwrap();
        let expanded = without_leading_groups(parsed).unwrap();
        assert_eq!(expanded.len(), 3);
        assert!(expanded.iter().all(|p| matches!(p.first(), Some(Element::Word(_)))));
        assert_eq!(expanded[1].len(), 3, "a big rope");
        let gap = parse("(the)? ..2 rope", &mut table).unwrap();
        assert!(without_leading_groups(gap).is_err());
    }

    #[test]
    fn a_gap_after_the_first_word_lets_any_word_follow() {
        let mut table = Table::default();
        assert!(second_keys(&parse("gave (my)? ..2 to", &mut table).unwrap()).is_none());
        assert!(second_keys(&parse("gave (..1 my)? dog", &mut table).unwrap()).is_none());
        assert_eq!(
            second_keys(&parse("gave (my)? dog", &mut table).unwrap())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn optional_first_elements_index_what_follows() {
        let mut table = Table::default();
        let parsed = parse("(i)? #10+", &mut table).unwrap();
        let keys = first_keys(&parsed);
        assert!(keys.contains(&FirstKey::Number));
        assert_eq!(keys.len(), 2);
    }
}
