//! `GET /healthz` (the process answers) and `GET /readyz` (the store
//! answers; how far the outbox lags).

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
