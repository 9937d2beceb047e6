//! Issue 16's HTTP hardening: security headers, cookie flags and the sign-in limit's address, errors in the
//! documented shape, typed conflicts, sessions tied to their token, and connection limits.

use reqwest::header::{COOKIE, SET_COOKIE};

use crate::console::{cookie_named, no_redirects};
use crate::helpers::*;

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
