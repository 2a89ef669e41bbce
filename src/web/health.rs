//! `GET /healthz` (the process answers), `GET /readyz` (the store
//! answers; how far the outbox lags) and `GET /metrics` (Prometheus).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

/// Alive: the process serves requests.
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready: the store answers. Reports the outbox lag either way.
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
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let lag = state.store.outbox_lag().await.ok();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(lag))
}
