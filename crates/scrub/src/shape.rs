//! Shapes: the prefilters of detectors that have no keyword to look for
//! (digit runs, long tokens, names, house numbers).
//!
//! Each shape is specified by a regex ([`Shape::pattern`]), which the
//! browser check uses as it is. The scanner finds the same matches with a
//! hand-written byte loop ([`Shape::find`]): a shape matches thousands of
//! times per megabyte of prose, and a regex search pays a fixed cost per
//! match (a reverse pass to find where it starts) that a loop over bytes
//! does not. A test holds the two to the same matches.

use serde::Deserialize;

use super::names;

/// How many bytes before and after a prefilter hit its window takes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Margins {
    /// Bytes before the hit.
    pub before: usize,
    /// Bytes after the hit.
    pub after: usize,
}

/// A cheap prefilter for detectors without keywords. Each shape is one pass
/// over the text, shared by every detector using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Four or more digits, single separators allowed between them.
    Digits,
    /// Sixteen or more printable characters without a space.
    Token,
    /// A capitalised first name from the bundled census list followed by
    /// another capitalised word ("Sarah Johnson", not "Google Sheets").
    FirstName,
    /// A house number followed by a capitalised word.
    StreetNumber,
}

impl Shape {
    /// How many bytes before and after a hit of this shape its detectors
    /// look: tokens and names need only themselves and what follows; digits
    /// need room for a prefix a pattern may start with (`+44 (0) `, `AB `).
    /// Context words are looked up in the text itself, not in the window.
    pub fn margins(self) -> Margins {
        let (before, after) = match self {
            Shape::Digits => (24, 16),
            Shape::Token => (1, 1),
            Shape::FirstName => (0, 48),
            Shape::StreetNumber => (8, 200),
        };
        Margins { before, after }
    }

    /// Whether a hit of this shape first asks one set of its detectors'
    /// patterns which of them can match there. It pays for digit runs, most
    /// of which (dates, prices, order numbers) no detector takes; not for
    /// long tokens, which the broad token detectors match almost always and
    /// where the set reports every end of every match.
    pub fn gated(self) -> bool {
        !matches!(self, Shape::Token)
    }

    /// Whether a match of [`Shape::pattern`] is a hit: for `first_name`, its
    /// first word must be a known first name.
    pub fn keeps(self, matched: &str) -> bool {
        match self {
            Shape::FirstName => {
                let word = matched.split(char::is_whitespace).next().unwrap_or("");
                names::is_first_name(word)
            }
            Shape::Digits | Shape::Token | Shape::StreetNumber => true,
        }
    }

    /// The prefilter regex for this shape: its specification (and the
    /// browser's `RegExp`). [`Shape::find`] finds the same matches by hand.
    pub fn pattern(self) -> &'static str {
        match self {
            Shape::Digits => r"[0-9](?:[ ().\-/+:]?[0-9]){3,}",
            Shape::Token => r"[!-~]{16,}",
            Shape::FirstName => r"[A-Z][a-z'\-]+\s+[A-Z]",
            Shape::StreetNumber => r"[0-9]{1,6}[A-Za-z]?,?\s+[A-Z]",
        }
    }

    /// The leftmost match of [`Shape::pattern`] in `text` at or after byte
    /// `from` (a char boundary), as a byte range.
    pub fn find(self, text: &str, from: usize) -> Option<(usize, usize)> {
        match self {
            Shape::Digits => find_digits(text.as_bytes(), from),
            Shape::Token => find_token(text.as_bytes(), from),
            Shape::FirstName => find_first_name(text, from),
            Shape::StreetNumber => find_street_number(text, from),
        }
    }
}

/// The first byte at or after `from` that satisfies `is`. Blocks of 16
/// bytes without one are skipped first by a loop with no early exit, which
/// the compiler turns into vector instructions: prose has few digits.
fn next(bytes: &[u8], from: usize, is: impl Fn(&u8) -> bool) -> Option<usize> {
    let mut at = from;
    while let Some(block) = bytes.get(at..at + 16) {
        if block.iter().fold(false, |any, b| any | is(b)) {
            break;
        }
        at += 16;
    }
    Some(at + bytes.get(at..)?.iter().position(is)?)
}

/// The first `at` at or after `from` where `len` bytes in a row satisfy
/// `is`. If the last of the `len` bytes fails, no run can start at any of
/// them, so the search jumps `len` bytes; otherwise it jumps past the last
/// failing byte before it.
fn next_run(bytes: &[u8], from: usize, len: usize, is: impl Fn(&u8) -> bool) -> Option<usize> {
    let mut at = from;
    while at + len <= bytes.len() {
        match bytes[at..at + len].iter().rposition(|b| !is(b)) {
            None => return Some(at),
            Some(failing) => at += failing + 1,
        }
    }
    None
}

/// How many bytes from `at` on satisfy `is`.
fn run(bytes: &[u8], at: usize, is: impl Fn(&u8) -> bool) -> usize {
    bytes[at..].iter().take_while(|b| is(b)).count()
}

/// The length of the Unicode whitespace (`\s`) at the start of `text`.
fn whitespace(text: &str) -> usize {
    text.chars()
        .take_while(|c| c.is_whitespace())
        .map(char::len_utf8)
        .sum()
}

/// `[0-9](?:[ ().\-/+:]?[0-9]){3,}`: a chain of digits joined by at most one
/// separator each. A chain too short holds no match, so the search goes on
/// after it.
fn find_digits(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let joins = |b: &u8| b.is_ascii_digit() || b" ().-/+:".contains(b);
    let mut at = from;
    loop {
        // A match is at least four bytes of digits and separators.
        let start = next(bytes, next_run(bytes, at, 4, joins)?, u8::is_ascii_digit)?;
        let (mut end, mut digits) = (start + 1, 1);
        loop {
            match bytes.get(end) {
                Some(b) if b.is_ascii_digit() => end += 1,
                Some(b)
                    if b" ().-/+:".contains(b)
                        && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) =>
                {
                    end += 2;
                }
                _ => break,
            }
            digits += 1;
        }
        if digits >= 4 {
            return Some((start, end));
        }
        at = end;
    }
}

/// `[!-~]{16,}`: a run of printable ASCII without a space.
fn find_token(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let printable = |b: &u8| matches!(b, b'!'..=b'~');
    let start = next_run(bytes, from, 16, printable)?;
    Some((start, start + run(bytes, start, printable)))
}

/// `[A-Z][a-z'\-]+\s+[A-Z]`: a capitalised word, whitespace, a capital.
fn find_first_name(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let tail = |b: &u8| b.is_ascii_lowercase() || matches!(b, b'\'' | b'-');
    let mut at = from;
    loop {
        let start = next(bytes, at, u8::is_ascii_uppercase)?;
        let word_end = start + 1 + run(bytes, start + 1, tail);
        if word_end == start + 1 {
            at = start + 1;
            continue;
        }
        let gap = whitespace(&text[word_end..]);
        if gap > 0
            && bytes
                .get(word_end + gap)
                .is_some_and(u8::is_ascii_uppercase)
        {
            return Some((start, word_end + gap + 1));
        }
        at = word_end;
    }
}

/// `[0-9]{1,6}[A-Za-z]?,?\s+[A-Z]`: a house number ("12", "12B", "12,"),
/// whitespace, a capital. Of a longer digit run, the last six digits match.
fn find_street_number(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = from;
    loop {
        let run_start = next(bytes, at, u8::is_ascii_digit)?;
        let run_end = run_start + run(bytes, run_start, u8::is_ascii_digit);
        let mut end = run_end;
        if bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            end += 1;
        }
        if bytes.get(end) == Some(&b',') {
            end += 1;
        }
        let gap = whitespace(&text[end..]);
        if gap > 0 && bytes.get(end + gap).is_some_and(u8::is_ascii_uppercase) {
            return Some((run_start.max(run_end.saturating_sub(6)), end + gap + 1));
        }
        at = run_end;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex::Regex;

    use super::*;

    const ALL: [Shape; 4] = [
        Shape::Digits,
        Shape::Token,
        Shape::FirstName,
        Shape::StreetNumber,
    ];

    /// Every match of the regex, found from every char boundary.
    fn agree(text: &str) {
        for shape in ALL {
            let regex = Regex::new(shape.pattern()).unwrap();
            for from in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let expected = regex.find_at(text, from).map(|m| (m.start(), m.end()));
                assert_eq!(
                    shape.find(text, from),
                    expected,
                    "{shape:?} in {text:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn finders_match_their_patterns_on_examples() {
        for text in [
            "Call 0412 345 678 or +44 (0)20 7946-0958, order #10234, 1.2.3 v2.3.1",
            "12 Main St, 1234567 High Road, 12B Elm, 12, Oak Lane, 12Main 7\u{a0}Rue",
            "My client Sarah Johnson and O'Neil Smith, Mary-Jane\u{3000}Watson, McDonald Kay",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc https://prnt.sc/t8k2m1 short-token! é€",
            "",
            "1 2 3 4 5, 12-34 A 123456789 Z",
        ] {
            agree(text);
        }
    }

    proptest! {
        #[test]
        fn finders_match_their_patterns(text in "([0-9 ().\\-/+:,A-Za-z'\u{a0}\u{3000}é\n]{0,12}|[!-~]{14,18}){0,6}") {
            agree(&text);
        }
    }
}
