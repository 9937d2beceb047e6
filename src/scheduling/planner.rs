//! Turns enrolments into outbox rows: each step is written shortly before it is due (within `plan_ahead`),
//! with its text rendered and its idempotency key set, in the same transaction that moves the enrolment on.

use std::sync::Arc;

use jiff::{SignedDuration, tz::TimeZone};

use super::{Clock, QuietHours};
use crate::storage::{DueEnrollment, NewText, StepAdvance, Store, StoreError};
use crate::templates::{Catalog, MessageContext, RenderError};

/// Enrolments handled per database round trip.
const BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("enrollment {enrollment} follows schedule `{schedule}`, which is not in the message templates")]
    UnknownSchedule { enrollment: i64, schedule: String },
    #[error("enrollment {enrollment}: client time zone `{zone}` is unknown")]
    UnknownZone { enrollment: i64, zone: String },
    #[error("enrollment {enrollment}: {source}")]
    Render {
        enrollment: i64,
        #[source]
        source: RenderError,
    },
}

#[derive(Clone)]
pub struct Planner {
    store: Store,
    catalog: Arc<Catalog>,
    clock: Clock,
    quiet_hours: QuietHours,
    plan_ahead: SignedDuration,
}

impl Planner {
    pub fn new(
        store: Store,
        catalog: Arc<Catalog>,
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

    /// Plans every step that falls due within `plan_ahead` of now. Returns how many steps were planned.
    pub async fn plan_due(&self) -> Result<usize, PlanError> {
        let mut planned = 0;
        loop {
            let now = self.clock.now();
            let due = self.store.due_enrollments(now + self.plan_ahead, BATCH).await?;
            if due.is_empty() {
                return Ok(planned);
            }
            for enrollment in &due {
                let advance = self.next_step(enrollment)?;
                // False means another instance planned this step first; its row is already in the outbox.
                if self.store.advance_enrollment(&advance, now).await? {
                    planned += 1;
                }
            }
        }
    }

    fn next_step(&self, enrollment: &DueEnrollment) -> Result<StepAdvance, PlanError> {
        let schedule = self
            .catalog
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
        let Some(step) = schedule.steps.get(index) else {
            return Ok(StepAdvance {
                enrollment_id: enrollment.id,
                expected_step: enrollment.next_step,
                text: None,
                next: None,
            });
        };

        let send_at = step.send_at(discharged_at, &zone, &self.quiet_hours);
        let context = MessageContext {
            first_name: &enrollment.first_name,
        };
        // A client whose language the templates no longer offer still gets the program's default language.
        let language = if self.catalog.supports_language(&enrollment.language) {
            enrollment.language.as_str()
        } else {
            self.catalog.program.default_language.as_str()
        };
        let body = self
            .catalog
            .render(&step.template, language, &context)
            .map_err(|source| PlanError::Render {
                enrollment: enrollment.id,
                source,
            })?;
        Ok(StepAdvance {
            enrollment_id: enrollment.id,
            expected_step: enrollment.next_step,
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
