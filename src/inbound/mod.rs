//! Receiving a text: risk is read first, whoever sent it and whatever else it says; then compliance
//! keywords, staff commands, replies and forwarding. Everything one text causes is written in one
//! transaction with the text itself (see [`crate::storage::InboundTx`]).

pub mod intake;

use jiff::SignedDuration;

use crate::access::{Caller, client_access};
use crate::domain::keywords::{self, Keyword, ReminderReply, StaffCommand};
use crate::domain::phone::{Masked, is_reply_address};
use crate::domain::safety_plan;
use crate::domain::segments::fit_to_provider;
use crate::domain::{AppointmentKind, ClientStatus, MessageKind};
use crate::risk::{Assessment, Tier};
use crate::scheduler::Wake;
use crate::scheduling::Clock;
use crate::scheduling::reminders::describe_when;
use crate::storage::{
    AckOutcome, ClientRecord, InboundTx, NewInbound, NewText, QueuedWork, Sender, StaffMember, Store, StoreError,
};
use crate::templates::{Catalog, MessageContext, ReminderContext, SharedCatalog, StaffContext};

/// More texts than this from one number within [`LOOP_WINDOW`] look like a loop with another bot:
/// automatic replies stop (risk handling does not).
const LOOP_LIMIT: i64 = 10;
const LOOP_WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// At most one automatic crisis or concern reply per number in this window; escalation is never limited.
const RISK_REPLY_WINDOW: SignedDuration = SignedDuration::from_hours(12);
const UNKNOWN_REPLY_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// A text as the provider delivered it. The webhook's form names its fields in PascalCase (`MessageSid`,
/// `From`…), as the API description shows it; the provider sends more, which are ignored.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(rename_all = "PascalCase")]
pub struct InboundText {
    /// The provider's id of the text (`SmsMessageSid` from older senders); a retry carries the same one.
    pub message_sid: String,
    /// The client's number, in E.164 form.
    pub from: String,
    /// The service number it was sent to.
    pub to: String,
    pub body: String,
    /// Set when the provider's Advanced Opt-Out already handled (and answered) a keyword.
    pub opt_out_type: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct InboundSettings {
    /// Whether a client's ordinary reply is forwarded to their assigned peer with its words, or as a
    /// reference only.
    pub forward_body: bool,
    /// Whether a number that is neither client nor staff gets a short automatic answer.
    pub reply_to_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// This `MessageSid` was already received and handled.
    Duplicate,
    Handled {
        inbound_id: i64,
        tier: Tier,
        action: String,
        /// Which scheduler lanes have new work from it: texts in the outbox, an escalation opened.
        wake: Wake,
    },
}

#[derive(Clone)]
pub struct InboundService {
    store: Store,
    catalog: SharedCatalog,
    clock: Clock,
    settings: InboundSettings,
}

/// What handling one text decided, collected while the transaction is open.
struct Handling<'a> {
    tx: InboundTx<'a>,
    text: &'a InboundText,
    assessment: Assessment,
    looping: bool,
    /// From the sender look-up: false spares a one-word reply the search for a reminder to answer.
    may_have_open_prompts: bool,
    actions: Vec<&'static str>,
}

impl InboundService {
    pub fn new(store: Store, catalog: SharedCatalog, clock: Clock, settings: InboundSettings) -> Self {
        Self {
            store,
            catalog,
            clock,
            settings,
        }
    }

    /// Handles a group of texts in one transaction and answers each once the group is committed: texts
    /// arriving together share one durable commit instead of paying one each (see [`intake`]). If anything
    /// in the group fails, nothing of it is kept and each text is handled again in a transaction of its own,
    /// so only the text that fails is answered with an error.
    async fn handle_group(&self, group: Vec<intake::Waiting>) {
        let texts: Vec<&InboundText> = group.iter().map(|(text, _)| text).collect();
        let outcomes = match self.handle_together(&texts).await {
            Ok(receipts) => receipts.into_iter().map(Ok).collect(),
            Err(err) if texts.len() == 1 => vec![Err(describe(&err))],
            Err(err) => {
                tracing::warn!(error = %err, texts = texts.len(), "inbound group failed: handling its texts one by one");
                let mut outcomes = Vec::with_capacity(texts.len());
                for text in &texts {
                    let alone = self.handle_together(std::slice::from_ref(text)).await;
                    outcomes.push(
                        alone
                            .map(|mut receipts| receipts.remove(0))
                            .map_err(|err| describe(&err)),
                    );
                }
                outcomes
            }
        };
        for ((_, done), outcome) in group.into_iter().zip(outcomes) {
            // A caller that gave up (the provider hung up) needs no answer: a stored text stays stored, and
            // the provider's retry is answered as a duplicate.
            let _ = done.send(outcome);
        }
    }

    /// Handles `texts` in one transaction, in order, and commits; nothing is kept if any of them fails. The
    /// texts are stored, and their senders looked up, a chunk at a time: a group costs a few statements more
    /// than one text, not a few statements per text.
    #[tracing::instrument(name = "inbound_group", skip_all, fields(texts = texts.len()))]
    async fn handle_together(&self, texts: &[&InboundText]) -> Result<Vec<Receipt>, StoreError> {
        let now = self.clock.now();
        let catalog = self.catalog.current();
        let assessments: Vec<Assessment> = texts.iter().map(|text| read_risk(&catalog, &text.body)).collect();
        let matches: Vec<String> = assessments
            .iter()
            .map(|a| serde_json::to_string(&a.matches).unwrap_or_else(|_| "[]".into()))
            .collect();
        let arriving: Vec<NewInbound> = texts
            .iter()
            .zip(&assessments)
            .zip(&matches)
            .map(|((text, assessment), matches)| NewInbound {
                message_sid: &text.message_sid,
                from_phone: &text.from,
                to_phone: &text.to,
                body: &text.body,
                risk_tier: assessment.tier.as_str(),
                risk_matches: matches,
                opt_out_type: text.opt_out_type.as_deref(),
                received_at: now,
            })
            .collect();

        let mut shared = self.store.begin_inbound_group().await?;
        let ids = shared.store(&arriving).await?;
        let mut first_from: Vec<&str> = Vec::new();
        for (text, id) in texts.iter().zip(&ids) {
            if id.is_some() && !first_from.contains(&text.from.as_str()) {
                first_from.push(&text.from);
            }
        }
        let mut senders = shared.senders(&first_from, now, LOOP_WINDOW).await?;
        let mut receipts = Vec::with_capacity(texts.len());
        for ((text, assessment), id) in texts.iter().zip(assessments).zip(ids) {
            let Some(inbound_id) = id else {
                tracing::info!(sid = text.message_sid, "duplicate inbound text ignored");
                receipts.push(Receipt::Duplicate);
                continue;
            };
            let mut tx = shared.text(inbound_id, now);
            // The group's look-up holds for the first text from a number; a second one in the same group is
            // looked up again, so it sees what the first changed (a STOP, say).
            let sender = match senders.remove(&text.from) {
                Some(sender) => sender,
                None => tx.sender(&text.from, LOOP_WINDOW).await?,
            };
            receipts.push(self.handle_in(tx, text, assessment, sender).await?);
        }
        shared.commit().await?;
        for receipt in &receipts {
            if let Receipt::Handled {
                inbound_id,
                tier,
                action,
                ..
            } = receipt
            {
                tracing::info!(inbound_id, tier = tier.as_str(), action, "inbound text handled");
            }
        }
        Ok(receipts)
    }

    /// Handles one stored text from `sender` inside its group's transaction.
    async fn handle_in(
        &self,
        tx: InboundTx<'_>,
        text: &InboundText,
        assessment: Assessment,
        sender: Sender,
    ) -> Result<Receipt, StoreError> {
        let inbound_id = tx.inbound_id;
        let looping = sender.recent_texts > LOOP_LIMIT;
        if looping {
            tracing::warn!(from = %Masked(&text.from), "many texts from one number: automatic replies paused");
        }
        let tier = assessment.tier;
        let mut handling = Handling {
            tx,
            text,
            assessment,
            looping,
            may_have_open_prompts: sender.may_have_open_prompts,
            actions: Vec::new(),
        };
        let (kind, client_id, staff_id) = match (&sender.client, &sender.staff) {
            (Some(client), _) => {
                self.handle_client(&mut handling, client, sender.peer.as_ref()).await?;
                ("client", Some(client.id), None)
            }
            (None, Some(member)) => {
                self.handle_staff(&mut handling, member).await?;
                ("staff", None, Some(member.id))
            }
            (None, None) => {
                self.handle_unknown(&mut handling).await?;
                ("unknown", None, None)
            }
        };
        let action = if handling.actions.is_empty() {
            "recorded".to_owned()
        } else {
            handling.actions.join(",")
        };
        let wake = match handling.tx.queued_work() {
            QueuedWork { routine: true, .. } => Wake::BothLanes,
            QueuedWork { urgent: true, .. } => Wake::UrgentLane,
            QueuedWork { .. } => Wake::Nobody,
        };
        handling.tx.finish(kind, client_id, staff_id, action.clone());
        Ok(Receipt::Handled {
            inbound_id,
            tier,
            action,
            wake,
        })
    }

    async fn handle_client(
        &self,
        h: &mut Handling<'_>,
        client: &ClientRecord,
        peer: Option<&StaffMember>,
    ) -> Result<(), StoreError> {
        let reference = client.id.to_string();
        let tier = h.assessment.tier;
        // Risk first, whatever else the text says: "STOP I want to die" opts out *and* escalates.
        match tier {
            Tier::Crisis => {
                let (escalation_id, _) = h.tx.open_escalation(Some(client.id), &h.text.from).await?;
                tracing::warn!(escalation_id, client_id = client.id, "crisis text: escalation opened");
                h.actions.push("escalated");
            }
            Tier::Concern => {
                self.concern_notice(h, Some(client.id), peer, &reference).await?;
            }
            Tier::None => {}
        }

        let provider_answered = h.text.opt_out_type.is_some();
        let keyword = match h.text.opt_out_type.as_deref().map(str::to_uppercase).as_deref() {
            Some("STOP") => Some(Keyword::OptOut),
            Some("START") => Some(Keyword::OptIn),
            Some("HELP") => Some(Keyword::Help),
            _ => keywords::keyword(&h.text.body),
        };
        let opted_out = client.status == ClientStatus::OptedOut;
        let language = self.language(&client.language);
        let language = language.as_str();
        let context = MessageContext {
            first_name: client.first_name.as_str(),
        };
        match keyword {
            Some(Keyword::OptOut) => {
                h.tx.opt_out_client(client.id).await?;
                h.actions.push("opt_out");
                if !provider_answered && !opted_out {
                    // The one text allowed after STOP; after a crisis text it carries 911 and 988 too.
                    let template = if tier == Tier::Crisis {
                        "system/stop_confirmation_crisis"
                    } else {
                        "system/stop_confirmation"
                    };
                    let body = self.render(template, language, &context);
                    h.reply(
                        MessageKind::OptOutConfirmation,
                        Some(client.id),
                        client.phone.as_str(),
                        body,
                        template,
                    )
                    .await?;
                }
            }
            Some(Keyword::OptIn | Keyword::Yes) if opted_out => {
                h.tx.opt_in_client(client.id).await?;
                h.actions.push("opt_in");
                if !provider_answered {
                    let body = self.render("system/start_confirmation", language, &context);
                    h.reply(
                        MessageKind::OptInConfirmation,
                        Some(client.id),
                        client.phone.as_str(),
                        body,
                        "system/start_confirmation",
                    )
                    .await?;
                }
            }
            Some(Keyword::Help) => {
                h.actions.push("help");
                if !provider_answered && !h.looping {
                    let body = self.render("system/help", language, &context);
                    h.reply(
                        MessageKind::HelpReply,
                        Some(client.id),
                        client.phone.as_str(),
                        body,
                        "system/help",
                    )
                    .await?;
                }
            }
            _ if opted_out => {
                // Nothing automatic goes to someone who said STOP; staff still see a risk text above.
            }
            _ => match tier {
                Tier::Crisis | Tier::Concern => {
                    let (kind, template) = match tier {
                        Tier::Crisis => (MessageKind::CrisisReply, crisis_template(&h.assessment)),
                        _ => (MessageKind::ConcernReply, "system/concern_reply"),
                    };
                    if self.may_reply(h, kind, RISK_REPLY_WINDOW).await? {
                        let mut body = self.render(template, language, &context);
                        // Their own plan is one more thing to hold on to; offered only when it can be sent.
                        if template == "system/crisis_reply" && self.plan_to_text(h, client.id).await?.is_some() {
                            let offer = self.render(safety_plan::OFFER_TEMPLATE, language, &context);
                            body = format!("{} {}", body.trim_end(), offer.trim());
                        }
                        h.reply(kind, Some(client.id), client.phone.as_str(), body, template)
                            .await?;
                    }
                }
                Tier::None => {
                    let catalog = self.catalog.current();
                    if let Some(request) = safety_plan::plan_request(&h.text.body, &catalog.program.keywords.plan) {
                        self.answer_plan_request(h, client, request, language).await?;
                    } else if !self.answer_reminder(h, client, peer).await? {
                        self.forward(h, peer, &reference).await?;
                    }
                }
            },
        }
        Ok(())
    }

    async fn handle_staff(&self, h: &mut Handling<'_>, member: &StaffMember) -> Result<(), StoreError> {
        let command = keywords::staff_command(&h.text.body);
        // A staff member's own crisis text escalates like anyone's; their commands (a relay that quotes a
        // client, say) do not.
        if h.assessment.tier == Tier::Crisis && command == StaffCommand::Unknown {
            h.tx.open_escalation(None, &h.text.from).await?;
            h.actions.push("escalated");
        }
        let (template, code, reference): (&str, String, String) = match command {
            StaffCommand::Acknowledge(code) => {
                let code = match code {
                    Some(code) => Some(code),
                    None => h.tx.latest_code_paged_to(member.id).await?,
                };
                let outcome = match &code {
                    Some(code) => h.tx.acknowledge_code(code, member.id).await?,
                    None => AckOutcome::UnknownCode,
                };
                h.actions.push("ack");
                match outcome {
                    AckOutcome::Acknowledged {
                        escalation_id,
                        code,
                        reference,
                    } => {
                        tracing::info!(escalation_id, staff_id = member.id, "escalation acknowledged by SMS");
                        ("staff/ack_confirmation", code, reference)
                    }
                    AckOutcome::AlreadyAcknowledged { code } => ("staff/already_acknowledged", code, String::new()),
                    AckOutcome::UnknownCode => ("staff/unknown_code", code.unwrap_or_default(), String::new()),
                }
            }
            StaffCommand::Relay { reference, text } => {
                h.actions.push("relay");
                let client = match h.tx.client_by_id(reference).await? {
                    Some(client) if self.may_relay(h, member, &client).await? => Some(client),
                    Some(_) => {
                        tracing::warn!(
                            staff_id = member.id,
                            client_id = reference,
                            "relay refused: not theirs to text"
                        );
                        None
                    }
                    None => None,
                };
                // One answer for a client who is not theirs, no client at all, and one who cannot be texted,
                // so the answer tells nothing about a client they may not see.
                let reachable = client.filter(|c| c.status != ClientStatus::OptedOut && c.phone_invalid_at.is_none());
                match reachable {
                    Some(client) => {
                        let key = format!("relay:{}", h.tx.inbound_id);
                        let relay = text_to(
                            MessageKind::Relay,
                            Some(client.id),
                            None,
                            client.phone.as_str(),
                            text,
                            None,
                            key,
                            h,
                        );
                        h.tx.enqueue(&relay).await?;
                        h.tx.mark_client_notices_seen(client.id).await?;
                        return Ok(());
                    }
                    None => ("staff/relay_blocked", String::new(), reference.to_string()),
                }
            }
            StaffCommand::Keyword(Keyword::OptOut) => {
                h.tx.set_staff_opted_out(member.id, true).await?;
                h.actions.push("opt_out");
                // Sent with no staff id, so the opt-out it confirms does not cancel it.
                let body = self.render_staff("staff/stop_confirmation", &StaffContext::default());
                let key = format!("reply:{}:staff_stop", h.tx.inbound_id);
                let text = text_to(
                    MessageKind::StaffNotice,
                    None,
                    None,
                    &member.phone,
                    body,
                    Some("staff/stop_confirmation"),
                    key,
                    h,
                );
                h.tx.enqueue(&text).await?;
                return Ok(());
            }
            StaffCommand::Keyword(Keyword::OptIn) if member.opted_out => {
                h.tx.set_staff_opted_out(member.id, false).await?;
                h.actions.push("opt_in");
                ("staff/start_confirmation", String::new(), String::new())
            }
            _ => ("staff/help", String::new(), String::new()),
        };
        if h.looping {
            return Ok(());
        }
        let body = self.render_staff(
            template,
            &StaffContext {
                code: &code,
                reference: &reference,
                body: "",
            },
        );
        let key = format!("reply:{}:staff", h.tx.inbound_id);
        let text = text_to(
            MessageKind::StaffNotice,
            None,
            Some(member.id),
            &member.phone,
            body,
            Some(template),
            key,
            h,
        );
        h.tx.enqueue(&text).await?;
        Ok(())
    }

    /// The access rule of the API and the console, for a staff member texting `R <ref>`.
    async fn may_relay(
        &self,
        h: &mut Handling<'_>,
        member: &StaffMember,
        client: &ClientRecord,
    ) -> Result<bool, StoreError> {
        let now = h.tx.now();
        let escalations = h.tx.escalation_parties(client.id).await?;
        let caller = Caller::staff_member(member.id);
        Ok(client_access(&caller, client.assigned_staff_id, &escalations, now).may_relay())
    }

    async fn handle_unknown(&self, h: &mut Handling<'_>) -> Result<(), StoreError> {
        let language = self.catalog.current().program.default_language.clone();
        let context = MessageContext { first_name: "" };
        let from = h.text.from.clone();
        match h.assessment.tier {
            Tier::Crisis => {
                let (escalation_id, _) = h.tx.open_escalation(None, &from).await?;
                tracing::warn!(escalation_id, "crisis text from an unknown number: escalation opened");
                h.actions.push("escalated");
                if self.may_reply(h, MessageKind::CrisisReply, RISK_REPLY_WINDOW).await? {
                    let template = crisis_template(&h.assessment);
                    let body = self.render(template, &language, &context);
                    h.reply(MessageKind::CrisisReply, None, &from, body, template).await?;
                }
                return Ok(());
            }
            Tier::Concern => {
                let reference = format!("unknown-{}", h.tx.inbound_id);
                self.concern_notice(h, None, None, &reference).await?;
            }
            Tier::None => {}
        }
        if keywords::keyword(&h.text.body) == Some(Keyword::OptOut) {
            h.actions.push("opt_out");
            return Ok(());
        }
        if self.settings.reply_to_unknown
            && self
                .may_reply(h, MessageKind::UnknownSenderReply, UNKNOWN_REPLY_WINDOW)
                .await?
        {
            let body = self.render("system/unknown_sender", &language, &context);
            h.reply(
                MessageKind::UnknownSenderReply,
                None,
                &from,
                body,
                "system/unknown_sender",
            )
            .await?;
        }
        Ok(())
    }

    /// The client's plan if it goes back to them by text now. A stored plan that no longer reads, or that
    /// holds a word `blocked_terms` has gained since it was saved, is not sent: the client gets the short
    /// answer instead, and the crisis text it was read for is handled as usual (an error here must never
    /// keep a crisis text from being stored and escalated). Neither the plan's words nor the term are logged.
    async fn plan_to_text(
        &self,
        h: &mut Handling<'_>,
        client_id: i64,
    ) -> Result<Option<safety_plan::SafetyPlan>, StoreError> {
        let plan = match h.tx.safety_plan(client_id).await {
            Ok(plan) => plan,
            Err(StoreError::Corrupt(problem)) => {
                tracing::warn!(client_id, problem, "stored safety plan unreadable; not sent");
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let Some(plan) = plan.filter(safety_plan::SafetyPlan::texted_on_request) else {
            return Ok(None);
        };
        if let Err(err) = plan.check_blocked_terms(&self.catalog.current().program.blocked_terms) {
            tracing::warn!(client_id, field = %err.field, "safety plan holds a blocked term; not sent");
            return Ok(None);
        }
        Ok(Some(plan))
    }

    /// The client's `PLAN` (or `PLAN 3`), from their enrolled number while they are not opted out (the caller
    /// decided that): their plan in order, or, with no plan or no consent to text it, the short answer
    /// pointing to their peer and 988. Neither the plan nor the answer is ever logged, only that it went.
    async fn answer_plan_request(
        &self,
        h: &mut Handling<'_>,
        client: &ClientRecord,
        request: safety_plan::PlanRequest,
        language: &str,
    ) -> Result<(), StoreError> {
        h.actions.push("plan");
        if h.looping {
            return Ok(());
        }
        let context = MessageContext {
            first_name: client.first_name.as_str(),
        };
        let Some(plan) = self.plan_to_text(h, client.id).await? else {
            tracing::info!(client_id = client.id, "safety plan asked for: none to send by text");
            let body = self.render(safety_plan::NONE_TEMPLATE, language, &context);
            return h
                .reply(
                    MessageKind::SafetyPlan,
                    Some(client.id),
                    client.phone.as_str(),
                    body,
                    safety_plan::NONE_TEMPLATE,
                )
                .await;
        };
        let wording = safety_plan::PlanWording {
            intro: self.render(safety_plan::INTRO_TEMPLATE, language, &context),
            headings: safety_plan::Section::ALL.map(|section| self.render(section.template(), language, &context)),
            closing: self.render(safety_plan::CLOSING_TEMPLATE, language, &context),
        };
        let texts = safety_plan::render_texts(&plan, &wording, &plan.sections_for(request.section()));
        let parts: Vec<NewText> = texts
            .into_iter()
            .enumerate()
            .map(|(index, body)| {
                let key = format!("plan:{}:{}", h.tx.inbound_id, index + 1);
                text_to(
                    MessageKind::SafetyPlan,
                    Some(client.id),
                    None,
                    client.phone.as_str(),
                    body,
                    None,
                    key,
                    h,
                )
            })
            .collect();
        let queued = h.tx.enqueue_in_order(&parts).await?;
        tracing::info!(client_id = client.id, parts = queued, "safety plan queued, in order");
        Ok(())
    }

    /// A one-word answer to the latest open reminder of its kind. Returns false if the text is no such
    /// answer or nothing is open, so it is forwarded like any reply. An answer that could mean either an
    /// appointment or a medication goes to staff instead of guessing.
    async fn answer_reminder(
        &self,
        h: &mut Handling<'_>,
        client: &ClientRecord,
        peer: Option<&StaffMember>,
    ) -> Result<bool, StoreError> {
        let Some(reply) = keywords::reminder_reply(&h.text.body) else {
            return Ok(false);
        };
        if !h.may_have_open_prompts {
            return Ok(false);
        }
        let prompts = h.tx.open_prompts(client.id).await?;
        let latest = |kind: &str| prompts.iter().find(|p| p.kind == kind);
        let (appointment, medication) = (latest("appointment"), latest("medication"));
        let target = match (reply, appointment, medication) {
            (ReminderReply::Confirm | ReminderReply::Reschedule, Some(prompt), _) => Some(prompt),
            (ReminderReply::Taken, _, Some(prompt)) => Some(prompt),
            (ReminderReply::Yes, Some(_), Some(_)) => {
                h.tx.open_task(
                    client.id,
                    "ambiguous_reply",
                    None,
                    "YES while both an appointment and a medication reminder are open",
                )
                .await?;
                h.actions.push("ambiguous");
                self.forward(h, peer, &client.id.to_string()).await?;
                return Ok(true);
            }
            (ReminderReply::Yes, Some(prompt), None) | (ReminderReply::Yes, None, Some(prompt)) => Some(prompt),
            _ => None,
        };
        let Some(prompt) = target.cloned() else {
            return Ok(false);
        };
        if prompt.kind == "medication" {
            h.tx.answer_prompt(prompt.id, "taken").await?;
            h.actions.push("taken");
            return Ok(true);
        }
        let confirmed = reply != ReminderReply::Reschedule;
        let Some(appointment_id) = prompt.appointment_id else {
            return Ok(false);
        };
        h.tx.answer_prompt(prompt.id, if confirmed { "confirmed" } else { "reschedule" })
            .await?;
        let Some((starts_at, kind)) = h.tx.mark_appointment(appointment_id, confirmed).await? else {
            return Ok(false);
        };
        if !confirmed {
            h.tx.open_task(
                client.id,
                "reschedule",
                Some(appointment_id),
                "client asked for another time",
            )
            .await?;
        }
        h.actions.push(if confirmed { "confirmed" } else { "reschedule" });
        let zone = client.timezone.zone().clone();
        let language = self.language(&client.language);
        let language = language.as_str();
        let when = describe_when(starts_at, &zone, language);
        let template = if confirmed {
            "appointment/confirmed"
        } else {
            "appointment/reschedule"
        };
        let context = ReminderContext {
            first_name: client.first_name.as_str(),
            when: &when,
            phrase: "",
            named: false,
            confirmed,
        };
        let body = self.render(template, language, &context);
        if confirmed {
            // The reminders still to go (the morning-of one, say) stop asking for a confirmation.
            let kind = AppointmentKind::parse(&kind).unwrap_or_default();
            let reminder = ReminderContext {
                named: self.catalog.current().program.names_kind(kind),
                ..context
            };
            let reworded = self.render(kind.reminder_template(), language, &reminder);
            if !reworded.is_empty() {
                h.tx.reword_pending_reminders(appointment_id, &reworded).await?;
            }
        }
        h.reply(
            MessageKind::ReminderReply,
            Some(client.id),
            client.phone.as_str(),
            body,
            template,
        )
        .await?;
        Ok(true)
    }

    /// A concern: listed for follow-up until someone marks it seen, and the assigned peer told by text.
    async fn concern_notice(
        &self,
        h: &mut Handling<'_>,
        client_id: Option<i64>,
        peer: Option<&StaffMember>,
        reference: &str,
    ) -> Result<(), StoreError> {
        let reason = h
            .assessment
            .matches
            .iter()
            .map(|m| {
                // A crisis the model doubted pages nobody: whoever reads the notice should know it was one.
                if m.doubted {
                    format!("{} (a crisis rule, doubted by the model)", m.category)
                } else {
                    m.category.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        h.tx.open_notice(client_id, peer.map(|p| p.id), &reason).await?;
        h.actions.push("notice");
        let context = StaffContext {
            reference,
            ..StaffContext::default()
        };
        self.text_staff(h, peer, "staff/notice", &context, "notice").await?;
        Ok(())
    }

    /// An ordinary reply goes to the client's assigned peer, with its words unless configured otherwise. A
    /// loop with another bot is recorded but not forwarded text by text to the peer's phone.
    async fn forward(
        &self,
        h: &mut Handling<'_>,
        peer: Option<&StaffMember>,
        reference: &str,
    ) -> Result<(), StoreError> {
        if h.looping {
            return Ok(());
        }
        let template = if self.settings.forward_body {
            "staff/forward"
        } else {
            "staff/forward_without_body"
        };
        let context = StaffContext {
            code: "",
            reference,
            body: &h.text.body,
        };
        if self.text_staff(h, peer, template, &context, "forward").await? {
            h.actions.push("forwarded");
        }
        Ok(())
    }

    /// Texts a staff member (a client's assigned peer), if there is one. The key names the purpose; one
    /// such text per inbound text. Returns whether a text was written.
    async fn text_staff(
        &self,
        h: &mut Handling<'_>,
        peer: Option<&StaffMember>,
        template: &str,
        context: &StaffContext<'_>,
        purpose: &str,
    ) -> Result<bool, StoreError> {
        let Some(peer) = peer else {
            return Ok(false);
        };
        // A client's long text would make the whole notice fail at the provider; the rest is in the console.
        let body = fit_to_provider(self.render_staff(template, context));
        let key = format!("{purpose}:{}", h.tx.inbound_id);
        let text = text_to(
            MessageKind::StaffNotice,
            None,
            Some(peer.id),
            &peer.phone,
            body,
            Some(template),
            key,
            h,
        );
        h.tx.enqueue(&text).await?;
        Ok(true)
    }

    async fn may_reply(
        &self,
        h: &mut Handling<'_>,
        kind: MessageKind,
        window: SignedDuration,
    ) -> Result<bool, StoreError> {
        Ok(!h.looping && h.tx.recent_replies(&h.text.from, kind, window).await? == 0)
    }

    fn language(&self, language: &str) -> String {
        self.catalog.current().language_or_default(language).to_owned()
    }

    /// Renders a client text. Templates are checked at start-up, so a failure is a bug; it is logged and
    /// the text is left empty rather than failing the whole inbound transaction.
    fn render(&self, template: &str, language: &str, context: &impl serde::Serialize) -> String {
        self.catalog
            .current()
            .render(template, language, context)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, template, "template failed to render");
                String::new()
            })
    }

    fn render_staff(&self, template: &str, context: &StaffContext<'_>) -> String {
        self.catalog
            .current()
            .render_staff(template, context)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, template, "template failed to render");
                String::new()
            })
    }
}

impl Handling<'_> {
    async fn reply(
        &mut self,
        kind: MessageKind,
        client_id: Option<i64>,
        to: &str,
        body: String,
        template: &str,
    ) -> Result<(), StoreError> {
        if body.is_empty() {
            return Ok(());
        }
        if !is_reply_address(to) {
            tracing::warn!(
                kind = kind.as_str(),
                "no automatic reply: the sender is not a valid address"
            );
            return Ok(());
        }
        let key = format!("reply:{}:{}", self.tx.inbound_id, kind.as_str());
        let text = text_to(kind, client_id, None, to, body, Some(template), key, self);
        self.tx.enqueue(&text).await?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn text_to(
    kind: MessageKind,
    client_id: Option<i64>,
    staff_id: Option<i64>,
    to: &str,
    body: String,
    template: Option<&str>,
    idempotency_key: String,
    handling: &Handling<'_>,
) -> NewText {
    let now = handling.tx.now();
    NewText {
        client_id,
        staff_id,
        enrollment_id: None,
        kind,
        idempotency_key,
        to_phone: to.to_owned(),
        body,
        template: template.map(str::to_owned),
        step: None,
        planned_at: now,
        expires_at: None,
    }
}

/// The risk reading of a text. A text that is nothing but a request for the safety plan ("PLAN", "plan 3",
/// "mi plan") is the client doing what the crisis reply asked of them, and has no other words to read; the
/// risk reader would read "plan" as in "I have a plan" and page staff for it.
fn read_risk(catalog: &Catalog, body: &str) -> Assessment {
    // A keyword is a few words (`tether check` caps one at 30 characters, 4 bytes each at most) and a
    // section number: a longer text is read without trying, which keeps the try off most texts' path.
    const LONGEST_PLAN_REQUEST: usize = 160;
    if body.len() <= LONGEST_PLAN_REQUEST && safety_plan::plan_request(body, &catalog.program.keywords.plan).is_some() {
        return Assessment {
            tier: Tier::None,
            matches: Vec::new(),
            readings: Vec::new(),
            someone_else: false,
            model: None,
        };
    }
    catalog.risk.assess(body)
}

/// Someone else in danger now ("my roommate won't wake up") is answered with what to do for them: call
/// 911, use the rescue spray, stay with them; the sender's own crisis with where to get help.
fn crisis_template(assessment: &Assessment) -> &'static str {
    if assessment.someone_else {
        "system/emergency_reply"
    } else {
        "system/crisis_reply"
    }
}

/// An error as text, with its cause: a group's outcome is told to several waiting callers.
fn describe(err: &StoreError) -> String {
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}
