//! Callbacks from the provider. Every one must carry a valid `X-Twilio-Signature` computed over
//! `TETHER_PUBLIC_URL` + the path and query it called: the Host header and proxy headers are never trusted.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use secrecy::ExposeSecret;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{ApiError, AppState};
use crate::domain::{OutboxStatus, ProviderStatus};
use crate::inbound::{InboundText, Receipt};
use crate::provider::signature;
use crate::scheduler::Wake;

/// An empty TwiML answer: nothing to say back.
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;
/// Twilio's error code for "the recipient has opted out"; it can also arrive in a status callback.
const OPTED_OUT: i64 = 21610;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(inbound_sms))
        .routes(routes!(status_callback))
}

/// The verified form parameters of a provider webhook.
struct SignedForm(Vec<(String, String)>);

impl SignedForm {
    fn verify(state: &AppState, uri: &axum::http::Uri, headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        if !state.verify_signatures {
            return Ok(Self(params));
        }
        let (Some(key), Some(public_url)) = (&state.webhook_key, &state.public_url) else {
            tracing::warn!("webhook refused: TWILIO_AUTH_TOKEN and TETHER_PUBLIC_URL are both needed to verify it");
            return Err(ApiError::BadSignature);
        };
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let url = format!("{public_url}{path}");
        let presented = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::BadSignature)?;
        if !signature::verify(key.expose_secret(), &url, &params, presented) {
            tracing::warn!(path = uri.path(), "webhook refused: signature does not match");
            return Err(ApiError::BadSignature);
        }
        Ok(Self(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A field the provider may send under its current name or its older one (`MessageSid`, `SmsSid`).
    fn either(&self, name: &str, older: &str) -> &str {
        self.get(name).or_else(|| self.get(older)).unwrap_or_default()
    }
}

/// The outbox row a status callback is about, from the `outbox_id` its URL was given when the text was sent.
fn outbox_id_of(query: &str) -> Option<i64> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "outbox_id")
        .and_then(|(_, v)| v.parse::<i64>().ok())
}

/// The fields of a status callback Tether reads; the provider sends more, which are ignored.
#[derive(ToSchema)]
#[schema(rename_all = "PascalCase")]
struct StatusCallback<'a> {
    /// The provider's id of the text (`SmsSid` from older senders).
    message_sid: &'a str,
    /// `queued`, `sent`, `delivered`, `undelivered`, `failed`… (`SmsStatus` from older senders).
    message_status: &'a str,
    /// The provider's error code for a failed text, like `30003` or `21610` (opted out).
    error_code: Option<i64>,
}

impl<'a> StatusCallback<'a> {
    fn read(form: &'a SignedForm) -> Self {
        Self {
            message_sid: form.either("MessageSid", "SmsSid"),
            message_status: form.either("MessageStatus", "SmsStatus"),
            error_code: form.get("ErrorCode").and_then(|c| c.trim().parse::<i64>().ok()),
        }
    }
}

/// Delivery status for a text we sent. Status only moves forward; a 21610 here records the opt-out too.
#[utoipa::path(post, path = "/webhooks/twilio/status", tag = "webhooks",
    params(("outbox_id" = Option<i64>, Query,
        description = "The text this callback is about, as given in the callback URL when it was sent")),
    security(("twilio_signature" = [])),
    request_body(content = StatusCallback, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded (or stale, and ignored): an empty TwiML answer",
            content_type = "text/xml", body = String, example = json!(EMPTY_TWIML)),
        (status = 403, description = "The signature is missing or does not match", body = ErrorBody),
    ))]
async fn status_callback(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form = SignedForm::verify(&state, &uri, &headers, &body)?;
    let outbox_id = uri.query().and_then(outbox_id_of);
    let StatusCallback {
        message_sid: sid,
        message_status: reported,
        error_code,
    } = StatusCallback::read(&form);
    let Some(status) = ProviderStatus::parse(reported) else {
        tracing::debug!(status = reported, "status callback with a status we do not track");
        return Ok(twiml());
    };
    if sid.is_empty() && outbox_id.is_none() {
        tracing::warn!("status callback names no message");
        return Ok(twiml());
    }
    let now = state.clock.now();
    match state
        .store
        .apply_provider_status(outbox_id, sid, status, error_code, now)
        .await?
    {
        Some((id, client_id)) => {
            tracing::info!(
                outbox_id = id,
                sid,
                status = status.name,
                error_code,
                "delivery status recorded"
            );
            if let (Some(OPTED_OUT), Some(client_id)) = (error_code, client_id) {
                state
                    .store
                    .record_opt_out(client_id, "opted out at the provider (21610)", now)
                    .await?;
            }
            // An undelivered page moves its escalation on now (only if it was the chain's latest page).
            if matches!(status.outcome, Some(OutboxStatus::Failed | OutboxStatus::Undelivered))
                && state
                    .store
                    .page_failed(id, &format!("page {}", status.name), now)
                    .await?
            {
                state.scheduler.wake(Wake::UrgentLane);
            }
        }
        None => tracing::debug!(sid, status = status.name, "stale or duplicate status callback ignored"),
    }
    Ok(twiml())
}

/// A text to the service number. It is stored, with everything it causes, before the provider gets its 200;
/// a retry of the same `MessageSid` is answered the same way and changes nothing. Replies go out through
/// the outbox (tracked, retried, status-called-back), not in the TwiML answer.
#[utoipa::path(post, path = "/webhooks/twilio/sms", tag = "webhooks",
    security(("twilio_signature" = [])),
    request_body(content = InboundText, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Stored with everything it causes: an empty TwiML answer",
            content_type = "text/xml", body = String, example = json!(EMPTY_TWIML)),
        (status = 403, description = "The signature is missing or does not match", body = ErrorBody),
        (status = 422, description = "No `MessageSid`", body = ErrorBody),
    ))]
async fn inbound_sms(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form = SignedForm::verify(&state, &uri, &headers, &body)?;
    let Some(message_sid) = form
        .get("MessageSid")
        .or_else(|| form.get("SmsMessageSid"))
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::Invalid(crate::domain::FieldError::new(
            "MessageSid",
            "is missing",
        )));
    };
    let text = InboundText {
        message_sid: message_sid.to_owned(),
        from: form.get("From").unwrap_or_default().to_owned(),
        to: form.get("To").unwrap_or_default().to_owned(),
        body: form.get("Body").unwrap_or_default().to_owned(),
        opt_out_type: form.get("OptOutType").filter(|t| !t.is_empty()).map(str::to_owned),
    };
    if let Receipt::Handled { wake, .. } = state.inbound.receive(text).await? {
        // Replies and pages are in the outbox; wake the dispatcher rather than wait for its next deadline.
        state.scheduler.wake(wake);
    }
    Ok(twiml())
}

fn twiml() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], EMPTY_TWIML)
}
