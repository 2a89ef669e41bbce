//! Fitting a router model with liblinear: L2-regularised logistic regression
//! solved in the primal by a trust-region Newton method (`L2R_LR`), which
//! uses no random numbers, so the same data gives the same weights. Routes
//! are one model against the rest (liblinear's multi-class scheme); each
//! handoff is its own yes/no model.

use std::collections::BTreeMap;

use liblinear::util::TrainingInput;
use liblinear::{Builder, LibLinearModel, SolverType};

use handoff_triage::{
    FeatureSettings, FeatureVector, Features, Handoff, Model, OUTPUTS, Provenance, Route,
};

/// The learner's settings.
#[derive(Debug, Clone, Copy)]
pub struct Learner {
    /// The inverse regularisation strength `C`.
    pub cost: f64,
    /// liblinear's stopping tolerance.
    pub epsilon: f64,
}

impl Learner {
    /// How the learner is named in a model's provenance.
    pub fn describe(&self) -> String {
        format!(
            "liblinear {} L2R_LR C={} eps={} bias=1",
            liblinear::liblinear_version(),
            self.cost,
            self.epsilon
        )
    }
}

/// One example as the learner sees it.
pub struct Row<'a> {
    /// Its features.
    pub features: &'a Features,
    /// Its route.
    pub route: Route,
    /// Its handoffs.
    pub handoffs: &'a [Handoff],
}

/// A score that keeps an output that never occurs in the data at ~0 probability.
const ABSENT: f32 = -20.0;

/// Fit the route and handoff models on `rows`.
pub fn fit(
    rows: &[Row],
    settings: FeatureSettings,
    learner: Learner,
    provenance: Provenance,
) -> anyhow::Result<Model> {
    // liblinear wants dense 1-based feature numbers: number the slots seen.
    let mut number: BTreeMap<u32, u32> = BTreeMap::new();
    for row in rows {
        for (slot, _) in row.features.route.iter().chain(&row.features.handoff) {
            number.insert(*slot, 0);
        }
    }
    for (n, value) in number.values_mut().enumerate() {
        *value = n as u32 + 1;
    }
    let slots: Vec<u32> = number.keys().copied().collect();
    let numbered = |vector: &FeatureVector| -> Vec<(u32, f64)> {
        vector
            .iter()
            .map(|(slot, value)| (number[slot], f64::from(*value)))
            .collect()
    };
    let x_route: Vec<Vec<(u32, f64)>> = rows.iter().map(|r| numbered(&r.features.route)).collect();
    let x_handoff: Vec<Vec<(u32, f64)>> =
        rows.iter().map(|r| numbered(&r.features.handoff)).collect();

    let mut weights = vec![[0.0f32; OUTPUTS]; slots.len()];
    let mut bias = [ABSENT; OUTPUTS];
    let route_labels: Vec<f64> = rows.iter().map(|r| route_index(r.route) as f64).collect();
    fit_outputs(
        &x_route,
        slots.len(),
        route_labels,
        learner,
        |label, coefficient, b| {
            let output = label as usize;
            for (row, w) in weights.iter_mut().zip(coefficient) {
                row[output] = w;
            }
            bias[output] = b;
        },
    )?;
    for (h, handoff) in Handoff::ALL.iter().enumerate() {
        let output = Route::ALL.len() + h;
        let labels: Vec<f64> = rows
            .iter()
            .map(|r| f64::from(u8::from(r.handoffs.contains(handoff))))
            .collect();
        fit_outputs(
            &x_handoff,
            slots.len(),
            labels,
            learner,
            |label, coefficient, b| {
                if label == 1 {
                    for (row, w) in weights.iter_mut().zip(coefficient) {
                        row[output] = w;
                    }
                    bias[output] = b;
                }
            },
        )?;
    }
    let rows = slots.into_iter().zip(weights).collect();
    Ok(Model::from_weights(settings, provenance, rows, bias))
}

/// Fit one liblinear problem; call `store(label, weights, bias)` for each
/// label it learned a model for. A problem with a single label learns
/// nothing (that output keeps its [`ABSENT`] score, or the sure score of
/// the one label).
fn fit_outputs(
    x: &[Vec<(u32, f64)>],
    features: usize,
    labels: Vec<f64>,
    learner: Learner,
    mut store: impl FnMut(i32, Vec<f32>, f32),
) -> anyhow::Result<()> {
    let mut distinct: Vec<i32> = labels.iter().map(|l| *l as i32).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if let [only] = distinct.as_slice() {
        store(*only, vec![0.0; features], -ABSENT);
        return Ok(());
    }
    let input = TrainingInput::from_sparse_features(labels, x.to_vec())
        .map_err(|e| anyhow::anyhow!("liblinear refused the data: {e}"))?;
    let mut builder = Builder::new();
    builder.problem().input_data(input).bias(1.0);
    builder
        .parameters()
        .solver_type(SolverType::L2R_LR)
        .constraints_violation_cost(learner.cost)
        .stopping_criterion(learner.epsilon);
    let model = builder
        .build_model()
        .map_err(|e| anyhow::anyhow!("liblinear could not fit the model: {e}"))?;
    for (index, label) in model.labels().iter().enumerate() {
        let index = index as i32;
        // liblinear answers 0 for a number beyond the last it saw.
        let coefficient = (1..=features as i32)
            .map(|f| model.feature_coefficient(f, index) as f32)
            .collect();
        store(*label, coefficient, model.label_bias(index) as f32);
    }
    Ok(())
}

fn route_index(route: Route) -> usize {
    Route::ALL
        .iter()
        .position(|r| *r == route)
        .expect("every route is in ALL")
}
