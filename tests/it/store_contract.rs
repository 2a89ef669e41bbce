//! The store's contract, run against a real SQLite file and a real
//! PostgreSQL database: the same calls must behave the same on both.

use handoff_gate::store::{Backend, Delivery, Idempotency, Inserted, Requeue, Store, now_ms};
use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::Triager;
use serde_json::json;

use crate::support::PgDatabase;

fn intake(message: &str) -> (ScrubbedIntake, handoff_triage::Triage) {
    let raw = Intake::from_json(json!({
        "message": message,
        "affected_tools": "Stripe, Kajabi",
        "contact_email": "me@mybiz.test",
        "consent": true,
    }))
    .unwrap();
    let scrubbed = ScrubbedIntake::review(raw, Channel::Form, &Policy::default()).unwrap();
    let outcome = Triager::default().triage(&scrubbed);
    (scrubbed, outcome)
}

fn key(k: &str, body: &str) -> Idempotency {
    Idempotency {
        key_hash: format!("k-{k}"),
        request_hash: format!("b-{body}"),
    }
}

async fn contract(store: Store) {
    // Insert and read back: only scrubbed text, kinds and counts.
    let (one, one_triage) = intake("Paid in Stripe, no Kajabi access for jane@acme.test");
    let Inserted::Created(record) = store.insert(&one, &one_triage, None).await.unwrap() else {
        panic!("a new intake is created");
    };
    let back = store.intake(&record.id).await.unwrap().unwrap();
    assert_eq!(back, record);
    assert_eq!(
        (back.confidence, back.needs_review),
        (one_triage.confidence, one_triage.needs_review)
    );
    assert_eq!(
        back.field(handoff_intake::IntakeField::Message),
        Some("Paid in Stripe, no Kajabi access for [EMAIL]")
    );
    assert!(back.consent && !back.exposed_credentials);
    assert_eq!(back.contact_email.as_deref(), Some("me@mybiz.test"));

    // Idempotency: the same key and body replays, another body is refused.
    let (two, two_triage) = intake("Calendly booking not in the pipeline");
    let first = store
        .insert(&two, &two_triage, Some(&key("a", "1")))
        .await
        .unwrap();
    let Inserted::Created(first) = first else {
        panic!("created")
    };
    let Inserted::Replayed(again) = store
        .insert(&two, &two_triage, Some(&key("a", "1")))
        .await
        .unwrap()
    else {
        panic!("replayed");
    };
    assert_eq!(again.id, first.id);
    assert!(matches!(
        store
            .insert(&two, &two_triage, Some(&key("a", "2")))
            .await
            .unwrap(),
        Inserted::KeyReused
    ));

    // The outbox: claimed rows are leased under a token, retried, sent, or dead.
    let now = now_ms();
    let claimed = store.claim_due(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.emails.len(), 2, "both intakes are due");
    assert!(
        store
            .claim_due(now, 60_000, 10)
            .await
            .unwrap()
            .emails
            .is_empty(),
        "leased rows are not claimed twice"
    );
    let (first, second) = (&claimed.emails[0].intake_id, &claimed.emails[1].intake_id);
    let retry = Delivery::Retry {
        at_ms: now - 1,
        error: "connection refused",
    };
    assert!(store.record(&claimed.token, first, retry).await.unwrap());
    assert!(
        !store
            .record(&claimed.token, first, Delivery::Sent)
            .await
            .unwrap(),
        "a recorded row is released: the old token changes nothing"
    );
    let again = store.claim_due(now_ms(), 60_000, 10).await.unwrap();
    assert_eq!(again.emails.len(), 1);
    assert_eq!(again.emails[0].attempts, 1);
    assert_eq!(
        store.renew(&again.token, now_ms() + 60_000).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .renew(&claimed.token, now_ms() + 60_000)
            .await
            .unwrap(),
        1,
        "the second row is still held"
    );
    // Several outcomes in one transaction, each only on a row the token holds.
    assert_eq!(
        store
            .record_all(
                &again.token,
                &[(first, Delivery::Sent), (second, Delivery::Sent)]
            )
            .await
            .unwrap(),
        vec![true, false],
        "the second row is held by the other token"
    );
    let dead = Delivery::Dead {
        error: "550 mailbox unavailable",
    };
    assert!(store.record(&claimed.token, second, dead).await.unwrap());
    let lag = store.outbox_lag().await.unwrap();
    assert_eq!((lag.pending, lag.dead), (0, 1));
    let states = store.outbox_states().await.unwrap();
    assert_eq!(states.get("sent"), Some(&1));
    assert_eq!(states.get("dead"), Some(&1));
    let listed = store.dead_emails(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0].intake_id, second);
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some("550 mailbox unavailable")
    );

    // Requeue dead rows, purge sent ones.
    assert_eq!(
        store.requeue(Requeue::One(first)).await.unwrap(),
        0,
        "only dead rows"
    );
    assert_eq!(store.requeue(Requeue::All).await.unwrap(), 1);
    let requeued = store.claim_due(now_ms(), 60_000, 10).await.unwrap();
    assert_eq!(requeued.emails.len(), 1);
    assert_eq!(requeued.emails[0].attempts, 0, "attempts start again");
    assert_eq!(store.purge_sent_before(now_ms() + 1).await.unwrap(), 1);
    assert_eq!(store.outbox_states().await.unwrap().get("sent"), None);

    // Held intakes: never claimed until released, listed, released once;
    // the ones never released are purged.
    let (held, held_triage) = intake("Typeform answers never reach the HubSpot contact");
    let Inserted::Created(held) = store.insert_held(&held, &held_triage, None).await.unwrap()
    else {
        panic!("a held intake is created")
    };
    let (stale, stale_triage) = intake("ConvertKit never adds the tag after the quiz");
    let Inserted::Created(stale) = store
        .insert_held(&stale, &stale_triage, None)
        .await
        .unwrap()
    else {
        panic!("a held intake is created")
    };
    let claimed = store.claim_due(now_ms() + 1, 60_000, 10).await.unwrap();
    assert!(claimed.emails.is_empty(), "held emails are never claimed");
    assert_eq!(store.held_count().await.unwrap(), 2);
    assert_eq!(store.outbox_lag().await.unwrap().held, 2);
    let listed = store.held(10).await.unwrap();
    assert!(
        listed.contains(&held) && listed.contains(&stale),
        "{listed:?}"
    );
    assert_eq!(store.held(1).await.unwrap().len(), 1);
    assert!(store.release_held(&held.id).await.unwrap());
    assert!(
        !store.release_held(&held.id).await.unwrap(),
        "released once"
    );
    let claimed = store.claim_due(now_ms() + 1, 60_000, 10).await.unwrap();
    assert_eq!(claimed.emails.len(), 1);
    assert_eq!(claimed.emails[0].intake_id, held.id);
    assert_eq!(store.purge_held_before(now_ms() + 1).await.unwrap(), 1);
    assert!(store.intake(&stale.id).await.unwrap().is_none());
    assert!(store.erase(&held.id).await.unwrap());

    // Erasure and retention.
    assert!(store.erase(&record.id).await.unwrap());
    assert!(!store.erase(&record.id).await.unwrap());
    assert!(store.intake(&record.id).await.unwrap().is_none());
    assert_eq!(store.purge_before(now_ms() + 1).await.unwrap(), 1);
    assert!(
        store.outbox_states().await.unwrap().is_empty(),
        "outbox rows go with their intakes"
    );

    // Delivery marks share the writer's queue with intakes: queued while
    // intakes commit, they ride in the same transaction, and each still
    // lands only on the row its token holds.
    let (three, three_triage) = intake("Typeform leads never reach HubSpot");
    store.insert(&three, &three_triage, None).await.unwrap();
    let claim = store.claim_due(now_ms(), 60_000, 10).await.unwrap();
    let sent = [(&claim.emails[0].intake_id, Delivery::Sent)];
    let inserts = (0..24).map(|_| store.insert(&three, &three_triage, None));
    let (marked, stored) = tokio::join!(
        store.record_all(&claim.token, &sent),
        futures_util::future::join_all(inserts)
    );
    assert_eq!(marked.unwrap(), vec![true]);
    assert!(
        stored
            .into_iter()
            .all(|inserted| matches!(inserted, Ok(Inserted::Created(_))))
    );
    let states = store.outbox_states().await.unwrap();
    assert_eq!(
        (states.get("sent"), states.get("pending")),
        (Some(&1), Some(&24))
    );
    store.readiness().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn the_store_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("nested/gate.db").display()
    ))
    .await
    .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    contract(store).await;
}

#[tokio::test]
async fn the_store_contract_holds_on_postgres() {
    let Some(db) = PgDatabase::create("the_store_contract_holds_on_postgres").await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    contract(store).await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_bad_store_url_names_the_store_without_its_password() {
    let err = Store::open("postgres://gate:s3cret@127.0.0.1:1/nowhere")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("postgres://gate:[REDACTED]@127.0.0.1:1/nowhere"),
        "{err}"
    );
    assert!(!err.contains("s3cret"));
}
