//! Intakes held back from the mail: a form post that tripped a bot
//! heuristic short of the honeypot (sent sooner than `min_fill_seconds`
//! after the form loaded) is stored with its outbox row `held`, so a person
//! who pastes and sends at once is never discarded. The consultant lists
//! and releases them (inbox, admin API, `handoff-gate held`); released, the
//! row is pending like any other; unreleased, it is deleted after
//! `limits.held_days`.

use sqlx::Row;

use super::record::select_intake;
use super::write::Durability;
use super::{Idempotency, IntakeId, IntakeRecord, Store, StoreError, now_ms, query};
use super::{Inserted, OutboxStart};
use handoff_intake::ScrubbedIntake;
use handoff_triage::Triage;

impl Store {
    /// Write an intake with its outbox row held: it is not mailed until
    /// [`Store::release_held`].
    pub async fn insert_held(
        &self,
        intake: &ScrubbedIntake,
        triage: &Triage,
        idempotency: Option<&Idempotency>,
    ) -> Result<Inserted, StoreError> {
        self.insert_as(intake, triage, idempotency, OutboxStart::Held)
            .await
    }

    /// Release a held intake: its email becomes due at once. Returns
    /// `false` when the intake is not held (released already, erased, or
    /// never held).
    pub async fn release_held(&self, id: &IntakeId) -> Result<bool, StoreError> {
        let mut write = self
            .write("releasing a held intake", Durability::Full)
            .await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_ms = $2, lease_token = NULL
             WHERE intake_id = $1 AND state = 'held'",
        )
        .bind(id.as_str())
        .bind(now_ms())
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected() == 1)
    }

    /// Up to `limit` held intakes, oldest first.
    pub async fn held(&self, limit: u32) -> Result<Vec<IntakeRecord>, StoreError> {
        let rows = sqlx::query(select_intake!(
            "i.id IN (SELECT intake_id FROM outbox WHERE state = 'held') \
             ORDER BY i.created_at_ms, i.id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(query("listing held intakes"))?;
        rows.iter().map(IntakeRecord::from_row).collect()
    }

    /// How many intakes are held.
    pub async fn held_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE state = 'held'")
            .fetch_one(&self.reader)
            .await
            .map_err(query("counting held intakes"))?;
        Ok(u64::try_from(row.get::<i64, _>("n")).unwrap_or(0))
    }

    /// Delete held intakes stored before `cutoff_ms` (never released).
    /// Returns how many.
    pub async fn purge_held_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut write = self
            .write("deleting intakes held too long", Durability::Full)
            .await?;
        let done = sqlx::query(
            "DELETE FROM intakes WHERE created_at_ms < $1
             AND id IN (SELECT intake_id FROM outbox WHERE state = 'held')",
        )
        .bind(cutoff_ms)
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }
}
