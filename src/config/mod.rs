//! Configuration: embedded defaults, then `handoff-gate.toml`, then
//! `HANDOFF_GATE__SECTION__KEY` environment variables (figment layers them).
//!
//! Every key is declared once, with the `declare_config!` macro, giving its
//! type, default, doc line and secrecy; the structs, their defaults, the
//! environment names, `handoff-gate config check`, `handoff-gate config keys`
//! and the README's reference table all come from that one declaration
//! ([`KEYS`]). Errors name where the bad value came from (file and line, or
//! the environment variable) and what is accepted.
//!
//! ```
//! use handoff_gate::config::Config;
//!
//! let config = Config::load(None).unwrap();
//! assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
//! assert_eq!(config.store.url, "sqlite://data/handoff-gate.db");
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

/// The environment prefix: `HANDOFF_GATE__SERVER__LISTEN` sets `server.listen`.
pub const ENV_PREFIX: &str = "HANDOFF_GATE__";

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "handoff-gate.toml";

mod declare;
mod types;
mod warn;

pub use declare::Key;
use declare::declare_config;
pub use types::{LogFormat, Origin, ProxyNet, Secret, SmtpTls, WebhookEndpoint};
pub use warn::Warning;

declare_config! {
    /// The whole configuration.
    pub struct Config {
        retention_days: u32 = 90
            => "intakes older than this many days are deleted, with their mail files";
        data_dir: PathBuf = PathBuf::from("data")
            => "where generated secrets are kept (form-token.key, admin-token; mode 0600)";
    }

    /// `[server]`: where and how the gateway listens.
    [server] pub struct Server {
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080))
            => "address and port to listen on";
        #[serde(deserialize_with = "list_or_commas")]
        trusted_proxies: Vec<ProxyNet> = Vec::new()
            => "proxy addresses or networks (10.0.0.0/8) whose X-Forwarded-For is believed";
        workers: usize = 0
            => "HTTP worker threads; 0 means one per core";
        public_url: Option<String> = None
            => "the gateway's public address, e.g. `https://gate.example.com`: emails link each intake to the inbox ({public_url}/inbox/{id}) and `embed check` writes it into the snippet";
    }

    /// `[store]`: where intakes and the outbox are kept.
    [store] pub struct Store {
        url: String = "sqlite://data/handoff-gate.db".to_owned()
            => "sqlite://PATH (WAL, synchronous=FULL) or postgres://USER:PASS@HOST/DB (add ?sslmode=require for TLS)";
        max_size_mb: u64 = 0
            => "SQLite only: the most MiB the database may take, then intakes get 503 until space is freed; 0 means no cap";
    }

    /// `[mail]`: who receives each intake.
    [mail] pub struct Mail {
        to: String = "consultant@localhost".to_owned()
            => "the consultant's address that receives every intake";
        from: String = "handoff-gate <handoff-gate@localhost>".to_owned()
            => "the sender address of intake emails";
        dir: PathBuf = PathBuf::from("data/mail")
            => "where .eml files go while smtp.host is unset";
    }

    /// `[consultant]`: who answers, as the thank-you page and the emails say it.
    [consultant] pub struct Consultant {
        name: Option<String> = None
            => "the name the thank-you page gives the person, e.g. `Alex Rivera`; unset: \"the consultant\"";
        reply_time: Option<String> = None
            => "when people can expect an answer, as the thank-you page says it, e.g. `within two working days`";
        time_zone: String = "UTC".to_owned()
            => "IANA time zone the emails give times in, e.g. `Europe/Berlin`";
    }

    /// `[smtp]`: the relay; unset, mail is written to files.
    [smtp] pub struct Smtp {
        host: Option<String> = None
            => "SMTP relay host; unset means mail is written to mail.dir";
        port: Option<u16> = None
            => "SMTP port", shown: "by `tls`: 587 / 465 / 25";
        username: Option<String> = None
            => "SMTP user name; set with smtp.password or not at all";
        password: Option<Secret> = None
            => "SMTP password, or where to read it: { file = \"PATH\" } or { env = \"VARIABLE\" } (masked everywhere)", secret: true;
        tls: SmtpTls = SmtpTls::Starttls
            => "starttls (587) | tls (465) | none (a relay on localhost only)";
        timeout_seconds: u64 = 10
            => "SMTP connect and command timeout";
    }

    /// `[limits]`: what one client may send.
    [limits] pub struct Limits {
        body_bytes: usize = 64 * 1024
            => "largest request body accepted (batch triage takes up to 1 MiB)";
        per_ip_per_minute: u32 = 20
            => "POSTs and DELETEs per client address per minute; 0 disables the limiter";
        header_timeout_seconds: u64 = 10
            => "a connection's first request head must arrive within this, else 408";
        body_timeout_seconds: u64 = 30
            => "a request body must arrive within this (counted from its head), else 408";
        connections_per_ip: usize = 64
            => "open connections per client address (trusted proxies exempt), then 429; 0 disables the cap";
        min_fill_seconds: u64 = 3
            => "a form sent sooner than this after loading may be a bot: it is stored but held from the mail until released (`handoff-gate held`)";
        held_days: u32 = 30
            => "held intakes not released within this many days are deleted";
        form_token_hours: u64 = 24
            => "how long a loaded form stays valid";
    }

    /// `[delivery]`: the outbox that mails each intake.
    [delivery] pub struct Delivery {
        max_attempts: u32 = 10
            => "send attempts before an email is marked dead";
        retry_base_ms: u64 = 5_000
            => "first retry delay in milliseconds; doubles per attempt, with jitter";
        retry_max_seconds: u64 = 3_600
            => "longest retry delay";
        poll_ms: u64 = 1_000
            => "how often the outbox is checked for due emails (a new intake wakes it at once)";
        lease_seconds: u64 = 30
            => "how long a claimed email is reserved for the worker sending it; renewed every third of it while it sends";
    }

    /// `[admin]`: the operator's credentials.
    [admin] pub struct Admin {
        token: Option<Secret> = None
            => "bearer token for DELETE /api/v1/intakes/{id}; a string, { file = \"PATH\" } or { env = \"VARIABLE\" }", secret: true,
            shown: "generated in `data_dir/admin-token`";
    }

    /// `[inbox]`: the consultant's inbox at /inbox.
    [inbox] pub struct Inbox {
        password_hash: Option<Secret> = None
            => "argon2 hash of the inbox password, written by `handoff-gate admin set-password`; unset, the inbox is closed", secret: true;
        session_idle_minutes: u64 = 30
            => "an inbox session unused this long ends";
        session_max_hours: u64 = 12
            => "an inbox session ends this long after sign-in, however busy";
        login_attempts_per_hour: u32 = 10
            => "sign-in attempts per client address per hour, then 429 until one is earned back";
        page_size: u32 = 25
            => "intakes per page of the queue";
    }

    /// `[autoresponse]`: one email to the person who asked (off by default).
    [autoresponse] pub struct Autoresponse {
        enabled: bool = false
            => "send one email to a person who agreed to be contacted and gave an address: thanks, the next step, what was removed (kinds only), \"rotate that key\" after a pasted credential, consultant.reply_time; never their text";
        per_address_per_day: u32 = 1
            => "autoresponses to one address within 24 hours; more intakes from it get none";
    }

    /// `[webhooks]`: signed POSTs of each stored intake (Slack, Zapier, Make, a CRM).
    [webhooks] pub struct Webhooks {
        endpoints: Vec<WebhookEndpoint> = Vec::new()
            => "where each stored intake is POSTed as scrubbed JSON, signed per Standard Webhooks: `[[webhooks.endpoints]]` tables with `name`, `url` and `secret` (`whsec_` + base64 of 24 to 64 bytes; a string, { file = \"PATH\" } or { env = \"VARIABLE\" }); or, from the environment, an inline array: `[{name=crm, url=\"https://…\", secret={env=CRM_HOOK_SECRET}}]`",
            shown: "none";
        timeout_seconds: u64 = 10
            => "how long one webhook POST may take before it counts as failed and is retried (a claimed delivery is leased for at least twice this)";
    }

    /// `[embed]`: the sites that may embed the form.
    [embed] pub struct Embed {
        #[serde(deserialize_with = "list_or_commas")]
        allowed_origins: Vec<Origin> = Vec::new()
            => "sites that may frame /embed, post the form and call the API from a browser, e.g. `[\"https://www.example.com\"]`";
    }

    /// `[scrub]`: what the scrubber looks for, beyond its embedded table.
    [scrub] pub struct Scrub {
        detectors: Option<PathBuf> = None
            => "extra detectors (TOML, the shape of `handoff-gate rules show`; a row with an existing id replaces it)";
    }

    /// `[triage]`: how intakes are routed.
    [triage] pub struct Triage {
        rules: Option<PathBuf> = None
            => "triage rules that replace the embedded ones (the shape of `handoff-gate rules show-triage`)";
        extend_rules: Option<PathBuf> = None
            => "additions to the embedded triage rules (tools, handoff terms, signals; see docs/triage.md)";
        model: Option<PathBuf> = None
            => "a router model written by `handoff-gate train`; unset: the embedded model";
        review_below: f64 = 0.6
            => "an intake whose route probability is below this (0 to 1) is flagged needs_review";
    }

    /// `[log]`: how log lines are written.
    [log] pub struct Log {
        format: LogFormat = LogFormat::Auto
            => "json | text | auto: JSON lines when stderr is not a terminal";
    }
}

impl Config {
    /// The rule files the pipeline is built from.
    pub fn pipeline_sources(&self) -> crate::pipeline::Sources {
        crate::pipeline::Sources {
            detectors: self.scrub.detectors.clone(),
            rules: self.triage.rules.clone(),
            extend_rules: self.triage.extend_rules.clone(),
            model: self.triage.model.clone(),
            review_below: Some(self.triage.review_below as f32),
            keyword_rules: false,
        }
    }
}

impl Smtp {
    /// The port to connect to.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

/// A configuration that cannot be used. The message says where the value
/// came from and what is accepted; it never repeats a secret.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    /// `handoff-gate.toml:12 (smtp.tls)` or `environment HANDOFF_GATE__SMTP__TLS`.
    pub origin: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl Config {
    /// Load the layers. With `file` given it must exist; without it,
    /// `handoff-gate.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError {
                    origin: path.display().to_string(),
                    message: "no such file (give --config an existing TOML file, or leave it out to use the defaults)".to_owned(),
                });
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &path {
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        let config: Config = figment
            .extract()
            .map_err(|e| from_figment(&e, path.as_deref()))?;
        config.validate(path.as_deref())?;
        Ok(config)
    }

    /// Checks serde cannot express: addresses parse, the store URL is known.
    fn validate(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| ConfigError {
            origin: origin_of(key, file),
            message,
        };
        for (key, value) in [("mail.to", &self.mail.to), ("mail.from", &self.mail.from)] {
            if value.parse::<lettre::message::Mailbox>().is_err() {
                return Err(fail(
                    key,
                    format!(
                        "{key} is not an email address; accepted: `name@example.com` or `Name <name@example.com>`"
                    ),
                ));
            }
        }
        let url = &self.store.url;
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(fail(
                "store.url",
                "store.url must start with sqlite:// (for example sqlite://data/handoff-gate.db) or postgres:// (for example postgres://gate:secret@db:5432/handoff_gate)"
                    .to_owned(),
            ));
        }
        if self.store.max_size_mb > 0 && !url.starts_with("sqlite://") {
            return Err(fail(
                "store.max_size_mb",
                "store.max_size_mb caps a SQLite database only; remove it for PostgreSQL"
                    .to_owned(),
            ));
        }
        if self.smtp.username.is_some() != self.smtp.password.is_some() {
            return Err(fail(
                "smtp.username",
                "smtp.username and smtp.password go together: set both or neither".to_owned(),
            ));
        }
        if self
            .smtp
            .host
            .as_deref()
            .is_some_and(|h| h.trim().is_empty())
        {
            return Err(fail(
                "smtp.host",
                "smtp.host is empty; remove it to write mail to files".to_owned(),
            ));
        }
        if let Err(e) = jiff::tz::TimeZone::get(&self.consultant.time_zone) {
            return Err(fail(
                "consultant.time_zone",
                format!(
                    "consultant.time_zone: {e}; give an IANA name such as Europe/Berlin, America/New_York or UTC"
                ),
            ));
        }
        if let Some(public) = &self.server.public_url
            && !url::Url::parse(public)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        {
            return Err(fail(
                "server.public_url",
                "server.public_url must be an http(s) address such as https://gate.example.com"
                    .to_owned(),
            ));
        }
        if self.limits.body_bytes < 1024 {
            return Err(fail(
                "limits.body_bytes",
                "limits.body_bytes must be at least 1024".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&self.triage.review_below) {
            return Err(fail(
                "triage.review_below",
                "triage.review_below is a probability: a number from 0 to 1, e.g. 0.6".to_owned(),
            ));
        }
        if let Some(hash) = &self.inbox.password_hash
            && argon2::PasswordHash::new(hash.expose()).is_err()
        {
            return Err(fail(
                "inbox.password_hash",
                "inbox.password_hash is not an argon2 hash (`$argon2id$v=19$…`); write one with `handoff-gate admin set-password`".to_owned(),
            ));
        }
        for (key, value) in [
            (
                "inbox.session_idle_minutes",
                self.inbox.session_idle_minutes,
            ),
            ("inbox.session_max_hours", self.inbox.session_max_hours),
            (
                "inbox.login_attempts_per_hour",
                u64::from(self.inbox.login_attempts_per_hour),
            ),
            ("inbox.page_size", u64::from(self.inbox.page_size)),
        ] {
            if value == 0 {
                return Err(fail(key, format!("{key} must be at least 1")));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (nth, endpoint) in self.webhooks.endpoints.iter().enumerate() {
            let name = &endpoint.name;
            let (field, message) = if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                (
                    "name",
                    format!(
                        "the name {name:?} must be letters, digits, `-` or `_`, e.g. \"zapier\""
                    ),
                )
            } else if !names.insert(name.as_str()) {
                (
                    "name",
                    format!("the name {name:?} is used twice; each endpoint needs its own"),
                )
            } else if !matches!(endpoint.url.scheme(), "http" | "https")
                || endpoint.url.host().is_none()
            {
                (
                    "url",
                    format!(
                        "`{name}`: the url must be an http(s) address such as https://hooks.zapier.com/hooks/catch/…"
                    ),
                )
            } else if let Err(problem) =
                crate::deliver::webhook::secret_key(endpoint.secret.expose())
            {
                ("secret", format!("`{name}`: {problem}"))
            } else {
                continue;
            };
            return Err(ConfigError {
                origin: origin_of_nth(&format!("webhooks.endpoints.{field}"), nth, file),
                message: format!("webhooks.endpoints {message}"),
            });
        }
        if self.delivery.max_attempts == 0 || self.delivery.poll_ms == 0 {
            return Err(fail(
                "delivery.max_attempts",
                "delivery.max_attempts and delivery.poll_ms must be at least 1".to_owned(),
            ));
        }
        for (key, seconds) in [
            ("delivery.lease_seconds", self.delivery.lease_seconds),
            ("webhooks.timeout_seconds", self.webhooks.timeout_seconds),
            (
                "limits.header_timeout_seconds",
                self.limits.header_timeout_seconds,
            ),
            (
                "limits.body_timeout_seconds",
                self.limits.body_timeout_seconds,
            ),
        ] {
            if seconds == 0 {
                return Err(fail(key, format!("{key} must be at least 1")));
            }
        }
        Ok(())
    }

    /// The effective configuration as `key = value` lines, secrets masked.
    pub fn describe(&self) -> String {
        let value = toml::Value::try_from(self).expect("the configuration serializes to TOML");
        let mut out = String::new();
        for key in KEYS {
            let shown = match (lookup(&value, key.name), key.shown) {
                (Some(_), _) if key.secret => "[REDACTED]".to_owned(),
                (Some(toml::Value::String(text)), _) => format!("\"{}\"", redact_url(text)),
                (Some(v), _) => v.to_string(),
                (None, Some(shown)) => format!("(unset: {})", shown.replace('`', "")),
                (None, None) => "(unset)".to_owned(),
            };
            out.push_str(&format!("{:<26} = {:<40} # {}\n", key.name, shown, key.doc));
        }
        out
    }
}

impl Key {
    /// The default as the docs show it: the declared wording, else the
    /// default value in backticks, else "unset".
    pub fn default_shown(&self) -> String {
        if let Some(shown) = self.shown {
            return shown.to_owned();
        }
        let defaults =
            toml::Value::try_from(Config::default()).expect("the defaults serialize to TOML");
        match lookup(&defaults, self.name) {
            Some(toml::Value::String(text)) => format!("`{text}`"),
            Some(value) => format!("`{value}`"),
            None => "unset".to_owned(),
        }
    }
}

/// The README's configuration reference: one Markdown row per key.
pub fn markdown_table() -> String {
    let mut out = String::from("| key | default | meaning |\n|---|---|---|\n");
    for key in KEYS {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            key.name,
            key.default_shown(),
            key.doc.replace('|', "\\|")
        ));
    }
    out
}

/// Every key as JSON (`handoff-gate config keys --json`): name, environment
/// variable, type, default as documented, doc line and whether it is secret.
pub fn keys_json() -> serde_json::Value {
    KEYS.iter()
        .map(|key| {
            serde_json::json!({
                "name": key.name,
                "env": key.env(),
                "type": key.type_name.replace(' ', ""),
                "default": key.default_shown(),
                "doc": key.doc,
                "secret": key.secret,
            })
        })
        .collect()
}

/// The value at a dotted key in a TOML tree.
fn lookup<'v>(value: &'v toml::Value, dotted: &str) -> Option<&'v toml::Value> {
    dotted
        .split('.')
        .try_fold(value, |item, part| item.get(part))
}

/// A list, or (as environment variables give it) one comma-separated string.
fn list_or_commas<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + Deserialize<'de>,
    T::Err: fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items<T> {
        List(Vec<T>),
        Commas(String),
    }
    match Items::<T>::deserialize(deserializer)? {
        Items::List(items) => Ok(items),
        Items::Commas(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect(),
    }
}

/// Query parameters that carry a secret (libpq takes `password` and
/// `sslpassword` in the URL).
const SECRET_PARAMETERS: [&str; 6] = ["password", "sslpassword", "pass", "pwd", "secret", "token"];

/// A URL fit for messages, logs and `config check`: the password of its
/// user info and any secret query parameter replaced by `[REDACTED]`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let mut out = url[..scheme_end].to_owned();
    let authority = &url[scheme_end..authority_end];
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let masked = if user_info.contains(':') {
                ":[REDACTED]"
            } else {
                ""
            };
            out.push_str(&format!("{user}{masked}@{host}"));
        }
        None => out.push_str(authority),
    }
    let rest = &url[authority_end..];
    match rest.split_once('?') {
        None => out.push_str(rest),
        Some((path, query)) => {
            let (query, fragment) = query
                .split_once('#')
                .map_or((query, None), |(q, f)| (q, Some(f)));
            out.push_str(path);
            out.push('?');
            let parameters: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _))
                        if SECRET_PARAMETERS.contains(&name.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{name}=[REDACTED]")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&parameters.join("&"));
            if let Some(fragment) = fragment {
                out.push('#');
                out.push_str(fragment);
            }
        }
    }
    out
}

/// Turn figment's error into one that names the file line or variable.
fn from_figment(error: &figment::Error, file: Option<&Path>) -> ConfigError {
    let key = error.path.join(".");
    let from_env = error
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    let origin = if from_env {
        format!(
            "environment {}{}",
            ENV_PREFIX,
            key.to_uppercase().replace('.', "__")
        )
    } else if key.is_empty() {
        file.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string())
    } else {
        origin_of(&key, file)
    };
    // A secret's wrong value must not be repeated, even in an error.
    // A secret's wrong value must not be repeated: only the messages its own
    // deserializer writes (which name a file or a variable, never a value)
    // are shown.
    let secret = KEYS.iter().any(|k| k.secret && key.starts_with(k.name));
    let mut message = match &error.kind {
        figment::error::Kind::Message(text) if secret => text.clone(),
        _ if secret => {
            "expected the secret as a string, { file = \"PATH\" } or { env = \"VARIABLE\" }"
                .to_owned()
        }
        kind => kind.to_string(),
    };
    if let Some(doc) = KEYS.iter().find(|k| k.name == key) {
        message.push_str(&format!(" (accepted: {})", doc.doc));
    }
    if !key.is_empty() && !message.contains(&key) {
        message = format!("{key}: {message}");
    }
    ConfigError { origin, message }
}

/// Where a key's value came from: an environment variable, a file line, or the defaults.
fn origin_of(key: &str, file: Option<&Path>) -> String {
    origin_of_nth(key, 0, file)
}

/// Like [`origin_of`], for the `nth` (0-based) setting of `key` in an
/// array of tables such as `[[webhooks.endpoints]]`.
fn origin_of_nth(key: &str, nth: usize, file: Option<&Path>) -> String {
    // The key's own variable, or one that sets a table or array holding it
    // (`HANDOFF_GATE__WEBHOOKS__ENDPOINTS='[{name=crm, …}]'`).
    let mut path = key;
    loop {
        let var = format!("{ENV_PREFIX}{}", path.to_uppercase().replace('.', "__"));
        if std::env::var_os(&var).is_some() {
            return format!("environment {var}");
        }
        match path.rsplit_once('.') {
            Some((parent, _)) => path = parent,
            None => break,
        }
    }
    if let Some(path) = file {
        if let Some(line) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| line_of_nth(&text, key, nth))
        {
            return format!("{}:{line}", path.display());
        }
        return path.display().to_string();
    }
    "defaults".to_owned()
}

/// The 1-based line on which a dotted key is set in a TOML text.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    line_of_nth(text, key, 0)
}

/// The 1-based line of the `nth` (0-based) setting of a dotted key; a
/// `[[table]]` header counts as a section.
fn line_of_nth(text: &str, key: &str, mut nth: usize) -> Option<usize> {
    let mut section = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = header.trim_matches(['[', ']']).trim().to_owned();
            continue;
        }
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim().trim_matches('"');
        let full = if section.is_empty() {
            name.to_owned()
        } else {
            format!("{section}.{name}")
        };
        if full == key {
            if nth == 0 {
                return Some(number + 1);
            }
            nth -= 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_in_sections_and_dotted_keys() {
        let text = "retention_days = 3\n\n[smtp]\nhost = \"x\"\ntls = \"nope\"\n";
        assert_eq!(line_of(text, "smtp.tls"), Some(5));
        assert_eq!(line_of(text, "retention_days"), Some(1));
        assert_eq!(line_of("smtp.tls = 1", "smtp.tls"), Some(1));
        assert_eq!(line_of(text, "smtp.port"), None);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(&"10.1.2.3".parse().unwrap()));
        assert!(!net.contains(&"11.1.2.3".parse().unwrap()));
        let one: ProxyNet = "::1".parse().unwrap();
        assert!(one.contains(&"::1".parse().unwrap()));
        assert_eq!(String::from(one), "::1");
        assert!("10.0.0.0/33".parse::<ProxyNet>().is_err());
    }

    #[test]
    fn store_passwords_never_print() {
        assert_eq!(
            redact_url("postgres://gate:s3cret@db:5432/hg"),
            "postgres://gate:[REDACTED]@db:5432/hg"
        );
        assert_eq!(
            redact_url("postgres://gate@db/hg?sslmode=require&password=s3cret&application_name=x"),
            "postgres://gate@db/hg?sslmode=require&password=[REDACTED]&application_name=x"
        );
        assert_eq!(
            redact_url("postgresql://db/hg?user=a@b.example&PASSWORD=s3cret#x"),
            "postgresql://db/hg?user=a@b.example&PASSWORD=[REDACTED]#x"
        );
        assert_eq!(redact_url("smtp.example.org"), "smtp.example.org");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        let mut config = Config::default();
        config.store.url = "postgres://gate:s3cret@db/hg".to_owned();
        assert!(!config.describe().contains("s3cret"));
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[REDACTED]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[REDACTED]\"");
    }
}
