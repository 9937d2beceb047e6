//! Editing schedules and templates: a saved edit is a new version that enrolled clients follow from their
//! next unsent text, nothing already sent goes again, and a bad edit names its field and saves nothing.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use serde_json::{Value, json};
use tether::app::Application;
use tether::scheduling::Clock;

use crate::helpers::*;
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";

fn new_york(at: &str) -> String {
    let instant: Timestamp = at.parse().unwrap();
    instant
        .to_zoned_datetime(TimeZone::get("America/New_York").unwrap())
        .strftime("%a %m-%d %H:%M")
        .to_string()
}

on_both_backends! {
    /// A catalog saved by an earlier release lacks a template this release requires (here the gone-quiet
    /// notice to staff). Starting the new release on that database does not fail: the missing files come
    /// from the shipped folder, what the admins changed stays (here a text, and Spanish dropped), and the
    /// result is the next version, saved by "upgrade".
    async fn a_catalog_from_an_earlier_release_gets_the_files_this_release_needs(backend) {
        let app = spawn_app(&backend).await;
        let shipped = app.store.latest_catalog().await.unwrap().unwrap();
        let mut older = shipped.files.clone();
        assert!(older.remove("sms/en/staff/signal.txt").is_some());
        // This program dropped Spanish: the upgrade must not bring it back.
        older.retain(|path, _| !path.starts_with("sms/es/"));
        let program = older["program.toml"].replace("languages = [\"en\", \"es\"]", "languages = [\"en\"]");
        assert_ne!(program, older["program.toml"]);
        older.insert("program.toml".into(), program);
        let edited = "Hi {{ first_name }}, the team is thinking of you today. - {{ program_name }}\n";
        older.insert("sms/en/caring/first.txt".into(), edited.into());
        let at = app.clock.now();
        let stored = app.store.insert_catalog_version(Some(shipped.version), &older, "admin", "an older release", at).await.unwrap();

        let restarted = Application::build(&test_settings(&app.database_url, &app.mock.base_url), Clock::Manual(app.clock.clone()))
            .await
            .expect("the service starts on a catalog from an earlier release");
        drop(restarted);
        let upgraded = app.store.latest_catalog().await.unwrap().unwrap();
        assert_eq!(upgraded.version, stored + 1);
        assert_eq!(upgraded.created_by, "upgrade");
        assert!(upgraded.summary.contains("sms/en/staff/signal.txt"), "{}", upgraded.summary);
        assert_eq!(upgraded.files["sms/en/staff/signal.txt"], shipped.files["sms/en/staff/signal.txt"]);
        assert_eq!(upgraded.files["sms/en/caring/first.txt"], edited, "the admins' edit stays");
        assert!(!upgraded.files.keys().any(|path| path.starts_with("sms/es/")), "Spanish stays removed");
    }
}

on_both_backends! {
    /// Jordan has had his day-1 text. An admin moves the day-3 step to day 4: he gets it on day 4, the
    /// text already planned for day 3 is cancelled, and day 1 never goes again. `tether preview --live`
    /// shows the new version too.
    async fn a_schedule_edit_moves_the_unsent_texts_and_leaves_the_sent_ones(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        // Past day 1 (Sat 15:00); the planner has already written day 3 (Mon 15:00) to the outbox.
        app.run_until("2026-03-08T20:00:00Z".parse().unwrap()).await;
        let before = app.messages(jordan).await;
        assert_eq!(before.iter().map(|m| (m["step"].as_str().unwrap(), m["status"].as_str().unwrap())).collect::<Vec<_>>(),
            vec![("day_1", "sent"), ("day_3", "pending")]);

        let mut schedule: Value = app.get("/api/v1/schedules/caring_contacts").await.json().await.unwrap();
        assert_eq!(schedule["version"], 1);
        assert_eq!(schedule["steps"][1]["day"], 3);
        schedule["steps"][1]["day"] = json!(4);
        let response = app.put("/api/v1/schedules/caring_contacts", schedule.clone()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["tether-replanned-enrollments"], "1");
        let saved: Value = response.json().await.unwrap();
        assert_eq!((saved["version"].as_i64(), saved["steps"][1]["day"].as_i64()), (Some(2), Some(4)));

        // The same edit again is stale: version 1 is no longer current. Nothing changes.
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", "/api/v1/schedules/caring_contacts", Some(schedule)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (409, Some("version")), "{error}");

        // Invalid edits name the field and save nothing.
        let mut out_of_order = saved.clone();
        out_of_order["steps"][2]["day"] = json!(2);
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", "/api/v1/schedules/caring_contacts", Some(out_of_order)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("steps[2].day")), "{error}");
        let mut unknown_template = saved.clone();
        unknown_template["steps"][0]["template"] = json!("caring/nope");
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", "/api/v1/schedules/caring_contacts", Some(unknown_template)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("steps[0].template")), "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("caring/nope"));
        let mut bad_window = saved.clone();
        bad_window["steps"][3]["window"] = json!("18:00-10:00");
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", "/api/v1/schedules/caring_contacts", Some(bad_window)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("steps[3].window")), "{error}");
        let current: Value = app.get("/api/v1/schedules/caring_contacts").await.json().await.unwrap();
        assert_eq!(current, saved, "refused edits saved nothing");
        let versions: Value = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
        assert_eq!(versions.as_array().unwrap().len(), 2);

        app.run_until(start_of_tests() + SignedDuration::from_hours(10 * 24)).await;
        let after: Vec<(String, String, String)> = app
            .messages(jordan)
            .await
            .iter()
            .map(|m| (
                m["step"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
                m["sent_at"].as_str().map(new_york).unwrap_or_default(),
            ))
            .collect();
        let expected = [
            ("day_1", "sent", "Sat 03-07 15:00"),
            ("day_3", "cancelled", ""),
            ("day_3", "sent", "Tue 03-10 15:00"),
            ("day_7", "sent", "Fri 03-13 15:00"),
        ];
        assert_eq!(after, expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())));
        let to_jordan = app.mock.accepted().into_iter().filter(|t| t.to == JORDAN).count();
        assert_eq!(to_jordan, 3, "day 1 once, the moved day 3 once, day 7 once");

        let preview = tether(&["preview", "--live", "--schedule", "caring_contacts", "--discharged-at", "2026-03-06T15:00",
                               "--tz", "America/New_York", "--json", "--database-url", &app.database_url])
            .output()
            .unwrap();
        assert!(preview.status.success(), "{}", String::from_utf8_lossy(&preview.stderr));
        let rows: Value = serde_json::from_slice(&preview.stdout).unwrap();
        assert!(rows[1]["send_at"].as_str().unwrap().starts_with("2026-03-10T15:00"), "{}", rows[1]);
    }
}

on_both_backends! {
    /// A template edit is checked like a file: an unknown variable or a blocked word is refused with the
    /// reason; a good edit is what the next planned text says.
    async fn a_template_edit_is_checked_and_used_for_the_next_texts(backend) {
        let app = spawn_app(&backend).await;
        let path = "/api/v1/templates/en/caring/first";
        let original: Value = app.get(path).await.json().await.unwrap();
        assert!(original["body"].as_str().unwrap().contains("{{ first_name }}"));

        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", path, Some(json!({"body": "Hi {{ nickname }}"}))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("body")), "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("nickname"), "{error}");
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", path, Some(json!({"body": "Hi {{ first_name }}, how is detox going?"}))).await;
        assert_eq!(status, 422, "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("detox"), "{error}");

        let body = "Hi {{ first_name }}, we are glad you are home. No need to reply. - {{ program_name }}";
        let (status, saved) = app.call(Some(ADMIN_TOKEN), "PUT", path, Some(json!({"body": body}))).await;
        assert_eq!(status, 200, "{saved}");
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        app.run_until("2026-03-07T21:00:00Z".parse().unwrap()).await;
        let messages = app.messages(jordan).await;
        assert!(messages[0]["body"].as_str().unwrap().starts_with("Hi Jordan, we are glad you are home."), "{messages:?}");
    }
}

on_both_backends! {
    /// Two nested `range(10000)` loops (10 s and 420 MB before fuel) are refused within seconds while
    /// `/healthz` keeps answering; a template writing more than 16 KiB and an empty one are refused too,
    /// each on `body` with the reason, and no version is saved.
    async fn runaway_and_empty_templates_are_refused_quickly(backend) {
        let app = spawn_app(&backend).await;
        let path = "/api/v1/templates/en/caring/first";
        let versions_before: Vec<Value> = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
        let nested = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}Hi";
        let started = std::time::Instant::now();
        let edit = {
            let http = app.http.clone();
            let url = format!("{}{path}", app.address);
            tokio::spawn(async move {
                let response = http.put(url).bearer_auth(ADMIN_TOKEN).json(&json!({"body": nested})).send().await.unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap())
            })
        };
        for _ in 0..5 {
            let asked = std::time::Instant::now();
            let health = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
            assert_eq!(health.status(), 200);
            assert!(asked.elapsed() < std::time::Duration::from_secs(1), "/healthz took {:?}", asked.elapsed());
        }
        let (status, error) = edit.await.unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("body")), "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("steps to render"), "{error}");

        let long = "{% for i in range(2000) %}Hi {{ first_name }}. {% endfor %}";
        let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", path, Some(json!({"body": long}))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("body")), "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("more than 16384 bytes"), "{error}");

        for empty in ["", "  \n", "{% if false %}Hi{% endif %}"] {
            let (status, error) = app.call(Some(ADMIN_TOKEN), "PUT", path, Some(json!({"body": empty}))).await;
            assert_eq!((status, error["error"]["field"].as_str()), (422, Some("body")), "{empty:?}: {error}");
            assert!(error["error"]["message"].as_str().unwrap().contains("empty"), "{empty:?}: {error}");
        }
        let versions_after: Vec<Value> = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
        assert_eq!(versions_after.len(), versions_before.len(), "nothing saved");
    }
}

/// Export, edit a file, import: the new version is live, with its summary in the history; a broken folder
/// is refused with file and line and saves nothing.
#[tokio::test]
async fn templates_export_and_import_through_a_folder() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().to_str().unwrap();
    let exported = tether(&["templates", "export", dir, "--database-url", &app.database_url])
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(String::from_utf8_lossy(&exported.stdout).contains("version 1"));
    let help = folder.path().join("sms/en/system/help.txt");
    assert!(help.exists());

    let unchanged = tether(&["templates", "import", dir, "--database-url", &app.database_url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&unchanged.stdout).contains("nothing saved"));

    std::fs::write(&help, "Reply STOP to end texts. {{ undefined_thing }}").unwrap();
    let broken = tether(&["templates", "import", dir, "--database-url", &app.database_url])
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("sms/en/system/help.txt:1"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );

    std::fs::write(
        &help,
        "{{ program_name }}: texts to stay in touch. Reply STOP to end them.",
    )
    .unwrap();
    let imported = tether(&[
        "templates",
        "import",
        dir,
        "--summary",
        "shorter help",
        "--database-url",
        &app.database_url,
    ])
    .output()
    .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout).contains("saved version 2"));
    let versions: Value = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
    assert_eq!(versions[0]["summary"], "shorter help");
    // The running service picks up a version saved elsewhere on its next pass: HELP gets the new words.
    app.scheduler.tick().await.unwrap();
    app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
    assert_eq!(app.text_in(JORDAN, "HELP").await, 200);
    app.run_until(start_of_tests() + SignedDuration::from_mins(1)).await;
    let replies = app.mock.accepted();
    assert!(
        replies.last().unwrap().body.contains("texts to stay in touch"),
        "{replies:?}"
    );
}
