//! The people of the demo and the sandbox: three staff, the on-call rotations and policy, and two clients,
//! set up through the admin API like a real program would.

use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};

pub const ZONE: &str = "America/New_York";
pub const JORDAN: &str = "+14155550101";
pub const MAYA: &str = "+14155550102";
pub const SAM: &str = "+14155550201";
pub const RILEY: &str = "+14155550202";
pub const ALEX: &str = "+14155550203";

/// The admin API of a running service.
pub struct Api {
    pub base_url: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// Calls the API and answers its JSON; a refusal is an error naming the call.
    pub async fn call(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{method} {path} answered {status}: {answer}");
        Ok(answer)
    }
}

/// Sam (a peer, staff 1), Riley (on call, staff 2) and Alex (backup, staff 3); Riley's rotation paged
/// first, Alex's 10 minutes later.
pub async fn staff_on_call(api: &Api) -> anyhow::Result<()> {
    for (name, phone) in [("Sam", SAM), ("Riley", RILEY), ("Alex", ALEX)] {
        api.call(Method::POST, "/api/v1/staff", json!({ "name": name, "phone": phone }))
            .await?;
    }
    for (name, member) in [("primary", 2), ("backup", 3)] {
        api.call(
            Method::POST,
            "/api/v1/rotations",
            json!({ "name": name, "timezone": ZONE, "shift_hours": 24, "handoff_time": "08:00",
                    "start_date": "2026-03-01", "members": [member] }),
        )
        .await?;
    }
    let policy = json!({ "steps": [
        { "target": { "rotation": 1 }, "delay_minutes": 10 },
        { "target": { "rotation": 2 }, "delay_minutes": 10 },
    ], "repeat": 0 });
    api.call(Method::PUT, "/api/v1/escalation-policy", policy).await?;
    Ok(())
}

/// A client who consented on the discharge form; answers their id.
pub async fn client(api: &Api, name: &str, phone: &str) -> anyhow::Result<i64> {
    let created = api
        .call(
            Method::POST,
            "/api/v1/clients",
            json!({ "phone": phone, "first_name": name, "language": "en", "timezone": ZONE,
                    "consented_at": "2026-03-06T14:00:00-05:00", "consent_source": "discharge form" }),
        )
        .await?;
    created["id"].as_i64().context("created client has no id")
}

/// Who a number belongs to, for timelines and the phone simulator.
pub fn name_of(phone: &str) -> Option<&'static str> {
    match phone {
        JORDAN => Some("Jordan (client)"),
        MAYA => Some("Maya (client)"),
        SAM => Some("Sam (Jordan's peer)"),
        RILEY => Some("Riley (on call)"),
        ALEX => Some("Alex (backup)"),
        _ => None,
    }
}
