//! The outbox rows: claimed under a lease with a random token, renewed while
//! a worker sends, and changed only by the holder of the token; counted for
//! readiness and metrics; requeued and purged by the `outbox` command.

use std::collections::BTreeMap;

use sqlx::Row;

use super::write::Durability;
use super::{Backend, IntakeId, Store, StoreError, now_ms, query};

/// The token a claim wrote into its rows: only its holder changes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseToken(String);

impl LeaseToken {
    fn generate() -> Self {
        LeaseToken(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Outbox rows due for delivery, claimed together until `until_ms`.
#[derive(Debug, Clone)]
pub struct Lease {
    /// Written into every claimed row.
    pub token: LeaseToken,
    /// When the lease ends unless renewed (milliseconds since the epoch).
    pub until_ms: i64,
    /// The claimed rows, oldest first.
    pub emails: Vec<DueEmail>,
}

/// An outbox row due for delivery.
#[derive(Debug, Clone)]
pub struct DueEmail {
    /// The intake to send.
    pub intake_id: IntakeId,
    /// Attempts made so far.
    pub attempts: u32,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy)]
pub enum Delivery<'a> {
    /// The relay (or the mail folder) took it.
    Sent,
    /// It failed; try again at `at_ms`.
    Retry {
        /// When to try again.
        at_ms: i64,
        /// What went wrong (the relay's words, never the message).
        error: &'a str,
    },
    /// It failed for the last time.
    Dead {
        /// What went wrong.
        error: &'a str,
    },
    /// Given up on without a send (the autoresponse's per-address limit;
    /// an email is never skipped, and is recorded dead if it were).
    Skipped {
        /// Why.
        why: &'a str,
    },
}

/// How far delivery lags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OutboxLag {
    /// Emails waiting to be sent.
    pub pending: u64,
    /// Emails given up on.
    pub dead: u64,
    /// Emails held until the consultant releases their intakes.
    pub held: u64,
    /// Age of the oldest waiting email, in seconds.
    pub oldest_pending_seconds: u64,
}

/// An email given up on, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadEmail {
    /// Its intake.
    pub intake_id: IntakeId,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// When its intake arrived (milliseconds since the epoch).
    pub created_at_ms: i64,
}

/// Which dead emails to requeue.
#[derive(Debug, Clone, Copy)]
pub enum Requeue<'a> {
    /// Every dead email.
    All,
    /// One intake's email.
    One(&'a IntakeId),
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Claim up to `limit` due rows, oldest first, for `lease_ms`: their
    /// next attempt moves to the end of the lease and they carry a new
    /// token, so no other worker (or replica) takes them while the lease
    /// holds, and a worker that dies frees them when it ends.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Lease, StoreError> {
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE outbox SET next_attempt_ms = $2, lease_token = $4 WHERE intake_id IN (",
                    "SELECT intake_id FROM outbox WHERE state = 'pending' AND next_attempt_ms <= $1 ",
                    "ORDER BY next_attempt_ms LIMIT $3 ",
                    $lock,
                    ") RETURNING intake_id, attempts"
                )
            };
        }
        let sql = match self.backend {
            Backend::Postgres => claim!("FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => claim!(""),
        };
        let token = LeaseToken::generate();
        let until_ms = now_ms + lease_ms;
        let mut write = self
            .write("claiming due emails", Durability::Deferred)
            .await?;
        let rows = sqlx::query(sql)
            .bind(now_ms)
            .bind(until_ms)
            .bind(i64::from(limit))
            .bind(&token.0)
            .fetch_all(write.conn())
            .await;
        let rows = write.commit(rows).await?;
        let mut emails: Vec<DueEmail> = rows
            .iter()
            .map(|row| DueEmail {
                intake_id: IntakeId::from_stored(row.get("intake_id")),
                attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
            })
            .collect();
        // RETURNING does not keep the subquery's order.
        emails.sort_by(|a, b| a.intake_id.as_str().cmp(b.intake_id.as_str()));
        Ok(Lease {
            token,
            until_ms,
            emails,
        })
    }

    /// Extend the lease on the rows `token` still holds to `until_ms`.
    /// Returns how many it still holds.
    pub async fn renew(&self, token: &LeaseToken, until_ms: i64) -> Result<u64, StoreError> {
        let mut write = self.write("renewing a lease", Durability::Deferred).await?;
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $2 WHERE lease_token = $1 AND state = 'pending'",
        )
        .bind(&token.0)
        .bind(until_ms)
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Release the rows `token` still holds: due again at once, for any worker.
    pub async fn release(&self, token: &LeaseToken) -> Result<u64, StoreError> {
        let mut write = self
            .write("releasing a lease", Durability::Deferred)
            .await?;
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $2, lease_token = NULL
             WHERE lease_token = $1 AND state = 'pending'",
        )
        .bind(&token.0)
        .bind(now_ms())
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Record a delivery attempt on a row `token` holds, and release it.
    /// Returns `false` when the row is no longer held by `token` (erased
    /// meanwhile, or its lease lapsed and another worker took it): then
    /// nothing changed.
    pub async fn record(
        &self,
        token: &LeaseToken,
        id: &IntakeId,
        delivery: Delivery<'_>,
    ) -> Result<bool, StoreError> {
        let held = self.record_all(token, &[(id, delivery)]).await?;
        Ok(held.first().copied().unwrap_or(false))
    }

    /// Record several attempts on rows `token` holds in one transaction
    /// (one write for a batch of sends); for each, whether its row was
    /// still held (see [`Store::record`]). The marks join the committer's
    /// queue: while intakes are committing they go into the same
    /// transaction (one commit, one fsync for both), and alone they are a
    /// short write of their own.
    pub async fn record_all(
        &self,
        token: &LeaseToken,
        attempts: &[(&IntakeId, Delivery<'_>)],
    ) -> Result<Vec<bool>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let marks = attempts
            .iter()
            .map(|(id, delivery)| Mark::new(id, *delivery))
            .collect();
        self.committer().mark(token.clone(), marks).await
    }

    /// At the start of the only process on a SQLite file: rows leased by a
    /// process that died are due again at once (no one else can hold them).
    pub(super) async fn reclaim_own_leases(&self) -> Result<u64, StoreError> {
        let mut write = self
            .write("reclaiming leases after a restart", Durability::Full)
            .await?;
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $1, lease_token = NULL
             WHERE state = 'pending' AND lease_token IS NOT NULL",
        )
        .bind(now_ms())
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Make dead emails pending again, with their attempts reset. Returns how many.
    pub async fn requeue(&self, which: Requeue<'_>) -> Result<u64, StoreError> {
        let mut write = self
            .write("requeueing dead emails", Durability::Full)
            .await?;
        let sql = "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $1,
                last_error = NULL, lease_token = NULL
             WHERE state = 'dead'";
        let done = match which {
            Requeue::All => sqlx::query(sql).bind(now_ms()).execute(write.conn()).await,
            Requeue::One(id) => {
                sqlx::query(&format!("{sql} AND intake_id = $2"))
                    .bind(now_ms())
                    .bind(id.as_str())
                    .execute(write.conn())
                    .await
            }
        };
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Delete the outbox rows of emails sent before `cutoff_ms` (their
    /// intakes stay until retention). Returns how many.
    pub async fn purge_sent_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut write = self.write("purging sent emails", Durability::Full).await?;
        let done = sqlx::query("DELETE FROM outbox WHERE state = 'sent' AND sent_at_ms < $1")
            .bind(cutoff_ms)
            .execute(write.conn())
            .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Pending and dead counts and the oldest pending age.
    pub async fn outbox_lag(&self) -> Result<OutboxLag, StoreError> {
        let row = sqlx::query(
            "SELECT
                COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
                COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead,
                COALESCE(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END), 0) AS held,
                MIN(CASE WHEN state = 'pending' THEN created_at_ms END) AS oldest
             FROM outbox",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(query("measuring the outbox"))?;
        let oldest: Option<i64> = row.get("oldest");
        Ok(OutboxLag {
            pending: count(row.get("pending")),
            dead: count(row.get("dead")),
            held: count(row.get("held")),
            oldest_pending_seconds: oldest.map_or(0, |t| count((now_ms() - t) / 1000)),
        })
    }

    /// Counts of outbox rows by state (`pending`, `sent`, `dead`).
    pub async fn outbox_states(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
            .fetch_all(&self.reader)
            .await
            .map_err(query("counting the outbox"))?;
        Ok(rows
            .iter()
            .map(|r| (r.get("state"), count(r.get("n"))))
            .collect())
    }

    /// Up to `limit` dead emails, oldest first.
    pub async fn dead_emails(&self, limit: u32) -> Result<Vec<DeadEmail>, StoreError> {
        let rows = sqlx::query(
            "SELECT intake_id, attempts, last_error, created_at_ms FROM outbox
             WHERE state = 'dead' ORDER BY created_at_ms LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(query("listing dead emails"))?;
        Ok(rows
            .iter()
            .map(|row| DeadEmail {
                intake_id: IntakeId::from_stored(row.get("intake_id")),
                attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
                last_error: row.get("last_error"),
                created_at_ms: row.get("created_at_ms"),
            })
            .collect())
    }
}

/// One delivery outcome to write on its outbox row, owned so that it can
/// wait in the committer's queue.
#[derive(Debug)]
pub(super) struct Mark {
    intake_id: IntakeId,
    statement: &'static str,
    at_ms: i64,
    error: Option<String>,
}

impl Mark {
    fn new(id: &IntakeId, delivery: Delivery<'_>) -> Mark {
        let (statement, at_ms, error) = match delivery {
            Delivery::Sent => (
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at_ms = $3,
                    last_error = NULL, lease_token = NULL
                 WHERE intake_id = $1 AND lease_token = $2",
                now_ms(),
                None,
            ),
            Delivery::Retry { at_ms, error } => (
                "UPDATE outbox SET attempts = attempts + 1, last_error = $4, next_attempt_ms = $3,
                    lease_token = NULL
                 WHERE intake_id = $1 AND lease_token = $2",
                at_ms,
                Some(error),
            ),
            Delivery::Dead { error } | Delivery::Skipped { why: error } => (
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = $4,
                    next_attempt_ms = $3, lease_token = NULL
                 WHERE intake_id = $1 AND lease_token = $2",
                now_ms(),
                Some(error),
            ),
        };
        Mark {
            intake_id: id.clone(),
            statement,
            at_ms,
            error: error.map(str::to_owned),
        }
    }

    /// Write the marks on rows `token` still holds, inside the caller's
    /// transaction; for each, whether its row was held.
    pub(super) async fn write_all(
        conn: &mut sqlx::AnyConnection,
        token: &LeaseToken,
        marks: &[Mark],
    ) -> Result<Vec<bool>, sqlx::Error> {
        let mut held = Vec::with_capacity(marks.len());
        for mark in marks {
            let mut statement = sqlx::query(mark.statement)
                .bind(mark.intake_id.as_str())
                .bind(&token.0)
                .bind(mark.at_ms);
            if let Some(error) = &mark.error {
                statement = statement.bind(error.as_str());
            }
            held.push(statement.execute(&mut *conn).await?.rows_affected() == 1);
        }
        Ok(held)
    }
}
