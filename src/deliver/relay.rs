//! SMTP to the relay. lettre speaks the protocol; this module opens the
//! connections, keeps one open between messages, and bounds every exchange
//! by `smtp.timeout_seconds`.
//!
//! Why not lettre's own transport: lettre 0.11 leaves Nagle's algorithm on
//! and writes a message's closing `.` as a separate small packet, which
//! then waits for the relay's delayed ACK, about 40 ms per message (about
//! 20 mails/s on loopback). Here the socket has `TCP_NODELAY`, except with
//! `smtp.tls = "tls"` (port 465), where lettre opens the socket itself.
//! lettre's transport also bounds only the connect by its timeout, so a
//! relay that stops answering mid-message would hold a send for ever.

use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::config::{Smtp, SmtpTls};

/// A connection idle longer than this is checked (`NOOP`) before reuse.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(2);

/// The SMTP relay and the connection kept open to it.
pub struct Relay {
    host: String,
    port: u16,
    tls: Option<(SmtpTls, TlsParameters)>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    idle: Mutex<Option<(AsyncSmtpConnection, Instant)>>,
}

impl Relay {
    /// The relay the `[smtp]` settings name.
    pub fn new(smtp: &Smtp, host: &str) -> Result<Relay, lettre::transport::smtp::Error> {
        let tls = match smtp.tls {
            SmtpTls::None => None,
            mode => Some((mode, TlsParameters::new(host.to_owned())?)),
        };
        Ok(Relay {
            host: host.to_owned(),
            port: smtp.effective_port(),
            tls,
            credentials: smtp.username.as_ref().zip(smtp.password.as_ref()).map(
                |(user, password)| Credentials::new(user.clone(), password.expose().to_owned()),
            ),
            timeout: Duration::from_secs(smtp.timeout_seconds),
            hello: ClientId::default(),
            idle: Mutex::new(None),
        })
    }

    /// Send one message. The error text says which step failed (connect,
    /// TLS, login, the message) with lettre's words, never the message.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        self.send_answered(envelope, message).await.map(drop)
    }

    /// [`Relay::send`], returning the relay's answer to the message, e.g.
    /// `250 2.0.0 Ok: queued as 4XyZ`.
    pub async fn send_answered(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<String, String> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, conn.send(envelope, message)).await {
            Ok(Ok(response)) => {
                *self.idle.lock().await = Some((conn, Instant::now()));
                let lines: Vec<&str> = response.message().collect();
                Ok(format!("{} {}", response.code(), lines.join(" ")))
            }
            // After any failure the connection is dropped: its state is unknown.
            Ok(Err(error)) if error.status().is_some_and(|c| c.to_string() == "530") => {
                Err(format!(
                    "{error} (the relay takes mail only after a login: set smtp.username and smtp.password)"
                ))
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "the relay did not finish the message within {} s (smtp.timeout_seconds)",
                self.timeout.as_secs()
            )),
        }
    }

    /// The open connection, if it still answers, else a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, String> {
        let idle = self.idle.lock().await.take();
        if let Some((mut conn, since)) = idle {
            let fresh = since.elapsed() < CHECK_AFTER_IDLE
                || tokio::time::timeout(self.timeout, conn.test_connected())
                    .await
                    .unwrap_or(false);
            if fresh {
                return Ok(conn);
            }
        }
        tokio::time::timeout(self.timeout, self.connect())
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "connecting to {}:{} timed out after {} s (smtp.timeout_seconds)",
                    self.host,
                    self.port,
                    self.timeout.as_secs()
                ))
            })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let (host, port) = (&self.host, self.port);
        let mut conn = match &self.tls {
            Some((SmtpTls::Tls, parameters)) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                Some(parameters.clone()),
                None,
            )
            .await
            .map_err(|e| {
                format!("the TLS connection to {host}:{port} failed (smtp.tls = \"tls\", port 465 style): {e}{}", certificate_hint(&e))
            })?,
            _ => {
                let stream = TcpStream::connect((host.as_str(), port))
                    .await
                    .map_err(|e| {
                        format!("cannot connect to {host}:{port}: {e} (is the relay running, and are smtp.host and smtp.port right?)")
                    })?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(|e| format!("{host}:{port} did not greet as an SMTP relay: {e}"))?
            }
        };
        if let Some((SmtpTls::Starttls, parameters)) = &self.tls {
            if !conn.can_starttls() {
                return Err(format!(
                    "{host}:{port} does not offer STARTTLS, which smtp.tls = \"starttls\" needs: use the relay's submission port (587) or smtp.tls = \"tls\" (465); \"none\" only for a relay on this machine"
                ));
            }
            conn.starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| {
                    format!(
                        "STARTTLS with {host}:{port} failed: {e}{}",
                        certificate_hint(&e)
                    )
                })?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| {
                    format!("{host}:{port} refused the login (check smtp.username and smtp.password): {e}")
                })?;
        }
        Ok(conn)
    }
}

/// What to check when a TLS handshake failed over the relay's certificate:
/// the usual causes are a self-signed or private-CA certificate, or one
/// issued for another name than `smtp.host`.
fn certificate_hint(error: &lettre::transport::smtp::Error) -> &'static str {
    let text = format!("{error:?} {error}").to_lowercase();
    if text.contains("certificate") || text.contains("unknownissuer") {
        " (the relay's certificate is not trusted here: it must be issued by a public certificate authority for the name in smtp.host; a self-signed certificate is refused)"
    } else {
        ""
    }
}
