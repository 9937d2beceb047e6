//! A concern nobody looked at: a concern notice still unseen `TETHER_CONCERN_UNSEEN_HOURS` after it opened
//! is texted once, as a notice with a reference, to whoever is on call then; to the fallback numbers when
//! nobody is; logged when there is nobody at all.

use jiff::SignedDuration;
use serde_json::{Value, json};
use tether::app::Application;
use tether::config::parse_fallback_numbers;
use tether::scheduling::Clock;
use tether::storage::UnseenOutcome;

use crate::helpers::*;
use crate::inbound::{BACKUP, MAYA, PRIMARY, STRANGER, on_call_set_up};
use crate::on_both_backends;

const CONCERN: &str = "I relapsed last night";
const FALLBACK: &str = "+14155550190";

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

impl TestApp {
    /// Maya, with the on-call set-up of the inbound tests but her peer on the backup rotation, so a text to
    /// the primary can only be the on-call one; she texts a concern, and the peer's notice and her reply go.
    async fn maya_texts_a_concern(&self) -> i64 {
        let maya = on_call_set_up(self).await;
        self.assign_staff(maya, 2).await;
        self.text_in(MAYA, CONCERN).await;
        self.scheduler.tick().await.unwrap();
        self.expect_text(MAYA, "Thank you for letting us know");
        self.expect_text(BACKUP, &format!("ref {maya}"));
        self.assert_nothing_else_texted();
        maya
    }

    async fn notices(&self) -> Vec<Value> {
        self.get("/api/v1/notices").await.json().await.unwrap()
    }
}

on_both_backends! {
    /// Four hours after Maya's concern, with nobody having marked it seen, whoever is on call gets one
    /// notice: her reference, not her words, and no reply code. Not again at 8 hours, nor the next day.
    async fn an_unseen_concern_goes_to_whoever_is_on_call_once(backend) {
        let app = spawn_app(&backend).await;
        let maya = app.maya_texts_a_concern().await;

        app.fast_forward(hours(4) - SignedDuration::from_secs(1)).await;
        app.assert_nothing_else_texted();
        app.fast_forward(SignedDuration::from_secs(1)).await;
        let notice = app.expect_text(PRIMARY, &format!("ref {maya}"));
        assert!(!notice.contains("relapsed") && !notice.contains("ACK"), "{notice}");
        app.assert_nothing_else_texted();
        let listed = app.notices().await;
        assert_eq!(listed[0]["unseen_outcome"], "on_call", "{listed:?}");
        assert!(listed[0]["seen_at"].is_null(), "texting on does not mark it seen");

        app.fast_forward(hours(4)).await;
        app.fast_forward(hours(20)).await;
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// Marked seen three hours in, a notice is never texted on.
    async fn a_notice_seen_in_time_never_goes(backend) {
        let app = spawn_app(&backend).await;
        app.maya_texts_a_concern().await;
        app.fast_forward(hours(3)).await;
        let id = app.notices().await[0]["id"].clone();
        assert_eq!(app.post(&format!("/api/v1/notices/{id}/seen"), json!({})).await.status(), 200);
        app.fast_forward(hours(24)).await;
        app.assert_nothing_else_texted();
        assert!(app.notices().await[0]["unseen_outcome"].is_null());
    }
}

on_both_backends! {
    /// The peer answering Maya through the service (`R <ref> …`) has taken the concern up: her notice is
    /// marked seen then, and nobody on call is told of it later.
    async fn a_peers_answer_counts_as_seeing_the_notice(backend) {
        let app = spawn_app(&backend).await;
        let maya = app.maya_texts_a_concern().await;
        app.fast_forward(hours(1)).await;
        app.text_in(BACKUP, &format!("R {maya} I'm here. Call me when you can.")).await;
        app.scheduler.tick().await.unwrap();
        app.expect_text(MAYA, "I'm here. Call me when you can.");
        assert!(app.notices().await[0]["seen_at"].is_string(), "the answer marks it seen");
        app.fast_forward(hours(24)).await;
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// `TETHER_CONCERN_UNSEEN_HOURS=6`: nothing at four hours, the notice at six.
    async fn the_setting_changes_the_delay(backend) {
        let app = spawn_app_with(&backend, |settings| settings.concern_unseen_hours = 6).await;
        let maya = app.maya_texts_a_concern().await;
        app.fast_forward(hours(6) - SignedDuration::from_secs(1)).await;
        app.assert_nothing_else_texted();
        app.fast_forward(SignedDuration::from_secs(1)).await;
        app.expect_text(PRIMARY, &format!("ref {maya}"));
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// Whoever is on call at the four-hour mark, not when the concern came in: an override taken in the
    /// meantime wins.
    async fn the_notice_goes_to_whoever_is_on_call_at_that_moment(backend) {
        let app = spawn_app(&backend).await;
        let maya = app.maya_texts_a_concern().await;
        let now = app.clock.now();
        let cover = json!({"staff_id": 3, "starts_at": (now + hours(2)).to_string(), "ends_at": (now + hours(6)).to_string()});
        let response = app.post("/api/v1/rotations/1/overrides", cover).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        app.fast_forward(hours(4)).await;
        app.expect_text("+14155550183", &format!("ref {maya}"));
        app.assert_nothing_else_texted();
    }
}

on_both_backends! {
    /// With nobody on call (the policy's only person said STOP), the fallback numbers
    /// get the notice; a concern from a number that is no client carries its own reference.
    async fn with_nobody_on_call_the_fallback_numbers_get_it(backend) {
        let app = spawn_app_with(&backend, |settings| {
            settings.fallback_page_to = parse_fallback_numbers(FALLBACK).unwrap();
        })
        .await;
        let on_call = app.create_staff("Primary", PRIMARY).await;
        let policy = json!({"steps": [{"target": {"staff": on_call}, "delay_minutes": 10}], "repeat": 0});
        assert_eq!(app.put("/api/v1/escalation-policy", policy).await.status(), 200);
        app.text_in(PRIMARY, "STOP").await;
        app.text_in(STRANGER, CONCERN).await;
        app.scheduler.tick().await.unwrap();
        assert!(app.mock.accepted().iter().all(|text| text.to != FALLBACK));
        let texted_primary = app.mock.accepted().iter().filter(|text| text.to == PRIMARY).count();

        app.fast_forward(hours(4)).await;
        let notice = app.expect_text(FALLBACK, "ref unknown-");
        assert!(!notice.contains("relapsed"), "{notice}");
        assert_eq!(app.notices().await[0]["unseen_outcome"], "fallback");
        app.fast_forward(hours(8)).await;
        assert_eq!(app.mock.accepted().iter().filter(|text| text.to == FALLBACK).count(), 1);
        let after = app.mock.accepted().iter().filter(|text| text.to == PRIMARY).count();
        assert_eq!(after, texted_primary, "nothing to the on-call person who said STOP");
    }
}

on_both_backends! {
    /// With nobody on call and no fallback number, nobody is texted; the notice records that, so the error
    /// is logged once, not on every pass.
    async fn with_nobody_at_all_nothing_is_texted_and_it_is_recorded(backend) {
        let app = spawn_app(&backend).await;
        let maya = app.create_client(MAYA, "Maya", "en", "America/New_York").await;
        app.text_in(MAYA, CONCERN).await;
        app.scheduler.tick().await.unwrap();
        app.expect_text(MAYA, "Thank you for letting us know");
        app.fast_forward(hours(5)).await;
        app.assert_nothing_else_texted();
        let listed = app.notices().await;
        assert_eq!(listed[0]["client_id"], maya);
        assert_eq!(listed[0]["unseen_outcome"], "nobody");
    }
}

on_both_backends! {
    /// Two instances on one database pass over three due notices at the same moment, and an instance started
    /// afterwards passes again: each notice reaches the on-call phone exactly once.
    async fn two_instances_and_a_restart_text_each_notice_once(backend) {
        let first = spawn_app(&backend).await;
        on_call_set_up(&first).await;
        for (i, phone) in ["+14155550160", "+14155550161", "+14155550162"].into_iter().enumerate() {
            let client = first.create_client(phone, &format!("Client{i}"), "en", "America/New_York").await;
            first.assign_staff(client, 2).await;
            first.text_in(phone, CONCERN).await;
        }
        let settings = test_settings(&first.database_url, &first.mock.base_url);
        let second = Application::build(&settings, Clock::Manual(first.clock.clone())).await.unwrap();
        let second_scheduler = second.scheduler();
        first.clock.set(first.clock.now() + hours(4));
        let (a, b) = tokio::join!(first.scheduler.tick(), second_scheduler.tick());
        a.unwrap();
        b.unwrap();
        let restarted = Application::build(&settings, Clock::Manual(first.clock.clone())).await.unwrap();
        first.clock.set(first.clock.now() + hours(4));
        restarted.scheduler().tick().await.unwrap();
        first.scheduler.tick().await.unwrap();

        let on_call: Vec<String> = first
            .mock
            .accepted()
            .into_iter()
            .filter(|text| text.to == PRIMARY)
            .map(|text| text.body)
            .collect();
        assert_eq!(on_call.len(), 3, "{on_call:?}");
        for reference in ["ref 2", "ref 3", "ref 4"] {
            assert_eq!(on_call.iter().filter(|body| body.contains(reference)).count(), 1, "{on_call:?}");
        }
        // The outbox's keys would drop a second text anyway; the claim keeps a late instance from even
        // recording (and logging) a second outcome.
        for notice in first.notices().await {
            let id = notice["id"].as_i64().unwrap();
            let again = first.store.handle_unseen_notice(id, UnseenOutcome::Nobody, &[], first.clock.now()).await;
            assert!(!again.unwrap(), "notice {id} claimed twice");
            assert_eq!(notice["unseen_outcome"], "on_call");
        }
    }
}
