//! Who sees and acts on which client: staff their assigned clients, and a client in an escalation they are
//! part of (paged for it, took it, or took it and resolved it less than 72 hours ago); everyone else's is
//! answered as absent. Any staff member may take over an escalation. Viewers never see notes, reply codes
//! or the words of a text. The same rule holds in the API, the console and `R <ref>` by SMS, for reading
//! and for texting the client.

use jiff::SignedDuration;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::console::{cookie_named, no_redirects, page_csrf, sign_in};
use crate::helpers::*;
use crate::mock_provider::ReceivedText;
use crate::on_both_backends;

/// An error body without its request id, which differs from request to request: two refusals compare equal
/// when they say the same thing.
fn but_its_id(mut error: Value) -> Value {
    if let Some(fields) = error["error"].as_object_mut() {
        fields.remove("request_id");
    }
    error
}

const PAT: &str = "+14155550171";
const SAM: &str = "+14155550172";
const KIM: &str = "+14155550173";
const JORDAN: &str = "+14155550123";
const MAYA: &str = "+14155550124";

/// Pat (staff 1) looks after Jordan, Sam (staff 2) after Maya; Kim (staff 3) after nobody. Answers
/// (jordan, maya).
async fn caseloads(app: &TestApp) -> (i64, i64) {
    for (name, phone) in [("Pat", PAT), ("Sam", SAM), ("Kim", KIM)] {
        app.create_staff(name, phone).await;
    }
    let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
    let maya = app.create_client(MAYA, "Maya", "en", "America/New_York").await;
    for (client, staff) in [(jordan, 1), (maya, 2)] {
        app.assign_staff(client, staff).await;
    }
    (jordan, maya)
}

fn ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn to(texts: &[ReceivedText], phone: &str) -> Vec<String> {
    texts.iter().filter(|t| t.to == phone).map(|t| t.body.clone()).collect()
}

/// A console session for `token`, as the `Cookie` header its pages need.
async fn console_cookie(app: &TestApp, token: &str) -> String {
    let signed_in = sign_in(&app.address, &no_redirects(), token).await;
    assert_eq!(signed_in.status(), 303);
    let session = cookie_named(&signed_in, "tether_session").unwrap();
    session.split(';').next().unwrap().to_owned()
}

async fn console_page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let response = no_redirects()
        .get(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

on_both_backends! {
    /// Concern notices, early-warning signals and tasks are listed to staff only for their own clients, and
    /// marking another staff member's client's notice or signal seen is a 404 that changes nothing (and is
    /// audited as a refusal); admins list and dismiss everything.
    async fn staff_list_and_dismiss_only_their_own_clients_notices_signals_and_tasks(backend) {
        let app = spawn_app(&backend).await;
        let (jordan, maya) = caseloads(&app).await;
        assert_eq!(app.text_in(JORDAN, "I relapsed last night").await, 200);
        assert_eq!(app.text_in(MAYA, "I relapsed last night").await, 200);
        // Signals and tasks come from weeks of unanswered texts and reminders; the rows are what matters here.
        let pool = app.database_pool().await;
        for client in [jordan, maya] {
            sqlx::query("INSERT INTO signals (client_id, rule, episode, reason, created_at) VALUES ($1, 'silent', 'e1', 'no reply to 3 texts', 1)")
                .bind(client).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO tasks (client_id, kind, detail, created_at) VALUES ($1, 'reschedule', 'client asked for another time', 1)")
                .bind(client).execute(&pool).await.unwrap();
        }
        let pat = app.token("staff", "pat-peer", Some(1));
        let admin = app.token("admin", "alex-admin", None);
        let of_client = |list: &Value, client: i64| -> i64 {
            list.as_array().unwrap().iter().find(|item| item["client_id"] == client).unwrap()["id"].as_i64().unwrap()
        };

        for list in ["/api/v1/notices", "/api/v1/signals", "/api/v1/tasks"] {
            let (status, mine) = app.call(Some(&pat), "GET", list, None).await;
            assert_eq!(status, 200, "{list}: {mine}");
            let clients: Vec<&Value> = mine.as_array().unwrap().iter().map(|item| &item["client_id"]).collect();
            assert_eq!(clients, vec![&json!(jordan)], "{list}: {mine}");
            let (_, everything) = app.call(Some(&admin), "GET", list, None).await;
            assert_eq!(everything.as_array().unwrap().len(), 2, "{list}: {everything}");
        }

        for (kind, list) in [("notices", "/api/v1/notices"), ("signals", "/api/v1/signals")] {
            let (_, everything) = app.call(Some(&admin), "GET", list, None).await;
            let (others, own) = (of_client(&everything, maya), of_client(&everything, jordan));
            let (status, refused) = app.call(Some(&pat), "POST", &format!("/api/v1/{kind}/{others}/seen"), None).await;
            let (_, missing) = app.call(Some(&pat), "POST", &format!("/api/v1/{kind}/99999/seen"), None).await;
            assert_eq!(status, 404, "{refused}");
            assert_eq!(refused["error"]["code"], "not_found");
            assert_eq!(
                but_its_id(refused),
                but_its_id(missing),
                "another's {kind} looks exactly like one that does not exist"
            );
            assert_eq!(app.call(Some(&pat), "POST", &format!("/api/v1/{kind}/{own}/seen"), None).await.0, 200);
            let (_, unseen) = app.call(Some(&admin), "GET", &format!("{list}?unseen=true"), None).await;
            assert_eq!(ids(&unseen), vec![others], "only pat's own {kind} was dismissed: {unseen}");
            assert_eq!(app.call(Some(&admin), "POST", &format!("/api/v1/{kind}/{others}/seen"), None).await.0, 200);
        }

        // On the record as refusals: the two of Maya's and the two that do not exist, which look the same.
        let (_, audit) = app.call(Some(&admin), "GET", "/api/v1/audit?limit=1000", None).await;
        let refusals = audit.as_array().unwrap().iter()
            .filter(|e| e["actor"] == "pat-peer" && e["outcome"] == "denied" && e["status"] == 404)
            .count();
        assert_eq!(refusals, 4, "{audit:#}");
    }
}

on_both_backends! {
    /// Another staff member's client, their thread, appointments and changes to them are answered 404,
    /// exactly as a client that does not exist, in the API and the console.
    async fn another_staff_members_client_is_answered_as_absent(backend) {
        let app = spawn_app(&backend).await;
        let (jordan, maya) = caseloads(&app).await;
        let response = app
            .post(&format!("/api/v1/clients/{maya}/appointments"), json!({ "starts_at": "2026-03-09T14:00:00Z" }))
            .await;
        assert_eq!(response.status(), 201);
        let appointment = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let pat = app.token("staff", "pat-peer", Some(1));

        for (method, path, body) in [
            ("GET", format!("/api/v1/clients/{maya}"), None),
            ("GET", format!("/api/v1/clients/{maya}/messages"), None),
            ("PATCH", format!("/api/v1/clients/{maya}"), Some(json!({ "first_name": "M" }))),
            ("POST", format!("/api/v1/clients/{maya}/pause"), None),
            ("POST", format!("/api/v1/clients/{maya}/enrollments"),
                Some(json!({ "schedule": "caring_contacts", "discharged_at": "2026-03-06T15:00:00-05:00" }))),
            ("POST", format!("/api/v1/clients/{maya}/appointments"), Some(json!({ "starts_at": "2026-03-10T14:00:00Z" }))),
            ("POST", format!("/api/v1/clients/{maya}/relay"), Some(json!({ "text": "hello" }))),
        ] {
            let (status, refused) = app.call(Some(&pat), method, &path, body.clone()).await;
            let absent = path.replace(&format!("/clients/{maya}"), "/clients/99999");
            let (_, missing) = app.call(Some(&pat), method, &absent, body).await;
            assert_eq!((status, but_its_id(refused)), (404, but_its_id(missing)), "{method} {path}");
        }
        for (method, suffix) in [("GET", ""), ("POST", "/cancel")] {
            let path = format!("/api/v1/appointments/{appointment}{suffix}");
            let (status, refused) = app.call(Some(&pat), method, &path, None).await;
            let (_, missing) = app.call(Some(&pat), method, &format!("/api/v1/appointments/99999{suffix}"), None).await;
            assert_eq!((status, but_its_id(refused)), (404, but_its_id(missing)), "{method} {path}");
        }
        let (_, still) = app.call(Some(ADMIN_TOKEN), "GET", &format!("/api/v1/appointments/{appointment}"), None).await;
        assert_eq!(still["status"], "scheduled", "nothing was cancelled: {still}");
        assert_eq!(app.call(Some(&pat), "GET", &format!("/api/v1/clients/{jordan}/messages"), None).await.0, 200);
        let (status, error) = app.call(Some(&pat), "POST", &format!("/api/v1/clients/{jordan}/relay"), Some(json!({ "text": "  " }))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("text")), "{error}");
        let (status, error) = app.call(Some(&pat), "POST", &format!("/api/v1/clients/{jordan}/relay"), Some(json!({ "text": "x".repeat(1601) }))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (422, Some("text")), "{error}");
        app.scheduler.tick().await.unwrap();
        assert!(to(&app.mock.accepted(), JORDAN).is_empty() && to(&app.mock.accepted(), MAYA).is_empty(), "nothing was texted");

        let cookie = console_cookie(&app, &pat).await;
        let (status, page) = console_page(&app, &cookie, &format!("/console/clients/{maya}")).await;
        assert_eq!(status, 404);
        assert!(!page.contains("Maya"), "{page}");
        assert_eq!(console_page(&app, &cookie, &format!("/console/clients/{jordan}")).await.0, 200);
        let (_, list) = console_page(&app, &cookie, "/console/clients").await;
        assert!(list.contains("Jordan") && !list.contains("Maya"), "{list}");
    }
}

on_both_backends! {
    /// Maya (Sam's client) texts a crisis and Pat is paged. Kim, who is neither, sees the escalation and
    /// may take it, but not Maya's words, relay to her, resolve it or write notes until she has; then Kim,
    /// the handler, may follow
    /// up for 72 hours after it is resolved, and not after, while Pat's rights end with the resolution.
    /// The API, the console and `R <ref>` by SMS agree at every step; a refused relay gets a short answer
    /// that names nothing about the client.
    async fn responders_read_and_relay_and_the_handler_follows_up_for_72_hours(backend) {
        let app = spawn_app(&backend).await;
        let (_, maya) = caseloads(&app).await;
        let policy = json!({ "steps": [{ "target": { "staff": 1 }, "delay_minutes": 10 }], "repeat": 0 });
        assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
        assert_eq!(app.text_in(MAYA, "i want to die tonight").await, 200);
        app.scheduler.tick().await.unwrap();
        assert_eq!(to(&app.mock.accepted(), PAT).len(), 1, "pat is paged");
        let kim = app.token("staff", "kim-peer", Some(3));
        let pat = app.token("staff", "pat-peer", Some(1));
        let sam = app.token("staff", "sam-peer", Some(2));

        // Whether each of them may read Maya's words and text her, through the API, the console and SMS;
        // all of them must agree.
        let rights = |token: String, phone: &'static str, cookie: Option<String>| {
            let app = &app;
            async move {
                let (status, thread) = app.call(Some(&token), "GET", &format!("/api/v1/clients/{maya}/messages"), None).await;
                let reads = status == 200 && thread["received"][0]["body"] == "i want to die tonight";
                assert!(reads || status == 404, "{status}: {thread}");
                let before = to(&app.mock.accepted(), MAYA).len();
                let message = format!("hi Maya from {phone} at {}", app.clock.now());
                let mut sent = vec![format!("{message} by SMS")];
                assert_eq!(app.text_in(phone, &format!("R {maya} {message} by SMS")).await, 200);
                let (status, answer) = app.call(Some(&token), "POST", &format!("/api/v1/clients/{maya}/relay"),
                    Some(json!({ "text": format!("{message} by API") }))).await;
                assert_eq!(status, if reads { 201 } else { 404 }, "{answer}");
                sent.push(format!("{message} by API"));
                if let Some(cookie) = cookie {
                    let (page_status, page) = console_page(app, &cookie, &format!("/console/clients/{maya}")).await;
                    assert_eq!(page_status == 200 && page.contains("i want to die tonight"), reads, "{page}");
                    let (_, list) = console_page(app, &cookie, "/console/clients").await;
                    let csrf = page_csrf(&list, "name=\"csrf\" value=\"");
                    let relayed = no_redirects()
                        .post(format!("{}/console/clients/{maya}/relay", app.address))
                        .header(COOKIE, &cookie)
                        .form(&[("csrf", csrf.as_str()), ("text", &format!("{message} in the console"))])
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(relayed.status().as_u16(), if reads { 303 } else { 404 });
                    sent.push(format!("{message} in the console"));
                }
                app.scheduler.tick().await.unwrap();
                let to_maya = to(&app.mock.accepted(), MAYA)[before..].to_vec();
                if reads {
                    let mut received = to_maya.clone();
                    received.sort();
                    sent.sort();
                    assert_eq!(received, sent, "{phone}");
                } else {
                    assert!(to_maya.is_empty(), "{phone} reached Maya: {to_maya:?}");
                    let answer = to(&app.mock.accepted(), phone).last().cloned().unwrap();
                    assert!(answer.starts_with("Not sent") && !answer.contains("Maya") && !answer.contains("Sam"), "{answer}");
                }
                reads
            }
        };

        // Open: anyone on staff sees it and its code; the paged and the assigned respond, Kim does not.
        let (_, board) = app.call(Some(&kim), "GET", "/api/v1/escalations", None).await;
        assert_eq!(board.as_array().unwrap().len(), 1);
        assert!(board[0]["code"].as_str().is_some_and(|c| c.len() == 4), "{board}");
        assert!(!rights(kim.clone(), KIM, Some(console_cookie(&app, &kim).await)).await, "kim is not part of it");
        assert!(rights(pat.clone(), PAT, None).await, "pat was paged");
        assert!(rights(sam.clone(), SAM, None).await, "sam is maya's peer");

        // Kim may not close it or write in its notes without taking it over.
        for (path, body) in [("/api/v1/escalations/1/resolve", None), ("/api/v1/escalations/1/notes", Some(json!({ "text": "on it" })))] {
            let (status, refused) = app.call(Some(&kim), "POST", path, body).await;
            assert_eq!(status, 403, "{path}: {refused}");
        }
        let (_, board) = app.call(Some(ADMIN_TOKEN), "GET", "/api/v1/escalations", None).await;
        assert_eq!(board[0]["status"], "open");
        assert!(board[0]["events"].as_array().unwrap().iter().all(|e| e["kind"] != "note"), "{board}");

        // Kim takes over, and becomes its handler.
        let (status, taken) = app.call(Some(&kim), "POST", "/api/v1/escalations/1/acknowledge", Some(json!({}))).await;
        assert_eq!((status, taken["acknowledged_by"].as_i64()), (200, Some(3)), "{taken}");
        assert!(rights(kim.clone(), KIM, None).await, "kim took it");

        assert_eq!(app.call(Some(&kim), "POST", "/api/v1/escalations/1/notes", Some(json!({ "text": "on it" }))).await.0, 201);
        assert_eq!(app.call(Some(&kim), "POST", "/api/v1/escalations/1/resolve", None).await.0, 200);
        assert!(!rights(pat.clone(), PAT, None).await, "pat's part ended with the resolution");
        // Console sessions last 12 hours, so Kim signs in again each time.
        app.clock.advance(SignedDuration::from_hours(71));
        assert!(rights(kim.clone(), KIM, Some(console_cookie(&app, &kim).await)).await, "the handler follows up for 72 hours");
        assert!(rights(sam.clone(), SAM, None).await);
        app.clock.advance(SignedDuration::from_hours(1));
        assert!(!rights(kim.clone(), KIM, Some(console_cookie(&app, &kim).await)).await, "and not after");
        assert!(rights(sam, SAM, None).await, "the assigned peer always");
    }
}

on_both_backends! {
    /// Viewers see that an escalation exists and that a note was written, never the note, the reply code
    /// or a client's words: not in the API's JSON, not in the console's board or client page.
    async fn viewers_see_no_notes_codes_or_words_in_the_api_or_the_console(backend) {
        let app = spawn_app(&backend).await;
        let (_, maya) = caseloads(&app).await;
        let policy = json!({ "steps": [{ "target": { "staff": 2 }, "delay_minutes": 10 }], "repeat": 0 });
        assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
        assert_eq!(app.text_in(MAYA, "i want to die tonight").await, 200);
        app.scheduler.tick().await.unwrap();
        let note = "Called her, she is at her sister's house";
        let response = app.post("/api/v1/escalations/1/notes", json!({ "text": note })).await;
        assert_eq!(response.status(), 201);
        let (_, board) = app.call(Some(ADMIN_TOKEN), "GET", "/api/v1/escalations", None).await;
        let code = board[0]["code"].as_str().unwrap().to_owned();
        let viewer = app.token("viewer", "val-viewer", None);
        let kim = app.token("staff", "kim-peer", Some(3));

        let (status, seen) = app.call(Some(&viewer), "GET", "/api/v1/escalations", None).await;
        assert_eq!(status, 200);
        assert!(seen[0]["code"].is_null(), "{seen}");
        assert!(seen[0]["events"].as_array().unwrap().iter().any(|e| e["kind"] == "note" && e["detail"] == ""), "{seen}");
        let json = seen.to_string();
        assert!(!json.contains(&code) && !json.contains("sister"), "{json}");
        let (_, thread) = app.call(Some(&viewer), "GET", &format!("/api/v1/clients/{maya}/messages"), None).await;
        assert!(!thread["received"].as_array().unwrap().is_empty());
        assert!(!thread.to_string().contains("want to die"), "{thread}");
        // Staff who are not part of it see the code (to take it over) but not the note.
        let (_, as_kim) = app.call(Some(&kim), "GET", "/api/v1/escalations", None).await;
        assert_eq!(as_kim[0]["code"], code.as_str());
        assert!(!as_kim.to_string().contains("sister"), "{as_kim}");

        let cookie = console_cookie(&app, &viewer).await;
        for path in ["/console/escalations".to_owned(), format!("/console/clients/{maya}"), "/console/escalations?show=all".to_owned()] {
            let (status, page) = console_page(&app, &cookie, &path).await;
            assert_eq!(status, 200, "{path}");
            for secret in [code.as_str(), "sister", "want to die"] {
                assert!(!page.contains(secret), "{path} shows `{secret}` to a viewer: {page}");
            }
        }
        let admin = console_cookie(&app, ADMIN_TOKEN).await;
        let (_, page) = console_page(&app, &admin, "/console/escalations").await;
        assert!(page.contains(&code) && page.contains("sister"), "an admin sees both: {page}");
    }
}
