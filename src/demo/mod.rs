//! `tether demo`: three stories played on a virtual clock against the mock provider, with the shipped
//! templates and a throw-away database, printed as a timeline of who texted what to whom, and why.
//!
//! - Jordan, 32, leaves detox on a Friday at 15:00: caring contacts on day 1 and day 3; a Monday 09:00
//!   intake appointment with its reminders and a `C` confirmation; a craving text on Saturday night brings
//!   a concern notice to his peer, whose answer is relayed to him.
//! - The same Friday again, had Jordan's team chosen the 72-hour bridge: check-ins morning and evening
//!   over the weekend in place of the day 1 and day 3 caring contacts, a Saturday craving text answered by
//!   his peer through the service, his safety plan asked for by text at night, and the Monday intake
//!   reminder.
//! - Maya, 47, texts on a bad night that she wants to die: the safe-messaging reply, the on-call peer
//!   paged, no acknowledgement, the backup paged 10 minutes later, the backup acknowledges by SMS.

pub mod harness;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::sandbox::mock_provider::{FROM, ReceivedText};
use crate::sandbox::people::{self, ALEX, JORDAN, MAYA, SAM, ZONE};
use harness::Sandbox;

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// RFC 3339 with the local offset.
    pub at: String,
    /// `sent`, `received`, `page`, `notice` or `ack`.
    pub kind: &'static str,
    pub from: String,
    pub to: String,
    pub body: String,
    /// Why it happened, in a few words.
    pub why: String,
    /// `jordan`, `weekend` or `maya`.
    pub story: &'static str,
    #[serde(skip)]
    instant: Timestamp,
}

/// Who a number belongs to, for the timeline.
fn name_of(phone: &str) -> String {
    match phone {
        FROM => "Tether".into(),
        other => people::name_of(other).unwrap_or(other).into(),
    }
}

fn instant(at: &str) -> anyhow::Result<Timestamp> {
    at.parse().with_context(|| format!("story time {at}"))
}

struct Story {
    sandbox: Sandbox,
    events: Vec<Event>,
    story: &'static str,
}

impl Story {
    /// Plays the clock forward to `until`, recording what was sent on the way.
    async fn run_until(&mut self, until: &str) -> anyhow::Result<()> {
        for (at, text) in self.sandbox.run_until(instant(until)?).await? {
            let (kind, why) = self.purpose(&text).await?;
            self.push(at, kind, FROM, &text.to, &text.body, why);
        }
        Ok(())
    }

    /// A text from `from`, at the clock's time.
    async fn text_in(&mut self, from: &str, body: &str, why: &str) -> anyhow::Result<()> {
        let kind = if body.to_uppercase().starts_with("ACK") {
            "ack"
        } else {
            "received"
        };
        let now = self.sandbox.clock.now();
        self.push(now, kind, from, FROM, body, why.to_owned());
        self.sandbox.text_in(from, body).await
    }

    /// The reference of the last concern notice, which a peer quotes to answer through the service.
    fn last_notice_reference(&self) -> anyhow::Result<String> {
        self.events
            .iter()
            .rev()
            .find(|e| e.kind == "notice")
            .and_then(|e| e.body.split("ref ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .context("the concern notice carries no reference")
    }

    fn push(&mut self, at: Timestamp, kind: &'static str, from: &str, to: &str, body: &str, why: String) {
        let local = at.to_zoned_datetime(TimeZone::get(ZONE).unwrap_or(TimeZone::UTC));
        self.events.push(Event {
            at: local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            kind,
            from: name_of(from),
            to: name_of(to),
            body: body.to_owned(),
            why,
            story: self.story,
            instant: at,
        });
    }

    /// What a sent text was for, from its outbox row.
    async fn purpose(&self, text: &ReceivedText) -> anyhow::Result<(&'static str, String)> {
        let Some(id) = text.outbox_id() else {
            return Ok(("sent", String::new()));
        };
        let (kind, template, step) = self.sandbox.store.text_purpose(id).await?.unwrap_or_default();
        Ok(match kind.as_str() {
            "page" => (
                "page",
                "crisis escalation: paging whoever is on call for this step".into(),
            ),
            "staff_notice" if template.as_deref() == Some("staff/notice") => {
                ("notice", "concern notice to the assigned peer".into())
            }
            "staff_notice" if template.as_deref() == Some("staff/signal") => {
                ("notice", "the assigned peer told the client has gone quiet".into())
            }
            "staff_notice" => ("sent", "confirmation to staff".into()),
            "caring_contact" => (
                "sent",
                format!("caring contact, {}", step.unwrap_or_default().replace('_', " ")),
            ),
            "bridge_check_in" => (
                "sent",
                format!("bridge check-in, {}", step.unwrap_or_default().replace('_', " ")),
            ),
            "appointment_reminder" => ("sent", "appointment reminder".into()),
            "reminder_reply" => ("sent", "answer to a reminder reply".into()),
            "safety_plan" => ("sent", "his safety plan, asked for by text, in order".into()),
            "crisis_reply" => ("sent", "safe-messaging reply to a crisis text".into()),
            "concern_reply" => ("sent", "reply to a text that shows concern".into()),
            "relay" => ("sent", "the peer's answer, relayed from the service's number".into()),
            other => ("sent", other.replace('_', " ")),
        })
    }
}

/// Plays the stories and answers their events in time order.
pub async fn run(templates_dir: &Path) -> anyhow::Result<Vec<Event>> {
    let mut events = jordan(templates_dir).await?;
    events.extend(weekend(templates_dir).await?);
    events.extend(maya(templates_dir).await?);
    Ok(events)
}

/// Staff, the on-call rotations (Riley, then Alex 10 minutes later) and one client.
async fn set_up(sandbox: &Sandbox, name: &str, phone: &str) -> anyhow::Result<i64> {
    people::staff_on_call(sandbox.api()).await?;
    people::client(sandbox.api(), name, phone).await
}

async fn jordan(templates_dir: &Path) -> anyhow::Result<Vec<Event>> {
    let sandbox = Sandbox::start(templates_dir, instant("2026-03-06T14:30:00-05:00")?).await?;
    let id = set_up(&sandbox, "Jordan", JORDAN).await?;
    sandbox
        .api()
        .call(
            Method::PUT,
            &format!("/api/v1/clients/{id}/assigned-staff"),
            json!({ "staff_id": 1 }),
        )
        .await?;
    sandbox
        .api()
        .call(
            Method::POST,
            &format!("/api/v1/clients/{id}/enrollments"),
            json!({ "schedule": "caring_contacts", "discharged_at": "2026-03-06T15:00:00-05:00" }),
        )
        .await?;
    sandbox
        .api()
        .call(
            Method::POST,
            &format!("/api/v1/clients/{id}/appointments"),
            json!({ "starts_at": "2026-03-09T09:00:00-04:00" }),
        )
        .await?;
    let mut story = Story {
        sandbox,
        events: Vec::new(),
        story: "jordan",
    };
    story.run_until("2026-03-07T22:30:00-05:00").await?;
    story
        .text_in(
            JORDAN,
            "Rough night. Cravings are bad and im not ok",
            "Saturday night, a craving",
        )
        .await?;
    story.run_until("2026-03-07T22:34:00-05:00").await?;
    let reference = story.last_notice_reference()?;
    story
        .text_in(
            SAM,
            &format!("R {reference} I'm here, Jordan. Call me at 9 tomorrow, or text back tonight."),
            "the peer answers through the service, keeping their own number private",
        )
        .await?;
    story.run_until("2026-03-08T09:30:00-04:00").await?;
    story.text_in(JORDAN, "C", "confirms the appointment").await?;
    story.run_until("2026-03-09T16:00:00-04:00").await?;
    Ok(story.events)
}

/// Jordan's Friday again, with the bridge chosen at discharge (he agreed on the form to two texts a day).
async fn weekend(templates_dir: &Path) -> anyhow::Result<Vec<Event>> {
    let sandbox = Sandbox::start(templates_dir, instant("2026-03-06T14:30:00-05:00")?).await?;
    let id = set_up(&sandbox, "Jordan", JORDAN).await?;
    let api = sandbox.api();
    api.call(
        Method::PUT,
        &format!("/api/v1/clients/{id}/assigned-staff"),
        json!({ "staff_id": 1 }),
    )
    .await?;
    api.call(
        Method::POST,
        &format!("/api/v1/clients/{id}/enrollments"),
        json!({ "schedules": ["bridge", "caring_contacts"], "discharged_at": "2026-03-06T15:00:00-05:00",
                "several_texts_a_day_consent": { "consented_at": "2026-03-06T14:00:00-05:00",
                                                 "consent_source": "discharge form" } }),
    )
    .await?;
    api.call(
        Method::POST,
        &format!("/api/v1/clients/{id}/appointments"),
        json!({ "starts_at": "2026-03-09T09:00:00-04:00", "kind": "clinic_visit" }),
    )
    .await?;
    // Written with Jordan before he left; the section on his surroundings stays out of texts.
    api.call(
        Method::PUT,
        &format!("/api/v1/clients/{id}/safety-plan"),
        json!({ "warning_signs": ["Not sleeping", "Skipping meals", "Staying in my room"],
                "coping": ["Shower and get dressed", "Walk around the block", "Music, loud"],
                "distractions": ["The library on Main St", "Diner on 5th, the counter"],
                "people": [{ "name": "Ana (sister)", "phone": "+14155550177" }],
                "professionals": [{ "name": "Clinic front desk", "phone": "+14155550100" }],
                "environment": ["Ana keeps the car keys this month"],
                "share_environment_by_text": false,
                "text_consent": { "consented_at": "2026-03-06T14:00:00-05:00", "consent_source": "discharge form" } }),
    )
    .await?;
    let mut story = Story {
        sandbox,
        events: Vec::new(),
        story: "weekend",
    };
    story.run_until("2026-03-07T21:45:00-05:00").await?;
    story
        .text_in(
            JORDAN,
            "Cravings are bad tonight. Everyone's out and I'm stuck home alone",
            "Saturday night, a craving",
        )
        .await?;
    story.run_until("2026-03-07T21:50:00-05:00").await?;
    let reference = story.last_notice_reference()?;
    story
        .text_in(
            SAM,
            &format!("R {reference} Proud of you for texting. Go for a walk with me on the phone? Call me now."),
            "the peer answers through the service, keeping their own number private",
        )
        .await?;
    story.run_until("2026-03-08T01:40:00-05:00").await?;
    story
        .text_in(JORDAN, "PLAN", "can't sleep; asks for his safety plan at night")
        .await?;
    story.run_until("2026-03-08T09:30:00-04:00").await?;
    story.text_in(JORDAN, "C", "confirms the intake").await?;
    story.run_until("2026-03-09T19:00:00-04:00").await?;
    Ok(story.events)
}

async fn maya(templates_dir: &Path) -> anyhow::Result<Vec<Event>> {
    let sandbox = Sandbox::start(templates_dir, instant("2026-03-10T23:30:00-04:00")?).await?;
    set_up(&sandbox, "Maya", MAYA).await?;
    let mut story = Story {
        sandbox,
        events: Vec::new(),
        story: "maya",
    };
    story.run_until("2026-03-10T23:40:00-04:00").await?;
    story
        .text_in(
            MAYA,
            "I can't do this anymore. I want to die.",
            "a bad night, months into recovery",
        )
        .await?;
    story.run_until("2026-03-10T23:52:00-04:00").await?;
    let code = story
        .events
        .iter()
        .rev()
        .find(|e| e.kind == "page" && e.to.starts_with("Alex"))
        .and_then(|e| e.body.split("ACK ").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .context("the backup was not paged with a code")?
        .to_owned();
    story
        .text_in(ALEX, &format!("ACK {code}"), "the backup takes it")
        .await?;
    story.run_until("2026-03-11T00:30:00-04:00").await?;
    Ok(story.events)
}

/// The timeline for a terminal: one block per story, local time, who, what, why.
pub fn render(events: &[Event]) -> String {
    let mut out = String::new();
    let mut by_story: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for event in events {
        by_story.entry(event.story).or_default().push(event);
    }
    let titles = [
        ("jordan", "Jordan, 32, leaves detox on Friday 6 March at 15:00"),
        (
            "weekend",
            "The same Friday, had Jordan's team chosen the 72-hour bridge and saved his safety plan",
        ),
        (
            "maya",
            "Maya, 47, sober for months, has a bad night on Tuesday 10 March",
        ),
    ];
    for (story, title) in titles {
        let Some(list) = by_story.get_mut(story) else {
            continue;
        };
        list.sort_by_key(|e| e.instant);
        out.push_str(&format!("\n{title}\n{}\n", "─".repeat(title.chars().count())));
        let zone = TimeZone::get(ZONE).unwrap_or(TimeZone::UTC);
        for event in list.iter() {
            let when = event
                .instant
                .to_zoned_datetime(zone.clone())
                .strftime("%a %d %b %H:%M %Z");
            // A text of several lines (the safety plan) keeps the timeline's indent on each.
            let body = event
                .body
                .lines()
                .enumerate()
                .map(|(index, line)| match (index, line.is_empty()) {
                    (0, _) | (_, true) => line.to_owned(),
                    _ => format!("     {line}"),
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.push_str(&format!(
                "{when}  {:<8} {} → {}\n    “{body}”\n",
                event.kind, event.from, event.to
            ));
            if !event.why.is_empty() {
                out.push_str(&format!("    ({})\n", event.why));
            }
        }
    }
    out
}

/// The events as JSON lines, in time order within each story.
pub fn json_lines(events: &[Event]) -> anyhow::Result<String> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| (e.story, e.instant));
    let mut out = String::new();
    for event in sorted {
        out.push_str(&serde_json::to_string(event)?);
        out.push('\n');
    }
    Ok(out)
}
