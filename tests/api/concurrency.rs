//! Several instances on one database: each text is sent exactly once.

use std::collections::HashMap;

use tether::app::Application;
use tether::scheduling::Clock;

use crate::helpers::*;
use crate::on_both_backends;

const TEXTS: usize = 10_000;

on_both_backends! {
    /// Two dispatchers with their own connection pools drain 10,000 due texts at the same time; the mock
    /// provider counts each exactly once.
    async fn two_dispatchers_send_ten_thousand_texts_exactly_once(backend) {
        let first = spawn_app(&backend).await;
        let mut settings = test_settings(&first.database_url, &first.mock.base_url);
        settings.sending.send_concurrency = 8;
        let second = Application::build(&settings, Clock::Manual(first.clock.clone())).await.unwrap();
        let second_scheduler = second.scheduler();

        let now = first.clock.now();
        let texts: Vec<_> = (0..TEXTS)
            .map(|i| due_text(format!("load:{i}"), format!("+1415555{:04}", i % 10_000), now))
            .collect();
        assert_eq!(first.store.enqueue_many(&texts, now).await.unwrap(), TEXTS);
        assert_eq!(first.store.enqueue_many(&texts[..10], now).await.unwrap(), 0, "idempotency keys hold");

        let (a, b) = tokio::join!(first.scheduler.tick(), second_scheduler.tick());
        let (a, b) = (a.unwrap().handled, b.unwrap().handled);
        assert_eq!(a + b, TEXTS, "every text handled once between them ({a} + {b})");
        assert!(a > 0 && b > 0, "both dispatchers took part ({a} + {b})");

        let accepted = first.mock.accepted();
        let mut per_text: HashMap<i64, usize> = HashMap::new();
        for text in &accepted {
            *per_text.entry(text.outbox_id().unwrap()).or_default() += 1;
        }
        assert_eq!(accepted.len(), TEXTS);
        assert_eq!(per_text.len(), TEXTS);
        assert!(per_text.values().all(|&n| n == 1));

        // A run ends only once every acceptance in it is committed.
        let recorded: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND provider_sid IS NOT NULL")
                .fetch_one(&first.database_pool().await)
                .await
                .unwrap();
        assert_eq!(recorded, TEXTS as i64);
    }
}
