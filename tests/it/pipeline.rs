//! One pipeline for every channel: `serve` honours the same detector and
//! triage rules files as `redact --detectors` and `triage --extend-rules`,
//! `config check` validates them, and `rules check` takes each kind of file
//! as the command that uses it would.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::TestApp;

const MEMBER_IDS: &str = r#"
[[detector]]
id = "acme_member_id"
kind = "ssn"
service = "ACME membership numbers"
keywords = ["ACME-"]
pattern = '\bACME-[0-9]{6}\b'
confidence = 0.9
example = "member ACME-123456"
"#;

const MORE_TOOLS: &str = r#"
[[tool]]
name = "Acme Portal"
roles = ["access"]
aliases = ["acme portal"]
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gate(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn serve_uses_the_configured_detector_and_triage_files_like_the_cli() {
    let files = tempfile::tempdir().unwrap();
    let detectors = write(files.path(), "detectors.toml", MEMBER_IDS);
    let extension = write(files.path(), "more-rules.toml", MORE_TOOLS);
    let app = TestApp::spawn(|config| {
        config.scrub.detectors = Some(detectors.clone());
        config.triage.extend_rules = Some(extension.clone());
    })
    .await;
    let message = "Stripe paid but the Acme Portal seat never shows up for member ACME-123456";
    let response = app
        .post_json("/api/v1/intakes", &json!({"message": message}))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["removed"], json!({"ssn": 1}), "{body}");
    let batch: Value = app
        .post_json("/api/v1/triage", &json!([{"id": 1, "input": message}]))
        .await
        .json()
        .await
        .unwrap();
    let served = &batch[0];
    assert!(
        served["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("Acme Portal")),
        "{batch}"
    );
    app.stop().await;

    let line = json!({"id": 1, "input": message}).to_string();
    let args = [
        "triage",
        "--jsonl",
        "--detectors",
        detectors.to_str().unwrap(),
        "--extend-rules",
        extension.to_str().unwrap(),
    ];
    let (code, out, err) = gate(files.path(), &args, &line);
    assert_eq!(code, 0, "{err}");
    let cli: Value = serde_json::from_str(out.trim()).unwrap();
    for key in ["route", "handoffs", "privacy", "tools"] {
        assert_eq!(cli[key], served[key], "{key}: CLI {cli} vs server {served}");
    }
}

#[test]
fn config_check_reports_a_broken_rules_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "broken.toml",
        "[[tool]]\nname = \"X\"\nroles = 7\n",
    );
    write(
        dir.path(),
        "handoff-gate.toml",
        "[triage]\nextend_rules = \"broken.toml\"\n",
    );
    let (code, _, err) = gate(dir.path(), &["config", "check"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.toml"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    write(
        dir.path(),
        "handoff-gate.toml",
        "[triage]\nrules = \"a.toml\"\nextend_rules = \"b.toml\"\n",
    );
    let (code, _, err) = gate(dir.path(), &["config", "check"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exclude each other"), "{err}");
}

#[test]
fn rules_check_takes_an_extension_as_extend_rules_does() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "more-rules.toml", MORE_TOOLS);
    let (code, out, err) = gate(dir.path(), &["rules", "check", "more-rules.toml"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("triage rules extension OK"), "{out}");
    let (code, out, err) = gate(
        dir.path(),
        &[
            "rules",
            "check",
            "--as",
            "triage-extension",
            "more-rules.toml",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("extension OK"), "{out}");
    // As a whole rule set it lacks the routes: said so, not accepted.
    let (code, _, err) = gate(
        dir.path(),
        &["rules", "check", "--as", "triage", "more-rules.toml"],
        "",
    );
    assert_ne!(code, 0, "{err}");
}
