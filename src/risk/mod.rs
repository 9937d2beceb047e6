//! What an incoming text means for the person's safety: `crisis` (page someone now), `concern` (a human must
//! see it today) or `none`. The rules and the words they use are data, in `message_templates/risk/*.toml`;
//! `message_templates/risk/README.md` says what each tier covers and how to write a rule. Every match names
//! the rule that made it, so staff and reviewers can see why a text was rated as it was.
//!
//! A text is read in a few linear steps, each an index-driven scan over its words, whatever its language:
//! 1. [`normalize`] folds it (case, accents, apostrophes, leetspeak, repeated letters) into tokens.
//! 2. [`reading`] reads the tokens as the words they stand for: spaced-out letters joined (`k i l l`), run-
//!    together words split (`killmyself`), textspeak rewritten (`gonna` → `going to`, `rn` → `right now`),
//!    and a long word that is no ordinary word read as the lexicon word within an edit or two of it
//!    (`sucide` → `suicide`, see [`spelling`]).
//! 3. Negations, turns ("but") and markers of the past are found first, on every word; then idioms are
//!    masked ("killed it at work", "me muero de hambre"): their words take part in no other class or rule.
//! 4. [`matching`] finds every class (a named set of patterns, like `means` or `time`) and every rule at each
//!    token, through an index of what each pattern can start with, right to left so a pattern can use the
//!    classes that follow it.
//! 5. Rules that need several things near each other (means within a few words of intent, a time or a
//!    farewell) are checked from the classes found.
//! 6. A negation just before a match lowers it one tier, and so does a marker of the distant past in the same
//!    sentence ("two years ago"), for the rules that say so: thoughts of suicide denied or long ago are a
//!    concern, not a crisis. Any other crisis match in the text still makes it a crisis.
//! 7. A rule may name classes that undo it anywhere in the text ("see you Thursday" after a goodbye).
//! 8. The text's tier is the highest of its matches.
//! 9. When `model.tsv` is beside the lexicons, [`model`] reads the same words as a whole and may raise a text
//!    the rules missed, or take the page from a rules' crisis it finds unlike any crisis it learnt (a person
//!    still reads it today); it never overrules a negation or the past that a rule read. [`training`] learns
//!    it from the labelled corpus (`tether triage --train`); `docs/risk-model.md` says why and how well.

mod eval;
mod lexicon;
mod matching;
mod model;
mod normalize;
mod pattern;
mod reading;
mod spelling;
mod training;

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

pub use eval::{CorpusError, Evaluation, LabelledText, Thresholds, parse_corpus};
pub use lexicon::{MODEL_FILE, load, load_rules, missing_model, read_model};
pub use model::Model;
use normalize::{Token, TokenKind};
pub use training::{Trained, train};

use model::Decision;
use pattern::Element;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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

    /// One tier down: a negated crisis phrase is still a concern, a negated concern is nothing.
    fn lowered(self) -> Self {
        match self {
            Tier::Crisis => Tier::Concern,
            Tier::Concern | Tier::None => Tier::None,
        }
    }
}

/// One rule that matched a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskMatch {
    /// The rule, like `ideation.explicit`.
    pub entry: String,
    pub category: String,
    /// The words that matched, as read (`going to kill myself`); parts of a rule that needs several things
    /// near each other are joined by ` … `.
    pub phrase: String,
    /// The tier this match carries after negation and the past are taken into account.
    pub tier: Tier,
    /// A negation came just before it ("not going to …").
    pub negated: bool,
    /// The sentence places it in the distant past ("two years ago …").
    pub past: bool,
    /// A crisis rule matched, but the model found the text very unlike every crisis text it learnt from: a
    /// person reads it today as a concern, and nobody is paged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub doubted: bool,
}

/// How likely the model finds each tier for a text, from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelReading {
    pub none: f32,
    pub concern: f32,
    pub crisis: f32,
}

/// A word read as another: a misspelling, letters spaced out or words run together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reading {
    pub typed: String,
    pub read_as: String,
    pub how: ReadingKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadingKind {
    /// Within an edit or two of a protected word, or two letters swapped.
    Spelling,
    /// Letters spaced out, typed three times, or starred out.
    Letters,
    /// Words run together.
    Split,
    /// A letter people drop put back ("thinkin", "amarrao"), or the ll a y was written for ("pastiyas").
    Dropped,
}

impl ReadingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadingKind::Spelling => "spelling",
            ReadingKind::Letters => "letters",
            ReadingKind::Split => "split",
            ReadingKind::Dropped => "dropped",
        }
    }
}

/// A text as the rules read it: its words (idiom words in brackets, `|` for a break) and every class found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub words: Vec<String>,
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub tier: Tier,
    pub matches: Vec<RiskMatch>,
    /// Words the rules read as other words, so a reviewer can see why "sucide" matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
    /// The crisis is about someone else in danger now ("my roommate won't wake up"): the sender is asked to
    /// call 911 and stay with them, rather than told where to get help for themselves.
    pub someone_else: bool,
    /// The model's reading, when there is a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelReading>,
}

/// A rule of the lexicons.
#[derive(Debug)]
struct Rule {
    id: String,
    category: String,
    tier: Tier,
    /// A negation just before the match lowers it one tier.
    lowered_by_negation: bool,
    /// A marker of the distant past in the same sentence lowers it one tier.
    lowered_by_past: bool,
    /// Negation and the past lower it no further than this: "I won't hurt myself" is still a concern.
    lowest: Tier,
    /// The rule is about another person in danger.
    someone_else: bool,
    /// Classes that undo the rule wherever they are in the text.
    unless: Vec<u32>,
    kind: RuleKind,
}

#[derive(Debug)]
enum RuleKind {
    /// The rule's patterns form this class; each of its spans is a match.
    Patterns { class: u32 },
    /// One span of a class of each part, all within `within` tokens of each other.
    Near { parts: Vec<Vec<u32>>, within: usize },
}

/// Textspeak for a token, possibly with the tokens after it (`want 2` → `want to`).
#[derive(Debug)]
struct Rewrite {
    /// Tokens that must follow the first one.
    rest: Vec<String>,
    replacement: Vec<Token>,
}

/// An idiom: a pattern of plain words whose words take part in no rule.
#[derive(Debug)]
struct Idiom {
    elements: Vec<Element>,
    then: Option<Vec<pattern::FirstKey>>,
}

#[derive(Debug)]
struct CompiledPattern {
    class: u32,
    elements: Vec<Element>,
    /// For a pattern whose first element is one token (a word, a stem, a number), what the token after it
    /// can be: a cheap test that spares most walks ("me" starts a hundred patterns; few fit "me gusta").
    then: Option<Vec<pattern::FirstKey>>,
}

/// Patterns by what their first token can be.
#[derive(Debug, Default)]
struct Index {
    by_word: HashMap<u32, Vec<u32>>,
    by_stem: Vec<(u32, Vec<u32>)>,
    by_class: HashMap<u32, Vec<u32>>,
    by_number: Vec<u32>,
}

/// The compiled lexicons.
#[derive(Debug)]
pub struct Classifier {
    vocabulary: HashMap<String, u32>,
    stems: Vec<String>,
    textspeak: HashMap<String, Vec<Rewrite>>,
    speller: spelling::Speller,
    /// Longer words are never corrected nor split: no risk word is that long, and a keysmash of hundreds of
    /// letters must not cost its square in deletions.
    longest_correctable: usize,
    /// Each class's rank. A class is a named set of patterns (rules with patterns are classes too); classes
    /// are matched in rank order at each token, so a class is found before those that use it.
    class_ranks: Vec<u32>,
    /// Each class's name, for [`Classifier::explain`].
    class_names: Vec<String>,
    patterns: Vec<CompiledPattern>,
    index: Index,
    /// The patterns of `negation`, `contrast` and `past` and the classes they use: found on every word, since
    /// an idiom may hold a marker of the past ("in high school"); a negation inside an idiom ("not kidding")
    /// still negates nothing.
    modifier_index: Index,
    idioms: Vec<Idiom>,
    idiom_index: Index,
    rules: Vec<Rule>,
    negation: Option<u32>,
    contrast: Option<u32>,
    past: Option<u32>,
    /// The second reader, when `model.tsv` is beside the shipped lexicons (see [`Classifier::with_model`]).
    model: Option<Arc<Model>>,
    /// Where the model's reading changes the tier: `[model]` in a lexicon file, or the defaults.
    model_thresholds: model::Thresholds,
}

/// Words between a negation and what it negates, at most ("not going to kill myself": two).
const NEGATION_REACH: usize = 2;
/// Characters of a text that are read. A text message is at most 1,600; a longer body (a provider that
/// concatenates, a hostile caller) is read this far, so the cost of a text stays bounded.
const MAX_CHARS: usize = 4_000;

impl Classifier {
    /// These rules with `model` beside them: the model ships with the release, read once from the templates
    /// folder, while the lexicons may come from a catalog version in the database.
    pub fn with_model(mut self, model: Option<Arc<Model>>) -> Self {
        self.model = model;
        self
    }

    pub fn assess(&self, text: &str) -> Assessment {
        self.assess_with(text, self.model.as_deref())
    }

    /// The reading of the rules alone, without the model: for a word the service itself asks clients to
    /// text, whose bareness the model never saw (see `check_plan_keywords_say_nothing_of_risk` in
    /// src/templates/load.rs).
    pub fn assess_by_rules(&self, text: &str) -> Assessment {
        self.assess_with(text, None)
    }

    fn assess_with(&self, text: &str, model: Option<&Model>) -> Assessment {
        let mut readings = Vec::new();
        let (words, modifiers, spans) = self.analyse(text, &mut readings);
        let spans = matching::ByClass::of(&spans);

        let mut matches: Vec<RiskMatch> = Vec::new();
        let mut someone_else = true;
        // What the model must know of the rules' reading (see `model::Decision`).
        let mut found_by_rules = model::RulesFound::default();
        for rule in &self.rules {
            if spans.has_any(&rule.unless) {
                continue;
            }
            let found_all = self.matches_of(rule, &spans);
            // Of overlapping matches of one rule, only the widest is reported ("i want to die", not also
            // "want to die").
            let widest = found_all.iter().filter(|found| {
                !found_all.iter().any(|other| {
                    other.start <= found.start
                        && found.end <= other.end
                        && (other.end - other.start) > (found.end - found.start)
                })
            });
            for found in widest {
                let negated = rule.lowered_by_negation && self.negated(&words, &modifiers, found.start);
                let past = rule.lowered_by_past && self.in_the_past(&words, &modifiers, found.start, found.end);
                let mut tier = rule.tier;
                if negated {
                    tier = tier.lowered();
                }
                if past {
                    tier = tier.lowered();
                }
                tier = tier.max(rule.lowest.min(rule.tier));
                let phrase = found
                    .parts
                    .iter()
                    .map(|&(start, end)| phrase_of(&words, start, end))
                    .collect::<Vec<_>>()
                    .join(" … ");
                if matches.iter().any(|m| m.entry == rule.id && m.phrase == phrase) {
                    continue;
                }
                if tier == Tier::Crisis && !rule.someone_else {
                    someone_else = false;
                }
                found_by_rules.note(rule.tier, tier, rule.someone_else, &rule.id);
                matches.push(RiskMatch {
                    entry: rule.id.clone(),
                    category: rule.category.clone(),
                    phrase,
                    tier,
                    negated,
                    past,
                    doubted: false,
                });
            }
        }
        let mut tier = matches.iter().map(|m| m.tier).max().unwrap_or(Tier::None);
        let mut model_reading = None;
        if let Some(model) = model {
            let p = model.probabilities(&words);
            found_by_rules.words = words.iter().filter(|w| !w.is_break()).count();
            match Model::decide(&self.model_thresholds, tier, &found_by_rules, p) {
                Decision::Keep => {}
                Decision::Raise(raised) => {
                    if raised == Tier::Crisis {
                        // Only the rules tell a third person's emergency from the sender's own.
                        someone_else = found_by_rules.someone_else_only();
                    }
                    let strongest = model.strongest_words(&words, raised, 3);
                    matches.push(RiskMatch {
                        entry: format!("model.{}", raised.as_str()),
                        category: format!("worded like the {} texts the model learnt from", raised.as_str()),
                        phrase: if strongest.is_empty() {
                            "the text as a whole".to_owned()
                        } else {
                            strongest.join(", ")
                        },
                        tier: raised,
                        negated: false,
                        past: false,
                        doubted: false,
                    });
                    tier = raised;
                }
                Decision::DoubtCrisis => {
                    for found in matches.iter_mut().filter(|m| m.tier == Tier::Crisis) {
                        found.tier = Tier::Concern;
                        found.doubted = true;
                    }
                    tier = Tier::Concern;
                }
            }
            model_reading = Some(ModelReading {
                none: p[0],
                concern: p[1],
                crisis: p[2],
            });
        }
        Assessment {
            tier,
            matches,
            readings,
            someone_else: tier == Tier::Crisis && someone_else,
            model: model_reading,
        }
    }

    /// Reads a text and finds its classes: the modifiers on every word, the rest with idioms masked.
    fn analyse(
        &self,
        text: &str,
        readings: &mut Vec<Reading>,
    ) -> (Vec<reading::Word>, matching::Spans, matching::Spans) {
        let mut words = self.read(bounded(text), readings);
        let modifiers = self.find_spans(&self.modifier_index, &words);
        self.mask_idioms(&mut words);
        let spans = self.find_spans(&self.index, &words);
        (words, modifiers, spans)
    }

    /// How a text was read and every class found in it, for whoever writes or reviews a lexicon
    /// (`tether triage --explain`): why a rule did or did not match.
    pub fn explain(&self, text: &str) -> Explanation {
        let (words, modifiers, spans) = self.analyse(text, &mut Vec::new());
        let mut classes = Vec::new();
        for start in 0..words.len() {
            for &(class, end) in modifiers.at(start).iter().chain(spans.at(start)) {
                classes.push(format!(
                    "{}: {}",
                    self.class_names[class as usize],
                    phrase_of(&words, start, end as usize)
                ));
            }
        }
        Explanation {
            words: words
                .iter()
                .map(|w| match (w.kind, w.masked) {
                    (TokenKind::Break { .. }, _) => "|".to_owned(),
                    (_, true) => format!("({})", w.text),
                    _ => w.text.clone(),
                })
                .collect(),
            classes,
        }
    }

    /// Whether a span of the `negation` class ends just before `start`, in the same clause: a break or a
    /// word of the `contrast` class ("but", "pero") ends a negation's reach.
    fn negated(&self, words: &[reading::Word], spans: &matching::Spans, start: usize) -> bool {
        let Some(negation) = self.negation else {
            return false;
        };
        // A match that starts with its own subject ("i want to die") is a clause of its own: a negation before
        // it ("I can't tell her, I want to die") belongs to another.
        if words.get(start).is_some_and(|w| w.text == "i" || w.text == "yo") {
            return false;
        }
        let mut position = start;
        let earliest = start.saturating_sub(NEGATION_REACH + 4);
        while position > earliest {
            position -= 1;
            let contrast = self
                .contrast
                .is_some_and(|contrast| spans.at(position).iter().any(|&(class, _)| class == contrast));
            if words[position].is_break() || contrast {
                return false;
            }
            // A negation inside an idiom ("not kidding", "can't lie") negates nothing.
            let reaches = !words[position].masked
                && spans.at(position).iter().any(|&(class, end)| {
                    class == negation && end as usize <= start && start - end as usize <= NEGATION_REACH
                });
            if reaches {
                return true;
            }
        }
        false
    }

    /// Whether a span of the `past` class lies in the sentence of the match.
    fn in_the_past(&self, words: &[reading::Word], spans: &matching::Spans, start: usize, end: usize) -> bool {
        let Some(past) = self.past else {
            return false;
        };
        let sentence_start = words[..start]
            .iter()
            .rposition(reading::Word::ends_sentence)
            .map_or(0, |p| p + 1);
        let sentence_end = words[end.min(words.len())..]
            .iter()
            .position(reading::Word::ends_sentence)
            .map_or(words.len(), |p| end + p);
        (sentence_start..sentence_end).any(|position| spans.at(position).iter().any(|&(class, _)| class == past))
    }
}

/// The part of `text` that is read: its first [`MAX_CHARS`] characters.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

fn phrase_of(words: &[reading::Word], start: usize, end: usize) -> String {
    words[start..end]
        .iter()
        .filter(|w| !w.is_break())
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod lexicon_table {
    //! The shipped lexicons against texts written to pin down how each kind of rule behaves, read by the
    //! rules alone; then what the model beside them must never change. The corpus in `tests/fixtures/risk/`
    //! measures the two as a whole; these tables say what must never change.
    use super::*;

    fn shipped(
        loader: fn(&std::path::Path, &mut Vec<crate::domain::problem::Problem>) -> Option<Classifier>,
    ) -> Classifier {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("message_templates/risk");
        let mut problems = Vec::new();
        let classifier = loader(&dir, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        classifier.unwrap()
    }

    /// The shipped lexicons and model, as the service reads texts.
    pub(super) fn classifier() -> Classifier {
        shipped(load)
    }

    /// The shipped lexicons alone.
    pub(super) fn rules() -> Classifier {
        shipped(load_rules)
    }

    #[test]
    fn the_model_never_overrules_a_denial_or_the_past_and_never_drops_below_concern() {
        let classifier = classifier();
        assert!(classifier.model.is_some(), "the model ships beside the lexicons");
        for (text, tier) in [
            ("I'm not going to kill myself", Tier::Concern),
            ("i would never kill myself", Tier::Concern),
            ("no me voy a matar", Tier::Concern),
            ("I was suicidal two years ago, six months clean now", Tier::Concern),
            ("I want to die", Tier::Crisis),
            ("took all my pills", Tier::Crisis),
            ("my roommate used and won't wake up", Tier::Crisis),
            ("killing it at work today!", Tier::None),
            ("me muero de hambre", Tier::None),
            ("took one advil for my headache", Tier::None),
            ("Thanks, see you Tuesday", Tier::None),
        ] {
            let got = classifier.assess(text);
            assert_eq!(got.tier, tier, "{text:?}: {got:?}");
            assert!(got.model.is_some(), "{text:?}: the model's reading is reported");
        }
        // Whatever the model makes of it, a text a rule matched stays at least a concern.
        for text in ["feeling sucidal", "estoy consumiendo otra vez", "relapsed last night"] {
            let rules_alone = rules().assess(text).tier;
            assert!(rules_alone >= Tier::Concern, "{text:?}");
            assert!(classifier.assess(text).tier >= Tier::Concern, "{text:?}");
        }
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
            ("killmyself", Crisis),
            ("writing my su1cide note", Crisis),
            ("ready to end it all", Crisis),
            ("been suicidal all week", Crisis),
            ("feeling sucidal", Crisis),
            ("gona overdoes tn", Crisis),
            // Acts in progress, means with ingestion, third parties.
            ("took all my pills", Crisis),
            ("i took a bunch of tylenol", Crisis),
            ("took 25 advil", Crisis),
            ("💊💊💊 goodbye", Crisis),
            ("I OD'd", Crisis),
            ("he's not breathing", Crisis),
            ("my friend won't wake up", Crisis),
            ("gave him narcan and nothing", Crisis),
            // Negation lowers a crisis phrase one tier and never drops it.
            ("I'm not going to kill myself", Concern),
            ("i would never kill myself", Concern),
            ("not suicidal just tired", Concern),
            // The distant past.
            ("was suicidal two years ago, six months clean now", Concern),
            // Concern.
            ("I relapsed last night", Concern),
            ("ran out of my subs and im dope sick", Concern),
            ("i need help", Concern),
            ("cant do this anymore", Concern),
            // Spanish, with and without accents.
            ("me quiero matar", Crisis),
            ("Me voy a matar esta noche", Crisis),
            ("me tomé todas las pastillas", Crisis),
            ("se está poniendo azul", Crisis),
            ("ya no aguanto más", Concern),
            ("no me voy a matar", Concern),
            ("recaí anoche", Concern),
            // A negation in an idiom, or an English "no", denies nothing.
            ("no i want to die", Crisis),
            ("not kidding i want to die", Crisis),
            ("i cant lie i want to die", Crisis),
            ("never mind i want to die", Crisis),
            ("my husband is going to kill me", Crisis),
            ("mi esposo me va a matar", Crisis),
            ("este es mi u\u{301}ltimo mensaje, adio\u{301}s para siempre", Crisis),
            // Idioms, ordinary medicine and false friends page nobody.
            ("i need to go to the store", None),
            ("ready to go when you are", None),
            ("ate too much ice cream last night lol", None),
            ("i ate a whole bag of chips", None),
            ("took the long way home on purpose", None),
            ("the wine bottle is all gone", None),
            ("grandma is dying, going to see her today", None),
            ("the tomato plant is going to die if i dont water it today", None),
            ("dont want to hurt her feelings tbh", None),
            ("going to try again next week, not giving up", None),
            ("ill do it today after i take my meds", None),
            ("he will not answer his phone, i am done with him", None),
            ("checking out of the hotel at 11 am", None),
            ("logging off for the night, god bless", None),
            ("adios, voy al techo a arreglar la antena", None),
            ("estaba en el techo todo el dia trabajando", None),
            ("on the roof all day fixing gutters", None),
            ("im on the roof of my building, 14 floors up", Crisis),
            ("estoy en la azotea, son 12 pisos, voy a saltar", Crisis),
            ("hung the lights on the porch", None),
            ("i hung the belt off the closet door", Crisis),
            ("ya me tome las pastiyas, ya es tarde", Crisis),
            ("me tome la pastiya de la presion", None),
            ("el deadline de la universidad me esta matando", None),
            ("my daughter bridget said bye to everyone", None),
            ("killing it at work today!", None),
            ("dying to see my kids", None),
            ("my phone died", None),
            ("I'm dead 😂 that was hilarious", None),
            ("this traffic is killing me", None),
            ("I could kill for a coffee", None),
            ("dead tired after work", None),
            ("that's odd", None),
            ("took one advil for my headache", None),
            ("had some aspirin for my knee", None),
            ("picked up my prescription", None),
            ("my bills are overdue", None),
            ("me muero de ganas de verte", None),
            ("me muero de hambre", None),
            ("vivo en Puerto Rico", None),
            ("Thanks, see you Tuesday", None),
            ("C", None),
            ("", None),
        ];
        let classifier = rules();
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
    fn matches_name_their_rules_and_what_they_read() {
        let classifier = rules();
        let negated = classifier.assess("not going to kill myself");
        assert!(negated.matches.iter().all(|m| m.negated), "{negated:?}");
        assert!(
            negated.matches.iter().any(|m| m.entry == "ideation.explicit"),
            "{negated:?}"
        );
        let both = classifier.assess("not going to kill myself but i took all my pills");
        assert_eq!(both.tier, Tier::Crisis, "another crisis signal cancels the downgrade");
        let misspelt = classifier.assess("feeling sucidal");
        assert_eq!(misspelt.readings.len(), 1, "{misspelt:?}");
        assert_eq!(misspelt.readings[0].read_as, "suicidal");
        assert_eq!(misspelt.readings[0].how, ReadingKind::Spelling);
    }

    #[test]
    fn odd_and_hostile_texts_are_read_quickly_and_safely() {
        let classifier = classifier();
        for text in [
            "",
            " ",
            "💊",
            "🏽",
            "...!!!",
            "99999999999999999999999 pills",
            "ñ",
            "\u{200d}",
            "a*",
            "*a",
        ] {
            let _ = classifier.assess(text);
        }
        let long = "he is not breathing and i took all my pills goodbye forever tonight ".repeat(5_000);
        let started = std::time::Instant::now();
        assert_eq!(classifier.assess(&long).tier, Tier::Crisis);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn someone_else_in_danger_is_told_apart() {
        let classifier = rules();
        let other = classifier.assess("my roommate used and won't wake up");
        assert_eq!(other.tier, Tier::Crisis, "{other:?}");
        assert!(other.someone_else, "{other:?}");
        let own = classifier.assess("i took all my pills");
        assert!(!own.someone_else, "{own:?}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any Unicode, far past a text's length, is read without panicking, and only its first
        /// `MAX_CHARS` characters count: the cost of a text is bounded whatever is sent.
        #[test]
        fn any_text_is_read_and_only_its_first_characters_count(
            head in "\\PC{0,200}",
            filler in prop::sample::select(vec!["kill myself ", "\u{1F48A}", "a", " ", ".", "\u{0301}"]),
            tail in "\\PC{0,200}",
        ) {
            static CLASSIFIER: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
            let classifier = CLASSIFIER.get_or_init(lexicon_table::classifier);
            let text = format!("{head}{}{tail}", filler.repeat(MAX_CHARS));
            let whole = classifier.assess(&text);
            let read = classifier.assess(&text.chars().take(MAX_CHARS).collect::<String>());
            prop_assert_eq!(whole, read);
        }
    }
}
