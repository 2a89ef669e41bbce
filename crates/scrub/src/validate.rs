//! Checks that turn a pattern match into a finding: checksums (Luhn, mod-97,
//! ABA), shapes (IP addresses, SSN ranges, phone digit counts) and the
//! randomness of a token. Each is named in the detector table's `validator`
//! column.

use serde::{Deserialize, Serialize};

use super::names;
use super::national_id;

/// A named check a candidate must pass before it becomes a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// 12–19 digits passing the Luhn checksum.
    Luhn,
    /// An IBAN: known country, its length, and mod-97 == 1.
    Iban,
    /// A 9-digit ABA routing number with a valid checksum.
    Aba,
    /// A US SSN outside the never-issued ranges.
    Ssn,
    /// A dotted IPv4 address, every octet ≤ 255, not a version string.
    Ipv4,
    /// An IPv6 address (optionally with `/prefix`).
    Ipv6,
    /// A phone number with no context: 8–15 digits after `+`, 9–15 with
    /// separators, 10–13 bare; never a date, a decimal or a dotted IP.
    Phone,
    /// 7–15 digits that do not read as a date or a decimal (after a phone word).
    PhoneShort,
    /// A secret-looking value after a key/token/password word: not a plain
    /// word, not a placeholder, not a template variable.
    SecretLike,
    /// A password after a password word: not a template, not a code
    /// identifier, not punctuation alone.
    PasswordLike,
    /// A password after a cue some words away ("Kennwort für den Zugang ist
    /// …", "email / …"): [`Validator::PasswordLike`], and shaped like a
    /// password rather than a word: digits or symbols among letters, inner
    /// capitals, or a passphrase of three or more joined words.
    PasswordShaped,
    /// A PIN or passcode: 4 to 8 digits, not all the same.
    Pin,
    /// A bank account number or routing/branch code after its name: 4 to 26
    /// digits that are not a year, a date, an amount or a quantity.
    BankNumber,
    /// A Mexican CLABE: 18 digits whose last is the check digit of the
    /// first 17 (weights 3, 7, 1).
    Clabe,
    /// Hex of 16 or more digits holding both letters and digits.
    HexSecret,
    /// `user:password` where either side can be a password and neither is a
    /// template variable (`$USER:$PASS`, `${user}:${pass}`).
    CredentialPair,
    /// A token with six or more distinct punctuation marks among letters:
    /// random "symbol soup" that no prose, URL or merge field looks like.
    SymbolSoup,
    /// A long random token with no context: mixed case and digits, high entropy.
    RandomToken,
    /// Contains at least one digit and one letter.
    Mixed,
    /// A name whose first word is a known first name or whose last word is a
    /// known surname (used after a strong context cue).
    KnownName,
    /// A name whose first word is a known first name (after a weak cue).
    FirstName,
    /// Two or three capitalised words: a known first name, then a known surname.
    FullName,
    /// Two lower-case words after a cue: a listed first name, then a listed
    /// surname (the census's or Faker's).
    ListedName,
    /// One to three capitalised words alone on the line under a sign-off:
    /// no tool, business or everyday word among them (a team or a company
    /// signs so too).
    SignatureName,
    /// After a word that only comes before a person ("I asked", "my
    /// bookkeeper"): capitalised words that are no tool, business or
    /// everyday word, no list needed; or one lower-case word that is a
    /// listed first name ("my VA mariana").
    PersonWordName,
    /// After a word that names a national identifier: a known format, or an
    /// identifier-like run of six or more digits.
    NationalId,
    /// A national identifier of a known format whose check digits hold (after
    /// a short or ambiguous cue such as "CF", "PAN", "SIN").
    NationalIdChecked,
    /// A national identifier whose format is distinctive enough to need no
    /// cue (codice fiscale, CURP, DNI, HETU, AHV, NIR, CPF …).
    NationalIdFormat,
}

impl Validator {
    /// Whether a failed match may be retried without its trailing digit groups.
    pub fn trims_groups(self) -> bool {
        matches!(
            self,
            Validator::Luhn
                | Validator::Iban
                | Validator::Phone
                | Validator::PhoneShort
                | Validator::Ssn
        )
    }

    /// Whether some part of `text` (a whole match) could pass: `false` only
    /// where no part of it can, by counts that a part never has more of than
    /// its whole. A detector then need not work out where its `secret` group
    /// lies in the match.
    pub fn may_accept_within(self, text: &str) -> bool {
        match self {
            Validator::SymbolSoup => has_soup_counts(text),
            _ => true,
        }
    }

    /// Whether [`Validator::may_accept_within`] can ever say no.
    pub fn checks_within(self) -> bool {
        matches!(self, Validator::SymbolSoup)
    }

    /// Whether `value` (the part of the match that would be redacted) passes;
    /// `after` is the text that follows it.
    pub fn accepts(self, value: &str, after: &str) -> bool {
        match self {
            Validator::Luhn => luhn_card(value),
            Validator::Iban => iban(value),
            Validator::Aba => aba(value),
            Validator::Ssn => ssn(value),
            Validator::Ipv4 => ipv4(value),
            Validator::Ipv6 => ipv6(value),
            Validator::Phone => phone(value),
            Validator::PhoneShort => phone_short(value),
            Validator::SecretLike => secret_like(value),
            Validator::PasswordLike => password_like(value),
            Validator::PasswordShaped => password_shaped(value),
            Validator::Pin => pin(value),
            Validator::BankNumber => bank_number(value, after),
            Validator::Clabe => clabe(value),
            Validator::HexSecret => hex_secret(value),
            Validator::CredentialPair => credential_pair(value),
            Validator::SymbolSoup => symbol_soup(value),
            Validator::RandomToken => random_token(value),
            Validator::Mixed => {
                value.bytes().any(|b| b.is_ascii_digit())
                    && value.bytes().any(|b| b.is_ascii_alphabetic())
            }
            Validator::KnownName => {
                names::is_known_name(value) && !names::is_month_date(value, after)
            }
            Validator::FirstName => {
                names::starts_with_first_name(value) && !names::is_month_date(value, after)
            }
            Validator::FullName => names::is_full_name(value),
            Validator::ListedName => names::is_listed_name(value),
            Validator::SignatureName => names::is_signature_name(value),
            Validator::PersonWordName => names::is_name_after_person_word(value),
            Validator::NationalId => national_id::plausible(value),
            Validator::NationalIdChecked => national_id::checked(value),
            Validator::NationalIdFormat => national_id::distinctive(value),
        }
    }
}

/// The decimal digits of `value`, as numbers.
pub(crate) fn digits(value: &str) -> Vec<u8> {
    value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Luhn checksum over the digits of `value`, which must number 12 to 19
/// and not start with 0: no card number does (ISO/IEC 7812's industry
/// digit 0 is not a card issuer's), so a zero-led parcel or tracking number
/// that happens to pass the checksum is not a card.
pub fn luhn_card(value: &str) -> bool {
    let d = digits(value);
    (12..=19).contains(&d.len()) && d[0] != 0 && !all_same(&d) && luhn(&d)
}

/// Whether every digit is the same one.
pub(crate) fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

/// The Luhn checksum over `d`.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country (ISO 13616 registry, SWIFT release 2024).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// An IBAN: letters and digits (spaces and dashes ignored), a known country
/// code, that country's length and the mod-97 check.
pub fn iban(value: &str) -> bool {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 || !compact[2].is_ascii_digit() || !compact[3].is_ascii_digit() {
        return false;
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != len {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for &b in rearranged {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A Mexican CLABE (bank, branch and account): 18 digits, the last the
/// check digit of the first 17 with weights 3, 7, 1.
pub fn clabe(value: &str) -> bool {
    let d = digits(value);
    if d.len() != 18 || all_same(&d) {
        return false;
    }
    let w = [3u32, 7, 1];
    let sum: u32 = d[..17]
        .iter()
        .enumerate()
        .map(|(i, &x)| (w[i % 3] * u32::from(x)) % 10)
        .sum();
    (10 - sum % 10) % 10 == u32::from(d[17])
}

/// A 9-digit ABA routing number: its first two digits a Federal Reserve
/// routing symbol (00–12, 21–32, 61–72, 80), and
/// 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
pub fn aba(value: &str) -> bool {
    let d = digits(value);
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let symbol = d[0] * 10 + d[1];
    if !matches!(symbol, 0..=12 | 21..=32 | 61..=72 | 80) {
        return false;
    }

    let w = [3u32, 7, 1];
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| w[i % 3] * u32::from(x))
        .sum();
    sum.is_multiple_of(10)
}

/// A US SSN: 9 digits, area not 000, 666 or 9xx, group not 00, serial not 0000.
pub fn ssn(value: &str) -> bool {
    let d = digits(value);
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().all(|&x| x == 0);
    area != 0 && area != 666 && area < 900 && group != 0 && !serial
}

/// A dotted quad with every octet ≤ 255 (an optional `:port` or `/prefix` allowed).
pub fn ipv4(value: &str) -> bool {
    let core = value.split(['/', ':']).next().unwrap_or(value);
    core.parse::<std::net::Ipv4Addr>().is_ok()
}

/// An IPv6 address, optionally with a `/prefix` or `%zone`.
pub fn ipv6(value: &str) -> bool {
    let core = value.split(['/', '%']).next().unwrap_or(value);
    let core = core.trim_start_matches('[').trim_end_matches(']');
    let short_ok = core.len() > 4 || value.contains('/') || core == "::1";
    core.contains(':') && core.parse::<std::net::Ipv6Addr>().is_ok() && short_ok
}

/// A phone number without context: 8–15 digits after `+`, 9–15 with
/// separators, 10–13 bare; never a date, a decimal or a dotted IPv4 address.
pub fn phone(value: &str) -> bool {
    let n = value.bytes().filter(u8::is_ascii_digit).count();
    let plus = value.starts_with('+');
    // An opening parenthesis alone is punctuation: "(116622290)".
    let separated = value.contains([' ', '-', '.', ')']);
    let length_ok = if plus {
        (8..=15).contains(&n)
    } else if separated {
        (9..=15).contains(&n) || (n == 8 && paired(value))
    } else {
        (10..=13).contains(&n)
    };
    // One slash may part the area code from the number ("030 / 9485909").
    let slashes_ok = value.matches('/').count() <= 1;
    length_ok && slashes_ok && phone_short(value) && !ipv4(value) && !looks_like_version(value)
}

/// Eight digits written in the pairs of Nordic and French numbers:
/// `22 61 48 14`, `412 34 567`.
fn paired(value: &str) -> bool {
    let groups: Vec<usize> = value.split(' ').map(str::len).collect();
    value.bytes().all(|b| b.is_ascii_digit() || b == b' ')
        && (groups == [2, 2, 2, 2] || groups == [3, 2, 3])
}

/// `122.0.6261.112`: dotted groups, one of them a single digit inside the
/// chain, is a version or build number, not a phone number.
fn looks_like_version(value: &str) -> bool {
    if value.starts_with('+') || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    let groups: Vec<&str> = value.split('.').collect();
    groups.len() >= 3 && groups[1..groups.len() - 1].iter().any(|g| g.len() == 1)
}

/// 7 to 15 digits that do not read as a date, a decimal or a price.
pub fn phone_short(value: &str) -> bool {
    let d = digits(value);
    if !(7..=15).contains(&d.len()) || all_same(&d) {
        return false;
    }
    !looks_like_date(value) && !looks_like_decimal(value)
}

/// `2024-03-15`, `15.03.2024`, `03/15/2024`, `2024/3/5` …, also with a time
/// after it (`2024-11-02 13`).
fn looks_like_date(value: &str) -> bool {
    let groups: Vec<&str> = value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    if groups.len() > 3 {
        // A date followed by an hour or a time: the first three groups are
        // the date, and the rest are short.
        return groups[3..].iter().all(|g| g.len() <= 2) && looks_like_date(&groups[..3].join("-"));
    }
    if groups.len() != 3 {
        return false;
    }
    let n: Vec<u32> = groups.iter().map(|g| g.parse().unwrap_or(0)).collect();
    let year = |g: &str, v: u32| g.len() == 4 && (1900..=2100).contains(&v);
    let md = |a: u32, b: u32| (1..=12).contains(&a) && (1..=31).contains(&b);
    (year(groups[0], n[0]) && (md(n[1], n[2]) || md(n[2], n[1])))
        || (year(groups[2], n[2]) && (md(n[0], n[1]) || md(n[1], n[0])))
}

/// `1,497.00`, `12.50` — thousands separators or a two-digit fraction.
fn looks_like_decimal(value: &str) -> bool {
    let v = value.trim();
    let bytes = v.as_bytes();
    let n = bytes.len();
    n >= 3 && bytes[n - 3] == b'.' && !v[..n - 3].contains(['.', ' ', '-', '(', ')', '+'])
}

/// Shannon entropy in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn classes(value: &str) -> usize {
    let lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let symbol = value.bytes().any(|b| b.is_ascii_punctuation());
    usize::from(lower) + usize::from(upper) + usize::from(digit) + usize::from(symbol)
}

/// Whether the value is a template or placeholder rather than a secret:
/// `{{contact.api_key}}`, `${TOKEN}`, `<your-key>`, `YOUR_API_KEY`, `xxxx`, `[API_KEY]`.
pub fn is_placeholder_like(value: &str) -> bool {
    let v = value.trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
    let lower = v.to_ascii_lowercase();
    v.starts_with("{{")
        || v.starts_with("${")
        || v.starts_with('<')
        || v.starts_with('[')
        || v.starts_with('%')
        || lower.starts_with("your")
        || lower.contains("_your_")
        || lower.contains("placeholder")
        || lower.contains("redacted")
        || (v.starts_with('{') && v.ends_with('}'))
        || has_template_variable(v)
        || lower.starts_with("process.env")
        || lower.starts_with("env.")
        || v.bytes()
            .all(|b| b == b'x' || b == b'X' || b == b'*' || b == b'.' || b == b'-')
}

fn unquote(value: &str) -> (&str, bool) {
    let quoted = value.len() >= 2
        && value.starts_with(['"', '\'', '`'])
        && value.ends_with(['"', '\'', '`']);
    let v = value.trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
    (v, quoted)
}

/// A code identifier, not a secret: `real_key`, `shorter-version`,
/// `K8S_CRED`, `PrivateAppToken`, `RTL_INST_CODE.cer`, `application/json`,
/// `Content-Type`.
fn is_identifier(v: &str) -> bool {
    let lower_word = v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-' | b'/' | b'.'))
        && (v.len() <= 16 || v.contains(['_', '-', '/', '.']));
    let title_words = v.split(['-', '/']).all(|w| {
        w.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && w.bytes().skip(1).all(|b| b.is_ascii_lowercase())
    });
    let screaming = v.contains('_')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let camel_word = v.bytes().all(|b| b.is_ascii_alphabetic())
        && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && v.bytes().filter(u8::is_ascii_uppercase).count() <= 3;
    let file_name = v.rsplit_once('.').is_some_and(|(stem, ext)| {
        (2..=4).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_lowercase())
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    lower_word || title_words || screaming || camel_word || file_name
}

/// Prefixes of Stripe object ids (`evt_…`, `cus_…`, `cs_live_…`): names of
/// records, readable in any dashboard URL, not credentials.
const STRIPE_OBJECT_PREFIXES: &[&str] = &[
    "acct",
    "ba",
    "btok",
    "card",
    "ch",
    "cn",
    "cs_live",
    "cs_test",
    "cus",
    "dp",
    "du",
    "evt",
    "fee",
    "file",
    "ii",
    "il",
    "in",
    "inrb",
    "ipi",
    "iv",
    "link",
    "pi",
    "pm",
    "po",
    "price",
    "prod",
    "promo",
    "prv",
    "py",
    "pyr",
    "pxr",
    "re",
    "req",
    "seti",
    "si",
    "sku",
    "src",
    "sub",
    "sub_sched",
    "tok",
    "tr",
    "trr",
    "txn",
    "we",
];

/// Query parameters that carry tracking values, not credentials: campaign
/// tags and ad click ids.
const TRACKING_PARAMETERS: &[&str] = &[
    "utm_",
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "twclid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "igshid",
];

/// An identifier that looks random but is public by design: a Stripe object
/// id (`evt_1NS6rMebsaSAlrou3blO0fUn`; a second `_` inside makes it
/// something else, such as Resend's `re_…_…` keys), a Stripe publishable key
/// (`pk_live_…`, `pk_test_…`: shipped in page source), or a tracking
/// parameter (`utm_source=…`, `gclid=…`).
pub fn is_public_identifier(value: &str) -> bool {
    let (v, _) = unquote(value);
    let stripe_object = STRIPE_OBJECT_PREFIXES.iter().any(|prefix| {
        v.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|body| body.len() >= 8 && body.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    let publishable = ["pk_live_", "pk_test_"].iter().any(|prefix| {
        v.strip_prefix(prefix)
            .is_some_and(|body| body.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    // `v` starts with a tracking parameter's name in any case, with no
    // lower-cased copy of it.
    let tracking = TRACKING_PARAMETERS.iter().any(|name| {
        v.as_bytes()
            .get(..name.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(name.as_bytes()))
    });
    stripe_object || publishable || tracking
}

/// A value after a key/token/secret word that looks like a secret rather
/// than prose, a code identifier, a URL, a template or a public identifier.
pub fn secret_like(value: &str) -> bool {
    let (v, quoted) = unquote(value);
    let bare = v.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | '<' | '>' | ',' | ';'));
    if v.len() < 8
        || is_placeholder_like(v)
        || v.starts_with('$')
        || is_public_identifier(v)
        || is_public_identifier(bare)
    {
        return false;
    }
    // A quoted value runs to its closing quote; past 200 characters it is prose.
    if quoted && v.chars().count() > 200 {
        return false;
    }
    if v.contains("://") || v.starts_with("http") || is_identifier(v) || holds_known_form(v) {
        return false;
    }
    if !v.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if v.contains(' ') {
        // Only a quoted value may hold spaces: `api_key: 'two words here'`;
        // a backquoted one is a shell command.
        return quoted && !value.starts_with('`') && v.len() >= 12;
    }
    if !quoted && (v.len() < 10 || looks_like_code(v)) {
        return false;
    }
    classes(v) >= 2 || v.len() >= 20
}

/// A value that holds a form a specific detector names (a PEM block's
/// header, a `data:` URI's `;base64,`): that detector finds it and names its
/// kind (`private_key`, `image_data`), where a generic secret row would take
/// the quotes and markup around it and call the whole an API key.
fn holds_known_form(v: &str) -> bool {
    v.contains("-----BEGIN") || v.contains(";base64,")
}

/// A value with one of the scrubber's placeholders inside: markup around a
/// value already found (`src="[IMAGE_DATA]">`), not a secret of its own.
fn holds_placeholder(value: &str) -> bool {
    value
        .match_indices('[')
        .any(|(at, _)| crate::engine::placeholder_len(&value[at..]).is_some())
}

/// `n,o.haKey=!1`: an assignment inside the value (an `=` that is not
/// base64 padding) next to property access or a list.
fn looks_like_code(v: &str) -> bool {
    let inner_equals = v.trim_end_matches('=').contains('=');
    inner_equals && v.contains(['.', ','])
}

/// A value after a password word that can be a password: not a template
/// (`${pass}`), not a code identifier (`real_key`), not punctuation alone.
pub fn password_like(value: &str) -> bool {
    let (v, quoted) = unquote(value);
    if v.chars().count() < 4 || is_placeholder_like(v) || v.starts_with('$') {
        return false;
    }
    // Three or more words joined by `-`, `.` or `_` are a passphrase
    // (`anchor-battery-silver`), not a code identifier.
    let passphrase = v.split(['-', '.', '_']).count() >= 3
        && v.split(['-', '.', '_'])
            .all(|p| p.len() >= 3 && p.chars().all(char::is_alphanumeric));
    if !v.chars().any(char::is_alphanumeric) || (is_identifier(v) && !passphrase) {
        return false;
    }
    !v.contains(' ') || quoted
}

/// A value that reads as a password even with no cue right before it:
/// letters with digits or symbols (`Bluebird39`, `M@rketing`), inner capitals
/// (`CorrectForestPillowRiver`), or three or more words joined by `-`, `.`
/// or `_` (`violet.river.rocket.tiger`); never an e-mail address, a URL, a
/// date or a version.
pub fn password_shaped(value: &str) -> bool {
    let (v, quoted) = unquote(value);
    if quoted {
        return password_like(value) && v.chars().count() >= 6;
    }
    if v.chars().count() < 6
        || v.contains("://")
        || v.contains('@') && v.contains('.') && !v.contains(['!', '#', '$', '%', '&', '*'])
    {
        return false;
    }
    if is_placeholder_like(v) || v.starts_with('$') || has_template_variable(v) {
        return false;
    }
    let letters = v.chars().filter(|c| c.is_alphabetic()).count();
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let symbols = v.chars().filter(|c| !c.is_alphanumeric()).count();
    let parts = v.split(['-', '.', '_']).filter(|p| p.len() >= 3).count();
    let passphrase = parts >= 3
        && v.split(['-', '.', '_'])
            .all(|p| p.len() >= 3 && p.chars().all(char::is_alphanumeric));
    let inner_capitals = v.chars().skip(1).filter(|c| c.is_uppercase()).count() >= 1
        && v.chars().any(char::is_lowercase);
    if letters == 0 || looks_like_date(v) || looks_like_version_word(v) {
        return false;
    }
    if passphrase {
        return true;
    }
    // A code identifier (`real_key`, `shorter-version`) is not a password.
    if is_identifier(v) && digits == 0 {
        return false;
    }
    // A word alone, or a product name with one inner capital (`ConvertKit`),
    // is not a password; three joined capitalised words are.
    let inner = v.chars().skip(1).filter(|c| c.is_uppercase()).count();
    digits > 0 || symbols > 0 || (inner_capitals && inner >= 2)
}

/// `v1.0.0-beta.3`, `6.4.2`: a version, not a password.
fn looks_like_version_word(v: &str) -> bool {
    let core = v.trim_start_matches(['v', 'V']);
    core.split(['.', '-'])
        .next()
        .is_some_and(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && core.contains('.')
}

/// 4 to 8 digits, not all the same: a PIN or passcode.
pub fn pin(value: &str) -> bool {
    let d = digits(value);
    (4..=8).contains(&d.len()) && value.bytes().all(|b| b.is_ascii_digit()) && !all_same(&d)
}

/// A bank account number or a routing or branch code after the word that
/// names it: 4 to 26 digits (4-digit ones not a year), not a date, not an
/// amount (`1,497.00`, `250 €`) or a quantity (`30 days`).
pub fn bank_number(value: &str, after: &str) -> bool {
    let d = digits(value);
    if !(4..=26).contains(&d.len()) || all_same(&d) {
        return false;
    }
    let year = d.len() == 4 && value.len() == 4 && matches!(&value[..2], "19" | "20");
    let rest = after.trim_start_matches(' ');
    let amount = rest.starts_with(['%', '€', '$', '£', '¥', '₹'])
        || rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    !year && !amount && !looks_like_date(value) && !looks_like_decimal(value)
}

/// `user:password` where either side can be a password and neither is a template.
pub fn credential_pair(value: &str) -> bool {
    let (v, _) = unquote(value);
    let Some((user, pass)) = v.split_once(':') else {
        return false;
    };
    let template = |s: &str| {
        let s = s.trim_matches(|c: char| c == '"' || c == '\'');
        s.starts_with(['$', '%', '<']) || s.starts_with("{{")
    };
    if template(user) || template(pass) || user == pass {
        return false;
    }
    password_like(user) && user.len() >= 8 || password_like(pass)
}

/// Hex of 16 or more digits with both letters and digits (an `0x` prefix allowed).
pub fn hex_secret(value: &str) -> bool {
    let v = value.strip_prefix("0x").unwrap_or(value);
    v.len() >= 16
        && v.bytes().all(|b| b.is_ascii_hexdigit())
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().any(|b| b.is_ascii_alphabetic())
        && entropy(v) >= 2.5
}

/// A shell or template variable: `$(cmd`, `${NAME}`, `${NAME:=default}`.
fn has_template_variable(value: &str) -> bool {
    if value.contains("$(") {
        return true;
    }
    value.match_indices("${").any(|(i, _)| {
        let rest = &value[i + 2..];
        let name_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        name_len > 0 && rest[name_len..].starts_with(['}', ':'])
    })
}

/// The longest run of one repeated character.
fn longest_run(value: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for c in value.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        best = best.max(run);
        prev = Some(c);
    }
    best
}

/// Six or more distinct punctuation marks among letters, and not a URL,
/// an email, a merge field or a path.
pub fn symbol_soup(value: &str) -> bool {
    // The cheap counts first: most long tokens have one or two kinds of mark.
    if !has_soup_counts(value) {
        return false;
    }
    !(value.contains("://")
        || holds_known_form(value)
        || holds_placeholder(value)
        || has_merge_tag(value)
        || looks_like_json(value)
        || value.starts_with('/')
        || has_template_variable(value)
        || looks_like_markup_or_code(value)
        || longest_run(value) > 3
        || entropy(value) < 3.5)
}

/// Six kinds of ASCII mark, eight letters or digits, four letters: what
/// symbol soup has at least. A part of a text never has more of each than
/// the text.
fn has_soup_counts(value: &str) -> bool {
    let marks = value
        .bytes()
        .filter(u8::is_ascii_punctuation)
        .fold(0u128, |set, b| set | 1 << b);
    // A timestamp (`2025-01-16T02:14:43.620+00:00`) is digits and marks with
    // a letter or two; a secret has letters.
    marks.count_ones() >= 6
        && value.bytes().filter(u8::is_ascii_alphanumeric).count() >= 8
        && value.bytes().filter(u8::is_ascii_alphabetic).count() >= 4
}

/// JSON around a value, not a secret: a quoted key and its value
/// (`,"Status":"New"}`), or a template's double braces around a name with
/// a filter, an index or a call (`{{first_name|default:"friend"}}`,
/// `{{1.data[2].value}}`, `{{if(3.uuid`).
fn looks_like_json(value: &str) -> bool {
    ["\":\"", "\",\"", "\":{", "\":["]
        .iter()
        .any(|mark| value.contains(mark))
        || value.match_indices("{{").any(|(i, _)| {
            let rest = &value[i + 2..];
            let name = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
                .count();
            name > 0 && rest[name..].starts_with(['|', '[', '('])
        })
}

/// A merge tag inside the value: `{{appointment.start_time}}`.
fn has_merge_tag(value: &str) -> bool {
    value.match_indices("{{").any(|(i, _)| {
        let rest = &value[i + 2..];
        let name = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b' '))
            .count();
        name > 0 && rest[name..].starts_with("}}")
    })
}

/// Pasted HTML or code (`<script>alert('x')</script>`, `fbq('track','Lead')`):
/// a tag, or a word called with a quoted argument.
fn looks_like_markup_or_code(value: &str) -> bool {
    let bytes = value.as_bytes();
    let tag = bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/'))
        && value.contains('>');
    let call = bytes.windows(5).any(|w| {
        w[..3].iter().all(u8::is_ascii_alphabetic) && w[3] == b'(' && matches!(w[4], b'\'' | b'"')
    });
    tag || call
}

/// A long random token with no context: upper, lower and digits with high
/// entropy, or 32+ characters of letters and digits; never a UUID (workflow
/// and record IDs are UUIDs) or a placeholder.
pub fn random_token(value: &str) -> bool {
    if is_placeholder_like(value) || is_uuid(value) || is_public_identifier(value) {
        return false;
    }
    // Plain hex (keys, but also commit hashes and checksums) is for
    // `hex_secret`, which knows the words that make it a hash.
    if value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    // A path or a host name in lower case (`calendly.com/acme/call-30min`)
    // is words, not randomness.
    if value.contains(['/', '.']) && !value.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let letters = lower || upper;
    (lower && upper && digit && entropy(value) >= 4.0)
        || (value.len() >= 32 && letters && digit && entropy(value) >= 3.0)
}

/// `6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b`
fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn pasted_markup_is_not_symbol_soup() {
        assert!(!super::symbol_soup("<script>alert('x')</script>"));
        assert!(!super::symbol_soup("fbq('track','Lead',{value:9});"));
    }

    use super::*;

    #[test]
    fn luhn_accepts_published_test_cards_and_rejects_typos() {
        assert!(luhn_card("4242 4242 4242 4242"));
        assert!(luhn_card("5555-5555-5555-4444"));
        assert!(luhn_card("378282246310005"));
        assert!(!luhn_card("4242 4242 4242 4241"));
        assert!(!luhn_card("0000 0000 0000 0000"));
        assert!(!luhn_card("12345"));
        assert!(
            !luhn_card("0420 9021 4551 0000 5"),
            "zero-led: a tracking number"
        );
    }

    #[test]
    fn iban_checks_country_length_and_mod97() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE8937040044053201300"));
        assert!(!iban("ZZ89370400440532013000"));
    }

    #[test]
    fn aba_checksum() {
        assert!(aba("121000358"));
        assert!(aba("011000015"));
        assert!(!aba("121000359"));
        assert!(!aba("12100035"));
    }

    #[test]
    fn ssn_excludes_never_issued_ranges() {
        assert!(ssn("078-05-1121"));
        assert!(!ssn("000-12-3456"));
        assert!(!ssn("666-12-3456"));
        assert!(!ssn("912-12-3456"));
        assert!(!ssn("123-00-4567"));
        assert!(!ssn("123-45-0000"));
    }

    #[test]
    fn ip_shapes() {
        assert!(ipv4("192.168.1.10"));
        assert!(ipv4("133.133.133.133:8080"));
        assert!(ipv4("10.0.0.0/8"));
        assert!(!ipv4("256.1.1.1"));
        assert!(ipv6("2001:db8::1"));
        assert!(ipv6("::ffff:192.168.1.0/96"));
        assert!(!ipv6("12:30"));
    }

    #[test]
    fn phone_refuses_dates_and_prices() {
        assert!(phone("(415) 555-0132"));
        assert!(phone("+44 20 7123 4567"));
        assert!(!phone("2024-03-15"));
        assert!(!phone("15.03.2024"));
        assert!(!phone("1,497.00"));
        assert!(!phone("12345"));
        assert!(!phone("5550132"));
        assert!(phone_short("555-0132"));
        assert!(!phone("192.168.10.12"));
        assert!(!phone("2024-11-02 13"));
        assert!(!phone("122.0.6261.112"));
        assert!(!phone("(116622290"));
        assert!(phone("+1.415.555.0132"));
        assert!(phone("22 61 48 14"));
        assert!(phone("030 / 9485909"));
        assert!(!phone("12/03/2024"));
    }

    #[test]
    fn secret_like_refuses_words_and_templates() {
        assert!(secret_like("d2LkV78zLx!t"));
        assert!(secret_like("8f3a9c1b2e7d4f60"));
        assert!(!secret_like("renewal_date"));
        assert!(!secret_like("{{contact.api_key}}"));
        assert!(!secret_like("YOUR_API_KEY"));
        assert!(!secret_like("[API_KEY]"));
        assert!(!secret_like("xxxxxxxxxxxx"));
        assert!(!secret_like("K8S_CRED_ID"));
        assert!(!secret_like("RTL_INST_CODE.cer"));
        assert!(secret_like("cafebabe:deadbeef"));
    }

    #[test]
    fn password_like_refuses_identifiers_and_templates() {
        assert!(password_like("Summer2024!"));
        assert!(password_like("\"value with spaces\""));
        assert!(!password_like("real_key"));
        assert!(!password_like("${link}"));
        assert!(!password_like(",.:-¨@*¿?!"));
        assert!(!password_like("two words"));
    }

    #[test]
    fn hex_and_symbol_soup() {
        assert!(hex_secret("0xc8f12fb8b20008e14b5A5ff4bad15af9"));
        assert!(!hex_secret("ff6600"));
        assert!(!hex_secret("deadbeefdeadbeef"));
        assert!(symbol_soup("m{{h}o)p${e]nob(ody[finds>-_$#thisone}}"));
        assert!(!symbol_soup("{{contact.first_name}}"));
        assert!(!symbol_soup("{{first_name|default:\"friend\"}},"));
        assert!(!symbol_soup(",\"Source\":\"web-2\",\"Status\":\"New\"}}]}"));
        assert!(!symbol_soup("https://example.org/a-b_c?d=e&f=g#h"));
    }

    #[test]
    fn public_identifiers_are_not_secrets() {
        for id in [
            "evt_2Rv6AQMPEbH0xwWCIhcQmmG1",
            "cs_live_a1P0BtPVTXMBTy9T6ZuzAqy8oy3EJrsi5N9TSbP3bVxSEHX2ftI3wYpz0L",
            "pk_live_51OkfbGuZoSUkoM4hXdSHnXmTn79VXq0eCXZnRaz1v5",
            "\"prod_3yM7Bs5RZjjtiQ\"",
            "utm_source=pinterest",
            "gclid=EAIaIQobChMI8tK4",
        ] {
            assert!(is_public_identifier(id), "{id}");
            assert!(!random_token(id), "{id}");
            assert!(!secret_like(id), "{id}");
        }
        // Resend keys share Stripe refunds' prefix, with a second part.
        assert!(!is_public_identifier(
            "re_LfDLAM9l_tuVkQO73FOrkqprWhpFDmGxw"
        ));
        assert!(random_token("re_LfDLAM9l_tuVkQO73FOrkqprWhpFDmGxw"));
        assert!(!is_public_identifier("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(!random_token(
            "calendly.com/acme-studio/discovery-call-30min"
        ));
    }

    #[test]
    fn a_match_without_the_soup_counts_holds_no_symbol_soup() {
        let soup = "k9$Qp!2@vL#7&mZ*4";
        assert!(symbol_soup(soup));
        for whole in [soup.to_owned(), format!(" {soup}"), format!("={soup}\"")] {
            assert!(Validator::SymbolSoup.may_accept_within(&whole), "{whole}");
        }
        // Five kinds of mark: no part of it can have six.
        let text = "a1b2-c3_d4.e5/f6?g7h8i9j0";
        assert!(!Validator::SymbolSoup.may_accept_within(text));
        for start in 0..text.len() {
            for end in start..=text.len() {
                assert!(!symbol_soup(&text[start..end]));
            }
        }
        assert!(Validator::Luhn.may_accept_within(""));
    }

    #[test]
    fn random_token_needs_mixed_classes_and_entropy() {
        assert!(random_token("HXe8DGg1iJd2AopzyxkFB7F2aQ93kLmP"));
        assert!(!random_token("abcdefghijabcdefghijabcdefghijab"));
        assert!(random_token("abcd1234wxyz1234abcd1234wxyz1234abcd1234"));
        assert!(!random_token("304c0a527a3814a309753ebce07f7e5059119a7c"));
        assert!(!random_token("6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"));
    }
}
