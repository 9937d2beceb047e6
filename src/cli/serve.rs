//! `tether serve` and `serve --sandbox`: the service until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::Application;
use crate::config::Settings;
use crate::scheduling::Clock;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub(super) settings: Settings,
    /// Try it out: the mock provider instead of a real one, a throw-away database with sample staff and
    /// clients, and a phone simulator in the console. Nothing leaves the machine.
    #[arg(long)]
    sandbox: bool,
}

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.sandbox {
        serve_sandbox(args.settings).await
    } else {
        let app = Application::build(&args.settings, Clock::System).await?;
        run_until_signalled(app).await
    }
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
    use crate::sandbox::{people::Api, serve};

    let prepared = serve::prepare(settings).await?;
    let app = Application::build_with_sandbox(&prepared.settings, Clock::System, Some(prepared.mock.clone())).await?;
    let url = format!("http://{}", app.local_addr());
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
