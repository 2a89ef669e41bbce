//! The embed widget in real headless Chromium: this starts the gateway
//! (allowing a second loopback origin to frame it), hands the peer corpora's
//! server-side findings to `tests/browser/embed.test.mjs` (which checks that
//! the form's WebAssembly scrubber finds exactly the same; playwright-core
//! driving Debian's chromium, axe-core for accessibility), then checks that
//! the intake it submitted was stored and mailed. Screenshots land in
//! `target/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use handoff_scrub::{Policy, scrub};
use serde_json::{Value, json};

use crate::support::{TestApp, eventually, free_port};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Chromium and the npm packages, or a reason they are missing. In CI a
/// missing piece fails the test; locally it is skipped with the fix.
pub(crate) fn browser_tools() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        return Err(format!(
            "{} not found (apt-get install chromium)",
            chromium.display()
        ));
    }
    let modules = root().join("tests/browser/node_modules");
    if !modules.join("playwright-core").is_dir() || !modules.join("axe-core").is_dir() {
        return Err(
            "tests/browser/node_modules is missing (npm ci --prefix tests/browser)".to_owned(),
        );
    }
    Ok(chromium)
}

/// The server's findings for every corpus record, by id: kind and string
/// offsets as JavaScript counts them (UTF-16 code units).
fn server_findings(corpus: &Path, out: &Path) {
    let policy = Policy::default();
    let mut findings = serde_json::Map::new();
    for entry in std::fs::read_dir(corpus).unwrap().filter_map(Result::ok) {
        if entry.path().extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(entry.path())
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let record: Value = serde_json::from_str(line).unwrap();
            let text = record["text"].as_str().unwrap();
            let utf16 = |byte: usize| text[..byte].encode_utf16().count();
            let kinds: Vec<Value> = scrub(text, &policy)
                .findings()
                .iter()
                .map(|f| json!({"kind": f.kind.as_str(), "start": utf16(f.start), "end": utf16(f.end)}))
                .collect();
            findings.insert(
                record["id"].as_str().unwrap().to_owned(),
                Value::Array(kinds),
            );
        }
    }
    std::fs::write(out, serde_json::to_vec(&findings).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_works_in_chromium_embedded_in_another_origin() {
    let chromium = match browser_tools() {
        Ok(path) => path,
        Err(missing) => {
            crate::support::skipped(
                "the_widget_works_in_chromium",
                &missing,
                ".ci/run installs it",
            );
            return;
        }
    };
    let host_port = free_port();
    let stranger_port = free_port();
    let app = TestApp::spawn(|c| {
        c.embed.allowed_origins = vec![format!("http://localhost:{host_port}").parse().unwrap()];
    })
    .await;
    let corpus = root().join("../shared/corpora/peer");
    let findings = app.dir.path().join("server-findings.json");
    if corpus.is_dir() {
        server_findings(&corpus, &findings);
    } else {
        crate::support::skipped_without_shared(
            "browser/server agreement",
            "../shared/corpora/peer",
        );
    }
    let screenshots = root().join("target/screenshots");
    let script = root().join("tests/browser/embed.test.mjs");
    let output = tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || {
            Command::new("node")
                .arg(script)
                .env("GATE", base)
                .env("HOST_PORT", host_port.to_string())
                .env("STRANGER_PORT", stranger_port.to_string())
                .env("SCREENSHOTS", &screenshots)
                .env("CORPUS", &corpus)
                .env("SERVER_FINDINGS", &findings)
                .env("CHROMIUM", chromium)
                .output()
                .expect("node runs")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );

    // The intake submitted inside the iframe was stored and mailed.
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("intake "))
        .expect("the script reports the intake id");
    let id = handoff_gate::store::IntakeId::parse(id).unwrap();
    let record = app.state.store.intake(&id).await.unwrap().expect("stored");
    assert_eq!(
        record.removed.get(&handoff_scrub::FindingKind::ApiKey),
        Some(&1)
    );
    app.drain().await;
    eventually(Duration::from_secs(10), "the widget's email", || async {
        app.mail_files()
            .iter()
            .any(|m| m.contains(&format!("intake-{id}@")))
    })
    .await;
    for shot in ["form", "error", "thanks"] {
        for width in ["desktop", "mobile"] {
            let path = root().join(format!("target/screenshots/{shot}-{width}.png"));
            assert!(path.exists(), "{} was not saved", path.display());
        }
    }
    app.stop().await;
}
