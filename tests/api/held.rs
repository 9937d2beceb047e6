//! What an outside attacker tried and what held, each class kept by a test: forged, spoofed and tampered
//! webhooks, markup in every value a console page shows, path traversal in every named path segment, phone
//! numbers and words in the logs.

use std::collections::BTreeMap;

use base64::Engine;
use sqlx::AnyPool;

use crate::helpers::*;
use crate::mock_provider::AUTH_TOKEN;
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
