//! The durable store: intakes and their outbox rows, on SQLite (WAL, the
//! default) or PostgreSQL (for several replicas), with the same queries
//! through sqlx's `Any` driver and the same schema in each dialect.
//!
//! Only a [`ScrubbedIntake`] and its [`Triage`] can be written, so nothing
//! unscrubbed reaches the database. An intake and its outbox row are
//! written in one transaction that is on disk before the submitter gets an
//! answer: intakes queued together share that transaction and its fsync
//! (group commit, the `commit` module), and a batch that fails acknowledges none of
//! them. A write that fails in any way is rolled back and its connection
//! replaced. On SQLite the store also refuses writes once its
//! file is deleted or replaced, and refuses to start on a folder that held
//! a database and lost it ([`marker_path`]). The outbox worker claims due rows
//! under a lease with a token (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and
//! only the token's holder changes them ([`Lease`]).

mod commit;
mod connect;
mod file;
mod held;
mod inbox;
mod outbox;
mod record;
mod sessions;
mod webhooks;
mod write;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor, Row};

pub use file::marker_path;
pub use inbox::{Entry, Label, Labelled, MailState, QueueCounts, QueueFilter, Stamp, Status};
pub use outbox::{DeadEmail, Delivery, DueEmail, Lease, LeaseToken, OutboxLag, Requeue};
pub use record::{IntakeId, IntakeRecord};
pub use sessions::{SessionClock, SessionLookup};
pub use webhooks::{
    AUTORESPONSE, DeliveryKind, DueWebhook, WebhookLease, WebhookState, WebhookToken,
};

use file::DatabaseFile;
use write::{Durability, Health};

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
    /// The database server could not be reached or refused the login.
    #[error("cannot open the store at {url}: {why}")]
    Unreachable {
        /// The configured URL (password masked).
        url: String,
        /// What went wrong and what to check.
        why: String,
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
    /// The SQLite file was deleted or replaced while the store had it open.
    #[error(
        "the database file {path} was deleted or replaced while the gateway ran; writes are refused until it is restored and the gateway restarted"
    )]
    Lost {
        /// The database file.
        path: String,
    },
    /// At start: the folder held a database, which is gone.
    #[error(
        "{path} is missing, but {marker} says this folder held a database: restore it from a backup (docs/operations.md), or start once with `handoff-gate serve --init` to begin with an empty store"
    )]
    Missing {
        /// The database file.
        path: String,
        /// The marker file.
        marker: String,
    },
    /// A group commit failed: each intake in it gets the batch's error.
    #[error("{0}")]
    Batch(Arc<StoreError>),
    /// The store was closed while an intake waited for its commit.
    #[error("the store is closed")]
    Closed,
    /// The database's folder (or a file in it) cannot be written.
    #[error("cannot write in {folder}: {source}")]
    Folder {
        /// The folder or file.
        folder: String,
        /// What the OS said.
        source: std::io::Error,
    },
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

/// How to open a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// SQLite: the most bytes the database may take (`PRAGMA
    /// max_page_count`); writes that need more fail until space is freed.
    pub max_bytes: Option<u64>,
}

/// Who opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    /// The gateway: creates the database on a fresh folder; on SQLite it is
    /// the only process, so it takes back leases a dead process held.
    Gateway,
    /// A command-line tool beside a running gateway: the database must exist.
    Tool,
}

/// The SQLite file a `sqlite://` URL names, if it is one.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

/// `serve --init`: on SQLite, forget that the folder held a database that is
/// now missing, so the gateway starts with an empty one. Returns whether
/// there was one to forget; on PostgreSQL there never is.
pub fn forget_lost_database(url: &str) -> Result<bool, StoreError> {
    match sqlite_path(url) {
        Some(path) => file::forget_lost(&path),
        None => Ok(false),
    }
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
    /// SQLite: the file opened, checked before and after every write.
    file: Option<Arc<DatabaseFile>>,
    health: Arc<Health>,
    /// PostgreSQL: how to learn why the pool cannot connect.
    reconnect: Option<Arc<connect::Reconnect>>,
    /// Intakes queue here for a group commit ([`commit`]).
    committer: Option<commit::Committer>,
}

impl Store {
    /// Open for the gateway and migrate. On SQLite: create the file and its
    /// folder on a first start, refuse a folder whose marker says it held a
    /// database that is now missing, and make rows leased by a process that
    /// died due again.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// [`Store::open`] with options.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        Store::open_as(url, options, Opener::Gateway).await
    }

    /// Open an existing store for a command-line tool, beside a running
    /// gateway if there is one.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        Store::open_as(url, StoreOptions::default(), Opener::Tool).await
    }

    async fn open_as(
        url: &str,
        options: StoreOptions,
        opener: Opener,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        match sqlite_path(url) {
            Some(path) => Store::open_sqlite(url, &path, options, opener).await,
            None => Store::open_postgres(url).await,
        }
    }

    async fn open_sqlite(
        url: &str,
        path: &Path,
        settings: StoreOptions,
        opener: Opener,
    ) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: crate::config::redact_url(url),
            source,
        };
        let base = url.split('?').next().unwrap_or(url);
        let options = |mode: &str| {
            AnyConnectOptions::from_str(&format!("{base}?mode={mode}")).map_err(open_error)
        };
        match opener {
            Opener::Gateway => {
                file::refuse_lost(path)?;
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    crate::private_files::create_dir_all(parent).map_err(|source| {
                        StoreError::Folder {
                            folder: parent.display().to_string(),
                            source,
                        }
                    })?;
                }
                // Mode 0600 before SQLite sees it: its -wal and -shm files
                // take the database's mode.
                crate::private_files::create_file(path).map_err(|source| StoreError::Folder {
                    folder: path.display().to_string(),
                    source,
                })?;
                // Created here once; the pools open it read-write only, so a
                // replaced writer connection never makes a new, empty file.
                sqlx::AnyConnection::connect_with(&options("rwc")?)
                    .await
                    .map_err(open_error)?
                    .close()
                    .await
                    .map_err(open_error)?;
            }
            Opener::Tool if !path.exists() => {
                return Err(open_error(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no database there (check store.url and the working directory)",
                ))));
            }
            Opener::Tool => {}
        }
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    sqlite_pragmas(conn).await?;
                    cap_size(conn, settings.max_bytes).await
                })
            })
            .connect_with(options("rw")?)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("src/store/migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| open_error(e.into()))?;
        let database = DatabaseFile::opened(path)?;
        file::check_writable(database.folder())?;
        let reader = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
            .connect_with(options("ro")?)
            .await
            .map_err(open_error)?;
        let mut store = Store {
            backend: Backend::Sqlite,
            writer,
            reader,
            file: Some(Arc::new(database)),
            health: Arc::default(),
            reconnect: None,
            committer: None,
        };
        if opener == Opener::Gateway {
            let reclaimed = store.reclaim_own_leases().await?;
            if reclaimed > 0 {
                tracing::info!(
                    emails = reclaimed,
                    "emails claimed before a restart are due again"
                );
            }
        }
        // One committer: SQLite has one writer connection.
        store.committer = Some(commit::Committer::start(store.clone(), 1));
        Ok(store)
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: crate::config::redact_url(url),
            source,
        };
        let options = AnyConnectOptions::from_str(&plain_on_loopback(url)).map_err(open_error)?;
        connect::check_postgres(url, &options).await?;
        let reconnect = connect::Reconnect::new(url, options.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        // Replicas starting together: PostgreSQL's advisory lock inside sqlx's
        // migrator lets one apply the migrations while the others wait.
        sqlx::migrate!("src/store/migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| open_error(e.into()))?;
        let mut store = Store {
            backend: Backend::Postgres,
            writer: pool.clone(),
            reader: pool,
            file: None,
            health: Arc::default(),
            reconnect: Some(Arc::new(reconnect)),
            committer: None,
        };
        store.committer = Some(commit::Committer::start(store.clone(), POSTGRES_COMMITTERS));
        Ok(store)
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the store can take an intake now: on SQLite the file is
    /// still the one opened and its folder takes writes; a commit went
    /// through lately (else one is tried: a one-row update); reads answer.
    /// On PostgreSQL, a pool that timed out is followed by one direct
    /// connection, whose failure (refused, login, database gone) is the error.
    pub async fn readiness(&self) -> Result<(), StoreError> {
        let checked = self.check_ready().await;
        self.explained(checked).await
    }

    /// On PostgreSQL, a pool timeout replaced by its cause (one direct
    /// connection tells whether the server is down, the login refused or
    /// the database gone); anything else as it is.
    async fn explained<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match (result, &self.reconnect) {
            (Err(error), Some(reconnect)) => Err(reconnect.explain(error).await),
            (result, _) => result,
        }
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        if let Some(file) = &self.file {
            file.check()?;
            file::check_writable(file.folder())?;
        }
        if self.health.needs_probe() {
            self.health.note(self.probe().await)?;
        }
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(query("checking the store"))?;
        Ok(())
    }

    /// Write and delete a row as large as a big intake, in one transaction.
    async fn probe(&self) -> Result<(), StoreError> {
        let mut write = self
            .write("checking that a commit goes through", Durability::Full)
            .await?;
        let conn = write.conn();
        let inserted =
            sqlx::query("INSERT INTO store_probe (id, written_at_ms, padding) VALUES (1, $1, $2)")
                .bind(now_ms())
                .bind(" ".repeat(PROBE_BYTES))
                .execute(&mut *conn)
                .await;
        let done = match inserted {
            Ok(_) => sqlx::query("DELETE FROM store_probe")
                .execute(conn)
                .await
                .map(drop),
            Err(e) => Err(e),
        };
        write.commit(done).await
    }

    /// Write an intake and its outbox row: queued for the next group
    /// commit, answered once that transaction is on disk.
    pub async fn insert(
        &self,
        intake: &ScrubbedIntake,
        triage: &Triage,
        idempotency: Option<&Idempotency>,
    ) -> Result<Inserted, StoreError> {
        self.insert_as(intake, triage, idempotency, OutboxStart::Pending)
            .await
    }

    async fn insert_as(
        &self,
        intake: &ScrubbedIntake,
        triage: &Triage,
        idempotency: Option<&Idempotency>,
        start: OutboxStart,
    ) -> Result<Inserted, StoreError> {
        let record = IntakeRecord::new(intake, triage, now_ms());
        match self
            .committer()
            .insert(record, idempotency.cloned(), start)
            .await?
        {
            (record, true) => Ok(Inserted::Created(record)),
            (_, false) => {
                let key = idempotency.expect("only the idempotency key can conflict");
                self.replay(key).await
            }
        }
    }

    /// The queue to the writer: every opened store has one.
    fn committer(&self) -> &commit::Committer {
        self.committer
            .as_ref()
            .expect("an opened store has a committer")
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
        let mut write = self.write("erasing an intake", Durability::Full).await?;
        let done = sqlx::query("DELETE FROM intakes WHERE id = $1")
            .bind(id.as_str())
            .execute(write.conn())
            .await;
        Ok(write.commit(done).await?.rows_affected() > 0)
    }

    /// Delete intakes created before `cutoff_ms`, with their outbox rows.
    /// Returns how many.
    pub async fn purge_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut write = self.write("applying retention", Durability::Full).await?;
        let done = sqlx::query("DELETE FROM intakes WHERE created_at_ms < $1")
            .bind(cutoff_ms)
            .execute(write.conn())
            .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Close the pool, flushing the WAL into the main file.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Committer tasks on PostgreSQL: one batch is collected while others commit.
const POSTGRES_COMMITTERS: usize = 4;

/// The readiness probe's row is about as large as a big intake, so its
/// commit needs new pages where a full database or disk has none.
const PROBE_BYTES: usize = 8 * 1024;

/// PostgreSQL on this machine (`localhost`, `127.0.0.1`, `::1`): without TLS
/// unless the URL asks for it (`sslmode=…`). sqlx would otherwise negotiate
/// TLS with a server that offers it, which protects nothing on loopback and
/// cost a tenth of the database's CPU under load.
fn plain_on_loopback(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    // A `postgres:` URL's host is opaque to the url crate: an address comes
    // back as a name.
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    };
    let asked = parsed
        .query_pairs()
        .any(|(key, _)| key == "sslmode" || key == "ssl-mode");
    if !loopback || asked {
        return url.to_owned();
    }
    parsed.query_pairs_mut().append_pair("sslmode", "disable");
    parsed.into()
}

/// SQLite: limit the writer to `max_bytes` (in whole pages).
async fn cap_size(
    conn: &mut sqlx::AnyConnection,
    max_bytes: Option<u64>,
) -> Result<(), sqlx::Error> {
    let Some(max_bytes) = max_bytes else {
        return Ok(());
    };
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *conn)
        .await?;
    let pages = max_bytes / u64::try_from(page.max(512)).unwrap_or(4096);
    conn.execute(format!("PRAGMA max_page_count = {}", pages.max(1)).as_str())
        .await
        .map(drop)
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

/// The state a new intake's outbox row starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutboxStart {
    /// Due at once.
    Pending,
    /// Not mailed until the consultant releases it.
    Held,
}

impl OutboxStart {
    /// The outbox row's `state`.
    fn state(self) -> &'static str {
        match self {
            OutboxStart::Pending => "pending",
            OutboxStart::Held => "held",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain_on_loopback;

    #[test]
    fn postgres_on_loopback_goes_without_tls_unless_the_url_asks() {
        assert_eq!(
            plain_on_loopback("postgres://gate@127.0.0.1:5432/db"),
            "postgres://gate@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            plain_on_loopback("postgres://gate@localhost/db?application_name=g"),
            "postgres://gate@localhost/db?application_name=g&sslmode=disable"
        );
        assert_eq!(
            plain_on_loopback("postgres://gate@[::1]:5432/db"),
            "postgres://gate@[::1]:5432/db?sslmode=disable"
        );
        for kept in [
            "postgres://gate@localhost/db?sslmode=require",
            "postgres://gate@db.internal:5432/db",
            "postgres://gate@10.0.0.5/db",
        ] {
            assert_eq!(plain_on_loopback(kept), kept);
        }
    }
}
