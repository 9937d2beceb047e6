//! Appointment kinds: each kind's own wording and reminder offsets, a court date that never says so unless
//! the program names it, the kind on the thread and the dashboard, and the follow-up figures counting
//! clinical kinds only (docs/appointment-kinds.md).

use std::fs;

use reqwest::header::COOKIE;
use serde_json::{Value, json};
use tether::domain::AppointmentKind;

use crate::console::{cookie_named, no_redirects, sign_in};
use crate::helpers::*;
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";
const MAYA: &str = "+14155550124";
const SAM: &str = "+14155550125";
/// Friday 15:00 in New York, the discharge the follow-up figures count from.
const FRIDAY_15_00: &str = "2026-03-06T15:00:00-05:00";
/// Tuesday 09:00 in New York (the clocks went forward on Sunday 8 March).
const TUESDAY_09_00: &str = "2026-03-10T09:00:00-04:00";

/// The appointment reminders the client was sent, as (local time, template, appointment kind, body).
async fn reminders_sent(app: &TestApp, client: i64) -> Vec<(String, String, String, String)> {
    app.messages(client)
        .await
        .iter()
        .filter(|m| m["kind"] == "appointment_reminder" && m["status"] == "sent")
        .map(|m| {
            (
                new_york(m["sent_at"].as_str().unwrap()),
                m["template"].as_str().unwrap().to_owned(),
                m["appointment_kind"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn book(app: &TestApp, client: i64, body: Value) -> Value {
    let response = app.post(&format!("/api/v1/clients/{client}/appointments"), body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// The shipped templates with one line of program.toml replaced.
fn templates_with(line_starting: &str, replacement: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&shipped_templates(), dir.path());
    let path = dir.path().join("program.toml");
    let program = fs::read_to_string(&path).unwrap();
    assert!(program.lines().any(|l| l.starts_with(line_starting)), "{line_starting}");
    let changed: Vec<&str> = program
        .lines()
        .map(|l| if l.starts_with(line_starting) { replacement } else { l })
        .collect();
    fs::write(&path, changed.join("\n")).unwrap();
    dir
}

on_both_backends! {
    /// A court date on Tuesday 09:00 in New York is reminded 48 hours ahead, Sunday 09:00, and on Tuesday
    /// morning: 3 hours ahead is 06:00, in quiet hours, so it goes when they end at 08:00, still before the
    /// start. The wording is neutral ("your appointment … at the place we talked about", never "court") in
    /// both languages; the API and the thread say it is a court date, and `tether preview --kind` plans the
    /// same times.
    async fn a_court_date_is_reminded_two_days_ahead_and_that_morning_without_saying_court(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let maya = app.create_client(MAYA, "Maya", "es", "America/New_York").await;
        let appointment = book(&app, jordan, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        assert_eq!(appointment["kind"], "court_date");
        book(&app, maya, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;

        app.run_until("2026-03-11T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        let times: Vec<&str> = sent.iter().map(|(at, ..)| at.as_str()).collect();
        assert_eq!(times, ["Sun 2026-03-08 09:00", "Tue 2026-03-10 08:00"]);
        for (_, template, kind, body) in &sent {
            assert_eq!(template, "appointment/court_date");
            assert_eq!(kind, "court_date", "the thread says what the appointment is");
            assert!(body.contains("your appointment on Tue Mar 10 at 9:00 AM at the place we talked about"), "{body}");
            assert!(!body.to_lowercase().contains("court"), "{body}");
        }
        let spanish = reminders_sent(&app, maya).await;
        assert_eq!(spanish.len(), 2);
        for (_, _, _, body) in &spanish {
            assert!(body.contains("en el lugar del que hablamos"), "{body}");
            assert!(!body.to_lowercase().contains("corte"), "{body}");
        }
        assert_eq!(app.mock.accepted().len(), 4, "two reminders each, nothing else");

        let output = tether(&[
            "preview", "--appointment-at", "2026-03-10T09:00", "--kind", "court_date",
            "--tz", "America/New_York", "--json", "--templates-dir",
        ])
        .arg(shipped_templates())
        .output()
        .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        let previewed: Vec<String> = rows.iter().map(|r| new_york(r["send_at_utc"].as_str().unwrap())).collect();
        assert_eq!(previewed, times, "the preview and the clock agree");
        assert!(rows.iter().all(|r| r["template"] == "appointment/court_date"));
        assert_eq!(rows[0]["body"], sent[0].3.as_str());
    }
}

on_both_backends! {
    /// Jordan confirms his court date after Sunday's reminder: Tuesday morning's reminder still goes, but no
    /// longer asks him to confirm; Maya, who did not confirm, is still asked, in Spanish.
    async fn a_confirmed_appointments_next_reminder_stops_asking_for_a_confirmation(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let maya = app.create_client(MAYA, "Maya", "es", "America/New_York").await;
        book(&app, jordan, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        book(&app, maya, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        app.run_until("2026-03-08T14:00:00Z".parse().unwrap()).await;
        assert_eq!(app.text_in(JORDAN, "C").await, 200);

        app.run_until("2026-03-11T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        assert_eq!(sent.len(), 2);
        assert!(sent[0].3.contains("Reply C to confirm"), "{}", sent[0].3);
        assert!(!sent[1].3.contains("Reply C"), "{}", sent[1].3);
        assert!(sent[1].3.contains("See you then; reply R if something changes"), "{}", sent[1].3);
        assert!(sent[1].3.contains("at the place we talked about"), "still neutral: {}", sent[1].3);
        let spanish = reminders_sent(&app, maya).await;
        assert!(spanish.iter().all(|(.., body)| body.contains("Responde C para confirmar")), "{spanish:?}");
    }
}

on_both_backends! {
    /// A program that lists court_date in `named_appointment_kinds` gets reminders that say so, in both
    /// languages; other kinds stay neutral.
    async fn a_program_that_names_court_dates_gets_court_in_the_reminder(backend) {
        let templates = templates_with("named_appointment_kinds", "named_appointment_kinds = [\"court_date\"]");
        let dir = templates.path().to_owned();
        let app = spawn_app_with(&backend, move |s| s.templates_dir = dir).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let maya = app.create_client(MAYA, "Maya", "es", "America/New_York").await;
        book(&app, jordan, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        book(&app, maya, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        book(&app, jordan, json!({"starts_at": "2026-03-12T15:00:00-04:00", "kind": "pharmacy_pickup"})).await;

        app.run_until("2026-03-13T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        let court: Vec<&String> = sent.iter().filter(|r| r.2 == "court_date").map(|r| &r.3).collect();
        assert_eq!(court.len(), 2);
        for body in court {
            assert!(body.contains("your court date on Tue Mar 10 at 9:00 AM"), "{body}");
            assert!(!body.contains("place we talked about"), "{body}");
        }
        let pickup: Vec<&String> = sent.iter().filter(|r| r.2 == "pharmacy_pickup").map(|r| &r.3).collect();
        assert_eq!(pickup.len(), 2);
        assert!(pickup.iter().all(|body| !body.to_lowercase().contains("pharmacy")), "{pickup:?}");
        let spanish = reminders_sent(&app, maya).await;
        assert_eq!(spanish.len(), 2);
        assert!(spanish.iter().all(|r| r.3.contains("tu cita en la corte el mar 10 de marzo a las 09:00")), "{spanish:?}");
    }
}

on_both_backends! {
    /// A pharmacy pickup on Thursday 15:00 has its own wording and offsets: 24 hours ahead (Wednesday 15:00)
    /// and 4 hours ahead (Thursday 11:00), where a clinic visit at the same time is reminded 24 and 2 hours
    /// ahead in the wording every release used ("your visit").
    async fn a_pharmacy_pickup_has_its_own_wording_and_offsets(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let maya = app.create_client(MAYA, "Maya", "es", "America/New_York").await;
        book(&app, jordan, json!({"starts_at": "2026-03-12T15:00:00-04:00", "kind": "pharmacy_pickup"})).await;
        book(&app, maya, json!({"starts_at": "2026-03-12T15:00:00-04:00", "kind": "pharmacy_pickup"})).await;
        let visit = book(&app, jordan, json!({"starts_at": "2026-03-13T15:00:00-04:00"})).await;
        assert_eq!(visit["kind"], "clinic_visit", "a clinic visit when none is given");

        app.run_until("2026-03-14T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        let summary: Vec<(&str, &str)> = sent.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("Wed 2026-03-11 15:00", "appointment/pharmacy_pickup"),
                ("Thu 2026-03-12 11:00", "appointment/pharmacy_pickup"),
                ("Thu 2026-03-12 15:00", "appointment/reminder"),
                ("Fri 2026-03-13 13:00", "appointment/reminder"),
            ]
        );
        assert!(sent[0].3.contains("stop by for your pickup on Thu Mar 12 at 3:00 PM"), "{}", sent[0].3);
        assert!(sent[2].3.contains("a reminder of your visit on Fri Mar 13 at 3:00 PM"), "{}", sent[2].3);
        let spanish = reminders_sent(&app, maya).await;
        assert_eq!(spanish.len(), 2);
        assert!(spanish[0].3.contains("recoger tu pedido el jue 12 de marzo a las 15:00"), "{}", spanish[0].3);
    }
}

on_both_backends! {
    /// A kind that is not one of the six is refused on the field `kind`, on create and on move, and nothing
    /// is written: no appointment, no reminder, the moved one keeps its time, kind and reminders. Moving with
    /// a kind changes the wording and offsets with the time.
    async fn an_unknown_kind_is_refused_on_its_field_and_writes_nothing(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{jordan}/appointments");
        for kind in [json!("court"), json!("Court_Date"), json!(""), json!(3)] {
            let response = app.post(&path, json!({"starts_at": TUESDAY_09_00, "kind": kind})).await;
            assert_eq!(response.status(), 422, "{kind}");
            let error: Value = response.json().await.unwrap();
            if kind.is_string() {
                assert_eq!(error["error"]["field"], "kind", "{error}");
                assert!(error["error"]["message"].as_str().unwrap().contains("court_date"), "{error}");
            }
        }
        assert_eq!(app.get("/api/v1/appointments/1").await.status(), 404, "no appointment written");
        assert!(app.messages(jordan).await.is_empty(), "no reminder written");

        let visit = book(&app, jordan, json!({"starts_at": TUESDAY_09_00})).await;
        let id = visit["id"].as_i64().unwrap();
        let refused = app
            .put(&format!("/api/v1/appointments/{id}"), json!({"starts_at": "2026-03-11T09:00:00-04:00", "kind": "hearing"}))
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["field"], "kind");
        let unchanged: Value = app.get(&format!("/api/v1/appointments/{id}")).await.json().await.unwrap();
        assert_eq!((unchanged["version"].as_i64(), unchanged["kind"].as_str()), (Some(1), Some("clinic_visit")));
        let waiting: Vec<Value> = app.messages(jordan).await;
        assert_eq!(waiting.len(), 2);
        assert!(waiting.iter().all(|m| m["status"] == "pending" && m["template"] == "appointment/reminder"));

        let moved = app
            .put(&format!("/api/v1/appointments/{id}"), json!({"starts_at": TUESDAY_09_00, "kind": "court_date"}))
            .await;
        assert_eq!(moved.status(), 200);
        assert_eq!(moved.json::<Value>().await.unwrap()["kind"], "court_date");
        app.run_until("2026-03-11T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        let summary: Vec<(&str, &str)> = sent.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            summary,
            [("Sun 2026-03-08 09:00", "appointment/court_date"), ("Tue 2026-03-10 08:00", "appointment/court_date")]
        );
        // A move without a kind keeps the one it has.
        let kept = app
            .put(&format!("/api/v1/appointments/{id}"), json!({"starts_at": "2026-03-12T09:00:00-04:00"}))
            .await;
        assert_eq!(kept.json::<Value>().await.unwrap()["kind"], "court_date");
    }
}

async fn console_cookie(app: &TestApp) -> String {
    let signed_in = sign_in(&app.address, &no_redirects(), ADMIN_TOKEN).await;
    assert_eq!(signed_in.status(), 303);
    cookie_named(&signed_in, "tether_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn console_page(app: &TestApp, cookie: &str, path: &str) -> String {
    let response = no_redirects()
        .get(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

on_both_backends! {
    /// Three discharges on Friday: Jordan has only a court date within the week, Maya a therapy session,
    /// Sam a pharmacy pickup within the week and a clinic visit on day 19. Follow-up within 7 days is 1 of 3
    /// (Maya), within 30 days 2 of 3, since court dates and pickups are not follow-up visits; the dashboard
    /// says which kinds count and lists appointments by kind, and the client's thread shows the kind.
    async fn the_seven_day_follow_up_counts_clinical_kinds_only(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let maya = app.create_client(MAYA, "Maya", "en", "America/New_York").await;
        let sam = app.create_client(SAM, "Sam", "en", "America/New_York").await;
        for client in [jordan, maya, sam] {
            app.enroll(client, "caring_contacts", FRIDAY_15_00).await;
        }
        book(&app, jordan, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        book(&app, maya, json!({"starts_at": "2026-03-11T14:00:00-04:00", "kind": "therapy"})).await;
        book(&app, sam, json!({"starts_at": "2026-03-09T12:00:00-04:00", "kind": "pharmacy_pickup"})).await;
        book(&app, sam, json!({"starts_at": "2026-03-25T10:00:00-04:00", "kind": "clinic_visit"})).await;

        let clinical = [AppointmentKind::ClinicVisit, AppointmentKind::Therapy];
        let figures = app.store.engagement(&clinical).await.unwrap();
        assert_eq!(
            (figures.discharges, figures.follow_up_7_days, figures.follow_up_30_days),
            (3, 1, 2)
        );
        let by_kind: Vec<(&str, i64, bool)> = figures
            .appointments_by_kind
            .iter()
            .map(|k| (k.kind.as_str(), k.booked, k.clinical))
            .collect();
        assert_eq!(
            by_kind,
            [
                ("clinic_visit", 1, true),
                ("therapy", 1, true),
                ("pharmacy_pickup", 1, false),
                ("benefits_office", 0, false),
                ("court_date", 1, false),
                ("other", 0, false),
            ]
        );
        // Were court dates counted, Jordan's would be a follow-up too.
        let with_court = app.store.engagement(&[AppointmentKind::CourtDate]).await.unwrap();
        assert_eq!((with_court.follow_up_7_days, with_court.follow_up_30_days), (1, 1));

        app.run_until("2026-03-10T16:00:00Z".parse().unwrap()).await;
        let cookie = console_cookie(&app).await;
        let dashboard = console_page(&app, &cookie, "/console/dashboard").await;
        assert!(dashboard.contains("1 of 3 discharges (clinic visit, therapy)"), "{dashboard}");
        assert!(dashboard.contains("2 of 3 discharges (clinic visit, therapy)"), "{dashboard}");
        assert!(
            dashboard.contains("<tr data-kind=\"court_date\"><td>court date</td><td>1</td><td>1</td><td>0</td><td>no</td></tr>"),
            "{dashboard}"
        );
        let thread = console_page(&app, &cookie, &format!("/console/clients/{jordan}")).await;
        assert!(thread.contains("court date · 2880m before"), "{thread}");
    }
}

/// `tether check` refuses appointment settings it cannot use, naming program.toml and the line.
#[test]
fn tether_check_refuses_bad_appointment_settings_with_their_line() {
    for (line, replacement, expected) in [
        (
            "appointment_reminders",
            "appointment_reminders = { court_date = [\"2d\", \"3h\"] }",
            "appointment_reminders.court_date: `2d`",
        ),
        (
            "appointment_reminders",
            "appointment_reminders = { court_date = [] }",
            "appointment_reminders.court_date must list 1 to 4 offsets",
        ),
        (
            "appointment_reminders",
            "appointment_reminders = { court = [\"48h\"] }",
            "unknown variant `court`",
        ),
        (
            "named_appointment_kinds",
            "named_appointment_kinds = [\"hearing\"]",
            "unknown variant `hearing`",
        ),
        (
            "clinical_appointment_kinds",
            "clinical_appointment_kinds = []",
            "clinical_appointment_kinds must list at least one kind",
        ),
    ] {
        let templates = templates_with(line, replacement);
        let program = fs::read_to_string(templates.path().join("program.toml")).unwrap();
        let number = program.lines().position(|l| l.starts_with(line)).unwrap() + 1;
        let output = tether(&["check", "--templates-dir"])
            .arg(templates.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{replacement}");
        let printed = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        let located = format!("program.toml:{number}: ");
        assert!(
            printed.lines().any(|l| l.contains(&located) && l.contains(expected)),
            "{replacement}: {printed}"
        );
    }
}

on_both_backends! {
    /// An install whose stored catalog comes from the release before kinds (no kind templates, no appointment
    /// settings in program.toml, its own wording of `appointment/reminder`) starts: the missing files are
    /// added from the shipped folder as the next version, the edited clinic-visit wording stays in use, and a
    /// court date gets the shipped neutral wording at the built-in 48 and 3 hours.
    async fn a_catalog_stored_before_kinds_keeps_its_wording_and_gains_the_kinds(backend) {
        let database = TestDatabase::create(&backend).await;
        let store = tether::storage::Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let mut files = tether::templates::files::read_dir(&shipped_templates()).unwrap();
        let kinds: Vec<String> = files
            .keys()
            .filter(|name| {
                AppointmentKind::ALL
                    .iter()
                    .filter(|kind| **kind != AppointmentKind::ClinicVisit)
                    .any(|kind| name.ends_with(&format!("appointment/{}.txt", kind.as_str())))
            })
            .cloned()
            .collect();
        assert_eq!(kinds.len(), 10, "five kinds in two languages: {kinds:?}");
        for name in &kinds {
            files.remove(name);
        }
        let program = files["program.toml"].clone();
        let (before_kinds, _) = program.split_once("# Appointment kinds").unwrap();
        files.insert("program.toml".into(), before_kinds.to_owned());
        files.insert(
            "sms/en/appointment/reminder.txt".into(),
            "Hi {{ first_name }}, see you {{ when }}. Reply C to confirm or R to change it. - {{ program_name }}".into(),
        );
        assert!(tether::templates::load_files(&files).is_err(), "the old catalog lacks what this release needs");
        store
            .insert_catalog_version(None, &files, "first start", "the release before kinds", start_of_tests())
            .await
            .unwrap();

        let url = database.url.clone();
        let app = spawn_app_with(&backend, move |s| s.database_url = url).await;
        let versions: Value = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
        let text = versions.to_string();
        assert!(text.contains("added what this release needs") && text.contains("appointment/court_date.txt"), "{text}");

        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        book(&app, jordan, json!({"starts_at": TUESDAY_09_00, "kind": "court_date"})).await;
        book(&app, jordan, json!({"starts_at": "2026-03-12T15:00:00-04:00"})).await;
        app.run_until("2026-03-13T00:00:00Z".parse().unwrap()).await;
        let sent = reminders_sent(&app, jordan).await;
        let summary: Vec<(&str, &str)> = sent.iter().map(|r| (r.0.as_str(), r.2.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("Sun 2026-03-08 09:00", "court_date"),
                ("Tue 2026-03-10 08:00", "court_date"),
                ("Wed 2026-03-11 15:00", "clinic_visit"),
                ("Thu 2026-03-12 13:00", "clinic_visit"),
            ]
        );
        assert!(sent[0].3.contains("at the place we talked about"), "{}", sent[0].3);
        assert!(sent[2].3.starts_with("Hi Jordan, see you on Thu Mar 12 at 3:00 PM."), "{}", sent[2].3);
        drop(app);
        drop(store);
    }
}
