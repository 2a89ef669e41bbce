//! Domain types of a submission: the rubric's safe intake fields, the
//! submitter's contact address, and the channel a question came through.
//!
//! The parse step of handoff-gate's pipeline
//! (`intake → scrub → triage → store → deliver`): raw input is parsed here
//! and leaves only as scrubbed text. Pure: no I/O.
//!
//! Raw input arrives as an [`Intake`] (deserialized with unknown fields
//! refused) or as a bare comment. [`ScrubbedIntake`] is the only form later
//! stages accept, and the only way to make one is to run every free-text
//! field through [`scrub`](handoff_scrub::scrub).
//!
//! ```
//! use handoff_intake::{Channel, Intake, ScrubbedIntake};
//! use handoff_scrub::Policy;
//!
//! let raw = Intake::from_json(serde_json::json!({
//!     "message": "Typeform submits but the GHL tag is never added for jane@acme.test",
//!     "contact_email": "me@mybiz.test",
//! })).unwrap();
//! let intake = ScrubbedIntake::from_intake(raw, Channel::Form, &Policy::default()).unwrap();
//! assert!(intake.field_text("message").unwrap().as_str().contains("[EMAIL]"));
//! assert_eq!(intake.contact_email().unwrap().as_str(), "me@mybiz.test");
//! ```

mod blank;
mod contact;
mod fields;

pub use blank::is_blank;
pub use contact::{ContactEmail, ContactProblem};
pub use fields::printable_name;
pub use fields::{
    CONTACT_FIELD_NAMES, FIELD_NAMES, Intake, IntakeField, Rejection, ScrubbedField, ScrubbedIntake,
};

use serde::{Deserialize, Serialize};

/// Where a question came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    /// The contact-page form (or the JSON API with form fields).
    Form,
    /// A public comment under a short video.
    Comment,
}

impl Channel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a submission could not be turned into an intake. Messages never
/// quote the submitted values: they may be exactly the secrets to keep out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The input is not a JSON object.
    #[error("the intake must be a JSON object of safe intake fields")]
    NotAnObject,
    /// A field name outside the safe intake fields.
    #[error("unknown field {0}; the safe intake fields are: {list}", list = FIELD_NAMES.join(", "))]
    UnknownField(String),
    /// A field holds the wrong JSON type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field name.
        field: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
    /// `message` is absent, blank, or only invisible characters.
    #[error("the `message` field is required and must hold visible text")]
    MissingMessage,
    /// `contact_email` is not a deliverable address.
    #[error("`contact_email` is not a deliverable email address: {0}")]
    InvalidContactEmail(ContactProblem),
}
