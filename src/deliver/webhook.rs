//! Signed webhooks: each stored intake POSTed as scrubbed JSON to every
//! configured endpoint, signed per the Standard Webhooks specification
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
//! HMAC-SHA256 of "id.timestamp.body">` under the endpoint's `whsec_`
//! secret), from durable rows written with the intake, with retries and
//! backoff like the mail.
//!
//! Exactly once per endpoint: a worker claims due rows under a lease with a
//! token, starts a POST only while the lease outlasts the request timeout,
//! and records each outcome only on a row its token still holds (the loop
//! the mail uses, in the private `worker` module), several in one transaction when the
//! store is busy. A crash can repeat the deliveries whose outcome was not
//! yet written (the one in flight and those that ended while the last
//! outcomes were being written), with the same `webhook-id`, which
//! receivers use to drop duplicates.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{Value, json};
use sha2::Sha256;

use super::worker::{Claim, Outcome, Sender, Worker};
use crate::config::{Config, WebhookEndpoint};
use crate::metrics::Metrics;
use crate::store::{
    Delivery, DueWebhook, IntakeRecord, Store, StoreError, WebhookLease, WebhookToken, now_ms,
};

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The key bytes of a `whsec_…` secret (base64 of 24 to 64 random bytes),
/// or what is wrong with it (never quoting it).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or_else(|| {
        format!("a webhook secret starts with `{SECRET_PREFIX}` followed by base64, e.g. `{SECRET_PREFIX}` and the output of `openssl rand -base64 32`")
    })?;
    let key = BASE64
        .decode(encoded.trim())
        .map_err(|_| format!("the part after `{SECRET_PREFIX}` is not standard base64"))?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "a webhook secret holds 24 to 64 bytes (this one {}); make one with `openssl rand -base64 32`",
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` value for one message: `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The JSON an endpoint receives for one intake: what the consultant's
/// email holds (scrubbed fields, route, handoffs, tools, kinds removed),
/// the reply address only when the person agreed to be contacted.
pub fn payload(record: &IntakeRecord, public_url: Option<&str>) -> Value {
    let fields: BTreeMap<&str, &str> = record
        .fields
        .iter()
        .map(|(field, text)| (field.as_str(), text.as_str()))
        .collect();
    let removed: BTreeMap<&str, usize> = record
        .removed
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n))
        .collect();
    let received = jiff::Timestamp::from_millisecond(record.created_at_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    json!({
        "type": "intake.stored",
        "timestamp": received,
        "data": {
            "id": record.id,
            "received_at": received,
            "channel": record.channel.as_str(),
            "route": record.route.as_str(),
            "confidence": record.confidence,
            "needs_review": record.needs_review,
            "handoffs": record.handoffs.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            "tools": record.tools,
            "removed": removed,
            "rotate_credentials": record.exposed_credentials,
            "fields": fields,
            "missing_fields": record.missing_fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "reply_to": record.contact_email.as_deref().filter(|_| record.consent),
            "inbox_url": public_url.map(|base| format!("{}/inbox/{}", base.trim_end_matches('/'), record.id)),
        }
    })
}

/// One configured endpoint, its key decoded once.
struct Endpoint {
    url: url::Url,
    key: SecretSlice<u8>,
}

/// The webhook worker.
#[derive(Clone)]
pub struct Webhooks {
    worker: Worker<Posts>,
}

/// Posts intakes to the endpoints: the webhooks' [`Sender`].
struct Posts {
    store: Store,
    client: reqwest::Client,
    endpoints: HashMap<String, Endpoint>,
    timeout: Duration,
    public_url: Option<String>,
    metrics: Metrics,
}

/// Why the webhooks could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A secret is malformed (the configuration check refuses it first).
    #[error("webhooks.endpoints `{name}`: {problem}")]
    Secret {
        /// The endpoint.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Webhooks {
    /// The worker for the configured endpoints; the store learns the list,
    /// so intakes stored from now on get a delivery row per endpoint.
    pub async fn start(
        config: &Config,
        store: Store,
        metrics: Metrics,
    ) -> Result<Webhooks, WebhookError> {
        let mut endpoints = HashMap::new();
        for WebhookEndpoint { name, url, secret } in &config.webhooks.endpoints {
            let key = secret_key(secret.expose()).map_err(|problem| WebhookError::Secret {
                name: name.clone(),
                problem,
            })?;
            endpoints.insert(
                name.clone(),
                Endpoint {
                    url: url.clone(),
                    key: SecretSlice::from(key),
                },
            );
        }
        let mut names: Vec<String> = endpoints.keys().cloned().collect();
        names.sort_unstable();
        let dropped = store.set_webhook_endpoints(&names, now_ms()).await?;
        if dropped > 0 {
            tracing::warn!(
                deliveries = dropped,
                "webhook deliveries to endpoints no longer configured were dropped"
            );
        }
        let timeout = Duration::from_secs(config.webhooks.timeout_seconds.max(1));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("handoff-gate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let posts = Posts {
            store,
            client,
            endpoints,
            timeout,
            public_url: config.server.public_url.clone(),
            metrics,
        };
        Ok(Webhooks {
            worker: Worker::new(posts, &config.delivery),
        })
    }

    /// Whether any endpoint is configured.
    pub fn enabled(&self) -> bool {
        !self.worker.sender.endpoints.is_empty()
    }

    /// Wake the worker: an intake was just stored.
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// Stop after the delivery in flight; [`Webhooks::run`] then returns.
    pub fn stop(&self) {
        self.worker.stop();
    }

    /// Run until [`Webhooks::stop`]: deliver what is due, then sleep until
    /// woken or the poll interval passes.
    pub async fn run(self) {
        if self.enabled() {
            self.worker.run(|| async {}).await;
        }
    }

    /// Post every delivery that is due now. Returns how many were accepted.
    pub async fn deliver_due(&self) -> Result<u32, StoreError> {
        Ok(self.worker.deliver_due().await?.sent)
    }
}

impl Sender for Posts {
    type Token = WebhookToken;
    type Due = DueWebhook;
    type Guard = ();

    const WHAT: &'static str = "webhook";
    const BATCH: u32 = 8;

    fn send_ms(&self) -> i64 {
        // A request may take its whole timeout.
        i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX) + 500
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
            .claim_due_webhooks(now_ms, lease_ms, limit)
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
        let Some(endpoint) = self.endpoints.get(&due.endpoint) else {
            // Configured again later under another name: leave it be.
            return Ok(Outcome::Gone);
        };
        let Some(record) = self.store.intake(&due.intake_id).await? else {
            return Ok(Outcome::Gone);
        };
        let body = serde_json::to_vec(&payload(&record, self.public_url.as_deref()))
            .expect("a payload serializes");
        let id = format!("msg_{}", record.id.as_str().replace('-', ""));
        let timestamp = now_ms() / 1000;
        let signature = sign(endpoint.key.expose_secret(), &id, timestamp, &body);
        let sent = self
            .client
            .post(endpoint.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        Ok(match sent {
            Ok(response) if response.status().is_success() => Outcome::Sent,
            Ok(response) => Outcome::Failed(format!("the endpoint answered {}", response.status())),
            Err(e) if e.is_timeout() => {
                Outcome::Failed(format!("no answer within {}s", self.timeout.as_secs()))
            }
            Err(e) if e.is_connect() => {
                Outcome::Failed("the endpoint could not be reached".to_owned())
            }
            Err(_) => Outcome::Failed("the request failed".to_owned()),
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
        held: Result<bool, &StoreError>,
    ) -> Result<(), StoreError> {
        let (intake, endpoint) = (&due.intake_id, &due.endpoint);
        let attempts = due.attempts + 1;
        let outcome = match delivery {
            Delivery::Sent => {
                if matches!(held, Ok(true)) {
                    tracing::info!(%intake, %endpoint, attempts, "webhook delivered");
                } else {
                    tracing::warn!(%intake, %endpoint, "a webhook was delivered after its row was erased or taken over");
                }
                "sent"
            }
            Delivery::Retry { at_ms, error } => {
                tracing::warn!(%intake, %endpoint, attempts, retry_in_ms = at_ms - now_ms(), %error, "webhook failed");
                "retry"
            }
            Delivery::Dead { error } | Delivery::Skipped { why: error } => {
                tracing::error!(%intake, %endpoint, attempts, %error, "webhook given up after max attempts");
                "dead"
            }
        };
        self.metrics
            .webhook_deliveries
            .with_label_values(&[endpoint, outcome])
            .inc();
        Ok(())
    }
}

/// The worker's view of a claim of delivery rows (webhooks, autoresponses).
impl From<WebhookLease> for Claim<WebhookToken, DueWebhook> {
    fn from(lease: WebhookLease) -> Self {
        Claim {
            token: lease.token,
            until_ms: lease.until_ms,
            due: lease.due,
        }
    }
}
