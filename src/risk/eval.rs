//! Scoring the classifier against a labelled corpus (`tether triage --eval FILE.tsv`, and the corpus test):
//! recall and precision per tier, the confusion matrix, the texts it got wrong with their matches, and the
//! thresholds a release must meet.
//!
//! A corpus is tab-separated: `tier<TAB>language<TAB>text<TAB>note`, `#` comments; tier is `crisis`,
//! `concern` or `everyday` (see `tests/fixtures/risk/README.md`).

use std::fmt::Write;

use serde::Serialize;

use super::{Assessment, Classifier, Tier};

/// One labelled line of a corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledText {
    pub line: usize,
    pub tier: Tier,
    pub language: String,
    pub text: String,
    pub note: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct CorpusError {
    pub line: usize,
    pub message: String,
}

/// Reads a corpus; the first bad line is an error naming the line and the field.
pub fn parse_corpus(source: &str) -> Result<Vec<LabelledText>, CorpusError> {
    let mut texts = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let error = |message: String| CorpusError { line: number, message };
        if fields.len() != 4 {
            return Err(error(format!(
                "has {} tab-separated fields; expected 4: tier, language, text, note",
                fields.len()
            )));
        }
        let tier = match fields[0] {
            "crisis" => Tier::Crisis,
            "concern" => Tier::Concern,
            "everyday" => Tier::None,
            other => return Err(error(format!("tier `{other}` must be crisis, concern or everyday"))),
        };
        if fields[2].trim().is_empty() {
            return Err(error("text is empty".into()));
        }
        texts.push(LabelledText {
            line: number,
            tier,
            language: fields[1].to_owned(),
            text: fields[2].to_owned(),
            note: fields[3].to_owned(),
        });
    }
    if texts.is_empty() {
        return Err(CorpusError {
            line: 0,
            message: "holds no labelled text".into(),
        });
    }
    Ok(texts)
}

/// Limits a release must meet, as fractions (0.97 is 97%).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    pub min_crisis_recall: Option<f64>,
    /// Concern texts rated concern or crisis.
    pub min_concern_or_higher: Option<f64>,
    /// Everyday texts rated crisis.
    pub max_everyday_paged: Option<f64>,
    /// Everyday texts rated concern or crisis.
    pub max_everyday_alerted: Option<f64>,
}

const TIERS: [Tier; 3] = [Tier::Crisis, Tier::Concern, Tier::None];

/// The classifier's results on a corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    /// `confusion[labelled][rated]`, tiers in the order crisis, concern, everyday.
    pub confusion: [[usize; 3]; 3],
    pub misclassified: Vec<(LabelledText, Assessment)>,
}

fn slot(tier: Tier) -> usize {
    match tier {
        Tier::Crisis => 0,
        Tier::Concern => 1,
        Tier::None => 2,
    }
}

/// A tier as the corpus names it: `none` is `everyday` there.
fn label(tier: Tier) -> &'static str {
    match tier {
        Tier::Crisis => "crisis",
        Tier::Concern => "concern",
        Tier::None => "everyday",
    }
}

impl Evaluation {
    pub fn run(classifier: &Classifier, texts: &[LabelledText]) -> Self {
        let mut confusion = [[0; 3]; 3];
        let mut misclassified = Vec::new();
        for text in texts {
            let assessment = classifier.assess(&text.text);
            confusion[slot(text.tier)][slot(assessment.tier)] += 1;
            if assessment.tier != text.tier {
                misclassified.push((text.clone(), assessment));
            }
        }
        Self {
            confusion,
            misclassified,
        }
    }

    /// `other`'s texts counted in with these: folds of a cross-validation pooled.
    pub fn absorb(&mut self, other: Evaluation) {
        for (row, other_row) in self.confusion.iter_mut().zip(other.confusion) {
            for (cell, other_cell) in row.iter_mut().zip(other_row) {
                *cell += other_cell;
            }
        }
        self.misclassified.extend(other.misclassified);
    }

    /// The four headline figures on one line, in percent.
    pub fn headline(&self) -> String {
        format!(
            "crisis {} · concern+ {} · everyday paged {} · alerted {}",
            percent(self.crisis_recall()),
            percent(self.concern_or_higher()),
            percent(self.everyday_paged()),
            percent(self.everyday_alerted())
        )
    }

    fn labelled(&self, tier: Tier) -> usize {
        self.confusion[slot(tier)].iter().sum()
    }

    /// Of the texts labelled `tier`, the share rated exactly so.
    pub fn recall(&self, tier: Tier) -> f64 {
        ratio(self.confusion[slot(tier)][slot(tier)], self.labelled(tier))
    }

    /// Of the texts rated `tier`, the share labelled so.
    pub fn precision(&self, tier: Tier) -> f64 {
        let rated: usize = (0..3).map(|labelled| self.confusion[labelled][slot(tier)]).sum();
        ratio(self.confusion[slot(tier)][slot(tier)], rated)
    }

    /// Of the texts labelled `labelled`, the share rated `at_least` or higher.
    pub fn rated_at_least(&self, labelled: Tier, at_least: Tier) -> f64 {
        let row = self.confusion[slot(labelled)];
        let hits: usize = TIERS.iter().filter(|&&t| t >= at_least).map(|&t| row[slot(t)]).sum();
        ratio(hits, self.labelled(labelled))
    }

    pub fn crisis_recall(&self) -> f64 {
        self.recall(Tier::Crisis)
    }

    pub fn concern_or_higher(&self) -> f64 {
        self.rated_at_least(Tier::Concern, Tier::Concern)
    }

    pub fn everyday_paged(&self) -> f64 {
        self.rated_at_least(Tier::None, Tier::Crisis)
    }

    pub fn everyday_alerted(&self) -> f64 {
        self.rated_at_least(Tier::None, Tier::Concern)
    }

    /// Each threshold the results miss, described.
    pub fn failures(&self, thresholds: &Thresholds) -> Vec<String> {
        let mut failures = Vec::new();
        let mut at_least = |name: &str, value: f64, limit: Option<f64>| {
            if let Some(limit) = limit
                && (value.is_nan() || value < limit)
            {
                failures.push(format!("{name} {} is below {}", percent(value), percent(limit)));
            }
        };
        at_least("crisis recall", self.crisis_recall(), thresholds.min_crisis_recall);
        at_least(
            "concern texts rated concern or higher",
            self.concern_or_higher(),
            thresholds.min_concern_or_higher,
        );
        let mut at_most = |name: &str, value: f64, limit: Option<f64>| {
            if let Some(limit) = limit
                && (value.is_nan() || value > limit)
            {
                failures.push(format!("{name} {} is above {}", percent(value), percent(limit)));
            }
        };
        at_most(
            "everyday texts paged",
            self.everyday_paged(),
            thresholds.max_everyday_paged,
        );
        at_most(
            "everyday texts alerted",
            self.everyday_alerted(),
            thresholds.max_everyday_alerted,
        );
        failures
    }

    /// The summary: headline figures, per-tier recall and precision, and the confusion matrix.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let total: usize = TIERS.iter().map(|&t| self.labelled(t)).sum();
        let _ = writeln!(
            out,
            "{total} texts: {} crisis, {} concern, {} everyday",
            self.labelled(Tier::Crisis),
            self.labelled(Tier::Concern),
            self.labelled(Tier::None)
        );
        let _ = writeln!(out, "crisis recall               {:>7}", percent(self.crisis_recall()));
        let _ = writeln!(
            out,
            "concern rated concern+      {:>7}",
            percent(self.concern_or_higher())
        );
        let _ = writeln!(out, "everyday paged (crisis)     {:>7}", percent(self.everyday_paged()));
        let _ = writeln!(
            out,
            "everyday alerted (concern+) {:>7}",
            percent(self.everyday_alerted())
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "tier       recall  precision");
        for tier in TIERS {
            let _ = writeln!(
                out,
                "{:<9} {:>7} {:>10}",
                label(tier),
                percent(self.recall(tier)),
                percent(self.precision(tier))
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "labelled \\ rated   crisis  concern  everyday");
        for tier in TIERS {
            let row = self.confusion[slot(tier)];
            let _ = writeln!(out, "{:<17} {:>7} {:>8} {:>9}", label(tier), row[0], row[1], row[2]);
        }
        out
    }

    /// Every misclassified text with its line, what it was rated and which rules matched.
    pub fn mistakes(&self) -> String {
        let mut out = String::new();
        for (text, assessment) in &self.misclassified {
            let _ = writeln!(
                out,
                "line {} [{}] labelled {}, rated {}: {}",
                text.line,
                text.language,
                label(text.tier),
                label(assessment.tier),
                text.text
            );
            for found in &assessment.matches {
                let mut flags = String::new();
                if found.negated {
                    flags.push_str(" negated");
                }
                if found.past {
                    flags.push_str(" past");
                }
                if found.doubted {
                    flags.push_str(" doubted");
                }
                let _ = writeln!(
                    out,
                    "    {} ({}{flags}): {}",
                    found.entry,
                    found.tier.as_str(),
                    found.phrase
                );
            }
            if let Some(model) = assessment.model {
                let _ = writeln!(
                    out,
                    "    model: crisis {:.2}, concern {:.2}, none {:.2}",
                    model.crisis, model.concern, model.none
                );
            }
            for reading in &assessment.readings {
                let _ = writeln!(
                    out,
                    "    read `{}` as `{}` ({})",
                    reading.typed,
                    reading.read_as,
                    reading.how.as_str()
                );
            }
        }
        out
    }
}

/// `NaN` when there is nothing to measure: no threshold passes on a corpus with no texts of a tier.
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

fn percent(value: f64) -> String {
    if value.is_nan() {
        "no texts".into()
    } else {
        format!("{:.1}%", value * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_names_its_number_and_field() {
        let err = parse_corpus("# header\ncrisis\ten\tI want to die\tnote\nurgent\ten\tx\tnote\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("tier `urgent`"), "{err}");
        let err = parse_corpus("crisis\ten\tonly three fields\n").unwrap_err();
        assert!(err.message.contains("3 tab-separated fields"), "{err}");
        assert!(parse_corpus("# nothing\n").is_err());
    }

    #[test]
    fn a_tier_with_no_texts_meets_no_threshold() {
        let evaluation = Evaluation {
            confusion: [[0, 0, 0], [0, 5, 0], [0, 0, 5]],
            misclassified: Vec::new(),
        };
        let failures = evaluation.failures(&Thresholds {
            min_crisis_recall: Some(0.5),
            ..Thresholds::default()
        });
        assert_eq!(failures, ["crisis recall no texts is below 50.0%"]);
    }

    #[test]
    fn figures_follow_the_confusion_matrix() {
        let evaluation = Evaluation {
            // labelled crisis: 8 crisis, 2 concern; concern: 1 crisis, 7 concern, 2 everyday; everyday: 1, 3, 96.
            confusion: [[8, 2, 0], [1, 7, 2], [1, 3, 96]],
            misclassified: Vec::new(),
        };
        assert!((evaluation.crisis_recall() - 0.8).abs() < 1e-9);
        assert!((evaluation.concern_or_higher() - 0.8).abs() < 1e-9);
        assert!((evaluation.everyday_paged() - 0.01).abs() < 1e-9);
        assert!((evaluation.everyday_alerted() - 0.04).abs() < 1e-9);
        assert!((evaluation.precision(Tier::Crisis) - 0.8).abs() < 1e-9);
        let failures = evaluation.failures(&Thresholds {
            min_crisis_recall: Some(0.97),
            min_concern_or_higher: Some(0.8),
            max_everyday_paged: Some(0.02),
            max_everyday_alerted: Some(0.03),
        });
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].starts_with("crisis recall 80.0%"), "{failures:?}");
        assert!(failures[1].starts_with("everyday texts alerted 4.0%"), "{failures:?}");
    }
}
