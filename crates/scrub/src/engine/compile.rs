//! Compiling a detector table: rows to keyword automata, shape prefilters
//! and regexes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexSet};

use super::prefilter::{AroundHit, Keywords, ShapeScan};
use super::{ContextWords, Detector, DetectorSet};
use crate::shape::Shape;
use crate::table::{DetectorSpec, DetectorTable};

/// How far before a prefilter hit a detector looks (cue words come first).
const BEFORE: usize = 128;
/// How far after a prefilter hit a detector looks at first; a match that
/// reaches the end of its window is retried on a wider one.
pub(super) const AFTER: usize = 128;

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
    /// A row says it starts at its keyword but has none (or has a shape).
    #[error(
        "{origin}: detector `{id}`: starts_at_keyword needs keywords to start at, and no shape"
    )]
    Anchor {
        /// Where the table came from.
        origin: String,
        /// The detector id.
        id: String,
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

/// Rewrite `\b` and `\B` to their ASCII forms: Unicode word boundaries push
/// the regex crate off its DFA engines on non-ASCII text (a 15× slowdown).
pub(super) fn ascii_boundaries(pattern: &str) -> String {
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

/// How a row's `secret` group sits in its match, read from the syntax
/// of its pattern: where the capture search can be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SecretLayout {
    /// Only the capture search tells.
    Anywhere,
    /// All of the match after its first character (or the start of the
    /// text): `(?:^|[\s"'=])(?P<secret>…)`, and nothing after the group.
    AfterFirstChar,
    /// As [`SecretLayout::AfterFirstChar`], and the secret is a greedy run
    /// of one ASCII class, at most `limit` bytes long: `(?P<secret>[!-~]{16,200})`.
    /// A match that starts inside a shorter run ends where the run does.
    AfterFirstCharRun {
        /// The run's longest length (`usize::MAX` when unbounded).
        limit: usize,
    },
}

impl SecretLayout {
    /// Read the layout of `pattern`'s `secret` group.
    pub(super) fn of(pattern: &str) -> Self {
        use regex_syntax::hir::{Hir, HirKind, Literal, Look};
        fn one_char(hir: &Hir) -> bool {
            match hir.kind() {
                HirKind::Class(_) => true,
                HirKind::Literal(Literal(bytes)) => {
                    std::str::from_utf8(bytes).is_ok_and(|s| s.chars().count() == 1)
                }
                _ => false,
            }
        }
        fn start_or_one_char(hir: &Hir) -> bool {
            one_char(hir) || matches!(hir.kind(), HirKind::Look(Look::Start))
        }
        let Ok(hir) = regex_automata::util::syntax::parse(pattern) else {
            return Self::Anywhere;
        };
        let HirKind::Concat(parts) = hir.kind() else {
            return Self::Anywhere;
        };
        let [prefix, secret] = parts.as_slice() else {
            return Self::Anywhere;
        };
        let HirKind::Capture(capture) = secret.kind() else {
            return Self::Anywhere;
        };
        let prefix_is_one_char = match prefix.kind() {
            HirKind::Alternation(branches) => {
                branches.iter().all(start_or_one_char) && branches.iter().any(one_char)
            }
            _ => one_char(prefix),
        };
        if !prefix_is_one_char || capture.name.as_deref() != Some("secret") {
            return Self::Anywhere;
        }
        match capture.sub.kind() {
            HirKind::Repetition(run)
                if run.greedy
                    && matches!(run.sub.kind(), HirKind::Class(_))
                    && run.sub.properties().maximum_len() == Some(1) =>
            {
                Self::AfterFirstCharRun {
                    limit: run.max.map_or(usize::MAX, |max| max as usize),
                }
            }
            _ => Self::AfterFirstChar,
        }
    }
}

/// An automaton over `words` (keywords or context words).
fn word_automaton(words: &[String], ignore_case: bool) -> Result<AhoCorasick, RulesError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(ignore_case)
        .match_kind(MatchKind::Standard)
        .build(words)
        .map_err(|e| RulesError::Keywords(e.to_string()))
}
/// Keywords and, for each, the detectors that asked for it.
#[derive(Default)]
struct KeywordList {
    words: Vec<String>,
    owners: Vec<Vec<usize>>,
}

impl KeywordList {
    /// Add `word` for detector `index`.
    fn add(&mut self, word: &str, index: usize) {
        match self.words.iter().position(|k| k == word) {
            Some(at) => self.owners[at].push(index),
            None => {
                self.words.push(word.to_owned());
                self.owners.push(vec![index]);
            }
        }
    }
}

impl Keywords {
    /// A leftmost-longest automaton over `words`. Each word's owners also
    /// get the owners of every shorter word it starts with ("pass" inside
    /// "password"), which a longest match at the same place would hide.
    fn build(list: KeywordList, ignore_case: bool) -> Result<Self, RulesError> {
        let KeywordList { words, owners } = list;
        let fold = |w: &str| {
            if ignore_case {
                w.to_ascii_lowercase()
            } else {
                w.to_owned()
            }
        };
        let folded: Vec<String> = words.iter().map(|w| fold(w)).collect();
        let owners = folded
            .iter()
            .map(|word| {
                let mut all: Vec<usize> = folded
                    .iter()
                    .zip(&owners)
                    .filter(|(other, _)| word.starts_with(other.as_str()))
                    .flat_map(|(_, o)| o.iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            })
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(ignore_case)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&words)
            .map_err(|e| RulesError::Keywords(e.to_string()))?;
        Ok(Keywords {
            automaton,
            words,
            owners,
        })
    }
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
        // Keywords with a capital letter ("AKIA", "eyJ") match as written; the
        // rest ignore case.
        let mut sensitive = KeywordList::default();
        let mut insensitive = KeywordList::default();
        let mut always_on = Vec::new();
        let mut shape_owners: Vec<(Shape, Vec<usize>)> = Vec::new();
        let mut around_hits = Vec::with_capacity(rows.len());
        let reach = rows
            .iter()
            .map(|r| {
                if r.context.is_empty() && r.exclude_context.is_empty() {
                    0
                } else {
                    r.context_window
                }
            })
            .collect();
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
            let secret_layout = match secret_group {
                Some(_) => SecretLayout::of(regex.as_str()),
                None => SecretLayout::Anywhere,
            };
            let [before, after] = spec.keyword_window.unwrap_or([BEFORE, AFTER]);
            let anchored = if spec.starts_at_keyword {
                if spec.keywords.is_empty() || spec.shape.is_some() {
                    return Err(RulesError::Anchor {
                        origin: origin.to_owned(),
                        id: spec.id,
                    });
                }
                around_hits.push(AroundHit::At { reach: after });
                Some(
                    regex_automata::meta::Regex::new(regex.as_str()).map_err(|e| {
                        RulesError::Pattern {
                            origin: origin.to_owned(),
                            id: spec.id.clone(),
                            message: e.to_string(),
                        }
                    })?,
                )
            } else {
                around_hits.push(AroundHit::Window { before, after });
                None
            };
            let words = |list: &[String]| -> Result<_, RulesError> {
                Ok(if list.is_empty() {
                    None
                } else {
                    Some(ContextWords {
                        words: word_automaton(list, true)?,
                        window: spec.context_window,
                    })
                })
            };
            let context = words(&spec.context)?;
            let exclude = words(&spec.exclude_context)?;
            let mut exclude_values: Vec<String> = spec
                .exclude_values
                .iter()
                .map(|v| v.to_ascii_lowercase())
                .collect();
            exclude_values.sort_unstable();
            if let Some(shape) = spec.shape {
                match shape_owners.iter_mut().find(|(s, _)| *s == shape) {
                    Some((_, owners)) => owners.push(index),
                    None => shape_owners.push((shape, vec![index])),
                }
            } else if spec.keywords.is_empty() {
                always_on.push(index);
            }
            for word in &spec.keywords {
                if word.bytes().any(|b| b.is_ascii_uppercase()) {
                    sensitive.add(word, index);
                } else {
                    insensitive.add(word, index);
                }
            }
            detectors.push(Detector {
                id: spec.id.into(),
                kind: spec.kind,
                regex,
                anchored,
                secret_group,
                secret_layout,
                validator: spec.validator,
                context,
                exclude,
                exclude_values,
                standalone: spec.standalone,
                confidence: spec.confidence,
                example: spec.example,
            });
        }
        let shapes = shape_owners
            .into_iter()
            .map(|(shape, owners)| ShapeScan {
                shape,
                margins: shape.margins(),
                // Too big a set only loses the shortcut.
                gate: (owners.len() > 1 && shape.gated())
                    .then(|| {
                        RegexSet::new(owners.iter().map(|&i| detectors[i].regex.as_str())).ok()
                    })
                    .flatten(),
                owners,
            })
            .collect();
        Ok(DetectorSet {
            detectors,
            keywords: vec![
                Keywords::build(insensitive, true)?,
                Keywords::build(sensitive, false)?,
            ],
            shapes,
            always_on,
            around_hits,
            reach,
        })
    }
}
