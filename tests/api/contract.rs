//! The sender's request, validated by a Prism mock of Twilio's official OpenAPI description of the
//! Messages resource (`tests/fixtures/twilio/messages-openapi.json`). `.ci/run` installs Prism and sets
//! `TETHER_TEST_PRISM`; outside CI the test is skipped when Prism is not installed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use tether::provider::{OutgoingText, Sender, TwilioClient, TwilioCredentials};

use crate::mock_provider::ACCOUNT_SID;

struct Prism(Child);

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prism_binary() -> Option<PathBuf> {
    match std::env::var("TETHER_TEST_PRISM") {
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("TETHER_TEST_PRISM must point at the prism binary in CI (.ci/run installs it)")
        }
        Err(_) => {
            eprintln!("skipping the OpenAPI contract test: set TETHER_TEST_PRISM to a prism binary");
            None
        }
    }
}

async fn start_prism(binary: &PathBuf) -> (Prism, String) {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/twilio/messages-openapi.json");
    assert!(spec.exists(), "{} is missing", spec.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg(&spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prism");
    let prism = Prism(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (prism, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("prism did not start listening on {base}");
}

#[tokio::test]
async fn the_senders_request_satisfies_twilios_openapi_description() {
    let Some(binary) = prism_binary() else { return };
    let (_prism, base) = start_prism(&binary).await;

    for sender in [
        Sender::Number("+15005550006".to_owned()),
        Sender::MessagingService("MG0123456789abcdef0123456789abcdef".to_owned()),
    ] {
        let client = TwilioClient::new(
            &base,
            TwilioCredentials {
                account_sid: ACCOUNT_SID.to_owned(),
                auth_token: SecretString::from("contract-token"),
            },
            sender.clone(),
            Duration::from_secs(10),
        )
        .unwrap();
        let text = OutgoingText {
            to: "+14155550123",
            body: "Hi Jordan, just a note to say we're thinking of you. No need to reply. - Care Team",
            status_callback: Some("https://tether.example.org/webhooks/twilio/status?outbox_id=1".to_owned()),
        };
        let accepted = client.send(&text).await;
        assert!(
            accepted.is_ok(),
            "Prism refused the request from {sender:?}: {accepted:?}"
        );
    }

    // The mock really validates: a request without credentials is refused.
    let unauthenticated = reqwest::Client::new()
        .post(format!("{base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"))
        .form(&[("To", "+14155550123"), ("From", "+15005550006"), ("Body", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
