//! Appointment and medication reminders: right to the minute, replanned when an appointment moves, and
//! answered with one word.

use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";

async fn reminders_sent(app: &TestApp, client: i64, kind: &str) -> Vec<String> {
    app.messages(client)
        .await
        .iter()
        .filter(|m| m["kind"] == kind && m["status"] == "sent")
        .map(|m| new_york(m["sent_at"].as_str().unwrap()))
        .collect()
}

async fn appointment(app: &TestApp, client: i64, starts_at: &str) -> i64 {
    let response = app
        .post(
            &format!("/api/v1/clients/{client}/appointments"),
            json!({"starts_at": starts_at}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

on_both_backends! {
    /// An appointment moved from Tuesday 10:00 to Monday 09:00 gets exactly the new reminders, none of the
    /// old: Sunday 09:00 and Monday 08:00 (07:00 is in quiet hours, and 08:00 is still before the start).
    async fn a_moved_appointment_gets_only_its_new_reminders(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let id = appointment(&app, jordan, "2026-03-10T10:00:00-04:00").await;
        app.run_until("2026-03-07T12:00:00Z".parse().unwrap()).await;
        let response = app.put(&format!("/api/v1/appointments/{id}"), json!({"starts_at": "2026-03-09T09:00:00-04:00"})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap()["version"], 2);

        app.run_until("2026-03-12T00:00:00Z".parse().unwrap()).await;
        assert_eq!(
            reminders_sent(&app, jordan, "appointment_reminder").await,
            ["Sun 2026-03-08 09:00", "Mon 2026-03-09 08:00"]
        );
        let accepted = app.mock.accepted();
        assert_eq!(accepted.len(), 2, "nothing for Tuesday");
        assert!(accepted[0].body.contains("on Mon Mar 9 at 9:00 AM"), "{}", accepted[0].body);
        assert!(accepted[0].body.contains("Reply C to confirm or R to change it"));
    }
}

on_both_backends! {
    /// An appointment that already took place is recorded (its attendance is noted afterwards) and gets no
    /// reminder; one dated before 1990 is a typo, refused on its field.
    async fn a_past_appointment_is_recorded_without_reminders(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let yesterday = app.clock.now() - jiff::SignedDuration::from_hours(24);
        appointment(&app, jordan, &yesterday.to_string()).await;

        let response = app
            .post(&format!("/api/v1/clients/{jordan}/appointments"), json!({"starts_at": "1985-06-01T09:00:00Z"}))
            .await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], "starts_at", "{body}");

        app.run_until(app.clock.now() + jiff::SignedDuration::from_hours(48)).await;
        assert!(reminders_sent(&app, jordan, "appointment_reminder").await.is_empty());
        assert!(app.mock.accepted().iter().all(|text| !text.body.contains("confirm")));
    }
}

on_both_backends! {
    /// Cancelled an hour before its 2-hour reminder, an appointment gets no more texts.
    async fn a_cancelled_appointment_gets_no_more_reminders(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let id = appointment(&app, jordan, "2026-03-09T15:00:00-04:00").await;
        app.run_until("2026-03-09T16:00:00Z".parse().unwrap()).await; // 12:00 local, an hour before 13:00
        assert_eq!(reminders_sent(&app, jordan, "appointment_reminder").await, ["Sun 2026-03-08 15:00"]);
        assert_eq!(app.post(&format!("/api/v1/appointments/{id}/cancel"), json!({})).await.status(), 200);
        app.run_until("2026-03-10T00:00:00Z".parse().unwrap()).await;
        assert_eq!(app.mock.accepted().len(), 1);
    }
}

on_both_backends! {
    /// A 2-hour reminder due at 06:00 for an 08:00 visit goes the evening before, inside the allowed window.
    async fn a_reminder_in_quiet_hours_goes_the_evening_before(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        appointment(&app, jordan, "2026-03-10T08:00:00-04:00").await;
        app.run_until("2026-03-11T00:00:00Z".parse().unwrap()).await;
        assert_eq!(
            reminders_sent(&app, jordan, "appointment_reminder").await,
            ["Mon 2026-03-09 08:00", "Mon 2026-03-09 20:59"]
        );
    }
}

on_both_backends! {
    /// A daily 02:30 medication reminder in New York (the client consented to reminders at night) fires once
    /// on the spring-forward night, at 03:00; the text names no drug; recurring reminders without recorded
    /// consent are refused.
    async fn medication_reminders_follow_the_clients_clock(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{jordan}/medications");
        let refused = app.post(&path, json!({"schedule": "30 2 * * *"})).await;
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["field"], "consented_at");
        let bad = app.post(&path, json!({"schedule": "0 30 2 * * *", "consented_at": "2026-03-06T18:00:00Z", "consent_source": "form"})).await;
        assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "schedule");
        let named = app.post(&path, json!({"schedule": "30 2 * * *", "phrase": "your methadone", "consented_at": "2026-03-06T18:00:00Z", "consent_source": "form"})).await;
        assert_eq!(named.json::<Value>().await.unwrap()["error"]["field"], "phrase");

        let created = app
            .post(&path, json!({"schedule": "30 2 * * *", "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake form", "night_ok": true}))
            .await;
        assert_eq!(created.status(), 201);
        app.run_until("2026-03-09T12:00:00Z".parse().unwrap()).await;
        assert_eq!(
            reminders_sent(&app, jordan, "medication_reminder").await,
            ["Sat 2026-03-07 02:30", "Sun 2026-03-08 03:00", "Mon 2026-03-09 02:30"]
        );
        assert!(app.mock.accepted()[0].body.contains("this is your daily reminder"));
    }
}

on_both_backends! {
    /// With an appointment and a medication reminder both open, C confirms the appointment and TAKEN
    /// records the dose; YES with both open goes to staff rather than guessing.
    async fn replies_answer_the_right_reminder(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let visit = appointment(&app, jordan, "2026-03-09T15:00:00-04:00").await;
        app.post(
            &format!("/api/v1/clients/{jordan}/medications"),
            json!({"schedule": "0 16 * * *", "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake form"}),
        )
        .await;
        app.run_until("2026-03-08T21:00:00Z".parse().unwrap()).await; // Sunday 17:00: both reminders out
        assert_eq!(app.mock.accepted().len(), 4, "three daily doses and the 24-hour reminder");

        app.text_in(JORDAN, "YES").await;
        let tasks: Vec<Value> = app.get("/api/v1/tasks").await.json().await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0]["kind"], "ambiguous_reply");

        app.text_in(JORDAN, "TAKEN").await;
        app.text_in(JORDAN, "C").await;
        app.scheduler.tick().await.unwrap();
        let shown: Value = app.get(&format!("/api/v1/appointments/{visit}")).await.json().await.unwrap();
        assert!(shown["confirmed_at"].is_string(), "{shown}");
        let last = app.mock.accepted().last().unwrap().body.clone();
        assert_eq!(last, "Thank you, Jordan. You're confirmed for your visit on Mon Mar 9 at 3:00 PM. - Care Team");
        let pool = app.database_pool().await;
        let answers: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, answer FROM prompts WHERE answered_at IS NOT NULL ORDER BY kind")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(answers, [("appointment".into(), "confirmed".into()), ("medication".into(), "taken".into())]);
        pool.close().await;

        app.text_in(JORDAN, "R").await;
        let tasks: Vec<Value> = app.get("/api/v1/tasks").await.json().await.unwrap();
        assert_eq!(tasks.len(), 1, "the appointment prompt was already answered; R is forwarded instead");
    }
}

on_both_backends! {
    /// Early warning: each rule fires once when its condition starts, not on every pass, and tells the
    /// assigned peer.
    async fn early_warning_signals_fire_once_per_episode(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        assert_eq!(app.post("/api/v1/staff", json!({"name": "Riley", "phone": "+14155550181"})).await.status(), 201);
        app.put(&format!("/api/v1/clients/{jordan}/assigned-staff"), json!({"staff_id": 1})).await;
        app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        app.post(
            &format!("/api/v1/clients/{jordan}/medications"),
            json!({"schedule": "0 9 * * *", "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake form"}),
        )
        .await;
        appointment(&app, jordan, "2026-03-11T10:00:00-04:00").await;
        // Jordan answers day 1 and the first dose, then goes quiet.
        app.run_until("2026-03-07T21:00:00Z".parse().unwrap()).await;
        app.text_in(JORDAN, "thank you").await;
        app.text_in(JORDAN, "TAKEN").await;

        app.run_until("2026-03-28T12:00:00Z".parse().unwrap()).await;
        let signals: Vec<Value> = app.get("/api/v1/signals").await.json().await.unwrap();
        let mut rules: Vec<&str> = signals.iter().map(|s| s["rule"].as_str().unwrap()).collect();
        rules.sort();
        assert_eq!(rules, ["missed_doses", "silence", "unconfirmed"], "{signals:?}");
        assert!(signals.iter().all(|s| s["staff_id"] == 1));
        let notices: Vec<String> = app
            .mock
            .accepted()
            .into_iter()
            .filter(|t| t.to == "+14155550181" && t.body.contains("may need a check-in"))
            .map(|t| t.body)
            .collect();
        assert_eq!(notices.len(), 3, "{notices:?}");
        assert!(notices.iter().all(|n| n.contains(&format!("ref {jordan}"))));

        let unseen: Vec<Value> = app.get("/api/v1/signals?unseen=true").await.json().await.unwrap();
        assert_eq!(app.post(&format!("/api/v1/signals/{}/seen", unseen[0]["id"]), json!({})).await.status(), 200);
        let unseen: Vec<Value> = app.get("/api/v1/signals?unseen=true").await.json().await.unwrap();
        assert_eq!(unseen.len(), 2);
    }
}

on_both_backends! {
    /// R asks for another time: a task for the case manager and a short acknowledgement to the client; the
    /// appointment keeps its reminders until staff move or cancel it.
    async fn r_asks_for_another_time(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "es", "America/New_York").await;
        let visit = appointment(&app, jordan, "2026-03-09T15:00:00-04:00").await;
        app.run_until("2026-03-08T20:00:00Z".parse().unwrap()).await;
        assert!(app.mock.accepted()[0].body.contains("el lun 9 de marzo a las 15:00"), "{:?}", app.mock.accepted());
        app.text_in(JORDAN, "r").await;
        app.scheduler.tick().await.unwrap();
        let tasks: Vec<Value> = app.get("/api/v1/tasks").await.json().await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0]["kind"], "reschedule");
        assert_eq!(tasks[0]["appointment_id"], visit);
        let last = app.mock.accepted().last().unwrap().body.clone();
        assert!(last.starts_with("Gracias, Jordan. Alguien del equipo"), "{last}");
        let shown: Value = app.get(&format!("/api/v1/appointments/{visit}")).await.json().await.unwrap();
        assert!(shown["reschedule_requested_at"].is_string());
    }
}

async fn medications_stored(app: &TestApp) -> i64 {
    let pool = app.database_pool().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM medications")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count
}

fn medication(schedule: &str, night_ok: bool) -> Value {
    json!({"schedule": schedule, "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake form", "night_ok": night_ok})
}

on_both_backends! {
    /// Every minute however it is written, more than six a day, a day that never comes and a night-time dose
    /// without consent are each refused on `schedule` with the limit explained, and nothing is written.
    async fn medication_patterns_beyond_the_limits_are_refused_with_the_reason(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{jordan}/medications");
        let cases = [
            ("* * * * *", true, "at least 60 minutes apart"),
            ("*/1 * * * *", true, "at least 60 minutes apart"),
            ("0-59 * * * *", true, "at least 60 minutes apart"),
            ("1,2,3,4,5,6,7,8,9,10 * * * *", false, "at least 60 minutes apart"),
            ("0 8,10,12,14,16,18,20 * * *", false, "at most 6 medication reminders a day"),
            ("0 0 31 2 *", true, "never fires within a year"),
            ("0 22 * * *", false, "inside quiet hours (21:00-08:00)"),
            ("30 1,2 * * *", true, "30 minutes later"),
        ];
        for (schedule, night_ok, reason) in cases {
            let response = app.post(&path, medication(schedule, night_ok)).await;
            assert_eq!(response.status(), 422, "{schedule}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["field"], "schedule", "{schedule}: {error}");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(message.contains(reason), "{schedule}: {message}");
            assert!(message.contains(schedule), "{schedule}: {message}");
        }
        assert_eq!(medications_stored(&app).await, 0);
        app.run_until("2026-03-08T12:00:00Z".parse().unwrap()).await;
        assert!(app.mock.accepted().is_empty());
    }
}

on_both_backends! {
    /// A 22:00 bedtime dose is refused without the client's consent to reminders at night, and with it is
    /// sent at 22:00, never moved to the morning.
    async fn a_bedtime_dose_needs_night_ok_and_stays_at_its_time(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{jordan}/medications");
        assert_eq!(app.post(&path, medication("0 22 * * *", false)).await.status(), 422);
        let created = app.post(&path, medication("0 22 * * *", true)).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["night_ok"], true);
        assert_eq!(medications_stored(&app).await, 1);
        app.run_until("2026-03-08T12:00:00Z".parse().unwrap()).await;
        assert_eq!(
            reminders_sent(&app, jordan, "medication_reminder").await,
            ["Fri 2026-03-06 22:00", "Sat 2026-03-07 22:00"]
        );
    }
}

/// The medication reminders a client was sent, on their own clock with its offset.
async fn doses_sent(app: &TestApp, client: i64, zone: &str) -> Vec<String> {
    let zone = TimeZone::get(zone).unwrap();
    app.messages(client)
        .await
        .iter()
        .filter(|m| m["kind"] == "medication_reminder" && m["status"] == "sent")
        .map(|m| {
            let at: Timestamp = m["sent_at"].as_str().unwrap().parse().unwrap();
            at.to_zoned_datetime(zone.clone())
                .strftime("%a %d %H:%M %z")
                .to_string()
        })
        .collect()
}

on_both_backends! {
    /// `30 1,3 * * *` in New York on the fall-back night of 1 November 2026 sends 01:30 once (the first,
    /// EDT), not again when the clock shows 01:30 a second time; London on 25 October 2026 likewise.
    async fn a_repeated_hour_on_a_fall_back_night_is_sent_once(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let alex = app.create_client("+447700900123", "Alex", "en", "Europe/London").await;
        app.clock.set("2026-10-24T12:00:00Z".parse().unwrap());
        let created = app.post(&format!("/api/v1/clients/{jordan}/medications"), medication("30 1,3 * * *", true)).await;
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
        let refused = app.post(&format!("/api/v1/clients/{alex}/medications"), medication("0,30 1 * * *", true)).await;
        assert_eq!(refused.status(), 422, "01:00 and 01:30 are half an hour apart");
        let created = app.post(&format!("/api/v1/clients/{alex}/medications"), medication("30 1,9 * * *", true)).await;
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

        app.run_until("2026-10-26T12:00:00Z".parse().unwrap()).await;
        assert_eq!(
            doses_sent(&app, alex, "Europe/London").await,
            ["Sun 25 01:30 +0100", "Sun 25 09:30 +0000", "Mon 26 01:30 +0000", "Mon 26 09:30 +0000"]
        );
        app.run_until("2026-11-02T12:00:00Z".parse().unwrap()).await;
        let new_york = doses_sent(&app, jordan, "America/New_York").await;
        assert_eq!(
            new_york[new_york.len() - 4..],
            ["Sun 01 01:30 -0400", "Sun 01 03:30 -0500", "Mon 02 01:30 -0500", "Mon 02 03:30 -0500"]
        );
    }
}

on_both_backends! {
    /// Medication reminders stored before migration 0009 were promised at their time, night or not: they
    /// migrate with `night_ok = 1`, while a new row's default is 0.
    async fn medication_reminders_from_before_night_ok_keep_their_time(backend) {
        let database = TestDatabase::create(&backend).await;
        let folder = match backend {
            TestBackend::Sqlite => "migrations/sqlite",
            TestBackend::Postgres(_) => "migrations/postgres",
        };
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let mut before_0009 = sqlx::migrate::Migrator::new(folder).await.unwrap();
        before_0009.migrations = before_0009.migrations.iter().filter(|m| m.version < 9).cloned().collect::<Vec<_>>().into();
        // Creates the SQLite file; migrates nothing.
        let store = tether::storage::Store::connect(&database.url).await.unwrap();
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&database.url).await.unwrap();
        before_0009.run(&pool).await.unwrap();
        sqlx::query("INSERT INTO clients (phone, first_name, language, timezone, created_at, updated_at) VALUES ($1, 'Jordan', 'en', 'America/New_York', 1, 1)")
            .bind(JORDAN)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO medications (client_id, schedule, consented_at, consent_source, created_at, updated_at) VALUES (1, '0 22 * * *', 1, 'form', 1, 1)")
            .execute(&pool)
            .await
            .unwrap();

        store.migrate().await.unwrap();
        sqlx::query("INSERT INTO medications (client_id, schedule, consented_at, consent_source, created_at, updated_at) VALUES (1, '0 9 * * *', 1, 'form', 1, 1)")
            .execute(&pool)
            .await
            .unwrap();
        let night_ok: Vec<(String, i64)> = sqlx::query_as("SELECT schedule, night_ok FROM medications ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(night_ok, [("0 22 * * *".to_owned(), 1), ("0 9 * * *".to_owned(), 0)]);
        pool.close().await;
    }
}
