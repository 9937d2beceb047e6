//! Text normalisation before risk matching, applied alike to lexicon phrases and to incoming texts, so that
//! "K I L L  myselff", "kil myself" and "kill my self" all meet the same phrase.

use std::borrow::Cow;

/// Folds a text to lowercase words separated by single spaces, with a space at each end so that phrases can
/// be matched on word boundaries:
/// - accents dropped (`está` → `esta`), apostrophes removed (`don't` → `dont`), other punctuation a space;
/// - a digit between letters read as the letter it stands for (`su1cide` → `suicide`); `@` → `a`, `$` → `s`;
/// - three or more single letters in a row joined (`k i l l` → `kill`);
/// - repeated letters collapsed to one (`diiie` → `die`, `kill` → `kil`), so phrases are stored collapsed too;
/// - emoji kept as words of their own (`💊`).
pub fn normalize(text: &str) -> String {
    let mut folded = String::with_capacity(text.len() + 2);
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '’' | '‘' | '`' | '´' => {}
            '@' => folded.push('a'),
            '$' => folded.push('s'),
            c if c.is_alphanumeric() => folded.push(fold_accent(c)),
            c if is_pictograph(c) => {
                folded.push(' ');
                folded.push(c);
                folded.push(' ');
            }
            _ => folded.push(' '),
        }
    }

    let tokens: Vec<Cow<'_, str>> = folded.split_whitespace().map(read_digits_as_letters).collect();
    let mut words: Vec<Cow<'_, str>> = Vec::with_capacity(tokens.len());
    let mut index = 0;
    while index < tokens.len() {
        let run = tokens[index..].iter().take_while(|t| is_single_letter(t)).count();
        if run >= 3 {
            words.push(Cow::Owned(tokens[index..index + run].concat()));
            index += run;
        } else {
            words.push(tokens[index].clone());
            index += 1;
        }
    }

    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for word in words {
        let mut previous = None;
        for c in word.chars() {
            if c.is_alphabetic() && previous == Some(c) {
                continue;
            }
            out.push(c);
            previous = Some(c);
        }
        out.push(' ');
    }
    out
}

fn is_single_letter(token: &str) -> bool {
    let mut chars = token.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
}

/// Emoji and pictographs (💊, 😭, 🔫) carry meaning in crisis texts and are kept.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F300..=0x1FAFF)
}

/// Most words hold no digit and are returned as they are, without allocating.
fn read_digits_as_letters(token: &str) -> Cow<'_, str> {
    if !token.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(token);
    }
    let chars: Vec<char> = token.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_letters =
                i > 0 && i + 1 < chars.len() && chars[i - 1].is_alphabetic() && chars[i + 1].is_alphabetic();
            match (c, between_letters) {
                ('1', true) => 'i',
                ('3', true) => 'e',
                ('0', true) => 'o',
                ('4', true) => 'a',
                ('5', true) => 's',
                ('7', true) => 't',
                _ => c,
            }
        })
        .collect::<String>()
        .into()
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

    #[test]
    fn the_same_words_typed_differently_meet_the_same_phrase() {
        let phrase = normalize("kill myself");
        assert_eq!(phrase, " kil myself ");
        for typed in [
            "KILL MYSELF",
            "kill   myself!!",
            "killll myself",
            "k i l l myself",
            "k1ll myself",
            "Kill, myself.",
        ] {
            assert_eq!(normalize(typed), phrase, "{typed}");
        }
    }

    #[test]
    fn accents_apostrophes_and_emoji() {
        assert_eq!(
            normalize("¿Estás bien? Ya no aguanto más"),
            " estas bien ya no aguanto mas "
        );
        assert_eq!(normalize("I don't want to be here"), " i dont want to be here ");
        assert_eq!(normalize("took all my 💊💊"), " tok al my 💊 💊 ");
        assert_eq!(normalize("su1cide"), " suicide ");
        assert_eq!(normalize("800mg of advil"), " 800mg of advil ");
    }
}
