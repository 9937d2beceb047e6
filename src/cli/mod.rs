//! The `tether` command line: the clap types for every subcommand and the dispatch to one file per command
//! group. `src/main.rs` only parses, sets up logging and calls [`run`]; what each command does lives beside
//! its flags here, so a command's help text and its behaviour are read together.
//!
//! Commands report failures as `anyhow` errors: this is the outermost boundary, where an error becomes one
//! `error: …` line on standard error with its causes, and nothing above it matches on the kind.

mod check;
mod demo;
mod migrate;
mod preview;
mod send_test;
mod serve;
mod templates;
mod token;
mod triage;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::storage::Store;
use crate::telemetry::LogFormat;

#[derive(Parser)]
#[command(
    name = "tether",
    version,
    about = "Caring contacts, replies and escalation after discharge"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service and the scheduler.
    Serve(Box<serve::ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(migrate::MigrateArgs),
    /// Validate every schedule, template and translation; print file:line: message for each problem. With
    /// --database, also check that a crisis text would page someone; print each problem on its own line.
    Check(check::CheckArgs),
    /// Show when each text would be sent, and what it would say: caring-contact schedules for a sample
    /// discharge (--schedule, --discharged-at), an appointment's reminders (--appointment-at), or a
    /// medication pattern (--medication, from --from or now).
    Preview(Box<preview::PreviewArgs>),
    /// Classify texts from standard input, one per line, and print one JSON object per line with the tier
    /// and the lexicon matches: for testing a lexicon change against your own examples. With --eval, score
    /// a labelled corpus instead and exit non-zero if it misses a threshold.
    Triage(Box<triage::TriageArgs>),
    /// Play three stories (a discharge with caring contacts, reminders and a peer's reply; the same
    /// weekend on the 72-hour bridge with a safety plan; a crisis paged until the backup acknowledges) on a virtual clock against the mock provider, and print what was
    /// texted to whom, and why. Nothing leaves the machine.
    Demo(demo::DemoArgs),
    /// Create, list and revoke API tokens for the admin API and the web console.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Move the message catalog (schedules and templates) between the database and a folder.
    #[command(subcommand)]
    Templates(templates::TemplatesCommand),
    /// Send one text through the configured provider and print the provider's message id.
    SendTest(send_test::SendTestArgs),
}

impl Command {
    /// The service and send-test log as the deployment asks (`TETHER_LOG_FORMAT`); one-off commands log
    /// for a person at a terminal.
    pub fn log_format(&self) -> LogFormat {
        match self {
            Command::Serve(args) => args.settings.log_format,
            Command::SendTest(args) => args.settings.log_format,
            _ => LogFormat::Pretty,
        }
    }

    /// The demo prints a story on standard output; the service's INFO lines would interleave with it.
    pub fn default_log_level(&self) -> &'static str {
        if matches!(self, Command::Demo(_)) {
            "error"
        } else {
            "info"
        }
    }
}

/// Runs one command to its end and says how the process should exit.
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Preview(args) => preview::run(*args).await,
        Command::Triage(args) => triage::run(&args),
        Command::Demo(args) => demo::run(args).await,
        Command::Token(command) => token::run(command).await,
        Command::Templates(command) => templates::run(command).await,
        Command::SendTest(args) => send_test::run(args).await,
    }
}

/// Opens and migrates the database for a one-off command, so a command run before the service's first
/// start still finds its tables.
async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(database_url)
        .await
        .context("cannot open the database at DATABASE_URL")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}
