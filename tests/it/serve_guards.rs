//! Bad input gets a precise, friendly answer and stores nothing: wrong
//! content type, oversized body, invalid UTF-8 and JSON, a flood from one
//! address, header injection, a script tag.

use serde_json::{Value, json};

use crate::support::{TestApp, decode_quoted_printable, eventually};

async fn json_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    body
}

#[tokio::test]
async fn wrong_content_types_get_415_naming_what_is_accepted() {
    let app = TestApp::spawn(|_| {}).await;
    let api = app
        .client
        .post(app.url("/api/v1/intakes"))
        .header("content-type", "text/plain")
        .body("message=hi")
        .send()
        .await
        .unwrap();
    let body = json_error(api, 415, "unsupported_media_type").await;
    assert_eq!(
        body["message"],
        "this endpoint accepts `application/json`; the request was sent as `text/plain`"
    );
    let form = app
        .client
        .post(app.url("/intake"))
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    assert!(
        form.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = form.text().await.unwrap();
    assert!(page.contains("a form post"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_body_gets_413_with_the_limit() {
    let app = TestApp::spawn(|c| c.limits.body_bytes = 4096).await;
    let big = "a".repeat(5000);
    let response = app
        .post_json("/api/v1/intakes", &json!({"message": big}))
        .await;
    let body = json_error(response, 413, "payload_too_large").await;
    assert!(body["message"].as_str().unwrap().contains("4096 bytes"));
    let token = app.form_token().await;
    let form = app
        .client
        .post(app.url("/intake"))
        .form(&[("message", big.as_str()), ("form_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 413);
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn invalid_utf8_and_json_get_400_with_the_position() {
    let app = TestApp::spawn(|_| {}).await;
    let mut bytes = br#"{"message": "caf"#.to_vec();
    bytes.push(0xff);
    bytes.extend_from_slice(br#""}"#);
    let utf8 = app
        .client
        .post(app.url("/api/v1/intakes"))
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let body = json_error(utf8, 400, "invalid_utf8").await;
    assert!(
        body["message"].as_str().unwrap().contains("offset 16"),
        "{body}"
    );

    let broken = app
        .client
        .post(app.url("/api/v1/intakes"))
        .header("content-type", "application/json")
        .body("{\n  \"message\": \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\",\n  oops\n}")
        .send()
        .await
        .unwrap();
    let body = json_error(broken, 400, "invalid_json").await;
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("line 3, column 3"), "{message}");
    assert!(!message.contains("sk_live"), "errors never quote the body");

    let form = app
        .client
        .post(app.url("/intake"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("message=caf%FF")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400);
    assert!(form.text().await.unwrap().contains("not valid UTF-8"));
    app.stop().await;
}

#[tokio::test]
async fn a_flood_from_one_address_gets_429_with_retry_after() {
    let app = TestApp::spawn(|c| c.limits.per_ip_per_minute = 3).await;
    for _ in 0..3 {
        let ok = app
            .post_json("/api/v1/intakes", &json!({"message": "Zapier drops leads"}))
            .await;
        assert_eq!(ok.status(), 201);
    }
    let limited = app
        .post_json("/api/v1/intakes", &json!({"message": "Zapier drops leads"}))
        .await;
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body = json_error(limited, 429, "rate_limited").await;
    assert!(body["message"].as_str().unwrap().contains("try again in"));
    // The form's refusal keeps the person's words and says when to resend.
    let page = app
        .post_form(&[("message", "Typeform leads skip the HubSpot owner")])
        .await;
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    let page = page.text().await.unwrap();
    assert!(page.contains("send it again in"), "{page}");
    assert!(
        page.contains(">Typeform leads skip the HubSpot owner</textarea>"),
        "{page}"
    );
    // Reading pages is never limited.
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(app.intake_count().await, 3);
    app.stop().await;
}

#[tokio::test]
async fn the_limiter_believes_forwarded_for_only_from_trusted_proxies() {
    let app = TestApp::spawn(|c| {
        c.limits.per_ip_per_minute = 1;
        // A network, as behind a load balancer whose addresses change.
        c.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let response = app
            .client
            .post(app.url("/api/v1/intakes"))
            .header("x-forwarded-for", format!("198.51.100.9, {client}"))
            .json(&json!({"message": "HubSpot form fields not mapping"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{client} has its own quota");
    }
    let again = app
        .client
        .post(app.url("/api/v1/intakes"))
        .header("x-forwarded-for", "203.0.113.1")
        .json(&json!({"message": "HubSpot form fields not mapping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn header_injection_never_reaches_an_email_header() {
    let app = TestApp::spawn(|_| {}).await;
    let injected = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "x", "contact_email": "me@mybiz.test\r\nBcc: victim@evil.test", "consent": true}),
        )
        .await;
    let body = json_error(injected, 422, "invalid_intake").await;
    assert!(body["fields"]["contact_email"].is_string());

    let created = app
        .post_json(
            "/api/v1/intakes",
            &json!({
                "message": "Kajabi access broken\r\nBcc: victim@evil.test\r\nSubject: hacked",
                "affected_tools": "Stripe\r\nX-Injected: yes",
            }),
        )
        .await;
    assert_eq!(created.status(), 201);
    app.drain().await;
    eventually(std::time::Duration::from_secs(5), "the email", || async {
        app.mail_files().len() == 1
    })
    .await;
    let mail = &app.mail_files()[0];
    let headers = &mail[..mail.find("\r\n\r\n").unwrap()];
    for line in headers.lines() {
        let name = line.split(':').next().unwrap().to_ascii_lowercase();
        assert!(
            !["bcc", "x-injected"].contains(&name.as_str()),
            "injected header: {line}"
        );
        assert!(!line.contains("hacked"), "{line}");
    }
    app.stop().await;
}

/// askama writes `<` as `&#60;`; either entity form is escaped.
fn escaped(html: &str) -> bool {
    html.contains("&#60;script&#62;alert(") || html.contains("&lt;script&gt;alert(")
}

#[tokio::test]
async fn a_script_tag_is_escaped_in_pages_and_email() {
    let app = TestApp::spawn(|_| {}).await;
    let response = app
        .post_form(&[
            ("message", "<script>alert('x')</script> form to CRM broken"),
            ("contact_email", "bad address"),
        ])
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(!page.contains("<script>alert"), "the script tag is escaped");
    assert!(escaped(&page), "{page}");

    let created = app
        .post_json(
            "/api/v1/intakes",
            &json!({"message": "<script>alert('x')</script> form to CRM broken"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    app.drain().await;
    eventually(std::time::Duration::from_secs(5), "the email", || async {
        app.mail_files().len() == 1
    })
    .await;
    let mail = decode_quoted_printable(&app.mail_files()[0]);
    let html = &mail[mail.find("Content-Type: text/html").unwrap()..];
    assert!(!html.contains("<script>"), "{html}");
    assert!(escaped(html), "{html}");
    app.stop().await;
}
