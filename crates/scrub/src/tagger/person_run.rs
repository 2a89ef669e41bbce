//! From a run of tokens the tagger labelled person to the names in it.
//!
//! The model labels tokens; its runs can take in words around a name: a
//! sentence in lower case ("je m'appelle Élodie Marchand"), the words that
//! stand before a name in languages that capitalise nouns ("Die
//! Teilnehmerin Laura Fischer", "Unser Praktikant Jonas Wolf"), or the rest
//! of a clause ("Laura Fischer bekommt keine Mail", "Stripessä mutta kurssi
//! ei aukea Kajabissa"). A run that holds a capitalised word is read so:
//!
//! 1. a lower-case word that is no name particle ("de", "van", "bin") is no
//!    part of a name: the run is cut there into pieces;
//! 2. words that stand before a name but are never part of it (articles,
//!    possessives, honorifics, role nouns, greetings: `vocab/before_name.txt`)
//!    go from the start of each piece, and lower-case words and marks from its ends
//!    ([`capitalised_words`]);
//! 3. a piece of tool words alone ("Gravity Forms") is no name, nor one
//!    with a business word ("Acme Logistics"), nor an everyday word that is
//!    also a name, alone ("Love this."); a short unlisted word in capitals
//!    beside one in mixed case is a code that cuts the run ("Austin TX");
//!    and where
//!    the run was cut, neither is a single word that no name list holds
//!    (a tool with a case ending, a capitalised noun).
//!
//! A run in lower case only is a name from a listed first name among its
//! first three words on, if that leaves at most four words ("maria", "jane
//! doe", "zákaznice [tomáš r. dvořák]").

use std::collections::HashSet;
use std::sync::LazyLock;

use super::features::{Token, is_listed_first_name, is_listed_name_word, is_tool_word};
use crate::names::{is_business_word, is_not_name, lowered};

/// Words that stand before a name and are never part of it, lower-cased.
static BEFORE_NAME: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("vocab/before_name.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});

/// Lower-case words inside names: "Pieter de Vries", "Ludwig van Beethoven".
const PARTICLES: &[&str] = &[
    "af", "al", "av", "bin", "da", "das", "de", "dei", "del", "della", "den", "der", "des", "di",
    "do", "dos", "du", "e", "el", "ibn", "la", "le", "op", "te", "ten", "ter", "van", "von", "y",
    "zu", "zum",
];

/// The most words a name in lower case has ("marek van den berg").
const LOWER_CASE_WORDS: usize = 4;

/// The names in the person run `first..=last` of `tokens` (in `part`), as
/// token bounds, pushed to `out` in order.
pub(super) fn names_in_run(
    part: &str,
    tokens: &[Token],
    first: usize,
    last: usize,
    out: &mut Vec<(usize, usize)>,
) {
    let word = |k: usize| &part[tokens[k].start..tokens[k].end];
    let alphanumeric = |k: usize| word(k).starts_with(char::is_alphanumeric);
    let capital = |k: usize| word(k).starts_with(char::is_uppercase);
    if !(first..=last).any(capital) {
        // The name starts at a listed first name among the first three words
        // (cue words may come first: "name on card ewa nowak-lis").
        let start = (first..=last)
            .filter(|&k| alphanumeric(k))
            .take(3)
            .find(|&k| is_listed_first_name(word(k)));
        if let Some(start) = start
            && (start..=last).filter(|&k| alphanumeric(k)).count() <= LOWER_CASE_WORDS
        {
            out.push((start, last));
        }
        return;
    }
    // Beside a word in mixed case, a short one in capitals that no name
    // list holds is a code, not a name ("Austin TX", "Währung EUR"); a
    // surname in capitals stays ("Thibaut LE GIRARD", "Wei LI").
    let mixed_case = (first..=last).any(|k| capital(k) && word(k).chars().any(char::is_lowercase));
    let shouted = |k: usize| {
        let w = word(k);
        mixed_case
            && (2..=3).contains(&w.chars().count())
            && !w.chars().any(char::is_lowercase)
            && !is_listed_name_word(w)
            && !lowered(w, |l| PARTICLES.contains(&l))
    };
    let cut_word = |k: usize| {
        alphanumeric(k) && ((!capital(k) && !PARTICLES.contains(&word(k))) || shouted(k))
    };
    let cut_at = |from: usize| (from..=last).find(|&k| cut_word(k));
    let was_cut = cut_at(first + 1).is_some();
    let mut start = first;
    while start <= last {
        // A piece starts after the words that cut the run ("… instead of
        // Marguerite").
        while start <= last && start > first && (cut_word(start) || !alphanumeric(start)) {
            start += 1;
        }
        if start > last {
            return;
        }
        let mut before_name = false;
        while start <= last
            && (before_name_word(word(start)) || (before_name && !alphanumeric(start)))
        {
            before_name |= alphanumeric(start);
            start += 1;
        }
        if start > last {
            return;
        }
        let cut = cut_at(start + 1);
        let end = cut.map_or(last, |k| k - 1);
        if (start..=end).any(capital)
            && let Some((a, b)) = capitalised_words(part, tokens, start, end)
        {
            let tools_only = (a..=b)
                .filter(|&k| alphanumeric(k))
                .all(|k| is_tool_word(word(k)));
            let unlisted_single = a == b && !is_listed_name_word(word(a));
            let everyday_single = a == b && is_not_name(word(a));
            let business = (a..=b).any(|k| is_business_word(word(k)));
            // A single word beside a code is a place ("Austin TX").
            let coded_single = a == b && (first..=last).any(shouted);
            if !(tools_only
                || everyday_single
                || business
                || coded_single
                || (was_cut && unlisted_single))
            {
                out.push((a, b));
            }
        }
        match cut {
            Some(k) => start = k + 1,
            None => return,
        }
    }
}

/// Whether `word` stands before names and is never part of one ("Die",
/// "Unser", "Frau", "Kollege").
fn before_name_word(word: &str) -> bool {
    lowered(word, |w| BEFORE_NAME.contains(w))
}

/// A name's tokens `first..=last` (holding a capitalised word) trimmed to
/// its capitalised words: the lower-case words and marks at either end are
/// the sentence around the name, not part of it. `None` when trimming
/// leaves a single word: a name that needed trimming to one word was no
/// name ("Data goes").
fn capitalised_words(
    part: &str,
    tokens: &[Token],
    first: usize,
    last: usize,
) -> Option<(usize, usize)> {
    let capital = |k: usize| part[tokens[k].start..].starts_with(char::is_uppercase);
    let (mut start, mut end) = (first, last);
    while !capital(start) {
        start += 1;
    }
    while !capital(end) {
        end -= 1;
    }
    let trimmed = (start, end) != (first, last);
    (!(trimmed && start == end)).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::super::features::tokenize;
    use super::*;

    /// The names `names_in_run` finds in `text`, taken as one person run.
    fn names(text: &str) -> Vec<&str> {
        let mut tokens = Vec::new();
        tokenize(text, &mut tokens);
        let mut out = Vec::new();
        names_in_run(text, &tokens, 0, tokens.len() - 1, &mut out);
        out.into_iter()
            .map(|(a, b)| &text[tokens[a].start..tokens[b].end])
            .collect()
    }

    #[test]
    fn a_name_is_trimmed_to_its_capitalised_words() {
        assert_eq!(names("je m'appelle Élodie Marchand"), ["Élodie Marchand"]);
        assert_eq!(names("Jean-Pierre O'Connell"), ["Jean-Pierre O'Connell"]);
        assert_eq!(names("jane doe"), ["jane doe"]);
        assert!(names("Data goes").is_empty());
        // In lower case, a run is short and starts with a listed first name.
        assert!(names("clear cookies").is_empty());
        assert!(names("får ingen tillgång till kursen").is_empty());
        assert_eq!(names("zákaznice tomáš r. dvořák"), ["tomáš r. dvořák"]);
        // Tool words alone are no name, nor a business or a place with a code.
        assert!(names("Gravity Forms").is_empty());
        assert!(names("Acme Logistics").is_empty());
        assert!(names("Austin TX").is_empty());
        assert_eq!(names("JANE DOE"), ["JANE DOE"]);
        assert_eq!(names("Thibaut LE GIRARD"), ["Thibaut LE GIRARD"]);
    }

    #[test]
    fn words_before_a_name_are_no_part_of_it() {
        assert_eq!(names("Die Teilnehmerin Laura Fischer"), ["Laura Fischer"]);
        assert_eq!(names("Unser Praktikant Jonas"), ["Jonas"]);
        assert_eq!(names("Mr. Okafor"), ["Okafor"]);
        assert_eq!(names("Our VA Rangi Parata"), ["Rangi Parata"]);
        assert_eq!(names("Hey Chris"), ["Chris"]);
        assert!(names("Love").is_empty());
        assert!(names("Die Kundin").is_empty());
    }

    #[test]
    fn the_sentence_after_a_full_name_is_no_part_of_it() {
        assert_eq!(names("Laura Fischer bekommt keine Mail"), ["Laura Fischer"]);
        assert_eq!(
            names("Laura Fischer und Jonas Wolf"),
            ["Laura Fischer", "Jonas Wolf"]
        );
        assert_eq!(names("Pieter de Vries"), ["Pieter de Vries"]);
        // Where the run was cut, a single word must be a listed name.
        assert!(names("Stripessä mutta kurssi ei aukea Kajabissa").is_empty());
        assert!(names("Personen und Organisationen").is_empty());
        assert_eq!(names("Anna bekommt nichts"), ["Anna"]);
        assert_eq!(
            names("Siobhan instead of Marguerite"),
            ["Siobhan", "Marguerite"]
        );
    }
}
