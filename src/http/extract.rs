//! JSON bodies whose errors name the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::FieldError;

/// A JSON body. Unlike axum's `Json`, a malformed body is answered with the path of the offending field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|err| ApiError::Invalid(FieldError::new("body", err.body_text())))?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(JsonBody)
            .map_err(|err| ApiError::Invalid(field_error(err)))
    }
}

fn field_error(err: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = inner.to_string();
    // serde reports missing and unknown fields at the parent; the name is in the message, in backticks.
    let named = if message.starts_with("missing field") || message.starts_with("unknown field") {
        message.split('`').nth(1).map(str::to_owned)
    } else {
        None
    };
    let field = match named {
        Some(name) => name,
        None if path == "." => "body".to_owned(),
        None => path,
    };
    // Strip serde_json's position suffix: the field name says where.
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    FieldError::new(field, message)
}
