//! The OpenAPI 3.1 document is generated from the real handlers; real
//! responses of every documented JSON operation validate against it.

use serde_json::{Value, json};

use crate::support::TestApp;

/// The schema the document gives for one response, with the components
/// beside it so its `$ref`s resolve.
fn response_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} does not document {status}"
    );
    let mut schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} {status} has no JSON schema"
    );
    schema["components"] = doc["components"].clone();
    schema
}

fn assert_valid(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let schema = response_schema(doc, path, method, status);
    let validator = jsonschema::validator_for(&schema).expect("the document's schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

#[tokio::test]
async fn real_responses_match_the_openapi_document() {
    let app =
        TestApp::spawn(|c| c.admin.token = Some(handoff_gate::config::Secret::new("t0ken"))).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/intakes",
        "/api/v1/intakes/{id}",
        "/api/v1/triage",
        "/api/v1/form-token",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }

    let check = async |doc_path: &str, method: &str, request: reqwest::RequestBuilder| {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "{method} {doc_path} answered {status} with a body that is not JSON ({error}): {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_valid(&doc, doc_path, method, status, &body);
        (status, body)
    };
    let intakes = app.url("/api/v1/intakes");
    let (status, created) = check(
        "/api/v1/intakes",
        "post",
        app.client.post(&intakes).json(
            &json!({"message": "Stripe paid, Kajabi locked; key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    for (body, expected) in [
        (json!({"message": " "}), 422),
        (
            json!({"message": "x", "redacted_example": "a@b.test, +1 415 555 0101\nc@d.test, +1 415 555 0102\ne@f.test, +1 415 555 0103"}),
            422,
        ),
        (json!(["not an object"]), 400),
    ] {
        let (status, _) = check(
            "/api/v1/intakes",
            "post",
            app.client.post(&intakes).json(&body),
        )
        .await;
        assert_eq!(status, expected);
    }
    let (status, _) = check(
        "/api/v1/intakes",
        "post",
        app.client
            .post(&intakes)
            .body("x")
            .header("content-type", "text/plain"),
    )
    .await;
    assert_eq!(status, 415);
    let (status, results) = check(
        "/api/v1/triage",
        "post",
        app.client
            .post(app.url("/api/v1/triage"))
            .json(&json!([{"id": 1, "input": "zapier drops the utm"}, {"id": null, "input": 5}])),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(results.as_array().unwrap().len(), 2);
    let (status, _) = check(
        "/api/v1/form-token",
        "get",
        app.client.get(app.url("/api/v1/form-token")),
    )
    .await;
    assert_eq!(status, 200);
    let erase = app.url(&format!(
        "/api/v1/intakes/{}",
        created["id"].as_str().unwrap()
    ));
    let (status, _) = check("/api/v1/intakes/{id}", "delete", app.client.delete(&erase)).await;
    assert_eq!(status, 401);
    let erased = app
        .client
        .delete(&erase)
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 204);
    assert!(doc["paths"]["/api/v1/intakes/{id}"]["delete"]["responses"]["204"].is_object());
    let (status, _) = check(
        "/api/v1/intakes/{id}",
        "delete",
        app.client.delete(&erase).bearer_auth("t0ken"),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}
