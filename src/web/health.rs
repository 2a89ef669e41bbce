//! `GET /healthz` (the process answers), `GET /readyz` (the store
//! answers; how far the outbox lags) and `GET /metrics` (Prometheus).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::store::StoreError;

/// Alive: the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready: the store takes a commit (on SQLite: its file is the one opened
/// and its folder takes writes). Reports the outbox lag when ready.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready, with the outbox's pending, dead and oldest_pending_seconds", body = Object),
    (status = 503, description = "The store cannot take intakes: `store` is `unreachable`, `cannot_commit`, `file_lost` or `folder_not_writable`", body = Object),
))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let checked = match state.store.readiness().await {
        Ok(()) => state.store.outbox_lag().await,
        Err(e) => Err(e),
    };
    match checked {
        Ok(lag) => {
            HttpResponse::Ok().json(json!({"status": "ready", "store": "ok", "outbox": lag}))
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            let store = match e {
                StoreError::Lost { .. } => "file_lost",
                StoreError::Folder { .. } => "folder_not_writable",
                StoreError::Query { doing, .. } if doing.starts_with("checking that a commit") => {
                    "cannot_commit"
                }
                _ => "unreachable",
            };
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "store": store}))
        }
    }
}

/// `GET /metrics`: Prometheus text format; the outbox gauges are read from
/// the store at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let lag = state.store.outbox_lag().await.ok();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(lag))
}
