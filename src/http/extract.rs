//! JSON bodies, path parameters and query strings whose errors name the field, in the documented shape.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::header;
use axum::http::request::Parts;
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
            .is_some_and(is_json_media_type);
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

/// `application/json`, with or without parameters (`; charset=utf-8`), in any case; not
/// `application/jsonfoo`.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn field_error(err: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let (field, message) = field_and_message(err, "body");
    // Strip serde_json's position suffix: the field name says where.
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    FieldError::new(field, message)
}

/// The field a deserializing error is about, and its message; `whole` names the input when the error is
/// about no field in particular.
fn field_and_message<E: std::fmt::Display>(err: serde_path_to_error::Error<E>, whole: &str) -> (String, String) {
    let path = err.path().to_string();
    let message = err.into_inner().to_string();
    // serde reports missing and unknown fields at the parent; the name is in the message, in backticks.
    let named = if message.starts_with("missing field") || message.starts_with("unknown field") {
        message.split('`').nth(1).map(str::to_owned)
    } else {
        None
    };
    let field = match named {
        Some(name) => name,
        None if path == "." => whole.to_owned(),
        None => path,
    };
    (field, message)
}

/// Path parameters. Unlike axum's `Path`, an id that does not parse is a 422 in the documented shape,
/// naming the parameter as the route spells it (`id` in `/api/v1/clients/{id}`).
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                let route_names: Vec<String> = parts
                    .extensions
                    .get::<MatchedPath>()
                    .map(|matched| parameter_names(matched.as_str()))
                    .unwrap_or_default();
                Err(ApiError::Invalid(path_error(rejection, &route_names)))
            }
        }
    }
}

/// `{id}` and `{name}` in a route, in order.
fn parameter_names(route: &str) -> Vec<String> {
    route
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| name.trim_start_matches('*').to_owned())
        .collect()
}

fn path_error(rejection: PathRejection, route_names: &[String]) -> FieldError {
    let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
        return FieldError::new("path", rejection.body_text());
    };
    let (field, value, expected) = match failed.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => (key.clone(), value.clone(), *expected_type),
        ErrorKind::ParseErrorAtIndex {
            index,
            value,
            expected_type,
        } => (
            route_names.get(*index).cloned().unwrap_or_else(|| "path".to_owned()),
            value.clone(),
            *expected_type,
        ),
        ErrorKind::ParseError { value, expected_type } => (
            route_names.first().cloned().unwrap_or_else(|| "path".to_owned()),
            value.clone(),
            *expected_type,
        ),
        _ => return FieldError::new("path", failed.body_text()),
    };
    let what = if expected.ends_with("i64") || expected.ends_with("u32") {
        "a whole number"
    } else {
        "a valid value"
    };
    FieldError::new(field, format!("`{value}` is not {what}"))
}

/// A query string. Unlike axum's `Query`, a bad or unknown parameter is a 422 in the documented shape,
/// naming the parameter.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|err| {
                let (field, message) = field_and_message(err, "query");
                ApiError::Invalid(FieldError::new(field, message))
            })
    }
}
