//! The delivery loop the email, webhook and autoresponse workers share; a
//! [`Sender`] is what differs per kind.
//!
//! A pass claims due rows under a lease with a token, renews the lease
//! every third of its length while it sends, starts a send only while the
//! lease outlasts the longest a send may take, and then releases what is
//! left. A sender that allows a crash to repeat only the send in flight
//! (the mail) records each outcome before its next send. For the others,
//! outcomes are written beside the sending, not between sends: each
//! one is queued as its send ends, and a recorder writes everything queued
//! in one transaction, on rows the token still holds, while the next sends
//! go on. When the store is quick every outcome has its own short write;
//! when it is busy (intakes committing) outcomes wait together for one. A
//! crash can repeat only the sends whose outcome was not yet written: the
//! one in flight and those that ended while the last outcomes were being
//! written (each with the same `Message-ID` or `webhook-id`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;

use crate::config;
use crate::store::{Delivery, StoreError, now_ms};

/// What became of one send, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Delivered (or already delivered, its record lost: recorded now).
    Sent,
    /// Failed: retried with backoff until `delivery.max_attempts`, then dead.
    Failed(String),
    /// Given up on without a send (the autoresponse's daily limit).
    Skipped(&'static str),
    /// Nothing to send and nothing to record: the intake was erased, or
    /// the endpoint is configured no more.
    Gone,
}

/// Rows a claim took, under one token, until `until_ms`.
pub(super) struct Claim<T, D> {
    pub token: T,
    pub until_ms: i64,
    pub due: Vec<D>,
}

/// One kind of delivery: its rows in the store and how to send one.
pub(super) trait Sender: Send + Sync + 'static {
    /// What a claim writes into its rows.
    type Token: Send + Sync;
    /// One claimed row.
    type Due: Send + Sync;
    /// Held from the first send of a batch until its outcomes are recorded.
    type Guard: Send;

    /// `email`, `webhook` or `autoresponse`, for logs.
    const WHAT: &'static str;
    /// Rows claimed at a time.
    const BATCH: u32;
    /// Whether each outcome must be recorded before the next send starts
    /// (a send that depends on the ones before, like a per-address limit).
    const ONE_BY_ONE: bool = false;

    /// How long the lease must still run for a send to start, in
    /// milliseconds (the longest a send may take, with a margin); the lease
    /// is at least twice that. 0 when a send has no time limit of its own
    /// (the lease renewed while it runs is what protects it).
    fn send_ms(&self) -> i64;
    /// Attempts made on a row before this one.
    fn attempts(due: &Self::Due) -> u32;
    /// Claim up to `limit` due rows until `now_ms + lease_ms`.
    fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Claim<Self::Token, Self::Due>, StoreError>> + Send;
    /// Extend the lease on the rows `token` still holds.
    fn renew(
        &self,
        token: &Self::Token,
        until_ms: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Make the rows `token` still holds due again at once.
    fn release(&self, token: &Self::Token) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Taken before a batch's first send, dropped once its outcomes are recorded.
    fn guard(&self) -> impl Future<Output = Self::Guard> + Send;
    /// Send one row.
    fn send(&self, due: &Self::Due) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
    /// Record outcomes in one transaction, each only on a row `token`
    /// still holds; for each, whether it did.
    fn record(
        &self,
        token: &Self::Token,
        outcomes: &[(&Self::Due, Delivery<'_>)],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;
    /// After the record: logs, metrics and what the kind does then.
    /// `held` is `Ok(false)` when the row was no longer held (erased, or
    /// taken over after a lapsed lease), `Err` when the record failed.
    fn recorded(
        &self,
        due: &Self::Due,
        delivery: &Delivery<'_>,
        held: Result<bool, &StoreError>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What one pass over the due rows did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Sent.
    pub sent: u32,
    /// Attempts that failed and will be retried.
    pub retrying: u32,
    /// Given up on.
    pub dead: u32,
}

/// The loop around a [`Sender`].
pub(super) struct Worker<S> {
    pub sender: Arc<S>,
    delivery: config::Delivery,
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
    /// One pass at a time per process, so a row is never sent twice concurrently.
    pass: Arc<tokio::sync::Mutex<()>>,
}

impl<S> Clone for Worker<S> {
    fn clone(&self) -> Self {
        Worker {
            sender: Arc::clone(&self.sender),
            delivery: self.delivery.clone(),
            wake: Arc::clone(&self.wake),
            stopping: Arc::clone(&self.stopping),
            pass: Arc::clone(&self.pass),
        }
    }
}

/// An outcome waiting for the recorder: the row's index in its claim.
type Queued = (usize, Outcome);

impl<S: Sender> Worker<S> {
    /// A worker for `sender` with the delivery settings.
    pub fn new(sender: S, delivery: &config::Delivery) -> Self {
        Worker {
            sender: Arc::new(sender),
            delivery: delivery.clone(),
            wake: Arc::new(Notify::new()),
            stopping: Arc::default(),
            pass: Arc::default(),
        }
    }

    /// Wake the worker: a row may be due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stop after the sends in flight (their outcomes recorded, the rest of
    /// the lease released); [`Worker::run`] then returns.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Deliver what is due, then sleep until woken or the poll interval
    /// passes; between passes, `between` (the outbox's retention). Until
    /// [`Worker::stop`].
    pub async fn run<F: Future<Output = ()>>(&self, mut between: impl FnMut() -> F) {
        let poll = Duration::from_millis(self.delivery.poll_ms);
        while !self.stopping() {
            if let Err(error) = self.deliver_due().await {
                tracing::error!(%error, "{} pass failed", S::WHAT);
            }
            between().await;
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// The configured lease, and at least two of the longest sends.
    fn lease_ms(&self) -> i64 {
        let configured =
            i64::try_from(self.delivery.lease_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        configured.max(self.sender.send_ms().saturating_mul(2))
    }

    /// Send every row that is due now, in claimed batches, until none is left.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let _pass = self.pass.lock().await;
        let mut round = Round::default();
        while !self.stopping() {
            // Every claimed row moves into the future (sent, retry or lease),
            // so this ends when nothing is due.
            let claim = self
                .sender
                .claim(now_ms(), self.lease_ms(), S::BATCH)
                .await?;
            if claim.due.is_empty() {
                break;
            }
            self.work(&claim, &mut round).await?;
        }
        Ok(round)
    }

    /// Send a claim's rows one after the other while the lease is renewed
    /// and the outcomes recorded beside them; then release what is left.
    async fn work(
        &self,
        claim: &Claim<S::Token, S::Due>,
        round: &mut Round,
    ) -> Result<(), StoreError> {
        let tally = Mutex::new(Round::default());
        let lease_ms = self.lease_ms();
        let held_until = AtomicI64::new(claim.until_ms);
        // A send starts only while the lease outlasts it, with a margin.
        let needed = (lease_ms / 3).max(self.sender.send_ms());
        let queue: Mutex<Vec<Queued>> = Mutex::default();
        let queued = Notify::new();
        let sending_done = AtomicBool::new(false);
        let all_done = Notify::new();
        let guard = self.sender.guard().await;
        let sending = async {
            let mut result = Ok(());
            for (i, due) in claim.due.iter().enumerate() {
                if self.stopping() {
                    break;
                }
                if held_until.load(Ordering::Acquire) - now_ms() < needed {
                    tracing::warn!(
                        "the {} lease was not renewed in time; the rest of its batch is left for the next claim",
                        S::WHAT
                    );
                    break;
                }
                match self.sender.send(due).await {
                    Ok(outcome) if S::ONE_BY_ONE => {
                        if let Err(error) = self.record(claim, &[(i, outcome)], &tally).await {
                            result = Err(error);
                            break;
                        }
                    }
                    Ok(outcome) => {
                        self.queue(&queue).push((i, outcome));
                        queued.notify_one();
                    }
                    Err(error) => {
                        result = Err(error);
                        break;
                    }
                }
            }
            sending_done.store(true, Ordering::Release);
            queued.notify_one();
            result
        };
        let recording = async {
            let mut result = Ok(());
            loop {
                let finished = sending_done.load(Ordering::Acquire);
                let batch = std::mem::take(&mut *self.queue(&queue));
                if !batch.is_empty() {
                    let written = self.record(claim, &batch, &tally).await;
                    if result.is_ok() {
                        result = written;
                    }
                    continue;
                }
                if finished {
                    break;
                }
                queued.notified().await;
            }
            all_done.notify_one();
            result
        };
        let renewing = async {
            loop {
                tokio::select! {
                    () = all_done.notified() => return,
                    () = tokio::time::sleep(Duration::from_millis((lease_ms / 3).max(1) as u64)) => {}
                }
                let until = now_ms() + lease_ms;
                match self.sender.renew(&claim.token, until).await {
                    // Renewed before the lease ended, so no one can have taken a row.
                    Ok(_) if now_ms() < held_until.load(Ordering::Acquire) => {
                        held_until.store(until, Ordering::Release);
                    }
                    Ok(_) => {
                        tracing::warn!("a {} lease lapsed before it was renewed", S::WHAT);
                        // Start nothing more under this lease.
                        held_until.store(0, Ordering::Release);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a {} lease could not be renewed", S::WHAT);
                    }
                }
            }
        };
        let (sent, recorded, ()) = tokio::join!(sending, recording, renewing);
        drop(guard);
        let tally = tally.into_inner().expect("tally lock");
        round.sent += tally.sent;
        round.retrying += tally.retrying;
        round.dead += tally.dead;
        if let Err(error) = self.sender.release(&claim.token).await {
            tracing::warn!(%error, "a {} lease could not be released; its rows wait for it to end", S::WHAT);
        }
        sent.and(recorded)
    }

    fn queue<'q>(&self, queue: &'q Mutex<Vec<Queued>>) -> std::sync::MutexGuard<'q, Vec<Queued>> {
        queue.lock().expect("outcome queue lock")
    }

    /// Write queued outcomes in one transaction and let the sender follow up.
    async fn record(
        &self,
        claim: &Claim<S::Token, S::Due>,
        batch: &[Queued],
        tally: &Mutex<Round>,
    ) -> Result<(), StoreError> {
        let deliveries: Vec<(&S::Due, Delivery<'_>)> = batch
            .iter()
            .filter_map(|(i, outcome)| {
                let due = &claim.due[*i];
                let attempts = S::attempts(due) + 1;
                let delivery = match outcome {
                    Outcome::Sent => Delivery::Sent,
                    Outcome::Skipped(why) => Delivery::Skipped { why },
                    Outcome::Failed(error) if attempts >= self.delivery.max_attempts => {
                        Delivery::Dead { error }
                    }
                    Outcome::Failed(error) => Delivery::Retry {
                        at_ms: now_ms() + backoff(&self.delivery, attempts),
                        error,
                    },
                    Outcome::Gone => return None,
                };
                Some((due, delivery))
            })
            .collect();
        let written = self.sender.record(&claim.token, &deliveries).await;
        let mut result = Ok(());
        for (n, (due, delivery)) in deliveries.iter().enumerate() {
            let held = match &written {
                Ok(held) => Ok(held.get(n).copied().unwrap_or(false)),
                Err(error) => Err(error),
            };
            {
                let mut round = tally.lock().expect("tally lock");
                match delivery {
                    Delivery::Sent => round.sent += 1,
                    Delivery::Retry { .. } => round.retrying += 1,
                    Delivery::Dead { .. } => round.dead += 1,
                    Delivery::Skipped { .. } => {}
                }
            }
            if let Err(error) = self.sender.recorded(due, delivery, held).await {
                result = result.and(Err(error));
            }
        }
        written.map(drop).and(result)
    }
}

/// Exponential backoff with jitter: half the doubled delay, plus a random
/// part of the other half, capped at `retry_max_seconds`.
pub(super) fn backoff(delivery: &config::Delivery, attempts: u32) -> i64 {
    let cap = delivery.retry_max_seconds.saturating_mul(1000);
    let full = delivery
        .retry_base_ms
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(30))
        .min(cap)
        .max(1);
    let jittered = full / 2 + rand::rng().random_range(0..=full / 2);
    i64::try_from(jittered).unwrap_or(i64::MAX)
}
