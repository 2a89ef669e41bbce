//! The inbox's store functions, run against a real SQLite file and a real
//! PostgreSQL database: the queue, its counts, answering, labels, the
//! labelled export, the router model's start, sessions, and the webhook
//! deliveries written with each intake.

use handoff_gate::store::{
    AUTORESPONSE, Delivery, DeliveryKind, Inserted, Label, MailState, QueueFilter, SessionClock,
    SessionLookup, Stamp, Status, Store, now_ms,
};
use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::{Handoff, Route, Triager};
use serde_json::json;

use crate::support::PgDatabase;

async fn insert(store: &Store, message: &str) -> handoff_gate::store::IntakeRecord {
    let raw =
        Intake::from_json(json!({"message": message, "affected_tools": "Stripe, Kajabi"})).unwrap();
    let scrubbed = ScrubbedIntake::review(raw, Channel::Form, &Policy::default()).unwrap();
    let triage = Triager::default().triage(&scrubbed);
    let Inserted::Created(record) = store.insert(&scrubbed, &triage, None).await.unwrap() else {
        panic!("created");
    };
    // Ids are time-ordered to the millisecond: keep the order certain.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    record
}

fn stamp(at_ms: i64) -> Stamp {
    Stamp {
        at_ms,
        by: "consultant".to_owned(),
    }
}

async fn queue_contract(store: Store) {
    let paid = insert(
        &store,
        "Buyers paid in Stripe but Kajabi never unlocks the course, 11 refund requests",
    )
    .await;
    let form = insert(
        &store,
        "Typeform answers do not land in the HubSpot budget field",
    )
    .await;
    let third = insert(
        &store,
        "Calendly bookings skip the pipeline for dana@client.test",
    )
    .await;
    let stored = store.intake(&paid.id).await.unwrap().unwrap();
    assert_eq!(stored.confidence, paid.confidence, "the confidence is kept");
    assert_eq!(stored.needs_review, paid.needs_review);

    // Newest first, paged.
    let all = QueueFilter::default();
    let page = store.queue(&all, 0, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| &e.record.id).collect::<Vec<_>>(),
        [&third.id, &form.id]
    );
    assert!(page.iter().all(|e| e.status == Status::New));
    assert!(matches!(
        page[0].mail,
        MailState::Waiting { attempts: 0, .. }
    ));
    let rest = store.queue(&all, 2, 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].record.id, paid.id);

    // Search over the scrubbed text, any case; a private value is not there to find.
    let search = |text: &str| QueueFilter {
        search: Some(text.to_owned()),
        ..QueueFilter::default()
    };
    let found = store.queue(&search("KAJABI never"), 0, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.id, paid.id);
    assert!(
        store
            .queue(&search("dana@client"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.queue(&search("[email]"), 0, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .queue(&search("100%_"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Answer one, correct another, let the third's email die.
    assert!(
        store
            .set_answered(&form.id, Some(&stamp(now_ms())))
            .await
            .unwrap()
    );
    let first_answer = store.entry(&form.id).await.unwrap().unwrap().answered;
    assert!(
        store
            .set_answered(&form.id, Some(&stamp(now_ms() + 5)))
            .await
            .unwrap()
    );
    assert_eq!(
        store.entry(&form.id).await.unwrap().unwrap().answered,
        first_answer,
        "the first answer's stamp is kept"
    );
    let before_labels = now_ms();
    let correction = Label::new(
        &paid,
        Route::Checklist,
        &[Handoff::PaymentToAccess, Handoff::FormToCrm],
        stamp(before_labels),
    );
    assert!(correction.corrected);
    assert_eq!(
        correction.handoffs,
        [Handoff::FormToCrm, Handoff::PaymentToAccess],
        "kept in the canonical order"
    );
    assert!(store.set_label(&paid.id, &correction).await.unwrap());
    let lease = store.claim_due(now_ms(), 60_000, 10).await.unwrap();
    assert!(
        store
            .record(
                &lease.token,
                &third.id,
                Delivery::Dead {
                    error: "550 no such user"
                }
            )
            .await
            .unwrap()
    );

    let entry = store.entry(&paid.id).await.unwrap().unwrap();
    assert_eq!(entry.route(), Route::Checklist);
    assert_eq!(
        entry.record.route, paid.route,
        "the model's decision stays beside it"
    );
    assert_eq!(entry.label.as_ref().unwrap().stamp.by, "consultant");
    let third_entry = store.entry(&third.id).await.unwrap().unwrap();
    assert_eq!(third_entry.status, Status::MailFailed);
    assert!(matches!(
        third_entry.mail,
        MailState::Failed { attempts: 1, last_error: Some(ref e) } if e == "550 no such user"
    ));

    // Tabs: counts by status within the route filter, by route within the status filter.
    let counts = store.queue_counts(&all).await.unwrap();
    assert_eq!(counts.by_status.get(&Status::New), Some(&1));
    assert_eq!(counts.by_status.get(&Status::Answered), Some(&1));
    assert_eq!(counts.by_status.get(&Status::MailFailed), Some(&1));
    assert!(counts.by_route.get(&Route::Checklist).copied().unwrap_or(0) >= 1);
    assert_eq!(counts.by_route.values().sum::<u64>(), 3);
    assert_eq!(counts.matching(&all), 3);
    let checklist = QueueFilter {
        route: Some(Route::Checklist),
        ..QueueFilter::default()
    };
    let listed = store.queue(&checklist, 0, 10).await.unwrap();
    assert!(
        listed.iter().any(|e| e.record.id == paid.id),
        "filed under the corrected route"
    );
    let answered = QueueFilter {
        status: Some(Status::Answered),
        ..QueueFilter::default()
    };
    let listed = store.queue(&answered, 0, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record.id, form.id);
    let narrowed = store.queue_counts(&answered).await.unwrap();
    assert_eq!(narrowed.by_route.values().sum::<u64>(), 1);
    assert_eq!(narrowed.by_status.values().sum::<u64>(), 3);
    assert_eq!(narrowed.matching(&answered), 1);

    // Un-answer.
    assert!(store.set_answered(&form.id, None).await.unwrap());
    assert_eq!(
        store.entry(&form.id).await.unwrap().unwrap().status,
        Status::New
    );

    // A confirmation is a label too, but not a correction.
    let confirmation = Label::new(&form, form.route, &form.handoffs, stamp(now_ms()));
    assert!(!confirmation.corrected);
    assert!(store.set_label(&form.id, &confirmation).await.unwrap());
    let labelled = store.labelled().await.unwrap();
    assert_eq!(labelled.len(), 2);
    assert_eq!(labelled[0].record.id, paid.id, "oldest label first");
    assert_eq!(labelled[0].label.route, Route::Checklist);
    assert_eq!(store.corrections_since(before_labels).await.unwrap(), 1);
    assert_eq!(store.corrections_since(now_ms() + 1_000).await.unwrap(), 0);

    // The router model: first served once, remembered after.
    let first = store.note_model("model-a", 1_000).await.unwrap();
    assert_eq!(first, 1_000);
    assert_eq!(store.note_model("model-a", 2_000).await.unwrap(), 1_000);
    assert_eq!(store.note_model("model-b", 3_000).await.unwrap(), 3_000);

    // Erasure takes the review with the intake; a missing intake is not labelled.
    assert!(store.erase(&paid.id).await.unwrap());
    assert!(store.entry(&paid.id).await.unwrap().is_none());
    assert_eq!(store.labelled().await.unwrap().len(), 1);
    assert!(!store.set_label(&paid.id, &correction).await.unwrap());
    assert!(
        !store
            .set_answered(&paid.id, Some(&stamp(now_ms())))
            .await
            .unwrap()
    );
    assert!(!store.set_answered(&paid.id, None).await.unwrap());
}

async fn session_contract(store: Store) {
    let now = now_ms();
    let one = SessionLookup {
        key_hash: "hash-one",
        password_tag: "tag-a",
    };
    let clock = SessionClock {
        now_ms: now,
        created_after_ms: now - 3_600_000,
    };
    store
        .session_create(one, r#"{"csrf":"\"x\""}"#, now, now + 60_000)
        .await
        .unwrap();
    assert_eq!(
        store.session_state(one, clock).await.unwrap().as_deref(),
        Some(r#"{"csrf":"\"x\""}"#)
    );
    // Another password's tag, idle too long, or too old: not loaded.
    let other_password = SessionLookup {
        password_tag: "tag-b",
        ..one
    };
    assert!(
        store
            .session_state(other_password, clock)
            .await
            .unwrap()
            .is_none()
    );
    let idle = SessionClock {
        now_ms: now + 60_001,
        ..clock
    };
    assert!(store.session_state(one, idle).await.unwrap().is_none());
    let old = SessionClock {
        created_after_ms: now,
        ..clock
    };
    assert!(store.session_state(one, old).await.unwrap().is_none());

    // Used: extended (not when it already reaches far enough), updated.
    store
        .session_extend("hash-one", now + 120_000, 30_000)
        .await
        .unwrap();
    assert!(store.session_state(one, idle).await.unwrap().is_some());
    assert!(
        store
            .session_update("hash-one", r#"{"flash":"\"done\""}"#, now + 120_000)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session_state(one, clock).await.unwrap().as_deref(),
        Some(r#"{"flash":"\"done\""}"#)
    );

    // Purge what can no longer be used; sign-out deletes.
    let two = SessionLookup {
        key_hash: "hash-two",
        password_tag: "tag-old",
    };
    store
        .session_create(two, "{}", now, now + 60_000)
        .await
        .unwrap();
    assert_eq!(store.sessions_purge("tag-a", clock).await.unwrap(), 1);
    assert!(store.session_delete("hash-one").await.unwrap());
    assert!(!store.session_delete("hash-one").await.unwrap());
    assert!(!store.session_update("hash-one", "{}", now).await.unwrap());
}

/// Each intake stored after an endpoint is known gets one delivery row for
/// it, in the intake's own transaction; claims take each row once; a
/// failed attempt waits; a dropped endpoint loses what it had waiting; an
/// erased intake takes its rows.
async fn webhook_contract(store: Store) {
    let before = insert(&store, "stored before any endpoint").await;
    let names = ["crm".to_owned(), "slack".to_owned()];
    assert_eq!(
        store.set_webhook_endpoints(&names, now_ms()).await.unwrap(),
        0
    );
    let one = insert(&store, "Stripe paid, Kajabi locked").await;
    let two = insert(&store, "Typeform never reaches HubSpot").await;
    assert!(store.webhook_states(&before.id).await.unwrap().is_empty());
    assert_eq!(store.webhook_states(&one.id).await.unwrap().len(), 2);

    let lease = store
        .claim_due_webhooks(now_ms(), 60_000, 10)
        .await
        .unwrap();
    assert_eq!(lease.due.len(), 4, "{:?}", lease.due);
    assert_eq!(lease.due[0].intake_id, one.id, "oldest first");
    let again = store
        .claim_due_webhooks(now_ms(), 60_000, 10)
        .await
        .unwrap();
    assert!(again.due.is_empty(), "a leased row is not claimed twice");
    for due in &lease.due {
        let outcome = if due.intake_id == one.id && due.endpoint == "crm" {
            Delivery::Retry {
                at_ms: now_ms() + 60_000,
                error: "the endpoint answered 503",
            }
        } else {
            Delivery::Sent
        };
        assert!(
            store
                .record_webhook(&lease.token, due, outcome)
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .record_webhook(&lease.token, &lease.due[0], Delivery::Sent)
            .await
            .unwrap(),
        "recorded once"
    );
    let states = store.webhook_states(&one.id).await.unwrap();
    assert_eq!(
        (
            states[0].endpoint.as_str(),
            states[0].state.as_str(),
            states[0].attempts
        ),
        ("crm", "pending", 1)
    );
    assert_eq!(
        states[0].last_error.as_deref(),
        Some("the endpoint answered 503")
    );
    assert_eq!(states[1].state, "sent");
    assert!(
        store
            .claim_due_webhooks(now_ms(), 60_000, 10)
            .await
            .unwrap()
            .due
            .is_empty(),
        "not due yet"
    );

    // The CRM is no longer configured: its waiting delivery goes, new intakes get none.
    assert_eq!(
        store
            .set_webhook_endpoints(&names[1..], now_ms())
            .await
            .unwrap(),
        1
    );
    let three = insert(&store, "Calendly never creates the deal").await;
    let states = store.webhook_states(&three.id).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].endpoint, "slack");
    assert!(store.erase(&three.id).await.unwrap());
    assert!(store.webhook_states(&three.id).await.unwrap().is_empty());
    assert_eq!(
        store.webhook_states(&two.id).await.unwrap().len(),
        2,
        "the rest stay"
    );

    // A held intake's deliveries are held, and released with its email.
    let raw = Intake::from_json(json!({"message": "pasted and sent at once"})).unwrap();
    let scrubbed = ScrubbedIntake::review(raw, Channel::Form, &Policy::default()).unwrap();
    let triage = Triager::default().triage(&scrubbed);
    let Inserted::Created(held) = store.insert_held(&scrubbed, &triage, None).await.unwrap() else {
        panic!("created");
    };
    assert_eq!(
        store.webhook_states(&held.id).await.unwrap()[0].state,
        "held"
    );
    assert!(
        store
            .claim_due_webhooks(now_ms(), 60_000, 10)
            .await
            .unwrap()
            .due
            .is_empty(),
        "held back"
    );
    assert!(store.release_held(&held.id).await.unwrap());
    let lease = store
        .claim_due_webhooks(now_ms(), 60_000, 10)
        .await
        .unwrap();
    assert_eq!(lease.due.len(), 1);
    assert_eq!(lease.due[0].intake_id, held.id);

    // The autoresponse row: only while it is on, only with consent and an
    // address, and only the autoresponse claim takes it.
    store.set_autoresponse(true, now_ms()).await.unwrap();
    let raw = Intake::from_json(
        json!({"message": "Kajabi locked", "contact_email": "me@mybiz.test", "consent": true}),
    )
    .unwrap();
    let scrubbed = ScrubbedIntake::review(raw, Channel::Form, &Policy::default()).unwrap();
    let triage = Triager::default().triage(&scrubbed);
    let Inserted::Created(asked) = store.insert(&scrubbed, &triage, None).await.unwrap() else {
        panic!("created");
    };
    let without = insert(&store, "no address given").await;
    assert!(
        !store
            .webhook_states(&without.id)
            .await
            .unwrap()
            .iter()
            .any(|s| s.endpoint == AUTORESPONSE)
    );
    let hooks = store
        .claim_due_webhooks(now_ms(), 60_000, 10)
        .await
        .unwrap();
    assert!(hooks.due.iter().all(|d| d.endpoint != AUTORESPONSE));
    let lease = store
        .claim_due_deliveries(DeliveryKind::Autoresponse, now_ms(), 60_000, 10)
        .await
        .unwrap();
    assert_eq!(lease.due.len(), 1);
    assert_eq!(
        (&lease.due[0].intake_id, lease.due[0].endpoint.as_str()),
        (&asked.id, AUTORESPONSE)
    );
    assert_eq!(
        store
            .autoresponses_to_same_address(&asked.id, 0)
            .await
            .unwrap(),
        0
    );
    store
        .record_webhook(&lease.token, &lease.due[0], Delivery::Sent)
        .await
        .unwrap();
    assert_eq!(
        store
            .autoresponses_to_same_address(&asked.id, 0)
            .await
            .unwrap(),
        1
    );
    store.set_autoresponse(false, now_ms()).await.unwrap();
}

#[tokio::test]
async fn the_inbox_store_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("gate.db").display()
    ))
    .await
    .unwrap();
    queue_contract(store.clone()).await;
    session_contract(store.clone()).await;
    webhook_contract(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn the_inbox_store_holds_on_postgres() {
    let Some(db) = PgDatabase::create("the_inbox_store_holds_on_postgres").await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    queue_contract(store.clone()).await;
    session_contract(store.clone()).await;
    webhook_contract(store.clone()).await;
    store.close().await;
    db.drop_database().await;
}
