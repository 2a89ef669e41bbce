//! The detector table compiled for scanning.
//!
//! Keywords go into two Aho-Corasick automata (one ignoring case, one for
//! keywords written with a capital); rows without keywords declare a shape
//! (`shape.rs`). One pass of each prefilter over the text yields windows:
//! per detector, the stretches round its hits where it can match. Only there
//! does its regex run (anchored at the hit, for rows that start at their
//! keyword), so the cost grows with the hits, not with rows times text. A
//! row with neither keywords nor a shape runs over the whole text.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexSet};

use super::kind::FindingKind;
use super::shape::Shape;
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
    validator: Option<Validator>,
    context: Option<(AhoCorasick, usize)>,
    exclude: Option<(AhoCorasick, usize)>,
    /// `exclude_values`, lower-cased and sorted.
    exclude_values: Vec<String>,
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
    keywords: Vec<Keywords>,
    shapes: Vec<ShapeScan>,
    always_on: Vec<usize>,
    /// Per detector: where it runs around its keyword hits.
    around_hits: Vec<AroundHit>,
    /// Per detector: how far before a match a context word can matter (0
    /// for rows without context words).
    reach: Vec<usize>,
}

/// One keyword automaton and, for each of its patterns, the detectors that
/// asked for it.
#[derive(Debug)]
struct Keywords {
    automaton: AhoCorasick,
    words: Vec<String>,
    owners: Vec<Vec<usize>>,
}

/// Where a detector runs around each hit of one of its keywords.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AroundHit {
    /// In a window this many bytes before and after the hit, widened to
    /// whitespace.
    Window(usize, usize),
    /// Anchored at the hit; a match runs about this far at most.
    At(usize),
}

/// One shape prefilter (a run of digits, a long token, …) and the detectors
/// that asked for it.
#[derive(Debug)]
struct ShapeScan {
    shape: Shape,
    /// Bytes before and after each hit that its window takes in.
    margins: (usize, usize),
    owners: Vec<usize>,
    /// The owners' patterns in one set: one pass over a window tells which
    /// of them can match there, so the others skip it.
    gate: Option<RegexSet>,
}

/// How far before a prefilter hit a detector looks (cue words come first).
const BEFORE: usize = 128;
/// How far after a prefilter hit a detector looks at first; a match that
/// reaches the end of its window is retried on a wider one.
const AFTER: usize = 128;
/// Past this share of the text in windows, one pass over the whole text is cheaper.
const DENSE: f64 = 0.5;

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

/// An automaton over `words` (keywords or context words).
fn word_automaton(words: &[String], ignore_case: bool) -> Result<AhoCorasick, RulesError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(ignore_case)
        .match_kind(MatchKind::Standard)
        .build(words)
        .map_err(|e| RulesError::Keywords(e.to_string()))
}

impl Keywords {
    /// A leftmost-longest automaton over `words`. Each word's owners also
    /// get the owners of every shorter word it starts with ("pass" inside
    /// "password"), which a longest match at the same place would hide.
    fn build(
        (words, owners): (Vec<String>, Vec<Vec<usize>>),
        ignore_case: bool,
    ) -> Result<Self, RulesError> {
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

    /// Add a window around every hit inside `text[lo..hi]` to the windows of
    /// the detectors that asked for the keyword. A keyword that starts with
    /// a letter counts only where a word starts ("pass" in "db_pass" or
    /// "hubspotKey", not in "compass"), which keeps short keywords from
    /// firing everywhere.
    ///
    /// Searching again one byte after each hit's start finds every keyword
    /// an overlapping search would; measured, it is the cheaper of the two.
    fn collect(
        &self,
        text: &str,
        (lo, hi): (usize, usize),
        around_hits: &[AroundHit],
        windows: &mut Vec<Window>,
    ) {
        let bytes = text.as_bytes();
        let mut at = lo;
        while let Some(m) = self
            .automaton
            .find(aho_corasick::Input::new(bytes).span(at..hi))
        {
            at = m.start() + 1;
            let pattern = m.pattern().as_usize();
            let starts_word = !self.words[pattern].starts_with(|c: char| c.is_ascii_alphabetic())
                || m.start() == 0
                || {
                    let prev = bytes[m.start() - 1];
                    let first = bytes[m.start()];
                    !prev.is_ascii_alphanumeric()
                        || prev.is_ascii_digit()
                        || (prev.is_ascii_lowercase() && first.is_ascii_uppercase())
                };
            if starts_word {
                for &i in &self.owners[pattern] {
                    let (lo, hi) = match around_hits[i] {
                        // A point: anchored rows run where the hit starts.
                        AroundHit::At(_) => (m.start(), m.start()),
                        AroundHit::Window(before, after) => {
                            around(text, m.start(), m.end(), before, after)
                        }
                    };
                    windows.push((i, lo, hi));
                }
            }
        }
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
        let mut sensitive: (Vec<String>, Vec<Vec<usize>>) = (Vec::new(), Vec::new());
        let mut insensitive: (Vec<String>, Vec<Vec<usize>>) = (Vec::new(), Vec::new());
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
            let [before, after] = spec.keyword_window.unwrap_or([BEFORE, AFTER]);
            let anchored = if spec.starts_at_keyword {
                if spec.keywords.is_empty() || spec.shape.is_some() {
                    return Err(RulesError::Anchor {
                        origin: origin.to_owned(),
                        id: spec.id,
                    });
                }
                around_hits.push(AroundHit::At(after));
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
                around_hits.push(AroundHit::Window(before, after));
                None
            };
            let words = |list: &[String]| -> Result<_, RulesError> {
                Ok(if list.is_empty() {
                    None
                } else {
                    Some((word_automaton(list, true)?, spec.context_window))
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
                let (words, owners) = if word.bytes().any(|b| b.is_ascii_uppercase()) {
                    &mut sensitive
                } else {
                    &mut insensitive
                };
                match words.iter().position(|k| k == word) {
                    Some(at) => owners[at].push(index),
                    None => {
                        words.push(word.clone());
                        owners.push(vec![index]);
                    }
                }
            }
            detectors.push(Detector {
                id: spec.id.into(),
                kind: spec.kind,
                regex,
                anchored,
                secret_group,
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

    /// The compiled detectors, in table order.
    pub fn detectors(&self) -> &[Detector] {
        &self.detectors
    }

    /// Run every detector that can match `text`; push what passes its checks.
    ///
    /// Detectors with keywords or a shape run only in windows around their
    /// prefilter hits, so the cost grows with the number of hits, not with
    /// the number of detectors times the length of the text.
    pub fn scan(&self, text: &str, out: &mut Vec<Candidate>) {
        self.scan_first(text, out);
    }

    /// [`DetectorSet::scan`], returning the windows each detector ran in.
    pub(super) fn scan_first(&self, text: &str, out: &mut Vec<Candidate>) -> Windows {
        let mut windows: Vec<Window> = self.always_on.iter().map(|&i| (i, 0, text.len())).collect();
        self.prefilter(text, (0, text.len()), &mut windows);
        merge_windows(&mut windows, self.detectors.len());
        self.run(text, &windows, out);
        Windows(windows)
    }

    /// Scan `rendered` (the input with `spans` replaced by placeholders)
    /// again wherever it can differ from what [`DetectorSet::scan_first`] saw:
    /// in windows that overlap a placeholder, or start close enough after
    /// one for a context word in it to count. The first scan's windows are
    /// carried over; only the text near each placeholder is searched for
    /// new cue words and shapes.
    ///
    /// `spans` are `(output start, output end, input start, input end)`, in order.
    pub(super) fn rescan(
        &self,
        rendered: &str,
        spans: &[(usize, usize, usize, usize)],
        first: &Windows,
        out: &mut Vec<Candidate>,
    ) {
        /// How far from a placeholder a new cue word or shape is looked for:
        /// the longest keyword, and then on to the next whitespace.
        const NEAR: usize = 32;
        /// How far from a placeholder a detector without a prefilter looks.
        const MARGIN: usize = 192;
        if spans.is_empty() {
            // Nothing was replaced: the text is the one the first scan saw.
            return;
        }
        let marks: Vec<(usize, usize)> = spans.iter().map(|&(os, oe, _, _)| (os, oe)).collect();
        let values: Vec<(usize, usize)> = spans.iter().map(|&(_, _, is, ie)| (is, ie)).collect();
        // A window matters if it sees a placeholder. The same test on the
        // replaced values skips most windows before they are mapped: the text
        // between a window and the last value before it is unchanged.
        let mut windows: Vec<Window> = first
            .0
            .iter()
            .filter(|&&(i, lo, hi)| {
                !self.always_on.contains(&i)
                    && sees_a_span(&values, self.extent(i, (lo, hi)), self.reach[i])
            })
            .map(|&(i, lo, hi)| {
                let start = to_output(spans, lo, false);
                match self.around_hits[i] {
                    AroundHit::At(_) => (i, start, start),
                    AroundHit::Window(..) => (i, start, to_output(spans, hi, true)),
                }
            })
            .collect();
        // Placeholders are in order, and so are the regions around them.
        let near = |margin| {
            let mut regions: Vec<(usize, usize)> = Vec::with_capacity(marks.len());
            for &(os, oe) in &marks {
                let (lo, hi) = around(rendered, os, oe, margin, margin);
                match regions.last_mut() {
                    Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                    _ => regions.push((lo, hi)),
                }
            }
            regions
        };
        if !self.always_on.is_empty() {
            let regions = near(MARGIN);
            for &i in &self.always_on {
                windows.extend(regions.iter().map(|&(lo, hi)| (i, lo, hi)));
            }
        }
        for region in near(NEAR) {
            self.prefilter(rendered, region, &mut windows);
        }
        merge_windows(&mut windows, self.detectors.len());
        windows.retain(|&(i, lo, hi)| sees_a_span(&marks, self.extent(i, (lo, hi)), self.reach[i]));
        self.run(rendered, &windows, out);
    }

    /// The text detector `i` can read from window `w`: a point, for a row
    /// anchored at its keyword, reaches as far as a match runs.
    fn extent(&self, i: usize, (lo, hi): (usize, usize)) -> (usize, usize) {
        match self.around_hits[i] {
            AroundHit::At(after) => (lo, lo + after),
            AroundHit::Window(..) => (lo, hi),
        }
    }

    /// Add the windows around every keyword and shape hit inside `text[lo..hi]`.
    fn prefilter(&self, text: &str, (lo, hi): (usize, usize), windows: &mut Vec<Window>) {
        for keywords in &self.keywords {
            keywords.collect(text, (lo, hi), &self.around_hits, windows);
        }
        for shape in &self.shapes {
            let (before, after) = shape.margins;
            let region = &text[lo..hi];
            let mut at = 0;
            while let Some((start, end)) = shape.shape.find(region, at) {
                // Resume at the match's last character, so that in a run of
                // capitalised words each one is tried as a first name.
                let matched = &region[start..end];
                let last = end - matched.chars().next_back().map_or(0, char::len_utf8);
                at = if last > start { last } else { end };
                if !shape.shape.keeps(matched) {
                    continue;
                }
                let window = around(text, lo + start, lo + end, before, after);
                match &shape.gate {
                    None => {
                        for &i in &shape.owners {
                            windows.push((i, window.0, window.1));
                        }
                    }
                    Some(gate) => {
                        for k in gate.matches_at(&text[..window.1], window.0).iter() {
                            windows.push((shape.owners[k], window.0, window.1));
                        }
                    }
                }
            }
        }
    }

    /// Run each detector in its merged windows (or over the whole text,
    /// where they cover most of it).
    ///
    /// The detectors go through the text together, one stretch at a time:
    /// each runs its windows in a stretch before the next stretch starts, so
    /// the text they read is still in cache. On a 10 MB text, running one
    /// detector after another over all of it took twice as long per byte.
    fn run(&self, text: &str, windows: &[Window], out: &mut Vec<Candidate>) {
        let first_new = out.len();
        let mut shares = Vec::with_capacity(self.detectors.len().min(windows.len()));
        for merged in windows.chunk_by(|a, b| a.0 == b.0) {
            let index = merged[0].0;
            let detector = &self.detectors[index];
            let covered: usize = merged.iter().map(|(_, lo, hi)| hi - lo).sum();
            if detector.anchored.is_none() && covered as f64 > DENSE * text.len() as f64 {
                let mut slots = detector.capture_slots();
                detector.scan(index, text, (0, text.len()), slots.as_mut(), out);
            } else {
                shares.push(Share {
                    windows: merged,
                    done: 0,
                });
            }
        }
        let mut stretch_end = 0;
        loop {
            stretch_end += STRETCH;
            let last = stretch_end >= text.len();
            // The last stretch takes every window left (a point at the very end too).
            let limit = if last { usize::MAX } else { stretch_end };
            for share in &mut shares {
                share.run_until(self, text, limit, out);
            }
            if last {
                break;
            }
        }
        if text.contains('[') {
            spare_placeholders(text, &mut out[first_new..]);
            out.retain(|c| c.start < c.end);
        }
    }
}

/// How many bytes of text the detectors go through together (see
/// [`DetectorSet::run`]): small enough to stay in a core's cache.
const STRETCH: usize = 64 * 1024;

/// One detector's part of a run: its windows (all of one detector, in
/// order of start), and how many it has run.
struct Share<'a> {
    windows: &'a [Window],
    done: usize,
}

impl Share<'_> {
    /// Run the windows that start before `limit`, with capture buffers
    /// allocated once for them.
    fn run_until(&mut self, set: &DetectorSet, text: &str, limit: usize, out: &mut Vec<Candidate>) {
        let todo = &self.windows[self.done..];
        let count = todo.partition_point(|&(_, lo, _)| lo < limit);
        if count == 0 {
            return;
        }
        self.done += count;
        let index = todo[0].0;
        let detector = &set.detectors[index];
        if let Some(anchored) = &detector.anchored {
            let mut captures = anchored.create_captures();
            for &(_, at, _) in &todo[..count] {
                detector.scan_at(anchored, index, text, at, &mut captures, out);
            }
        } else {
            let mut slots = detector.capture_slots();
            for &(_, lo, hi) in &todo[..count] {
                detector.scan(index, text, (lo, hi), slots.as_mut(), out);
            }
        }
    }
}

/// Whether window `(lo, hi)` overlaps one of `spans` (in order, disjoint)
/// or starts within `reach` bytes after one, where a context word in it
/// would count.
fn sees_a_span(spans: &[(usize, usize)], (lo, hi): (usize, usize), reach: usize) -> bool {
    let before = spans.partition_point(|&(start, _)| start <= hi);
    before > 0 && lo <= spans[before - 1].1 + reach
}

/// Where one detector runs: its index, and a byte range of the text (a
/// point, for a row anchored at its keyword).
type Window = (usize, usize, usize);

/// The merged windows a scan ran its detectors in, by detector, then start.
#[derive(Debug)]
pub(super) struct Windows(Vec<Window>);

/// Where input byte `at` lands in the rendered text: shifted past earlier
/// placeholders, or, inside a replaced value, at the placeholder's start
/// (`is_end` false) or end.
fn to_output(spans: &[(usize, usize, usize, usize)], at: usize, is_end: bool) -> usize {
    let done = spans.partition_point(|&(_, _, _, ie)| ie <= at);
    match spans.get(done) {
        Some(&(os, oe, is, _)) if is < at => {
            if is_end {
                oe
            } else {
                os
            }
        }
        _ => match done.checked_sub(1).map(|k| spans[k]) {
            Some((_, oe, _, ie)) => at - ie + oe,
            None => at,
        },
    }
}

/// The window around a prefilter hit: some bytes before and after, widened
/// to ASCII whitespace (kept, for patterns that start with a separator) so
/// that no token is cut. Other spaces (no-break, ideographic) only widen it
/// further; scanning bytes keeps this cheap, and it runs for every hit.
fn around(text: &str, start: usize, end: usize, before: usize, after: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let lo = bytes[..start.saturating_sub(before)]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .unwrap_or(0);
    (lo, end_at_whitespace(text, end + after))
}

/// The first ASCII whitespace at or after byte `at` (clamped to the text),
/// or the end: a window never cuts a token.
fn end_at_whitespace(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[at..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(text.len(), |i| at + i)
}

/// Sort windows by detector and start, and join a detector's windows that
/// overlap or touch. Windows arrive interleaved across the `detectors`, but
/// each detector's in a few runs in text order (one per prefilter pass): a
/// counting sort by detector keeps those runs, and a merge sort, which finds
/// and joins runs, sorts each detector's share in about one pass.
fn merge_windows(windows: &mut Vec<Window>, detectors: usize) {
    let mut starts = vec![0; detectors + 1];
    for &(i, _, _) in windows.iter() {
        starts[i + 1] += 1;
    }
    for i in 0..detectors {
        starts[i + 1] += starts[i];
    }
    let mut sorted = vec![(0, 0, 0); windows.len()];
    let mut next = starts.clone();
    for &window in windows.iter() {
        sorted[next[window.0]] = window;
        next[window.0] += 1;
    }
    for share in starts.windows(2) {
        sorted[share[0]..share[1]].sort();
    }
    *windows = sorted;
    windows.dedup_by(|next, kept| {
        let joins = next.0 == kept.0 && next.1 <= kept.2;
        if joins {
            kept.2 = kept.2.max(next.2);
        }
        joins
    });
}

impl Detector {
    /// Run this detector on `text[lo..hi]` (the text before `lo` still
    /// counts for `\b` and context words).
    fn scan(
        &self,
        index: usize,
        text: &str,
        (lo, mut hi): (usize, usize),
        mut slots: Option<&mut regex::CaptureLocations>,
        out: &mut Vec<Candidate>,
    ) {
        let mut at = lo;
        while at < hi {
            let Some((whole, secret)) = self.next_match(&text[..hi], at, slots.as_deref_mut())
            else {
                break;
            };
            if whole.end == hi && hi < text.len() {
                // The match may go on past the window: widen it and look again.
                hi = end_at_whitespace(text, hi + 4 * AFTER);
                continue;
            }
            match self.accepted_end(text, secret.start, secret.end) {
                Some(end) => {
                    out.push(self.candidate(index, secret.start, end));
                    at = whole.end.max(whole.start + 1);
                }
                // A rejected match may hide an acceptable one inside it
                // ("key is AWS_SECRET_ACCESS_KEY = wJalr…"): look again from
                // just after where it started.
                None => at = whole.start + 1,
            }
            while at < text.len() && !text.is_char_boundary(at) {
                at += 1;
            }
        }
    }

    /// Try this detector's pattern anchored at byte `at` (a keyword hit);
    /// push the match if it passes its checks.
    fn scan_at(
        &self,
        anchored: &regex_automata::meta::Regex,
        index: usize,
        text: &str,
        at: usize,
        captures: &mut regex_automata::util::captures::Captures,
        out: &mut Vec<Candidate>,
    ) {
        let input = regex_automata::Input::new(text)
            .range(at..)
            .anchored(regex_automata::Anchored::Yes);
        let secret = match self.secret_group {
            Some(group) => {
                anchored.search_captures(&input, captures);
                match (captures.get_match(), captures.get_group(group)) {
                    (Some(_), Some(secret)) => secret.range(),
                    (Some(whole), None) => whole.range(),
                    (None, _) => return,
                }
            }
            None => match anchored.search(&input) {
                Some(whole) => whole.range(),
                None => return,
            },
        };
        if let Some(end) = self.accepted_end(text, secret.start, secret.end) {
            out.push(self.candidate(index, secret.start, end));
        }
    }

    /// Capture slots, for a row with a `secret` group: the others skip the
    /// capture engine.
    fn capture_slots(&self) -> Option<regex::CaptureLocations> {
        self.secret_group.map(|_| self.regex.capture_locations())
    }

    /// A finding of this detector (number `index` in its set) at `start..end`.
    fn candidate(&self, index: usize, start: usize, end: usize) -> Candidate {
        Candidate {
            start,
            end,
            kind: self.kind,
            detector: index,
            confidence: self.confidence,
        }
    }

    /// The next match at or after `at`: its whole span and the span to
    /// redact (the `secret` group, or the whole match for an alternative
    /// without it). Rows without the group skip the capture engine.
    fn next_match(
        &self,
        haystack: &str,
        at: usize,
        slots: Option<&mut regex::CaptureLocations>,
    ) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        let (Some(group), Some(slots)) = (self.secret_group, slots) else {
            let whole = self.regex.find_at(haystack, at)?.range();
            return Some((whole.clone(), whole));
        };
        let whole = self.regex.captures_read_at(slots, haystack, at)?.range();
        let secret = slots
            .get(group)
            .map_or(whole.clone(), |(start, end)| start..end);
        Some((whole, secret))
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
        let lower = value.bytes().map(|b| b.to_ascii_lowercase());
        if self
            .exclude_values
            .binary_search_by(|w| w.bytes().cmp(lower.clone()))
            .is_ok()
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
        rest.get(..unit.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(unit))
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
    let spans: Vec<(usize, usize)> = text
        .match_indices('[')
        .filter_map(|(at, _)| placeholder_len(&text[at..]).map(|len| (at, at + len)))
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
fn is_placeholder(value: &str) -> bool {
    let v = value.trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']);
    placeholder_len(v) == Some(v.len())
}

/// The byte length of a scrubber placeholder at the start of `text`: `[`,
/// an upper-case letter, 1 to 31 more upper-case letters or `_`, `]`. The
/// one definition the scrubber, the policy and triage share.
pub fn placeholder_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'[') || !bytes.get(1).is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    let inner = bytes[1..]
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    (inner >= 2 && bytes.get(1 + inner) == Some(&b']')).then_some(inner + 2)
}

/// The largest char boundary at or below `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
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
