//! `handoff-gate train` through the real binary: retraining from the
//! committed data reproduces the embedded model byte for byte, the figures
//! it prints are cross-validated and held-out (never on fitted cases), a
//! trained file is what `triage --model` serves, and bad data gets a clear
//! error that never quotes it.

use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .arg("train")
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

/// The first figure after `label` in the report: the k-fold mean, or the
/// held-out figure when it follows the held-out heading.
fn figure(report: &str, section: &str, label: &str) -> f64 {
    let from = report
        .find(section)
        .unwrap_or_else(|| panic!("{section} in {report}"));
    let line = report[from..]
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("{label} in {report}"));
    line.trim_start()[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number in {line}"))
}

#[test]
fn retraining_from_the_committed_data_reproduces_the_embedded_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("router.model");
    let run = train(&["models/router/data/dev.jsonl", "-o", out.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let committed = std::fs::read(Path::new(ROOT).join("models/router/router.model")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "the committed model differs from a retrain: the data, the rules, the scrubber or the \
         features changed. Rebuild it with\n  cargo run --release -- train \
         models/router/data/dev.jsonl -o models/router/router.model\nand commit it.\n{report}"
    );
    assert_eq!(
        committed,
        handoff_triage::DEFAULT_MODEL,
        "the binary embeds the committed file"
    );

    // The figures are cross-validated on the training part and measured on
    // a held-out split; the floors catch a broken model, not noise.
    let cv = "5-fold cross-validation";
    let held = "held-out split";
    println!("{report}");
    assert!(figure(&report, cv, "route accuracy") >= 0.90, "{report}");
    assert!(
        figure(&report, cv, "handoff exact match") >= 0.85,
        "{report}"
    );
    assert!(figure(&report, held, "route accuracy") >= 0.88, "{report}");
    assert!(report.contains("0 private intake(s) called clean") || report.contains("privacy"));
}

#[test]
fn a_trained_model_is_served_by_triage_and_bad_data_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mine.jsonl");
    let mut lines = String::new();
    for (i, (text, route, handoff)) in [
        (
            "the typeform never creates the contact in hubspot",
            "repair",
            "form_to_crm",
        ),
        (
            "welcome email goes out twice from activecampaign",
            "repair",
            "crm_to_followup",
        ),
        ("what is a crm, just starting out", "nurture", ""),
        ("great video thanks", "nurture", ""),
    ]
    .iter()
    .cycle()
    .take(40)
    .enumerate()
    {
        let handoffs: Vec<&str> = [*handoff].into_iter().filter(|h| !h.is_empty()).collect();
        lines.push_str(
            &serde_json::json!({"id": format!("m-{i}"), "channel": "comment", "input": text,
                "expected": {"route": route, "handoffs": handoffs}})
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(&data, &lines).unwrap();
    let model = dir.path().join("mine.model");
    let run = train(&[
        data.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "--folds",
        "2",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let triage = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args(["triage", "--jsonl", "--model", model.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    triage
        .stdin
        .as_ref()
        .unwrap()
        .write_all(b"{\"id\": 1, \"input\": \"great video, thanks\"}\n")
        .unwrap();
    let out = triage.wait_with_output().unwrap();
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["route"], "nurture", "{line}");
    assert!(line["confidence"].as_f64().unwrap() > 0.5, "{line}");

    let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    std::fs::write(
        &data,
        format!(
            "{{\"id\": \"x\", \"input\": \"hi\", \"expected\": {{\"route\": \"{secret}\"}}}}\n"
        ),
    )
    .unwrap();
    let run = train(&[data.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("mine.jsonl, line 1"), "{stderr}");
    assert!(!stderr.contains("sk_live"), "{stderr}");

    let not_a_model = dir.path().join("not.model");
    std::fs::write(&not_a_model, b"hello").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args([
            "triage",
            "--jsonl",
            "--model",
            not_a_model.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not a handoff-gate router model"),
        "{stderr}"
    );
}
