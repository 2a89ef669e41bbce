//! The detector table compiled for scanning.
//!
//! Every keyword of every detector goes into one case-insensitive
//! Aho-Corasick automaton. One pass of it over the text decides which
//! detectors can possibly match; only those run their regex. Detectors without
//! keywords (digit-shaped kinds, names) always run, so they are kept few and
//! written with ASCII classes, which the regex crate scans with its fast DFA.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use super::kind::FindingKind;
use super::table::{DetectorSpec, DetectorTable};
use super::validate::Validator;

/// What went wrong turning a detector table into a scanner.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The TOML itself is malformed or has a wrong field (the message names
    /// the line and column).
    #[error("{origin}: {message}")]
    Toml {
        /// Where the table came from (a file path, or "embedded default").
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A detector's pattern is not a valid regular expression.
    #[error("{origin}: detector `{id}`: invalid pattern: {message}")]
    Pattern {
        /// Where the table came from.
        origin: String,
        /// The detector id.
        id: String,
        /// The regex compiler's message.
        message: String,
    },
    /// A detector's confidence is outside 0..=1.
    #[error("{origin}: detector `{id}`: confidence {value} is not between 0 and 1")]
    Confidence {
        /// Where the table came from.
        origin: String,
        /// The detector id.
        id: String,
        /// The value given.
        value: f32,
    },
    /// The keyword automaton could not be built.
    #[error("keyword prefilter: {0}")]
    Keywords(String),
}

/// Parse a detector table from TOML text. `origin` names it in errors.
pub fn parse_table(origin: &str, text: &str) -> Result<DetectorTable, RulesError> {
    toml::from_str(text).map_err(|e| RulesError::Toml {
        origin: origin.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// One compiled detector.
#[derive(Debug)]
pub struct Detector {
    /// The id from the table.
    pub id: Arc<str>,
    /// The kind it finds.
    pub kind: FindingKind,
    regex: Regex,
    secret_group: Option<usize>,
    validator: Option<Validator>,
    context: Option<(AhoCorasick, usize)>,
    exclude: Option<(AhoCorasick, usize)>,
    standalone: bool,
    confidence: f32,
    /// The example input from the table, if any.
    pub example: Option<String>,
}

/// A match that passed its detector's checks, before overlaps are merged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Byte offset of the first redacted byte.
    pub start: usize,
    /// Byte offset one past the last redacted byte.
    pub end: usize,
    /// What was found.
    pub kind: FindingKind,
    /// Index of the detector in its [`DetectorSet`].
    pub detector: usize,
    /// The detector's confidence.
    pub confidence: f32,
}

/// The whole detector table, compiled once and shared.
#[derive(Debug)]
pub struct DetectorSet {
    detectors: Vec<Detector>,
    prefilter: AhoCorasick,
    keyword_owners: Vec<Vec<usize>>,
    always_on: Vec<usize>,
}

/// Rewrite `\b` and `\B` to their ASCII forms: Unicode word boundaries push
/// the regex crate off its DFA engines on non-ASCII text (a 15× slowdown).
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn case_insensitive(words: &[String]) -> Result<AhoCorasick, RulesError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(words)
        .map_err(|e| RulesError::Keywords(e.to_string()))
}

impl DetectorSet {
    /// Compile detector rows. A later row with the same id replaces an earlier one.
    pub fn compile(origin: &str, specs: Vec<DetectorSpec>) -> Result<Self, RulesError> {
        let mut rows: Vec<DetectorSpec> = Vec::with_capacity(specs.len());
        for spec in specs {
            match rows.iter_mut().find(|r| r.id == spec.id) {
                Some(existing) => *existing = spec,
                None => rows.push(spec),
            }
        }
        let mut detectors = Vec::with_capacity(rows.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_owners: Vec<Vec<usize>> = Vec::new();
        let mut always_on = Vec::new();
        for (index, spec) in rows.into_iter().enumerate() {
            if !(0.0..=1.0).contains(&spec.confidence) {
                return Err(RulesError::Confidence {
                    origin: origin.to_owned(),
                    id: spec.id,
                    value: spec.confidence,
                });
            }
            let regex =
                Regex::new(&ascii_boundaries(&spec.pattern)).map_err(|e| RulesError::Pattern {
                    origin: origin.to_owned(),
                    id: spec.id.clone(),
                    message: e.to_string(),
                })?;
            let secret_group = regex.capture_names().position(|n| n == Some("secret"));
            let words = |list: &[String]| -> Result<_, RulesError> {
                Ok(if list.is_empty() {
                    None
                } else {
                    Some((case_insensitive(list)?, spec.context_window))
                })
            };
            let context = words(&spec.context)?;
            let exclude = words(&spec.exclude_context)?;
            if spec.keywords.is_empty() {
                always_on.push(index);
            }
            for word in &spec.keywords {
                match keywords.iter().position(|k| k.eq_ignore_ascii_case(word)) {
                    Some(at) => keyword_owners[at].push(index),
                    None => {
                        keywords.push(word.clone());
                        keyword_owners.push(vec![index]);
                    }
                }
            }
            detectors.push(Detector {
                id: spec.id.into(),
                kind: spec.kind,
                regex,
                secret_group,
                validator: spec.validator,
                context,
                exclude,
                standalone: spec.standalone,
                confidence: spec.confidence,
                example: spec.example,
            });
        }
        Ok(DetectorSet {
            detectors,
            prefilter: case_insensitive(&keywords)?,
            keyword_owners,
            always_on,
        })
    }

    /// The compiled detectors, in table order.
    pub fn detectors(&self) -> &[Detector] {
        &self.detectors
    }

    /// Run every detector that can match `text`; push what passes its checks.
    pub fn scan(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut active = vec![false; self.detectors.len()];
        for &i in &self.always_on {
            active[i] = true;
        }
        for m in self.prefilter.find_overlapping_iter(text) {
            for &i in &self.keyword_owners[m.pattern().as_usize()] {
                active[i] = true;
            }
        }
        let first_new = out.len();
        for (index, detector) in self.detectors.iter().enumerate() {
            if active[index] {
                detector.scan(index, text, out);
            }
        }
        if text.contains('[') {
            spare_placeholders(text, &mut out[first_new..]);
            out.retain(|c| c.start < c.end);
        }
    }
}

impl Detector {
    fn scan(&self, index: usize, text: &str, out: &mut Vec<Candidate>) {
        let mut at = 0;
        while at <= text.len() {
            let Some(caps) = self.regex.captures_at(text, at) else {
                break;
            };
            let whole = caps.get(0).expect("group 0 always matches");
            // An alternative without the `secret` group redacts its whole match.
            let secret = self.secret_group.and_then(|g| caps.get(g)).unwrap_or(whole);
            match self.accepted_end(text, secret.start(), secret.end()) {
                Some(end) => {
                    out.push(Candidate {
                        start: secret.start(),
                        end,
                        kind: self.kind,
                        detector: index,
                        confidence: self.confidence,
                    });
                    at = whole.end().max(whole.start() + 1);
                }
                // A rejected match may hide an acceptable one inside it
                // ("key is AWS_SECRET_ACCESS_KEY = wJalr…"): look again from
                // just after where it started.
                None => at = whole.start() + 1,
            }
            while at < text.len() && !text.is_char_boundary(at) {
                at += 1;
            }
        }
    }

    /// Where an accepted finding starting at `start` ends: the whole match,
    /// or, for digit-group kinds, the longest run of leading groups that
    /// passes ("4242 4242 4242 4242 12" is a card followed by a month).
    fn accepted_end(&self, text: &str, start: usize, end: usize) -> Option<usize> {
        let trims = self.validator.is_some_and(Validator::trims_groups);
        let mut end = end;
        if trims && before_a_unit(&text[end..]) {
            // "0312 123 45 67 24 hours": the last group is a duration.
            let value = &text[start..end];
            let last_group = value.rfind([' ', '-', '.']).unwrap_or(0);
            end = start + value[..last_group].trim_end_matches([' ', '-', '.']).len();
        }
        if end == start {
            return None;
        }
        let value = &text[start..end];
        if self.accepts(text, start, end) {
            return Some(end);
        }
        if !trims {
            return None;
        }
        value
            .char_indices()
            .rev()
            .filter(|&(_, c)| matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .map(|(i, _)| start + value[..i].trim_end_matches([' ', '-', '.', '(']).len())
            .filter(|&e| e > start)
            .find(|&e| self.accepts(text, start, e))
    }

    fn accepts(&self, text: &str, start: usize, end: usize) -> bool {
        let value = &text[start..end];
        if value.is_empty() || is_placeholder(value) {
            return false;
        }
        if self.standalone && !stands_alone(text, start, end) {
            return false;
        }
        if let Some(validator) = self.validator
            && !validator.accepts(value, &text[end..])
        {
            return false;
        }
        let before = |window: usize| {
            let from = floor_char_boundary(text, start.saturating_sub(window));
            &text[from..start]
        };
        if let Some((words, window)) = &self.exclude
            && words.is_match(before(*window))
        {
            return false;
        }
        match &self.context {
            None => true,
            Some((words, window)) => words.is_match(before(*window)),
        }
    }
}

/// Whether `after` starts with a unit that makes the number before it a
/// quantity: "24 hours", "3 days", "50 %".
fn before_a_unit(after: &str) -> bool {
    const UNITS: &[&str] = &[
        "hours", "hour", "hrs", "hr", "minutes", "minute", "mins", "min", "seconds", "secs",
        "days", "day", "weeks", "week", "months", "month", "years", "year", "am", "pm", "%",
        "percent", "times", "leads", "contacts", "people", "users", "members",
    ];
    let rest = after.trim_start_matches(' ');
    UNITS.iter().any(|unit| {
        rest.len() >= unit.len()
            && rest[..unit.len()].eq_ignore_ascii_case(unit)
            && !rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}

/// Not glued to a word, a path, a parameter or an amount on either side.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let prev = text[..start].chars().next_back();
    let next = text[end..].chars().next();
    let glued_before = prev.is_some_and(|c| {
        c.is_alphanumeric()
            || matches!(
                c,
                '_' | '/' | '=' | '@' | '#' | '.' | '-' | '$' | '€' | '£' | '&' | '?'
            )
    });
    let glued_after =
        next.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '@' | '%'));
    !glued_before && !glued_after
}

/// Cut the scrubber's own placeholders (`[API_KEY]`) out of the edges of
/// candidates, so that scrubbed text scrubs to itself; a candidate that was
/// nothing but placeholders and punctuation is emptied.
fn spare_placeholders(text: &str, candidates: &mut [Candidate]) {
    static PLACEHOLDER: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\[[A-Z][A-Z_]+\]").expect("valid regex"));
    let spans: Vec<(usize, usize)> = PLACEHOLDER
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    if spans.is_empty() {
        return;
    }
    for c in candidates.iter_mut() {
        for &(s, e) in &spans {
            if s <= c.start && c.start < e {
                c.start = e.min(c.end);
            }
            if s < c.end && c.end <= e {
                c.end = s.max(c.start);
            }
        }
        let rest = &text[c.start..c.end];
        if rest.chars().filter(|ch| ch.is_alphanumeric()).count() < 3 {
            c.end = c.start;
        }
    }
}

/// Whether `value` is one of the scrubber's own placeholders, such as
/// `[API_KEY]`: scrubbed text must scrub to itself.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']);
    v.len() > 2
        && v.starts_with('[')
        && v.ends_with(']')
        && v[1..v.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_')
}

/// The largest char boundary at or below `i`.
pub fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(ascii_boundaries(r"\bkey\B"), r"(?-u:\b)key(?-u:\B)");
        assert_eq!(ascii_boundaries(r"\\b\d"), r"\\b\d");
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
