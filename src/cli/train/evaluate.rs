//! Measuring a router on labelled intakes it was not fitted on: accuracy per
//! route, a confusion matrix, handoff exact match, privacy misses.

use std::fmt;

use handoff_triage::{Privacy, Route, Triage};

use super::data::Example;

/// Counts over one set of predictions.
#[derive(Debug, Clone, Default)]
pub struct Score {
    /// `confusion[expected][predicted]`, routes in [`Route::ALL`] order.
    pub confusion: [[usize; 5]; 5],
    /// How many had exactly the expected set of handoffs.
    pub handoffs_exact: usize,
    /// How many were flagged `needs_review`.
    pub needs_review: usize,
    /// Errors among those flagged `needs_review`.
    pub wrong_and_flagged: usize,
    /// Private cases (expected `redact` or `reject`) called `clean`.
    pub private_called_clean: usize,
    /// Cases whose privacy differs from its label.
    pub privacy_wrong: usize,
    /// The wrong routes: id, expected, got, confidence.
    pub errors: Vec<(String, Route, Route, f32)>,
}

impl Score {
    /// Count one prediction.
    pub fn add(&mut self, example: &Example, got: &Triage) {
        let (e, g) = (index(example.route), index(got.route));
        self.confusion[e][g] += 1;
        if e != g {
            self.errors
                .push((example.id.clone(), example.route, got.route, got.confidence));
        }
        let mut expected = example.handoffs.clone();
        let mut found = got.handoffs.clone();
        expected.sort();
        found.sort();
        self.handoffs_exact += usize::from(expected == found);
        self.needs_review += usize::from(got.needs_review);
        self.wrong_and_flagged += usize::from(got.needs_review && e != g);
        if let Some(privacy) = example.privacy {
            self.privacy_wrong += usize::from(privacy != got.privacy);
            self.private_called_clean +=
                usize::from(privacy != Privacy::Clean && got.privacy == Privacy::Clean);
        }
    }

    /// How many were counted.
    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    /// Share of routes right.
    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..5).map(|i| self.confusion[i][i]).sum();
        ratio(right, self.total())
    }

    /// Share of one route's cases routed right (its recall), if it has any.
    pub fn route_accuracy(&self, route: Route) -> Option<f64> {
        let i = index(route);
        let n: usize = self.confusion[i].iter().sum();
        (n > 0).then(|| ratio(self.confusion[i][i], n))
    }

    /// Share with exactly the expected handoffs.
    pub fn handoff_exact(&self) -> f64 {
        ratio(self.handoffs_exact, self.total())
    }

    /// Add another score's counts.
    pub fn merge(&mut self, other: &Score) {
        for (row, other) in self.confusion.iter_mut().zip(&other.confusion) {
            for (cell, o) in row.iter_mut().zip(other) {
                *cell += o;
            }
        }
        self.handoffs_exact += other.handoffs_exact;
        self.needs_review += other.needs_review;
        self.wrong_and_flagged += other.wrong_and_flagged;
        self.private_called_clean += other.private_called_clean;
        self.privacy_wrong += other.privacy_wrong;
        self.errors.extend(other.errors.iter().cloned());
    }
}

fn index(route: Route) -> usize {
    Route::ALL
        .iter()
        .position(|r| *r == route)
        .expect("every route is in ALL")
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Mean and spread (population standard deviation, minimum, maximum) of
/// per-fold figures.
pub struct Spread(pub Vec<f64>);

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.0;
        if v.is_empty() {
            return f.write_str("-");
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        write!(f, "{mean:.3} ± {sd:.3} (folds {min:.3}–{max:.3})")
    }
}

/// The confusion matrix as a table, expected routes down, predicted across.
pub struct Confusion<'a>(pub &'a Score);

impl fmt::Display for Confusion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  {:<16}", "expected \\ got")?;
        for route in Route::ALL {
            write!(f, "{:>14}", route.as_str())?;
        }
        writeln!(f)?;
        for (route, row) in Route::ALL.iter().zip(&self.0.confusion) {
            write!(f, "  {:<16}", route.as_str())?;
            for cell in row {
                write!(f, "{cell:>14}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Which examples are in the report-only test split: a fixed share chosen by
/// a hash of the id alone, so it never depends on the seed or the order.
pub fn held_out(id: &str, percent: u8) -> bool {
    bucket(id, "held-out") % 100 < u64::from(percent)
}

/// The cross-validation fold of an example, from a hash of the seed and id.
pub fn fold(id: &str, seed: u64, folds: usize) -> usize {
    (bucket(id, &format!("fold {seed}")) % folds as u64) as usize
}

/// A number from SHA-256 of a salt and the id.
fn bucket(id: &str, salt: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
