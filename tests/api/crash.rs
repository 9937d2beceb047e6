//! Kill -9 in the middle of a batch: after a restart nothing is lost, and nothing is sent twice except
//! the texts whose provider call was in flight at the moment of the kill.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sqlx::AnyPool;
use tether::storage::Store;

use crate::helpers::*;
use crate::mock_provider::{ACCOUNT_SID, AUTH_TOKEN, FROM, MockProvider};
use crate::on_both_backends;

const TEXTS: usize = 40;
const CONCURRENCY: usize = 4;

/// The lease the existing tests run with: short, so a test that waits it out stays short.
const SHORT_LEASE_SECONDS: u32 = 5;

fn start_service(database_url: &str, mock: &MockProvider, lease_seconds: u32) -> Running {
    start_service_on(database_url, mock, lease_seconds, "127.0.0.1:0")
}

fn start_service_on(database_url: &str, mock: &MockProvider, lease_seconds: u32, bind: &str) -> Running {
    Running(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("TETHER_BIND", bind)
            .env("TETHER_PUBLIC_URL", PUBLIC_URL)
            .env("TETHER_TEMPLATES_DIR", shipped_templates())
            .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .env("TWILIO_FROM", FROM)
            .env("TWILIO_API_BASE", &mock.base_url)
            .env("TETHER_SEND_RATE_PER_SECOND", "0")
            .env("TETHER_SEND_CONCURRENCY", CONCURRENCY.to_string())
            .env("TETHER_SEND_LEASE_SECONDS", lease_seconds.to_string())
            // PostgreSQL: a killed instance counts as dead after 2 s of silence, not the default 15.
            .env("TETHER_INSTANCE_HEARTBEAT_SECONDS", "1")
            .env("TETHER_INSTANCE_SILENCE_SECONDS", "2")
            .env_remove("TWILIO_MESSAGING_SERVICE_SID")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tether serve"),
    )
}

async fn statuses(pool: &AnyPool) -> HashMap<i64, String> {
    sqlx::query_as::<_, (i64, String)>("SELECT id, status FROM outbox")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

on_both_backends! {
    async fn a_killed_service_loses_nothing_and_resends_only_what_was_in_flight(backend) {
        let mock = MockProvider::start().await.unwrap();
        // Slow answers keep several provider calls in flight when the kill lands.
        mock.set_delay(Duration::from_millis(150));
        let database = TestDatabase::create(&backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let now = Timestamp::now();
        let texts: Vec<_> = (0..TEXTS)
            .map(|i| due_text(format!("crash:{i}"), format!("+1415555{:04}", 100 + i), now))
            .collect();
        store.enqueue_many(&texts, now).await.unwrap();
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&database.url).await.unwrap();

        let mut service = start_service(&database.url, &mock, SHORT_LEASE_SECONDS);
        mock.wait_for_accepted(10, Duration::from_secs(60)).await.expect("10 texts accepted within a minute");
        service.kill();
        let in_flight: HashSet<i64> = statuses(&pool)
            .await
            .into_iter()
            .filter(|(_, status)| status == "sending")
            .map(|(id, _)| id)
            .collect();
        assert!(!in_flight.is_empty(), "the kill landed mid-batch");

        let mut service = start_service(&database.url, &mock, SHORT_LEASE_SECONDS);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let current = statuses(&pool).await;
            if current.values().all(|s| s == "sent") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "not all texts were sent after the restart: {current:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        service.kill();

        let mut per_text: HashMap<i64, usize> = HashMap::new();
        for text in mock.accepted() {
            *per_text.entry(text.outbox_id().unwrap()).or_default() += 1;
        }
        assert_eq!(per_text.len(), TEXTS, "nothing lost");
        let twice: HashSet<i64> = per_text.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
        assert!(per_text.values().all(|n| *n <= 2));
        assert!(twice.is_subset(&in_flight), "only in-flight texts were sent again: {twice:?} vs {in_flight:?}");
        assert!(twice.len() <= CONCURRENCY);
        pool.close().await;
        store.close().await;
    }
}

on_both_backends! {
    /// The acceptance test for crash recovery: a burst of 200 due texts, the service killed while it is sending
    /// them, restarted with the default minute-long lease. Nothing is lost, only texts that were with the
    /// provider at the kill go twice, and the texts the dead process had claimed go out within 5 s of the
    /// restart instead of after their lease: on SQLite taken back at start, on PostgreSQL released once the
    /// dead instance's heartbeat has been silent for 2 s.
    async fn after_a_kill_the_claimed_burst_goes_out_within_seconds_of_the_restart(backend) {
        const BURST: usize = 200;
        const DEFAULT_LEASE_SECONDS: u32 = 60;
        let mock = MockProvider::start().await.unwrap();
        mock.set_delay(Duration::from_millis(50));
        let database = TestDatabase::create(&backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let now = Timestamp::now();
        let texts: Vec<_> = (0..BURST)
            .map(|i| due_text(format!("burst:{i}"), format!("+1415556{:04}", 100 + i), now))
            .collect();
        store.enqueue_many(&texts, now).await.unwrap();
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&database.url).await.unwrap();

        let mut service = start_service(&database.url, &mock, DEFAULT_LEASE_SECONDS);
        mock.wait_for_accepted(30, Duration::from_secs(60))
            .await
            .expect("30 texts accepted within a minute");
        service.kill();
        let claimed_at_kill: HashSet<i64> = statuses(&pool)
            .await
            .into_iter()
            .filter(|(_, status)| status == "sending")
            .map(|(id, _)| id)
            .collect();
        assert!(!claimed_at_kill.is_empty(), "the kill landed while texts were claimed");
        let calls_before_restart = mock.requests().len();

        let restarted = Timestamp::now();
        let mut service = start_service(&database.url, &mock, DEFAULT_LEASE_SECONDS);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let current = statuses(&pool).await;
            if current.len() == BURST && current.values().all(|s| s == "sent") {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not all texts were sent well inside the lease after the restart"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        service.kill();

        let requests = mock.requests();
        let after_restart = &requests[calls_before_restart..];
        for id in &claimed_at_kill {
            let resent = after_restart
                .iter()
                .find(|r| r.outbox_id() == Some(*id))
                .unwrap_or_else(|| panic!("text {id}, claimed at the kill, was not sent after the restart"));
            assert!(
                resent.at.duration_since(restarted) < SignedDuration::from_secs(5),
                "text {id} waited {} after the restart",
                resent.at.duration_since(restarted)
            );
        }
        let mut per_text: HashMap<i64, usize> = HashMap::new();
        for text in mock.accepted() {
            *per_text.entry(text.outbox_id().unwrap()).or_default() += 1;
        }
        assert_eq!(per_text.len(), BURST, "nothing lost");
        assert!(per_text.values().all(|n| *n <= 2));
        let twice: HashSet<i64> = per_text.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
        let with_provider_at_kill: HashSet<i64> = requests[..calls_before_restart]
            .iter()
            .filter_map(|r| r.outbox_id())
            .collect();
        assert!(
            twice.is_subset(&claimed_at_kill),
            "only claimed texts went again: {twice:?}"
        );
        assert!(
            twice.is_subset(&with_provider_at_kill),
            "only texts the provider had seen went again: {twice:?}"
        );
        pool.close().await;
        store.close().await;
    }
}

on_both_backends! {
    /// SIGTERM in the middle of a burst, as on a deploy: the service stops claiming, finishes the provider
    /// calls it has in flight and records them, hands back what it had claimed but not sent, and exits on its
    /// own within seconds; a provider webhook arriving meanwhile is stored and answered 200. After a restart
    /// the rest of the burst goes, and no text goes twice.
    async fn a_sigterm_mid_burst_drains_and_nothing_goes_twice(backend) {
        const BURST: usize = 40;
        let mock = MockProvider::start().await.unwrap();
        // Slow answers: the calls in flight at the signal take two seconds to finish, the drain with them.
        mock.set_delay(Duration::from_secs(2));
        let database = TestDatabase::create(&backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let now = Timestamp::now();
        let texts: Vec<_> = (0..BURST)
            .map(|i| due_text(format!("term:{i}"), format!("+1415558{:04}", 100 + i), now))
            .collect();
        store.enqueue_many(&texts, now).await.unwrap();
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&database.url).await.unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("http://127.0.0.1:{port}");

        let mut service = start_service_on(&database.url, &mock, 60, &format!("127.0.0.1:{port}"));
        mock.wait_for_accepted(CONCURRENCY, Duration::from_secs(60)).await.expect("the burst started");
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", &service.0.id().to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
        let during_drain = mock.send_inbound(&address, PUBLIC_URL, "+14155559999", "are you there").await.unwrap();
        assert_eq!(during_drain, 200, "a webhook during the drain is taken");
        let started = std::time::Instant::now();
        let exit = loop {
            if let Some(exit) = service.0.try_wait().unwrap() {
                break exit;
            }
            assert!(started.elapsed() < Duration::from_secs(25), "the service did not stop in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(exit.success(), "a clean exit: {exit:?}");
        let at_exit = statuses(&pool).await;
        assert!(at_exit.values().all(|s| s == "sent" || s == "pending"), "nothing left claimed: {at_exit:?}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbound_messages").fetch_one(&pool).await.unwrap();
        assert_eq!(stored, 1, "the webhook's text was stored");

        mock.set_delay(Duration::from_millis(0));
        let mut service = start_service(&database.url, &mock, 60);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let current = statuses(&pool).await;
            if current.len() >= BURST && current.values().all(|s| s == "sent") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the rest of the burst went after the restart");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        service.kill();
        let mut per_text: HashMap<i64, usize> = HashMap::new();
        for text in mock.accepted().iter().filter(|t| t.to.starts_with("+1415558")) {
            *per_text.entry(text.outbox_id().unwrap()).or_default() += 1;
        }
        assert_eq!(per_text.len(), BURST, "nothing lost");
        assert!(per_text.values().all(|n| *n == 1), "nothing sent twice: {per_text:?}");
        pool.close().await;
        store.close().await;
    }
}

/// PostgreSQL: an instance that stops beating has its claims released by a live one once it has been
/// silent for the limit (15 s), on the virtual clock and well inside the claims' minute-long lease; the
/// live instance's own claims stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_silent_instances_claims_are_released_by_a_live_one() {
    let Some(backend) = TestBackend::postgres().await else {
        return;
    };
    let app = spawn_app(&backend).await;
    let start = app.clock.now();
    let texts: Vec<_> = (0..10)
        .map(|i| due_text(format!("silent:{i}"), format!("+1415557{:04}", 100 + i), start))
        .collect();
    app.store.enqueue_many(&texts, start).await.unwrap();
    // The instance that dies: its own connection, so its own instance id. It beats, claims every text
    // due, and is heard from no more.
    let dead = Store::connect(&app.database_url).await.unwrap();
    assert_ne!(dead.instance(), app.store.instance());
    dead.heartbeat(start).await.unwrap();
    let lease = SignedDuration::from_mins(1);
    assert_eq!(dead.claim_due(start, lease, 100, 0).await.unwrap().len(), 10);
    dead.close().await;
    // A text the live instance itself is sending.
    let own = due_text("silent:own".into(), "+14155570999".into(), start);
    app.store.enqueue(&own, start).await.unwrap();
    assert_eq!(app.store.claim_due(start, lease, 100, 0).await.unwrap().len(), 1);
    app.scheduler.keep_alive().await.unwrap();

    app.clock.advance(SignedDuration::from_secs(10));
    assert_eq!(
        app.scheduler.keep_alive().await.unwrap(),
        0,
        "10 s of silence is not yet death"
    );
    app.scheduler.tick().await.unwrap();
    assert!(
        app.mock.requests().is_empty(),
        "claimed texts wait while their instance may be alive"
    );

    app.clock.advance(SignedDuration::from_secs(6));
    assert_eq!(
        app.scheduler.keep_alive().await.unwrap(),
        10,
        "only the silent instance's claims"
    );
    app.scheduler.tick().await.unwrap();
    assert_eq!(
        app.mock.accepted().len(),
        10,
        "sent 16 s after the last heartbeat, not after the lease"
    );
    let pool = app.database_pool().await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT idempotency_key, status FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    for (key, status) in rows {
        let expected = if key == "silent:own" { "sending" } else { "sent" };
        assert_eq!(status, expected, "{key}");
    }
    pool.close().await;
}
