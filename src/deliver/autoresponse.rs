//! The autoresponse (off by default, `autoresponse.enabled`): one email to a
//! person who agreed to be contacted and gave an address: thanks, the next
//! step in words, what was removed and why (kinds only), "rotate that key"
//! when a credential was pasted, and when to expect an answer. It never
//! holds their text. Its row is written with the intake (the reserved
//! delivery [`AUTORESPONSE`]), so there is at most one per intake; a person
//! who sends again within a day gets no second one
//! (`autoresponse.per_address_per_day`).

use std::sync::Arc;

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;

use super::worker::{Claim, Outcome, Sender, Worker};
use super::{DeliverError, Mailer};
use crate::config::Config;
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
    worker: Worker<Replies>,
    enabled: bool,
}

/// Sends the autoresponses: their [`Sender`].
struct Replies {
    store: Store,
    mailer: Mailer,
    rules: Arc<Rules>,
    from: Mailbox,
    reply_to: Mailbox,
    config: Arc<Config>,
    metrics: Metrics,
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
        let replies = Replies {
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
        };
        Ok(Autoresponder {
            worker: Worker::new(replies, &config.delivery),
            enabled: config.autoresponse.enabled,
        })
    }

    /// Wake the worker: an intake was just stored or released.
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// Stop after the email in flight.
    pub fn stop(&self) {
        self.worker.stop();
    }

    /// Run until [`Autoresponder::stop`] (at once when it is off).
    pub async fn run(self) {
        if self.enabled {
            self.worker.run(|| async {}).await;
        }
    }

    /// Send every autoresponse that is due now. Returns how many were sent.
    pub async fn deliver_due(&self) -> Result<u32, StoreError> {
        Ok(self.worker.deliver_due().await?.sent)
    }
}

impl Sender for Replies {
    type Token = WebhookToken;
    type Due = DueWebhook;
    type Guard = ();

    const WHAT: &'static str = "autoresponse";
    const BATCH: u32 = 8;
    /// The per-address limit counts the ones recorded sent.
    const ONE_BY_ONE: bool = true;

    fn send_ms(&self) -> i64 {
        1000 * i64::try_from(self.config.smtp.timeout_seconds).unwrap_or(60)
    }

    fn attempts(due: &DueWebhook) -> u32 {
        due.attempts
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Claim<WebhookToken, DueWebhook>, StoreError> {
        self.store
            .claim_due_deliveries(DeliveryKind::Autoresponse, now_ms, lease_ms, limit)
            .await
            .map(Claim::from)
    }

    async fn renew(&self, token: &WebhookToken, until_ms: i64) -> Result<u64, StoreError> {
        self.store.renew_webhooks(token, until_ms).await
    }

    async fn release(&self, token: &WebhookToken) -> Result<u64, StoreError> {
        self.store.release_webhooks(token).await
    }

    async fn guard(&self) {}

    async fn send(&self, due: &DueWebhook) -> Result<Outcome, StoreError> {
        let Some(record) = self.store.intake(&due.intake_id).await? else {
            return Ok(Outcome::Gone);
        };
        let limit = u64::from(self.config.autoresponse.per_address_per_day);
        let recent = self
            .store
            .autoresponses_to_same_address(&record.id, now_ms() - 86_400_000)
            .await?;
        if recent >= limit {
            return Ok(Outcome::Skipped("this address had its autoresponse today"));
        }
        let Some(message) = compose(
            &record,
            &self.rules,
            &self.from,
            &self.reply_to,
            &self.config,
        ) else {
            return Ok(Outcome::Skipped("the reply address does not parse"));
        };
        let stem = format!("{}-autoresponse", record.id);
        Ok(match self.mailer.send_as(&stem, &message).await {
            Ok(()) => Outcome::Sent,
            Err(error) => Outcome::Failed(error.chars().take(300).collect()),
        })
    }

    async fn record(
        &self,
        token: &WebhookToken,
        outcomes: &[(&DueWebhook, Delivery<'_>)],
    ) -> Result<Vec<bool>, StoreError> {
        self.store.record_webhooks(token, outcomes).await
    }

    async fn recorded(
        &self,
        due: &DueWebhook,
        delivery: &Delivery<'_>,
        _held: Result<bool, &StoreError>,
    ) -> Result<(), StoreError> {
        let intake = &due.intake_id;
        let attempts = due.attempts + 1;
        let outcome = match delivery {
            Delivery::Sent => {
                tracing::info!(%intake, "autoresponse sent");
                "sent"
            }
            Delivery::Skipped { why } => {
                tracing::info!(%intake, reason = %why, "autoresponse skipped");
                "skipped"
            }
            Delivery::Retry { error, .. } => {
                tracing::warn!(%intake, attempts, %error, "autoresponse send failed");
                "retry"
            }
            Delivery::Dead { error } => {
                tracing::warn!(%intake, attempts, %error, "autoresponse send failed");
                "dead"
            }
        };
        self.metrics
            .webhook_deliveries
            .with_label_values(&[AUTORESPONSE, outcome])
            .inc();
        Ok(())
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
