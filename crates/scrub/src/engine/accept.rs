//! The checks a pattern match must pass to become a candidate: its
//! validator, context words, excluded values, standing alone, and never
//! being one of the scrubber's own placeholders.

use super::Detector;
use crate::kind::Category;
use crate::recognize::{Candidate, Span};
use crate::validate::Validator;

impl Detector {
    /// Where an accepted finding starting at `start` ends: the whole match,
    /// or, for digit-group kinds, the longest run of leading groups that
    /// passes ("4242 4242 4242 4242 12" is a card followed by a month).
    pub(super) fn accepted_end(&self, text: &str, secret: Span) -> Option<usize> {
        let trims = self.validator.is_some_and(Validator::trims_groups);
        let Span { start, mut end } = secret;
        if trims && before_a_unit(&text[end..]) {
            // "0312 123 45 67 24 hours": the last group is a duration.
            let value = &text[start..end];
            let last_group = value.rfind([' ', '-', '.']).unwrap_or(0);
            end = start + value[..last_group].trim_end_matches([' ', '-', '.']).len();
        }
        if end == start {
            return None;
        }
        let value = &text[start..end];
        if self.accepts(text, start, end) {
            return Some(end);
        }
        if !trims {
            return None;
        }
        value
            .char_indices()
            .rev()
            .filter(|&(_, c)| matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .map(|(i, _)| start + value[..i].trim_end_matches([' ', '-', '.', '(']).len())
            .filter(|&e| e > start)
            .find(|&e| self.accepts(text, start, e))
    }

    fn accepts(&self, text: &str, start: usize, end: usize) -> bool {
        let value = &text[start..end];
        if value.is_empty() || is_placeholder(value) {
            return false;
        }
        if self.standalone && !stands_alone(text, start, end) {
            return false;
        }
        if self.kind.category() == Category::Credential && is_masked(value) {
            return false;
        }
        if let Some(validator) = self.validator
            && !validator.accepts(value, &text[end..])
        {
            return false;
        }
        let lower = value.bytes().map(|b| b.to_ascii_lowercase());
        if self
            .exclude_values
            .binary_search_by(|w| w.bytes().cmp(lower.clone()))
            .is_ok()
        {
            return false;
        }
        let before = |window: usize| {
            let from = floor_char_boundary(text, start.saturating_sub(window));
            &text[from..start]
        };
        if let Some(exclude) = &self.exclude
            && exclude.words.is_match(before(exclude.window))
        {
            return false;
        }
        match &self.context {
            None => true,
            Some(context) => context.words.is_match(before(context.window)),
        }
    }
}

/// A credential its writer already masked (`sk_live_****7Qa2`,
/// `whsec_••••••••`, `Bearer ********`): a run of three mask characters
/// is in no key a provider issues, and nothing is left to rotate.
fn is_masked(value: &str) -> bool {
    ["***", "•••", "●●●", "∙∙∙", "···"]
        .iter()
        .any(|mask| value.contains(mask))
}

/// Whether `after` starts with a unit that makes the number before it a
/// quantity: "24 hours", "3 days", "50 %".
fn before_a_unit(after: &str) -> bool {
    const UNITS: &[&str] = &[
        "hours", "hour", "hrs", "hr", "minutes", "minute", "mins", "min", "seconds", "secs",
        "days", "day", "weeks", "week", "months", "month", "years", "year", "am", "pm", "%",
        "percent", "times", "leads", "contacts", "people", "users", "members",
    ];
    let rest = after.trim_start_matches(' ');
    UNITS.iter().any(|unit| {
        rest.get(..unit.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(unit))
            && !rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}

/// Not glued to a word, a path, a parameter or an amount on either side.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let prev = text[..start].chars().next_back();
    let next = text[end..].chars().next();
    let glued_before = prev.is_some_and(|c| {
        (c.is_alphanumeric() && !unspaced_script(c))
            || matches!(
                c,
                '_' | '/' | '=' | '@' | '#' | '.' | '-' | '$' | '€' | '£' | '&' | '?'
            )
    });
    let glued_after = next.is_some_and(|c| {
        (c.is_alphanumeric() && !unspaced_script(c)) || matches!(c, '_' | '/' | '@' | '%')
    });
    !glued_before && !glued_after
}

/// Kana, CJK ideographs and Hangul: scripts written without a space before
/// a number ("カード番号は4242…です"), so a letter of theirs next to one does
/// not glue it to a word.
fn unspaced_script(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3FFFF}')
}

/// Cut the scrubber's own placeholders (`[API_KEY]`) out of the edges of
/// candidates, so that scrubbed text scrubs to itself; a candidate that was
/// nothing but placeholders and punctuation is emptied.
pub(super) fn spare_placeholders(text: &str, candidates: &mut [Candidate]) {
    let marks: Vec<Span> = text
        .match_indices('[')
        .filter_map(|(at, _)| placeholder_len(&text[at..]).map(|len| Span::new(at, at + len)))
        .collect();
    if marks.is_empty() {
        return;
    }
    for c in candidates.iter_mut() {
        let span = &mut c.span;
        for mark in &marks {
            if mark.start <= span.start && span.start < mark.end {
                span.start = mark.end.min(span.end);
            }
            if mark.start < span.end && span.end <= mark.end {
                span.end = mark.start.max(span.start);
            }
        }
        let rest = &text[span.start..span.end];
        if rest.chars().filter(|ch| ch.is_alphanumeric()).count() < 3 {
            span.end = span.start;
        }
    }
}

/// Whether `value` is one of the scrubber's own placeholders, such as
/// `[API_KEY]`: scrubbed text must scrub to itself.
pub(super) fn is_placeholder(value: &str) -> bool {
    let v = value.trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']);
    placeholder_len(v) == Some(v.len())
}

/// The byte length of a scrubber placeholder at the start of `text`: `[`,
/// an upper-case letter, 1 to 31 more upper-case letters or `_`, `]`. The
/// one definition the scrubber, the policy and triage share.
pub fn placeholder_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'[') || !bytes.get(1).is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    let inner = bytes[1..]
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    (inner >= 2 && bytes.get(1 + inner) == Some(&b']')).then_some(inner + 2)
}

/// The largest char boundary at or below `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}
