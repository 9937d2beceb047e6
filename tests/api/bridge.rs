//! The 72-hour bridge: check-ins at 10:00 and 18:00 over the first three days (and the discharge evening),
//! replacing the caring contacts of those days, with the client's consent to more than one text a day.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::inbound::{MAYA, crisis_acknowledged, on_call_set_up};
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";
/// Friday 15:00 in New York; the clocks go forward on Sunday 8 March.
const FRIDAY_15_00: &str = "2026-03-06T15:00:00-05:00";

fn consent() -> Value {
    json!({"consented_at": "2026-03-06T19:00:00Z", "consent_source": "discharge conversation"})
}

/// What the client was sent of the bridge and the caring contacts, in order, as the thread shows it.
async fn sent_check_ins(app: &TestApp, client: i64) -> Vec<(String, String, String)> {
    let mut sent: Vec<Value> = app
        .messages(client)
        .await
        .into_iter()
        .filter(|t| t["kind"] == "bridge_check_in" || t["kind"] == "caring_contact")
        .filter(|t| t["status"] == "sent")
        .collect();
    sent.sort_by_key(|t| t["sent_at"].as_str().unwrap().parse::<Timestamp>().unwrap());
    sent.iter()
        .map(|t| {
            (
                new_york(t["sent_at"].as_str().unwrap()),
                t["step"].as_str().unwrap().to_owned(),
                t["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn enroll_in_both(app: &TestApp, client: i64) -> reqwest::Response {
    app.post(
        &format!("/api/v1/clients/{client}/enrollments"),
        json!({"schedules": ["bridge", "caring_contacts"], "discharged_at": FRIDAY_15_00,
               "several_texts_a_day_consent": consent()}),
    )
    .await
}

on_both_backends! {
    /// Discharge Friday 15:00 in New York with both schedules: Friday 18:00, then 10:00 and 18:00 on Saturday,
    /// Sunday (the clocks went forward that night) and Monday, then the caring contacts from day 7, the next
    /// Friday; never two planned texts on one day, each day's texts carry 988 at least once, and
    /// `tether preview --json` plans the same times.
    async fn a_friday_discharge_gets_the_bridge_then_caring_contacts_from_day_7(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let response = enroll_in_both(&app, jordan).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let enrollments = body["enrollments"].as_array().unwrap();
        assert_eq!(enrollments[0]["schedule"], "bridge");
        assert_eq!(enrollments[0]["first_step"], "day_0_evening");
        assert_eq!(enrollments[1]["schedule"], "caring_contacts");
        assert_eq!(enrollments[1]["first_step"], "day_7");
        assert_eq!(enrollments[1]["replaced_steps"], json!(["day_1", "day_3"]));
        assert_eq!(enrollments[1]["skipped_steps"], json!([]));

        app.run_until("2026-03-14T12:00:00Z".parse().unwrap()).await;
        let sent = sent_check_ins(&app, jordan).await;
        let times: Vec<&str> = sent.iter().map(|(at, _, _)| at.as_str()).collect();
        assert_eq!(
            times,
            [
                "Fri 2026-03-06 18:00",
                "Sat 2026-03-07 10:00",
                "Sat 2026-03-07 18:00",
                "Sun 2026-03-08 10:00",
                "Sun 2026-03-08 18:00",
                "Mon 2026-03-09 10:00",
                "Mon 2026-03-09 18:00",
                "Fri 2026-03-13 15:00",
            ]
        );
        assert_eq!(sent[7].1, "day_7", "day 7 comes from the caring cadence");
        for day in ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"] {
            assert!(
                sent.iter().any(|(at, _, body)| at.contains(day) && body.contains("988")),
                "no 988 on {day}: {sent:#?}"
            );
        }

        let output = tether(&[
            "preview", "--schedule", "bridge,caring_contacts", "--discharged-at", "2026-03-06T15:00",
            "--tz", "America/New_York", "--json", "--templates-dir",
        ])
        .arg(shipped_templates())
        .output()
        .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let preview: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        let previewed: Vec<String> = preview.iter().take(8).map(|row| new_york(row["send_at_utc"].as_str().unwrap())).collect();
        assert_eq!(previewed, times, "the preview and the clock agree");
        let steps: Vec<&str> = preview.iter().take(8).map(|row| row["step"].as_str().unwrap()).collect();
        let sent_steps: Vec<&str> = sent.iter().map(|(_, step, _)| step.as_str()).collect();
        assert_eq!(steps, sent_steps);
    }
}

on_both_backends! {
    /// The bridge sends two texts a day: without the client's recorded consent to that, the enrolment is
    /// refused with the field named, and the caring contacts requested beside it are not enrolled either.
    async fn the_bridge_needs_consent_to_several_texts_a_day_and_writes_nothing_without_it(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        for (body, field) in [
            (json!({"schedules": ["bridge", "caring_contacts"], "discharged_at": FRIDAY_15_00}),
             "several_texts_a_day_consent"),
            (json!({"schedules": ["bridge", "caring_contacts"], "discharged_at": FRIDAY_15_00,
                    "several_texts_a_day_consent": {"consented_at": "2027-01-01T00:00:00Z", "consent_source": "form"}}),
             "several_texts_a_day_consent.consented_at"),
            (json!({"schedules": ["bridge", "caring_contacts"], "discharged_at": FRIDAY_15_00,
                    "several_texts_a_day_consent": {"consented_at": "2026-03-06T19:00:00Z", "consent_source": " "}}),
             "several_texts_a_day_consent.consent_source"),
            (json!({"schedules": ["caring_contacts", "nightly"], "discharged_at": FRIDAY_15_00}), "schedules[1]"),
            (json!({"schedules": ["caring_contacts", "caring_contacts"], "discharged_at": FRIDAY_15_00}),
             "schedules[1]"),
            (json!({"schedules": [], "discharged_at": FRIDAY_15_00}), "schedules"),
            (json!({"schedule": "caring_contacts", "schedules": ["bridge"], "discharged_at": FRIDAY_15_00}),
             "schedules"),
        ] {
            let response = app.post(&format!("/api/v1/clients/{jordan}/enrollments"), body.clone()).await;
            assert_eq!(response.status(), 422, "{body}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["field"], field, "{error}");
        }
        app.run_until("2026-03-10T12:00:00Z".parse().unwrap()).await;
        assert!(app.messages(jordan).await.is_empty(), "nothing planned");
        app.assert_nothing_else_texted();

        // With no schedule named, the program's default set (caring contacts only) is followed.
        let response = app
            .post(&format!("/api/v1/clients/{jordan}/enrollments"), json!({"discharged_at": FRIDAY_15_00}))
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["enrollments"][0]["schedule"], "caring_contacts");
    }
}

on_both_backends! {
    /// A bridge enrolled after the caring contacts (the same afternoon) takes over their first days: day 1,
    /// already planned in the outbox, is cancelled; and the caring contacts cannot be enrolled twice.
    async fn a_bridge_added_later_takes_over_the_caring_contacts_first_days(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", FRIDAY_15_00).await;
        // The planner writes day 1 (Saturday 15:00) a day ahead.
        app.run_until("2026-03-06T20:30:00Z".parse().unwrap()).await;
        let planned = app.messages(jordan).await;
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0]["step"], "day_1");

        let response = app
            .post(
                &format!("/api/v1/clients/{jordan}/enrollments"),
                json!({"schedules": ["bridge"], "discharged_at": FRIDAY_15_00, "several_texts_a_day_consent": consent()}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let again = enroll_in_both(&app, jordan).await;
        assert_eq!(again.status(), 409);
        let error: Value = again.json().await.unwrap();
        assert_eq!(error["error"]["field"], "schedules", "{error}");

        app.run_until("2026-03-14T12:00:00Z".parse().unwrap()).await;
        let cancelled: Vec<Value> = app.messages(jordan).await.into_iter().filter(|t| t["status"] == "cancelled").collect();
        assert_eq!(cancelled.len(), 1, "{cancelled:?}");
        assert_eq!(cancelled[0]["step"], "day_1");
        assert_eq!(cancelled[0]["status_reason"], "replaced by the bridge");
        let steps: Vec<String> = sent_check_ins(&app, jordan).await.into_iter().map(|(_, step, _)| step).collect();
        assert_eq!(
            steps,
            ["day_0_evening", "day_1_morning", "day_1_evening", "day_2_morning", "day_2_evening", "day_3_morning",
             "day_3_evening", "day_7"]
        );
    }
}

/// Maya, discharged Friday 13 March at 15:00 onto the bridge and caring contacts, has had her first three
/// check-ins (two carrying 988) when, at `crisis_at` on Saturday night, she texts that she wants to die: the
/// crisis reply goes, the on-call peer is paged and acknowledges. Answers her id.
async fn in_crisis_on_the_bridge(app: &TestApp, crisis_at: &str) -> i64 {
    let maya = on_call_set_up(app).await;
    app.run_until("2026-03-13T12:00:00Z".parse().unwrap()).await;
    let response = app
        .post(
            &format!("/api/v1/clients/{maya}/enrollments"),
            json!({"schedules": ["bridge", "caring_contacts"], "discharged_at": "2026-03-13T15:00:00-04:00",
                   "several_texts_a_day_consent": consent()}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    app.run_until(crisis_at.parse().unwrap()).await;
    for words in ["988", "988", "Good morning"] {
        app.expect_text(MAYA, words);
    }
    app.assert_nothing_else_texted();
    crisis_acknowledged(app).await;
    maya
}

on_both_backends! {
    /// A crisis escalation open from Saturday 23:30 to Sunday 11:00 (a week after the clocks changed): the
    /// Sunday 10:00 bridge check-in is held, goes the moment the escalation is resolved (inside its
    /// lateness), and the thread says it was held. (The Saturday 22:00 to Sunday 12:00 is 14 hours,
    /// past the 12-hour cap: the test after this one plays it.)
    async fn a_bridge_check_in_waits_for_a_resolved_crisis(backend) {
        let app = spawn_app(&backend).await;
        // Saturday 23:30 (acknowledged is not resolved: the hold goes on).
        let maya = in_crisis_on_the_bridge(&app, "2026-03-15T03:30:00Z").await;

        // Sunday 11:00: the 10:00 check-in is still waiting.
        app.run_until("2026-03-15T15:00:00Z".parse().unwrap()).await;
        app.assert_nothing_else_texted();
        let held: Vec<Value> = app
            .messages(maya)
            .await
            .into_iter()
            .filter(|t| t["step"] == "day_2_morning")
            .collect();
        assert_eq!(held[0]["status"], "pending", "{held:?}");
        assert_eq!(held[0]["held_by_escalation"], 1);

        assert_eq!(app.post("/api/v1/escalations/1/resolve", json!({})).await.status(), 200);
        app.fast_forward(jiff::SignedDuration::from_secs(1)).await;
        app.expect_text(MAYA, "Good morning");
        let sent: Vec<Value> = app.messages(maya).await.into_iter().filter(|t| t["step"] == "day_2_morning").collect();
        assert_eq!(sent[0]["status"], "sent", "{sent:?}");
        assert_eq!(sent[0]["sent_at"], "2026-03-15T15:00:00Z");
        assert_eq!(sent[0]["held_by_escalation"], 1, "the thread still says it was held");
    }
}

on_both_backends! {
    /// The issue's own times: a crisis open from Saturday 22:00 to Sunday 12:00. The hold lasts 12 hours at
    /// most, so it runs out at Sunday 10:00, the escalation is flagged, and the 10:00 check-in goes on time
    /// rather than waiting two more hours for the resolution; resolving at noon sends nothing twice.
    async fn a_crisis_open_past_twelve_hours_lets_the_check_in_go_when_the_hold_runs_out(backend) {
        let app = spawn_app(&backend).await;
        let maya = in_crisis_on_the_bridge(&app, "2026-03-15T02:00:00Z").await;

        app.run_until("2026-03-15T14:30:00Z".parse().unwrap()).await;
        app.expect_text(MAYA, "Good morning");
        let check_in: Vec<Value> =
            app.messages(maya).await.into_iter().filter(|t| t["step"] == "day_2_morning").collect();
        assert_eq!(check_in[0]["sent_at"], "2026-03-15T14:00:00Z", "Sunday 10:00, as the hold ran out");
        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(board[0]["hold_ran_out"], true, "{board:?}");
        assert_eq!(board[0]["hold_ends_at"], "2026-03-15T14:00:00Z");

        app.run_until("2026-03-15T16:00:00Z".parse().unwrap()).await;
        assert_eq!(app.post("/api/v1/escalations/1/resolve", json!({})).await.status(), 200);
        app.fast_forward(jiff::SignedDuration::from_secs(1)).await;
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// A client who answered on Saturday morning and then let four check-ins pass by Monday morning has had
    /// a quiet weekend day, not gone quiet: the early-warning signal counts days, not texts, and fires with
    /// the third day's unanswered check-in, Monday 18:00.
    async fn a_quiet_day_in_the_bridge_is_not_a_silence_signal(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        assert_eq!(app.post("/api/v1/staff", json!({"name": "Sam", "phone": "+14155550181"})).await.status(), 201);
        app.assign_staff(jordan, 1).await;
        assert_eq!(enroll_in_both(&app, jordan).await.status(), 201);
        app.run_until("2026-03-07T15:30:00Z".parse().unwrap()).await;
        app.text_in(JORDAN, "morning, doing ok").await;

        // Sat 18:00, Sun 10:00 and 18:00, Mon 10:00 go unanswered.
        app.run_until("2026-03-09T20:00:00Z".parse().unwrap()).await;
        let signals: Vec<Value> = app.get("/api/v1/signals").await.json().await.unwrap();
        assert_eq!(signals, Vec::<Value>::new());

        app.run_until("2026-03-10T12:00:00Z".parse().unwrap()).await;
        let signals: Vec<Value> = app.get("/api/v1/signals").await.json().await.unwrap();
        let rules: Vec<&str> = signals.iter().map(|s| s["rule"].as_str().unwrap()).collect();
        assert_eq!(rules, ["silence"], "{signals:?}");
        assert_eq!(signals[0]["created_at"], "2026-03-09T22:00:00Z", "Monday 18:00 in New York");
    }
}

on_both_backends! {
    /// A planner that read Jordan's caring-contact enrolment just before a bridge was added for him cannot
    /// write the day-1 text the bridge now covers: its advance is refused as stale, and the next pass plans
    /// from the enrolment as it is now, so Saturday gets the bridge's texts and no caring contact.
    async fn a_planner_that_read_before_the_bridge_was_added_writes_nothing(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", FRIDAY_15_00).await;
        let day_1: Timestamp = "2026-03-07T20:00:00Z".parse().unwrap();
        let read = app.store.due_enrollments(day_1, 10).await.unwrap();
        assert_eq!((read.len(), read[0].next_step, read[0].starts_on_day), (1, 0, 0));

        let response = app
            .post(
                &format!("/api/v1/clients/{jordan}/enrollments"),
                json!({"schedule": "bridge", "discharged_at": FRIDAY_15_00, "several_texts_a_day_consent": consent()}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

        let mut stale_text = due_text(format!("caring:{}:day_1:v1", read[0].id), JORDAN.into(), day_1);
        stale_text.client_id = Some(jordan);
        stale_text.enrollment_id = Some(read[0].id);
        stale_text.step = Some("day_1".into());
        let stale = tether::storage::StepAdvance {
            enrollment_id: read[0].id,
            expected_step: read[0].next_step,
            expected_version: read[0].schedule_version,
            expected_starts_on_day: read[0].starts_on_day,
            text: Some(stale_text),
            next: Some((1, "2026-03-09T19:00:00Z".parse().unwrap())),
        };
        assert!(!app.store.advance_enrollment(&stale, app.clock.now()).await.unwrap(), "refused as stale");

        app.run_until("2026-03-08T12:00:00Z".parse().unwrap()).await;
        let sent = sent_check_ins(&app, jordan).await;
        let steps: Vec<&str> = sent.iter().map(|(_, step, _)| step.as_str()).collect();
        assert_eq!(steps, ["day_0_evening", "day_1_morning", "day_1_evening"]);
    }
}
