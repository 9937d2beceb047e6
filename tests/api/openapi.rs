//! The OpenAPI description generated from the handlers: every operation it names is served and asks for
//! what it says, no body in it is an untyped object, a real OpenAPI linter accepts it, and the browsable
//! docs come from the binary. The linter is `@redocly/cli`, found through `TETHER_TEST_REDOCLY` (`.ci/run`
//! installs it); outside CI the lint is skipped when it is not installed.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestBackend, spawn_app};

async fn description(app: &TestApp) -> Value {
    let (status, document) = app.call(None, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200, "{document}");
    document
}

/// A path from the description with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{language}", "en")
        .replace("{group}", "caring")
        .replace("{name}", "first")
}

/// Calls each documented operation once: with an admin token none is missing from the router (axum's
/// own 404 says "no such resource", a handler's names what it did not find) or answered 405; without a
/// token each `/api/v1` operation is a 401, each webhook a 403 for its missing signature.
#[tokio::test]
async fn every_documented_operation_is_served_and_guarded_as_described() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let document = description(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    let admin = app.token("admin", "openapi-check", None);
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let url = concrete(path);
            let (status, body) = app.call(Some(&admin), &method, &url, Some(json!({}))).await;
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(
                !(status == 404 && body["error"]["message"] == "no such resource"),
                "{method} {path} is described but not served"
            );
            let (status, _) = app.call(None, &method, &url, Some(json!({}))).await;
            if path.starts_with("/api/v1/") {
                assert_eq!(status, 401, "{method} {path} without a token");
                assert_eq!(operation["security"], json!([{ "bearer": [] }]), "{method} {path}");
                assert!(operation["responses"]["401"].is_object(), "{method} {path}");
            } else if path.starts_with("/webhooks/") {
                assert_eq!(status, 403, "{method} {path} without a signature");
            } else {
                assert_eq!(path, "/healthz");
                assert_eq!(status, 200);
            }
            operations += 1;
        }
    }
    // Every module's routes are in: the webhooks, the health check and each part of the API.
    for path in [
        "/healthz",
        "/webhooks/twilio/sms",
        "/webhooks/twilio/status",
        "/api/v1/clients/{id}/enrollments",
        "/api/v1/clients/{id}/safety-plan",
        "/api/v1/audit",
        "/api/v1/escalations/{id}/acknowledge",
        "/api/v1/templates/{language}/{group}/{name}",
        "/api/v1/signals",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is not described");
    }
    assert!(operations >= 47, "only {operations} operations described");
}

/// Every schema says what it holds: an object has its properties (or a schema for its values), and no
/// request or response body is an empty schema.
#[tokio::test]
async fn no_body_in_the_description_is_an_untyped_object() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let document = description(&app).await;
    let mut untyped = Vec::new();
    find_untyped(&document["paths"], "paths", &mut untyped);
    find_untyped(&document["components"], "components", &mut untyped);
    assert!(untyped.is_empty(), "untyped schemas: {untyped:#?}");
    // Bodies are named schemas or arrays of them, with their fields.
    let client = &document["components"]["schemas"]["ClientView"];
    assert_eq!(client["properties"]["timezone"]["type"], "string", "{client}");
    let error = &document["components"]["schemas"]["ErrorDetail"];
    assert!(error["properties"]["field"].is_object(), "{error}");
}

fn find_untyped(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(schema) = map.get("schema")
                && schema.as_object().is_some_and(|s| s.is_empty())
            {
                found.push(format!("{at}: empty schema"));
            }
            let is_object = map
                .get("type")
                .is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object"))));
            let has_shape = ["properties", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref"]
                .iter()
                .any(|key| map.contains_key(*key));
            if is_object && !has_shape {
                found.push(format!("{at}: object without properties"));
            }
            for (key, inner) in map {
                find_untyped(inner, &format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                find_untyped(inner, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

fn redocly() -> Option<String> {
    match std::env::var("TETHER_TEST_REDOCLY") {
        Ok(path) => Some(path),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("TETHER_TEST_REDOCLY must point at the redocly binary in CI (.ci/run installs it)")
        }
        Err(_) => {
            eprintln!("skipping the OpenAPI lint: set TETHER_TEST_REDOCLY to a redocly binary");
            None
        }
    }
}

/// `redocly lint` with its recommended rules finds nothing, except that `/healthz` has no 4XX answer: it
/// has none to give (a wrong token just gets the short answer).
#[tokio::test]
async fn the_description_passes_the_openapi_linter() {
    let Some(redocly) = redocly() else { return };
    let app = spawn_app(&TestBackend::Sqlite).await;
    let document = description(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let output = Command::new(redocly)
        .args(["lint", "--format=json"])
        .arg(&file)
        .current_dir(dir.path())
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!(
            "redocly's report is not JSON ({err}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let problems: Vec<&Value> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|problem| {
            !(problem["ruleId"] == "operation-4xx-response"
                && problem["location"][0]["pointer"] == "#/paths/~1healthz/get/responses")
        })
        .collect();
    assert!(problems.is_empty(), "redocly lint: {problems:#?}");
}

/// Swagger UI is served from the binary, pointed at the description, with no file from elsewhere.
#[tokio::test]
async fn the_docs_are_browsable_without_leaving_the_service() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    let client = reqwest::Client::new();
    let page = client
        .get(format!("{}/api/v1/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    // Swagger UI's inline styles and data: icons are allowed on its own pages, nowhere else.
    let policy = |response: &reqwest::Response| {
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        policy(&page).contains("style-src 'self' 'unsafe-inline'"),
        "{}",
        policy(&page)
    );
    assert!(policy(&page).contains("script-src 'self';"), "{}", policy(&page));
    let api = client
        .get(format!("{}/api/v1/clients", app.address))
        .send()
        .await
        .unwrap();
    assert!(!policy(&api).contains("unsafe-inline"), "{}", policy(&api));
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page loads something from elsewhere: {html}"
    );
    let initializer = client
        .get(format!("{}/api/v1/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/api/v1/openapi.json"));
    let bundle = client
        .get(format!("{}/api/v1/docs/swagger-ui-bundle.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}
