//! Text normalisation shared by the rules' terms and the text they match.
//!
//! Both sides go through the same steps, so a term is written once, the way
//! people say it: lower case; placeholders such as `[EMAIL]` dropped (they are
//! the scrubber's words, not the person's); arrows (`->`, `=>`, `→`, `➡`) read
//! as " to "; `&` and `+` as " and "; apostrophes dropped; every other
//! punctuation mark or emoji a space; letters repeated three or more times
//! squeezed to one; then each word found in the rules' `[words]` table
//! replaced. The result is padded with one space at each end so that terms
//! match whole words.

use rustc_hash::FxHashMap;

/// The word-level replacements of a rules file, ready to apply.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    words: FxHashMap<String, String>,
}

impl Normaliser {
    /// A normaliser replacing each key of `words` (itself normalised) by its value.
    pub fn new(words: &std::collections::BTreeMap<String, String>) -> Self {
        let plain = Normaliser::default();
        let words = words
            .iter()
            .map(|(from, to)| {
                (
                    plain.normalise(from).trim().to_owned(),
                    plain.normalise(to).trim().to_owned(),
                )
            })
            .collect();
        Normaliser { words }
    }

    /// Normalise `text`: `" words separated by single spaces "`.
    pub fn normalise(&self, text: &str) -> String {
        let mut spaced = String::with_capacity(text.len() + 8);
        if text.is_ascii() {
            spaced_lowercase_ascii(text, &mut spaced);
        } else {
            spaced_lowercase(text, &mut spaced);
        }
        let mut out = String::with_capacity(spaced.len() + 2);
        out.push(' ');
        for word in spaced.split_ascii_whitespace() {
            // The word is written squeezed, then looked up where it lies: no
            // new `String` per word.
            let start = out.len();
            push_squeezed(word, &mut out);
            if let Some(replacement) = self.words.get(&out[start..]) {
                out.truncate(start);
                if replacement.is_empty() {
                    continue;
                }
                out.push_str(replacement);
            }
            out.push(' ');
        }
        out
    }
}

/// The ASCII fast path of [`spaced_lowercase`]: byte by byte, same result.
fn spaced_lowercase_ascii(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            b'a'..=b'z' | b'0'..=b'9' => out.push(b as char),
            b'A'..=b'Z' => out.push(b.to_ascii_lowercase() as char),
            b'[' => {
                if let Some(len) = handoff_scrub::placeholder_len(&text[i - 1..]) {
                    i += len - 1;
                }
                out.push(' ');
            }
            b'-' | b'=' => {
                let run = bytes[i - 1..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'='))
                    .count();
                i += run - 1;
                if bytes.get(i) == Some(&b'>') {
                    i += 1;
                    out.push_str(" to ");
                } else {
                    out.push(' ');
                }
            }
            b'>' => out.push_str(" to "),
            b'&' | b'+' => out.push_str(" and "),
            b'\'' | b'`' => {}
            _ => out.push(' '),
        }
    }
}

/// Lower case, placeholders out, arrows and joiners spelt out, punctuation to spaces.
fn spaced_lowercase(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let mut advance = c.len_utf8();
        match c {
            '[' => {
                if let Some(len) = handoff_scrub::placeholder_len(rest) {
                    advance = len;
                }
                out.push(' ');
            }
            '-' | '=' => {
                let run = rest
                    .bytes()
                    .take_while(|b| matches!(b, b'-' | b'='))
                    .count();
                if rest.as_bytes().get(run) == Some(&b'>') {
                    advance = run + 1;
                    out.push_str(" to ");
                } else {
                    advance = run;
                    out.push(' ');
                }
            }
            '>' | '→' | '⇒' | '➡' | '⟶' | '➔' | '➜' | '⮕' | '»' => {
                out.push_str(" to ")
            }
            '&' | '+' => out.push_str(" and "),
            '\'' | '’' | '‘' | '`' | '´' => {}
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
        rest = &rest[advance..];
    }
}

/// Append `word` with "helppp" → "help", "sooo" → "so": three or more of one
/// letter become one.
fn push_squeezed(word: &str, out: &mut String) {
    if word.is_ascii() {
        push_squeezed_ascii(word, out);
        return;
    }
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let mut run = 1;
        while chars.next_if_eq(&c).is_some() {
            run += 1;
        }
        let keep = if run >= 3 && c.is_alphabetic() {
            1
        } else {
            run
        };
        out.extend(std::iter::repeat_n(c, keep));
    }
}

/// The ASCII fast path of [`push_squeezed`]: the word is copied in slices
/// between squeezed runs, not a character at a time.
fn push_squeezed_ascii(word: &str, out: &mut String) {
    let bytes = word.as_bytes();
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        let letter = bytes[at];
        let run = bytes[at..].iter().take_while(|b| **b == letter).count();
        if run >= 3 && letter.is_ascii_alphabetic() {
            out.push_str(&word[copied..=at]);
            copied = at + run;
        }
        at += run;
    }
    out.push_str(&word[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn normaliser() -> Normaliser {
        let words = BTreeMap::from([
            ("doesnt".to_owned(), "does not".to_owned()),
            ("pls".to_owned(), "please".to_owned()),
        ]);
        Normaliser::new(&words)
    }

    #[test]
    fn arrows_joiners_case_and_apostrophes() {
        let n = normaliser();
        assert_eq!(n.normalise("Stripe->Kajabi"), " stripe to kajabi ");
        assert_eq!(
            n.normalise("typeform → GHL => tag"),
            " typeform to ghl to tag "
        );
        assert_eq!(
            n.normalise("Stripe+Kajabi & Zapier"),
            " stripe and kajabi and zapier "
        );
        assert_eq!(
            n.normalise("It DOESN'T fire, pls!!"),
            " it does not fire please "
        );
    }

    #[test]
    fn emoji_placeholders_and_repeats() {
        let n = normaliser();
        assert_eq!(n.normalise("helppp 😭😭 [EMAIL] paid"), " help paid ");
        assert_eq!(n.normalise("make.com / n8n"), " make com n8n ");
        assert_eq!(
            n.normalise("a [not a placeholder] b"),
            " a not a placeholder b "
        );
        assert_eq!(n.normalise("café Überweisung"), " café überweisung ");
    }

    #[test]
    fn the_ascii_fast_path_agrees_with_the_general_one() {
        for text in [
            "Stripe->Kajabi => GHL -- done -> ok >> [EMAIL] & [not one] + more",
            "It DOESN'T fire, pls!! `quoted` a--b ==> c [API_KEY]x [",
            "helppp sooo 1111 aaa-bbb -",
        ] {
            let (mut fast, mut general) = (String::new(), String::new());
            spaced_lowercase_ascii(text, &mut fast);
            spaced_lowercase(text, &mut general);
            assert_eq!(fast, general, "{text}");
        }
    }

    #[test]
    fn ascii_words_squeeze_as_any_word_does() {
        for word in [
            "helppp", "sooo", "1111", "aaa", "aabbbccc", "zz", "x", "", "nooo1111",
        ] {
            let mut fast = String::new();
            push_squeezed_ascii(word, &mut fast);
            // The general path, through a non-ASCII letter that squeezes to itself.
            let mut general = String::new();
            push_squeezed(&format!("{word}é"), &mut general);
            assert_eq!(format!("{fast}é"), general, "{word}");
        }
        let mut out = String::new();
        push_squeezed_ascii("aaabbbb1111", &mut out);
        assert_eq!(out, "ab1111");
    }
}
