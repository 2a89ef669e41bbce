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
//!
//! A bank account travels with its routing or branch code ("12345678, sort
//! code 12-34-56", "routing 021000021 / 1234567890", "BSB 062-000
//! 12345678"): when the table found one of the two, the digit group that
//! stands a few words from it, with nothing but separators and words
//! between, is the other.

use crate::kind::FindingKind;
use crate::recognize::{Candidate, Origin, Span};
use crate::validate::bank_number;

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

/// How far from a bank number, and across how many words, its partner may
/// stand.
const PAIR_GAP: usize = 32;
const PAIR_WORDS: usize = 3;

/// Words that say a digit group is some other number.
const OTHER_NUMBERS: &[&str] = &[
    "order", "invoice", "ticket", "ref", "id", "#", "tracking", "phone", "tel", "call", "mobile",
    "fax", "zip", "postcode", "amount", "total", "eur", "usd", "$", "€", "£",
];

/// Account numbers, routing and branch codes beside the bank numbers among
/// `merged` (the detector table's merged findings, sorted); spans already
/// found are left alone.
pub(crate) fn numbers_beside_bank_numbers(text: &str, merged: &[Candidate]) -> Vec<Candidate> {
    let found = |span: Span| {
        merged
            .iter()
            .any(|c| c.span.start < span.end && span.start < c.span.end)
    };
    let mut out = Vec::new();
    for bank in merged {
        if bank.kind != FindingKind::BankAccount {
            continue;
        }
        let beside = [
            group_after(text, bank.span.end),
            group_before(text, bank.span.start),
        ];
        for span in beside.into_iter().flatten() {
            let value = &text[span.start..span.end];
            if !found(span) && bank_number(value, &text[span.end..]) {
                out.push(Candidate {
                    span,
                    kind: FindingKind::BankAccount,
                    origin: Origin::Recognizer {
                        name: "companion",
                        rule: "bank_number_pair",
                    },
                    confidence: 0.6,
                });
            }
        }
    }
    out
}

/// Whether the stretch between two numbers lets them be a pair: at most
/// [`PAIR_WORDS`] words and no digit, line break, sentence end or word that
/// names another number.
fn pair_gap(gap: &str) -> bool {
    !gap.contains(|c: char| c.is_ascii_digit() || matches!(c, '\n' | '.' | '!' | '?'))
        && gap.split_whitespace().count() <= PAIR_WORDS
        && !gap
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric() && !matches!(c, '#' | '$' | '€' | '£'))
            .any(|w| OTHER_NUMBERS.contains(&w))
}

/// A group of 6–18 digits (single spaces or dashes between them), standing
/// alone: not glued to letters, not an amount (dates and decimals are the
/// bank-number check's).
fn digit_group(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut end = start;
    let mut count = 0;
    while end < bytes.len() {
        if bytes[end].is_ascii_digit() {
            count += 1;
            end += 1;
        } else if matches!(bytes[end], b' ' | b'-')
            && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
            && count > 0
        {
            end += 1;
        } else {
            break;
        }
    }
    let rest = &text[end..];
    let glued = rest.starts_with(|c: char| c.is_alphanumeric() || matches!(c, '%' | '/' | '_'))
        || (rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
        || before_unit(rest);
    ((6..=18).contains(&count) && !glued).then_some(end)
}

/// The digit group after a bank number ending at `from`.
fn group_after(text: &str, from: usize) -> Option<Span> {
    let window = &text[from..];
    let start = window.find(|c: char| c.is_ascii_digit())?;
    if start > PAIR_GAP || !pair_gap(&window[..start]) {
        return None;
    }
    let end = digit_group(window, start)?;
    Some(Span::new(from + start, from + end))
}

/// The digit group before a bank number starting at `to`.
fn group_before(text: &str, to: usize) -> Option<Span> {
    let window = &text[..to];
    let end = window.rfind(|c: char| c.is_ascii_digit())? + 1;
    if to - end > PAIR_GAP || !pair_gap(&window[end..]) {
        return None;
    }
    let bytes = window.as_bytes();
    let mut start = end;
    while start > 0
        && (bytes[start - 1].is_ascii_digit()
            || (matches!(bytes[start - 1], b' ' | b'-')
                && start >= 2
                && bytes[start - 2].is_ascii_digit()))
    {
        start -= 1;
    }
    let glued = window[..start].chars().next_back().is_some_and(|c| {
        c.is_alphanumeric() || matches!(c, '$' | '€' | '£' | '#' | '/' | '.' | ',')
    });
    let mut lead = start.saturating_sub(16);
    while !window.is_char_boundary(lead) {
        lead += 1;
    }
    let named = !pair_gap(&window[lead..start]);
    (!glued && !named && digit_group(text, start)? == end).then(|| Span::new(start, end))
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

    fn pairs(text: &str, bank: &str) -> Vec<String> {
        let start = text.find(bank).unwrap();
        let merged = [Candidate {
            span: Span::new(start, start + bank.len()),
            kind: FindingKind::BankAccount,
            origin: Origin::Detector(0),
            confidence: 0.9,
        }];
        numbers_beside_bank_numbers(text, &merged)
            .iter()
            .map(|c| text[c.span.start..c.span.end].to_owned())
            .collect()
    }

    #[test]
    fn an_account_beside_its_routing_or_branch_code() {
        assert_eq!(
            pairs("goes to 12345678, sort code 12-34-56", "12-34-56"),
            ["12345678"]
        );
        assert_eq!(
            pairs("routing 021000021 / 1234567890 ok", "021000021"),
            ["1234567890"]
        );
        assert_eq!(pairs("BSB 062-000 1234 5678", "062-000"), ["1234 5678"]);
        assert_eq!(
            pairs("pay into 12345678 (sort code 12-34-56)", "12-34-56"),
            ["12345678"]
        );
    }

    #[test]
    fn other_numbers_beside_a_bank_number_stay() {
        for (text, bank) in [
            ("sort code 12-34-56, order 12345678", "12-34-56"),
            ("routing 021000021, call 4155550132", "021000021"),
            ("invoice #12345678, sort code 12-34-56", "12-34-56"),
            ("routing 021000021 for $1,234,567.00", "021000021"),
            ("sort code 12-34-56. We paid 12345678 times", "12-34-56"),
            ("routing 021000021 on 2024-03-15", "021000021"),
        ] {
            assert!(pairs(text, bank).is_empty(), "{text}");
        }
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
