//! `tether triage`: read texts as the service would (one JSON line each), score a labelled corpus against
//! release thresholds (`--eval`), learn the risk model (`--train`) or see how it does on texts it never saw
//! (`--cross-validate`). docs/risk-model.md says how these are used.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::risk::{self, Classifier, Evaluation, LabelledText, Thresholds};

#[derive(clap::Args)]
pub struct TriageArgs {
    #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
    templates_dir: PathBuf,
    /// A labelled corpus, tier<TAB>language<TAB>text<TAB>note per line (tier: crisis, concern or everyday):
    /// prints recall and precision per tier, the confusion matrix and every misclassified line with its
    /// matches.
    #[arg(long, value_name = "FILE.tsv")]
    eval: Option<PathBuf>,
    /// Fail if fewer crisis texts than this (percent) are rated crisis.
    #[arg(long, requires = "eval", value_parser = parse_percent)]
    min_crisis_recall: Option<f64>,
    /// Fail if fewer concern texts than this (percent) are rated concern or crisis.
    #[arg(long, requires = "eval", value_parser = parse_percent)]
    min_concern_or_higher: Option<f64>,
    /// Fail if more everyday texts than this (percent) are rated crisis.
    #[arg(long, requires = "eval", value_parser = parse_percent)]
    max_everyday_paged: Option<f64>,
    /// Fail if more everyday texts than this (percent) are rated concern or crisis.
    #[arg(long, requires = "eval", value_parser = parse_percent)]
    max_everyday_alerted: Option<f64>,
    /// With --eval: one JSON object with the figures and the misclassified lines, instead of a report.
    #[arg(long, requires = "eval")]
    json: bool,
    /// Also show each text's words as the rules read them and every class found in it.
    #[arg(long, conflicts_with = "eval")]
    explain: bool,
    /// Learn the risk model from these labelled corpora (same format as --eval) and write it beside the
    /// lexicons, as `risk/model.tsv` in the templates folder, or to --out.
    #[arg(long, value_name = "FILE.tsv", num_args = 1.., conflicts_with_all = ["eval", "explain"])]
    train: Vec<PathBuf>,
    /// With --train: where to write the model.
    #[arg(long, requires = "train")]
    out: Option<PathBuf>,
    /// Score each of these labelled corpora with a model learnt from all the others (leave one file out),
    /// beside the rules alone, and pool the figures: how the model does on texts it never saw.
    #[arg(long, value_name = "FILE.tsv", num_args = 2.., conflicts_with_all = ["eval", "explain", "train"])]
    cross_validate: Vec<PathBuf>,
    /// Read with the lexicons' rules alone, without the model beside them: what the rules know by themselves.
    #[arg(long, conflicts_with = "train")]
    rules_only: bool,
}

fn parse_percent(value: &str) -> Result<f64, String> {
    match value.trim_end_matches('%').parse::<f64>() {
        Ok(percent) if (0.0..=100.0).contains(&percent) => Ok(percent / 100.0),
        _ => Err(format!("`{value}` is not a percentage from 0 to 100")),
    }
}

pub(super) fn run(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    if !args.train.is_empty() {
        return train_model(args);
    }
    if !args.cross_validate.is_empty() {
        return cross_validate(args);
    }
    let mut problems = Vec::new();
    let load = if args.rules_only { risk::load_rules } else { risk::load };
    let Some(classifier) = load(&args.templates_dir.join("risk"), &mut problems) else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Ok(ExitCode::FAILURE);
    };
    if let Some(path) = &args.eval {
        return evaluate(args, &classifier, path);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let text = line.context("cannot read standard input")?;
        let assessment = classifier.assess(&text);
        let mut row = serde_json::json!({
            "text": text,
            "tier": assessment.tier,
            "matches": assessment.matches,
            "readings": assessment.readings,
            "someone_else": assessment.someone_else,
            "model": assessment.model,
        });
        if args.explain {
            row["explanation"] = serde_json::json!(classifier.explain(&text));
        }
        writeln!(out, "{row}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn read_corpus(path: &Path) -> anyhow::Result<Vec<LabelledText>> {
    let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    risk::parse_corpus(&source).with_context(|| format!("{}", path.display()))
}

/// `tether triage --eval`: a labelled corpus scored, and the exit code says whether it met the thresholds.
fn evaluate(args: &TriageArgs, classifier: &Classifier, path: &Path) -> anyhow::Result<ExitCode> {
    let texts = read_corpus(path)?;
    let evaluation = Evaluation::run(classifier, &texts);
    let thresholds = Thresholds {
        min_crisis_recall: args.min_crisis_recall,
        min_concern_or_higher: args.min_concern_or_higher,
        max_everyday_paged: args.max_everyday_paged,
        max_everyday_alerted: args.max_everyday_alerted,
    };
    let failures = evaluation.failures(&thresholds);
    if args.json {
        let report = serde_json::json!({
            "crisis_recall": evaluation.crisis_recall(),
            "concern_or_higher": evaluation.concern_or_higher(),
            "everyday_paged": evaluation.everyday_paged(),
            "everyday_alerted": evaluation.everyday_alerted(),
            "confusion": evaluation.confusion,
            "misclassified": evaluation.misclassified,
            "failures": failures,
        });
        println!("{report}");
    } else {
        print!("{}", evaluation.summary());
        if !evaluation.misclassified.is_empty() {
            println!("\nmisclassified:");
            print!("{}", evaluation.mistakes());
        }
        for failure in &failures {
            eprintln!("threshold missed: {failure}");
        }
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `tether triage --train`: the model learnt from labelled corpora, read by the lexicons alone.
fn train_model(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    let risk_dir = args.templates_dir.join("risk");
    let mut problems = Vec::new();
    let Some(rules) = risk::load_rules(&risk_dir, &mut problems) else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Ok(ExitCode::FAILURE);
    };
    let mut texts = Vec::new();
    for path in &args.train {
        texts.extend(read_corpus(path)?);
    }
    let trained = risk::train(&rules, &texts);
    let sources: Vec<String> = args.train.iter().map(|p| p.display().to_string()).collect();
    let out = args.out.clone().unwrap_or_else(|| risk_dir.join(risk::MODEL_FILE));
    // Written beside and renamed into place: the service never reads half a model.
    let partial = out.with_extension("tsv.partial");
    std::fs::write(&partial, trained.to_file(&sources))
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &out).with_context(|| format!("cannot replace {}", out.display()))?;
    println!("learnt from {} texts; wrote {}", trained.texts, out.display());
    Ok(ExitCode::SUCCESS)
}

/// `tether triage --cross-validate`: each corpus read by the rules and by a model that never saw it.
fn cross_validate(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    let risk_dir = args.templates_dir.join("risk");
    let rules = || -> anyhow::Result<Classifier> {
        let mut problems = Vec::new();
        risk::load_rules(&risk_dir, &mut problems).ok_or_else(|| {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the lexicons do not load:\n{}", problems.join("\n"))
        })
    };
    let mut corpora = Vec::new();
    for path in &args.cross_validate {
        corpora.push((path, read_corpus(path)?));
    }
    let reader = rules()?;
    let mut pooled_rules = Evaluation::default();
    let mut pooled_both = Evaluation::default();
    for (fold, (path, texts)) in corpora.iter().enumerate() {
        let others: Vec<LabelledText> = corpora
            .iter()
            .enumerate()
            .filter(|&(other, _)| other != fold)
            .flat_map(|(_, (_, texts))| texts.iter().cloned())
            .collect();
        let model = risk::train(&reader, &others).into_model();
        let both = rules()?.with_model(Some(Arc::new(model)));
        let by_rules = Evaluation::run(&reader, texts);
        let by_both = Evaluation::run(&both, texts);
        println!("{}", path.display());
        println!("  rules alone      {}", by_rules.headline());
        println!("  rules and model  {}", by_both.headline());
        pooled_rules.absorb(by_rules);
        pooled_both.absorb(by_both);
    }
    println!(
        "\nall {} files, each read by a model learnt from the others:",
        corpora.len()
    );
    println!("  rules alone      {}", pooled_rules.headline());
    println!("  rules and model  {}", pooled_both.headline());
    Ok(ExitCode::SUCCESS)
}
