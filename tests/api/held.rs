//! What an outside attacker tried and what held, each class kept by a test: forged, spoofed and tampered
//! webhooks, markup in every value a console page shows, path traversal in every named path segment, phone
//! numbers and words in the logs.

use std::collections::BTreeMap;

use base64::Engine;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::console::{cookie_named, sign_in};
use crate::helpers::*;
use crate::mock_provider::{AUTH_TOKEN, MockProvider};
use crate::on_both_backends;

const CLIENT_PHONE: &str = "+14155550142";

/// Every table's row count and every outbox row's delivery state: what a refused request must leave as it was.
async fn footprint(pool: &AnyPool) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    for table in [
        "api_tokens",
        "appointments",
        "audit_log",
        "catalog_versions",
        "clients",
        "console_sessions",
        "enrollments",
        "escalation_events",
        "escalation_policy",
        "escalations",
        "inbound_messages",
        "medications",
        "notices",
        "outbox",
        "overrides",
        "prompts",
        "rotations",
        "signals",
        "staff",
        "tasks",
    ] {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(pool)
            .await
            .unwrap();
        seen.insert(table.to_owned(), count.to_string());
    }
    let outbox: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, provider_status FROM outbox ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (id, status, provider_status) in outbox {
        seen.insert(format!("outbox {id}"), format!("{status} {provider_status:?}"));
    }
    seen
}

/// One forged, spoofed or tampered provider callback.
struct Forgery {
    name: &'static str,
    /// Path and query the request is posted to on the real server.
    path: String,
    params: Vec<(String, String)>,
    /// The `X-Twilio-Signature` value, or no header at all.
    signature: Option<String>,
}

fn sign(url: &str, params: &[(String, String)]) -> String {
    tether::provider::signature::compute(AUTH_TOKEN, url, params)
}

/// The ways an attacker who can reach the webhook but lacks the auth token might get a request through.
fn forgeries(path: &str, params: &[(String, String)]) -> Vec<Forgery> {
    let url = format!("{PUBLIC_URL}{path}");
    let good = sign(&url, params);
    let with = |name: &'static str, params: Vec<(String, String)>, signature: Option<String>| Forgery {
        name,
        path: path.to_owned(),
        params,
        signature,
    };
    let mut added = params.to_vec();
    added.push(("Body".to_owned(), "an extra body".to_owned()));
    let removed = params[1..].to_vec();
    let mut changed = params.to_vec();
    let last = changed.len() - 1;
    changed[last].1.push('9');
    let mut other_body = params.to_vec();
    for (name, value) in &mut other_body {
        if name == "Body" || name == "MessageStatus" {
            *value = "tampered".to_owned();
        }
    }
    let other_params = vec![("MessageSid".to_owned(), "SMforged".to_owned())];
    let signed_elsewhere = |other_url: String| Forgery {
        name: "signed for another URL",
        path: path.to_owned(),
        params: params.to_vec(),
        signature: Some(sign(&other_url, params)),
    };
    let (scheme_less, tail) = url.split_once("://").unwrap();
    let host_end = tail.find('/').unwrap();
    let (host, rest) = tail.split_at(host_end);
    let separator = if rest.contains('?') { '&' } else { '?' };
    vec![
        with("no signature header", params.to_vec(), None),
        with("empty signature", params.to_vec(), Some(String::new())),
        with(
            "signed with another key",
            params.to_vec(),
            Some(tether::provider::signature::compute("not-the-auth-token", &url, params)),
        ),
        with(
            "signature of other parameters",
            params.to_vec(),
            Some(sign(&url, &other_params)),
        ),
        with("parameter added after signing", added, Some(good.clone())),
        with("parameter removed after signing", removed, Some(good.clone())),
        with("parameter changed after signing", changed, Some(good.clone())),
        with("replay with a changed body", other_body, Some(good.clone())),
        signed_elsewhere(format!("{scheme_less}://evil.example{rest}")),
        signed_elsewhere(format!("http://{host}{rest}")),
        signed_elsewhere(format!("{scheme_less}://{host}:8443{rest}")),
        signed_elsewhere(format!(
            "{scheme_less}://{host}/webhooks/other{}",
            &rest[rest.find('?').unwrap_or(rest.len())..]
        )),
        signed_elsewhere(format!("{url}{separator}extra=1")),
        Forgery {
            name: "valid signature posted with an added query",
            path: format!("{path}{separator}extra=1"),
            params: params.to_vec(),
            signature: Some(good.clone()),
        },
        with("signature in upper case", params.to_vec(), Some(good.to_uppercase())),
        with("signature in lower case", params.to_vec(), Some(good.to_lowercase())),
        with("base64 garbage", params.to_vec(), Some("!!!not*base64***".to_owned())),
        with(
            "valid base64 of the wrong length",
            params.to_vec(),
            Some(base64::engine::general_purpose::STANDARD.encode([7u8; 32])),
        ),
        with("huge signature header", params.to_vec(), Some("A".repeat(7 * 1024))),
    ]
}

async fn post_forgery(app: &TestApp, forgery: &Forgery) -> u16 {
    let mut request = app
        .http
        .post(format!("{}{}", app.address, forgery.path))
        .form(&forgery.params);
    if let Some(signature) = &forgery.signature {
        request = request.header("X-Twilio-Signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

on_both_backends! {
    /// Nineteen forged, spoofed and tampered requests against each webhook: every one 403 and not a row
    /// written or moved; the same requests correctly signed go through, so the refusals are the signature's.
    async fn forged_spoofed_and_tampered_webhooks_are_refused_and_write_nothing(backend) {
        let app = spawn_app(&backend).await;
        let client = app.create_client(CLIENT_PHONE, "Jordan", "en", "America/New_York").await;
        app.enroll(client, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        app.run_until("2026-03-08T23:00:00Z".parse().unwrap()).await;
        let sent = app.mock.accepted();
        assert!(!sent.is_empty(), "a text went out to call back about");
        let callback = sent[0].status_callback.clone().unwrap();
        let status_path = callback[callback.find("/webhooks/").unwrap()..].to_owned();
        let status_params: Vec<(String, String)> = [
            ("MessageSid", sent[0].sid.clone().unwrap()),
            ("MessageStatus", "undelivered".to_owned()),
            ("ErrorCode", "21610".to_owned()),
            ("AccountSid", crate::mock_provider::ACCOUNT_SID.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let inbound_params = inbound_params(CLIENT_PHONE, "I want to die, STOP", "SM00000000000000000000000000forged");

        let pool = app.database_pool().await;
        let before = footprint(&pool).await;
        let mut tried = 0;
        for (path, params) in [("/webhooks/twilio/sms", &inbound_params), (status_path.as_str(), &status_params)] {
            let cases = forgeries(path, params);
            assert_eq!(cases.len(), 19);
            for forgery in &cases {
                assert_eq!(post_forgery(&app, forgery).await, 403, "{path}: {}", forgery.name);
                tried += 1;
            }
        }
        assert_eq!(tried, 38);
        app.scheduler.tick().await.unwrap();
        assert_eq!(footprint(&pool).await, before, "a refused webhook wrote nothing");
        assert_eq!(app.mock.accepted().len(), sent.len(), "and sent nothing");

        // The same requests signed as the provider signs them are taken, so the 403s above were the signature's.
        for (path, params) in [("/webhooks/twilio/sms", &inbound_params), (status_path.as_str(), &status_params)] {
            let genuine = Forgery {
                name: "genuine",
                path: path.to_owned(),
                params: params.clone(),
                signature: Some(sign(&format!("{PUBLIC_URL}{path}"), params)),
            };
            assert_eq!(post_forgery(&app, &genuine).await, 200, "{path}");
        }
        assert_ne!(footprint(&pool).await, before);
    }
}

/// Markup an attacker would plant in any value a page shows: a script, an attribute break-out with an
/// event handler, and a `javascript:` URL.
const MARKUP: &str = r#"<script>alert(1)</script>"><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>"#;

/// Markup short enough for a name: a script, and an attribute break-out with an event handler.
const SCRIPT: &str = "<script>alert(1)</script>";
const BREAK_OUT: &str = "\"><img src=x onerror=alert(1)>";

/// Whether `page` carries any of [`MARKUP`]'s pieces as live markup rather than escaped text.
fn live_markup(page: &str) -> Option<&'static str> {
    [
        "<script>alert",
        "<img src=x",
        "\"><img",
        "onerror=alert(1)>",
        "href=\"javascript:",
        "<a href=\"javascript",
    ]
    .into_iter()
    .find(|piece| page.contains(piece))
}

/// A console session cookie for `token`.
async fn console_cookie(app: &TestApp, token: &str) -> String {
    let http = crate::console::no_redirects();
    let signed_in = sign_in(&app.address, &http, token).await;
    assert_eq!(signed_in.status(), 303);
    let session = cookie_named(&signed_in, "tether_session").unwrap();
    session.split(';').next().unwrap().to_owned()
}

on_both_backends! {
    /// The markup planted in a client's name and consent source, a staff member's and a rotation's name, a
    /// template's body, an escalation note and a client's text comes back escaped on every console page that
    /// shows it, and never as markup on any of the eight pages that show stored values.
    async fn markup_in_every_shown_value_is_escaped_on_every_console_page(backend) {
        let app = spawn_app(&backend).await;
        let created = app
            .post(
                "/api/v1/clients",
                json!({
                    "phone": CLIENT_PHONE, "first_name": BREAK_OUT, "language": "en", "timezone": "America/New_York",
                    "consented_at": "2026-03-06T18:00:00Z", "consent_source": MARKUP,
                }),
            )
            .await;
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
        let client = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        app.enroll(client, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        let staff = app.create_staff(SCRIPT, "+14155550171").await;
        let rotation = app
            .post(
                "/api/v1/rotations",
                json!({"name": MARKUP, "timezone": "America/New_York", "shift_hours": 24, "handoff_time": "08:00",
                       "start_date": "2026-03-01", "members": [staff]}),
            )
            .await;
        assert_eq!(rotation.status(), 201, "{}", rotation.text().await.unwrap());
        let policy = json!({"steps": [{"target": {"rotation": 1}, "delay_minutes": 10}], "repeat": 0});
        assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
        let template = app
            .put("/api/v1/templates/en/caring/first", json!({"body": format!("Hi {{{{ first_name }}}} {MARKUP}")}))
            .await;
        assert_eq!(template.status(), 200, "{}", template.text().await.unwrap());
        assert_eq!(app.text_in(CLIENT_PHONE, &format!("I want to die {MARKUP}")).await, 200);
        app.scheduler.tick().await.unwrap();
        let escalations: Value = app.get("/api/v1/escalations").await.json().await.unwrap();
        let escalation = escalations.as_array().map_or(&escalations["escalations"][0], |list| &list[0])["id"]
            .as_i64()
            .unwrap();
        let note = app
            .post(&format!("/api/v1/escalations/{escalation}/notes"), json!({ "text": MARKUP }))
            .await;
        assert_eq!(note.status(), 201, "{}", note.text().await.unwrap());

        let cookie = console_cookie(&app, ADMIN_TOKEN).await;
        let pages = [
            "/console/clients".to_owned(),
            format!("/console/clients/{client}"),
            "/console/schedules".to_owned(),
            "/console/schedules/caring_contacts".to_owned(),
            "/console/templates".to_owned(),
            "/console/escalations".to_owned(),
            "/console/on-call".to_owned(),
            "/console/dashboard".to_owned(),
        ];
        let mut showing = Vec::new();
        for path in &pages {
            let response = app
                .http
                .get(format!("{}{path}", app.address))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let page = response.text().await.unwrap();
            assert_eq!(live_markup(&page), None, "{path} shows planted markup live");
            if ["&lt;script&gt;alert(1)", "&lt;img src=x"].iter().any(|escaped| page.contains(escaped)) {
                showing.push(path.as_str());
            }
        }
        let client_page = format!("/console/clients/{client}");
        assert_eq!(
            showing,
            ["/console/clients", client_page.as_str(), "/console/templates", "/console/escalations", "/console/on-call"],
            "the planted values are on the pages that show them, escaped"
        );
    }
}

/// Sends `method path` exactly as written (an HTTP client would resolve `..` and `%2e%2e` before sending),
/// answering the status and the whole response text.
async fn raw_request(app: &TestApp, method: &str, path: &str, cookie: &str, body: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = body.unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nCookie: {cookie}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, answer)
}

on_both_backends! {
    /// `../`, `%2e%2e%2f`, `..%2f`, absolute paths and NUL bytes in every named path segment (console assets,
    /// schedule and template names in the API and the console) read nothing outside the catalog and write
    /// nothing but the audit entry of the attempt: each is a 4xx, in the JSON error shape where the API
    /// answers with a body.
    async fn path_traversal_in_named_segments_reads_and_writes_nothing(backend) {
        let app = spawn_app(&backend).await;
        let cookie = console_cookie(&app, ADMIN_TOKEN).await;
        let pool = app.database_pool().await;
        let before = footprint(&pool).await;
        let escapes = [
            "../../../../etc/passwd",
            "..%2f..%2f..%2f..%2fetc%2fpasswd",
            "%2e%2e%2f%2e%2e%2f%2e%2e%2fCargo.toml",
            "%2e%2e/%2e%2e/program",
            "..%5c..%5cCargo.toml",
            "%2fetc%2fpasswd",
            "/etc/passwd",
            "first%00.txt",
            "..%00",
            "%252e%252e%252fprogram",
        ];
        let mut tried = 0;
        for escape in escapes {
            let targets = [
                ("GET", format!("/console/assets/{escape}"), None),
                ("GET", format!("/console/schedules/{escape}"), None),
                ("GET", format!("/api/v1/schedules/{escape}"), None),
                ("PUT", format!("/api/v1/schedules/{escape}"), Some(r#"{"steps": []}"#)),
                ("GET", format!("/api/v1/templates/en/caring/{escape}"), None),
                ("GET", format!("/api/v1/templates/{escape}/caring/first"), None),
                ("PUT", format!("/api/v1/templates/en/{escape}/first"), Some(r#"{"body": "Hi {{ first_name }}"}"#)),
                ("PUT", format!("/api/v1/templates/en/caring/{escape}"), Some(r#"{"body": "Hi {{ first_name }}"}"#)),
            ];
            for (method, path, body) in targets {
                let (status, answer) = raw_request(&app, method, &path, &cookie, body).await;
                assert!((400..500).contains(&status), "{method} {path}: {answer}");
                for secret in ["root:", "[package]", "program_name", "TETHER_"] {
                    assert!(!answer.contains(secret), "{method} {path} read outside: {answer}");
                }
                let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body).trim();
                if path.starts_with("/api/") && !body.is_empty() {
                    let error: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{method} {path}: {answer}"));
                    assert!(error["error"]["message"].is_string(), "{method} {path}: {answer}");
                }
                tried += 1;
            }
        }
        assert_eq!(tried, 80);
        // The audit log records each refused write attempt, as it should; nothing else moves.
        let without_audit = |mut seen: BTreeMap<String, String>| {
            seen.remove("audit_log");
            seen
        };
        assert_eq!(
            without_audit(footprint(&pool).await),
            without_audit(before),
            "no catalog version or other row was written"
        );
    }
}

/// Every phone number in the log test shares these digits, so any number logged in any form is found.
const LOGGED_DIGITS: &str = "415555";

on_both_backends! {
    /// The real binary at its default log level (INFO), through enrolment, a crisis text that pages on-call
    /// staff, a relay from staff and a STOP: every request has its line (route template, status, id), and
    /// no phone number and no message's words reach the log.
    async fn the_log_at_info_carries_no_phone_number_and_no_words(backend) {
        let mock = MockProvider::start().await.unwrap();
        let database = TestDatabase::create(&backend).await;
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join("tether.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("http://127.0.0.1:{port}");
        let mut service = Running(tether(&["serve"])
            .env("DATABASE_URL", &database.url)
            .env("TETHER_BIND", format!("127.0.0.1:{port}"))
            .env("TETHER_PUBLIC_URL", PUBLIC_URL)
            .env("TETHER_TEMPLATES_DIR", shipped_templates())
            .env("TETHER_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("TWILIO_ACCOUNT_SID", crate::mock_provider::ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .env("TWILIO_FROM", crate::mock_provider::FROM)
            .env("TWILIO_API_BASE", &mock.base_url)
            .env("TETHER_SEND_RATE_PER_SECOND", "0")
            .env_remove("RUST_LOG")
            .stdout(std::fs::File::create(&log_path).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log_path).unwrap())
            .spawn()
            .unwrap());
        let http = reqwest::Client::new();
        let mut up = false;
        for _ in 0..200 {
            if http.get(format!("{address}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "the service answered /healthz");
        let call = |path: &str, body: Value| {
            http.post(format!("{address}{path}")).bearer_auth(ADMIN_TOKEN).json(&body).send()
        };
        let staff_phone = "+14155550161";
        let created = call("/api/v1/staff", json!({"name": "Primary", "phone": staff_phone})).await.unwrap();
        assert_eq!(created.status(), 201);
        let rotation = call(
            "/api/v1/rotations",
            json!({"name": "primary", "timezone": "America/New_York", "shift_hours": 24, "handoff_time": "08:00",
                   "start_date": "2026-01-01", "members": [1]}),
        )
        .await
        .unwrap();
        assert_eq!(rotation.status(), 201);
        let policy = http
            .put(format!("{address}/api/v1/escalation-policy"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"steps": [{"target": {"rotation": 1}, "delay_minutes": 10}], "repeat": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(policy.status(), 200);
        let consented_at = jiff::Timestamp::now().to_string();
        let created = call(
            "/api/v1/clients",
            json!({"phone": CLIENT_PHONE, "first_name": "Jordan", "language": "en", "timezone": "America/New_York",
                   "consented_at": consented_at, "consent_source": "discharge form v2"}),
        )
        .await
        .unwrap();
        assert_eq!(created.status(), 201);
        let client = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let enrolled = call(
            &format!("/api/v1/clients/{client}/enrollments"),
            json!({"schedule": "caring_contacts", "discharged_at": consented_at}),
        )
        .await
        .unwrap();
        assert_eq!(enrolled.status(), 201);

        let crisis = "I want to die tonight, the pills are on the table";
        assert_eq!(mock.send_inbound(&address, PUBLIC_URL, CLIENT_PHONE, crisis).await.unwrap(), 200);
        let paged = mock.wait_for_accepted(2, std::time::Duration::from_secs(30)).await;
        assert!(paged.is_some_and(|texts| texts.iter().any(|t| t.to == staff_phone)), "staff were paged");
        let relay = format!("R {client} Sitting with you on the phone in five minutes");
        assert_eq!(mock.send_inbound(&address, PUBLIC_URL, staff_phone, &relay).await.unwrap(), 200);
        assert_eq!(mock.send_inbound(&address, PUBLIC_URL, CLIENT_PHONE, "STOP").await.unwrap(), 200);
        let relayed = mock.wait_for_accepted(4, std::time::Duration::from_secs(30)).await;
        assert!(relayed.is_some(), "the relay and the opt-out answer went out: {:?}", mock.accepted());
        service.kill();

        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(log.lines().count() >= 3, "the service logged at info: {log}");
        // One line per request, by route template (the client's id is not in it), with status and id.
        let answered = |route: &str| {
            log.lines().any(|line| {
                line.contains("answered") && line.contains(route) && line.contains("status=") && line.contains("request_id=")
            })
        };
        assert!(answered("/webhooks/twilio/sms"), "a line for each webhook: {log}");
        assert!(answered("/api/v1/clients/{id}/enrollments"), "a line naming the route, not the client: {log}");
        assert!(!log.contains(&format!("/api/v1/clients/{client}/enrollments")), "{log}");
        for line in log.lines() {
            assert!(!line.contains(LOGGED_DIGITS), "a phone number in the log: {line}");
            for words in ["want to die", "pills", "Sitting with you", "Jordan"] {
                assert!(!line.contains(words), "a message's words in the log: {line}");
            }
        }
    }
}

/// A provider that takes every request and answers with a body that is not the JSON it promised.
async fn garbling_provider(status: u16, body: &'static str) -> String {
    let answer = move || async move {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
    };
    let router = axum::Router::new().fallback(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

on_both_backends! {
    /// A provider answering malformed JSON never fails a dispatcher pass nor takes the service down. As an
    /// error (5xx, 429) the text waits for another attempt; as an acceptance (201) the provider may have taken
    /// it, so it is recorded as failed rather than sent a second time.
    async fn malformed_json_from_the_provider_loses_no_text(backend) {
        for (status, body, outcome) in [
            (201, r#"{"sid": "SM12"#, "failed"),
            (500, "<html>Bad gateway</html>", "pending"),
            (429, "", "pending"),
        ] {
            let base = garbling_provider(status, body).await;
            let app = spawn_app_with(&backend, |settings| settings.twilio.api_base = base.clone()).await;
            let now = app.clock.now();
            let text = due_text("garbled:1".to_owned(), CLIENT_PHONE.to_owned(), now);
            app.store.enqueue_many(&[text], now).await.unwrap();
            app.scheduler.tick().await.unwrap();
            let pool = app.database_pool().await;
            let text: (String, i64, Option<String>) =
                sqlx::query_as("SELECT status, attempts, provider_sid FROM outbox").fetch_one(&pool).await.unwrap();
            assert_eq!(text, (outcome.to_owned(), 1, None), "provider answered {status} {body}");
            assert_eq!(app.get("/healthz").await.status(), 200);
        }
    }
}
