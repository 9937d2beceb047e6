//! The `tether` command: run the service, migrate, check templates, preview a schedule, manage tokens and
//! catalog versions, send a test text.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use tether::access::{self, Role};
use tether::app::Application;
use tether::catalog::CatalogService;
use tether::config::Settings;
use tether::domain::{AppointmentKind, PhoneNumber, TimeZoneName};
use tether::preview::{self, PreviewRequest};
use tether::provider::OutgoingText;
use tether::scheduling::recurrence::Recurrence;
use tether::scheduling::reminders::parse_offsets;
use tether::scheduling::{Clock, QuietHours};
use tether::storage::Store;
use tether::telemetry::{self, LogFormat};
use tether::templates::{self, Severity};

#[derive(Parser)]
#[command(
    name = "tether",
    version,
    about = "Caring contacts, replies and escalation after discharge"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service and the scheduler.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
    },
    /// Validate every schedule, template and translation; print file:line: message for each problem. With
    /// --database, also check that a crisis text would page someone; print each problem on its own line.
    Check {
        #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
        templates_dir: PathBuf,
        /// Also check the database at DATABASE_URL: an escalation policy with someone to page now or a
        /// fallback number, and nobody missing from a rotation the policy uses in the next 7 days.
        #[arg(long)]
        database: bool,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
        /// The service's fallback numbers (read only with --database).
        #[arg(long, env = "TETHER_FALLBACK_PAGE_TO", default_value = "")]
        fallback_page_to: String,
    },
    /// Show when each text would be sent, and what it would say: caring-contact schedules for a sample
    /// discharge (--schedule, --discharged-at), an appointment's reminders (--appointment-at), or a
    /// medication pattern (--medication, from --from or now).
    Preview(Box<PreviewArgs>),
    /// Classify texts from standard input, one per line, and print one JSON object per line with the tier
    /// and the lexicon matches: for testing a lexicon change against your own examples. With --eval, score
    /// a labelled corpus instead and exit non-zero if it misses a threshold.
    Triage(Box<TriageArgs>),
    /// Play three stories (a discharge with caring contacts, reminders and a peer's reply; the same
    /// weekend on the 72-hour bridge with a safety plan; a crisis paged until the backup acknowledges) on a virtual clock against the mock provider, and print what was
    /// texted to whom, and why. Nothing leaves the machine.
    Demo {
        /// One JSON object per event, one per line.
        #[arg(long)]
        json: bool,
        #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
        templates_dir: PathBuf,
    },
    /// Create, list and revoke API tokens for the admin API and the web console.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Move the message catalog (schedules and templates) between the database and a folder.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Send one text through the configured provider and print the provider's message id.
    SendTest {
        #[command(flatten)]
        settings: Box<Settings>,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "This is a test message. No need to reply.")]
        body: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
    /// Try it out: the mock provider instead of a real one, a throw-away database with sample staff and
    /// clients, and a phone simulator in the console. Nothing leaves the machine.
    #[arg(long)]
    sandbox: bool,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token once, alone on the last line; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// admin (everything), staff (their assigned clients; schedules read-only) or viewer (read-only, no
        /// message bodies).
        #[arg(long)]
        role: Role,
        /// The staff member a staff token acts for (required with --role staff).
        #[arg(long, required_if_eq("role", "staff"))]
        staff_id: Option<i64>,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
    },
    List {
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
    },
    /// Revoke a token by id; its console sessions end at once.
    Revoke {
        id: i64,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum TemplatesCommand {
    /// Write the live version's files under DIR, to keep under version control.
    Export {
        dir: PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
    },
    /// Check DIR as a whole and save it as the next version; enrolled clients follow edited schedules.
    Import {
        dir: PathBuf,
        /// Recorded in the version history.
        #[arg(long, default_value = "imported from a folder")]
        summary: String,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
        database_url: String,
        #[arg(long, env = "TETHER_QUIET_HOURS", default_value = "21:00-08:00")]
        quiet_hours: QuietHours,
    },
}

#[derive(clap::Args)]
struct TriageArgs {
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

#[derive(clap::Args)]
struct PreviewArgs {
    /// A schedule, or several a client follows together, comma-separated (`bridge,caring_contacts`): their
    /// texts are merged in the order they go, with the bridge replacing the others' first days.
    #[arg(long, required_unless_present_any = ["appointment_at", "medication"], conflicts_with_all = ["appointment_at", "medication"])]
    schedule: Option<String>,
    /// Discharge time: local to --tz (2026-03-06T15:00) or RFC 3339 with an offset.
    #[arg(long)]
    discharged_at: Option<String>,
    /// Appointment start, local to --tz or RFC 3339.
    #[arg(long, conflicts_with = "medication")]
    appointment_at: Option<String>,
    /// The appointment's kind (clinic_visit, therapy, pharmacy_pickup, benefits_office, court_date, other):
    /// its wording and offsets. A clinic visit if left out.
    #[arg(long, requires = "appointment_at")]
    kind: Option<String>,
    /// Medication reminder pattern, 5-field cron in the client's zone, like "30 8 * * *".
    #[arg(long)]
    medication: Option<String>,
    /// Where the medication preview starts; now if omitted.
    #[arg(long)]
    from: Option<String>,
    /// How many medication reminders to show.
    #[arg(long, default_value_t = 7)]
    count: usize,
    /// The client's IANA time zone.
    #[arg(long)]
    tz: String,
    /// Language of the texts; the program's default if omitted.
    #[arg(long)]
    language: Option<String>,
    #[arg(long, default_value = "Jordan")]
    first_name: String,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
    templates_dir: PathBuf,
    /// Preview the live version in the database at DATABASE_URL (what the service sends) instead of the
    /// templates folder.
    #[arg(long)]
    live: bool,
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
    database_url: String,
    #[arg(long, env = "TETHER_QUIET_HOURS", default_value = "21:00-08:00")]
    quiet_hours: QuietHours,
    #[arg(long, env = "TETHER_APPOINTMENT_REMINDERS", default_value = "24h,2h")]
    appointment_reminders: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Serve(args) => args.settings.log_format,
        Command::SendTest { settings, .. } => settings.log_format,
        _ => LogFormat::Pretty,
    };
    let default_level = if matches!(cli.command, Command::Demo { .. }) {
        "error"
    } else {
        "info"
    };
    telemetry::init_with_default(format, default_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) if args.sandbox => serve_sandbox(args.settings).await,
        Command::Serve(args) => serve(args.settings).await,
        Command::Migrate { database_url } => {
            let store = Store::connect(&database_url).await?;
            store.migrate().await?;
            println!("database is at migration {}", store.latest_migration());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            templates_dir,
            database,
            database_url,
            fallback_page_to,
        } => {
            let files_ok = check(&templates_dir) == ExitCode::SUCCESS;
            let paging_ok = !database || check_paging(&database_url, &fallback_page_to).await?;
            Ok(if files_ok && paging_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Preview(args) => {
            let PreviewArgs {
                schedule,
                discharged_at,
                appointment_at,
                kind,
                medication,
                from,
                count,
                tz,
                language,
                first_name,
                json,
                templates_dir,
                live,
                database_url,
                quiet_hours,
                appointment_reminders,
            } = *args;
            let catalog = if live {
                let store = open_store(&database_url).await?;
                let stored = store
                    .latest_catalog()
                    .await?
                    .context("the database has no catalog yet; start the service once")?;
                templates::load_files(&stored.files)?.catalog
            } else {
                templates::load(&templates_dir)?.catalog
            };
            let zone = TimeZoneName::parse(&tz).map_err(|m| anyhow::anyhow!("--tz: {m}"))?;
            let language = language.unwrap_or_else(|| catalog.program.default_language.clone());
            let instant = |flag: &str, value: &str| {
                preview::parse_discharge(value, &zone).map_err(|m| anyhow::anyhow!("--{flag}: {m}"))
            };
            let rows = if let Some(starts_at) = appointment_at {
                let offsets = parse_offsets(&appointment_reminders)
                    .map_err(|m| anyhow::anyhow!("--appointment-reminders: {m}"))?;
                let starts_at = instant("appointment-at", &starts_at)?;
                let kind = match kind {
                    Some(kind) => AppointmentKind::parse(&kind).map_err(|m| anyhow::anyhow!("--kind: {m}"))?,
                    None => AppointmentKind::default(),
                };
                preview::preview_appointment(
                    &catalog,
                    kind,
                    starts_at,
                    &offsets,
                    &zone,
                    &language,
                    &first_name,
                    &quiet_hours,
                )?
            } else if let Some(pattern) = medication {
                let recurrence: Recurrence = pattern
                    .parse()
                    .map_err(|m: String| anyhow::anyhow!("--medication: {m}"))?;
                let from = match from {
                    Some(from) => instant("from", &from)?,
                    None => jiff::Timestamp::now(),
                };
                preview::preview_medication(&catalog, &recurrence, from, count, &zone, &language, &first_name)?
            } else {
                let schedule = schedule.unwrap_or_default();
                let schedules: Vec<&str> = schedule.split(',').map(str::trim).collect();
                let discharged_at = instant("discharged-at", discharged_at.as_deref().unwrap_or_default())?;
                preview::preview(
                    &catalog,
                    &PreviewRequest {
                        schedules: &schedules,
                        discharged_at,
                        zone: &zone,
                        language: &language,
                        first_name: &first_name,
                        quiet_hours: &quiet_hours,
                    },
                )?
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", preview::render_table(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Triage(args) => triage(&args),
        Command::Demo { json, templates_dir } => {
            let events = tether::sandbox::demo::run(&templates_dir).await?;
            if json {
                print!("{}", tether::sandbox::demo::json_lines(&events)?);
            } else {
                print!("{}", tether::sandbox::demo::render(&events));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(command) => token(command).await,
        Command::Templates(command) => templates_command(command).await,
        Command::SendTest { settings, to, body } => {
            let to = PhoneNumber::parse(&to).map_err(|m| anyhow::anyhow!("--to: {m}"))?;
            let provider = settings.provider()?;
            let text = OutgoingText {
                to: to.as_str(),
                body: &body,
                status_callback: None,
            };
            let accepted = provider.send(&text).await.context("the provider refused the text")?;
            println!("{}", accepted.sid);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(database_url)
        .await
        .context("cannot open the database at DATABASE_URL")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            name,
            role,
            staff_id,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "--name: must not be empty");
            if role != Role::Staff {
                anyhow::ensure!(
                    staff_id.is_none(),
                    "--staff-id: only staff tokens act for a staff member"
                );
            }
            if let Some(id) = staff_id {
                store
                    .staff_member(id)
                    .await?
                    .with_context(|| format!("--staff-id: no staff member {id}"))?;
            }
            let secret = access::new_secret(access::TOKEN_PREFIX)
                .map_err(|_| anyhow::anyhow!("the operating system's random generator failed"))?;
            let id = store
                .insert_token(
                    name,
                    role,
                    staff_id,
                    &access::hash_secret(&secret),
                    jiff::Timestamp::now(),
                )
                .await?;
            eprintln!("token {id} `{name}` ({role}) created; it is shown once, store it now:");
            println!("{secret}");
        }
        TokenCommand::List { database_url } => {
            let store = open_store(&database_url).await?;
            println!(
                "{:>4}  {:<24} {:<7} {:>5}  {:<22} revoked",
                "id", "name", "role", "staff", "created"
            );
            for token in store.tokens().await? {
                println!(
                    "{:>4}  {:<24} {:<7} {:>5}  {:<22} {}",
                    token.id,
                    token.name,
                    token.role,
                    token.staff_id.map(|id| id.to_string()).unwrap_or_default(),
                    token.created_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                    token.revoked_at.map(|t| t.to_string()).unwrap_or_default()
                );
            }
        }
        TokenCommand::Revoke { id, database_url } => {
            let store = open_store(&database_url).await?;
            anyhow::ensure!(
                store.revoke_token(id, jiff::Timestamp::now()).await?,
                "no live token with id {id}"
            );
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn templates_command(command: TemplatesCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplatesCommand::Export { dir, database_url } => {
            let store = open_store(&database_url).await?;
            let stored = store
                .latest_catalog()
                .await?
                .context("the database has no catalog yet; start the service once")?;
            templates::files::write_dir(&dir, &stored.files)
                .with_context(|| format!("cannot write to {}", dir.display()))?;
            println!(
                "version {} written to {} ({} files)",
                stored.version,
                dir.display(),
                stored.files.len()
            );
        }
        TemplatesCommand::Import {
            dir,
            summary,
            database_url,
            quiet_hours,
        } => {
            let store = open_store(&database_url).await?;
            let (catalogs, _) = CatalogService::open(store, &dir, Clock::System, quiet_hours).await?;
            let files = tether::catalog::read_folder(&dir)?;
            let (version, current) = catalogs.current_files().await?;
            if files == current {
                println!("{} is the same as version {version}; nothing saved", dir.display());
                return Ok(ExitCode::SUCCESS);
            }
            let saved = catalogs
                .save(version, &files, "tether templates import", &summary)
                .await?;
            println!("saved version {}", saved.version);
            for (schedule, moved) in &saved.replanned {
                println!("{schedule}: {moved} active enrollment(s) re-planned");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(templates_dir: &std::path::Path) -> ExitCode {
    let mut problems = match templates::load(templates_dir) {
        Ok(loaded) => loaded.warnings,
        Err(err) => err.0,
    };
    problems.extend(tether::risk::missing_model(&templates_dir.join("risk")));
    for problem in &problems {
        println!("{problem}");
    }
    let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
    if errors > 0 {
        eprintln!("{errors} error(s)");
        ExitCode::FAILURE
    } else {
        eprintln!("{} ok", templates_dir.display());
        ExitCode::SUCCESS
    }
}

/// `check --database`: the readiness check the service logs, shows and reports (see
/// `tether::escalation::readiness`), once, with problems and warnings on stdout.
async fn check_paging(database_url: &str, fallback_page_to: &str) -> anyhow::Result<bool> {
    let fallback = tether::config::parse_fallback_numbers(fallback_page_to)
        .map_err(|m| anyhow::anyhow!("TETHER_FALLBACK_PAGE_TO: {m}"))?;
    let store = open_store(database_url).await?;
    let report = tether::escalation::readiness::assess(&store, &fallback, jiff::Timestamp::now()).await?;
    for check in report.problems().chain(report.warnings()) {
        println!("{check}");
    }
    let problems = report.problems().count();
    if problems > 0 {
        eprintln!("{problems} problem(s): a crisis text may page nobody");
    } else {
        eprintln!("crisis paging ok");
    }
    Ok(problems == 0)
}

fn triage(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, Write};

    let mut problems = Vec::new();
    if !args.train.is_empty() {
        return train_model(args);
    }
    if !args.cross_validate.is_empty() {
        return cross_validate(args);
    }
    let load = if args.rules_only {
        tether::risk::load_rules
    } else {
        tether::risk::load
    };
    let Some(classifier) = load(&args.templates_dir.join("risk"), &mut problems) else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Ok(ExitCode::FAILURE);
    };
    if let Some(path) = &args.eval {
        let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let texts = tether::risk::parse_corpus(&source).with_context(|| format!("{}", path.display()))?;
        let evaluation = tether::risk::Evaluation::run(&classifier, &texts);
        let thresholds = tether::risk::Thresholds {
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
        return Ok(if failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
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

/// `tether triage --train`: the model learnt from labelled corpora, read by the lexicons alone.
fn train_model(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    let risk_dir = args.templates_dir.join("risk");
    let mut problems = Vec::new();
    let Some(rules) = tether::risk::load_rules(&risk_dir, &mut problems) else {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Ok(ExitCode::FAILURE);
    };
    let mut texts = Vec::new();
    for path in &args.train {
        let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        texts.extend(tether::risk::parse_corpus(&source).with_context(|| format!("{}", path.display()))?);
    }
    let trained = tether::risk::train(&rules, &texts);
    let sources: Vec<String> = args.train.iter().map(|p| p.display().to_string()).collect();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| risk_dir.join(tether::risk::MODEL_FILE));
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
    let rules = || -> anyhow::Result<tether::risk::Classifier> {
        let mut problems = Vec::new();
        tether::risk::load_rules(&risk_dir, &mut problems).ok_or_else(|| {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the lexicons do not load:\n{}", problems.join("\n"))
        })
    };
    let mut corpora = Vec::new();
    for path in &args.cross_validate {
        let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let texts = tether::risk::parse_corpus(&source).with_context(|| format!("{}", path.display()))?;
        corpora.push((path, texts));
    }
    let reader = rules()?;
    let mut pooled_rules = tether::risk::Evaluation::default();
    let mut pooled_both = tether::risk::Evaluation::default();
    for (fold, (path, texts)) in corpora.iter().enumerate() {
        let others: Vec<tether::risk::LabelledText> = corpora
            .iter()
            .enumerate()
            .filter(|&(other, _)| other != fold)
            .flat_map(|(_, (_, texts))| texts.iter().cloned())
            .collect();
        let model = tether::risk::train(&reader, &others).into_model();
        let both = rules()?.with_model(Some(std::sync::Arc::new(model)));
        let by_rules = tether::risk::Evaluation::run(&reader, texts);
        let by_both = tether::risk::Evaluation::run(&both, texts);
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

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(&settings, Clock::System).await?;
    run_until_signalled(app).await
}

async fn run_until_signalled(app: Application) -> anyhow::Result<ExitCode> {
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        signal.cancel();
    });
    app.run_until_stopped(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// `serve --sandbox`: the service on the mock provider with the demo's people, and how to get in.
async fn serve_sandbox(settings: Settings) -> anyhow::Result<ExitCode> {
    use tether::sandbox::{people::Api, serve};

    let prepared = serve::prepare(settings).await?;
    let mut app = Application::build(&prepared.settings, Clock::System).await?;
    let url = format!("http://{}", app.local_addr());
    prepared.mock.deliver_automatically(&url);
    app.attach_sandbox(serve::Phones::new(prepared.mock.clone(), url.clone()));
    let api = Api {
        base_url: url.clone(),
        token: prepared.admin_token.clone(),
        http: reqwest::Client::new(),
    };
    let running = tokio::spawn(run_until_signalled(app));
    serve::seed(&api, jiff::Timestamp::now())
        .await
        .context("cannot seed the sandbox")?;
    println!("Tether sandbox: texts go to a mock provider in this process; nothing leaves the machine.");
    println!("Console:         {url}/console  (sign in with the token below)");
    println!("Phone simulator: {url}/console/sandbox");
    println!(
        "Database:        {} (removed on exit)",
        prepared.database.path().display()
    );
    println!("{}", prepared.admin_token);
    let exit = running.await.context("the service task panicked")??;
    drop(prepared.database);
    Ok(exit)
}

/// Ctrl-C in a terminal, SIGTERM from a supervisor (fly.io, systemd, Docker).
async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
