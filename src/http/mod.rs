//! The HTTP surface: the API (with its roles and audit log), the provider's webhooks, and the health check.
//! Handlers stay thin: they parse, call a use case in [`crate::service`] (or read a list from storage), and
//! answer. Each module owns its routes; this one merges them.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod console;
pub mod enrollments;
pub mod error;
mod extract;
pub mod limits;
pub mod oncall;
pub mod openapi;
pub mod reminders;
pub mod request_log;
pub mod safety_plans;
pub mod security;
pub mod webhooks;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, middleware};
use secrecy::SecretString;
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::CatalogService;
use crate::escalation::readiness::{self, Check, Status};
use crate::inbound::intake::Intake;
use crate::scheduler::Scheduler;
use crate::scheduling::{Clock, QuietHours};
use crate::service::Services;
use crate::storage::Store;
use crate::templates::SharedCatalog;

pub use error::ApiError;
pub use limits::HttpLimits;

/// Bodies larger than this are refused with 413: Twilio's own webhook limit, and far above any real request.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler may use.
pub struct AppState {
    pub store: Store,
    pub catalog: SharedCatalog,
    /// Saves and loads catalog versions (schedule and template edits).
    pub catalogs: CatalogService,
    pub clock: Clock,
    pub scheduler: Arc<Scheduler>,
    /// Inbound texts, handled in groups that share one commit.
    pub inbound: Intake,
    /// False only when explicitly configured for local trials with the log provider.
    pub verify_signatures: bool,
    pub quiet_hours: QuietHours,
    /// What a medication reminder pattern may ask for.
    pub medication_limits: crate::scheduling::medication_limits::MedicationLimits,
    /// How long before an appointment its reminders go.
    pub appointment_reminders: Vec<jiff::SignedDuration>,
    /// The bootstrap admin token (`TETHER_ADMIN_TOKEN`), beside the tokens in the database.
    pub admin_token: Option<SecretString>,
    /// Key for provider webhook signatures (the Twilio auth token); `None` refuses every webhook.
    pub webhook_key: Option<SecretString>,
    /// Console sign-in attempts per address.
    pub sign_in_limiter: crate::http::console::SignInLimiter,
    /// `serve --sandbox`: the mock provider and the phone simulator's record.
    pub sandbox: Option<Arc<crate::sandbox::serve::Phones>>,
    /// `TETHER_PUBLIC_URL`, the base of the URL the provider signs.
    pub public_url: Option<String>,
    /// Whose header names the caller's address (`TETHER_TRUSTED_PROXY`).
    pub trusted_proxy: crate::config::TrustedProxy,
    /// `TETHER_FALLBACK_PAGE_TO`, for the readiness check behind the console's banner and `/healthz`.
    pub fallback_page_to: crate::domain::phone::FallbackNumbers,
}

impl AppState {
    /// The use cases' view of this state (see [`crate::service`]).
    pub fn services(&self) -> Services<'_> {
        Services {
            store: &self.store,
            catalog: &self.catalog,
            catalogs: &self.catalogs,
            clock: &self.clock,
            scheduler: &self.scheduler,
            quiet_hours: &self.quiet_hours,
            medication_limits: &self.medication_limits,
            appointment_reminders: &self.appointment_reminders,
        }
    }

    /// Cookies are `Secure` when the service's public address is https, whatever `Host` a request names.
    /// The sandbox's public address is made up (its browser talks plain HTTP to this machine), so not there.
    pub fn cookies_secure(&self) -> bool {
        self.sandbox.is_none()
            && self
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
    }
}

/// Every route the service answers. The routes and their OpenAPI description are built together (see
/// [`openapi`]), so neither can leave out what the other has; the description covers everything but the
/// console's pages (HTML for people, not an API) and the docs themselves.
pub fn router(state: Arc<AppState>, limits: &HttpLimits) -> Router {
    // route_layer: only matched routes are authenticated and audited, so a 404 is not an audit entry.
    let (api, mut description) = OpenApiRouter::with_openapi(openapi::base())
        .merge(admin::router())
        .merge(auth::router())
        .merge(catalog::router())
        .merge(enrollments::router())
        .merge(oncall::router())
        .merge(reminders::router())
        .merge(safety_plans::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .split_for_parts();
    openapi::describe_api_access(&mut description);
    let (health_route, health_description) = OpenApiRouter::new().routes(routes!(health)).split_for_parts();
    let (webhook_routes, webhook_description) = webhooks::router().split_for_parts();
    description.merge(health_description);
    description.merge(webhook_description);
    // The API and the console are shed when busy and cut short when slow (see `limits`). Live-update
    // streams, when they come, merge beside the webhooks below: outside the whole-request timeout, each
    // behind a cap of its own.
    let people = Router::new()
        .merge(openapi::docs(description))
        .merge(api)
        .merge(crate::http::console::router(state.clone()))
        .layer(middleware::from_fn_with_state(
            limits::InFlight::new(limits),
            limits::shed,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    Router::new()
        .merge(health_route.layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        )))
        .merge(people)
        .merge(webhook_routes)
        .layer(RequestBodyDeadlineLayer::new(limits.body_timeout))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(error::api_errors_as_json))
        .layer(middleware::map_response(security::add_headers))
        .layer(middleware::from_fn(request_log::log_requests))
        .with_state(state)
}

/// What `/healthz` tells a caller with a valid token.
#[derive(Serialize, ToSchema)]
struct HealthReport {
    /// Always `ok`: the service is up when it answers at all.
    status: &'static str,
    /// Whether a crisis text would reach someone now: every check passed without a problem.
    paging_ready: bool,
    checks: Vec<Check>,
}

/// Up when the database answers: a service that cannot reach its state cannot send or receive anything.
/// Whether a crisis would reach someone never changes the status (a missing policy must not get the
/// service restarted by its supervisor); a caller with a valid token gets each check's detail as JSON,
/// anyone else just the status.
#[utoipa::path(get, path = "/healthz", tag = "health", security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Up. Without a token: `ok`; with a valid one, each check's detail",
            content((String = "text/plain", example = "ok"), (HealthReport = "application/json"))),
        (status = 503, description = "The database does not answer", content_type = "text/plain", body = String),
    ))]
async fn health(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(err) = state.store.ping().await {
        tracing::error!(error = %err, "health check: database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
    }
    let caller = match auth::bearer(&headers) {
        Some(token) => auth::resolve(&state, token).await.ok().flatten(),
        None => None,
    };
    if caller.is_none() {
        return (StatusCode::OK, "ok").into_response();
    }
    let mut checks = vec![Check {
        name: "database",
        status: Status::Ok,
        detail: "answers".into(),
    }];
    match readiness::assess(&state.store, &state.fallback_page_to, state.clock.now()).await {
        Ok(report) => checks.extend(report.checks),
        Err(err) => {
            tracing::error!(error = %err, "health check: cannot check whether crisis paging is ready");
            checks.push(Check {
                name: "paging",
                status: Status::Problem,
                detail: "could not check whether crisis paging is ready; see the log".into(),
            });
        }
    }
    let paging_ready = checks.iter().all(|c| c.status != Status::Problem);
    (
        StatusCode::OK,
        Json(HealthReport {
            status: "ok",
            paging_ready,
            checks,
        }),
    )
        .into_response()
}
