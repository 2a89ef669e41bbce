//! Guards at the door: open connections per client address, the
//! per-client rate limit on POST routes, and the request log.

use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::Extensions;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::rt::net::TcpStream;
use actix_web::{Error, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tracing::Instrument;

use super::AppState;
use super::error::{ApiError, PageError};
use crate::config::ProxyNet;

/// Requests per client address per minute.
pub type Limiter = DefaultKeyedRateLimiter<IpAddr>;

/// A limiter allowing `per_minute` POSTs per address (with that burst), or
/// none when it is 0.
pub fn limiter(per_minute: u32) -> Option<Limiter> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// The client's address: the peer, unless the peer is a trusted proxy, in
/// which case the right-most `X-Forwarded-For` entry that is not one.
pub fn client_ip(req: &HttpRequest, trusted: &[ProxyNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .find(|ip| !is_trusted(ip))
        .or(Some(peer))
}

/// Open connections per client address, counted from accept to close, so
/// one address cannot hold every connection with slow requests. Trusted
/// proxies are exempt: their connections carry many clients.
pub struct ConnectionSlots {
    cap: usize,
    exempt: Vec<ProxyNet>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// A counted connection; closing it (dropping its data) gives the slot back.
struct Slot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("connection count lock");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A connection beyond its address's cap: each of its requests gets 429.
#[derive(Clone, Copy)]
struct OverCap {
    cap: usize,
}

impl ConnectionSlots {
    /// `cap` connections per address (0: no cap), `exempt` addresses aside.
    pub fn new(cap: usize, exempt: Vec<ProxyNet>) -> ConnectionSlots {
        ConnectionSlots {
            cap,
            exempt,
            open: Arc::default(),
        }
    }

    /// At accept (`HttpServer::on_connect`): take a slot for the peer's
    /// address, or mark the connection as over the cap.
    pub fn admit(&self, connection: &dyn Any, data: &mut Extensions) {
        let Some(ip) = connection
            .downcast_ref::<TcpStream>()
            .and_then(|stream| stream.peer_addr().ok())
            .map(|peer| peer.ip())
        else {
            return;
        };
        if self.cap == 0 || self.exempt.iter().any(|net| net.contains(&ip)) {
            return;
        }
        let mut open = self.open.lock().expect("connection count lock");
        let count = open.entry(ip).or_insert(0);
        if *count >= self.cap {
            data.insert(OverCap { cap: self.cap });
            return;
        }
        *count += 1;
        data.insert(Slot {
            ip,
            open: self.open.clone(),
        });
    }
}

/// Answer every request on a connection over its address's cap with 429,
/// and close it.
pub async fn connection_cap(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(over) = req.conn_data::<OverCap>() {
        let error = ApiError::TooManyConnections { cap: over.cap };
        return Err(if req.path().starts_with("/api/") {
            error.into()
        } else {
            PageError(error).into()
        });
    }
    next.call(req).await
}

/// Take one request from the client's quota; when it is spent, the
/// seconds until the next one is allowed.
pub fn spend_quota(state: &AppState, req: &HttpRequest) -> Result<(), u64> {
    if let (Some(limiter), Some(ip)) = (
        &state.limiter,
        client_ip(req, &state.config.server.trusted_proxies),
    ) && let Err(not_until) = limiter.check_key(&ip)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        tracing::warn!(route = req.path(), "rate limited");
        return Err(wait.as_secs() + 1);
    }
    Ok(())
}

/// Refuse a POST or DELETE beyond the client's quota with 429 and
/// `Retry-After`. The form's own post is limited by its handler, after the
/// body is read, so the refusal can show the person's words back. The inbox
/// is exempt: its changes need a session, and its sign-in has a limit of
/// its own (`inbox.login_attempts_per_hour`).
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let inbox = req.path() == "/inbox" || req.path().starts_with("/inbox/");
    let limited = !inbox
        && (req.method() == Method::DELETE
            || (req.method() == Method::POST && req.path() != "/intake"));
    if limited {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("the app state is registered")
            .clone();
        if let Err(retry_after) = spend_quota(&state, req.request()) {
            let error = ApiError::RateLimited { retry_after };
            return Err(if req.path().starts_with("/api/") {
                error.into()
            } else {
                PageError(error).into()
            });
        }
    }
    next.call(req).await
}

/// Log each request in one info line (method, matched route, status, time,
/// and the intake id and triage route when one was stored; never the query
/// string or body) inside a span carrying a request id, which is also
/// returned as `X-Request-Id`.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // 64 random bits from the thread's generator, not a system call each.
    let request_id = format!("{:016x}", rand::random::<u64>());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        intake = tracing::field::Empty,
        triage = tracing::field::Empty
    );
    let started = Instant::now();
    let method = req.method().clone();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_owned());
    if let Some(state) = response.request().app_data::<web::Data<AppState>>() {
        let status = response.status().as_u16().to_string();
        state
            .metrics
            .http_requests
            .with_label_values(&[route.as_str(), status.as_str()])
            .inc();
        state
            .metrics
            .http_duration
            .with_label_values(&[route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            %method,
            route,
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
