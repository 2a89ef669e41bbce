//! Settings that load but will lose or misdirect mail: the defaults and the
//! README's example values. `config check` and `serve` print them.

use super::{Config, SmtpTls};

/// One setting worth a second look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The key at fault, e.g. `mail.to`.
    pub key: &'static str,
    /// What will happen and what to do.
    pub message: String,
}

/// Domains that never receive mail: RFC 2606 and RFC 6761 names and the
/// host itself.
fn is_example_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    ["example.com", "example.org", "example.net", "localhost"]
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid", ".localhost", ".local"]
            .iter()
            .any(|tld| domain.ends_with(tld))
}

/// The domain of `Name <user@domain>` or `user@domain`.
fn domain_of(address: &str) -> &str {
    let address = address
        .rsplit_once('<')
        .map_or(address, |(_, inner)| inner.trim_end_matches('>'));
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// Placeholders people copy from examples and forget.
fn looks_like_a_placeholder(value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    value.starts_with("your-")
        || value.starts_with("your_")
        || ["changeme", "change-me", "password", "secret", "xxx", "todo"].contains(&value.as_str())
}

impl Config {
    /// Settings that will lose or misdirect mail, in the order of the keys.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let mut warn = |key, message: String| warnings.push(Warning { key, message });
        if is_example_domain(domain_of(&self.mail.to)) {
            warn(
                "mail.to",
                format!(
                    "every intake is mailed to {}, which is nobody's inbox: set mail.to to your own address",
                    self.mail.to
                ),
            );
        }
        match &self.smtp.host {
            None => warn(
                "smtp.host",
                format!(
                    "mail is written as .eml files to {}, not sent: set smtp.host (and smtp.username, smtp.password) to send it, then try `handoff-gate mail test`",
                    self.mail.dir.display()
                ),
            ),
            Some(host) => {
                if is_example_domain(host) {
                    warn(
                        "smtp.host",
                        format!("{host} is an example host: set your provider's SMTP relay"),
                    );
                }
                if is_example_domain(domain_of(&self.mail.from)) {
                    warn(
                        "mail.from",
                        format!(
                            "relays refuse or spam-file mail from {}: set mail.from to an address of a domain your relay may send for",
                            self.mail.from
                        ),
                    );
                }
                let local = host == "localhost" || host.starts_with("127.") || host == "::1";
                if self.smtp.tls == SmtpTls::None && !local {
                    warn(
                        "smtp.tls",
                        format!("mail to {host} travels unencrypted: use starttls or tls"),
                    );
                }
            }
        }
        if self
            .smtp
            .username
            .as_deref()
            .is_some_and(looks_like_a_placeholder)
        {
            warn(
                "smtp.username",
                "smtp.username looks like an example placeholder: set your relay's user name"
                    .to_owned(),
            );
        }
        if self
            .smtp
            .password
            .as_ref()
            .is_some_and(|p| looks_like_a_placeholder(p.expose()))
        {
            warn(
                "smtp.password",
                "smtp.password looks like an example placeholder: set your relay's password (better from a file: password = { file = \"PATH\" })"
                    .to_owned(),
            );
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_warn_that_mail_goes_nowhere() {
        let keys: Vec<_> = Config::default()
            .warnings()
            .into_iter()
            .map(|w| w.key)
            .collect();
        assert_eq!(keys, ["mail.to", "smtp.host"]);
    }

    #[test]
    fn the_readme_example_values_warn_and_real_ones_do_not() {
        let mut config = Config::default();
        config.mail.to = "Alex Consultant <alex@consulting.example>".to_owned();
        config.mail.from = "Intake <intake@consulting.example>".to_owned();
        config.smtp.host = Some("smtp.postmarkapp.com".to_owned());
        config.smtp.username = Some("your-server-token".to_owned());
        config.smtp.password = Some(super::super::Secret::new("your-server-token"));
        let keys: Vec<_> = config.warnings().into_iter().map(|w| w.key).collect();
        assert_eq!(
            keys,
            ["mail.to", "mail.from", "smtp.username", "smtp.password"]
        );

        config.mail.to = "alex@alexconsults.com".to_owned();
        config.mail.from = "Intake <intake@alexconsults.com>".to_owned();
        config.smtp.username = Some("3f1c0a9e".to_owned());
        config.smtp.password = Some(super::super::Secret::new("9b2e77d1c4"));
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    }

    #[test]
    fn a_password_never_appears_in_a_warning() {
        let mut config = Config::default();
        config.smtp.host = Some("smtp.relay.example.org".to_owned());
        config.smtp.password = Some(super::super::Secret::new("your-hunter2"));
        for warning in config.warnings() {
            assert!(!warning.message.contains("hunter2"), "{warning:?}");
        }
    }
}
