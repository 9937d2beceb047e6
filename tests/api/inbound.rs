//! Inbound texts end to end: signatures, STOP/START/HELP, risk, escalation until someone acknowledges,
//! concern notices, forwarding and relaying, and no client's words on a staff phone by default.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::mock_provider::ReceivedText;
use crate::on_both_backends;

pub(crate) const MAYA: &str = "+14155550147";
pub(crate) const PRIMARY: &str = "+14155550181";
pub(crate) const BACKUP: &str = "+14155550182";
const SUPERVISOR: &str = "+14155550183";
pub(crate) const STRANGER: &str = "+14155550199";

/// Maya texts that she wants to die: the crisis reply and the page go, and the primary acknowledges by
/// text (acknowledged is not resolved).
pub(crate) async fn crisis_acknowledged(app: &TestApp) {
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(PRIMARY, "ACK");
    app.texts(PRIMARY, "ACK").await;
    app.expect_text(PRIMARY, "Acknowledged");
}

/// Maya, a client; three staff; a primary and a backup rotation of one person each, and a supervisor
/// step: 10 minutes, then 20, then 20.
pub(crate) async fn on_call_set_up(app: &TestApp) -> i64 {
    let maya = app.create_client(MAYA, "Maya", "en", "America/New_York").await;
    for (name, phone) in [("Primary", PRIMARY), ("Backup", BACKUP), ("Supervisor", SUPERVISOR)] {
        assert_eq!(
            app.post("/api/v1/staff", json!({"name": name, "phone": phone}))
                .await
                .status(),
            201
        );
    }
    for (name, member) in [("primary", 1), ("backup", 2)] {
        let response = app
            .post(
                "/api/v1/rotations",
                json!({"name": name, "timezone": "America/New_York", "shift_hours": 24, "handoff_time": "08:00",
                       "start_date": "2026-03-01", "members": [member]}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    let policy = json!({"steps": [
        {"target": {"rotation": 1}, "delay_minutes": 10},
        {"target": {"rotation": 2}, "delay_minutes": 20},
        {"target": {"staff": 3}, "delay_minutes": 20},
    ], "repeat": 0});
    let response = app.put("/api/v1/escalation-policy", policy).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.assign_staff(maya, 1).await;
    maya
}

fn to(texts: &[ReceivedText], phone: &str) -> Vec<String> {
    texts.iter().filter(|t| t.to == phone).map(|t| t.body.clone()).collect()
}

fn code_in(page: &str) -> String {
    page.split_whitespace().nth(2).unwrap().trim_end_matches(':').to_owned()
}

on_both_backends! {
    /// Maya texts that she wants to die. At once: the safe-messaging reply and a page to the primary. No
    /// acknowledgement for 10 minutes: the backup is paged. The backup acknowledges by SMS: paging stops
    /// and the backup is told.
    async fn a_crisis_text_pages_until_someone_acknowledges(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        assert_eq!(app.text_in(MAYA, "i cant do this anymore. i want to die").await, 200);

        app.scheduler.tick().await.unwrap();
        let sent = app.mock.accepted();
        let reply = to(&sent, MAYA);
        assert_eq!(reply.len(), 1, "{sent:?}");
        assert!(reply[0].contains("Call 911") && reply[0].contains("988"));
        let pages = to(&sent, PRIMARY);
        assert_eq!(pages.len(), 1, "the first page goes in the same pass");
        assert!(!pages[0].contains("Maya") && !pages[0].contains("die"), "no name, no words: {}", pages[0]);
        assert!(to(&sent, BACKUP).is_empty());

        app.run_until(app.clock.now() + SignedDuration::from_secs(9 * 60 + 59)).await;
        assert!(to(&app.mock.accepted(), BACKUP).is_empty(), "not before ten minutes");
        app.run_until(app.clock.now() + SignedDuration::from_secs(2)).await;
        let backup_pages = to(&app.mock.accepted(), BACKUP);
        assert_eq!(backup_pages.len(), 1);
        let code = code_in(&backup_pages[0]);
        assert_eq!(code, code_in(&pages[0]), "one escalation, one code");

        assert_eq!(app.text_in(BACKUP, &format!("ACK {code}")).await, 200);
        app.scheduler.tick().await.unwrap();
        let to_backup = to(&app.mock.accepted(), BACKUP);
        assert_eq!(to_backup.len(), 2);
        assert!(to_backup[1].starts_with(&format!("Acknowledged alert {code}")), "{}", to_backup[1]);

        app.run_until(app.clock.now() + SignedDuration::from_hours(2)).await;
        assert!(to(&app.mock.accepted(), SUPERVISOR).is_empty(), "the chain stopped");
        assert_eq!(app.mock.accepted().len(), 4, "reply, two pages, one confirmation; nothing else");

        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(board.len(), 1);
        assert_eq!(board[0]["status"], "acknowledged");
        assert_eq!(board[0]["acknowledged_by"], 2);
        let kinds: Vec<&str> = board[0]["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "page", "page", "acknowledged"]);
    }
}

on_both_backends! {
    /// With every four-digit reply code held by an open escalation (thousands of crises at once, as in a
    /// load test), a new crisis still opens, with a six-digit code, and pages at once.
    async fn a_crisis_gets_a_longer_code_when_every_four_digit_code_is_open(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        let db = app.database_pool().await;
        sqlx::query(
            "WITH RECURSIVE codes (n) AS (SELECT 1000 UNION ALL SELECT n + 1 FROM codes WHERE n < 9999) \
             INSERT INTO inbound_messages (message_sid, from_phone, to_phone, body, sender, risk_tier, risk_matches, \
             action, received_at) SELECT 'SMseed' || n, '+14155550100', '+14155550000', 'x', 'unknown', 'crisis', \
             '[]', 'escalated', 0 FROM codes",
        )
        .execute(&db)
        .await
        .unwrap();
        let seeded = sqlx::query(
            "INSERT INTO escalations (code, inbound_id, from_phone, status, created_at, updated_at) \
             SELECT substr(message_sid, 7), id, from_phone, 'open', 0, 0 FROM inbound_messages \
             WHERE message_sid LIKE 'SMseed%'",
        )
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(seeded.rows_affected(), 9_000);

        assert_eq!(app.text_in(MAYA, "i want to die").await, 200);
        app.scheduler.tick().await.unwrap();
        let pages = to(&app.mock.accepted(), PRIMARY);
        assert_eq!(pages.len(), 1, "{pages:?}");
        let code = code_in(&pages[0]);
        assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()), "{code}");
    }
}

on_both_backends! {
    /// A restart in the middle of the chain: a new instance on the same database pages the backup on time,
    /// and nobody is paged twice.
    async fn the_chain_goes_on_after_a_restart_and_pages_nobody_twice(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        app.text_in(MAYA, "took all my pills").await;
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1);

        // The first instance is gone; a second starts on the same database and the same provider.
        let settings = test_settings(&app.database_url, &app.mock.base_url);
        let restarted = tether::app::Application::build(&settings, tether::scheduling::Clock::Manual(app.clock.clone()))
            .await
            .unwrap();
        let scheduler = restarted.scheduler();
        scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1, "the restart repages nobody");
        app.clock.advance(SignedDuration::from_mins(10));
        scheduler.tick().await.unwrap();
        scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1);
        assert_eq!(to(&app.mock.accepted(), BACKUP).len(), 1);
    }
}

on_both_backends! {
    /// The same webhook delivered to two instances sharing a database: one escalation, one page, one reply.
    async fn the_same_webhook_on_two_instances_makes_one_escalation(backend) {
        let first = spawn_app(&backend).await;
        on_call_set_up(&first).await;
        let settings = test_settings(&first.database_url, &first.mock.base_url);
        let second = tether::app::Application::build(&settings, tether::scheduling::Clock::Manual(first.clock.clone()))
            .await
            .unwrap();
        let second_address = format!("http://{}", second.local_addr());
        let second_scheduler = second.scheduler();
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(second.run_http_until_stopped(shutdown.clone()));

        let sid = "SM00000000000000000000000000000042";
        let params = inbound_params(MAYA, "I want to kill myself", sid);
        let signature = tether::provider::signature::compute(
            crate::mock_provider::AUTH_TOKEN,
            &format!("{PUBLIC_URL}/webhooks/twilio/sms"),
            &params,
        );
        let post = |address: String| {
            let (params, signature, http) = (params.clone(), signature.clone(), first.http.clone());
            async move {
                http.post(format!("{address}/webhooks/twilio/sms"))
                    .header("X-Twilio-Signature", signature)
                    .form(&params)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        let (a, b) = tokio::join!(post(first.address.clone()), post(second_address));
        assert_eq!((a.as_u16(), b.as_u16()), (200, 200));
        let (x, y) = tokio::join!(first.scheduler.tick(), second_scheduler.tick());
        x.unwrap();
        y.unwrap();

        let escalations: Vec<Value> = first.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(escalations.len(), 1);
        assert_eq!(to(&first.mock.accepted(), PRIMARY).len(), 1, "one page");
        assert_eq!(to(&first.mock.accepted(), MAYA).len(), 1, "one reply");
        shutdown.cancel();
    }
}

on_both_backends! {
    /// A staff member who said STOP is skipped at once, and a page that fails moves to the next step at
    /// once: neither waits out the step's delay.
    async fn unreachable_staff_are_skipped_without_waiting(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        app.text_in(PRIMARY, "STOP").await;
        app.scheduler.tick().await.unwrap();
        assert!(to(&app.mock.accepted(), PRIMARY)[0].contains("You will not get more texts"));

        // The backup's phone refuses the page: the supervisor is paged in the same pass.
        app.text_in(MAYA, "going to end it tonight").await;
        app.mock.script_for(BACKUP, crate::mock_provider::Scripted::Fail { status: 400, code: Some(21614), retry_after: None });
        app.scheduler.tick().await.unwrap();
        let sent = app.mock.accepted();
        assert_eq!(to(&sent, PRIMARY).len(), 1, "only the STOP confirmation: {sent:?}");
        assert_eq!(to(&sent, SUPERVISOR).len(), 1, "paged at once");
        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        let kinds: Vec<&str> = board[0]["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "step_skipped", "page", "page_failed", "page"]);
    }
}

on_both_backends! {
    /// STOP, then a due caring contact: not sent, and only one confirmation. Any other reply never
    /// re-subscribes; START does, and texts resume from the next step.
    async fn stop_and_start_control_what_is_sent(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client("+14155550123", "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        assert_eq!(app.text_in("+14155550123", "stop").await, 200);
        assert_eq!(app.text_in("+14155550123", "STOP").await, 200);
        app.run_until("2026-03-08T00:00:00Z".parse().unwrap()).await;
        let sent = app.mock.accepted();
        assert_eq!(sent.len(), 1, "one confirmation only: {sent:?}");
        assert!(sent[0].body.contains("Reply START to resume"));

        app.text_in("+14155550123", "thanks, ok").await;
        app.text_in("+14155550123", "yes please").await;
        app.run_until("2026-03-10T00:00:00Z".parse().unwrap()).await;
        assert_eq!(app.mock.accepted().len(), 1, "no other reply re-subscribes, and day 3 is not sent");
        let client: Value = app.get(&format!("/api/v1/clients/{jordan}")).await.json().await.unwrap();
        assert_eq!(client["status"], "opted_out");

        app.text_in("+14155550123", "START").await;
        app.run_until("2026-03-14T00:00:00Z".parse().unwrap()).await;
        let sent = app.mock.accepted();
        assert!(sent[1].body.contains("you will get texts from us again"), "{sent:?}");
        let steps: Vec<String> = app
            .messages(jordan)
            .await
            .iter()
            .filter(|m| m["status"] == "sent" && m["kind"] == "caring_contact")
            .map(|m| m["step"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(steps, ["day_7"], "resumes from the next step");
    }
}

on_both_backends! {
    /// "STOP I want to die" both opts out and escalates; the one confirmation carries 911 and 988, and no
    /// other automatic text follows.
    async fn stop_with_crisis_words_opts_out_and_escalates(backend) {
        let app = spawn_app(&backend).await;
        let maya = on_call_set_up(&app).await;
        app.text_in(MAYA, "STOP I want to die").await;
        app.scheduler.tick().await.unwrap();
        let to_maya = to(&app.mock.accepted(), MAYA);
        assert_eq!(to_maya.len(), 1);
        assert!(to_maya[0].contains("Reply START") && to_maya[0].contains("988"));
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1, "paged");
        let client: Value = app.get(&format!("/api/v1/clients/{maya}")).await.json().await.unwrap();
        assert_eq!(client["status"], "opted_out");

        // Still opted out, a second crisis text reaches staff, not the client.
        app.text_in(MAYA, "kill myself").await;
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), MAYA).len(), 1);
        let board: Vec<Value> = app.get("/api/v1/escalations?status=open").await.json().await.unwrap();
        assert_eq!(board.len(), 2);
    }
}

on_both_backends! {
    /// Signatures: a tampered parameter or URL is refused with 403 and stores nothing; a replayed
    /// `MessageSid` is handled once.
    async fn inbound_signatures_and_replays(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        let sid = "SM0000000000000000000000000000000a";
        let params = inbound_params(MAYA, "I want to die", sid);
        let signature = tether::provider::signature::compute(
            crate::mock_provider::AUTH_TOKEN,
            &format!("{PUBLIC_URL}/webhooks/twilio/sms"),
            &params,
        );
        let mut tampered = params.clone();
        tampered[5].1 = "hello".into();
        let refused = app
            .http
            .post(format!("{}/webhooks/twilio/sms", app.address))
            .header("X-Twilio-Signature", &signature)
            .form(&tampered)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        let wrong_url = app
            .http
            .post(format!("{}/webhooks/twilio/sms?x=1", app.address))
            .header("X-Twilio-Signature", &signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_url.status(), 403);
        app.scheduler.tick().await.unwrap();
        assert!(app.mock.accepted().is_empty(), "nothing happened");

        assert_eq!(app.text_in_with_sid(MAYA, "I want to die", sid).await, 200);
        assert_eq!(app.text_in_with_sid(MAYA, "I want to die", sid).await, 200);
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), MAYA).len(), 1);
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1);

        // Refused at the declared length, and the connection closed unread: a client still writing may see the
        // close first, so each try is on a fresh connection and one must read the 413.
        let huge = "x".repeat(70 * 1024);
        let mut status = None;
        for _ in 0..5 {
            let sent = reqwest::Client::new()
                .post(format!("{}/webhooks/twilio/sms", app.address))
                .form(&[("Body", huge.as_str())])
                .send()
                .await;
            if let Ok(response) = sent {
                status = Some(response.status().as_u16());
                break;
            }
        }
        assert_eq!(status, Some(413));
    }
}

on_both_backends! {
    /// A concern goes to the assigned peer as a notice (no paging), listed until marked seen; an ordinary
    /// reply is forwarded, with its words once the program turns that on; the peer's `R <ref> text` reaches
    /// the client from the service number.
    async fn concerns_replies_and_relays_reach_the_right_people(backend) {
        let app = spawn_app_with(&backend, |s| s.forward_body = true).await;
        let maya = on_call_set_up(&app).await;
        app.text_in(MAYA, "I relapsed last night").await;
        app.scheduler.tick().await.unwrap();
        let to_peer = to(&app.mock.accepted(), PRIMARY);
        assert_eq!(to_peer.len(), 1);
        assert!(to_peer[0].contains(&format!("ref {maya}")) && !to_peer[0].contains("relapsed"), "{}", to_peer[0]);
        assert!(to(&app.mock.accepted(), MAYA)[0].starts_with("Thank you for letting us know"));
        let notices: Vec<Value> = app.get("/api/v1/notices?unseen=true").await.json().await.unwrap();
        assert_eq!(notices.len(), 1);
        assert_eq!(app.post(&format!("/api/v1/notices/{}/seen", notices[0]["id"]), json!({})).await.status(), 200);
        let notices: Vec<Value> = app.get("/api/v1/notices?unseen=true").await.json().await.unwrap();
        assert!(notices.is_empty());
        assert!(app.get("/api/v1/escalations").await.json::<Vec<Value>>().await.unwrap().is_empty(), "no paging");

        app.text_in(MAYA, "see you tuesday").await;
        app.text_in(PRIMARY, &format!("R {maya} Glad to hear from you. Call me any time.")).await;
        app.scheduler.tick().await.unwrap();
        let to_peer = to(&app.mock.accepted(), PRIMARY);
        assert!(to_peer[1].contains("see you tuesday"), "{to_peer:?}");
        let to_maya = to(&app.mock.accepted(), MAYA);
        assert_eq!(to_maya.last().unwrap(), "Glad to hear from you. Call me any time.");
    }
}

on_both_backends! {
    /// A rules' crisis that the model finds unlike any crisis it learnt pages nobody, and reaches the peer as
    /// a concern whose notice says a crisis rule matched. (The text is an everyday one of the corpus the model
    /// learnt from, which one rule reads as preparing a jump: a retraining keeps doubting it.)
    async fn a_crisis_rule_the_model_doubts_is_read_today_by_a_person_instead_of_paging(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        app.text_in(MAYA, "working on the roof of the hospital today, 6 stories up, harness on dont worry").await;
        app.scheduler.tick().await.unwrap();
        assert!(app.get("/api/v1/escalations").await.json::<Vec<Value>>().await.unwrap().is_empty(), "no paging");
        let notices: Vec<Value> = app.get("/api/v1/notices?unseen=true").await.json().await.unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0]["reason"].as_str().unwrap().contains("doubted by the model"), "{notices:?}");
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 1, "the peer is told");
    }
}

on_both_backends! {
    /// A number that is neither client nor staff: a crisis text is escalated as an unknown sender and
    /// answered; anything else gets the short note once a day.
    async fn unknown_numbers_are_screened_too(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        app.text_in(STRANGER, "hi who is this").await;
        app.text_in(STRANGER, "hello?").await;
        app.text_in("+14155550198", "my friend is not breathing").await;
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), STRANGER).len(), 1, "one note a day");
        assert!(to(&app.mock.accepted(), "+14155550198")[0].contains("Call 911"));
        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(board.len(), 1);
        assert!(board[0]["client_id"].is_null());
        assert!(to(&app.mock.accepted(), PRIMARY)[0].contains("ref unknown-"));
    }
}

on_both_backends! {
    /// HELP is answered; a keyword the provider's Advanced Opt-Out already answered (`OptOutType`) changes
    /// state but is not answered twice.
    async fn help_and_provider_handled_keywords(backend) {
        let app = spawn_app(&backend).await;
        let maya = on_call_set_up(&app).await;
        app.text_in(MAYA, "HELP").await;
        app.scheduler.tick().await.unwrap();
        let help = to(&app.mock.accepted(), MAYA);
        assert!(help[0].contains("988") && help[0].contains("Reply STOP"), "{help:?}");

        let mut params = inbound_params(MAYA, "stop", "SM000000000000000000000000000000aa");
        params.push(("OptOutType".into(), "STOP".into()));
        params.push(("MessagingServiceSid".into(), "MG0123456789abcdef0123456789abcdef".into()));
        let signature = tether::provider::signature::compute(
            crate::mock_provider::AUTH_TOKEN,
            &format!("{PUBLIC_URL}/webhooks/twilio/sms"),
            &params,
        );
        let response = app
            .http
            .post(format!("{}/webhooks/twilio/sms", app.address))
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), MAYA).len(), 1, "the provider already confirmed");
        let client: Value = app.get(&format!("/api/v1/clients/{maya}")).await.json().await.unwrap();
        assert_eq!(client["status"], "opted_out");
    }
}

on_both_backends! {
    /// Another bot replying to every text: after ten texts in ten minutes, nothing more is forwarded or
    /// answered automatically, while every text is still stored.
    async fn a_loop_with_another_bot_is_broken(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        for _ in 0..15 {
            assert_eq!(app.text_in(MAYA, "Auto-reply: I am away from my phone").await, 200);
        }
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), PRIMARY).len(), 10, "forwarding stops after ten");
    }
}

on_both_backends! {
    /// Acknowledging through the API stops paging and tells the acknowledger by text; an override puts
    /// someone else on call for its span.
    async fn api_acknowledgement_and_overrides(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        let now = app.clock.now();
        let response = app
            .post(
                "/api/v1/rotations/1/overrides",
                json!({"staff_id": 3, "starts_at": now.to_string(), "ends_at": (now + SignedDuration::from_hours(1)).to_string()}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let on_call: Value = app.get("/api/v1/rotations/1/on-call").await.json().await.unwrap();
        assert_eq!(on_call["staff_id"], 3);
        let later = (now + SignedDuration::from_hours(2)).to_string();
        let on_call: Value = app.get(&format!("/api/v1/rotations/1/on-call?at={later}")).await.json().await.unwrap();
        assert_eq!(on_call["staff_id"], 1);

        app.text_in(MAYA, "i want to die").await;
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), SUPERVISOR).len(), 1, "the override is paged");
        let response = app.post("/api/v1/escalations/1/acknowledge", json!({"staff_id": 3})).await;
        assert_eq!(response.status(), 200);
        let again = app.post("/api/v1/escalations/1/acknowledge", json!({"staff_id": 2})).await;
        assert_eq!(again.status(), 409);
        app.run_until(app.clock.now() + SignedDuration::from_hours(1)).await;
        let to_supervisor = to(&app.mock.accepted(), SUPERVISOR);
        assert_eq!(to_supervisor.len(), 2);
        assert!(to_supervisor[1].starts_with("Acknowledged alert"));
        assert!(to(&app.mock.accepted(), BACKUP).is_empty());
        assert_eq!(app.post("/api/v1/escalations/1/resolve", json!({})).await.status(), 200);
    }
}

on_both_backends! {
    /// Policy edits are validated field by field.
    async fn an_invalid_escalation_policy_is_refused(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        for (policy, field) in [
            (json!({"steps": []}), "steps"),
            (json!({"steps": [{"target": {"rotation": 9}, "delay_minutes": 10}]}), "steps[0].target"),
            (json!({"steps": [{"target": {"staff": 1}, "delay_minutes": 0}]}), "steps[0].delay_minutes"),
            (json!({"steps": [{"target": {"team": 1}, "delay_minutes": 10}]}), "steps[0].target"),
        ] {
            let response = app.put("/api/v1/escalation-policy", policy.clone()).await;
            assert_eq!(response.status(), 422, "{policy}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["field"], field, "{policy}: {error}");
        }
    }
}

on_both_backends! {
    /// The urgent lane: with twelve scheduled texts pacing through a one-per-second rate limit, a crisis
    /// text's reply and page still go out at once, not after the batch.
    async fn a_crisis_does_not_wait_behind_scheduled_texts(backend) {
        let app = spawn_app_with(&backend, |s| s.sending.send_rate_per_second = 1).await;
        on_call_set_up(&app).await;
        let now = app.clock.now();
        let bulk: Vec<_> = (0..12).map(|i| due_text(format!("bulk:{i}"), format!("+1415555{:04}", 2000 + i), now)).collect();
        app.store.enqueue_many(&bulk, now).await.unwrap();
        let scheduler = app.scheduler.clone();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        let running = tokio::spawn(async move { scheduler.run_until_stopped(stop).await });
        app.mock.wait_for_accepted(1, std::time::Duration::from_secs(10)).await.expect("a text within 10 s");

        let started = std::time::Instant::now();
        assert_eq!(app.text_in(MAYA, "I want to die").await, 200);
        let deadline = std::time::Duration::from_secs(5);
        while to(&app.mock.accepted(), PRIMARY).is_empty() || to(&app.mock.accepted(), MAYA).is_empty() {
            assert!(started.elapsed() < deadline, "the page waited behind the scheduled texts");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(app.mock.accepted().len() < 12, "the scheduled texts were still pacing");
        shutdown.cancel();
        running.await.unwrap();
    }
}

on_both_backends! {
    /// Texts arriving together share a transaction. One of them fails in the database (a trigger refuses
    /// it): the provider gets an error for that one alone, so it retries; every other text is stored and
    /// handled exactly once, and the crisis among them opens one escalation, not one per attempt.
    async fn one_failing_text_does_not_fail_the_texts_that_arrived_with_it(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        let pool = app.database_pool().await;
        let refuse_poison = match backend {
            TestBackend::Sqlite => vec![
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_messages WHEN NEW.body = 'poison' \
                 BEGIN SELECT RAISE(ABORT, 'poison refused'); END",
            ],
            TestBackend::Postgres(_) => vec![
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_messages FOR EACH ROW \
                 EXECUTE FUNCTION refuse_poison()",
            ],
        };
        for statement in refuse_poison {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }

        // Ten at most: more from one number within minutes would look like a loop, and loops get no replies.
        let bodies: Vec<String> = (0..10)
            .map(|i| match i {
                3 => "poison".to_owned(),
                6 => "i want to die".to_owned(),
                _ => format!("thanks, talk soon ({i})"),
            })
            .collect();
        let statuses = futures_util::future::join_all(bodies.iter().map(|body| app.text_in(MAYA, body))).await;
        for (body, status) in bodies.iter().zip(&statuses) {
            let expected = if body == "poison" { 500 } else { 200 };
            assert_eq!(status.as_u16(), expected, "{body}");
        }

        let stored: Vec<(String, String)> = sqlx::query_as("SELECT body, action FROM inbound_messages ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(stored.len(), 9, "{stored:?}");
        assert!(stored.iter().all(|(body, _)| body != "poison"));
        assert!(stored.iter().all(|(_, action)| action != "received"), "every stored text was handled: {stored:?}");
        let escalations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM escalations").fetch_one(&pool).await.unwrap();
        assert_eq!(escalations, 1);
        let crisis_replies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'crisis_reply'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(crisis_replies, 1);
        pool.close().await;
    }
}

on_both_backends! {
    /// With the defaults, nothing texted to staff (pages, notices, forwards, confirmations, relay errors)
    /// carries a word of what a client wrote: an ordinary reply, a concern and a crisis, with the chain run
    /// out to its last step.
    async fn by_default_no_text_to_staff_carries_a_word_a_client_wrote(backend) {
        let app = spawn_app(&backend).await;
        let maya = on_call_set_up(&app).await;
        let written = [
            "Pickleball tournament went wonderfully",
            "relapsed yesterday evening",
            "gonna kill myself tonight",
        ];
        for text in written {
            assert_eq!(app.text_in(MAYA, text).await, 200);
            app.scheduler.tick().await.unwrap();
        }
        app.text_in(PRIMARY, "R 999 are you there").await;
        app.text_in(BACKUP, "what is this").await;
        app.run_until(app.clock.now() + SignedDuration::from_hours(1)).await;

        let pool = app.database_pool().await;
        let to_staff: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT o.kind, o.body, o.template FROM outbox o WHERE o.to_phone IN (SELECT phone FROM staff) ORDER BY o.id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let templates: Vec<&str> = to_staff.iter().filter_map(|(_, _, t)| t.as_deref()).collect();
        for wanted in ["staff/forward_without_body", "staff/notice", "staff/page", "staff/relay_blocked", "staff/help"] {
            assert!(templates.contains(&wanted), "{wanted} was not exercised: {templates:?}");
        }
        let words: Vec<String> = written
            .iter()
            .flat_map(|text| text.split_whitespace())
            .map(str::to_lowercase)
            .collect();
        for (kind, body, _) in &to_staff {
            let body_words: Vec<String> = body
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .collect();
            for word in &words {
                assert!(!body_words.contains(word), "a {kind} to staff carries `{word}`: {body}");
            }
            assert!(!body.contains("Maya"), "a {kind} to staff names the client: {body}");
        }
        assert!(to_staff.iter().any(|(_, body, _)| body.contains(&format!("ref {maya}"))), "staff get the reference");
        pool.close().await;
    }
}

on_both_backends! {
    /// A 3,000-character reply forwarded with its words reaches the peer's phone cut to the provider's
    /// 1,600 characters, ending with where the rest is, never half a character.
    async fn a_long_reply_reaches_the_peer_cut_to_fit_the_provider(backend) {
        let app = spawn_app_with(&backend, |s| s.forward_body = true).await;
        on_call_set_up(&app).await;
        let long_reply = "Thank you all 🙏 ".repeat(200);
        assert!(long_reply.chars().count() >= 3000);
        assert_eq!(app.text_in(MAYA, &long_reply).await, 200);
        app.scheduler.tick().await.unwrap();

        let to_peer = to(&app.mock.accepted(), PRIMARY);
        assert_eq!(to_peer.len(), 1, "{to_peer:?}");
        let forwarded = &to_peer[0];
        assert!(forwarded.encode_utf16().count() <= 1600, "{} UTF-16 units", forwarded.encode_utf16().count());
        assert!(forwarded.ends_with("(more in the console)"), "{forwarded}");
        assert!(forwarded.contains("Thank you all 🙏"));
        assert_eq!(app.mock.requests().len(), app.mock.accepted().len(), "the provider refused nothing");
    }
}

on_both_backends! {
    /// A signed webhook whose `From` is no phone number (empty, without its +, SQL) gets no automatic
    /// answer, whatever it says, and no 500; the text is still stored and read for risk.
    async fn senders_that_are_not_phone_numbers_get_no_automatic_reply(backend) {
        let app = spawn_app(&backend).await;
        let senders = ["", "4155550199", "'; DROP TABLE clients; --"];
        for from in senders {
            for body in ["hello?", "HELP", "I want to kill myself tonight"] {
                assert_eq!(app.text_in(from, body).await, 200, "from {from:?}: {body}");
            }
        }
        app.run_until(app.clock.now() + SignedDuration::from_mins(30)).await;

        let requests = app.mock.requests();
        for from in senders {
            assert!(requests.iter().all(|r| r.to != from), "an automatic reply went to {from:?}: {requests:?}");
        }
        let pool = app.database_pool().await;
        let stored: Vec<(String, String)> = sqlx::query_as("SELECT from_phone, risk_tier FROM inbound_messages")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(stored.len(), senders.len() * 3);
        assert_eq!(stored.iter().filter(|(_, tier)| tier == "crisis").count(), senders.len(), "{stored:?}");
        pool.close().await;
    }
}
