//! Tokens and their features, shared by inference and by the training
//! pipeline (`models/tagger/`), so the two can never drift apart.
//!
//! A token is a run of letters and digits, or one other non-space
//! character; a placeholder (`[PERSON]`) is one token. Each feature is a
//! 32-bit FNV-1a hash of a template number and a value (the lower-cased
//! word, its shape, a neighbour's word, a vocabulary hit), so the model
//! ships no feature strings and the hashes are computed once per token,
//! from the token's bytes as they are read: no string is built per token
//! but the lower-cased word, in one reused buffer.

use std::collections::HashMap;
use std::sync::LazyLock;

use rustc_hash::FxBuildHasher;

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
    let bytes = text.as_bytes();
    let mut line_start = true;
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        let (end, placeholder) = if b.is_ascii() {
            // `char::is_whitespace` among ASCII: tab to carriage return, space.
            if matches!(b, b'\t'..=b'\r' | b' ') {
                line_start |= b == b'\n';
                at += 1;
                continue;
            }
            if b == b'[' {
                match placeholder_len(&text[at..]) {
                    Some(len) => (at + len, true),
                    None => (at + 1, false),
                }
            } else if b.is_ascii_alphanumeric() {
                (alphanumeric_end(text, at + 1), false)
            } else {
                (at + 1, false)
            }
        } else {
            let c = char_at(text, at);
            let end = at + c.len_utf8();
            if c.is_whitespace() {
                at = end;
                continue;
            }
            if c.is_alphanumeric() {
                (alphanumeric_end(text, end), false)
            } else {
                (end, false)
            }
        };
        out.push(Token {
            start: at,
            end,
            line_start,
            placeholder,
        });
        line_start = false;
        at = end;
    }
}

/// The character that starts at byte `at` of `text`.
fn char_at(text: &str, at: usize) -> char {
    text[at..].chars().next().expect("a char starts here")
}

/// The end of the run of letters and digits of `text` from `at` on.
#[inline(always)]
fn alphanumeric_end(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii() {
            if !b.is_ascii_alphanumeric() {
                break;
            }
            at += 1;
        } else {
            let c = char_at(text, at);
            if !c.is_alphanumeric() {
                break;
            }
            at += c.len_utf8();
        }
    }
    at
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

const fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u32).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// Each template number's hash, the start of its features' hashes.
const TEMPLATES: [u32; 64] = {
    let mut t = [0; 64];
    let mut i = 0;
    while i < t.len() {
        t[i] = fnv(FNV_OFFSET, &[i as u8]);
        i += 1;
    }
    t
};

/// The feature id of template `template` with a value already hashed.
fn feature(template: u8, value: u32) -> u32 {
    fnv(TEMPLATES[usize::from(template)], &value.to_le_bytes())
}

fn sorted_list(text: &'static str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = text.lines().filter(|l| !l.is_empty()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines().filter(|l| !l.is_empty())
}

const V_FIRST: u8 = 1;
const V_LAST: u8 = 2;
const V_STREET: u8 = 4;
const V_BIRTH: u8 = 8;
const V_MONTH: u8 = 16;
const V_TOOL: u8 = 32;
const V_TITLE: u8 = 64;
const V_DIGITS: u8 = 128;

/// Every vocabulary word, each with the bits of the lists that hold it:
/// Faker's and the census first names, Faker's last names (the census
/// surnames are too many ordinary words), street words from Faker's address
/// providers plus common abbreviations, words that say birth or age and
/// month names (in the languages of the corpus), and words of CRM and
/// automation talk that are capitalised but no name (tools, plans, steps,
/// field names).
struct Vocab {
    words: HashMap<&'static str, u8, FxBuildHasher>,
    /// The longest word's length in bytes: a longer token is in no list.
    longest: usize,
}

static VOCAB: LazyLock<Vocab> = LazyLock::new(|| {
    let lists: [(&'static str, u8); 8] = [
        (include_str!("vocab/first.txt"), V_FIRST),
        (include_str!("../names/first.txt"), V_FIRST),
        (include_str!("vocab/last.txt"), V_LAST),
        (include_str!("vocab/street.txt"), V_STREET),
        (include_str!("vocab/street_extra.txt"), V_STREET),
        (include_str!("vocab/birth.txt"), V_BIRTH),
        (include_str!("vocab/month.txt"), V_MONTH),
        (include_str!("vocab/tool.txt"), V_TOOL),
    ];
    let mut words: HashMap<&'static str, u8, FxBuildHasher> = HashMap::default();
    for (text, bit) in lists {
        for word in lines(text) {
            *words.entry(word).or_default() |= bit;
        }
    }
    let longest = words.keys().map(|w| w.len()).max().unwrap_or(0);
    Vocab { words, longest }
});

impl Vocab {
    /// The bits of the lists that hold `word`.
    fn bits(&self, word: &str) -> u8 {
        if word.len() > self.longest {
            return 0;
        }
        self.words.get(word).copied().unwrap_or(0)
    }

    /// Whether `word` is in the street list.
    fn is_street(&self, word: &str) -> bool {
        self.bits(word) & V_STREET != 0
    }
}

/// The lists of the vocabulary that hold `word`, in any case (no string
/// is built for a short ASCII word).
fn lists_of(word: &str) -> u8 {
    crate::names::lowered(word, |w| VOCAB.bits(w))
}

/// Whether `word`, in any case, is a first name of the census or of a Faker
/// locale.
pub(crate) fn is_listed_first_name(word: &str) -> bool {
    lists_of(word) & V_FIRST != 0
}

/// Whether `word`, in any case, is a surname of a Faker locale.
pub(crate) fn is_listed_last_name(word: &str) -> bool {
    lists_of(word) & V_LAST != 0
}

/// Whether `word`, in any case, is a first name or a surname of the lists.
pub(crate) fn is_listed_name_word(word: &str) -> bool {
    lists_of(word) & (V_FIRST | V_LAST) != 0
}

/// Whether `word`, in any case, is a word of CRM and automation talk
/// (a tool, plan, step or field name).
pub(crate) fn is_tool_word(word: &str) -> bool {
    lists_of(word) & V_TOOL != 0
}

/// The cue words the gate opens at: birth cues and name cues that may come
/// before a lower-case name.
pub(crate) fn gate_cues() -> Vec<&'static str> {
    let mut cues: Vec<&'static str> = lines(include_str!("vocab/birth.txt"))
        .filter(|w| w.len() >= 3)
        .collect();
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
            if VOCAB.is_street(&word) {
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

/// Per-token values hashed once, read by the token and its neighbours.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cell {
    word: u32,
    shape: u32,
    vocab: u8,
    /// The hashes of the lower-cased word's first three, last three and
    /// last two characters, for a word of more than three characters.
    affixes: Option<[u32; 3]>,
    /// Training only: the word is one the model must not know, so its own
    /// word and its name-list hits add no feature (see [`Cell::forget`]).
    unseen: bool,
}

impl Cell {
    /// Whether the word says birth or age ("born", "DOB", "geboren").
    pub(super) fn is_birth_cue(&self) -> bool {
        self.vocab & V_BIRTH != 0
    }

    /// Make this a word the model never saw: no feature reads the word
    /// itself or its first- and last-name list hits, as at inference for a
    /// name outside every list. Training forgets half of the names (and a
    /// few other words) so that shape and context learn to find the names
    /// no list holds.
    fn forget(&mut self) {
        self.unseen = true;
        self.vocab &= !(V_FIRST | V_LAST);
    }
}

/// Reused buffers for computing features.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    lower: String,
    cells: Vec<Cell>,
}

/// The hash of a token's shape: each character as `X` (upper case), `x`
/// (lower case), `d` (ASCII digit) or itself, at most two of a kind in a
/// row ("Xxxx", "dddd" → "Xxx", "dd").
struct ShapeHash {
    hash: u32,
    last: char,
    run: u32,
}

impl ShapeHash {
    fn new() -> Self {
        ShapeHash {
            hash: FNV_OFFSET,
            last: ' ',
            run: 0,
        }
    }

    fn push(&mut self, c: char) {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        self.run = if s == self.last { self.run + 1 } else { 1 };
        if self.run <= 2 {
            self.hash = fnv(self.hash, s.encode_utf8(&mut [0; 4]).as_bytes());
        }
        self.last = s;
    }
}

/// The affix hashes of `lower` (the lower-cased word): its first three,
/// last three and last two characters.
fn affixes(lower: &str) -> [u32; 3] {
    let head = lower.char_indices().nth(3).map_or(lower.len(), |(i, _)| i);
    let mut tail = lower.char_indices().rev().map(|(i, _)| i);
    let s2 = tail.nth(1).unwrap_or(0);
    let s3 = tail.next().unwrap_or(0);
    [
        fnv(FNV_OFFSET, &lower.as_bytes()[..head]),
        fnv(FNV_OFFSET, &lower.as_bytes()[s3..]),
        fnv(FNV_OFFSET, &lower.as_bytes()[s2..]),
    ]
}

/// The values of one token, hashed.
fn cell(word: &str, placeholder: bool, vocab: &Vocab, lower: &mut String) -> Cell {
    if placeholder {
        let ph = fnv(FNV_OFFSET, b"[ph]");
        return Cell {
            word: ph,
            shape: ph,
            vocab: 0,
            affixes: None,
            unseen: false,
        };
    }
    lower.clear();
    let mut shape = ShapeHash::new();
    let mut count = 0;
    for c in word.chars() {
        count += 1;
        if c.is_ascii() {
            lower.push(c.to_ascii_lowercase());
        } else {
            lower.extend(c.to_lowercase());
        }
        shape.push(c);
    }
    let mut bits = vocab.bits(lower);
    let mut chars = word.chars();
    if chars.next().is_some_and(char::is_uppercase) && chars.all(|c| !c.is_uppercase()) {
        bits |= V_TITLE;
    }
    if word.bytes().all(|b| b.is_ascii_digit()) {
        bits |= V_DIGITS;
    }
    Cell {
        word: fnv(FNV_OFFSET, lower.as_bytes()),
        shape: shape.hash,
        vocab: bits,
        affixes: (count > 3).then(|| affixes(lower)),
        unseen: false,
    }
}

/// The neighbours a token's features read, by slot: the token before, the
/// one after, two before and two after (templates 10 to 13, 20 to 23 and 30
/// to 33 are slot 0 to 3's word, shape and lists).
pub(super) const NEIGHBOURS: [isize; 4] = [-1, 1, -2, 2];

/// The features of a token that depend on its word alone (templates 0 to
/// 7): the bias, the lower-cased word, its shape, affixes, lists and, for a
/// number, its length (`len` bytes).
pub(super) fn own_features(c: &Cell, len: usize, mut push: impl FnMut(u32)) {
    push(feature(0, 0));
    if !c.unseen {
        push(feature(1, c.word));
    }
    push(feature(2, c.shape));
    if let Some([p3, s3, s2]) = c.affixes {
        push(feature(3, p3));
        push(feature(4, s3));
        push(feature(5, s2));
    }
    for bit in 0..8 {
        if c.vocab & (1 << bit) != 0 {
            push(feature(6, bit));
        }
    }
    if c.vocab & V_DIGITS != 0 {
        push(feature(7, len.min(9) as u32));
    }
}

/// Where a token stands (template 8): first on its line, last on its line
/// (or in the region), first in the region.
pub(super) fn position_features(
    line_start: bool,
    line_end: bool,
    first: bool,
    mut push: impl FnMut(u32),
) {
    if line_start {
        push(feature(8, 1));
    }
    if line_end {
        push(feature(8, 2));
    }
    if first {
        push(feature(8, 3));
    }
}

/// The features a token reads from its neighbour in `slot` (see
/// [`NEIGHBOURS`]): its word, shape and lists, or that there is none.
pub(super) fn neighbour_features(slot: usize, o: Option<&Cell>, mut push: impl FnMut(u32)) {
    let template = 10 + slot as u8;
    match o {
        Some(o) => {
            if !o.unseen {
                push(feature(template, o.word));
            }
            push(feature(template + 10, o.shape));
            for bit in 0..8u32 {
                if o.vocab & (1 << bit) != 0 {
                    push(feature(template + 20, bit));
                }
            }
        }
        None => push(feature(template, 0)),
    }
}

/// The features of a token with the one before and after it (templates 40
/// to 43), and whether a birth cue is among the four tokens before (44).
pub(super) fn pair_features(
    prev: Option<&Cell>,
    c: &Cell,
    next: Option<&Cell>,
    birth_cue: bool,
    mut push: impl FnMut(u32),
) {
    if let Some(p) = prev {
        push(feature(40, p.shape ^ c.shape.rotate_left(7)));
        if !p.unseen {
            push(feature(42, p.word ^ c.shape.rotate_left(7)));
        }
    }
    if let Some(nx) = next {
        push(feature(41, c.shape ^ nx.shape.rotate_left(7)));
        if !nx.unseen {
            push(feature(43, c.shape ^ nx.word.rotate_left(7)));
        }
    }
    if birth_cue {
        push(feature(44, 1));
    }
}

/// The cells of `tokens` of `text`, in `scratch.cells`.
fn cells(text: &str, tokens: &[Token], scratch: &mut Scratch) {
    let vocab = &*VOCAB;
    scratch.cells.clear();
    for t in tokens {
        let c = cell(
            &text[t.start..t.end],
            t.placeholder,
            vocab,
            &mut scratch.lower,
        );
        scratch.cells.push(c);
    }
}

/// The cell of one token (`word`, a placeholder or not).
pub(super) fn token_cell(word: &str, placeholder: bool, lower: &mut String) -> Cell {
    cell(word, placeholder, &VOCAB, lower)
}

/// Whether token `i` of `tokens` ends its line (or the region).
pub(super) fn ends_line(tokens: &[Token], i: usize) -> bool {
    tokens.get(i + 1).is_none_or(|n| n.line_start)
}

/// How many tokens before a token a birth cue still counts (template 44).
pub(super) const BIRTH_CUE_REACH: usize = 4;

/// Whether one of the [`BIRTH_CUE_REACH`] tokens before token `i` is a
/// birth cue (`is_cue(k)` says whether token `k` is one).
fn after_birth_cue(is_cue: impl Fn(usize) -> bool, i: usize) -> bool {
    (1..=BIRTH_CUE_REACH).any(|d| i >= d && is_cue(i - d))
}

/// The feature ids of every token of `text`, appended to `out` with their
/// token's index: `out[offsets[i]..offsets[i + 1]]` are token `i`'s. The
/// tagger scores the same features, in the same order, without collecting
/// them (`score.rs`). Training marks some tokens `unseen(i)` (see
/// [`Cell::forget`]); inference sees every word as it is.
pub(crate) fn features(
    text: &str,
    tokens: &[Token],
    unseen: impl Fn(usize) -> bool,
    scratch: &mut Scratch,
    out: &mut Vec<u32>,
    offsets: &mut Vec<usize>,
) {
    cells(text, tokens, scratch);
    for (i, cell) in scratch.cells.iter_mut().enumerate() {
        if unseen(i) {
            cell.forget();
        }
    }
    let cells = &scratch.cells;
    let at = |i: isize| -> Option<&Cell> { usize::try_from(i).ok().and_then(|i| cells.get(i)) };
    offsets.clear();
    for (i, t) in tokens.iter().enumerate() {
        offsets.push(out.len());
        let c = &cells[i];
        let mut push = |id| out.push(id);
        own_features(c, t.end - t.start, &mut push);
        position_features(t.line_start, ends_line(tokens, i), i == 0, &mut push);
        for (slot, d) in NEIGHBOURS.into_iter().enumerate() {
            neighbour_features(slot, at(i as isize + d), &mut push);
        }
        let cue = after_birth_cue(|k| cells[k].is_birth_cue(), i);
        pair_features(at(i as isize - 1), c, cells.get(i + 1), cue, &mut push);
    }
    offsets.push(out.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokenizer as first written, one `char` at a time.
    fn by_chars(text: &str) -> Vec<Token> {
        let mut out = Vec::new();
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
        out
    }

    #[test]
    fn tokens_are_the_ones_read_a_char_at_a_time() {
        let texts = [
            "my client Lara Ibañez (born 12 March 1987) lives at Hauptstraße 5, 10115 Berlin",
            "Thanks,\n[PERSON]\n[ADDRESS]x[A] [AB [ABC]]\r\n\tDOB:04/05/1990\u{b}v\u{c}f\u{1c}s\u{85}n",
            "Åsa\u{a0}Öberg\u{2003}東京都 ١٢٣ x²³ Ⅻ e\u{301}t\u{200b}z 😀a",
            "",
            " \n ",
            "[",
            "ß",
        ];
        for text in texts {
            let mut fast = Vec::new();
            tokenize(text, &mut fast);
            assert_eq!(fast, by_chars(text), "{text:?}");
        }
        let all: String = (0..0x800u32).filter_map(char::from_u32).collect();
        let mut fast = Vec::new();
        tokenize(&all, &mut fast);
        assert_eq!(fast, by_chars(&all));
    }
}
