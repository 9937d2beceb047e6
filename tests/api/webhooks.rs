//! Status callbacks: signed, forward-only, and able to record an opt-out.

use jiff::SignedDuration;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;

async fn one_sent_text(app: &TestApp) -> (i64, crate::mock_provider::ReceivedText) {
    let client = app
        .create_client("+14155550123", "Jordan", "en", "America/New_York")
        .await;
    app.enroll(client, "caring_contacts", "2026-03-06T15:00:00-05:00").await;
    app.run_until(app.clock.now() + SignedDuration::from_hours(26)).await;
    let sent = app.mock.accepted();
    assert_eq!(sent.len(), 1);
    (client, sent[0].clone())
}

async fn provider_status(app: &TestApp, client: i64) -> (String, String) {
    let text = app.messages(client).await.remove(0);
    (
        text["status"].as_str().unwrap().to_owned(),
        text["provider_status"].as_str().unwrap_or("").to_owned(),
    )
}

on_both_backends! {
    /// Callbacks arrive out of order and twice; status only ever moves forward.
    async fn a_late_sent_never_overwrites_delivered(backend) {
        let app = spawn_app(&backend).await;
        let (client, text) = one_sent_text(&app).await;
        assert_eq!(provider_status(&app, client).await, ("sent".into(), "queued".into()));

        assert_eq!(app.mock.send_status(&app.address, &text, "delivered", None).await.unwrap(), 200);
        assert_eq!(app.mock.send_status(&app.address, &text, "sent", None).await.unwrap(), 200);
        assert_eq!(app.mock.send_status(&app.address, &text, "delivered", None).await.unwrap(), 200);
        assert_eq!(app.mock.send_status(&app.address, &text, "undelivered", Some(30003)).await.unwrap(), 200);

        assert_eq!(provider_status(&app, client).await, ("delivered".into(), "delivered".into()));
        assert!(app.messages(client).await[0]["error_code"].is_null(), "a conflicting final status is ignored");
    }
}

on_both_backends! {
    /// A missing or wrong signature is refused with 403 and changes nothing.
    async fn unsigned_or_tampered_callbacks_are_refused(backend) {
        let app = spawn_app(&backend).await;
        let (client, text) = one_sent_text(&app).await;
        let url = format!("{}/webhooks/twilio/status?outbox_id={}", app.address, text.outbox_id().unwrap());
        let params = [("MessageSid", text.sid.clone().unwrap()), ("MessageStatus", "failed".to_owned())];
        let unsigned = app.http.post(&url).form(&params).send().await.unwrap();
        assert_eq!(unsigned.status(), 403);
        let signature = tether::provider::signature::compute(
            crate::mock_provider::AUTH_TOKEN,
            &format!("{PUBLIC_URL}/webhooks/twilio/status?outbox_id={}", text.outbox_id().unwrap()),
            &[("MessageSid".into(), text.sid.clone().unwrap()), ("MessageStatus".into(), "delivered".into())],
        );
        let tampered = app.http.post(&url).header("X-Twilio-Signature", signature).form(&params).send().await.unwrap();
        assert_eq!(tampered.status(), 403, "signed for delivered, sent as failed");
        assert_eq!(provider_status(&app, client).await, ("sent".into(), "queued".into()));
    }
}

on_both_backends! {
    /// A 21610 reported in a status callback opts the client out like one in a create response.
    async fn error_21610_in_a_callback_records_the_opt_out(backend) {
        let app = spawn_app(&backend).await;
        let (client, text) = one_sent_text(&app).await;
        assert_eq!(app.mock.send_status(&app.address, &text, "failed", Some(21610)).await.unwrap(), 200);
        let view: Value = app.get(&format!("/api/v1/clients/{client}")).await.json().await.unwrap();
        assert_eq!(view["status"], "opted_out");
        let messages = app.messages(client).await;
        assert_eq!(messages[0]["status"], "failed");
        assert_eq!(messages[0]["error_code"], 21610);

        app.run_until(app.clock.now() + SignedDuration::from_hours(24 * 10)).await;
        assert_eq!(app.mock.accepted().len(), 1, "nothing after the opt-out");
    }
}
