//! Loading and checking the lexicon files in `message_templates/risk/`, one per language, into one
//! [`Classifier`]. Classes of the same name in several files are one class (each language adds its words to
//! `negation`, `means`, …); rules usually live in a file of their own with no language, and name classes
//! only, so one rule serves every language. A rule in a language's file has its id prefixed with the
//! language. Every problem is reported with
//! its file and line, and none is left for the first text to find.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::model::{Model, Thresholds};
use super::normalize::{TokenKind, tokenize};
use super::pattern::{self, Element, FirstKey, Names};
use super::reading::with_clipped_ending;
use super::spelling::Speller;
use super::training;
use super::{Classifier, CompiledPattern, Idiom, Index, Rewrite, Rule, RuleKind, Tier};
use crate::domain::problem::{Problem, Severity, line_of};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    /// The language of a file of words; a file of shared rules has none, and its rule ids no prefix.
    language: Option<String>,
    /// Shorthand and the words it stands for, rewritten before any rule is tried.
    #[serde(default)]
    textspeak: BTreeMap<String, Spanned<String>>,
    /// The risk words a misspelling is read as ("sucide" → "suicide"): no other word is ever a correction.
    #[serde(default)]
    protected: Vec<String>,
    /// Everyday phrases whose words take part in no rule ("killed it", "me muero de hambre").
    idioms: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    classes: BTreeMap<String, Spanned<Vec<String>>>,
    #[serde(default)]
    rules: Vec<RuleFile>,
    /// Where the model's reading changes a text's tier (see `super::model::Thresholds`).
    model: Option<Spanned<ModelFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    crisis: f32,
    doubt_crisis: f32,
    concern: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    tier: Spanned<String>,
    category: String,
    #[serde(default)]
    patterns: Vec<String>,
    /// Classes that must all be found within `within` tokens, each part naming one class or several
    /// separated by `|`.
    #[serde(default)]
    near: Vec<String>,
    within: Option<usize>,
    #[serde(default)]
    lowered_by: Vec<String>,
    /// The lowest tier negation or the past can bring a match to.
    lowest: Option<Spanned<String>>,
    /// Classes that, found anywhere in the text, undo the rule: a goodbye with "see you Thursday" is no
    /// farewell.
    #[serde(default)]
    unless: Vec<String>,
    about: Option<String>,
}

/// The model file beside the lexicons; without it the rules decide alone.
pub const MODEL_FILE: &str = "model.tsv";

/// Reads every `*.toml` in `dir` into one classifier, with the model of [`MODEL_FILE`] if there is one;
/// problems are pushed with file and line.
pub fn load(dir: &Path, problems: &mut Vec<Problem>) -> Option<Classifier> {
    let classifier = load_rules(dir, problems)?;
    let errors_before = problems.len();
    let model = read_model(dir, problems);
    if problems
        .iter()
        .skip(errors_before)
        .any(|p| p.severity == Severity::Error)
    {
        return None;
    }
    Some(classifier.with_model(model))
}

/// The model of [`MODEL_FILE`] in `dir`, shared by every classifier built on these lexicons; `None` when
/// there is none (see [`missing_model`]), and a problem when it is broken.
pub fn read_model(dir: &Path, problems: &mut Vec<Problem>) -> Option<Arc<Model>> {
    let path = dir.join(MODEL_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            problems.push(problem(&path, None, format!("cannot be read: {err}")));
            return None;
        }
    };
    match training::parse(&text) {
        Ok(model) => Some(Arc::new(model)),
        Err((line, message)) => {
            problems.push(problem(&path, (line > 0).then_some(line), message));
            None
        }
    }
}

/// A warning when the lexicons in `dir` set `[model]` but no model lies beside them: the service would read
/// texts with the rules alone, which miss more risk. For the folder a service starts from; a catalog version
/// checked in a scratch folder never holds the model (it ships with the release).
pub fn missing_model(dir: &Path) -> Option<Problem> {
    let path = dir.join(MODEL_FILE);
    let thresholds_set = fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            entry.path().extension().is_some_and(|ext| ext == "toml")
                && fs::read_to_string(entry.path()).is_ok_and(|text| text.lines().any(|l| l.trim() == "[model]"))
        })
    });
    (thresholds_set && !path.exists()).then(|| Problem {
        severity: Severity::Warning,
        ..problem(
            &path,
            None,
            "is missing although [model] is set: the rules decide alone, and miss more risk (docs/risk-model.md); \
             retrain it with `tether triage --train`"
                .into(),
        )
    })
}

/// Reads the lexicons alone: what a model is trained with.
pub fn load_rules(dir: &Path, problems: &mut Vec<Problem>) -> Option<Classifier> {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(err) => {
            problems.push(problem(dir, None, format!("cannot be listed: {err}")));
            return None;
        }
    };
    paths.sort();
    if paths.is_empty() {
        problems.push(problem(
            dir,
            None,
            "holds no lexicon (*.toml); risk detection needs at least one".into(),
        ));
        return None;
    }

    let errors_before = problems.len();
    let mut files = Vec::new();
    for path in &paths {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                problems.push(problem(path, None, format!("cannot be read: {err}")));
                continue;
            }
        };
        match toml::from_str::<LexiconFile>(&text) {
            Ok(file) => files.push((path.clone(), text, file)),
            Err(err) => {
                let line = err.span().map(|span| line_of(&text, span.start));
                problems.push(problem(path, line, err.message().to_owned()));
            }
        }
    }
    if problems.len() > errors_before {
        return None;
    }
    let mut builder = Builder::default();
    // Textspeak first: a pattern that spells out textspeak (which texts never hold) is refused.
    for (path, text, file) in &files {
        builder.add_textspeak(path, text, file, problems);
    }
    for (path, text, file) in files {
        builder.add_file(&path, &text, file, problems);
    }
    // Built even after a problem, so that every problem is reported at once.
    let built = builder.build(&paths[0], problems);
    if problems.len() > errors_before {
        return None;
    }
    built
}

#[derive(Default)]
struct Builder {
    vocabulary: HashMap<String, u32>,
    stems: Vec<String>,
    stem_ids: HashMap<String, u32>,
    textspeak: HashMap<String, Vec<Rewrite>>,
    /// Where each textspeak key was written, to name both places of a conflict.
    textspeak_sources: HashMap<String, (PathBuf, String)>,
    class_ids: HashMap<String, u32>,
    class_names: Vec<String>,
    /// Where a class is first named, for a class that is never defined.
    class_first_named: HashMap<u32, (PathBuf, Option<usize>)>,
    class_defined: Vec<bool>,
    patterns: Vec<CompiledPattern>,
    idioms: Vec<Idiom>,
    rules: Vec<Rule>,
    rule_ids: HashMap<String, (PathBuf, usize)>,
    /// Where the pattern being parsed is, for the first naming of a class.
    here: Option<(PathBuf, Option<usize>)>,
    protected: Vec<String>,
    model_thresholds: Option<(PathBuf, Thresholds)>,
}

impl Names for Builder {
    fn word(&mut self, word: &str) -> u32 {
        let next = self.vocabulary.len() as u32;
        *self.vocabulary.entry(word.to_owned()).or_insert(next)
    }

    fn stem(&mut self, stem: &str) -> u32 {
        if let Some(&id) = self.stem_ids.get(stem) {
            return id;
        }
        let id = self.stems.len() as u32;
        self.stems.push(stem.to_owned());
        self.stem_ids.insert(stem.to_owned(), id);
        id
    }

    fn class(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.class_ids.get(name) {
            return id;
        }
        let id = self.class_names.len() as u32;
        self.class_names.push(name.to_owned());
        self.class_defined.push(false);
        self.class_ids.insert(name.to_owned(), id);
        if let Some(here) = &self.here {
            self.class_first_named.insert(id, here.clone());
        }
        id
    }

    fn rewritten(&self, word: &str) -> Option<String> {
        if let Some(full) = with_clipped_ending(word) {
            return Some(full);
        }
        let rewrites = self.textspeak.get(word)?;
        rewrites.iter().find(|r| r.rest.is_empty()).map(|r| {
            r.replacement
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

impl Builder {
    fn add_textspeak(&mut self, path: &Path, text: &str, file: &LexiconFile, problems: &mut Vec<Problem>) {
        for (typed, meant) in &file.textspeak {
            let line = Some(line_of(text, meant.span().start));
            let meant = meant.get_ref();
            let key: Vec<String> = tokenize(typed).into_iter().map(|t| t.text).collect();
            let replacement = tokenize(meant);
            let Some((first, rest)) = key.split_first() else {
                problems.push(problem(path, line, format!("textspeak `{typed}` has no words")));
                continue;
            };
            if replacement.iter().any(|t| matches!(t.kind, TokenKind::Break { .. })) || replacement.is_empty() {
                problems.push(problem(
                    path,
                    line,
                    format!("textspeak `{typed}` must stand for words, not `{meant}`"),
                ));
                continue;
            }
            let joined = key.join(" ");
            if let Some((other_path, other_meant)) = self.textspeak_sources.get(&joined)
                && other_meant != meant
            {
                problems.push(problem(
                    path,
                    line,
                    format!(
                        "textspeak `{typed}` means `{meant}` here and `{other_meant}` in {}",
                        other_path.display()
                    ),
                ));
                continue;
            }
            self.textspeak_sources.insert(joined, (path.to_owned(), meant.clone()));
            let rewrites = self.textspeak.entry(first.clone()).or_default();
            rewrites.push(Rewrite {
                rest: rest.to_vec(),
                replacement,
            });
            // Longest first, so `want 2` wins over a rewrite of `want` alone.
            rewrites.sort_by_key(|r| std::cmp::Reverse(r.rest.len()));
        }
    }

    fn add_file(&mut self, path: &Path, text: &str, file: LexiconFile, problems: &mut Vec<Problem>) {
        if let Some(model) = &file.model {
            self.add_model_thresholds(path, text, model, problems);
        }
        let prefix = file
            .language
            .as_deref()
            .map(|language| format!("{}.", language.trim()))
            .unwrap_or_default();
        for word in &file.protected {
            for token in tokenize(word) {
                self.word(&token.text);
                self.protected.push(token.text);
            }
        }

        let idioms_line = file.idioms.as_ref().map(|idioms| line_of(text, idioms.span().start));
        let idioms = file.idioms.map(Spanned::into_inner).unwrap_or_default();
        for idiom in &idioms {
            self.here = Some((path.to_owned(), idioms_line));
            match pattern::parse(idiom, self) {
                Ok(elements) if pattern::names_a_class(&elements) => problems.push(problem(
                    path,
                    idioms_line,
                    format!("idiom `{idiom}` names a class; idioms are plain words"),
                )),
                Ok(elements) => match pattern::without_leading_groups(elements) {
                    Ok(expanded) => self.idioms.extend(expanded.into_iter().map(|elements| Idiom {
                        then: pattern::second_keys(&elements),
                        elements,
                    })),
                    Err(err) => problems.push(problem(path, idioms_line, format!("idiom `{idiom}` {err}"))),
                },
                Err(err) => problems.push(problem(path, idioms_line, format!("idiom `{idiom}` {err}"))),
            }
        }

        for (name, sources) in &file.classes {
            let line = Some(line_of(text, sources.span().start));
            self.here = Some((path.to_owned(), line));
            let class = self.class(name);
            self.class_defined[class as usize] = true;
            for source in sources.get_ref() {
                match pattern::parse(source, self) {
                    Ok(elements) => self.push_pattern(class, elements).unwrap_or_else(|err| {
                        problems.push(problem(path, line, format!("class `{name}`: `{source}` {err}")))
                    }),
                    Err(err) => problems.push(problem(path, line, format!("class `{name}`: `{source}` {err}"))),
                }
            }
        }

        for rule in file.rules {
            let line = line_of(text, rule.id.span().start);
            self.here = Some((path.to_owned(), Some(line)));
            let id = format!("{prefix}{}", rule.id.get_ref());
            if let Some((other_path, other_line)) = self.rule_ids.get(&id) {
                problems.push(problem(
                    path,
                    Some(line),
                    format!("rule `{id}` is also at {}:{other_line}", other_path.display()),
                ));
                continue;
            }
            self.rule_ids.insert(id.clone(), (path.to_owned(), line));
            let complain = |message: String| problem(path, Some(line), format!("rule `{id}`: {message}"));
            let Some(tier) = Tier::parse(rule.tier.get_ref()) else {
                problems.push(problem(
                    path,
                    Some(line_of(text, rule.tier.span().start)),
                    format!("tier `{}` must be crisis, concern or none", rule.tier.get_ref()),
                ));
                continue;
            };
            let mut lowered_by_negation = false;
            let mut lowered_by_past = false;
            for lowered in &rule.lowered_by {
                match lowered.as_str() {
                    "negation" => lowered_by_negation = true,
                    "past" => lowered_by_past = true,
                    other => {
                        problems.push(complain(format!("lowered_by `{other}` must be negation or past")));
                    }
                }
            }
            let lowest = match &rule.lowest {
                None => Tier::None,
                Some(lowest) => match Tier::parse(lowest.get_ref()) {
                    Some(tier) => tier,
                    None => {
                        problems.push(problem(
                            path,
                            Some(line_of(text, lowest.span().start)),
                            format!("lowest `{}` must be crisis, concern or none", lowest.get_ref()),
                        ));
                        Tier::None
                    }
                },
            };
            let someone_else = match rule.about.as_deref() {
                None | Some("self") => false,
                Some("someone_else") => true,
                Some(other) => {
                    problems.push(complain(format!("about `{other}` must be self or someone_else")));
                    false
                }
            };
            let kind = match (rule.patterns.is_empty(), rule.near.is_empty(), rule.within) {
                (false, true, None) => {
                    let class = self.class(&format!("rule:{id}"));
                    self.class_defined[class as usize] = true;
                    for source in &rule.patterns {
                        match pattern::parse(source, self) {
                            Ok(elements) => self
                                .push_pattern(class, elements)
                                .unwrap_or_else(|err| problems.push(complain(format!("`{source}` {err}")))),
                            Err(err) => problems.push(complain(format!("`{source}` {err}"))),
                        }
                    }
                    RuleKind::Patterns { class }
                }
                (true, false, Some(within)) if rule.near.len() >= 2 && within > 0 => {
                    let parts = rule
                        .near
                        .iter()
                        .map(|part| part.split('|').map(|name| self.class(name.trim())).collect())
                        .collect();
                    RuleKind::Near { parts, within }
                }
                _ => {
                    problems.push(complain(
                        "give either `patterns`, or `near` (two parts or more) with `within` (tokens, at least 1)"
                            .into(),
                    ));
                    continue;
                }
            };
            let unless = rule.unless.iter().map(|name| self.class(name.trim())).collect();
            self.rules.push(Rule {
                id,
                category: rule.category,
                tier,
                lowered_by_negation,
                lowered_by_past,
                lowest,
                someone_else,
                unless,
                kind,
            });
        }
        self.here = None;
    }

    fn add_model_thresholds(
        &mut self,
        path: &Path,
        text: &str,
        model: &Spanned<ModelFile>,
        problems: &mut Vec<Problem>,
    ) {
        let line = Some(line_of(text, model.span().start));
        if let Some((first, _)) = &self.model_thresholds {
            problems.push(problem(
                path,
                line,
                format!("[model] is set already in {}; set it in one file", first.display()),
            ));
            return;
        }
        let m = model.get_ref();
        for (name, value) in [
            ("crisis", m.crisis),
            ("doubt_crisis", m.doubt_crisis),
            ("concern", m.concern),
        ] {
            // Just above 1 is allowed: no probability reaches it, so `crisis` or `concern` is turned off.
            if !(0.0..=1.01).contains(&value) {
                problems.push(problem(
                    path,
                    line,
                    format!("[model] {name} = {value} is no probability; write one from 0 to 1"),
                ));
                return;
            }
        }
        // A doubt at or above the point where the model itself pages would take the page from every rules'
        // crisis it is not sure of: nobody would be paged for texts the rules know.
        if m.doubt_crisis >= m.crisis.min(0.5) {
            problems.push(problem(
                path,
                line,
                format!(
                    "[model] doubt_crisis = {} must be below 0.5 and below crisis = {}; 0 turns it off",
                    m.doubt_crisis, m.crisis
                ),
            ));
            return;
        }
        self.model_thresholds = Some((
            path.to_owned(),
            Thresholds {
                crisis: m.crisis,
                doubt_crisis: m.doubt_crisis,
                concern: m.concern,
            },
        ));
    }

    fn build(mut self, path: &Path, problems: &mut Vec<Problem>) -> Option<Classifier> {
        for (class, defined) in self.class_defined.iter().enumerate() {
            if !defined {
                let (where_path, line) = self
                    .class_first_named
                    .get(&(class as u32))
                    .cloned()
                    .unwrap_or((path.to_owned(), None));
                problems.push(problem(
                    &where_path,
                    line,
                    format!(
                        "class `@{}` is named but never defined in [classes]",
                        self.class_names[class]
                    ),
                ));
            }
        }
        for (reserved, needed) in [
            ("negation", self.rules.iter().any(|r| r.lowered_by_negation)),
            ("past", self.rules.iter().any(|r| r.lowered_by_past)),
        ] {
            if needed && !self.class_ids.contains_key(reserved) {
                problems.push(problem(
                    path,
                    None,
                    format!("rules are lowered_by `{reserved}`, but no lexicon defines the class `{reserved}`"),
                ));
            }
        }
        let ranks = self.ranks(path, problems)?;
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return None;
        }
        let index = index_of(self.patterns.iter().map(|p| p.elements.as_slice()), |_| true);
        let modifier_classes = self.closure_of(&["negation", "contrast", "past"]);
        let modifier_index = index_of(self.patterns.iter().map(|p| p.elements.as_slice()), |id| {
            modifier_classes.contains(&self.patterns[id as usize].class)
        });
        let idiom_index = index_of(self.idioms.iter().map(|p| p.elements.as_slice()), |_| true);
        let speller = Speller::new(self.protected.iter().map(String::as_str));
        // A word two edits longer than the longest protected word can be no misspelling of one, and no two
        // lexicon words run together are longer than twice the longest.
        let longest_word = self.vocabulary.keys().map(|w| w.chars().count()).max().unwrap_or(0);
        let longest_correctable =
            (longest_word * 2).max(self.protected.iter().map(|w| w.chars().count() + 2).max().unwrap_or(0));
        let negation = self.class_ids.get("negation").copied();
        let contrast = self.class_ids.get("contrast").copied();
        let past = self.class_ids.get("past").copied();
        // Rules are reported in a stable order: crisis first, then by id.
        self.rules
            .sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.id.cmp(&b.id)));
        Some(Classifier {
            vocabulary: self.vocabulary,
            stems: self.stems,
            textspeak: self.textspeak,
            speller,
            longest_correctable,
            class_ranks: ranks,
            class_names: self.class_names,
            patterns: self.patterns,
            index,
            modifier_index,
            idioms: self.idioms,
            idiom_index,
            rules: self.rules,
            negation,
            contrast,
            past,
            model: None,
            model_thresholds: self.model_thresholds.map(|(_, t)| t).unwrap_or_default(),
        })
    }

    /// Adds a pattern of `class`, as the patterns it stands for without a leading group.
    fn push_pattern(&mut self, class: u32, elements: Vec<Element>) -> Result<(), String> {
        for elements in pattern::without_leading_groups(elements)? {
            self.patterns.push(CompiledPattern {
                class,
                then: pattern::second_keys(&elements),
                elements,
            });
        }
        Ok(())
    }

    /// The classes named and every class their patterns use, transitively.
    fn closure_of(&self, names: &[&str]) -> Vec<u32> {
        let mut closure: Vec<u32> = names.iter().filter_map(|n| self.class_ids.get(*n).copied()).collect();
        let mut next = 0;
        while next < closure.len() {
            let class = closure[next];
            next += 1;
            for pattern in self.patterns.iter().filter(|p| p.class == class) {
                let mut used = Vec::new();
                pattern::classes_named(&pattern.elements, &mut used);
                for used in used {
                    if !closure.contains(&used) {
                        closure.push(used);
                    }
                }
            }
        }
        closure
    }

    /// Each class's rank: higher than every class its patterns name. A cycle is an error.
    fn ranks(&self, path: &Path, problems: &mut Vec<Problem>) -> Option<Vec<u32>> {
        let count = self.class_names.len();
        let mut uses: Vec<Vec<u32>> = vec![Vec::new(); count];
        for pattern in &self.patterns {
            pattern::classes_named(&pattern.elements, &mut uses[pattern.class as usize]);
        }
        let mut rank: Vec<Option<u32>> = vec![None; count];
        let mut remaining = count;
        while remaining > 0 {
            let mut progressed = false;
            for class in 0..count {
                if rank[class].is_some() {
                    continue;
                }
                let used: Option<Vec<u32>> = uses[class]
                    .iter()
                    .map(|&u| if u as usize == class { None } else { rank[u as usize] })
                    .collect();
                if let Some(used) = used {
                    rank[class] = Some(used.into_iter().max().map_or(0, |r| r + 1));
                    remaining -= 1;
                    progressed = true;
                }
            }
            if !progressed {
                // Only the classes that reach themselves are named, not every class that uses one of them.
                let unranked: Vec<usize> = (0..count).filter(|&c| rank[c].is_none()).collect();
                let reaches_itself = |from: usize| {
                    let mut seen = vec![false; count];
                    let mut stack: Vec<usize> = uses[from].iter().map(|&u| u as usize).collect();
                    while let Some(class) = stack.pop() {
                        if class == from {
                            return true;
                        }
                        if !std::mem::replace(&mut seen[class], true) {
                            stack.extend(uses[class].iter().map(|&u| u as usize));
                        }
                    }
                    false
                };
                let cycle: Vec<&str> = unranked
                    .into_iter()
                    .filter(|&c| reaches_itself(c))
                    .map(|c| self.class_names[c].as_str())
                    .collect();
                problems.push(problem(
                    path,
                    None,
                    format!("classes name each other in a cycle: {}", cycle.join(", ")),
                ));
                return None;
            }
        }
        Some(rank.into_iter().map(|r| r.unwrap_or(0)).collect())
    }
}

/// Indexes the patterns `include` keeps, by what each can start with; ids are positions in `patterns`.
fn index_of<'a>(patterns: impl Iterator<Item = &'a [Element]>, include: impl Fn(u32) -> bool) -> Index {
    let mut index = Index::default();
    for (id, elements) in patterns.enumerate() {
        let id = id as u32;
        if !include(id) {
            continue;
        }
        for key in pattern::first_keys(elements) {
            match key {
                FirstKey::Word(word) => index.by_word.entry(word).or_default().push(id),
                FirstKey::Stem(stem) => match index.by_stem.iter_mut().find(|(s, _)| *s == stem) {
                    Some((_, patterns)) => patterns.push(id),
                    None => index.by_stem.push((stem, vec![id])),
                },
                FirstKey::Class(class) => index.by_class.entry(class).or_default().push(id),
                FirstKey::Number => index.by_number.push(id),
            }
        }
    }
    index
}

fn problem(path: &Path, line: Option<usize>, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        severity: Severity::Error,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_missing_beside_lexicons_that_set_model_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.toml"), "[model]\ncrisis = 0.7\n").unwrap();
        let warning = missing_model(dir.path()).expect("a warning");
        assert_eq!(warning.severity, Severity::Warning);
        assert!(warning.message.contains("rules decide alone"), "{warning}");
        std::fs::write(dir.path().join(MODEL_FILE), "").unwrap();
        assert!(missing_model(dir.path()).is_none(), "the model is there");
        let plain = tempfile::tempdir().unwrap();
        std::fs::write(plain.path().join("rules.toml"), "[[rules]]\n").unwrap();
        assert!(missing_model(plain.path()).is_none(), "no [model], nothing missing");
    }

    fn load_text(text: &str) -> Result<Classifier, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("en.toml"), text).unwrap();
        let mut problems = Vec::new();
        load(dir.path(), &mut problems).ok_or_else(|| problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_small_lexicon_matches_through_classes_and_near_rules() {
        let classifier = load_text(
            r#"
            language = "en"
            idioms = ["dead tired"]
            [textspeak]
            tn = "tonight"
            [classes]
            negation = ["not", "never"]
            past = ["years ago"]
            time = ["tonight", "right now"]
            means = ["rope", "(the)? bridge"]
            die = ["die", "be dead"]
            [[rules]]
            id = "wish"
            tier = "crisis"
            category = "ideation"
            patterns = ["want to @die"]
            lowered_by = ["negation", "past"]
            [[rules]]
            id = "means"
            tier = "crisis"
            category = "means with time"
            near = ["means", "time"]
            within = 6
            "#,
        )
        .unwrap();
        assert_eq!(classifier.assess("i want to be dead").tier, Tier::Crisis);
        assert_eq!(classifier.assess("i do not want to die").tier, Tier::Concern);
        assert_eq!(classifier.assess("years ago i want to die").tier, Tier::Concern);
        assert_eq!(classifier.assess("got the rope. tn").tier, Tier::Crisis);
        assert_eq!(
            classifier.assess("got the rope for camping next month").tier,
            Tier::None
        );
        assert_eq!(classifier.assess("dead tired").tier, Tier::None);
        let near = classifier.assess("the bridge right now");
        assert_eq!(
            near.matches[0].phrase, "bridge … right now",
            "the tightest parts are reported"
        );
    }

    #[test]
    fn mistakes_are_reported_with_their_line() {
        let problems = load_text(
            r#"language = "en"
[textspeak]
gonna = "going to"
[classes]
loop_a = ["@loop_b"]
loop_b = ["@loop_a"]
[[rules]]
id = "one"
tier = "urgent"
category = "x"
patterns = ["a"]
[[rules]]
id = "two"
tier = "crisis"
category = "x"
patterns = ["gonna die", "@missing"]
"#,
        )
        .unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("en.toml:9: tier `urgent`"), "{all}");
        assert!(all.contains("en.toml:13: rule `en.two`: `gonna die`"), "{all}");
        assert!(all.contains("read with it as `going to`"), "{all}");
        assert!(all.contains("`@missing` is named but never defined"), "{all}");
        assert!(all.contains("cycle: loop_a, loop_b"), "{all}");
    }
}
