//! The detector table compiled for scanning: the scrubber's rule-based
//! [`Recognizer`].
//!
//! Keywords go into two Aho-Corasick automata (one ignoring case, one for
//! keywords written with a capital); rows without keywords declare a shape
//! (`shape.rs`). One pass of each prefilter over the text yields windows:
//! per detector, the stretches round its hits where it can match. Only there
//! does its regex run (anchored at the hit, for rows that start at their
//! keyword), so the cost grows with the hits, not with rows times text. A
//! row with neither keywords nor a shape runs over the whole text.
//!
//! The stages, one module each: [`compile`] (table rows to automata and
//! regexes), [`prefilter`] (hits to windows), [`run`] (detectors in their
//! windows, and the re-scan of scrubbed text) and [`accept`] (the checks a
//! match must pass to become a candidate).

mod accept;
mod compile;
mod prefilter;
mod run;

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::kind::FindingKind;
use super::recognize::{Candidate, Memo, Recognizer};
use super::render::Rendered;
use super::validate::Validator;

pub use accept::placeholder_len;
use compile::SecretLayout;
pub use compile::{RulesError, parse_table};
use prefilter::{AroundHit, Keywords, ShapeScan, Windows};

/// One compiled detector.
#[derive(Debug)]
pub struct Detector {
    /// The id from the table.
    pub id: Arc<str>,
    /// The kind it finds.
    pub kind: FindingKind,
    regex: Regex,
    /// The same pattern for anchored searches, for rows that start at their keyword.
    anchored: Option<regex_automata::meta::Regex>,
    secret_group: Option<usize>,
    /// Where the `secret` group sits in a match: for some patterns its
    /// span follows from the match's, with no capture search.
    secret_layout: SecretLayout,
    validator: Option<Validator>,
    context: Option<ContextWords>,
    exclude: Option<ContextWords>,
    /// `exclude_values`, lower-cased and sorted.
    exclude_values: Vec<String>,
    standalone: bool,
    confidence: f32,
    /// The example input from the table, if any.
    pub example: Option<String>,
}

/// Words looked for shortly before a match (`context`, `exclude_context`).
#[derive(Debug)]
struct ContextWords {
    words: AhoCorasick,
    /// How many bytes before the match they count in.
    window: usize,
}

/// The whole detector table, compiled once and shared.
#[derive(Debug)]
pub struct DetectorSet {
    detectors: Vec<Detector>,
    keywords: Vec<Keywords>,
    shapes: Vec<ShapeScan>,
    always_on: Vec<usize>,
    /// Per detector: where it runs around its keyword hits.
    around_hits: Vec<AroundHit>,
    /// Per detector: how far before a match a context word can matter (0
    /// for rows without context words).
    reach: Vec<usize>,
}

impl DetectorSet {
    /// The compiled detectors, in table order.
    pub fn detectors(&self) -> &[Detector] {
        &self.detectors
    }
}

/// The table as a recognizer: its first scan remembers the windows each
/// detector ran in, so that the re-scan of scrubbed text runs only the
/// windows a placeholder can change.
impl Recognizer for DetectorSet {
    fn scan(&self, text: &str, out: &mut Vec<Candidate>) -> Memo {
        Memo::new(self.scan_first(text, out))
    }

    fn rescan(&self, rendered: &Rendered, memo: &Memo, out: &mut Vec<Candidate>) {
        match memo.get::<Windows>() {
            Some(first) => self.scan_again(rendered, first, out),
            None => {
                // Not this set's memo: scan the scrubbed text as new.
                self.scan_first(rendered.text(), out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::accept::is_placeholder;
    use super::compile::ascii_boundaries;
    use super::*;

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(ascii_boundaries(r"\bkey\B"), r"(?-u:\b)key(?-u:\B)");
        assert_eq!(ascii_boundaries(r"\\b\d"), r"\\b\d");
    }

    #[test]
    fn where_the_secret_sits_is_told_from_the_pattern() {
        let run = |limit| SecretLayout::AfterFirstCharRun { limit };
        for (pattern, layout) in [
            (r#"(?:^|[\s"'=])(?P<secret>[!-~]{16,200})"#, run(200)),
            (
                r"(?:[^A-Za-z0-9]|^)(?P<secret>[A-Za-z0-9]{20,})",
                run(usize::MAX),
            ),
            (r"=(?P<secret>\w+)", SecretLayout::AfterFirstChar),
            (r"(?:^|é)(?P<secret>\d+)", SecretLayout::AfterFirstChar),
            (
                r"(?:^|\s)(?P<secret>[a-z]{4,}?)",
                SecretLayout::AfterFirstChar,
            ),
            (r"(?:^|\s)(?P<secret>[a-z]+=)", SecretLayout::AfterFirstChar),
            (r"(?:^|\s)(?P<secret>\w+)\b!", SecretLayout::Anywhere),
            (r"(?:^|ab)(?P<secret>\w+)", SecretLayout::Anywhere),
            (r"^(?P<secret>\w+)", SecretLayout::Anywhere),
            (r"(?:^|[=:])(?P<other>\w+)", SecretLayout::Anywhere),
            (r"key[=:](?P<secret>\w+)", SecretLayout::Anywhere),
        ] {
            assert_eq!(SecretLayout::of(pattern), layout, "{pattern}");
        }
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(is_placeholder("[API_KEY]"));
        assert!(is_placeholder("[EMAIL]."));
        assert!(!is_placeholder("[x]"));
        assert!(!is_placeholder("key"));
    }

    #[test]
    fn a_bad_pattern_names_its_detector() {
        let table = parse_table(
            "extra.toml",
            "[[detector]]\nid = \"broken\"\nkind = \"api_key\"\npattern = \"(\"\nconfidence = 0.5\n",
        )
        .unwrap();
        let err = DetectorSet::compile("extra.toml", table.detectors).unwrap_err();
        assert!(
            err.to_string().contains("extra.toml: detector `broken`"),
            "{err}"
        );
    }

    #[test]
    fn an_anchored_row_needs_keywords() {
        let table = parse_table(
            "extra.toml",
            "[[detector]]\nid = \"nowhere\"\nkind = \"api_key\"\npattern = \"x\"\nstarts_at_keyword = true\nconfidence = 0.5\n",
        )
        .unwrap();
        let err = DetectorSet::compile("extra.toml", table.detectors)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("extra.toml: detector `nowhere`: starts_at_keyword needs keywords"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_field_names_line_and_column() {
        let err = parse_table(
            "extra.toml",
            "[[detector]]\nid = \"x\"\nkind = \"apikey\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("api_key"), "{err}");
    }
}
