//! The `tether` command: run the service, migrate, check templates, preview a schedule, manage tokens and
//! catalog versions, send a test text. Each command lives in `src/cli/`; this file only parses the command
//! line, sets up logging and runs the command on the async runtime.

// Nothing here needs `unsafe`; the compiler refuses any that creeps in, so memory safety rests on the
// dependencies alone.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use tether::cli::{self, Cli};
use tether::telemetry;

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    telemetry::init_with_default(command.log_format(), command.default_log_level());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
