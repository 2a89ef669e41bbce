//! The stage every recognizer's candidates share: merge overlaps, replace
//! each merged span by its placeholder, and map positions between the input
//! and the scrubbed text.

use super::policy::Policy;
use super::recognize::{Candidate, Span};

/// One placeholder in the scrubbed text and the input bytes it replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replacement {
    /// Where the placeholder stands in the scrubbed text.
    pub output: Span,
    /// The bytes of the input it replaced.
    pub input: Span,
}

/// Scrubbed text and where each placeholder stands in it and in the input.
#[derive(Debug)]
pub struct Rendered {
    text: String,
    replacements: Vec<Replacement>,
}

impl Rendered {
    /// Replace each of `merged` (sorted, disjoint) in `text` by its placeholder.
    pub(crate) fn new(text: &str, merged: &[Candidate], policy: &Policy) -> Self {
        let mut out = String::with_capacity(text.len());
        let mut replacements = Vec::with_capacity(merged.len());
        let mut at = 0;
        for c in merged {
            out.push_str(&text[at..c.span.start]);
            let start = out.len();
            out.push_str(policy.placeholder(c.kind));
            replacements.push(Replacement {
                output: Span::new(start, out.len()),
                input: c.span,
            });
            at = c.span.end;
        }
        out.push_str(&text[at..]);
        Rendered {
            text: out,
            replacements,
        }
    }

    /// The scrubbed text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The placeholders, in order.
    pub fn replacements(&self) -> &[Replacement] {
        &self.replacements
    }

    pub(crate) fn into_text(self) -> String {
        self.text
    }

    /// The lines of the scrubbed text that hold a placeholder, cut to at most
    /// `reach` bytes either side of it (at whitespace), in order and disjoint.
    pub fn lines_near_placeholders(&self, reach: usize) -> Vec<Span> {
        let bytes = self.text.as_bytes();
        let mut regions: Vec<Span> = Vec::new();
        for r in &self.replacements {
            let floor = r.output.start.saturating_sub(reach);
            let lo = bytes[floor..r.output.start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map(|i| floor + i + 1)
                .or_else(|| {
                    (floor > 0).then(|| {
                        bytes[floor..r.output.start]
                            .iter()
                            .position(u8::is_ascii_whitespace)
                            .map_or(r.output.start, |i| floor + i + 1)
                    })
                })
                .unwrap_or(0);
            let ceiling = (r.output.end + reach).min(bytes.len());
            let hi = bytes[r.output.end..ceiling]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| r.output.end + i)
                .or_else(|| {
                    (ceiling < bytes.len()).then(|| {
                        bytes[r.output.end..ceiling]
                            .iter()
                            .rposition(u8::is_ascii_whitespace)
                            .map_or(r.output.end, |i| r.output.end + i)
                    })
                })
                .unwrap_or(bytes.len());
            match regions.last_mut() {
                Some(last) if lo <= last.end => last.end = last.end.max(hi),
                _ => regions.push(Span::new(lo, hi)),
            }
        }
        regions
    }

    /// Map a candidate found in the scrubbed text back onto the input: a
    /// position inside a placeholder widens to the whole replaced value.
    pub(crate) fn to_input(&self, c: Candidate) -> Candidate {
        let map = |pos: usize, is_end: bool| {
            let mut shift: isize = 0;
            for r in &self.replacements {
                let (os, oe) = (r.output.start, r.output.end);
                if pos < os || (is_end && pos == os) {
                    break;
                }
                if pos < oe || (is_end && pos == oe) {
                    return if is_end { r.input.end } else { r.input.start };
                }
                shift = r.input.end as isize - oe as isize;
            }
            pos.saturating_add_signed(shift)
        };
        Candidate {
            span: Span::new(map(c.span.start, false), map(c.span.end, true)),
            ..c
        }
    }

    /// Where input byte `at` lands in the scrubbed text: shifted past earlier
    /// placeholders, or, inside a replaced value, at the placeholder's start
    /// (`is_end` false) or end.
    pub(crate) fn to_output(&self, at: usize, is_end: bool) -> usize {
        let spans = &self.replacements;
        let done = spans.partition_point(|r| r.input.end <= at);
        match spans.get(done) {
            Some(r) if r.input.start < at => {
                if is_end {
                    r.output.end
                } else {
                    r.output.start
                }
            }
            _ => match done.checked_sub(1).map(|k| spans[k]) {
                Some(r) => at - r.input.end + r.output.end,
                None => at,
            },
        }
    }
}

/// Merge overlapping candidates; the longest (then most confident) names the
/// merged span.
pub(crate) fn merge(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut merged: Vec<(Candidate, usize)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        match merged.last_mut() {
            Some((cur, best_len)) if c.span.start < cur.span.end => {
                let len = c.span.len();
                if len > *best_len || (len == *best_len && c.confidence > cur.confidence) {
                    cur.kind = c.kind;
                    cur.origin = c.origin;
                    cur.confidence = c.confidence;
                    *best_len = len;
                }
                cur.span.end = cur.span.end.max(c.span.end);
            }
            _ => {
                let len = c.span.len();
                merged.push((c, len));
            }
        }
    }
    merged.into_iter().map(|(c, _)| c).collect()
}
