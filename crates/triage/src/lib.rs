//! Triage: name the broken handoff, choose the next action, explain why.
//!
//! The second pure stage of handoff-gate's pipeline
//! (`intake → scrub → triage → store → deliver`): it depends on the
//! scrubber and the intake types, and on no I/O of any kind.
//!
//! A [`Triager`] reads a [`ScrubbedIntake`] (so it only ever sees scrubbed
//! text) and returns a [`Triage`]. The [`Rules`] (one embedded TOML file,
//! [`DEFAULT_RULES`]) find tools, handoff vocabularies and the rubric's
//! signals; a router decides the route and the handoffs from them:
//!
//! * the trained router (the default): a linear [`Model`] over hashed word
//!   n-grams and the rubric signals, under the rubric's bright lines
//!   (prompt injection, guarantees, free or instant fixes, account access
//!   through a public comment, spam and service offers are always `no_fit`);
//! * the keyword router ([`Triager::rules_only`]): the rubric's precedence
//!   over the rules' terms alone.
//!
//! Every decision comes with [`Reason`]s: the model's probability and the
//! words of the scrubbed text that pushed it, the rubric signals that fired
//! and, for an override, the rule. The privacy decision is exact: it comes
//! from the scrubber's findings, never from the model.
//!
//! ```
//! use handoff_intake::ScrubbedIntake;
//! use handoff_scrub::Policy;
//! use handoff_triage::{Handoff, Privacy, Route, Triager};
//!
//! let comment = ScrubbedIntake::comment(
//!     "stripe->kajabi paid buyers locked out since the launch 😭 email me at jo@mybiz.test",
//!     &Policy::default(),
//! ).unwrap();
//! let out = Triager::default().triage(&comment);
//! assert_eq!(out.route, Route::SystemsAudit);
//! assert_eq!(out.handoffs, [Handoff::PaymentToAccess]);
//! assert_eq!(out.privacy, Privacy::Redact);
//! assert!(out.hide && !out.reply.unwrap().contains("jo@"));
//! ```

mod decide;
mod evidence;
mod features;
mod model;
mod normalise;
mod reason;
mod record;
mod reply;
mod router;
mod rule_router;
mod rules;

use serde::{Deserialize, Serialize};
use strum::VariantArray;

pub use features::{FeatureSettings, FeatureVector, Features};
pub use model::{DEFAULT_MODEL, Model, ModelError, OUTPUTS, Provenance};
pub use normalise::Normaliser;
pub use reason::{About, Cause, Reason, Signal, Term};
pub use record::{RECORD_SHAPE, triage_record};
pub use rules::{DEFAULT_RULES, Role, Rules, RulesError};

use std::sync::{Arc, LazyLock};

use evidence::Observation;
use handoff_intake::{IntakeField, ScrubbedIntake};
use router::{ModelRouter, Router};
use rule_router::RuleRouter;

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

/// The outcome of triage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Triage {
    /// The next action.
    pub route: Route,
    /// The route's probability under the model, 0 to 1 (1 when a rule decided).
    pub confidence: f32,
    /// The confidence is below the configured review threshold: a person
    /// should check the route.
    pub needs_review: bool,
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

/// Below this route probability a triage is flagged `needs_review`, unless
/// configured otherwise.
pub const DEFAULT_REVIEW_BELOW: f32 = 0.6;

/// The rules and a router, ready to triage. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Triager {
    rules: Rules,
    router: Arc<dyn Router>,
    review_below: f32,
}

static DEFAULT_ROUTER: LazyLock<Arc<dyn Router>> = LazyLock::new(|| {
    let model = Model::from_bytes("embedded default model", DEFAULT_MODEL)
        .expect("the embedded model reads (checked by tests)");
    Arc::new(ModelRouter { model })
});

impl Default for Triager {
    /// The embedded rules and the embedded model, each read once per process.
    fn default() -> Self {
        Triager {
            rules: Rules::default(),
            router: DEFAULT_ROUTER.clone(),
            review_below: DEFAULT_REVIEW_BELOW,
        }
    }
}

impl Triager {
    /// The trained router: `model` under the bright lines of `rules`.
    pub fn with_model(rules: Rules, model: Model) -> Self {
        Triager {
            rules,
            router: Arc::new(ModelRouter { model }),
            review_below: DEFAULT_REVIEW_BELOW,
        }
    }

    /// The embedded model under the bright lines of `rules`.
    pub fn with_rules(rules: Rules) -> Self {
        Triager {
            rules,
            ..Triager::default()
        }
    }

    /// The keyword router: the rubric's precedence over the rules' terms, no model.
    pub fn rules_only(rules: Rules) -> Self {
        Triager {
            rules,
            router: Arc::new(RuleRouter),
            review_below: DEFAULT_REVIEW_BELOW,
        }
    }

    /// Flag `needs_review` below this route probability (0 flags nothing).
    pub fn review_below(mut self, threshold: f32) -> Self {
        self.review_below = threshold;
        self
    }

    /// The rules: tool names, handoff labels, route texts.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The trained model it routes with (`None` for the keyword rules).
    pub fn model(&self) -> Option<&Model> {
        self.router.model()
    }

    /// Triage one scrubbed submission. Pure: no I/O, no state.
    pub fn triage(&self, intake: &ScrubbedIntake) -> Triage {
        let obs = Observation::new(&self.rules.0, intake);
        let routing = self.router.route(&obs);
        decide::assemble(&obs, routing, self.review_below)
    }

    /// The model's features of one submission under `settings`: what
    /// `handoff-gate train` fits a model on.
    pub fn features(&self, intake: &ScrubbedIntake, settings: &FeatureSettings) -> Features {
        settings.features(&Observation::new(&self.rules.0, intake))
    }
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
