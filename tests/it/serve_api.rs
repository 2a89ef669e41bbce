//! The JSON API against the real server: create, idempotency, batch triage,
//! erasure, health.

use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn an_intake_is_created_stored_and_mailed_once() {
    let app = TestApp::spawn(|_| {}).await;
    let response = app
        .post_json(
            "/api/v1/intakes",
            &json!({
                "message": "Typeform submits but the HubSpot contact never gets the lead source; my client jane@acme.test noticed",
                "affected_tools": "Typeform, HubSpot",
                "contact_email": "me@mybiz.test",
                "consent": true,
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["route"], "repair");
    assert_eq!(body["handoffs"], json!(["form_to_crm"]));
    assert_eq!(body["privacy"], "redact");
    assert_eq!(body["removed"], json!({"email": 1}));
    assert!(body["next_step"].as_str().unwrap().len() > 20);
    let id = body["id"].as_str().unwrap();

    let round = app.drain().await;
    assert!(round.sent <= 1, "{round:?}"); // the background worker may have sent it already
    crate::support::eventually(std::time::Duration::from_secs(5), "the email", || async {
        app.mail_files().len() == 1
    })
    .await;
    let mail = crate::support::decode_quoted_printable(&app.mail_files()[0]);
    assert!(
        mail.contains(&format!("Message-ID: <intake-{id}@localhost>")),
        "{mail}"
    );
    assert!(mail.contains("Subject: [repair "), "{mail}");
    assert!(
        mail.contains(" sure"),
        "the email shows the route's confidence: {mail}"
    );
    assert!(mail.contains("Reply-To: me@mybiz.test"), "{mail}");
    assert!(mail.contains("my client [EMAIL] noticed"), "{mail}");
    assert!(!mail.contains("jane@acme.test"));
    app.drain().await;
    assert_eq!(app.mail_files().len(), 1, "sent exactly once");
    app.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_intake() {
    let app = TestApp::spawn(|_| {}).await;
    let body = json!({"message": "Calendly bookings do not create the deal in Pipedrive"});
    let send = |key: &'static str, body: Value| {
        let request = app
            .client
            .post(app.url("/api/v1/intakes"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send();
        async move { request.await.unwrap() }
    };
    let first = send("order-7f3a", body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send("order-7f3a", body.clone()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);

    let reused = send("order-7f3a", json!({"message": "something else entirely"})).await;
    assert_eq!(reused.status(), 422);
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(reused["error"], "idempotency_key_reused");

    assert_eq!(app.intake_count().await, 1);
    app.drain().await;
    crate::support::eventually(std::time::Duration::from_secs(5), "the email", || async {
        app.mail_files().len() == 1
    })
    .await;
    app.drain().await;
    assert_eq!(app.mail_files().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_store_one_intake() {
    let app = TestApp::spawn(|_| {}).await;
    let body = json!({"message": "Stripe payment does not unlock the Kajabi course"});
    let requests = (0..8).map(|_| {
        app.client
            .post(app.url("/api/v1/intakes"))
            .header("Idempotency-Key", "retry-storm")
            .json(&body)
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = std::collections::BTreeSet::new();
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.intake_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_submission_stores_nothing() {
    let app = TestApp::spawn(|_| {}).await;
    let export = "Our contacts:\nann@one.test, +1 415 555 0101\nbob@two.test, +1 415 555 0102\ncat@three.test, +1 415 555 0103\n";
    let response = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "why do these not sync", "redacted_example": export}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rejected");
    assert!(
        body["fields"]["redacted_example"]
            .as_str()
            .unwrap()
            .contains("pasted list of customer records"),
        "{body}"
    );
    assert!(!body.to_string().contains("ann@one.test"));

    let attached = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "see screenshot", "attachment": "crm.png"}),
        )
        .await;
    assert_eq!(attached.status(), 422);
    let attached: Value = attached.json().await.unwrap();
    assert!(
        attached["fields"]["attachment"]
            .as_str()
            .unwrap()
            .contains("not accepted")
    );
    assert_eq!(app.intake_count().await, 0);
    app.drain().await;
    assert!(app.mail_files().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn invalid_intakes_name_the_field() {
    let app = TestApp::spawn(|_| {}).await;
    for (body, field, needle) in [
        (
            json!({"message": "  "}),
            "message",
            "describe your question",
        ),
        (
            json!({"message": "x", "contact_email": "not an address"}),
            "contact_email",
            "email address",
        ),
        (
            json!({"message": "x", "contact_email": "me@mybiz.test"}),
            "consent",
            "Tick",
        ),
        (json!({"message": 42}), "message", "must be a string"),
        (
            json!({"message": "x", "phone": "1"}),
            "_body",
            "unknown field `phone`",
        ),
    ] {
        let response = app.post_json("/api/v1/intakes", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_intake", "{answer}");
        assert!(
            answer["fields"][field]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{field}: {answer}"
        );
    }
    let not_object = app.post_json("/api/v1/intakes", &json!(["message"])).await;
    assert_eq!(not_object.status(), 400);
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_is_triaged_like_the_cli_and_nothing_is_stored() {
    let app = TestApp::spawn(|_| {}).await;
    let response = app
        .post_json(
            "/api/v1/triage",
            &json!([
                {"id": 1, "input": "stripe->kajabi buyers locked out since launch, email me jo@mybiz.test"},
                {"id": "two", "channel": "form", "input": {"message": "zapier drops the utm from the form"}},
                {"id": 3, "nonsense": true},
                "not an object",
            ]),
        )
        .await;
    assert_eq!(response.status(), 200);
    let results: Vec<Value> = response.json().await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["id"], 1);
    assert_eq!(results[0]["route"], "systems_audit");
    assert_eq!(results[0]["hide"], true);
    assert!(!results[0].to_string().contains("jo@mybiz.test"));
    assert_eq!(results[1]["handoffs"][0], "form_to_crm");
    assert_eq!(results[2]["index"], 2);
    assert!(results[2]["error"].as_str().unwrap().contains("input"));
    assert_eq!(results[3]["index"], 3);

    let too_many: Vec<Value> = (0..1001).map(|i| json!({"id": i, "input": "hi"})).collect();
    let response = app
        .post_json("/api/v1/triage", &Value::Array(too_many))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("at most 1000"));
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn erasure_needs_the_admin_token() {
    let app =
        TestApp::spawn(|c| c.admin.token = Some(handoff_gate::config::Secret::new("s3cret-admin")))
            .await;
    let created: Value = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "ActiveCampaign tag not added after the quiz"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = app.url(&format!(
        "/api/v1/intakes/{}",
        created["id"].as_str().unwrap()
    ));
    let delete = async |token: &str| {
        let request = app.client.delete(&url).bearer_auth(token);
        request.send().await.unwrap()
    };
    let anonymous = app.client.delete(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = delete("guess").await;
    assert_eq!(wrong.status(), 401);
    let erased = delete("s3cret-admin").await;
    assert_eq!(erased.status(), 204);
    let again = delete("s3cret-admin").await;
    assert_eq!(again.status(), 404);
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn(|_| {}).await;
    let alive: Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(alive["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["store"], "ok");
    assert_eq!(ready["outbox"]["pending"], 0);
    let missing = app.get("/api/v1/nothing").await;
    assert_eq!(missing.status(), 404);
    let missing: Value = missing.json().await.unwrap();
    assert_eq!(missing["error"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn a_damaged_form_token_key_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::test_config(dir.path());
    std::fs::create_dir_all(&config.data_dir).unwrap();
    std::fs::write(config.data_dir.join("form-token.key"), "not hex").unwrap();
    let Err(error) = handoff_gate::web::build_app(config).await else {
        panic!("a gateway started with a damaged form-token key");
    };
    let message = error.to_string();
    assert!(
        message.contains("form-token.key") && message.contains("64 hex characters"),
        "{message}"
    );
}
