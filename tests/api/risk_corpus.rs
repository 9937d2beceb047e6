//! The shipped lexicons and model scored on the labelled corpus in `tests/fixtures/risk/`, through `tether
//! triage --eval` as a lexicon reviewer runs it: the development part (what the rules are built on and the
//! model learnt from) and the held-back part (never tuned against, never learnt from) side by side, and the
//! rules alone beside the two together, so generalisation is visible in the test output.

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

/// What the held-back part is held to: a text's slack beyond the release targets it meets today (115 crisis
/// and 162 everyday texts, so one text is 0.9 and 0.6 points). A retraining or a rule change that loses
/// ground on texts it was not built from fails here, while one text either way does not invite tuning
/// against the part. The test prints whether the targets themselves are met.
const HELD_BACK_FLOOR: Thresholds = Thresholds {
    crisis_recall: 96.0,
    concern_or_higher: 95.0,
    everyday_paged: 2.5,
    everyday_alerted: 8.0,
};

/// How far the development part's crisis recall may be above the held-back part's, in points: more means the
/// rules and the model memorise their examples instead of generalising.
const MAX_GENERALISATION_GAP: f64 = 3.0;

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

/// What the rules alone keep on the rounds of further development texts (`tests/fixtures/risk/rounds/`), taken
/// together: they learnt from rounds 2 to 9, so these guard what was learnt, and the later rounds they have
/// not learnt from pull the figures down. Each round's first-pass score is in `docs/risk-model.md` and the
/// closing notes of the risk issues. With the model, which learnt from every round, they must meet the
/// targets.
const ROUNDS_FLOOR: Thresholds = Thresholds {
    crisis_recall: 89.5,
    concern_or_higher: 86.5,
    everyday_paged: 1.5,
    everyday_alerted: 2.5,
};

/// Whether the rules are scored with the model beside them, as the service reads texts, or alone.
#[derive(Clone, Copy, PartialEq)]
enum Reader {
    RulesAndModel,
    RulesOnly,
}

/// `tether triage --eval` on one part: whether it met the thresholds (its exit code), and its figures.
fn evaluate(part: &str, thresholds: &Thresholds, reader: Reader) -> (bool, Value) {
    evaluate_file(&corpus(part), thresholds, reader)
}

fn evaluate_file(path: &std::path::Path, thresholds: &Thresholds, reader: Reader) -> (bool, Value) {
    let part = path.display();
    let mut args = vec![
        "triage".to_owned(),
        "--eval".to_owned(),
        path.display().to_string(),
        "--json".to_owned(),
    ];
    if reader == Reader::RulesOnly {
        args.push("--rules-only".to_owned());
    }
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
    let (development_ok, development) = evaluate("development", &TARGETS, Reader::RulesAndModel);
    let (held_back_ok, held_back) = evaluate("heldback", &HELD_BACK_FLOOR, Reader::RulesAndModel);
    let (_, held_back_rules) = evaluate("heldback", &HELD_BACK_FLOOR, Reader::RulesOnly);
    let gap = percent(&development, "crisis_recall") - percent(&held_back, "crisis_recall");
    let held_back_on_target = percent(&held_back, "crisis_recall") >= TARGETS.crisis_recall
        && percent(&held_back, "concern_or_higher") >= TARGETS.concern_or_higher
        && percent(&held_back, "everyday_paged") <= TARGETS.everyday_paged
        && percent(&held_back, "everyday_alerted") <= TARGETS.everyday_alerted;

    eprintln!("                      development   held-back   (rules alone)   target");
    for (figure, name, target) in [
        ("crisis_recall", "crisis recall", TARGETS.crisis_recall),
        ("concern_or_higher", "concern rated concern+", TARGETS.concern_or_higher),
        ("everyday_paged", "everyday paged", TARGETS.everyday_paged),
        ("everyday_alerted", "everyday alerted", TARGETS.everyday_alerted),
    ] {
        eprintln!(
            "{name:<22} {:>10.1}% {:>10.1}% {:>14.1}% {:>7.1}%",
            percent(&development, figure),
            percent(&held_back, figure),
            percent(&held_back_rules, figure),
            target
        );
    }
    eprintln!("held-back meets the release targets: {held_back_on_target}");
    eprintln!("development minus held-back crisis recall: {gap:.1} points (at most {MAX_GENERALISATION_GAP})");

    assert!(
        development_ok,
        "development part misses the targets: {}",
        development["failures"]
    );
    assert!(held_back_ok, "held-back part lost ground: {}", held_back["failures"]);
    assert!(
        gap <= MAX_GENERALISATION_GAP,
        "development is {gap:.1} points above held-back"
    );
}

#[test]
fn the_rounds_keep_what_was_learnt_from_them() {
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

    let (rules_ok, rules) = evaluate_file(&all, &ROUNDS_FLOOR, Reader::RulesOnly);
    let (ok, report) = evaluate_file(&all, &TARGETS, Reader::RulesAndModel);
    for (reader, report) in [("rules alone", &rules), ("rules and model", &report)] {
        eprintln!(
            "rounds ({} files), {reader}: crisis {:.1}%, concern+ {:.1}%, paged {:.1}%, alerted {:.1}%",
            files.len(),
            percent(report, "crisis_recall"),
            percent(report, "concern_or_higher"),
            percent(report, "everyday_paged"),
            percent(report, "everyday_alerted"),
        );
    }
    assert!(rules_ok, "the rules lost ground on the rounds: {}", rules["failures"]);
    assert!(ok, "the rounds miss the targets: {}", report["failures"]);
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

/// A templates folder holding a copy of the shipped lexicons (and no model).
fn lexicons_only() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk");
    std::fs::create_dir(&risk).unwrap();
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("message_templates/risk");
    for entry in std::fs::read_dir(shipped).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            std::fs::copy(&path, risk.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[test]
fn a_model_trained_from_the_command_line_reads_beside_the_rules_and_names_its_words() {
    let templates = lexicons_only();
    let dir = templates.path().to_str().unwrap();
    let corpus = templates.path().join("small.tsv");
    // Words no rule knows: only a model learnt from these texts can rate a text of them a crisis.
    let mut lines = String::new();
    for (tier, text) in [
        ("crisis", "glorp the zandle with the vorpish brim"),
        ("crisis", "vorpish zandle glorp"),
        ("crisis", "the brim is glorp and the zandle vorpish"),
        ("everyday", "see you at group on monday"),
        ("everyday", "thanks for the bus pass"),
        ("everyday", "monday at ten works for me"),
    ] {
        lines.push_str(&format!("{tier}\ten\t{text}\tnote\n"));
    }
    std::fs::write(&corpus, lines).unwrap();
    let trained = tether(&["triage", "--templates-dir", dir, "--train", corpus.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let model = std::fs::read_to_string(templates.path().join("risk/model.tsv")).unwrap();
    assert!(
        model.contains("learnt by\n# `tether triage --train` from 6 labelled"),
        "{model}"
    );

    let read = |extra: &[&str]| -> Value {
        let mut args = vec!["triage", "--templates-dir", dir];
        args.extend_from_slice(extra);
        let mut child = tether(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"zandle glorp brim\n").unwrap();
        let output = child.wait_with_output().unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let with_model = read(&[]);
    assert_eq!(with_model["tier"], "crisis", "{with_model}");
    let found = &with_model["matches"][0];
    assert_eq!(found["entry"], "model.crisis", "{with_model}");
    assert!(
        ["zandle", "glorp", "brim"]
            .iter()
            .any(|word| found["phrase"].as_str().unwrap().contains(word)),
        "the match names the words that weighed: {with_model}"
    );
    assert!(with_model["model"]["crisis"].as_f64().unwrap() > 0.7, "{with_model}");
    let rules_alone = read(&["--rules-only"]);
    assert_eq!(rules_alone["tier"], "none", "{rules_alone}");
    assert!(rules_alone.get("model").is_none_or(Value::is_null), "{rules_alone}");
}

#[test]
fn a_broken_model_file_is_refused_with_its_line() {
    let templates = lexicons_only();
    std::fs::write(
        templates.path().join("risk/model.tsv"),
        "# a model\nbias\t0\t0\t0\nw:pills\t0.1\t0.2\n",
    )
    .unwrap();
    let output = tether(&["triage", "--templates-dir", templates.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("model.tsv") && stderr.contains(":3"), "{stderr}");
    assert!(stderr.contains("expected a feature and three weights"), "{stderr}");
}

#[test]
fn cross_validation_reads_each_file_with_a_model_learnt_from_the_others() {
    let templates = lexicons_only();
    let dir = templates.path().to_str().unwrap();
    let mut paths = Vec::new();
    for (name, words) in [
        ("a.tsv", "glorp zandle"),
        ("b.tsv", "zandle vorpish"),
        ("c.tsv", "vorpish glorp"),
    ] {
        let path = templates.path().join(name);
        std::fs::write(
            &path,
            format!("crisis\ten\t{words} brim\tnote\neveryday\ten\tsee you monday at group\tnote\n"),
        )
        .unwrap();
        paths.push(path.to_str().unwrap().to_owned());
    }
    let mut args = vec!["triage", "--templates-dir", dir, "--cross-validate"];
    args.extend(paths.iter().map(String::as_str));
    let output = tether(&args).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Each file's invented crisis words were seen only in the other files: the rules know none of them, and
    // a model learnt from the others reads each file's crisis text as one.
    assert_eq!(stdout.matches("rules alone      crisis 0.0%").count(), 4, "{stdout}");
    assert_eq!(stdout.matches("rules and model  crisis 100.0%").count(), 4, "{stdout}");
    assert!(
        stdout.contains("all 3 files, each read by a model learnt from the others"),
        "{stdout}"
    );
}
