//! `spawn_app()`: the real application on a random port, against a fresh database (SQLite file or its own
//! PostgreSQL database), a mock provider, and a virtual clock the test moves.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use tether::app::Application;
use tether::config::Settings;
use tether::scheduler::Scheduler;
use tether::scheduling::{Clock, ManualClock};
use tether::storage::Store;
use tether::telemetry::LogFormat;
use tokio_util::sync::CancellationToken;

use crate::mock_provider::MockProvider;

pub const ADMIN_TOKEN: &str = "test-admin-token";
/// What the provider is told to call back; the mock delivers callbacks to the real address instead.
pub const PUBLIC_URL: &str = "https://tether.test";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum TestBackend {
    Sqlite,
    /// The server's URL; each test creates and drops its own database there.
    Postgres(String),
}

impl TestBackend {
    /// PostgreSQL from `TETHER_TEST_POSTGRES_URL` (default: the local server). Outside CI an unreachable
    /// server skips the test with a note; in CI (`CI=true`) it fails it, so PostgreSQL is never silently
    /// left untested.
    pub async fn postgres() -> Option<Self> {
        static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
        let url = std::env::var("TETHER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        if REACHABLE.get().is_none() {
            let probe = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&url)).await;
            let outcome = match probe {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    Ok(())
                }
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("timed out".to_owned()),
            };
            let _ = REACHABLE.set(outcome);
        }
        match REACHABLE.get() {
            Some(Ok(())) => Some(TestBackend::Postgres(url)),
            Some(Err(err)) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("PostgreSQL at {url} is required in CI and unreachable: {err}")
            }
            Some(Err(err)) => {
                eprintln!("skipping PostgreSQL test: {url} unreachable ({err}); set TETHER_TEST_POSTGRES_URL");
                None
            }
            None => None,
        }
    }
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(backend: &TestBackend) -> Self {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("tether.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            TestBackend::Postgres(server) => {
                let name = format!("tether_test_{:016x}", fastrand::u64(..));
                let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap();
                let _ = admin.close().await;
                let base = server.split('?').next().unwrap();
                let (prefix, _) = base.rsplit_once('/').unwrap();
                Self {
                    url: format!("{prefix}/{name}"),
                    _dir: None,
                    postgres: Some((server.clone(), name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread removes the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A moment as New York shows it, with the weekday: `Sun 2026-03-08 10:00`.
pub fn new_york(at: &str) -> String {
    at.parse::<Timestamp>()
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .strftime("%a %Y-%m-%d %H:%M")
        .to_string()
}

/// Copies a folder, as a test's own catalog to change.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn shipped_templates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("message_templates")
}

pub fn fixture_templates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/message_templates")
}

/// Settings for a test run: the mock provider, no rate limit, short timeouts.
pub fn test_settings(database_url: &str, provider_base: &str) -> Settings {
    let mut settings = Settings::sandbox(database_url, shipped_templates(), provider_base, PUBLIC_URL);
    settings.admin_token = Some(SecretString::from(ADMIN_TOKEN));
    settings
}

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub store: Store,
    pub scheduler: Arc<Scheduler>,
    pub clock: ManualClock,
    pub mock: MockProvider,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    _database: TestDatabase,
}

/// A Friday afternoon in early March 2026, shortly before Jordan's discharge.
pub fn start_of_tests() -> Timestamp {
    "2026-03-06T19:00:00Z".parse().unwrap()
}

pub async fn spawn_app(backend: &TestBackend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the application with the HTTP server running and the scheduler driven by the test.
pub async fn spawn_app_with(backend: &TestBackend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_tracing();
    let mock = MockProvider::start().await.unwrap();
    let database = TestDatabase::create(backend).await;
    let mut settings = test_settings(&database.url, &mock.base_url);
    configure(&mut settings);
    let clock = ManualClock::new(start_of_tests());
    let app = Application::build(&settings, Clock::Manual(clock.clone()))
        .await
        .unwrap();
    let address = format!("http://{}", app.local_addr());
    let store = app.store();
    let scheduler = app.scheduler();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_http_until_stopped(shutdown.clone()));
    TestApp {
        address,
        database_url: database.url.clone(),
        store,
        scheduler,
        clock,
        mock,
        http: reqwest::Client::new(),
        shutdown,
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Logs from the application show up with `TEST_LOG=1`.
fn init_test_tracing() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if std::env::var("TEST_LOG").is_ok() {
            tether::telemetry::init(LogFormat::Pretty);
        }
    });
}

impl TestApp {
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .put(format!("{}{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_client(&self, phone: &str, first_name: &str, language: &str, timezone: &str) -> i64 {
        let response = self
            .post(
                "/api/v1/clients",
                json!({
                    "phone": phone, "first_name": first_name, "language": language, "timezone": timezone,
                    "consented_at": "2026-03-06T18:00:00Z", "consent_source": "discharge form v2",
                }),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub async fn enroll(&self, client_id: i64, schedule: &str, discharged_at: &str) -> Value {
        let response = self
            .post(
                &format!("/api/v1/clients/{client_id}/enrollments"),
                json!({ "schedule": schedule, "discharged_at": discharged_at }),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    pub async fn messages(&self, client_id: i64) -> Vec<Value> {
        let response = self.get(&format!("/api/v1/clients/{client_id}/messages")).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["messages"].as_array().unwrap().clone()
    }

    /// Posts an inbound text as the provider would, signed, with a fresh `MessageSid`.
    /// A connection pool of the test's own to the app's database, for reading rows no API shows.
    pub async fn database_pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.database_url).await.unwrap()
    }

    pub async fn text_in(&self, from: &str, body: &str) -> reqwest::StatusCode {
        let sid = format!("SM{:032x}", fastrand::u128(..));
        self.text_in_with_sid(from, body, &sid).await
    }

    pub async fn text_in_with_sid(&self, from: &str, body: &str, sid: &str) -> reqwest::StatusCode {
        let response = self
            .mock
            .send_inbound_with_sid(&self.address, PUBLIC_URL, from, body, sid)
            .await
            .unwrap();
        let status = response.status();
        if status == 200 {
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/xml")
            );
            assert!(response.text().await.unwrap().contains("<Response/>"));
        }
        status
    }

    /// Runs scheduler passes, jumping the virtual clock from one deadline to the next, until the next
    /// deadline is after `until` (the clock is then left at `until`). Bounded, so a loop fails loudly.
    pub async fn run_until(&self, until: Timestamp) {
        tether::demo::harness::run_passes_until(&self.scheduler, &self.clock, until, || {})
            .await
            .unwrap();
    }
}

/// The `tether` binary with none of the environment that would point it at something real.
/// A spawned `tether` process, killed when dropped too: a failing assertion must not leave it running (it
/// would hold whatever the test process holds, the build lock included).
pub struct Running(pub std::process::Child);

impl Running {
    /// SIGKILL: no shutdown path runs.
    pub fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn tether(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tether"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TETHER_TEMPLATES_DIR")
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("TWILIO_FROM")
        .env_remove("TWILIO_MESSAGING_SERVICE_SID")
        .env("RUST_LOG", "error");
    command
}

impl TestApp {
    /// A new API token made with `tether token create`, as an operator would.
    pub fn token(&self, role: &str, name: &str, staff_id: Option<i64>) -> String {
        let staff = staff_id.map(|id| id.to_string());
        let mut args = vec![
            "token",
            "create",
            "--role",
            role,
            "--name",
            name,
            "--database-url",
            &self.database_url,
        ];
        if let Some(staff) = &staff {
            args.extend(["--staff-id", staff.as_str()]);
        }
        let output = tether(&args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout.lines().last().unwrap().to_owned()
    }

    /// A request with `token` (or none), answering status and JSON body (`Null` when there is none).
    pub async fn call(&self, token: Option<&str>, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn create_staff(&self, name: &str, phone: &str) -> i64 {
        let response = self
            .post("/api/v1/staff", json!({ "name": name, "phone": phone }))
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Makes `staff_id` the client's assigned peer.
    pub async fn assign_staff(&self, client_id: i64, staff_id: i64) {
        let response = self
            .put(
                &format!("/api/v1/clients/{client_id}/assigned-staff"),
                json!({ "staff_id": staff_id }),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
}

/// Declares one test per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[doc = $doc:literal])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[doc = $doc])*
            async fn run($backend: $crate::helpers::TestBackend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::TestBackend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::TestBackend::postgres().await {
                    run(backend).await;
                }
            }
        }
    };
}

pub use crate::mock_provider::inbound_params;

/// A text to no client record, due at `at`: load for the dispatcher without the client rules.
pub fn due_text(key: String, to: String, at: Timestamp) -> tether::storage::NewText {
    tether::storage::NewText {
        client_id: None,
        staff_id: None,
        enrollment_id: None,
        kind: tether::domain::MessageKind::CaringContact,
        body: format!("text {key}"),
        idempotency_key: key,
        to_phone: to,
        template: None,
        step: None,
        planned_at: at,
        expires_at: None,
    }
}
