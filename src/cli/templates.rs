//! `tether templates export|import`: the message catalog between the database (where the service reads it)
//! and a folder (where it is kept under version control).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::open_store;
use crate::catalog::{self, CatalogService};
use crate::scheduling::{Clock, QuietHours};

#[derive(Subcommand)]
pub enum TemplatesCommand {
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

pub(super) async fn run(command: TemplatesCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplatesCommand::Export { dir, database_url } => {
            let store = open_store(&database_url).await?;
            let stored = store
                .latest_catalog()
                .await?
                .context("the database has no catalog yet; start the service once")?;
            crate::templates::files::write_dir(&dir, &stored.files)
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
            let files = catalog::read_folder(&dir)?;
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
