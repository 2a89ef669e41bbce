//! `handoff-gate outbox` beside a running gateway: dead emails are listed
//! with their error, requeued (one or all) and then sent to a real SMTP
//! server; sent rows are purged.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{SmtpServer, TestApp, eventually, free_port, smtp_available, use_smtp};

/// Run `handoff-gate outbox ARGS` on `app`'s store: exit code, stdout,
/// stderr. It runs off the test's runtime thread, so the gateway's own
/// tasks go on (and finish the write they may be in) meanwhile.
async fn outbox(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handoff-gate"));
    command
        .arg("outbox")
        .args(args)
        .current_dir(app.dir.path())
        .env("HANDOFF_GATE__STORE__URL", &app.state.config.store.url);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn dead_emails_are_listed_requeued_and_sent_and_sent_rows_purged() {
    if !smtp_available("dead_emails_are_listed_requeued_and_sent") {
        return;
    }
    let port = free_port(); // no relay yet: every send fails
    let app = TestApp::spawn(|c| {
        use_smtp(c, port);
        c.delivery.max_attempts = 1;
        c.delivery.poll_ms = 3_600_000; // only the test drives the outbox
    })
    .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = app
            .post_json(
                "/api/v1/intakes",
                &json!({"message": format!("Zapier drops lead {n}")}),
            )
            .await;
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    eventually(Duration::from_secs(10), "three dead emails", || async {
        app.drain().await;
        app.state.store.outbox_lag().await.unwrap().dead == 3
    })
    .await;

    let (code, text, _) = outbox(&app, &[]).await;
    assert_eq!(code, 0);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned())
    };
    assert_eq!(line("dead").as_deref(), Some("3"), "{text}");
    assert_eq!(line("pending").as_deref(), Some("0"), "{text}");
    assert!(ids.iter().all(|id| text.contains(id.as_str())), "{text}");
    assert!(
        text.contains("last error: cannot connect to 127.0.0.1"),
        "{text}"
    );
    let (_, json, _) = outbox(&app, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (status["pending"].as_u64(), status["dead"].as_u64()),
        (Some(0), Some(3))
    );

    let (code, text, error) = outbox(&app, &["requeue", &ids[0]]).await;
    assert_eq!(code, 0, "{error}");
    assert_eq!(
        (code, text.trim()),
        (0, format!("requeued {}", ids[0]).as_str())
    );
    let (code, _, error) = outbox(
        &app,
        &["requeue", &ids[0], "01a20c3c-77cb-7345-b77e-cb4bbf003987"],
    )
    .await;
    assert_eq!(code, 1, "neither is a dead email now");
    assert!(error.contains("is not a dead email"), "{error}");
    let (code, text, _) = outbox(&app, &["requeue", "--all"]).await;
    assert_eq!(code, 0);
    assert!(text.starts_with("requeued 2 dead email(s)"), "{text}");

    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(port, maildir.path());
    eventually(Duration::from_secs(10), "three emails sent", || async {
        app.drain().await;
        smtp.messages().len() == 3
    })
    .await;

    let (code, text, _) = outbox(&app, &["purge", "--older-than-days", "0"]).await;
    assert_eq!(code, 0);
    assert!(text.starts_with("purged the rows of 3 email(s)"), "{text}");
    assert!(app.state.store.outbox_states().await.unwrap().is_empty());
    let (_, help, _) = outbox(&app, &["--help"]).await;
    assert!(
        help.contains("requeue --all") && help.contains("Examples"),
        "{help}"
    );
    app.stop().await;
}
