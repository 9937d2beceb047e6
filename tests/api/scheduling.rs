//! Planning and sending caring contacts on a virtual clock.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use crate::helpers::*;
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";

fn local_new_york(at: &str) -> String {
    let instant: Timestamp = at.parse().unwrap();
    instant
        .to_zoned_datetime(TimeZone::get("America/New_York").unwrap())
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

on_both_backends! {
    /// Jordan leaves detox on Friday 2026-03-06 at 15:00 in New York. Over 400 virtual days he gets exactly
    /// the cadence's 13 texts, each once, in order, at the expected local time: 15:00 on both sides of the
    /// March and November DST changes, weekend steps after day 3 on the Monday.
    async fn four_hundred_days_send_the_cadence_exactly_once_at_local_times(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let enrollment = app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        assert_eq!(enrollment["first_step"], "day_1");

        app.run_until(start_of_tests() + SignedDuration::from_hours(400 * 24)).await;

        let expected = [
            ("day_1", "Sat 2026-03-07 15:00 EST"),
            ("day_3", "Mon 2026-03-09 15:00 EDT"),
            ("day_7", "Fri 2026-03-13 15:00 EDT"),
            ("day_14", "Fri 2026-03-20 15:00 EDT"),
            ("day_21", "Fri 2026-03-27 15:00 EDT"),
            ("day_28", "Fri 2026-04-03 15:00 EDT"),
            ("day_60", "Tue 2026-05-05 15:00 EDT"),
            ("day_90", "Thu 2026-06-04 15:00 EDT"),
            ("day_120", "Mon 2026-07-06 15:00 EDT"),
            ("day_180", "Wed 2026-09-02 15:00 EDT"),
            ("day_240", "Mon 2026-11-02 15:00 EST"),
            ("day_300", "Thu 2026-12-31 15:00 EST"),
            ("day_365", "Mon 2027-03-08 15:00 EST"),
        ];
        let messages = app.messages(jordan).await;
        let seen: Vec<(String, String, String)> = messages
            .iter()
            .map(|m| (
                m["step"].as_str().unwrap().to_owned(),
                local_new_york(m["sent_at"].as_str().unwrap()),
                m["status"].as_str().unwrap().to_owned(),
            ))
            .collect();
        let wanted: Vec<(String, String, String)> = expected
            .iter()
            .map(|(step, at)| (step.to_string(), at.to_string(), "sent".to_owned()))
            .collect();
        assert_eq!(seen, wanted);

        let delivered = app.mock.accepted();
        assert_eq!(delivered.len(), 13, "the provider saw each text exactly once");
        let ids: Vec<i64> = messages.iter().map(|m| m["id"].as_i64().unwrap()).collect();
        assert_eq!(delivered.iter().map(|t| t.outbox_id().unwrap()).collect::<Vec<_>>(), ids, "in order");
        assert!(delivered.iter().all(|t| t.to == JORDAN && t.from.as_deref() == Some(crate::mock_provider::FROM)));
        assert!(delivered[0].body.starts_with("Hi Jordan,") && delivered[0].body.contains("988"));
        assert!(delivered.iter().all(|t| t.body.ends_with("- Care Team")));
    }
}

on_both_backends! {
    /// Discharged at 23:30, with no send window: each step lands at 23:30 and goes at 08:00 the next
    /// morning, including the morning clocks spring forward.
    async fn a_step_at_half_past_eleven_goes_at_eight_the_next_morning(backend) {
        let app = spawn_app_with(&backend, |s| s.templates_dir = fixture_templates()).await;
        let client = app.create_client(JORDAN, "Jordan", "es", "America/New_York").await;
        app.enroll(client, "overnight", "2026-03-06T23:30:00-05:00").await;

        app.run_until("2026-03-12T00:00:00Z".parse().unwrap()).await;

        let sent: Vec<String> = app
            .messages(client)
            .await
            .iter()
            .map(|m| local_new_york(m["sent_at"].as_str().unwrap()))
            .collect();
        assert_eq!(sent, ["Sun 2026-03-08 08:00 EDT", "Mon 2026-03-09 08:00 EDT", "Tue 2026-03-10 08:00 EDT"]);
        assert!(app.mock.accepted()[0].body.starts_with("Hola Jordan"), "sent in the client's language");
    }
}

on_both_backends! {
    /// A paused client and an opted-out client get nothing scheduled; their texts are recorded as cancelled.
    async fn paused_and_opted_out_clients_receive_nothing_scheduled(backend) {
        let app = spawn_app(&backend).await;
        let paused = app.create_client("+14155550124", "Sam", "en", "America/New_York").await;
        let stopped = app.create_client("+14155550125", "Alex", "en", "America/New_York").await;
        app.enroll(paused, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        app.enroll(stopped, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        let response = app.post(&format!("/api/v1/clients/{paused}/pause"), serde_json::json!({})).await;
        assert_eq!(response.status(), 200);
        app.store.record_opt_out(stopped, "replied STOP", app.clock.now()).await.unwrap();

        app.run_until("2026-03-21T00:00:00Z".parse().unwrap()).await;

        assert!(app.mock.requests().is_empty(), "nothing reached the provider");
        for (client, reason) in [(paused, "client paused"), (stopped, "client opted out")] {
            let messages = app.messages(client).await;
            assert_eq!(messages.len(), 4, "days 1, 3, 7 and 14 were planned");
            assert!(messages.iter().all(|m| m["status"] == "cancelled" && m["status_reason"] == reason), "{messages:?}");
        }

        // Resumed, Sam gets the next step and nothing from the time he was paused.
        let response = app.post(&format!("/api/v1/clients/{paused}/resume"), serde_json::json!({})).await;
        assert_eq!(response.status(), 200);
        app.run_until("2026-03-28T00:00:00Z".parse().unwrap()).await;
        let accepted = app.mock.accepted();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].to, "+14155550124");
    }
}

on_both_backends! {
    /// Found during quiet hours (the service was down all evening), a text waits for 08:00; found later
    /// than its lateness allows, it is marked expired and never sent.
    async fn late_texts_wait_for_morning_or_expire(backend) {
        let app = spawn_app(&backend).await;
        let client = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.enroll(client, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        // Plan day 1 (Saturday 15:00) without sending, then come back at 22:00 Saturday.
        app.scheduler.tick().await.unwrap();
        app.clock.set("2026-03-08T03:00:00Z".parse().unwrap());
        app.scheduler.tick().await.unwrap();
        assert!(app.mock.requests().is_empty(), "not at 22:00");
        let messages = app.messages(client).await;
        assert_eq!(messages[0]["status"], "pending");
        assert_eq!(messages[0]["send_at"], "2026-03-08T12:00:00Z", "08:00 EDT on Sunday");

        // The service stays down until Monday: day 1 is now more than 24 hours late.
        app.clock.set("2026-03-09T14:00:00Z".parse().unwrap());
        app.scheduler.tick().await.unwrap();
        assert!(app.mock.requests().is_empty());
        assert_eq!(app.messages(client).await[0]["status"], "expired");
    }
}

on_both_backends! {
    /// The background loop sleeps until the next due time, not on a fixed poll, and an enrolment wakes it
    /// to replan at once.
    async fn the_loop_sleeps_until_the_next_due_time_and_wakes_on_enrolment(backend) {
        let app = spawn_app(&backend).await;
        // Half a minute before Saturday 15:00 in New York, when day 1 of a Friday 15:00 discharge is due.
        let now: Timestamp = "2026-03-07T19:59:30Z".parse().unwrap();
        app.clock.set(now);
        let scheduler = app.scheduler.clone();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let loop_shutdown = shutdown.clone();
        let running = tokio::spawn(async move { scheduler.run_until_stopped(loop_shutdown).await });
        let mut sleeping = app.scheduler.sleeping_until();
        let wait = std::time::Duration::from_secs(10);

        // Nothing scheduled: only the housekeeping minute.
        let idle = Some(now + SignedDuration::from_mins(1));
        tokio::time::timeout(wait, sleeping.wait_for(|d| *d == idle)).await.unwrap().unwrap();

        let client = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let enrollment = app.enroll(client, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        let first_send: Timestamp = enrollment["first_send_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(first_send, "2026-03-07T20:00:00Z".parse::<Timestamp>().unwrap());
        // The enrolment's nudge makes the loop plan day 1 and sleep exactly until it is due.
        tokio::time::timeout(wait, sleeping.wait_for(|d| *d == Some(first_send))).await.unwrap().unwrap();
        assert!(app.mock.requests().is_empty());

        app.clock.set(first_send);
        let sent = app.mock.wait_for_accepted(1, wait).await.expect("a text in time");
        assert!(sent[0].body.starts_with("Hi Jordan"));
        shutdown.cancel();
        running.await.unwrap();
    }
}
