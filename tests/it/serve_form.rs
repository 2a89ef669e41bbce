//! The HTML form against the real server, through to a real SMTP server.

use std::time::Duration;

use crate::support::{
    SmtpServer, TestApp, decode_quoted_printable, eventually, free_port, smtp_available, use_smtp,
};

#[tokio::test]
async fn the_form_page_warns_before_typing_and_carries_a_token() {
    let app = TestApp::spawn(|_| {}).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let page = response.text().await.unwrap();
    for needle in [
        "Before you type",
        "screenshots",
        "passwords or API keys",
        "name=\"form_token\"",
        "<label for=\"message\">",
        "<link rel=\"stylesheet\" href=\"/assets/gate.css\">",
        "aria-describedby=\"message-help\"",
        "name=\"website\"",
        "name=\"consent\"",
    ] {
        assert!(page.contains(needle), "missing {needle}");
    }
    // It works without JavaScript: a plain POST form; scripts only enhance it.
    assert!(page.contains("<form method=\"post\" action=\"/intake\""));
    for script in page.split("<script").skip(1) {
        assert!(
            script.starts_with(" src=\"/assets/") && script.contains("defer"),
            "{script}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_form_submission_reaches_the_consultant_over_smtp() {
    if !smtp_available("a_form_submission_reaches_the_consultant_over_smtp") {
        return;
    }
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(free_port(), maildir.path());
    let app = TestApp::spawn(|c| {
        use_smtp(c, smtp.port);
        c.mail.to = "Consultant <consultant@example.test>".to_owned();
    })
    .await;
    let response = app
        .post_form(&[
            ("message", "Paid in Stripe but the Kajabi offer never unlocks; my key sk_live_4eC39HqLyjWDarjtT1zdp7dc is below"),
            ("affected_tools", "Stripe, Kajabi"),
            ("contact_email", "me@mybiz.test"),
            ("consent", "yes"),
        ])
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/thanks/"), "{location}");

    let thanks = app.get(&location).await.text().await.unwrap();
    assert!(thanks.contains("Thanks, your question was received"));
    assert!(
        thanks.contains("<li>an API key or access token</li>"),
        "{thanks}"
    );
    assert!(thanks.contains("rotate that key or password now"));
    assert!(!thanks.contains("sk_live"));

    eventually(
        Duration::from_secs(10),
        "the SMTP server to receive the email",
        || async { smtp.messages().len() == 1 },
    )
    .await;
    let mail = decode_quoted_printable(&smtp.messages()[0]);
    let id = location.trim_start_matches("/thanks/");
    assert!(mail.contains(&format!("<intake-{id}@localhost>")), "{mail}");
    assert!(
        mail.contains("To: \"Consultant\" <consultant@example.test>")
            || mail.contains("To: Consultant <consultant@example.test>"),
        "{mail}"
    );
    assert!(mail.contains("Reply-To: me@mybiz.test"));
    assert!(mail.contains("[API_KEY]"));
    assert!(!mail.contains("sk_live_4eC39"));
    assert!(
        mail.contains("Content-Type: text/html"),
        "multipart with an HTML part"
    );
    app.drain().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(smtp.messages().len(), 1, "delivered exactly once");
    app.stop().await;
}

#[tokio::test]
async fn multipart_posts_work_and_file_parts_are_refused() {
    let app = TestApp::spawn(|_| {}).await;
    let token = app.form_token().await;
    let form = reqwest::multipart::Form::new()
        .text(
            "message",
            "GoHighLevel workflow does not fire after the booking",
        )
        .text("form_token", token.clone());
    let ok = app
        .client
        .post(app.url("/intake"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);

    let with_file = reqwest::multipart::Form::new()
        .text("message", "see the screenshot of my Stripe dashboard")
        .text("form_token", token)
        .part(
            "screenshot",
            reqwest::multipart::Part::bytes(vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3])
                .file_name("dashboard.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let refused = app
        .client
        .post(app.url("/intake"))
        .multipart(with_file)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Files and screenshots are not accepted"),
        "{page}"
    );
    assert!(
        page.contains("see the screenshot of my Stripe dashboard"),
        "the text is kept"
    );
    assert_eq!(app.intake_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_pasted_export_re_renders_the_form_with_placeholders_and_stores_nothing() {
    let app = TestApp::spawn(|_| {}).await;
    let response = app
        .post_form(&[
            ("message", "these buyers never got access"),
            (
                "redacted_example",
                "ann@one.test, +1 415 555 0101\nbob@two.test, +1 415 555 0102\ncat@three.test, +1 415 555 0103",
            ),
        ])
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"error-summary\""));
    assert!(page.contains("href=\"#redacted_example\""));
    assert!(page.contains("pasted list of customer records"));
    assert!(page.contains("these buyers never got access"));
    for value in ["ann@one.test", "415 555 0101", "bob@two.test"] {
        assert!(!page.contains(value), "{value} echoed back");
    }
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_fast_post_is_held_not_dropped_and_only_the_honeypot_is_dropped() {
    let app = TestApp::spawn(|c| c.limits.min_fill_seconds = 30).await;
    // Too fast (the token was issued a moment ago): perhaps a person who
    // pasted and sent at once. Stored and held, with the normal thank-you.
    let fast = app
        .post_form(&[("message", "Zapier stopped passing the UTM to HubSpot")])
        .await;
    assert_eq!(fast.status(), 303);
    let thanks = app
        .get(fast.headers()["location"].to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(thanks.contains("Thanks, your question was received"));
    assert_eq!(app.intake_count().await, 1);
    assert_eq!(app.state.store.held_count().await.unwrap(), 1);
    // The honeypot, filled: dropped, counted, answered like a person.
    let token = app
        .state
        .token_key
        .issue_at(handoff_gate::store::now_ms() - 60_000);
    let trapped = app
        .client
        .post(app.url("/intake"))
        .form(&[
            ("message", "SEO services"),
            ("website", "http://spam.test"),
            ("form_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(trapped.status(), 200);
    assert!(
        trapped
            .text()
            .await
            .unwrap()
            .contains("Thanks, your question was received")
    );
    assert_eq!(app.intake_count().await, 1);
    assert_eq!(app.state.metrics.bot_discards.get(), 1);
    assert_eq!(app.state.metrics.held.get(), 1);
    // A person who took their time gets through, and only they are mailed.
    let person = app
        .client
        .post(app.url("/intake"))
        .form(&[
            (
                "message",
                "Calendly bookings never reach the Pipedrive deal",
            ),
            ("form_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(person.status(), 303);
    app.drain().await;
    let mail = app.mail_files();
    assert_eq!(mail.len(), 1, "the held intake is not mailed");
    assert!(mail[0].contains("Pipedrive"));
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_expired_token_keeps_the_text_and_asks_to_resend() {
    let app = TestApp::spawn(|c| c.limits.form_token_hours = 1).await;
    let no_token = app
        .client
        .post(app.url("/intake"))
        .form(&[(
            "message",
            "Calendly to Pipedrive stage is wrong, call Dana Whitfield on +44 20 7946 0958",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 400);
    let page = no_token.text().await.unwrap();
    assert!(page.contains("could not be verified"), "{page}");
    assert!(page.contains("Calendly to Pipedrive stage is wrong"));
    assert!(!page.contains("7946 0958"), "the kept text is scrubbed");

    let old = app
        .state
        .token_key
        .issue_at(handoff_gate::store::now_ms() - 2 * 3_600_000);
    let expired = app
        .client
        .post(app.url("/intake"))
        .form(&[("message", "Kajabi access"), ("form_token", &old)])
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 400);
    assert!(expired.text().await.unwrap().contains("expired"));
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}
