//! `GET /healthz` (the process answers), `GET /readyz` (the store
//! answers; how far the outbox lags) and `GET /metrics` (Prometheus).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

/// Alive: the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready: the store answers. Reports the outbox lag either way.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready, with the outbox's pending, dead and oldest_pending_seconds", body = Object),
    (status = 503, description = "The store is unreachable", body = Object),
))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.ping().await;
    let lag = state.store.outbox_lag().await;
    match (store, lag) {
        (Ok(()), Ok(lag)) => {
            HttpResponse::Ok().json(json!({"status": "ready", "store": "ok", "outbox": lag}))
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "store": "unreachable"}))
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
