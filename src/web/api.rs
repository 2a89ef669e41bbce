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
use super::error::ApiError;
use super::submit::{self, Outcome};
use crate::intake::{Intake, IntakeError};
use crate::store::{Idempotency, IntakeId, IntakeRecord};
use crate::triage::{Handoff, Privacy, Route, triage_record};

/// Most comments one `POST /api/v1/triage` takes.
pub const MAX_BATCH: usize = 1_000;

/// The answer to a created (or replayed) intake.
#[derive(Serialize)]
pub struct Created<'a> {
    id: &'a IntakeId,
    route: Route,
    handoffs: &'a [Handoff],
    privacy: Privacy,
    removed: BTreeMap<&'static str, usize>,
    next_step: &'a str,
}

/// What a person is told happens next on a route.
pub fn next_step(state: &AppState, record: &IntakeRecord) -> String {
    let reply = state.rules.route_reply(record.route);
    let mut text = if reply.is_empty() {
        "Thanks: the consultant reads every question and answers those that fit.".to_owned()
    } else {
        reply.to_owned()
    };
    if record.exposed_credentials {
        text.push_str(" You pasted a credential: rotate that key or password now, as if it had been published.");
    }
    text
}

/// `POST /api/v1/intakes`
pub async fn create_intake(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (value, raw) = body::json(&req, payload, state.config.limits.body_bytes).await?;
    let idempotency = idempotency(&req, &raw)?;
    let intake = Intake::from_json(value).map_err(invalid)?;
    match submit::accept(&state, intake, idempotency.as_ref()).await? {
        Outcome::Stored { record, replayed } => {
            let step = next_step(&state, &record);
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
        Outcome::Rejected(rejection) => Err(ApiError::Unprocessable {
            code: if submit::is_privacy_rejection(&rejection) {
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
        IntakeError::InvalidContactEmail => "contact_email".to_owned(),
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

#[derive(Serialize)]
#[serde(untagged)]
enum BatchItem {
    Done {
        id: Value,
        #[serde(flatten)]
        triage: crate::triage::Triage,
    },
    Failed {
        index: usize,
        error: String,
    },
}

/// `POST /api/v1/triage`: up to 1,000 records, as `triage --jsonl` takes
/// them, as a JSON array; nothing is stored.
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
                    Value::Object(object) => triage_record(object, &state.policy, &state.rules),
                    _ => Err(crate::triage::RECORD_SHAPE.to_owned()),
                };
                match outcome {
                    Ok((id, triage)) => BatchItem::Done { id, triage },
                    Err(error) => BatchItem::Failed { index, error },
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| ApiError::BadRequest("the batch could not be processed".to_owned()))?;
    Ok(HttpResponse::Ok().json(results))
}

/// `DELETE /api/v1/intakes/{id}` with `Authorization: Bearer <admin token>`.
pub async fn erase_intake(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
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
    let id = IntakeId::parse(&id).ok_or(ApiError::NotFound)?;
    if state.store.erase(&id).await? {
        tracing::info!(intake = %id, "intake erased on request");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `GET /api/v1/form-token`: a form token for a consultant's own form markup
/// on an allowed site (the honeypot and minimum fill time still apply).
pub async fn form_token(state: web::Data<AppState>) -> HttpResponse {
    let limits = &state.config.limits;
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "form_token": state.token_key.issue(),
            "honeypot_field": super::pages::HONEYPOT,
            "min_fill_seconds": limits.min_fill_seconds,
            "expires_in_seconds": limits.form_token_hours * 3600,
        }))
}

/// `GET /api/v1/rules.json`: the browser rules the widget warns with.
pub async fn rules(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=3600",
        ))
        .body(state.browser_rules.clone())
}
