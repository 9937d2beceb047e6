//! Kill -9 in the middle of a batch: after a restart nothing is lost, and nothing is sent twice except
//! the texts whose provider call was in flight at the moment of the kill.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jiff::Timestamp;
use sqlx::AnyPool;
use tether::storage::Store;

use crate::helpers::*;
use crate::mock_provider::{ACCOUNT_SID, AUTH_TOKEN, FROM, MockProvider};
use crate::on_both_backends;

const TEXTS: usize = 40;
const CONCURRENCY: usize = 4;

fn start_service(database_url: &str, mock: &MockProvider) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("TETHER_BIND", "127.0.0.1:0")
        .env("TETHER_PUBLIC_URL", PUBLIC_URL)
        .env("TETHER_TEMPLATES_DIR", shipped_templates())
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env("TWILIO_FROM", FROM)
        .env("TWILIO_API_BASE", &mock.base_url)
        .env("TETHER_SEND_RATE_PER_SECOND", "0")
        .env("TETHER_SEND_CONCURRENCY", CONCURRENCY.to_string())
        .env("TETHER_SEND_LEASE_SECONDS", "5")
        .env_remove("TWILIO_MESSAGING_SERVICE_SID")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tether serve")
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

        let mut service = start_service(&database.url, &mock);
        mock.wait_for_accepted(10, Duration::from_secs(60)).await.expect("10 texts accepted within a minute");
        service.kill().unwrap(); // SIGKILL: no shutdown path runs.
        service.wait().unwrap();
        let in_flight: HashSet<i64> = statuses(&pool)
            .await
            .into_iter()
            .filter(|(_, status)| status == "sending")
            .map(|(id, _)| id)
            .collect();
        assert!(!in_flight.is_empty(), "the kill landed mid-batch");

        let mut service = start_service(&database.url, &mock);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let current = statuses(&pool).await;
            if current.values().all(|s| s == "sent") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "not all texts were sent after the restart: {current:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        service.kill().unwrap();
        service.wait().unwrap();

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
