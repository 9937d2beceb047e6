//! What an incoming text means for the person's safety: `crisis` (page someone now), `concern` (a human must
//! see it today) or `none`. Lexicons are data in `message_templates/risk/*.toml`; every phrase of every
//! language goes into one automaton, so a text is read in a single pass whatever its language.
//!
//! The rules, in order (clinical-defaults.md §3.3):
//! 1. Normalise (case, accents, punctuation, repeated and spaced-out letters, digits for letters).
//! 2. Drop a match that lies inside an idiom ("killing it at work", "my phone died").
//! 3. A phrase whose entry names companion groups rises to its escalated tier when a word of such a group
//!    is in the same text (a medicine name alone is a concern; with "took all" it is a crisis).
//! 4. A negation within three words before a phrase lowers it one tier, never below `concern`: a negated
//!    crisis phrase is never dropped.
//! 5. The text's tier is the highest of its matches.

mod lexicon;
mod normalize;

use aho_corasick::AhoCorasick;
use serde::Serialize;

pub use lexicon::load;
pub use normalize::normalize;

/// Words before a phrase that a negation may stand in and still apply to it.
const NEGATION_REACH: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    None,
    Concern,
    Crisis,
}

impl Tier {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Tier::None),
            "concern" => Some(Tier::Concern),
            "crisis" => Some(Tier::Crisis),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::None => "none",
            Tier::Concern => "concern",
            Tier::Crisis => "crisis",
        }
    }

    /// One tier down, but a risk phrase never drops to nothing.
    fn lowered(self) -> Self {
        match self {
            Tier::Crisis | Tier::Concern => Tier::Concern,
            Tier::None => Tier::None,
        }
    }
}

/// One lexicon phrase found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskMatch {
    /// The lexicon entry, like `en.intent.kill_myself`.
    pub entry: String,
    pub category: String,
    /// The phrase as written in the lexicon.
    pub phrase: String,
    /// The tier this match carries after companions and negation.
    pub tier: Tier,
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub tier: Tier,
    pub matches: Vec<RiskMatch>,
}

#[derive(Debug)]
struct Entry {
    id: String,
    category: String,
    tier: Tier,
    /// Group indexes whose presence raises the tier to `escalated_tier`.
    escalate_with: Vec<usize>,
    escalated_tier: Tier,
}

#[derive(Debug, Clone)]
enum Pattern {
    Entry { entry: usize, phrase: String },
    Group(usize),
    Idiom,
    Negation,
}

/// The compiled lexicons.
#[derive(Debug)]
pub struct Classifier {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    entries: Vec<Entry>,
}

impl Classifier {
    pub fn assess(&self, text: &str) -> Assessment {
        let normalized = normalize(text);
        let mut idioms = Vec::new();
        let mut negations = Vec::new();
        let mut groups_present = Vec::new();
        let mut found = Vec::new();
        for hit in self.automaton.find_overlapping_iter(&normalized) {
            let span = (hit.start(), hit.end());
            match &self.patterns[hit.pattern().as_usize()] {
                Pattern::Idiom => idioms.push(span),
                Pattern::Negation => negations.push(span),
                Pattern::Group(group) => groups_present.push(*group),
                Pattern::Entry { entry, phrase } => found.push((span, *entry, phrase)),
            }
        }

        // Spans include the surrounding spaces; an idiom containing the phrase's words absorbs it, and so
        // does a longer phrase containing it ("kill" inside "kill myself").
        let inside = |(start, end): (usize, usize), (outer_start, outer_end): (usize, usize)| {
            outer_start <= start + 1 && end - 1 <= outer_end && (outer_end - outer_start) > (end - start)
        };
        let spans: Vec<(usize, usize)> = found.iter().map(|(span, _, _)| *span).collect();
        let mut matches: Vec<RiskMatch> = Vec::new();
        for &(span, entry_index, phrase) in &found {
            let absorbed = idioms.iter().any(|&idiom| inside(span, idiom) || idiom == span)
                || spans.iter().any(|&other| inside(span, other));
            if absorbed {
                continue;
            }
            let entry = &self.entries[entry_index];
            let mut tier = entry.tier;
            if entry.escalate_with.iter().any(|g| groups_present.contains(g)) {
                tier = tier.max(entry.escalated_tier);
            }
            let negated = negations.iter().any(|&(_, n_end)| {
                n_end <= span.0 + 1 && words_between(&normalized[n_end.saturating_sub(1)..=span.0]) < NEGATION_REACH
            });
            if negated {
                tier = tier.lowered();
            }
            if matches.iter().any(|m| m.entry == entry.id && m.phrase == *phrase) {
                continue;
            }
            matches.push(RiskMatch {
                entry: entry.id.clone(),
                category: entry.category.clone(),
                phrase: phrase.clone(),
                tier,
                negated,
            });
        }
        let tier = matches.iter().map(|m| m.tier).max().unwrap_or(Tier::None);
        Assessment { tier, matches }
    }
}

/// Words strictly between two spans, given the text from the end of one to the start of the other.
fn words_between(gap: &str) -> usize {
    gap.split_whitespace().count()
}

#[cfg(test)]
mod lexicon_table {
    //! The shipped lexicons against real-looking texts. Add a row whenever a case is found.
    use super::*;

    fn classifier() -> Classifier {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("message_templates/risk");
        let mut problems = Vec::new();
        let classifier = load(&dir, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        classifier.unwrap()
    }

    #[test]
    fn every_row_gets_its_tier() {
        use Tier::*;
        let rows: &[(&str, Tier)] = &[
            // Intent and plan, in the many ways it is typed.
            ("I want to die", Crisis),
            ("STOP I want to die", Crisis),
            ("im going to kill myself tonight", Crisis),
            ("kms", Crisis),
            ("K I L L myself", Crisis),
            ("killl myselff", Crisis),
            ("I want to d i e", Crisis),
            ("writing my su1cide note", Crisis),
            ("ready to end it all", Crisis),
            // Acts in progress, means with ingestion, third parties.
            ("took all my pills", Crisis),
            ("i took a bunch of tylenol", Crisis),
            ("💊💊💊 goodbye", Crisis),
            ("I OD'd", Crisis),
            ("he's not breathing", Crisis),
            ("my friend won't wake up", Crisis),
            ("gave him narcan and nothing", Crisis),
            ("i got a gun", Crisis),
            // Negation lowers a crisis phrase one tier and never drops it.
            ("I'm not going to kill myself", Concern),
            ("i would never kill myself", Concern),
            ("i dont want to die", Concern),
            ("not suicidal just tired", Concern),
            // Concern.
            ("I relapsed last night", Concern),
            ("ran out of my subs and im dope sick", Concern),
            ("I wish I was dead", Concern),
            ("tylenol", Concern),
            ("i need help", Concern),
            ("cant do this anymore", Concern),
            // Spanish, with and without accents.
            ("me quiero morir", Crisis),
            ("Me voy a matar esta noche", Crisis),
            ("me tomé todas las pastillas", Crisis),
            ("se está poniendo azul", Crisis),
            ("ya no aguanto más", Concern),
            ("no me voy a matar", Concern),
            ("recaí anoche", Concern),
            // Idioms and false friends page nobody.
            ("killing it at work today!", None),
            ("dying to see my kids", None),
            ("my phone died", None),
            ("I'm dead 😂 that was hilarious", None),
            ("this traffic is killing me", None),
            ("I could kill for a coffee", None),
            ("dead tired after work", None),
            ("that's odd", None),
            ("me muero de ganas de verte", None),
            ("Thanks, see you Tuesday", None),
            ("C", None),
        ];
        let classifier = classifier();
        let wrong: Vec<String> = rows
            .iter()
            .filter_map(|(text, tier)| {
                let got = classifier.assess(text);
                (got.tier != *tier)
                    .then(|| format!("{text:?}: expected {tier:?}, got {:?} {:?}", got.tier, got.matches))
            })
            .collect();
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }

    #[test]
    fn idioms_leave_no_match_and_negations_are_marked() {
        let classifier = classifier();
        assert!(classifier.assess("dying to see my kids").matches.is_empty());
        let negated = classifier.assess("not going to kill myself");
        assert_eq!(negated.matches.len(), 1, "{negated:?}");
        assert!(negated.matches[0].negated);
        assert_eq!(negated.matches[0].entry, "en.intent.kill_self");
        let both = classifier.assess("not going to kill myself but i took all my pills");
        assert_eq!(both.tier, Tier::Crisis, "another crisis signal cancels the downgrade");
    }
}
