//! Console sessions: a random cookie whose hash is stored with the caller it stands for and a CSRF token;
//! sign-in attempts limited per address.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jiff::SignedDuration;

use crate::access::{hash_secret, new_secret};

pub const SESSION_COOKIE: &str = "tether_session";
/// Before sign-in there is no session to hold a CSRF token, so the sign-in form pairs a hidden field with
/// this cookie (double submit): a page elsewhere cannot read the cookie to forge the field.
pub const SIGN_IN_COOKIE: &str = "tether_sign_in";
/// A shift and a bit; after that, sign in again.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);

/// Sign-in attempts per address: a burst of 5, then one every 12 seconds. Tokens carry 256 random bits,
/// so this is about noise in the logs and the audit trail as much as about guessing.
pub fn sign_in_limiter() -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let quota = Quota::per_minute(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
    Arc::new(RateLimiter::keyed(quota))
}

/// A new random value for a cookie or a CSRF token.
pub fn random_token() -> Result<String, ring::error::Unspecified> {
    new_secret("")
}

pub fn session_hash(cookie_value: &str) -> String {
    hash_secret(cookie_value)
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly so scripts cannot read it, SameSite=Strict so other sites cannot send
/// it, Secure when the service's public address is https ([`crate::http::AppState::cookies_secure`]): the
/// request's `Host` header is the caller's to choose, so it cannot decide.
pub fn set_cookie(secure: bool, name: &str, value: &str, max_age: SignedDuration) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs().max(0)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[
            (header::COOKIE, "a=1; tether_session=abc"),
            (header::COOKIE, "x_tether_session=no"),
        ]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn cookies_are_secure_when_asked() {
        let day = SignedDuration::from_hours(24);
        assert_eq!(
            set_cookie(false, "s", "v", day).to_str().unwrap(),
            "s=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400"
        );
        assert!(set_cookie(true, "s", "v", day).to_str().unwrap().ends_with("; Secure"));
    }
}
