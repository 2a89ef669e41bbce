//! Delivery: the mailer (SMTP through a [`Relay`], or `.eml` files named by
//! intake id until SMTP is configured) and the outbox worker that sends
//! each stored intake once, retrying with exponential backoff and jitter,
//! and applies retention to the store and the mail folder.
//!
//! Exactly once across replicas: a worker claims due rows under a lease
//! with a token, renews the lease while it sends (a relay may take longer
//! than the lease), starts a send only while its lease has a third of its
//! length left, and records each outcome only on a row its token still
//! holds. Each send is recorded (through the store's group commit, beside
//! the intakes being stored) before the next starts, so a crash can
//! repeat only the one message in flight (with the same `Message-ID`). The
//! loop is the private `worker` module's, shared with the webhooks and the autoresponse.

pub mod autoresponse;
pub mod email;
mod mail_folder;
mod relay;
pub mod webhook;
mod worker;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use lettre::Message;
use lettre::message::Mailbox;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{Delivery, DueEmail, IntakeId, LeaseToken, Store, StoreError, now_ms};
use handoff_triage::Rules;
use worker::{Claim, Outcome, Sender, Worker};

pub use mail_folder::MailFolder;
pub use relay::Relay;
pub use worker::Round;

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

/// The outbox worker: the consultant's email for each stored intake.
#[derive(Clone)]
pub struct Outbox {
    worker: Worker<Mail>,
    retention_days: u32,
    held_days: u32,
}

/// Sends the consultant's emails: the outbox's [`Sender`].
struct Mail {
    store: Store,
    mailer: Mailer,
    rules: Arc<Rules>,
    from: Mailbox,
    to: Mailbox,
    letterhead: email::Letterhead,
    metrics: Metrics,
    /// Emails the relay took whose `sent` could not be recorded (the store
    /// failed): when their rows come round again they are recorded, not
    /// sent again.
    sent_unrecorded: Mutex<HashSet<IntakeId>>,
    /// Held shared from reading an intake to recording its mail file, and
    /// exclusively by [`Outbox::erase`]: an erasure never lands between a
    /// file being written and its row being marked, so one erasure leaves
    /// nothing behind and a second one finds nothing.
    erasing: Arc<RwLock<()>>,
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
        let mail = Mail {
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
            metrics,
            sent_unrecorded: Mutex::default(),
            erasing: Arc::default(),
        };
        Ok(Outbox {
            worker: Worker::new(mail, &config.delivery),
            retention_days: config.retention_days,
            held_days: config.limits.held_days,
        })
    }

    /// Wake the worker: an intake was just stored.
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// Run until [`Outbox::stop`]: deliver what is due, apply retention
    /// hourly, sleep until woken or the poll interval passes.
    pub async fn run(self) {
        let next_retention = AtomicI64::new(0);
        let (this, next) = (&self, &next_retention);
        self.worker
            .run(move || async move {
                if now_ms() < next.load(Ordering::Relaxed) {
                    return;
                }
                match this.apply_retention().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "retention applied"),
                    Err(e) => tracing::error!(error = %e, "retention failed"),
                }
                next.store(now_ms() + 3_600_000, Ordering::Relaxed);
            })
            .await;
    }

    /// Stop after the email being sent now (its outcome recorded, the rest
    /// of its lease released); [`Outbox::run`] then returns.
    pub fn stop(&self) {
        self.worker.stop();
    }

    /// Send every email that is due now, in batches, until none is left.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        self.worker.deliver_due().await
    }

    fn mail(&self) -> &Mail {
        &self.worker.sender
    }

    /// Delete intakes older than `retention_days`, with their outbox rows
    /// and mail files, and held intakes older than `limits.held_days`.
    /// Returns how many intakes.
    pub async fn apply_retention(&self) -> Result<u64, StoreError> {
        let held_cutoff = now_ms() - i64::from(self.held_days) * 86_400_000;
        let store = &self.mail().store;
        let held = store.purge_held_before(held_cutoff).await?;
        if held > 0 {
            tracing::info!(
                deleted = held,
                "held intakes never released were deleted (limits.held_days)"
            );
        }
        let cutoff = now_ms() - i64::from(self.retention_days) * 86_400_000;
        let deleted = held + store.purge_before(cutoff).await?;
        if let Mailer::Files(folder) = &self.mail().mailer {
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
        let mail = self.mail();
        let _no_file_in_flight = mail.erasing.write().await;
        let stored = mail.store.erase(id).await?;
        let filed = match &mail.mailer {
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

impl Sender for Mail {
    type Token = LeaseToken;
    type Due = DueEmail;
    type Guard = Option<OwnedRwLockReadGuard<()>>;

    const WHAT: &'static str = "email";
    /// The lease is renewed while they are sent, so the batch size only
    /// decides how work is shared between replicas.
    const BATCH: u32 = 16;
    /// A crash may repeat only the one message in flight.
    const ONE_BY_ONE: bool = true;

    fn send_ms(&self) -> i64 {
        0
    }

    fn attempts(due: &DueEmail) -> u32 {
        due.attempts
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Claim<LeaseToken, DueEmail>, StoreError> {
        let lease = self.store.claim_due(now_ms, lease_ms, limit).await?;
        Ok(Claim {
            token: lease.token,
            until_ms: lease.until_ms,
            due: lease.emails,
        })
    }

    async fn renew(&self, token: &LeaseToken, until_ms: i64) -> Result<u64, StoreError> {
        self.store.renew(token, until_ms).await
    }

    async fn release(&self, token: &LeaseToken) -> Result<u64, StoreError> {
        self.store.release(token).await
    }

    async fn guard(&self) -> Option<OwnedRwLockReadGuard<()>> {
        // Only a mail file can be taken back, so only the folder waits.
        match self.mailer {
            Mailer::Files(_) => Some(Arc::clone(&self.erasing).read_owned().await),
            Mailer::Smtp(_) => None,
        }
    }

    async fn send(&self, due: &DueEmail) -> Result<Outcome, StoreError> {
        let id = &due.intake_id;
        let Some(record) = self.store.intake(id).await? else {
            self.unrecorded().remove(id);
            return Ok(Outcome::Gone);
        };
        if self.unrecorded().contains(id) {
            return Ok(Outcome::Sent);
        }
        let sent =
            match email::compose(&record, &self.rules, &self.from, &self.to, &self.letterhead) {
                Ok(message) => self.mailer.send(id, &message).await,
                Err(e) => Err(e.to_string()),
            };
        Ok(match sent {
            Ok(()) => Outcome::Sent,
            Err(error) => {
                self.metrics.send_failures.inc();
                Outcome::Failed(error.chars().take(300).collect())
            }
        })
    }

    async fn record(
        &self,
        token: &LeaseToken,
        outcomes: &[(&DueEmail, Delivery<'_>)],
    ) -> Result<Vec<bool>, StoreError> {
        let attempts: Vec<(&IntakeId, Delivery<'_>)> = outcomes
            .iter()
            .map(|(due, delivery)| (&due.intake_id, *delivery))
            .collect();
        self.store.record_all(token, &attempts).await
    }

    async fn recorded(
        &self,
        due: &DueEmail,
        delivery: &Delivery<'_>,
        held: Result<bool, &StoreError>,
    ) -> Result<(), StoreError> {
        let id = &due.intake_id;
        let attempts = due.attempts + 1;
        match (delivery, held) {
            (Delivery::Sent, Ok(true)) => {
                self.unrecorded().remove(id);
                tracing::info!(intake = %id, attempts, "email sent");
            }
            (Delivery::Sent, Ok(false)) => {
                self.unrecorded().remove(id);
                self.sent_without_lease(id).await?;
            }
            (Delivery::Sent, Err(_)) => {
                self.unrecorded().insert(id.clone());
                tracing::error!(intake = %id, "an email was sent but the store could not record it: it is recorded, not sent again, when its row comes round");
            }
            (Delivery::Retry { at_ms, error }, _) => {
                tracing::warn!(intake = %id, attempts, retry_in_ms = at_ms - now_ms(), %error, "email send failed");
            }
            (Delivery::Dead { error } | Delivery::Skipped { why: error }, _) => {
                tracing::error!(intake = %id, attempts, %error, "email dead after max attempts");
            }
        }
        Ok(())
    }
}

impl Mail {
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
}
