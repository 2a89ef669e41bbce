//! Running the detectors in their windows: the first scan of the input and
//! the re-scan of scrubbed text near its placeholders.

use super::accept::spare_placeholders;
use super::compile::AFTER;
use super::prefilter::{
    AroundHit, Window, Windows, around, end_at_whitespace, merge_windows, sees_a_span,
};
use super::{Detector, DetectorSet, SecretLayout};
use crate::recognize::{Candidate, Origin, Span};
use crate::render::Rendered;
use crate::shape::Margins;

/// Past this share of the text in windows, one pass over the whole text is cheaper.
const DENSE: f64 = 0.5;

/// How many bytes of text the detectors go through together (see
/// [`DetectorSet::run`]): small enough to stay in a core's cache.
const STRETCH: usize = 64 * 1024;

impl DetectorSet {
    /// Run every detector that can match `text`; push what passes its
    /// checks, and return the windows each detector ran in.
    ///
    /// Detectors with keywords or a shape run only in windows around their
    /// prefilter hits, so the cost grows with the number of hits, not with
    /// the number of detectors times the length of the text.
    pub(super) fn scan_first(&self, text: &str, out: &mut Vec<Candidate>) -> Windows {
        let whole = Span::new(0, text.len());
        let mut windows: Vec<Window> = self
            .always_on
            .iter()
            .map(|&detector| Window {
                detector,
                span: whole,
            })
            .collect();
        self.prefilter(text, whole, &mut windows);
        merge_windows(&mut windows, self.detectors.len());
        self.run(text, &windows, out);
        Windows(windows)
    }

    /// Scan `rendered` (the input with placeholders in place of what was
    /// found) again wherever it can differ from what
    /// [`DetectorSet::scan_first`] saw: in windows that overlap a
    /// placeholder, or start close enough after one for a context word in it
    /// to count. The first scan's windows are carried over; only the text
    /// near each placeholder is searched for new cue words and shapes.
    pub(super) fn scan_again(
        &self,
        rendered: &Rendered,
        first: &Windows,
        out: &mut Vec<Candidate>,
    ) {
        /// How far from a placeholder a new cue word or shape is looked for:
        /// the longest keyword, and then on to the next whitespace.
        const NEAR: usize = 32;
        /// How far from a placeholder a detector without a prefilter looks.
        const MARGIN: usize = 192;
        let replacements = rendered.replacements();
        if replacements.is_empty() {
            // Nothing was replaced: the text is the one the first scan saw.
            return;
        }
        let text = rendered.text();
        let marks: Vec<Span> = replacements.iter().map(|r| r.output).collect();
        let values: Vec<Span> = replacements.iter().map(|r| r.input).collect();
        // A window matters if it sees a placeholder. The same test on the
        // replaced values skips most windows before they are mapped: the text
        // between a window and the last value before it is unchanged.
        let mut windows: Vec<Window> = first
            .0
            .iter()
            .filter(|&&w| {
                !self.always_on.contains(&w.detector)
                    && sees_a_span(&values, self.extent(w), self.reach[w.detector])
            })
            .map(|&w| {
                let start = rendered.to_output(w.span.start, false);
                let end = match self.around_hits[w.detector] {
                    AroundHit::At { .. } => start,
                    AroundHit::Window { .. } => rendered.to_output(w.span.end, true),
                };
                Window {
                    detector: w.detector,
                    span: Span::new(start, end),
                }
            })
            .collect();
        // Placeholders are in order, and so are the regions around them.
        let near = |margin| {
            let mut regions: Vec<Span> = Vec::with_capacity(marks.len());
            for &mark in &marks {
                let region = around(
                    text,
                    mark,
                    Margins {
                        before: margin,
                        after: margin,
                    },
                );
                match regions.last_mut() {
                    Some(last) if region.start <= last.end => last.end = last.end.max(region.end),
                    _ => regions.push(region),
                }
            }
            regions
        };
        if !self.always_on.is_empty() {
            let regions = near(MARGIN);
            for &detector in &self.always_on {
                windows.extend(regions.iter().map(|&span| Window { detector, span }));
            }
        }
        for region in near(NEAR) {
            self.prefilter(text, region, &mut windows);
        }
        merge_windows(&mut windows, self.detectors.len());
        windows.retain(|&w| sees_a_span(&marks, self.extent(w), self.reach[w.detector]));
        self.run(text, &windows, out);
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
        for merged in windows.chunk_by(|a, b| a.detector == b.detector) {
            let index = merged[0].detector;
            let detector = &self.detectors[index];
            let covered: usize = merged.iter().map(|w| w.span.len()).sum();
            if detector.anchored.is_none() && covered as f64 > DENSE * text.len() as f64 {
                let mut slots = detector.capture_slots();
                detector.scan(index, text, Span::new(0, text.len()), slots.as_mut(), out);
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
            out.retain(|c| !c.span.is_empty());
        }
    }
}

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
        let count = todo.partition_point(|w| w.span.start < limit);
        if count == 0 {
            return;
        }
        self.done += count;
        let index = todo[0].detector;
        let detector = &set.detectors[index];
        if let Some(anchored) = &detector.anchored {
            let mut captures = anchored.create_captures();
            for w in &todo[..count] {
                detector.scan_at(anchored, index, text, w.span.start, &mut captures, out);
            }
        } else {
            let mut slots = detector.capture_slots();
            for w in &todo[..count] {
                detector.scan(index, text, w.span, slots.as_mut(), out);
            }
        }
    }
}

/// One match of a detector's pattern.
struct Hit {
    /// The whole match.
    whole: Span,
    /// The part to redact: the `secret` group, or the whole match; `None`
    /// when the validator can tell from the whole match that no part of it
    /// passes.
    secret: Option<Span>,
}

impl Detector {
    /// Run this detector on `text[window]` (the text before the window
    /// still counts for `\b` and context words).
    fn scan(
        &self,
        index: usize,
        text: &str,
        window: Span,
        mut slots: Option<&mut regex::CaptureLocations>,
        out: &mut Vec<Candidate>,
    ) {
        let mut hi = window.end;
        let mut at = window.start;
        // The last match the validator ruled out as a whole: so is every
        // match inside it.
        let mut ruled_out = None;
        while at < hi {
            let Some(Hit { whole, secret }) =
                self.next_match(&text[..hi], at, ruled_out, slots.as_deref_mut())
            else {
                break;
            };
            if whole.end == hi && hi < text.len() {
                // The match may go on past the window: widen it and look again.
                hi = end_at_whitespace(text, hi + 4 * AFTER);
                continue;
            }
            if secret.is_none() {
                if let SecretLayout::AfterFirstCharRun { limit } = self.secret_layout
                    && whole.len() < limit
                {
                    // Every match that starts inside this one ends where its
                    // run does: inside it, and so ruled out too.
                    at = whole.end;
                    continue;
                }
                ruled_out = Some(whole);
            }
            match secret.and_then(|secret| Some((secret.start, self.accepted_end(text, secret)?))) {
                Some((start, end)) => {
                    out.push(self.candidate(index, Span::new(start, end)));
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
                    (Some(_), Some(secret)) => secret,
                    (Some(whole), None) => whole.span(),
                    (None, _) => return,
                }
            }
            None => match anchored.search(&input) {
                Some(whole) => whole.span(),
                None => return,
            },
        };
        let secret = Span::new(secret.start, secret.end);
        if let Some(end) = self.accepted_end(text, secret) {
            out.push(self.candidate(index, Span::new(secret.start, end)));
        }
    }

    /// Capture slots, for a row with a `secret` group: the others skip the
    /// capture engine.
    fn capture_slots(&self) -> Option<regex::CaptureLocations> {
        self.secret_group.map(|_| self.regex.capture_locations())
    }

    /// A finding of this detector (number `index` in its set) at `span`.
    fn candidate(&self, index: usize, span: Span) -> Candidate {
        Candidate {
            span,
            kind: self.kind,
            origin: Origin::Detector(index),
            confidence: self.confidence,
        }
    }

    /// The next match at or after `at`. Rows without a `secret` group skip
    /// the capture engine. A match inside `ruled_out` (one the validator
    /// ruled out as a whole) is ruled out without asking the validator again.
    fn next_match(
        &self,
        haystack: &str,
        at: usize,
        ruled_out: Option<Span>,
        slots: Option<&mut regex::CaptureLocations>,
    ) -> Option<Hit> {
        let (Some(group), Some(slots)) = (self.secret_group, slots) else {
            let m = self.regex.find_at(haystack, at)?;
            let whole = Span::new(m.start(), m.end());
            return Some(Hit {
                whole,
                secret: Some(whole),
            });
        };
        // Finding the groups costs about three times finding the match: a
        // validator that can rule out the whole match saves it, and so does
        // a secret that is all of the match after its first character.
        let checks_within = self.validator.filter(|v| v.checks_within());
        let after_first_char = self.secret_layout != SecretLayout::Anywhere;
        if checks_within.is_some() || after_first_char {
            let m = self.regex.find_at(haystack, at)?;
            let whole = Span::new(m.start(), m.end());
            if let Some(validator) = checks_within {
                // What `may_accept_within` rules out, it rules out in every part.
                let inside =
                    ruled_out.is_some_and(|r| r.start <= whole.start && whole.end <= r.end);
                if inside || !validator.may_accept_within(m.as_str()) {
                    return Some(Hit {
                        whole,
                        secret: None,
                    });
                }
            }
            // At the start of the text the first character may belong to
            // the secret (`^` took no character): the capture search tells.
            if after_first_char && whole.start > 0 {
                let first = m.as_str().chars().next().map_or(0, char::len_utf8);
                return Some(Hit {
                    whole,
                    secret: Some(Span::new(whole.start + first, whole.end)),
                });
            }
        }
        let m = self.regex.captures_read_at(slots, haystack, at)?;
        let whole = Span::new(m.start(), m.end());
        let secret = slots
            .get(group)
            .map_or(whole, |(start, end)| Span::new(start, end));
        Some(Hit {
            whole,
            secret: Some(secret),
        })
    }
}
