//! From a run of tokens the tagger labelled person to the names in it.
//!
//! The model labels tokens; its runs can take in words around a name: a
//! sentence in lower case ("je m'appelle Élodie Marchand"), the words that
//! stand before a name in languages that capitalise nouns ("Die
//! Teilnehmerin Laura Fischer", "Unser Praktikant Jonas Wolf"), or the rest
//! of a sentence after it ("Laura Fischer bekommt keine Mail"). Three
//! trims, in order, make a run into its names:
//!
//! 1. words that stand before a name but are never part of it (articles,
//!    possessives, honorifics, role nouns: `vocab/before_name.txt`) go from
//!    its start;
//! 2. after two capitalised words, a lower-case word that is no name
//!    particle ("de", "van", "bin") ends the name, and the rest of the run
//!    is read the same way as a run of its own;
//! 3. the lower-case words at either end go ([`capitalised_words`]).

use std::collections::HashSet;
use std::sync::LazyLock;

use super::features::{Token, in_name_list};

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

/// The names in the person run `first..=last` of `tokens` (in `part`), as
/// token bounds, pushed to `out` in order.
pub(super) fn names_in_run(
    part: &str,
    tokens: &[Token],
    mut first: usize,
    last: usize,
    out: &mut Vec<(usize, usize)>,
) {
    let word = |k: usize| &part[tokens[k].start..tokens[k].end];
    let alphanumeric = |k: usize| word(k).starts_with(char::is_alphanumeric);
    let capital = |k: usize| word(k).starts_with(char::is_uppercase);
    while first <= last {
        let mut before_name = false;
        while first <= last
            && (before_name_word(word(first)) || (before_name && !alphanumeric(first)))
        {
            before_name |= alphanumeric(first);
            first += 1;
        }
        if first > last {
            return;
        }
        let cut = (first + 1..=last).find(|&k| {
            alphanumeric(k)
                && !capital(k)
                && !PARTICLES.contains(&word(k))
                && (first..k).filter(|&j| capital(j)).count() >= 2
        });
        let end = cut.map_or(last, |k| k - 1);
        let end = (first..=end)
            .rev()
            .find(|&k| alphanumeric(k))
            .unwrap_or(first);
        if let Some(bounds) = capitalised_words(part, tokens, first, end) {
            out.push(bounds);
        }
        match cut {
            Some(k) => first = k,
            None => return,
        }
    }
}

/// Whether `word` stands before names and is never part of one ("Die",
/// "Unser", "Frau", "Kollege").
fn before_name_word(word: &str) -> bool {
    BEFORE_NAME.contains(word.to_lowercase().as_str())
}

/// A name's tokens `first..=last` trimmed to its capitalised words. Where a
/// run holds a capitalised word, the lower-case words and marks at either
/// end are the sentence around the name ("je m'appelle Élodie Marchand",
/// "Data goes from …"), not part of it; a run in lower case only ("jane
/// doe") stays whole if one of its words is a listed first name. `None` when
/// trimming leaves a single word (a name that needed trimming to one word
/// was no name), or for a lower-case run with no listed word.
pub(super) fn capitalised_words(
    part: &str,
    tokens: &[Token],
    first: usize,
    last: usize,
) -> Option<(usize, usize)> {
    let capital = |k: usize| part[tokens[k].start..].starts_with(char::is_uppercase);
    if !(first..=last).any(capital) {
        // In lower case, only a listed first name makes it a name
        // ("maria from the bakery"): words the model never saw, after "to"
        // or "with", are most often the sentence ("told me to clear cookies").
        let listed = (first..=last).any(|k| in_name_list(&part[tokens[k].start..tokens[k].end]));
        return listed.then_some((first, last));
    }
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
        // In lower case, a run needs a listed first name.
        assert!(names("clear cookies").is_empty());
    }

    #[test]
    fn words_before_a_name_are_no_part_of_it() {
        assert_eq!(names("Die Teilnehmerin Laura Fischer"), ["Laura Fischer"]);
        assert_eq!(names("Unser Praktikant Jonas"), ["Jonas"]);
        assert_eq!(names("Mr. Okafor"), ["Okafor"]);
        assert_eq!(names("Our VA Rangi Parata"), ["Rangi Parata"]);
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
        // One capitalised word is no full name: the run is read as before.
        assert_eq!(
            names("Kwame paid through Stripe"),
            ["Kwame paid through Stripe"]
        );
    }
}
