//! `tether token create|list|revoke`: API tokens for the admin API and the web console. Only a token's hash
//! is stored, so `create` is the one moment its secret is shown.

use std::process::ExitCode;

use clap::Subcommand;

use super::open_store;
use crate::access::Role;
use crate::service::{ServiceError, tokens};

#[derive(Subcommand)]
pub enum TokenCommand {
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

pub(super) async fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            name,
            role,
            staff_id,
            database_url,
        } => create(&name, role, staff_id, &database_url).await?,
        TokenCommand::List { database_url } => list(&database_url).await?,
        TokenCommand::Revoke { id, database_url } => {
            let store = open_store(&database_url).await?;
            tokens::revoke(&store, id, jiff::Timestamp::now())
                .await
                .map_err(as_cli_error)?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(name: &str, role: Role, staff_id: Option<i64>, database_url: &str) -> anyhow::Result<()> {
    let store = open_store(database_url).await?;
    let issued = tokens::issue(&store, name, role, staff_id, jiff::Timestamp::now())
        .await
        .map_err(as_cli_error)?;
    // The note goes to standard error so that the secret is the only thing a script reads from stdout.
    eprintln!(
        "token {} `{}` ({role}) created; it is shown once, store it now:",
        issued.id,
        name.trim()
    );
    println!("{}", issued.secret);
    Ok(())
}

/// A refusal, naming the option to blame (`staff_id` is `--staff-id`).
fn as_cli_error(err: ServiceError) -> anyhow::Error {
    match err {
        ServiceError::Invalid(field) | ServiceError::Conflict(field) => {
            anyhow::anyhow!("--{}: {}", field.field.replace('_', "-"), field.message)
        }
        ServiceError::NotFound(what) => anyhow::anyhow!("no {what} with that id"),
        other => anyhow::Error::new(other),
    }
}

async fn list(database_url: &str) -> anyhow::Result<()> {
    let store = open_store(database_url).await?;
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
    Ok(())
}
