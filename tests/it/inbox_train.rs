//! The retraining loop docs/triage.md gives, end to end: the consultant
//! corrects and confirms intakes in the inbox, downloads the labelled JSON
//! lines, `handoff-gate train` (the real binary) fits a model on the
//! committed data plus that export, and the gateway restarted with the
//! model serves it: the inbox then counts corrections from zero again.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::inbox_client::{Inbox, password_hash};
use crate::support::TestApp;
use handoff_gate::store::IntakeId;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

async fn submit(app: &TestApp, body: Value) -> IntakeId {
    let response = app.post_json("/api/v1/intakes", &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    IntakeId::parse(created["id"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corrected_intake_export_trains_a_model_the_gateway_serves() {
    let app = TestApp::spawn(|c| c.inbox.password_hash = Some(password_hash())).await;
    let comment = submit(
        &app,
        json!({"message": "love this channel!! where do i start learning automations"}),
    )
    .await;
    let paid = submit(
        &app,
        json!({
            "message": "Buyers pay in Stripe but Kajabi never unlocks the course; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "affected_tools": "Stripe, Kajabi",
        }),
    )
    .await;
    let mut inbox = Inbox::signed_in(&app).await;
    inbox
        .post(
            &format!("/inbox/{comment}/label"),
            &[("route", "checklist"), ("handoffs", "form_to_crm")],
        )
        .await;
    inbox
        .post(
            &format!("/inbox/{paid}/label"),
            &[("route", "repair"), ("handoffs", "payment_to_access")],
        )
        .await;
    let queue = inbox.page("/inbox").await;
    assert!(queue.contains("corrections since then") || queue.contains("correction since then"));

    let export = inbox.get("/inbox/labels.jsonl").await;
    assert_eq!(export.status(), StatusCode::OK);
    let export = export.text().await.unwrap();
    assert_eq!(export.lines().count(), 2, "{export}");
    assert!(
        !export.contains("sk_live"),
        "the export holds scrubbed text"
    );
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("my-corrections.jsonl");
    std::fs::write(&labels, &export).unwrap();
    let model = dir.path().join("my-router.model");

    let train = tokio::task::spawn_blocking({
        let (labels, model) = (labels.clone(), model.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
                .args(["train", "models/router/data/dev.jsonl"])
                .arg(&labels)
                .arg("-o")
                .arg(&model)
                .args(["--folds", "0"])
                .current_dir(ROOT)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&train.stdout).into_owned();
    assert!(
        train.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&train.stderr)
    );
    let dev = std::fs::read_to_string(format!("{ROOT}/models/router/data/dev.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(
        report.contains(&format!(
            "read {} labelled intake(s) from 2 file(s)",
            dev + 2
        )),
        "{report}"
    );
    let bytes = std::fs::read(&model).unwrap();
    let loaded =
        handoff_triage::Model::from_bytes("my-router.model", &bytes).expect("the model loads");
    assert!(loaded.provenance.examples > 0);

    // Served: the inbox names the new model and counts from zero.
    let app = app
        .restart(|c| {
            c.inbox.password_hash = Some(password_hash());
            c.triage.model = Some(model.clone());
        })
        .await;
    inbox.base = app.base.clone();
    let queue = inbox.page("/inbox").await;
    assert!(
        queue.contains(&format!(
            "trained on {} labelled intakes",
            loaded.provenance.examples
        )),
        "{queue}"
    );
    assert!(
        queue.contains("<strong>0 corrections since then.</strong>"),
        "{queue}"
    );
    app.stop().await;
}
