//! Recall on obfuscated values: each e-mail, phone, card, IBAN and API key
//! of the development corpus (`../shared/corpora/dev/dev.jsonl`) written
//! the ways people hide values from a scanner, in its own record's text.
//!
//! The variants are made by a small deterministic generator (no randomness:
//! every value gets every form that applies to its kind):
//!
//! - `full-width`: every ASCII character in its full-width form (`４２４２`,
//!   `＠`), spaces as ideographic spaces;
//! - `invisible`: a zero-width space, joiner, word joiner, byte-order mark
//!   or soft hyphen after every third character;
//! - `spelled`: e-mails (not those inside a URL) with `@` and the dots in
//!   words (`jane at example dot com`, or `[at]`/`[dot]` for every other
//!   value);
//! - `dotted`: card digits in groups of four joined by dots;
//! - `split`: an API key cut in two by one space in the middle.
//!
//! A variant leaks if, in the output with compatibility forms folded and
//! invisible characters dropped, it is still there whole; for digit kinds
//! (SCHEMA.md's rule), if the value's digits (six or more) are still among
//! the output's digits; for the others, if a run of five or more letters
//! and digits of it is found more often than in the rest of the text. Where `../shared` is absent, the test says so and passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use handoff_scrub::{FindingKind, Policy, scrub};
use unicode_normalization::char::decompose_compatible;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::corpus::{DIGIT_KINDS, digits, read_records, shared_or_skip};

/// Issue 14's floor for obfuscated values: the forms it names must be found
/// almost as well as plain ones.
const FLOOR: f64 = 0.97;

const INVISIBLE: [char; 6] = [
    '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
];

/// The obfuscated forms of `value` (a `kind`), by name; `n` picks among
/// equivalent spellings so the corpus sees all of them.
fn variants(kind: FindingKind, value: &str, n: usize) -> Vec<(&'static str, String)> {
    let mut out = vec![
        (
            "full-width",
            value
                .chars()
                .map(|c| match c {
                    ' ' => '\u{3000}',
                    '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                    c => c,
                })
                .collect(),
        ),
        ("invisible", {
            let mark = INVISIBLE[n % INVISIBLE.len()];
            let count = value.chars().count();
            let mut s = String::new();
            for (i, c) in value.chars().enumerate() {
                s.push(c);
                if i % 3 == 2 && i + 1 < count {
                    s.push(mark);
                }
            }
            s
        }),
    ];
    match kind {
        // An address inside a URL (`%40`) is not written out in words.
        FindingKind::Email if !value.contains("%40") => {
            let (at, dot) = if n.is_multiple_of(2) {
                (" at ", " dot ")
            } else {
                (" [at] ", " [dot] ")
            };
            out.push(("spelled", value.replace('.', dot).replace('@', at)));
        }
        FindingKind::Card => {
            let d = digits(value);
            let groups: Vec<&str> = d
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            out.push(("dotted", groups.join(".")));
        }
        FindingKind::ApiKey if value.len() >= 24 && !value.contains(char::is_whitespace) => {
            let mut mid = value.len() / 2;
            while !value.is_char_boundary(mid) {
                mid += 1;
            }
            let around = &value.as_bytes()[mid - 1..=mid];
            if around.iter().all(u8::is_ascii_alphanumeric) {
                out.push(("split", format!("{} {}", &value[..mid], &value[mid..])));
            }
        }
        _ => {}
    }
    out
}

/// `text` with compatibility forms folded to ASCII and invisible
/// characters dropped: what a reader sees.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.general_category() == GeneralCategory::Format {
            continue;
        }
        let mut decomposed = String::new();
        decompose_compatible(c, |d| decomposed.push(d));
        if decomposed.is_ascii() {
            out.push_str(&decomposed);
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the written value `written` (of `value`) survives in `output`;
/// `rest` is the record's text without it.
fn leaked(kind: FindingKind, value: &str, written: &str, output: &str, rest: &str) -> bool {
    let (output, rest) = (fold(output), fold(rest));
    if DIGIT_KINDS.contains(&kind) {
        // SCHEMA.md's rule for digit kinds: the value's digits, whatever
        // stands between them (an extension's "x" or "poste" is no leak).
        let d = digits(value);
        return output.contains(&fold(written)) || (d.len() >= 6 && digits(&output).contains(&d));
    }
    fold(written)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= 5)
        .any(|run| output.matches(run).count() > rest.matches(run).count())
}

#[derive(Default, Clone, Copy)]
struct Tally {
    count: usize,
    leaked: usize,
}

#[test]
fn dev_corpus_obfuscated_values_recall() {
    let Some(path) = shared_or_skip(
        "obfuscated::dev_corpus_obfuscated_values_recall",
        "dev/dev.jsonl",
    ) else {
        return;
    };
    let kinds = [
        FindingKind::Email,
        FindingKind::Phone,
        FindingKind::Card,
        FindingKind::Iban,
        FindingKind::ApiKey,
    ];
    let policy = Policy::default();
    let mut tallies: BTreeMap<(&str, FindingKind), Tally> = BTreeMap::new();
    let mut details = String::new();
    let mut n = 0;
    for record in read_records(&path) {
        for s in &record.sensitive {
            if !kinds.contains(&s.kind) {
                continue;
            }
            n += 1;
            for (form, written) in variants(s.kind, &s.value, n) {
                let text = record.text.replace(&s.value, &written);
                let rest = record.text.replace(&s.value, " ");
                let out = scrub(&text, &policy);
                let tally = tallies.entry((form, s.kind)).or_default();
                tally.count += 1;
                if leaked(s.kind, &s.value, &written, out.text().as_str(), &rest) {
                    tally.leaked += 1;
                    writeln!(
                        details,
                        "LEAK {form} {} {written:?}\n   out: {:?}",
                        s.kind,
                        out.text()
                    )
                    .unwrap();
                }
            }
        }
    }
    let mut report = String::from("dev corpus, obfuscated values (recall)\n");
    let (mut count, mut leaks) = (0, 0);
    for ((form, kind), t) in &tallies {
        count += t.count;
        leaks += t.leaked;
        writeln!(
            report,
            "{form:<11} {:<13} {:>5} values {:>4} leaked {:>7.2}%",
            kind.as_str(),
            t.count,
            t.leaked,
            100.0 * (1.0 - t.leaked as f64 / t.count.max(1) as f64)
        )
        .unwrap();
    }
    let recall = 1.0 - leaks as f64 / count.max(1) as f64;
    writeln!(
        report,
        "all         {count:>19} values {leaks:>4} leaked {:>7.2}%",
        100.0 * recall
    )
    .unwrap();
    eprintln!("{report}");
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/dev-obfuscated-report.txt");
    let _ = std::fs::write(&path, format!("{report}\n{details}"));
    assert!(
        recall >= FLOOR,
        "obfuscated recall {:.2}% < {:.2}% (details in {})",
        100.0 * recall,
        100.0 * FLOOR,
        path.display()
    );
}
