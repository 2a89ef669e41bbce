//! The detector table: the readable, editable description of every detector.
//!
//! The default table is `src/scrub/detectors.toml`, embedded in the binary.
//! A consultant can add detectors (or replace one by reusing its `id`) with a
//! TOML file of the same shape; see the README's "Adding a detector".

use serde::Deserialize;

use super::kind::FindingKind;
use super::shape::Shape;
use super::validate::Validator;

/// The embedded default detector table.
pub const DEFAULT_TABLE: &str = include_str!("detectors.toml");

/// A detector table as written in TOML: `[[detector]]` entries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorTable {
    /// The detectors, in the order they are listed.
    #[serde(rename = "detector", default)]
    pub detectors: Vec<DetectorSpec>,
}

/// One row of the detector table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    /// A unique, stable id such as `stripe_secret_key`.
    pub id: String,
    /// The kind of private data it finds.
    pub kind: FindingKind,
    /// The service or format it targets, for humans (`Stripe`, `PEM`).
    #[serde(default)]
    pub service: Option<String>,
    /// Literal strings, one of which must occur in the text before the
    /// pattern is run at all; it then runs only near them. Keywords written
    /// in lower case ignore case; with a capital letter they match as written.
    /// A keyword that starts with a letter counts only at the start of a word.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// For patterns with no literal part: the shape of text they can match
    /// (`digits`, `token`, `first_name`, `street_number`); the pattern runs
    /// near such text too. With neither keywords nor shape, it always runs.
    #[serde(default)]
    pub shape: Option<Shape>,
    /// The regular expression (Rust `regex` syntax). A named group `secret`
    /// marks the part to redact; otherwise the whole match is redacted. `\b`
    /// means an ASCII word boundary.
    pub pattern: String,
    /// A named check the match must pass (`luhn`, `iban`, `secret_like` …).
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Words (case-insensitive) of which one must occur shortly before the
    /// match, within `context_window` bytes. Empty means: no context needed.
    #[serde(default)]
    pub context: Vec<String>,
    /// Words (case-insensitive) that veto the match when they occur within
    /// `context_window` bytes before it ("order", "invoice" before a number).
    #[serde(default)]
    pub exclude_context: Vec<String>,
    /// Whole values (any case) that are never findings: the words a pattern
    /// cannot tell from a value ("password is *wrong*").
    #[serde(default)]
    pub exclude_values: Vec<String>,
    /// How far before the match to look for a context word.
    #[serde(default = "default_context_window")]
    pub context_window: usize,
    /// How many bytes before and after a keyword hit the pattern runs
    /// (default `[128, 128]`). A pattern that starts with its cue word and
    /// ends soon after can say so (`[0, 64]`): in text where the cue is
    /// common, it then scans a fraction of it.
    #[serde(default)]
    pub keyword_window: Option<[usize; 2]>,
    /// Every match starts exactly where one of the keywords starts: the
    /// pattern is then tried only there, anchored, instead of searched for
    /// in a window, which is much cheaper where the cue is common. The
    /// second number of `keyword_window` still says how far a match runs.
    #[serde(default)]
    pub starts_at_keyword: bool,
    /// The match must stand alone: not glued to a word, a path, a parameter
    /// or an amount (`/123…`, `id=123…`, `$1234…`, `123…abc`).
    #[serde(default)]
    pub standalone: bool,
    /// How sure a match is, from 0 to 1; the higher wins when spans overlap.
    pub confidence: f32,
    /// An input this detector must find (checked by the test suite and by
    /// `handoff-gate rules check`). Use fake values only.
    #[serde(default)]
    pub example: Option<String>,
}

fn default_context_window() -> usize {
    48
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_parses_with_unique_ids() {
        let table: DetectorTable = toml::from_str(DEFAULT_TABLE).unwrap();
        let mut ids: Vec<&str> = table.detectors.iter().map(|d| d.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "detector ids must be unique");
    }

    #[test]
    fn at_least_thirty_services_have_their_own_key_format() {
        let table: DetectorTable = toml::from_str(DEFAULT_TABLE).unwrap();
        let mut services: Vec<&str> = table
            .detectors
            .iter()
            .filter(|d| d.kind == FindingKind::ApiKey)
            .filter_map(|d| d.service.as_deref())
            .filter(|s| *s != "generic")
            .collect();
        services.sort_unstable();
        services.dedup();
        assert!(
            services.len() >= 30,
            "only {} services: {services:?}",
            services.len()
        );
    }
}
