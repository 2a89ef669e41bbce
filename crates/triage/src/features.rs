//! The trained router's features: hashed word n-grams of each field's
//! normalised, scrubbed text, optionally character n-grams, and the rubric
//! signals the rules compute (tool count, live-customer words, repeat
//! failure, no-fit cues, the handoff vocabularies, which fields were given,
//! which kinds of private value were replaced).
//!
//! Every feature is a name hashed into `2^hash_bits` slots, so no vocabulary
//! ships with the model. A feature is present or absent: text features weigh
//! 1, rubric signals a set weight (a different one for the route and the
//! handoff models), and the vector is scaled to unit length, so a long text
//! does not outweigh a short one.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::evidence::Observation;
use super::rules::Flag;
use super::{Handoff, Privacy};
use handoff_intake::{Channel, IntakeField};
use handoff_scrub::FindingKind;

/// Which features a model reads. Stored in the model file, so a model is
/// always read with the features it was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureSettings {
    /// Word n-grams from 1 up to this length (0: none).
    pub word_ngrams: u8,
    /// Character n-grams within words, of these lengths (`[0, 0]`: none).
    pub char_ngrams: [u8; 2],
    /// How much one rubric signal weighs against one text feature in the
    /// route models (0: signals left out).
    pub route_signal_weight: f32,
    /// The same for the handoff models.
    pub handoff_signal_weight: f32,
    /// Features are hashed into `2^hash_bits` slots.
    pub hash_bits: u8,
}

impl Default for FeatureSettings {
    /// Word unigrams and bigrams plus the rubric signals: the choice measured
    /// best across writers (see `docs/triage.md`).
    fn default() -> Self {
        FeatureSettings {
            word_ngrams: 2,
            char_ngrams: [0, 0],
            route_signal_weight: 0.7,
            handoff_signal_weight: 2.0,
            hash_bits: 22,
        }
    }
}

/// A sparse feature vector: `(slot, value)` sorted by slot, each slot once,
/// of unit length.
pub type FeatureVector = Vec<(u32, f32)>;

/// One submission's features: what the route models read and what the
/// handoff models read (the same features, the signals weighed differently).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// For the route models.
    pub route: FeatureVector,
    /// For the handoff models.
    pub handoff: FeatureVector,
}

/// Hash seeds, one per kind of feature name, so names of different kinds
/// never share a slot by construction of the name.
mod seed {
    pub const WORDS: u64 = 1;
    pub const CHARS: u64 = 2;
    pub const FLAG: u64 = 3;
    pub const NO_FIT: u64 = 4;
    pub const STRONG: u64 = 5;
    pub const WEAK: u64 = 6;
    pub const TOOL_ON: u64 = 7;
    pub const SHAPE: u64 = 8;
    pub const FIELD: u64 = 9;
    pub const PLACEHOLDER: u64 = 10;
}

impl FeatureSettings {
    fn slot(&self, seed: u64, name: &[u8]) -> u32 {
        (xxh3_64_with_seed(name, seed) >> (64 - u32::from(self.hash_bits))) as u32
    }

    /// The features of an observation.
    pub(super) fn features(&self, obs: &Observation) -> Features {
        self.features_and_words(obs).0
    }

    /// The features of an observation, and its word n-grams with their
    /// slots (for explanations), found in one pass.
    pub(super) fn features_and_words<'t>(
        &self,
        obs: &'t Observation,
    ) -> (Features, Vec<(u32, &'t str)>) {
        let mut text: Vec<u32> = Vec::with_capacity(64);
        let mut words: Vec<(u32, &'t str)> = Vec::with_capacity(64);
        self.each_text_feature(obs, |slot, gram| {
            text.push(slot);
            if let Some(gram) = gram {
                words.push((slot, gram));
            }
        });
        let mut signals: Vec<u32> = Vec::with_capacity(16);
        self.each_signal(obs, |slot| signals.push(slot));
        for slots in [&mut text, &mut signals] {
            slots.sort_unstable();
            slots.dedup();
        }
        let [route, handoff] = weighed(
            &text,
            &signals,
            [self.route_signal_weight, self.handoff_signal_weight],
        );
        let features = Features { route, handoff };
        (features, words)
    }

    /// Every text feature: its slot, and for a word n-gram its words (a
    /// slice of the normalised text), for explanations.
    fn each_text_feature<'t>(
        &self,
        obs: &'t Observation,
        mut emit: impl FnMut(u32, Option<&'t str>),
    ) {
        for (_, text) in &obs.texts {
            let words: Vec<(usize, usize)> = word_spans(text);
            for n in 1..=usize::from(self.word_ngrams) {
                for window in words.windows(n) {
                    let gram = &text[window[0].0..window[n - 1].1];
                    emit(self.slot(seed::WORDS, gram.as_bytes()), Some(gram));
                }
            }
            let [low, high] = self.char_ngrams;
            if low == 0 {
                continue;
            }
            for &(start, end) in &words {
                // ` word ` with its boundaries, so prefixes and suffixes count.
                let padded = &text[start - 1..end + 1];
                let bounds: Vec<usize> = padded
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([padded.len()])
                    .collect();
                for n in usize::from(low)..=usize::from(high) {
                    for pair in bounds.windows(n + 1) {
                        let gram = &padded[pair[0]..pair[n]];
                        emit(self.slot(seed::CHARS, gram.as_bytes()), None);
                    }
                }
            }
        }
    }

    /// Every rubric signal, as a slot.
    fn each_signal(&self, obs: &Observation, mut emit: impl FnMut(u32)) {
        let ev = &obs.evidence;
        let rules = obs.rules;
        let mut shape = |name: &str| emit(self.slot(seed::SHAPE, name.as_bytes()));
        shape(match ev.tools.len() {
            0 => "tools=0",
            1 => "tools=1",
            2 => "tools=2",
            _ => "tools=3+",
        });
        shape(match ev.strong.len() {
            0 => "named handoffs=0",
            1 => "named handoffs=1",
            _ => "named handoffs=2+",
        });
        shape(match obs.intake.channel() {
            Channel::Form => "channel=form",
            Channel::Comment => "channel=comment",
        });
        shape(match privacy_of(obs) {
            Privacy::Reject => "privacy=reject",
            Privacy::Redact => "privacy=redact",
            Privacy::Clean => "privacy=clean",
        });
        for flag in Flag::ALL {
            if !ev.flag(flag).is_empty() {
                emit(self.slot(seed::FLAG, flag.key().as_bytes()));
            }
        }
        for (i, _) in &ev.no_fits {
            emit(self.slot(seed::NO_FIT, rules.spec.no_fits[*i].id.as_bytes()));
        }
        for handoff in ev.strong.keys() {
            emit(self.slot(seed::STRONG, handoff.as_str().as_bytes()));
        }
        for handoff in ev.weak.keys() {
            emit(self.slot(seed::WEAK, handoff.as_str().as_bytes()));
        }
        for &handoff in Handoff::ALL {
            let roles = &rules.handoff(handoff).tool_roles;
            let on_it = ev
                .tools
                .iter()
                .any(|(i, _)| rules.spec.tools[*i].roles.iter().any(|r| roles.contains(r)));
            if on_it {
                emit(self.slot(seed::TOOL_ON, handoff.as_str().as_bytes()));
            }
        }
        for field in obs.intake.fields() {
            if field.field != IntakeField::Message {
                emit(self.slot(seed::FIELD, field.field.as_str().as_bytes()));
            }
        }
        for kind in FindingKind::ALL {
            if obs
                .intake
                .fields()
                .iter()
                .any(|f| f.counts.contains_key(kind))
            {
                emit(self.slot(seed::PLACEHOLDER, kind.as_str().as_bytes()));
            }
        }
    }
}

/// Which features share a slot.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Holds {
    Text,
    Signal,
    Both,
}

/// The text and signal slots (each sorted and distinct) merged in order,
/// each with what holds it.
fn merged<'s>(text: &'s [u32], signals: &'s [u32]) -> impl Iterator<Item = (u32, Holds)> + 's {
    let (mut t, mut s) = (text.iter().peekable(), signals.iter().peekable());
    std::iter::from_fn(move || match (t.peek(), s.peek()) {
        (Some(&&a), Some(&&b)) if a == b => {
            t.next();
            s.next();
            Some((a, Holds::Both))
        }
        (Some(&&a), Some(&&b)) if a < b => {
            t.next();
            Some((a, Holds::Text))
        }
        (_, Some(&&b)) => {
            s.next();
            Some((b, Holds::Signal))
        }
        (Some(&&a), None) => {
            t.next();
            Some((a, Holds::Text))
        }
        (None, None) => None,
    })
}

/// One vector per signal weight, from one merge of the slots: text features
/// at 1 and signals at the weight (left out when it is not positive),
/// scaled to unit length; a slot both hold keeps the larger value.
fn weighed<const N: usize>(text: &[u32], signals: &[u32], weights: [f32; N]) -> [FeatureVector; N] {
    let mut vectors = weights.map(|_| Vec::with_capacity(text.len() + signals.len()));
    for (slot, holds) in merged(text, signals) {
        for (vector, &weight) in vectors.iter_mut().zip(&weights) {
            match holds {
                Holds::Text => vector.push((slot, 1.0)),
                Holds::Both => vector.push((slot, weight.max(1.0))),
                Holds::Signal if weight > 0.0 => vector.push((slot, weight)),
                Holds::Signal => {}
            }
        }
    }
    for vector in &mut vectors {
        let length = vector.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if length > 0.0 {
            vector.iter_mut().for_each(|(_, v)| *v /= length);
        }
    }
    vectors
}

/// The privacy decision, exactly as the scrubber's findings make it.
pub(super) fn privacy_of(obs: &Observation) -> Privacy {
    let intake = obs.intake;
    if intake.attachment() || intake.rejected() {
        Privacy::Reject
    } else if intake.fields().iter().any(|f| !f.counts.is_empty()) {
        Privacy::Redact
    } else {
        Privacy::Clean
    }
}

/// The byte spans of the words of a normalised text (single spaces, padded).
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(text.len() / 5);
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b == b' ', start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}
