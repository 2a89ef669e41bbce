//! Configuration: embedded defaults, then `handoff-gate.toml`, then
//! `HANDOFF_GATE__SECTION__KEY` environment variables (figment layers them).
//!
//! Every key is declared once, in [`KEYS`], with its default and a doc line:
//! `handoff-gate config check` and the README's reference come from there.
//! Errors name where the bad value came from (file and line, or the
//! environment variable) and what is accepted.
//!
//! ```
//! use handoff_gate::config::Config;
//!
//! let config = Config::load(None).unwrap();
//! assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
//! assert_eq!(config.store.url, "sqlite://data/handoff-gate.db");
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The environment prefix: `HANDOFF_GATE__SERVER__LISTEN` sets `server.listen`.
pub const ENV_PREFIX: &str = "HANDOFF_GATE__";

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "handoff-gate.toml";

/// One documented key.
pub struct Key {
    /// Dotted name, e.g. `smtp.tls`.
    pub name: &'static str,
    /// What it does and what it accepts.
    pub doc: &'static str,
}

/// Every key, in the order `config check` prints them.
pub const KEYS: &[Key] = &[
    Key {
        name: "server.listen",
        doc: "address and port to listen on (default 127.0.0.1:8080)",
    },
    Key {
        name: "server.trusted_proxies",
        doc: "proxy addresses or networks (10.0.0.0/8) whose X-Forwarded-For is believed (default none)",
    },
    Key {
        name: "server.workers",
        doc: "HTTP worker threads; 0 means one per core (default 0)",
    },
    Key {
        name: "store.url",
        doc: "sqlite://PATH or postgres://USER:PASS@HOST/DB (default sqlite://data/handoff-gate.db)",
    },
    Key {
        name: "mail.to",
        doc: "the consultant's address that receives every intake",
    },
    Key {
        name: "mail.from",
        doc: "the sender address of intake emails",
    },
    Key {
        name: "mail.dir",
        doc: "where .eml files go while smtp.host is unset (default data/mail)",
    },
    Key {
        name: "smtp.host",
        doc: "SMTP relay host; unset means mail is written to mail.dir",
    },
    Key {
        name: "smtp.port",
        doc: "SMTP port (default 587 for starttls, 465 for tls, 25 for none)",
    },
    Key {
        name: "smtp.username",
        doc: "SMTP user name, if the relay wants authentication",
    },
    Key {
        name: "smtp.password",
        doc: "SMTP password (masked in output)",
    },
    Key {
        name: "smtp.tls",
        doc: "starttls | tls | none (default starttls)",
    },
    Key {
        name: "smtp.timeout_seconds",
        doc: "SMTP connect and command timeout (default 10)",
    },
    Key {
        name: "limits.body_bytes",
        doc: "largest request body accepted (default 65536)",
    },
    Key {
        name: "limits.per_ip_per_minute",
        doc: "POSTs per client IP per minute; 0 disables (default 20)",
    },
    Key {
        name: "limits.min_fill_seconds",
        doc: "a form sent sooner than this is treated as a bot (default 3)",
    },
    Key {
        name: "limits.form_token_hours",
        doc: "how long a loaded form stays valid (default 24)",
    },
    Key {
        name: "delivery.max_attempts",
        doc: "send attempts before an email is marked dead (default 10)",
    },
    Key {
        name: "delivery.retry_base_ms",
        doc: "first retry delay; doubles per attempt, with jitter (default 5000)",
    },
    Key {
        name: "delivery.retry_max_seconds",
        doc: "longest retry delay (default 3600)",
    },
    Key {
        name: "delivery.poll_ms",
        doc: "how often the outbox is checked for due emails (default 1000)",
    },
    Key {
        name: "retention_days",
        doc: "intakes older than this are deleted (default 90)",
    },
    Key {
        name: "admin.token",
        doc: "bearer token for DELETE /api/v1/intakes/{id}; generated under data_dir if unset",
    },
    Key {
        name: "data_dir",
        doc: "where generated secrets are kept (default data)",
    },
    Key {
        name: "delivery.lease_seconds",
        doc: "how long a claimed email is reserved for the worker sending it (default 120)",
    },
    Key {
        name: "log.format",
        doc: "json | text | auto: JSON lines when stderr is not a terminal (default auto)",
    },
    Key {
        name: "embed.allowed_origins",
        doc: "sites that may frame /embed and call the API from a browser, e.g. [\"https://www.example.com\"] (default none)",
    },
];

/// Keys whose values are never printed.
const SECRET_KEYS: [&str; 2] = ["smtp.password", "admin.token"];

/// A secret value: `Debug` and serialization print `[REDACTED]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[REDACTED]")
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`
    pub server: Server,
    /// `[store]`
    pub store: Store,
    /// `[mail]`
    pub mail: Mail,
    /// `[smtp]`
    pub smtp: Smtp,
    /// `[limits]`
    pub limits: Limits,
    /// `[delivery]`
    pub delivery: Delivery,
    /// Days an intake is kept.
    pub retention_days: u32,
    /// `[admin]`
    pub admin: Admin,
    /// Where generated secrets live.
    pub data_dir: PathBuf,
    /// `[embed]`
    pub embed: Embed,
    /// `[log]`
    pub log: Log,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// Line format.
    pub format: LogFormat,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (with the request id).
    Json,
    /// Human-readable lines.
    Text,
    /// JSON when stderr is not a terminal, text when it is.
    Auto,
}

/// `[embed]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// Origins (`https://www.example.com`) allowed to frame the form and to
    /// call the JSON API from a browser.
    #[serde(deserialize_with = "list_or_commas")]
    pub allowed_origins: Vec<Origin>,
}

/// A web origin: `scheme://host[:port]`, lower-cased, no path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Origin(String);

impl Origin {
    /// The origin as written in `Origin` headers.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Origin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
        let host = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("`{text}` is not an origin: it must start with https:// or http://")
            })?;
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if valid {
            Ok(Origin(text))
        } else {
            Err(format!(
                "`{text}` is not an origin: give scheme, host and optional port only, e.g. https://www.example.com"
            ))
        }
    }
}

impl TryFrom<String> for Origin {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

/// `[server]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Peers whose `X-Forwarded-For` is believed.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<ProxyNet>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
}

/// A trusted proxy: one address (`10.0.0.7`) or a network (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ProxyNet(ipnet::IpNet);

impl ProxyNet {
    /// Whether `ip` belongs to it.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl From<ProxyNet> for String {
    fn from(net: ProxyNet) -> String {
        if net.0.prefix_len() == net.0.max_prefix_len() {
            net.0.addr().to_string()
        } else {
            net.0.to_string()
        }
    }
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        text.parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
            .map(ProxyNet)
            .map_err(|_| {
                format!("`{text}` is not an IP address or network (e.g. 10.0.0.7 or 10.0.0.0/8)")
            })
    }
}

impl TryFrom<String> for ProxyNet {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// `sqlite://path`.
    pub url: String,
}

/// `[mail]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    /// The consultant's address.
    pub to: String,
    /// The sender.
    pub from: String,
    /// The file-transport folder.
    pub dir: PathBuf,
}

/// `[smtp]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Relay host; `None` writes files instead.
    pub host: Option<String>,
    /// Port; `None` takes the TLS mode's usual port.
    pub port: Option<u16>,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Transport security.
    pub tls: SmtpTls,
    /// Connect and command timeout.
    pub timeout_seconds: u64,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
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

/// `[limits]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest body.
    pub body_bytes: usize,
    /// POSTs per IP per minute (0: off).
    pub per_ip_per_minute: u32,
    /// Minimum seconds between loading and sending the form.
    pub min_fill_seconds: u64,
    /// Hours a form token stays valid.
    pub form_token_hours: u64,
}

/// `[delivery]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Attempts before dead.
    pub max_attempts: u32,
    /// First retry delay in milliseconds.
    pub retry_base_ms: u64,
    /// Longest retry delay in seconds.
    pub retry_max_seconds: u64,
    /// Outbox poll interval in milliseconds.
    pub poll_ms: u64,
    /// How long a claimed outbox row stays reserved, in seconds.
    pub lease_seconds: u64,
}

/// `[admin]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Bearer token for admin endpoints.
    pub token: Option<Secret>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: Server {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                trusted_proxies: Vec::new(),
                workers: 0,
            },
            store: Store {
                url: "sqlite://data/handoff-gate.db".to_owned(),
            },
            mail: Mail {
                to: "consultant@localhost".to_owned(),
                from: "handoff-gate <handoff-gate@localhost>".to_owned(),
                dir: PathBuf::from("data/mail"),
            },
            smtp: Smtp {
                host: None,
                port: None,
                username: None,
                password: None,
                tls: SmtpTls::Starttls,
                timeout_seconds: 10,
            },
            limits: Limits {
                body_bytes: 64 * 1024,
                per_ip_per_minute: 20,
                min_fill_seconds: 3,
                form_token_hours: 24,
            },
            delivery: Delivery {
                max_attempts: 10,
                retry_base_ms: 5_000,
                retry_max_seconds: 3_600,
                poll_ms: 1_000,
                lease_seconds: 120,
            },
            retention_days: 90,
            admin: Admin { token: None },
            data_dir: PathBuf::from("data"),
            embed: Embed {
                allowed_origins: Vec::new(),
            },
            log: Log {
                format: LogFormat::Auto,
            },
        }
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
        if self.limits.body_bytes < 1024 {
            return Err(fail(
                "limits.body_bytes",
                "limits.body_bytes must be at least 1024".to_owned(),
            ));
        }
        if self.delivery.max_attempts == 0 || self.delivery.poll_ms == 0 {
            return Err(fail(
                "delivery.max_attempts",
                "delivery.max_attempts and delivery.poll_ms must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    /// The effective configuration as `key = value` lines, secrets masked.
    pub fn describe(&self) -> String {
        let value = toml::Value::try_from(self).expect("the configuration serializes to TOML");
        let mut out = String::new();
        for key in KEYS {
            let mut item = Some(&value);
            for part in key.name.split('.') {
                item = item.and_then(|v| v.get(part));
            }
            let shown = match (key.name, item) {
                (name, Some(_)) if SECRET_KEYS.contains(&name) => "[REDACTED]".to_owned(),
                ("store.url", Some(v)) => {
                    format!("\"{}\"", redact_url(v.as_str().unwrap_or_default()))
                }
                ("admin.token", None) => "(generated under data_dir)".to_owned(),
                (_, Some(v)) => v.to_string(),
                (_, None) => "(unset)".to_owned(),
            };
            out.push_str(&format!("{:<26} = {:<40} # {}\n", key.name, shown, key.doc));
        }
        out
    }
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

/// A URL fit for messages and `config check`: any password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:[REDACTED]{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
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
    let mut message = if SECRET_KEYS.contains(&key.as_str()) {
        "must be a string".to_owned()
    } else {
        error.kind.to_string()
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
    let var = format!("{ENV_PREFIX}{}", key.to_uppercase().replace('.', "__"));
    if std::env::var_os(&var).is_some() {
        return format!("environment {var}");
    }
    if let Some(path) = file {
        if let Some(line) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| line_of(&text, key))
        {
            return format!("{}:{line}", path.display());
        }
        return path.display().to_string();
    }
    "defaults".to_owned()
}

/// The 1-based line on which a dotted key is set in a TOML text.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    let mut section = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = header.trim().to_owned();
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
            return Some(number + 1);
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
