//! What operators see: Prometheus metrics and JSON logs with request ids,
//! neither ever holding a submitted value.

use serde_json::{Value, json};

use crate::support::{GatewayProcess, TestApp};

const KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

#[tokio::test]
async fn metrics_count_routes_kinds_and_delivery_never_values() {
    let app = TestApp::spawn(|c| c.limits.min_fill_seconds = 60).await;
    let created = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": format!("Stripe paid but Kajabi never unlocks; key {KEY}, buyer jane@acme.test")}),
        )
        .await;
    assert_eq!(created.status(), 201);
    // Sent at once: held for the consultant, counted apart.
    let fast = app.post_form(&[("message", "cheap SEO")]).await;
    assert_eq!(fast.status(), 303);
    app.drain().await;
    let response = app.get("/metrics").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "handoff_gate_intakes_total{privacy=\"redact\",route=\"systems_audit\"} 1",
        "handoff_gate_intake_handoffs_total{handoff=\"payment_to_access\"} 1",
        "handoff_gate_findings_total{kind=\"api_key\"} 1",
        "handoff_gate_findings_total{kind=\"email\"} 1",
        "handoff_gate_bot_discards_total 0",
        "handoff_gate_intakes_held_total 1",
        "handoff_gate_http_requests_total{route=\"/api/v1/intakes\",status=\"201\"} 1",
        "handoff_gate_outbox_pending 0",
        "handoff_gate_outbox_dead 0",
        "handoff_gate_outbox_held 1",
        "handoff_gate_outbox_oldest_pending_seconds 0",
        "handoff_gate_email_send_failures_total 0",
        "handoff_gate_scrub_seconds_count 2",
        "handoff_gate_triage_seconds_count 2",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(
        text.contains(
            "handoff_gate_http_request_duration_seconds_bucket{route=\"/api/v1/intakes\""
        )
    );
    assert!(!text.contains("sk_live") && !text.contains("jane@"));
    app.stop().await;
}

#[tokio::test]
async fn json_log_lines_carry_the_request_id_and_no_private_value() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = GatewayProcess::start(dir.path(), &[("RUST_LOG", "info".to_owned())]).await;
    let client = reqwest::Client::new();
    let mut request_ids = Vec::new();
    for body in [
        json!({"message": format!("Zapier drops the lead; key {KEY}")}),
        json!({"message": "x", "contact_email": KEY}),
    ] {
        let response = client
            .post(format!("{}/api/v1/intakes", gateway.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        request_ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A graceful stop writes the lines still queued for the log writer.
    gateway.stop();
    let log = crate::support::gateway_log(dir.path());
    assert!(!log.contains("sk_live"), "a planted key reached the log");
    let mut seen = std::collections::BTreeSet::new();
    for line in log.lines().filter(|l| l.starts_with('{')) {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let target = entry["target"].as_str().unwrap_or("");
        // Request handling logs from web::guard, web::submit …; start-up from web itself.
        if target.starts_with("handoff_gate::web::") {
            let id = entry["span"]["request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("a request line without request_id: {line}"));
            seen.insert(id.to_owned());
        }
    }
    for id in &request_ids {
        assert!(seen.contains(id), "no log line for request {id}");
    }
}

#[tokio::test]
async fn the_start_up_banner_masks_the_store_password() {
    let Some(db) =
        crate::support::PgDatabase::create("the_start_up_banner_masks_the_store_password").await
    else {
        return;
    };
    // Trust authentication ignores the password; the banner must still hide it.
    let url = db
        .url
        .replacen("://postgres@", "://postgres:banner-s3cret@", 1);
    assert!(
        url.contains("banner-s3cret"),
        "TEST_DATABASE_URL names the user postgres"
    );
    let dir = tempfile::tempdir().unwrap();
    let gateway = GatewayProcess::start(dir.path(), &[("HANDOFF_GATE__STORE__URL", url)]).await;
    drop(gateway);
    let log = crate::support::gateway_log(dir.path());
    assert!(
        log.contains("store: postgres://postgres:[REDACTED]@"),
        "{log}"
    );
    assert!(!log.contains("banner-s3cret"));
    db.drop_database().await;
}

#[tokio::test]
async fn the_start_up_banner_names_the_tls_mode_and_warns_when_mail_goes_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = GatewayProcess::start(
        dir.path(),
        &[
            ("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()),
            ("HANDOFF_GATE__SMTP__PORT", "2525".to_owned()),
            ("HANDOFF_GATE__SMTP__TLS", "none".to_owned()),
        ],
    )
    .await;
    drop(gateway);
    let log = crate::support::gateway_log(dir.path());
    assert!(
        log.contains("mail:  SMTP 127.0.0.1:2525 (no encryption)"),
        "{log}"
    );
    assert!(!log.contains("(None)"), "{log}");
    assert!(log.contains("warning: mail.to:"), "{log}");
}
