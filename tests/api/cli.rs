//! The `tether` command line: check, preview, migrate, send-test, and refusing to start on bad templates.

use std::fs;
use std::path::Path;
use std::process::Output;
use std::str::FromStr;

use serde_json::Value;

use crate::helpers::*;
use crate::mock_provider::{ACCOUNT_SID, AUTH_TOKEN, FROM, MockProvider, Scripted};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A copy of the test catalog that a test may break.
fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture_templates(), dir.path());
    dir
}

fn check(dir: &Path) -> (bool, String) {
    let output = tether(&["check", "--templates-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    (output.status.success(), stdout(&output))
}

#[test]
fn the_shipped_templates_pass_check() {
    let (ok, out) = check(&shipped_templates());
    assert!(ok, "{out}");
    assert!(!out.contains("error"), "{out}");
}

#[test]
fn check_names_file_and_line_for_each_kind_of_mistake() {
    let cases: [(&str, &str, &str, &str); 6] = [
        // (file, replace this, with this, expect in output)
        (
            "schedules/overnight.toml",
            "template = \"test/hello\"\n\n[[steps]]\nid = \"day_2\"",
            "template = \"test/hello\"\ncolour = \"blue\"\n\n[[steps]]\nid = \"day_2\"",
            "schedules/overnight.toml:9: unknown field `colour`",
        ),
        (
            "schedules/overnight.toml",
            "id = \"day_2\"\nday = 2\ntemplate = \"test/hello\"",
            "id = \"day_2\"\nday = 2\ntemplate = \"test/goodbye\"",
            "schedules/overnight.toml:13: template `test/goodbye` does not exist in `en`",
        ),
        (
            "schedules/overnight.toml",
            "day = 3",
            "day = 2",
            "schedules/overnight.toml:17: day 2 must come after",
        ),
        (
            "schedules/overnight.toml",
            "max_lateness = \"12h\"",
            "max_lateness = \"soon\"",
            "schedules/overnight.toml:3: max_lateness `soon`",
        ),
        (
            "sms/en/test/hello.txt",
            "{{ first_name }}",
            "{{ first_nme }}",
            "sms/en/test/hello.txt:1: undefined value",
        ),
        (
            "sms/es/test/hello.txt",
            "saludos",
            "saludos del detox",
            "sms/es/test/hello.txt: mentions `detox`",
        ),
    ];
    for (file, from, to, expected) in cases {
        let dir = catalog_copy();
        let path = dir.path().join(file);
        let original = fs::read_to_string(&path).unwrap();
        assert!(original.contains(from), "fixture {file} lacks {from:?}");
        fs::write(&path, original.replacen(from, to, 1)).unwrap();
        let (ok, out) = check(dir.path());
        assert!(!ok, "{file}: expected failure, got {out}");
        assert!(out.contains(expected), "{file}: expected {expected:?} in:\n{out}");
    }
}

/// A word that asks for the safety plan must not already mean something else, nor say anything of risk (a
/// text that is only a keyword is not read for risk), and the crisis reply's offer must name one; the test catalog relies on the defaults (PLAN, MI PLAN, PLAN DE SEGURIDAD).
#[test]
fn check_refuses_plan_keywords_that_clash_and_warns_of_an_offer_naming_none() {
    for (keywords, expected) in [
        (r#"["PLAN", "stop"]"#, "keywords.plan `stop` is already a keyword"),
        (r#"["Si"]"#, "keywords.plan `Si` is already a keyword"),
        (r#"["STOP PLAN"]"#, "keywords.plan `STOP PLAN` is already a keyword"),
        (
            r#"["PLAN 2"]"#,
            "keywords.plan `PLAN 2` must be 1 to 30 letters and spaces",
        ),
        (r#"["PLAN", "plan"]"#, "keywords.plan lists `plan` twice"),
        ("[]", "keywords.plan must list at least one word"),
        (
            r#"["PLAN", "KILL MYSELF"]"#,
            "keywords.plan `KILL MYSELF`: the risk rules read `KILL MYSELF` as a crisis text",
        ),
    ] {
        let dir = catalog_copy();
        let program = dir.path().join("program.toml");
        let original = fs::read_to_string(&program).unwrap();
        fs::write(&program, format!("{original}\n[keywords]\nplan = {keywords}\n")).unwrap();
        let (ok, out) = check(dir.path());
        assert!(!ok, "{keywords}: expected failure, got {out}");
        assert!(out.contains(expected), "{keywords}: expected {expected:?} in:\n{out}");
    }
    let dir = catalog_copy();
    let program = dir.path().join("program.toml");
    let original = fs::read_to_string(&program).unwrap();
    fs::write(&program, format!("{original}\n[keywords]\nplan = [\"SAFETY\"]\n")).unwrap();
    let (ok, out) = check(dir.path());
    assert!(ok, "a warning, not an error: {out}");
    // "Reply PLAN for your safety plan." names SAFETY; the Spanish offer does not.
    assert!(!out.contains("sms/en/plan/offer.txt"), "{out}");
    assert!(
        out.contains("sms/es/plan/offer.txt: warning: names none of keywords.plan (SAFETY)"),
        "{out}"
    );
}

#[test]
fn check_reports_a_missing_translation() {
    let dir = catalog_copy();
    fs::remove_file(dir.path().join("sms/es/test/hello.txt")).unwrap();
    let (ok, out) = check(dir.path());
    assert!(!ok);
    assert!(out.contains("template `test/hello` has no `es` translation"), "{out}");
}

#[test]
fn preview_json_gives_each_step_with_offset_time_and_segments() {
    let output = tether(&[
        "preview",
        "--schedule",
        "caring_contacts",
        "--discharged-at",
        "2026-03-06T15:00",
        "--tz",
        "America/New_York",
        "--json",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[0]["step"], "day_1");
    assert_eq!(rows[0]["template"], "caring/first");
    assert_eq!(rows[0]["send_at"], "2026-03-07T15:00:00-05:00");
    assert_eq!(
        rows[1]["send_at"], "2026-03-09T15:00:00-04:00",
        "after the change to daylight time"
    );
    assert_eq!(rows[0]["segments"], 2);
    assert!(rows.iter().all(|r| r["segments"].as_u64().unwrap() >= 1));

    let spanish = tether(&[
        "preview",
        "--schedule",
        "caring_contacts",
        "--discharged-at",
        "2026-03-06T15:00:00-05:00",
        "--tz",
        "America/New_York",
        "--language",
        "es",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(stdout(&spanish).contains("Hola Jordan"));
}

#[test]
fn preview_names_a_bad_argument() {
    let output = tether(&[
        "preview",
        "--schedule",
        "caring_contacts",
        "--discharged-at",
        "2026-03-06T15:00",
        "--tz",
        "Mars/Olympus",
    ])
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tz"));
}

#[test]
fn serve_refuses_broken_templates_before_touching_the_database() {
    let dir = catalog_copy();
    fs::write(dir.path().join("sms/en/test/hello.txt"), "Hi {{ first_name").unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("tether.db");
    let output = tether(&[
        "serve",
        "--templates-dir",
        dir.path().to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ])
    .env("DATABASE_URL", format!("sqlite://{}", db.display()))
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("sms/en/test/hello.txt:1"));
    assert!(!db.exists(), "nothing was written");
}

/// The newest migration shipped, read from the folder so a new migration does not need this test edited.
fn newest_migration() -> u32 {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.split('_').next()?.parse().ok()
        })
        .max()
        .unwrap()
}

#[test]
fn migrate_creates_the_database() {
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("tether.db");
    let output = tether(&["migrate", "--database-url", &format!("sqlite://{}", db.display())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout(&output).contains(&format!("database is at migration {}", newest_migration())),
        "{}",
        stdout(&output)
    );
    assert!(db.exists());
}

#[tokio::test]
async fn send_test_prints_the_provider_id_or_fails_with_its_error() {
    let mock = MockProvider::start().await.unwrap();
    let run = |mock: &MockProvider| {
        tether(&["send-test", "--to", "+14155550123", "--body", "Hello from a test"])
            .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .env("TWILIO_FROM", FROM)
            .env("TWILIO_API_BASE", &mock.base_url)
            .output()
            .unwrap()
    };
    let ok = tokio::task::spawn_blocking({
        let mock = mock.clone();
        move || run(&mock)
    })
    .await
    .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let sid = stdout(&ok).trim().to_owned();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert_eq!(mock.accepted()[0].body, "Hello from a test");

    mock.script(Scripted::Fail {
        status: 400,
        code: Some(21211),
        retry_after: None,
    });
    let failed = tokio::task::spawn_blocking({
        let mock = mock.clone();
        move || run(&mock)
    })
    .await
    .unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("21211"));
}

#[test]
fn triage_prints_one_json_object_per_line() {
    use std::io::Write;
    let mut child = tether(&["triage", "--templates-dir", shipped_templates().to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("I want to die\nkilling it at work\nno me voy a matar\n".as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let rows: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tiers: Vec<&str> = rows.iter().map(|r| r["tier"].as_str().unwrap()).collect();
    assert_eq!(tiers, ["crisis", "none", "concern"]);
    assert_eq!(rows[0]["matches"][0]["phrase"], "i want to die");
    assert_eq!(rows[0]["matches"][0]["entry"], "ideation.explicit");
    assert_eq!(rows[1]["matches"], serde_json::json!([]));
    assert_eq!(rows[2]["matches"][0]["negated"], true);
}

#[test]
fn check_validates_the_risk_lexicons() {
    let dir = catalog_copy();
    let path = dir.path().join("risk/en.toml");
    let original = fs::read_to_string(&path).unwrap();
    fs::write(&path, original.replace("tier = \"crisis\"", "tier = \"urgent\"")).unwrap();
    let (ok, out) = check(dir.path());
    assert!(!ok);
    assert!(
        out.contains("risk/en.toml:9: tier `urgent` must be crisis, concern or none"),
        "{out}"
    );
}

#[test]
fn preview_covers_appointment_and_medication_reminders() {
    let templates = shipped_templates();
    let appointment = tether(&[
        "preview",
        "--appointment-at",
        "2026-03-10T08:00",
        "--tz",
        "America/New_York",
        "--json",
        "--templates-dir",
        templates.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(
        appointment.status.success(),
        "{}",
        String::from_utf8_lossy(&appointment.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&appointment.stdout).unwrap();
    let times: Vec<&str> = rows.iter().map(|r| r["send_at"].as_str().unwrap()).collect();
    assert_eq!(times, ["2026-03-09T08:00:00-04:00", "2026-03-09T20:59:00-04:00"]);
    assert_eq!(rows[0]["template"], "appointment/reminder");

    let medication = tether(&[
        "preview",
        "--medication",
        "30 1 * * *",
        "--from",
        "2026-10-31T00:00",
        "--count",
        "3",
        "--tz",
        "America/New_York",
        "--json",
        "--templates-dir",
        templates.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(
        medication.status.success(),
        "{}",
        String::from_utf8_lossy(&medication.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&medication.stdout).unwrap();
    let times: Vec<&str> = rows.iter().map(|r| r["send_at"].as_str().unwrap()).collect();
    assert_eq!(
        times,
        [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00"
        ]
    );
}

/// `tether demo --json`: every story, one JSON object per event, with the texts the issue describes in the
/// order they must happen.
#[test]
fn demo_prints_its_stories_as_json_lines() {
    let output = tether(&[
        "demo",
        "--json",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let events: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}")))
        .collect();
    for event in &events {
        for field in ["at", "kind", "from", "to", "body"] {
            assert!(event[field].is_string(), "{field} missing in {event}");
        }
        jiff::Timestamp::from_str(event["at"].as_str().unwrap()).expect("at is RFC 3339");
    }
    let find = |story: &str, kind: &str, to: &str, words: &str| {
        events
            .iter()
            .position(|e| {
                e["story"] == story
                    && e["kind"] == kind
                    && e["to"].as_str().unwrap().starts_with(to)
                    && e["body"].as_str().unwrap().contains(words)
            })
            .unwrap_or_else(|| panic!("no {kind} to {to} with `{words}` in {story}: {events:#?}"))
    };
    let at = |index: usize| jiff::Timestamp::from_str(events[index]["at"].as_str().unwrap()).unwrap();

    // Jordan: day 1, the craving and the notice, the peer's answer relayed, the reminder and `C`, day 3.
    let day_1 = find("jordan", "sent", "Jordan", "thinking of you");
    let notice = find("jordan", "notice", "Sam", "ref");
    let relay = find("jordan", "sent", "Jordan", "I'm here, Jordan");
    let reminder = find("jordan", "sent", "Jordan", "a reminder of your visit");
    let confirmed = find("jordan", "sent", "Jordan", "You're confirmed");
    let day_3 = find("jordan", "sent", "Jordan", "just a note");
    assert!(day_1 < notice && notice < relay && relay < reminder && reminder < confirmed && confirmed < day_3);
    assert_eq!(events[day_1]["at"], "2026-03-07T15:00:00-05:00");
    assert_eq!(events[day_3]["at"], "2026-03-09T15:00:00-04:00");

    // Jordan's weekend on the bridge: Friday evening's first check-in, Saturday's two, the craving text and
    // the peer's answer relayed, his safety plan asked for at night, the Monday intake reminder, the bridge's last text on Monday evening; no
    // caring contact in those days.
    let first = find("weekend", "sent", "Jordan", "morning and evening");
    let craving = find("weekend", "received", "Tether", "Cravings");
    let notice = find("weekend", "notice", "Sam", "ref");
    let relay = find("weekend", "sent", "Jordan", "Proud of you");
    let asked = find("weekend", "received", "Tether", "PLAN");
    let plan = find("weekend", "sent", "Jordan", "your safety plan");
    let reminder = find("weekend", "sent", "Jordan", "a reminder of your visit");
    let last = find("weekend", "sent", "Jordan", "less often from now on");
    assert!(first < craving && craving < notice && notice < relay && relay < asked && asked < plan);
    assert!(plan < reminder && reminder < last);
    assert_eq!(events[plan]["at"], "2026-03-08T01:40:00-05:00", "at night, at once");
    let plan_text = events[plan]["body"].as_str().unwrap();
    assert!(
        plan_text.ends_with("Call or text 988 any time, free and confidential. - Care Team"),
        "{plan_text}"
    );
    assert!(
        !plan_text.contains("car keys"),
        "the environment section stays out: {plan_text}"
    );
    assert!(
        !events.iter().any(|e| e["story"] == "weekend" && e["kind"] == "page"),
        "asking for the plan pages nobody"
    );
    assert_eq!(events[first]["at"], "2026-03-06T18:00:00-05:00");
    assert_eq!(events[last]["at"], "2026-03-09T18:00:00-04:00");
    let check_ins: Vec<&str> = events
        .iter()
        .filter(|e| e["story"] == "weekend" && e["why"].as_str().unwrap().starts_with("bridge check-in"))
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        check_ins.len(),
        7,
        "Friday evening, then mornings and evenings: {check_ins:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["story"] == "weekend" && e["why"].as_str().unwrap().starts_with("caring contact")),
        "the bridge replaces the caring contacts of days 1 to 3"
    );

    // Maya: the safe-messaging reply, Riley paged, Alex paged 10 minutes later, Alex acknowledges.
    let reply = find("maya", "sent", "Maya", "988");
    let first_page = find("maya", "page", "Riley", "ACK");
    let second_page = find("maya", "page", "Alex", "ACK");
    let ack = events
        .iter()
        .position(|e| e["story"] == "maya" && e["kind"] == "ack")
        .expect("an ack");
    let confirmation = find("maya", "sent", "Alex", "Acknowledged");
    assert_eq!(at(reply), at(first_page), "reply and first page together");
    assert_eq!(
        at(second_page).duration_since(at(first_page)),
        jiff::SignedDuration::from_mins(10)
    );
    assert!(second_page < ack && ack < confirmation);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["story"] == "maya" && e["kind"] == "page")
            .count(),
        2,
        "no page after the ack"
    );
}
