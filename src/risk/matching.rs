//! Finding where each class and rule matches in a text, and the rules that need several things near each
//! other.
//!
//! Tokens are visited from the last to the first. At each one, only the patterns that can start with it are
//! tried (the index), in the order of their classes' ranks, so every class a pattern names has already been
//! found at that token and at every later one. A class found at a token makes the patterns that start with
//! it candidates there too.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::pattern::{Element, FirstKey};
use super::reading::Word;
use super::{Classifier, Index, Rule, RuleKind, TokenKind};

/// Every class span of a text: for each start token, the classes that match there and where each match ends.
pub struct Spans {
    flat: Vec<(u32, u32)>,
    ranges: Vec<(u32, u32)>,
}

/// The same spans ordered by class, for the rules: `(class, start, end)`.
pub struct ByClass(Vec<(u32, u32, u32)>);

impl ByClass {
    pub fn of(spans: &Spans) -> Self {
        let mut all = Vec::with_capacity(spans.flat.len());
        for (start, &(begin, end)) in spans.ranges.iter().enumerate() {
            for &(class, span_end) in &spans.flat[begin as usize..end as usize] {
                all.push((class, start as u32, span_end));
            }
        }
        all.sort_unstable();
        Self(all)
    }

    /// The spans of `class`, by start.
    pub fn of_class(&self, class: u32) -> &[(u32, u32, u32)] {
        let from = self.0.partition_point(|&(c, _, _)| c < class);
        let to = self.0.partition_point(|&(c, _, _)| c <= class);
        &self.0[from..to]
    }

    /// Whether any of `classes` matches anywhere.
    pub fn has_any(&self, classes: &[u32]) -> bool {
        classes.iter().any(|&class| !self.of_class(class).is_empty())
    }
}

impl Spans {
    /// `(class, end)` for every match starting at `position`.
    pub fn at(&self, position: usize) -> &[(u32, u32)] {
        match self.ranges.get(position) {
            Some(&(begin, end)) => &self.flat[begin as usize..end as usize],
            None => &[],
        }
    }
}

/// One match of a rule: its extent and, for a rule of several parts, each part's.
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub parts: Vec<(usize, usize)>,
}

impl Classifier {
    /// Marks the words of every idiom, so no rule sees them.
    pub(super) fn mask_idioms(&self, words: &mut [Word]) {
        if self.idioms.is_empty() {
            return;
        }
        let empty = Spans {
            flat: Vec::new(),
            ranges: Vec::new(),
        };
        let mut masked = Vec::new();
        let mut ends = Vec::new();
        let mut candidates = Vec::new();
        for position in 0..words.len() {
            candidates.clear();
            self.candidates(&self.idiom_index, &words[position], &mut candidates);
            for &pattern in &candidates {
                let idiom = &self.idioms[pattern as usize];
                if !self.next_fits(idiom.then.as_deref(), words, &empty, position + 1) {
                    continue;
                }
                ends.clear();
                self.walk(&idiom.elements, words, &empty, position, &mut ends);
                if let Some(&end) = ends.iter().max() {
                    masked.push((position, end as usize));
                }
            }
        }
        for (start, end) in masked {
            for word in &mut words[start..end] {
                word.masked = true;
            }
        }
    }

    /// Every span of the classes `index` holds the patterns of.
    pub(super) fn find_spans(&self, index: &Index, words: &[Word]) -> Spans {
        let mut spans = Spans {
            flat: Vec::with_capacity(words.len()),
            ranges: vec![(0, 0); words.len()],
        };
        let mut queue: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
        let mut candidates: Vec<u32> = Vec::new();
        let mut ends: Vec<u32> = Vec::new();
        for position in (0..words.len()).rev() {
            let begin = spans.flat.len() as u32;
            spans.ranges[position] = (begin, begin);
            let word = &words[position];
            if word.masked || word.is_break() {
                continue;
            }
            candidates.clear();
            self.candidates(index, word, &mut candidates);
            for &pattern in &candidates {
                if self.next_fits(
                    self.patterns[pattern as usize].then.as_deref(),
                    words,
                    &spans,
                    position + 1,
                ) {
                    queue.push(Reverse((self.rank_of(pattern), pattern)));
                }
            }
            // A pattern is queued again only while it waits (a class it starts with is found at a lower rank
            // than its own), so its copies leave the queue one after another: skipping a repeat of the last
            // one tried is enough.
            let mut last_tried = None;
            while let Some(Reverse((_, pattern))) = queue.pop() {
                if last_tried == Some(pattern) {
                    continue;
                }
                last_tried = Some(pattern);
                let compiled = &self.patterns[pattern as usize];
                ends.clear();
                self.walk(&compiled.elements, words, &spans, position, &mut ends);
                for &end in &ends {
                    let here = spans.at(position);
                    let class_is_new = !here.iter().any(|&(class, _)| class == compiled.class);
                    if here.contains(&(compiled.class, end)) {
                        continue;
                    }
                    spans.flat.push((compiled.class, end));
                    spans.ranges[position].1 = spans.flat.len() as u32;
                    if class_is_new && let Some(next) = index.by_class.get(&compiled.class) {
                        for &pattern in next {
                            queue.push(Reverse((self.rank_of(pattern), pattern)));
                        }
                    }
                }
            }
        }
        spans
    }

    /// Whether the token at `next` can continue `pattern` (see `CompiledPattern::then`).
    fn next_fits(&self, then: Option<&[FirstKey]>, words: &[Word], spans: &Spans, next: usize) -> bool {
        let Some(keys) = then else {
            return true;
        };
        let Some(word) = words.get(next).filter(|w| !w.masked) else {
            return false;
        };
        keys.iter().any(|key| match *key {
            FirstKey::Word(id) => word.id == Some(id),
            FirstKey::Stem(stem) => {
                word.kind == TokenKind::Word && word.text.starts_with(self.stems[stem as usize].as_str())
            }
            FirstKey::Number => word.number.is_some(),
            FirstKey::Class(class) => spans.at(next).iter().any(|&(c, _)| c == class),
        })
    }

    fn rank_of(&self, pattern: u32) -> u32 {
        self.class_ranks[self.patterns[pattern as usize].class as usize]
    }

    /// The patterns of `index` that can start with `word`.
    fn candidates(&self, index: &Index, word: &Word, out: &mut Vec<u32>) {
        if word.masked {
            return;
        }
        if let Some(id) = word.id
            && let Some(patterns) = index.by_word.get(&id)
        {
            out.extend_from_slice(patterns);
        }
        if word.kind == TokenKind::Word {
            for (stem, patterns) in &index.by_stem {
                if word.text.starts_with(self.stems[*stem as usize].as_str()) {
                    out.extend_from_slice(patterns);
                }
            }
        }
        // A number the lexicon also knows as a word ("45") is still a number.
        if word.number.is_some() {
            out.extend_from_slice(&index.by_number);
        }
    }

    /// Where a match of `elements` starting at `position` can end (each end once).
    fn walk(&self, elements: &[Element], words: &[Word], spans: &Spans, position: usize, ends: &mut Vec<u32>) {
        let Some((element, rest)) = elements.split_first() else {
            if !ends.contains(&(position as u32)) {
                ends.push(position as u32);
            }
            return;
        };
        let word = words.get(position).filter(|w| !w.masked);
        match element {
            Element::Word(id) => {
                if word.is_some_and(|w| w.id == Some(*id)) {
                    self.walk(rest, words, spans, position + 1, ends);
                }
            }
            Element::Stem(stem) => {
                let stem = self.stems[*stem as usize].as_str();
                if word.is_some_and(|w| w.kind == TokenKind::Word && w.text.starts_with(stem)) {
                    self.walk(rest, words, spans, position + 1, ends);
                }
            }
            Element::Number { min, max } => {
                if word.and_then(|w| w.number).is_some_and(|n| (*min..=*max).contains(&n)) {
                    self.walk(rest, words, spans, position + 1, ends);
                }
            }
            Element::Class(class) => {
                if word.is_none() {
                    return;
                }
                for &(c, end) in spans.at(position) {
                    if c == *class {
                        self.walk(rest, words, spans, end as usize, ends);
                    }
                }
            }
            Element::Gap(most) => {
                self.walk(rest, words, spans, position, ends);
                for skipped in 1..=usize::from(*most) {
                    match words.get(position + skipped - 1) {
                        Some(w) if !w.ends_sentence() => self.walk(rest, words, spans, position + skipped, ends),
                        _ => break,
                    }
                }
            }
            Element::Not(alternatives) => {
                let mut found = Vec::new();
                for alternative in alternatives {
                    self.walk(alternative, words, spans, position, &mut found);
                }
                if found.is_empty() {
                    self.walk(rest, words, spans, position, ends);
                }
            }
            Element::Group { alternatives, optional } => {
                if *optional {
                    self.walk(rest, words, spans, position, ends);
                }
                let mut middles = Vec::new();
                for alternative in alternatives {
                    self.walk(alternative, words, spans, position, &mut middles);
                }
                for middle in middles {
                    self.walk(rest, words, spans, middle as usize, ends);
                }
            }
        }
    }

    /// The matches of one rule in a text.
    pub(super) fn matches_of(&self, rule: &Rule, spans: &ByClass) -> Vec<Found> {
        match &rule.kind {
            RuleKind::Patterns { class } => spans
                .of_class(*class)
                .iter()
                .map(|&(_, start, end)| Found {
                    start: start as usize,
                    end: end as usize,
                    parts: vec![(start as usize, end as usize)],
                })
                .collect(),
            RuleKind::Near { parts, within } => {
                if !parts.iter().all(|classes| spans.has_any(classes)) {
                    return Vec::new();
                }
                let found: Vec<Vec<(usize, usize)>> = parts
                    .iter()
                    .map(|classes| {
                        classes
                            .iter()
                            .flat_map(|&class| spans.of_class(class))
                            .map(|&(_, start, end)| (start as usize, end as usize))
                            .collect()
                    })
                    .collect();
                closest(&found, *within).into_iter().collect()
            }
        }
    }
}

/// The tightest choice of one span from each part that fits within `within` tokens, if any, the parts
/// never sharing a word ("did not answer" is no "did" next to "did not answer"). Each span start is tried as
/// the start of a window; spans are sorted by start, so a window costs a binary search per part and a
/// search among the few spans inside it: a long text with many spans stays near linear.
fn closest(parts: &[Vec<(usize, usize)>], within: usize) -> Option<Found> {
    let sorted: Vec<Vec<(usize, usize)>> = parts
        .iter()
        .map(|part| {
            let mut part = part.clone();
            part.sort_unstable();
            part.dedup();
            part
        })
        .collect();
    let mut starts: Vec<usize> = sorted.iter().flatten().map(|&(start, _)| start).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut best: Option<(usize, Vec<(usize, usize)>)> = None;
    let mut inside: Vec<&[(usize, usize)]> = Vec::with_capacity(parts.len());
    for window_start in starts {
        let window_end = window_start + within;
        inside.clear();
        for part in &sorted {
            let from = part.partition_point(|&(start, _)| start < window_start);
            let to = part.partition_point(|&(start, _)| start <= window_end);
            inside.push(&part[from..to]);
        }
        if inside.iter().any(|spans| spans.is_empty()) {
            continue;
        }
        let mut chosen = Vec::with_capacity(parts.len());
        if let Some(width) = tightest_in_window(&inside, window_end, &mut chosen, &mut Vec::new())
            && best.as_ref().is_none_or(|(best_width, _)| width < *best_width)
        {
            best = Some((width, chosen));
        }
    }
    best.map(|(_, mut chosen)| {
        chosen.sort_unstable();
        Found {
            start: chosen.first().map_or(0, |p| p.0),
            end: chosen.iter().map(|p| p.1).max().unwrap_or(0),
            parts: chosen,
        }
    })
}

/// Within one window: the choice of one span per remaining part, none overlapping those taken, of least
/// width. Writes it to `best` and returns its width.
fn tightest_in_window(
    parts: &[&[(usize, usize)]],
    window_end: usize,
    best: &mut Vec<(usize, usize)>,
    taken: &mut Vec<(usize, usize)>,
) -> Option<usize> {
    let Some((part, rest)) = parts.split_first() else {
        let start = taken.iter().map(|&(s, _)| s).min().unwrap_or(0);
        let end = taken.iter().map(|&(_, e)| e).max().unwrap_or(0);
        best.clone_from(taken);
        return Some(end - start);
    };
    let mut best_width = None;
    for &(start, end) in part.iter() {
        if end > window_end || taken.iter().any(|&(s, e)| s < end && start < e) {
            continue;
        }
        taken.push((start, end));
        let mut candidate = Vec::new();
        if let Some(width) = tightest_in_window(rest, window_end, &mut candidate, taken)
            && best_width.is_none_or(|best| width < best)
        {
            best_width = Some(width);
            *best = candidate;
        }
        taken.pop();
    }
    best_width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_non_overlapping_choice_is_found() {
        let parts = vec![vec![(0, 1), (10, 11)], vec![(4, 5), (12, 14)]];
        let found = closest(&parts, 5).unwrap();
        assert_eq!(found.parts, vec![(10, 11), (12, 14)]);
        assert!(closest(&parts, 1).is_none());
        // The same words cannot be both parts.
        assert!(closest(&[vec![(2, 5)], vec![(3, 4)]], 10).is_none());
    }

    #[test]
    fn many_spans_stay_cheap() {
        let part: Vec<(usize, usize)> = (0..20_000).map(|i| (i, i + 1)).collect();
        let parts = vec![part.clone(), part.clone(), part];
        let started = std::time::Instant::now();
        assert!(closest(&parts, 4).is_some());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
