//! The tagger's model file: a linear-chain CRF's weights, as exported by
//! `models/tagger/train.py` from a python-crfsuite model, and Viterbi
//! decoding over them.
//!
//! Format (little-endian): the magic `HGTAG\0\0\x01`; `u32` label count
//! `L`, each label as a `u8` length and its bytes; `L × L` `f32`
//! transition weights (from, to); `u32` feature count `N`; `N` sorted `u32`
//! feature ids; `N × L` `f32` state weights.

use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

/// Why a model file could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ModelError {
    /// The file does not start with the tagger's magic bytes.
    #[error("not a tagger model (bad magic bytes)")]
    Magic,
    /// The file ends before its header says it should.
    #[error("the tagger model is truncated")]
    Truncated,
    /// The labels are not the ones the tagger knows.
    #[error("the tagger model's labels are {0:?}, expected O, PER, ADR, DOB")]
    Labels(Vec<String>),
    /// Bytes follow the last weight.
    #[error("the tagger model has {0} trailing bytes")]
    Trailing(usize),
}

const MAGIC: &[u8; 8] = b"HGTAG\0\0\x01";

/// The labels, in the model's order.
pub(crate) const LABELS: [&str; 4] = ["O", "PER", "ADR", "DOB"];
pub(crate) const L: usize = LABELS.len();

/// The weights, with an open-addressing table from feature id to row.
#[derive(Debug)]
pub(crate) struct Model {
    /// A number no other model read by this process has, so that what a
    /// thread caches about one model's rows is never read for another.
    pub(crate) id: u64,
    transitions: [[f32; L]; L],
    /// One bit per slot of a table sixteen times larger than the feature
    /// count, set where a feature id falls: about a third of the ids a text
    /// yields are not in the model (measured on the corpora), and one load
    /// from this 8 KB table turns nearly all of those away before a probe.
    filter: Vec<u64>,
    /// Slot → feature id (`u32::MAX` free) and the row of its weights.
    slots: Vec<(u32, u32)>,
    weights: Vec<[f32; L]>,
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ModelError> {
        if self.0.len() < n {
            return Err(ModelError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

fn slot_of(id: u32, mask: usize) -> usize {
    (id.wrapping_mul(0x9e37_79b9) as usize) & mask
}

/// Add a row of weights, one per label, to `state`.
#[inline(always)]
pub(crate) fn add_weights(state: &mut [f32; L], weights: &[f32; L]) {
    for (s, w) in state.iter_mut().zip(weights) {
        *s += w;
    }
}

/// The filter bit of `id` in a filter of `2^bits` bits.
fn filter_bit(id: u32, bits: u32) -> usize {
    (id.wrapping_mul(0x85eb_ca6b) >> (32 - bits)) as usize
}

impl Model {
    /// Read a model file.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(ModelError::Magic);
        }
        let n_labels = r.u32()? as usize;
        let mut labels = Vec::new();
        for _ in 0..n_labels.min(64) {
            let len = r.take(1)?[0] as usize;
            labels.push(String::from_utf8_lossy(r.take(len)?).into_owned());
        }
        if labels != LABELS {
            return Err(ModelError::Labels(labels));
        }
        let mut transitions = [[0.0; L]; L];
        for row in &mut transitions {
            for w in row.iter_mut() {
                *w = r.f32()?;
            }
        }
        let n = r.u32()? as usize;
        if r.0.len() < n.saturating_mul(4 + 4 * L) {
            return Err(ModelError::Truncated);
        }
        let ids: Vec<u32> = (0..n).map(|_| r.u32()).collect::<Result<_, _>>()?;
        let mut weights = Vec::with_capacity(n);
        for _ in 0..n {
            let mut row = [0.0; L];
            for w in &mut row {
                *w = r.f32()?;
            }
            weights.push(row);
        }
        if !r.0.is_empty() {
            return Err(ModelError::Trailing(r.0.len()));
        }
        let capacity = (n * 2).next_power_of_two().max(16);
        let mask = capacity - 1;
        let mut slots = vec![(u32::MAX, 0); capacity];
        for (row, &id) in ids.iter().enumerate() {
            let mut s = slot_of(id, mask);
            while slots[s].0 != u32::MAX {
                s = (s + 1) & mask;
            }
            slots[s] = (id, row as u32);
        }
        let bits = (n * 16).next_power_of_two().max(64).trailing_zeros();
        let mut filter = vec![0u64; (1 << bits) / 64];
        for &id in &ids {
            let bit = filter_bit(id, bits);
            filter[bit / 64] |= 1 << (bit % 64);
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Model {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            transitions,
            filter,
            slots,
            weights,
        })
    }

    /// The row of feature `id`'s weights, if the model knows it.
    fn row(&self, id: u32) -> Option<u32> {
        let bits = (self.filter.len() * 64).trailing_zeros();
        let bit = filter_bit(id, bits);
        if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut s = slot_of(id, mask);
        loop {
            let (key, row) = self.slots[s];
            if key == id {
                return Some(row);
            }
            if key == u32::MAX {
                return None;
            }
            s = (s + 1) & mask;
        }
    }

    /// Feature `id`'s weights, one per label, if the model knows it.
    pub(crate) fn weights_of(&self, id: u32) -> Option<&[f32; L]> {
        self.row(id).map(|row| &self.weights[row as usize])
    }

    /// Add feature `id`'s weights to `state`, if the model knows it.
    pub(crate) fn add(&self, state: &mut [f32; L], id: u32) {
        if let Some(weights) = self.weights_of(id) {
            add_weights(state, weights);
        }
    }

    /// The best label sequence for tokens whose label scores (the sums of
    /// their features' weights) are `emissions`, written to `labels`.
    pub(crate) fn viterbi(
        &self,
        emissions: &[[f32; L]],
        back: &mut Vec<[u8; L]>,
        labels: &mut Vec<u8>,
    ) {
        labels.clear();
        back.clear();
        let Some((first, rest)) = emissions.split_first() else {
            return;
        };
        // Only the last token's scores are read at the end: each token's
        // are kept until the next one's are made from them.
        let mut prev = *first;
        back.push([0; L]);
        for state in rest {
            let mut here = [0.0f32; L];
            let mut from = [0u8; L];
            for to in 0..L {
                let (best, arg) = (0..L)
                    .map(|f| (prev[f] + self.transitions[f][to], f))
                    .fold((f32::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
                here[to] = best + state[to];
                from[to] = arg as u8;
            }
            back.push(from);
            prev = here;
        }
        let mut label = (0..L).fold(0, |a, b| if prev[b] > prev[a] { b } else { a });
        labels.resize(emissions.len(), 0);
        for i in (0..emissions.len()).rev() {
            labels[i] = label as u8;
            label = back[i][label] as usize;
        }
    }
}
