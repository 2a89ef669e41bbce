//! The consultant's inbox in real headless Chromium: sign in (a wrong
//! password first), filter by tab and search, open an intake and correct
//! its route and handoffs, release a held intake (it is then mailed), erase
//! one, download both exports, sign out (a
//! copy of the old cookie is then refused); axe-core finds nothing serious
//! on the sign-in page, the queue and an intake; Tab reaches the search and
//! the intakes. Runs `tests/browser/inbox.test.mjs`; screenshots of the
//! queue and an intake at 1280 px and 390 px land in `target/screenshots/`.

use std::process::Command;

use serde_json::{Value, json};

use crate::browser::{browser_tools, root};
use crate::inbox_client::{PASSWORD, password_hash};
use crate::support::TestApp;
use handoff_gate::store::IntakeId;

async fn submit(app: &TestApp, body: Value) -> IntakeId {
    let response = app.post_json("/api/v1/intakes", &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    IntakeId::parse(created["id"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consultant_works_the_inbox_in_chromium() {
    let chromium = match browser_tools() {
        Ok(path) => path,
        Err(missing) => {
            crate::support::skipped(
                "the_consultant_works_the_inbox_in_chromium",
                &missing,
                ".ci/run installs it",
            );
            return;
        }
    };
    let app = TestApp::spawn(|c| {
        c.inbox.password_hash = Some(password_hash());
        c.consultant.name = Some("Alex Rivera".to_owned());
    })
    .await;
    let paid = submit(
        &app,
        json!({
            "message": "Buyers pay in Stripe but Kajabi never unlocks the course; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "affected_tools": "Stripe, Kajabi",
            "contact_email": "owner@mybiz.test",
            "consent": true,
        }),
    )
    .await;
    let comment = submit(
        &app,
        json!({"message": "love this channel!! where do i start learning automations"}),
    )
    .await;
    let spam = submit(
        &app,
        json!({"message": "We sell backlinks and SEO packages, reply for prices"}),
    )
    .await;
    submit(
        &app,
        json!({"message": "Typeform answers never land in the HubSpot budget field", "affected_tools": "Typeform, HubSpot"}),
    )
    .await;
    // A person who pasted and sent at once: held back from the mail.
    let (scrubbed, triage) = crate::support::reviewed(
        json!({"message": "Zapier stopped moving Calendly bookings into Pipedrive last week"}),
    );
    let handoff_gate::store::Inserted::Created(held) = app
        .state
        .store
        .insert_held(&scrubbed, &triage, None)
        .await
        .unwrap()
    else {
        panic!("stored");
    };
    let output = tokio::task::spawn_blocking({
        let base = app.base.clone();
        let (comment, spam, held) = (comment.to_string(), spam.to_string(), held.id.to_string());
        move || {
            Command::new("node")
                .arg(root().join("tests/browser/inbox.test.mjs"))
                .env("GATE", base)
                .env("PASSWORD", PASSWORD)
                .env("CORRECT", comment)
                .env("ERASE", spam)
                .env("HELD", held)
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

    // What the browser did is what the store holds.
    assert!(stdout.contains(&format!("corrected {comment}")));
    let label = app
        .state
        .store
        .entry(&comment)
        .await
        .unwrap()
        .unwrap()
        .label
        .expect("the correction is stored");
    assert_eq!(label.route, handoff_triage::Route::Checklist);
    assert_eq!(label.stamp.by, "Alex Rivera");
    assert!(stdout.contains(&format!("erased {spam}")));
    assert!(stdout.contains(&format!("released {}", held.id)));
    assert!(
        app.state.store.held(10).await.unwrap().is_empty(),
        "released"
    );
    app.drain().await;
    assert!(
        app.mail_files()
            .iter()
            .any(|m| m.contains(&format!("intake-{}@", held.id))),
        "the released intake was mailed"
    );
    assert!(app.state.store.intake(&spam).await.unwrap().is_none());
    assert!(app.state.store.intake(&paid).await.unwrap().is_some());
    assert!(
        stdout.contains("csv 4") && stdout.contains("jsonl 1"),
        "{stdout}"
    );
    for shot in ["inbox-queue", "inbox-intake"] {
        for width in ["desktop", "mobile"] {
            let path = root().join(format!("target/screenshots/{shot}-{width}.png"));
            assert!(path.exists(), "{} was not saved", path.display());
        }
    }
    app.stop().await;
}
