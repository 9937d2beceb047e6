//! `tether serve --sandbox` as a user meets it: the real binary, the console's phone simulator, a crisis
//! typed as Maya answered and paged, and the page acknowledged from Riley's simulated phone.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::console::{cookie_named, no_redirects, page_csrf, sign_in};
use crate::helpers::*;

/// Polls a phone's conversation until the service has texted it something containing `words`.
async fn wait_for_text(http: &reqwest::Client, url: &str, cookie: &str, phone: &str, words: &str) -> String {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = http
            .get(format!(
                "{url}/console/sandbox/messages?phone={}",
                phone.replace('+', "%2B")
            ))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(found) = last
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["direction"] == "out" && b["body"].as_str().unwrap().contains(words))
        {
            return found["body"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{phone} never got `{words}`: {last:#}");
}

#[tokio::test]
async fn the_sandbox_answers_a_crisis_typed_into_the_phone_simulator() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = tether(&[
        "serve",
        "--sandbox",
        "--bind",
        "127.0.0.1:0",
        "--templates-dir",
        shipped_templates().to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let lines: Vec<String> = BufReader::new(stdout).lines().take(5).map(Result::unwrap).collect();
    assert!(lines[0].contains("nothing leaves the machine"), "{lines:?}");
    let url = lines[1]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches("/console")
        .to_owned();
    let token = lines[4].clone();

    // Sign in to the console with the printed token.
    let http = no_redirects();
    let signed_in = sign_in(&url, &http, &token).await;
    assert_eq!(signed_in.status(), 303);
    let cookie = cookie_named(&signed_in, "tether_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let simulator = http
        .get(format!("{url}/console/sandbox"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(simulator.status(), 200);
    let page = simulator.text().await.unwrap();
    assert!(page.contains("Maya (client)") && page.contains("Riley (on call)"));
    let csrf = page_csrf(&page, "data-csrf=\"");

    let type_as = |from: &'static str, body: String| {
        let (http, url, cookie, csrf) = (http.clone(), url.clone(), cookie.clone(), csrf.clone());
        async move {
            let response = http
                .post(format!("{url}/console/sandbox/text"))
                .header(COOKIE, cookie)
                .header("X-CSRF-Token", csrf)
                .json(&json!({ "from": from, "body": body }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    type_as("+14155550102", "I can't do this anymore. I want to die.".into()).await;
    wait_for_text(&http, &url, &cookie, "+14155550102", "988").await;
    let page = wait_for_text(&http, &url, &cookie, "+14155550202", "Reply ACK").await;
    let code = page
        .split("ACK ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_owned();
    type_as("+14155550202", format!("ACK {code}")).await;
    wait_for_text(&http, &url, &cookie, "+14155550202", "Acknowledged").await;
}
