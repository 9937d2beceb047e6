//! The HTTP boundary's one error type: each variant knows its status, and the body always says which field
//! was wrong and why. Internal errors are logged with their cause chain and answered with an opaque 500.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::request_log::RequestId;

use crate::domain::FieldError;
use crate::service::ServiceError;
use crate::storage::StoreError;

/// Every error the API answers with, whoever raised it (a handler, axum, or a layer).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error as the API answers it; the request id is added on the way out (see [`api_errors_as_json`]).
    pub fn new(code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                field,
                request_id: None,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `unauthorized`, `forbidden`, `not_found`, `invalid`, `conflict`,
    /// `unsupported_media_type`, `method_not_allowed`, `payload_too_large`, `timeout`, `unavailable`,
    /// `bad_request` or `internal`.
    #[schema(example = "invalid")]
    pub code: &'static str,
    /// What went wrong, for people.
    #[schema(example = "must be an IANA time zone like America/Chicago")]
    pub message: String,
    /// The request field that was wrong (`timezone`, `steps[2].day`…), when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "timezone")]
    pub field: Option<String>,
    /// The request's id, as in its log line (under `/api/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("request signature missing or invalid")]
    BadSignature,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Something the caller may not see: answered exactly like [`ApiError::NotFound`], so a refusal does
    /// not tell that it exists, and recorded in the audit log as a refusal.
    #[error("{0} not found")]
    Hidden(&'static str),
    #[error("invalid {0}")]
    Invalid(FieldError),
    #[error("conflict on {0}")]
    Conflict(FieldError),
    #[error("unsupported content type; send application/json")]
    UnsupportedMediaType,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// A use case's refusal, answered with the status that says why.
impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Forbidden(why) => ApiError::Forbidden(why),
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Hidden(what) => ApiError::Hidden(what),
            ServiceError::Invalid(err) => ApiError::Invalid(err),
            ServiceError::Conflict(err) => ApiError::Conflict(err),
            ServiceError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::Internal(anyhow::Error::new(err))
    }
}

/// Client errors the API's handlers never see (an unknown route, a wrong method, a body over the limit)
/// are answered by axum and tower-http in plain text; under `/api/` they get the documented JSON shape too.
/// Every API error body also carries the request's id (`error.request_id`), the one in its log line.
pub async fn api_errors_as_json(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let request_id = request.extensions().get::<RequestId>().map(ToString::to_string);
    let response = next.run(request).await;
    let status = response.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (parts, body) = response.into_parts();
    // The handlers' own errors: small bodies, read whole to add the id.
    let handlers_own = if is_json {
        axum::body::to_bytes(body, ERROR_BODY_LIMIT)
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    } else {
        None
    };
    let mut replaced = match handlers_own {
        Some(mut document) => {
            if let (Some(id), Some(error)) = (request_id, document.get_mut("error").and_then(Value::as_object_mut)) {
                error.insert("request_id".into(), Value::String(id));
            }
            (status, Json(document)).into_response()
        }
        None => {
            let mut document = undocumented(status);
            document.error.request_id = request_id;
            (status, Json(document)).into_response()
        }
    };
    // Whatever else the answer said (Allow, Retry-After…) still holds; only the body and its type change.
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            replaced.headers_mut().append(name.clone(), value.clone());
        }
    }
    replaced.extensions_mut().extend(parts.extensions);
    replaced
}

/// An API error body is a few hundred bytes; anything longer is not one of ours.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The documented shape for an error axum or tower-http answered in plain text.
fn undocumented(status: StatusCode) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the body is larger than 64 KiB"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long; try again"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is busy; try again shortly"),
        status if status.is_server_error() => ("internal", "internal error"),
        _ => ("bad_request", "the request could not be read"),
    };
    let field = (status == StatusCode::PAYLOAD_TOO_LARGE).then(|| "body".to_owned());
    ErrorBody::new(code, message, field)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field, message) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None, self.to_string()),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", None, self.to_string()),
            ApiError::BadSignature => (StatusCode::FORBIDDEN, "forbidden", None, self.to_string()),
            ApiError::NotFound(_) | ApiError::Hidden(_) => (StatusCode::NOT_FOUND, "not_found", None, self.to_string()),
            ApiError::Invalid(err) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                Some(err.field.clone()),
                err.message.clone(),
            ),
            ApiError::Conflict(err) => (
                StatusCode::CONFLICT,
                "conflict",
                Some(err.field.clone()),
                err.message.clone(),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
                self.to_string(),
            ),
            ApiError::Internal(err) => {
                tracing::error!(error = %err, cause = ?err.chain().skip(1).map(ToString::to_string).collect::<Vec<_>>(), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    None,
                    "internal error".to_owned(),
                )
            }
        };
        let mut response = (status, Json(ErrorBody::new(code, message, field))).into_response();
        if matches!(self, ApiError::Hidden(_)) {
            response.extensions_mut().insert(Concealed);
        }
        response
    }
}

/// Set on a 404 that stands for a refusal (see [`ApiError::Hidden`]), so the audit log records it as one.
#[derive(Clone, Copy)]
pub struct Concealed;
