//! The Twilio Messages API, as spoken by Twilio, SignalWire's compatibility API and the test mock:
//! `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, HTTP Basic auth.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Accepted, OutgoingText, SendError, Sender, classify};

#[derive(Clone, Debug)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: SecretString,
}

#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    messages_url: String,
    credentials: TwilioCredentials,
    sender: Sender,
}

#[derive(Deserialize)]
struct CreatedMessage {
    sid: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioClient {
    /// `api_base` is the scheme and host, like `https://api.twilio.com`; `timeout` bounds each request.
    pub fn new(
        api_base: &str,
        credentials: TwilioCredentials,
        sender: Sender,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        // reqwest is built without a bundled crypto provider (ring builds in a fraction of aws-lc's time);
        // installing it twice is harmless, so every constructor makes sure.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("tether/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let messages_url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            api_base.trim_end_matches('/'),
            credentials.account_sid
        );
        Ok(Self {
            http,
            messages_url,
            credentials,
            sender,
        })
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    pub async fn send(&self, text: &OutgoingText<'_>) -> Result<Accepted, SendError> {
        let mut form: Vec<(&str, &str)> = vec![("To", text.to)];
        match &self.sender {
            Sender::Number(from) => form.push(("From", from)),
            Sender::MessagingService(sid) => form.push(("MessagingServiceSid", sid)),
        }
        form.push(("Body", text.body));
        if let Some(callback) = &text.status_callback {
            form.push(("StatusCallback", callback));
        }

        let response = self
            .http
            .post(&self.messages_url)
            .basic_auth(
                &self.credentials.account_sid,
                Some(self.credentials.auth_token.expose_secret()),
            )
            .form(&form)
            .send()
            .await
            .map_err(|err| SendError::Retryable {
                reason: if err.is_timeout() {
                    "request timed out".into()
                } else {
                    format!("request failed: {}", error_chain(&err))
                },
                retry_after: None,
            })?;

        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(|err| SendError::Retryable {
            reason: format!("response body lost: {}", error_chain(&err)),
            retry_after: None,
        })?;

        if (200..300).contains(&status) {
            let created: CreatedMessage = serde_json::from_slice(&body).map_err(|_| SendError::Rejected {
                status,
                code: None,
                message: "success response was not the JSON message resource".into(),
            })?;
            return match created.sid {
                Some(sid) if !sid.is_empty() => Ok(Accepted {
                    sid,
                    status: created.status,
                }),
                _ => Err(SendError::Rejected {
                    status,
                    code: None,
                    message: "success response carried no message sid".into(),
                }),
            };
        }
        // Error bodies are JSON from Twilio, but proxies and other providers may answer with anything.
        let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        Err(classify(
            status,
            error.code,
            error.message.unwrap_or_else(|| format!("HTTP {status}")),
            retry_after,
        ))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
