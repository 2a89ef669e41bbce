//! Every write goes through [`Write`]: one transaction on a writer
//! connection, committed whole or not at all, and a connection that saw a
//! failed statement or commit is closed rather than reused.
//!
//! The reason: after SQLite fails a commit ("database or disk is full"),
//! sqlx's transaction bookkeeping can stay one level deep, so the next
//! `BEGIN` becomes a savepoint inside a transaction that is never committed:
//! intakes answered 201 and then lost. Here transactions are plain `BEGIN`
//! and `COMMIT` statements, and the writer is replaced after any error, so
//! no state survives a failure.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Executor};

use super::{Backend, Store, StoreError};

/// How far a write must reach before its commit returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// On disk (fsync) before the commit returns: intakes, erasure, retention.
    Full,
    /// Delivery bookkeeping (claims, lease renewals, sent marks): survives a
    /// crash of this process, and reaches the disk with the next full
    /// commit; a power cut before that can repeat an email (with the same
    /// `Message-ID`).
    Deferred,
}

/// One write transaction. Dropped without [`Write::commit`] (a cancelled
/// request), its connection is closed, never returned to the pool half done.
pub(super) struct Write<'s> {
    store: &'s Store,
    conn: Option<PoolConnection<Any>>,
    doing: &'static str,
}

impl Store {
    /// Begin a write: the database file is checked, a writer connection
    /// taken and a transaction opened.
    pub(super) async fn write(
        &self,
        doing: &'static str,
        durability: Durability,
    ) -> Result<Write<'_>, StoreError> {
        self.check_file()?;
        let conn = self
            .writer
            .acquire()
            .await
            .map_err(|source| StoreError::Query { doing, source })?;
        let mut write = Write {
            store: self,
            conn: Some(conn),
            doing,
        };
        let begin = match (self.backend, durability) {
            (Backend::Sqlite, Durability::Full) => "PRAGMA synchronous = FULL; BEGIN IMMEDIATE",
            (Backend::Sqlite, Durability::Deferred) => {
                "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE"
            }
            (Backend::Postgres, Durability::Full) => "BEGIN",
            (Backend::Postgres, Durability::Deferred) => {
                "BEGIN; SET LOCAL synchronous_commit = off"
            }
        };
        match write.conn().execute(begin).await {
            Ok(_) => Ok(write),
            Err(source) => Err(write.fail(source).await),
        }
    }

    fn check_file(&self) -> Result<(), StoreError> {
        match &self.file {
            Some(file) => file.check(),
            None => Ok(()),
        }
    }
}

impl Write<'_> {
    /// The connection, inside the transaction.
    pub(super) fn conn(&mut self) -> &mut AnyConnection {
        self.conn
            .as_mut()
            .expect("a write holds its connection until it ends")
    }

    /// Commit if `result` is a success, else roll back; either way the
    /// caller learns whether the work is durable. A failure closes the
    /// connection (the pool opens a fresh one for the next write).
    pub(super) async fn commit<T>(
        mut self,
        result: Result<T, sqlx::Error>,
    ) -> Result<T, StoreError> {
        let committed = match result {
            Ok(value) => self.conn().execute("COMMIT").await.map(|_| value),
            Err(error) => Err(error),
        };
        match committed {
            Ok(value) => {
                self.conn.take();
                // A file deleted or replaced during the commit took the
                // commit with it: say so rather than acknowledge it.
                self.store.check_file()?;
                Ok(value)
            }
            Err(source) => Err(self.fail(source).await),
        }
    }

    async fn fail(mut self, source: sqlx::Error) -> StoreError {
        if let Some(conn) = self.conn.take() {
            // Closing rolls back whatever the transaction still holds.
            let _ = conn.close().await;
        }
        StoreError::Query {
            doing: self.doing,
            source,
        }
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Dropped at once (not closed later by a task the runtime may
            // not run soon), which rolls back and releases its locks.
            drop(conn.detach());
        }
    }
}

/// When a write that needs new space (an intake, or the readiness probe)
/// last committed and last failed. Delivery bookkeeping does not count: it
/// rewrites rows in place, and goes through on a database too full to take
/// an intake.
#[derive(Debug, Default)]
pub(super) struct Health {
    state: Mutex<HealthState>,
}

#[derive(Debug, Default, Clone, Copy)]
struct HealthState {
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
}

/// A commit this recent, with no failure since, shows the writer works.
const RECENT: Duration = Duration::from_secs(5);

impl Health {
    /// Note how such a write ended, and pass its result on.
    pub(super) fn note<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let mut state = self.state.lock().expect("health lock");
        match &result {
            Ok(_) => state.last_success = Some(Instant::now()),
            Err(_) => state.last_failure = Some(Instant::now()),
        }
        result
    }

    /// Whether readiness must try a write to know: nothing committed
    /// lately, or a failure since the last commit.
    pub(super) fn needs_probe(&self) -> bool {
        let state = *self.state.lock().expect("health lock");
        match (state.last_success, state.last_failure) {
            (Some(ok), None) => ok.elapsed() > RECENT,
            (Some(ok), Some(failed)) => failed >= ok || ok.elapsed() > RECENT,
            (None, _) => true,
        }
    }
}
