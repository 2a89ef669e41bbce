//! The trained router's model: linear weights over hashed features for the
//! five routes (one against the rest) and the five handoffs (one yes/no
//! model each), stored in a small binary file.
//!
//! The file is `MAGIC`, then the [`Model`] encoded with `postcard`: the
//! feature settings, where it came from, the sorted slots that have weights,
//! one row of [`OUTPUTS`] weights per slot, and one bias per output. Only
//! slots seen in training have a row; every other slot weighs nothing.

use serde::{Deserialize, Serialize};

use super::features::{FeatureSettings, Features};
use super::{Handoff, Route};

/// The start of every model file.
const MAGIC: &[u8; 26] = b"handoff-gate router model\n";
/// The version of the encoding after [`MAGIC`].
const FORMAT: u32 = 1;

/// One output per route (in [`Route::ALL`] order), then one per handoff (in
/// [`Handoff::ALL`] order).
pub const OUTPUTS: usize = Route::ALL.len() + Handoff::ALL.len();

/// The embedded default model, trained by `handoff-gate train` from the
/// committed data under `models/router/`.
pub const DEFAULT_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/router/router.model"
));

/// Why model bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The bytes do not start like a model file.
    #[error("{origin}: not a handoff-gate router model (train one with `handoff-gate train`)")]
    NotAModel {
        /// Where the bytes came from.
        origin: String,
    },
    /// A model file of another format version.
    #[error(
        "{origin}: router model format {found}, this build reads format {FORMAT}; retrain it with `handoff-gate train`"
    )]
    Format {
        /// Where the bytes came from.
        origin: String,
        /// The version found.
        found: u32,
    },
    /// The encoding is damaged or inconsistent.
    #[error("{origin}: damaged router model: {message}")]
    Damaged {
        /// Where the bytes came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Where a model came from, stored in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// How many labelled intakes it was fitted on.
    pub examples: u32,
    /// SHA-256 of the training data as read, in hex.
    pub data_sha256: String,
    /// The learner and its parameters, e.g. `liblinear 230 L2R_LR C=4 eps=0.0001`.
    pub trainer: String,
}

/// A trained router model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    format: u32,
    /// The features it reads.
    pub settings: FeatureSettings,
    /// Where it came from.
    pub provenance: Provenance,
    slots: Vec<u32>,
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Where the slots with the same top [`INDEX_BITS`] bits start in
    /// `slots`, one entry per value of those bits and one past the end:
    /// built from `slots` when a model is made or read, never stored.
    #[serde(skip)]
    index: Vec<u32>,
}

/// How many top bits of a slot [`Model::row`] looks up directly.
const INDEX_BITS: u8 = 14;

/// The start of each run of `slots` (sorted) sharing their top bits.
fn index(slots: &[u32], hash_bits: u8) -> Vec<u32> {
    let shift = hash_bits.saturating_sub(INDEX_BITS);
    let buckets = 1usize << (hash_bits - shift);
    let mut index = Vec::with_capacity(buckets + 1);
    let mut at = 0;
    for bucket in 0..=buckets {
        while slots
            .get(at)
            .is_some_and(|s| ((s >> shift) as usize) < bucket)
        {
            at += 1;
        }
        index.push(at as u32);
    }
    index
}

/// A model's raw scores for one submission: one per output.
pub(super) type Scores = [f32; OUTPUTS];

impl Model {
    /// A model from trained weights: `rows` holds, for each slot that has
    /// weights, its [`OUTPUTS`] weights; `bias` one weight per output.
    pub fn from_weights(
        settings: FeatureSettings,
        provenance: Provenance,
        mut rows: Vec<(u32, [f32; OUTPUTS])>,
        bias: [f32; OUTPUTS],
    ) -> Self {
        rows.sort_unstable_by_key(|(slot, _)| *slot);
        rows.dedup_by_key(|(slot, _)| *slot);
        let slots: Vec<u32> = rows.iter().map(|(slot, _)| *slot).collect();
        Model {
            format: FORMAT,
            settings,
            provenance,
            index: index(&slots, settings.hash_bits),
            slots,
            weights: rows.iter().flat_map(|(_, w)| *w).collect(),
            bias: bias.to_vec(),
        }
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_allocvec(self).expect("a model always encodes"));
        bytes
    }

    /// Read a model file's bytes. `origin` names them in errors.
    pub fn from_bytes(origin: &str, bytes: &[u8]) -> Result<Self, ModelError> {
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| ModelError::NotAModel {
                origin: origin.to_owned(),
            })?;
        let damaged = |message: String| ModelError::Damaged {
            origin: origin.to_owned(),
            message,
        };
        let (format, _) =
            postcard::take_from_bytes::<u32>(body).map_err(|e| damaged(e.to_string()))?;
        if format != FORMAT {
            return Err(ModelError::Format {
                origin: origin.to_owned(),
                found: format,
            });
        }
        let mut model: Model = postcard::from_bytes(body).map_err(|e| damaged(e.to_string()))?;
        let sorted = model.slots.windows(2).all(|w| w[0] < w[1]);
        let bits = model.settings.hash_bits;
        if !sorted
            || model.weights.len() != model.slots.len() * OUTPUTS
            || model.bias.len() != OUTPUTS
            || !(8..=30).contains(&bits)
        {
            return Err(damaged("inconsistent weights".to_owned()));
        }
        model.index = index(&model.slots, bits);
        Ok(model)
    }

    /// How many slots have weights.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The weights of one slot, if it was seen in training.
    pub(super) fn row(&self, slot: u32) -> Option<&[f32]> {
        let shift = self.settings.hash_bits.saturating_sub(INDEX_BITS);
        let bucket = (slot >> shift) as usize;
        let (from, to) = (
            *self.index.get(bucket)? as usize,
            *self.index.get(bucket + 1)? as usize,
        );
        let at = from + self.slots[from..to].binary_search(&slot).ok()?;
        Some(&self.weights[at * OUTPUTS..(at + 1) * OUTPUTS])
    }

    /// The raw score of every output: the routes' from the route vector,
    /// the handoffs' from the handoff vector.
    pub(super) fn scores(&self, features: &Features) -> Scores {
        let mut scores = [0.0; OUTPUTS];
        scores.copy_from_slice(&self.bias);
        let routes = Route::ALL.len();
        let (route, handoff) = (&features.route, &features.handoff);
        if route.len() == handoff.len() && route.iter().zip(handoff).all(|(r, h)| r.0 == h.0) {
            // The usual case, both vectors over the same slots: one look-up
            // per slot, each output summed in the same order as below.
            for ((slot, r), (_, h)) in route.iter().zip(handoff) {
                if let Some(row) = self.row(*slot) {
                    let (row_routes, row_handoffs) = row.split_at(routes);
                    let (score_routes, score_handoffs) = scores.split_at_mut(routes);
                    for (score, weight) in score_routes.iter_mut().zip(row_routes) {
                        *score += weight * r;
                    }
                    for (score, weight) in score_handoffs.iter_mut().zip(row_handoffs) {
                        *score += weight * h;
                    }
                }
            }
            return scores;
        }
        for (vector, outputs) in [(route, 0..routes), (handoff, routes..OUTPUTS)] {
            for (slot, value) in vector {
                if let Some(row) = self.row(*slot) {
                    for output in outputs.clone() {
                        scores[output] += row[output] * value;
                    }
                }
            }
        }
        scores
    }
}

/// The probability of each route: the one-against-the-rest logistic
/// outputs, normalised to sum to one (as liblinear does).
pub(super) fn route_probabilities(scores: &Scores) -> [f32; Route::ALL.len()] {
    let mut p = [0.0; Route::ALL.len()];
    for (p, s) in p.iter_mut().zip(scores) {
        *p = sigmoid(*s);
    }
    let total: f32 = p.iter().sum();
    p.iter_mut().for_each(|p| *p /= total);
    p
}

/// The probability that each handoff is involved.
pub(super) fn handoff_probabilities(scores: &Scores) -> [f32; Handoff::ALL.len()] {
    let mut p = [0.0; Handoff::ALL.len()];
    for (p, s) in p.iter_mut().zip(&scores[Route::ALL.len()..]) {
        *p = sigmoid(*s);
    }
    p
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The output index of a route.
pub(super) fn route_output(route: Route) -> usize {
    Route::ALL
        .iter()
        .position(|r| *r == route)
        .expect("every route is in ALL")
}

/// The output index of a handoff.
pub(super) fn handoff_output(handoff: Handoff) -> usize {
    Route::ALL.len()
        + Handoff::ALL
            .iter()
            .position(|h| *h == handoff)
            .expect("every handoff is in ALL")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        let mut row = [0.0; OUTPUTS];
        row[0] = 1.5;
        Model::from_weights(
            FeatureSettings::default(),
            Provenance {
                examples: 1,
                data_sha256: "00".into(),
                trainer: "test".into(),
            },
            vec![(7, row), (3, [0.25; OUTPUTS])],
            [0.5; OUTPUTS],
        )
    }

    #[test]
    fn a_model_round_trips_through_its_bytes() {
        let model = tiny();
        let bytes = model.to_bytes();
        assert_eq!(Model::from_bytes("tiny", &bytes).unwrap(), model);
        let vector = vec![(3, 1.0), (5, 1.0), (7, 2.0)];
        let features = Features {
            route: vector.clone(),
            handoff: vector[..1].to_vec(),
        };
        let scores = model.scores(&features);
        assert_eq!(scores[0], 0.5 + 0.25 + 3.0);
        assert_eq!(scores[1], 0.5 + 0.25);
        assert_eq!(scores[OUTPUTS - 1], 0.5 + 0.25);
    }

    #[test]
    fn damaged_or_foreign_bytes_are_refused_with_their_origin() {
        let err = Model::from_bytes("x.bin", b"PK\x03\x04")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.bin: not a handoff-gate router model"),
            "{err}"
        );
        let mut bytes = tiny().to_bytes();
        bytes.truncate(bytes.len() - 3);
        let err = Model::from_bytes("x.bin", &bytes).unwrap_err().to_string();
        assert!(err.starts_with("x.bin: damaged router model"), "{err}");
    }

    #[test]
    fn the_embedded_model_reads() {
        let model = Model::from_bytes("embedded", DEFAULT_MODEL).unwrap();
        assert!(model.slot_count() > 1000);
    }
}
