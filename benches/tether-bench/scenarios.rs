//! The five scenarios. Each returns its rows: the ceiling first measured, then Tether on each backend.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use sqlx::{Connection, Executor};
use tether::app::Application;
use tether::config::{ReminderOffsets, SendingSettings, Settings, TwilioSettings};
use tether::domain::client::NewClientInput;
use tether::domain::oncall::{Policy, PolicyStep, Target};
use tether::scheduling::Clock;
use tether::storage::{ImportRow, NewRotation, Store};
use tether::telemetry::LogFormat;
use tokio_util::sync::CancellationToken;

use crate::mock::{ACCOUNT_SID, Mock};
use crate::report::{Row, cpu_seconds, peak_rss_mb, percentile, reset_peak_rss, rss_mb};

const AUTH_TOKEN: &str = "bench-auth-token";
const PUBLIC_URL: &str = "https://tether.bench";
const ON_CALL: &str = "+14155559001";

/// The backends a scenario runs on: SQLite always, PostgreSQL when reachable.
fn backends(postgres: Option<&str>) -> Vec<(&'static str, Option<String>)> {
    let mut list = vec![("SQLite", None)];
    if let Some(url) = postgres {
        list.push(("PostgreSQL", Some(url.to_owned())));
    }
    list
}

pub async fn postgres_available(url: &str) -> Option<String> {
    match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Some(url.to_owned())
        }
        _ => None,
    }
}

pub async fn run(name: &str, quick: bool, postgres: Option<&str>) -> anyhow::Result<Vec<Row>> {
    match name {
        "triage" => triage(quick),
        "inbound" => inbound(quick, postgres).await,
        "dispatch" => dispatch(quick, postgres).await,
        "crisis-latency" => crisis_latency(quick, postgres).await,
        "scale" => scale(quick, postgres).await,
        _ => Ok(Vec::new()),
    }
}

/// A database that lives for one measurement.
struct Database {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create(server: Option<&str>) -> anyhow::Result<Self> {
        match server {
            None => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                Ok(Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Some(server) => {
                let name = format!("tether_bench_{:016x}", fastrand::u64(..));
                let mut admin = sqlx::PgConnection::connect(server).await?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await?;
                let _ = admin.close().await;
                let (prefix, _) = server
                    .split('?')
                    .next()
                    .unwrap_or(server)
                    .rsplit_once('/')
                    .unwrap_or((server, ""));
                Ok(Self {
                    url: format!("{prefix}/{name}"),
                    _dir: None,
                    postgres: Some((server.to_owned(), name)),
                })
            }
        }
    }

    async fn drop_now(self) {
        if let Some((server, name)) = &self.postgres
            && let Ok(mut admin) = sqlx::PgConnection::connect(server).await
        {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }

    /// Bytes on disk: the SQLite file and its WAL, or the PostgreSQL database.
    async fn size_bytes(&self, store: &Store) -> u64 {
        match &self._dir {
            Some(dir) => ["bench.db", "bench.db-wal"]
                .iter()
                .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
                .map(|m| m.len())
                .sum(),
            None => store.database_size().await.unwrap_or(0),
        }
    }
}

fn templates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("message_templates")
}

fn settings(database_url: &str, provider: &str, rate: u32, concurrency: usize) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        bind: "127.0.0.1:0".into(),
        public_url: Some(PUBLIC_URL.into()),
        templates_dir: templates_dir(),
        admin_token: None,
        quiet_hours: "21:00-08:00".parse().expect("valid quiet hours"),
        appointment_reminders: ReminderOffsets(vec![SignedDuration::from_hours(24)]),
        signal_silent_after: 3,
        signal_missed_doses: 3,
        concern_unseen_hours: 4,
        medication_max_per_day: 6,
        medication_min_gap_minutes: 60,
        log_format: LogFormat::Pretty,
        forward_body: true,
        fallback_page_to: Default::default(),
        reply_to_unknown: true,
        insecure_skip_webhook_signature: false,
        twilio: TwilioSettings {
            account_sid: Some(ACCOUNT_SID.into()),
            auth_token: Some(SecretString::from(AUTH_TOKEN)),
            from: Some("+15005550006".into()),
            messaging_service_sid: None,
            api_base: provider.to_owned(),
        },
        sending: SendingSettings {
            send_rate_per_second: rate,
            send_concurrency: concurrency,
            send_max_attempts: 6,
            send_lease_seconds: 60,
            provider_timeout_seconds: 10,
            plan_ahead_hours: 24,
            instance_heartbeat_seconds: 5,
            instance_silence_seconds: 15,
        },
        http: Default::default(),
    }
}

/// `count` clients with numbers from `first`, all in New York, enrolled in caring contacts with a discharge
/// `discharge_in` from now.
fn import_rows(count: usize, first: u64, now: Timestamp, discharge_in: SignedDuration) -> Vec<ImportRow> {
    (0..count as u64)
        .filter_map(|i| {
            let input = NewClientInput {
                phone: phone_of(first, i),
                first_name: "Sam".into(),
                language: if i % 5 == 0 { "es" } else { "en" }.into(),
                timezone: "America/New_York".into(),
                consented_at: now.to_string(),
                consent_source: "bench import".into(),
            };
            let client = input.validate(now).ok()?;
            Some(ImportRow {
                client,
                discharged_at: now + discharge_in,
                first_step: Some((0, now + discharge_in + SignedDuration::from_hours(24))),
            })
        })
        .collect()
}

/// Client numbers: +1 415 then seven digits from 200-0000 up, valid North American numbers.
fn phone_of(first: u64, i: u64) -> String {
    format!("+1415{:07}", 2_000_000 + first + i)
}

/// `count` caring texts due at `now`, to numbers outside the client range and apart from the on-call phone.
fn due_texts(prefix: &str, count: usize, now: Timestamp) -> Vec<tether::storage::NewText> {
    (0..count)
        .map(|i| tether::storage::NewText {
            client_id: None,
            staff_id: None,
            enrollment_id: None,
            kind: tether::domain::MessageKind::CaringContact,
            idempotency_key: format!("{prefix}:{i}"),
            to_phone: format!("+1415556{:04}", i % 10_000),
            body: "Hi Sam, we're thinking of you. No need to reply. - Care Team".into(),
            template: None,
            step: None,
            planned_at: now,
            expires_at: None,
        })
        .collect()
}

/// Staff, a rotation and a policy, so crisis texts page someone.
async fn on_call(store: &Store) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let name = tether::domain::FirstName::parse("Riley").map_err(anyhow::Error::msg)?;
    let phone = tether::domain::PhoneNumber::parse(ON_CALL).map_err(anyhow::Error::msg)?;
    let staff = store.insert_staff(&name, &phone, now).await?;
    let rotation = store
        .insert_rotation(
            &NewRotation {
                name: "primary".into(),
                timezone: "America/New_York".into(),
                shift_hours: 24,
                handoff_time: "08:00".into(),
                start_date: "2026-01-01".parse()?,
                members: vec![staff],
            },
            now,
        )
        .await?;
    let policy = Policy {
        steps: vec![PolicyStep {
            target: Target::Rotation(rotation),
            delay_minutes: 10,
        }],
        repeat: 0,
    };
    store.set_escalation_policy(&policy, now).await?;
    Ok(())
}

/// A fresh database with `clients` enrolled clients and someone on call, a mock provider, and settings
/// pointing at both.
async fn seeded(
    server: Option<&str>,
    rate: u32,
    concurrency: usize,
    clients: usize,
) -> anyhow::Result<(Database, Mock, Settings, Store)> {
    let database = Database::create(server).await?;
    let mock = Mock::start().await?;
    let settings = settings(&database.url, &mock.base_url, rate, concurrency);
    let store = Store::connect(&database.url).await?;
    store.migrate().await?;
    let now = Timestamp::now();
    let rows = import_rows(clients, 0, now, SignedDuration::from_hours(72));
    store.import_enrollments("caring_contacts", 1, &rows, now).await?;
    on_call(&store).await?;
    Ok((database, mock, settings, store))
}

/// Starts the whole service (HTTP, both scheduler lanes) on the system clock.
async fn start_service(
    settings: &Settings,
) -> anyhow::Result<(String, Store, CancellationToken, tokio::task::JoinHandle<()>)> {
    let app = Application::build(settings, Clock::System).await?;
    let address = format!("http://{}", app.local_addr());
    let store = app.store();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let handle = tokio::spawn(async move {
        let _ = app.run_until_stopped(stop).await;
    });
    Ok((address, store, shutdown, handle))
}

const EVERYDAY: &[&str] = &[
    "Thanks, see you Tuesday",
    "ok",
    "Feeling better today, thank you for checking in",
    "who is this?",
    "Can you call me back when you get a chance",
    "I'm at work, talk later",
    "Thank you. It's been a hard week but I'm hanging in there",
    "C",
];
const CRISIS: &[&str] = &["I want to die", "took all my pills", "going to end it tonight"];

fn body_for(i: u64) -> &'static str {
    // About 3% of texts carry crisis words.
    if i.is_multiple_of(33) {
        CRISIS[(i / 33) as usize % CRISIS.len()]
    } else {
        EVERYDAY[i as usize % EVERYDAY.len()]
    }
}

fn signed_form(from: &str, body: &str, sid: &str) -> (Vec<(String, String)>, String, String) {
    let params: Vec<(String, String)> = [
        ("MessageSid", sid),
        ("SmsMessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("To", "+15005550006"),
        ("Body", body),
        ("NumMedia", "0"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature =
        tether::provider::signature::compute(AUTH_TOKEN, &format!("{PUBLIC_URL}/webhooks/twilio/sms"), &params);
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    (params, signature, encoded)
}

/// 64 connections posting signed inbound texts for `seconds`; returns (requests per second, latencies ms).
/// `--requests`: how many webhooks each load phase sends, when fixed rather than timed.
static FIXED_REQUESTS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

pub fn fix_requests(requests: u64) {
    let _ = FIXED_REQUESTS.set(requests);
}

async fn load(url: &str, senders: u64, first: u64, seconds: f64) -> (f64, Vec<f64>) {
    const CONNECTIONS: usize = 64;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, counter) = (client.clone(), url.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let done = match FIXED_REQUESTS.get() {
                    Some(&requests) => i >= requests,
                    None => Instant::now() >= deadline,
                };
                if done {
                    break;
                }
                let sid = format!("SM{:032x}", fastrand::u128(..));
                let (_, signature, encoded) = signed_form(&phone_of(first, i % senders), body_for(i), &sid);
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("X-Twilio-Signature", signature)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(encoded)
                    .send()
                    .await;
                if matches!(&response, Ok(r) if r.status().is_success()) {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    (all.len() as f64 / elapsed, all)
}

async fn inbound(quick: bool, postgres: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let seconds = if quick { 2.0 } else { 10.0 };
    let senders = 5_000u64;
    // Ceiling: a bare axum handler that parses the same form and returns the same TwiML.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ceiling_url = format!("http://{}/webhooks/twilio/sms", listener.local_addr()?);
    let bare = axum::Router::new().route(
        "/webhooks/twilio/sms",
        axum::routing::post(|body: axum::body::Bytes| async move {
            let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            std::hint::black_box(params);
            (
                [("content-type", "text/xml")],
                r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#,
            )
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, bare).await });
    let (ceiling, _) = load(&ceiling_url, senders, 0, seconds).await;
    server.abort();

    let mut rows = Vec::new();
    for (backend, server) in backends(postgres) {
        reset_peak_rss();
        let (database, _mock, settings, store) = seeded(server.as_deref(), 0, 16, senders as usize).await?;
        let (address, _, shutdown, handle) = start_service(&settings).await?;
        let (rate, latencies) = load(&format!("{address}/webhooks/twilio/sms"), senders, 0, seconds).await;
        shutdown.cancel();
        let _ = handle.await;
        store.close().await;
        database.drop_now().await;
        let (target, share) = if backend == "SQLite" {
            ("≥25% of ceiling, p99 < 25 ms", 0.25)
        } else {
            ("≥15% of ceiling, p99 < 25 ms", 0.15)
        };
        let p99 = latencies
            .get(((latencies.len() as f64 - 1.0) * 0.99).round() as usize)
            .copied()
            .unwrap_or(f64::MAX);
        rows.push(Row {
            scenario: "inbound",
            backend,
            tether: format!("{rate:.0} req/s"),
            ceiling: format!("{ceiling:.0} req/s"),
            ratio: Some(rate / ceiling),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            target,
            met: Some(rate / ceiling >= share && p99 < 25.0),
            peak_rss_mb: peak_rss_mb(),
        });
    }
    Ok(rows)
}

async fn dispatch(quick: bool, postgres: Option<&str>) -> anyhow::Result<Vec<Row>> {
    const CONCURRENCY: usize = 16;
    let count = if quick { 3_000 } else { 100_000 };
    // Ceiling: a bare reqwest loop posting the same form to the same mock at the same concurrency.
    let mock = Mock::start().await?;
    let client = reqwest::Client::new();
    let url = format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", mock.base_url);
    let started = Instant::now();
    futures_util::stream::iter(0..count)
        .for_each_concurrent(CONCURRENCY, |i| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let callback = format!("{PUBLIC_URL}/webhooks/twilio/status?outbox_id={i}");
                let form = [
                    ("To", "+14155550100"),
                    ("From", "+15005550006"),
                    ("Body", "text"),
                    ("StatusCallback", callback.as_str()),
                ];
                let _ = client
                    .post(&url)
                    .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
                    .form(&form)
                    .send()
                    .await;
            }
        })
        .await;
    let ceiling = count as f64 / started.elapsed().as_secs_f64();

    let mut rows = Vec::new();
    for (backend, server) in backends(postgres) {
        reset_peak_rss();
        let database = Database::create(server.as_deref()).await?;
        let mock = Mock::start().await?;
        let settings = settings(&database.url, &mock.base_url, 0, CONCURRENCY);
        let app = Application::build(&settings, Clock::System).await?;
        let store = app.store();
        let now = Timestamp::now();
        let texts = due_texts("bench", count, now);
        for chunk in texts.chunks(10_000) {
            store.enqueue_many(chunk, now).await?;
        }
        let started = Instant::now();
        app.scheduler().tick().await?;
        let rate = count as f64 / started.elapsed().as_secs_f64();
        let (distinct, twice) = mock.counts();
        store.close().await;
        database.drop_now().await;
        rows.push(Row {
            scenario: "dispatch",
            backend,
            tether: format!("{rate:.0} texts/s ({distinct} sent, {twice} twice)"),
            ceiling: format!("{ceiling:.0} posts/s"),
            ratio: Some(rate / ceiling),
            p50: "–".into(),
            p99: "–".into(),
            target: "≥20% of ceiling, each text once",
            met: Some(rate / ceiling >= 0.20 && distinct == count && twice == 0),
            peak_rss_mb: peak_rss_mb(),
        });
    }
    Ok(rows)
}

async fn crisis_latency(quick: bool, postgres: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let trials = if quick { 20 } else { 200 };
    let mut rows = Vec::new();
    for (backend, server) in backends(postgres) {
        reset_peak_rss();
        // The default one text per second per number: 10,000 scheduled texts stay due throughout.
        let (database, mock, settings, store) = seeded(server.as_deref(), 1, 4, trials).await?;
        let now = Timestamp::now();
        let bulk = due_texts("due", 10_000, now);
        store.enqueue_many(&bulk, now).await?;
        let mut pages = mock.watch(ON_CALL);
        let (address, _, shutdown, handle) = start_service(&settings).await?;
        let client = reqwest::Client::new();
        let mut latencies = Vec::with_capacity(trials);
        for i in 0..trials as u64 {
            let sid = format!("SM{:032x}", fastrand::u128(..));
            let (_, signature, encoded) = signed_form(&phone_of(0, i), "I want to die", &sid);
            let response = client
                .post(format!("{address}/webhooks/twilio/sms"))
                .header("X-Twilio-Signature", signature)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(encoded)
                .send()
                .await?;
            let answered = Instant::now();
            anyhow::ensure!(response.status().is_success(), "webhook answered {}", response.status());
            match tokio::time::timeout(Duration::from_secs(5), pages.recv()).await {
                Ok(Some(arrived)) => latencies.push(arrived.saturating_duration_since(answered).as_secs_f64() * 1000.0),
                _ => latencies.push(5000.0),
            }
        }
        shutdown.cancel();
        let _ = handle.await;
        store.close().await;
        database.drop_now().await;
        latencies.sort_by(f64::total_cmp);
        let p99 = latencies
            .get(((latencies.len() as f64 - 1.0) * 0.99).round() as usize)
            .copied()
            .unwrap_or(f64::MAX);
        rows.push(Row {
            scenario: "crisis-latency",
            backend,
            tether: format!("{trials} trials"),
            ceiling: "–".into(),
            ratio: None,
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            target: "p99 < 50 ms from 200 to first page",
            met: Some(p99 < 50.0),
            peak_rss_mb: peak_rss_mb(),
        });
    }
    Ok(rows)
}

async fn scale(quick: bool, postgres: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let count = if quick { 20_000 } else { 1_000_000 };
    let idle_seconds = if quick { 3 } else { 60 };
    let mut rows = Vec::new();
    for (backend, server) in backends(postgres) {
        reset_peak_rss();
        let database = Database::create(server.as_deref()).await?;
        let mock = Mock::start().await?;
        let settings = settings(&database.url, &mock.base_url, 1, 4);
        let store = Store::connect(&database.url).await?;
        store.migrate().await?;
        let now = Timestamp::now();
        let started = Instant::now();
        const CHUNK: usize = 20_000;
        let mut imported = 0;
        while imported < count {
            let size = CHUNK.min(count - imported);
            // Discharge three days ahead: nothing is due for days, so the idle measurement below is idle.
            let batch = import_rows(size, imported as u64, now, SignedDuration::from_hours(72));
            store.import_enrollments("caring_contacts", 1, &batch, now).await?;
            imported += size;
        }
        let rate = count as f64 / started.elapsed().as_secs_f64();
        let size_mb = database.size_bytes(&store).await as f64 / 1e6;
        let (_, _, shutdown, handle) = start_service(&settings).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let cpu_before = cpu_seconds();
        tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
        let cpu = cpu_seconds() - cpu_before;
        let rss = rss_mb();
        shutdown.cancel();
        let _ = handle.await;
        store.close().await;
        database.drop_now().await;
        let target_rate = if backend == "SQLite" { 20_000.0 } else { 0.0 };
        rows.push(Row {
            scenario: "scale",
            backend,
            tether: format!(
                "{count} enrolled at {rate:.0}/s; {size_mb:.0} MB on disk; {rss:.0} MB RSS; {cpu:.2} s CPU in {idle_seconds} s idle"
            ),
            ceiling: "–".into(),
            ratio: None,
            p50: "–".into(),
            p99: "–".into(),
            target: "≥20,000/s (SQLite), RSS ≤150 MB, idle",
            met: Some(rate >= target_rate && rss <= 150.0 && cpu < 0.05 * idle_seconds as f64),
            peak_rss_mb: peak_rss_mb(),
        });
    }
    Ok(rows)
}

fn triage(quick: bool) -> anyhow::Result<Vec<Row>> {
    let seconds = if quick { 0.5 } else { 5.0 };
    let mut problems = Vec::new();
    let classifier = tether::risk::load(&templates_dir().join("risk"), &mut problems)
        .ok_or_else(|| anyhow::anyhow!("lexicons do not load: {problems:?}"))?;
    let texts: Vec<String> = (0..10_000u64)
        .map(|i| format!("{} {}", body_for(i), EVERYDAY[(i as usize * 7) % EVERYDAY.len()]))
        .collect();

    // Ceiling: one automaton pass over each text, with the lexicon phrases and no normalisation.
    let phrases = lexicon_phrases()?;
    let bare = aho_corasick::AhoCorasick::new(&phrases)?;
    let rate = |work: &dyn Fn(&str) -> usize| {
        let started = Instant::now();
        let mut done = 0u64;
        let mut sink = 0usize;
        while started.elapsed().as_secs_f64() < seconds {
            for text in &texts {
                sink = sink.wrapping_add(work(text));
            }
            done += texts.len() as u64;
        }
        std::hint::black_box(sink);
        done as f64 / started.elapsed().as_secs_f64()
    };
    let ceiling = rate(&|text| bare.find_overlapping_iter(text).count());
    reset_peak_rss();
    let tether = rate(&|text| classifier.assess(text).matches.len());
    Ok(vec![Row {
        scenario: "triage",
        backend: "–",
        tether: format!("{tether:.0} texts/s"),
        ceiling: format!("{ceiling:.0} texts/s"),
        ratio: Some(tether / ceiling),
        p50: "–".into(),
        p99: "–".into(),
        target: "≥200,000 texts/s on one core",
        met: Some(tether >= 200_000.0),
        peak_rss_mb: peak_rss_mb(),
    }])
}

/// Every phrase string in the shipped lexicons, as written.
fn lexicon_phrases() -> anyhow::Result<Vec<String>> {
    let mut phrases = Vec::new();
    for entry in std::fs::read_dir(templates_dir().join("risk"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(path)?;
        let value: toml::Value = toml::from_str(&text)?;
        collect_strings(&value, &mut phrases);
    }
    Ok(phrases)
}

fn collect_strings(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::String(s) if s.len() > 1 => out.push(s.to_lowercase()),
        toml::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        toml::Value::Table(table) => table.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
