//! The one path every form and API submission takes: review (scrub and
//! check), triage, store with its outbox row, wake the outbox.

use crate::pipeline::Reviewed;
use crate::store::{Idempotency, Inserted, IntakeRecord};
use handoff_intake::{Channel, Intake, Rejection};

use super::AppState;
use super::error::ApiError;

/// A stored intake (`replayed`: an earlier request with the same key stored it).
pub struct Stored {
    /// The stored intake.
    pub record: IntakeRecord,
    /// Whether an earlier request with the same key stored it.
    pub replayed: bool,
}

/// Scrub, check and triage one submission; a refusal comes back as the
/// [`Rejection`] to show the person (nothing is stored).
pub fn review(state: &AppState, intake: Intake) -> Result<Reviewed, Rejection> {
    let reviewed = state
        .pipeline
        .review(intake, Channel::Form)
        .inspect_err(|rejection| {
            tracing::debug!(problems = ?rejection.problems.keys().collect::<Vec<_>>(), "submission not accepted");
        })?;
    state
        .metrics
        .scrub_seconds
        .observe(reviewed.scrub_time.as_secs_f64());
    state
        .metrics
        .triage_seconds
        .observe(reviewed.triage_time.as_secs_f64());
    Ok(reviewed)
}

/// Whether a stored intake is mailed at once or held for the consultant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mail {
    /// Mailed at once.
    Now,
    /// Held back (it tripped a bot heuristic): stored, not mailed until
    /// the consultant releases it.
    Held,
}

/// Store a reviewed submission with its outbox row, and wake the outbox.
pub async fn store(
    state: &AppState,
    reviewed: &Reviewed,
    idempotency: Option<&Idempotency>,
    mail: Mail,
) -> Result<Stored, ApiError> {
    let (intake, triage) = (&reviewed.intake, &reviewed.triage);
    let inserted = match mail {
        Mail::Now => state.store.insert(intake, triage, idempotency).await?,
        Mail::Held => state.store.insert_held(intake, triage, idempotency).await?,
    };
    match inserted {
        Inserted::Created(record) => {
            state.metrics.intake_stored(&record);
            match mail {
                Mail::Now => {
                    state.outbox.wake();
                    state.webhooks.wake();
                    state.autoresponder.wake();
                }
                Mail::Held => state.metrics.held.inc(),
            }
            // The request's one info line names the intake and its route.
            let span = tracing::Span::current();
            span.record("intake", tracing::field::display(&record.id));
            span.record("triage", record.route.as_str());
            tracing::debug!(
                intake = %record.id,
                route = record.route.as_str(),
                privacy = record.privacy.as_str(),
                removed = ?record.removed,
                held = mail == Mail::Held,
                "intake stored"
            );
            Ok(Stored {
                record,
                replayed: false,
            })
        }
        Inserted::Replayed(record) => Ok(Stored {
            record,
            replayed: true,
        }),
        Inserted::KeyReused => Err(ApiError::IdempotencyKeyReused),
    }
}
