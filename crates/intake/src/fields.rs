//! The safe intake fields, raw and scrubbed.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use strum::VariantArray;

use super::{Channel, ContactEmail, IntakeError, is_blank};
use handoff_scrub::{CleanText, FindingKind, Policy, Verdict, scrub};

/// A submission as it arrives, before anything is checked or scrubbed.
/// Field names are the rubric's safe intake fields; any other is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"message": "Typeform submits but HubSpot never gets the lead source", "affected_tools": "Typeform, HubSpot", "contact_email": "me@mybiz.example", "consent": true})))]
pub struct Intake {
    /// The question in the person's own words (required).
    pub message: String,
    /// Where the path starts: page, form, booking path, checkout, UTM, offer.
    pub source_path: Option<String>,
    /// The tools that touch the contact.
    pub affected_tools: Option<String>,
    /// What should happen next.
    pub expected_next_step: Option<String>,
    /// Where it actually stops.
    pub actual_stopping_point: Option<String>,
    /// Lead, booked call, paid customer, member, inactive.
    pub customer_state: Option<String>,
    /// The CRM field, tag, list or stage expected.
    pub field_or_tag_expectation: Option<String>,
    /// Booking or payment status.
    pub booking_or_payment_status: Option<String>,
    /// Course, membership or delivery access expected.
    pub access_expectation: Option<String>,
    /// What follow-up has or has not started.
    pub followup_state: Option<String>,
    /// What report should prove it worked.
    pub reporting_need: Option<String>,
    /// What is at risk while it stays broken.
    pub business_risk: Option<String>,
    /// When it must work.
    pub deadline: Option<String>,
    /// How they will test it.
    pub testing_expectation: Option<String>,
    /// An example with private details removed.
    pub redacted_example: Option<String>,
    /// The submitter's own reply address.
    pub contact_email: Option<String>,
    /// Whether the submitter agrees to be contacted at that address.
    pub consent: Option<bool>,
    /// The name of a file the person tried to attach.
    pub attachment: Option<String>,
}

/// The free-text safe intake fields, each scrubbed before triage sees it.
/// The wire names are the variant names in `snake_case`, for serde and
/// strum alike.
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IntakeField {
    /// `message`
    Message,
    /// `source_path`
    SourcePath,
    /// `affected_tools`
    AffectedTools,
    /// `expected_next_step`
    ExpectedNextStep,
    /// `actual_stopping_point`
    ActualStoppingPoint,
    /// `customer_state`
    CustomerState,
    /// `field_or_tag_expectation`
    FieldOrTagExpectation,
    /// `booking_or_payment_status`
    BookingOrPaymentStatus,
    /// `access_expectation`
    AccessExpectation,
    /// `followup_state`
    FollowupState,
    /// `reporting_need`
    ReportingNeed,
    /// `business_risk`
    BusinessRisk,
    /// `deadline`
    Deadline,
    /// `testing_expectation`
    TestingExpectation,
    /// `redacted_example`
    RedactedExample,
}

impl IntakeField {
    /// Every free-text field, in form order (the declaration order).
    pub const ALL: &'static [IntakeField] = Self::VARIANTS;

    /// The wire name, e.g. `actual_stopping_point`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A short human label, for the form and the email.
    pub fn label(self) -> &'static str {
        FIELD_TEXTS[self as usize].0
    }

    /// The label as the consultant reads it, about the sender: "Their
    /// question" where the form says "Your question".
    pub fn reader_label(self) -> &'static str {
        match self {
            IntakeField::Message => "Their question",
            IntakeField::TestingExpectation => "How they will test it",
            IntakeField::RedactedExample => "Their example, private details removed",
            other => other.label(),
        }
    }

    /// Help text shown under the form input: what the person tells there.
    pub fn help(self) -> &'static str {
        FIELD_TEXTS[self as usize].1
    }

    /// The field with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}

/// Label and help text of each free-text field, in [`IntakeField`] order.
const FIELD_TEXTS: [(&str, &str); 15] = [
    (
        "Your question",
        "In your own words: what should happen, and what happens instead.",
    ),
    (
        "Where the path starts",
        "The public page, form, booking link, checkout, UTM or offer where it starts.",
    ),
    (
        "Tools involved",
        "The tools that touch the contact, e.g. Typeform, HubSpot, Zapier, Stripe.",
    ),
    (
        "What should happen next",
        "The step you expect after the contact moves on.",
    ),
    (
        "Where it actually stops",
        "The last step that works, and what happens instead.",
    ),
    (
        "Who is affected",
        "Lead, booked call, paid customer, member or inactive contact.",
    ),
    (
        "Field, tag or stage expected",
        "The CRM field, tag, list or pipeline stage that should be set.",
    ),
    (
        "Booking or payment status",
        "If relevant: booked, paid, refunded, failed …",
    ),
    (
        "Access expected",
        "If relevant: the course, membership or delivery they should get.",
    ),
    ("Follow-up so far", "What follow-up has or has not started."),
    (
        "Report that would prove it works",
        "The number or report that should show it worked.",
    ),
    ("What is at risk", "What it costs while it stays broken."),
    ("Deadline", "When it must work."),
    (
        "How you will test it",
        "How you will check the fix, e.g. with a test contact.",
    ),
    (
        "An example, private details removed",
        "One example run, with names, emails, phones and keys left out.",
    ),
];

/// The safe intake fields that are not free text: the reply address, the
/// consent to use it, and the name of a file the person tried to attach.
pub const CONTACT_FIELD_NAMES: [&str; 3] = ["contact_email", "consent", "attachment"];

/// Every safe intake field name: the free-text fields in [`IntakeField`]
/// order, then [`CONTACT_FIELD_NAMES`].
pub static FIELD_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    IntakeField::ALL
        .iter()
        .map(|field| field.as_str())
        .chain(CONTACT_FIELD_NAMES)
        .collect()
});

impl Intake {
    /// Parse a JSON object of safe intake fields. Errors name the field at
    /// fault but never quote a submitted value.
    pub fn from_json(value: Value) -> Result<Self, IntakeError> {
        let Value::Object(object) = &value else {
            return Err(IntakeError::NotAnObject);
        };
        for (name, field_value) in object {
            let Some(field) = FIELD_NAMES.iter().copied().find(|f| f == name) else {
                return Err(IntakeError::UnknownField(printable_name(name)));
            };
            let (fits, expected) = match field {
                "consent" => (field_value.is_boolean(), "true or false"),
                _ => (field_value.is_string(), "a string"),
            };
            if !fits && !field_value.is_null() {
                return Err(IntakeError::WrongType { field, expected });
            }
        }
        if !object.get("message").is_some_and(Value::is_string) {
            return Err(IntakeError::MissingMessage);
        }
        serde_json::from_value(value).map_err(|_| IntakeError::NotAnObject)
    }
}

/// A field name fit to repeat: a short identifier, else a neutral phrase
/// (a "name" can be a pasted secret too).
pub fn printable_name(name: &str) -> String {
    let identifier = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    // A snake_case key can still be a token (`npm_…`, `sk_live_…`): the
    // scrubber has the last word on what may be shown.
    if identifier && scrub(name, &Policy::default()).findings().is_empty() {
        format!("`{name}`")
    } else {
        "(name not shown)".to_owned()
    }
}

/// A submission that cannot be accepted as it is. Nothing of it is stored.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The scrubbed free-text fields, to show back to the person.
    pub fields: Vec<ScrubbedField>,
    /// What to fix, by field name (`message`, `contact_email`, `consent`, …).
    pub problems: BTreeMap<&'static str, String>,
}

impl Rejection {
    /// Whether it was rejected for what it holds (a file, an export) rather
    /// than for a field to correct.
    pub fn for_what_it_holds(&self) -> bool {
        self.problems.contains_key("attachment") || self.fields.iter().any(|f| f.rejected)
    }
}

/// One free-text field after scrubbing.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrubbedField {
    /// Which field.
    pub field: IntakeField,
    /// Its scrubbed text.
    pub text: CleanText,
    /// What was removed from it, by kind.
    pub counts: BTreeMap<FindingKind, usize>,
    /// Whether the scrubber rejected it (for example a pasted export).
    pub rejected: bool,
    /// Whether it exposed a credential.
    pub exposed_credentials: bool,
}

/// A submission whose every free-text field has been scrubbed. Made only by
/// [`ScrubbedIntake::from_intake`] or [`ScrubbedIntake::comment`].
#[derive(Debug, Clone)]
pub struct ScrubbedIntake {
    channel: Channel,
    fields: Vec<ScrubbedField>,
    contact_email: Option<ContactEmail>,
    consent: bool,
    attachment: bool,
}

impl ScrubbedIntake {
    /// Scrub every free-text field of `intake`; keep the contact address
    /// apart (validated, not scrubbed); keep only whether a file was attached.
    pub fn from_intake(
        intake: Intake,
        channel: Channel,
        policy: &Policy,
    ) -> Result<Self, IntakeError> {
        if is_blank(&intake.message) {
            return Err(IntakeError::MissingMessage);
        }
        let contact_email = match intake.contact_email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(address) => Some(ContactEmail::parse(address)?),
        };
        Ok(ScrubbedIntake {
            channel,
            contact_email,
            consent: intake.consent.unwrap_or(false),
            attachment: intake.attachment.is_some(),
            fields: scrub_fields(intake, policy),
        })
    }

    /// Scrub a form or API submission and check it as a whole, reporting
    /// every problem by field so the person can fix them all at once. The
    /// rejection carries the scrubbed fields, to show the text back with the
    /// offending parts replaced.
    pub fn review(intake: Intake, channel: Channel, policy: &Policy) -> Result<Self, Rejection> {
        let mut problems = BTreeMap::new();
        let typed = intake
            .contact_email
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let contact_email = match typed.map(ContactEmail::parse) {
            Some(Ok(address)) => Some(address),
            Some(Err(IntakeError::InvalidContactEmail(problem))) => {
                problems.insert(
                    "contact_email",
                    format!("This address can't be answered: {problem}. Correct it, or leave the field empty."),
                );
                None
            }
            Some(Err(_)) | None => None,
        };
        let consent = intake.consent.unwrap_or(false);
        if typed.is_some() && !consent {
            problems.insert(
                "consent",
                "Tick this box so the consultant may answer at your address, or leave the address empty.".to_owned(),
            );
        }
        if is_blank(&intake.message) {
            problems.insert(
                "message",
                if intake.message.trim().is_empty() {
                    "Please describe your question."
                } else {
                    "This holds only invisible characters (such as zero-width spaces): please describe your question in words."
                }
                .to_owned(),
            );
        }
        let attachment = intake.attachment.is_some();
        if attachment {
            problems.insert(
                "attachment",
                "Files and screenshots are not accepted: describe what you see instead, with private details left out.".to_owned(),
            );
        }
        let fields = scrub_fields(intake, policy);
        for field in fields.iter().filter(|f| f.rejected) {
            problems.insert(
                field.field.as_str(),
                "This looks like a pasted list of customer records. Nothing was stored: remove the list and describe one example, with private details left out.".to_owned(),
            );
        }
        if !problems.is_empty() {
            return Err(Rejection { fields, problems });
        }
        Ok(ScrubbedIntake {
            channel,
            fields,
            contact_email,
            consent,
            attachment,
        })
    }

    /// A public comment: its whole text is the message.
    pub fn comment(text: &str, policy: &Policy) -> Result<Self, IntakeError> {
        if is_blank(text) {
            return Err(IntakeError::MissingMessage);
        }
        Ok(ScrubbedIntake {
            channel: Channel::Comment,
            fields: vec![scrub_field(IntakeField::Message, text, policy)],
            contact_email: None,
            consent: false,
            attachment: false,
        })
    }

    /// The channel it came through.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The non-blank free-text fields, in form order.
    pub fn fields(&self) -> &[ScrubbedField] {
        &self.fields
    }

    /// The scrubbed text of one field, by wire name, if given.
    pub fn field_text(&self, name: &str) -> Option<&CleanText> {
        let field = IntakeField::parse(name)?;
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| &f.text)
    }

    /// Whether a free-text field was given.
    pub fn has(&self, field: IntakeField) -> bool {
        self.fields.iter().any(|f| f.field == field)
    }

    /// The submitter's own reply address.
    pub fn contact_email(&self) -> Option<&ContactEmail> {
        self.contact_email.as_ref()
    }

    /// Whether the submitter agreed to be contacted.
    pub fn consent(&self) -> bool {
        self.consent
    }

    /// Whether the person tried to attach a file.
    pub fn attachment(&self) -> bool {
        self.attachment
    }

    /// What was removed across all fields, by kind.
    pub fn counts(&self) -> BTreeMap<FindingKind, usize> {
        let mut total = BTreeMap::new();
        for field in &self.fields {
            for (kind, n) in &field.counts {
                *total.entry(*kind).or_insert(0) += n;
            }
        }
        total
    }

    /// Whether the scrubber rejected any field.
    pub fn rejected(&self) -> bool {
        self.fields.iter().any(|f| f.rejected)
    }

    /// Whether any field exposed a credential.
    pub fn exposed_credentials(&self) -> bool {
        self.fields.iter().any(|f| f.exposed_credentials)
    }
}

/// Every non-blank free-text field of `intake`, scrubbed, in form order.
fn scrub_fields(intake: Intake, policy: &Policy) -> Vec<ScrubbedField> {
    let texts = [
        Some(intake.message),
        intake.source_path,
        intake.affected_tools,
        intake.expected_next_step,
        intake.actual_stopping_point,
        intake.customer_state,
        intake.field_or_tag_expectation,
        intake.booking_or_payment_status,
        intake.access_expectation,
        intake.followup_state,
        intake.reporting_need,
        intake.business_risk,
        intake.deadline,
        intake.testing_expectation,
        intake.redacted_example,
    ];
    IntakeField::ALL
        .iter()
        .copied()
        .zip(texts)
        .filter_map(|(field, text)| text.map(|t| (field, t)))
        .filter(|(_, text)| !is_blank(text))
        .map(|(field, text)| scrub_field(field, &text, policy))
        .collect()
}

fn scrub_field(field: IntakeField, text: &str, policy: &Policy) -> ScrubbedField {
    let out = scrub(text, policy);
    ScrubbedField {
        field,
        counts: out.counts(),
        rejected: matches!(out.verdict(), Verdict::Rejected { .. }),
        exposed_credentials: out.exposed_credentials(),
        text: out.into_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_name_is_one_the_intake_accepts() {
        for name in FIELD_NAMES.iter() {
            let value = if *name == "consent" {
                json!(true)
            } else {
                json!("x")
            };
            let mut object = serde_json::Map::new();
            object.insert("message".to_owned(), json!("x"));
            object.insert((*name).to_owned(), value);
            assert!(Intake::from_json(Value::Object(object)).is_ok(), "{name}");
        }
    }

    #[test]
    fn unknown_fields_are_named_only_when_they_look_like_names() {
        let err = Intake::from_json(json!({"message": "x", "phone": "1"})).unwrap_err();
        assert!(err.to_string().contains("`phone`"), "{err}");
        let err = Intake::from_json(json!({"message": "x", "sk_live_ABC DEF": "1"})).unwrap_err();
        assert!(!err.to_string().contains("sk_live"), "{err}");
        let err =
            Intake::from_json(json!({"message": "x", "sk_live_4ec39hqlyjwdarjtt1zdp7dc": "1"}))
                .unwrap_err();
        assert!(!err.to_string().contains("sk_live"), "{err}");
    }

    #[test]
    fn wrong_types_name_the_field_not_the_value() {
        let err = Intake::from_json(json!({"message": 4242424242424242u64})).unwrap_err();
        assert_eq!(
            err,
            IntakeError::WrongType {
                field: "message",
                expected: "a string"
            }
        );
        assert!(!err.to_string().contains("4242"));
        assert_eq!(
            Intake::from_json(json!({"deadline": "x"})).unwrap_err(),
            IntakeError::MissingMessage
        );
    }

    #[test]
    fn every_free_text_field_is_scrubbed_and_the_contact_address_is_kept() {
        let raw = Intake::from_json(json!({
            "message": "key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "redacted_example": "buyer jane@acme.test",
            "contact_email": "me@mybiz.test",
            "attachment": "export.csv",
        }))
        .unwrap();
        let intake = ScrubbedIntake::from_intake(raw, Channel::Form, &Policy::default()).unwrap();
        assert_eq!(
            intake.field_text("message").unwrap().as_str(),
            "key [API_KEY]"
        );
        assert_eq!(
            intake.field_text("redacted_example").unwrap().as_str(),
            "buyer [EMAIL]"
        );
        assert_eq!(intake.contact_email().unwrap().as_str(), "me@mybiz.test");
        assert!(intake.attachment() && intake.exposed_credentials());
        assert_eq!(intake.counts().values().sum::<usize>(), 2);
    }
}
