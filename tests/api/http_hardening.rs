//! Issue 16's HTTP hardening: security headers, cookie flags and the sign-in limit's address, errors in the
//! documented shape, typed conflicts, sessions tied to their token, and connection limits.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::console::{cookie_named, no_redirects};
use crate::helpers::*;
use crate::on_both_backends;

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{what}: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(headers["cache-control"], "no-store", "{what}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let client_id = app
        .create_client("+14155550142", "Jordan", "en", "America/New_York")
        .await;
    let http = no_redirects();
    let page = |path: &str| http.get(format!("{}{path}", app.address)).send();
    let responses = [
        (
            "API answer with PHI",
            app.get(&format!("/api/v1/clients/{client_id}")).await,
        ),
        ("API error", app.get("/api/v1/clients/999999").await),
        ("no token", page("/api/v1/clients").await.unwrap()),
        ("sign-in page", page("/console/sign-in").await.unwrap()),
        ("redirect", page("/console/clients").await.unwrap()),
        ("script", page("/console/assets/console.js").await.unwrap()),
        ("health", page("/healthz").await.unwrap()),
        ("unknown route", page("/nowhere").await.unwrap()),
        (
            "webhook",
            app.mock
                .send_inbound_with_sid(
                    &app.address,
                    PUBLIC_URL,
                    "+14155550142",
                    "hello",
                    "SM00000000000000000000000000000001",
                )
                .await
                .unwrap(),
        ),
    ];
    for (what, response) in &responses {
        assert_security_headers(response, what);
    }
    let body = responses[0].1.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(body.starts_with("application/json"));
}

/// Every answer names its request in `X-Request-Id`, and every API error body carries the same id, so a
/// caller reporting an error points at its log line: a handler's 404 and 422, axum's own 404 and 405, a 401.
#[tokio::test]
async fn api_errors_carry_the_request_id_of_their_log_line() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", app.address);
    let responses = [
        (
            "a client that does not exist",
            app.get("/api/v1/clients/999999").await,
            "not_found",
        ),
        (
            "a bad body",
            app.post("/api/v1/clients", json!({"phone": "555", "first_name": "Jo"}))
                .await,
            "invalid",
        ),
        ("an unknown route", app.get("/api/v1/nowhere").await, "not_found"),
        (
            "a wrong method",
            app.put("/api/v1/audit", json!({})).await,
            "method_not_allowed",
        ),
        (
            "no token",
            http.get(url("/api/v1/clients")).send().await.unwrap(),
            "unauthorized",
        ),
    ];
    let mut ids = Vec::new();
    for (what, response, code) in responses {
        let header = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert_eq!(body["error"]["request_id"], header.as_str(), "{what}: {body}");
        ids.push(header);
    }
    let healthy = http.get(url("/healthz")).send().await.unwrap();
    ids.push(healthy.headers()["x-request-id"].to_str().unwrap().to_owned());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each request its own id: {ids:?}");
}

#[tokio::test]
async fn the_console_pages_need_no_inline_script_or_style() {
    // The CSP forbids inline handlers and style attributes; the pages must not rely on them.
    for (name, source) in [
        ("layout", include_str!("../../assets/console/layout.html")),
        ("sandbox", include_str!("../../assets/console/sandbox.html")),
        ("schedule", include_str!("../../assets/console/schedule.html")),
        ("sign_in", include_str!("../../assets/console/sign_in.html")),
        ("client", include_str!("../../assets/console/client.html")),
        ("clients", include_str!("../../assets/console/clients.html")),
        ("escalations", include_str!("../../assets/console/escalations.html")),
        ("templates", include_str!("../../assets/console/templates.html")),
        ("dashboard", include_str!("../../assets/console/dashboard.html")),
        ("on_call", include_str!("../../assets/console/on_call.html")),
        ("error", include_str!("../../assets/console/error.html")),
    ] {
        let lower = source.to_lowercase();
        for forbidden in [
            " onsubmit=",
            " onclick=",
            " onload=",
            " onchange=",
            " style=",
            "<style",
            "javascript:",
        ] {
            assert!(!lower.contains(forbidden), "{name} has {forbidden}");
        }
        for script in lower.split("<script").skip(1) {
            assert!(script.trim_start().starts_with("src="), "{name} has an inline script");
        }
    }
}

#[tokio::test]
async fn the_cookie_is_secure_only_when_the_public_url_is_https() {
    let app = spawn_app_with(&TestBackend::Sqlite, |settings| {
        settings.public_url = Some("http://tether.internal".into());
    })
    .await;
    let response = no_redirects()
        .get(format!("{}/console/sign-in", app.address))
        .header("host", "tether.example.org")
        .send()
        .await
        .unwrap();
    let flags = cookie_named(&response, "tether_sign_in").unwrap();
    assert!(!flags.contains("Secure"), "{flags}");
}

/// Five sign-in attempts from one address (as the request says it) with a wrong token.
async fn wrong_sign_ins(app: &TestApp, fly_client_ip: &str, attempts: usize) -> Vec<u16> {
    let http = no_redirects();
    let mut statuses = Vec::new();
    for _ in 0..attempts {
        let form = http
            .get(format!("{}/console/sign-in", app.address))
            .send()
            .await
            .unwrap();
        let cookie = cookie_named(&form, "tether_sign_in").unwrap().to_owned();
        let cookie_value = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
        let page = form.text().await.unwrap();
        let csrf = crate::console::page_csrf(&page, "name=\"csrf\" value=\"");
        let response = http
            .post(format!("{}/console/sign-in", app.address))
            .header(COOKIE, format!("tether_sign_in={cookie_value}"))
            .header("fly-client-ip", fly_client_ip)
            .form(&[("csrf", csrf.as_str()), ("token", "wrong-token")])
            .send()
            .await
            .unwrap();
        assert!(response.headers().get_all(SET_COOKIE).iter().count() <= 1);
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_sign_in_limit_is_per_client_address() {
    let app = spawn_app_with(&TestBackend::Sqlite, |settings| {
        settings.http.trusted_proxy = tether::config::TrustedProxy::Fly;
    })
    .await;
    let first = wrong_sign_ins(&app, "203.0.113.7", 6).await;
    assert_eq!(first, [401, 401, 401, 401, 401, 429]);
    // Everyone behind the proxy shares the TCP peer; another client is not locked out by the first.
    assert_eq!(wrong_sign_ins(&app, "198.51.100.20", 1).await, [401]);
}

#[tokio::test]
async fn without_a_trusted_proxy_the_proxy_header_is_ignored() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    // A caller writing a new address on each try gains nothing: the limit stays on the TCP peer.
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        statuses.extend(wrong_sign_ins(&app, &format!("203.0.113.{attempt}"), 1).await);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

/// Asserts a 4xx in the documented shape naming `field`, and answers the message.
fn assert_refused(status: u16, body: &Value, expected: (u16, &str), what: &str) -> String {
    assert_eq!(status, expected.0, "{what}: {body}");
    assert_eq!(body["error"]["field"].as_str(), Some(expected.1), "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(!message.is_empty(), "{what}: {body}");
    message
}

on_both_backends! {
    /// Unparseable ids and queries, a look-alike JSON type and values outside the sane ranges are refused
    /// in the documented shape, naming the field, and write nothing.
    async fn bad_input_is_refused_in_the_documented_shape(backend) {
        let app = spawn_app(&backend).await;
        let client = app.create_client("+14155550142", "Jordan", "en", "America/New_York").await;
        let token = Some(ADMIN_TOKEN);

        let (status, body) = app.call(token, "GET", "/api/v1/clients/abc", None).await;
        let message = assert_refused(status, &body, (422, "id"), "path id");
        assert!(message.contains("abc"), "{message}");
        let (status, body) = app.call(token, "GET", "/api/v1/audit?limit=lots", None).await;
        assert_refused(status, &body, (422, "limit"), "query");
        let (status, body) = app.call(token, "GET", "/api/v1/rotations/1/on-call?at=1&x=2", None).await;
        assert!((400..500).contains(&status) && body["error"]["code"].is_string(), "{status} {body}");

        let look_alike = app
            .http
            .post(format!("{}/api/v1/clients", app.address))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/jsonfoo")
            .body(r#"{"phone":"+14155550143"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(look_alike.status(), 415);
        let charset = app
            .http
            .get(format!("{}/api/v1/clients/{client}", app.address))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "Application/JSON; charset=utf-8")
            .send()
            .await
            .unwrap();
        assert_eq!(charset.status(), 200);

        let (status, body) = app.call(token, "GET", "/api/v1/nowhere", None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
        let (status, body) = app.call(token, "DELETE", "/api/v1/clients", None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
        // The service answers 413 as soon as the declared length is too long and closes the connection
        // without reading the rest, so a client still writing the body may see the close before the answer.
        // Each try is on a fresh connection; one must read the documented refusal.
        let huge = json!({ "phone": "x".repeat(70_000) });
        let mut refused = None;
        for _ in 0..5 {
            let sent = reqwest::Client::new()
                .post(format!("{}/api/v1/clients", app.address))
                .bearer_auth(ADMIN_TOKEN)
                .json(&huge)
                .send()
                .await;
            if let Ok(response) = sent {
                let status = response.status().as_u16();
                refused = Some((status, response.json::<Value>().await.unwrap_or(Value::Null)));
                break;
            }
        }
        let (status, body) = refused.expect("one of five tries reads the answer");
        assert_refused(status, &body, (413, "body"), "huge body");

        let consent = |at: &str| json!({
            "phone": "+14155550144", "first_name": "Sam", "language": "en", "timezone": "America/New_York",
            "consented_at": at, "consent_source": "discharge form v2",
        });
        let (status, body) = app.call(token, "POST", "/api/v1/clients", Some(consent("1900-01-01T00:00:00Z"))).await;
        assert_refused(status, &body, (422, "consented_at"), "consent in 1900");
        let (status, body) = app.call(token, "POST", "/api/v1/clients", Some(consent("2027-01-01T00:00:00Z"))).await;
        assert_refused(status, &body, (422, "consented_at"), "consent in the future");

        let enrollments = format!("/api/v1/clients/{client}/enrollments");
        let (status, body) = app
            .call(token, "POST", &enrollments, Some(json!({"schedule": "caring_contacts", "discharged_at": "1900-03-06T12:00:00Z"})))
            .await;
        assert_refused(status, &body, (422, "discharged_at"), "discharge in 1900");

        let appointments = format!("/api/v1/clients/{client}/appointments");
        let (status, body) = app.call(token, "POST", &appointments, Some(json!({"starts_at": "2200-01-01T15:00:00Z"}))).await;
        assert_refused(status, &body, (422, "starts_at"), "appointment in 2200");

        let medications = format!("/api/v1/clients/{client}/medications");
        for phrase in ["blue pill\nnow", "see https://evil.example", "tap evil.example"] {
            let (status, body) = app
                .call(token, "POST", &medications, Some(json!({
                    "schedule": "0 16 * * *", "phrase": phrase,
                    "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake form",
                })))
                .await;
            assert_refused(status, &body, (422, "phrase"), phrase);
        }
        let (status, body) = app
            .call(token, "POST", &medications, Some(json!({
                "schedule": "0 16 * * *", "consented_at": "1900-03-06T18:00:00Z", "consent_source": "intake form",
            })))
            .await;
        assert_refused(status, &body, (422, "consented_at"), "medication consent in 1900");

        let staff = app.create_staff("Riley", "+14155550201").await;
        let rotation = |name: &str, start: &str| json!({
            "name": name, "timezone": "America/New_York", "shift_hours": 24, "handoff_time": "08:00",
            "start_date": start, "members": [staff],
        });
        let (status, body) = app.call(token, "POST", "/api/v1/rotations", Some(rotation("Nights", "9999-01-01"))).await;
        assert_refused(status, &body, (422, "start_date"), "rotation start 9999");
        let long_name = "n".repeat(60_000);
        let (status, body) = app.call(token, "POST", "/api/v1/rotations", Some(rotation(&long_name, "2026-03-01"))).await;
        assert_refused(status, &body, (422, "name"), "60,000-character name");

        let steps: Vec<Value> = (0..1000).map(|_| json!({"target": {"staff": staff}, "delay_minutes": 5})).collect();
        let (status, body) = app.call(token, "PUT", "/api/v1/escalation-policy", Some(json!({"steps": steps}))).await;
        assert_refused(status, &body, (422, "steps"), "1,000-step policy");

        let schedule: Value = app.get("/api/v1/schedules/caring_contacts").await.json().await.unwrap();
        for id in ["", "../../etc/passwd"] {
            let mut edited = schedule.clone();
            edited["steps"][0]["id"] = json!(id);
            let (status, body) = app.call(token, "PUT", "/api/v1/schedules/caring_contacts", Some(edited)).await;
            assert_refused(status, &body, (422, "steps[0].id"), id);
        }
        let (status, body) = app
            .call(token, "PUT", "/api/v1/templates/en/caring/first", Some(json!({"body": "  \n"})))
            .await;
        assert_refused(status, &body, (422, "body"), "empty template");

        // Nothing of the above was written.
        let clients: Value = app.get("/api/v1/clients").await.json().await.unwrap();
        assert_eq!(clients.as_array().map(Vec::len), Some(1), "{clients}");
        let rotations: Value = app.get("/api/v1/rotations").await.json().await.unwrap();
        assert_eq!(rotations, json!([]));
        let versions: Value = app.get("/api/v1/catalog/versions").await.json().await.unwrap();
        assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
        assert_eq!(app.get("/api/v1/escalation-policy").await.status(), 404);
        assert!(app.messages(client).await.is_empty());
    }
}

/// Sends a whole keep-alive request on a raw connection and reads the answer's head, so the connection is
/// known to be accepted and now sits idle holding its slot.
async fn idle_after_one_request(address: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: tether.test\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\nok") {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "closed before answering");
        answer.extend_from_slice(&buffer[..read]);
    }
    stream
}

/// Whether the provider's text with `sid` is stored.
async fn stored(app: &TestApp, sid: &str) -> bool {
    let pool = app.database_pool().await;
    let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM inbound_messages WHERE message_sid = '{sid}'"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    count == 1
}

on_both_backends! {
    /// With the general connections all taken, the API is shed with 503 and Retry-After, while a signed
    /// webhook still comes in on the band kept for webhooks and is stored.
    async fn webhooks_keep_their_own_connections_when_the_rest_are_taken(backend) {
        let app = spawn_app_with(&backend, |settings| {
            settings.http.max_connections = 4;
            settings.http.webhook_connections = 2;
            settings.http.header_timeout_seconds = 60;
        })
        .await;
        let _held = [idle_after_one_request(&app.address).await, idle_after_one_request(&app.address).await];

        let shed = reqwest::Client::new()
            .get(format!("{}/api/v1/clients", app.address))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(shed.status(), 503);
        assert_eq!(shed.headers()["retry-after"], "1");
        let body: Value = shed.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");

        let sid = "SM0000000000000000000000000000aa01";
        assert_eq!(app.text_in_with_sid("+14155550142", "I want to end it tonight", sid).await, 200);
        assert!(stored(&app, sid).await);
    }
}

on_both_backends! {
    /// Many idle and half-sent connections against a low cap: each is closed after the header timeout,
    /// and the health check and a signed webhook keep answering; the webhook is stored.
    async fn idle_and_half_sent_connections_are_closed_and_the_service_keeps_answering(backend) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app = spawn_app_with(&backend, |settings| {
            settings.http.max_connections = 6;
            settings.http.webhook_connections = 2;
            settings.http.header_timeout_seconds = 1;
        })
        .await;
        let target = app.address.trim_start_matches("http://").to_owned();
        let mut attackers = Vec::new();
        for index in 0..24 {
            let mut stream = tokio::net::TcpStream::connect(&target).await.unwrap();
            if index % 2 == 0 {
                // Half-sent: a request line and one header, then nothing.
                stream.write_all(b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            }
            attackers.push(stream);
        }
        let started = std::time::Instant::now();
        let health = reqwest::Client::new()
            .get(format!("{}/healthz", app.address))
            .timeout(std::time::Duration::from_secs(15))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let sid = "SM0000000000000000000000000000bb02";
        assert_eq!(app.text_in_with_sid("+14155550142", "help me please", sid).await, 200);
        assert!(stored(&app, sid).await);
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{:?}", started.elapsed());

        // Every attacker was closed by the server, none left holding a slot.
        for mut stream in attackers {
            let mut buffer = [0_u8; 256];
            let closed = tokio::time::timeout(std::time::Duration::from_secs(15), async {
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => continue,
                    }
                }
            })
            .await;
            assert!(closed.is_ok(), "a connection was left open");
        }
    }
}

/// Starts a second instance on `app`'s database with `admin_token`, serving HTTP; answers its address.
async fn restart_with_admin_token(app: &TestApp, admin_token: &str) -> (String, tokio_util::sync::CancellationToken) {
    let mut settings = test_settings(&app.database_url, &app.mock.base_url);
    settings.admin_token = Some(secrecy::SecretString::from(admin_token));
    restart_with(settings, app).await
}

async fn restart_without_admin_token(app: &TestApp) -> (String, tokio_util::sync::CancellationToken) {
    let mut settings = test_settings(&app.database_url, &app.mock.base_url);
    settings.admin_token = None;
    restart_with(settings, app).await
}

async fn restart_with(
    settings: tether::config::Settings,
    app: &TestApp,
) -> (String, tokio_util::sync::CancellationToken) {
    let restarted = tether::app::Application::build(&settings, tether::scheduling::Clock::Manual(app.clock.clone()))
        .await
        .unwrap();
    let address = format!("http://{}", restarted.local_addr());
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(restarted.run_http_until_stopped(shutdown.clone()));
    (address, shutdown)
}

async fn clients_page_status(address: &str, session_cookie: &str) -> u16 {
    no_redirects()
        .get(format!("{address}/console/clients"))
        .header(COOKIE, session_cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_both_backends! {
    /// A console session opened with the bootstrap token ends when TETHER_ADMIN_TOKEN changes (a leaked
    /// token is rotated) or is unset, and lives on while it stays the same.
    async fn a_session_ends_when_the_token_that_opened_it_changes(backend) {
        let app = spawn_app(&backend).await;
        let signed_in = crate::console::sign_in(&app.address, &no_redirects(), ADMIN_TOKEN).await;
        let set_cookie = cookie_named(&signed_in, "tether_session").unwrap();
        let session = set_cookie.split(';').next().unwrap().to_owned();
        assert_eq!(clients_page_status(&app.address, &session).await, 200);

        let (same, same_shutdown) = restart_with_admin_token(&app, ADMIN_TOKEN).await;
        assert_eq!(clients_page_status(&same, &session).await, 200, "same token, same session");
        same_shutdown.cancel();

        let (rotated, rotated_shutdown) = restart_with_admin_token(&app, "a-new-admin-token").await;
        assert_eq!(clients_page_status(&rotated, &session).await, 303, "the old token's session is over");
        rotated_shutdown.cancel();

        let (unset, unset_shutdown) = restart_without_admin_token(&app).await;
        assert_eq!(clients_page_status(&unset, &session).await, 303, "no bootstrap token, no bootstrap session");
        unset_shutdown.cancel();
    }
}

on_both_backends! {
    /// Unique rules answer 409 naming the field: a repeated rotation name, a client's number for a staff
    /// member and the other way round; and a staff member is not told that a number is another's client.
    async fn conflicts_are_typed_and_tell_staff_nothing_about_other_clients(backend) {
        let app = spawn_app(&backend).await;
        let token = Some(ADMIN_TOKEN);
        let riley = app.create_staff("Riley", "+14155550201").await;
        let rotation = json!({
            "name": "Nights", "timezone": "America/New_York", "shift_hours": 24, "handoff_time": "08:00",
            "start_date": "2026-03-01", "members": [riley],
        });
        assert_eq!(app.post("/api/v1/rotations", rotation.clone()).await.status(), 201);
        let (status, body) = app.call(token, "POST", "/api/v1/rotations", Some(rotation)).await;
        assert_refused(status, &body, (409, "name"), "repeated rotation name");

        app.create_client("+14155550142", "Jordan", "en", "America/New_York").await;
        let (status, body) = app
            .call(token, "POST", "/api/v1/staff", Some(json!({"name": "Sam", "phone": "+14155550142"})))
            .await;
        assert_refused(status, &body, (409, "phone"), "staff with a client's number");
        let client = |phone: &str| json!({
            "phone": phone, "first_name": "Alex", "language": "en", "timezone": "America/New_York",
            "consented_at": "2026-03-06T18:00:00Z", "consent_source": "discharge form v2",
        });
        let (status, body) = app.call(token, "POST", "/api/v1/clients", Some(client("+14155550201"))).await;
        assert_refused(status, &body, (409, "phone"), "client with a staff member's number");

        let staff_token = app.token("staff", "riley", Some(riley));
        let (status, taken) = app.call(Some(&staff_token), "POST", "/api/v1/clients", Some(client("+14155550142"))).await;
        let taken_message = assert_refused(status, &taken, (409, "phone"), "another program's client");
        let (status, staff) = app.call(Some(&staff_token), "POST", "/api/v1/clients", Some(client("+14155550201"))).await;
        let staff_message = assert_refused(status, &staff, (409, "phone"), "a staff number");
        assert_eq!(taken_message, staff_message, "staff cannot tell a client's number from anyone else's");
        assert!(!taken_message.contains("client with this number"), "{taken_message}");

        let staff_list: Value = app.get("/api/v1/staff").await.json().await.unwrap();
        assert_eq!(staff_list.as_array().map(Vec::len), Some(1), "{staff_list}");
        let clients: Value = app.get("/api/v1/clients").await.json().await.unwrap();
        assert_eq!(clients.as_array().map(Vec::len), Some(1), "{clients}");
    }
}

/// A body that stops half-way is answered once the body deadline passes, in the documented shape, and
/// nothing is written.
#[tokio::test]
async fn a_body_that_stops_half_way_is_refused_after_the_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&TestBackend::Sqlite, |settings| {
        settings.http.body_timeout_seconds = 1;
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/clients HTTP/1.1\r\nHost: tether.test\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"phone\": \"+1415"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the server waited for the rest of the body past the deadline"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(answer.contains("\"field\":\"body\""), "{answer}");
    let clients: Value = app.get("/api/v1/clients").await.json().await.unwrap();
    assert_eq!(clients, json!([]));
}
