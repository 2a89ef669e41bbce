//! Inbox sessions, kept server-side so that signing out, the idle and
//! absolute timeouts and a password change end a session for good, whoever
//! holds a copy of its cookie, and so that PostgreSQL replicas share them.
//!
//! Rows are found by the SHA-256 of the cookie's random key (the key itself
//! is never stored) and carry a tag of the password hash they were signed
//! in under: a row with another tag is never loaded.

use super::write::Durability;
use super::{Store, StoreError, query};

/// A session row's key and the password it must have been signed in under.
#[derive(Debug, Clone, Copy)]
pub struct SessionLookup<'a> {
    /// SHA-256 (hex) of the cookie's session key.
    pub key_hash: &'a str,
    /// The tag of the current password hash.
    pub password_tag: &'a str,
}

/// When a session is still alive.
#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    /// Sessions created before this have reached their absolute lifetime.
    pub created_after_ms: i64,
}

impl Store {
    /// Store a new session's state, alive until `idle_until_ms` unless used.
    pub async fn session_create(
        &self,
        session: SessionLookup<'_>,
        state: &str,
        now_ms: i64,
        idle_until_ms: i64,
    ) -> Result<(), StoreError> {
        let mut write = self
            .write("starting an inbox session", Durability::Full)
            .await?;
        let done = sqlx::query(
            "INSERT INTO inbox_sessions (key_hash, password_tag, state, created_at_ms, idle_until_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.key_hash)
        .bind(session.password_tag)
        .bind(state)
        .bind(now_ms)
        .bind(idle_until_ms)
        .execute(write.conn())
        .await
        .map(drop);
        write.commit(done).await
    }

    /// A live session's state: signed in under the current password, used
    /// lately and not older than its absolute lifetime.
    pub async fn session_state(
        &self,
        session: SessionLookup<'_>,
        clock: SessionClock,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT state FROM inbox_sessions
             WHERE key_hash = $1 AND password_tag = $2 AND idle_until_ms > $3 AND created_at_ms > $4",
        )
        .bind(session.key_hash)
        .bind(session.password_tag)
        .bind(clock.now_ms)
        .bind(clock.created_after_ms)
        .fetch_optional(&self.reader)
        .await
        .map_err(query("reading an inbox session"))
    }

    /// Replace a session's state and extend it to `idle_until_ms`. Returns
    /// whether the session still exists.
    pub async fn session_update(
        &self,
        key_hash: &str,
        state: &str,
        idle_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut write = self
            .write("updating an inbox session", Durability::Deferred)
            .await?;
        let done = sqlx::query(
            "UPDATE inbox_sessions SET state = $2, idle_until_ms = $3 WHERE key_hash = $1",
        )
        .bind(key_hash)
        .bind(state)
        .bind(idle_until_ms)
        .execute(write.conn())
        .await
        .map(|done| done.rows_affected() > 0);
        write.commit(done).await
    }

    /// Extend a session that was just used to `idle_until_ms`, unless it
    /// already reaches within `step_ms` of that (so a busy session is not
    /// written on every request).
    pub async fn session_extend(
        &self,
        key_hash: &str,
        idle_until_ms: i64,
        step_ms: i64,
    ) -> Result<(), StoreError> {
        let mut write = self
            .write("extending an inbox session", Durability::Deferred)
            .await?;
        let done = sqlx::query(
            "UPDATE inbox_sessions SET idle_until_ms = $2 WHERE key_hash = $1 AND idle_until_ms < $3",
        )
        .bind(key_hash)
        .bind(idle_until_ms)
        .bind(idle_until_ms - step_ms)
        .execute(write.conn())
        .await
        .map(drop);
        write.commit(done).await
    }

    /// End a session (signing out). Returns whether it existed.
    pub async fn session_delete(&self, key_hash: &str) -> Result<bool, StoreError> {
        let mut write = self
            .write("ending an inbox session", Durability::Full)
            .await?;
        let done = sqlx::query("DELETE FROM inbox_sessions WHERE key_hash = $1")
            .bind(key_hash)
            .execute(write.conn())
            .await
            .map(|done| done.rows_affected() > 0);
        write.commit(done).await
    }

    /// Delete every session that can no longer be used: idle too long, too
    /// old, or signed in under another password. Returns how many.
    pub async fn sessions_purge(
        &self,
        password_tag: &str,
        clock: SessionClock,
    ) -> Result<u64, StoreError> {
        let mut write = self
            .write("purging ended inbox sessions", Durability::Full)
            .await?;
        let done = sqlx::query(
            "DELETE FROM inbox_sessions
             WHERE password_tag <> $1 OR idle_until_ms <= $2 OR created_at_ms <= $3",
        )
        .bind(password_tag)
        .bind(clock.now_ms)
        .bind(clock.created_after_ms)
        .execute(write.conn())
        .await
        .map(|done| done.rows_affected());
        write.commit(done).await
    }
}
