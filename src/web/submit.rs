//! The one path every form and API submission takes: review (scrub and
//! check), triage, store with its outbox row, wake the outbox.

use crate::store::{Idempotency, Inserted, IntakeRecord};
use handoff_intake::{Channel, Intake, Rejection};

use super::AppState;
use super::error::ApiError;

/// What became of a submission.
pub enum Outcome {
    /// Stored and queued for delivery (`replayed`: an earlier identical request).
    Stored {
        /// The stored intake.
        record: IntakeRecord,
        /// Whether an earlier request with the same Idempotency-Key stored it.
        replayed: bool,
    },
    /// Not accepted; nothing stored.
    Rejected(Rejection),
}

/// Review, triage and store one submission.
pub async fn accept(
    state: &AppState,
    intake: Intake,
    idempotency: Option<&Idempotency>,
) -> Result<Outcome, ApiError> {
    let reviewed = match state.pipeline.review(intake, Channel::Form) {
        Ok(reviewed) => reviewed,
        Err(rejection) => {
            tracing::info!(problems = ?rejection.problems.keys().collect::<Vec<_>>(), "submission not accepted");
            return Ok(Outcome::Rejected(rejection));
        }
    };
    state
        .metrics
        .scrub_seconds
        .observe(reviewed.scrub_time.as_secs_f64());
    state
        .metrics
        .triage_seconds
        .observe(reviewed.triage_time.as_secs_f64());
    let (intake, outcome) = (reviewed.intake, reviewed.triage);
    match state.store.insert(&intake, &outcome, idempotency).await? {
        Inserted::Created(record) => {
            state.outbox.wake();
            state.metrics.intake_stored(&record);
            tracing::info!(
                intake = %record.id,
                route = record.route.as_str(),
                privacy = record.privacy.as_str(),
                removed = ?record.removed,
                "intake stored"
            );
            Ok(Outcome::Stored {
                record,
                replayed: false,
            })
        }
        Inserted::Replayed(record) => Ok(Outcome::Stored {
            record,
            replayed: true,
        }),
        Inserted::KeyReused => Err(ApiError::IdempotencyKeyReused),
    }
}
