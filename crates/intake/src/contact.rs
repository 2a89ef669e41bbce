//! The submitter's own reply address.

use std::fmt;

use email_address::EmailAddress;
use serde::Serialize;

use super::IntakeError;

/// The address the submitter typed into the contact-email field. It is the
/// submitter's own, so it is not scrubbed as private data; it is kept so the
/// consultant can answer and is never published.
///
/// Only a deliverable shape is accepted: a local part that RFC 5322 allows
/// unquoted and in ASCII, and a domain name with at least two labels, an
/// internationalised one encoded to its ASCII form (IDNA), so the address
/// can go into a `Reply-To` header as it is.
///
/// ```
/// use handoff_intake::ContactEmail;
///
/// assert_eq!(ContactEmail::parse("me@Bücher.example").unwrap().as_str(), "me@xn--bcher-kva.example");
/// assert!(ContactEmail::parse("a.@x.test").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ContactEmail(String);

/// What is wrong with a typed reply address; each says what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactProblem {
    /// Spaces, line breaks or other control characters.
    #[error("an email address cannot contain spaces or line breaks")]
    Spaces,
    /// Over the 254 characters an address may have.
    #[error("an email address has at most 254 characters")]
    TooLong,
    /// No `@`.
    #[error("an email address needs an @, as in name@example.com")]
    NoAt,
    /// The part before the `@` is not one mail servers accept.
    #[error(
        "the part before the @ is not valid: it cannot be empty, start or end with a dot, hold two dots in a row, or contain commas, brackets or quotes"
    )]
    LocalPart,
    /// Letters outside ASCII before the `@`, which few relays deliver.
    #[error(
        "the part before the @ has letters outside plain ASCII (such as accents), which many mail servers cannot deliver to: please give an address without them"
    )]
    NonAsciiLocalPart,
    /// The part after the `@` is not a domain name.
    #[error("the part after the @ must be a domain name such as example.com")]
    Domain,
}

impl ContactEmail {
    /// The only way in: a trimmed address of a deliverable shape (see the
    /// type's docs), with its domain in ASCII.
    pub fn parse(raw: &str) -> Result<Self, IntakeError> {
        Self::check(raw).map_err(IntakeError::InvalidContactEmail)
    }

    fn check(raw: &str) -> Result<Self, ContactProblem> {
        let address = raw.trim();
        // Never a line break: the address goes into a header.
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ContactProblem::Spaces);
        }
        if address.len() > 254 {
            return Err(ContactProblem::TooLong);
        }
        let (local, domain) = address.rsplit_once('@').ok_or(ContactProblem::NoAt)?;
        if !local.is_ascii() {
            return Err(ContactProblem::NonAsciiLocalPart);
        }
        // Quoted local parts are valid but rarely deliverable, and never typed by people.
        if local.starts_with('"') || !EmailAddress::is_valid_local_part(local) {
            return Err(ContactProblem::LocalPart);
        }
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| ContactProblem::Domain)?;
        let top_level = domain.rsplit('.').next().unwrap_or("");
        let named = domain.contains('.')
            && !top_level.bytes().all(|b| b.is_ascii_digit())
            && EmailAddress::is_valid_domain(&domain);
        if !named {
            return Err(ContactProblem::Domain);
        }
        Ok(ContactEmail(format!("{local}@{domain}")))
    }

    /// The address, its domain in ASCII (`xn--…` for an internationalised one).
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
        for good in [
            " me@shop.test ",
            "first.last+tag@mail.shop.test",
            "o'neil@x.io",
        ] {
            assert_eq!(
                ContactEmail::parse(good).unwrap().as_str(),
                good.trim(),
                "{good}"
            );
        }
    }

    #[test]
    fn internationalised_domains_are_encoded() {
        assert_eq!(
            ContactEmail::parse("jo@münchen.example").unwrap().as_str(),
            "jo@xn--mnchen-3ya.example"
        );
        assert_eq!(
            ContactEmail::parse("jo@ÉCOLE.fr").unwrap().as_str(),
            "jo@xn--cole-9oa.fr"
        );
    }

    #[test]
    fn refuses_what_cannot_be_answered_and_says_why() {
        use ContactProblem::*;
        for (bad, why) in [
            ("", NoAt),
            ("me", NoAt),
            ("me@", Domain),
            ("@shop.test", LocalPart),
            ("me@shop", Domain),
            ("a b@shop.test", Spaces),
            ("me@shop.test\r\nBcc: x@y.test", Spaces),
            ("a@b@c.test", LocalPart),
            ("me@.test", Domain),
            ("a.@x.test", LocalPart),
            (".a@x.test", LocalPart),
            ("a..b@x.test", LocalPart),
            ("\"a b\"@x.test", Spaces),
            ("\"ab\"@x.test", LocalPart),
            ("jürgen@x.test", NonAsciiLocalPart),
            ("me@[127.0.0.1]", Domain),
            ("me@127.0.0.1", Domain),
            ("me@-shop.test", Domain),
            ("me@shop_x.test", Domain),
        ] {
            assert_eq!(
                ContactEmail::parse(bad),
                Err(IntakeError::InvalidContactEmail(why)),
                "{bad}"
            );
        }
        let long = format!("{}@x.test", "a".repeat(250));
        assert_eq!(
            ContactEmail::parse(&long),
            Err(IntakeError::InvalidContactEmail(TooLong))
        );
    }

    #[test]
    fn debug_does_not_print_the_address() {
        let email = ContactEmail::parse("me@shop.test").unwrap();
        assert!(!format!("{email:?}").contains("shop"));
    }
}
