//! Webhook deliveries: one row per intake and configured endpoint, written
//! by a trigger on its outbox row in the intake's own transaction (migration
//! 0005; held with a held intake, released with its email), claimed
//! under a lease with a token like the emails in the outbox, changed only
//! by the token's holder, and deleted with their intake.

use std::collections::BTreeMap;

use sqlx::Row;

use super::write::Durability;
use super::{Backend, Delivery, IntakeId, Store, StoreError, query};

/// The delivery row of the autoresponse (migration 0006): a reserved
/// endpoint name no webhook can have.
pub const AUTORESPONSE: &str = "@autoresponse";

/// Which delivery rows a claim takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// The configured webhook endpoints.
    Webhooks,
    /// The autoresponse to the person.
    Autoresponse,
}

/// The token a claim of webhook deliveries wrote into its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookToken(String);

impl WebhookToken {
    fn generate() -> Self {
        WebhookToken(uuid::Uuid::new_v4().simple().to_string())
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

/// Webhook deliveries due, claimed together until `until_ms`.
#[derive(Debug, Clone)]
pub struct WebhookLease {
    /// Written into every claimed row.
    pub token: WebhookToken,
    /// When the lease ends (milliseconds since the epoch).
    pub until_ms: i64,
    /// The claimed deliveries, oldest first.
    pub due: Vec<DueWebhook>,
}

/// One intake to post to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWebhook {
    /// The intake.
    pub intake_id: IntakeId,
    /// The endpoint's name in the configuration.
    pub endpoint: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Where one intake's delivery to one endpoint stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookState {
    /// The endpoint's name.
    pub endpoint: String,
    /// `pending`, `held` (with its intake), `sent` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error (the receiver's status or the connection's error).
    pub last_error: Option<String>,
}

fn attempts(row: &sqlx::any::AnyRow) -> u32 {
    u32::try_from(row.get::<i64, _>("attempts")).unwrap_or(u32::MAX)
}

impl Store {
    /// Make the stored endpoint list `names`: intakes stored from now on
    /// get a delivery row for each. An endpoint no longer configured loses
    /// its waiting deliveries (returned as a count); what was sent stays.
    pub async fn set_webhook_endpoints(
        &self,
        names: &[String],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut write = self
            .write("setting the webhook endpoints", Durability::Full)
            .await?;
        let result = async {
            let stored: Vec<String> = sqlx::query_scalar("SELECT name FROM webhook_endpoints")
                .fetch_all(write.conn())
                .await?;
            let mut dropped = 0;
            for gone in stored.iter().filter(|s| !names.contains(s)) {
                sqlx::query("DELETE FROM webhook_endpoints WHERE name = $1")
                    .bind(gone)
                    .execute(write.conn())
                    .await?;
                dropped += sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE endpoint = $1 AND state = 'pending'",
                )
                .bind(gone)
                .execute(write.conn())
                .await?
                .rows_affected();
            }
            for name in names.iter().filter(|n| !stored.contains(n)) {
                sqlx::query(
                    "INSERT INTO webhook_endpoints (name, added_at_ms) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(now_ms)
                .execute(write.conn())
                .await?;
            }
            Ok(dropped)
        }
        .await;
        write.commit(result).await
    }

    /// Claim up to `limit` due deliveries, oldest first, for `lease_ms`.
    pub async fn claim_due_webhooks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<WebhookLease, StoreError> {
        self.claim_due_deliveries(DeliveryKind::Webhooks, now_ms, lease_ms, limit)
            .await
    }

    /// Claim up to `limit` due rows of one kind, oldest first, for `lease_ms`.
    pub async fn claim_due_deliveries(
        &self,
        kind: DeliveryKind,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<WebhookLease, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let which = match kind {
            DeliveryKind::Webhooks => "<>",
            DeliveryKind::Autoresponse => "=",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET next_attempt_ms = $2, lease_token = $4 \
             WHERE (intake_id, endpoint) IN (\
             SELECT intake_id, endpoint FROM webhook_deliveries \
             WHERE state = 'pending' AND next_attempt_ms <= $1 AND endpoint {which} '{AUTORESPONSE}' \
             ORDER BY next_attempt_ms LIMIT $3 {lock}\
             ) RETURNING intake_id, endpoint, attempts, created_at_ms"
        );
        let token = WebhookToken::generate();
        let until_ms = now_ms + lease_ms;
        let mut write = self
            .write("claiming due webhooks", Durability::Deferred)
            .await?;
        let rows = sqlx::query(&sql)
            .bind(now_ms)
            .bind(until_ms)
            .bind(i64::from(limit))
            .bind(token.as_str())
            .fetch_all(write.conn())
            .await;
        let rows = write.commit(rows).await?;
        let mut due: Vec<(i64, DueWebhook)> = rows
            .iter()
            .map(|row| {
                (
                    row.get("created_at_ms"),
                    DueWebhook {
                        intake_id: IntakeId::from_stored(row.get("intake_id")),
                        endpoint: row.get("endpoint"),
                        attempts: attempts(row),
                    },
                )
            })
            .collect();
        // RETURNING does not keep the subquery's order.
        due.sort_by(|a, b| (a.0, a.1.intake_id.as_str()).cmp(&(b.0, b.1.intake_id.as_str())));
        Ok(WebhookLease {
            token,
            until_ms,
            due: due.into_iter().map(|(_, d)| d).collect(),
        })
    }

    /// Release the deliveries `token` still holds: due again at once.
    pub async fn release_webhooks(&self, token: &WebhookToken) -> Result<u64, StoreError> {
        let mut write = self
            .write("releasing webhook deliveries", Durability::Deferred)
            .await?;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_ms = $2, lease_token = NULL
             WHERE lease_token = $1 AND state = 'pending'",
        )
        .bind(token.as_str())
        .bind(super::now_ms())
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Extend the lease on the deliveries `token` still holds to `until_ms`.
    /// Returns how many it still holds.
    pub async fn renew_webhooks(
        &self,
        token: &WebhookToken,
        until_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut write = self
            .write("renewing a delivery lease", Durability::Deferred)
            .await?;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_ms = $2
             WHERE lease_token = $1 AND state = 'pending'",
        )
        .bind(token.as_str())
        .bind(until_ms)
        .execute(write.conn())
        .await;
        Ok(write.commit(done).await?.rows_affected())
    }

    /// Record an attempt on a delivery `token` holds, and release it.
    /// Returns `false` when it is no longer held (erased, or taken over).
    pub async fn record_webhook(
        &self,
        token: &WebhookToken,
        due: &DueWebhook,
        delivery: Delivery<'_>,
    ) -> Result<bool, StoreError> {
        let held = self.record_webhooks(token, &[(due, delivery)]).await?;
        Ok(held.first().copied().unwrap_or(false))
    }

    /// Record several attempts on deliveries `token` holds in one
    /// transaction; for each, whether it was still held. A skipped one
    /// (the autoresponse over its per-address limit) gets state `skipped`.
    pub async fn record_webhooks(
        &self,
        token: &WebhookToken,
        attempts: &[(&DueWebhook, Delivery<'_>)],
    ) -> Result<Vec<bool>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let mut write = self
            .write("recording webhook deliveries", Durability::Deferred)
            .await?;
        let mut held = Vec::with_capacity(attempts.len());
        let mut done = Ok(());
        for (due, delivery) in attempts {
            let statement = match *delivery {
                Delivery::Skipped { why } => sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'skipped', last_error = $4, lease_token = NULL
                     WHERE intake_id = $1 AND endpoint = $2 AND lease_token = $3",
                )
                .bind(due.intake_id.as_str())
                .bind(&due.endpoint)
                .bind(token.as_str())
                .bind(why),
                attempt => {
                    let (state, error, at_ms) = match attempt {
                        Delivery::Retry { at_ms, error } => ("pending", Some(error), at_ms),
                        Delivery::Dead { error } => ("dead", Some(error), super::now_ms()),
                        Delivery::Sent | Delivery::Skipped { .. } => ("sent", None, super::now_ms()),
                    };
                    sqlx::query(
                        "UPDATE webhook_deliveries SET state = $4, attempts = attempts + 1,
                            last_error = $5, next_attempt_ms = $6,
                            sent_at_ms = CASE WHEN $4 = 'sent' THEN $6 ELSE sent_at_ms END,
                            lease_token = NULL
                         WHERE intake_id = $1 AND endpoint = $2 AND lease_token = $3",
                    )
                    .bind(due.intake_id.as_str())
                    .bind(&due.endpoint)
                    .bind(token.as_str())
                    .bind(state)
                    .bind(error)
                    .bind(at_ms)
                }
            };
            match statement.execute(write.conn()).await {
                Ok(result) => held.push(result.rows_affected() == 1),
                Err(error) => {
                    done = Err(error);
                    break;
                }
            }
        }
        write.commit(done.map(|()| held)).await
    }

    /// Autoresponses sent since `since_ms` to the reply address of `id`'s
    /// intake (the address is compared in the database, never returned).
    pub async fn autoresponses_to_same_address(
        &self,
        id: &IntakeId,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM webhook_deliveries d
             JOIN intakes i ON i.id = d.intake_id
             WHERE d.endpoint = $1 AND d.state = 'sent' AND d.sent_at_ms >= $2
               AND i.contact_email = (SELECT contact_email FROM intakes WHERE id = $3)",
        )
        .bind(AUTORESPONSE)
        .bind(since_ms)
        .bind(id.as_str())
        .fetch_one(&self.reader)
        .await
        .map_err(query("counting autoresponses to an address"))?;
        Ok(u64::try_from(row.get::<i64, _>("n")).unwrap_or(0))
    }

    /// Turn the autoresponse on or off for intakes stored from now on.
    pub async fn set_autoresponse(&self, enabled: bool, now_ms: i64) -> Result<(), StoreError> {
        let mut write = self
            .write("setting the autoresponse", Durability::Full)
            .await?;
        let done = sqlx::query(
            "INSERT INTO autoresponse_settings (id, enabled, changed_at_ms) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET enabled = $1, changed_at_ms = $2",
        )
        .bind(i64::from(enabled))
        .bind(now_ms)
        .execute(write.conn())
        .await;
        write.commit(done).await.map(drop)
    }

    /// Where each of an intake's webhook deliveries stands, by endpoint.
    pub async fn webhook_states(&self, id: &IntakeId) -> Result<Vec<WebhookState>, StoreError> {
        let rows = sqlx::query(
            "SELECT endpoint, state, attempts, last_error FROM webhook_deliveries
             WHERE intake_id = $1 ORDER BY endpoint",
        )
        .bind(id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(query("reading webhook deliveries"))?;
        Ok(rows
            .iter()
            .map(|row| WebhookState {
                endpoint: row.get("endpoint"),
                state: row.get("state"),
                attempts: attempts(row),
                last_error: row.get("last_error"),
            })
            .collect())
    }

    /// Counts of webhook deliveries by endpoint and state.
    pub async fn webhook_counts(&self) -> Result<BTreeMap<(String, String), u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT endpoint, state, COUNT(*) AS n FROM webhook_deliveries GROUP BY endpoint, state",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(query("counting webhook deliveries"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    (r.get("endpoint"), r.get("state")),
                    u64::try_from(r.get::<i64, _>("n")).unwrap_or(0),
                )
            })
            .collect())
    }
}
