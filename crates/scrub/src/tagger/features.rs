//! Tokens and their features, shared by inference and by the training
//! pipeline (`models/tagger/`), so the two can never drift apart.
//!
//! A token is a run of letters and digits, or one other non-space
//! character; a placeholder (`[PERSON]`) is one token. Each feature is a
//! 32-bit FNV-1a hash of a template number and a value (the lower-cased
//! word, its shape, a neighbour's word, a vocabulary hit), so the model
//! ships no feature strings and the hashes are computed once per token.

use std::sync::LazyLock;

use crate::engine::placeholder_len;

/// One token of a region: its byte range and whether a line break precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub start: usize,
    pub end: usize,
    pub line_start: bool,
    pub placeholder: bool,
}

/// Split `text` into tokens, appending to `out`.
pub(crate) fn tokenize(text: &str, out: &mut Vec<Token>) {
    let mut line_start = true;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c.is_whitespace() {
            line_start |= c == '\n';
            continue;
        }
        let mut end = at + c.len_utf8();
        let mut placeholder = false;
        if c == '[' {
            if let Some(len) = placeholder_len(&text[at..]) {
                end = at + len;
                placeholder = true;
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
            }
        } else if c.is_alphanumeric() {
            while let Some(&(i, next)) = chars.peek() {
                if !next.is_alphanumeric() {
                    break;
                }
                end = i + next.len_utf8();
                chars.next();
            }
        }
        out.push(Token {
            start: at,
            end,
            line_start,
            placeholder,
        });
        line_start = false;
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

/// The feature id of template `template` with a value already hashed.
fn feature(template: u8, value: u32) -> u32 {
    fnv(fnv(FNV_OFFSET, &[template]), &value.to_le_bytes())
}

fn sorted_list(text: &'static str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = text.lines().filter(|l| !l.is_empty()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Faker's first names and the census first names.
static FIRST: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v = sorted_list(include_str!("vocab/first.txt"));
    v.extend(sorted_list(include_str!("../names/first.txt")));
    v.sort_unstable();
    v.dedup();
    v
});
/// Faker's last names (the census surnames are too many ordinary words).
static LAST: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| sorted_list(include_str!("vocab/last.txt")));
/// Street words from Faker's address providers plus common abbreviations.
static STREET: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v = sorted_list(include_str!("vocab/street.txt"));
    v.extend(sorted_list(include_str!("vocab/street_extra.txt")));
    v.sort_unstable();
    v.dedup();
    v
});
/// Words that say birth or age, in the languages of the corpus.
static BIRTH: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| sorted_list(include_str!("vocab/birth.txt")));
/// Month names and abbreviations, in the languages of the corpus.
static MONTH: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| sorted_list(include_str!("vocab/month.txt")));
/// Words of CRM and automation talk that are capitalised but no name:
/// tools, plans, steps, field names.
static TOOL: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| sorted_list(include_str!("vocab/tool.txt")));

/// The cue words the gate opens at: birth cues and name cues that may come
/// before a lower-case name.
pub(crate) fn gate_cues() -> Vec<&'static str> {
    let mut cues: Vec<&'static str> = BIRTH.iter().copied().filter(|w| w.len() >= 3).collect();
    cues.extend(sorted_list(include_str!("vocab/cue.txt")));
    cues.sort_unstable();
    cues.dedup();
    cues
}

/// Whether `text` holds a street word ("Straße", "Rd", "ulica") or a
/// run of four or more digits (a postcode, a house and flat number).
pub(crate) fn looks_like_address(text: &str) -> bool {
    let mut digits = 0;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits += 1;
            if digits >= 4 {
                return true;
            }
        } else {
            digits = 0;
        }
        if c.is_alphabetic() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            if has(&STREET, &word) {
                return true;
            }
            // "Hauptstraße", "Kungsgatan", "Bakkevej": a street word as suffix.
            if [
                "straße", "strasse", "gasse", "gatan", "vägen", "vej", "weg", "straat", "laan",
                "katu", "tie", "allee", "platz", "plein", "gade",
            ]
            .iter()
            .any(|s| word.len() > s.len() && word.ends_with(s))
            {
                return true;
            }
            word.clear();
        }
    }
    false
}

fn has(list: &[&str], word: &str) -> bool {
    list.binary_search(&word).is_ok()
}

/// Per-token values hashed once, read by the token and its neighbours.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    word: u32,
    shape: u32,
    vocab: u8,
}

const V_FIRST: u8 = 1;
const V_LAST: u8 = 2;
const V_STREET: u8 = 4;
const V_BIRTH: u8 = 8;
const V_MONTH: u8 = 16;
const V_TOOL: u8 = 32;
const V_TITLE: u8 = 64;
const V_DIGITS: u8 = 128;

/// Reused buffers for computing features.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    lower: String,
    shape: String,
    cells: Vec<Cell>,
}

/// The feature ids of every token of `text`, appended to `out` with their
/// token's index: `out[offsets[i]..offsets[i + 1]]` are token `i`'s.
pub(crate) fn features(
    text: &str,
    tokens: &[Token],
    scratch: &mut Scratch,
    out: &mut Vec<u32>,
    offsets: &mut Vec<usize>,
) {
    scratch.cells.clear();
    for t in tokens {
        let word = &text[t.start..t.end];
        scratch.lower.clear();
        scratch.shape.clear();
        let mut vocab = 0;
        if t.placeholder {
            scratch.lower.push_str("[ph]");
            scratch.shape.push_str("[ph]");
        } else {
            let mut last = ' ';
            let mut run = 0;
            for c in word.chars() {
                scratch.lower.extend(c.to_lowercase());
                let s = if c.is_uppercase() {
                    'X'
                } else if c.is_lowercase() {
                    'x'
                } else if c.is_ascii_digit() {
                    'd'
                } else {
                    c
                };
                run = if s == last { run + 1 } else { 1 };
                if run <= 2 {
                    scratch.shape.push(s);
                }
                last = s;
            }
            let lower = scratch.lower.as_str();
            for (list, bit) in [
                (&*FIRST, V_FIRST),
                (&*LAST, V_LAST),
                (&*STREET, V_STREET),
                (&*BIRTH, V_BIRTH),
                (&*MONTH, V_MONTH),
                (&*TOOL, V_TOOL),
            ] {
                if has(list, lower) {
                    vocab |= bit;
                }
            }
            let mut chars = word.chars();
            if chars.next().is_some_and(char::is_uppercase) && chars.all(|c| !c.is_uppercase()) {
                vocab |= V_TITLE;
            }
            if word.bytes().all(|b| b.is_ascii_digit()) {
                vocab |= V_DIGITS;
            }
        }
        scratch.cells.push(Cell {
            word: fnv(FNV_OFFSET, scratch.lower.as_bytes()),
            shape: fnv(FNV_OFFSET, scratch.shape.as_bytes()),
            vocab,
        });
    }
    let cells = &scratch.cells;
    let n = tokens.len();
    let at = |i: isize| -> Option<&Cell> { usize::try_from(i).ok().and_then(|i| cells.get(i)) };
    offsets.clear();
    for i in 0..n {
        offsets.push(out.len());
        let t = tokens[i];
        let c = cells[i];
        let word = &text[t.start..t.end];
        out.push(feature(0, 0));
        out.push(feature(1, c.word));
        out.push(feature(2, c.shape));
        // Affixes of the lower-cased word (by chars).
        if !t.placeholder && word.chars().count() > 3 {
            let lower: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
            let k = lower.len();
            let p3: String = lower[..3].iter().collect();
            let s3: String = lower[k - 3..].iter().collect();
            let s2: String = lower[k - 2..].iter().collect();
            out.push(feature(3, fnv(FNV_OFFSET, p3.as_bytes())));
            out.push(feature(4, fnv(FNV_OFFSET, s3.as_bytes())));
            out.push(feature(5, fnv(FNV_OFFSET, s2.as_bytes())));
        }
        for bit in 0..8 {
            if c.vocab & (1 << bit) != 0 {
                out.push(feature(6, bit));
            }
        }
        if c.vocab & V_DIGITS != 0 {
            out.push(feature(7, word.len().min(9) as u32));
        }
        if t.line_start {
            out.push(feature(8, 1));
        }
        if tokens.get(i + 1).is_some_and(|n| n.line_start) || i + 1 == n {
            out.push(feature(8, 2));
        }
        if i == 0 {
            out.push(feature(8, 3));
        }
        let i = i as isize;
        for (template, d) in [(10u8, -1isize), (11, 1), (12, -2), (13, 2)] {
            match at(i + d) {
                Some(o) => {
                    out.push(feature(template, o.word));
                    out.push(feature(template + 10, o.shape));
                    for bit in 0..8u32 {
                        if o.vocab & (1 << bit) != 0 {
                            out.push(feature(template + 20, bit));
                        }
                    }
                }
                None => out.push(feature(template, 0)),
            }
        }
        if let Some(p) = at(i - 1) {
            out.push(feature(40, p.shape ^ c.shape.rotate_left(7)));
            out.push(feature(42, p.word ^ c.shape.rotate_left(7)));
        }
        if let Some(nx) = at(i + 1) {
            out.push(feature(41, c.shape ^ nx.shape.rotate_left(7)));
            out.push(feature(43, c.shape ^ nx.word.rotate_left(7)));
        }
        // Any birth cue in the three tokens before (a date after "born on").
        let cue = (1..=4).any(|d| at(i - d).is_some_and(|o| o.vocab & V_BIRTH != 0));
        if cue {
            out.push(feature(44, 1));
        }
    }
    offsets.push(out.len());
}
