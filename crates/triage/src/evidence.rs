//! Gathering evidence: which terms of which vocabulary occur in which field.

use std::collections::BTreeMap;

use super::rules::{Compiled, Flag, Meaning};
use super::{Handoff, Term};
use handoff_intake::{Channel, IntakeField, ScrubbedIntake};

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

/// What the rules see in one intake: each field's normalised text and the
/// evidence found in it. Every router decides from this.
#[derive(Debug)]
pub(super) struct Observation<'a> {
    pub intake: &'a ScrubbedIntake,
    pub rules: &'a Compiled,
    /// Each field's normalised text (` words separated by single spaces `).
    pub texts: Vec<(IntakeField, String)>,
    pub evidence: Evidence,
}

impl<'a> Observation<'a> {
    /// Normalise every field of `intake` and gather the evidence in it.
    pub fn new(rules: &'a Compiled, intake: &'a ScrubbedIntake) -> Self {
        let texts: Vec<(IntakeField, String)> = intake
            .fields()
            .iter()
            .map(|f| (f.field, rules.normaliser.normalise(f.text.as_str())))
            .collect();
        let mut evidence = Evidence::gather(rules, &texts);
        if intake.channel() != Channel::Comment {
            evidence
                .no_fits
                .retain(|(i, _)| !rules.spec.no_fits[*i].only_comments);
        }
        Observation {
            intake,
            rules,
            texts,
            evidence,
        }
    }

    /// The canonical tool names found, in order of appearance.
    pub fn tool_names(&self) -> Vec<String> {
        self.evidence
            .tools
            .iter()
            .map(|(i, _)| self.rules.spec.tools[*i].name.clone())
            .collect()
    }
}

impl Evidence {
    /// Match every normalised field against every term of the rules.
    fn gather(rules: &Compiled, texts: &[(IntakeField, String)]) -> Self {
        let mut evidence = Evidence::default();
        for (field, text) in texts {
            let mut seen: Vec<usize> = Vec::new();
            for found in rules.matcher.find_overlapping_iter(text) {
                let term = found.pattern().as_usize();
                if !seen.contains(&term) {
                    seen.push(term);
                }
            }
            let handoff_evidence = !rules.spec.fields.not_handoff_evidence.contains(field);
            for term in seen {
                let quote = Quote {
                    term,
                    field: *field,
                };
                for signal in &rules.terms[term].signals {
                    let names_handoff = matches!(signal, Meaning::Strong(_) | Meaning::Weak(_));
                    if handoff_evidence || !names_handoff {
                        evidence.add(*signal, quote);
                    }
                }
            }
        }
        evidence
    }

    fn add(&mut self, signal: Meaning, quote: Quote) {
        match signal {
            Meaning::Tool(i) => push_keyed(&mut self.tools, i, quote),
            Meaning::NoFit(i) => push_keyed(&mut self.no_fits, i, quote),
            Meaning::Strong(h) => self.strong.entry(h).or_default().push(quote),
            Meaning::Weak(h) => self.weak.entry(h).or_default().push(quote),
            Meaning::Flag(f) => self.flags.entry(f).or_default().push(quote),
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

/// Quotes as the terms a [`Cause`](crate::Cause) lists.
pub(super) fn terms(rules: &Compiled, quotes: &[Quote]) -> Vec<Term> {
    quotes
        .iter()
        .map(|q| Term {
            term: rules.terms[q.term].text.clone(),
            field: q.field,
        })
        .collect()
}
