//! Reading a misspelt risk word as the word it was meant to be ("sucide" → "suicide", "overdosse" →
//! "overdose") without listing misspellings: a long word that is neither an ordinary English or Spanish word
//! nor a word of the lexicons is compared with the lexicons' words, and read as one of them if it is within
//! one edit (six letters or more) or two edits (nine or more). Edits are Damerau–Levenshtein: a letter
//! added, dropped, changed, or two neighbours swapped.
//!
//! Ordinary words are never corrected, so "puerto" stays "puerto" (not "muerto") and "overdue" stays
//! "overdue". The word lists are in `assets/words/` (see the README there); a Spanish verb form missing
//! from them counts as ordinary when its infinitive is listed ("consumiendo" → "consumir").
//!
//! The lexicon's words are indexed by their deletions (the SymSpell method): a typed word is looked up by
//! its own deletions, so a correction costs a few dozen hash look-ups whatever the size of the lexicon.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::LazyLock;

/// Words shorter than this are never corrected: too many short words are one edit from another.
pub const MIN_LETTERS: usize = 6;
/// From this length on, two edits are allowed.
const TWO_EDITS_FROM: usize = 9;

static ORDINARY_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let english = include_str!("../../assets/words/en.txt");
    let spanish = include_str!("../../assets/words/es.txt");
    english
        .lines()
        .chain(spanish.lines())
        .filter(|w| !w.is_empty())
        .collect()
});

/// Whether `word` is an ordinary English or Spanish word that must never be read as another.
pub fn is_ordinary(word: &str) -> bool {
    let words = &*ORDINARY_WORDS;
    let plural_of = |ending: &str| {
        word.strip_suffix(ending)
            .is_some_and(|singular| words.contains(singular))
    };
    words.contains(word)
        || plural_of("s")
        || plural_of("es")
        || spanish_infinitives(word).any(|infinitive| words.contains(infinitive.as_str()))
}

/// Endings of Spanish verb forms, each with the infinitive endings it may come from. Enough for the forms
/// people text (gerunds, participles, the preterite, pronouns joined to the verb); a form this misses is
/// only ever corrected if it is within an edit or two of a risk word.
const SPANISH_ENDINGS: &[(&str, &[&str])] = &[
    ("andome", &["ar"]),
    ("iendome", &["er", "ir"]),
    ("ando", &["ar"]),
    ("iendo", &["er", "ir"]),
    ("ados", &["ar"]),
    ("adas", &["ar"]),
    ("ado", &["ar"]),
    ("ada", &["ar"]),
    ("idos", &["er", "ir"]),
    ("idas", &["er", "ir"]),
    ("ido", &["er", "ir"]),
    ("ida", &["er", "ir"]),
    ("aron", &["ar"]),
    ("ieron", &["er", "ir"]),
    ("aste", &["ar"]),
    ("iste", &["er", "ir"]),
    ("amos", &["ar"]),
    ("imos", &["er", "ir"]),
    ("aba", &["ar"]),
    ("aban", &["ar"]),
    ("ia", &["er", "ir"]),
    ("ian", &["er", "ir"]),
    ("armelo", &["ar"]),
    ("arme", &["ar"]),
    ("arte", &["ar"]),
    ("arse", &["ar"]),
    ("arlo", &["ar"]),
    ("arla", &["ar"]),
    ("erme", &["er"]),
    ("erse", &["er"]),
    ("irme", &["ir"]),
    ("irse", &["ir"]),
    ("e", &["ar"]),
    ("o", &["ar", "er", "ir"]),
    ("a", &["ar", "er", "ir"]),
    ("an", &["ar"]),
    ("en", &["er", "ir"]),
    ("es", &["er", "ir"]),
    ("as", &["ar"]),
];

fn spanish_infinitives(word: &str) -> impl Iterator<Item = String> + '_ {
    SPANISH_ENDINGS.iter().flat_map(move |(ending, infinitives)| {
        word.strip_suffix(ending)
            .filter(|stem| stem.len() >= 3)
            .into_iter()
            .flat_map(move |stem| infinitives.iter().map(move |inf| format!("{stem}{inf}")))
    })
}

/// The protected risk words, indexed for corrections.
#[derive(Debug, Default)]
pub struct Speller {
    targets: Vec<String>,
    /// A deletion of a target (or the target itself) → the targets it comes from.
    deletions: HashMap<String, Vec<u32>>,
}

impl Speller {
    /// Indexes `targets`, the protected risk words.
    pub fn new<'a>(targets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut unique: Vec<String> = targets
            .into_iter()
            .filter(|t| t.chars().all(char::is_alphabetic))
            .map(str::to_owned)
            .collect();
        unique.sort();
        unique.dedup();
        let mut deletions: HashMap<String, Vec<u32>> = HashMap::default();
        for (index, target) in unique.iter().enumerate() {
            // A word shorter than this is never within reach of a word long enough to be corrected.
            if target.chars().count() < MIN_LETTERS - 1 {
                continue;
            }
            for deletion in deletions_of(target, 2) {
                let entry = deletions.entry(deletion).or_default();
                if entry.last() != Some(&(index as u32)) {
                    entry.push(index as u32);
                }
            }
        }
        Self {
            targets: unique,
            deletions,
        }
    }

    /// The protected word that `word` is with one letter left out (`vivr` → `vivir`, `matr` → `matar`), for
    /// short words, which are otherwise corrected only for two swapped letters.
    pub fn one_letter_short(&self, word: &str) -> Option<String> {
        let letters = word.chars().count();
        self.deletions
            .get(word)?
            .iter()
            .map(|&index| self.targets[index as usize].as_str())
            .find(|target| target.chars().count() == letters + 1)
            .map(str::to_owned)
    }

    /// Whether `word` is a protected risk word.
    pub fn protects(&self, word: &str) -> bool {
        self.targets.binary_search_by(|t| t.as_str().cmp(word)).is_ok()
    }

    /// The protected word `word` was most likely meant to be, if it is within reach. The caller has checked
    /// that `word` is neither a lexicon word nor an ordinary word.
    pub fn correct(&self, word: &str) -> Option<String> {
        let letters = word.chars().count();
        if letters < MIN_LETTERS || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        let reach = if letters >= TWO_EDITS_FROM { 2 } else { 1 };
        let mut best: Option<(usize, &str)> = None;
        let mut seen = HashSet::default();
        for deletion in deletions_of(word, reach) {
            let Some(candidates) = self.deletions.get(&deletion) else {
                continue;
            };
            for &index in candidates {
                if !seen.insert(index) {
                    continue;
                }
                let target = self.targets[index as usize].as_str();
                let edits = edit_distance(word, target);
                let better = match best {
                    None => true,
                    Some((best_edits, best_target)) => (edits, target) < (best_edits, best_target),
                };
                if edits <= reach && better {
                    best = Some((edits, target));
                }
            }
        }
        best.map(|(_, target)| target.to_owned())
    }
}

/// `word` itself and every string made by deleting up to `depth` of its letters.
fn deletions_of(word: &str, depth: usize) -> HashSet<String> {
    let mut all = HashSet::default();
    all.insert(word.to_owned());
    let mut frontier = vec![word.chars().collect::<Vec<char>>()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for chars in &frontier {
            for skip in 0..chars.len() {
                let shorter: Vec<char> = chars
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != skip)
                    .map(|(_, &c)| c)
                    .collect();
                if all.insert(shorter.iter().collect()) {
                    next.push(shorter);
                }
            }
        }
        frontier = next;
    }
    all
}

/// Damerau–Levenshtein distance (the optimal-string-alignment form spell checkers use): insertions,
/// deletions, substitutions and swaps of neighbours each count one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, cell) in table.iter_mut().step_by(width).enumerate() {
        *cell = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_swaps_as_one_edit() {
        assert_eq!(edit_distance("sucide", "suicide"), 1);
        assert_eq!(edit_distance("siucide", "suicide"), 1);
        assert_eq!(edit_distance("overdoes", "overdose"), 1);
        assert_eq!(edit_distance("suicidle", "suicidal"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn misspellings_within_reach_are_corrected_and_short_words_never() {
        let speller = Speller::new(["suicide", "suicidal", "overdose", "fentanyl", "myself", "tonight"]);
        let read = |w: &str| speller.correct(w);
        assert_eq!(read("sucide").as_deref(), Some("suicide"));
        assert_eq!(read("myslef").as_deref(), Some("myself"));
        assert_eq!(read("overdosse").as_deref(), Some("overdose"));
        // Two edits only from nine letters on.
        assert_eq!(read("fentanill").as_deref(), Some("fentanyl"));
        assert_eq!(read("sucidl"), None, "two edits away at six letters");
        assert_eq!(read("tonigt").as_deref(), Some("tonight"));
        assert_eq!(read("sucid"), None, "five-letter words are never corrected");
        let short = Speller::new(["vivir", "matar"]);
        assert_eq!(short.one_letter_short("vivr").as_deref(), Some("vivir"));
        assert_eq!(short.one_letter_short("viv"), None, "two letters short");
    }

    #[test]
    fn ordinary_words_are_known_in_both_languages() {
        for word in [
            "overdue",
            "puerto",
            "sleeping",
            "couldnt",
            "consumiendo",
            "emborrache",
            "desaparecer",
        ] {
            assert!(is_ordinary(word), "{word}");
        }
        for word in ["suicidle", "unalive", "jonesing"] {
            assert!(!is_ordinary(word), "{word}");
        }
    }
}
