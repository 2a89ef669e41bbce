//! Zero leaks: plant private values in every way a request can carry them,
//! through the real binary with debug logging, then search every sink (the
//! SQLite file with its WAL, the mail written or received (the autoresponse
//! to the person included), the logs) for them.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::{
    GatewayProcess, SmtpServer, decode_quoted_printable, eventually, form_token_in, free_port,
    read_dir_texts, smtp_available, text_of,
};

/// Values that must never persist anywhere.
pub(crate) const PLANTED: &[&str] = &[
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "4111 1111 1111 1111",
    "4111111111111111",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "dana.whitfield@client.test",
    "ann@one.test",
    "415 555 0132",
    "4155550132",
    "Whitfield",
    "Tr0ub4dor&3x",
    "AKIAZ7VRSQ4EXAMPLEKY",
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "B07ABCDEF12/abcdefghijklmnopQRSTUVWX",
    "Sup3rS3cretPw",
    "idem-sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
    "FILECONTENT-sk_live_99zz",
];

/// One API request carrying most of [`PLANTED`] in every field.
pub(crate) fn planted_request() -> serde_json::Value {
    json!({
        "message": "Stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00. My client Dana Whitfield (dana.whitfield@client.test, +1 415 555 0132) paid but got no Kajabi access.",
        "affected_tools": "Stripe, Kajabi, AWS key AKIAZ7VRSQ4EXAMPLEKY",
        "source_path": "https://hooks.slack.com/services/T07ABCDEF12/B07ABCDEF12/abcdefghijklmnopQRSTUVWX",
        "redacted_example": "login admin / password: Tr0ub4dor&3x at https://admin:Sup3rS3cretPw@crm.example.test, token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "contact_email": "me@mybiz.test",
        "consent": true
    })
}

fn every_sink(dir: &Path, maildir: Option<&Path>) -> Vec<(String, String)> {
    let mut sinks = Vec::new();
    for entry in std::fs::read_dir(dir.join("data"))
        .unwrap()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            sinks.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    for (i, mail) in read_dir_texts(&dir.join("data/mail"))
        .into_iter()
        .enumerate()
    {
        sinks.push((format!("mail file {i}"), decode_quoted_printable(&mail)));
        sinks.push((format!("mail file {i} (raw)"), mail));
    }
    if let Some(maildir) = maildir {
        for (i, mail) in read_dir_texts(&maildir.join("new")).into_iter().enumerate() {
            sinks.push((format!("SMTP message {i}"), decode_quoted_printable(&mail)));
        }
    }
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "log") {
            sinks.push((
                entry.path().display().to_string(),
                std::fs::read_to_string(entry.path()).unwrap(),
            ));
        }
    }
    sinks
}

#[tokio::test]
async fn planted_private_values_reach_no_sink() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = tempfile::tempdir().unwrap();
    let smtp = smtp_available("planted_private_values_reach_no_sink (SMTP part)")
        .then(|| SmtpServer::start(free_port(), maildir.path()));
    // The autoresponse is on, so the email to the person is searched too.
    let mut env = vec![("HANDOFF_GATE__AUTORESPONSE__ENABLED", "true".to_owned())];
    if let Some(smtp) = &smtp {
        env.push(("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()));
        env.push(("HANDOFF_GATE__SMTP__PORT", smtp.port.to_string()));
        env.push(("HANDOFF_GATE__SMTP__TLS", "none".to_owned()));
    }
    let gateway = GatewayProcess::start(dir.path(), &env).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = format!("{}/api/v1/intakes", gateway.base);

    let accepted = client
        .post(&api)
        .header("Idempotency-Key", "idem-sk_live_51HqLyjWDarjtT1zdp7dcXYZ")
        .json(&planted_request())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 201);
    let body = accepted.text().await.unwrap();

    // Rejected, malformed and odd requests: none may echo or log a value.
    let mut answers = vec![body];
    let export = "ann@one.test, +1 415 555 0132\nbob@two.test, +1 415 555 0102\ncat@three.test, +1 415 555 0103";
    for request in [
        json!({"message": "why no sync", "redacted_example": export}),
        json!({"message": "x", "contact_email": "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "consent": true}),
        json!({"message": "x", "sk_live_4eC39HqLyjWDarjtT1zdp7dc": "1"}),
        json!({"message": 4111111111111111u64}),
    ] {
        let response = client.post(&api).json(&request).send().await.unwrap();
        assert!(response.status().is_client_error());
        answers.push(response.text().await.unwrap());
    }
    let broken = client
        .post(&api)
        .header("content-type", "application/json")
        .body("{\"message\": \"Tr0ub4dor&3x\" oops}")
        .send()
        .await
        .unwrap();
    answers.push(broken.text().await.unwrap());

    let token = form_token_in(&text_of(&client, &format!("{}/", gateway.base)).await);
    let form = client
        .post(format!("{}/intake", gateway.base))
        .form(&[
            (
                "message",
                "HubSpot form broken for dana.whitfield@client.test, card 4111111111111111",
            ),
            ("form_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 303);
    let with_file = reqwest::multipart::Form::new()
        .text("message", "see attached, password: Tr0ub4dor&3x")
        .text("form_token", token.clone())
        .part(
            "export",
            reqwest::multipart::Part::bytes(b"FILECONTENT-sk_live_99zz ann@one.test".to_vec())
                .file_name("contacts.csv"),
        );
    let refused = client
        .post(format!("{}/intake", gateway.base))
        .multipart(with_file)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    answers.push(refused.text().await.unwrap());

    for answer in &answers {
        for value in PLANTED {
            assert!(
                !answer.contains(value),
                "a response echoed {value}: {answer}"
            );
        }
    }

    // Let the outbox deliver, then stop the gateway so the WAL is settled.
    // Two emails to the consultant and the autoresponse to the person who consented.
    eventually(Duration::from_secs(20), "all three emails", || async {
        match &smtp {
            Some(smtp) => smtp.messages().len() == 3,
            None => read_dir_texts(&dir.path().join("data/mail")).len() == 3,
        }
    })
    .await;
    let metrics = text_of(&client, &format!("{}/metrics", gateway.base)).await;
    drop(gateway);

    let mut sinks = every_sink(dir.path(), smtp.as_ref().map(|_| maildir.path()));
    sinks.push(("GET /metrics".to_owned(), metrics));
    assert!(
        sinks
            .iter()
            .any(|(name, _)| name.ends_with("handoff-gate.db"))
    );
    assert!(
        sinks
            .iter()
            .any(|(name, text)| name.ends_with(".log") && text.contains("intake stored"))
    );
    for (name, text) in &sinks {
        for value in PLANTED {
            assert!(!text.contains(value), "{value} leaked into {name}");
        }
    }
    // The scrubbed story did arrive.
    assert!(
        sinks
            .iter()
            .any(|(_, text)| text.contains("My client [PERSON]")),
        "the scrubbed summary was delivered"
    );
}
