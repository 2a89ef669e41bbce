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

use std::collections::HashMap;

/// The word-level replacements of a rules file, ready to apply.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    words: HashMap<String, String>,
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
        let spaced = spaced_lowercase(text);
        let mut out = String::with_capacity(spaced.len() + 2);
        out.push(' ');
        for word in spaced.split_ascii_whitespace() {
            let word = squeeze_repeats(word);
            match self.words.get(word.as_str()) {
                Some(replacement) if !replacement.is_empty() => out.push_str(replacement),
                Some(_) => continue,
                None => out.push_str(&word),
            }
            out.push(' ');
        }
        out
    }
}

/// Lower case, placeholders out, arrows and joiners spelt out, punctuation to spaces.
fn spaced_lowercase(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
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
    out
}

/// "helppp" → "help", "sooo" → "so": three or more of one letter become one.
fn squeeze_repeats(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|&&c| c == chars[i]).count();
        let keep = if run >= 3 && chars[i].is_alphabetic() {
            1
        } else {
            run
        };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i += run;
    }
    out
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
}
