//! The durable store: intakes and their outbox rows, on SQLite (WAL, the
//! default) or PostgreSQL (for several replicas), with the same queries
//! through sqlx's `Any` driver and the same schema in each dialect.
//!
//! Only a [`ScrubbedIntake`] and its [`Triage`] can be written, so nothing
//! unscrubbed reaches the database. An intake and its outbox row are
//! written in one transaction, before the submitter gets an answer. The
//! outbox worker claims due rows with a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so replicas never send the same email at the same time.

mod record;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

pub use record::{IntakeId, IntakeRecord};

use handoff_intake::ScrubbedIntake;
use handoff_triage::Triage;

/// A store failure. The message names the operation, never a stored value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open the store at {url}: {source}")]
    Open {
        /// The configured URL.
        url: String,
        /// What went wrong.
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("store query failed while {doing}: {source}")]
    Query {
        /// What the store was doing.
        doing: &'static str,
        /// What went wrong.
        source: sqlx::Error,
    },
    /// A stored row could not be read back.
    #[error("a stored intake row is malformed: {0}")]
    Corrupt(String),
}

fn query(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { doing, source }
}

/// The client's `Idempotency-Key` and the request it came with, both hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// SHA-256 of the key.
    pub key_hash: String,
    /// SHA-256 of the request body.
    pub request_hash: String,
}

/// What an insert did.
#[derive(Debug)]
pub enum Inserted {
    /// A new intake and its outbox row were written.
    Created(IntakeRecord),
    /// The idempotency key was seen with the same request: the earlier intake.
    Replayed(IntakeRecord),
    /// The idempotency key was seen with a different request.
    KeyReused,
}

/// An outbox row due for delivery.
#[derive(Debug, Clone)]
pub struct DueEmail {
    /// The intake to send.
    pub intake_id: IntakeId,
    /// Attempts made so far.
    pub attempts: u32,
}

/// How far delivery lags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OutboxLag {
    /// Emails waiting to be sent.
    pub pending: u64,
    /// Emails given up on.
    pub dead: u64,
    /// Age of the oldest waiting email, in seconds.
    pub oldest_pending_seconds: u64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one process.
    Sqlite,
    /// Shared by any number of replicas.
    Postgres,
}

/// The intake store. On SQLite, which takes one writer at a time, writes
/// queue on a one-connection pool (in order, without SQLite's busy-wait
/// sleeps) and reads use their own pool beside them (WAL); on PostgreSQL
/// both are one pool.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
}

impl Store {
    /// Open (for SQLite creating the file and its folder if needed) and migrate.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: crate::config::redact_url(url),
            source,
        };
        sqlx::any::install_default_drivers();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
            }
            let base = url.split('?').next().unwrap_or(url);
            let options = |mode: &str| AnyConnectOptions::from_str(&format!("{base}?mode={mode}"));
            let writer = AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                .connect_with(options("rwc").map_err(open_error)?)
                .await
                .map_err(open_error)?;
            sqlx::migrate!("src/store/migrations/sqlite")
                .run(&writer)
                .await
                .map_err(|e| open_error(e.into()))?;
            let reader = AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                .connect_with(options("ro").map_err(open_error)?)
                .await
                .map_err(open_error)?;
            return Ok(Store {
                backend: Backend::Sqlite,
                writer,
                reader,
            });
        }
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(AnyConnectOptions::from_str(url).map_err(open_error)?)
            .await
            .map_err(open_error)?;
        // Replicas starting together: PostgreSQL's advisory lock inside sqlx's
        // migrator lets one apply the migrations while the others wait.
        sqlx::migrate!("src/store/migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| open_error(e.into()))?;
        Ok(Store {
            backend: Backend::Postgres,
            writer: pool.clone(),
            reader: pool,
        })
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(query("checking the store"))?;
        Ok(())
    }

    /// Write an intake and its outbox row in one transaction.
    pub async fn insert(
        &self,
        intake: &ScrubbedIntake,
        triage: &Triage,
        idempotency: Option<&Idempotency>,
    ) -> Result<Inserted, StoreError> {
        let record = IntakeRecord::new(intake, triage, now_ms());
        let mut tx = self
            .writer
            .begin()
            .await
            .map_err(query("starting a write"))?;
        let written = sqlx::query(
            "INSERT INTO intakes (id, created_at_ms, channel, route, handoffs, privacy, removed,
                exposed_credentials, fields, tools, reasons, missing_fields, contact_email, consent,
                idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(record.id.as_str())
        .bind(record.created_at_ms)
        .bind(record.channel.as_str())
        .bind(record.route.as_str())
        .bind(json(&record.handoffs))
        .bind(record.privacy.as_str())
        .bind(json(&record.removed))
        .bind(i64::from(record.exposed_credentials))
        .bind(json(&record.fields))
        .bind(json(&record.tools))
        .bind(json(&record.reasons))
        .bind(json(&record.missing_fields))
        .bind(record.contact_email.as_deref())
        .bind(i64::from(record.consent))
        .bind(idempotency.map(|i| i.key_hash.as_str()))
        .bind(idempotency.map(|i| i.request_hash.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(query("writing an intake"))?;
        if written.rows_affected() == 0 {
            tx.rollback().await.map_err(query("rolling back"))?;
            let key = idempotency.expect("only the idempotency key can conflict");
            return self.replay(key).await;
        }
        sqlx::query(
            "INSERT INTO outbox (intake_id, next_attempt_ms, created_at_ms) VALUES ($1, $2, $2)",
        )
        .bind(record.id.as_str())
        .bind(record.created_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(query("queueing the email"))?;
        tx.commit().await.map_err(query("committing an intake"))?;
        Ok(Inserted::Created(record))
    }

    async fn replay(&self, key: &Idempotency) -> Result<Inserted, StoreError> {
        let row = sqlx::query(record::select_intake!("idempotency_key = $1"))
            .bind(&key.key_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(query("reading an idempotent intake"))?;
        let Some(row) = row else {
            // Erased between the conflict and this read: the key is free again.
            return Ok(Inserted::KeyReused);
        };
        let stored_hash: Option<String> = row.get("request_hash");
        if stored_hash.as_deref() != Some(key.request_hash.as_str()) {
            return Ok(Inserted::KeyReused);
        }
        Ok(Inserted::Replayed(IntakeRecord::from_row(&row)?))
    }

    /// One intake by id.
    pub async fn intake(&self, id: &IntakeId) -> Result<Option<IntakeRecord>, StoreError> {
        let row = sqlx::query(record::select_intake!("id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(query("reading an intake"))?;
        row.map(|r| IntakeRecord::from_row(&r)).transpose()
    }

    /// Erase one intake and its outbox row. Returns whether it existed.
    pub async fn erase(&self, id: &IntakeId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM intakes WHERE id = $1")
            .bind(id.as_str())
            .execute(&self.writer)
            .await
            .map_err(query("erasing an intake"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Delete intakes created before `cutoff_ms`. Returns how many.
    pub async fn purge_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM intakes WHERE created_at_ms < $1")
            .bind(cutoff_ms)
            .execute(&self.writer)
            .await
            .map_err(query("applying retention"))?;
        Ok(done.rows_affected())
    }

    /// Claim up to `limit` due outbox rows, oldest first, for `lease_ms`:
    /// their next attempt moves past the lease, so no other worker (or
    /// replica) takes them meanwhile, and a worker that dies mid-send frees
    /// them when the lease ends.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueEmail>, StoreError> {
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE outbox SET next_attempt_ms = $2 WHERE intake_id IN (",
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
        let rows = sqlx::query(sql)
            .bind(now_ms)
            .bind(now_ms + lease_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await
            .map_err(query("claiming due emails"))?;
        Ok(rows
            .iter()
            .map(|row| DueEmail {
                intake_id: IntakeId::from_stored(row.get("intake_id")),
                attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
            })
            .collect())
    }

    /// Record a delivered email.
    pub async fn mark_sent(&self, id: &IntakeId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at_ms = $2, last_error = NULL
             WHERE intake_id = $1",
        )
        .bind(id.as_str())
        .bind(now_ms())
        .execute(&self.writer)
        .await
        .map_err(query("marking an email sent"))?;
        Ok(())
    }

    /// Record a failed attempt: retry at `next_attempt_ms`, or give up (`None`).
    pub async fn mark_failed(
        &self,
        id: &IntakeId,
        next_attempt_ms: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                state = CASE WHEN $3 IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_ms = COALESCE($3, next_attempt_ms)
             WHERE intake_id = $1",
        )
        .bind(id.as_str())
        .bind(error)
        .bind(next_attempt_ms)
        .execute(&self.writer)
        .await
        .map_err(query("recording a failed send"))?;
        Ok(())
    }

    /// Pending and dead counts and the oldest pending age.
    pub async fn outbox_lag(&self) -> Result<OutboxLag, StoreError> {
        let row = sqlx::query(
            "SELECT
                COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
                COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead,
                MIN(CASE WHEN state = 'pending' THEN created_at_ms END) AS oldest
             FROM outbox",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(query("measuring the outbox"))?;
        let oldest: Option<i64> = row.get("oldest");
        Ok(OutboxLag {
            pending: row.get::<i64, _>("pending").max(0) as u64,
            dead: row.get::<i64, _>("dead").max(0) as u64,
            oldest_pending_seconds: oldest.map_or(0, |t| ((now_ms() - t).max(0) / 1000) as u64),
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
            .map(|r| (r.get("state"), r.get::<i64, _>("n").max(0) as u64))
            .collect())
    }

    /// Close the pool, flushing the WAL into the main file.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// SQLite settings for every connection: WAL so reads run beside the
/// writer, FULL sync so a commit is on disk before the answer, a busy
/// timeout, and foreign keys (an erased intake takes its outbox row).
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
    )
    .await
    .map(drop)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("stored values serialize to JSON")
}
