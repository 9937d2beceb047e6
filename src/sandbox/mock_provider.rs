//! A Twilio-compatible provider on a random local port, for tests, `tether demo` and `serve --sandbox`: it
//! records every create request, can be scripted to fail or hang (500, 429 with Retry-After, timeouts,
//! 21610…), posts signed inbound texts and status callbacks (in any order) the way Twilio does, and lets a
//! caller check off the texts it expected and see any it did not.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;
use tokio::sync::Notify;

/// The credentials the mock accepts; they open nothing anywhere else.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test-auth-token";
/// The service's number, as the mock reports it (Twilio's magic test number).
pub const FROM: &str = "+15005550006";

#[derive(Debug, Clone)]
pub struct ReceivedText {
    pub to: String,
    pub from: Option<String>,
    pub body: String,
    pub status_callback: Option<String>,
    /// The sid returned, when the mock answered 201.
    pub sid: Option<String>,
    /// Checked off by [`MockProvider::expect`].
    pub expected: bool,
    /// When the mock received it (wall-clock time, for the phone simulator).
    pub at: jiff::Timestamp,
}

impl ReceivedText {
    /// The outbox id carried in the status callback URL.
    pub fn outbox_id(&self) -> Option<i64> {
        self.status_callback
            .as_deref()?
            .split("outbox_id=")
            .nth(1)?
            .parse()
            .ok()
    }
}

#[derive(Debug, Clone)]
pub enum Scripted {
    /// Answer with this HTTP status and Twilio error code.
    Fail {
        status: u16,
        code: Option<i64>,
        retry_after: Option<u64>,
    },
    /// Wait this long before answering 503, so the client times out first.
    Hang(Duration),
}

#[derive(Default)]
struct MockState {
    requests: Vec<ReceivedText>,
    script: VecDeque<Scripted>,
    /// Answers for one recipient, ahead of the general script.
    script_by_recipient: Vec<(String, Scripted)>,
    delay: Duration,
    next_sid: u64,
    /// Given to every accepted text instead of a fresh id, as a provider fault would.
    repeated_sid: Option<String>,
    /// Where to walk each accepted text through `sent` and `delivered` with signed callbacks, as Twilio
    /// would: the service's real address.
    auto_deliver: Option<String>,
}

#[derive(Clone)]
pub struct MockProvider {
    pub base_url: String,
    state: Arc<Mutex<MockState>>,
    received: Arc<Notify>,
}

impl MockProvider {
    pub async fn start() -> std::io::Result<Self> {
        // The mock's own HTTP clients (webhooks, callbacks) need a TLS provider chosen, as the service's do.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mock = Self {
            base_url,
            state: Arc::new(Mutex::new(MockState::default())),
            received: Arc::new(Notify::new()),
        };
        let router = Router::new()
            .route("/2010-04-01/Accounts/{account}/Messages.json", post(create_message))
            .with_state(mock.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "mock provider stopped");
            }
        });
        Ok(mock)
    }

    fn state(&self) -> MutexGuard<'_, MockState> {
        // Nothing panics while holding the lock; if something did, the recorded texts are still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, each accepted text is followed by signed `sent` and `delivered` callbacks to the
    /// service at `service_url`.
    pub fn deliver_automatically(&self, service_url: &str) {
        self.state().auto_deliver = Some(service_url.to_owned());
    }

    /// The next create request gets this answer instead of 201.
    pub fn script(&self, answer: Scripted) {
        self.state().script.push_back(answer);
    }

    /// The next create request to `to` gets this answer instead of 201.
    pub fn script_for(&self, to: &str, answer: Scripted) {
        self.state().script_by_recipient.push((to.to_owned(), answer));
    }

    /// Every successful answer waits this long first, to keep requests in flight.
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// From now on, every accepted text gets this same sid.
    pub fn repeat_sid(&self, sid: &str) {
        self.state().repeated_sid = Some(sid.to_owned());
    }

    /// Every create request received, in order, accepted or not.
    pub fn requests(&self) -> Vec<ReceivedText> {
        self.state().requests.clone()
    }

    /// Requests answered 201.
    pub fn accepted(&self) -> Vec<ReceivedText> {
        self.requests().into_iter().filter(|r| r.sid.is_some()).collect()
    }

    /// Waits (bounded) until at least `count` requests were accepted; `None` if they were not in time.
    pub async fn wait_for_accepted(&self, count: usize, limit: Duration) -> Option<Vec<ReceivedText>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.received.notified();
            let accepted = self.accepted();
            if accepted.len() >= count {
                return Some(accepted);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Checks off the first accepted text to `to` containing `words` that was not checked off yet.
    /// The error lists what `to` was sent, for the failure message.
    pub fn expect(&self, to: &str, words: &str) -> Result<ReceivedText, String> {
        let mut state = self.state();
        let found = state
            .requests
            .iter_mut()
            .find(|t| t.sid.is_some() && !t.expected && t.to == to && t.body.contains(words));
        match found {
            Some(text) => {
                text.expected = true;
                Ok(text.clone())
            }
            None => {
                let sent: Vec<String> = state
                    .requests
                    .iter()
                    .filter(|t| t.sid.is_some() && t.to == to)
                    .map(|t| format!("{}{}", if t.expected { "(already expected) " } else { "" }, t.body))
                    .collect();
                Err(format!("no text to {to} containing `{words}`; it was sent: {sent:#?}"))
            }
        }
    }

    /// Accepted texts nobody expected: a scenario ends by checking this is empty.
    pub fn unexpected(&self) -> Vec<ReceivedText> {
        self.state()
            .requests
            .iter()
            .filter(|t| t.sid.is_some() && !t.expected)
            .cloned()
            .collect()
    }

    /// Posts an inbound text to the service, signed as Twilio signs it: over `public_url` (what the service
    /// believes its address is), delivered to `service_url` (where it really listens).
    pub async fn send_inbound(
        &self,
        service_url: &str,
        public_url: &str,
        from: &str,
        body: &str,
    ) -> reqwest::Result<reqwest::StatusCode> {
        let sid = {
            let mut state = self.state();
            state.next_sid += 1;
            // A high bit keeps inbound sids apart from the ones the mock gives outbound texts.
            format!("SM{:032x}", u128::from(state.next_sid) | (1 << 100))
        };
        let response = self
            .send_inbound_with_sid(service_url, public_url, from, body, &sid)
            .await?;
        Ok(response.status())
    }

    /// Like [`MockProvider::send_inbound`], with a chosen `MessageSid` (to replay one, say); answers the
    /// service's whole response.
    pub async fn send_inbound_with_sid(
        &self,
        service_url: &str,
        public_url: &str,
        from: &str,
        body: &str,
        sid: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let params = inbound_params(from, body, sid);
        let signature =
            crate::provider::signature::compute(AUTH_TOKEN, &format!("{public_url}/webhooks/twilio/sms"), &params);
        reqwest::Client::new()
            .post(format!("{service_url}/webhooks/twilio/sms"))
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
            .await
    }

    /// Posts a status callback for `text` to the service at `service_url`, signed like Twilio signs it:
    /// over the callback URL exactly as it was given in the create request.
    pub async fn send_status(
        &self,
        service_url: &str,
        text: &ReceivedText,
        status: &str,
        error_code: Option<i64>,
    ) -> reqwest::Result<reqwest::StatusCode> {
        let callback = text.status_callback.clone().unwrap_or_default();
        let mut params = vec![
            ("MessageSid".to_owned(), text.sid.clone().unwrap_or_default()),
            ("MessageStatus".to_owned(), status.to_owned()),
            ("SmsStatus".to_owned(), status.to_owned()),
            ("AccountSid".to_owned(), ACCOUNT_SID.to_owned()),
            ("To".to_owned(), text.to.clone()),
            ("From".to_owned(), FROM.to_owned()),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
        ];
        if let Some(code) = error_code {
            params.push(("ErrorCode".to_owned(), code.to_string()));
        }
        let signature = crate::provider::signature::compute(AUTH_TOKEN, &callback, &params);
        // The callback names the public URL; deliver it to wherever the service really listens.
        let path = callback
            .find("/webhooks/")
            .map_or("/webhooks/twilio/status", |at| &callback[at..]);
        Ok(reqwest::Client::new()
            .post(format!("{service_url}{path}"))
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
            .await?
            .status())
    }
}

/// The form Twilio posts for an inbound SMS (docs/provider-protocol.md).
pub fn inbound_params(from: &str, body: &str, sid: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", FROM),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

async fn create_message(
    State(mock): State<MockProvider>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let authorized = account == ACCOUNT_SID
        && headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    if !authorized {
        return twilio_error(401, 20003, None);
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (Some(to), Some(text_body)) = (field("To"), field("Body")) else {
        return twilio_error(400, 21604, None);
    };
    let mut received = ReceivedText {
        to: to.clone(),
        from: field("From"),
        body: text_body.clone(),
        status_callback: field("StatusCallback"),
        sid: None,
        expected: false,
        at: jiff::Timestamp::now(),
    };
    let (scripted, delay) = {
        let mut state = mock.state();
        let for_recipient = state
            .script_by_recipient
            .iter()
            .position(|(recipient, _)| *recipient == to);
        let scripted = match for_recipient {
            Some(index) => Some(state.script_by_recipient.remove(index).1),
            None => state.script.pop_front(),
        };
        (scripted, state.delay)
    };
    let answer = match scripted {
        Some(Scripted::Fail {
            status,
            code,
            retry_after,
        }) => Some(twilio_error(status, code.unwrap_or(i64::from(status)), retry_after)),
        Some(Scripted::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            Some(twilio_error(503, 20500, None))
        }
        None => None,
    };
    if let Some(answer) = answer {
        mock.record(received);
        return answer;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (sid, auto_deliver) = {
        let mut state = mock.state();
        state.next_sid += 1;
        let sid = state
            .repeated_sid
            .clone()
            .unwrap_or_else(|| format!("SM{:032x}", state.next_sid));
        (sid, state.auto_deliver.clone())
    };
    received.sid = Some(sid.clone());
    if let Some(service_url) = auto_deliver
        && received.status_callback.is_some()
    {
        let (mock, text) = (mock.clone(), received.clone());
        tokio::spawn(async move {
            for status in ["sent", "delivered"] {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Err(err) = mock.send_status(&service_url, &text, status, None).await {
                    tracing::warn!(error = %err, "mock provider could not post a status callback");
                }
            }
        });
    }
    mock.record(received);
    (
        StatusCode::CREATED,
        Json(json!({
            "sid": sid, "account_sid": ACCOUNT_SID, "from": field("From"), "to": to, "body": text_body,
            "status": "queued", "direction": "outbound-api", "num_segments": "1", "num_media": "0",
            "error_code": null, "error_message": null, "api_version": "2010-04-01",
        })),
    )
        .into_response()
}

impl MockProvider {
    fn record(&self, text: ReceivedText) {
        self.state().requests.push(text);
        self.received.notify_waiters();
    }
}

fn twilio_error(status: u16, code: i64, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = Json(json!({
        "code": code, "message": format!("mock error {code}"),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16(),
    }));
    match retry_after {
        Some(seconds) => (status, [(header::RETRY_AFTER, seconds.to_string())], body).into_response(),
        None => (status, body).into_response(),
    }
}
