//! The autoresponse (off by default, `autoresponse.enabled`): one email to a
//! person who agreed to be contacted and gave an address: thanks, the next
//! step in words, what was removed and why (kinds only), "rotate that key"
//! when a credential was pasted, and when to expect an answer. It never
//! holds their text. Its row is written with the intake (the reserved
//! delivery [`AUTORESPONSE`]), so there is at most one per intake; a person
//! who sends again within a day gets no second one
//! (`autoresponse.per_address_per_day`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use tokio::sync::Notify;

use super::{DeliverError, Mailer};
use crate::config::{self, Config};
use crate::metrics::Metrics;
use crate::store::{
    AUTORESPONSE, Delivery, DeliveryKind, DueWebhook, IntakeRecord, Store, StoreError,
    WebhookToken, now_ms,
};
use handoff_triage::Rules;

/// The words of the email, from the configuration and the rules.
#[derive(Clone)]
struct Words {
    /// `consultant.name`, else "the consultant".
    who: String,
    /// `consultant.reply_time`.
    reply_time: Option<String>,
}

/// The email for one intake, to its reply address. `None` when the
/// address does not parse (it is then never written to).
pub fn compose(
    record: &IntakeRecord,
    rules: &Rules,
    from: &Mailbox,
    reply_to: &Mailbox,
    config: &Config,
) -> Option<Message> {
    let to: Mailbox = record.contact_email.as_deref()?.parse().ok()?;
    let words = Words {
        who: config
            .consultant
            .name
            .clone()
            .unwrap_or_else(|| "the consultant".to_owned()),
        reply_time: config.consultant.reply_time.clone(),
    };
    let body = body(record, rules, &words);
    Message::builder()
        .from(from.clone())
        .to(to)
        .reply_to(reply_to.clone())
        .subject(format!("Your question reached {}", words.who))
        .message_id(Some(format!(
            "<autoresponse-{}@{}>",
            record.id,
            from.email.domain()
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .ok()
}

fn body(record: &IntakeRecord, rules: &Rules, words: &Words) -> String {
    let next = match rules.route_reply(record.route) {
        "" => crate::web::NEXT_STEP_FALLBACK,
        reply => reply,
    };
    let mut text = format!(
        "Hello,\n\nthank you for your question: it arrived safely, and {} reads every one.\n\nWhat happens next: {next}\n",
        words.who
    );
    if let Some(when) = &words.reply_time {
        text.push_str(&format!("\nYou can expect an answer {when}.\n"));
    }
    if !record.removed.is_empty() {
        text.push_str(
            "\nBefore your question was stored, we removed what looked private, so that it is \
             kept nowhere and passed on to no one (the values themselves are gone):\n",
        );
        for (kind, count) in &record.removed {
            text.push_str(&format!("- {count} × {}\n", kind.describe()));
        }
    }
    if record.exposed_credentials {
        text.push_str(&format!("\n{}\n", crate::web::ROTATE));
    }
    text.push_str(&format!(
        "\nThis is a one-time automatic reply; there is no need to answer it. Reference: {}\n",
        record.id
    ));
    text
}

/// The autoresponse worker: sends due rows through the same mailer as the
/// consultant's email, with the same retries.
#[derive(Clone)]
pub struct Autoresponder {
    store: Store,
    mailer: Mailer,
    rules: Arc<Rules>,
    from: Mailbox,
    reply_to: Mailbox,
    config: Arc<Config>,
    metrics: Metrics,
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
}

impl Autoresponder {
    /// The worker; the store learns whether intakes stored from now on get
    /// an autoresponse.
    pub async fn start(
        config: &Config,
        store: Store,
        mailer: Mailer,
        rules: Arc<Rules>,
        metrics: Metrics,
    ) -> Result<Autoresponder, AutoresponseError> {
        store
            .set_autoresponse(config.autoresponse.enabled, now_ms())
            .await?;
        Ok(Autoresponder {
            store,
            mailer,
            rules,
            from: config
                .mail
                .from
                .parse()
                .map_err(|_| DeliverError::Address("mail.from"))?,
            reply_to: config
                .mail
                .to
                .parse()
                .map_err(|_| DeliverError::Address("mail.to"))?,
            config: Arc::new(config.clone()),
            metrics,
            wake: Arc::new(Notify::new()),
            stopping: Arc::default(),
        })
    }

    /// Wake the worker: an intake was just stored or released.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stop after the email in flight.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Run until [`Autoresponder::stop`] (at once when it is off).
    pub async fn run(self) {
        if !self.config.autoresponse.enabled {
            return;
        }
        let poll = Duration::from_millis(self.config.delivery.poll_ms);
        while !self.stopping() {
            if let Err(error) = self.deliver_due().await {
                tracing::error!(%error, "autoresponse pass failed");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Send every autoresponse that is due now. Returns how many were sent.
    pub async fn deliver_due(&self) -> Result<u32, StoreError> {
        let delivery: &config::Delivery = &self.config.delivery;
        let lease_ms = i64::try_from(delivery.lease_seconds.saturating_mul(1000))
            .unwrap_or(i64::MAX)
            .max(2 * 1000 * i64::try_from(self.config.smtp.timeout_seconds).unwrap_or(60));
        let mut sent = 0;
        while !self.stopping() {
            let lease = self
                .store
                .claim_due_deliveries(DeliveryKind::Autoresponse, now_ms(), lease_ms, 8)
                .await?;
            if lease.due.is_empty() {
                break;
            }
            for due in &lease.due {
                if self.stopping() || lease.until_ms - now_ms() < lease_ms / 2 {
                    break;
                }
                if self.deliver(&lease.token, due).await? {
                    sent += 1;
                }
            }
            self.store.release_webhooks(&lease.token).await?;
        }
        Ok(sent)
    }

    async fn deliver(&self, token: &WebhookToken, due: &DueWebhook) -> Result<bool, StoreError> {
        let Some(record) = self.store.intake(&due.intake_id).await? else {
            return Ok(false);
        };
        let limit = u64::from(self.config.autoresponse.per_address_per_day);
        let recent = self
            .store
            .autoresponses_to_same_address(&record.id, now_ms() - 86_400_000)
            .await?;
        if recent >= limit {
            self.store
                .skip_delivery(token, due, "this address had its autoresponse today")
                .await?;
            self.count("skipped");
            tracing::info!(intake = %record.id, "autoresponse skipped: per-address limit");
            return Ok(false);
        }
        let Some(message) = compose(
            &record,
            &self.rules,
            &self.from,
            &self.reply_to,
            &self.config,
        ) else {
            self.store
                .skip_delivery(token, due, "the reply address does not parse")
                .await?;
            self.count("skipped");
            return Ok(false);
        };
        let stem = format!("{}-autoresponse", record.id);
        match self.mailer.send_as(&stem, &message).await {
            Ok(()) => {
                self.store
                    .record_webhook(token, due, Delivery::Sent)
                    .await?;
                self.count("sent");
                tracing::info!(intake = %record.id, "autoresponse sent");
                Ok(true)
            }
            Err(error) => {
                let error: String = error.chars().take(300).collect();
                let attempts = due.attempts + 1;
                if attempts >= self.config.delivery.max_attempts {
                    self.store
                        .record_webhook(token, due, Delivery::Dead { error: &error })
                        .await?;
                    self.count("dead");
                } else {
                    let delay = i64::try_from(
                        self.config
                            .delivery
                            .retry_base_ms
                            .saturating_mul(1u64 << attempts.min(20))
                            .min(self.config.delivery.retry_max_seconds * 1000),
                    )
                    .unwrap_or(i64::MAX);
                    self.store
                        .record_webhook(
                            token,
                            due,
                            Delivery::Retry {
                                at_ms: now_ms() + delay,
                                error: &error,
                            },
                        )
                        .await?;
                    self.count("retry");
                }
                tracing::warn!(intake = %record.id, attempts, %error, "autoresponse send failed");
                Ok(false)
            }
        }
    }

    fn count(&self, outcome: &str) {
        self.metrics
            .webhook_deliveries
            .with_label_values(&[AUTORESPONSE, outcome])
            .inc();
    }
}

/// Why the autoresponse could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AutoresponseError {
    /// An address in the configuration does not parse.
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
