//! `tether token create|list|revoke`: API tokens for the admin API and the web console. Only a token's hash
//! is stored, so `create` is the one moment its secret is shown.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::open_store;
use crate::access::{self, Role};

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
            anyhow::ensure!(
                store.revoke_token(id, jiff::Timestamp::now()).await?,
                "no live token with id {id}"
            );
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(name: &str, role: Role, staff_id: Option<i64>, database_url: &str) -> anyhow::Result<()> {
    let store = open_store(database_url).await?;
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
    // The note goes to standard error so that the secret is the only thing a script reads from stdout.
    eprintln!("token {id} `{name}` ({role}) created; it is shown once, store it now:");
    println!("{secret}");
    Ok(())
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
