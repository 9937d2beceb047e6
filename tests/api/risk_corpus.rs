//! The shipped lexicons scored on the labelled corpus in `tests/fixtures/risk/`, through `tether triage
//! --eval` as a lexicon reviewer runs it: the development part (what the rules are built on) and the
//! held-back part (never tuned against) side by side, so generalisation is visible in the test output.

use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::tether;

/// The release targets, in percent: crisis recall, concern texts rated concern or higher, everyday texts paged
/// (rated crisis), everyday texts alerted (rated concern or crisis).
const TARGETS: Thresholds = Thresholds {
    crisis_recall: 97.0,
    concern_or_higher: 90.0,
    everyday_paged: 2.0,
    everyday_alerted: 10.0,
};

/// What the held-back part is guaranteed today, below the targets: a rule change that loses ground on texts it
/// was not written from fails here. Raise these as the rules improve; the closing notes of the risk issues
/// record the gap to the targets.
const HELD_BACK_FLOOR: Thresholds = Thresholds {
    crisis_recall: 90.0,
    concern_or_higher: 92.0,
    everyday_paged: 2.5,
    everyday_alerted: 3.8,
};

struct Thresholds {
    crisis_recall: f64,
    concern_or_higher: f64,
    everyday_paged: f64,
    everyday_alerted: f64,
}

impl Thresholds {
    fn args(&self) -> Vec<String> {
        vec![
            "--min-crisis-recall".into(),
            self.crisis_recall.to_string(),
            "--min-concern-or-higher".into(),
            self.concern_or_higher.to_string(),
            "--max-everyday-paged".into(),
            self.everyday_paged.to_string(),
            "--max-everyday-alerted".into(),
            self.everyday_alerted.to_string(),
        ]
    }
}

fn corpus(part: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/risk/{part}.tsv"))
}

/// What the rounds of further development texts (`tests/fixtures/risk/rounds/`) keep, taken together: the
/// rules learnt from them, so they guard what was learnt; each round's first-pass score, before the rules
/// learnt from it, is in the closing notes of the risk issues.
const ROUNDS_FLOOR: Thresholds = Thresholds {
    crisis_recall: 96.5,
    concern_or_higher: 96.5,
    everyday_paged: 0.5,
    everyday_alerted: 1.0,
};

/// `tether triage --eval` on one part: whether it met the thresholds (its exit code), and its figures.
fn evaluate(part: &str, thresholds: &Thresholds) -> (bool, Value) {
    evaluate_file(&corpus(part), thresholds)
}

fn evaluate_file(path: &std::path::Path, thresholds: &Thresholds) -> (bool, Value) {
    let part = path.display();
    let mut args = vec![
        "triage".to_owned(),
        "--eval".to_owned(),
        path.display().to_string(),
        "--json".to_owned(),
    ];
    args.extend(thresholds.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = tether(&args).output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{part}: {err}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), report)
}

fn percent(report: &Value, figure: &str) -> f64 {
    report[figure].as_f64().unwrap() * 100.0
}

#[test]
fn the_corpus_is_large_and_balanced_enough_to_measure_with() {
    let mut counts = std::collections::BTreeMap::new();
    let mut held_back = 0;
    let mut spanish = 0;
    let mut total = 0;
    for part in ["development", "heldback"] {
        let source = std::fs::read_to_string(corpus(part)).unwrap();
        let texts = tether::risk::parse_corpus(&source).unwrap();
        assert!(
            source.lines().any(|l| l.starts_with('#') && l.contains("SYNTHETIC")),
            "{part} is marked synthetic"
        );
        for text in &texts {
            *counts.entry(text.tier).or_insert(0) += 1;
            spanish += usize::from(text.language == "es");
        }
        total += texts.len();
        if part == "heldback" {
            held_back = texts.len();
        }
    }
    use tether::risk::Tier;
    assert!(total >= 1000, "{total} texts");
    assert!(counts[&Tier::Crisis] >= 300, "{counts:?}");
    assert!(counts[&Tier::Concern] >= 250, "{counts:?}");
    assert!(counts[&Tier::None] >= 450, "{counts:?}");
    assert!(
        held_back * 4 >= total,
        "held-back {held_back} of {total}: at least a quarter"
    );
    let share = spanish as f64 / total as f64;
    assert!((0.28..0.4).contains(&share), "Spanish {share:.2}: about a third");
}

#[test]
fn both_parts_are_scored_side_by_side_and_meet_their_thresholds() {
    let (development_ok, development) = evaluate("development", &TARGETS);
    let (held_back_ok, held_back) = evaluate("heldback", &HELD_BACK_FLOOR);
    let held_back_on_target = percent(&held_back, "crisis_recall") >= TARGETS.crisis_recall
        && percent(&held_back, "concern_or_higher") >= TARGETS.concern_or_higher
        && percent(&held_back, "everyday_paged") <= TARGETS.everyday_paged
        && percent(&held_back, "everyday_alerted") <= TARGETS.everyday_alerted;

    eprintln!("                      development   held-back   target");
    for (figure, name, target) in [
        ("crisis_recall", "crisis recall", TARGETS.crisis_recall),
        ("concern_or_higher", "concern rated concern+", TARGETS.concern_or_higher),
        ("everyday_paged", "everyday paged", TARGETS.everyday_paged),
        ("everyday_alerted", "everyday alerted", TARGETS.everyday_alerted),
    ] {
        eprintln!(
            "{name:<22} {:>10.1}% {:>10.1}% {:>7.1}%",
            percent(&development, figure),
            percent(&held_back, figure),
            target
        );
    }
    eprintln!("held-back meets the release targets: {held_back_on_target}");

    assert!(
        development_ok,
        "development part misses the targets: {}",
        development["failures"]
    );
    assert!(held_back_ok, "held-back part lost ground: {}", held_back["failures"]);
}

#[test]
fn the_rounds_the_rules_learnt_from_keep_what_was_learnt() {
    let rounds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/risk/rounds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&rounds)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("rounds.tsv");
    let joined: String = files
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    std::fs::write(&all, joined).unwrap();

    let (ok, report) = evaluate_file(&all, &ROUNDS_FLOOR);
    eprintln!(
        "rounds ({} files): crisis {:.1}%, concern+ {:.1}%, paged {:.1}%, alerted {:.1}%",
        files.len(),
        percent(&report, "crisis_recall"),
        percent(&report, "concern_or_higher"),
        percent(&report, "everyday_paged"),
        percent(&report, "everyday_alerted"),
    );
    assert!(ok, "the rounds lost ground: {}", report["failures"]);
}

#[test]
fn a_missed_threshold_fails_the_command_and_names_what_was_missed() {
    let path = corpus("heldback");
    let output = tether(&[
        "triage",
        "--eval",
        path.to_str().unwrap(),
        "--min-crisis-recall",
        "100",
        "--max-everyday-paged",
        "0",
    ])
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("labelled \\ rated"),
        "the confusion matrix is printed: {stdout}"
    );
    assert!(stdout.contains("misclassified:"), "{stdout}");
    assert!(stderr.contains("threshold missed: crisis recall"), "{stderr}");
    assert!(stderr.contains("threshold missed: everyday texts paged"), "{stderr}");
}

#[test]
fn a_bad_corpus_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tsv");
    std::fs::write(
        &path,
        "# a corpus\ncrisis\ten\tI want to die\tnote\nurgent\ten\tno\tnote\n",
    )
    .unwrap();
    let output = tether(&["triage", "--eval", path.to_str().unwrap()]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: tier `urgent`"), "{stderr}");
}
