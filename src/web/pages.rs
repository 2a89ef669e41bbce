//! Server-rendered pages: the intake form, the thank-you page. They work
//! without JavaScript; every user value is escaped by askama.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AppState;
use super::api::{NEXT_STEP_FALLBACK, next_step};
use super::body::{self, FormFields};
use super::embed::{Chrome, EmbedContext, query_pairs};
use super::error::{ApiError, PageError};
use super::submit::{self, Outcome};
use super::token::TokenCheck;
use crate::store::IntakeId;
use handoff_intake::{FIELD_NAMES, Intake, IntakeField, ScrubbedField};
use handoff_scrub::{FindingKind, scrub};
use handoff_triage::Route;

/// The honeypot input: hidden from people, filled by bots.
pub const HONEYPOT: &str = "website";

struct Group {
    title: &'static str,
    intro: &'static str,
    optional: bool,
    members: &'static [IntakeField],
}

const GROUPS: &[Group] = &[
    Group {
        title: "What is broken",
        intro: "The one required field.",
        optional: false,
        members: &[IntakeField::Message],
    },
    Group {
        title: "The path that breaks",
        intro: "Where a contact enters, which tools pass it on, and where it stops.",
        optional: true,
        members: &[
            IntakeField::SourcePath,
            IntakeField::AffectedTools,
            IntakeField::ExpectedNextStep,
            IntakeField::ActualStoppingPoint,
        ],
    },
    Group {
        title: "Who and what it affects",
        intro: "The state of the contact and what the CRM should record.",
        optional: true,
        members: &[
            IntakeField::CustomerState,
            IntakeField::FieldOrTagExpectation,
            IntakeField::BookingOrPaymentStatus,
            IntakeField::AccessExpectation,
            IntakeField::FollowupState,
        ],
    },
    Group {
        title: "What good looks like",
        intro: "How you will know it works, and what it costs until then.",
        optional: true,
        members: &[
            IntakeField::ReportingNeed,
            IntakeField::BusinessRisk,
            IntakeField::Deadline,
            IntakeField::TestingExpectation,
        ],
    },
    Group {
        title: "One example",
        intro: "One run through the path, with names, emails, phones and keys left out.",
        optional: true,
        members: &[IntakeField::RedactedExample],
    },
];

struct GroupView {
    title: &'static str,
    intro: &'static str,
    optional: bool,
    open: bool,
    fields: Vec<FieldView>,
}

struct FieldView {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    value: String,
    error: Option<String>,
    required: bool,
    rows: u8,
}

struct Problem {
    anchor: &'static str,
    label: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    chrome: Chrome,
    token: String,
    groups: Vec<GroupView>,
    problems: Vec<Problem>,
    removed: Vec<(&'static str, usize)>,
    rotate: bool,
    contact_email: String,
    contact_error: Option<String>,
    consent: bool,
    consent_error: Option<String>,
    attachment_error: Option<String>,
}

#[derive(Template)]
#[template(path = "thanks.html")]
struct ThanksPage {
    chrome: Chrome,
    route: Option<String>,
    next_step: String,
    removed: Vec<(&'static str, usize)>,
    rotate: bool,
}

/// What the form shows back: scrubbed texts, the contact fields, problems.
#[derive(Default)]
struct Shown {
    texts: BTreeMap<IntakeField, String>,
    contact_email: String,
    consent: bool,
    problems: BTreeMap<&'static str, String>,
    removed: BTreeMap<FindingKind, usize>,
    rotate: bool,
}

impl Shown {
    fn from_fields(fields: &[ScrubbedField]) -> Self {
        let mut shown = Shown::default();
        for field in fields {
            shown
                .texts
                .insert(field.field, field.text.as_str().to_owned());
            for (kind, n) in &field.counts {
                *shown.removed.entry(*kind).or_insert(0) += n;
            }
            shown.rotate |= field.exposed_credentials;
        }
        shown
    }
}

/// What was removed, as people read it: "an email address", with counts.
fn described(removed: &BTreeMap<FindingKind, usize>) -> Vec<(&'static str, usize)> {
    removed.iter().map(|(k, n)| (k.describe(), *n)).collect()
}

fn render(page: &impl Template, status: StatusCode) -> Result<HttpResponse, PageError> {
    let html = page.render().map_err(|e| {
        PageError(ApiError::Internal {
            what: "the page failed to render",
            cause: e.to_string(),
        })
    })?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

fn form_page(
    state: &AppState,
    chrome: Chrome,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let label_of = |name: &str| {
        IntakeField::parse(name).map_or(
            match name {
                "contact_email" => "Your email address",
                "consent" => "Permission to reply",
                "attachment" => "Attachment",
                _ => "Form",
            },
            IntakeField::label,
        )
    };
    let groups = GROUPS
        .iter()
        .map(|group| {
            let fields: Vec<FieldView> = group
                .members
                .iter()
                .map(|field| FieldView {
                    name: field.as_str(),
                    label: field.label(),
                    help: field.help(),
                    value: shown.texts.get(field).cloned().unwrap_or_default(),
                    error: shown.problems.get(field.as_str()).cloned(),
                    required: *field == IntakeField::Message,
                    rows: if *field == IntakeField::Message { 6 } else { 2 },
                })
                .collect();
            GroupView {
                title: group.title,
                intro: group.intro,
                optional: group.optional,
                open: fields
                    .iter()
                    .any(|f| !f.value.is_empty() || f.error.is_some()),
                fields,
            }
        })
        .collect();
    // The summary lists problems in form order.
    let mut ordered: Vec<(&&str, &String)> = shown.problems.iter().collect();
    ordered.sort_by_key(|(name, _)| {
        FIELD_NAMES
            .iter()
            .position(|f| f == *name)
            .map_or(0, |i| i + 1)
    });
    let problems = ordered
        .into_iter()
        .map(|(name, message)| Problem {
            anchor: FIELD_NAMES
                .iter()
                .find(|f| *f == name)
                .copied()
                .unwrap_or("before-you-type"),
            label: label_of(name),
            message: message.clone(),
        })
        .collect();
    let page = FormPage {
        chrome,
        token: state.token_key.issue(),
        groups,
        problems,
        removed: described(&shown.removed),
        rotate: shown.rotate,
        contact_error: shown.problems.get("contact_email").cloned(),
        consent_error: shown.problems.get("consent").cloned(),
        attachment_error: shown.problems.get("attachment").cloned(),
        contact_email: shown.contact_email,
        consent: shown.consent,
    };
    render(&page, status)
}

/// `GET /`
pub async fn form(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    form_page(&state, Chrome::default(), Shown::default(), StatusCode::OK)
}

/// `GET /embed?origin=…&source=…&accent=…&font=…&theme=…`: the form without
/// page chrome, for the widget's iframe. `source` (the host page's address
/// with its UTM parameters) fills "where the path starts", scrubbed.
pub async fn embed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let pairs = query_pairs(req.query_string());
    let context = EmbedContext::parse(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &state.config.embed.allowed_origins,
    );
    let mut shown = Shown::default();
    let source = pairs
        .iter()
        .find(|(name, _)| name == "source")
        .map(|(_, value)| value)
        .filter(|s| !s.trim().is_empty() && s.len() <= 2048);
    if let Some(source) = source {
        shown.texts.insert(
            IntakeField::SourcePath,
            scrub(source, state.pipeline.policy())
                .text()
                .as_str()
                .to_owned(),
        );
    }
    form_page(&state, context.chrome(), shown, StatusCode::OK)
}

/// The form's fields as an [`Intake`], plus the token and the honeypot.
struct Posted {
    intake: Intake,
    embed: Option<String>,
    token: Option<String>,
    honeypot: bool,
    unknown: Vec<String>,
}

fn posted(fields: FormFields) -> Posted {
    let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut token = None;
    let mut embed = None;
    let mut honeypot = false;
    let mut unknown = Vec::new();
    for (name, value) in fields.pairs {
        match name.as_str() {
            "form_token" => token = Some(value),
            "embed" => embed = Some(value),
            HONEYPOT => honeypot |= !value.trim().is_empty(),
            _ => match FIELD_NAMES.iter().find(|f| **f == name) {
                Some(field) => {
                    values.insert(field, value);
                }
                None => unknown.push(handoff_intake::printable_name(&name)),
            },
        }
    }
    let mut text = |name: &str| values.remove(name).filter(|v| !v.trim().is_empty());
    let intake = Intake {
        message: text("message").unwrap_or_default(),
        source_path: text("source_path"),
        affected_tools: text("affected_tools"),
        expected_next_step: text("expected_next_step"),
        actual_stopping_point: text("actual_stopping_point"),
        customer_state: text("customer_state"),
        field_or_tag_expectation: text("field_or_tag_expectation"),
        booking_or_payment_status: text("booking_or_payment_status"),
        access_expectation: text("access_expectation"),
        followup_state: text("followup_state"),
        reporting_need: text("reporting_need"),
        business_risk: text("business_risk"),
        deadline: text("deadline"),
        testing_expectation: text("testing_expectation"),
        redacted_example: text("redacted_example"),
        contact_email: text("contact_email"),
        consent: text("consent").map(|v| matches!(v.as_str(), "yes" | "on" | "true" | "1")),
        attachment: fields.file_part.or_else(|| text("attachment")),
    };
    Posted {
        intake,
        embed,
        token,
        honeypot,
        unknown,
    }
}

/// `POST /intake`: scrub, triage, store, then 303 to the thank-you page; a
/// submission that cannot be accepted re-renders the form (scrubbed).
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let allowed = &state.config.embed.allowed_origins;
    if !super::embed::post_origin_allowed(&req, allowed) {
        return Err(ApiError::ForeignOrigin.into());
    }
    let fields = body::form(&req, payload, state.config.limits.body_bytes).await?;
    let posted = posted(fields);
    let chrome = posted
        .embed
        .as_deref()
        .map_or_else(Chrome::default, |query| {
            EmbedContext::from_query(query, allowed).chrome()
        });
    if !posted.unknown.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "the form sent unknown field(s) {}; the intake form's fields are: {}",
            posted.unknown.join(", "),
            FIELD_NAMES.join(", ")
        ))
        .into());
    }
    let limits = &state.config.limits;
    let check = posted.token.as_deref().map_or(TokenCheck::Invalid, |t| {
        state.token_key.check(
            t,
            (limits.min_fill_seconds * 1000) as i64,
            (limits.form_token_hours * 3_600_000) as i64,
        )
    });
    if posted.honeypot || check == TokenCheck::TooFast {
        state.metrics.bot_discards.inc();
        tracing::info!(
            honeypot = posted.honeypot,
            "submission taken for a bot and dropped"
        );
        return render(
            &ThanksPage {
                chrome,
                route: None,
                next_step: NEXT_STEP_FALLBACK.to_owned(),
                removed: Vec::new(),
                rotate: false,
            },
            StatusCode::OK,
        );
    }
    let contact = posted.intake.contact_email.clone().unwrap_or_default();
    let consent = posted.intake.consent.unwrap_or(false);
    if check != TokenCheck::Fresh {
        // Keep what they wrote (scrubbed) and ask them to send it again.
        let kept = match handoff_intake::ScrubbedIntake::review(
            posted.intake,
            handoff_intake::Channel::Form,
            state.pipeline.policy(),
        ) {
            Ok(accepted) => accepted.fields().to_vec(),
            Err(rejection) => rejection.fields,
        };
        let mut shown = Shown::from_fields(&kept);
        shown.problems.insert(
            "form",
            if check == TokenCheck::Expired {
                "This form was open too long and has expired. Your text is kept below: check it and send it again.".to_owned()
            } else {
                "This form could not be verified (it did not come from this page). Your text is kept below: check it and send it again.".to_owned()
            },
        );
        shown.contact_email = shown_contact(&state, &contact);
        shown.consent = consent;
        return form_page(&state, chrome, shown, StatusCode::BAD_REQUEST);
    }
    match submit::accept(&state, posted.intake, None).await? {
        Outcome::Stored { record, .. } => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, chrome.thanks_link(&record.id)))
            .finish()),
        Outcome::Rejected(rejection) => {
            let mut shown = Shown::from_fields(&rejection.fields);
            shown.problems = rejection.problems;
            shown.contact_email = shown_contact(&state, &contact);
            shown.consent = consent;
            form_page(&state, chrome, shown, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// The typed contact address as shown back: scrubbed too, since an invalid
/// "address" may be anything the person pasted.
fn shown_contact(state: &AppState, typed: &str) -> String {
    match handoff_intake::ContactEmail::parse(typed) {
        Ok(address) => address.as_str().to_owned(),
        Err(_) => scrub(typed, state.pipeline.policy())
            .text()
            .as_str()
            .to_owned(),
    }
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
    render(
        &ThanksPage {
            chrome,
            // "no fit" is for the consultant; the person sees only the reply.
            route: (record.route != Route::NoFit).then(|| record.route.as_str().replace('_', " ")),
            next_step: next_step(state, &record).to_owned(),
            removed: described(&record.removed),
            rotate: record.exposed_credentials,
        },
        StatusCode::OK,
    )
}

/// Any other path: JSON under `/api/`, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    if req.path().starts_with("/api/") {
        ApiError::NoRoute.error_response()
    } else {
        PageError(ApiError::NoRoute).error_response()
    }
}
