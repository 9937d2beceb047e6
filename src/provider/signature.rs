//! `X-Twilio-Signature`: HMAC-SHA1 over the public URL the provider called and the sorted form parameters,
//! keyed with the auth token (docs/provider-protocol.md).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Computes the signature Twilio sends for a form POST to `url` with `params`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Names in byte order; for a repeated name, each distinct value once, in order.
    sorted.sort();
    sorted.dedup();
    let mut mac = new_mac(auth_token);
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is valid for a form POST to `url`. Twilio is inconsistent about default ports, so
/// like the official SDKs this accepts the URL with the port removed and with `:443`/`:80` added.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        let computed = compute(auth_token, candidate, params);
        let computed = base64::engine::general_purpose::STANDARD
            .decode(computed)
            .unwrap_or_default();
        // Constant-time: a byte-by-byte early exit would leak how much of a forged signature was right.
        subtle::ConstantTimeEq::ct_eq(computed.as_slice(), expected.as_slice()).into()
    })
}

fn new_mac(key: &str) -> Hmac<Sha1> {
    // HMAC accepts keys of any length, so this never fails.
    <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// The URL as given, without its port, and with the scheme's default port.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    };
    variants.push(format!("{scheme}://{userinfo}{host}{tail}"));
    let default_port = match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    if let Some(port) = default_port {
        variants.push(format!("{scheme}://{userinfo}{host}:{port}{tail}"));
    }
    variants.dedup();
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const V1_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn default_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn official_vectors_compute() {
        assert_eq!(
            compute(TOKEN, V1_URL, &default_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_eq!(
            compute(
                TOKEN,
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert_eq!(
            compute(
                TOKEN,
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        );
        assert_eq!(
            compute(
                TOKEN,
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
        let v6 = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(compute(TOKEN, V1_URL, &v6), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        for order in [["+1325xxxxxxx", "+1415xxxxxxx"], ["+1415xxxxxxx", "+1325xxxxxxx"]] {
            let v7 = pairs(&[
                ("MessagingBinding.Address", order[0]),
                ("MessagingBinding.Address", order[1]),
            ]);
            assert_eq!(compute(TOKEN, V1_URL, &v7), "83O6e2vORAoJHUNzJjDWN1jz+BA=");
        }
        assert_eq!(
            compute(
                TOKEN,
                "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "CukzLTc1tT5dXEDIHm/tKBanW10="
        );
        assert_eq!(
            compute(
                TOKEN,
                "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="
        );
        assert_eq!(
            compute(
                TOKEN,
                "https://user@mycompany.com/myapp.php?foo=1&bar=2",
                &default_params()
            ),
            "2YRLlVAflCqxaNicjMpJcSTgzSs="
        );
    }

    #[test]
    fn port_variants_verify_like_the_sdks() {
        // V2, V3: the signature covers the default port that the request URL lacks.
        assert!(verify(TOKEN, V1_URL, &default_params(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
        assert!(verify(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &default_params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        // V4, V5: a non-standard port, signed with and without it.
        assert!(verify(
            TOKEN,
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &default_params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
        assert!(verify(
            TOKEN,
            "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &default_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn the_documented_example_verifies() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        assert!(verify(TOKEN, V1_URL, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn any_tampering_fails() {
        let signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let mut tampered = default_params();
        tampered[2].1 = "1235".into();
        assert!(!verify(TOKEN, V1_URL, &tampered, signature));
        assert!(!verify(
            TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &default_params(),
            signature
        ));
        assert!(!verify("54321", V1_URL, &default_params(), signature));
        assert!(!verify(TOKEN, V1_URL, &default_params(), "not base64!"));
        assert!(!verify(TOKEN, V1_URL, &default_params(), ""));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::{compute, verify};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        /// Any webhook body, however malformed, parses into pairs and is checked without a panic; a forged
        /// signature over it never passes, and the real one always does.
        #[test]
        fn any_form_body_is_parsed_and_checked(body in proptest::collection::vec(any::<u8>(), 0..2048), forged in ".{0,64}") {
            let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            let url = "https://tether.test/webhooks/twilio/sms";
            let real = compute("auth-token", url, &params);
            prop_assert!(verify("auth-token", url, &params, &real));
            prop_assert!(forged == real || !verify("auth-token", url, &params, &forged));
            prop_assert!(!verify("another-token", url, &params, &real));
        }
    }
}
