//! Group commit: requests queue their intake (with its outbox row) to a
//! committer task, which writes whatever is queued in one transaction on
//! the writer connection, one commit and one fsync, then answers each. A
//! batch that fails answers every one of its jobs with the error; none is
//! acknowledged. The commit is as durable as one intake's alone
//! (`synchronous=FULL` on SQLite, a synchronous commit on PostgreSQL);
//! intakes that arrive while a batch commits wait for the next one.
//!
//! The outbox worker's delivery marks (sent, retry, dead) queue here too:
//! under load they ride in the intakes' transaction instead of taking the
//! writer between two batches; a batch of marks alone is committed without
//! waiting for the disk, like all delivery bookkeeping.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use sqlx::{AnyConnection, Row};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::outbox::Mark;
use super::write::Durability;
use super::{Backend, Idempotency, IntakeRecord, LeaseToken, OutboxStart, Store, StoreError};

/// Jobs in one transaction at most.
const MAX_BATCH: usize = 128;

/// Where a job's answer goes.
type Answer<T> = oneshot::Sender<Result<T, Arc<StoreError>>>;

/// One queued write.
#[expect(
    clippy::large_enum_variant,
    reason = "intakes are nearly every job: boxing them would cost an allocation each to save room in the rare marks job"
)]
enum Job {
    /// An intake and its outbox row.
    Intake(IntakeJob),
    /// Delivery outcomes on rows a lease holds.
    Marks(MarksJob),
}

/// One queued intake and where its answer goes.
struct IntakeJob {
    record: IntakeRecord,
    idempotency: Option<Idempotency>,
    /// The state its outbox row starts in.
    start: OutboxStart,
    /// The record back, and `true` if it was written (`false`: its
    /// idempotency key was already stored).
    answer: Answer<(IntakeRecord, bool)>,
}

/// Delivery outcomes to write on rows `token` holds.
struct MarksJob {
    token: LeaseToken,
    marks: Vec<Mark>,
    /// For each mark, whether its row was still held.
    answer: Answer<Vec<bool>>,
}

/// The queue to the committer tasks.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    queue: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Intake(job) => f
                .debug_struct("Intake")
                .field("id", &job.record.id)
                .finish(),
            Job::Marks(job) => f
                .debug_struct("Marks")
                .field("rows", &job.marks.len())
                .finish(),
        }
    }
}

impl Committer {
    /// Start `tasks` committers on `store`'s writer (one on SQLite, which
    /// has one writer connection; more on PostgreSQL, so one batch is
    /// collected while another commits).
    pub(super) fn start(store: Store, tasks: usize) -> Committer {
        let (queue, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..tasks.max(1) {
            tokio::spawn(run(store.clone(), Arc::clone(&receiver)));
        }
        Committer { queue }
    }

    /// Queue an intake and wait for its batch to commit: the record back,
    /// and whether it was written (`false`: its idempotency key was
    /// already stored).
    pub(super) async fn insert(
        &self,
        record: IntakeRecord,
        idempotency: Option<Idempotency>,
        start: OutboxStart,
    ) -> Result<(IntakeRecord, bool), StoreError> {
        let (answer, answered) = oneshot::channel();
        let job = Job::Intake(IntakeJob {
            record,
            idempotency,
            start,
            answer,
        });
        self.send(job, answered).await
    }

    /// Queue delivery outcomes and wait for their batch to commit: for
    /// each, whether its row was still held by `token`.
    pub(super) async fn mark(
        &self,
        token: LeaseToken,
        marks: Vec<Mark>,
    ) -> Result<Vec<bool>, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job = Job::Marks(MarksJob {
            token,
            marks,
            answer,
        });
        self.send(job, answered).await
    }

    async fn send<T>(
        &self,
        job: Job,
        answered: oneshot::Receiver<Result<T, Arc<StoreError>>>,
    ) -> Result<T, StoreError> {
        if self.queue.send(job).is_err() {
            return Err(StoreError::Closed);
        }
        match answered.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(StoreError::Batch(error)),
            Err(_) => Err(StoreError::Closed),
        }
    }
}

/// Take what is queued (waiting for at least one), write it in one
/// transaction, answer each; until every sender is gone.
async fn run(store: Store, receiver: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                return;
            }
        }
        let (mut intakes, mut marks) = (Vec::new(), Vec::new());
        for job in jobs.drain(..) {
            match job {
                Job::Intake(job) => intakes.push(job),
                Job::Marks(job) => marks.push(job),
            }
        }
        // A failed batch is logged by each of its requests: with the cause,
        // not the pool's "timed out".
        let written = store
            .explained(store.write_batch(&intakes, &marks).await)
            .await;
        // Delivery bookkeeping alone says nothing of room for new intakes.
        let written = if intakes.is_empty() {
            written
        } else {
            store.health.note(written)
        };
        match written {
            Ok((stored, held)) => {
                for (job, written) in intakes.into_iter().zip(stored) {
                    // A request that gave up waiting is stored all the same.
                    let _ = job.answer.send(Ok((job.record, written)));
                }
                for (job, held) in marks.into_iter().zip(held) {
                    let _ = job.answer.send(Ok(held));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for job in intakes {
                    let _ = job.answer.send(Err(Arc::clone(&error)));
                }
                for job in marks {
                    let _ = job.answer.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
}

impl Store {
    /// One transaction for a batch: each intake and its outbox row, then
    /// the delivery marks. Returns, for each intake, whether it was written
    /// (`false`: its key was already stored), and for each mark whether its
    /// row was held. Intakes make the commit wait for the disk.
    async fn write_batch(
        &self,
        intakes: &[IntakeJob],
        marks: &[MarksJob],
    ) -> Result<(Vec<bool>, Vec<Vec<bool>>), StoreError> {
        let mut write = if intakes.is_empty() {
            self.write("recording deliveries", Durability::Deferred)
                .await?
        } else {
            self.write("storing intakes", Durability::Full).await?
        };
        let written = write_all(write.conn(), self.backend, intakes, marks).await;
        write.commit(written).await
    }
}

/// The intakes, then the marks, on a connection inside a transaction.
async fn write_all(
    conn: &mut AnyConnection,
    backend: Backend,
    intakes: &[IntakeJob],
    marks: &[MarksJob],
) -> Result<(Vec<bool>, Vec<Vec<bool>>), sqlx::Error> {
    let stored = insert_all(conn, backend, intakes).await?;
    let mut held = Vec::with_capacity(marks.len());
    for job in marks {
        held.push(Mark::write_all(conn, &job.token, &job.marks).await?);
    }
    Ok((stored, held))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("stored values serialize to JSON")
}

/// Rows per multi-row statement: a batch is written in chunks of these
/// sizes, largest first, so the writer's connection prepares (and caches)
/// only these few statements.
const CHUNKS: [usize; 4] = [32, 8, 2, 1];

/// The intake columns, in the order [`bind_intake`] binds them.
const INTAKE_COLUMNS: [&str; 18] = [
    "id",
    "created_at_ms",
    "channel",
    "route",
    "handoffs",
    "privacy",
    "removed",
    "exposed_credentials",
    "fields",
    "tools",
    "reasons",
    "missing_fields",
    "contact_email",
    "consent",
    "idempotency_key",
    "request_hash",
    "confidence",
    "needs_review",
];

/// The statements for one chunk size.
struct Chunk {
    /// Rows in the chunk.
    rows: usize,
    /// The intakes' `INSERT` (a row whose idempotency key is stored
    /// already is skipped).
    intakes: String,
    /// Which of the chunk's ids are stored: asked only when the `INSERT`
    /// skipped a row.
    stored: String,
    /// The outbox rows' `INSERT … SELECT` for those of the chunk's ids
    /// that were written, in the state given (an id bound as `''` stands
    /// for none).
    outbox: String,
}

impl Chunk {
    /// The statements for chunks of `rows` intakes on `backend`.
    fn new(rows: usize, backend: Backend) -> Chunk {
        // SQLite looks a numbered parameter's index up by a linear search
        // of the statement's names, once per parameter: with hundreds of
        // parameters that search cost more than the binding. Its plain `?`
        // (numbered in order) needs none; PostgreSQL takes `$n` only.
        let parameter = |n: usize| match backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${n}"),
        };
        let list = |first: usize, count: usize| {
            (first..first + count)
                .map(parameter)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let columns = INTAKE_COLUMNS.len();
        let values: Vec<String> = (0..rows)
            .map(|row| format!("({})", list(row * columns + 1, columns)))
            .collect();
        Chunk {
            rows,
            intakes: format!(
                "INSERT INTO intakes ({}) VALUES {} ON CONFLICT (idempotency_key) DO NOTHING",
                INTAKE_COLUMNS.join(", "),
                values.join(", ")
            ),
            stored: format!("SELECT id FROM intakes WHERE id IN ({})", list(1, rows)),
            outbox: format!(
                "INSERT INTO outbox (intake_id, next_attempt_ms, created_at_ms, state)
                 SELECT id, created_at_ms, created_at_ms, {} FROM intakes WHERE id IN ({})",
                parameter(1),
                list(2, rows)
            ),
        }
    }
}

/// For each chunk size, its statements: SQLite's, then PostgreSQL's.
static STATEMENTS: LazyLock<[Vec<Chunk>; 2]> = LazyLock::new(|| {
    [Backend::Sqlite, Backend::Postgres].map(|backend| {
        CHUNKS
            .iter()
            .map(|&rows| Chunk::new(rows, backend))
            .collect()
    })
});

/// The statements for `backend`.
fn statements(backend: Backend) -> &'static [Chunk] {
    match backend {
        Backend::Sqlite => &STATEMENTS[0],
        Backend::Postgres => &STATEMENTS[1],
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Bind one intake's columns, in [`INTAKE_COLUMNS`] order.
fn bind_intake<'q>(query: AnyQuery<'q>, job: &'q IntakeJob) -> AnyQuery<'q> {
    let record = &job.record;
    let idempotency = job.idempotency.as_ref();
    query
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
        .bind(f64::from(record.confidence))
        .bind(i64::from(record.needs_review))
}

/// Write `jobs` (intakes and their outbox rows) in multi-row statements on
/// a connection inside a transaction; for each job, whether it was written.
async fn insert_all(
    conn: &mut AnyConnection,
    backend: Backend,
    jobs: &[IntakeJob],
) -> Result<Vec<bool>, sqlx::Error> {
    let mut written = Vec::with_capacity(jobs.len());
    let mut rest = jobs;
    while !rest.is_empty() {
        let statements = statements(backend)
            .iter()
            .find(|chunk| chunk.rows <= rest.len())
            .expect("chunks end with a single row");
        let (chunk, after) = rest.split_at(statements.rows);
        let mut query = sqlx::query(&statements.intakes);
        for job in chunk {
            query = bind_intake(query, job);
        }
        let inserted = query.execute(&mut *conn).await?.rows_affected();
        if usize::try_from(inserted).is_ok_and(|n| n == chunk.len()) {
            written.extend(std::iter::repeat_n(true, chunk.len()));
        } else {
            // A key was stored already: the rare case asks which rows are.
            let mut query = sqlx::query(&statements.stored);
            for job in chunk {
                query = query.bind(job.record.id.as_str());
            }
            let stored: HashSet<String> = query
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
            written.extend(
                chunk
                    .iter()
                    .map(|job| stored.contains(job.record.id.as_str())),
            );
        }
        for start in [OutboxStart::Pending, OutboxStart::Held] {
            if chunk.iter().all(|job| job.start != start) {
                continue;
            }
            let mut query = sqlx::query(&statements.outbox).bind(start.state());
            for job in chunk {
                query = query.bind(if job.start == start {
                    job.record.id.as_str()
                } else {
                    ""
                });
            }
            query.execute(&mut *conn).await?;
        }
        rest = after;
    }
    Ok(written)
}
