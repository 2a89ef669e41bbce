//! Embedding: the framed form's context (which site frames it, its theme),
//! the theme stylesheet, the security headers that decide who may frame
//! what, and CORS for the JSON API.
//!
//! Everything a host page passes in (`origin`, `accent`, `font`, `theme`) is
//! parsed into known shapes here; anything else is dropped, so no host page
//! value reaches a page or a stylesheet unchecked.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use handoff_scrub::{Policy, scrub};

use super::AppState;
use crate::config::Origin;

/// Light, dark, or the visitor's system setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always light.
    Light,
    /// Always dark.
    Dark,
    /// Follow `prefers-color-scheme`.
    Auto,
}

/// What the host page asked for, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbedContext {
    /// The framing page's origin, only if it is in `embed.allowed_origins`.
    pub origin: Option<Origin>,
    /// `#rgb` or `#rrggbb`.
    pub accent: Option<String>,
    /// A CSS font-family list of names only.
    pub font: Option<String>,
    /// Colour scheme.
    pub mode: Option<Mode>,
}

/// What every page template needs to know about how it is shown.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Shown inside the widget's iframe.
    pub embed: bool,
    /// Where to post size messages (an allowed origin).
    pub parent_origin: Option<String>,
    /// The query string of `/assets/theme.css`, if themed.
    pub theme: Option<String>,
    /// The embed context as a query string, carried through the form.
    pub embed_query: String,
}

impl Chrome {
    /// Where "Ask another question" leads: the same kind of page.
    pub fn form_link(&self) -> String {
        if self.embed {
            format!("/embed?{}", self.embed_query)
        } else {
            "/".to_owned()
        }
    }

    /// Where a stored intake's thank-you page is, in the same kind of page.
    pub fn thanks_link(&self, id: &crate::store::IntakeId) -> String {
        if self.embed {
            format!("/embed/thanks/{id}?{}", self.embed_query)
        } else {
            format!("/thanks/{id}")
        }
    }
}

impl EmbedContext {
    /// Parse `origin`, `accent`, `font`, `theme` from name/value pairs,
    /// keeping only valid values (and only allowed origins).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        allowed: &[Origin],
    ) -> Self {
        let mut context = EmbedContext::default();
        for (name, value) in pairs {
            match name {
                "origin" => {
                    context.origin = value.parse::<Origin>().ok().filter(|o| allowed.contains(o));
                }
                "accent" => context.accent = valid_colour(value),
                "font" => context.font = valid_font(value),
                "theme" => {
                    context.mode = match value {
                        "light" => Some(Mode::Light),
                        "dark" => Some(Mode::Dark),
                        "auto" => Some(Mode::Auto),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        context
    }

    /// Parse a query string such as `origin=https%3A%2F%2Fx.test&theme=dark`.
    pub fn from_query(query: &str, allowed: &[Origin]) -> Self {
        let pairs = query_pairs(query);
        Self::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), allowed)
    }

    fn theme_query(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(accent) = &self.accent {
            parts.push(format!("accent={}", encode(accent)));
        }
        if let Some(font) = &self.font {
            parts.push(format!("font={}", encode(font)));
        }
        if let Some(mode) = self.mode {
            parts.push(format!("theme={}", mode_name(mode)));
        }
        (!parts.is_empty()).then(|| parts.join("&"))
    }

    /// The chrome of a page shown in the widget.
    pub fn chrome(&self) -> Chrome {
        let theme = self.theme_query();
        let mut query = Vec::new();
        if let Some(origin) = &self.origin {
            query.push(format!("origin={}", encode(origin.as_str())));
        }
        query.extend(theme.clone());
        Chrome {
            embed: true,
            parent_origin: self.origin.as_ref().map(|o| o.as_str().to_owned()),
            theme,
            embed_query: query.join("&"),
        }
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Light => "light",
        Mode::Dark => "dark",
        Mode::Auto => "auto",
    }
}

/// A query string's name/value pairs, decoded (none if it is malformed).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// Everything but RFC 3986's unreserved characters is escaped.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// `#abc` or `#a1b2c3`.
fn valid_colour(value: &str) -> Option<String> {
    let hex = value.strip_prefix('#')?;
    ((hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

/// Font family names: letters, digits, spaces, hyphens, commas and quotes.
fn valid_font(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()
        && value.len() <= 120
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | ',' | '"' | '\'')))
    .then(|| value.to_owned())
}

/// `GET /assets/theme.css?accent=…&font=…&theme=…`: the host page's look as
/// CSS custom properties; invalid values are ignored.
pub async fn theme_css(req: HttpRequest) -> HttpResponse {
    let context = EmbedContext::from_query(req.query_string(), &[]);
    let mut css = String::from(":root {\n");
    if let Some(accent) = &context.accent {
        css.push_str(&format!("  --accent: {accent};\n"));
    }
    if let Some(font) = &context.font {
        css.push_str(&format!("  font-family: {font}, system-ui, sans-serif;\n"));
    }
    css.push_str("}\n");
    // A dark widget brings its own background: the host page behind it may be light.
    const DARK: &str = ":root { --ink: #e7ebf1; --muted: #a8b2c1; --line: #3a4352; --bg: #161a21; \
        --card: #1f242d; --warn-bg: #3a2f12; --bad-bg: #3b1a17; --ok-bg: #143323; --bad: #ff8a80; \
        color-scheme: dark; } body.embed { background: var(--bg); } \
        input[type=text], input[type=email], textarea { background: #11151b; }";
    match context.mode {
        Some(Mode::Dark) => css.push_str(&format!("{DARK}\n")),
        Some(Mode::Auto) => css.push_str(&format!(
            "@media (prefers-color-scheme: dark) {{ {DARK} }}\n"
        )),
        Some(Mode::Light) | None => {}
    }
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(css)
}

/// Whether a path may be framed by an allowed origin: the widget's pages,
/// and `/intake`, whose answer (the form again, with messages) shows in the
/// widget after a post from it.
fn embeddable(path: &str) -> bool {
    path == "/embed" || path.starts_with("/embed/") || path == "/intake"
}

/// The two Content-Security-Policies, built once from the configuration:
/// no inline script or style, no external assets; `'wasm-unsafe-eval'` lets
/// the page's own scripts compile WebAssembly (the scrubber's module)
/// without allowing `eval` of JavaScript; `frame-ancestors` lists
/// the allowed origins on the embeddable routes and is `'none'` elsewhere.
pub struct Policies {
    framed: HeaderValue,
    unframed: HeaderValue,
}

impl Policies {
    /// The policies for these allowed origins.
    pub fn new(allowed: &[Origin]) -> Self {
        let csp = |ancestors: &str| {
            HeaderValue::from_str(&format!(
                "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
            ))
            .expect("origins are header-safe")
        };
        let origins: Vec<&str> = allowed.iter().map(Origin::as_str).collect();
        Policies {
            framed: csp(&if origins.is_empty() {
                "'none'".to_owned()
            } else {
                origins.join(" ")
            }),
            unframed: csp("'none'"),
        }
    }
}

/// Security headers on every response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("the app state is registered")
        .clone();
    let framed = embeddable(req.path());
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let csp = if framed {
        &state.policies.framed
    } else {
        &state.policies.unframed
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    if !framed {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    Ok(response)
}

/// CORS for `/api/v1`: the allowed origins may read and post (with preflight).
pub fn cors(allowed: &[Origin]) -> Cors {
    let allowed: Vec<String> = allowed.iter().map(|o| o.as_str().to_owned()).collect();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
        })
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([HeaderName::from_static("idempotent-replayed")])
        .max_age(3600)
}

/// Whether a browser form post comes from this site or an allowed origin:
/// the `Origin` header (else the `Referer`'s origin) must match; a request
/// with neither (not a browser, or a privacy setting) is let through.
/// `Origin: null` (a sandboxed frame, a `data:` page, a cross-site redirect)
/// names no site that could be allowed, so it is refused like a foreign one.
pub fn post_origin_allowed(req: &HttpRequest, allowed: &[Origin]) -> bool {
    let claimed = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("null").to_owned())
        .or_else(|| referer_origin(req));
    let Some(claimed) = claimed else {
        return true;
    };
    is_own_host(req, &claimed)
        || claimed
            .parse::<Origin>()
            .is_ok_and(|origin| allowed.contains(&origin))
}

/// `scheme://host[:port]` of the `Referer`, if there is one.
fn referer_origin(req: &HttpRequest) -> Option<String> {
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let (scheme, rest) = referer.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

/// Whether an origin names this gateway, by the `Host` header itself
/// (`connection_info()` would believe a client's X-Forwarded-Host).
fn is_own_host(req: &HttpRequest, origin: &str) -> bool {
    let own_host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    origin
        .split_once("://")
        .is_some_and(|(_, host)| host.eq_ignore_ascii_case(&own_host))
}

/// The origin of a page that tries to frame the form but may not: the
/// `origin` that `embed.js` passes, else the `Referer`'s origin of a load
/// into an iframe (`Sec-Fetch-Dest: iframe`).
pub fn refused_framer(
    req: &HttpRequest,
    claimed: Option<&str>,
    allowed: &[Origin],
) -> Option<Origin> {
    let framed = req
        .headers()
        .get("sec-fetch-dest")
        .is_some_and(|v| v.as_bytes() == b"iframe");
    let claimed = match claimed {
        Some(origin) => origin.to_owned(),
        None if framed => referer_origin(req)?,
        None => return None,
    };
    let origin = claimed.parse::<Origin>().ok()?;
    (!allowed.contains(&origin) && !is_own_host(req, origin.as_str())).then_some(origin)
}

/// How often one refused origin is logged.
const REFUSED_LOGGED_EVERY: Duration = Duration::from_secs(3600);

/// Origins remembered at most: beyond, new ones go unlogged until an hour passes.
const REFUSED_REMEMBERED: usize = 1024;

/// The refused origins logged within the last hour, so a site that keeps
/// trying is named once an hour, not on every page view.
#[derive(Debug, Default)]
pub struct RefusedFramers {
    logged: Mutex<HashMap<Origin, Instant>>,
}

impl RefusedFramers {
    /// Whether `origin` is due to be logged (first time, or an hour since),
    /// noting that it is.
    pub fn due(&self, origin: &Origin) -> bool {
        let now = Instant::now();
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        if logged
            .get(origin)
            .is_some_and(|at| now.duration_since(*at) < REFUSED_LOGGED_EVERY)
        {
            return false;
        }
        if logged.len() >= REFUSED_REMEMBERED {
            logged.retain(|_, at| now.duration_since(*at) < REFUSED_LOGGED_EVERY);
            if logged.len() >= REFUSED_REMEMBERED {
                return false;
            }
        }
        logged.insert(origin.clone(), now);
        true
    }
}

/// Longest host-page address kept.
const PAGE_MAX: usize = 2048;

/// The host page's address as the gateway keeps it: scheme, host, port and
/// path, with only its `utm_*` parameters (click ids such as `gclid`,
/// `fbclid` and `msclkid`, and every other parameter, can identify a
/// visitor), decoded for people to read and scrubbed. `None` for anything
/// that is not an http(s) address.
pub fn page_address(raw: &str, policy: &Policy) -> Option<String> {
    if raw.len() > PAGE_MAX {
        return None;
    }
    let url = url::Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut page = format!("{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        page.push_str(&format!(":{port}"));
    }
    page.push_str(&decode(url.path()));
    let utm: Vec<String> = url
        .query_pairs()
        .filter(|(name, _)| name.len() <= 40 && name.to_ascii_lowercase().starts_with("utm_"))
        .take(12)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if !utm.is_empty() {
        page.push('?');
        page.push_str(&utm.join("&"));
    }
    Some(scrub(&page, policy).text().as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_shapes_survive() {
        let allowed = vec!["https://shop.example".parse::<Origin>().unwrap()];
        let context = EmbedContext::from_query(
            "origin=https%3A%2F%2Fshop.example&accent=%23AA3300&font=Inter%2C+sans-serif&theme=dark&x=1",
            &allowed,
        );
        assert_eq!(context.origin, Some(allowed[0].clone()));
        assert_eq!(context.accent.as_deref(), Some("#aa3300"));
        assert_eq!(context.font.as_deref(), Some("Inter, sans-serif"));
        assert_eq!(context.mode, Some(Mode::Dark));
        let hostile = EmbedContext::from_query(
            "origin=https%3A%2F%2Fevil.example&accent=red%3Bbackground%3Aurl(x)&font=x%7D%3Cscript%3E&theme=neon",
            &allowed,
        );
        assert_eq!(hostile, EmbedContext::default());
    }

    #[test]
    fn the_page_address_keeps_utm_and_drops_click_ids_and_the_rest() {
        let policy = Policy::default();
        assert_eq!(
            page_address(
                "https://Shop.example/contact%20us?gclid=Cj0KCQiA4L67BhDUARIsADWrl7Ep9nT&utm_source=youtube&fbclid=IwAR2x&utm_campaign=spring+sale&email=jane%40acme.test&msclkid=abc#form",
                &policy
            )
            .as_deref(),
            Some("https://shop.example/contact us?utm_source=youtube&utm_campaign=spring sale")
        );
        assert_eq!(
            page_address("http://localhost:4000/", &policy).as_deref(),
            Some("http://localhost:4000/")
        );
        assert_eq!(
            page_address(
                "https://user:pw@shop.example/p/jane@acme.test?utm_content=jane@acme.test",
                &policy
            )
            .as_deref(),
            Some("https://shop.example/p/[EMAIL]?utm_content=[EMAIL]")
        );
        for refused in ["javascript:alert(1)", "data:text/html,x", "not a url", ""] {
            assert_eq!(page_address(refused, &policy), None, "{refused}");
        }
        assert_eq!(
            page_address(&format!("https://a.example/{}", "x".repeat(2100)), &policy),
            None
        );
    }

    #[test]
    fn a_refused_origin_is_due_once_an_hour() {
        let framers = RefusedFramers::default();
        let one: Origin = "https://www.shop.example".parse().unwrap();
        let two: Origin = "http://shop.example".parse().unwrap();
        assert!(framers.due(&one));
        assert!(!framers.due(&one));
        assert!(framers.due(&two));
        assert!(!framers.due(&two));
    }
}
