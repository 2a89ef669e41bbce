//! Triage: name the broken handoff, choose the next action, explain why.
//!
//! The second pure stage of handoff-gate's pipeline
//! (`intake → scrub → triage → store → deliver`): it depends on the
//! scrubber and the intake types, and on no I/O of any kind.
//!
//! [`triage`] is pure: it reads a [`ScrubbedIntake`] (so it only ever sees
//! scrubbed text) and the [`Rules`], and returns a [`Triage`]. Every decision
//! comes with [`Reason`]s that quote the rules' terms it found and the field
//! they were found in, never the person's text.
//!
//! The rules are data: one embedded TOML file ([`DEFAULT_RULES`]) holds the
//! tool names, handoff vocabularies, route signals, weights and reply texts.
//!
//! ```
//! use handoff_intake::ScrubbedIntake;
//! use handoff_scrub::Policy;
//! use handoff_triage::{triage, Handoff, Privacy, Route, Rules};
//!
//! let comment = ScrubbedIntake::comment(
//!     "stripe->kajabi paid buyers locked out since the launch 😭 email me at jo@mybiz.test",
//!     &Policy::default(),
//! ).unwrap();
//! let out = triage(&comment, &Rules::default());
//! assert_eq!(out.route, Route::SystemsAudit);
//! assert_eq!(out.handoffs, [Handoff::PaymentToAccess]);
//! assert_eq!(out.privacy, Privacy::Redact);
//! assert!(out.hide && !out.reply.unwrap().contains("jo@"));
//! ```

mod decide;
mod evidence;
mod normalise;
mod record;
mod reply;
mod rules;

use std::fmt;

use serde::{Deserialize, Serialize};
use strum::VariantArray;

pub use normalise::Normaliser;
pub use record::{RECORD_SHAPE, triage_record};
pub use rules::{DEFAULT_RULES, Role, Rules, RulesError};

use handoff_intake::{IntakeField, ScrubbedIntake};

/// The next action, exactly one per submission, checked in this order.
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
pub enum Route {
    /// Not a safe or real fit (guarantees, free fixes, prompt injection,
    /// account access from a public thread, spam, off-topic).
    NoFit,
    /// Several tools or handoffs, live customers affected, a repeat failure,
    /// or a path nobody can explain.
    SystemsAudit,
    /// One specific failure at one handoff, two tools at most.
    Repair,
    /// One unclear handoff to check before it goes live.
    Checklist,
    /// Still learning, or too vague to act on.
    Nurture,
}

impl Route {
    /// Every route, in precedence order (the declaration order).
    pub const ALL: &'static [Route] = Self::VARIANTS;

    /// The wire name, e.g. `systems_audit`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A step where one system hands a contact to the next.
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
pub enum Handoff {
    /// A form, landing page, opt-in, quiz or checkout creates or updates the contact.
    FormToCrm,
    /// The CRM starts nurture email, SMS, tasks or a sequence.
    CrmToFollowup,
    /// A payment, invoice or subscription grants access.
    PaymentToAccess,
    /// A booking moves an opportunity, stage, owner or task.
    BookingToPipeline,
    /// Reports show which step worked or failed.
    ReportingToDecision,
}

impl Handoff {
    /// Every handoff, in path order (the declaration order).
    pub const ALL: &'static [Handoff] = Self::VARIANTS;

    /// The wire name, e.g. `payment_to_access`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What happens to the private data in a submission.
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
pub enum Privacy {
    /// A file was attached or an export pasted: nothing is stored.
    Reject,
    /// Private values were replaced by placeholders.
    Redact,
    /// Nothing private was found.
    Clean,
}

impl Privacy {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The evidence behind one decision, in plain language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The decision it explains: `route repair`, `handoff form_to_crm`, `tools`, `privacy redact`.
    pub about: String,
    /// Why: the rules' terms found and the fields they were found in.
    pub because: String,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.about, self.because)
    }
}

/// The outcome of triage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Triage {
    /// The next action.
    pub route: Route,
    /// The handoffs that broke or are in question, the strongest first.
    pub handoffs: Vec<Handoff>,
    /// What happens to private data.
    pub privacy: Privacy,
    /// The tools named, by canonical name, in order of appearance.
    pub tools: Vec<String>,
    /// The evidence behind each decision.
    pub reasons: Vec<Reason>,
    /// The safe intake fields that would help most for this route and were not given.
    pub missing_fields: Vec<IntakeField>,
    /// For a comment: the public answer. It never quotes the comment.
    pub reply: Option<String>,
    /// For a comment: hold it for review because it held private data.
    pub hide: bool,
}

/// Triage one scrubbed submission. Pure: no I/O, no state.
pub fn triage(intake: &ScrubbedIntake, rules: &Rules) -> Triage {
    decide::decide(&rules.0, intake)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rules_compile() {
        let rules = Rules::from_toml("embedded default", DEFAULT_RULES).unwrap();
        assert!(rules.tool_count() >= 45 && rules.term_count() > 500);
    }

    #[test]
    fn toml_errors_give_line_and_column() {
        let broken =
            DEFAULT_RULES.replacen("audit_min_tools = 3", "audit_min_tools = \"three\"", 1);
        let err = Rules::from_toml("mine.toml", &broken)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.toml: TOML parse error at line"),
            "{err}"
        );
        assert!(err.contains("column"), "{err}");
    }
}
