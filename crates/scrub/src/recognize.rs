//! The recognizer interface: what finds candidate private values.
//!
//! [`scrub`](crate::scrub) asks every recognizer of the [`Policy`](crate::Policy)
//! for [`Candidate`]s, then runs one shared stage over all of them: overlaps
//! merge (the longest, then the most confident, names the span), each merged
//! span is replaced by its placeholder, and the scrubbed text is handed back
//! to every recognizer ([`Recognizer::rescan`]) until nothing new turns up,
//! so that scrubbed text scrubs to itself.
//!
//! The detector table ([`DetectorSet`](crate::DetectorSet)) is one
//! recognizer. Another (a statistical tagger, say) is built once, when the
//! policy is built ([`Policy::with_recognizer`](crate::Policy::with_recognizer)),
//! so that `scrub` stays pure: no loading, no I/O.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;

use super::kind::FindingKind;
use super::render::Rendered;

/// A byte range of a text: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// How many bytes it covers.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether it covers nothing.
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The same span moved `by` bytes to the right.
    pub fn shifted(self, by: usize) -> Self {
        Span::new(self.start + by, self.end + by)
    }
}

/// Who proposed a candidate. Small and `Copy`, so candidates stay cheap; a
/// finding reports it as its [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Row number `.0` of the policy's detector table.
    Detector(usize),
    /// The export rule: three or more lines that each hold a personal record.
    ExportRows,
    /// Another recognizer: the name it gives itself (`"tagger"`) and the
    /// rule or label inside it that fired (`"person"`).
    Recognizer {
        /// The recognizer's name.
        name: &'static str,
        /// The rule or label that fired.
        rule: &'static str,
    },
}

/// A proposed finding, before overlaps are merged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The bytes to replace.
    pub span: Span,
    /// What was found.
    pub kind: FindingKind,
    /// Who found it.
    pub origin: Origin,
    /// How sure the recognizer is, from 0 to 1; among overlapping candidates
    /// of the same length the more confident names the merged finding.
    pub confidence: f32,
}

/// Why a finding was made: the recognizer, and the rule inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "recognizer", rename_all = "snake_case")]
pub enum Source {
    /// A row of the detector table, by its id.
    Detector {
        /// The row's id (`stripe_secret_key`).
        id: Arc<str>,
    },
    /// Three or more lines that each hold a personal record.
    ExportRows,
    /// Another recognizer, by its name and the rule or label that fired.
    Recognizer {
        /// The recognizer's name (`tagger`).
        name: &'static str,
        /// The rule or label (`person`).
        rule: &'static str,
    },
}

impl fmt::Display for Source {
    /// `detector stripe_secret_key`, `export rows`, `tagger person`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Detector { id } => write!(f, "detector {id}"),
            Source::ExportRows => f.write_str("export rows"),
            Source::Recognizer { name, rule } => write!(f, "{name} {rule}"),
        }
    }
}

/// What a recognizer's first scan leaves for its re-scans of the same
/// input (the detector table keeps the windows it ran in). Most recognizers
/// need nothing: [`Memo::none`].
#[derive(Default)]
pub struct Memo(Option<Box<dyn Any + Send>>);

impl Memo {
    /// Nothing to remember.
    pub fn none() -> Self {
        Memo(None)
    }

    /// Remember `value`.
    pub fn new<T: Any + Send>(value: T) -> Self {
        Memo(Some(Box::new(value)))
    }

    /// The remembered value, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_ref()?.downcast_ref()
    }
}

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Memo(..)"
        } else {
            "Memo(none)"
        })
    }
}

/// Something that finds candidate private values in text.
///
/// A recognizer is built once (with everything it needs loaded) and shared
/// by every scrub; both methods are pure. Candidates it pushes go through
/// the same merge, placeholder and re-scan stage as the detector table's.
pub trait Recognizer: fmt::Debug + Send + Sync {
    /// Push the candidates found in `text`; return what [`Recognizer::rescan`]
    /// needs to know about this scan ([`Memo::none`] if nothing).
    fn scan(&self, text: &str, out: &mut Vec<Candidate>) -> Memo;

    /// Look again at the scrubbed text: `rendered` is the input with what was
    /// found so far replaced by placeholders, and only the text near a
    /// placeholder can read differently from the input. Push candidates in
    /// `rendered`'s coordinates (the scrubber maps them back onto the input).
    ///
    /// The default runs [`Recognizer::scan`] over the lines that hold a
    /// placeholder (at most `REACH` bytes either side of it), which suits a
    /// recognizer that reads a few words around each value.
    fn rescan(&self, rendered: &Rendered, memo: &Memo, out: &mut Vec<Candidate>) {
        let _ = memo;
        const REACH: usize = 256;
        let text = rendered.text();
        for region in rendered.lines_near_placeholders(REACH) {
            let first = out.len();
            self.scan(&text[region.start..region.end], out);
            for c in &mut out[first..] {
                c.span = c.span.shifted(region.start);
            }
        }
    }
}

/// Whether one of the eight bytes of `x` is an upper-case ASCII letter or
/// not ASCII.
fn upper_or_non_ascii(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // With each byte's high bit set first, no subtraction borrows from the
    // next byte; a byte's high bit then says it was at least 'A' (at least
    // '[' for the second).
    let from_a = (x | HIGH) - ONES * u64::from(b'A');
    let past_z = (x | HIGH) - ONES * u64::from(b'[');
    ((from_a & !past_z) | x) & HIGH != 0
}

/// A cheap first look for recognizers that cost much per byte (a sequence
/// tagger): the regions of a text worth running on. A region is opened
/// around every word that starts with a capital letter or holds a non-ASCII
/// letter, and around every cue word given (street words, birth cues, …);
/// it reaches `radius` bytes either side, widened to whitespace, and
/// regions that touch are joined.
///
/// ```
/// use handoff_scrub::{Gate, Span};
///
/// let gate = Gate::new(["born", "street"], 16);
/// let text = "the tag never fires. it was sent to anna müller, born 1987-03-04, and then stopped";
/// let regions = gate.regions(text);
/// assert_eq!(regions.len(), 1);
/// assert!(text[regions[0].start..regions[0].end].contains("müller, born 1987-03-04"));
/// assert!(gate.regions("all lower-case ascii words here, 42 of them").is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Gate {
    cues: Option<AhoCorasick>,
    radius: usize,
}

impl Gate {
    /// A gate that also opens at `cues` (matched in any ASCII case, at the
    /// start of a word), with regions reaching `radius` bytes either side of
    /// each hit.
    pub fn new<I, P>(cues: I, radius: usize) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let cues: Vec<P> = cues.into_iter().collect();
        let cues = (!cues.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build(&cues)
                .expect("a few cue words always build an automaton")
        });
        Gate { cues, radius }
    }

    /// The regions of `text` worth running on, in order and disjoint.
    pub fn regions(&self, text: &str) -> Vec<Span> {
        let bytes = text.as_bytes();
        let mut hits: Vec<usize> = Vec::with_capacity(16);
        let mut at = 0;
        while at < bytes.len() {
            // Eight bytes at a time past runs with no upper-case ASCII
            // letter and no non-ASCII byte, where no hit can be.
            if let Some(&chunk) = bytes[at..].first_chunk::<8>()
                && !upper_or_non_ascii(u64::from_le_bytes(chunk))
            {
                at += 8;
                continue;
            }
            let b = bytes[at];
            let word_start = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
            if !b.is_ascii() || (b.is_ascii_uppercase() && word_start) {
                hits.push(at);
                // One hit per word is enough.
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                continue;
            }
            at += 1;
        }
        if let Some(cues) = &self.cues {
            for m in cues.find_iter(bytes) {
                if m.start() == 0 || !bytes[m.start() - 1].is_ascii_alphanumeric() {
                    hits.push(m.start());
                }
            }
            hits.sort_unstable();
        }
        let mut regions: Vec<Span> = Vec::new();
        for hit in hits {
            let lo = bytes[..hit.saturating_sub(self.radius)]
                .iter()
                .rposition(u8::is_ascii_whitespace)
                .map_or(0, |i| i + 1);
            let hi = (hit + self.radius).min(bytes.len());
            let hi = bytes[hi..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(bytes.len(), |i| hi + i);
            match regions.last_mut() {
                Some(last) if lo <= last.end => last.end = last.end.max(hi),
                _ => regions.push(Span::new(lo, hi)),
            }
        }
        regions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bytes_are_read_as_one_at_a_time() {
        let one = |b: u8| !b.is_ascii() || b.is_ascii_uppercase();
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', b' ', b'z', b'0', b'@', b'[', 0x7f] {
                    let mut bytes = [fill; 8];
                    bytes[pos] = b;
                    assert_eq!(
                        upper_or_non_ascii(u64::from_le_bytes(bytes)),
                        bytes.iter().any(|&x| one(x)),
                        "{bytes:?}"
                    );
                }
            }
        }
    }
}
