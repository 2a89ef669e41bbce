//! De-obfuscation: a view of the text in which values written to slip past
//! a scanner read as they would plainly, with a map from every byte of the
//! view back to the input.
//!
//! What the view undoes:
//!
//! - Unicode compatibility forms whose compatibility decomposition is ASCII
//!   (full-width `４１１１` and `＠`, mathematical letters and digits,
//!   no-break and ideographic spaces, ligatures), one character at a time,
//!   by `unicode-normalization`; anything that decomposes to non-ASCII
//!   (`é`, Japanese and Chinese text) stays as written.
//! - Invisible format characters (general category `Cf`: zero-width space
//!   and joiners, word joiner, byte-order mark, soft hyphen, bidi controls),
//!   which are dropped.
//! - E-mail addresses with the `@` or the dots spelled out in words:
//!   `jane at example dot com`, `jane [at] example [dot] com`,
//!   `jane(at)example(dot)org`, `jana arroba ejemplo punto es`. A spaced
//!   `at` counts only when a dot is spelled too: "the form is at
//!   example.com" names a site, not an address.
//!
//! Clean text costs one check: the view is built only when the text holds a
//! character the view changes, or a spelled `dot`/bracketed `at`. Every
//! recognizer then scans the view too, and each candidate maps back to the
//! smallest span of the input that covers it, invisible characters at its
//! edges included, so that the placeholder replaces the whole written value.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use unicode_normalization::char::decompose_compatible;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::kind::FindingKind;
use crate::policy::Policy;
use crate::recognize::{Candidate, Origin, Span};

/// The candidates every recognizer of `policy` finds in the de-obfuscated
/// view of `text`, in `text`'s coordinates; `None` when the text needs no
/// view (and neither will its scrubbed form, whose placeholders are plain
/// ASCII).
pub(crate) fn candidates(text: &str, policy: &Policy) -> Option<Vec<Candidate>> {
    let view = View::of(text)?;
    let mut found = Vec::new();
    for recognizer in policy.recognizers() {
        recognizer.scan(&view.text, &mut found);
    }
    found.retain(|c| !c.span.is_empty());
    for c in &mut found {
        c.span = view.to_input(c.span);
    }
    Some(found)
}

/// One stretch of the view that differs from the input: `view` bytes of the
/// view stand for `input` bytes of the input (empty `view` for a dropped
/// character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    view: Span,
    input: Span,
}

/// The de-obfuscated text and where its changed stretches come from. Bytes
/// between pieces are the input's, shifted.
#[derive(Debug)]
pub(crate) struct View {
    text: String,
    /// In order, in both coordinates.
    pieces: Vec<Piece>,
}

/// One change: the input bytes `input` read as `with`.
#[derive(Debug)]
struct Edit {
    input: Span,
    with: String,
}

impl View {
    /// The view of `text`, or `None` when it would read the same.
    pub(crate) fn of(text: &str) -> Option<View> {
        let folds = (!text.is_ascii()).then(|| fold_chars(text)).flatten();
        let folded = folds.as_ref().map(|edits| View::build(text, edits));
        let base = folded.as_ref().map_or(text, |v| v.text.as_str());
        let spelled = spelled_emails(base);
        match (folded, spelled.is_empty()) {
            (None, true) => None,
            (Some(view), true) => Some(view),
            (folded, false) => {
                // Spelled markers, in input coordinates, replace the
                // character folds they cover.
                let mut edits: Vec<Edit> = spelled
                    .into_iter()
                    .map(|(span, with)| Edit {
                        input: folded.as_ref().map_or(span, |v| v.to_input(span)),
                        with: with.to_owned(),
                    })
                    .collect();
                let covered = |e: &Edit| {
                    edits
                        .iter()
                        .any(|s| s.input.start <= e.input.start && e.input.end <= s.input.end)
                };
                let kept: Vec<Edit> = folds
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|e| !covered(e))
                    .collect();
                edits.extend(kept);
                edits.sort_by_key(|e| e.input.start);
                Some(View::build(text, &edits))
            }
        }
    }

    /// `text` with `edits` (sorted, disjoint) applied.
    fn build(text: &str, edits: &[Edit]) -> View {
        let mut out = String::with_capacity(text.len());
        let mut pieces = Vec::with_capacity(edits.len());
        let mut at = 0;
        for e in edits {
            out.push_str(&text[at..e.input.start]);
            let start = out.len();
            out.push_str(&e.with);
            pieces.push(Piece {
                view: Span::new(start, out.len()),
                input: e.input,
            });
            at = e.input.end;
        }
        out.push_str(&text[at..]);
        View { text: out, pieces }
    }

    /// The smallest input span covering view span `span`, widened over
    /// dropped characters at either edge.
    fn to_input(&self, span: Span) -> Span {
        Span::new(self.input_start(span.start), self.input_end(span.end))
    }

    fn input_start(&self, pos: usize) -> usize {
        let pieces = &self.pieces;
        // Pieces wholly before `pos`; a dropped character at `pos` is not.
        let i = pieces
            .partition_point(|p| p.view.end < pos || (p.view.end == pos && p.view.start < pos));
        if let Some(p) = pieces.get(i)
            && p.view.start <= pos
        {
            return p.input.start;
        }
        match i.checked_sub(1).map(|k| pieces[k]) {
            Some(p) => pos - p.view.end + p.input.end,
            None => pos,
        }
    }

    fn input_end(&self, pos: usize) -> usize {
        let pieces = &self.pieces;
        // Pieces that start before `pos`, and dropped characters at it.
        let i = pieces
            .partition_point(|p| p.view.start < pos || (p.view.start == pos && p.view.end == pos));
        match i.checked_sub(1).map(|k| pieces[k]) {
            Some(p) if p.view.end >= pos => p.input.end,
            Some(p) => pos - p.view.end + p.input.end,
            None => pos,
        }
    }
}

/// The character folds of `text`: format characters dropped, compatibility
/// forms with an ASCII decomposition replaced by it. `None` unless one of
/// them can hide a value: a dropped character, a letter, digit or `@`
/// written in another form, or an odd space between two digits.
fn fold_chars(text: &str) -> Option<Vec<Edit>> {
    let bytes = text.as_bytes();
    let digit = |at: Option<&u8>| at.is_some_and(u8::is_ascii_digit);
    let mut edits = Vec::new();
    let mut worth = false;
    let mut at = 0;
    while let Some(start) = next_non_ascii(bytes, at) {
        let c = text[start..].chars().next().expect("a char starts here");
        let input = Span::new(start, start + c.len_utf8());
        at = input.end;
        if c.general_category() == GeneralCategory::Format {
            worth = true;
            edits.push(Edit {
                input,
                with: String::new(),
            });
            continue;
        }
        // Most letters (é, ü, kana, ideographs) are themselves or decompose
        // to non-ASCII: ask first, allocate only for a fold.
        let mut ascii = true;
        decompose_compatible(c, |d| ascii &= d.is_ascii());
        if !ascii {
            continue;
        }
        let mut with = String::new();
        decompose_compatible(c, |d| with.push(d));
        worth |= with.bytes().any(|b| b.is_ascii_alphanumeric() || b == b'@')
            || (with == " "
                && digit(start.checked_sub(1).map(|i| &bytes[i]))
                && digit(bytes.get(input.end)));
        edits.push(Edit { input, with });
    }
    worth.then_some(edits)
}

/// The first byte at or after `from` that is not ASCII. Blocks of 16 ASCII
/// bytes are skipped by a loop the compiler turns into vector instructions.
fn next_non_ascii(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(block) = bytes.get(at..at + 16) {
        if block.iter().fold(0, |any, b| any | b) >= 0x80 {
            break;
        }
        at += 16;
    }
    Some(at + bytes.get(at..)?.iter().position(|b| !b.is_ascii())?)
}

/// Words that spell `@`, and `.`, in the languages the gateway hears.
const AT_WORDS: [&str; 4] = ["at", "arroba", "arobase", "chiocciola"];
const DOT_WORDS: [&str; 6] = ["dot", "punto", "ponto", "point", "punkt", "punt"];

/// Of those, the everyday English and French words: a separator in
/// brackets, or once another marker opened the search, but never a marker
/// on their own ("at this point" opens no search).
const EVERYDAY_WORDS: [&str; 2] = ["at", "point"];

/// The words of `words` that stand for a separator on their own (spaced),
/// in any case.
fn spaced(words: &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    words
        .iter()
        .copied()
        .filter(|w| !EVERYDAY_WORDS.contains(w))
}

/// What makes a text worth the spelled-address search: a spelled
/// separator standing alone ([`spaced`]), or an `at`, `dot`, `@` or `.` in
/// brackets.
static MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    const BRACKETED: [&str; 16] = [
        "[at", "(at", "{at", "[ at", "( at", "[dot", "(dot", "{dot", "[ dot", "( dot", "[@", "(@",
        "{@", "[.", "(.", "{.",
    ];
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(spaced(&DOT_WORDS).chain(spaced(&AT_WORDS)).chain(BRACKETED))
        .expect("a few literal markers build an automaton")
});

/// Whether a [`MARKERS`] hit at `at` is a marker: a bracket, or a word
/// that stands for a separator on its own ([`spaced`]) with a space on
/// either side.
fn is_marker(text: &str, at: usize) -> bool {
    let bytes = text.as_bytes();
    if matches!(bytes[at], b'[' | b'(' | b'{') {
        return true;
    }
    let len = bytes[at..]
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(bytes.len() - at);
    let word = &text[at..at + len];
    at > 0
        && bytes[at - 1] == b' '
        && bytes.get(at + len) == Some(&b' ')
        && spaced(&AT_WORDS)
            .chain(spaced(&DOT_WORDS))
            .any(|w| w.eq_ignore_ascii_case(word))
}

/// An `@` in any spelling: a window without one holds no address.
static AT_FORMS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(
            ["@", " at ", "[at", "(at", "{at", "<at", "[ at", "( at"]
                .into_iter()
                .chain(spaced(&AT_WORDS)),
        )
        .expect("a few literal forms build an automaton")
});

/// `[at]`, `(dot)`, ` at `, ` dot `: a spelled separator, as a regex.
fn separator(words: &[&str], symbol: &str) -> String {
    let words = words.join("|");
    format!(
        r"[ \t]*[\[({{<][ \t]*(?i:{words}|{symbol})[ \t]*[\])}}>][ \t]*|[ \t]+(?i:{words})[ \t]+"
    )
}

/// An address with its `@` or a dot spelled: local part, `@`, domain, with
/// each separator plain or spelled. Groups `at` and `dots` tell which.
static SPELLED: LazyLock<Regex> = LazyLock::new(|| {
    let at = separator(&AT_WORDS, "@");
    let dot = separator(&DOT_WORDS, r"\.");
    let pattern = format!(
        r"(?-u:\b)[A-Za-z0-9_%+\-]+(?:(?:\.|{dot})[A-Za-z0-9_%+\-]+)*(?P<at>@|{at})[A-Za-z0-9\-]+(?:(?:\.|{dot})[A-Za-z0-9\-]+)*(?:\.|{dot})[A-Za-z]{{2,24}}(?-u:\b)"
    );
    Regex::new(&pattern).expect("the spelled-address pattern compiles")
});

/// The separators inside a spelled address: group `at` or `dot`.
static SEPARATORS: LazyLock<Regex> = LazyLock::new(|| {
    let at = separator(&AT_WORDS, "@");
    let dot = separator(&DOT_WORDS, r"\.");
    Regex::new(&format!(r"(?P<at>{at})|(?P<dot>{dot})")).expect("the separator pattern compiles")
});

/// A separator and a domain right after a match: the match was the local
/// part of a longer address ("me at jane dot doe at gmail dot com"). A
/// separator followed by anything else ("… dot com at AaaApA/bB0+…") does
/// not make the match part of another address.
static AT_NEXT: LazyLock<Regex> = LazyLock::new(|| {
    let at = separator(&AT_WORDS, "@");
    let dot = separator(&DOT_WORDS, r"\.");
    Regex::new(&format!(
        r"^(?:@|{at})[A-Za-z0-9\-]+(?:(?:\.|{dot})[A-Za-z0-9\-]+)*(?:\.|{dot})[A-Za-z]{{2,24}}(?-u:\b)"
    ))
    .expect("the at pattern compiles")
});

/// The spelled separators of the addresses in `text`, each with the
/// character it stands for.
fn spelled_emails(text: &str) -> Vec<(Span, &'static str)> {
    let mut edits = Vec::new();
    let mut windows: Vec<Span> = Vec::new();
    for m in MARKERS.find_iter(text) {
        if !is_marker(text, m.start()) {
            continue;
        }
        let window = words_around(text, m.start());
        match windows.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => windows.push(window),
        }
    }
    for window in windows {
        if !AT_FORMS.is_match(&text[window.start..window.end]) {
            continue;
        }
        let mut from = window.start;
        while let Some(m) = SPELLED.find_at(&text[..window.end], from) {
            let found = Span::new(m.start(), m.end());
            // "email me at jane dot doe at gmail dot com": the address is
            // the part before the second `at`.
            if AT_NEXT.is_match(&text[m.end()..window.end]) {
                let caps = SPELLED
                    .captures_at(&text[..window.end], m.start())
                    .expect("found once, found again");
                from = caps.name("at").map_or(m.end(), |a| a.end());
                continue;
            }
            from = m.end();
            if let Some(marks) = spelled_marks(m.as_str()) {
                edits.extend(
                    marks
                        .into_iter()
                        .map(|(span, with)| (span.shifted(found.start), with)),
                );
            }
        }
    }
    edits
}

/// The separators of one address to replace by `@` and `.`, or `None` if
/// none is spelled, or if the words read as English prose: a spaced `at`
/// without a spelled dot names a place ("the form is at example.com"), and
/// a spaced `at` with `point` is "at the point of sale", not French.
fn spelled_marks(address: &str) -> Option<Vec<(Span, &'static str)>> {
    let mut marks = Vec::new();
    let (mut spaced_at, mut arobase, mut dot_word, mut point) = (false, false, false, false);
    for s in SEPARATORS.captures_iter(address) {
        let whole = s.get(0).expect("group 0 is the match");
        let span = Span::new(whole.start(), whole.end());
        let word = whole.as_str().trim().to_ascii_lowercase();
        if s.name("at").is_some() {
            spaced_at = !word.starts_with(['[', '(', '{', '<']);
            arobase = word == "arobase";
            marks.push((span, "@"));
        } else {
            dot_word = true;
            point |= word == "point";
            marks.push((span, "."));
        }
    }
    let english = spaced_at && (!dot_word || (point && !arobase));
    (!marks.is_empty() && !english).then_some(marks)
}

/// The whole words within 128 bytes either side of byte `at`, on its
/// line: room for an address around its first spelled separator. A word
/// cut by those bounds is taken whole, up to 128 bytes more.
fn words_around(text: &str, at: usize) -> Span {
    const REACH: usize = 128;
    let bytes = text.as_bytes();
    let floor = at.saturating_sub(2 * REACH);
    let ceiling = (at + 2 * REACH).min(bytes.len());
    let line_start = bytes[floor..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(floor, |i| floor + i + 1);
    let line_end = bytes[at..ceiling]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(ceiling, |i| at + i);
    let near = at.saturating_sub(REACH).max(line_start);
    let mut lo = bytes[line_start..near]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(line_start, |i| line_start + i + 1);
    let far = (at + REACH).min(line_end);
    let mut hi = bytes[far..line_end]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(line_end, |i| far + i);
    while !text.is_char_boundary(lo) {
        lo += 1;
    }
    while !text.is_char_boundary(hi) {
        hi -= 1;
    }
    Span::new(lo, hi.max(lo))
}

/// Keys split by a stray space: for each key or token among `merged`
/// (sorted), a candidate over it and the token on either side of it, past
/// one space, when that token reads as the other part of a random body:
/// eight or more letters, digits, `_` and `-`, with both letters and
/// digits, standing apart (space, punctuation or the text's edge beyond).
pub(crate) fn split_keys(text: &str, merged: &[Candidate]) -> Vec<Candidate> {
    let bytes = text.as_bytes();
    let body = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    let apart = |b: Option<&u8>| {
        b.is_none_or(|b| b.is_ascii_whitespace() || b".,;:!?()[]{}<>\"'`".contains(b))
    };
    let part = |part: &[u8]| {
        part.len() >= 8
            && part.iter().any(u8::is_ascii_digit)
            && part.iter().any(u8::is_ascii_alphabetic)
    };
    let mut out = Vec::new();
    for key in merged {
        if key.kind != FindingKind::ApiKey {
            continue;
        }
        let mut span = key.span;
        if bytes.get(span.end) == Some(&b' ') {
            let start = span.end + 1;
            let end = bytes[start..]
                .iter()
                .position(|b| !body(b))
                .map_or(bytes.len(), |i| start + i);
            if part(&bytes[start..end]) && apart(bytes.get(end)) {
                span.end = end;
            }
        }
        if span.start > 0 && bytes[span.start - 1] == b' ' {
            let end = span.start - 1;
            let start = bytes[..end]
                .iter()
                .rposition(|b| !body(b))
                .map_or(0, |i| i + 1);
            if part(&bytes[start..end]) && (start == 0 || apart(bytes.get(start - 1))) {
                span.start = start;
            }
        }
        if span != key.span {
            out.push(Candidate {
                span,
                origin: Origin::Recognizer {
                    name: "deobfuscate",
                    rule: "split_key",
                },
                ..*key
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
