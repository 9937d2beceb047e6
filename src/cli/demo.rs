//! `tether demo`: the sandbox's stories on a virtual clock, printed as a timeline or JSON lines.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::demo;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// One JSON object per event, one per line.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
    templates_dir: PathBuf,
}

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let events = demo::run(&args.templates_dir).await?;
    if args.json {
        print!("{}", demo::json_lines(&events)?);
    } else {
        print!("{}", demo::render(&events));
    }
    Ok(ExitCode::SUCCESS)
}
