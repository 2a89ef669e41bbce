//! Prefilters: one pass of each keyword automaton and shape finder over
//! the text turns its hits into windows, per detector, where that detector
//! can match.

use aho_corasick::AhoCorasick;
use regex::RegexSet;

use super::DetectorSet;
use crate::recognize::Span;
use crate::shape::{Margins, Shape};

/// One keyword automaton and, for each of its patterns, the detectors that
/// asked for it.
#[derive(Debug)]
pub(super) struct Keywords {
    pub(super) automaton: AhoCorasick,
    pub(super) words: Vec<String>,
    pub(super) owners: Vec<Vec<usize>>,
}

/// Where a detector runs around each hit of one of its keywords.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum AroundHit {
    /// In a window this many bytes before and after the hit, widened to
    /// whitespace.
    Window {
        /// Bytes before the hit.
        before: usize,
        /// Bytes after the hit.
        after: usize,
    },
    /// Anchored at the hit; a match runs about `reach` bytes at most.
    At {
        /// How far a match can run from the hit.
        reach: usize,
    },
}

/// One shape prefilter (a run of digits, a long token, …) and the detectors
/// that asked for it.
#[derive(Debug)]
pub(super) struct ShapeScan {
    pub(super) shape: Shape,
    /// Bytes before and after each hit that its window takes in.
    pub(super) margins: Margins,
    pub(super) owners: Vec<usize>,
    /// The owners' patterns in one set: one pass over a window tells which
    /// of them can match there, so the others skip it.
    pub(super) gate: Option<RegexSet>,
}

/// Where one detector runs: a byte range of the text, or, for a row
/// anchored at its keyword, the point where the keyword starts (an empty
/// span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Window {
    /// The detector's index in its set.
    pub(super) detector: usize,
    /// Where it runs.
    pub(super) span: Span,
}

/// The merged windows a scan ran its detectors in, by detector, then start.
#[derive(Debug)]
pub(super) struct Windows(pub(super) Vec<Window>);

impl Keywords {
    /// Add a window around every hit inside `region` to the windows of
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
        region: Span,
        around_hits: &[AroundHit],
        windows: &mut Vec<Window>,
    ) {
        let bytes = text.as_bytes();
        let mut at = region.start;
        while let Some(m) = self
            .automaton
            .find(aho_corasick::Input::new(bytes).span(at..region.end))
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
                for &detector in &self.owners[pattern] {
                    let span = match around_hits[detector] {
                        // A point: anchored rows run where the hit starts.
                        AroundHit::At { .. } => Span::new(m.start(), m.start()),
                        AroundHit::Window { before, after } => around(
                            text,
                            Span::new(m.start(), m.end()),
                            Margins { before, after },
                        ),
                    };
                    windows.push(Window { detector, span });
                }
            }
        }
    }
}

impl DetectorSet {
    /// The text detector `window.detector` can read from its window: a
    /// point, for a row anchored at its keyword, reaches as far as a match
    /// runs.
    pub(super) fn extent(&self, window: Window) -> Span {
        match self.around_hits[window.detector] {
            AroundHit::At { reach } => Span::new(window.span.start, window.span.start + reach),
            AroundHit::Window { .. } => window.span,
        }
    }

    /// Add the windows around every keyword and shape hit inside `region`.
    pub(super) fn prefilter(&self, text: &str, region: Span, windows: &mut Vec<Window>) {
        for keywords in &self.keywords {
            keywords.collect(text, region, &self.around_hits, windows);
        }
        let lo = region.start;
        let part = &text[region.start..region.end];
        for shape in &self.shapes {
            let mut at = 0;
            while let Some((start, end)) = shape.shape.find(part, at) {
                // Resume at the match's last character, so that in a run of
                // capitalised words each one is tried as a first name.
                let matched = &part[start..end];
                let last = end - matched.chars().next_back().map_or(0, char::len_utf8);
                at = if last > start { last } else { end };
                if !shape.shape.keeps(matched) {
                    continue;
                }
                let span = around(text, Span::new(lo + start, lo + end), shape.margins);
                match &shape.gate {
                    None => {
                        for &detector in &shape.owners {
                            windows.push(Window { detector, span });
                        }
                    }
                    Some(gate) => {
                        for k in gate.matches_at(&text[..span.end], span.start).iter() {
                            windows.push(Window {
                                detector: shape.owners[k],
                                span,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Whether `window` overlaps one of `spans` (in order, disjoint) or starts
/// within `reach` bytes after one, where a context word in it would count.
pub(super) fn sees_a_span(spans: &[Span], window: Span, reach: usize) -> bool {
    let before = spans.partition_point(|s| s.start <= window.end);
    before > 0 && window.start <= spans[before - 1].end + reach
}

/// The window around a prefilter hit: some bytes before and after, widened
/// to ASCII whitespace (kept, for patterns that start with a separator) so
/// that no token is cut. Other spaces (no-break, ideographic) only widen it
/// further; scanning bytes keeps this cheap, and it runs for every hit.
pub(super) fn around(text: &str, hit: Span, margins: Margins) -> Span {
    let bytes = text.as_bytes();
    let lo = bytes[..hit.start.saturating_sub(margins.before)]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .unwrap_or(0);
    Span::new(lo, end_at_whitespace(text, hit.end + margins.after))
}

/// The first ASCII whitespace at or after byte `at` (clamped to the text),
/// or the end: a window never cuts a token.
pub(super) fn end_at_whitespace(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[at..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(text.len(), |i| at + i)
}

/// Sort windows by detector and start, and join a detector's windows that
/// overlap or touch. A short text's few windows are sorted in place, with
/// no table to allocate. Many windows arrive interleaved across the
/// `detectors`, but each detector's in a few runs in text order (one per
/// prefilter pass): a counting sort by detector keeps those runs, and a
/// merge sort, which finds and joins runs, sorts each detector's share in
/// about one pass.
pub(super) fn merge_windows(windows: &mut Vec<Window>, detectors: usize) {
    if windows.len() <= FEW_WINDOWS {
        windows.sort_unstable();
    } else {
        counting_sort(windows, detectors);
    }
    windows.dedup_by(|next, kept| {
        let joins = next.detector == kept.detector && next.span.start <= kept.span.end;
        if joins {
            kept.span.end = kept.span.end.max(next.span.end);
        }
        joins
    });
}

/// Up to this many windows, sorting them in place is cheaper than a
/// counting sort's table of all detectors.
const FEW_WINDOWS: usize = 256;

/// Sort windows by detector (counting), then each detector's by start.
fn counting_sort(windows: &mut Vec<Window>, detectors: usize) {
    let mut starts = vec![0; detectors + 1];
    for w in windows.iter() {
        starts[w.detector + 1] += 1;
    }
    for i in 0..detectors {
        starts[i + 1] += starts[i];
    }
    let mut sorted = vec![
        Window {
            detector: 0,
            span: Span::default()
        };
        windows.len()
    ];
    let mut next = starts.clone();
    for &window in windows.iter() {
        sorted[next[window.detector]] = window;
        next[window.detector] += 1;
    }
    for share in starts.windows(2) {
        sorted[share[0]..share[1]].sort();
    }
    *windows = sorted;
}
