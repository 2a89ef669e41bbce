//! Nobody lost at the door, in real headless Chromium: a page whose origin
//! is not allowed gets its link back and a console line naming the origin;
//! an allowed page's address travels as a hidden field with only its utm_*
//! parameters, nothing prefilled and the optional sections closed; a
//! refusal keeps the question; the thank-you page says what happens next,
//! who answers and when, and shows what the consultant will read; no page
//! load ends in an error (the favicon included); a form sent at once sees
//! the normal thank-you and is held for the consultant, not dropped. Runs
//! `tests/browser/door.test.mjs`; screenshots land in `target/screenshots/`.

use std::process::Command;

use crate::browser::{browser_tools, root};
use crate::support::{TestApp, free_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_is_lost_at_the_door_in_chromium() {
    let chromium = match browser_tools() {
        Ok(path) => path,
        Err(missing) => {
            crate::support::skipped(
                "nobody_is_lost_at_the_door_in_chromium",
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
        c.consultant.name = Some("Alex Rivera".to_owned());
        c.consultant.reply_time = Some("within two working days".to_owned());
    })
    .await;
    let hasty = TestApp::spawn(|c| c.limits.min_fill_seconds = 60).await;
    let output = tokio::task::spawn_blocking({
        let base = app.base.clone();
        let hasty_base = hasty.base.clone();
        move || {
            Command::new("node")
                .arg(root().join("tests/browser/door.test.mjs"))
                .env("GATE", base)
                .env("HASTY_GATE", hasty_base)
                .env("HOST_PORT", host_port.to_string())
                .env("STRANGER_PORT", stranger_port.to_string())
                .env("SCREENSHOTS", root().join("target/screenshots"))
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
    let stored: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("intake "))
        .collect();
    assert_eq!(stored.len(), 3, "{stdout}");
    assert_eq!(app.intake_count().await, 3);
    let held: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("held "))
        .collect();
    assert_eq!(held.len(), 2, "{stdout}");
    assert_eq!(hasty.state.store.held_count().await.unwrap(), 2);
    hasty.drain().await;
    assert!(hasty.mail_files().is_empty(), "held intakes are not mailed");
    for shot in ["embed-fallback", "thanks-copy", "held-thanks"] {
        for width in ["desktop", "mobile"] {
            let path = root().join(format!("target/screenshots/{shot}-{width}.png"));
            assert!(path.exists(), "{} was not saved", path.display());
        }
    }
    app.stop().await;
    hasty.stop().await;
}
