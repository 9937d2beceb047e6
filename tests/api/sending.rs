//! The sender against a provider that fails the ways real providers fail.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tether::domain::MessageKind;
use tether::storage::NewText;

use crate::helpers::*;
use crate::mock_provider::Scripted;
use crate::on_both_backends;

const PHONE: &str = "+14155550142";

/// A client with one caring text due now and another due tomorrow.
async fn client_with_texts(app: &TestApp) -> i64 {
    let now = app.clock.now();
    client_with_texts_at(app, &[("day_1", now), ("day_2", now + SignedDuration::from_hours(24))]).await
}

async fn client_with_texts_at(app: &TestApp, steps: &[(&str, Timestamp)]) -> i64 {
    let client = app.create_client(PHONE, "Maya", "en", "America/New_York").await;
    let now = app.clock.now();
    for &(step, at) in steps {
        let text = NewText {
            client_id: Some(client),
            staff_id: None,
            enrollment_id: None,
            kind: MessageKind::CaringContact,
            idempotency_key: format!("test:{client}:{step}"),
            to_phone: PHONE.to_owned(),
            body: format!("Hi Maya, {step}. - Care Team"),
            template: None,
            step: Some(step.to_owned()),
            planned_at: at,
            expires_at: Some(at + SignedDuration::from_hours(24)),
        };
        assert!(app.store.enqueue(&text, now).await.unwrap());
    }
    client
}

async fn first(app: &TestApp, client: i64) -> Value {
    app.messages(client).await.remove(0)
}

on_both_backends! {
    /// 500, then 201: the text is retried after a backoff and sent once.
    async fn a_server_error_is_retried_and_the_text_sent_once(backend) {
        let app = spawn_app(&backend).await;
        let client = client_with_texts(&app).await;
        app.mock.script(Scripted::Fail { status: 500, code: None, retry_after: None });

        app.scheduler.tick().await.unwrap();
        let text = first(&app, client).await;
        assert_eq!(text["status"], "pending");
        assert_eq!(text["attempts"], 1);
        let retry_at: Timestamp = text["send_at"].as_str().unwrap().parse().unwrap();
        assert!(retry_at > app.clock.now(), "backs off");

        app.run_until(app.clock.now() + SignedDuration::from_mins(5)).await;
        let text = first(&app, client).await;
        assert_eq!(text["status"], "sent");
        assert_eq!(text["attempts"], 2);
        assert_eq!(app.mock.requests().len(), 2);
        assert_eq!(app.mock.accepted().len(), 1, "sent exactly once");
    }
}

on_both_backends! {
    /// 429 with Retry-After: nothing more is sent until the provider's wait is over.
    async fn throttling_backs_off_for_at_least_retry_after(backend) {
        let app = spawn_app(&backend).await;
        let client = client_with_texts(&app).await;
        let start = app.clock.now();
        app.mock.script(Scripted::Fail { status: 429, code: Some(20429), retry_after: Some(120) });

        app.run_until(start + SignedDuration::from_secs(119)).await;
        assert_eq!(app.mock.requests().len(), 1, "no retry inside Retry-After");
        let text = first(&app, client).await;
        assert_eq!(text["status"], "pending");
        assert!(text["send_at"].as_str().unwrap().parse::<Timestamp>().unwrap() >= start + SignedDuration::from_secs(120));

        app.run_until(start + SignedDuration::from_mins(10)).await;
        assert_eq!(app.mock.accepted().len(), 1);
        assert_eq!(first(&app, client).await["status"], "sent");
    }
}

on_both_backends! {
    /// 21610: the client replied STOP at the provider. They are opted out here too, and their later texts
    /// are cancelled, not attempted.
    async fn error_21610_opts_the_client_out_and_cancels_later_texts(backend) {
        let app = spawn_app(&backend).await;
        let client = client_with_texts(&app).await;
        app.mock.script(Scripted::Fail { status: 400, code: Some(21610), retry_after: None });

        app.run_until(app.clock.now() + SignedDuration::from_hours(72)).await;

        assert_eq!(app.mock.requests().len(), 1, "one attempt, no retry, nothing after");
        let messages = app.messages(client).await;
        assert_eq!(messages[0]["status"], "failed");
        assert_eq!(messages[0]["error_code"], 21610);
        assert_eq!(messages[1]["status"], "cancelled");
        let client: Value = app.get(&format!("/api/v1/clients/{client}")).await.json().await.unwrap();
        assert_eq!(client["status"], "opted_out");
    }
}

on_both_backends! {
    /// 21211: the number is invalid. It is flagged and nothing more is attempted to it.
    async fn an_invalid_number_is_flagged_and_later_texts_cancelled(backend) {
        let app = spawn_app(&backend).await;
        let client = client_with_texts(&app).await;
        app.mock.script(Scripted::Fail { status: 400, code: Some(21211), retry_after: None });

        app.run_until(app.clock.now() + SignedDuration::from_hours(72)).await;

        assert_eq!(app.mock.requests().len(), 1);
        let messages = app.messages(client).await;
        assert_eq!(messages[0]["status"], "failed");
        assert_eq!(messages[0]["error_code"], 21211);
        assert_eq!(messages[1]["status"], "cancelled");
        let client: Value = app.get(&format!("/api/v1/clients/{client}")).await.json().await.unwrap();
        assert_eq!(client["phone_invalid"], true);
        assert_eq!(client["status"], "active", "an invalid number is not an opt-out");
    }
}

on_both_backends! {
    /// A provider that does not answer in time: the request times out and the text is retried.
    async fn a_network_timeout_is_retried(backend) {
        let app = spawn_app_with(&backend, |s| s.sending.provider_timeout_seconds = 1).await;
        let client = client_with_texts(&app).await;
        app.mock.script(Scripted::Hang(Duration::from_secs(3)));

        app.scheduler.tick().await.unwrap();
        let text = first(&app, client).await;
        assert_eq!(text["status"], "pending");
        assert!(text["status_reason"].as_str().unwrap().contains("timed out"), "{text}");

        app.run_until(app.clock.now() + SignedDuration::from_mins(5)).await;
        assert_eq!(first(&app, client).await["status"], "sent");
        assert_eq!(app.mock.accepted().len(), 1);
    }
}

on_both_backends! {
    /// Temporary failures are bounded: after the configured attempts the text is marked failed.
    async fn retries_stop_after_the_attempt_limit(backend) {
        let app = spawn_app_with(&backend, |s| s.sending.send_max_attempts = 3).await;
        let client = client_with_texts(&app).await;
        for _ in 0..3 {
            app.mock.script(Scripted::Fail { status: 503, code: None, retry_after: None });
        }

        app.run_until(app.clock.now() + SignedDuration::from_hours(1)).await;

        let text = first(&app, client).await;
        assert_eq!(text["status"], "failed");
        assert_eq!(text["attempts"], 3);
        assert!(text["status_reason"].as_str().unwrap().starts_with("gave up after 3 attempts"));
        assert_eq!(app.mock.requests().iter().filter(|r| r.body.contains("day_1")).count(), 3);
    }
}

on_both_backends! {
    /// The per-number rate limit spaces sends: three texts due together at one per second take two seconds.
    async fn sends_are_paced_per_sending_number(backend) {
        let app = spawn_app_with(&backend, |s| s.sending.send_rate_per_second = 1).await;
        let now = app.clock.now();
        client_with_texts_at(&app, &[("a", now), ("b", now), ("c", now)]).await;
        let started = std::time::Instant::now();
        app.scheduler.tick().await.unwrap();
        assert_eq!(app.mock.accepted().len(), 3);
        assert!(started.elapsed() >= Duration::from_millis(1900), "took {:?}", started.elapsed());
    }
}

on_both_backends! {
    /// Without credentials the log provider records each text as sent, and nothing touches the network.
    async fn without_credentials_texts_go_to_the_log_provider(backend) {
        let app = spawn_app_with(&backend, |s| {
            s.twilio.account_sid = None;
            s.twilio.auth_token = None;
        })
        .await;
        let client = client_with_texts(&app).await;
        app.scheduler.tick().await.unwrap();
        let text = first(&app, client).await;
        assert_eq!(text["status"], "sent");
        assert!(text["provider_sid"].as_str().unwrap().starts_with("LOG"), "{text}");
        assert!(app.mock.requests().is_empty());
    }
}

on_both_backends! {
    /// Acceptances are recorded a group at a time, in one statement. A `delivered` callback that beat its
    /// text's acceptance keeps its status; the other texts in the group become `sent` with their own sids.
    async fn a_group_of_acceptances_keeps_a_status_that_raced_ahead(backend) {
        let app = spawn_app(&backend).await;
        let now = app.clock.now();
        let texts: Vec<_> = (0..5).map(|i| due_text(format!("race:{i}"), format!("+1415555{:04}", 3000 + i), now)).collect();
        app.store.enqueue_many(&texts, now).await.unwrap();
        let claimed = app.store.claim_due(now, SignedDuration::from_mins(5), 10, 0).await.unwrap();
        assert_eq!(claimed.len(), 5);
        let delivered = tether::domain::ProviderStatus::parse("delivered").unwrap();
        let raced = claimed[2].id;
        app.store.apply_provider_status(Some(raced), "SMraced", delivered, None, now).await.unwrap();

        let queued = tether::domain::ProviderStatus::parse("queued");
        let records: Vec<_> = claimed
            .iter()
            .map(|text| tether::storage::SentRecord {
                id: text.id,
                sid: if text.id == raced { "SMraced".to_owned() } else { format!("SM{}", text.id) },
                status: queued,
                at: now,
            })
            .collect();
        app.store.mark_sent(&records).await.unwrap();

        let pool = app.database_pool().await;
        let rows: Vec<(i64, String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id, status, provider_sid, provider_status FROM outbox ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(rows.len(), 5);
        for (id, status, sid, provider_status) in rows {
            if id == raced {
                assert_eq!((status.as_str(), provider_status.as_deref()), ("delivered", Some("delivered")));
                assert_eq!(sid.as_deref(), Some("SMraced"));
            } else {
                assert_eq!((status.as_str(), provider_status.as_deref()), ("sent", Some("queued")));
                assert_eq!(sid, Some(format!("SM{id}")));
            }
        }
        pool.close().await;
    }
}

on_both_backends! {
    /// A provider that answers every text with the same sid: each text is sent exactly once and recorded as
    /// sent (the repeat noted on the row), not offered again lease after lease.
    async fn a_repeated_provider_id_is_recorded_not_retried(backend) {
        let app = spawn_app(&backend).await;
        let now = app.clock.now();
        let texts: Vec<_> = (0..12).map(|i| due_text(format!("same-sid:{i}"), format!("+1415555{:04}", 4000 + i), now)).collect();
        app.store.enqueue_many(&texts, now).await.unwrap();
        app.mock.repeat_sid("SMrepeated");

        app.run_until(now + SignedDuration::from_hours(2)).await;

        assert_eq!(app.mock.requests().len(), 12, "each text offered to the provider once");
        let pool = app.database_pool().await;
        let rows: Vec<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT status, provider_sid, status_reason FROM outbox ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(rows.iter().all(|(status, _, _)| status == "sent"), "{rows:?}");
        assert_eq!(rows.iter().filter(|(_, sid, _)| sid.as_deref() == Some("SMrepeated")).count(), 1);
        assert_eq!(
            rows.iter().filter(|(_, _, reason)| reason.as_deref().is_some_and(|r| r.contains("another text"))).count(),
            11
        );
        pool.close().await;
    }
}

on_both_backends! {
    /// The database refuses every acceptance: the text is offered to the provider no more than
    /// `TETHER_SEND_MAX_ATTEMPTS` times, then marked failed.
    async fn a_recording_failure_never_exceeds_the_attempt_limit(backend) {
        let app = spawn_app_with(&backend, |settings| settings.sending.send_max_attempts = 3).await;
        let now = app.clock.now();
        let texts: Vec<_> = (0..4).map(|i| due_text(format!("unrecorded:{i}"), format!("+1415555{:04}", 4100 + i), now)).collect();
        app.store.enqueue_many(&texts, now).await.unwrap();
        let pool = app.database_pool().await;
        let refusal: &[&str] = match backend {
            TestBackend::Sqlite => &["CREATE TRIGGER refuse_acceptance BEFORE UPDATE OF provider_sid ON outbox \
                 BEGIN SELECT RAISE(ABORT, 'acceptance refused'); END"],
            TestBackend::Postgres(_) => &[
                "CREATE FUNCTION refuse_acceptance() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'acceptance refused'; END $$",
                "CREATE TRIGGER refuse_acceptance BEFORE UPDATE OF provider_sid ON outbox \
                 FOR EACH ROW EXECUTE FUNCTION refuse_acceptance()",
            ],
        };
        for statement in refusal {
            sqlx::query(sqlx::AssertSqlSafe(*statement)).execute(&pool).await.unwrap();
        }

        app.run_until(now + SignedDuration::from_hours(2)).await;

        let requests = app.mock.requests();
        for text in &texts {
            let calls = requests.iter().filter(|r| r.to == text.to_phone).count();
            assert!((1..=3).contains(&calls), "{calls} provider calls for one text");
        }
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, attempts FROM outbox").fetch_all(&pool).await.unwrap();
        assert!(rows.iter().all(|(status, _)| status == "failed"), "{rows:?}");
        pool.close().await;
    }
}
