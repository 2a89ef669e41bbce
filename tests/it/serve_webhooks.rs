//! Signed webhooks against real receivers: a small Python server that
//! verifies every delivery with the `standardwebhooks` package from PyPI (an
//! independent implementation of the specification). Each stored intake
//! reaches every endpoint once, scrubbed; an endpoint that is down gets it
//! later, once; no planted private value reaches a receiver; an erased
//! intake takes its waiting deliveries with it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestApp, eventually, free_port};
use handoff_gate::config::{Secret, WebhookEndpoint};
use handoff_gate::store::IntakeId;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `tests/webhook/receiver.py` on a port, logging to a file.
struct Receiver {
    port: u16,
    log: PathBuf,
    child: Option<Child>,
}

impl Receiver {
    fn new(dir: &Path, name: &str) -> Receiver {
        Receiver {
            port: free_port(),
            log: dir.join(format!("{name}.jsonl")),
            child: None,
        }
    }

    fn start(&mut self, secret: &str) {
        let mut child = Command::new("python3")
            .arg(format!("{ROOT}/tests/webhook/receiver.py"))
            .arg(self.port.to_string())
            .arg(secret)
            .arg(&self.log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the receiver started");
        self.child = Some(child);
    }

    fn deliveries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn raw(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn endpoint(&self, name: &str, secret: &str) -> WebhookEndpoint {
        WebhookEndpoint {
            name: name.to_owned(),
            url: format!("http://127.0.0.1:{}/hooks/intake", self.port)
                .parse()
                .unwrap(),
            secret: Secret::new(secret),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn receiver_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::support::skipped(
            "signed webhooks",
            "the Python package standardwebhooks is missing",
            "pip install standardwebhooks; .ci/run installs it",
        );
    }
    ok
}

const SECRET_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_B: &str = "whsec_c2VjcmV0LWZvci10aGUtY3JtLWVuZHBvaW50LTMyYnl0ZXM=";

async fn submit(app: &TestApp, body: Value) -> IntakeId {
    let response = app.post_json("/api/v1/intakes", &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    IntakeId::parse(created["id"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_is_signed_and_a_receiver_that_was_down_gets_it_later_once() {
    if !receiver_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut slack = Receiver::new(dir.path(), "slack");
    let mut crm = Receiver::new(dir.path(), "crm");
    slack.start(SECRET_A);
    // The CRM's receiver is down for now.
    let app = TestApp::spawn(|c| {
        c.webhooks.endpoints = vec![
            slack.endpoint("slack", SECRET_A),
            crm.endpoint("crm", SECRET_B),
        ];
        c.webhooks.timeout_seconds = 1;
        c.server.public_url = Some("https://gate.example.com".to_owned());
        c.delivery.retry_base_ms = 200;
    })
    .await;
    let paid = submit(
        &app,
        json!({
            "message": "Buyers pay in Stripe but Kajabi never unlocks the course; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc, client dana.whitfield@client.test",
            "affected_tools": "Stripe, Kajabi",
            "contact_email": "owner@mybiz.test",
            "consent": true,
        }),
    )
    .await;
    let quiet = submit(
        &app,
        json!({"message": "where do i start with automations"}),
    )
    .await;
    let planted = submit(&app, crate::serve_leaks::planted_request()).await;

    eventually(
        Duration::from_secs(20),
        "both intakes at the Slack endpoint",
        || async { slack.deliveries().len() >= 3 },
    )
    .await;
    // The CRM has been tried and is waiting for a retry.
    eventually(
        Duration::from_secs(20),
        "a failed attempt to the CRM",
        || async {
            app.state
                .store
                .webhook_states(&paid)
                .await
                .unwrap()
                .iter()
                .any(|s| s.endpoint == "crm" && s.attempts >= 1 && s.state == "pending")
        },
    )
    .await;
    crm.start(SECRET_B);
    eventually(
        Duration::from_secs(20),
        "both intakes at the CRM",
        || async { crm.deliveries().len() >= 3 },
    )
    .await;
    // Give a duplicate time to show up, then count.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for receiver in [&slack, &crm] {
        let deliveries = receiver.deliveries();
        assert_eq!(deliveries.len(), 3, "once each: {deliveries:?}");
        assert!(
            deliveries.iter().all(|d| d["verified"] == true),
            "every signature verifies: {deliveries:?}"
        );
        let mut ids: Vec<&str> = deliveries
            .iter()
            .map(|d| d["payload"]["data"]["id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        let mut expected = vec![paid.as_str(), quiet.as_str(), planted.as_str()];
        expected.sort_unstable();
        assert_eq!(ids, expected);
        let raw = receiver.raw();
        for value in crate::serve_leaks::PLANTED {
            assert!(!raw.contains(value), "{value} reached a webhook");
        }
    }
    let delivered = slack
        .deliveries()
        .into_iter()
        .find(|d| d["payload"]["data"]["id"] == paid.as_str())
        .unwrap();
    let data = &delivered["payload"]["data"];
    assert_eq!(delivered["payload"]["type"], "intake.stored");
    assert!(
        data["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("[API_KEY]")
    );
    assert_eq!(data["removed"]["api_key"], 1);
    assert_eq!(data["rotate_credentials"], true);
    assert_eq!(data["reply_to"], "owner@mybiz.test");
    assert_eq!(
        data["inbox_url"],
        format!("https://gate.example.com/inbox/{paid}")
    );
    assert!(
        delivered["webhook_id"]
            .as_str()
            .unwrap()
            .starts_with("msg_")
    );
    let states = app.state.store.webhook_states(&paid).await.unwrap();
    assert!(states.iter().all(|s| s.state == "sent"), "{states:?}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .contains("handoff_gate_webhook_deliveries_total{endpoint=\"crm\",outcome=\"retry\"}"),
        "{metrics}"
    );

    // An intake erased before its delivery is never posted.
    drop(crm);
    let erased = submit(&app, json!({"message": "please forget this one"})).await;
    eventually(Duration::from_secs(20), "the Slack delivery", || async {
        slack.deliveries().len() == 4
    })
    .await;
    assert!(app.state.outbox.erase(&erased).await.unwrap());
    assert!(
        app.state
            .store
            .webhook_states(&erased)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[test]
fn the_signature_matches_the_specifications_example() {
    let key = handoff_gate::deliver::webhook::secret_key(SECRET_A).unwrap();
    assert_eq!(
        handoff_gate::deliver::webhook::sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    for bad in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_not base64!",
        "whsec_c2hvcnQ=",
    ] {
        assert!(
            handoff_gate::deliver::webhook::secret_key(bad).is_err(),
            "{bad}"
        );
    }
}
