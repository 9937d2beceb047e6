//! Tokens, roles and the audit log: each role gets exactly what it should, each refusal is a 403 on the
//! record, and the API matches its OpenAPI description.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

const PAT: &str = "+14155550171";
const SAM: &str = "+14155550172";

/// Two staff members with a client each; answers (pat's client, sam's client, pat's staff id).
async fn two_caseloads(app: &TestApp) -> (i64, i64, i64) {
    let pat = app.create_staff("Pat", PAT).await;
    let sam = app.create_staff("Sam", SAM).await;
    let jordan = app
        .create_client("+14155550123", "Jordan", "en", "America/New_York")
        .await;
    let maya = app
        .create_client("+14155550124", "Maya", "en", "America/New_York")
        .await;
    for (client, staff) in [(jordan, pat), (maya, sam)] {
        app.assign_staff(client, staff).await;
    }
    (jordan, maya, pat)
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

on_both_backends! {
    /// A staff token sees and changes only its own clients (another's is a 404) and cannot edit a schedule;
    /// a viewer cannot write and sees no words; no token is a 401. Every refusal is in the audit log as
    /// denied, with who and what.
    async fn each_role_gets_exactly_its_rights(backend) {
        let app = spawn_app(&backend).await;
        let (jordan, maya, pat) = two_caseloads(&app).await;
        let admin = app.token("admin", "alex-admin", None);
        let staff = app.token("staff", "pat-peer", Some(pat));
        let viewer = app.token("viewer", "val-viewer", None);
        // Something in Jordan's thread both ways: a planned appointment reminder and a text from him.
        let response = app
            .post(&format!("/api/v1/clients/{jordan}/appointments"), json!({ "starts_at": "2026-03-09T14:00:00Z" }))
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(app.text_in("+14155550123", "thanks, see you monday").await, 200);

        // No token, or a made-up one.
        assert_eq!(app.call(None, "GET", "/api/v1/clients", None).await.0, 401);
        assert_eq!(app.call(Some("tether_made_up"), "GET", "/api/v1/clients", None).await.0, 401);

        // Staff: their own client only.
        let (status, list) = app.call(Some(&staff), "GET", "/api/v1/clients", None).await;
        assert_eq!((status, ids(&list)), (200, vec![jordan]));
        let (status, thread) = app.call(Some(&staff), "GET", &format!("/api/v1/clients/{jordan}/messages"), None).await;
        assert_eq!(status, 200);
        assert!(thread["messages"][0]["body"].as_str().is_some_and(|b| !b.is_empty()), "{thread}");
        assert_eq!(thread["received"][0]["body"], "thanks, see you monday");
        for (method, path) in [
            ("GET", format!("/api/v1/clients/{maya}")),
            ("GET", format!("/api/v1/clients/{maya}/messages")),
            ("POST", format!("/api/v1/clients/{maya}/pause")),
        ] {
            let (status, error) = app.call(Some(&staff), method, &path, None).await;
            assert_eq!(status, 404, "{method} {path}: another's client is answered as absent: {error}");
        }
        assert_eq!(app.call(Some(&staff), "POST", &format!("/api/v1/clients/{jordan}/pause"), None).await.0, 200);
        let (status, schedule) = app.call(Some(&staff), "GET", "/api/v1/schedules/caring_contacts", None).await;
        assert_eq!(status, 200, "staff read schedules");
        let (status, error) = app.call(Some(&staff), "PUT", "/api/v1/schedules/caring_contacts", Some(schedule)).await;
        assert_eq!(status, 403, "{error}");
        assert_eq!(app.call(Some(&staff), "POST", "/api/v1/staff", Some(json!({"name": "X", "phone": "+14155550179"}))).await.0, 403);
        assert_eq!(app.call(Some(&staff), "GET", "/api/v1/audit", None).await.0, 403);
        // A client a staff member creates is theirs.
        let (status, created) = app
            .call(Some(&staff), "POST", "/api/v1/clients", Some(json!({
                "phone": "+14155550125", "first_name": "Rae", "language": "en", "timezone": "America/Chicago",
                "consented_at": "2026-03-06T18:00:00Z", "consent_source": "intake"})))
            .await;
        assert_eq!((status, created["assigned_staff_id"].as_i64()), (201, Some(pat)), "{created}");

        // Viewer: reads everything, writes nothing, sees no words.
        let (status, list) = app.call(Some(&viewer), "GET", "/api/v1/clients", None).await;
        assert_eq!((status, list.as_array().unwrap().len()), (200, 3));
        let (status, thread) = app.call(Some(&viewer), "GET", &format!("/api/v1/clients/{jordan}/messages"), None).await;
        assert_eq!(status, 200);
        assert!(!thread["messages"].as_array().unwrap().is_empty());
        assert!(thread["messages"].as_array().unwrap().iter().all(|m| m["body"].is_null()), "{thread}");
        assert!(thread["received"].as_array().unwrap().iter().all(|m| m["body"].is_null()), "{thread}");
        for (method, path) in [
            ("POST", format!("/api/v1/clients/{jordan}/resume")),
            ("POST", "/api/v1/clients".to_owned()),
            ("PUT", "/api/v1/schedules/caring_contacts".to_owned()),
        ] {
            let (status, error) = app.call(Some(&viewer), method, &path, Some(json!({}))).await;
            assert_eq!(status, 403, "{method} {path}: {error}");
        }

        // The audit log, as an admin sees it: refusals, changes and reads of messages, each with who.
        let (status, audit) = app.call(Some(&admin), "GET", "/api/v1/audit?limit=1000", None).await;
        assert_eq!(status, 200);
        let entries = audit.as_array().unwrap();
        let has = |actor: &str, action: &str, target: &str, outcome: &str| {
            entries.iter().any(|e| {
                e["actor"] == actor && e["action"] == action && e["target"] == target && e["outcome"] == outcome
            })
        };
        assert!(has("pat-peer", "GET /api/v1/clients/{id}/messages", &format!("/api/v1/clients/{maya}/messages"), "denied"), "{audit:#}");
        assert!(has("pat-peer", "PUT /api/v1/schedules/{name}", "/api/v1/schedules/caring_contacts", "denied"));
        assert!(has("pat-peer", "GET /api/v1/audit", "/api/v1/audit", "denied"));
        assert!(has("pat-peer", "POST /api/v1/clients/{id}/pause", &format!("/api/v1/clients/{jordan}/pause"), "ok"));
        assert!(has("val-viewer", "GET /api/v1/clients/{id}/messages", &format!("/api/v1/clients/{jordan}/messages"), "ok"));
        assert!(has("val-viewer", "POST /api/v1/clients", "/api/v1/clients", "denied"));
        assert!(has("anonymous", "GET /api/v1/clients", "/api/v1/clients", "unauthenticated"));
        assert!(has("bootstrap", "POST /api/v1/staff", "/api/v1/staff", "ok"));
        let denied = entries.iter().filter(|e| e["outcome"] == "denied").count();
        assert_eq!(denied, 9, "every 403 above, and nothing else: {audit:#}");
        assert!(entries.iter().all(|e| e["role"].is_null() || e["status"].as_i64().is_some()));
        // Plain reads other than a client's messages are not logged: the log stays readable.
        assert!(!has("val-viewer", "GET /api/v1/clients", "/api/v1/clients", "ok"));

        // A revoked token stops working at once.
        let tokens = tether(&["token", "list", "--database-url", &app.database_url]).output().unwrap();
        let listing = String::from_utf8(tokens.stdout).unwrap();
        let staff_id = listing.lines().find(|l| l.contains("pat-peer")).unwrap().split_whitespace().next().unwrap().to_owned();
        let revoked = tether(&["token", "revoke", &staff_id, "--database-url", &app.database_url]).output().unwrap();
        assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
        assert_eq!(app.call(Some(&staff), "GET", "/api/v1/clients", None).await.0, 401);
    }
}

#[tokio::test]
async fn a_token_is_printed_once_and_only_its_hash_is_stored() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let token = app.token("admin", "ops", None);
    assert!(token.starts_with("tether_") && token.len() > 40, "{token}");
    let (status, _) = app.call(Some(&token), "GET", "/api/v1/audit", None).await;
    assert_eq!(status, 200);
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
        .fetch_all(&sqlx::SqlitePool::connect(&app.database_url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token);
    assert_eq!(stored[0].0, tether::access::hash_secret(&token));

    let missing_staff = tether(&[
        "token",
        "create",
        "--role",
        "staff",
        "--name",
        "x",
        "--database-url",
        &app.database_url,
    ])
    .output()
    .unwrap();
    assert!(!missing_staff.status.success());
    assert!(String::from_utf8_lossy(&missing_staff.stderr).contains("--staff-id"));
}
