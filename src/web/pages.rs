//! Server-rendered pages: the intake form, the thank-you page. They work
//! without JavaScript; every user value is escaped by askama.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AppState;
use super::body::{self, FormFields};
use super::embed::{Chrome, EmbedContext, page_address, query_pairs, refused_framer};
use super::error::{ApiError, PageError};
use super::guard::spend_quota;
use super::submit::{self, Mail};
use super::thanks::ThanksPage;
use super::token::{TokenCheck, TokenKey};
use handoff_intake::{FIELD_NAMES, Intake, IntakeField, ScrubbedField};
use handoff_scrub::{FindingKind, scrub};

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
    page: Option<String>,
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

/// What the form shows back: scrubbed texts, the contact fields, problems,
/// and the token and host page it carries on.
#[derive(Default)]
struct Shown {
    /// A still-valid token to keep (its fill-time clock keeps running);
    /// `None` issues a new one.
    token: Option<String>,
    /// The host page's address (scrubbed), in a hidden field.
    page: Option<String>,
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
pub(super) fn described(removed: &BTreeMap<FindingKind, usize>) -> Vec<(&'static str, usize)> {
    removed.iter().map(|(k, n)| (k.describe(), *n)).collect()
}

/// A page, never cached.
pub(super) fn render(page: &impl Template, status: StatusCode) -> Result<HttpResponse, PageError> {
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
        token: shown.token.unwrap_or_else(|| state.token_key.issue()),
        page: shown.page,
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

/// `GET /embed?origin=…&page=…&accent=…&font=…&theme=…`: the form without
/// page chrome, for the widget's iframe. `page` (the host page's address)
/// travels on as data in a hidden field, never as the person's text. A
/// load by a page that may not frame the form is logged, once an hour per
/// origin, with the fix.
pub async fn embed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let pairs = query_pairs(req.query_string());
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let allowed = &state.config.embed.allowed_origins;
    if let Some(origin) = refused_framer(&req, value("origin"), allowed) {
        state.metrics.embed_refused.inc();
        if state.refused_framers.due(&origin) {
            tracing::warn!(
                %origin,
                "a page at {origin} tried to embed the form, but it is not in embed.allowed_origins, so browsers show it a blank frame; if the site is yours, run `handoff-gate embed check {origin}` for the line to add"
            );
        }
    }
    let context = EmbedContext::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), allowed);
    let shown = Shown {
        page: value("page").and_then(|raw| page_address(raw, state.pipeline.policy())),
        ..Shown::default()
    };
    form_page(&state, context.chrome(), shown, StatusCode::OK)
}

/// The form's fields as an [`Intake`], plus the token and the honeypot.
struct Posted {
    intake: Intake,
    embed: Option<String>,
    page: Option<String>,
    token: Option<String>,
    honeypot: bool,
    unknown: Vec<String>,
}

fn posted(fields: FormFields) -> Posted {
    let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut token = None;
    let mut embed = None;
    let mut page = None;
    let mut honeypot = false;
    let mut unknown = Vec::new();
    for (name, value) in fields.pairs {
        match name.as_str() {
            "form_token" => token = Some(value),
            "embed" => embed = Some(value),
            "page" => page = Some(value),
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
        page,
        token,
        honeypot,
        unknown,
    }
}

/// `POST /intake`: scrub, triage, store, then 303 to the thank-you page.
/// From the moment the body is read, every refusal shows the form again
/// with the person's words (scrubbed) and what to change.
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
    let mut posted = posted(fields);
    let chrome = posted
        .embed
        .as_deref()
        .map_or_else(Chrome::default, |query| {
            EmbedContext::from_query(query, allowed).chrome()
        });
    let limits = &state.config.limits;
    let check = posted.token.as_deref().map_or(TokenCheck::Invalid, |t| {
        state.token_key.check(
            t,
            (limits.min_fill_seconds * 1000) as i64,
            (limits.form_token_hours * 3_600_000) as i64,
        )
    });
    let contact = posted.intake.contact_email.clone().unwrap_or_default();
    let consent = posted.intake.consent.unwrap_or(false);
    if posted.honeypot {
        state.metrics.bot_discards.inc();
        tracing::info!("a post filled the honeypot: taken for a bot and dropped");
        return render(
            &ThanksPage::unstored(chrome, &state.config, &contact, consent),
            StatusCode::OK,
        );
    }
    posted.page = posted
        .page
        .and_then(|raw| page_address(&raw, state.pipeline.policy()));
    if matches!(check, TokenCheck::Expired | TokenCheck::Invalid) {
        posted.token = None;
    }
    let refusal = if !posted.unknown.is_empty() {
        Some(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The form sent field(s) this gateway does not know ({}), so nothing was sent. Your text is kept below: send it from here.",
                posted.unknown.join(", ")
            ),
        ))
    } else if let Err(wait) = spend_quota(&state, &req) {
        Some(Refusal {
            retry_after: Some(wait),
            ..Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Several questions came from your address within a minute, so this one was not sent. Your text is kept below: send it again in {wait} seconds."
                ),
            )
        })
    } else {
        match check {
            TokenCheck::Expired => Some(Refusal::new(
                StatusCode::BAD_REQUEST,
                "This form was open too long and has expired. Your text is kept below: check it and send it again.".to_owned(),
            )),
            TokenCheck::Invalid => Some(Refusal::new(
                StatusCode::BAD_REQUEST,
                "This form could not be verified (it did not come from this page). Your text is kept below: check it and send it again.".to_owned(),
            )),
            TokenCheck::Fresh | TokenCheck::TooFast => None,
        }
    };
    let kept = |fields: &[ScrubbedField], token: Option<String>, page: Option<String>| Shown {
        token,
        page,
        contact_email: shown_contact(&state, &contact),
        consent,
        ..Shown::from_fields(fields)
    };
    if let Some(refusal) = refusal {
        let (fields, problems) = match submit::review(&state, posted.intake) {
            Ok(reviewed) => (reviewed.intake.fields().to_vec(), BTreeMap::new()),
            Err(rejection) => (rejection.fields, rejection.problems),
        };
        let mut shown = kept(&fields, posted.token, posted.page);
        shown.problems = problems;
        return refusal.show(&state, chrome, shown);
    }
    let token = posted.token.unwrap_or_default();
    let reviewed = match submit::review(&state, posted.intake) {
        Ok(reviewed) => reviewed,
        Err(rejection) => {
            let mut shown = kept(&rejection.fields, Some(token), posted.page);
            shown.problems = rejection.problems;
            return form_page(&state, chrome, shown, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    // Sent faster than a person fills a form: perhaps a bot, perhaps a
    // person who pasted and sent at once. Stored, held from the mail until
    // the consultant releases it; the person sees the normal thank-you.
    let mail = if check == TokenCheck::TooFast {
        Mail::Held
    } else {
        Mail::Now
    };
    match submit::store(&state, &reviewed, Some(&TokenKey::once(&token)), mail).await {
        Ok(stored) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, chrome.thanks_link(&stored.record.id)))
            .finish()),
        Err(ApiError::Store(cause)) => {
            tracing::error!(error = %cause, "store failure; the form is shown again");
            let shown = kept(reviewed.intake.fields(), Some(token), posted.page);
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Your question could not be saved just now, so it was not sent. Your text is kept below: send it again in a minute.".to_owned(),
            )
            .show(&state, chrome, shown)
        }
        Err(other) => Err(other.into()),
    }
}

/// A refused post shown back as the form: the status, what to do, and
/// when to try again.
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: String) -> Self {
        Refusal {
            status,
            message,
            retry_after: None,
        }
    }

    fn show(
        self,
        state: &AppState,
        chrome: Chrome,
        mut shown: Shown,
    ) -> Result<HttpResponse, PageError> {
        shown.problems.insert("form", self.message);
        let mut response = form_page(state, chrome, shown, self.status)?;
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        Ok(response)
    }
}

/// The typed contact address as shown back to correct it: as typed when
/// the scrubber sees nothing in it but an address, else scrubbed, since an
/// invalid "address" may be anything the person pasted.
fn shown_contact(state: &AppState, typed: &str) -> String {
    let scrubbed = scrub(typed, state.pipeline.policy());
    if scrubbed
        .findings()
        .iter()
        .all(|f| f.kind == FindingKind::Email)
    {
        typed.trim().to_owned()
    } else {
        scrubbed.text().as_str().to_owned()
    }
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
