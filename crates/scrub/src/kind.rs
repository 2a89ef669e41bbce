//! The vocabulary of private data the scrubber knows about.

use serde::{Deserialize, Serialize};
use strum::VariantArray;

/// One kind of private value. The names are the stable wire names used in
/// JSON output, the detector table and configuration: the variant names in
/// `snake_case`, for serde and strum alike (`Display`, `FromStr`, `as_str`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = UnknownKind, parse_err_fn = UnknownKind::new)]
pub enum FindingKind {
    /// An email address of someone other than the submitter.
    Email,
    /// A telephone number, national or international.
    Phone,
    /// Another person's name.
    Person,
    /// A street address or a postcode given in context.
    Address,
    /// A date of birth.
    Dob,
    /// A US Social Security number or another national identifier.
    Ssn,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A payment card number (Luhn-valid).
    Card,
    /// A card security code (CVV/CVC) or expiry given in context.
    Cvv,
    /// An international bank account number (mod-97 valid).
    Iban,
    /// A bank account or routing number given in context.
    BankAccount,
    /// An API key or access token.
    ApiKey,
    /// A private key block (PEM, PGP, age …).
    PrivateKey,
    /// A JSON Web Token.
    Jwt,
    /// A password given in context.
    Password,
    /// A URL carrying a user name and password (`scheme://user:pass@host`).
    AuthUrl,
    /// A URL that carries its own secret (Slack/Zapier/Make hooks, `token=` parameters).
    WebhookUrl,
    /// Inline image data (`data:image/…;base64,…`) or a long base64 blob.
    ImageData,
    /// A link to a screenshot or image host, or a direct image file URL.
    ScreenshotLink,
    /// A pasted table or list of three or more customer records.
    AccountExport,
}

/// The broad family a kind belongs to; used for user-facing advice
/// ("rotate that key now" is said for credentials only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Keys, tokens, passwords and URLs that grant access.
    Credential,
    /// Card and bank data.
    Payment,
    /// Data about a person.
    Personal,
    /// Pasted or linked images.
    Screenshot,
    /// Bulk customer data.
    Export,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [FindingKind] = Self::VARIANTS;

    /// The wire name, e.g. `api_key`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The default placeholder, e.g. `[API_KEY]`.
    pub fn default_placeholder(self) -> String {
        format!("[{}]", self.as_str().to_ascii_uppercase())
    }

    /// The family this kind belongs to.
    pub fn category(self) -> Category {
        match self {
            FindingKind::ApiKey
            | FindingKind::Jwt
            | FindingKind::PrivateKey
            | FindingKind::Password
            | FindingKind::AuthUrl
            | FindingKind::WebhookUrl => Category::Credential,
            FindingKind::Card | FindingKind::Cvv | FindingKind::Iban | FindingKind::BankAccount => {
                Category::Payment
            }
            FindingKind::Email
            | FindingKind::Phone
            | FindingKind::Person
            | FindingKind::Address
            | FindingKind::Dob
            | FindingKind::Ssn
            | FindingKind::Ip => Category::Personal,
            FindingKind::ImageData | FindingKind::ScreenshotLink => Category::Screenshot,
            FindingKind::AccountExport => Category::Export,
        }
    }

    /// A short plain-language description, for people told what was removed.
    pub fn describe(self) -> &'static str {
        match self {
            FindingKind::Email => "an email address",
            FindingKind::Phone => "a phone number",
            FindingKind::Person => "a person's name",
            FindingKind::Address => "a street address",
            FindingKind::Dob => "a date of birth",
            FindingKind::Ssn => "a national ID number",
            FindingKind::Ip => "an IP address",
            FindingKind::Card => "a payment card number",
            FindingKind::Cvv => "a card security code or expiry",
            FindingKind::Iban => "an IBAN",
            FindingKind::BankAccount => "a bank account or routing number",
            FindingKind::ApiKey => "an API key or access token",
            FindingKind::PrivateKey => "a private key",
            FindingKind::Jwt => "a login token (JWT)",
            FindingKind::Password => "a password",
            FindingKind::AuthUrl => "a URL with a user name and password",
            FindingKind::WebhookUrl => "a webhook URL that carries its own secret",
            FindingKind::ImageData => "pasted image data",
            FindingKind::ScreenshotLink => "a screenshot or image link",
            FindingKind::AccountExport => "a pasted list of customer records",
        }
    }
}

/// The error for a kind name that is not in the vocabulary.
#[derive(Debug, thiserror::Error)]
#[error("unknown kind `{0}`; expected one of: {list}", list = FindingKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownKind(pub String);

impl UnknownKind {
    fn new(name: &str) -> Self {
        UnknownKind(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_lists_the_vocabulary() {
        let err = "apikey".parse::<FindingKind>().unwrap_err().to_string();
        assert!(err.contains("api_key"), "{err}");
    }
}
