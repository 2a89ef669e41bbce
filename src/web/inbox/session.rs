//! Inbox sessions: `actix-session` with its state kept server-side in the
//! store ([`DbSessions`]), the cookie (HttpOnly, SameSite=Strict, path
//! `/inbox`, Secure when the request came over TLS), the signed-in
//! [`Consultant`] every page takes, and the checks every change passes
//! ([`guard_changes`]): same origin and the session's CSRF token.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpRequest, web};
use sha2::{Digest, Sha256, Sha512};

use super::InboxError;
use crate::store::{SessionClock, SessionLookup, Store, now_ms};

/// The session cookie's name.
pub const COOKIE: &str = "hg_inbox";

/// Session keys (who is signed in, the CSRF token, a one-time message).
const USER: &str = "user";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// A busy session's idle deadline is written at most once a minute.
const EXTEND_STEP_MS: i64 = 60_000;

/// `actix-session`'s store, on the gateway's database.
#[derive(Clone)]
pub struct DbSessions {
    store: Store,
    /// The tag of the current password hash (empty while the inbox is closed).
    password_tag: Arc<str>,
    /// A session's absolute lifetime.
    max_age_ms: i64,
}

fn key_hash(key: &SessionKey) -> String {
    hex::encode(Sha256::digest(key.as_ref().as_bytes()))
}

impl DbSessions {
    /// Sessions in `store`, signed in under the password tagged `password_tag`.
    pub fn new(store: Store, password_tag: &str, max_age_ms: i64) -> Self {
        DbSessions {
            store,
            password_tag: password_tag.into(),
            max_age_ms,
        }
    }

    fn clock(&self) -> SessionClock {
        let now = now_ms();
        SessionClock {
            now_ms: now,
            created_after_ms: now - self.max_age_ms,
        }
    }

    /// Delete every session that can no longer be used (at start and at each sign-in).
    pub async fn purge(&self) -> Result<u64, crate::store::StoreError> {
        self.store
            .sessions_purge(&self.password_tag, self.clock())
            .await
    }
}

impl SessionStore for DbSessions {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = key_hash(session_key);
        let lookup = SessionLookup {
            key_hash: &hash,
            password_tag: &self.password_tag,
        };
        let state = self
            .store
            .session_state(lookup, self.clock())
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        state
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(
        &self,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let key = generate_session_key();
        let hash = key_hash(&key);
        let state = serde_json::to_string(&session_state)
            .map_err(|e| SaveError::Serialization(e.into()))?;
        let now = now_ms();
        let lookup = SessionLookup {
            key_hash: &hash,
            password_tag: &self.password_tag,
        };
        self.store
            .session_create(lookup, &state, now, now + ttl.whole_milliseconds() as i64)
            .await
            .map_err(|e| SaveError::Other(e.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let state = serde_json::to_string(&session_state)
            .map_err(|e| UpdateError::Serialization(e.into()))?;
        // A session ended meanwhile (signed out elsewhere) stays ended: the
        // change is dropped and the cookie leads nowhere.
        self.store
            .session_update(
                &key_hash(&session_key),
                &state,
                now_ms() + ttl.whole_milliseconds() as i64,
            )
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        Ok(session_key)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        self.store
            .session_extend(
                &key_hash(session_key),
                now_ms() + ttl.whole_milliseconds() as i64,
                EXTEND_STEP_MS,
            )
            .await
            .map_err(Into::into)
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        self.store
            .session_delete(&key_hash(session_key))
            .await
            .map(drop)
            .map_err(Into::into)
    }
}

/// The session middleware for the `/inbox` scope: a browser-session cookie
/// (no `Max-Age`) holding a random key, signed with `key`; the state lives
/// in the store, its idle deadline pushed on by every request.
pub fn middleware(
    sessions: DbSessions,
    key: Key,
    idle_minutes: u64,
) -> SessionMiddleware<DbSessions> {
    SessionMiddleware::builder(sessions, key)
        .cookie_name(COOKIE.to_owned())
        .cookie_path("/inbox".to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        // Set per request by `secure_cookies`: only TLS knows it is TLS.
        .cookie_secure(false)
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            BrowserSession::default()
                .state_ttl(Duration::minutes(
                    i64::try_from(idle_minutes).unwrap_or(i64::MAX / 60_000),
                ))
                .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build()
}

/// The cookie-signing key, derived from the gateway's form-token key (kept
/// in `data_dir`, shared by replicas).
pub fn cookie_key(token_key_hex: &str) -> Key {
    Key::from(&Sha512::digest(format!(
        "handoff-gate inbox cookie\0{token_key_hex}"
    )))
}

/// Mark the session cookie `Secure` when the gateway is served over TLS
/// (`server.public_url` is https) or the request came over TLS (the scheme
/// a TLS-terminating proxy reports in `X-Forwarded-Proto` or `Forwarded`):
/// a browser then never sends it over plain HTTP.
pub async fn secure_cookies(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let public_tls = req
        .app_data::<web::Data<crate::web::AppState>>()
        .is_some_and(|state| state.inbox.public_tls);
    let tls = public_tls || req.connection_info().scheme() == "https";
    let mut response = next.call(req).await?;
    if tls {
        let headers = response.headers_mut();
        let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).cloned().collect();
        headers.remove(header::SET_COOKIE);
        for value in cookies {
            let secured = value
                .to_str()
                .ok()
                .and_then(|text| Cookie::parse(text.to_owned()).ok())
                .map(|mut cookie| {
                    cookie.set_secure(true);
                    cookie.to_string()
                })
                .and_then(|text| HeaderValue::from_str(&text).ok())
                .unwrap_or(value);
            headers.append(header::SET_COOKIE, secured);
        }
    }
    Ok(response)
}

/// Every change (a POST under `/inbox`) must come from this site, and,
/// except signing in, carry the session's CSRF token in its `csrf` field.
/// The body is read here first (a form is small; a refusal then leaves the
/// connection clean for the next request) and handed on unchanged.
pub async fn guard_changes(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() != Method::POST {
        return next.call(req).await;
    }
    let body = req
        .extract::<web::Bytes>()
        .await
        .map_err(|_| InboxError::BadRequest("the form could not be read".to_owned()))?;
    if !same_origin(req.request()) {
        return Err(
            InboxError::Forbidden("this change was not sent from the inbox's own pages").into(),
        );
    }
    if req.path() != super::LOGIN {
        let Some(expected) = req.get_session().get::<String>(CSRF).ok().flatten() else {
            return Err(InboxError::sign_in(req.request()).into());
        };
        let sent = form_value(&body, "csrf").unwrap_or_default();
        if Sha256::digest(expected.as_bytes()) != Sha256::digest(sent.as_bytes()) {
            return Err(InboxError::Forbidden(
                "this form is out of date or did not come from the inbox; reload the page and try again",
            )
            .into());
        }
    }
    req.set_payload(Payload::from(body));
    next.call(req).await
}

/// One value of an urlencoded form.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body)
        .map(super::super::embed::query_pairs)
        .unwrap_or_default()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// Whether a browser sent this from the gateway's own origin: `Origin`
/// (else the `Referer`'s origin) must name this host; `Origin: null` never
/// does. A request with neither is not a browser's cross-site post.
fn same_origin(req: &HttpRequest) -> bool {
    let claimed = match req.headers().get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok().map(str::to_owned),
        None => match req.headers().get(header::REFERER) {
            Some(referer) => referer.to_str().ok().and_then(|r| {
                let (scheme, rest) = r.split_once("://")?;
                Some(format!(
                    "{scheme}://{}",
                    rest.split(['/', '?', '#']).next()?
                ))
            }),
            None => return true,
        },
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    claimed
        .and_then(|origin| origin.split_once("://").map(|(_, h)| h.to_owned()))
        .is_some_and(|claimed| !host.is_empty() && claimed.eq_ignore_ascii_case(host))
}

/// The signed-in consultant: every inbox page and action takes one, so
/// none runs without a live session.
pub struct Consultant {
    /// Who is signed in (`consultant.name`).
    pub who: String,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
    session: Session,
}

impl Consultant {
    /// Start a session for `who` (a new key: none chosen before sign-in survives).
    pub fn sign_in(session: &Session, who: &str) -> Result<(), InboxError> {
        session.renew();
        let csrf = hex::encode(rand::random::<[u8; 32]>());
        session
            .insert(USER, who)
            .and_then(|()| session.insert(CSRF, csrf))
            .map_err(|e| InboxError::internal("the session could not be started", e))
    }

    /// End the session: its row is deleted and the cookie removed.
    pub fn sign_out(self) {
        self.session.purge();
    }

    /// Show `message` once, on the next page.
    pub fn flash(&self, message: &str) -> Result<(), InboxError> {
        self.session
            .insert(FLASH, message)
            .map_err(|e| InboxError::internal("the session could not be updated", e))
    }

    /// The message left by the last action, if any (taken: shown once).
    pub fn take_flash(&self) -> Option<String> {
        self.session.remove_as::<String>(FLASH).and_then(Result::ok)
    }
}

impl FromRequest for Consultant {
    type Error = InboxError;
    type Future = Ready<Result<Consultant, InboxError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let signed_in = match (session.get::<String>(USER), session.get::<String>(CSRF)) {
            (Ok(Some(who)), Ok(Some(csrf))) => Ok(Consultant { who, csrf, session }),
            _ => Err(InboxError::sign_in(req)),
        };
        ready(signed_in)
    }
}
