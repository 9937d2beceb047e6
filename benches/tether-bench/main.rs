//! tether-bench: Tether's throughput and latency beside the bare stack on the same machine, in one run.
//!
//! `cargo run --release --bin tether-bench -- [inbound] [dispatch] [crisis-latency] [scale] [triage] [--quick]`
//!
//! Each scenario first measures a ceiling (the bare stack doing the same work: an axum handler, a reqwest
//! loop, an automaton pass), then Tether, and prints one markdown table. Machines here are shared and noisy,
//! so the ratio to the ceiling is the figure to read.

// Nothing here needs `unsafe`; the compiler refuses any that creeps in, so memory safety rests on the
// dependencies alone.
#![forbid(unsafe_code)]

mod mock;
mod report;
mod scenarios;

use clap::Parser;

#[derive(Parser)]
#[command(name = "tether-bench")]
struct Args {
    /// Scenarios to run: inbound, dispatch, crisis-latency, scale, triage. All when none is named.
    scenarios: Vec<String>,
    /// Small sizes and short runs: a smoke test in well under two minutes.
    #[arg(long)]
    quick: bool,
    /// PostgreSQL server for the PostgreSQL rows; each scenario creates and drops its own database.
    #[arg(
        long,
        env = "TETHER_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Send exactly this many webhooks per load phase of `inbound` instead of loading for a time: a fixed
    /// amount of work whose instructions `valgrind --tool=callgrind` can count (BENCHMARKS.md).
    #[arg(long)]
    requests: Option<u64>,
}

const ALL: [&str; 5] = ["triage", "inbound", "dispatch", "crisis-latency", "scale"];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let chosen: Vec<String> = if args.scenarios.is_empty() {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios.clone()
    };
    if let Some(unknown) = chosen.iter().find(|s| !ALL.contains(&s.as_str())) {
        anyhow::bail!("unknown scenario `{unknown}`; choose from {}", ALL.join(", "));
    }
    if let Some(requests) = args.requests {
        scenarios::fix_requests(requests);
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Logs only on request: they would cost time inside the measurements.
    if std::env::var_os("RUST_LOG").is_some() {
        tether::telemetry::init(tether::telemetry::LogFormat::Pretty);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut rows = Vec::new();
    let postgres = runtime.block_on(scenarios::postgres_available(&args.postgres_url));
    if postgres.is_none() {
        eprintln!(
            "PostgreSQL at {} is unreachable: PostgreSQL rows are skipped",
            args.postgres_url
        );
    }
    for scenario in &chosen {
        eprintln!("running {scenario}{}…", if args.quick { " (quick)" } else { "" });
        let found = runtime.block_on(scenarios::run(scenario, args.quick, postgres.as_deref()))?;
        rows.extend(found);
    }
    println!("{}", report::table(&rows, args.quick));
    Ok(())
}
