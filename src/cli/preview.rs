//! `tether preview`: when each text of a schedule, an appointment's reminders or a medication pattern would
//! go, and what it would say, from the templates folder or the live catalog.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::open_store;
use crate::domain::{AppointmentKind, TimeZoneName};
use crate::preview::{self, PreviewRequest};
use crate::scheduling::QuietHours;
use crate::scheduling::recurrence::Recurrence;
use crate::scheduling::reminders::parse_offsets;
use crate::templates;

#[derive(clap::Args)]
pub struct PreviewArgs {
    /// A schedule, or several a client follows together, comma-separated (`bridge,caring_contacts`): their
    /// texts are merged in the order they go, with the bridge replacing the others' first days.
    #[arg(long, required_unless_present_any = ["appointment_at", "medication"], conflicts_with_all = ["appointment_at", "medication"])]
    schedule: Option<String>,
    /// Discharge time: local to --tz (2026-03-06T15:00) or RFC 3339 with an offset.
    #[arg(long)]
    discharged_at: Option<String>,
    /// Appointment start, local to --tz or RFC 3339.
    #[arg(long, conflicts_with = "medication")]
    appointment_at: Option<String>,
    /// The appointment's kind (clinic_visit, therapy, pharmacy_pickup, benefits_office, court_date, other):
    /// its wording and offsets. A clinic visit if left out.
    #[arg(long, requires = "appointment_at")]
    kind: Option<String>,
    /// Medication reminder pattern, 5-field cron in the client's zone, like "30 8 * * *".
    #[arg(long)]
    medication: Option<String>,
    /// Where the medication preview starts; now if omitted.
    #[arg(long)]
    from: Option<String>,
    /// How many medication reminders to show.
    #[arg(long, default_value_t = 7)]
    count: usize,
    /// The client's IANA time zone.
    #[arg(long)]
    tz: String,
    /// Language of the texts; the program's default if omitted.
    #[arg(long)]
    language: Option<String>,
    #[arg(long, default_value = "Jordan")]
    first_name: String,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "TETHER_TEMPLATES_DIR", default_value = "message_templates")]
    templates_dir: PathBuf,
    /// Preview the live version in the database at DATABASE_URL (what the service sends) instead of the
    /// templates folder.
    #[arg(long)]
    live: bool,
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tether.db")]
    database_url: String,
    #[arg(long, env = "TETHER_QUIET_HOURS", default_value = "21:00-08:00")]
    quiet_hours: QuietHours,
    #[arg(long, env = "TETHER_APPOINTMENT_REMINDERS", default_value = "24h,2h")]
    appointment_reminders: String,
}

pub(super) async fn run(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let PreviewArgs {
        schedule,
        discharged_at,
        appointment_at,
        kind,
        medication,
        from,
        count,
        tz,
        language,
        first_name,
        json,
        templates_dir,
        live,
        database_url,
        quiet_hours,
        appointment_reminders,
    } = args;
    let catalog = if live {
        let store = open_store(&database_url).await?;
        let stored = store
            .latest_catalog()
            .await?
            .context("the database has no catalog yet; start the service once")?;
        templates::load_files(&stored.files)?.catalog
    } else {
        templates::load(&templates_dir)?.catalog
    };
    let zone = TimeZoneName::parse(&tz).map_err(|m| anyhow::anyhow!("--tz: {m}"))?;
    let language = language.unwrap_or_else(|| catalog.program.default_language.clone());
    let instant =
        |flag: &str, value: &str| preview::parse_discharge(value, &zone).map_err(|m| anyhow::anyhow!("--{flag}: {m}"));
    let rows = if let Some(starts_at) = appointment_at {
        let offsets =
            parse_offsets(&appointment_reminders).map_err(|m| anyhow::anyhow!("--appointment-reminders: {m}"))?;
        let starts_at = instant("appointment-at", &starts_at)?;
        let kind = match kind {
            Some(kind) => AppointmentKind::parse(&kind).map_err(|m| anyhow::anyhow!("--kind: {m}"))?,
            None => AppointmentKind::default(),
        };
        preview::preview_appointment(
            &catalog,
            kind,
            starts_at,
            &offsets,
            &zone,
            &language,
            &first_name,
            &quiet_hours,
        )?
    } else if let Some(pattern) = medication {
        let recurrence: Recurrence = pattern
            .parse()
            .map_err(|m: String| anyhow::anyhow!("--medication: {m}"))?;
        let from = match from {
            Some(from) => instant("from", &from)?,
            None => jiff::Timestamp::now(),
        };
        preview::preview_medication(&catalog, &recurrence, from, count, &zone, &language, &first_name)?
    } else {
        let schedule = schedule.unwrap_or_default();
        let schedules: Vec<&str> = schedule.split(',').map(str::trim).collect();
        let discharged_at = instant("discharged-at", discharged_at.as_deref().unwrap_or_default())?;
        preview::preview(
            &catalog,
            &PreviewRequest {
                schedules: &schedules,
                discharged_at,
                zone: &zone,
                language: &language,
                first_name: &first_name,
                quiet_hours: &quiet_hours,
            },
        )?
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", preview::render_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}
