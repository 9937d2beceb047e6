//! The web console at `/console`: server-rendered pages with a little JavaScript (the schedule editor's live
//! preview), served by the same binary, no front-end build.
//!
//! Sign-in takes an API token (the role comes with it) and opens a session: an HttpOnly, SameSite=Strict
//! cookie, Secure when `TETHER_PUBLIC_URL` is https, with a CSRF token that every form and script request must carry.
//! The console works through the same rules and audit trail as the API ([`crate::http::auth`]).

mod pages;
mod sandbox;
mod session;

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use governor::DefaultKeyedRateLimiter;
use minijinja::Environment;
use serde::Deserialize;

use crate::access::Caller;
use crate::http::auth::{resolve, run_audited};
use crate::http::{ApiError, AppState};
use crate::service::ServiceError;
use crate::storage::NewAuditEntry;
use session::{SESSION_COOKIE, SESSION_LIFETIME, SIGN_IN_COOKIE};

pub use session::sign_in_limiter;

/// Sign-in attempts per address.
pub type SignInLimiter = Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>;

/// The signed-in caller of one console request, with the session's CSRF token.
#[derive(Clone)]
pub struct ConsoleSession {
    pub caller: Caller,
    pub csrf_token: String,
    /// The service runs with `--sandbox`: the phone simulator is there.
    pub sandbox: bool,
    /// Ways a crisis could page nobody right now, for the red banner on every page (empty when ready).
    pub paging_problems: Vec<String>,
}

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let signed_in = Router::new()
        .route("/console/clients", get(pages::clients).post(pages::create_client))
        .route("/console/clients/{id}", get(pages::client))
        .route("/console/clients/{id}/enroll", post(pages::enroll))
        .route("/console/clients/{id}/pause", post(pages::pause))
        .route("/console/clients/{id}/relay", post(pages::relay))
        .route("/console/clients/{id}/resume", post(pages::resume))
        .route("/console/clients/{id}/safety-plan", post(pages::save_plan))
        .route("/console/schedules", get(pages::schedules))
        .route(
            "/console/schedules/{name}",
            get(pages::schedule).post(pages::save_schedule),
        )
        .route("/console/schedules/{name}/preview", post(pages::preview_schedule))
        .route("/console/templates", get(pages::templates))
        .route(
            "/console/templates/{language}/{group}/{name}",
            post(pages::save_template),
        )
        .route("/console/escalations", get(pages::escalations))
        .route("/console/escalations/{id}/acknowledge", post(pages::acknowledge))
        .route("/console/escalations/{id}/resolve", post(pages::resolve))
        .route("/console/on-call", get(pages::on_call))
        .route("/console/dashboard", get(pages::dashboard))
        .route("/console/sign-out", post(sign_out))
        .route("/console/sandbox", get(sandbox::page))
        .route("/console/sandbox/messages", get(sandbox::messages))
        .route("/console/sandbox/text", post(sandbox::type_text))
        .route_layer(middleware::from_fn_with_state(state, with_session));
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/clients") }))
        .route("/console", get(|| async { Redirect::to("/console/clients") }))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .merge(signed_in)
}

/// The page templates, compiled once. `.html` names turn on MiniJinja's HTML escaping, so a client's words
/// can never become markup.
static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in [
        ("layout.html", include_str!("../../../assets/console/layout.html")),
        ("sign_in.html", include_str!("../../../assets/console/sign_in.html")),
        ("clients.html", include_str!("../../../assets/console/clients.html")),
        ("client.html", include_str!("../../../assets/console/client.html")),
        ("schedules.html", include_str!("../../../assets/console/schedules.html")),
        ("schedule.html", include_str!("../../../assets/console/schedule.html")),
        ("templates.html", include_str!("../../../assets/console/templates.html")),
        (
            "escalations.html",
            include_str!("../../../assets/console/escalations.html"),
        ),
        ("on_call.html", include_str!("../../../assets/console/on_call.html")),
        ("dashboard.html", include_str!("../../../assets/console/dashboard.html")),
        ("error.html", include_str!("../../../assets/console/error.html")),
        ("sandbox.html", include_str!("../../../assets/console/sandbox.html")),
    ] {
        // The sources are part of the binary and covered by the console tests; a broken one is a build bug.
        if let Err(err) = env.add_template(name, source) {
            tracing::error!(template = name, error = %err, "console page does not compile");
        }
    }
    env
});

/// Renders a page; the layout gets the caller and the CSRF token for its sign-out form.
fn render(name: &str, context: minijinja::Value) -> Result<Html<String>, ConsoleError> {
    PAGES
        .get_template(name)
        .and_then(|template| template.render(context))
        .map(Html)
        .map_err(|err| ConsoleError::Internal(anyhow::Error::new(err).context(format!("rendering {name}"))))
}

/// What goes wrong in the console, answered as a page rather than JSON.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("sign in first")]
    SignIn,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Answered like [`ConsoleError::NotFound`] and audited as a refusal (see [`ApiError::Hidden`]).
    #[error("{0} not found")]
    Hidden(&'static str),
    #[error("the form expired or came from another site; reload the page and try again")]
    Csrf,
    /// A form the page could not show again with the problem beside it.
    #[error("{}: {}", .0.field, .0.message)]
    Refused(crate::domain::FieldError),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Forbidden(why) => ConsoleError::Forbidden(why),
            ApiError::NotFound(what) => ConsoleError::NotFound(what),
            ApiError::Hidden(what) => ConsoleError::Hidden(what),
            ApiError::Unauthorized => ConsoleError::SignIn,
            other => ConsoleError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

/// A use case's refusal, for the pages that do not show it beside the form that caused it.
impl From<ServiceError> for ConsoleError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Forbidden(why) => ConsoleError::Forbidden(why),
            ServiceError::NotFound(what) => ConsoleError::NotFound(what),
            ServiceError::Hidden(what) => ConsoleError::Hidden(what),
            ServiceError::Invalid(err) | ServiceError::Conflict(err) => ConsoleError::Refused(err),
            ServiceError::Internal(err) => ConsoleError::Internal(err),
        }
    }
}

impl From<crate::storage::StoreError> for ConsoleError {
    fn from(err: crate::storage::StoreError) -> Self {
        ConsoleError::Internal(err.into())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = match &self {
            ConsoleError::SignIn => return Redirect::to("/console/sign-in").into_response(),
            ConsoleError::Forbidden(_) | ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) | ConsoleError::Hidden(_) => StatusCode::NOT_FOUND,
            ConsoleError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ConsoleError::Internal(err) => {
                tracing::error!(error = %err, "console request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            ConsoleError::Internal(_) => "Something went wrong on our side; it has been logged.".to_owned(),
            other => other.to_string(),
        };
        let page = render(
            "error.html",
            minijinja::context! { message => message.clone(), status => status.as_u16() },
        )
        .map(IntoResponse::into_response)
        .unwrap_or_else(|_| message.into_response());
        let mut response = (status, page).into_response();
        if matches!(self, ConsoleError::Hidden(_)) {
            response.extensions_mut().insert(crate::http::error::Concealed);
        }
        response
    }
}

/// Resolves the session cookie into a [`ConsoleSession`] for the pages, and audits the request like the API.
async fn with_session(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let session = match session::cookie(request.headers(), SESSION_COOKIE) {
        Some(value) => match state
            .store
            .session(
                &session::session_hash(value),
                bootstrap_fingerprint(&state).as_deref(),
                state.clock.now(),
            )
            .await
        {
            Ok(session) => session,
            Err(err) => return ConsoleError::from(err).into_response(),
        },
        None => None,
    };
    let Some(session) = session else {
        return ConsoleError::SignIn.into_response();
    };
    let caller = session.caller.clone();
    // Checked on every page shown, not from the hourly log, so the banner goes the moment it is fixed.
    let paging_problems = if request.method() == axum::http::Method::GET {
        paging_problems(&state).await
    } else {
        Vec::new()
    };
    request.extensions_mut().insert(ConsoleSession {
        caller: session.caller,
        csrf_token: session.csrf_token,
        sandbox: state.sandbox.is_some(),
        paging_problems,
    });
    run_audited(&state, Some(&caller), request, next).await
}

/// The hash of today's `TETHER_ADMIN_TOKEN`, which a bootstrap session must have been opened with.
fn bootstrap_fingerprint(state: &AppState) -> Option<String> {
    use secrecy::ExposeSecret;
    state
        .admin_token
        .as_ref()
        .map(|token| crate::access::hash_secret(token.expose_secret()))
}

/// The readiness check's problems, as the banner says them; a check that cannot run says so instead of
/// leaving the banner silent.
async fn paging_problems(state: &AppState) -> Vec<String> {
    let now = state.clock.now();
    match crate::escalation::readiness::assess(&state.store, &state.fallback_page_to, now).await {
        Ok(report) => report.problems().map(|p| p.detail.clone()).collect(),
        Err(err) => {
            tracing::error!(error = %err, "console: cannot check whether crisis paging is ready");
            vec!["could not check whether crisis paging is ready; see the log".into()]
        }
    }
}

impl axum::extract::FromRequestParts<Arc<AppState>> for ConsoleSession {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ConsoleSession>()
            .cloned()
            .ok_or(ConsoleError::SignIn)
    }
}

impl ConsoleSession {
    /// Every state-changing request carries the session's CSRF token, in the form or in `X-CSRF-Token`.
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        use subtle::ConstantTimeEq;
        if bool::from(presented.as_bytes().ct_eq(self.csrf_token.as_bytes())) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

async fn sign_in_page(State(state): State<Arc<AppState>>) -> Result<Response, ConsoleError> {
    sign_in_form(&state, None, StatusCode::OK)
}

/// The sign-in page with a fresh double-submit token in a cookie and a hidden field.
fn sign_in_form(state: &AppState, error: Option<&str>, status: StatusCode) -> Result<Response, ConsoleError> {
    let token = session::random_token().map_err(|_| ConsoleError::Internal(anyhow::anyhow!("no randomness")))?;
    let page = render("sign_in.html", minijinja::context! { csrf => token.clone(), error })?;
    let cookie = session::set_cookie(
        state.cookies_secure(),
        SIGN_IN_COOKIE,
        &token,
        jiff::SignedDuration::from_hours(1),
    );
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
    csrf: String,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, ConsoleError> {
    let audit = |outcome: &'static str, status: StatusCode, actor: String| {
        let store = state.store.clone();
        let now = state.clock.now();
        async move {
            let entry = NewAuditEntry {
                actor: &actor,
                role: None,
                action: "POST /console/sign-in",
                target: "/console/sign-in",
                outcome,
                status: status.as_u16(),
            };
            store.record_audit(&entry, now).await
        }
    };
    let address = crate::http::security::client_address(&headers, peer, state.trusted_proxy);
    if state.sign_in_limiter.check_key(&address).is_err() {
        audit("rate_limited", StatusCode::TOO_MANY_REQUESTS, "anonymous".into()).await?;
        return sign_in_form(
            &state,
            Some("Too many attempts from this address; wait a minute and try again."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let expected = session::cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || expected != form.csrf {
        return Err(ConsoleError::Csrf);
    }
    let caller = resolve(&state, form.token.trim()).await?;
    let Some(caller) = caller else {
        audit("unauthenticated", StatusCode::UNAUTHORIZED, "anonymous".into()).await?;
        return sign_in_form(
            &state,
            Some("That token is not valid, or it was revoked."),
            StatusCode::UNAUTHORIZED,
        );
    };
    let cookie_value = open_session(&state, &caller, form.token.trim()).await?;
    audit("ok", StatusCode::SEE_OTHER, caller.name.clone()).await?;
    let cookie = session::set_cookie(state.cookies_secure(), SESSION_COOKIE, &cookie_value, SESSION_LIFETIME);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console/clients")).into_response())
}

/// Stores a new session for `caller`, signed in with `token`, and answers the cookie's value. The session
/// keeps the token's fingerprint, so a changed or revoked token ends it.
async fn open_session(state: &AppState, caller: &Caller, token: &str) -> Result<String, ConsoleError> {
    let fingerprint = crate::access::hash_secret(token);
    let token_id = if *caller == Caller::bootstrap() {
        None
    } else {
        state.store.token_caller(&fingerprint).await?.map(|(id, _)| id)
    };
    let no_randomness = |_| ConsoleError::Internal(anyhow::anyhow!("the random generator failed"));
    let cookie_value = session::random_token().map_err(no_randomness)?;
    let csrf = session::random_token().map_err(no_randomness)?;
    let now = state.clock.now();
    state
        .store
        .insert_session(
            &session::session_hash(&cookie_value),
            token_id,
            &fingerprint,
            &csrf,
            now,
            now + SESSION_LIFETIME,
        )
        .await?;
    Ok(cookie_value)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    if let Some(value) = session::cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&session::session_hash(value)).await?;
    }
    let cookie = session::set_cookie(state.cookies_secure(), SESSION_COOKIE, "", jiff::SignedDuration::ZERO);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console/sign-in")).into_response())
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../../assets/console/console.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../../assets/console/console.js"),
    )
}
