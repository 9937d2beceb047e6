//! Turns enrolments into outbox rows: each step is written shortly before it is due (within `plan_ahead`),
//! with its text rendered and its idempotency key set, in the same transaction that moves the enrolment on.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use crate::domain::MessageKind;
use crate::scheduling::recurrence::Recurrence;
use crate::scheduling::{Clock, QuietHours};
use crate::storage::{DueEnrollment, NewText, StepAdvance, Store, StoreError};
use crate::templates::{Catalog, MessageContext, ReminderContext, RenderError, SharedCatalog};

/// Enrolments handled per database round trip.
const BATCH: i64 = 200;
/// A medication reminder later than this is dropped: the next dose's reminder is what matters then.
const MEDICATION_LATENESS: SignedDuration = SignedDuration::from_hours(2);
/// How long a TAKEN reply counts for a medication reminder.
const MEDICATION_REPLY_WINDOW: SignedDuration = SignedDuration::from_hours(12);

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("enrollment {enrollment} follows schedule `{schedule}`, which is not in the message templates")]
    UnknownSchedule { enrollment: i64, schedule: String },
    #[error("enrollment or medication {enrollment}: client time zone `{zone}` is unknown")]
    UnknownZone { enrollment: i64, zone: String },
    #[error("enrollment or medication {enrollment}: {source}")]
    Render {
        enrollment: i64,
        #[source]
        source: RenderError,
    },
}

#[derive(Clone)]
pub struct Planner {
    store: Store,
    catalog: SharedCatalog,
    clock: Clock,
    quiet_hours: QuietHours,
    plan_ahead: SignedDuration,
}

impl Planner {
    pub fn new(
        store: Store,
        catalog: SharedCatalog,
        clock: Clock,
        quiet_hours: QuietHours,
        plan_ahead: SignedDuration,
    ) -> Self {
        Self {
            store,
            catalog,
            clock,
            quiet_hours,
            plan_ahead,
        }
    }

    /// How far ahead of its time a text is written to the outbox, where staff can see it coming.
    pub fn plan_ahead(&self) -> SignedDuration {
        self.plan_ahead
    }

    /// Plans every caring-contact step and medication reminder that falls due within `plan_ahead` of now.
    /// Returns how many texts were planned.
    pub async fn plan_due(&self) -> Result<usize, PlanError> {
        Ok(self.plan_enrollments().await? + self.plan_medications().await?)
    }

    async fn plan_medications(&self) -> Result<usize, PlanError> {
        let mut planned = 0;
        loop {
            let now = self.clock.now();
            let catalog = self.catalog.current();
            let due = self.store.due_medications(now + self.plan_ahead, BATCH).await?;
            if due.is_empty() {
                return Ok(planned);
            }
            for medication in &due {
                let zone = TimeZone::get(&medication.timezone).map_err(|_| PlanError::UnknownZone {
                    enrollment: medication.id,
                    zone: medication.timezone.clone(),
                })?;
                let occurrence = Timestamp::from_second(medication.next_at).unwrap_or(now);
                // Patterns were validated when the medication was created.
                let next = medication
                    .schedule
                    .parse::<Recurrence>()
                    .ok()
                    .and_then(|r| r.next_after(occurrence, &zone));
                let language = catalog.language_or_default(&medication.language);
                let context = ReminderContext {
                    first_name: &medication.first_name,
                    when: "",
                    phrase: medication.phrase.as_deref().unwrap_or(""),
                    named: false,
                    confirmed: false,
                };
                let body = catalog
                    .render("medication/reminder", language, &context)
                    .map_err(|source| PlanError::Render {
                        enrollment: medication.id,
                        source,
                    })?;
                let text = NewText {
                    client_id: Some(medication.client_id),
                    staff_id: None,
                    enrollment_id: None,
                    kind: MessageKind::MedicationReminder,
                    idempotency_key: format!("med:{}:{}", medication.id, medication.next_at),
                    to_phone: medication.phone.clone(),
                    body,
                    template: Some("medication/reminder".into()),
                    step: None,
                    planned_at: occurrence,
                    expires_at: Some(occurrence + MEDICATION_LATENESS),
                };
                let closes = occurrence + MEDICATION_REPLY_WINDOW;
                if self
                    .store
                    .advance_medication(medication, &text, closes, next, now)
                    .await?
                {
                    planned += 1;
                }
            }
        }
    }

    async fn plan_enrollments(&self) -> Result<usize, PlanError> {
        let mut planned = 0;
        loop {
            let now = self.clock.now();
            let catalog = self.catalog.current();
            let due = self.store.due_enrollments(now + self.plan_ahead, BATCH).await?;
            if due.is_empty() {
                return Ok(planned);
            }
            for enrollment in &due {
                let advance = self.next_step(&catalog, enrollment)?;
                // False means another instance planned this step first; its row is already in the outbox.
                if self.store.advance_enrollment(&advance, now).await? {
                    planned += 1;
                }
            }
        }
    }

    fn next_step(&self, catalog: &Catalog, enrollment: &DueEnrollment) -> Result<StepAdvance, PlanError> {
        let schedule = catalog
            .schedule(&enrollment.schedule)
            .ok_or_else(|| PlanError::UnknownSchedule {
                enrollment: enrollment.id,
                schedule: enrollment.schedule.clone(),
            })?;
        let zone = TimeZone::get(&enrollment.timezone).map_err(|_| PlanError::UnknownZone {
            enrollment: enrollment.id,
            zone: enrollment.timezone.clone(),
        })?;
        let discharged_at = enrollment.discharged_at();
        let index = usize::try_from(enrollment.next_step).unwrap_or(usize::MAX);
        let next = schedule.steps.get(index.saturating_add(1)).map(|step| {
            (
                enrollment.next_step + 1,
                step.send_at(discharged_at, &zone, &self.quiet_hours),
            )
        });
        // A step on a day a bridge schedule covers (the bridge was enrolled after this step was chosen) is
        // passed over like a step that no longer exists.
        let step = schedule
            .steps
            .get(index)
            .filter(|step| step.day >= enrollment.starts_on_day);
        let Some(step) = step else {
            return Ok(StepAdvance {
                enrollment_id: enrollment.id,
                expected_step: enrollment.next_step,
                expected_version: enrollment.schedule_version,
                expected_starts_on_day: enrollment.starts_on_day,
                text: None,
                // Past the end of a shortened schedule this is `None` too, completing the enrolment.
                next,
            });
        };

        let send_at = step.send_at(discharged_at, &zone, &self.quiet_hours);
        let context = MessageContext {
            first_name: &enrollment.first_name,
        };
        let language = catalog.language_or_default(&enrollment.language);
        let body = catalog
            .render(&step.template, language, &context)
            .map_err(|source| PlanError::Render {
                enrollment: enrollment.id,
                source,
            })?;
        Ok(StepAdvance {
            enrollment_id: enrollment.id,
            expected_step: enrollment.next_step,
            expected_version: enrollment.schedule_version,
            expected_starts_on_day: enrollment.starts_on_day,
            text: Some(NewText {
                client_id: Some(enrollment.client_id),
                staff_id: None,
                enrollment_id: Some(enrollment.id),
                kind: schedule.kind,
                idempotency_key: format!("caring:{}:{}:v{}", enrollment.id, step.id, schedule.version),
                to_phone: enrollment.phone.clone(),
                body,
                template: Some(step.template.clone()),
                step: Some(step.id.clone()),
                planned_at: send_at,
                expires_at: Some(send_at + schedule.max_lateness),
            }),
            next,
        })
    }
}
