//! PostgreSQL's first connection, made alone so its failure can be told
//! as it is: a pool that cannot connect only says "pool timed out", which
//! hides whether the server is down, the login was refused or the database
//! is missing.

use std::time::Duration;

use sqlx::Connection;
use sqlx::any::AnyConnectOptions;

use super::StoreError;

/// What it takes to connect to PostgreSQL again, to learn why the pool
/// cannot: the URL (for messages) and the options.
#[derive(Debug)]
pub(super) struct Reconnect {
    url: String,
    options: AnyConnectOptions,
}

impl Reconnect {
    pub(super) fn new(url: &str, options: AnyConnectOptions) -> Reconnect {
        Reconnect {
            url: url.to_owned(),
            options,
        }
    }

    /// A pool that timed out hides why it could not connect: connect once
    /// directly, and if that fails, its cause replaces the timeout.
    pub(super) async fn explain(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::Query {
                source: sqlx::Error::PoolTimedOut,
                ..
            } => match check_postgres(&self.url, &self.options).await {
                Err(cause) => cause,
                Ok(()) => error,
            },
            other => other,
        }
    }
}

/// How long the first connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What `store.url` names, for messages (never the password).
struct Target {
    host: String,
    port: u16,
    user: String,
    database: String,
}

impl Target {
    fn of(url: &str) -> Target {
        let parsed = url::Url::parse(url).ok();
        let parsed = parsed.as_ref();
        let decoded = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        Target {
            host: parsed
                .and_then(|u| u.host_str())
                .unwrap_or("localhost")
                .to_owned(),
            port: parsed.and_then(url::Url::port).unwrap_or(5432),
            user: parsed
                .map(url::Url::username)
                .filter(|u| !u.is_empty())
                .map_or_else(|| "(the default user)".to_owned(), decoded),
            database: parsed
                .map(|u| u.path().trim_start_matches('/'))
                .filter(|d| !d.is_empty())
                .map_or_else(|| "(the user's name)".to_owned(), decoded),
        }
    }
}

/// Connect once to the PostgreSQL server `url` names and close again;
/// a failure says what went wrong and what to check.
pub(super) async fn check_postgres(
    url: &str,
    options: &AnyConnectOptions,
) -> Result<(), StoreError> {
    let target = Target::of(url);
    let unreachable = |why: String| StoreError::Unreachable {
        url: crate::config::redact_url(url),
        why,
    };
    let connected =
        tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect_with(options)).await;
    match connected {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(unreachable(explain(&target, &error))),
        Err(_) => Err(unreachable(format!(
            "PostgreSQL at {}:{} did not answer within {} s: check the host and port in store.url, and that a firewall lets this machine through",
            target.host,
            target.port,
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// What a failed first connection means, in words.
fn explain(target: &Target, error: &sqlx::Error) -> String {
    let Target {
        host,
        port,
        user,
        database,
    } = target;
    match error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "PostgreSQL is unreachable at {host}:{port}: the connection was refused ({io}); is the server running, and are the host and port in store.url right?"
        ),
        sqlx::Error::Io(io) => format!(
            "PostgreSQL is unreachable at {host}:{port}: {io}; check the host and port in store.url"
        ),
        sqlx::Error::Tls(tls) => format!(
            "the TLS connection to PostgreSQL at {host}:{port} failed: {tls}; check sslmode in store.url"
        ),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!(
                "PostgreSQL at {host}:{port} refused the password of user {user}: check the user and password in store.url (or its password parameter)"
            ),
            Some("28000") => format!(
                "PostgreSQL at {host}:{port} refused user {user}: {} (check the user in store.url and the server's pg_hba.conf)",
                db.message()
            ),
            Some("3D000") => format!(
                "the database {database} does not exist on PostgreSQL at {host}:{port}: create it (createdb -h {host} -p {port} -U {user} {database}) or fix the name in store.url"
            ),
            Some("53300") => format!(
                "PostgreSQL at {host}:{port} has no connection slot free: {}",
                db.message()
            ),
            code => format!(
                "PostgreSQL at {host}:{port} refused the connection: {} (SQLSTATE {})",
                db.message(),
                code.unwrap_or("unknown")
            ),
        },
        other => format!("cannot connect to PostgreSQL at {host}:{port}: {other}"),
    }
}
