//! Headers every response carries, and whose word is taken for a caller's address. See
//! docs/http-limits.md for what each header stops.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

use crate::config::TrustedProxy;

/// Only the service's own scripts, styles and form targets, never inside another site's frame: a client's
/// words that slipped past escaping could still not run or phone home.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to a response. `Cache-Control: no-store` goes on every response that did not
/// choose its own: pages and API answers carry health information that must not stay in a shared cache or
/// the browser's history.
pub async fn add_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // A page that needs a wider policy (the API docs' Swagger UI) sets its own.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

const FLY_CLIENT_IP: HeaderName = HeaderName::from_static("fly-client-ip");

/// The caller's address: the trusted proxy's header when one is configured and present, else the TCP peer.
/// Without a trusted proxy the header is ignored, since any caller could write it.
pub fn client_address(headers: &HeaderMap, peer: SocketAddr, proxy: TrustedProxy) -> IpAddr {
    let from_proxy = match proxy {
        TrustedProxy::None => None,
        TrustedProxy::Fly => headers
            .get(FLY_CLIENT_IP)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<IpAddr>().ok()),
    };
    from_proxy.unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_header_counts_only_when_the_proxy_is_trusted() {
        let peer: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(FLY_CLIENT_IP, HeaderValue::from_static("203.0.113.9"));
        assert_eq!(client_address(&headers, peer, TrustedProxy::None), peer.ip());
        assert_eq!(
            client_address(&headers, peer, TrustedProxy::Fly),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        headers.insert(FLY_CLIENT_IP, HeaderValue::from_static("not an address"));
        assert_eq!(client_address(&headers, peer, TrustedProxy::Fly), peer.ip());
    }
}
