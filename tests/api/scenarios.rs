//! End-to-end scenarios ported from GoAlert's smoke tests, written as "this happens, then
//! that is texted to whom". Each one ends by checking that nothing else was texted to anyone: a stray
//! page or a double text fails the scenario.

use jiff::SignedDuration;

use crate::helpers::*;
use crate::inbound::{BACKUP, MAYA, PRIMARY, STRANGER, on_call_set_up};
use crate::on_both_backends;

impl TestApp {
    /// `phone` texts the service.
    pub(crate) async fn texts(&self, phone: &str, body: &str) {
        assert_eq!(self.text_in(phone, body).await, 200, "{phone}: {body}");
        self.scheduler.tick().await.unwrap();
    }

    /// Checks off a text to `phone` containing `words`, sent by now; answers its body.
    #[track_caller]
    pub(crate) fn expect_text(&self, phone: &str, words: &str) -> String {
        self.mock
            .expect(phone, words)
            .unwrap_or_else(|err| panic!("{err}"))
            .body
    }

    /// Moves the virtual clock on, running whatever falls due.
    pub(crate) async fn fast_forward(&self, by: SignedDuration) {
        self.run_until(self.clock.now() + by).await;
    }

    /// Ends a scenario: nothing was texted that the scenario did not expect.
    #[track_caller]
    pub(crate) fn assert_nothing_else_texted(&self) {
        let unexpected = self.mock.unexpected();
        assert!(
            unexpected.is_empty(),
            "unexpected texts: {:#?}",
            unexpected.iter().map(|t| (&t.to, &t.body)).collect::<Vec<_>>()
        );
    }
}

/// The alert code in a page ("Tether alert 1234: …").
pub(crate) fn code_of(page: &str) -> String {
    page.split("ACK ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    /// escalation_test.go, twiliosmsack_test.go: a crisis pages the primary at once and the backup after the
    /// step delay; the backup's ACK stops it; an hour later nobody has been paged again.
    async fn a_crisis_escalates_on_time_and_an_ack_stops_it(backend) {
        let app = spawn_app(&backend).await;
        on_call_set_up(&app).await;
        app.texts(MAYA, "i want to die").await;
        app.expect_text(MAYA, "988");
        let page = app.expect_text(PRIMARY, "ACK");
        app.fast_forward(SignedDuration::from_mins(9)).await;
        app.assert_nothing_else_texted();
        app.fast_forward(SignedDuration::from_mins(1)).await;
        assert_eq!(app.expect_text(BACKUP, "ACK"), page, "the same alert, the same code");
        app.texts(BACKUP, &format!("ack {}", code_of(&page))).await;
        app.expect_text(BACKUP, "Acknowledged");
        app.fast_forward(SignedDuration::from_hours(1)).await;
        app.assert_nothing_else_texted();
    }
}

/// twiliosmsreplycode_test.go, twiliosmsreplylast_test.go, twiliosmstrailingspace_test.go: a bare `ACK`
/// takes the latest alert paged to you, trailing spaces are fine, a second ACK is told it was already
/// taken, and a code that matches nothing is explained.
#[tokio::test]
async fn ack_codes_bare_repeated_and_unknown() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    let page = app.expect_text(PRIMARY, "ACK");
    app.texts(PRIMARY, "ACK   ").await;
    app.expect_text(PRIMARY, "Acknowledged");
    app.texts(PRIMARY, &format!("ACK {}  ", code_of(&page))).await;
    app.expect_text(PRIMARY, "already acknowledged");
    app.texts(PRIMARY, "ACK 0000").await;
    app.expect_text(PRIMARY, "No open alert has code 0000");
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

/// twiliosmsclose_test.go: closing an alert (here from the API) stops all paging; nothing in the next hour.
#[tokio::test]
async fn a_resolved_alert_pages_nobody_afterwards() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(PRIMARY, "ACK");
    assert_eq!(
        app.post("/api/v1/escalations/1/resolve", serde_json::json!({}))
            .await
            .status(),
        200
    );
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

/// twiliosmsstopstart_test.go: a peer who texts STOP is told once and the chain moves past them at once;
/// START brings them back.
#[tokio::test]
async fn a_peer_who_says_stop_is_skipped_at_once_and_start_brings_them_back() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    app.texts(PRIMARY, "STOP").await;
    app.expect_text(PRIMARY, "You will not get more texts");
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(BACKUP, "ACK");
    app.texts(BACKUP, "ACK").await;
    app.expect_text(BACKUP, "Acknowledged");
    app.texts(PRIMARY, "START").await;
    app.expect_text(PRIMARY, "You will get Tether alerts again");
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

/// twiliosmsreplyignore_test.go, twiliosmsreplylimit_test.go: an unknown number gets one answer (with crisis
/// lines), not one per text, so two bots cannot text each other forever.
#[tokio::test]
async fn an_unknown_number_gets_one_answer_a_day() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    for n in 0..10 {
        app.texts(STRANGER, &format!("junk {n}")).await;
    }
    app.expect_text(STRANGER, "does not take new messages");
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

/// twiliosmsfailure_test.go (adapted): a page the provider refuses for good is not retried blindly; the next
/// step is paged now, not after the step delay.
#[tokio::test]
async fn a_page_that_cannot_be_delivered_moves_the_chain_on_now() {
    let app = spawn_app(&TestBackend::Sqlite).await;
    on_call_set_up(&app).await;
    app.mock.script_for(
        PRIMARY,
        crate::mock_provider::Scripted::Fail {
            status: 400,
            code: Some(21610),
            retry_after: None,
        },
    );
    app.texts(MAYA, "i want to die").await;
    app.expect_text(MAYA, "988");
    app.expect_text(BACKUP, "ACK");
    assert_eq!(
        app.mock.requests().iter().filter(|t| t.to == PRIMARY).count(),
        1,
        "the refused page is tried once"
    );
    app.texts(BACKUP, "ACK").await;
    app.expect_text(BACKUP, "Acknowledged");
    app.fast_forward(SignedDuration::from_hours(1)).await;
    app.assert_nothing_else_texted();
}

on_both_backends! {
    /// dedupnotifications_test.go (adapted): the service is down for four days after a discharge; when it
    /// comes back there is no burst of stale caring contacts, just the next one on its day.
    async fn an_outage_does_not_end_in_a_burst_of_stale_texts(backend) {
        let app = spawn_app(&backend).await;
        let jordan = app.create_client("+14155550123", "Jordan", "en", "America/New_York").await;
        app.enroll(jordan, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
        // Nothing runs from Friday to Tuesday evening: days 1 and 3 fall in the outage.
        app.clock.set("2026-03-10T22:00:00Z".parse().unwrap());
        app.scheduler.tick().await.unwrap();
        app.assert_nothing_else_texted();
        app.fast_forward(SignedDuration::from_hours(4 * 24)).await;
        app.expect_text("+14155550123", "");
        app.assert_nothing_else_texted();
        let statuses: Vec<(String, String)> = app
            .messages(jordan)
            .await
            .iter()
            .map(|m| (m["step"].as_str().unwrap().to_owned(), m["status"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(statuses, [("day_1", "expired"), ("day_3", "expired"), ("day_7", "sent")].map(|(a, b)| (a.to_owned(), b.to_owned())));
    }
}
