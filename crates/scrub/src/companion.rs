//! Values that travel with another value: the security code written right
//! after a card number.
//!
//! A card's security code is three or four digits, and in a pasted card it
//! follows the number, often after the expiry date and a word in any
//! language or spelling ("8/25 security coode 868", "/ 07 / 28 / 866",
//! "vence 1/28 códogo de seguridad 051"). The detector table finds the code
//! after its name; this rule finds it by where it stands: the first
//! three- or four-digit number that stands alone shortly after a card the
//! table found (Luhn-checked), before a blank line, that is not an amount,
//! a quantity, a year or part of a date.

use crate::kind::FindingKind;
use crate::recognize::{Candidate, Origin, Span};

/// How far after a card's last digit the code may stand.
const REACH: usize = 72;

/// Security codes after the cards among `merged` (the detector table's
/// merged findings, sorted); spans already found are left alone.
pub(crate) fn codes_after_cards(text: &str, merged: &[Candidate]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for card in merged {
        if card.kind != FindingKind::Card {
            continue;
        }
        let found = code_after(text, card.span.end, text.len())
            .or_else(|| code_named_before(text, card.span.start));
        if let Some(span) = found {
            out.push(Candidate {
                span,
                kind: FindingKind::Cvv,
                origin: Origin::Recognizer {
                    name: "companion",
                    rule: "cvv_after_card",
                },
                confidence: 0.6,
            });
        }
    }
    out
}

/// The first standalone 3–4 digit number in `text[from..]`, within
/// [`REACH`] bytes, before `limit` and a blank line.
fn code_after(text: &str, from: usize, limit: usize) -> Option<Span> {
    let mut end = (from + REACH).min(limit).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let window = &text[from..end];
    let window = &window[..window.find("\n\n").unwrap_or(window.len())];
    let bytes = window.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        let digits = &window[start..at];
        let mut back = window[..start].chars().rev();
        let (before, before2) = (back.next(), back.next());
        let mut ahead = window[at..].chars();
        let (after, after2) = (ahead.next(), ahead.next());
        // Part of a date, a time, an amount or an identifier: skip it. A
        // full stop, comma or colon glues only digits ("1,497", "10:45").
        let glued = |c: Option<char>, beyond: Option<char>| {
            c.is_some_and(|c| {
                c.is_alphanumeric()
                    || matches!(c, '/' | '-' | '_' | '#' | '+')
                    || (matches!(c, '.' | ',' | ':') && beyond.is_some_and(|b| b.is_ascii_digit()))
            })
        };
        let money = before.is_some_and(|c| matches!(c, '$' | '€' | '£' | '¥' | '₹'));
        if glued(before, before2) || glued(after, after2) || money {
            continue;
        }
        if !(3..=4).contains(&digits.len()) {
            continue;
        }
        let year = digits.len() == 4 && matches!(&digits[..2], "19" | "20");
        if year || before_unit(&window[at..]) {
            // A year or a quantity is not a code, and nothing after it is.
            return None;
        }
        return Some(Span::new(from + start, from + at));
    }
    None
}

/// "beveiligingscode 779 op kaart 4111…": a 3–4 digit number shortly
/// before the card, right after a word that ends in "code" (or "kode",
/// "kod", "nummer") in whatever spelling.
fn code_named_before(text: &str, card_start: usize) -> Option<Span> {
    let mut from = card_start.saturating_sub(40);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..card_start];
    let words: Vec<(usize, &str)> = window
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - window.as_ptr() as usize, w))
        .collect();
    words.windows(2).find_map(|pair| {
        let [(_, name), (at, number)] = [pair[0], pair[1]];
        let number_end = number.trim_end_matches([',', ';', ':']);
        let name = name.trim_end_matches(':').to_lowercase();
        let named = ["code", "kode", "kod", "nummer", "cvv", "cvc"]
            .iter()
            .any(|suffix| name.ends_with(suffix));
        (named
            && (3..=4).contains(&number_end.len())
            && number_end.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Span::new(from + at, from + at + number_end.len()))
    })
}

/// Whether `rest` starts with a currency, a percent sign or a word of
/// quantity ("250 €", "300 contacts").
fn before_unit(rest: &str) -> bool {
    const UNITS: &[&str] = &[
        "%",
        "€",
        "$",
        "£",
        "eur",
        "usd",
        "gbp",
        "chf",
        "sek",
        "dkk",
        "nok",
        "pln",
        "brl",
        "mxn",
        "days",
        "hours",
        "minutes",
        "contacts",
        "leads",
        "people",
        "members",
        "buyers",
        "customers",
        "orders",
        "times",
    ];
    let rest = rest.trim_start_matches(' ').to_ascii_lowercase();
    UNITS.iter().any(|u| {
        rest.starts_with(u) && !rest[u.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<'a>(text: &'a str, card_end: &str) -> Option<&'a str> {
        let from = text.find(card_end).unwrap() + card_end.len();
        code_after(text, from, text.len()).map(|s| &text[s.start..s.end])
    }

    #[test]
    fn the_code_after_the_expiry_in_any_wording() {
        assert_eq!(
            code("5222 8424 3228 3154 2026-04 security cdoe 944", "3154"),
            Some("944")
        );
        assert_eq!(
            code("6080 1184 3699 7704 / 07 / 28 / 866 - please", "7704"),
            Some("866")
        );
        assert_eq!(
            code(
                "4294-2222-8357-9 vence 1/28 códogo de seguridad 051,",
                "57-9"
            ),
            Some("051")
        );
        assert_eq!(
            code("3790 219883 59435, the 3 dgiits on the back: 0481", "59435"),
            Some("0481")
        );
        let text = "beveikigingscode 779 op karat 6304 6121 8899 3";
        let span = code_named_before(text, text.find("6304").unwrap()).unwrap();
        assert_eq!(&text[span.start..span.end], "779");
    }

    #[test]
    fn amounts_years_quantities_and_blank_lines_are_not_codes() {
        assert_eq!(
            code(
                "4242 4242 4242 4242 to pay the $970 invoice",
                "4242 4242 4242 4242"
            ),
            None
        );
        assert_eq!(
            code("4242 4242 4242 4242 exp 2027", "4242 4242 4242 4242"),
            None
        );
        assert_eq!(
            code(
                "4242 4242 4242 4242 charged 250 € twice",
                "4242 4242 4242 4242"
            ),
            None
        );
        assert_eq!(
            code(
                "4242 4242 4242 4242 failed\n\n300 people",
                "4242 4242 4242 4242"
            ),
            None
        );
        assert_eq!(
            code(
                "4242 4242 4242 4242 on 12.03.2025 at 10:45",
                "4242 4242 4242 4242"
            ),
            None
        );
    }
}
