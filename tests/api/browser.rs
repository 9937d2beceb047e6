//! The console in real headless Chromium, driven over WebDriver (chromedriver) from the test suite: sign
//! in, edit a schedule step and watch the preview move, acknowledge an escalation. Each page is saved as a
//! screenshot under `target/console-screenshots/` for a reviewer to look at.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::inbound::{MAYA, on_call_set_up};

/// The W3C WebDriver key under which an element reference comes back.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session on it; both end when this is dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Browser {
    /// `None` (with a note) when chromedriver is missing outside CI; in CI a missing browser fails the test.
    async fn start() -> Option<Self> {
        let chromedriver = std::env::var("TETHER_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("TETHER_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = match Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("chromedriver is required in CI ({chromedriver}: {err}); .ci/run installs it")
            }
            Err(err) => {
                eprintln!(
                    "skipping browser test: cannot run {chromedriver} ({err}); apt-get install chromium chromium-driver"
                );
                return None;
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000"],
            },
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Some(Self {
            driver,
            base,
            session,
            http,
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if answer["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn url(&self) -> String {
        let url = self.command(reqwest::Method::GET, "/url", None).await;
        url.as_str().unwrap_or_else(|| panic!("no url: {url}")).to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The visible text of the first element matching `css`, or "" when there is none yet.
    async fn text(&self, css: &str) -> String {
        let script = "const el = document.querySelector(arguments[0]); return el ? el.innerText : '';";
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [css] })),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Polls until `css`'s text contains `wanted`; the preview and redirects take a moment.
    async fn wait_for_text(&self, css: &str, wanted: &str) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            seen = self.text(css).await;
            if seen.contains(wanted) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` never showed `{wanted}`; last: `{seen}`");
    }

    /// Saves the page as `target/console-screenshots/NAME.png` and prints where.
    async fn screenshot(&self, name: &str) {
        let encoded = self.command(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sign in with a token, edit the day-3 step and see the preview follow before saving, save it, and
/// acknowledge Maya's escalation from the board; a screenshot of every page on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_edits_a_schedule_and_acknowledges_an_escalation() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    assert_eq!(app.text_in(MAYA, "i cant do this anymore. i want to die").await, 200);
    app.scheduler.tick().await.unwrap();
    let Some(browser) = Browser::start().await else {
        return;
    };
    let token = app.token("admin", "casey-admin", None);

    // A wrong token is refused on the page, then the right one gets in.
    browser.goto(&format!("{}/console/clients", app.address)).await;
    assert!(
        browser.url().await.ends_with("/console/sign-in"),
        "signed-out visitors are sent to sign in"
    );
    browser.type_into("#token", "tether_wrong").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("#sign-in-error", "not valid").await;
    browser.screenshot("01-sign-in-refused").await;
    browser.type_into("#token", &token).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("h1", "Clients").await;
    assert!(browser.text("main").await.contains("Maya"));
    browser.screenshot("02-clients").await;
    browser.click("table a").await;
    browser.wait_for_text(".thread", "i want to die").await;
    browser.screenshot("03-client-thread").await;

    // The schedule editor: day 3 falls on Monday 03-09 for a Friday 15:00 discharge; moved to day 4, the
    // preview shows Tuesday 03-10 before anything is saved.
    browser
        .goto(&format!("{}/console/schedules/caring_contacts", app.address))
        .await;
    browser
        .wait_for_text("[data-step=day_3] .send-at", "2026-03-09T15:00")
        .await;
    browser.type_into("#day-1", "4").await;
    browser
        .wait_for_text("[data-step=day_3] .send-at", "2026-03-10T15:00")
        .await;
    let saved: Value = app.get("/api/v1/schedules/caring_contacts").await.json().await.unwrap();
    assert_eq!(saved["steps"][1]["day"], 3, "a preview saves nothing");
    browser.screenshot("04-schedule-preview").await;
    browser.click("#save-schedule").await;
    browser.wait_for_text("#editor-status", "Saved version 2").await;
    let saved: Value = app.get("/api/v1/schedules/caring_contacts").await.json().await.unwrap();
    assert_eq!(
        (saved["version"].as_i64(), saved["steps"][1]["day"].as_i64()),
        (Some(2), Some(4))
    );
    // An invalid edit is refused with the field marked.
    browser.type_into("#day-2", "2").await;
    browser.click("#save-schedule").await;
    browser.wait_for_text("#editor-status", "steps[2].day").await;
    browser.screenshot("05-schedule-invalid").await;

    // The escalation board: acknowledge Maya's open escalation.
    browser.goto(&format!("{}/console/escalations", app.address)).await;
    browser.wait_for_text("main", "open").await;
    browser.screenshot("06-escalations-open").await;
    browser.click(".escalation form[action$='/acknowledge'] button").await;
    browser.wait_for_text(".escalation .status", "acknowledged").await;
    browser.screenshot("07-escalations-acknowledged").await;
    let escalations: Value = app.get("/api/v1/escalations").await.json().await.unwrap();
    assert_eq!(escalations[0]["status"], "acknowledged");
    assert_eq!(
        escalations[0]["acknowledged_by"], 1,
        "the person last paged is offered first"
    );

    for (name, path) in [
        ("08-templates", "templates"),
        ("09-on-call", "on-call"),
        ("10-engagement", "dashboard"),
        ("11-schedules", "schedules"),
    ] {
        browser.goto(&format!("{}/console/{path}", app.address)).await;
        browser.wait_for_text("h1", "").await;
        assert!(!browser.text("main").await.is_empty());
        browser.screenshot(name).await;
    }

    // On a phone-sized screen the same pages still read top to bottom.
    browser
        .command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": 390, "height": 844 })),
        )
        .await;
    for (name, path) in [
        ("12-phone-clients", "clients/1"),
        ("13-phone-escalations", "escalations"),
    ] {
        browser.goto(&format!("{}/console/{path}", app.address)).await;
        browser.wait_for_text("h1", "").await;
        let overflow = "return document.documentElement.scrollWidth <= window.innerWidth + 1;";
        let fits = browser
            .command(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({ "script": overflow, "args": [] })),
            )
            .await;
        assert_eq!(fits, json!(true), "{path} scrolls sideways on a phone");
        browser.screenshot(name).await;
    }

    // What the browser did is in the audit log under the token's name.
    let audit: Value = app.get("/api/v1/audit?limit=1000").await.json().await.unwrap();
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "casey-admin")
        .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    for wanted in [
        "POST /console/sign-in ok",
        "GET /console/clients/{id} ok",
        "POST /console/schedules/{name} ok",
        "POST /console/escalations/{id}/acknowledge ok",
    ] {
        assert!(actions.iter().any(|a| a == wanted), "{wanted} missing from {actions:?}");
    }
    assert!(
        !actions.iter().any(|a| a.contains("/preview")),
        "previews change nothing and are not audited"
    );
}

/// A fresh install: once signed in, every page carries a red banner naming why a crisis text would page
/// nobody; it goes as soon as a policy pages a rotation with someone on call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_a_red_banner_while_a_crisis_would_page_nobody() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let token = app.token("admin", "casey-admin", None);
    browser.goto(&format!("{}/console/sign-in", app.address)).await;
    assert_eq!(
        browser.text("#paging-banner").await,
        "",
        "nothing is shown before sign-in"
    );
    browser.type_into("#token", &token).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("h1", "Clients").await;
    let banner = browser
        .wait_for_text("#paging-banner", "no escalation policy is set")
        .await;
    assert!(banner.contains("TETHER_FALLBACK_PAGE_TO is not set"), "{banner}");
    let colour = browser
        .command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "return getComputedStyle(document.querySelector('#paging-banner')).backgroundColor;",
                "args": [],
            })),
        )
        .await;
    assert_eq!(colour, json!("rgb(163, 38, 29)"), "the banner is red");
    browser.screenshot("14-paging-banner").await;
    for path in ["escalations", "on-call", "dashboard"] {
        browser.goto(&format!("{}/console/{path}", app.address)).await;
        browser
            .wait_for_text("#paging-banner", "no escalation policy is set")
            .await;
    }

    let pat = app.create_staff("Pat", "+14155550181").await;
    let rotation = json!({"name": "peers", "timezone": "America/New_York", "shift_hours": 24,
                          "handoff_time": "08:00", "start_date": "2026-03-01", "members": [pat]});
    assert_eq!(app.post("/api/v1/rotations", rotation).await.status(), 201);
    let policy = json!({"steps": [{"target": {"rotation": 1}, "delay_minutes": 10}]});
    assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
    browser.goto(&format!("{}/console/clients", app.address)).await;
    browser.wait_for_text("h1", "Clients").await;
    assert_eq!(browser.text("#paging-banner").await, "", "the banner is gone");
    browser.screenshot("15-paging-ready").await;
}
