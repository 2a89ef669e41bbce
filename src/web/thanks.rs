//! The thank-you page: what happens next in words, who answers and when,
//! what was removed, and a copy of exactly what the consultant will read.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AppState;
use super::api::{NEXT_STEP_FALLBACK, next_step};
use super::embed::{Chrome, EmbedContext};
use super::error::{ApiError, PageError};
use super::pages::{described, render};
use crate::config::Config;
use crate::store::{IntakeId, IntakeRecord, now_ms};

/// How long after sending the page shows the copy of the question: long
/// enough to read and keep it, short enough that an old link shows no text.
const COPY_SHOWN_FOR_MS: i64 = 60 * 60 * 1000;

#[derive(Template)]
#[template(path = "thanks.html")]
pub struct ThanksPage {
    chrome: Chrome,
    next_step: String,
    answers: String,
    removed: Vec<(&'static str, usize)>,
    rotate: bool,
    reader: String,
    copy: Vec<(&'static str, String)>,
    copy_expired: bool,
}

impl ThanksPage {
    /// The page for a stored intake.
    fn new(chrome: Chrome, state: &AppState, record: &IntakeRecord) -> Self {
        let consultant = &state.config.consultant;
        let reply_to = record.contact_email.as_deref().filter(|_| record.consent);
        let fresh = now_ms() - record.created_at_ms <= COPY_SHOWN_FOR_MS;
        ThanksPage {
            chrome,
            next_step: next_step(state, record).to_owned(),
            answers: answers(&state.config, reply_to),
            removed: described(&record.removed),
            rotate: record.exposed_credentials,
            reader: consultant
                .name
                .clone()
                .unwrap_or_else(|| "the consultant".to_owned()),
            copy: if fresh {
                record
                    .fields
                    .iter()
                    .map(|(field, text)| (field.label(), text.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            copy_expired: !fresh,
        }
    }

    /// The page a post that was not stored gets (a honeypot hit): it reads
    /// like any other.
    pub fn unstored(chrome: Chrome, config: &Config, contact: &str, consent: bool) -> Self {
        ThanksPage {
            chrome,
            next_step: NEXT_STEP_FALLBACK.to_owned(),
            answers: answers(config, Some(contact).filter(|c| consent && !c.is_empty())),
            removed: Vec::new(),
            rotate: false,
            reader: String::new(),
            copy: Vec::new(),
            copy_expired: false,
        }
    }
}

/// Who answers, when, and where: "Alex Rivera reads every question and
/// usually answers within two working days. The answer goes to …".
fn answers(config: &Config, reply_to: Option<&str>) -> String {
    let consultant = &config.consultant;
    let name = consultant.name.as_deref();
    let mut text = format!("{} reads every question", name.unwrap_or("The consultant"));
    if let Some(when) = &consultant.reply_time {
        text.push_str(&format!(" and usually answers {when}"));
    }
    text.push('.');
    match reply_to {
        Some(address) => text.push_str(&format!(" The answer goes to {address}.")),
        None => text.push_str(&format!(
            " You left no email address (or no permission to use it), so {} cannot answer you directly: send the question again with one if you would like a reply.",
            name.unwrap_or("the consultant")
        )),
    }
    text
}

/// `GET /thanks/{id}`
pub async fn thanks(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    thanks_page(&id, &state, Chrome::default()).await
}

/// `GET /embed/thanks/{id}`: the same, inside the widget.
pub async fn embed_thanks(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let context = EmbedContext::from_query(req.query_string(), &state.config.embed.allowed_origins);
    thanks_page(&id, &state, context.chrome()).await
}

async fn thanks_page(
    id: &str,
    state: &AppState,
    chrome: Chrome,
) -> Result<HttpResponse, PageError> {
    let id = IntakeId::parse(id).ok_or(ApiError::NotFound)?;
    let record = state
        .store
        .intake(&id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound)?;
    render(&ThanksPage::new(chrome, state, &record), StatusCode::OK)
}
