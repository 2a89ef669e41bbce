//! The privacy scrubber: find private values in free text and replace them
//! with typed placeholders, or reject the text when replacing is not enough.
//!
//! This crate is the first pure stage of handoff-gate's pipeline
//! (`intake → scrub → triage → store → deliver`). It depends on no web
//! framework, database, async runtime or mailer, so the same code runs in
//! the server, the batch commands and the browser.
//!
//! [`scrub`] is pure: no I/O, no logging, no global state beyond the detector
//! table compiled once. Every channel (form, JSON API, widget, batch CLI)
//! passes text through it before anything else sees it, and everything
//! downstream takes the [`CleanText`] it returns, which no other code can make.
//!
//! ```
//! use handoff_scrub::{scrub, FindingKind, Policy, Verdict};
//!
//! let policy = Policy::default();
//! let out = scrub("Stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc stopped working", &policy);
//! assert_eq!(out.text().as_str(), "Stripe key [API_KEY] stopped working");
//! assert_eq!(out.verdict(), &Verdict::Redacted);
//! assert_eq!(out.findings()[0].kind, FindingKind::ApiKey);
//! ```
//!
//! # How a recognizer plugs in
//!
//! A [`Recognizer`] proposes [`Candidate`]s: a kind, a byte [`Span`], an
//! [`Origin`] (which becomes the finding's [`Source`], so every finding
//! says who made it) and a confidence. The detector table
//! ([`DetectorSet`]) is one recognizer; others (a statistical tagger for
//! names, addresses and birth dates) are built once, with their model
//! loaded, and added to the policy with [`Policy::with_recognizer`], so that
//! `scrub` itself stays pure. `scrub` runs the table, then each added
//! recognizer, over the input; merges every candidate (the longest, then the
//! most confident, names an overlap); renders placeholders; and calls each
//! recognizer's [`Recognizer::rescan`] on the scrubbed text until nothing new
//! turns up. The default `rescan` runs `scan` again over the lines that hold
//! a placeholder; a recognizer can keep what its first scan learned in a
//! [`Memo`] (the table keeps its windows). A recognizer that costs much per
//! byte can use a [`Gate`] to run only where capitalised or non-ASCII words
//! and its cue words are.
//!
//! ```
//! use std::sync::Arc;
//!
//! use handoff_scrub::{Candidate, FindingKind, Memo, Origin, Policy, Recognizer, Span, scrub};
//!
//! /// Finds one name no table knows.
//! #[derive(Debug)]
//! struct FairyTale;
//!
//! impl Recognizer for FairyTale {
//!     fn scan(&self, text: &str, out: &mut Vec<Candidate>) -> Memo {
//!         for (at, name) in text.match_indices("Rumpelstiltskin") {
//!             out.push(Candidate {
//!                 span: Span::new(at, at + name.len()),
//!                 kind: FindingKind::Person,
//!                 origin: Origin::Recognizer { name: "fairy_tale", rule: "person" },
//!                 confidence: 0.9,
//!             });
//!         }
//!         Memo::none()
//!     }
//! }
//!
//! let policy = Policy::default().with_recognizer(Arc::new(FairyTale));
//! let out = scrub("the miller's daughter owes Rumpelstiltskin her firstborn", &policy);
//! assert_eq!(out.text().as_str(), "the miller's daughter owes [PERSON] her firstborn");
//! assert_eq!(out.findings()[0].source.to_string(), "fairy_tale person");
//! ```

mod browser;
mod companion;
mod deobfuscate;
mod engine;
mod export;
mod kind;
mod names;
mod national_id;
mod policy;
mod recognize;
mod render;
mod shape;
mod table;
mod tagger;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use browser::{BrowserFinding, browser_findings, warns};
pub use engine::placeholder_len;
pub use engine::{Detector, DetectorSet, RulesError, parse_table};
pub use kind::{Category, FindingKind, UnknownKind};
pub use policy::{Action, Policy};
pub use recognize::{Candidate, Gate, Memo, Origin, Recognizer, Source, Span};
pub use render::{Rendered, Replacement};
pub use table::{DEFAULT_TABLE, DetectorSpec, DetectorTable};
pub use tagger::{
    DEFAULT_TAGGER_MODEL, ModelError as TaggerModelError, Tagger, TrainingSequence,
    training_sequences,
};
pub use validate::Validator;

/// Text that has been through the scrubber. Only [`scrub`] can make one, so
/// a function that takes `CleanText` cannot be handed raw user input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CleanText(String);

impl CleanText {
    /// The scrubbed text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for CleanText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CleanText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One private value that was found. It never holds the value itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: FindingKind,
    /// Byte offset of the value in the input.
    pub start: usize,
    /// Byte offset one past the value in the input.
    pub end: usize,
    /// Who found it: the recognizer and the rule inside it.
    pub source: Source,
    /// How sure the detector is (0 to 1).
    pub confidence: f32,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectReason {
    /// The kind whose policy is `reject`.
    pub kind: FindingKind,
    /// How many such findings.
    pub count: usize,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FindingKind::AccountExport => f.write_str(
                "it contains a pasted list of customer records; describe the problem with one example and remove the real people's details",
            ),
            kind => write!(f, "it contains {}, which this gateway does not accept", kind.describe()),
        }
    }
}

/// The outcome of scrubbing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing private was found; the text is unchanged.
    Clean,
    /// Private values were replaced by placeholders.
    Redacted,
    /// Something whose policy is `reject` was found; nothing should be stored.
    Rejected {
        /// One reason per rejected kind.
        reasons: Vec<RejectReason>,
    },
}

impl Verdict {
    /// `clean`, `redacted` or `rejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Redacted => "redacted",
            Verdict::Rejected { .. } => "rejected",
        }
    }
}

/// The result of [`scrub`]: clean text, what was found, and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrubbed {
    text: CleanText,
    findings: Vec<Finding>,
    verdict: Verdict,
}

impl Scrubbed {
    /// The scrubbed text (a rejected input's too, with offending parts replaced).
    pub fn text(&self) -> &CleanText {
        &self.text
    }

    /// Take the scrubbed text.
    pub fn into_text(self) -> CleanText {
        self.text
    }

    /// What was found, in input order, overlaps merged.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Clean, redacted or rejected.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// How many findings of each kind.
    pub fn counts(&self) -> BTreeMap<FindingKind, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Whether a credential was found (the person should rotate it).
    pub fn exposed_credentials(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.kind.category() == Category::Credential)
    }
}

/// Find every private value in `text` and replace it with its placeholder.
///
/// Every recognizer of the policy proposes candidates (the detector table
/// first); the export rule adds runs of record lines. Text outside findings
/// is kept byte for byte. Overlapping findings merge into one, named by the
/// longest (then the most confident) of them.
pub fn scrub(text: &str, policy: &Policy) -> Scrubbed {
    let mut candidates = Vec::new();
    let mut table_candidates = 0;
    let memos: Vec<Memo> = policy
        .recognizers()
        .enumerate()
        .map(|(i, r)| {
            let memo = r.scan(text, &mut candidates);
            if i == 0 {
                table_candidates = candidates.len();
            }
            memo
        })
        .collect();
    // Records are read from the detector table's merged findings: an
    // address inside a database URL is part of a credential, not a
    // customer, and a statistical guess never turns a question into a
    // rejected export.
    let mut others = candidates.split_off(table_candidates);
    // Values written to slip past a scanner (full-width digits, zero-width
    // characters inside a token, `jane at example dot com`) are found in a
    // de-obfuscated view and mapped back onto the input.
    let viewed = deobfuscate::candidates(text, policy);
    let has_view = viewed.is_some();
    others.extend(viewed.into_iter().flatten());
    let mut merged = render::merge(candidates);
    let exports = export::find_exports(text, &merged);
    let mut codes = companion::codes_after_cards(text, &merged);
    codes.extend(companion::numbers_beside_bank_numbers(text, &merged));
    merged = merge_in(merged, codes);
    merged = merge_in(merged, others);
    let splits = deobfuscate::split_keys(text, &merged);
    merged = merge_in(merged, splits);
    let exports = exports.into_iter().map(|span| Candidate {
        span,
        kind: FindingKind::AccountExport,
        origin: Origin::ExportRows,
        confidence: 0.9,
    });
    merged = merge_in(merged, exports.collect());
    let mut rendered = Rendered::new(text, &merged, policy);
    // A placeholder changes what is around it: "…[API_KEY]: 000AAaAAAa" now
    // reads like a key cue. Every recognizer looks again at the text next to
    // each placeholder, and what it finds is folded back into input
    // coordinates, until nothing new turns up, so that scrubbed text always
    // scrubs to itself.
    for _ in 0..4 {
        let mut extra = Vec::new();
        for (recognizer, memo) in policy.recognizers().zip(&memos) {
            recognizer.rescan(&rendered, memo, &mut extra);
        }
        // With nothing replaced, the view is the one already scanned.
        if has_view && !rendered.replacements().is_empty() {
            extra.extend(
                deobfuscate::candidates(rendered.text(), policy)
                    .into_iter()
                    .flatten(),
            );
        }
        if extra.is_empty() {
            break;
        }
        let mut all = merged;
        all.extend(extra.into_iter().map(|c| rendered.to_input(c)));
        merged = render::merge(all);
        rendered = Rendered::new(text, &merged, policy);
    }

    let findings: Vec<Finding> = merged
        .iter()
        .map(|c| Finding {
            kind: c.kind,
            start: c.span.start,
            end: c.span.end,
            source: policy.source(c.origin),
            confidence: c.confidence,
        })
        .collect();
    let verdict = verdict(&findings, policy);
    Scrubbed {
        text: CleanText(rendered.into_text()),
        findings,
        verdict,
    }
}

/// `merged` (sorted, disjoint) with `more` merged in; untouched when there
/// is nothing more.
fn merge_in(mut merged: Vec<Candidate>, more: Vec<Candidate>) -> Vec<Candidate> {
    if more.is_empty() {
        return merged;
    }
    merged.extend(more);
    render::merge(merged)
}

/// A JSON value (a record id, say) with every private value in it replaced:
/// strings are scrubbed, and a number that scrubs to something else (a card
/// or phone number used as an id) becomes its scrubbed text.
pub fn scrub_json(value: serde_json::Value, policy: &Policy) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(scrub(&text, policy).into_text().0),
        Value::Number(number) => {
            let text = number.to_string();
            let out = scrub(&text, policy);
            if out.findings().is_empty() {
                Value::Number(number)
            } else {
                Value::String(out.into_text().0)
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrub_json(v, policy)).collect())
        }
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (scrub(&k, policy).into_text().0, scrub_json(v, policy)))
                .collect(),
        ),
        other @ (Value::Null | Value::Bool(_)) => other,
    }
}

/// The detectors of `policy` whose `example` is not found as their own kind:
/// the check behind `handoff-gate rules check` and the table's tests.
pub fn examples_not_found(policy: &Policy) -> Vec<&Detector> {
    policy
        .detectors()
        .detectors()
        .iter()
        .filter(|d| {
            d.example.as_deref().is_some_and(|example| {
                !scrub(example, policy)
                    .findings()
                    .iter()
                    .any(|f| f.kind == d.kind)
            })
        })
        .collect()
}

fn verdict(findings: &[Finding], policy: &Policy) -> Verdict {
    if findings.is_empty() {
        return Verdict::Clean;
    }
    let mut rejected: BTreeMap<FindingKind, usize> = BTreeMap::new();
    for f in findings {
        if policy.action(f.kind) == Action::Reject {
            *rejected.entry(f.kind).or_insert(0) += 1;
        }
    }
    if rejected.is_empty() {
        Verdict::Redacted
    } else {
        Verdict::Rejected {
            reasons: rejected
                .into_iter()
                .map(|(kind, count)| RejectReason { kind, count })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
