//! `tether send-test`: one text through the configured provider, to try a deployment's credentials.

use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::OutgoingText;

#[derive(clap::Args)]
pub struct SendTestArgs {
    #[command(flatten)]
    pub(super) settings: Box<Settings>,
    #[arg(long)]
    to: String,
    #[arg(long, default_value = "This is a test message. No need to reply.")]
    body: String,
}

pub(super) async fn run(args: SendTestArgs) -> anyhow::Result<ExitCode> {
    let SendTestArgs { settings, to, body } = args;
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
