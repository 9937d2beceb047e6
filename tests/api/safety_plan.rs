//! The client's safety plan, on request, by text: saved and versioned through the API with the usual scoping,
//! sent in order when the client texts `PLAN` (each text within the provider's 1,600 characters, in their
//! language, the last ending with 988/911), one section for `PLAN 3`, and nothing of it to anyone else.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::inbound::{MAYA, STRANGER, on_call_set_up};
use crate::mock_provider::{ReceivedText, Scripted};
use crate::on_both_backends;

const JORDAN: &str = "+14155550123";
const LUCIA: &str = "+14155550124";
const PEER: &str = "+14155550191";
const OTHER_PEER: &str = "+14155550192";

/// A plan as staff fill it in at discharge: every section, the environment kept out of texts, and the
/// client's consent to get it by text.
fn plan() -> Value {
    json!({
        "warning_signs": ["Not sleeping", "Staying in my room all day"],
        "coping": ["Walk the dog around the block", "Shower and make tea"],
        "distractions": ["The library on Main St", "Call my cousin about football"],
        "people": [{"name": "Ana (sister)", "phone": "+1 415 555 0177"}],
        "professionals": [{"name": "Clinic front desk", "phone": "+14155550100"}],
        "environment": ["The pills stay in Ana's lockbox"],
        "share_environment_by_text": false,
        "text_consent": {"consented_at": "2026-03-06T13:30:00-05:00", "consent_source": "discharge conversation"}
    })
}

/// A plan as long as the API allows in its first three sections: it takes several texts.
fn long_plan() -> Value {
    let mut plan = plan();
    for (field, word) in [("warning_signs", "sign"), ("coping", "step"), ("distractions", "place")] {
        let items: Vec<String> = (1..=8)
            .map(|i| {
                format!("{word} {i}: {}", "a long line of the client's own words ".repeat(4))[..150]
                    .trim()
                    .to_owned()
            })
            .collect();
        plan[field] = json!(items);
    }
    let people: Vec<Value> = (1..=8)
        .map(|i| json!({"name": format!("Friend {i} from the Tuesday group"), "phone": format!("+1415555017{i}")}))
        .collect();
    plan["people"] = json!(people);
    plan
}

/// The bodies texted to `phone`, in the order the provider accepted them.
fn bodies_to(app: &TestApp, phone: &str) -> Vec<String> {
    app.mock
        .accepted()
        .into_iter()
        .filter(|t| t.to == phone)
        .map(|t| t.body)
        .collect()
}

fn length(body: &str) -> usize {
    body.encode_utf16().count()
}

/// Jordan (English) with his assigned peer; the plan saved for him.
async fn jordan_with_a_plan(app: &TestApp, plan: Value) -> i64 {
    let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
    let peer = app.create_staff("Pat", PEER).await;
    app.assign_staff(jordan, peer).await;
    let saved = app.put(&format!("/api/v1/clients/{jordan}/safety-plan"), plan).await;
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    jordan
}

on_both_backends! {
    /// A long plan arrives as four texts, in order, even when the provider turns the first one away once
    /// (every later part waits for the one before it to be accepted); each within 1,600 characters, split at
    /// section boundaries, the environment left out, the last ending with 911 and 988. Nobody else is texted,
    /// and the text is read as no risk.
    async fn a_client_texting_plan_gets_it_in_order_in_texts_the_provider_takes(backend) {
        let app = spawn_app(&backend).await;
        jordan_with_a_plan(&app, long_plan()).await;
        app.mock.script(Scripted::Fail { status: 500, code: None, retry_after: None });

        app.texts(JORDAN, "PLAN").await;
        app.fast_forward(SignedDuration::from_mins(1)).await;

        let requests: Vec<ReceivedText> = app.mock.requests().into_iter().filter(|t| t.to == JORDAN).collect();
        assert_eq!(
            requests.len(),
            5,
            "the first part twice (turned away, then accepted), then three more: {:#?}",
            requests.iter().map(|t| (t.sid.is_some(), t.body.chars().take(60).collect::<String>())).collect::<Vec<_>>()
        );
        assert!(requests[0].sid.is_none() && requests[1].sid.is_some());
        assert_eq!(requests[0].body, requests[1].body, "nothing overtook the part that was turned away");
        let texts = bodies_to(&app, JORDAN);
        assert_eq!(texts.len(), 4, "{texts:#?}");
        assert!(texts[0].starts_with("Jordan, your safety plan:\n\n1. My warning signs\n- sign 1:"), "{}", texts[0]);
        for (text, section) in texts.iter().zip(["1. My warning signs", "2. Things I can do", "3. People and places", "4. People I can ask"]) {
            assert!(length(text) <= 1600, "{} characters", length(text));
            assert!(text.contains(section), "{section} in {text}");
            assert!(!text.contains("Ana's lockbox") && !text.contains("6. "), "the environment stays out: {text}");
        }
        let last = texts.last().unwrap();
        assert!(last.starts_with("4. People I can ask for help\n- Friend 1 from the Tuesday group: +14155550171"), "{last}");
        assert!(last.contains("5. Professionals and 24/7 lines\n- Clinic front desk: +14155550100"), "{last}");
        assert!(last.ends_with("In danger now? Call 911. Call or text 988 any time, free and confidential. - Care Team"), "{last}");
        assert!(texts[..3].iter().all(|t| !t.contains("988")), "988 closes the plan once, at the end");
        for words in ["Jordan, your safety plan", "2. Things", "3. People and places", "4. People I can ask"] {
            app.expect_text(JORDAN, words);
        }
        app.assert_nothing_else_texted();

        let thread = app.messages(1).await;
        let parts: Vec<&Value> = thread.iter().filter(|t| t["kind"] == "safety_plan").collect();
        assert_eq!(parts.len(), 4);
        assert!(parts.iter().all(|t| t["status"] == "sent"), "{parts:?}");
        let escalations: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert!(escalations.is_empty(), "PLAN is no risk: {escalations:?}");
        let received = app.get("/api/v1/clients/1/messages").await.json::<Value>().await.unwrap();
        assert_eq!(received["received"][0]["risk_tier"], "none");
    }
}

on_both_backends! {
    /// Lucía writes in Spanish: her plan comes with Spanish headings and the Spanish 988 line; `MI PLAN` and
    /// `plan de seguridad 2` work as well as `PLAN`.
    async fn a_spanish_client_gets_her_plan_in_spanish(backend) {
        let app = spawn_app(&backend).await;
        let lucia = app.create_client(LUCIA, "Lucía", "es", "America/New_York").await;
        let saved = app.put(&format!("/api/v1/clients/{lucia}/safety-plan"), plan()).await;
        assert_eq!(saved.status(), 200);

        app.texts(LUCIA, "mi plan").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let whole = app.expect_text(LUCIA, "Lucía, tu plan de seguridad:");
        for words in ["1. Mis señales de alerta\n- Not sleeping", "4. Personas a quienes puedo pedir ayuda", "5. Profesionales y servicios 24/7"] {
            assert!(whole.contains(words), "{words} in {whole}");
        }
        assert!(whole.ends_with("¿En peligro? Llama al 911, o al 988 y oprime 2 (gratis, 24/7). - Care Team"), "{whole}");
        assert!(length(&whole) <= 1600);

        app.texts(LUCIA, "Plan de seguridad 2").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let one = app.expect_text(LUCIA, "2. Lo que puedo hacer por mi cuenta");
        assert!(!one.contains("\n1. ") && !one.contains("\n3. "), "{one}");
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// `PLAN 3` gets section 3 only, with 988/911 after it; `PLAN 6` (the environment, kept out of texts) and
    /// `PLAN 9` (no such section) get the plan as it goes by text; `PLAN 6` once the plan shares it, section 6.
    async fn plan_n_gets_one_section(backend) {
        let app = spawn_app(&backend).await;
        let jordan = jordan_with_a_plan(&app, plan()).await;

        app.texts(JORDAN, "plan 3").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let third = app.expect_text(JORDAN, "3. People and places that take my mind off things");
        assert_eq!(
            third,
            "Jordan, your safety plan:\n\n3. People and places that take my mind off things\n- The library on Main St\n\
             - Call my cousin about football\n\nIn danger now? Call 911. Call or text 988 any time, free and \
             confidential. - Care Team"
        );
        for asked in ["PLAN 6", "PLAN 9"] {
            app.texts(JORDAN, asked).await;
            app.fast_forward(SignedDuration::from_secs(5)).await;
            let whole = app.expect_text(JORDAN, "1. My warning signs");
            assert!(whole.contains("5. Professionals") && !whole.contains("lockbox"), "{asked}: {whole}");
        }
        let mut shared = plan();
        shared["share_environment_by_text"] = json!(true);
        assert_eq!(app.put(&format!("/api/v1/clients/{jordan}/safety-plan"), shared).await.status(), 200);
        app.texts(JORDAN, "PLAN 6").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let sixth = app.expect_text(JORDAN, "6. Making my space safer\n- The pills stay in Ana's lockbox");
        assert!(!sixth.contains("\n1. "), "{sixth}");
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// A staff member texting `PLAN` gets the staff help text, nothing of anyone's plan; a number nobody knows
    /// gets the usual unknown-sender answer; a client without a plan, or with one but no consent to text it,
    /// gets the short answer pointing to their peer and 988.
    async fn nobody_else_gets_a_plan_and_a_client_without_one_gets_the_short_answer(backend) {
        let app = spawn_app(&backend).await;
        let jordan = jordan_with_a_plan(&app, plan()).await;

        app.texts(PEER, "PLAN").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let to_staff = app.expect_text(PEER, "");
        assert!(!to_staff.contains("Not sleeping") && !to_staff.contains("Ana"), "{to_staff}");
        assert!(!to_staff.contains("safety plan"), "{to_staff}");

        app.texts(STRANGER, "PLAN").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        app.expect_text(STRANGER, "This number does not take new messages");

        app.create_client(LUCIA, "Lucia", "en", "America/New_York").await;
        app.texts(LUCIA, "PLAN").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        let none = app.expect_text(LUCIA, "Lucia, we have no safety plan to send you by text");
        assert!(none.contains("Your peer") && none.contains("988") && none.contains("911"), "{none}");

        let mut unconsented = plan();
        unconsented["text_consent"] = Value::Null;
        assert_eq!(app.put(&format!("/api/v1/clients/{jordan}/safety-plan"), unconsented).await.status(), 200);
        app.texts(JORDAN, "PLAN").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        app.expect_text(JORDAN, "Jordan, we have no safety plan to send you by text");
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// A client who said STOP gets the one confirmation and nothing for `PLAN`; the text is still read for risk
    /// and recorded.
    async fn an_opted_out_client_gets_nothing_for_plan(backend) {
        let app = spawn_app(&backend).await;
        let jordan = jordan_with_a_plan(&app, plan()).await;
        app.texts(JORDAN, "STOP").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        app.expect_text(JORDAN, "you will not get more texts");

        app.texts(JORDAN, "PLAN").await;
        app.fast_forward(SignedDuration::from_mins(5)).await;
        app.assert_nothing_else_texted();
        let thread: Value = app.get(&format!("/api/v1/clients/{jordan}/messages")).await.json().await.unwrap();
        let received = thread["received"].as_array().unwrap();
        assert_eq!(received.len(), 2);
        assert_eq!(received[1]["body"], "PLAN");
        assert_eq!(received[1]["risk_tier"], "none", "read for risk like any text");
        assert!(thread["messages"].as_array().unwrap().iter().all(|t| t["kind"] != "safety_plan"));
    }
}

on_both_backends! {
    /// Maya, with a plan she agreed to get by text, texts at 03:00 that she wants to die: the crisis reply
    /// offers her plan, and her `PLAN` goes at once, in quiet hours and while her escalation is open. A client
    /// with no plan gets the crisis reply without the offer.
    async fn the_crisis_reply_offers_the_plan_and_it_goes_at_night_during_the_crisis(backend) {
        let app = spawn_app(&backend).await;
        let maya = on_call_set_up(&app).await;
        assert_eq!(app.put(&format!("/api/v1/clients/{maya}/safety-plan"), plan()).await.status(), 200);
        app.run_until("2026-03-07T08:00:00Z".parse::<Timestamp>().unwrap()).await;

        app.texts(MAYA, "i want to die").await;
        let reply = app.expect_text(MAYA, "988");
        assert!(reply.ends_with("our team will follow up. Reply PLAN for your safety plan."), "{reply}");
        app.expect_text(crate::inbound::PRIMARY, "ACK");

        app.texts(MAYA, "PLAN").await;
        app.fast_forward(SignedDuration::from_secs(5)).await;
        app.expect_text(MAYA, "Maya, your safety plan:");
        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(board[0]["status"], "open", "sent while the crisis is open");

        app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        app.texts(JORDAN, "i want to die tonight").await;
        let without = app.expect_text(JORDAN, "988");
        assert!(!without.contains("PLAN"), "{without}");
    }
}

on_both_backends! {
    /// A plan that can no longer be sent never costs a crisis text its escalation: one whose stored row no
    /// longer reads, and one holding a word the program has since added to `blocked_terms`. Maya's crisis
    /// text is stored, answered (without the offer) and paged; her `PLAN` gets the short answer; her console
    /// page still shows; the log quotes neither plan.
    async fn a_plan_that_cannot_be_sent_never_stops_a_crisis_text(backend) {
        let app = spawn_app(&backend).await;
        let maya = on_call_set_up(&app).await;
        assert_eq!(app.put(&format!("/api/v1/clients/{maya}/safety-plan"), plan()).await.status(), 200);
        let database = app.database_pool().await;
        sqlx::query("UPDATE safety_plans SET sections = '{\"warning_signs\": 7}'")
            .execute(&database)
            .await
            .unwrap();

        app.texts(MAYA, "i want to die").await;
        let reply = app.expect_text(MAYA, "988");
        assert!(!reply.contains("PLAN"), "no offer of a plan that cannot go: {reply}");
        app.expect_text(crate::inbound::PRIMARY, "ACK");
        let board: Vec<Value> = app.get("/api/v1/escalations").await.json().await.unwrap();
        assert_eq!(board.len(), 1, "the crisis text opened its escalation");
        app.texts(MAYA, "PLAN").await;
        let answer = app.expect_text(MAYA, "988");
        assert!(!answer.contains("your safety plan:"), "{answer}");
        let http = crate::console::no_redirects();
        let cookie = console_session(&app, &http, ADMIN_TOKEN).await;
        let page = http
            .get(format!("{}/console/clients/{maya}", app.address))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "her page still shows, without the plan");

        // A readable plan whose words a stricter blocked_terms list, saved since, now refuses.
        jordan_with_a_plan(&app, plan()).await;
        let latest = app.store.latest_catalog().await.unwrap().unwrap();
        let mut files = latest.files.clone();
        let program = files["program.toml"].replacen("blocked_terms = [", "blocked_terms = [\"dog\", ", 1);
        files.insert("program.toml".into(), program);
        let at = app.clock.now();
        app.store.insert_catalog_version(Some(latest.version), &files, "admin", "dog blocked", at).await.unwrap();
        app.fast_forward(SignedDuration::from_secs(1)).await;
        app.texts(JORDAN, "PLAN").await;
        let answer = app.expect_text(JORDAN, "988");
        assert!(!answer.contains("Walk the dog"), "{answer}");
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// A plan with a wrong field is refused with the field's name and nothing is saved: a bad number, a line
    /// that names treatment in a section that goes by text, too many items, an unknown field.
    async fn a_bad_plan_names_the_field_and_writes_nothing(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let path = format!("/api/v1/clients/{jordan}/safety-plan");
        let mut bad_phone = plan();
        bad_phone["people"] = json!([{"name": "Ana", "phone": "+14155550177"}, {"name": "Sam", "phone": "555-0199"}]);
        let mut blocked = plan();
        blocked["coping"] = json!(["Go to my detox group"]);
        let mut too_many = plan();
        too_many["warning_signs"] = json!(vec!["x"; 9]);
        let mut unknown = plan();
        unknown["favourite_colour"] = json!("blue");
        for (body, field) in [
            (bad_phone, "people[1].phone"),
            (blocked, "coping[0]"),
            (too_many, "warning_signs"),
            (unknown, "favourite_colour"),
        ] {
            let (status, answer) = app.call(Some(ADMIN_TOKEN), "PUT", &path, Some(body)).await;
            assert_eq!(status, 422, "{answer}");
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
        let (status, _) = app.call(Some(ADMIN_TOKEN), "GET", &path, None).await;
        assert_eq!(status, 404, "nothing was saved");
        let (_, versions) = app.call(Some(ADMIN_TOKEN), "GET", &format!("{path}/versions"), None).await;
        assert_eq!(versions["versions"], json!([]));
        let database = app.database_pool().await;
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM safety_plans").fetch_one(&database).await.unwrap();
        assert_eq!(rows, 0);
    }
}

on_both_backends! {
    /// The assigned peer saves and reads the plan, each save a version with who and when, in the audit log;
    /// another peer is told it does not exist; a viewer sees that a plan exists and its versions, never its
    /// words, and may not change it.
    async fn the_plan_is_scoped_versioned_and_audited(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let pat = app.create_staff("Pat", PEER).await;
        let sam = app.create_staff("Sam", OTHER_PEER).await;
        app.assign_staff(jordan, pat).await;
        let pat_token = app.token("staff", "pat", Some(pat));
        let sam_token = app.token("staff", "sam", Some(sam));
        let viewer = app.token("viewer", "board", None);
        let path = format!("/api/v1/clients/{jordan}/safety-plan");

        let (status, first) = app.call(Some(&pat_token), "PUT", &path, Some(plan())).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!((first["version"].as_i64(), first["saved_by"].as_str()), (Some(1), Some("pat")));
        assert_eq!(first["plan"]["people"][0]["phone"], "+14155550177", "numbers stored in E.164");
        // What a GET answers under `plan` is what a PUT takes.
        let (_, current) = app.call(Some(&pat_token), "GET", &path, None).await;
        let mut edited = current["plan"].clone();
        edited["coping"] = json!(["Walk the dog", "Text Ana"]);
        let (status, second) = app.call(Some(ADMIN_TOKEN), "PUT", &path, Some(edited)).await;
        assert_eq!(status, 200, "{second}");
        assert_eq!(second["version"], 2);
        assert_eq!(second["texted_on_request"], true);

        for method in ["GET", "PUT"] {
            let (status, answer) = app.call(Some(&sam_token), method, &path, Some(plan())).await;
            assert_eq!(status, 404, "{method} by another peer: {answer}");
        }
        let (status, _) = app.call(Some(&sam_token), "GET", &format!("{path}/versions"), None).await;
        assert_eq!(status, 404);
        let (status, _) = app.call(Some(&viewer), "PUT", &path, Some(plan())).await;
        assert_eq!(status, 403);
        let (status, outline) = app.call(Some(&viewer), "GET", &path, None).await;
        assert_eq!(status, 200);
        assert_eq!(outline["version"], 2);
        assert_eq!(outline["plan"], Value::Null, "a viewer never sees the words: {outline}");
        let (_, versions) = app.call(Some(&viewer), "GET", &format!("{path}/versions"), None).await;
        let versions = versions["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!((versions[0]["version"].as_i64(), versions[0]["saved_by"].as_str()), (Some(2), Some("bootstrap")));
        assert!(versions.iter().all(|v| v["plan"].is_null()));
        let (_, versions) = app.call(Some(&pat_token), "GET", &format!("{path}/versions"), None).await;
        assert_eq!(versions["versions"][1]["plan"]["coping"][0], "Walk the dog around the block");

        let audit: Vec<Value> = app.get("/api/v1/audit").await.json().await.unwrap();
        let entry = |actor: &str, action: &str, outcome: &str| {
            audit.iter().any(|e| e["actor"] == actor && e["action"] == action && e["outcome"] == outcome)
        };
        assert!(entry("pat", "PUT /api/v1/clients/{id}/safety-plan", "ok"));
        assert!(entry("pat", "GET /api/v1/clients/{id}/safety-plan", "ok"), "reads are audited");
        assert!(entry("sam", "PUT /api/v1/clients/{id}/safety-plan", "denied"));
        assert!(entry("board", "PUT /api/v1/clients/{id}/safety-plan", "denied"));
    }
}

/// Signs in to the console with `token`; answers the session cookie to send with each request.
async fn console_session(app: &TestApp, http: &reqwest::Client, token: &str) -> String {
    let signed_in = crate::console::sign_in(&app.address, http, token).await;
    signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tether_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    /// The client page shows the plan and saves a new version from its form, with the session's CSRF token,
    /// under the API's checks: a refused form comes back with the field named and what was typed kept, every
    /// word escaped; a viewer sees that there is a plan, not what it says.
    async fn the_console_shows_and_edits_the_plan(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client(JORDAN, "Jordan", "en", "America/New_York").await;
        let pat = app.create_staff("Pat", PEER).await;
        app.assign_staff(jordan, pat).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = console_session(&app, &http, &app.token("staff", "pat", Some(pat))).await;
        let page_url = format!("{}/console/clients/{jordan}", app.address);
        let page = |cookie: String| {
            let (http, url) = (http.clone(), page_url.clone());
            async move { http.get(url).header(reqwest::header::COOKIE, cookie).send().await.unwrap().text().await.unwrap() }
        };
        let empty = page(cookie.clone()).await;
        assert!(empty.contains("No plan yet.") && empty.contains("/safety-plan"), "{empty}");
        let csrf = crate::console::page_csrf(&empty, "name=\"csrf\" value=\"");
        let post = |fields: Vec<(&'static str, String)>| {
            let (http, cookie) = (http.clone(), cookie.clone());
            let url = format!("{}/console/clients/{jordan}/safety-plan", app.address);
            async move { http.post(url).header(reqwest::header::COOKIE, cookie).form(&fields).send().await.unwrap() }
        };
        let form = |csrf: &str, people: &str| {
            vec![
                ("csrf", csrf.to_owned()),
                ("warning_signs", "Not sleeping\n<script>alert(1)</script>\n".to_owned()),
                ("coping", "Walk the dog".to_owned()),
                ("people", people.to_owned()),
                ("environment", "Pills in Ana's lockbox".to_owned()),
                ("consent_source", "discharge conversation".to_owned()),
            ]
        };

        assert_eq!(post(form("forged", "Ana, +14155550177")).await.status(), 403);
        let refused = post(form(&csrf, "Ana, 555-0177")).await;
        assert_eq!(refused.status(), 422);
        let refused = refused.text().await.unwrap();
        assert!(refused.contains("people[0].phone"), "{refused}");
        assert!(refused.contains("Ana, 555-0177"), "what was typed stays: {refused}");
        assert!(refused.contains("&lt;script&gt;") && !refused.contains("<script>alert"), "{refused}");
        assert_eq!(app.get(&format!("/api/v1/clients/{jordan}/safety-plan")).await.status(), 404);

        let saved = post(form(&csrf, "Ana (sister), +1 415 555 0177")).await;
        assert_eq!(saved.status(), 303);
        let plan: Value = app.get(&format!("/api/v1/clients/{jordan}/safety-plan")).await.json().await.unwrap();
        assert_eq!(plan["version"], 1);
        assert_eq!(plan["saved_by"], "pat");
        assert_eq!(plan["plan"]["warning_signs"], json!(["Not sleeping", "<script>alert(1)</script>"]));
        assert_eq!(plan["plan"]["people"][0], json!({"name": "Ana (sister)", "phone": "+14155550177"}));
        assert_eq!(plan["plan"]["text_consent"]["consent_source"], "discharge conversation");
        assert_eq!(plan["plan"]["share_environment_by_text"], false);
        let shown = page(cookie.clone()).await;
        assert!(shown.contains("Version 1, saved by pat") && shown.contains("Texted when Jordan sends PLAN"), "{shown}");
        assert!(shown.contains("<li>Walk the dog</li>") && shown.contains("&lt;script&gt;alert(1)&lt;"), "{shown}");
        assert!(!shown.contains("<script>alert"), "{shown}");

        // Saving again keeps the consent's time while its source is unchanged.
        assert_eq!(post(form(&csrf, "Ana (sister), +14155550177")).await.status(), 303);
        let second: Value = app.get(&format!("/api/v1/clients/{jordan}/safety-plan")).await.json().await.unwrap();
        assert_eq!(second["version"], 2);
        assert_eq!(second["plan"]["text_consent"], plan["plan"]["text_consent"]);

        let viewer = console_session(&app, &http, &app.token("viewer", "board", None)).await;
        let outline = page(viewer).await;
        assert!(outline.contains("Version 2") && outline.contains("(hidden for your role)"), "{outline}");
        assert!(!outline.contains("Walk the dog") && !outline.contains("lockbox"), "{outline}");
        assert!(!outline.contains("/safety-plan\""), "no form for a viewer");
    }
}
