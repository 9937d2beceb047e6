//! `tether check`: the message files as a whole, and with `--database` whether a crisis text would page
//! someone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::open_store;
use crate::templates::{self, Severity};

#[derive(clap::Args)]
pub struct CheckArgs {
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
}

pub(super) async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let files_ok = check_files(&args.templates_dir) == ExitCode::SUCCESS;
    let paging_ok = !args.database || check_paging(&args.database_url, &args.fallback_page_to).await?;
    Ok(if files_ok && paging_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn check_files(templates_dir: &Path) -> ExitCode {
    let mut problems = match templates::load(templates_dir) {
        Ok(loaded) => loaded.warnings,
        Err(err) => err.0,
    };
    problems.extend(crate::risk::missing_model(&templates_dir.join("risk")));
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
/// `crate::escalation::readiness`), once, with problems and warnings on stdout.
async fn check_paging(database_url: &str, fallback_page_to: &str) -> anyhow::Result<bool> {
    let fallback = crate::config::parse_fallback_numbers(fallback_page_to)
        .map_err(|m| anyhow::anyhow!("TETHER_FALLBACK_PAGE_TO: {m}"))?;
    let store = open_store(database_url).await?;
    let report = crate::escalation::readiness::assess(&store, &fallback, jiff::Timestamp::now()).await?;
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
