//! One intake: the scrubbed question and fields, the model's route and
//! handoffs with their reasons, what the consultant gave instead, the
//! fields worth asking for, where its mail stands, a reply link when the
//! person consented; and the actions: mark answered, confirm or correct the
//! route and handoffs, release one held from the mail, erase every copy.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::views::{self, When};
use super::{Chrome, Consultant, InboxError, render, see_other};
use crate::store::{AUTORESPONSE, Entry, IntakeId, Label, MailState, Stamp, now_ms};
use crate::web::AppState;
use crate::web::body;
use handoff_intake::IntakeField;
use handoff_triage::{About, Handoff, Route};

struct Choice {
    value: &'static str,
    label: String,
    checked: bool,
}

struct Field {
    label: &'static str,
    text: String,
}

struct Why {
    about: String,
    causes: String,
}

/// One way the intake is delivered; webhooks and the autoresponse add rows.
struct Delivery {
    what: String,
    state: String,
    detail: Option<String>,
}

struct LabelView {
    route: String,
    handoffs: Vec<String>,
    corrected: bool,
    by: String,
    at: When,
}

#[derive(Template)]
#[template(path = "inbox/intake.html")]
struct IntakePage {
    chrome: Chrome,
    id: String,
    received: When,
    channel: &'static str,
    status: &'static str,
    fields: Vec<Field>,
    model_route: String,
    confidence: String,
    needs_review: bool,
    model_handoffs: Vec<String>,
    label: Option<LabelView>,
    reasons: Vec<Why>,
    missing: Vec<&'static str>,
    removed: Vec<(&'static str, usize)>,
    rotate: bool,
    tools: String,
    deliveries: Vec<Delivery>,
    held: bool,
    reply: Option<(String, String)>,
    answered: Option<(String, When)>,
    routes: Vec<Choice>,
    handoffs: Vec<Choice>,
    csrf: String,
}

async fn entry(state: &AppState, id: &str) -> Result<Entry, InboxError> {
    let id = IntakeId::parse(id).ok_or(InboxError::NotFound)?;
    state.store.entry(&id).await?.ok_or(InboxError::NotFound)
}

/// `GET /inbox/{id}`
pub async fn page(
    id: web::Path<String>,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let entry = entry(&state, &id).await?;
    let rules = state.pipeline.rules();
    let letterhead = &state.inbox.letterhead;
    let record = &entry.record;
    let fields = IntakeField::ALL
        .iter()
        .filter_map(|field| {
            record.field(*field).map(|text| Field {
                label: field.reader_label(),
                text: text.to_owned(),
            })
        })
        .collect();
    let reasons = record
        .reasons
        .iter()
        .filter(|r| matches!(r.about, About::Route(_) | About::Handoff(_) | About::Tools))
        .map(|r| Why {
            about: match r.about {
                About::Route(route) => format!("Route {}", views::route_name(route)),
                About::Handoff(handoff) => format!("Handoff {}", rules.handoff_label(handoff)),
                _ => "Tools".to_owned(),
            },
            causes: r.causes(),
        })
        .collect();
    let reply = record
        .contact_email
        .as_deref()
        .filter(|_| record.consent)
        .map(|address| {
            let about = entry
                .handoffs()
                .first()
                .map_or("your question".to_owned(), |h| {
                    format!("your {} question", rules.handoff_label(*h))
                });
            (
                views::mailto(address, &format!("Re: {about}")),
                address.to_owned(),
            )
        });
    let (route, handoffs) = (entry.route(), entry.handoffs().to_vec());
    let webhooks = state.store.webhook_states(&record.id).await?;
    let page_view = IntakePage {
        chrome: Chrome::of(&consultant),
        id: record.id.to_string(),
        received: views::when(letterhead, record.created_at_ms),
        channel: record.channel.as_str(),
        status: views::status_name(entry.status),
        fields,
        model_route: views::route_name(record.route),
        confidence: views::confidence(record.confidence),
        needs_review: record.needs_review,
        model_handoffs: views::handoff_labels(rules, &record.handoffs),
        label: entry.label.as_ref().map(|label| LabelView {
            route: views::route_name(label.route),
            handoffs: views::handoff_labels(rules, &label.handoffs),
            corrected: label.corrected,
            by: label.stamp.by.clone(),
            at: views::when(letterhead, label.stamp.at_ms),
        }),
        reasons,
        missing: record.missing_fields.iter().map(|f| f.label()).collect(),
        removed: record
            .removed
            .iter()
            .map(|(kind, n)| (kind.describe(), *n))
            .collect(),
        rotate: record.exposed_credentials,
        tools: record.tools.join(", "),
        deliveries: std::iter::once(Delivery {
            what: "Email to the consultant".to_owned(),
            state: views::mail(letterhead, &entry),
            detail: match &entry.mail {
                MailState::Waiting { last_error, .. } | MailState::Failed { last_error, .. } => {
                    last_error.clone()
                }
                _ => None,
            },
        })
        .chain(webhooks.into_iter().map(|hook| Delivery {
            what: if hook.endpoint == AUTORESPONSE {
                "Automatic reply to them".to_owned()
            } else {
                format!("Webhook {}", hook.endpoint)
            },
            state: match hook.state.as_str() {
                "sent" => "delivered".to_owned(),
                "dead" => format!("given up after {} attempts", hook.attempts),
                "held" => "held: sent when released".to_owned(),
                "skipped" => "not sent (one a day to an address)".to_owned(),
                _ if hook.attempts == 0 => "waiting".to_owned(),
                _ => format!("retrying ({} attempts so far)", hook.attempts),
            },
            detail: hook.last_error.filter(|_| hook.state != "sent"),
        }))
        .collect(),
        held: entry.mail == MailState::Held,
        reply,
        answered: entry
            .answered
            .as_ref()
            .map(|stamp| (stamp.by.clone(), views::when(letterhead, stamp.at_ms))),
        routes: Route::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: format!("{} — {}", views::route_name(*r), rules.route_meaning(*r)),
                checked: *r == route,
            })
            .collect(),
        handoffs: Handoff::ALL
            .iter()
            .map(|h| Choice {
                value: h.as_str(),
                label: rules.handoff_label(*h).to_owned(),
                checked: handoffs.contains(h),
            })
            .collect(),
        csrf: consultant.csrf.clone(),
    };
    render(&page_view, StatusCode::OK)
}

/// The posted form's name/value pairs (its CSRF token was checked already).
async fn form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, InboxError> {
    body::form(req, payload, 16 * 1024)
        .await
        .map(|fields| fields.pairs)
        .map_err(|e| InboxError::BadRequest(e.to_string()))
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.as_str())
}

fn stamp(consultant: &Consultant) -> Stamp {
    Stamp {
        at_ms: now_ms(),
        by: consultant.who.clone(),
    }
}

/// `POST /inbox/{id}/answered` with `answered=yes|no`.
pub async fn answered(
    req: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let pairs = form(&req, payload).await?;
    let entry = entry(&state, &id).await?;
    let record = &entry.record;
    let answered = value(&pairs, "answered") != Some("no");
    let stamp = stamp(&consultant);
    if !state
        .store
        .set_answered(&record.id, answered.then_some(&stamp))
        .await?
    {
        return Err(InboxError::NotFound);
    }
    let metrics = &state.metrics;
    if answered {
        if entry.answered.is_none() {
            let waited = (stamp.at_ms - record.created_at_ms).max(0) as f64 / 1000.0;
            metrics.inbox_time_to_answer.observe(waited);
        }
        metrics.inbox_actions.with_label_values(&["answered"]).inc();
        consultant.flash("Marked answered.")?;
    } else {
        metrics.inbox_actions.with_label_values(&["reopened"]).inc();
        consultant.flash("Marked not answered: it is back among the new intakes.")?;
    }
    Ok(see_other(&format!("/inbox/{}", record.id)))
}

/// `POST /inbox/{id}/release`: a held intake's email goes out like any other.
pub async fn release(
    req: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    form(&req, payload).await?;
    let id = IntakeId::parse(&id).ok_or(InboxError::NotFound)?;
    if state.store.release_held(&id).await? {
        state.outbox.wake();
        state.webhooks.wake();
        state.autoresponder.wake();
        tracing::info!(intake = %id, "held intake released from the inbox");
        state
            .metrics
            .inbox_actions
            .with_label_values(&["released"])
            .inc();
        consultant.flash("Released: its email is on its way.")?;
    } else {
        consultant.flash("It was not held (released already?): nothing changed.")?;
    }
    Ok(see_other(&format!("/inbox/{id}")))
}

/// `POST /inbox/{id}/label` with `route` and any number of `handoffs`.
pub async fn label(
    req: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let pairs = form(&req, payload).await?;
    let entry = entry(&state, &id).await?;
    let record = &entry.record;
    let route: Route = value(&pairs, "route")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| InboxError::BadRequest("choose one of the five routes".to_owned()))?;
    let handoffs = pairs
        .iter()
        .filter(|(key, _)| key == "handoffs")
        .map(|(_, v)| v.parse::<Handoff>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| InboxError::BadRequest("an unknown handoff was sent".to_owned()))?;
    let label = Label::new(record, route, &handoffs, stamp(&consultant));
    if !state.store.set_label(&record.id, &label).await? {
        return Err(InboxError::NotFound);
    }
    let metrics = &state.metrics;
    if label.corrected {
        if route != record.route {
            metrics
                .inbox_route_corrections
                .with_label_values(&[record.route.as_str(), route.as_str()])
                .inc();
        }
        for handoff in Handoff::ALL {
            let (before, after) = (
                record.handoffs.contains(handoff),
                label.handoffs.contains(handoff),
            );
            if before != after {
                let change = if after { "added" } else { "removed" };
                metrics
                    .inbox_handoff_corrections
                    .with_label_values(&[handoff.as_str(), change])
                    .inc();
            }
        }
        metrics
            .inbox_actions
            .with_label_values(&["corrected"])
            .inc();
        consultant.flash(
            "Correction saved beside the model's decision; it will be in the training export.",
        )?;
    } else {
        metrics
            .inbox_actions
            .with_label_values(&["confirmed"])
            .inc();
        consultant.flash(
            "The model's route and handoffs are confirmed; they will be in the training export.",
        )?;
    }
    Ok(see_other(&format!("/inbox/{}", record.id)))
}

/// `POST /inbox/{id}/erase` with `confirm=yes`: the intake, its outbox row,
/// what the consultant recorded and its mail file, all gone.
pub async fn erase(
    req: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let pairs = form(&req, payload).await?;
    let id = IntakeId::parse(&id).ok_or(InboxError::NotFound)?;
    if value(&pairs, "confirm") != Some("yes") {
        return Err(InboxError::BadRequest(
            "tick “Yes, erase every copy” to erase this intake".to_owned(),
        ));
    }
    if !state.outbox.erase(&id).await? {
        return Err(InboxError::NotFound);
    }
    tracing::info!(intake = %id, "intake erased from the inbox");
    state
        .metrics
        .inbox_actions
        .with_label_values(&["erased"])
        .inc();
    consultant.flash(
        "The intake was erased: the stored intake, its email in the outbox and its mail file.",
    )?;
    Ok(see_other("/inbox"))
}
