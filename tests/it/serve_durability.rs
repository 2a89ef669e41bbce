//! The promise behind every 201: the intake and its outbox row are on disk,
//! and the intake is mailed once. Tried with the real binary against the
//! faults that broke it: a full SQLite database, its file deleted while the
//! gateway runs, and kill -9 in the middle of a burst while mail drains.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{
    GatewayProcess, SmtpServer, eventually, free_port, message_id, read_dir_texts, smtp_available,
};
use handoff_gate::store::{IntakeId, Store};

const ADMIN: &str = "durability-admin";

fn smtp_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()),
        ("HANDOFF_GATE__SMTP__PORT", port.to_string()),
        ("HANDOFF_GATE__SMTP__TLS", "none".to_owned()),
        ("HANDOFF_GATE__ADMIN__TOKEN", ADMIN.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// POST one intake; its status and body (a refused connection is status 0).
async fn post(client: &reqwest::Client, base: &str, message: String) -> (u16, Value) {
    match client
        .post(format!("{base}/api/v1/intakes"))
        .json(&json!({"message": message}))
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// The `/readyz` status and its `store` field.
async fn readiness(client: &reqwest::Client, base: &str) -> (u16, String) {
    let response = client.get(format!("{base}/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["store"].as_str().unwrap_or_default().to_owned(),
    )
}

/// How many times each intake id was mailed.
fn mailed(smtp: &SmtpServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for raw in smtp.messages() {
        let id = message_id(&raw).expect("every message has a Message-ID");
        let id = id
            .trim_start_matches("<intake-")
            .trim_end_matches("@localhost>")
            .to_owned();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// Whether the SQLite store in `dir` holds `id` (read beside the gateway).
async fn stored(dir: &Path, ids: &BTreeSet<String>) -> BTreeSet<String> {
    let url = format!("sqlite://{}", dir.join("data/handoff-gate.db").display());
    let store = Store::open_existing(&url).await.unwrap();
    let mut found = BTreeSet::new();
    for id in ids {
        if store
            .intake(&IntakeId::parse(id).unwrap())
            .await
            .unwrap()
            .is_some()
        {
            found.insert(id.clone());
        }
    }
    store.close().await;
    found
}

/// A question of about 6 KB, so that a 1 MiB database fills after ~150.
fn long_question(n: usize) -> String {
    let filler = "The Typeform entry never reaches the HubSpot pipeline and nobody follows up. ";
    format!("Question {n}: {}", filler.repeat(80))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_answers_503_never_201_and_loses_nothing() {
    if !smtp_available("a_full_sqlite_database_answers_503") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(free_port(), maildir.path());
    let mut env = smtp_env(smtp.port);
    env.push(("HANDOFF_GATE__STORE__MAX_SIZE_MB", "1".to_owned()));
    let gateway = GatewayProcess::start(dir.path(), &env).await;
    let client = reqwest::Client::new();

    // Fill it: 8 at a time until 30 intakes were refused.
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    let mut n = 0;
    while refused < 30 {
        assert!(n < 2_000, "1 MiB never filled");
        let batch: Vec<(u16, Value)> = futures_util::stream::iter(n..n + 8)
            .map(|i| post(&client, &gateway.base, long_question(i)))
            .buffer_unordered(8)
            .collect()
            .await;
        n += 8;
        for (status, body) in batch {
            match status {
                201 => {
                    acknowledged.insert(body["id"].as_str().unwrap().to_owned());
                }
                503 => {
                    assert_eq!(body["error"], "store_unavailable", "{body}");
                    refused += 1;
                }
                other => panic!("a full store answered {other}: {body}"),
            }
        }
    }
    assert_eq!(
        readiness(&client, &gateway.base).await,
        (503, "cannot_commit".to_owned()),
        "/readyz sees that a commit no longer goes through"
    );

    // Space returns: erase 40 acknowledged intakes.
    let erased: BTreeSet<String> = acknowledged.iter().take(40).cloned().collect();
    for id in &erased {
        let response = client
            .delete(format!("{}/api/v1/intakes/{id}", gateway.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    eventually(Duration::from_secs(10), "/readyz to recover", || async {
        readiness(&client, &gateway.base).await.0 == 200
    })
    .await;
    for i in 0..10 {
        let (status, body) = post(
            &client,
            &gateway.base,
            format!("After the cleanup {i}: Stripe paid, Kajabi locked"),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        acknowledged.insert(body["id"].as_str().unwrap().to_owned());
    }

    // After a restart every acknowledged intake is stored and mailed once.
    gateway.stop();
    let restarted = GatewayProcess::start(dir.path(), &env).await;
    let kept: BTreeSet<String> = acknowledged.difference(&erased).cloned().collect();
    assert_eq!(
        stored(dir.path(), &kept).await,
        kept,
        "an acknowledged intake is missing"
    );
    eventually(
        Duration::from_secs(60),
        "every kept intake mailed",
        || async { kept.iter().all(|id| mailed(&smtp).contains_key(id)) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counts = mailed(&smtp);
    for (id, times) in &counts {
        assert!(
            acknowledged.contains(id),
            "mail for an intake never acknowledged"
        );
        assert_eq!(*times, 1, "{id} was mailed {times} times");
    }
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_deleted_while_running_gets_503_and_a_restart_refuses_to_start_empty() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("RUST_LOG", "warn".to_owned())];
    let gateway = GatewayProcess::start(dir.path(), &env).await;
    let client = reqwest::Client::new();
    let mut acknowledged = BTreeSet::new();
    for n in 0..10 {
        let (status, body) = post(
            &client,
            &gateway.base,
            format!("Booking {n} never reaches the CRM"),
        )
        .await;
        assert_eq!(status, 201);
        acknowledged.insert(body["id"].as_str().unwrap().to_owned());
    }
    // A hard link keeps the file itself (the operator's backup of it).
    let database = dir.path().join("data/handoff-gate.db");
    let kept = dir.path().join("kept.db");
    std::fs::hard_link(&database, &kept).unwrap();
    std::fs::remove_file(&database).unwrap();

    for n in 0..10 {
        let (status, body) =
            post(&client, &gateway.base, format!("Sent after the delete {n}")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("store_unavailable"))
        );
    }
    assert_eq!(
        readiness(&client, &gateway.base).await,
        (503, "file_lost".to_owned())
    );
    gateway.kill();
    let log = crate::support::gateway_log(dir.path());
    assert!(log.contains("THE DATABASE FILE was deleted"), "{log}");
    assert!(
        !database.exists(),
        "no new, empty file was made in its place"
    );

    // The marker stops a start that would begin empty …
    let (status, stderr) = GatewayProcess::refused(dir.path(), &env);
    assert!(!status.success());
    assert!(
        stderr.contains("handoff-gate.db is missing") && stderr.contains("--init"),
        "{stderr}"
    );
    // … restored, every acknowledged intake is there and mailed once (as a file named by its id).
    std::fs::rename(&kept, &database).unwrap();
    let restored = GatewayProcess::start(dir.path(), &env).await;
    assert_eq!(stored(dir.path(), &acknowledged).await, acknowledged);
    let mail = dir.path().join("data/mail");
    eventually(
        Duration::from_secs(20),
        "every acknowledged intake mailed",
        || async {
            acknowledged
                .iter()
                .all(|id| mail.join(format!("{id}.eml")).exists())
        },
    )
    .await;
    assert_eq!(read_dir_texts(&mail).len(), acknowledged.len());
    drop(restored);

    // `--init` starts empty on purpose.
    std::fs::remove_file(&database).unwrap();
    let fresh = GatewayProcess::start_with(dir.path(), &["--init"], &env).await;
    assert!(stored(dir.path(), &acknowledged).await.is_empty());
    drop(fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_bursts_loses_no_acknowledged_intake_and_repeats_at_most_the_mail_in_flight()
{
    if !smtp_available("kill_9_during_bursts") {
        return;
    }
    const ROUNDS: usize = 3;
    const BURST: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(free_port(), maildir.path());
    let mut env = smtp_env(smtp.port);
    // Without the start-up reclaim, mail claimed at the kill would wait ten minutes.
    env.push(("HANDOFF_GATE__DELIVERY__LEASE_SECONDS", "600".to_owned()));
    // One test client stands for 300 people.
    env.push(("HANDOFF_GATE__LIMITS__CONNECTIONS_PER_IP", "0".to_owned()));
    let client = reqwest::Client::new();
    let mut acknowledged = BTreeSet::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for round in 0..ROUNDS {
        let gateway = GatewayProcess::start(dir.path(), &env).await;
        let base = gateway.base.clone();
        let mut responses = futures_util::stream::iter(0..BURST)
            .map(|n| {
                post(
                    &client,
                    &base,
                    format!("Round {round} intake {n}: Calendly booking not in Pipedrive"),
                )
            })
            .buffer_unordered(BURST);
        let mut answered = 0;
        while let Some((status, body)) = responses.next().await {
            *statuses.entry(status).or_default() += 1;
            if status == 201 {
                acknowledged.insert(body["id"].as_str().unwrap().to_owned());
            }
            answered += 1;
            if answered == BURST / 2 {
                break;
            }
        }
        gateway.kill();
        // The rest of the burst meets a dead process; a 201 that still
        // arrived was sent before the kill.
        while let Some((status, body)) = responses.next().await {
            *statuses.entry(status).or_default() += 1;
            if status == 201 {
                acknowledged.insert(body["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        statuses.keys().all(|s| [0, 201].contains(s)),
        "{statuses:?}"
    );
    let last = GatewayProcess::start(dir.path(), &env).await;
    assert_eq!(
        stored(dir.path(), &acknowledged).await,
        acknowledged,
        "an acknowledged intake is missing"
    );
    eventually(
        Duration::from_secs(90),
        "every acknowledged intake mailed",
        || async {
            let counts = mailed(&smtp);
            acknowledged.iter().all(|id| counts.contains_key(id))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let repeated: Vec<(String, usize)> =
        mailed(&smtp).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        repeated.len() <= ROUNDS && repeated.iter().all(|(_, n)| *n == 2),
        "only a message in flight at a kill may go twice: {repeated:?}"
    );
    eprintln!(
        "{} intakes acknowledged over {ROUNDS} kills ({statuses:?}, 0: no answer); {} mailed twice",
        acknowledged.len(),
        repeated.len()
    );
    drop(last);
}
