//! The admin API: authentication, and bad input answered with the field and the reason, writing nothing.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

fn valid_client() -> Value {
    json!({
        "phone": "+14155550123", "first_name": "Jordan", "language": "en", "timezone": "America/New_York",
        "consented_at": "2026-03-06T18:00:00Z", "consent_source": "discharge form v2",
    })
}

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap()["error"].clone())
}

on_both_backends! {
    /// Each invalid field is named with the reason, and no client is written.
    async fn invalid_clients_are_refused_field_by_field_and_nothing_is_written(backend) {
        let app = spawn_app(&backend).await;
        let cases: Vec<(&str, Value, &str)> = vec![
            ("phone", json!("555-0123"), "E.164"),
            ("phone", json!("+1415555012"), "10"),
            ("timezone", json!("Eastern Time"), "IANA"),
            ("language", json!("fr"), "supported: en, es"),
            ("first_name", json!(""), "empty"),
            ("consented_at", json!("yesterday"), "RFC 3339"),
            ("consented_at", json!("2030-01-01T00:00:00Z"), "future"),
            ("consent_source", json!(" "), "consent"),
            ("phone", json!(4155550123u64), "string"),
        ];
        for (field, value, why) in cases {
            let mut body = valid_client();
            body[field] = value.clone();
            let (status, error) = error_of(app.post("/api/v1/clients", body).await).await;
            assert_eq!(status, 422, "{field}={value}: {error}");
            assert_eq!(error["field"], field, "{field}={value}: {error}");
            assert!(error["message"].as_str().unwrap().contains(why), "{field}={value}: {error}");
        }
        let mut missing = valid_client();
        missing.as_object_mut().unwrap().remove("timezone");
        let (status, error) = error_of(app.post("/api/v1/clients", missing).await).await;
        assert_eq!((status, error["field"].as_str()), (422, Some("timezone")));
        let mut extra = valid_client();
        extra["diagnosis"] = json!("anything");
        let (status, error) = error_of(app.post("/api/v1/clients", extra).await).await;
        assert_eq!((status, error["field"].as_str()), (422, Some("diagnosis")), "unknown fields are refused, not dropped");

        assert_eq!(app.get("/api/v1/clients/1").await.status(), 404, "nothing was written");
    }
}

on_both_backends! {
    /// A second client with the same number is a conflict on `phone`.
    async fn a_duplicate_phone_is_a_conflict(backend) {
        let app = spawn_app(&backend).await;
        assert_eq!(app.post("/api/v1/clients", valid_client()).await.status(), 201);
        let mut again = valid_client();
        again["phone"] = json!("+1 (415) 555-0123");
        let (status, error) = error_of(app.post("/api/v1/clients", again).await).await;
        assert_eq!((status, error["field"].as_str()), (409, Some("phone")));
    }
}

on_both_backends! {
    /// Enrolment input is checked the same way; a late enrolment starts mid-sequence and says what it skipped.
    async fn enrolments_are_validated_and_late_ones_skip_past_steps(backend) {
        let app = spawn_app(&backend).await;
        let client = app.create_client("+14155550123", "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{client}/enrollments");
        let cases = [
            (json!({"schedule": "weekly_pizza", "discharged_at": "2026-03-06T15:00:00-05:00"}), 422, "schedule"),
            (json!({"schedule": "caring_contacts", "discharged_at": "2026-03-06 15:00"}), 422, "discharged_at"),
            (json!({"schedule": "caring_contacts", "discharged_at": "2026-04-06T15:00:00-05:00"}), 422, "discharged_at"),
            (json!({"schedule": "caring_contacts"}), 422, "discharged_at"),
        ];
        for (body, status, field) in cases {
            let (got, error) = error_of(app.post(&path, body.clone()).await).await;
            assert_eq!((got, error["field"].as_str()), (status, Some(field)), "{body}: {error}");
        }
        assert_eq!(app.get(&format!("/api/v1/clients/{client}/messages")).await.status(), 200);
        assert_eq!(app.post("/api/v1/clients/999/enrollments", json!({"schedule": "caring_contacts", "discharged_at": "2026-03-06T15:00:00Z"})).await.status(), 404);

        // Discharged ten days ago: days 1, 3 and 7 are long past, day 14 is next.
        let enrollment = app.enroll(client, "caring_contacts", "2026-02-24T15:00:00-05:00").await;
        assert_eq!(enrollment["skipped_steps"], json!(["day_1", "day_3", "day_7"]));
        assert_eq!(enrollment["first_step"], "day_14");
        let (status, error) = error_of(app.post(&path, json!({"schedule": "caring_contacts", "discharged_at": "2026-03-06T15:00:00Z"})).await).await;
        assert_eq!((status, error["field"].as_str()), (409, Some("schedule")), "already enrolled");
    }
}

on_both_backends! {
    /// No token, a wrong token, or a non-JSON body: refused before anything is read or written.
    async fn the_api_requires_the_admin_token(backend) {
        let app = spawn_app(&backend).await;
        let url = format!("{}/api/v1/clients", app.address);
        let no_token = app.http.post(&url).json(&valid_client()).send().await.unwrap();
        assert_eq!(no_token.status(), 401);
        let wrong = app.http.post(&url).bearer_auth("guess").json(&valid_client()).send().await.unwrap();
        assert_eq!(wrong.status(), 401);
        let form = app.http.post(&url).bearer_auth(ADMIN_TOKEN).body("phone=1").send().await.unwrap();
        assert_eq!(form.status(), 415);
        assert_eq!(app.get("/api/v1/clients/1").await.status(), 404);
        let health = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
        assert_eq!(health.status(), 200, "the health check needs no token");
    }
}

on_both_backends! {
    /// Staff members are validated like clients and listed back.
    async fn staff_members_are_added_and_listed(backend) {
        let app = spawn_app(&backend).await;
        let response = app.post("/api/v1/staff", json!({"name": "Riley", "phone": "+1 415 555 0190"})).await;
        assert_eq!(response.status(), 201);
        let (status, error) = error_of(app.post("/api/v1/staff", json!({"name": "Riley", "phone": "0190"})).await).await;
        assert_eq!((status, error["field"].as_str()), (422, Some("phone")));
        let (status, error) = error_of(app.post("/api/v1/staff", json!({"name": "Sam", "phone": "+14155550190"})).await).await;
        assert_eq!((status, error["field"].as_str()), (409, Some("phone")));
        let staff: Value = app.get("/api/v1/staff").await.json().await.unwrap();
        assert_eq!(staff, json!([{"id": 1, "name": "Riley", "phone": "+14155550190", "created_at": "2026-03-06T19:00:00Z",
                                  "opted_out": false, "fallback": false}]));
    }
}

/// A list's query parameters are checked like a body's fields: a wrong value or an unknown parameter is a
/// 422 naming it, never quietly ignored.
#[tokio::test]
async fn list_filters_name_the_parameter_that_is_wrong() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    for (path, field) in [
        ("/api/v1/notices?unseen=yes", "unseen"),
        ("/api/v1/signals?unseen=1", "unseen"),
        ("/api/v1/notices?unseen=true&mine=true", "mine"),
        ("/api/v1/escalations?status=closed", "status"),
        ("/api/v1/escalations?state=open", "state"),
        ("/api/v1/rotations/1/on-call?at=tomorrow", "at"),
    ] {
        let (status, error) = error_of(app.get(path).await).await;
        assert_eq!(status, 422, "{path}: {error}");
        assert_eq!(error["field"], field, "{path}: {error}");
    }
    for path in [
        "/api/v1/notices?unseen=true",
        "/api/v1/signals?unseen=false",
        "/api/v1/escalations?status=open",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}
