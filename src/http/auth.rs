//! Who is calling, and the audit trail of what they did.
//!
//! [`authenticate`] runs in front of every `/api/v1` route: it turns a bearer token (an API token, or the
//! bootstrap `TETHER_ADMIN_TOKEN`) into a [`Caller`] for the handlers, and after the handler has answered
//! it records in the audit log every change, every refusal, and every read of a client's messages. The
//! record is written before the response leaves, so nothing the log should hold can happen without it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::Concealed;
use super::{ApiError, AppState};
use crate::access::{Caller, hash_secret};
use crate::storage::NewAuditEntry;

/// Set on a response by a handler whose read must be audited (a client's messages, say).
#[derive(Clone, Copy)]
pub struct AuditedRead;

/// Set on the response of a POST that changes nothing (the schedule editor's preview), so the audit log
/// holds changes rather than keystrokes.
#[derive(Clone, Copy)]
pub struct ChangesNothing;

/// Resolves the bearer token, runs the handler, and writes the audit record.
pub async fn authenticate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let caller = match bearer(request.headers()) {
        Some(token) => match resolve(&state, token).await {
            Ok(caller) => caller,
            Err(err) => return err.into_response(),
        },
        None => None,
    };
    if let Some(caller) = &caller {
        request.extensions_mut().insert(caller.clone());
    }
    run_audited(&state, caller.as_ref(), request, next).await
}

/// Runs the handler, then records the request in the audit log if it changed something, was refused, or
/// read a client's messages. Shared by the API and the console.
pub async fn run_audited(state: &AppState, caller: Option<&Caller>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let response = next.run(request).await;

    let status = response.status();
    let read_of_messages = response.extensions().get::<AuditedRead>().is_some();
    let is_change = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && response.extensions().get::<ChangesNothing>().is_none();
    let concealed = response.extensions().get::<Concealed>().is_some();
    let refused = concealed || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    if !(is_change || refused || read_of_messages) {
        return response;
    }
    let entry = NewAuditEntry {
        actor: caller.map_or("anonymous", |c| c.name.as_str()),
        role: caller.map(|c| c.role),
        action: &format!("{method} {route}"),
        target: &path,
        outcome: if concealed { "denied" } else { outcome(status) },
        status: status.as_u16(),
    };
    // An action that cannot be recorded is reported as failed: the audit trail must not have gaps. The
    // action itself has happened by now; the error tells the caller to check before retrying.
    if let Err(err) = state.store.record_audit(&entry, state.clock.now()).await {
        return ApiError::Internal(anyhow::Error::new(err).context("cannot write the audit log")).into_response();
    }
    response
}

fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        // A form post answered with a redirect to the next page succeeded.
        200..=399 => "ok",
        401 => "unauthenticated",
        403 => "denied",
        404 => "not_found",
        409 => "conflict",
        400 | 413 | 415 | 422 => "invalid",
        _ => "error",
    }
}

pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The caller a presented token stands for; a wrong or revoked token is a 401 (and audited as one by the
/// caller of this function through the response).
pub(crate) async fn resolve(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    if let Some(bootstrap) = &state.admin_token
        // Constant-time, so response timing does not reveal how much of a guessed token was right.
        && bool::from(token.as_bytes().ct_eq(bootstrap.expose_secret().as_bytes()))
    {
        return Ok(Some(Caller::bootstrap()));
    }
    Ok(state
        .store
        .token_caller(&hash_secret(token))
        .await?
        .map(|(_, caller)| caller))
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or(ApiError::Unauthorized)
    }
}

/// A caller who may change things (staff or admin). An extractor, so a viewer is refused before the
/// request body is even read: a refusal never depends on, or reveals, whether the body was valid.
pub struct Writer(pub Caller);

impl FromRequestParts<Arc<AppState>> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.check_write().map_err(ApiError::Forbidden)?;
        Ok(Writer(caller))
    }
}

/// A caller with the admin role; refused before the body is read, like [`Writer`].
pub struct AdminOnly(pub Caller);

impl FromRequestParts<Arc<AppState>> for AdminOnly {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.check_admin().map_err(ApiError::Forbidden)?;
        Ok(AdminOnly(caller))
    }
}

/// Marks a response as a read the audit log must record.
pub fn audited<R: IntoResponse>(response: R) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(AuditedRead);
    response
}

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Entries older than this entry id (the `id` of the last entry of the previous page).
    before: Option<i64>,
    /// How many entries, 1 to 1000; 100 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of the audit log", body = Vec<crate::storage::AuditEntry>),
        (status = 403, description = "Only admins read the audit log", body = super::error::ErrorBody)))]
async fn audit_log(
    AdminOnly(_): AdminOnly,
    State(state): State<Arc<AppState>>,
    super::extract::Query(query): super::extract::Query<AuditQuery>,
) -> Result<axum::Json<Vec<crate::storage::AuditEntry>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Invalid(crate::domain::FieldError::new(
            "limit",
            "must be between 1 and 1000",
        )));
    }
    Ok(axum::Json(state.store.audit_log(query.before, limit).await?))
}
