//! The autoresponse over real SMTP (aiosmtpd): off by default; when on, one
//! email to a person who agreed to be contacted and gave an address, with
//! thanks, the next step, what was removed (kinds only), "rotate that key"
//! only after a pasted credential (never for a click id), the reply time,
//! and never their words; none without a reply address given with consent
//! (an address in their text is not one); one a day to an address;
//! a held intake gets its autoresponse when released.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    SmtpServer, TestApp, decode_quoted_printable, eventually, free_port, smtp_available, use_smtp,
};
use handoff_gate::store::{AUTORESPONSE, IntakeId};

async fn submit(app: &TestApp, body: Value) -> IntakeId {
    let response = app.post_json("/api/v1/intakes", &body).await;
    let status = response.status();
    let created: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{created}");
    IntakeId::parse(created["id"].as_str().unwrap()).unwrap()
}

async fn autoresponse_state(app: &TestApp, id: &IntakeId) -> Option<String> {
    app.state
        .store
        .webhook_states(id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.endpoint == AUTORESPONSE)
        .map(|s| s.state)
}

/// The messages the relay took that went to `address`, decoded.
fn to(smtp: &SmtpServer, address: &str) -> Vec<String> {
    smtp.messages()
        .iter()
        .map(|m| decode_quoted_printable(m))
        .filter(|m| {
            m.lines()
                .any(|l| l.starts_with("To:") && l.contains(address))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_autoresponse_per_consenting_person_with_kinds_never_words() {
    if !smtp_available("one_autoresponse_per_consenting_person_with_kinds_never_words") {
        return;
    }
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(free_port(), maildir.path());

    // Off by default: no row, no email.
    let off = TestApp::spawn(|c| use_smtp(c, smtp.port)).await;
    let quiet = submit(
        &off,
        json!({"message": "Kajabi never unlocks", "contact_email": "first@mybiz.test", "consent": true}),
    )
    .await;
    assert_eq!(autoresponse_state(&off, &quiet).await, None);
    let app = off
        .restart(|c| {
            use_smtp(c, smtp.port);
            c.autoresponse.enabled = true;
            c.consultant.name = Some("Alex Rivera".to_owned());
            c.consultant.reply_time = Some("within two working days".to_owned());
        })
        .await;

    let key = submit(
        &app,
        json!({
            "message": "Stripe paid but Kajabi never unlocks; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc and my client dana.whitfield@client.test complained",
            "contact_email": "owner@mybiz.test",
            "consent": true,
        }),
    )
    .await;
    let again = submit(
        &app,
        json!({"message": "Also the Zapier step fails", "contact_email": "owner@mybiz.test", "consent": true}),
    )
    .await;
    let no_consent = submit(
        &app,
        json!({"message": "Typeform to HubSpot is broken, write to shy@mybiz.test"}),
    )
    .await;
    let click = submit(
        &app,
        json!({
            "message": "Leads from https://shop.example.com/?gclid=Cj0KCQiA4L67BhDUARIsADWrl7Ep9nT never reach Pipedrive",
            "contact_email": "ads@mybiz.test",
            "consent": true,
        }),
    )
    .await;
    eventually(Duration::from_secs(20), "two autoresponses", || async {
        to(&smtp, "owner@mybiz.test").len() == 1 && to(&smtp, "ads@mybiz.test").len() == 1
    })
    .await;
    eventually(
        Duration::from_secs(20),
        "the second one skipped",
        || async { autoresponse_state(&app, &again).await.as_deref() == Some("skipped") },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let owner = to(&smtp, "owner@mybiz.test");
    assert_eq!(owner.len(), 1, "one a day to an address");
    let mail = &owner[0];
    assert!(
        mail.contains("Subject: Your question reached Alex Rivera"),
        "{mail}"
    );
    assert!(mail.contains("What happens next:"), "{mail}");
    assert!(
        mail.contains("You can expect an answer within two working days."),
        "{mail}"
    );
    assert!(mail.contains("rotate that key or password now"), "{mail}");
    assert!(mail.contains("Reply-To:"), "{mail}");
    assert!(mail.contains(&format!("Reference: {key}")), "{mail}");
    for never in [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "dana.whitfield@client.test",
        "Kajabi never unlocks",
        "[API_KEY]",
    ] {
        assert!(!mail.contains(never), "{never} in the autoresponse: {mail}");
    }
    let ads = &to(&smtp, "ads@mybiz.test")[0];
    assert!(
        !ads.contains("rotate"),
        "a click id is not a credential: {ads}"
    );
    assert!(!ads.contains("Cj0KCQiA4L67BhDUARIsADWrl7Ep9nT"), "{ads}");
    assert!(
        to(&smtp, "shy@mybiz.test").is_empty(),
        "no consent, no email"
    );
    assert_eq!(autoresponse_state(&app, &no_consent).await, None);
    assert_eq!(
        autoresponse_state(&app, &click).await.as_deref(),
        Some("sent")
    );
    assert!(
        to(&smtp, "first@mybiz.test").is_empty(),
        "stored while it was off"
    );

    // A held intake gets its autoresponse only when released.
    let (scrubbed, triage) = crate::support::reviewed(json!({
        "message": "pasted and sent at once",
        "contact_email": "fast@mybiz.test",
        "consent": true,
    }));
    let handoff_gate::store::Inserted::Created(held) = app
        .state
        .store
        .insert_held(&scrubbed, &triage, None)
        .await
        .unwrap()
    else {
        panic!("stored");
    };
    assert_eq!(
        autoresponse_state(&app, &held.id).await.as_deref(),
        Some("held")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(to(&smtp, "fast@mybiz.test").is_empty(), "not while held");
    assert!(app.state.store.release_held(&held.id).await.unwrap());
    app.state.autoresponder.wake();
    eventually(
        Duration::from_secs(20),
        "the released autoresponse",
        || async { to(&smtp, "fast@mybiz.test").len() == 1 },
    )
    .await;
    app.stop().await;
}
