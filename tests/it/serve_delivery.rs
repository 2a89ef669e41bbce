//! Delivery faults with a real SMTP server process: down while intakes
//! arrive, the gateway killed mid-queue, retries running out, retention.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    GatewayProcess, SmtpServer, TestApp, eventually, free_port, message_id, smtp_available,
    use_smtp,
};

#[tokio::test]
async fn smtp_down_while_50_intakes_arrive_then_up_delivers_each_exactly_once() {
    if !smtp_available("smtp_down_while_50_intakes_arrive") {
        return;
    }
    let port = free_port();
    let app = TestApp::spawn(|c| use_smtp(c, port)).await;
    let mut ids = BTreeSet::new();
    for n in 0..50 {
        let response = app
            .post_json(
                "/api/v1/intakes",
                &json!({"message": format!("Typeform entry {n} never reaches ActiveCampaign")}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ids.insert(format!(
            "<intake-{}@localhost>",
            body["id"].as_str().unwrap()
        ));
    }
    let round = app.drain().await;
    assert_eq!(round.sent, 0, "nothing can be sent while SMTP is down");
    assert_eq!(app.state.store.outbox_lag().await.unwrap().pending, 50);

    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(port, maildir.path());
    eventually(Duration::from_secs(30), "all 50 emails", || async {
        app.state.store.outbox_lag().await.unwrap().pending == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| message_id(m))
        .collect();
    assert_eq!(received.len(), 50, "exactly 50 messages");
    assert_eq!(
        received.iter().cloned().collect::<BTreeSet<_>>(),
        ids,
        "one per intake"
    );
    let states = app.state.store.outbox_states().await.unwrap();
    assert_eq!(states.get("sent"), Some(&50));
    app.stop().await;
}

#[tokio::test]
async fn a_gateway_killed_mid_queue_loses_nothing_after_restart() {
    if !smtp_available("a_gateway_killed_mid_queue_loses_nothing_after_restart") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [
        ("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()),
        ("HANDOFF_GATE__SMTP__PORT", port.to_string()),
        ("HANDOFF_GATE__SMTP__TLS", "none".to_owned()),
        ("HANDOFF_GATE__SMTP__TIMEOUT_SECONDS", "2".to_owned()),
    ];
    let gateway = GatewayProcess::start(dir.path(), &env).await;
    let client = reqwest::Client::new();
    let mut ids = BTreeSet::new();
    for n in 0..20 {
        let response = client
            .post(format!("{}/api/v1/intakes", gateway.base))
            .json(&json!({"message": format!("Calendly booking {n} not in the HubSpot pipeline")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ids.insert(format!(
            "<intake-{}@localhost>",
            body["id"].as_str().unwrap()
        ));
    }
    gateway.kill();

    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(port, maildir.path());
    let restarted = GatewayProcess::start(dir.path(), &env).await;
    eventually(
        Duration::from_secs(30),
        "the 20 queued emails after restart",
        || async { smtp.messages().len() >= 20 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| message_id(m))
        .collect();
    assert_eq!(received.len(), 20, "no duplicates");
    assert_eq!(received.into_iter().collect::<BTreeSet<_>>(), ids);
    drop(restarted);
}

#[tokio::test]
async fn an_email_that_keeps_failing_goes_dead_after_max_attempts() {
    let port = free_port(); // nothing listens there
    let app = TestApp::spawn(|c| {
        use_smtp(c, port);
        c.delivery.max_attempts = 3;
        c.delivery.retry_base_ms = 10;
        c.delivery.poll_ms = 3_600_000; // only the test drives the outbox
    })
    .await;
    let created = app
        .post_json("/api/v1/intakes", &json!({"message": "Kit tag missing"}))
        .await;
    assert_eq!(created.status(), 201);
    eventually(Duration::from_secs(20), "the email to go dead", || async {
        app.drain().await;
        app.state.store.outbox_lag().await.unwrap().dead == 1
    })
    .await;
    assert_eq!(app.state.store.outbox_lag().await.unwrap().pending, 0);
    app.stop().await;
}

/// Post one intake and wait until its `.eml` file is written; its id.
async fn mailed_to_a_file(app: &TestApp) -> String {
    loop {
        let created: Value = app
            .post_json(
                "/api/v1/intakes",
                &json!({"message": "Stripe webhook to Teachable fails"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let file = app.dir.path().join(format!("mail/{id}.eml"));
        for _ in 0..100 {
            app.drain().await;
            if file.exists() {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // With retention_days = 0, the worker's first retention pass (at
        // start) may delete the intake before it is mailed: send another.
        assert_eq!(app.intake_count().await, 0, "{id} was never mailed");
    }
}

#[tokio::test]
async fn erasure_removes_the_intake_its_outbox_row_and_its_mail_file() {
    let app = TestApp::spawn(|c| {
        c.admin.token = Some(handoff_gate::config::Secret::new("erase-admin"));
    })
    .await;
    let id = mailed_to_a_file(&app).await;
    let kept = mailed_to_a_file(&app).await;
    let erase = || {
        app.client
            .delete(app.url(&format!("/api/v1/intakes/{id}")))
            .bearer_auth("erase-admin")
            .send()
    };
    assert_eq!(erase().await.unwrap().status(), 204);
    assert_eq!(erase().await.unwrap().status(), 404);
    assert_eq!(
        app.intake_count().await,
        1,
        "only the other intake's outbox row is left"
    );
    let files: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [format!("{kept}.eml")],
        "the erased intake's mail file is gone"
    );
    app.stop().await;
}

#[tokio::test]
async fn retention_deletes_old_intakes_and_their_mail_files() {
    let app = TestApp::spawn(|c| c.retention_days = 0).await;
    let id = mailed_to_a_file(&app).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The worker's own first retention pass may get there first.
    let deleted = app.state.outbox.apply_retention().await.unwrap();
    assert!(deleted <= 1);
    assert_eq!(app.intake_count().await, 0);
    assert!(!app.dir.path().join(format!("mail/{id}.eml")).exists());
    app.stop().await;
}
