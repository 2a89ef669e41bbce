//! The consultant's inbox over HTTP against the real app: what it refuses
//! (no session, no CSRF token, a foreign origin, a session from before a
//! password change, an ended or signed-out session, too many sign-ins) and
//! what it does (the queue's tabs, search and paging; one intake; answer,
//! correct, erase; both exports; the metrics).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::inbox_client::{Inbox, PASSWORD, location, password_hash, session_cookie};
use crate::support::TestApp;
use handoff_gate::store::IntakeId;

async fn app_with_inbox(adjust: impl FnOnce(&mut handoff_gate::config::Config)) -> TestApp {
    TestApp::spawn(|c| {
        c.inbox.password_hash = Some(password_hash());
        adjust(c);
    })
    .await
}

/// Submit an intake through the JSON API; its id.
async fn submit(app: &TestApp, body: Value) -> IntakeId {
    let response = app.post_json("/api/v1/intakes", &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    IntakeId::parse(created["id"].as_str().unwrap()).unwrap()
}

async fn paid_no_access(app: &TestApp) -> IntakeId {
    submit(
        app,
        json!({
            "message": "Buyers pay in Stripe but Kajabi never unlocks the course; 11 refund requests since Sunday",
            "affected_tools": "Stripe, Kajabi",
            "contact_email": "owner@mybiz.test",
            "consent": true,
        }),
    )
    .await
}

#[tokio::test]
async fn every_inbox_route_refuses_without_a_session() {
    let app = app_with_inbox(|_| {}).await;
    let id = paid_no_access(&app).await;
    let stranger = Inbox::new(&app);
    for path in [
        "/inbox".to_owned(),
        "/inbox/".to_owned(),
        format!("/inbox/{id}"),
        "/inbox/export.csv?status=new".to_owned(),
        "/inbox/labels.jsonl".to_owned(),
        "/inbox/no-such-page".to_owned(),
    ] {
        let response = stranger.get(&path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert!(
            location(&response).starts_with("/inbox/login?next=%2Finbox"),
            "GET {path} → {}",
            location(&response)
        );
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("Kajabi") && !body.contains(id.as_str()),
            "GET {path}"
        );
    }
    for path in [
        format!("/inbox/{id}/answered"),
        format!("/inbox/{id}/label"),
        format!("/inbox/{id}/erase"),
        format!("/inbox/{id}/release"),
        "/inbox/logout".to_owned(),
    ] {
        let fields = [
            ("answered", "yes"),
            ("route", "nurture"),
            ("confirm", "yes"),
            ("csrf", "guessed"),
        ];
        let response = stranger.post_raw(&path, &fields, &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
        assert_eq!(location(&response), "/inbox/login", "POST {path}");
    }
    let entry = app
        .state
        .store
        .entry(&id)
        .await
        .unwrap()
        .expect("not erased");
    assert!(
        entry.answered.is_none() && entry.label.is_none(),
        "nothing changed"
    );
    app.stop().await;
}

#[tokio::test]
async fn changes_without_the_csrf_token_or_from_another_origin_are_refused() {
    let app = app_with_inbox(|_| {}).await;
    let id = paid_no_access(&app).await;
    let inbox = Inbox::signed_in(&app).await;
    let path = format!("/inbox/{id}/label");
    let csrf = inbox.csrf.clone().expect("the page holds a token");
    let forged = [
        (vec![("route", "nurture")], vec![]),
        (
            vec![("route", "nurture"), ("csrf", "0123456789abcdef")],
            vec![],
        ),
        (
            vec![("route", "nurture"), ("csrf", csrf.as_str())],
            vec![("Origin", "https://evil.example")],
        ),
        (
            vec![("route", "nurture"), ("csrf", csrf.as_str())],
            vec![("Origin", "null")],
        ),
        (
            vec![("route", "nurture"), ("csrf", csrf.as_str())],
            vec![("Referer", "https://evil.example/page")],
        ),
    ];
    for (fields, headers) in &forged {
        let response = inbox.post_raw(&path, fields, headers).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{fields:?} {headers:?}"
        );
    }
    // Every other change, without its token, changes nothing either.
    for change in [
        format!("/inbox/{id}/answered"),
        format!("/inbox/{id}/erase"),
        format!("/inbox/{id}/release"),
        "/inbox/logout".to_owned(),
    ] {
        let fields = [("answered", "yes"), ("confirm", "yes")];
        let response = inbox.post_raw(&change, &fields, &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {change}");
    }
    let entry = app
        .state
        .store
        .entry(&id)
        .await
        .unwrap()
        .expect("not erased");
    assert!(entry.answered.is_none());
    assert_eq!(
        inbox.get("/inbox").await.status(),
        StatusCode::OK,
        "still signed in"
    );
    let login_elsewhere = inbox
        .post_raw(
            "/inbox/login",
            &[("password", PASSWORD)],
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(login_elsewhere.status(), StatusCode::FORBIDDEN);
    assert!(
        app.state
            .store
            .entry(&id)
            .await
            .unwrap()
            .unwrap()
            .label
            .is_none()
    );

    // The same change from the inbox's own page goes through.
    let response = inbox
        .post_raw(
            &path,
            &[("route", "nurture"), ("csrf", &csrf)],
            &[("Origin", &app.base)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let label = app.state.store.entry(&id).await.unwrap().unwrap().label;
    assert_eq!(label.unwrap().route, handoff_triage::Route::Nurture);
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_on_a_password_change_sign_out_and_timeouts() {
    let app = app_with_inbox(|_| {}).await;

    // Idle too long, or older than the absolute lifetime: refused.
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        app.dir.path().join("gate.db").display()
    ))
    .await
    .unwrap();
    for expire in [
        "UPDATE inbox_sessions SET idle_until_ms = 1",
        "UPDATE inbox_sessions SET created_at_ms = 1",
    ] {
        let inbox = Inbox::signed_in(&app).await;
        sqlx::query(expire).execute(&pool).await.unwrap();
        assert_eq!(
            inbox.get("/inbox").await.status(),
            StatusCode::SEE_OTHER,
            "{expire}"
        );
    }
    pool.close().await;
    let mut inbox = Inbox::signed_in(&app).await;
    let cookie = inbox.cookie.clone().unwrap();

    // A restart with the same password keeps the session (it is in the store) …
    let app = app
        .restart(|c| c.inbox.password_hash = Some(password_hash()))
        .await;
    inbox.base = app.base.clone();
    inbox.page("/inbox").await;

    // … a new password ends it, and the old password no longer signs in.
    let new_hash = handoff_gate::web::inbox::password::hash("a brand new passphrase");
    let app = app
        .restart(|c| c.inbox.password_hash = Some(handoff_gate::config::Secret::new(new_hash)))
        .await;
    inbox.base = app.base.clone();
    let refused = inbox.get("/inbox").await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert!(location(&refused).starts_with("/inbox/login"));
    assert_eq!(
        inbox.sign_in(PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        inbox.sign_in("a brand new passphrase").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_ne!(inbox.cookie.as_deref(), Some(cookie.as_str()), "a new key");
    inbox.page("/inbox").await;

    // Signing out deletes the session: a copy of the cookie is refused too.
    let copy = inbox.cookie.clone();
    let out = inbox.post("/inbox/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/inbox/login?signed_out=1");
    let cleared = out
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "the cookie is removed");
    inbox.cookie = copy;
    assert_eq!(inbox.get("/inbox").await.status(), StatusCode::SEE_OTHER);

    app.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_client_address() {
    let app = app_with_inbox(|c| {
        c.inbox.login_attempts_per_hour = 3;
        c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let attacker = Inbox::new(&app);
    let from = |ip: &'static str| [("X-Forwarded-For", ip)];
    for _ in 0..3 {
        let response = attacker
            .post_raw(
                "/inbox/login",
                &[("password", "guess")],
                &from("203.0.113.9"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Over the limit, even the right password is not tried.
    let limited = attacker
        .post_raw(
            "/inbox/login",
            &[("password", PASSWORD)],
            &from("203.0.113.9"),
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1200).contains(&retry), "{retry}");
    assert!(session_cookie(&limited).is_none());
    assert!(
        limited
            .text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
    // The consultant, elsewhere, still gets in.
    let consultant = attacker
        .post_raw(
            "/inbox/login",
            &[("password", PASSWORD)],
            &from("198.51.100.7"),
        )
        .await;
    assert_eq!(consultant.status(), StatusCode::SEE_OTHER);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("handoff_gate_inbox_sign_ins_total{outcome=\"refused\"} 3"));
    assert!(metrics.contains("handoff_gate_inbox_sign_ins_total{outcome=\"limited\"} 1"));
    app.stop().await;
}

#[tokio::test]
async fn the_cookie_and_the_pages_are_locked_down() {
    let app = app_with_inbox(|_| {}).await;
    let mut inbox = Inbox::new(&app);
    let plain = inbox.sign_in(PASSWORD).await;
    let set = plain.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/inbox"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure") && !set.contains("Max-Age"), "{set}");
    // Behind a TLS proxy, the cookie is Secure.
    let tls = inbox
        .post_raw(
            "/inbox/login",
            &[("password", PASSWORD)],
            &[("X-Forwarded-Proto", "https")],
        )
        .await;
    let set = tls.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.contains("Secure") && set.contains("HttpOnly"), "{set}");
    // Signing in again replaced the first session with a new key.
    assert_eq!(inbox.get("/inbox").await.status(), StatusCode::SEE_OTHER);
    inbox.cookie = session_cookie(&tls);

    let public_csp = app.get("/").await.headers()["content-security-policy"].clone();
    for (path, response) in [
        ("/inbox/login", app.get("/inbox/login").await),
        ("/inbox", inbox.get("/inbox").await),
    ] {
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-security-policy"], public_csp, "{path}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        let page = response.text().await.unwrap();
        assert!(
            !page.contains("<script") && !page.contains("style="),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_closed_inbox_says_how_to_open_it() {
    let app = TestApp::spawn(|_| {}).await;
    let page = app.get("/inbox/login").await.text().await.unwrap();
    assert!(page.contains("handoff-gate admin set-password"));
    let mut inbox = Inbox::new(&app);
    assert_eq!(
        inbox.sign_in(PASSWORD).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    app.stop().await;
}

#[tokio::test]
async fn the_consultant_works_the_queue() {
    let app = app_with_inbox(|c| c.inbox.page_size = 2).await;
    let paid = paid_no_access(&app).await;
    let comment = submit(
        &app,
        json!({"message": "love this channel!! where do i start learning automations"}),
    )
    .await;
    let typeform = submit(
        &app,
        json!({"message": "Typeform answers never land in the HubSpot budget field", "affected_tools": "Typeform, HubSpot"}),
    )
    .await;
    let mut inbox = Inbox::signed_in(&app).await;

    // Newest first, two a page; the counts on the tabs.
    let first = inbox.page("/inbox").await;
    assert!(first.contains("Typeform answers never land"));
    assert!(!first.contains("Buyers pay in Stripe"), "on page 2");
    assert!(first.contains("Page 1 of 2"));
    assert!(
        first.contains(">New <span class=\"count\">3</span>"),
        "{first}"
    );
    let second = inbox.page("/inbox?page=2").await;
    assert!(second.contains("Buyers pay in Stripe"));

    // Search over the scrubbed text, fields and tools.
    let found = inbox.page("/inbox?q=kajabi").await;
    assert!(found.contains("Buyers pay in Stripe") && !found.contains("Typeform answers"));
    assert!(found.contains("matching “kajabi”"));

    // One intake: the question, the decision with its reasons, a reply link.
    let page = inbox.page(&format!("/inbox/{paid}")).await;
    assert!(page.contains("Buyers pay in Stripe but Kajabi never unlocks"));
    assert!(page.contains("mailto:owner@mybiz.test?subject="));
    assert!(page.contains("The model said"));
    assert!(page.contains("Why"));
    let quiet = inbox.page(&format!("/inbox/{comment}")).await;
    assert!(quiet.contains("No reply address"));

    // Mark answered: the Answered tab, then back.
    let answered = inbox
        .post(
            &format!("/inbox/{typeform}/answered"),
            &[("answered", "yes")],
        )
        .await;
    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    let page = inbox.page(&format!("/inbox/{typeform}")).await;
    assert!(
        page.contains("Marked answered."),
        "the action says what it did"
    );
    assert!(page.contains("Answered by consultant"));
    let tab = inbox.page("/inbox?status=answered").await;
    assert!(tab.contains("Typeform answers never land") && !tab.contains("Buyers pay"));

    // Correct the route and handoffs: beside the model's decision.
    let model_route = app
        .state
        .store
        .entry(&comment)
        .await
        .unwrap()
        .unwrap()
        .record
        .route;
    let corrected = inbox
        .post(
            &format!("/inbox/{comment}/label"),
            &[
                ("route", "checklist"),
                ("handoffs", "form_to_crm"),
                ("handoffs", "crm_to_followup"),
            ],
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::SEE_OTHER);
    let entry = app.state.store.entry(&comment).await.unwrap().unwrap();
    assert_eq!(
        entry.record.route, model_route,
        "the model's decision is kept"
    );
    let label = entry.label.unwrap();
    assert_eq!(label.route, handoff_triage::Route::Checklist);
    assert!(label.corrected && label.stamp.by == "consultant");
    let filed = inbox.page("/inbox?route=checklist").await;
    assert!(
        filed.contains("love this channel")
            && filed.contains(&format!(
                "corrected from {}",
                model_route.as_str().replace('_', " ")
            ))
    );
    let queue = inbox.page("/inbox").await;
    assert!(
        queue.contains("<strong>1 correction since then.</strong>"),
        "{queue}"
    );
    // A confirmation.
    let paid_entry = app.state.store.entry(&paid).await.unwrap().unwrap();
    let mut confirm = vec![("route", paid_entry.record.route.as_str())];
    confirm.extend(
        paid_entry
            .record
            .handoffs
            .iter()
            .map(|h| ("handoffs", h.as_str())),
    );
    inbox.post(&format!("/inbox/{paid}/label"), &confirm).await;
    assert!(
        !app.state
            .store
            .entry(&paid)
            .await
            .unwrap()
            .unwrap()
            .label
            .unwrap()
            .corrected
    );

    // Exports: the filtered queue as CSV, the labels as training lines.
    let csv = inbox.get("/inbox/export.csv?status=answered").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let disposition = csv.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"handoff-gate-queue-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let csv = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(&rows[0][0], typeform.as_str());
    assert!(!csv.contains("owner@mybiz.test"), "no reply addresses");
    let jsonl = inbox.get("/inbox/labels.jsonl").await.text().await.unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], format!("inbox-{comment}"));
    assert_eq!(lines[0]["expected"]["route"], "checklist");
    assert_eq!(
        lines[0]["expected"]["handoffs"],
        json!(["form_to_crm", "crm_to_followup"])
    );
    assert!(
        lines[1]["input"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Buyers pay")
    );
    assert!(!jsonl.contains("owner@mybiz.test"));

    // Erase: every copy, the mail file included.
    app.drain().await;
    let mail_file = app.dir.path().join(format!("mail/{paid}.eml"));
    assert!(mail_file.exists());
    let refused = inbox.post(&format!("/inbox/{paid}/erase"), &[]).await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "the box must be ticked"
    );
    let erased = inbox
        .post(&format!("/inbox/{paid}/erase"), &[("confirm", "yes")])
        .await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&erased), "/inbox");
    assert!(app.state.store.intake(&paid).await.unwrap().is_none());
    assert!(!mail_file.exists(), "the mail file is gone");
    assert_eq!(
        inbox.get(&format!("/inbox/{paid}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(store_labels(&app).await, 1, "its label went with it");

    // Metrics: kinds and route pairs, never values.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(&format!(
        "handoff_gate_inbox_route_corrections_total{{model_route=\"{}\",route=\"checklist\"}} 1",
        model_route.as_str()
    )));
    assert!(metrics.contains("handoff_gate_inbox_time_to_answer_seconds_count 1"));
    assert!(metrics.contains("handoff_gate_inbox_actions_total{action=\"erased\"} 1"));
    app.stop().await;
}

/// No inbox page, export or metric holds a value the scrubber removed: the
/// values planted in [`crate::serve_leaks::PLANTED`] arrive in two API
/// intakes (in every field), and every page the consultant can open (each tab, each
/// route, a search, each intake, after answering and labelling) and both
/// exports are searched for them.
#[tokio::test]
async fn no_inbox_page_or_export_holds_a_planted_value() {
    let app = app_with_inbox(|_| {}).await;
    let mut ids = vec![submit(&app, crate::serve_leaks::planted_request()).await];
    ids.push(submit(
        &app,
        json!({
            "message": "HubSpot form broken for dana.whitfield@client.test, card 4111111111111111, IBAN DE89370400440532013000",
            "affected_tools": "HubSpot, AWS key AKIAZ7VRSQ4EXAMPLEKY",
            "redacted_example": "the lead was ann@one.test, phone +1 415 555 0132",
        }),
    )
    .await);
    let mut inbox = Inbox::signed_in(&app).await;
    for id in &ids {
        inbox
            .post(&format!("/inbox/{id}/answered"), &[("answered", "yes")])
            .await;
        inbox.page(&format!("/inbox/{id}")).await;
        inbox
            .post(
                &format!("/inbox/{id}/label"),
                &[("route", "repair"), ("handoffs", "payment_to_access")],
            )
            .await;
    }
    let mut paths: Vec<String> = vec!["/inbox".to_owned(), "/inbox?q=stripe".to_owned()];
    for status in handoff_gate::store::Status::ALL {
        paths.push(format!("/inbox?status={}", status.as_str()));
    }
    for route in handoff_triage::Route::ALL {
        paths.push(format!("/inbox?route={}", route.as_str()));
    }
    paths.extend(ids.iter().map(|id| format!("/inbox/{id}")));
    let mut sinks = Vec::new();
    for path in &paths {
        sinks.push((path.clone(), inbox.page(path).await));
    }
    for path in ["/inbox/export.csv", "/inbox/labels.jsonl"] {
        let response = inbox.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        sinks.push((path.to_owned(), response.text().await.unwrap()));
    }
    sinks.push((
        "/metrics".to_owned(),
        app.get("/metrics").await.text().await.unwrap(),
    ));
    for (path, text) in &sinks {
        for value in crate::serve_leaks::PLANTED {
            assert!(!text.contains(value), "{value} is in {path}");
        }
    }
    // The pages did show the scrubbed story, placeholders and all.
    let story = |path: &str| &sinks.iter().find(|(p, _)| p == path).unwrap().1;
    assert!(story(&format!("/inbox/{}", ids[0])).contains("My client [PERSON]"));
    assert!(
        story("/inbox/export.csv").contains("[CARD]"),
        "{}",
        story("/inbox/export.csv")
    );
    assert_eq!(story("/inbox/labels.jsonl").lines().count(), 2);
    app.stop().await;
}

async fn store_labels(app: &TestApp) -> usize {
    app.state.store.labelled().await.unwrap().len()
}
