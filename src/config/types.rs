//! The value types of the configuration: secrets, origins, proxy networks
//! and the enumerated choices.

use std::fmt;
use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// A secret value (`secrecy`): `Debug` and serialization print
/// `[REDACTED]`, and the memory is wiped on drop.
///
/// In the configuration it is the value itself, or where to read it, so it
/// need not sit in the TOML file: `password = { file = "/run/secrets/smtp" }`
/// (the file's content, without its final line break) or
/// `password = { env = "SMTP_PASSWORD" }` (another environment variable);
/// from the environment, `HANDOFF_GATE__SMTP__PASSWORD__FILE=/run/secrets/smtp`.
#[derive(Clone)]
pub struct Secret(SecretString);

/// Where a secret's value is written in the configuration.
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum SecretSource {
    Value(String),
    File { file: std::path::PathBuf },
    Env { env: String },
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = match SecretSource::deserialize(deserializer).map_err(|_| {
            D::Error::custom(
                "expected the secret as a string, { file = \"PATH\" } or { env = \"VARIABLE\" }",
            )
        })? {
            SecretSource::Value(value) => value,
            SecretSource::File { file } => std::fs::read_to_string(&file)
                .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
                .map_err(|e| D::Error::custom(format!("cannot read {}: {e}", file.display())))?,
            SecretSource::Env { env } => std::env::var(&env).map_err(|_| {
                D::Error::custom(format!("the environment variable {env} is not set"))
            })?,
        };
        if value.is_empty() {
            return Err(D::Error::custom("the secret is empty"));
        }
        Ok(Secret::new(value))
    }
}

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
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

/// One webhook endpoint: `[[webhooks.endpoints]]` with a `name` (in logs,
/// metrics and the inbox), the `url` each intake is POSTed to, and the
/// `secret` it is signed with (`whsec_` and base64, as Standard Webhooks
/// receivers expect; a string, `{ file = "PATH" }` or `{ env = "VARIABLE" }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Its name: letters, digits, `-` and `_`.
    pub name: String,
    /// Where intakes are POSTed (http or https).
    pub url: url::Url,
    /// The signing secret.
    pub secret: Secret,
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

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

impl SmtpTls {
    /// How the mode reads in the start-up banner.
    pub fn describe(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "STARTTLS",
            SmtpTls::Tls => "TLS",
            SmtpTls::None => "no encryption",
        }
    }
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
