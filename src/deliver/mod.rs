//! Delivery: the mailer (lettre: SMTP, or `.eml` files until SMTP is
//! configured) and the outbox worker that sends each stored intake once,
//! retrying with exponential backoff and jitter, and applies retention.

pub mod email;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use tokio::sync::Notify;

use crate::config::{self, Config, SmtpTls};
use crate::metrics::Metrics;
use crate::store::{DueEmail, Store, StoreError, now_ms};
use handoff_triage::Rules;

/// Why the mailer could not be set up or a message not sent.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The SMTP settings are unusable.
    #[error("SMTP settings for {host} are unusable: {source}")]
    Setup {
        /// The configured host.
        host: String,
        /// What lettre said.
        source: lettre::transport::smtp::Error,
    },
    /// The mail folder cannot be created.
    #[error("cannot create the mail folder {dir}: {source}")]
    MailDir {
        /// The folder.
        dir: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// An address in the configuration does not parse.
    #[error("{0} is not a valid mailbox")]
    Address(&'static str),
}

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder.
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    /// The transport the configuration asks for.
    pub fn from_config(config: &Config) -> Result<Mailer, DeliverError> {
        let smtp = &config.smtp;
        let Some(host) = &smtp.host else {
            std::fs::create_dir_all(&config.mail.dir).map_err(|source| DeliverError::MailDir {
                dir: config.mail.dir.display().to_string(),
                source,
            })?;
            return Ok(Mailer::Files(AsyncFileTransport::new(&config.mail.dir)));
        };
        let setup = |source| DeliverError::Setup {
            host: host.clone(),
            source,
        };
        let mut builder = match smtp.tls {
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(setup)?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(setup)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        }
        .port(smtp.effective_port())
        .timeout(Some(Duration::from_secs(smtp.timeout_seconds)));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Mailer::Smtp(builder.build()))
    }

    /// Send one message. The error text is lettre's, which never holds the body.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
            Mailer::Files(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
        }
    }

    /// `smtp host:port` or `files in DIR`, for the start-up banner.
    pub fn describe(config: &Config) -> String {
        match &config.smtp.host {
            Some(host) => format!(
                "SMTP {host}:{} ({})",
                config.smtp.effective_port(),
                config.smtp.tls.describe()
            ),
            None => format!(".eml files in {}", config.mail.dir.display()),
        }
    }
}

/// Rows claimed at a time: a lease must outlast sending a whole batch.
const CLAIM_BATCH: u32 = 10;

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Emails sent.
    pub sent: u32,
    /// Attempts that failed and will be retried.
    pub retrying: u32,
    /// Emails given up on.
    pub dead: u32,
}

/// The outbox worker.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    mailer: Mailer,
    rules: Arc<Rules>,
    from: Mailbox,
    to: Mailbox,
    delivery: config::Delivery,
    retention_days: u32,
    wake: Arc<Notify>,
    metrics: Metrics,
    /// One pass at a time per process, so a row is never sent twice concurrently.
    pass: Arc<tokio::sync::Mutex<()>>,
}

impl Outbox {
    /// A worker for this store and mailer.
    pub fn new(
        config: &Config,
        store: Store,
        mailer: Mailer,
        rules: Arc<Rules>,
        metrics: Metrics,
    ) -> Result<Outbox, DeliverError> {
        Ok(Outbox {
            store,
            mailer,
            rules,
            from: config
                .mail
                .from
                .parse()
                .map_err(|_| DeliverError::Address("mail.from"))?,
            to: config
                .mail
                .to
                .parse()
                .map_err(|_| DeliverError::Address("mail.to"))?,
            delivery: config.delivery.clone(),
            retention_days: config.retention_days,
            wake: Arc::new(Notify::new()),
            metrics,
            pass: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Wake the worker: an intake was just stored.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Run until the task is dropped: deliver what is due, apply retention
    /// hourly, sleep until woken or the poll interval passes.
    pub async fn run(self) {
        let poll = Duration::from_millis(self.delivery.poll_ms);
        let mut next_retention = 0;
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = %e, "outbox pass failed");
            }
            if now_ms() >= next_retention {
                match self.apply_retention().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "retention applied"),
                    Err(e) => tracing::error!(error = %e, "retention failed"),
                }
                next_retention = now_ms() + 3_600_000;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Send every email that is due now, in batches, until none is left.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let _pass = self.pass.lock().await;
        let mut round = Round::default();
        let lease =
            i64::try_from(self.delivery.lease_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        loop {
            // Every claimed row moves into the future (sent, retry or lease),
            // so this ends when nothing is due.
            let due = self.store.claim_due(now_ms(), lease, CLAIM_BATCH).await?;
            if due.is_empty() {
                return Ok(round);
            }
            for email in &due {
                match self.deliver(email).await? {
                    Attempt::Sent => round.sent += 1,
                    Attempt::Retrying => round.retrying += 1,
                    Attempt::Dead => round.dead += 1,
                }
            }
        }
    }

    async fn deliver(&self, due: &DueEmail) -> Result<Attempt, StoreError> {
        let Some(record) = self.store.intake(&due.intake_id).await? else {
            return Ok(Attempt::Sent); // erased meanwhile: nothing left to send
        };
        let outcome = match email::compose(&record, &self.rules, &self.from, &self.to) {
            Ok(message) => self.mailer.send(message).await,
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => {
                self.store.mark_sent(&due.intake_id).await?;
                tracing::info!(intake = %due.intake_id, attempts = due.attempts + 1, "email sent");
                Ok(Attempt::Sent)
            }
            Err(error) => {
                self.metrics.send_failures.inc();
                let attempts = due.attempts + 1;
                let error: String = error.chars().take(300).collect();
                if attempts >= self.delivery.max_attempts {
                    self.store.mark_failed(&due.intake_id, None, &error).await?;
                    tracing::error!(intake = %due.intake_id, attempts, %error, "email dead after max attempts");
                    Ok(Attempt::Dead)
                } else {
                    let delay = self.backoff(attempts);
                    self.store
                        .mark_failed(&due.intake_id, Some(now_ms() + delay), &error)
                        .await?;
                    tracing::warn!(intake = %due.intake_id, attempts, retry_in_ms = delay, %error, "email send failed");
                    Ok(Attempt::Retrying)
                }
            }
        }
    }

    /// Exponential backoff with jitter: half the doubled delay, plus a random
    /// part of the other half, capped at `retry_max_seconds`.
    fn backoff(&self, attempts: u32) -> i64 {
        let cap = self.delivery.retry_max_seconds.saturating_mul(1000);
        let full = self
            .delivery
            .retry_base_ms
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(30))
            .min(cap)
            .max(1);
        let jittered = full / 2 + rand::rng().random_range(0..=full / 2);
        i64::try_from(jittered).unwrap_or(i64::MAX)
    }

    /// Delete intakes older than `retention_days`.
    pub async fn apply_retention(&self) -> Result<u64, StoreError> {
        let cutoff = now_ms() - i64::from(self.retention_days) * 86_400_000;
        self.store.purge_before(cutoff).await
    }
}

enum Attempt {
    Sent,
    Retrying,
    Dead,
}
