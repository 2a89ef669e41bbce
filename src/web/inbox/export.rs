//! Exports: the queue as filtered (CSV), and the intakes the consultant
//! confirmed or corrected as labelled JSON lines in the routing dev format
//! that `handoff-gate train` reads. Both hold only what the store holds:
//! scrubbed text, kinds, counts and labels (never the reply address).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::queue::QueueQuery;
use super::views;
use super::{Consultant, InboxError};
use crate::store::{Entry, Labelled, MailState, now_ms};
use crate::web::AppState;
use handoff_intake::{Channel, IntakeField};

/// At most this many rows go into one CSV export.
const MAX_ROWS: u32 = 100_000;

/// The CSV's columns.
const COLUMNS: [&str; 16] = [
    "id",
    "received_utc",
    "status",
    "channel",
    "route",
    "model_route",
    "confidence",
    "needs_review",
    "handoffs",
    "model_handoffs",
    "tools",
    "removed",
    "mail",
    "answered_utc",
    "labelled_by",
    "message",
];

/// Where the email stands, in one word.
fn mail_state(mail: &MailState) -> &'static str {
    match mail {
        MailState::Waiting { .. } => "waiting",
        MailState::Sent { .. } | MailState::Purged => "sent",
        MailState::Failed { .. } => "failed",
        MailState::Held => "held",
    }
}

/// A cell a spreadsheet would read as a formula gets a leading `'`.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn csv_row(entry: &Entry) -> Vec<String> {
    let record = &entry.record;
    let names = |handoffs: &[handoff_triage::Handoff]| {
        handoffs
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(";")
    };
    vec![
        record.id.to_string(),
        views::iso(record.created_at_ms),
        entry.status.as_str().to_owned(),
        record.channel.as_str().to_owned(),
        entry.route().as_str().to_owned(),
        record.route.as_str().to_owned(),
        format!("{:.2}", record.confidence),
        record.needs_review.to_string(),
        names(entry.handoffs()),
        names(&record.handoffs),
        cell(&record.tools.join(";")),
        views::removed(&record.removed).join(";"),
        mail_state(&entry.mail).to_owned(),
        entry
            .answered
            .as_ref()
            .map(|a| views::iso(a.at_ms))
            .unwrap_or_default(),
        entry
            .label
            .as_ref()
            .map(|l| cell(&l.stamp.by))
            .unwrap_or_default(),
        cell(record.field(IntakeField::Message).unwrap_or("")),
    ]
}

/// A download named `handoff-gate-{stem}-{day}.{extension}`.
fn attachment(content_type: &str, stem: &str, extension: &str, body: Vec<u8>) -> HttpResponse {
    let day = &views::iso(now_ms())[..10];
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"handoff-gate-{stem}-{day}.{extension}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// `GET /inbox/export.csv?status=…&route=…&q=…`: every intake the queue
/// shows under that filter, newest first.
pub async fn queue_csv(
    req: HttpRequest,
    _: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let query = QueueQuery::parse(req.query_string());
    let entries = state.store.queue(&query.filter, 0, MAX_ROWS).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| InboxError::internal("the CSV could not be written", e);
    writer.write_record(COLUMNS).map_err(failed)?;
    for entry in &entries {
        writer.write_record(csv_row(entry)).map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| InboxError::internal("the CSV could not be written", e))?;
    state
        .metrics
        .inbox_actions
        .with_label_values(&["exported_csv"])
        .inc();
    Ok(attachment("text/csv; charset=utf-8", "queue", "csv", body))
}

/// One labelled intake in the routing dev format:
/// `{"id", "channel", "input", "expected": {"route", "handoffs"}, "why"}`.
/// The input is the scrubbed text (a comment's text, or the form's fields);
/// privacy is left out, since scrubbed text holds nothing left to judge.
pub fn training_line(labelled: &Labelled) -> Value {
    let (record, label) = (&labelled.record, &labelled.label);
    let input = match record.channel {
        Channel::Comment => Value::from(record.field(IntakeField::Message).unwrap_or("")),
        _ => Value::Object(
            record
                .fields
                .iter()
                .map(|(field, text)| (field.as_str().to_owned(), Value::from(text.as_str())))
                .collect::<Map<_, _>>(),
        ),
    };
    let verb = if label.corrected {
        "corrected"
    } else {
        "confirmed"
    };
    json!({
        "id": format!("inbox-{}", record.id),
        "channel": record.channel.as_str(),
        "input": input,
        "expected": {"route": label.route, "handoffs": label.handoffs},
        "why": format!(
            "{verb} in the inbox by {} on {}; the model said {} ({})",
            label.stamp.by,
            &views::iso(label.stamp.at_ms)[..10],
            record.route.as_str(),
            views::confidence(record.confidence),
        ),
    })
}

/// `GET /inbox/labels.jsonl`: every confirmed or corrected intake, oldest
/// label first, for `handoff-gate train`.
pub async fn labels_jsonl(
    _: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let mut body = Vec::new();
    for labelled in state.store.labelled().await? {
        serde_json::to_writer(&mut body, &training_line(&labelled))
            .map_err(|e| InboxError::internal("the export could not be written", e))?;
        body.push(b'\n');
    }
    state
        .metrics
        .inbox_actions
        .with_label_values(&["exported_labels"])
        .inc();
    Ok(attachment(
        "application/jsonl; charset=utf-8",
        "labels",
        "jsonl",
        body,
    ))
}
