//! One line at INFO per request: method, route template, status, latency and a request id; never a path
//! with its ids filled in, a query string, a phone number or a body. The id goes back in `X-Request-Id` and
//! in the API's error bodies, so a caller who reports an error points at its log line.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Which request of this process a line is about: the process's start (seconds, hex) and a counter, unique
/// across restarts without a random number per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId {
    process: u32,
    sequence: u64,
}

static NEXT_SEQUENCE: AtomicU64 = AtomicU64::new(1);

impl RequestId {
    fn next() -> Self {
        static PROCESS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let process = *PROCESS.get_or_init(|| {
            // Truncated on purpose: a start time to tell restarts apart, not a clock.
            jiff::Timestamp::now().as_second() as u32
        });
        Self {
            process,
            sequence: NEXT_SEQUENCE.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}-{}", self.process, self.sequence)
    }
}

/// Names the request, runs it inside a span carrying that name, and logs its answer.
pub async fn log_requests(mut request: Request, next: Next) -> Response {
    let id = RequestId::next();
    request.extensions_mut().insert(id);
    // A clone of the matched path shares its string: no copy per request.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = route.as_ref().map_or("(no route)", MatchedPath::as_str),
        request_id = %id
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "answered");
        } else {
            tracing::info!(status, latency_ms, "answered");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_carry_the_process() {
        let (first, second) = (RequestId::next(), RequestId::next());
        assert_ne!(first, second);
        assert_eq!(first.process, second.process);
        let shown = second.to_string();
        assert!(shown.starts_with(&format!("{:08x}-", second.process)), "{shown}");
    }
}
