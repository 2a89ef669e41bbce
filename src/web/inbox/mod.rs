//! The consultant's inbox at `/inbox`: sign-in, the queue, one intake and
//! what can be done with it, the exports. Server-rendered pages that work
//! without JavaScript, under the same strict Content-Security-Policy as the
//! public pages.
//!
//! Every route but the sign-in page takes a [`Consultant`] (a live
//! session) and every change passes `session::guard_changes` (same origin,
//! CSRF token). Every value shown or exported is what the store holds:
//! scrubbed text, kinds, counts and labels.

mod auth;
mod export;
mod intake;
pub mod password;
mod queue;
mod session;
mod views;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::config::{Config, Secret};
use crate::deliver::EraseError;
use crate::deliver::email::Letterhead;
use crate::pipeline::Pipeline;
use crate::store::{Store, StoreError, now_ms};

pub use session::{COOKIE, Consultant, DbSessions};

/// The sign-in page: the one inbox route open without a session.
pub const LOGIN: &str = "/inbox/login";

/// What the inbox needs beside the app's state, built once at start.
pub struct InboxState {
    /// The argon2 hash of the password; `None` while the inbox is closed.
    password_hash: Option<Secret>,
    /// The server-side sessions.
    sessions: DbSessions,
    /// Signs the session cookie.
    cookie_key: actix_web::cookie::Key,
    /// Sign-in attempts per client address.
    sign_ins: DefaultKeyedRateLimiter<IpAddr>,
    /// The router model in use and since when the gateway serves it.
    model: RouterModel,
    /// Times in the consultant's time zone.
    letterhead: Letterhead,
    /// Who answers and corrects: `consultant.name`, else "consultant".
    who: String,
    /// `server.public_url` is https: the session cookie is always `Secure`.
    public_tls: bool,
}

/// The router model in use, as the queue page describes it.
#[derive(Debug, Clone)]
pub struct RouterModel {
    /// What it was trained on (`None`: keyword rules, no model).
    pub provenance: Option<handoff_triage::Provenance>,
    /// When this gateway's store first saw it served (milliseconds).
    pub first_served_ms: i64,
}

impl InboxState {
    /// Purge sessions that ended (or belong to another password) and note
    /// the router model in use.
    pub async fn open(
        config: &Config,
        store: &Store,
        pipeline: &Pipeline,
        token_key_hex: &str,
    ) -> Result<InboxState, StoreError> {
        let inbox = &config.inbox;
        let tag = inbox
            .password_hash
            .as_ref()
            .map(|hash| password::tag(hash.expose()))
            .unwrap_or_default();
        let max_age_ms = i64::try_from(inbox.session_max_hours.saturating_mul(3_600_000))
            .unwrap_or(i64::MAX / 2);
        let sessions = DbSessions::new(store.clone(), &tag, max_age_ms);
        let purged = sessions.purge().await?;
        if purged > 0 {
            tracing::info!(sessions = purged, "ended inbox sessions removed");
        }
        let provenance = pipeline.model().map(|m| m.provenance.clone());
        let fingerprint = provenance.as_ref().map_or_else(
            || "keyword rules".to_owned(),
            |p| {
                hex::encode(Sha256::digest(format!(
                    "{}\0{}\0{}",
                    p.examples, p.data_sha256, p.trainer
                )))
            },
        );
        let first_served_ms = store.note_model(&fingerprint, now_ms()).await?;
        let per_hour = NonZeroU32::new(inbox.login_attempts_per_hour).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(Duration::from_secs(3600) / per_hour.get())
            .expect("a positive period")
            .allow_burst(per_hour);
        Ok(InboxState {
            password_hash: inbox.password_hash.clone(),
            sessions,
            cookie_key: session::cookie_key(token_key_hex),
            sign_ins: RateLimiter::keyed(quota),
            model: RouterModel {
                provenance,
                first_served_ms,
            },
            letterhead: Letterhead::from_config(config),
            who: config
                .consultant
                .name
                .clone()
                .unwrap_or_else(|| "consultant".to_owned()),
            public_tls: config
                .server
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")),
        })
    }

    /// Forget sign-in quotas that have refilled (called every minute).
    pub fn forget_quiet_clients(&self) {
        self.sign_ins.retain_recent();
        self.sign_ins.shrink_to_fit();
    }
}

/// The `/inbox` scope.
pub fn routes(cfg: &mut web::ServiceConfig, state: &super::AppState) {
    let inbox = &state.inbox;
    cfg.service(
        web::scope("/inbox")
            .wrap(from_fn(session::guard_changes))
            .wrap(session::middleware(
                inbox.sessions.clone(),
                inbox.cookie_key.clone(),
                state.config.inbox.session_idle_minutes,
            ))
            .wrap(from_fn(session::secure_cookies))
            .route("", web::get().to(queue::page))
            .route("/", web::get().to(queue::page))
            .route("/login", web::get().to(auth::page))
            .route("/login", web::post().to(auth::sign_in))
            .route("/logout", web::post().to(auth::sign_out))
            .route("/export.csv", web::get().to(export::queue_csv))
            .route("/labels.jsonl", web::get().to(export::labels_jsonl))
            .route("/{id}", web::get().to(intake::page))
            .route("/{id}/answered", web::post().to(intake::answered))
            .route("/{id}/label", web::post().to(intake::label))
            .route("/{id}/erase", web::post().to(intake::erase))
            .route("/{id}/release", web::post().to(intake::release))
            .default_service(web::to(not_found)),
    );
}

/// What went wrong in the inbox. Messages never quote a stored value.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// No live session: sign in (a redirect to the sign-in page).
    #[error("sign in to use the inbox")]
    SignIn {
        /// The page to return to afterwards.
        next: Option<String>,
    },
    /// A change that did not come from the inbox's own pages.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A form that does not make sense.
    #[error("{0}")]
    BadRequest(String),
    /// No such intake (or page).
    #[error("there is no intake at this address; it may have been erased")]
    NotFound,
    /// The store failed; nothing was changed.
    #[error("the store cannot be reached right now; nothing was changed, please try again")]
    Store(#[from] StoreError),
    /// An erasure could not remove every copy.
    #[error("the intake could not be erased completely; please try again")]
    Erase(#[from] EraseError),
    /// Something of our own failed; the cause is logged, not shown.
    #[error("something went wrong on our side ({what}); please try again")]
    Internal {
        /// What failed, in a few words.
        what: &'static str,
        /// Why, for the log.
        cause: String,
    },
}

impl InboxError {
    /// Sign in first, then come back to this page (for a GET).
    pub fn sign_in(req: &HttpRequest) -> InboxError {
        let next = (req.method() == actix_web::http::Method::GET)
            .then(|| match req.query_string() {
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            })
            .filter(|path| auth::safe_next(path));
        InboxError::SignIn { next }
    }

    /// Something of our own failed.
    pub fn internal(what: &'static str, cause: impl std::fmt::Display) -> InboxError {
        InboxError::Internal {
            what,
            cause: cause.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "inbox/error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: String,
}

impl ResponseError for InboxError {
    fn status_code(&self) -> StatusCode {
        match self {
            InboxError::SignIn { .. } => StatusCode::SEE_OTHER,
            InboxError::Forbidden(_) => StatusCode::FORBIDDEN,
            InboxError::BadRequest(_) => StatusCode::BAD_REQUEST,
            InboxError::NotFound => StatusCode::NOT_FOUND,
            InboxError::Store(_) | InboxError::Erase(_) => StatusCode::SERVICE_UNAVAILABLE,
            InboxError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            InboxError::SignIn { next } => {
                let location = match next {
                    Some(next) => format!("{LOGIN}?next={}", views::encode(next)),
                    None => LOGIN.to_owned(),
                };
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
            }
            InboxError::Store(cause) => tracing::error!(error = %cause, "inbox: store failure"),
            InboxError::Erase(cause) => tracing::error!(error = %cause, "inbox: erasure failed"),
            InboxError::Internal { what, cause } => {
                tracing::error!(error = %cause, "inbox: {what}")
            }
            InboxError::Forbidden(_) => {
                tracing::warn!("inbox: a change was refused (origin or CSRF token)")
            }
            _ => {}
        }
        let status = self.status_code();
        let page = ErrorPage {
            chrome: Chrome::default(),
            title: status.canonical_reason().unwrap_or("Error"),
            message: self.to_string(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title>".to_owned());
        HttpResponse::build(status)
            .content_type(ContentType::html())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)
    }
}

/// What every inbox page's frame shows: who is signed in (with the
/// sign-out form) and the message of the last action.
#[derive(Debug, Default)]
pub struct Chrome {
    /// The signed-in consultant and the CSRF token for the sign-out form.
    pub signed_in: Option<(String, String)>,
    /// A one-time message.
    pub flash: Option<String>,
}

impl Chrome {
    /// The frame for a signed-in page (taking the last action's message).
    pub fn of(consultant: &Consultant) -> Chrome {
        Chrome {
            signed_in: Some((consultant.who.clone(), consultant.csrf.clone())),
            flash: consultant.take_flash(),
        }
    }
}

/// Render a page: HTML, never cached.
fn render(page: &impl Template, status: StatusCode) -> Result<HttpResponse, InboxError> {
    let html = page
        .render()
        .map_err(|e| InboxError::internal("the page failed to render", e))?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// 303 to `location` (after a change).
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Any other path under `/inbox`: sign in first, then 404.
async fn not_found(_: Consultant) -> Result<HttpResponse, InboxError> {
    Err(InboxError::NotFound)
}
