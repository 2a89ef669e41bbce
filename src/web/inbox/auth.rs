//! Signing in and out. A sign-in is limited per client address
//! (`inbox.login_attempts_per_hour`), the password is checked against its
//! argon2 hash off the async workers, and a good one starts a session
//! under a new key.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use governor::clock::{Clock, DefaultClock};

use super::{Chrome, Consultant, InboxError, password, render, see_other};
use crate::web::AppState;
use crate::web::body;
use crate::web::guard::client_ip;

#[derive(Template)]
#[template(path = "inbox/login.html")]
struct LoginPage {
    chrome: Chrome,
    open: bool,
    next: Option<String>,
    problem: Option<String>,
    signed_out: bool,
}

/// Whether `next` is an inbox page to return to after signing in (and
/// nothing that could lead elsewhere).
pub fn safe_next(next: &str) -> bool {
    (next == "/inbox" || next.starts_with("/inbox/") || next.starts_with("/inbox?"))
        && next.len() <= 512
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic())
}

fn login_page(
    state: &AppState,
    next: Option<String>,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, InboxError> {
    render(
        &LoginPage {
            chrome: Chrome::default(),
            open: state.inbox.password_hash.is_some(),
            next,
            problem,
            signed_out: false,
        },
        status,
    )
}

/// `GET /inbox/login[?next=/inbox/…]`
pub async fn page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let pairs = crate::web::embed::query_pairs(req.query_string());
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.clone())
    };
    let next = value("next").filter(|n| safe_next(n));
    if session.get::<String>("user").ok().flatten().is_some() {
        return Ok(see_other(next.as_deref().unwrap_or("/inbox")));
    }
    render(
        &LoginPage {
            chrome: Chrome::default(),
            open: state.inbox.password_hash.is_some(),
            next,
            problem: None,
            signed_out: value("signed_out").is_some(),
        },
        StatusCode::OK,
    )
}

/// `POST /inbox/login` with `password` (and `next`).
pub async fn sign_in(
    req: HttpRequest,
    payload: web::Payload,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let metrics = &state.metrics;
    let ip = client_ip(&req, &state.config.server.trusted_proxies);
    if let Some(ip) = ip
        && let Err(not_until) = state.inbox.sign_ins.check_key(&ip)
    {
        let wait = not_until
            .wait_time_from(DefaultClock::default().now())
            .as_secs()
            + 1;
        metrics.inbox_sign_ins.with_label_values(&["limited"]).inc();
        tracing::warn!("inbox: sign-in attempts over the limit for a client address");
        let mut response = login_page(
            &state,
            None,
            Some(format!(
                "Too many sign-in attempts from your address. Try again in {} minute(s).",
                wait.div_ceil(60)
            )),
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
        return Ok(response);
    }
    let fields = body::form(&req, payload, 8 * 1024)
        .await
        .map_err(|e| InboxError::BadRequest(e.to_string()))?;
    let field = |name: &str| {
        fields
            .pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.clone())
    };
    let next = field("next").filter(|n| safe_next(n));
    let Some(hash) = state.inbox.password_hash.clone() else {
        return login_page(&state, None, None, StatusCode::SERVICE_UNAVAILABLE);
    };
    let typed = field("password").unwrap_or_default();
    let matches = web::block(move || password::verify(hash.expose(), &typed))
        .await
        .map_err(|e| InboxError::internal("the password could not be checked", e))?;
    if !matches {
        metrics.inbox_sign_ins.with_label_values(&["refused"]).inc();
        tracing::info!("inbox: a sign-in was refused (wrong password)");
        return login_page(
            &state,
            next,
            Some("That password is not right.".to_owned()),
            StatusCode::UNAUTHORIZED,
        );
    }
    Consultant::sign_in(&session, &state.inbox.who)?;
    metrics
        .inbox_sign_ins
        .with_label_values(&["signed_in"])
        .inc();
    tracing::info!("inbox: signed in");
    if let Err(error) = state.inbox.sessions.purge().await {
        tracing::warn!(%error, "inbox: ended sessions could not be removed");
    }
    Ok(see_other(next.as_deref().unwrap_or("/inbox")))
}

/// `POST /inbox/logout`: the session row is deleted and the cookie removed.
pub async fn sign_out(consultant: Consultant) -> HttpResponse {
    consultant.sign_out();
    tracing::info!("inbox: signed out");
    see_other(&format!("{}?signed_out=1", super::LOGIN))
}
