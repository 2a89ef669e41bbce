//! The submitter's own reply address.

use std::fmt;

use serde::Serialize;

use super::IntakeError;

/// The address the submitter typed into the contact-email field. It is the
/// submitter's own, so it is not scrubbed as private data; it is kept so the
/// consultant can answer and is never published.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ContactEmail(String);

impl ContactEmail {
    /// The only way in: a trimmed address with one `@`, a non-empty local
    /// part, a dotted domain, no spaces or control characters (so it can never
    /// split an email header), at most 254 bytes, and valid by `validator`'s
    /// HTML5 rules.
    pub fn parse(raw: &str) -> Result<Self, IntakeError> {
        let address = raw.trim();
        let plausible = address.len() <= 254
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && match address.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if plausible && validator::ValidateEmail::validate_email(&address) {
            Ok(ContactEmail(address.to_owned()))
        } else {
            Err(IntakeError::InvalidContactEmail)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Debug hides the address: it is personal data that must not reach logs.
impl fmt::Debug for ContactEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactEmail([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses_and_trims() {
        assert_eq!(
            ContactEmail::parse(" me@shop.test ").unwrap().as_str(),
            "me@shop.test"
        );
    }

    #[test]
    fn refuses_what_cannot_be_answered() {
        for bad in [
            "",
            "me",
            "me@",
            "@shop.test",
            "me@shop",
            "a b@shop.test",
            "a@b@c.test",
            "me@.test",
        ] {
            assert_eq!(
                ContactEmail::parse(bad),
                Err(IntakeError::InvalidContactEmail),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_does_not_print_the_address() {
        let email = ContactEmail::parse("me@shop.test").unwrap();
        assert!(!format!("{email:?}").contains("shop"));
    }
}
