//! A concern nobody looked at: a concern notice still unseen `TETHER_CONCERN_UNSEEN_HOURS` after it was
//! opened is texted once to whoever is on call at that moment, as a notice with the client's reference
//! (never a page: no reply code, no repeat). The clock does not stop for weekends or nights, because a
//! concern does not.
//!
//! Who is on call is the escalation policy's first reachable step now, found the way a page finds it
//! (rotations, overrides, staff who said STOP skipped). With nobody reachable it goes to the fallback
//! numbers of `TETHER_FALLBACK_PAGE_TO`; with none of those either it is logged as an error. What became of
//! each notice is written with the texts in one transaction that only succeeds while the notice is unseen
//! and unhandled ([`Store::handle_unseen_notice`]), so a restart or a second instance never texts it again.

use jiff::Timestamp;

use super::{Escalator, Walk};
use crate::domain::MessageKind;
use crate::storage::{NewText, StaffMember, StoreError, UnseenNotice, UnseenOutcome};
use crate::templates::StaffContext;

/// Unseen notices handled per database round trip.
const BATCH: i64 = 100;
/// The template of the text: the same words the assigned peer got when the notice was opened.
const TEMPLATE: &str = "staff/notice";

impl Escalator {
    /// Texts whoever is on call about every notice unseen for too long. Returns how many were handled.
    pub async fn tell_on_call_of_unseen_notices(&self) -> Result<usize, StoreError> {
        let mut handled = 0;
        loop {
            let now = self.clock.now();
            let due = self
                .store
                .unseen_notices_due(now - self.concern_unseen_after, BATCH)
                .await?;
            if due.is_empty() {
                return Ok(handled);
            }
            let recipients = self.unseen_notice_recipients(now).await?;
            let mut claimed_any = false;
            for notice in &due {
                let texts: Vec<NewText> = recipients
                    .1
                    .iter()
                    .map(|(staff_id, phone)| self.unseen_notice_text(notice, *staff_id, phone, now))
                    .collect();
                if !self
                    .store
                    .handle_unseen_notice(notice.id, recipients.0, &texts, now)
                    .await?
                {
                    continue;
                }
                claimed_any = true;
                handled += 1;
                let hours = self.concern_unseen_after.as_hours();
                match recipients.0 {
                    UnseenOutcome::OnCall | UnseenOutcome::Fallback => tracing::info!(
                        notice_id = notice.id,
                        to = recipients.0.as_str(),
                        "a concern notice unseen for {hours} hours was texted on"
                    ),
                    UnseenOutcome::Nobody => tracing::error!(
                        notice_id = notice.id,
                        "a concern notice has been unseen for {hours} hours and nobody can be told: nobody in the \
                         escalation policy is reachable and there is no fallback number (TETHER_FALLBACK_PAGE_TO)"
                    ),
                }
            }
            // Every notice of the batch went to another instance: it is working through the same list.
            if !claimed_any {
                return Ok(handled);
            }
        }
    }

    /// When the next notice waiting to be seen falls due, if one is waiting.
    pub async fn next_unseen_notice_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.store.next_unseen_notice_due(self.concern_unseen_after).await
    }

    /// Whoever is on call now, or else every reachable fallback number, with which it is.
    async fn unseen_notice_recipients(
        &self,
        now: Timestamp,
    ) -> Result<(UnseenOutcome, Vec<(i64, String)>), StoreError> {
        let policy = self.store.escalation_policy().await?;
        if let Some(policy) = policy.filter(|p| !p.steps.is_empty()) {
            let rotations = self.store.rotations().await?;
            if let Walk::Page { staff_id, phone, .. } = self.walk(&policy, (0, 0), &rotations, now).await? {
                return Ok((UnseenOutcome::OnCall, vec![(staff_id, phone)]));
            }
        }
        let fallback: Vec<(i64, String)> = self
            .store
            .fallback_staff()
            .await?
            .into_iter()
            .filter(|member: &StaffMember| !member.opted_out)
            .map(|member| (member.id, member.phone))
            .collect();
        Ok(if fallback.is_empty() {
            (UnseenOutcome::Nobody, fallback)
        } else {
            (UnseenOutcome::Fallback, fallback)
        })
    }

    fn unseen_notice_text(&self, notice: &UnseenNotice, staff_id: i64, phone: &str, now: Timestamp) -> NewText {
        let reference = notice.reference();
        let context = StaffContext {
            reference: &reference,
            ..StaffContext::default()
        };
        // Templates are checked at start-up; a failure here would be a bug, and the notice must still go.
        let body = self
            .catalog
            .current()
            .render_staff(TEMPLATE, &context)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "notice template failed; sending the plain text");
                format!("Tether: a text from client ref {reference} needs a look today. See the dashboard.")
            });
        NewText {
            client_id: None,
            staff_id: Some(staff_id),
            enrollment_id: None,
            kind: MessageKind::StaffNotice,
            idempotency_key: format!("notice_unseen:{}:{staff_id}", notice.id),
            to_phone: phone.to_owned(),
            body,
            template: Some(TEMPLATE.into()),
            step: None,
            planned_at: now,
            expires_at: None,
        }
    }
}
