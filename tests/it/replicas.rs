//! Three `handoff-gate serve` processes on one PostgreSQL database and one
//! real SMTP server that takes longer than the outbox lease over some
//! messages: 600 intakes spread across them, some retried with the same
//! Idempotency-Key on another replica. Every intake is stored once and
//! mailed exactly once: a worker renews its lease while the relay is slow,
//! and no replica sends or records a row another one holds.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{
    GatewayProcess, PgDatabase, SmtpServer, eventually, free_port, message_id, smtp_available,
};

const INTAKES: usize = 600;
/// Every 20th intake's email takes the relay this long: longer than the lease.
const SLOW_RELAY: Duration = Duration::from_millis(2_500);
const LEASE_SECONDS: &str = "1";
/// Every this many intakes, a client retries later on a third replica.
const RETRY_EVERY: usize = 7;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_and_a_relay_slower_than_the_lease_mail_each_intake_exactly_once() {
    if !smtp_available("three_replicas_on_postgres") {
        return;
    }
    let Some(db) = PgDatabase::create("three_replicas_on_postgres").await else {
        return;
    };
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_slow(free_port(), maildir.path(), SLOW_RELAY, "slow@relay.test");
    let env = [
        ("HANDOFF_GATE__STORE__URL", db.url.clone()),
        ("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()),
        ("HANDOFF_GATE__SMTP__PORT", smtp.port.to_string()),
        ("HANDOFF_GATE__SMTP__TLS", "none".to_owned()),
        ("HANDOFF_GATE__ADMIN__TOKEN", "replica-admin".to_owned()),
        (
            "HANDOFF_GATE__DELIVERY__LEASE_SECONDS",
            LEASE_SECONDS.to_owned(),
        ),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut replicas = Vec::new();
    for dir in &dirs {
        replicas.push(GatewayProcess::start(dir.path(), &env).await);
    }
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();

    // Every 10th intake is sent twice, with one key, to two different replicas.
    let client = reqwest::Client::new();
    let mut requests = Vec::new();
    for n in 0..INTAKES {
        // The relay is slow for a message whose Reply-To is this address.
        let contact = if n % 20 == 0 {
            "slow@relay.test"
        } else {
            "fast@relay.test"
        };
        let body = json!({
            "message": format!("Replica test {n}: Typeform entries never reach HubSpot"),
            "contact_email": contact,
            "consent": true,
        });
        let key = format!("replica-test-{n}");
        requests.push((bases[n % 3].clone(), key.clone(), body.clone()));
        if n % 10 == 0 {
            requests.push((bases[(n + 1) % 3].clone(), key, body));
        }
    }
    let responses: Vec<(String, Value)> = futures_util::stream::iter(requests)
        .map(|(base, key, body)| {
            let client = client.clone();
            async move {
                let response = client
                    .post(format!("{base}/api/v1/intakes"))
                    .header("Idempotency-Key", &key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201, "{key}");
                (key, response.json::<Value>().await.unwrap())
            }
        })
        .buffer_unordered(24)
        .collect()
        .await;
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (key, body) in responses {
        let id = body["id"].as_str().unwrap().to_owned();
        if let Some(earlier) = ids.insert(key.clone(), id.clone()) {
            assert_eq!(earlier, id, "{key} answered with two ids");
        }
    }
    assert_eq!(ids.len(), INTAKES);

    // Clients whose answer was lost retry later on yet another replica: the
    // first answer again, no second intake (while the mail is still draining).
    let retries: Vec<(String, String, Value)> =
        futures_util::stream::iter((0..INTAKES).step_by(RETRY_EVERY).map(|n| {
            let client = client.clone();
            let base = bases[(n + 2) % 3].clone();
            let key = format!("replica-test-{n}");
            let contact = if n % 20 == 0 {
                "slow@relay.test"
            } else {
                "fast@relay.test"
            };
            let body = json!({
                "message": format!("Replica test {n}: Typeform entries never reach HubSpot"),
                "contact_email": contact,
                "consent": true,
            });
            async move {
                let response = client
                    .post(format!("{base}/api/v1/intakes"))
                    .header("Idempotency-Key", &key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let answer = format!(
                    "{} replayed={:?}",
                    response.status().as_u16(),
                    response.headers().get("Idempotent-Replayed")
                );
                (key, answer, response.json::<Value>().await.unwrap())
            }
        }))
        .buffer_unordered(8)
        .collect()
        .await;
    for (key, answer, body) in &retries {
        assert_eq!(answer, "201 replayed=Some(\"true\")", "{key}: {body}");
        assert_eq!(
            body["id"].as_str(),
            Some(ids[key].as_str()),
            "{key} retried"
        );
    }
    let expected: BTreeSet<String> = ids
        .values()
        .map(|id| format!("<intake-{id}@localhost>"))
        .collect();

    eventually(Duration::from_secs(120), "600 emails", || async {
        smtp.messages().len() >= INTAKES
    })
    .await;
    // Give a duplicate, if there were one, time to arrive: several leases
    // and one slow message.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| message_id(m))
        .collect();
    assert_eq!(received.len(), INTAKES, "exactly one email per intake");
    assert_eq!(received.into_iter().collect::<BTreeSet<_>>(), expected);

    // One row per intake in the shared database.
    let store = handoff_gate::store::Store::open(&db.url).await.unwrap();
    let states = store.outbox_states().await.unwrap();
    assert_eq!(states.get("sent"), Some(&(INTAKES as u64)), "{states:?}");
    store.close().await;
    drop(replicas);
    db.drop_database().await;
}
