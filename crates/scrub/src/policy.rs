//! What to do with each kind of finding, and which detectors to run.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use super::engine::{DetectorSet, RulesError, parse_table};
use super::kind::FindingKind;
use super::recognize::{Origin, Recognizer, Source};
use super::table::DEFAULT_TABLE;
use super::tagger::Tagger;

/// What happens to a submission in which a kind is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace the value with its placeholder and go on.
    Redact,
    /// Replace the value, and refuse the submission as a whole.
    Reject,
}

/// Per-kind actions and placeholders plus the recognizers: the compiled
/// detector table and any others added with [`Policy::with_recognizer`].
/// Cheap to clone: the recognizers are shared.
#[derive(Debug, Clone)]
pub struct Policy {
    detectors: Arc<DetectorSet>,
    /// Recognizers besides the table, in the order they were added.
    others: Vec<Arc<dyn Recognizer>>,
    actions: BTreeMap<FindingKind, Action>,
    placeholders: BTreeMap<FindingKind, String>,
}

static DEFAULT_DETECTORS: LazyLock<Arc<DetectorSet>> = LazyLock::new(|| {
    let table = parse_table("embedded default", DEFAULT_TABLE)
        .expect("the embedded detector table parses (checked by tests)");
    Arc::new(
        DetectorSet::compile("embedded default", table.detectors)
            .expect("the embedded detector table compiles (checked by tests)"),
    )
});

impl Default for Policy {
    /// The embedded detector table and the embedded name/address/birth-date
    /// [`Tagger`]; `account_export` rejects, everything else redacts.
    fn default() -> Self {
        Policy::rules_only().with_recognizer(Tagger::embedded())
    }
}

impl Policy {
    /// The embedded detector table alone, without the tagger: the default
    /// policy as it was before the tagger, for comparison.
    pub fn rules_only() -> Self {
        let mut actions: BTreeMap<FindingKind, Action> = FindingKind::ALL
            .iter()
            .copied()
            .map(|k| (k, Action::Redact))
            .collect();
        actions.insert(FindingKind::AccountExport, Action::Reject);
        Policy {
            detectors: Arc::clone(&DEFAULT_DETECTORS),
            others: Vec::new(),
            actions,
            placeholders: FindingKind::ALL
                .iter()
                .copied()
                .map(|k| (k, k.default_placeholder()))
                .collect(),
        }
    }
}

impl Policy {
    /// The default table extended by `extra` (TOML of the same shape; a row
    /// reusing an id replaces the default row). `origin` names it in errors.
    pub fn with_extra_detectors(self, origin: &str, extra: &str) -> Result<Self, RulesError> {
        let mut rows = parse_table("embedded default", DEFAULT_TABLE)?.detectors;
        rows.extend(parse_table(origin, extra)?.detectors);
        Ok(Policy {
            detectors: Arc::new(DetectorSet::compile(origin, rows)?),
            ..self
        })
    }

    /// Add a recognizer, built beforehand with everything it needs (a model
    /// loaded, say): `scrub` runs it after the detector table, and its
    /// candidates go through the same merge and placeholder stage.
    pub fn with_recognizer(mut self, recognizer: Arc<dyn Recognizer>) -> Self {
        self.others.push(recognizer);
        self
    }

    /// Set the action for one kind.
    pub fn with_action(mut self, kind: FindingKind, action: Action) -> Self {
        self.actions.insert(kind, action);
        self
    }

    /// Set the placeholder for one kind. It must look like `[UPPER_CASE]` so
    /// that scrubbed text scrubs to itself.
    pub fn with_placeholder(
        mut self,
        kind: FindingKind,
        placeholder: &str,
    ) -> Result<Self, String> {
        if super::engine::placeholder_len(placeholder) != Some(placeholder.len()) {
            return Err(format!(
                "placeholder `{placeholder}` for {kind} must be 2 to 32 upper-case letters and _ in brackets, starting with a letter, like [API_KEY]"
            ));
        }
        self.placeholders.insert(kind, placeholder.to_owned());
        Ok(self)
    }

    /// The action for a kind.
    pub fn action(&self, kind: FindingKind) -> Action {
        self.actions.get(&kind).copied().unwrap_or(Action::Redact)
    }

    /// The placeholder for a kind.
    pub fn placeholder(&self, kind: FindingKind) -> &str {
        self.placeholders
            .get(&kind)
            .map(String::as_str)
            .unwrap_or("[PRIVATE]")
    }

    /// The compiled detectors.
    pub fn detectors(&self) -> &DetectorSet {
        &self.detectors
    }

    /// Every recognizer, the detector table first.
    pub fn recognizers(&self) -> impl Iterator<Item = &dyn Recognizer> {
        std::iter::once(&*self.detectors as &dyn Recognizer)
            .chain(self.others.iter().map(|r| &**r as &dyn Recognizer))
    }

    /// What a finding says about who found it.
    pub(crate) fn source(&self, origin: Origin) -> Source {
        match origin {
            Origin::Detector(index) => match self.detectors.detectors().get(index) {
                Some(detector) => Source::Detector {
                    id: Arc::clone(&detector.id),
                },
                None => Source::Detector {
                    id: Arc::from("unknown"),
                },
            },
            Origin::ExportRows => Source::ExportRows,
            Origin::Recognizer { name, rule } => Source::Recognizer { name, rule },
        }
    }
}
