//! Nobody is lost at the door: one token stores one intake, foreign and
//! `null` origins are refused, blank and invisible messages and
//! undeliverable addresses are answered with what to change, every refusal
//! keeps the person's words, the thank-you page says what happens next and
//! shows what the consultant will read, and the consultant's email is
//! written for them; a form sent at once is held for the consultant (admin
//! API, inbox, `handoff-gate held`), never dropped. (The browser side is in
//! `browser_door.rs`.)

use std::time::Duration;

use serde_json::json;

use crate::support::{TestApp, decode_quoted_printable, eventually};

/// The text of the textarea named `name` in a rendered form.
fn textarea(page: &str, name: &str) -> String {
    let start = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name}"));
    let open = start + page[start..].find('>').unwrap() + 1;
    let close = open + page[open..].find("</textarea>").unwrap();
    page[open..close]
        .replace("&#38;", "&")
        .replace("&#39;", "'")
}

#[tokio::test]
async fn one_token_stores_one_intake_and_a_replay_shows_the_same_thank_you() {
    let app = TestApp::spawn(|_| {}).await;
    let token = app.form_token().await;
    let post = |message: &'static str| {
        app.client
            .post(app.url("/intake"))
            .form(&[("message", message), ("form_token", token.as_str())])
            .send()
    };
    let first = post("Calendly bookings never reach the Pipedrive deal")
        .await
        .unwrap();
    let again = post("Calendly bookings never reach the Pipedrive deal")
        .await
        .unwrap();
    let edited = post("Calendly bookings never reach Pipedrive at all")
        .await
        .unwrap();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(first.status(), 303);
    assert_eq!(again.status(), 303);
    assert_eq!(edited.status(), 303);
    assert_eq!(location(&again), location(&first));
    assert_eq!(location(&edited), location(&first));
    assert_eq!(app.intake_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_post_with_origin_null_is_refused_like_a_foreign_one() {
    let app =
        TestApp::spawn(|c| c.embed.allowed_origins = vec!["https://shop.example".parse().unwrap()])
            .await;
    let token = app.form_token().await;
    let null = app
        .client
        .post(app.url("/intake"))
        .header("Origin", "null")
        .header("Referer", format!("{}/", app.base))
        .form(&[
            ("message", "Kajabi never gets the Stripe buyer"),
            ("form_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(null.status(), 403);
    assert!(null.text().await.unwrap().contains("embed.allowed_origins"));
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn blank_or_invisible_messages_are_422_with_what_to_do() {
    let app = TestApp::spawn(|_| {}).await;
    for blank in [
        " \u{200B} \n\u{200B}",
        "\u{FEFF}\u{2060}\u{200D}",
        "\u{3164}\u{2800}",
    ] {
        let api = app
            .post_json("/api/v1/intakes", &json!({"message": blank}))
            .await;
        assert_eq!(api.status(), 422, "{blank:?}");
        let body: serde_json::Value = api.json().await.unwrap();
        assert!(
            body["fields"]["message"]
                .as_str()
                .unwrap()
                .contains("invisible characters"),
            "{body}"
        );
        let form = app.post_form(&[("message", blank)]).await;
        assert_eq!(form.status(), 422);
        assert!(
            form.text()
                .await
                .unwrap()
                .contains("describe your question in words")
        );
    }
    // An optional field of invisible characters alone is no field at all.
    let created: serde_json::Value = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Zapier drops the UTM", "deadline": "\u{200B}\u{200B}"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = handoff_gate::store::IntakeId::parse(created["id"].as_str().unwrap()).unwrap();
    let record = app.state.store.intake(&id).await.unwrap().unwrap();
    assert_eq!(record.field(handoff_intake::IntakeField::Deadline), None);
    assert_eq!(app.intake_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn reply_addresses_must_be_deliverable_and_international_domains_are_encoded() {
    let app = TestApp::spawn(|_| {}).await;
    let refused = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Zapier drops the UTM", "contact_email": "a.@x.test", "consent": true}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["fields"]["contact_email"]
            .as_str()
            .unwrap()
            .contains("the part before the @"),
        "{body}"
    );
    let form = app
        .post_form(&[
            ("message", "Zapier drops the UTM"),
            ("contact_email", "a.@x.test"),
            ("consent", "yes"),
        ])
        .await;
    assert_eq!(form.status(), 422);
    let page = form.text().await.unwrap();
    assert!(page.contains("the part before the @"), "{page}");
    assert!(
        page.contains("value=\"a.@x.test\""),
        "the typed address comes back to correct: {page}"
    );
    assert_eq!(app.intake_count().await, 0);

    let accepted = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Zapier drops the UTM", "contact_email": "jo@bücher.example", "consent": true}),
        )
        .await;
    assert_eq!(accepted.status(), 201);
    app.drain().await;
    let mail = app.mail_files().pop().expect("mailed");
    assert!(
        mail.contains("Reply-To: jo@xn--bcher-kva.example"),
        "{mail}"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_refusal_of_the_form_keeps_the_words_and_says_what_to_change() {
    let app = TestApp::spawn(|c| c.limits.form_token_hours = 1).await;
    let words = "Stripe paid but Kajabi never unlocks; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let kept = "Stripe paid but Kajabi never unlocks; my key is [API_KEY]";

    // A form sent with a field it does not have.
    let token = app.form_token().await;
    let unknown = app
        .client
        .post(app.url("/intake"))
        .form(&[
            ("message", words),
            ("phone", "1"),
            ("form_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let page = unknown.text().await.unwrap();
    assert_eq!(textarea(&page, "message"), kept);
    assert!(page.contains("`phone`"), "{page}");

    // An expired form.
    let old = app
        .state
        .token_key
        .issue_at(handoff_gate::store::now_ms() - 2 * 3_600_000);
    let expired = app
        .client
        .post(app.url("/intake"))
        .form(&[
            ("message", words),
            ("deadline", "Friday"),
            ("form_token", old.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 400);
    let page = expired.text().await.unwrap();
    assert_eq!(textarea(&page, "message"), kept);
    assert_eq!(textarea(&page, "deadline"), "Friday");
    assert!(page.contains("expired"));

    // A store that cannot take it.
    app.state.store.close().await;
    let down = app.post_form(&[("message", words)]).await;
    assert_eq!(down.status(), 503);
    let page = down.text().await.unwrap();
    assert_eq!(textarea(&page, "message"), kept);
    assert!(page.contains("send it again in a minute"), "{page}");
    assert!(!page.contains("sk_live"));
    app.stop().await;
}

#[tokio::test]
async fn the_thank_you_page_says_what_happens_next_and_shows_what_the_consultant_reads() {
    let app = TestApp::spawn(|c| {
        c.consultant.name = Some("Alex Rivera".to_owned());
        c.consultant.reply_time = Some("within two working days".to_owned());
    })
    .await;
    let sent = app
        .post_form(&[
            (
                "message",
                "Stripe paid but Kajabi never unlocks; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            ),
            ("affected_tools", "Stripe, Kajabi"),
            ("contact_email", "owner@mybiz.test"),
            ("consent", "yes"),
        ])
        .await;
    assert_eq!(sent.status(), 303);
    let location = sent.headers()["location"].to_str().unwrap().to_owned();
    let page = app
        .get(&location)
        .await
        .text()
        .await
        .unwrap()
        .replace("&#39;", "'");
    let id = handoff_gate::store::IntakeId::parse(location.trim_start_matches("/thanks/")).unwrap();
    let record = app.state.store.intake(&id).await.unwrap().unwrap();
    let reply = app.state.pipeline.rules().route_reply(record.route);
    assert!(!reply.is_empty());
    assert!(
        page.contains(&format!("<h2>What happens next</h2>\n<p>{reply}</p>")),
        "{page}"
    );
    assert!(
        !page.contains(&format!(">{}<", record.route.as_str().replace('_', " ")))
            && !page.contains("Suggested next step"),
        "no internal route code: {page}"
    );
    assert!(
        page.contains("Alex Rivera reads every question and usually answers within two working days. The answer goes to owner@mybiz.test."),
        "{page}"
    );
    assert!(
        page.contains("an API key") || page.contains("API key"),
        "{page}"
    );
    assert!(page.contains("What Alex Rivera will read"), "{page}");
    assert!(page.contains("my key is [API_KEY]</p>"), "{page}");
    assert!(page.contains("Stripe, Kajabi</p>"), "{page}");
    assert!(!page.contains("sk_live"));
    assert!(page.contains("<link rel=\"icon\" href=\"/assets/favicon.svg\""));
    for icon in ["/favicon.ico", "/assets/favicon.svg"] {
        let response = app.get(icon).await;
        assert_eq!(response.status(), 200, "{icon}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_email_is_written_for_the_consultant() {
    let app = TestApp::spawn(|c| {
        c.consultant.time_zone = "Asia/Tokyo".to_owned();
        c.server.public_url = Some("https://gate.example.com/".to_owned());
    })
    .await;
    let created: serde_json::Value = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Typeform leads never get the HubSpot owner"}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.drain().await;
    let mail = decode_quoted_printable(&app.mail_files().pop().expect("mailed"));
    assert!(mail.contains("Their question"), "{mail}");
    assert!(!mail.contains("Your question"), "{mail}");
    assert!(
        mail.contains(" JST"),
        "times in the configured zone: {mail}"
    );
    let link = format!(
        "https://gate.example.com/inbox/{}",
        created["id"].as_str().unwrap()
    );
    assert!(mail.contains(&link), "{mail}");
    app.stop().await;

    let app = TestApp::spawn(|_| {}).await;
    app.post_json(
        "/api/v1/intakes",
        &json!({"message": "Typeform leads never get the HubSpot owner"}),
    )
    .await;
    app.drain().await;
    let mail = decode_quoted_printable(&app.mail_files().pop().expect("mailed"));
    assert!(
        !mail.contains("/inbox/"),
        "no link without server.public_url: {mail}"
    );
    assert!(mail.contains(" UTC"), "{mail}");
    app.stop().await;
}

#[tokio::test]
async fn a_page_that_may_not_embed_the_form_is_logged_once_an_hour_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = crate::support::GatewayProcess::start(
        dir.path(),
        &[
            (
                "HANDOFF_GATE__EMBED__ALLOWED_ORIGINS",
                "https://shop.example".to_owned(),
            ),
            ("RUST_LOG", "info".to_owned()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let load = |origin: Option<&str>, referer: Option<&str>| {
        let mut url = format!("{}/embed", gateway.base);
        if let Some(origin) = origin {
            url.push_str(&format!("?origin={}", urlencode(origin)));
        }
        let mut request = client.get(url).header("Sec-Fetch-Dest", "iframe");
        if let Some(referer) = referer {
            request = request.header("Referer", referer);
        }
        request.send()
    };
    for _ in 0..3 {
        load(Some("https://www.shop.example"), None).await.unwrap();
    }
    load(None, Some("http://shop.example/contact"))
        .await
        .unwrap();
    load(Some("https://shop.example"), None).await.unwrap();
    let metrics = client
        .get(format!("{}/metrics", gateway.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("handoff_gate_embed_refused_total 4"),
        "{metrics}"
    );
    let log_dir = dir.path().to_owned();
    eventually(Duration::from_secs(5), "the refusal in the log", || {
        let log = crate::support::gateway_log(&log_dir);
        async move { log.contains("http://shop.example") }
    })
    .await;
    let log = crate::support::gateway_log(dir.path());
    let lines = |origin: &str| {
        log.lines()
            .filter(|l| {
                l.contains("tried to embed the form")
                    && l.contains(&format!("\"origin\":\"{origin}\""))
            })
            .count()
    };
    assert_eq!(lines("https://www.shop.example"), 1, "{log}");
    assert_eq!(lines("http://shop.example"), 1, "{log}");
    assert_eq!(lines("https://shop.example"), 0, "{log}");
    assert!(log.contains("handoff-gate embed check https://www.shop.example"));
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn embed_check_prints_what_is_allowed_and_the_line_to_add() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gate.toml"),
        "[embed]\nallowed_origins = [\"https://shop.example\"]\n",
    )
    .unwrap();
    let run = |page: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
            .args(["embed", "check", page, "-c", "gate.toml"])
            .current_dir(dir.path())
            .env_remove("HANDOFF_GATE__EMBED__ALLOWED_ORIGINS")
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let (code, out) = run("https://www.shop.example/contact?gclid=x");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("allowed origins: https://shop.example (gate.toml:2)"),
        "{out}"
    );
    assert!(
        out.contains("Change line 2 of gate.toml to:\n\n  allowed_origins = [\"https://shop.example\", \"https://www.shop.example\"]"),
        "{out}"
    );
    let (code, out) = run("https://shop.example/contact");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: https://shop.example may embed the form."));
    let (code, _) = run("shop.example");
    assert_eq!(code, 2);
}

/// Post the form with a token issued just now: sooner than `min_fill_seconds`.
async fn post_at_once(app: &TestApp, message: &str) -> String {
    let response = app.post_form(&[("message", message)]).await;
    assert_eq!(response.status(), 303, "a fast post gets the thank-you");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_person_who_sends_at_once_is_held_for_the_consultant_not_lost() {
    use crate::inbox_client::{Inbox, password_hash};
    let app = TestApp::spawn(|c| {
        c.limits.min_fill_seconds = 30;
        c.admin.token = Some(handoff_gate::config::Secret::new("s3cret-admin"));
        c.inbox.password_hash = Some(password_hash());
    })
    .await;
    let first = post_at_once(&app, "Stripe paid but Kajabi never unlocks the course").await;
    let second = post_at_once(&app, "Typeform answers never reach the HubSpot contact").await;
    app.drain().await;
    assert!(app.mail_files().is_empty(), "held intakes are not mailed");

    // The admin API lists them, oldest first, and only with the token.
    let list = app
        .client
        .get(app.url("/api/v1/held"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 401);
    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/held"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["held"][0]["id"], first.as_str());
    assert_eq!(list["held"][0]["channel"], "form");
    assert!(
        list["held"][0]["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("Kajabi")
    );

    // Released through the API: mailed like any other intake, once.
    let release = |id: &str| {
        app.client
            .post(app.url(&format!("/api/v1/held/{id}/release")))
            .bearer_auth("s3cret-admin")
            .send()
    };
    let released = release(&first).await.unwrap();
    assert_eq!(released.status(), 200);
    assert_eq!(release(&first).await.unwrap().status(), 404);
    app.drain().await;
    let mail = app.mail_files();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("Kajabi"));

    // The inbox shows the other one as held and releases it.
    let mut inbox = Inbox::signed_in(&app).await;
    let held_tab = inbox.page("/inbox?status=held").await;
    assert!(held_tab.contains(&second), "the Held tab lists it");
    let page = inbox.page(&format!("/inbox/{second}")).await;
    assert!(page.contains("Release to the mail"), "{page}");
    let response = inbox.post(&format!("/inbox/{second}/release"), &[]).await;
    assert_eq!(response.status(), 303);
    assert!(
        !inbox
            .page(&format!("/inbox/{second}"))
            .await
            .contains("Release to the mail")
    );
    app.drain().await;
    assert_eq!(app.mail_files().len(), 2);
    assert_eq!(app.state.store.held_count().await.unwrap(), 0);
    assert_eq!(app.state.metrics.held.get(), 2);
    app.stop().await;
}

#[tokio::test]
async fn held_intakes_never_released_are_deleted_after_held_days() {
    let app = TestApp::spawn(|c| {
        c.limits.min_fill_seconds = 30;
        c.limits.held_days = 0;
    })
    .await;
    post_at_once(&app, "Stripe paid but Kajabi never unlocks the course").await;
    let kept = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Calendly bookings never reach the Pipedrive deal"}),
        )
        .await;
    assert_eq!(kept.status(), 201);
    tokio::time::sleep(Duration::from_millis(5)).await;
    // (The worker's own pass at start may have come first.)
    app.state.outbox.apply_retention().await.unwrap();
    assert_eq!(app.state.store.held_count().await.unwrap(), 0);
    assert_eq!(app.intake_count().await, 1, "only the held one goes");
    app.stop().await;
}

/// Run `handoff-gate ARGS` on `app`'s store, off the runtime thread: exit
/// code, stdout, stderr.
async fn gate_cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-gate"));
    command
        .args(args)
        .current_dir(app.dir.path())
        .env("HANDOFF_GATE__STORE__URL", &app.state.config.store.url)
        .env("HANDOFF_GATE__MAIL__DIR", &app.state.config.mail.dir);
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
async fn handoff_gate_held_lists_and_releases_beside_a_running_gateway() {
    let app = TestApp::spawn(|c| c.limits.min_fill_seconds = 30).await;
    let (code, text, _) = gate_cli(&app, &["held"]).await;
    assert_eq!((code, text.trim()), (0, "no intake is held"));
    let first = post_at_once(&app, "Stripe paid but Kajabi never unlocks the course").await;
    let second = post_at_once(&app, "Typeform answers never reach the HubSpot contact").await;
    let (code, text, _) = gate_cli(&app, &["held", "list"]).await;
    assert_eq!(code, 0);
    assert!(text.starts_with("2 intake(s) held from the mail"), "{text}");
    assert!(
        text.contains(&first) && text.contains("Kajabi never unlocks"),
        "{text}"
    );
    assert!(text.contains("handoff-gate held release"), "{text}");
    let (_, status, _) = gate_cli(&app, &["outbox"]).await;
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["held", "2"])),
        "outbox status counts them: {status}"
    );
    let (_, status, _) = gate_cli(&app, &["outbox", "status", "--json"]).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&status).unwrap()["held"],
        2
    );
    let (_, json, _) = gate_cli(&app, &["held", "list", "--json"]).await;
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["id"], second.as_str());
    let (code, text, _) = gate_cli(&app, &["held", "release", &first]).await;
    assert_eq!(code, 0, "{text}");
    let (code, _, err) = gate_cli(&app, &["held", "release", &first]).await;
    assert_eq!(code, 1);
    assert!(err.contains("is not held"), "{err}");
    app.drain().await;
    assert_eq!(app.mail_files().len(), 1);
    let (code, text, _) = gate_cli(&app, &["held", "release", "--all"]).await;
    assert_eq!(
        (code, text.contains("released 1 held")),
        (0, true),
        "{text}"
    );
    app.drain().await;
    assert_eq!(app.mail_files().len(), 2);
    app.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_created_0600_and_folders_0700() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(|c| {
        c.store.url = c.store.url.replace("gate.db", "store/db/gate.db");
        c.data_dir = c.data_dir.join("secrets");
    })
    .await;
    let created = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "Stripe paid but Kajabi never unlocks the course"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    app.drain().await;
    let root = app.dir.path();
    let mode = |relative: &str| {
        let path = root.join(relative);
        let metadata =
            std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        metadata.permissions().mode() & 0o777
    };
    for folder in ["store", "store/db", "mail", "data", "data/secrets"] {
        assert_eq!(mode(folder), 0o700, "{folder}");
    }
    let mail = std::fs::read_dir(root.join("mail"))
        .unwrap()
        .map(|e| format!("mail/{}", e.unwrap().file_name().to_string_lossy()))
        .collect::<Vec<_>>();
    assert_eq!(mail.len(), 1);
    let mut files = vec![
        "store/db/gate.db".to_owned(),
        "store/db/gate.db-wal".to_owned(),
        "store/db/gate.db-shm".to_owned(),
        "store/db/gate.db.marker".to_owned(),
    ];
    files.extend(mail);
    for file in std::fs::read_dir(root.join("data/secrets")).unwrap() {
        files.push(format!(
            "data/secrets/{}",
            file.unwrap().file_name().to_string_lossy()
        ));
    }
    assert!(files.len() >= 6, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    app.stop().await;
}
