//! The case file `tests/data/scrub_cases.toml`, shared by the per-kind tests
//! and the property tests.

use handoff_scrub::FindingKind;
use serde::Deserialize;

/// Every case in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cases {
    /// Texts holding private values.
    pub positive: Vec<Positive>,
    /// Look-alikes that must come out unchanged.
    pub negative: Vec<Negative>,
    /// Inputs whose scrubbed text scrubs to something else (known gaps only).
    #[serde(default)]
    pub idempotent: Vec<Idempotent>,
}

/// A text with private values that must all be removed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Positive {
    /// The kind that must be reported.
    pub kind: FindingKind,
    /// The question as typed.
    pub text: String,
    /// Every private value in it.
    pub secrets: Vec<String>,
    /// Words next to the values that must survive.
    #[serde(default)]
    pub keep: Vec<String>,
    /// Why the scrubber gets this wrong today, if it does.
    pub known_gap: Option<String>,
}

/// A look-alike that must come out byte for byte unchanged.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Negative {
    /// What it looks like.
    pub why: String,
    /// The question as typed.
    pub text: String,
    /// Why the scrubber gets this wrong today, if it does.
    pub known_gap: Option<String>,
}

/// An input whose scrubbed text once was not a fixed point (a detector read
/// the scrubber's own placeholders as text); kept as a regression case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotent {
    /// The input, as the property tests shrank it.
    pub text: String,
    /// The detector that used to fire on the second pass.
    pub detector: String,
}

/// Load the case file.
pub fn load() -> Cases {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scrub_cases.toml");
    let text = std::fs::read_to_string(path).expect("tests/data/scrub_cases.toml is readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
