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

mod browser;
mod engine;
mod export;
mod kind;
mod names;
mod policy;
mod shape;
mod table;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use browser::{BrowserRules, browser_kind, browser_rules, to_js};
pub use engine::placeholder_len;
pub use engine::{Detector, DetectorSet, RulesError, parse_table};
pub use kind::{Category, FindingKind, UnknownKind};
pub use policy::{Action, Policy};
pub use table::{DEFAULT_TABLE, DetectorSpec, DetectorTable};
pub use validate::Validator;

use engine::Candidate;

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
    /// The id of the detector that found it.
    pub detector: Arc<str>,
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
/// Text outside findings is kept byte for byte. Overlapping findings merge
/// into one, named by the longest (then the most confident) of them.
pub fn scrub(text: &str, policy: &Policy) -> Scrubbed {
    let detectors = policy.detectors();
    let mut candidates = Vec::new();
    let windows = detectors.scan_first(text, &mut candidates);
    let exports = export::find_exports(text, &candidates);
    candidates.extend(exports.into_iter().map(|(start, end)| Candidate {
        start,
        end,
        kind: FindingKind::AccountExport,
        detector: usize::MAX,
        confidence: 0.9,
    }));
    let mut merged = merge(candidates);
    let mut rendered = render(text, &merged, policy);
    // A placeholder changes what is around it: "…[API_KEY]: 000AAaAAAa" now
    // reads like a key cue. Scan the text next to each placeholder again and
    // fold what it finds back into input coordinates, until nothing new turns
    // up, so that scrubbed text always scrubs to itself.
    for _ in 0..4 {
        let mut extra = Vec::new();
        detectors.rescan(&rendered.text, &rendered.spans, &windows, &mut extra);
        if extra.is_empty() {
            break;
        }
        let mut all = merged;
        all.extend(extra.into_iter().map(|c| rendered.to_input(c)));
        merged = merge(all);
        rendered = render(text, &merged, policy);
    }

    let findings: Vec<Finding> = merged
        .iter()
        .map(|c| Finding {
            kind: c.kind,
            start: c.start,
            end: c.end,
            detector: match detectors.detectors().get(c.detector) {
                Some(d) => Arc::clone(&d.id),
                None => Arc::from("account_export_rows"),
            },
            confidence: c.confidence,
        })
        .collect();
    let verdict = verdict(&findings, policy);
    Scrubbed {
        text: CleanText(rendered.text),
        findings,
        verdict,
    }
}

/// Scrubbed text and where each placeholder stands in it and in the input.
struct Rendered {
    text: String,
    /// (output start, output end, input start, input end) per placeholder.
    spans: Vec<(usize, usize, usize, usize)>,
}

impl Rendered {
    /// Map a candidate found in the rendered text back onto the input: a
    /// position inside a placeholder widens to the whole replaced value.
    fn to_input(&self, c: Candidate) -> Candidate {
        let map = |pos: usize, is_end: bool| {
            let mut shift: isize = 0;
            for &(os, oe, is, ie) in &self.spans {
                if pos < os || (is_end && pos == os) {
                    break;
                }
                if pos < oe || (is_end && pos == oe) {
                    return if is_end { ie } else { is };
                }
                shift = ie as isize - oe as isize;
            }
            pos.saturating_add_signed(shift)
        };
        Candidate {
            start: map(c.start, false),
            end: map(c.end, true),
            ..c
        }
    }
}

fn render(text: &str, merged: &[Candidate], policy: &Policy) -> Rendered {
    let mut out = String::with_capacity(text.len());
    let mut spans = Vec::with_capacity(merged.len());
    let mut at = 0;
    for c in merged {
        out.push_str(&text[at..c.start]);
        let start = out.len();
        out.push_str(policy.placeholder(c.kind));
        spans.push((start, out.len(), c.start, c.end));
        at = c.end;
    }
    out.push_str(&text[at..]);
    Rendered { text: out, spans }
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

/// Merge overlapping candidates; the longest (then most confident) names the merged span.
fn merge(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<(Candidate, usize)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        match merged.last_mut() {
            Some((cur, best_len)) if c.start < cur.end => {
                let len = c.end - c.start;
                if len > *best_len || (len == *best_len && c.confidence > cur.confidence) {
                    cur.kind = c.kind;
                    cur.detector = c.detector;
                    cur.confidence = c.confidence;
                    *best_len = len;
                }
                cur.end = cur.end.max(c.end);
            }
            _ => {
                let len = c.end - c.start;
                merged.push((c, len));
            }
        }
    }
    merged.into_iter().map(|(c, _)| c).collect()
}

#[cfg(test)]
mod tests;
