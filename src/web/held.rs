//! The admin API for held intakes (form posts sent faster than a person
//! fills a form, stored but not mailed): list them, release one to the mail.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::admin;
use super::error::{ApiError, ErrorBody};
use crate::store::{IntakeId, IntakeRecord};
use handoff_triage::Route;

/// A held intake, as the admin API lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldIntake {
    /// The intake's id.
    #[schema(value_type = String, format = "uuid")]
    id: IntakeId,
    /// When it arrived (RFC 3339, UTC).
    received_at: String,
    /// Where it came from: `form` or `embed`.
    channel: &'static str,
    /// The model's route.
    route: Route,
    /// The scrubbed fields, by name: what the consultant would read.
    #[schema(value_type = Object)]
    fields: serde_json::Map<String, serde_json::Value>,
}

impl HeldIntake {
    fn new(record: IntakeRecord) -> Self {
        HeldIntake {
            received_at: rfc3339(record.created_at_ms),
            channel: record.channel.as_str(),
            route: record.route,
            fields: record
                .fields
                .iter()
                .map(|(field, text)| (field.as_str().to_owned(), text.clone().into()))
                .collect(),
            id: record.id,
        }
    }
}

/// An instant as RFC 3339 (UTC, seconds).
pub(crate) fn rfc3339(at_ms: i64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(at_ms).unwrap_or(0)),
    )
    .to_string()
}

/// The held intakes, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldList {
    /// How many are held in all.
    total: u64,
    /// Up to `limit` of them.
    held: Vec<HeldIntake>,
}

/// `?limit=`
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Limit {
    /// How many to list (default 100, at most 1000).
    limit: Option<u32>,
}

/// Intakes held back from the mail because they were sent faster than a
/// person fills a form (`limits.min_fill_seconds`): stored, not mailed until
/// released, deleted after `limits.held_days`.
#[utoipa::path(
    get,
    path = "/api/v1/held",
    tag = "intakes",
    params(Limit),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The held intakes, oldest first", body = HeldList),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
    )
)]
pub async fn list(
    req: HttpRequest,
    query: web::Query<Limit>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    admin(&req, &state)?;
    let limit = query.limit.unwrap_or(100).min(1000);
    let total = state.store.held_count().await?;
    let held = state.store.held(limit).await?;
    Ok(HttpResponse::Ok().json(HeldList {
        total,
        held: held.into_iter().map(HeldIntake::new).collect(),
    }))
}

/// What a release did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Released {
    /// The intake's id.
    #[schema(value_type = String, format = "uuid")]
    id: IntakeId,
    /// Always `pending`: its email is on its way.
    mail: &'static str,
}

/// Release a held intake: its email to the consultant goes out like any other.
#[utoipa::path(
    post,
    path = "/api/v1/held/{id}/release",
    tag = "intakes",
    params(("id" = String, Path, description = "The intake id")),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Released: its email is on its way", body = Released),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
        (status = 404, description = "No held intake with that id (released already, erased, or never held)", body = ErrorBody),
    )
)]
pub async fn release(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    admin(&req, &state)?;
    let id = IntakeId::parse(&id).ok_or(ApiError::NotFound)?;
    if !state.store.release_held(&id).await? {
        return Err(ApiError::NotFound);
    }
    state.outbox.wake();
    state.webhooks.wake();
    state.autoresponder.wake();
    tracing::info!(intake = %id, "held intake released to the mail");
    Ok(HttpResponse::Ok().json(Released {
        id,
        mail: "pending",
    }))
}
