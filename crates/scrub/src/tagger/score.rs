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
    Cell, NEIGHBOURS, Token, after_birth_cue, ends_line, neighbour_features, own_features,
    pair_features, position_features, token_cell,
};
use super::model::{L, Model};

/// Past this many cached words, the cache starts again empty (a few MB).
const MAX_WORDS: usize = 1 << 16;

/// What one word contributes, wherever it stands.
#[derive(Debug, Clone, Copy)]
struct Word {
    cell: Cell,
    /// The sum of its own features' weights, added in order from zero.
    own: [f32; L],
    /// `rows[near[k]..near[k + 1]]` are the rows it adds, in order, to the
    /// score of the token whose neighbour it is in slot `k`.
    near: [u32; NEIGHBOURS.len() + 1],
}

/// A thread's cache of words and its reused buffers.
#[derive(Debug, Default)]
pub(super) struct Scorer {
    /// The [`Model::id`] the cache was filled from.
    model: Option<u64>,
    index: HashMap<Box<str>, u32, FxBuildHasher>,
    words: Vec<Word>,
    rows: Vec<u32>,
    lower: String,
    /// The word number of each token of the region being scored.
    token_words: Vec<u32>,
    /// Per ordered pair of word numbers, the rows of the features the pair
    /// gives its second word (templates 40 and 42) and its first (41 and
    /// 43), in that order, [`ABSENT`] where the model has none.
    pairs: HashMap<u64, [u32; 4], FxBuildHasher>,
    /// The pair rows of each token and the next, for the region being scored.
    token_pairs: Vec<[u32; 4]>,
}

/// A pair feature the model does not know.
const ABSENT: u32 = u32::MAX;

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
            self.rows.clear();
            self.pairs.clear();
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
        let words = &self.words;
        let token_words = &self.token_words;
        let word = |i: usize| &words[token_words[i] as usize];
        let neighbour = |i: usize, d: isize| {
            i.checked_add_signed(d)
                .filter(|&k| k < tokens.len())
                .map(word)
        };
        out.clear();
        for (i, t) in tokens.iter().enumerate() {
            let w = word(i);
            let mut state = w.own;
            let mut add = |id| model.add(&mut state, id);
            position_features(t.line_start, ends_line(tokens, i), i == 0, &mut add);
            for (slot, d) in NEIGHBOURS.into_iter().enumerate() {
                match neighbour(i, d) {
                    Some(o) => {
                        for &row in &self.rows[o.near[slot] as usize..o.near[slot + 1] as usize] {
                            model.add_row(&mut state, row);
                        }
                    }
                    None => neighbour_features(slot, None, |id| model.add(&mut state, id)),
                }
            }
            // The pair features, as `pair_features` orders them: with the
            // token before, with the token after, then the birth cue.
            let before = i.checked_sub(1).map(|k| &self.token_pairs[k][..2]);
            let after = self.token_pairs.get(i).map(|p| &p[2..]);
            for &row in before.into_iter().chain(after).flatten() {
                if row != ABSENT {
                    model.add_row(&mut state, row);
                }
            }
            let cue = after_birth_cue(|k| word(k).cell.is_birth_cue(), i);
            pair_features(None, &w.cell, None, cue, |id| model.add(&mut state, id));
            out.push(state);
        }
    }

    /// The pair rows of word `a` followed by word `b`, cached.
    fn pair(&mut self, model: &Model, a: u32, b: u32) -> [u32; 4] {
        let key = u64::from(a) << 32 | u64::from(b);
        if let Some(&rows) = self.pairs.get(&key) {
            return rows;
        }
        let (a, b) = (&self.words[a as usize].cell, &self.words[b as usize].cell);
        let mut rows = [ABSENT; 4];
        let mut k = 0;
        let mut push = |id| {
            rows[k] = model.row(id).unwrap_or(ABSENT);
            k += 1;
        };
        pair_features(Some(a), b, None, false, &mut push);
        pair_features(None, a, Some(b), false, &mut push);
        self.pairs.insert(key, rows);
        rows
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
        let mut near = [0; NEIGHBOURS.len() + 1];
        near[0] = self.rows.len() as u32;
        for slot in 0..NEIGHBOURS.len() {
            neighbour_features(slot, Some(&cell), |id| {
                self.rows.extend(model.row(id));
            });
            near[slot + 1] = self.rows.len() as u32;
        }
        let w = self.words.len() as u32;
        self.words.push(Word { cell, own, near });
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
