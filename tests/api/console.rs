//! The console's sessions over plain HTTP: cookie flags, CSRF on every form, sign-in rate limit, sign-out,
//! and a viewer who sees no words. (The pages themselves are driven in Chromium in `browser.rs`.)

use reqwest::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::*;

/// A client that shows redirects instead of following them.
pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn cookie_named<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn value_of(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

/// The CSRF token a page's script calls carry (`data-csrf`), or a form's hidden field.
pub(crate) fn page_csrf(page: &str, marker: &str) -> String {
    page.split(marker).nth(1).unwrap().split('"').next().unwrap().to_owned()
}

fn hidden_csrf(page: &str) -> String {
    page_csrf(page, "name=\"csrf\" value=\"")
}

/// Fetches the sign-in form: the double-submit cookie and its field.
async fn sign_in_form(address: &str, http: &reqwest::Client) -> (String, String) {
    let response = http.get(format!("{address}/console/sign-in")).send().await.unwrap();
    let cookie = cookie_named(&response, "tether_sign_in").unwrap().to_owned();
    let page = response.text().await.unwrap();
    (value_of(&cookie).to_owned(), hidden_csrf(&page))
}

/// Signs in to the console at `address` with `token`, as the sign-in form does.
pub(crate) async fn sign_in(address: &str, http: &reqwest::Client, token: &str) -> reqwest::Response {
    let (cookie, csrf) = sign_in_form(address, http).await;
    http.post(format!("{address}/console/sign-in"))
        .header(COOKIE, format!("tether_sign_in={cookie}"))
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn console_sessions_are_httponly_samesite_and_csrf_protected() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let http = no_redirects();
    let signed_out = http
        .get(format!("{}/console/clients", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    assert_eq!(signed_out.headers()[LOCATION], "/console/sign-in");

    // The Secure flag follows TETHER_PUBLIC_URL (https here), whatever Host the request names.
    for host in ["127.0.0.1", "localhost:8080", "tether.example.org"] {
        let response = http
            .get(format!("{}/console/sign-in", app.address))
            .header(HOST, host)
            .send()
            .await
            .unwrap();
        let flags = cookie_named(&response, "tether_sign_in").unwrap();
        assert!(
            flags.contains("HttpOnly") && flags.contains("SameSite=Strict") && flags.ends_with("; Secure"),
            "{host}: {flags}"
        );
    }

    // A sign-in form posted without its cookie (from another site, say) is refused.
    let (_, csrf) = sign_in_form(&app.address, &http).await;
    let forged = http
        .post(format!("{}/console/sign-in", app.address))
        .form(&[("csrf", csrf.as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let viewer = app.token("viewer", "val-viewer", None);
    let signed_in = sign_in(&app.address, &http, &viewer).await;
    assert_eq!(signed_in.status(), 303);
    let session = cookie_named(&signed_in, "tether_session").unwrap().to_owned();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Max-Age=43200"));
    let cookie = format!("tether_session={}", value_of(&session));

    // A viewer sees the thread without its words.
    let jordan = app
        .create_client("+14155550123", "Jordan", "en", "America/New_York")
        .await;
    assert_eq!(app.text_in("+14155550123", "rough night, thinking of using").await, 200);
    let page = http
        .get(format!("{}/console/clients/{jordan}", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("hidden for your role") && !page.contains("thinking of using"),
        "{page}"
    );

    // Forms without the session's CSRF token are refused before anything else is looked at.
    let csrf = hidden_csrf(&page);
    let pause = |token: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{}/console/clients/{jordan}/pause", app.address);
        async move {
            http.post(url)
                .header(COOKIE, cookie)
                .form(&[("csrf", token)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(pause("forged".into()).await, 403);
    // With the right token the viewer is still refused: the role is read-only.
    assert_eq!(pause(csrf.clone()).await, 403);
    let client: Value = app
        .get(&format!("/api/v1/clients/{jordan}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(client["status"], "active");

    // Signing out ends the session on the server, not just in the browser.
    let out = http
        .post(format!("{}/console/sign-out", app.address))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = http
        .get(format!("{}/console/clients", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.headers()[LOCATION], "/console/sign-in");
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_address() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let http = no_redirects();
    for attempt in 1..=5 {
        let response = sign_in(&app.address, &http, "tether_guess").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
        assert!(response.text().await.unwrap().contains("not valid"));
    }
    // Now even the right token waits: the limit counts attempts, not failures.
    let limited = sign_in(&app.address, &http, ADMIN_TOKEN).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.text().await.unwrap().contains("Too many attempts"));
    let audit: Value = app.get("/api/v1/audit").await.json().await.unwrap();
    let outcomes: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "POST /console/sign-in")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "rate_limited",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated",
            "unauthenticated"
        ]
    );
}

crate::on_both_backends! {
    /// Staff add notes to an escalation's log; viewers see that a note was written but not what it says.
    async fn escalation_notes_are_kept_and_hidden_from_viewers(backend) {
        let app = spawn_app(&backend).await;
        crate::inbound::on_call_set_up(&app).await;
        assert_eq!(app.text_in(crate::inbound::MAYA, "i want to die").await, 200);
        let staff = app.token("staff", "primary", Some(1));
        let viewer = app.token("viewer", "val", None);
        let (status, _) = app.call(Some(&staff), "POST", "/api/v1/escalations/1/notes",
            Some(json!({"text": "Called her; she is with her sister tonight."}))).await;
        assert_eq!(status, 201);
        let (status, error) = app.call(Some(&staff), "POST", "/api/v1/escalations/1/notes", Some(json!({"text": "  "}))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("text")));
        assert_eq!(app.call(Some(&viewer), "POST", "/api/v1/escalations/1/notes", Some(json!({"text": "x"}))).await.0, 403);
        assert_eq!(app.call(Some(&staff), "POST", "/api/v1/escalations/99/notes", Some(json!({"text": "x"}))).await.0, 404);

        let note = |list: &Value| list[0]["events"].as_array().unwrap().iter().find(|e| e["kind"] == "note").cloned().unwrap();
        let (_, as_staff) = app.call(Some(&staff), "GET", "/api/v1/escalations", None).await;
        assert_eq!(note(&as_staff)["detail"], "primary: Called her; she is with her sister tonight.");
        let (_, as_viewer) = app.call(Some(&viewer), "GET", "/api/v1/escalations", None).await;
        assert_eq!(note(&as_viewer)["detail"], "");
    }
}
