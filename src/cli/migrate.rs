//! `tether migrate`: apply the database migrations and exit.

use std::process::ExitCode;

use crate::storage::Store;

#[derive(clap::Args)]
pub struct MigrateArgs {
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
    database_url: String,
}

pub(super) async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&args.database_url).await?;
    store.migrate().await?;
    println!("database is at migration {}", store.latest_migration());
    Ok(ExitCode::SUCCESS)
}
