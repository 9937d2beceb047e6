//! A crisis never pages nobody: the policy's `repeat`, the fallback numbers of `TETHER_FALLBACK_PAGE_TO` when
//! the chain runs out or finds nobody, the exhausted mark on the board and in the audit log, and the
//! readiness check behind `/healthz`, `tether check --database`, the serve log and the console's banner.

use std::io::{BufRead, BufReader};

use jiff::SignedDuration;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use tether::config::parse_fallback_numbers;

use crate::console::{cookie_named, no_redirects, sign_in};
use crate::helpers::*;
use crate::inbound::{BACKUP, MAYA, PRIMARY, on_call_set_up};
use crate::on_both_backends;
use crate::scenarios::code_of;

const FALLBACK: &str = "+14155550190";
const SECOND_FALLBACK: &str = "+14155550191";

fn with_fallback(numbers: &'static str) -> impl FnOnce(&mut tether::config::Settings) {
    move |settings| settings.fallback_page_to = parse_fallback_numbers(numbers).unwrap()
}

/// The escalation log's kinds, in order, for escalation `id`.
async fn event_kinds(app: &TestApp, id: i64) -> Vec<String> {
    let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
    let escalation = board.iter().find(|e| e["id"] == id).unwrap();
    escalation["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn escalation(app: &TestApp, id: i64) -> Value {
    let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
    board.into_iter().find(|e| e["id"] == id).unwrap()
}

/// The audit log's entries the service wrote itself or for an SMS: `(actor, action, outcome)`, oldest first.
async fn escalation_audit(app: &TestApp) -> Vec<(String, String, String)> {
    let audit: Vec<Value> = app.get("/api/v1/audit?limit=1000").await.json().await.unwrap();
    audit
        .iter()
        .rev()
        .filter(|e| e["action"].as_str().unwrap().starts_with("escalation_"))
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_owned();
            (field("actor"), field("action"), field("outcome"))
        })
        .collect()
}

/// The escalation board as the console shows it to an admin.
async fn console_board(app: &TestApp) -> String {
    let http = no_redirects();
    let signed_in = sign_in(&app.address, &http, ADMIN_TOKEN).await;
    let session = cookie_named(&signed_in, "tether_session").unwrap();
    let cookie = session.split(';').next().unwrap().to_owned();
    http.get(format!("{}/console/escalations", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

impl TestApp {
    /// Moves the clock on by `by`, checking that nothing is texted before its end and exactly one page, to
    /// `phone`, at it; answers the page.
    async fn only_page_after(&self, by: SignedDuration, phone: &str) -> String {
        self.fast_forward(by - SignedDuration::from_secs(1)).await;
        self.assert_nothing_else_texted();
        self.fast_forward(SignedDuration::from_secs(1)).await;
        let page = self.expect_text(phone, "ACK");
        self.assert_nothing_else_texted();
        page
    }
}

on_both_backends! {
    /// A policy repeated once (10 minutes, then 20), nobody acknowledging: each step is paged twice, in
    /// order and on time; then the fallback number; the escalation is marked exhausted, stays open and is
    /// highlighted on the board and in the audit log; the fallback is paged again every 20 minutes (the last
    /// step's delay) until its bare `ACK` takes it. Nothing else is texted.
    async fn a_repeated_policy_pages_each_step_twice_then_the_fallback_until_acknowledged(backend) {
        let app = spawn_app_with(&backend, with_fallback(FALLBACK)).await;
        app.create_client(MAYA, "Maya", "en", "America/New_York").await;
        for (name, phone) in [("primary", PRIMARY), ("backup", BACKUP)] {
            let member = app.create_staff(name, phone).await;
            let rotation = json!({"name": name, "timezone": "America/New_York", "shift_hours": 24,
                                  "handoff_time": "08:00", "start_date": "2026-03-01", "members": [member]});
            assert_eq!(app.post("/api/v1/rotations", rotation).await.status(), 201);
        }
        let policy = json!({"steps": [
            {"target": {"rotation": 1}, "delay_minutes": 10},
            {"target": {"rotation": 2}, "delay_minutes": 20},
        ], "repeat": 1});
        assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);

        app.texts(MAYA, "i want to die").await;
        app.expect_text(MAYA, "988");
        let first = app.expect_text(PRIMARY, "ACK");
        app.assert_nothing_else_texted();
        let code = code_of(&first);
        for (wait, phone) in [(10, BACKUP), (20, PRIMARY), (10, BACKUP)] {
            let page = app.only_page_after(SignedDuration::from_mins(wait), phone).await;
            assert_eq!(page, first, "the same page, the same code");
        }
        assert_eq!(escalation(&app, 1).await["exhausted_reason"], Value::Null, "not before the last wait");

        let fallback_page = app.only_page_after(SignedDuration::from_mins(20), FALLBACK).await;
        assert_eq!(fallback_page, first, "the fallback gets the same page: a reference and the code, no words");
        let exhausted = escalation(&app, 1).await;
        assert_eq!(exhausted["status"], "open");
        assert_eq!(exhausted["exhausted_reason"], "exhausted");
        assert_eq!(
            event_kinds(&app, 1).await,
            ["opened", "page", "page", "page", "page", "exhausted", "fallback_paged", "page"]
        );
        let board = console_board(&app).await;
        assert!(board.contains("escalation status-open stalled"), "{board}");
        assert!(board.contains("Nobody acknowledged: every step of the escalation policy was paged."), "{board}");
        assert!(board.contains("The fallback numbers are paged until someone acknowledges."), "{board}");
        assert_eq!(
            escalation_audit(&app).await,
            [("tether".to_owned(), "escalation_exhausted".to_owned(), "fallback_paged".to_owned())]
        );

        for _ in 0..2 {
            assert_eq!(app.only_page_after(SignedDuration::from_mins(20), FALLBACK).await, first);
        }
        app.texts(FALLBACK, "ACK").await;
        assert!(app.expect_text(FALLBACK, "Acknowledged").contains(&code));
        app.fast_forward(SignedDuration::from_hours(2)).await;
        app.assert_nothing_else_texted();
        let taken = escalation(&app, 1).await;
        assert_eq!(taken["status"], "acknowledged");
        let fallback_staff: Vec<Value> = app.get("/api/v1/staff").await.json().await.unwrap();
        let fallback_id = fallback_staff.iter().find(|s| s["phone"] == FALLBACK).unwrap()["id"].clone();
        assert_eq!(taken["acknowledged_by"], fallback_id);
        assert!(!console_board(&app).await.contains("stalled"), "an acknowledged escalation is no longer highlighted");
        let audit = escalation_audit(&app).await;
        assert_eq!(audit.len(), 2, "{audit:?}");
        assert_eq!(audit[1], (format!("staff {fallback_id}"), "escalation_acknowledged".to_owned(), "ok".to_owned()));
    }
}

on_both_backends! {
    /// A fresh database, no policy, no staff: a client's crisis text pages the fallback number in the same
    /// scheduler pass as the crisis reply, and `ACK <code>` from the fallback phone takes it: a confirmation,
    /// and no more pages.
    async fn with_no_policy_a_crisis_pages_the_fallback_at_once_and_its_ack_stops_paging(backend) {
        let app = spawn_app_with(&backend, with_fallback(FALLBACK)).await;
        app.create_client(MAYA, "Maya", "en", "America/New_York").await;
        app.texts(MAYA, "i want to die tonight").await;
        app.expect_text(MAYA, "988");
        let page = app.expect_text(FALLBACK, "ACK");
        app.assert_nothing_else_texted();
        assert!(!page.contains("Maya") && !page.contains("die") && !page.contains("tonight"), "{page}");
        let code = code_of(&page);
        let unreachable = escalation(&app, 1).await;
        assert_eq!((unreachable["status"].as_str(), unreachable["exhausted_reason"].as_str()), (Some("open"), Some("unreachable")));

        app.texts(FALLBACK, &format!("ACK {code}")).await;
        assert!(app.expect_text(FALLBACK, &format!("Acknowledged alert {code}")).contains("paging has stopped"));
        app.fast_forward(SignedDuration::from_hours(1)).await;
        app.assert_nothing_else_texted();
        assert_eq!(escalation(&app, 1).await["status"], "acknowledged");
        assert_eq!(event_kinds(&app, 1).await, ["opened", "nobody_reachable", "fallback_paged", "page", "acknowledged"]);
        assert_eq!(
            escalation_audit(&app).await,
            [
                ("tether".to_owned(), "escalation_unreachable".to_owned(), "fallback_paged".to_owned()),
                ("staff 1".to_owned(), "escalation_acknowledged".to_owned(), "ok".to_owned()),
            ]
        );
    }
}

/// With no fallback number set, an exhausted chain starts over from its first step after the last step's
/// delay, rather than leaving the crisis with nobody paged.
#[tokio::test]
async fn without_a_fallback_number_an_exhausted_chain_starts_over() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(PRIMARY, "ACK");
    app.only_page_after(SignedDuration::from_mins(10), BACKUP).await;
    app.only_page_after(SignedDuration::from_mins(20), "+14155550183").await;
    // The supervisor's 20 minutes run out: exhausted, and 20 minutes later the primary again.
    app.fast_forward(SignedDuration::from_mins(20)).await;
    app.assert_nothing_else_texted();
    assert_eq!(escalation(&app, 1).await["exhausted_reason"], "exhausted");
    app.only_page_after(SignedDuration::from_mins(20), PRIMARY).await;
    assert_eq!(
        event_kinds(&app, 1).await,
        ["opened", "page", "page", "page", "exhausted", "restarted", "page"]
    );
    assert_eq!(
        escalation_audit(&app).await,
        [(
            "tether".to_owned(),
            "escalation_exhausted".to_owned(),
            "policy_restarted".to_owned()
        )]
    );
}

/// A crisis with nobody to page at all (no policy, no fallback) is marked unreachable and looked at again
/// every 10 minutes: a policy set up meanwhile pages at the next look, and the mark goes.
#[tokio::test]
async fn a_crisis_with_nobody_to_page_pages_a_policy_set_up_afterwards() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    app.create_client(MAYA, "Maya", "en", "America/New_York").await;
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.assert_nothing_else_texted();
    assert_eq!(escalation(&app, 1).await["exhausted_reason"], "unreachable");
    app.fast_forward(SignedDuration::from_mins(25)).await;
    app.assert_nothing_else_texted();
    assert_eq!(
        event_kinds(&app, 1).await,
        ["opened", "nobody_reachable", "nobody_paged"],
        "no noise while nothing changes"
    );
    let board = console_board(&app).await;
    assert!(
        board.contains("Nobody in the escalation policy could be paged."),
        "{board}"
    );
    assert!(board.contains("There is no fallback number to page either"), "{board}");

    let primary = app.create_staff("Primary", PRIMARY).await;
    let policy = json!({"steps": [{"target": {"staff": primary}, "delay_minutes": 15}]});
    assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
    app.only_page_after(SignedDuration::from_mins(5), PRIMARY).await;
    let running = escalation(&app, 1).await;
    assert_eq!(
        (running["status"].as_str(), running["exhausted_reason"].as_str()),
        (Some("open"), None)
    );
    assert_eq!(
        event_kinds(&app, 1).await,
        ["opened", "nobody_reachable", "nobody_paged", "reachable_again", "page"]
    );
    app.texts(PRIMARY, "ACK").await;
    app.expect_text(PRIMARY, "Acknowledged");
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

/// Two fallback numbers, one the provider refuses: the other is paged; the refusal is logged, not retried
/// in a loop, and both are paged again at the usual time.
#[tokio::test]
async fn a_fallback_number_that_cannot_be_reached_does_not_hold_up_the_other() {
    let app = spawn_app_with(&TestBackend::Sqlite, with_fallback("+14155550190, +14155550191")).await;
    for _ in 0..2 {
        app.mock.script_for(
            FALLBACK,
            crate::mock_provider::Scripted::Fail {
                status: 400,
                code: Some(30006),
                retry_after: None,
            },
        );
    }
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(SECOND_FALLBACK, "ACK");
    app.assert_nothing_else_texted();
    let tries = |app: &TestApp| app.mock.requests().iter().filter(|t| t.to == FALLBACK).count();
    assert_eq!(tries(&app), 1);
    app.only_page_after(SignedDuration::from_mins(10), SECOND_FALLBACK)
        .await;
    assert_eq!(tries(&app), 2, "tried again with the other, not in a loop");
    let kinds = event_kinds(&app, 1).await;
    assert_eq!(kinds.iter().filter(|k| *k == "page_failed").count(), 2, "{kinds:?}");
}

/// The fallback numbers are staff rows kept in step with the setting at every start: a number on staff
/// already keeps its name, one taken out of the setting keeps its row but is no longer a fallback.
#[tokio::test]
async fn fallback_numbers_are_staff_kept_in_step_with_the_setting() {
    let app = spawn_app_with(&TestBackend::Sqlite, with_fallback(FALLBACK)).await;
    let pat = app.create_staff("Pat", SECOND_FALLBACK).await;
    let staff: Vec<Value> = app.get("/api/v1/staff").await.json().await.unwrap();
    let fallback: Vec<(&str, &str)> = staff
        .iter()
        .filter(|s| s["fallback"] == true)
        .map(|s| (s["name"].as_str().unwrap(), s["phone"].as_str().unwrap()))
        .collect();
    assert_eq!(fallback, [("Fallback …0190", FALLBACK)]);

    let mut settings = test_settings(&app.database_url, &app.mock.base_url);
    settings.fallback_page_to = parse_fallback_numbers(SECOND_FALLBACK).unwrap();
    let restarted = tether::app::Application::build(&settings, tether::scheduling::Clock::Manual(app.clock.clone()))
        .await
        .unwrap();
    let staff = restarted.store().staff().await.unwrap();
    let marked: Vec<(i64, bool)> = staff.iter().map(|s| (s.id, s.fallback)).collect();
    assert_eq!(marked, [(1, false), (pat, true)], "{staff:?}");
    assert_eq!(staff[1].name, "Pat");
}

#[tokio::test]
async fn healthz_stays_ok_and_gives_the_detail_only_to_a_caller_with_a_token() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let health = |token: Option<&'static str>| {
        let (http, url) = (app.http.clone(), format!("{}/healthz", app.address));
        async move {
            let mut request = http.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(
        health(None).await,
        (200, "ok".to_owned()),
        "no policy never fails the health check"
    );
    assert_eq!(
        health(Some("tether_not_a_token")).await,
        (200, "ok".to_owned()),
        "a wrong token sees no detail"
    );
    let (status, body) = health(Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["paging_ready"], false);
    let statuses: Vec<(&str, &str)> = detail["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("database", "ok"),
            ("escalation_policy", "problem"),
            ("on_call", "problem"),
            ("fallback", "problem")
        ]
    );

    on_call_set_up(&app).await;
    let viewer = app.token("viewer", "board", None);
    let (status, body) = app.call(Some(&viewer), "GET", "/healthz", None).await;
    assert_eq!((status, body["paging_ready"].as_bool()), (200, Some(true)), "{body}");
    let fallback = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "fallback")
        .unwrap()
        .clone();
    assert_eq!(
        fallback["status"], "warning",
        "someone is on call; no fallback is worth knowing, not a problem"
    );
}

fn check_database(app: &TestApp, fallback: &str) -> (bool, String) {
    let output = tether(&[
        "check",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
        "--database",
    ])
    .env("DATABASE_URL", &app.database_url)
    .env("TETHER_FALLBACK_PAGE_TO", fallback)
    .output()
    .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

on_both_backends! {
    /// `tether check --database` fails, naming each problem on its own line, while a crisis would page
    /// nobody, passes once someone is on call, and fails again for a rotation with nobody reachable in the
    /// coming week; plain `tether check` needs no database.
    async fn check_database_names_each_problem_until_a_crisis_would_reach_someone(backend) {
        let app = spawn_app(&backend).await;
        let (ok, out) = check_database(&app, "");
        assert!(!ok, "{out}");
        for line in [
            "escalation_policy: no escalation policy is set",
            "on_call: no rotation member to page: no rotation has members",
            "fallback: no fallback number is reachable: TETHER_FALLBACK_PAGE_TO is not set",
        ] {
            assert!(out.lines().any(|l| l == line), "`{line}` missing from:\n{out}");
        }
        let (ok, out) = check_database(&app, FALLBACK);
        assert!(ok, "a fallback number pages someone: {out}");
        assert!(out.contains("escalation_policy: warning: no escalation policy is set"), "{out}");

        on_call_set_up(&app).await;
        let (ok, out) = check_database(&app, "");
        assert!(ok, "{out}");

        // The primary rotation's only member says STOP: that rotation has nobody all week.
        app.text_in(PRIMARY, "STOP").await;
        let (ok, out) = check_database(&app, FALLBACK);
        assert!(!ok, "{out}");
        let gaps: Vec<&str> = out.lines().filter(|l| l.starts_with("coverage: ")).collect();
        assert_eq!(gaps.len(), 1, "{out}");
        assert!(gaps[0].starts_with("coverage: rotation `primary` has nobody reachable on call from "), "{out}");
        assert!(gaps[0].ends_with("beyond the next 7 days (staff 1 said STOP)"), "{out}");

        let files_only = tether(&["check", "--templates-dir", shipped_templates().to_str().unwrap()])
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .output()
            .unwrap();
        assert!(files_only.status.success(), "{}", String::from_utf8_lossy(&files_only.stderr));
    }
}

/// The service checks (and logs) paging readiness when it starts, then once an hour on the scheduler's clock
/// (a virtual one here: nobody sleeps). Whether a check ran is what `Monitor::check_if_due` answers, so the
/// test needs no log capture (a thread-local subscriber misses lines logged by other threads); that the start
/// is logged is shown on the real binary below.
#[tokio::test]
async fn paging_readiness_is_checked_at_start_and_once_an_hour() {
    use tether::config::FallbackNumbers;
    use tether::escalation::readiness::Monitor;
    use tether::scheduling::Clock;

    let app = spawn_app(&TestBackend::Sqlite).await;
    let monitor = Monitor::new(
        app.store.clone(),
        FallbackNumbers::default(),
        Clock::Manual(app.clock.clone()),
    );
    let first = monitor.check_if_due().await.unwrap().expect("checked at once");
    let problems: Vec<String> = first.problems().map(|c| c.detail.clone()).collect();
    assert!(
        problems.iter().any(|p| p == "no escalation policy is set"),
        "{problems:?}"
    );
    app.clock.advance(SignedDuration::from_mins(59));
    assert!(
        monitor.check_if_due().await.unwrap().is_none(),
        "not again within the hour"
    );
    app.clock.advance(SignedDuration::from_mins(1));
    let again = monitor
        .check_if_due()
        .await
        .unwrap()
        .expect("again an hour after the first");
    assert_eq!(again.problems().count(), first.problems().count());
}

/// `tether serve` itself: a fresh install starts (a missing policy never stops it) and says what is missing.
#[test]
fn serve_starts_on_a_fresh_install_and_says_a_crisis_would_page_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tether(&[
        "serve",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ])
    .env(
        "DATABASE_URL",
        format!("sqlite://{}", dir.path().join("tether.db").display()),
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if found.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !seen.iter().any(|l: &String| l.contains("no escalation policy is set")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running, "serve stopped: {seen:#?}");
    let logged = seen.iter().find(|l| l.contains("no escalation policy is set"));
    assert!(logged.is_some_and(|l| l.contains("ERROR")), "{seen:#?}");
}

#[test]
fn serve_refuses_a_fallback_number_that_is_not_e164_and_names_it() {
    let output = tether(&["serve", "--bind", "127.0.0.1:0"])
        .env("TETHER_FALLBACK_PAGE_TO", "+14155550190, 415-555-0191")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`415-555-0191` must be in E.164 form"), "{stderr}");
}
