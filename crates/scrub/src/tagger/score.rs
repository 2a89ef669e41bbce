//! The label scores of a region's tokens: each token's features' weights
//! summed, without collecting the feature ids.
//!
//! Most of a token's features depend on its word alone, or on a neighbour's
//! word alone, and the same words come back in text after text. So each
//! thread keeps, per distinct word, what it contributes: the sum of its own
//! features' weights (templates 0 to 7, always the first ones a token adds)
//! and the model rows it adds to a neighbour's score in each slot. A token
//! then costs a cache look-up, a few row additions and the handful of
//! features that depend on where it stands. The additions happen in the
//! order of [`features`](super::features::features), so the scores are
//! the same floating-point values, bit for bit (a test checks it).

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use super::features::{
    BIRTH_CUE_REACH, Cell, NEIGHBOURS, Token, ends_line, neighbour_features, own_features,
    pair_features, position_features, token_cell,
};
use super::model::{L, Model, add_weights};

/// Past this many cached words, the cache starts again empty (a few MB).
const MAX_WORDS: usize = 1 << 16;

/// What one word contributes, wherever it stands.
#[derive(Debug, Clone, Copy)]
struct Word {
    cell: Cell,
    /// The sum of its own features' weights, added in order from zero.
    own: [f32; L],
    /// `near[near_at[k]..near_at[k + 1]]` are the weight rows it adds, in
    /// order, to the score of the token whose neighbour it is in slot `k`.
    near_at: [u32; NEIGHBOURS.len() + 1],
}

/// The weights of the features a pair of words gives them (templates 40
/// to 43), in the order they are added, and how many of each the model has.
#[derive(Debug, Clone, Copy)]
struct Pair {
    /// The second word's (40 and 42, known ones first, in order), then the
    /// first word's (41 and 43).
    rows: [[f32; L]; 4],
    /// How many of `rows[..2]` and of `rows[2..]` are known features.
    second: u8,
    first: u8,
}

/// The weight rows of the features that do not depend on a word, looked
/// up once per model: where a token stands (template 8), a missing
/// neighbour in each slot (10 to 13 with value 0), a birth cue before (44).
#[derive(Debug, Default)]
struct Fixed {
    line_start: Option<[f32; L]>,
    line_end: Option<[f32; L]>,
    first: Option<[f32; L]>,
    no_neighbour: [Option<[f32; L]>; NEIGHBOURS.len()],
    birth_cue: Option<[f32; L]>,
}

impl Fixed {
    fn new(model: &Model) -> Self {
        // Each of these pushes one feature.
        let mut ids = Vec::new();
        position_features(true, false, false, |id| ids.push(id));
        position_features(false, true, false, |id| ids.push(id));
        position_features(false, false, true, |id| ids.push(id));
        for slot in 0..NEIGHBOURS.len() {
            neighbour_features(slot, None, |id| ids.push(id));
        }
        pair_features(None, &Cell::default(), None, true, |id| ids.push(id));
        debug_assert_eq!(ids.len(), 4 + NEIGHBOURS.len());
        let row = |k: usize| model.weights_of(ids[k]).copied();
        Fixed {
            line_start: row(0),
            line_end: row(1),
            first: row(2),
            no_neighbour: std::array::from_fn(|slot| row(3 + slot)),
            birth_cue: row(3 + NEIGHBOURS.len()),
        }
    }
}

/// A thread's cache of words and its reused buffers.
#[derive(Debug, Default)]
pub(super) struct Scorer {
    /// The [`Model::id`] the cache was filled from.
    model: Option<u64>,
    fixed: Fixed,
    index: HashMap<Box<str>, u32, FxBuildHasher>,
    words: Vec<Word>,
    near: Vec<[f32; L]>,
    lower: String,
    /// The word number of each token of the region being scored.
    token_words: Vec<u32>,
    /// Per ordered pair of word numbers, its number in `pair_rows`.
    pairs: HashMap<u64, u32, FxBuildHasher>,
    pair_rows: Vec<Pair>,
    /// The pair number of each token and the next, for the region being scored.
    token_pairs: Vec<u32>,
}

/// Copy the weights of the features `emit` gives that the model knows
/// into `rows`, in order; how many there were.
fn known_rows(model: &Model, rows: &mut [[f32; L]], emit: impl FnOnce(&mut dyn FnMut(u32))) -> u8 {
    let mut known = 0;
    emit(&mut |id| {
        if let Some(weights) = model.weights_of(id) {
            rows[known] = *weights;
            known += 1;
        }
    });
    known as u8
}

impl Scorer {
    /// The label scores of `tokens` of `text`, one per token, into `out`.
    pub(super) fn emissions(
        &mut self,
        model: &Model,
        text: &str,
        tokens: &[Token],
        out: &mut Vec<[f32; L]>,
    ) {
        if self.model != Some(model.id)
            || self.words.len() > MAX_WORDS
            || self.pairs.len() > MAX_WORDS
        {
            self.index.clear();
            self.words.clear();
            self.near.clear();
            self.pairs.clear();
            self.pair_rows.clear();
            if self.model != Some(model.id) {
                self.fixed = Fixed::new(model);
            }
            self.model = Some(model.id);
        }
        self.token_words.clear();
        for t in tokens {
            let w = self.word(model, &text[t.start..t.end], t.placeholder);
            self.token_words.push(w);
        }
        self.token_pairs.clear();
        for i in 1..self.token_words.len() {
            let pair = self.pair(model, self.token_words[i - 1], self.token_words[i]);
            self.token_pairs.push(pair);
        }
        let words = &self.words[..];
        let near = &self.near[..];
        let pairs = &self.pair_rows[..];
        let fixed = &self.fixed;
        let token_words = &self.token_words[..];
        let token_pairs = &self.token_pairs[..];
        let n = tokens.len();
        out.clear();
        out.reserve(n);
        // The index of the last birth cue seen before the token, if any.
        let mut last_cue: Option<usize> = None;
        for (i, t) in tokens.iter().enumerate() {
            let w = &words[token_words[i] as usize];
            let mut state = w.own;
            // The features in the order of `features::features`: where it
            // stands, its neighbours, its pairs, the birth cue.
            if t.line_start
                && let Some(row) = &fixed.line_start
            {
                add_weights(&mut state, row);
            }
            if ends_line(tokens, i)
                && let Some(row) = &fixed.line_end
            {
                add_weights(&mut state, row);
            }
            if i == 0
                && let Some(row) = &fixed.first
            {
                add_weights(&mut state, row);
            }
            // The neighbours, slot by slot (see `NEIGHBOURS`): the token
            // before, the one after, two before, two after.
            let mut neighbour = |k: Option<usize>, slot: usize| match k {
                Some(k) => {
                    let o = &words[token_words[k] as usize];
                    for row in &near[o.near_at[slot] as usize..o.near_at[slot + 1] as usize] {
                        add_weights(&mut state, row);
                    }
                }
                None => {
                    if let Some(row) = &fixed.no_neighbour[slot] {
                        add_weights(&mut state, row);
                    }
                }
            };
            neighbour(i.checked_sub(1), 0);
            neighbour((i + 1 < n).then_some(i + 1), 1);
            neighbour(i.checked_sub(2), 2);
            neighbour((i + 2 < n).then_some(i + 2), 3);
            if i > 0 {
                let p = &pairs[token_pairs[i - 1] as usize];
                for row in &p.rows[..usize::from(p.second)] {
                    add_weights(&mut state, row);
                }
            }
            if let Some(&k) = token_pairs.get(i) {
                let p = &pairs[k as usize];
                for row in &p.rows[2..2 + usize::from(p.first)] {
                    add_weights(&mut state, row);
                }
            }
            if last_cue.is_some_and(|c| i - c <= BIRTH_CUE_REACH)
                && let Some(row) = &fixed.birth_cue
            {
                add_weights(&mut state, row);
            }
            if w.cell.is_birth_cue() {
                last_cue = Some(i);
            }
            out.push(state);
        }
    }

    /// The number of the pair of word `a` followed by word `b`, cached.
    fn pair(&mut self, model: &Model, a: u32, b: u32) -> u32 {
        let key = u64::from(a) << 32 | u64::from(b);
        if let Some(&p) = self.pairs.get(&key) {
            return p;
        }
        let (a, b) = (&self.words[a as usize].cell, &self.words[b as usize].cell);
        let mut rows = [[0.0; L]; 4];
        let (to_second, to_first) = rows.split_at_mut(2);
        let second = known_rows(model, to_second, |f| {
            pair_features(Some(a), b, None, false, f)
        });
        let first = known_rows(model, to_first, |f| {
            pair_features(None, a, Some(b), false, f)
        });
        let pair = Pair {
            rows,
            second,
            first,
        };
        let p = self.pair_rows.len() as u32;
        self.pair_rows.push(pair);
        self.pairs.insert(key, p);
        p
    }

    /// The number of `text`'s word in the cache, added if new.
    fn word(&mut self, model: &Model, text: &str, placeholder: bool) -> u32 {
        if let Some(&w) = self.index.get(text) {
            return w;
        }
        // A token that starts with '[' and is longer than one byte is always
        // a placeholder, so the text alone is the key.
        let cell = token_cell(text, placeholder, &mut self.lower);
        let mut own = [0.0; L];
        own_features(&cell, text.len(), |id| model.add(&mut own, id));
        let mut near_at = [0; NEIGHBOURS.len() + 1];
        near_at[0] = self.near.len() as u32;
        for slot in 0..NEIGHBOURS.len() {
            neighbour_features(slot, Some(&cell), |id| {
                self.near.extend(model.weights_of(id).copied());
            });
            near_at[slot + 1] = self.near.len() as u32;
        }
        let w = self.words.len() as u32;
        self.words.push(Word { cell, own, near_at });
        self.index.insert(text.into(), w);
        w
    }
}

#[cfg(test)]
mod tests {
    use super::super::features::{Scratch, features, tokenize};
    use super::super::{DEFAULT_TAGGER_MODEL, RADIUS};
    use super::*;
    use crate::recognize::Gate;

    /// Each token's features' weights summed in order, from their ids.
    fn from_ids(model: &Model, text: &str, tokens: &[Token]) -> Vec<[f32; L]> {
        let (mut ids, mut offsets) = (Vec::new(), Vec::new());
        features(
            text,
            tokens,
            |_| false,
            &mut Scratch::default(),
            &mut ids,
            &mut offsets,
        );
        offsets
            .windows(2)
            .map(|w| {
                let mut state = [0.0; L];
                for &id in &ids[w[0]..w[1]] {
                    model.add(&mut state, id);
                }
                state
            })
            .collect()
    }

    /// The scores are the features' sums bit for bit, with the cache cold
    /// and warm, on every text of the crate's corpus-like samples.
    #[test]
    fn scores_are_the_sums_of_the_features_weights() {
        let model = Model::parse(DEFAULT_TAGGER_MODEL).unwrap();
        let gate = Gate::new(super::super::features::gate_cues(), RADIUS);
        let texts = [
            "my client Lara Ibañez (born 12 March 1987) lives at Hauptstraße 5, 10115 Berlin",
            "Thanks,\n[PERSON]\n[ADDRESS]\nDOB: 04/05/1990 geboren am 3. Mai",
            "Our Google Sheets to Active Campaign zap in Make stopped after the Find Contact step",
            "Hi Jean-Pierre O'Neill, ship to 742 Evergreen Terrace, Springfield, OR 97403\n\nRegards\nÅsa Öberg",
            "[",
            "",
        ];
        let mut scorer = Scorer::default();
        let mut out = Vec::new();
        for _ in 0..2 {
            for text in texts {
                for region in gate.regions(text) {
                    let part = &text[region.start..region.end];
                    let mut tokens = Vec::new();
                    tokenize(part, &mut tokens);
                    scorer.emissions(&model, part, &tokens, &mut out);
                    let want = from_ids(&model, part, &tokens);
                    let bits = |v: &[[f32; L]]| -> Vec<[u32; L]> {
                        v.iter().map(|s| s.map(f32::to_bits)).collect()
                    };
                    assert_eq!(bits(&out), bits(&want), "{part:?}");
                }
            }
        }
    }
}
