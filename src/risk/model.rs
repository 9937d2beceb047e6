//! The second reader: a linear model of the words and letter groups of whole texts, learnt from the labelled
//! corpus (`tests/fixtures/risk/`), that catches risk said in wordings no rule names yet. The rules name what
//! they know; the model has read every labelled text and weighs how much a new text reads like the crisis,
//! concern and everyday ones. On rounds of texts neither had seen, the two together find clearly more
//! crisis texts than the rules alone; `docs/risk-model.md` holds the measured figures.
//!
//! It stays explainable: a text's probabilities are a sum of weights of its features (each word, each pair
//! of neighbouring words, and each group of three to five letters inside a word), and the match it adds
//! names the words that weighed most. It lives in `message_templates/risk/model.tsv`, one feature per line,
//! written by `tether triage --train` (see [`super::training`]); without that file the rules decide alone.
//!
//! How the two are combined is in [`Model::decide`]: the model can raise a text the rules missed, and can
//! take a page from one rule's crisis it finds very unlike any crisis it learnt, in a short text about the
//! sender (the text still reaches a person as a concern); it never lowers a text below concern once a rule
//! has matched, and never overrules a rule that read a crisis denied or long past.

use std::hash::Hasher;

use rustc_hash::{FxHashMap as HashMap, FxHasher};

use super::Tier;
use super::normalize::TokenKind;
use super::reading::Word;

/// Probabilities of none, concern and crisis, in that order.
pub type Probabilities = [f32; 3];

/// The learnt weights. Where they change a tier is the lexicons' to say (`Thresholds`), so one model serves
/// every catalog version built on the shipped lexicons.
pub struct Model {
    weights: HashMap<u64, [f32; 3]>,
    bias: [f32; 3],
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("features", &self.weights.len()).finish()
    }
}

/// Where the model's reading changes a text's tier: `[model]` in a lexicon file (`rules.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// P(crisis) at which a text is a crisis whatever the rules found; above 1 turns this off.
    pub crisis: f32,
    /// P(crisis) below which a rules' crisis pages nobody and is a concern instead; 0 turns this off.
    pub doubt_crisis: f32,
    /// P(concern) + P(crisis) at which a text no rule matched is a concern; above 1 turns this off.
    pub concern: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            crisis: 0.7,
            doubt_crisis: 0.2,
            concern: 0.8,
        }
    }
}

/// A text longer than this many words is never doubted: the corpus the model learnt from holds texts of up
/// to about sixty words, and in a longer one a crisis sentence is diluted by the rest (each feature weighs
/// `1/sqrt(features)`), so a doubt would say more about the length than about the crisis.
pub const LONGEST_DOUBTED: usize = 60;

/// What the rules found in a text, as far as the model's decision needs it.
#[derive(Debug, Default, Clone)]
pub struct RulesFound {
    /// Distinct rules that matched at crisis.
    crisis_rules: Vec<String>,
    /// A crisis rule was lowered by a negation or the distant past ("not going to kill myself").
    crisis_lowered: bool,
    /// A rule about another person in danger matched, at any tier.
    someone_else_seen: bool,
    /// A rule about the sender's own risk matched at concern or crisis.
    own_risk_seen: bool,
    /// The text's words, breaks left out.
    pub words: usize,
}

impl RulesFound {
    /// Notes one match of a rule of tier `rule_tier`, which carries `tier` after negation and the past.
    pub fn note(&mut self, rule_tier: Tier, tier: Tier, someone_else: bool, rule: &str) {
        if rule_tier == Tier::Crisis && tier < Tier::Crisis {
            self.crisis_lowered = true;
        }
        if tier == Tier::Crisis && !self.crisis_rules.iter().any(|r| r == rule) {
            self.crisis_rules.push(rule.to_owned());
        }
        if someone_else {
            self.someone_else_seen = true;
        } else if tier >= Tier::Concern {
            self.own_risk_seen = true;
        }
    }

    /// Only another person's danger was found: a crisis the model raises is theirs.
    pub fn someone_else_only(&self) -> bool {
        self.someone_else_seen && !self.own_risk_seen
    }

    /// A rules' crisis the model may take the page from: one rule's, about the sender, in a text no longer
    /// than those the model learnt from. Two rules agreeing, or another person's emergency, always page.
    fn doubtable(&self) -> bool {
        self.crisis_rules.len() == 1 && !self.someone_else_seen && self.words <= LONGEST_DOUBTED
    }
}

/// What the model made of a text beside the rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The rules' tier stands.
    Keep,
    /// The text is at least this tier, which the rules did not reach.
    Raise(Tier),
    /// The rules' crisis reads like no crisis the model learnt: a person reads it as a concern.
    DoubtCrisis,
}

impl Model {
    pub(super) fn new(weights: HashMap<u64, [f32; 3]>, bias: [f32; 3]) -> Self {
        Self { weights, bias }
    }

    pub fn probabilities(&self, words: &[Word]) -> Probabilities {
        let mut scores = self.bias;
        for_each_feature(words, |feature, value| {
            if let Some(weights) = self.weights.get(&feature.key()) {
                for (score, weight) in scores.iter_mut().zip(weights) {
                    *score += weight * value;
                }
            }
        });
        softmax(scores)
    }

    /// How the model's probabilities bear on the tier the rules gave and what they found.
    pub fn decide(t: &Thresholds, rules: Tier, found: &RulesFound, p: Probabilities) -> Decision {
        let crisis = p[2];
        if rules == Tier::Crisis {
            return if crisis < t.doubt_crisis && found.doubtable() {
                Decision::DoubtCrisis
            } else {
                Decision::Keep
            };
        }
        // A rule read a denial or the distant past of a crisis ("not going to kill myself"), which the model
        // cannot read: it does not overrule that reading.
        if found.crisis_lowered {
            return Decision::Keep;
        }
        if crisis >= t.crisis {
            return Decision::Raise(Tier::Crisis);
        }
        if rules == Tier::None && p[1] + p[2] >= t.concern {
            return Decision::Raise(Tier::Concern);
        }
        Decision::Keep
    }

    /// The words of a text that weighed most towards `tier`, strongest first, for the match the model adds:
    /// a letter group is shown as the word it is part of.
    pub fn strongest_words(&self, words: &[Word], tier: Tier, count: usize) -> Vec<String> {
        let class = tier_slot(tier);
        let mut weighed: Vec<(f32, String)> = Vec::new();
        for_each_feature(words, |feature, value| {
            let Some(weights) = self.weights.get(&feature.key()) else {
                return;
            };
            // What a feature adds to this tier over the others.
            let others = weights.iter().enumerate().filter(|&(c, _)| c != class).map(|(_, w)| *w);
            let lift = (weights[class] - others.fold(f32::MIN, f32::max)) * value;
            let shown = feature.shown();
            match weighed.iter_mut().find(|(_, s)| *s == shown) {
                Some(entry) => entry.0 += lift,
                None => weighed.push((lift, shown)),
            }
        });
        weighed.retain(|(lift, _)| *lift > 0.0);
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0));
        weighed.into_iter().take(count).map(|(_, shown)| shown).collect()
    }
}

pub(super) fn tier_slot(tier: Tier) -> usize {
    match tier {
        Tier::None => 0,
        Tier::Concern => 1,
        Tier::Crisis => 2,
    }
}

pub(super) fn softmax(scores: [f32; 3]) -> Probabilities {
    let top = scores.iter().copied().fold(f32::MIN, f32::max);
    let exp = scores.map(|s| (s - top).exp());
    let sum: f32 = exp.iter().sum();
    exp.map(|e| e / sum)
}

/// A letter group is padded with this at the word's edges, so `_ki` (a word starting so) differs from `ki`.
const EDGE: u8 = b'_';
const GROUP_SIZES: std::ops::RangeInclusive<usize> = 3..=5;

/// One feature of a text, borrowed from its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Feature<'a> {
    Word(&'a str),
    /// Two neighbouring words of one clause.
    Pair(&'a str, &'a str),
    /// A group of letters, `_` at the word's edges, and the word it is part of.
    Letters(&'a [u8], &'a str),
}

impl Feature<'_> {
    pub fn key(self) -> u64 {
        match self {
            Feature::Word(word) => word_key(word),
            Feature::Pair(first, second) => pair_key(first, second),
            Feature::Letters(group, _) => letters_key(group),
        }
    }

    /// Its name in the model file: `w:kill`, `b:kill myself`, `c:_ki`.
    pub fn name(self) -> String {
        match self {
            Feature::Word(word) => format!("w:{word}"),
            Feature::Pair(first, second) => format!("b:{first} {second}"),
            Feature::Letters(group, _) => format!("c:{}", String::from_utf8_lossy(group)),
        }
    }

    /// The words it is shown as when it weighed: a letter group as the word it is part of.
    pub fn shown(self) -> String {
        match self {
            Feature::Word(word) | Feature::Letters(_, word) => word.to_owned(),
            Feature::Pair(first, second) => format!("{first} {second}"),
        }
    }
}

/// Calls `emit(feature, value)` for each feature occurrence of the text. Features fall in two blocks, words and
/// pairs of words, and letter groups; each block is scaled to length one on its own (every occurrence carries
/// `1 / sqrt(occurrences in its block)`), so the many letter groups do not drown the few words and texts of
/// different lengths score on one scale. In a long text each feature weighs less, so one risky sentence
/// among many ordinary ones moves the model less: see [`LONGEST_DOUBTED`].
pub(super) fn for_each_feature(words: &[Word], mut emit: impl FnMut(Feature<'_>, f32)) {
    let (word_count, letter_count) = counts(words);
    let word_value = scale(word_count);
    let letter_value = scale(letter_count);
    let mut previous: Option<&str> = None;
    let mut padded = Vec::with_capacity(32);
    for word in words {
        if word.is_break() {
            previous = None;
            continue;
        }
        let text = word.text.as_str();
        emit(Feature::Word(text), word_value);
        if let Some(before) = previous {
            emit(Feature::Pair(before, text), word_value);
        }
        previous = Some(text);
        if has_letter_groups(word) {
            pad(text, &mut padded);
            for_each_group(&padded, |group| emit(Feature::Letters(group, text), letter_value));
        }
    }
}

/// How many feature occurrences each block holds.
fn counts(words: &[Word]) -> (usize, usize) {
    let mut word_count = 0;
    let mut letter_count = 0;
    let mut after_word = false;
    for word in words {
        if word.is_break() {
            after_word = false;
            continue;
        }
        word_count += if after_word { 2 } else { 1 };
        after_word = true;
        if has_letter_groups(word) {
            let padded = word.text.len() + 2;
            letter_count += GROUP_SIZES.map(|size| padded.saturating_sub(size - 1)).sum::<usize>();
        }
    }
    (word_count, letter_count)
}

fn scale(count: usize) -> f32 {
    if count == 0 { 0.0 } else { 1.0 / (count as f32).sqrt() }
}

/// Letter groups are taken from words of plain letters: a word in another script or an emoji is a feature
/// as a whole only.
fn has_letter_groups(word: &Word) -> bool {
    matches!(word.kind, TokenKind::Word | TokenKind::Number) && word.text.is_ascii()
}

fn pad(text: &str, padded: &mut Vec<u8>) {
    padded.clear();
    padded.push(EDGE);
    padded.extend_from_slice(text.as_bytes());
    padded.push(EDGE);
}

fn for_each_group(padded: &[u8], mut emit: impl FnMut(&[u8])) {
    for size in GROUP_SIZES {
        for group in padded.windows(size) {
            emit(group);
        }
    }
}

fn word_key(word: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u8(b'w');
    hasher.write(word.as_bytes());
    hasher.finish()
}

fn pair_key(first: &str, second: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u8(b'b');
    hasher.write(first.as_bytes());
    hasher.write_u8(0xff);
    hasher.write(second.as_bytes());
    hasher.finish()
}

fn letters_key(group: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u8(b'c');
    hasher.write(group);
    hasher.finish()
}

/// The key of a feature as the model file names it (`w:kill`, `b:kill myself`, `c:_ki`).
pub(super) fn key_of_name(name: &str) -> Option<u64> {
    let (kind, feature) = name.split_once(':')?;
    match kind {
        "w" if !feature.is_empty() => Some(word_key(feature)),
        "b" => {
            let (first, second) = feature.split_once(' ')?;
            Some(pair_key(first, second))
        }
        "c" if GROUP_SIZES.contains(&feature.len()) => Some(letters_key(feature.as_bytes())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::Tier::{Concern, Crisis, None as Everyday};

    /// Decides with the default thresholds.
    struct Defaults;

    impl Defaults {
        fn decide(&self, rules: Tier, found: &RulesFound, p: Probabilities) -> Decision {
            Model::decide(&Thresholds::default(), rules, found, p)
        }
    }

    fn model() -> Defaults {
        Defaults
    }

    /// What the rules found: `rules` matched at their own tier, `lowered` were crisis rules lowered to concern.
    fn found(rules: &[(&str, Tier, bool)], lowered: bool, words: usize) -> RulesFound {
        let mut found = RulesFound::default();
        for &(rule, tier, someone_else) in rules {
            found.note(tier, tier, someone_else, rule);
        }
        if lowered {
            found.note(Crisis, Concern, false, "ideation.explicit");
        }
        found.words = words;
        found
    }

    #[test]
    fn the_model_raises_what_the_rules_missed_and_doubts_an_unlikely_crisis() {
        let model = model();
        let likely_crisis = [0.05, 0.1, 0.85];
        let some_crisis = [0.15, 0.6, 0.25];
        let borderline_crisis = [0.1, 0.3, 0.6];
        let concern = [0.2, 0.75, 0.05];
        let everyday = [0.9, 0.08, 0.02];
        let nothing = found(&[], false, 8);
        let a_concern = found(&[("use.relapse", Concern, false)], false, 8);
        let one_crisis = found(&[("farewell", Crisis, false)], false, 8);
        assert_eq!(model.decide(Everyday, &nothing, likely_crisis), Decision::Raise(Crisis));
        assert_eq!(model.decide(Everyday, &nothing, some_crisis), Decision::Raise(Concern));
        assert_eq!(
            model.decide(Concern, &a_concern, likely_crisis),
            Decision::Raise(Crisis)
        );
        assert_eq!(model.decide(Concern, &a_concern, borderline_crisis), Decision::Keep);
        assert_eq!(model.decide(Everyday, &nothing, concern), Decision::Raise(Concern));
        assert_eq!(model.decide(Everyday, &nothing, everyday), Decision::Keep);
        assert_eq!(model.decide(Concern, &a_concern, concern), Decision::Keep);
        assert_eq!(model.decide(Crisis, &one_crisis, some_crisis), Decision::Keep);
        assert_eq!(model.decide(Crisis, &one_crisis, everyday), Decision::DoubtCrisis);
    }

    #[test]
    fn a_denied_crisis_two_crisis_rules_another_persons_emergency_and_long_texts_are_never_overruled() {
        let model = model();
        let likely_crisis = [0.05, 0.1, 0.85];
        let everyday = [0.9, 0.08, 0.02];
        // "not going to kill myself": the rule's denial stands, whatever the model reads.
        assert_eq!(
            model.decide(Concern, &found(&[], true, 5), likely_crisis),
            Decision::Keep
        );
        // A denied relapse ("haven't used in years") blocks nothing: only a lowered crisis does.
        let mut denied_use = RulesFound::default();
        denied_use.note(Concern, Everyday, false, "use.relapse");
        denied_use.words = 12;
        assert_eq!(
            model.decide(Everyday, &denied_use, likely_crisis),
            Decision::Raise(Crisis)
        );
        let two_rules = found(
            &[("farewell", Crisis, false), ("plan.means_with_intent", Crisis, false)],
            false,
            9,
        );
        assert_eq!(model.decide(Crisis, &two_rules, everyday), Decision::Keep);
        let roommate = found(&[("someone_else.emergency", Crisis, true)], false, 7);
        assert_eq!(model.decide(Crisis, &roommate, everyday), Decision::Keep);
        let long = found(&[("farewell", Crisis, false)], false, LONGEST_DOUBTED + 1);
        assert_eq!(model.decide(Crisis, &long, everyday), Decision::Keep);
    }

    #[test]
    fn a_crisis_the_model_raises_is_another_persons_only_when_the_rules_saw_only_that() {
        assert!(found(&[("someone_else.weak", Concern, true)], false, 9).someone_else_only());
        assert!(
            !found(
                &[("someone_else.weak", Concern, true), ("hopeless", Concern, false)],
                false,
                9
            )
            .someone_else_only()
        );
        assert!(!found(&[], false, 9).someone_else_only());
    }

    #[test]
    fn thresholds_past_their_ends_turn_each_use_off() {
        let off = Thresholds {
            crisis: 1.01,
            doubt_crisis: 0.0,
            concern: 1.01,
        };
        for p in [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]] {
            for (tier, rules) in [
                (Everyday, found(&[], false, 3)),
                (Concern, found(&[("hopeless", Concern, false)], false, 3)),
                (Crisis, found(&[("farewell", Crisis, false)], false, 3)),
            ] {
                assert_eq!(Model::decide(&off, tier, &rules, p), Decision::Keep, "{tier:?} {p:?}");
            }
        }
    }

    fn word(text: &str) -> Word {
        Word {
            text: text.to_owned(),
            kind: TokenKind::Word,
            id: None,
            number: None,
            masked: false,
        }
    }

    #[test]
    fn every_feature_is_found_again_from_its_name_and_blocks_are_scaled_to_length_one() {
        let words = vec![
            word("took"),
            word("all"),
            Word {
                kind: TokenKind::Break { hard: true },
                ..word(".")
            },
            word("ok"),
            Word {
                kind: TokenKind::Emoji,
                ..word("💊")
            },
        ];
        let mut named = Vec::new();
        for_each_feature(&words, |feature, value| {
            named.push((feature.key(), feature.name(), value))
        });
        for (key, name, _) in &named {
            assert_eq!(key_of_name(name), Some(*key), "{name}");
        }
        let names: Vec<&str> = named.iter().map(|(_, n, _)| n.as_str()).collect();
        assert!(names.contains(&"b:took all"), "{names:?}");
        assert!(!names.contains(&"b:all ok"), "a pair never spans a break: {names:?}");
        assert!(names.contains(&"c:_to") && names.contains(&"c:took_"), "{names:?}");
        assert!(
            !names.iter().any(|n| n.starts_with("c:") && n.contains('💊')),
            "{names:?}"
        );
        for prefix in ["w:", "c:"] {
            let block: Vec<f32> = named
                .iter()
                .filter(|(_, n, _)| n.starts_with(prefix) || (prefix == "w:" && n.starts_with("b:")))
                .map(|(_, _, v)| *v)
                .collect();
            let length: f32 = block.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((length - 1.0).abs() < 1e-5, "{prefix} block has length {length}");
        }
        assert_eq!(key_of_name("x:what"), None);
        assert_eq!(key_of_name("c:ab"), None, "letter groups are three to five long");
        assert_eq!(key_of_name("b:single"), None);
    }
}
