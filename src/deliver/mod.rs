//! Delivery: the mailer (SMTP through a [`Relay`], or `.eml` files named by
//! intake id until SMTP is configured) and the outbox worker that sends
//! each stored intake once, retrying with exponential backoff and jitter,
//! and applies retention to the store and the mail folder.
//!
//! Exactly once across replicas: a worker claims due rows under a lease
//! with a token, renews the lease while it sends (a relay may take longer
//! than the lease), starts a send only while its lease has a third of its
//! length left, and records each outcome only on a row its token still
//! holds. Each send is recorded before the next starts, so a crash can
//! repeat only the one message in flight (with the same `Message-ID`).

pub mod autoresponse;
pub mod email;
mod mail_folder;
mod relay;
pub mod webhook;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::Message;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::Notify;

use crate::config::{self, Config};
use crate::metrics::Metrics;
use crate::store::{Delivery, DueEmail, IntakeId, Lease, LeaseToken, Store, StoreError, now_ms};
use handoff_triage::Rules;

pub use mail_folder::MailFolder;
pub use relay::Relay;

/// Why the mailer could not be set up.
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

/// Why an erasure could not remove every copy.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The intake's mail file could not be removed.
    #[error("cannot remove the mail file {path}: {source}")]
    MailFile {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay.
    Smtp(Arc<Relay>),
    /// `.eml` files in a folder, one per intake.
    Files(MailFolder),
}

impl Mailer {
    /// The transport the configuration asks for.
    pub fn from_config(config: &Config) -> Result<Mailer, DeliverError> {
        match &config.smtp.host {
            Some(host) => Relay::new(&config.smtp, host)
                .map(|relay| Mailer::Smtp(Arc::new(relay)))
                .map_err(|source| DeliverError::Setup {
                    host: host.clone(),
                    source,
                }),
            None => MailFolder::create(&config.mail.dir)
                .map(Mailer::Files)
                .map_err(|source| DeliverError::MailDir {
                    dir: config.mail.dir.display().to_string(),
                    source,
                }),
        }
    }

    /// Send one intake's message. The error text never holds the body.
    async fn send(&self, id: &IntakeId, message: &Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(relay) => relay.send(message.envelope(), &message.formatted()).await,
            Mailer::Files(folder) => folder
                .write(id, &message.formatted())
                .await
                .map_err(|e| format!("cannot write the mail file: {e}")),
        }
    }

    /// Send another message about an intake (the autoresponse); in the mail
    /// folder it is `{stem}.eml`.
    async fn send_as(&self, stem: &str, message: &Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(relay) => relay.send(message.envelope(), &message.formatted()).await,
            Mailer::Files(folder) => folder
                .write_named(stem, &message.formatted())
                .await
                .map(drop)
                .map_err(|e| format!("cannot write the mail file: {e}")),
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

/// Rows claimed at a time. The lease is renewed while they are sent, so
/// the batch size only decides how work is shared between replicas.
const CLAIM_BATCH: u32 = 16;

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
    letterhead: email::Letterhead,
    delivery: config::Delivery,
    retention_days: u32,
    held_days: u32,
    wake: Arc<Notify>,
    metrics: Metrics,
    /// One pass at a time per process, so a row is never sent twice concurrently.
    pass: Arc<tokio::sync::Mutex<()>>,
    /// Emails the relay took whose `sent` could not be recorded (the store
    /// failed): when their rows come round again they are recorded, not
    /// sent again.
    sent_unrecorded: Arc<Mutex<HashSet<IntakeId>>>,
    /// Set by [`Outbox::stop`].
    stopping: Arc<AtomicBool>,
    /// Held shared from reading an intake to recording its mail file, and
    /// exclusively by [`Outbox::erase`]: an erasure never lands between a
    /// file being written and its row being marked, so one erasure leaves
    /// nothing behind and a second one finds nothing.
    erasing: Arc<tokio::sync::RwLock<()>>,
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
            letterhead: email::Letterhead::from_config(config),
            delivery: config.delivery.clone(),
            retention_days: config.retention_days,
            held_days: config.limits.held_days,
            wake: Arc::new(Notify::new()),
            metrics,
            pass: Arc::new(tokio::sync::Mutex::new(())),
            sent_unrecorded: Arc::default(),
            stopping: Arc::default(),
            erasing: Arc::default(),
        })
    }

    /// Wake the worker: an intake was just stored.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Run until [`Outbox::stop`]: deliver what is due, apply retention
    /// hourly, sleep until woken or the poll interval passes.
    pub async fn run(self) {
        let poll = Duration::from_millis(self.delivery.poll_ms);
        let mut next_retention = 0;
        while !self.stopping() {
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

    /// Stop after the email being sent now (its outcome recorded, the rest
    /// of its lease released); [`Outbox::run`] then returns.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Send every email that is due now, in batches, until none is left.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let _pass = self.pass.lock().await;
        let mut round = Round::default();
        while !self.stopping() {
            // Every claimed row moves into the future (sent, retry or lease),
            // so this ends when nothing is due.
            let lease = self
                .store
                .claim_due(now_ms(), self.lease_ms(), CLAIM_BATCH)
                .await?;
            if lease.emails.is_empty() {
                break;
            }
            self.work(&lease, &mut round).await?;
        }
        Ok(round)
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.delivery.lease_seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Send a lease's emails one after the other while renewing the lease
    /// every third of its length (the renewal stops between writes, never
    /// in the middle of one); then release what is left unsent, so another
    /// worker need not wait for the lease to end.
    async fn work(&self, lease: &Lease, round: &mut Round) -> Result<(), StoreError> {
        let held_until = AtomicI64::new(lease.until_ms);
        let margin = self.lease_ms() / 3;
        let done = Notify::new();
        let sending = async {
            let mut result = Ok(());
            for email in &lease.emails {
                if self.stopping() {
                    break;
                }
                if held_until.load(Ordering::Acquire) - now_ms() < margin {
                    tracing::warn!(
                        "the outbox lease was not renewed in time; the rest of its emails are left for the next claim"
                    );
                    break;
                }
                match self.deliver(&lease.token, email).await {
                    Ok(Attempt::Sent) => round.sent += 1,
                    Ok(Attempt::Retrying) => round.retrying += 1,
                    Ok(Attempt::Dead) => round.dead += 1,
                    Ok(Attempt::Erased) => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            done.notify_one();
            result
        };
        let renewing = async {
            loop {
                tokio::select! {
                    () = done.notified() => return,
                    () = tokio::time::sleep(Duration::from_millis(margin.max(1) as u64)) => {}
                }
                let until = now_ms() + self.lease_ms();
                match self.store.renew(&lease.token, until).await {
                    // Renewed before the lease ended, so no one can have taken a row.
                    Ok(_) if now_ms() < held_until.load(Ordering::Acquire) => {
                        held_until.store(until, Ordering::Release);
                    }
                    Ok(_) => {
                        tracing::warn!("an outbox lease lapsed before it was renewed");
                        // Finish nothing more under this lease.
                        held_until.store(0, Ordering::Release);
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "an outbox lease could not be renewed"),
                }
            }
        };
        let sent = tokio::join!(sending, renewing).0;
        if let Err(error) = self.store.release(&lease.token).await {
            tracing::warn!(%error, "an outbox lease could not be released; its emails wait for it to end");
        }
        sent
    }

    async fn deliver(&self, token: &LeaseToken, due: &DueEmail) -> Result<Attempt, StoreError> {
        let id = &due.intake_id;
        // Only a mail file can be taken back, so only the folder waits.
        let _not_erasing = match self.mailer {
            Mailer::Files(_) => Some(self.erasing.read().await),
            Mailer::Smtp(_) => None,
        };
        let Some(record) = self.store.intake(id).await? else {
            self.unrecorded().remove(id);
            return Ok(Attempt::Erased);
        };
        let outcome = if self.unrecorded().contains(id) {
            Ok(())
        } else {
            match email::compose(&record, &self.rules, &self.from, &self.to, &self.letterhead) {
                Ok(message) => self.mailer.send(id, &message).await,
                Err(e) => Err(e.to_string()),
            }
        };
        let error = match outcome {
            Ok(()) => {
                match self.store.record(token, id, Delivery::Sent).await {
                    Ok(true) => {
                        tracing::info!(intake = %id, attempts = due.attempts + 1, "email sent");
                    }
                    Ok(false) => self.sent_without_lease(id).await?,
                    Err(e) => {
                        self.unrecorded().insert(id.clone());
                        tracing::error!(intake = %id, "an email was sent but the store could not record it: it is recorded, not sent again, when its row comes round");
                        return Err(e);
                    }
                }
                self.unrecorded().remove(id);
                return Ok(Attempt::Sent);
            }
            Err(error) => error.chars().take(300).collect::<String>(),
        };
        self.metrics.send_failures.inc();
        let attempts = due.attempts + 1;
        if attempts >= self.delivery.max_attempts {
            self.store
                .record(token, id, Delivery::Dead { error: &error })
                .await?;
            tracing::error!(intake = %id, attempts, %error, "email dead after max attempts");
            return Ok(Attempt::Dead);
        }
        let delay = self.backoff(attempts);
        self.store
            .record(
                token,
                id,
                Delivery::Retry {
                    at_ms: now_ms() + delay,
                    error: &error,
                },
            )
            .await?;
        tracing::warn!(intake = %id, attempts, retry_in_ms = delay, %error, "email send failed");
        Ok(Attempt::Retrying)
    }

    fn unrecorded(&self) -> std::sync::MutexGuard<'_, HashSet<IntakeId>> {
        self.sent_unrecorded.lock().expect("unrecorded lock")
    }

    /// A message went out but its row was no longer held: erased while it
    /// was being sent (a mail file is then removed again), or taken by
    /// another worker after a lapsed lease.
    async fn sent_without_lease(&self, id: &IntakeId) -> Result<(), StoreError> {
        if self.store.intake(id).await?.is_some() {
            tracing::error!(intake = %id, "an email was sent after its lease lapsed; another worker may send it too (same Message-ID)");
            return Ok(());
        }
        match &self.mailer {
            Mailer::Files(folder) => {
                if let Err(error) = folder.remove(id).await {
                    tracing::error!(intake = %id, %error, "an intake erased while its mail file was written: the file could not be removed");
                }
            }
            Mailer::Smtp(_) => {
                tracing::warn!(intake = %id, "an intake was erased while its email was being sent: the email went out; delete it from the mailbox")
            }
        }
        Ok(())
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

    /// Delete intakes older than `retention_days`, with their outbox rows
    /// and mail files, and held intakes older than `limits.held_days`.
    /// Returns how many intakes.
    pub async fn apply_retention(&self) -> Result<u64, StoreError> {
        let held_cutoff = now_ms() - i64::from(self.held_days) * 86_400_000;
        let held = self.store.purge_held_before(held_cutoff).await?;
        if held > 0 {
            tracing::info!(
                deleted = held,
                "held intakes never released were deleted (limits.held_days)"
            );
        }
        let cutoff = now_ms() - i64::from(self.retention_days) * 86_400_000;
        let deleted = held + self.store.purge_before(cutoff).await?;
        if let Mailer::Files(folder) = &self.mailer {
            match folder.prune(cutoff).await {
                Ok(0) => {}
                Ok(files) => tracing::info!(files, "retention removed mail files"),
                Err(error) => tracing::error!(%error, "retention could not prune the mail folder"),
            }
        }
        Ok(deleted)
    }

    /// Erase an intake everywhere this process keeps it: the intake and its
    /// outbox row, and its mail file. Returns whether there was anything.
    pub async fn erase(&self, id: &IntakeId) -> Result<bool, EraseError> {
        let _no_file_in_flight = self.erasing.write().await;
        let stored = self.store.erase(id).await?;
        let filed = match &self.mailer {
            Mailer::Files(folder) => {
                folder
                    .remove(id)
                    .await
                    .map_err(|source| EraseError::MailFile {
                        path: folder.path_of(id).display().to_string(),
                        source,
                    })?
            }
            Mailer::Smtp(_) => false,
        };
        Ok(stored || filed)
    }
}

enum Attempt {
    Sent,
    Retrying,
    Dead,
    Erased,
}
