//! A fast Twilio-compatible sink: answers every create with 201, counts texts per outbox id, and reports
//! when a text reaches a watched number (the on-call phone, for crisis latency).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use tokio::sync::mpsc;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";

#[derive(Clone)]
pub struct Mock {
    pub base_url: String,
    shared: Arc<Shared>,
}

struct Shared {
    next_sid: AtomicU64,
    per_outbox: Mutex<HashMap<i64, u32>>,
    watched: Mutex<Option<(String, mpsc::UnboundedSender<Instant>)>>,
}

impl Mock {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mock = Self {
            base_url,
            shared: Arc::new(Shared {
                next_sid: AtomicU64::new(1),
                per_outbox: Mutex::new(HashMap::new()),
                watched: Mutex::new(None),
            }),
        };
        let router = Router::new()
            .route("/2010-04-01/Accounts/{account}/Messages.json", post(create))
            .with_state(mock.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(mock)
    }

    /// Reports the arrival time of every text to `phone`.
    pub fn watch(&self, phone: &str) -> mpsc::UnboundedReceiver<Instant> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.shared.watched.lock().unwrap_or_else(|p| p.into_inner()) = Some((phone.to_owned(), tx));
        rx
    }

    /// (distinct texts received, texts received more than once)
    pub fn counts(&self) -> (usize, usize) {
        let per = self.shared.per_outbox.lock().unwrap_or_else(|p| p.into_inner());
        (per.len(), per.values().filter(|n| **n > 1).count())
    }
}

async fn create(State(mock): State<Mock>, body: axum::body::Bytes) -> impl IntoResponse {
    let arrived = Instant::now();
    let mut to = String::new();
    let mut outbox_id = None;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "To" => to = value.into_owned(),
            "StatusCallback" => outbox_id = value.split("outbox_id=").nth(1).and_then(|v| v.parse::<i64>().ok()),
            _ => {}
        }
    }
    if let Some(id) = outbox_id {
        *mock
            .shared
            .per_outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_default() += 1;
    }
    if let Some((phone, tx)) = mock.shared.watched.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && *phone == to
    {
        let _ = tx.send(arrived);
    }
    let sid = mock.shared.next_sid.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        format!(r#"{{"sid":"SM{sid:032x}","status":"queued"}}"#),
    )
}
