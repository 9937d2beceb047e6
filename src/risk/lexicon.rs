//! Loading and checking the lexicon files in `message_templates/risk/`, one per language.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;
use toml::Spanned;

use super::{Classifier, Entry, Pattern, Tier, normalize};
use crate::templates::{Problem, Severity, line_of};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    language: String,
    /// Everyday phrases that contain a risk word but carry no risk.
    #[serde(default)]
    idioms: Vec<String>,
    /// Words that negate a phrase a few words after them.
    #[serde(default)]
    negations: Vec<String>,
    /// Named word lists that entries refer to in `escalate_with`.
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    entries: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    id: Spanned<String>,
    tier: Spanned<String>,
    category: String,
    patterns: Spanned<Vec<String>>,
    #[serde(default)]
    escalate_with: Vec<String>,
    escalated_tier: Option<Spanned<String>>,
}

/// Reads every `*.toml` in `dir` into one classifier; problems are pushed with file and line.
pub fn load(dir: &Path, problems: &mut Vec<Problem>) -> Option<Classifier> {
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
    let mut builder = Builder::default();
    for path in &paths {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                problems.push(problem(path, None, format!("cannot be read: {err}")));
                continue;
            }
        };
        match toml::from_str::<LexiconFile>(&text) {
            Ok(file) => builder.add_file(path, &text, file, problems),
            Err(err) => {
                let line = err.span().map(|span| line_of(&text, span.start));
                problems.push(problem(path, line, err.message().to_owned()));
            }
        }
    }
    if problems.len() > errors_before {
        return None;
    }
    builder.build(&paths[0], problems)
}

#[derive(Default)]
struct Builder {
    strings: Vec<String>,
    patterns: Vec<Pattern>,
    entries: Vec<Entry>,
    group_count: usize,
    ids: BTreeSet<String>,
}

impl Builder {
    fn add_file(&mut self, path: &Path, text: &str, file: LexiconFile, problems: &mut Vec<Problem>) {
        let language = file.language.trim().to_owned();
        let mut group_index = BTreeMap::new();
        for (name, words) in &file.groups {
            let index = self.group_count;
            self.group_count += 1;
            group_index.insert(name.clone(), index);
            for word in words {
                self.add_pattern(path, None, word, Pattern::Group(index), problems);
            }
        }
        for idiom in &file.idioms {
            self.add_pattern(path, None, idiom, Pattern::Idiom, problems);
        }
        for negation in &file.negations {
            self.add_pattern(path, None, negation, Pattern::Negation, problems);
        }
        for entry in file.entries {
            let line = Some(line_of(text, entry.id.span().start));
            let id = format!("{language}.{}", entry.id.get_ref());
            if !self.ids.insert(id.clone()) {
                problems.push(problem(
                    path,
                    line,
                    format!("entry id `{}` is used twice", entry.id.get_ref()),
                ));
            }
            let tier = parse_tier(path, text, &entry.tier, problems);
            let escalated_tier = entry
                .escalated_tier
                .as_ref()
                .and_then(|t| parse_tier(path, text, t, problems));
            let mut escalate_with = Vec::new();
            for group in &entry.escalate_with {
                match group_index.get(group) {
                    Some(index) => escalate_with.push(*index),
                    None => problems.push(problem(
                        path,
                        line,
                        format!("escalate_with names `{group}`, which is not in [groups]"),
                    )),
                }
            }
            if escalate_with.is_empty() != escalated_tier.is_none() {
                problems.push(problem(
                    path,
                    line,
                    "escalate_with and escalated_tier go together".into(),
                ));
            }
            if entry.patterns.get_ref().is_empty() {
                problems.push(problem(path, line, "patterns must list at least one phrase".into()));
            }
            let Some(tier) = tier else { continue };
            let index = self.entries.len();
            self.entries.push(Entry {
                id,
                category: entry.category,
                tier,
                escalate_with,
                escalated_tier: escalated_tier.unwrap_or(tier),
            });
            let patterns_line = Some(line_of(text, entry.patterns.span().start));
            for phrase in entry.patterns.get_ref() {
                let pattern = Pattern::Entry {
                    entry: index,
                    phrase: phrase.clone(),
                };
                self.add_pattern(path, patterns_line, phrase, pattern, problems);
            }
        }
    }

    fn add_pattern(
        &mut self,
        path: &Path,
        line: Option<usize>,
        phrase: &str,
        pattern: Pattern,
        problems: &mut Vec<Problem>,
    ) {
        let normalized = normalize(phrase);
        if normalized.trim().is_empty() {
            problems.push(problem(
                path,
                line,
                format!("phrase `{phrase}` has no words once normalised"),
            ));
            return;
        }
        self.strings.push(normalized);
        self.patterns.push(pattern);
    }

    fn build(self, path: &Path, problems: &mut Vec<Problem>) -> Option<Classifier> {
        match AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&self.strings)
        {
            Ok(automaton) => Some(Classifier {
                automaton,
                patterns: self.patterns,
                entries: self.entries,
            }),
            Err(err) => {
                problems.push(problem(path, None, format!("lexicons cannot be compiled: {err}")));
                None
            }
        }
    }
}

fn parse_tier(path: &Path, text: &str, tier: &Spanned<String>, problems: &mut Vec<Problem>) -> Option<Tier> {
    let parsed = Tier::parse(tier.get_ref());
    if parsed.is_none() {
        problems.push(problem(
            path,
            Some(line_of(text, tier.span().start)),
            format!("tier `{}` must be crisis, concern or none", tier.get_ref()),
        ));
    }
    parsed
}

fn problem(path: &Path, line: Option<usize>, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        severity: Severity::Error,
        message,
    }
}
