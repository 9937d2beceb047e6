//! How many connections and requests the service takes at once and how long it waits for each, so idle or
//! half-sent connections cannot starve it (docs/http-limits.md). axum's `serve` has no connection cap, so
//! this module runs its own accept loop over hyper.
//!
//! A provider webhook is never shed and never cut short: the provider may not retry, and a lost crisis text
//! is the worst failure this service has. Webhooks get a band of connections of their own and do not count
//! against the API's and console's request limit.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::config::HttpSettings;

/// Seconds a shed caller is asked to wait before trying again.
const RETRY_AFTER_SECONDS: &str = "1";

/// The limits, from `TETHER_HTTP_*`.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub webhook_connections: usize,
    pub max_in_flight: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
}

impl From<&HttpSettings> for HttpLimits {
    fn from(settings: &HttpSettings) -> Self {
        let max_connections = settings.max_connections.max(2);
        HttpLimits {
            max_connections,
            // At least one connection each way, whatever the settings say.
            webhook_connections: settings.webhook_connections.clamp(1, max_connections - 1),
            max_in_flight: settings.max_in_flight.max(1),
            header_timeout: Duration::from_secs(settings.header_timeout_seconds.max(1)),
            body_timeout: Duration::from_secs(settings.body_timeout_seconds.max(1)),
            request_timeout: Duration::from_secs(settings.request_timeout_seconds.max(1)),
        }
    }
}

/// Which band of connections a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    General,
    /// Taken only when the general band is full; serves webhooks (and the health check) only.
    WebhooksOnly,
}

/// API and console requests in flight; shared by the shedding middleware.
#[derive(Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(limits: &HttpLimits) -> Self {
        InFlight(Arc::new(Semaphore::new(limits.max_in_flight)))
    }
}

/// Sheds API and console requests with 503 and `Retry-After` when too many are in flight, or when they came
/// in on a connection of the webhooks' band. Not layered on webhooks.
pub async fn shed(State(in_flight): State<InFlight>, request: Request, next: Next) -> Response {
    if request.extensions().get::<Band>() == Some(&Band::WebhooksOnly) {
        let mut response = busy("this connection is kept for the provider's webhooks; try again");
        // The caller must come back on a new connection, which will not be in the webhooks' band.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let Ok(_permit) = in_flight.0.try_acquire() else {
        return busy("the service is busy; try again");
    };
    next.run(request).await
}

fn busy(message: &str) -> Response {
    let body = super::error::ErrorBody::new("unavailable", message, None);
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    response
}

/// Serves `router` on `listener` until `shutdown`, then lets the requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let general = Arc::new(Semaphore::new(limits.max_connections - limits.webhook_connections));
    let reserved = Arc::new(Semaphore::new(limits.webhook_connections));
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header timeout also closes a kept-alive connection that sends nothing: hyper runs it whenever
    // the connection waits for the start of a request.
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        // A slot first, then the connection: beyond the cap, callers wait in the kernel's queue and hold
        // none of this process's file descriptors.
        let slot = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            permit = general.clone().acquire_owned() => (Band::General, permit.context("connection slots closed")?),
            permit = reserved.clone().acquire_owned() => (Band::WebhooksOnly, permit.context("connection slots closed")?),
        };
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a little rather than spin, and keep serving.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Answers are small and go out whole: without this, Nagle's algorithm can hold one back for the
        // client's delayed acknowledgement.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        let connection = http.serve_connection(TokioIo::new(stream), connection_service(router.clone(), peer, slot.0));
        let shutdown = shutdown.clone();
        connections.spawn(run_connection(connection, slot.1, shutdown));
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

fn connection_service(
    router: Router,
    peer: SocketAddr,
    band: Band,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The console's sign-in limit reads the peer; the shedding middleware reads the band.
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(band);
        router.clone().call(request.map(axum::body::Body::new))
    })
}

async fn run_connection<S>(
    connection: hyper::server::conn::http1::Connection<TokioIo<tokio::net::TcpStream>, S>,
    _slot: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) where
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        }
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error during shutdown");
            }
        }
    }
}
