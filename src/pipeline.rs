//! The one pipeline every channel runs: parse the intake, scrub it, triage
//! it. The web handlers, the JSON API and the batch commands all hold a
//! [`Pipeline`], built once from the same [`Sources`] (the configuration's
//! `scrub.detectors`, `triage.rules`, `triage.extend_rules`, `triage.model`
//! and `triage.review_below`, or the matching command-line flags), so
//! `serve`, `redact` and `triage` decide alike.
//!
//! ```
//! use handoff_gate::pipeline::{Pipeline, Sources};
//! use handoff_intake::{Channel, Intake};
//!
//! let pipeline = Pipeline::load(&Sources::default()).unwrap();
//! let intake = Intake::from_json(serde_json::json!({
//!     "message": "Stripe paid but Kajabi never unlocks; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
//! })).unwrap();
//! let reviewed = pipeline.review(intake, Channel::Form).unwrap();
//! assert!(reviewed.intake.field_text("message").unwrap().as_str().contains("[API_KEY]"));
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_intake::{Channel, Intake, IntakeError, Rejection, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::{Model, Rules, Triage, Triager, triage_record};
use serde_json::{Map, Value};

/// Where the pipeline's rules come from; `None` takes the embedded default.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Extra detectors (same shape as the embedded table).
    pub detectors: Option<PathBuf>,
    /// Triage rules that replace the embedded ones.
    pub rules: Option<PathBuf>,
    /// Additions to the embedded triage rules.
    pub extend_rules: Option<PathBuf>,
    /// A router model file written by `handoff-gate train`.
    pub model: Option<PathBuf>,
    /// Flag `needs_review` below this route probability (default
    /// [`handoff_triage::DEFAULT_REVIEW_BELOW`]).
    pub review_below: Option<f32>,
    /// Route by the keyword rules alone, without a model.
    pub keyword_rules: bool,
}

/// Why the pipeline could not be built. Messages name the file and, for
/// TOML, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A rules file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The detector file is wrong.
    #[error(transparent)]
    Detectors(#[from] handoff_scrub::RulesError),
    /// The triage rules file is wrong.
    #[error(transparent)]
    Rules(#[from] handoff_triage::RulesError),
    /// The router model file is not one this build reads.
    #[error(transparent)]
    Model(#[from] handoff_triage::ModelError),
    /// Both replacing and extending the triage rules were asked for.
    #[error("triage.rules and triage.extend_rules exclude each other: give one")]
    RulesTwice,
}

/// A submission that went through: its scrubbed form, its triage, and how
/// long each stage took (for the metrics).
#[derive(Debug)]
pub struct Reviewed {
    /// The scrubbed intake.
    pub intake: ScrubbedIntake,
    /// The triage decision.
    pub triage: Triage,
    /// Time spent scrubbing.
    pub scrub_time: Duration,
    /// Time spent triaging.
    pub triage_time: Duration,
}

/// The scrubber's policy, the triage rules and the router, built once.
#[derive(Clone)]
pub struct Pipeline {
    policy: Policy,
    rules: Arc<Rules>,
    triager: Triager,
}

impl Pipeline {
    /// Build from files (or the embedded defaults where none is given).
    pub fn load(sources: &Sources) -> Result<Self, PipelineError> {
        // The policy (mostly compiling the detectors' regexes) and the
        // triage rules and model do not depend on each other: side by side.
        let (policy, triage) = std::thread::scope(|scope| {
            let triage = scope.spawn(|| Self::load_triage(sources));
            let policy = Self::load_policy(sources.detectors.as_deref());
            (policy, triage.join())
        });
        let policy = policy?;
        let (rules, triager) = triage.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(Pipeline {
            policy,
            rules: Arc::new(rules),
            triager,
        })
    }

    /// The triage rules and the triager built on them.
    fn load_triage(sources: &Sources) -> Result<(Rules, Triager), PipelineError> {
        let rules = match (&sources.rules, &sources.extend_rules) {
            (Some(_), Some(_)) => return Err(PipelineError::RulesTwice),
            (Some(path), None) => {
                let (origin, text) = read(path)?;
                Rules::from_toml(&origin, &text)?
            }
            (None, Some(path)) => {
                let (origin, text) = read(path)?;
                Rules::extend_default(&origin, &text)?
            }
            (None, None) => Rules::default(),
        };
        let triager = match (&sources.model, sources.keyword_rules) {
            (_, true) => Triager::rules_only(rules.clone()),
            (None, false) => Triager::with_rules(rules.clone()),
            (Some(path), false) => {
                let origin = path.display().to_string();
                let bytes = std::fs::read(path).map_err(|source| PipelineError::Read {
                    path: origin.clone(),
                    source,
                })?;
                Triager::with_model(rules.clone(), Model::from_bytes(&origin, &bytes)?)
            }
        }
        .review_below(
            sources
                .review_below
                .unwrap_or(handoff_triage::DEFAULT_REVIEW_BELOW),
        );
        Ok((rules, triager))
    }

    /// Only the scrubber's policy, from a detectors file or the embedded
    /// default: what `redact` needs, without compiling the triage rules.
    pub fn load_policy(detectors: Option<&std::path::Path>) -> Result<Policy, PipelineError> {
        Ok(match detectors {
            None => Policy::default(),
            Some(path) => {
                let (origin, text) = read(path)?;
                Policy::default().with_extra_detectors(&origin, &text)?
            }
        })
    }

    /// The scrubber's policy (for text that is only scrubbed, not triaged).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The triage rules (reply texts, route descriptions), shared with the
    /// outbox that words the emails.
    pub fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    /// The router model triage runs (`None` when routing by keyword rules).
    pub fn model(&self) -> Option<&Model> {
        self.triager.model()
    }

    /// Scrub and check a submission, then triage it; a submission that
    /// cannot be accepted comes back as the [`Rejection`] to show the person.
    pub fn review(&self, intake: Intake, channel: Channel) -> Result<Reviewed, Rejection> {
        let scrubbing = Instant::now();
        let intake = ScrubbedIntake::review(intake, channel, &self.policy)?;
        Ok(self.triaged(intake, scrubbing.elapsed()))
    }

    /// Scrub and triage a bare comment.
    pub fn comment(&self, text: &str) -> Result<Reviewed, IntakeError> {
        let scrubbing = Instant::now();
        let intake = ScrubbedIntake::comment(text, &self.policy)?;
        Ok(self.triaged(intake, scrubbing.elapsed()))
    }

    /// Scrub and triage one batch record (`{"id", "channel", "input"}`), as
    /// `handoff-gate triage --jsonl` and `POST /api/v1/triage` take them.
    pub fn record(&self, object: Map<String, Value>) -> Result<(Value, Triage), String> {
        triage_record(object, &self.policy, &self.triager)
    }

    fn triaged(&self, intake: ScrubbedIntake, scrub_time: Duration) -> Reviewed {
        let triaging = Instant::now();
        let triage = self.triager.triage(&intake);
        Reviewed {
            intake,
            triage,
            scrub_time,
            triage_time: triaging.elapsed(),
        }
    }
}

/// A file's name for messages and its text.
fn read(path: &Path) -> Result<(String, String), PipelineError> {
    let origin = path.display().to_string();
    std::fs::read_to_string(path)
        .map(|text| (origin.clone(), text))
        .map_err(|source| PipelineError::Read {
            path: origin,
            source,
        })
}
