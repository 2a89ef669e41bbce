//! Gathering evidence: which terms of which vocabulary occur in which field.

use std::collections::BTreeMap;
use std::fmt;

use super::Handoff;
use super::rules::{Compiled, Flag, Signal};
use handoff_intake::{IntakeField, ScrubbedIntake};

/// One rules term found in one field. It quotes the rules, never the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Quote {
    pub term: usize,
    pub field: IntakeField,
}

/// Every signal found in a submission, each with the quotes behind it, in
/// the order first seen.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    pub tools: Vec<(usize, Vec<Quote>)>,
    pub strong: BTreeMap<Handoff, Vec<Quote>>,
    pub weak: BTreeMap<Handoff, Vec<Quote>>,
    pub flags: BTreeMap<Flag, Vec<Quote>>,
    pub no_fits: Vec<(usize, Vec<Quote>)>,
}

impl Evidence {
    /// Match every field of `intake` against every term of the rules.
    pub fn gather(rules: &Compiled, intake: &ScrubbedIntake) -> Self {
        let mut evidence = Evidence::default();
        for field in intake.fields() {
            let text = rules.normaliser.normalise(field.text.as_str());
            let mut seen: Vec<usize> = Vec::new();
            for found in rules.matcher.find_overlapping_iter(&text) {
                let term = found.pattern().as_usize();
                if !seen.contains(&term) {
                    seen.push(term);
                }
            }
            let handoff_evidence = !rules
                .spec
                .fields
                .not_handoff_evidence
                .contains(&field.field);
            for term in seen {
                let quote = Quote {
                    term,
                    field: field.field,
                };
                for signal in &rules.terms[term].signals {
                    let names_handoff = matches!(signal, Signal::Strong(_) | Signal::Weak(_));
                    if handoff_evidence || !names_handoff {
                        evidence.add(*signal, quote);
                    }
                }
            }
        }
        evidence
    }

    fn add(&mut self, signal: Signal, quote: Quote) {
        match signal {
            Signal::Tool(i) => push_keyed(&mut self.tools, i, quote),
            Signal::NoFit(i) => push_keyed(&mut self.no_fits, i, quote),
            Signal::Strong(h) => self.strong.entry(h).or_default().push(quote),
            Signal::Weak(h) => self.weak.entry(h).or_default().push(quote),
            Signal::Flag(f) => self.flags.entry(f).or_default().push(quote),
        }
    }

    /// The quotes behind a flag (empty when it was not raised).
    pub fn flag(&self, flag: Flag) -> &[Quote] {
        self.flags.get(&flag).map_or(&[], Vec::as_slice)
    }
}

fn push_keyed(list: &mut Vec<(usize, Vec<Quote>)>, key: usize, quote: Quote) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, quotes)) => quotes.push(quote),
        None => list.push((key, vec![quote])),
    }
}

/// Quotes rendered for a reason: `"paid but" (message), "locked out" (business_risk)`.
pub(super) struct Quotes<'a> {
    pub rules: &'a Compiled,
    pub quotes: &'a [Quote],
}

/// At most this many quotes per reason: enough to see why, short enough to read.
const MAX_QUOTES: usize = 4;

impl fmt::Display for Quotes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, q) in self.quotes.iter().take(MAX_QUOTES).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "\"{}\" ({})",
                self.rules.terms[q.term].text,
                q.field.as_str()
            )?;
        }
        if self.quotes.len() > MAX_QUOTES {
            write!(f, " and {} more", self.quotes.len() - MAX_QUOTES)?;
        }
        Ok(())
    }
}
