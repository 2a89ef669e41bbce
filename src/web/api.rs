//! The JSON API: create an intake, triage a batch, erase an intake.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AppState;
use super::body;
use super::error::{ApiError, ErrorBody};
use super::submit::{self, Stored};
use crate::store::{Idempotency, IntakeId, IntakeRecord};
use handoff_intake::{Intake, IntakeError};
use handoff_triage::{Handoff, Privacy, Route};

/// Most comments one `POST /api/v1/triage` takes.
pub const MAX_BATCH: usize = 1_000;

/// The answer to a created (or replayed) intake.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created<'a> {
    /// The intake's public id (a UUID).
    #[schema(value_type = String, format = "uuid")]
    id: &'a IntakeId,
    route: Route,
    handoffs: &'a [Handoff],
    privacy: Privacy,
    /// What was removed, by kind: counts, never values.
    #[schema(value_type = BTreeMap<String, u64>)]
    removed: BTreeMap<&'static str, usize>,
    /// What happens next, for the person (and "rotate that key now" if needed).
    next_step: &'a str,
}

/// What a person is told when the route has no reply of its own (and what
/// a bot is told).
pub const NEXT_STEP_FALLBACK: &str =
    "Thanks: the consultant reads every question and answers those that fit.";

/// What a person is told happens next on a route.
pub fn next_step<'a>(state: &'a AppState, record: &IntakeRecord) -> &'a str {
    match state.pipeline.rules().route_reply(record.route) {
        "" => NEXT_STEP_FALLBACK,
        reply => reply,
    }
}

/// Said whenever a credential was pasted.
pub const ROTATE: &str =
    "You pasted a credential: rotate that key or password now, as if it had been published.";

/// Submit an intake: scrubbed, triaged, stored, then emailed to the consultant.
#[utoipa::path(
    post,
    path = "/api/v1/intakes",
    tag = "intakes",
    request_body(content = Intake, description = "The safe intake fields; only `message` is required."),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the same intake, stored and mailed once.")),
    responses(
        (status = 201, description = "Stored (or replayed for the same Idempotency-Key)", body = Created),
        (status = 400, description = "Invalid JSON or UTF-8, or not an object", body = ErrorBody),
        (status = 413, description = "Larger than limits.body_bytes", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Rejected (a file or a pasted export) or invalid, by field; nothing stored", body = ErrorBody),
        (status = 429, description = "Too many submissions from one address", body = ErrorBody),
    )
)]
pub async fn create_intake(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (value, raw) = body::json(&req, payload, state.config.limits.body_bytes).await?;
    let idempotency = idempotency(&req, &raw)?;
    let intake = Intake::from_json(value).map_err(invalid)?;
    match submit::review(&state, intake) {
        Ok(reviewed) => {
            let Stored { record, replayed } =
                submit::store(&state, &reviewed, idempotency.as_ref(), submit::Mail::Now).await?;
            let mut step = next_step(&state, &record).to_owned();
            if record.exposed_credentials {
                step = format!("{step} {ROTATE}");
            }
            let body = Created {
                id: &record.id,
                route: record.route,
                handoffs: &record.handoffs,
                privacy: record.privacy,
                removed: record
                    .removed
                    .iter()
                    .map(|(k, n)| (k.as_str(), *n))
                    .collect(),
                next_step: &step,
            };
            let mut response = HttpResponse::build(StatusCode::CREATED);
            if replayed {
                response.insert_header(("Idempotent-Replayed", "true"));
            }
            Ok(response.json(body))
        }
        Err(rejection) => Err(ApiError::Unprocessable {
            code: if rejection.for_what_it_holds() {
                "rejected"
            } else {
                "invalid_intake"
            },
            fields: rejection
                .problems
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        }),
    }
}

/// An intake-shape error, by field where it has one.
fn invalid(error: IntakeError) -> ApiError {
    let field = match &error {
        IntakeError::NotAnObject => return ApiError::BadRequest(error.to_string()),
        IntakeError::UnknownField(_) => "_body".to_owned(),
        IntakeError::WrongType { field, .. } => (*field).to_owned(),
        IntakeError::MissingMessage => "message".to_owned(),
        IntakeError::InvalidContactEmail(_) => "contact_email".to_owned(),
    };
    ApiError::Unprocessable {
        code: "invalid_intake",
        fields: BTreeMap::from([(field, error.to_string())]),
    }
}

/// The hashed `Idempotency-Key` and request body, if the header is present.
fn idempotency(req: &HttpRequest, raw: &[u8]) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)"
                    .to_owned(),
            )
        })?;
    Ok(Some(Idempotency {
        key_hash: hex::encode(Sha256::digest(key.as_bytes())),
        request_hash: hex::encode(Sha256::digest(raw)),
    }))
}

/// One record's result in a batch: its id and triage, or what is wrong with it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// Triaged.
    Done {
        /// The record's id, as sent (a string id is scrubbed).
        #[schema(value_type = Value)]
        id: Value,
        #[serde(flatten)]
        triage: handoff_triage::Triage,
    },
    /// Not usable.
    Failed {
        /// Its position in the batch, from 0.
        index: usize,
        /// What is wrong (never quoting the record).
        error: String,
    },
}

/// Triage a batch of up to 1,000 records (`{"id", "channel", "input"}`, as
/// `handoff-gate triage --jsonl` takes them); nothing is stored.
#[utoipa::path(
    post,
    path = "/api/v1/triage",
    tag = "triage",
    request_body(content = Vec<Object>, description = "Records: `input` is a comment string or an object of safe intake fields"),
    responses(
        (status = 200, description = "One result per record, in order", body = Vec<BatchItem>),
        (status = 400, description = "Not a JSON array, or over 1,000 records", body = ErrorBody),
    )
)]
pub async fn triage_batch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = state.config.limits.body_bytes.max(1 << 20);
    let (value, _) = body::json(&req, payload, limit).await?;
    let Value::Array(items) = value else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON array of {\"id\", \"channel\", \"input\"} objects".to_owned(),
        ));
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "a batch holds at most {MAX_BATCH} records; this one has {}: split it",
            items.len()
        )));
    }
    let state = state.into_inner();
    let results = web::block(move || {
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let outcome = match item {
                    Value::Object(object) => state.pipeline.record(object),
                    _ => Err(handoff_triage::RECORD_SHAPE.to_owned()),
                };
                match outcome {
                    Ok((id, triage)) => BatchItem::Done { id, triage },
                    Err(error) => BatchItem::Failed { index, error },
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal {
        what: "the batch could not be processed",
        cause: e.to_string(),
    })?;
    Ok(HttpResponse::Ok().json(results))
}

/// Erase one intake, its outbox row and its mail file (a right-to-erasure request).
#[utoipa::path(
    delete,
    path = "/api/v1/intakes/{id}",
    tag = "intakes",
    params(("id" = String, Path, description = "The intake id")),
    security(("admin" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
        (status = 404, description = "No such intake", body = ErrorBody),
        (status = 503, description = "The store, or the intake's mail file, could not be changed: try again", body = ErrorBody),
    )
)]
pub async fn erase_intake(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    admin(&req, &state)?;
    let id = IntakeId::parse(&id).ok_or(ApiError::NotFound)?;
    if state.outbox.erase(&id).await? {
        tracing::info!(intake = %id, "intake erased on request");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Refuse a request without the admin token (`Authorization: Bearer …`).
pub(super) fn admin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests so the time taken says nothing about the token.
    if Sha256::digest(presented.as_bytes()) != Sha256::digest(state.admin_token.expose().as_bytes())
    {
        return Err(ApiError::Unauthorized);
    }
    Ok(())
}

/// A token for a form in your own markup.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FormToken {
    /// Put it in a hidden `form_token` field.
    form_token: String,
    /// A field to hide from people; filled, the post is taken for a bot.
    honeypot_field: &'static str,
    /// Posts sooner than this after the token was fetched are stored but held
    /// from the mail until the consultant releases them.
    min_fill_seconds: u64,
    /// How long the token stays valid.
    expires_in_seconds: u64,
}

/// A form token for a consultant's own form markup on an allowed site (the
/// honeypot and minimum fill time still apply).
#[utoipa::path(
    get,
    path = "/api/v1/form-token",
    tag = "embed",
    responses((status = 200, description = "A fresh token", body = FormToken))
)]
pub async fn form_token(state: web::Data<AppState>) -> HttpResponse {
    let limits = &state.config.limits;
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(FormToken {
            form_token: state.token_key.issue(),
            honeypot_field: super::pages::HONEYPOT,
            min_fill_seconds: limits.min_fill_seconds,
            expires_in_seconds: limits.form_token_hours * 3600,
        })
}
