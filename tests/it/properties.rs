//! Properties of `scrub` that hold for any input: it never panics; its
//! findings are sorted, non-overlapping, inside the input and on char
//! boundaries; the output is exactly the input with each finding replaced by
//! its placeholder (everything else kept byte for byte); and scrubbing the
//! output again changes nothing and finds nothing.
//!
//! Inputs are arbitrary UTF-8 strings and, more to the point, strings glued
//! together from secret-like fragments, digits, separators and CRM words,
//! also with characters in full-width forms or followed by invisible ones.
//! Inputs that once broke idempotency sit in the case file as
//! `[[idempotent]]` regression cases.

use std::sync::LazyLock;

use handoff_scrub::{Policy, Scrubbed, scrub};
use proptest::prelude::*;

use crate::cases;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default);

/// Pieces that make detectors fire, half-fire or collide.
const FRAGMENTS: &[&str] = &[
    "sk_live_",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "pit-",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJ",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "data:image/png;base64,",
    "iVBORw0KGgoAAAANSUhEUg",
    "https://",
    "http://user:pw@",
    "hooks.zapier.com/hooks/catch/",
    "prnt.sc/",
    ".png",
    "?token=",
    "@",
    "example.org",
    "jane.doe@example.org",
    "password: ",
    "password is ",
    "api key ",
    "Bearer ",
    "CVV ",
    "exp ",
    "DOB: ",
    "born on ",
    "SSN ",
    "IBAN ",
    "routing ",
    "account ",
    "zip ",
    "call me on ",
    "my client ",
    "Hi, I'm ",
    "Mr. ",
    "Sarah",
    "Johnson",
    "Main Street",
    "742",
    "4242",
    "4242 4242 4242 4242",
    "DE89 3704 0044 0532 0130 00",
    "078-05-1120",
    "(415) 555-0132",
    "+44",
    "203.0.113.42",
    "2001:db8::",
    "[EMAIL]",
    "[API_KEY]",
    "[",
    "]",
    "{{contact.first_name}}",
    "Kajabi",
    "GoHighLevel",
    "Stripe",
    "Zapier",
    "#10234",
    "$1,497",
    "2024-03-15",
    "v2.3.1",
    "é",
    "ß",
    "日本",
    "😅",
    "\u{200b}",
    "\u{ad}",
    "\u{2060}",
    "\u{feff}",
    "\u{a0}",
    "\u{3000}",
    "＠",
    "４２４２",
    "ｊａｎｅ",
    " at ",
    " dot ",
    "[at]",
    "(dot)",
    "4111.1111.1111.1111",
    "jane at example dot com",
    "sk_live_4eC39HqLyjWD arjtT1zdp7dc",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        2 => "[0-9]{1,6}",
        2 => proptest::sample::select(&[" ", " ", "-", ".", ",", ":", "/", "=", "\n", "|", "\t", "\r\n"][..])
            .prop_map(str::to_owned),
        1 => "[A-Za-z]{1,10}",
        1 => "[A-Za-z0-9+/_-]{8,40}",
    ]
}

fn mixed_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 0..40).prop_map(|parts| parts.concat())
}

/// `text` with some characters written the ways that hide values: in
/// their full-width form, or followed by an invisible character, as
/// `choices` (cycled) says.
fn obfuscate(text: &str, choices: &[u8]) -> String {
    const INVISIBLE: [char; 4] = ['\u{200b}', '\u{200d}', '\u{ad}', '\u{feff}'];
    let mut out = String::with_capacity(text.len() * 2);
    for (i, c) in text.chars().enumerate() {
        let choice = choices.get(i % choices.len().max(1)).copied().unwrap_or(9);
        match choice {
            0 | 1 if c.is_ascii_graphic() => {
                out.push(char::from_u32(c as u32 + 0xFEE0).unwrap_or(c));
            }
            2..=5 => {
                out.push(c);
                out.push(INVISIBLE[usize::from(choice - 2)]);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The span and preservation invariants of one scrub: findings sorted,
/// non-overlapping, non-empty, inside `input` and on char boundaries, and the
/// output exactly `input` with each finding replaced by its placeholder.
fn check_spans(input: &str, out: &Scrubbed, policy: &Policy) -> Result<(), TestCaseError> {
    let mut rebuilt = String::with_capacity(input.len());
    let mut at = 0;
    for f in out.findings() {
        prop_assert!(f.start < f.end, "empty finding {f:?}");
        prop_assert!(
            at <= f.start,
            "finding {f:?} overlaps or precedes the one before (ends at {at})"
        );
        prop_assert!(
            f.end <= input.len(),
            "finding {f:?} outside the input ({} bytes)",
            input.len()
        );
        prop_assert!(
            input.is_char_boundary(f.start) && input.is_char_boundary(f.end),
            "finding {f:?} not on char boundaries"
        );
        rebuilt.push_str(&input[at..f.start]);
        rebuilt.push_str(policy.placeholder(f.kind));
        at = f.end;
    }
    rebuilt.push_str(&input[at..]);
    prop_assert_eq!(
        out.text().as_str(),
        rebuilt.as_str(),
        "text outside findings not preserved"
    );
    Ok(())
}

/// Every invariant of scrubbing `input`, then scrubbing the result again.
fn check_invariants(input: &str, policy: &Policy) -> Result<(), TestCaseError> {
    let out = scrub(input, policy);
    check_spans(input, &out, policy)?;
    let scrubbed = out.text().as_str();
    let again = scrub(scrubbed, policy);
    check_spans(scrubbed, &again, policy)?;
    if let Some(f) = again.findings().first() {
        prop_assert!(
            false,
            "scrubbing twice found {} {:?} ({}) in {:?}",
            f.kind,
            &scrubbed[f.start..f.end],
            f.source,
            scrubbed
        );
    }
    Ok(())
}

#[test]
fn inputs_that_once_broke_idempotency_scrub_to_a_fixed_point() {
    let policy = Policy::default();
    for case in cases::load().idempotent {
        if let Err(e) = check_invariants(&case.text, &policy) {
            panic!("{:?} (detector {}): {e}", case.text, case.detector);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_utf8_keeps_the_invariants(input in any::<String>()) {
        check_invariants(&input, &POLICY)?;
    }

    #[test]
    fn secret_like_mixtures_keep_the_invariants(input in mixed_text()) {
        check_invariants(&input, &POLICY)?;
    }

    #[test]
    fn obfuscated_mixtures_keep_the_invariants(
        input in mixed_text(),
        choices in proptest::collection::vec(0u8..24, 1..64),
    ) {
        check_invariants(&obfuscate(&input, &choices), &POLICY)?;
    }
}
