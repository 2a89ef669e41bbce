//! `handoff-gate train`: fit the router model on labelled intakes, measure
//! it honestly (k-fold on the training part, and a report-only held-out
//! split), and write the model file that `triage.model` loads.

mod data;
mod evaluate;
mod fit;

use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;

use super::PolicyArgs;
use crate::pipeline::{Pipeline, Sources};
use data::Example;
use evaluate::{Confusion, Score, Spread};
use fit::{Learner, Row};
use handoff_triage::{
    DEFAULT_REVIEW_BELOW, FeatureSettings, Features, Model, Provenance, Route, Rules, Triager,
};

/// liblinear's stopping tolerance: tight, so the weights hardly depend on it.
const EPSILON: f64 = 0.0001;

/// Arguments of `handoff-gate train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Labelled intakes, one JSON object a line:
    /// {"id", "channel", "input", "expected": {"route", "handoffs", "privacy"}}.
    #[arg(value_name = "DATA.jsonl", required = true)]
    pub data: Vec<PathBuf>,
    /// Write the model here (without it, only measure).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Cross-validation folds on the training part (0: none).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Instead of random folds, one fold per source: the part of each id
    /// before its first `-` (e.g. `dA`, `dB`, one per writer). Measures how
    /// the model carries to writing it was not fitted on.
    #[arg(long, conflicts_with = "folds")]
    pub folds_by_source: bool,
    /// Share of the data kept aside as a report-only test split, chosen by a
    /// hash of each id (0: fit on everything).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=50))]
    pub holdout_percent: u8,
    /// Seed of the fold assignment. The fit itself uses no randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Inverse regularisation strength C of the logistic regression.
    #[arg(long, default_value_t = 30.0)]
    pub cost: f64,
    /// Word n-grams from 1 up to this length.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub word_ngrams: u8,
    /// Character n-grams within words, e.g. `3-5` (default: none).
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_range)]
    pub char_ngrams: Option<[u8; 2]>,
    /// How much one rubric signal weighs against one text feature in the
    /// route models (0: leave the signals out).
    #[arg(long, default_value_t = FeatureSettings::default().route_signal_weight)]
    pub route_signal_weight: f32,
    /// The same for the handoff models.
    #[arg(long, default_value_t = FeatureSettings::default().handoff_signal_weight)]
    pub handoff_signal_weight: f32,
    /// List the cross-validation's wrong routes by id (to find mislabelled data).
    #[arg(long)]
    pub list_errors: bool,
    /// Flag `needs_review` below this route probability when measuring.
    #[arg(long, default_value_t = DEFAULT_REVIEW_BELOW)]
    pub review_below: f32,
    /// Triage rules to use instead of the embedded ones (their signals are
    /// features, so serve the model with the same rules).
    #[arg(long, value_name = "FILE", conflicts_with = "extend_rules")]
    pub rules: Option<PathBuf>,
    /// Additions to the embedded rules.
    #[arg(long, value_name = "FILE")]
    pub extend_rules: Option<PathBuf>,
    /// Detector options (the data is scrubbed before features are taken).
    #[command(flatten)]
    pub policy: PolicyArgs,
}

fn parse_range(text: &str) -> Result<[u8; 2], String> {
    let (low, high) = text
        .split_once('-')
        .ok_or_else(|| "expected MIN-MAX, e.g. 3-5".to_owned())?;
    let low: u8 = low.trim().parse().map_err(|_| "MIN must be a number")?;
    let high: u8 = high.trim().parse().map_err(|_| "MAX must be a number")?;
    if !(1..=high).contains(&low) || high > 8 {
        return Err("expected 1 <= MIN <= MAX <= 8".to_owned());
    }
    Ok([low, high])
}

/// Run `train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<ExitCode> {
    liblinear::toggle_liblinear_stdout_output(false);
    let pipeline = Pipeline::load(&Sources {
        detectors: args.policy.detectors.clone(),
        rules: args.rules.clone(),
        extend_rules: args.extend_rules.clone(),
        ..Sources::default()
    })?;
    let (policy, rules) = (pipeline.policy(), pipeline.rules().as_ref().clone());
    let files = args
        .data
        .iter()
        .map(|path| super::read_file(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let data = data::read(&files, policy)?;
    let settings = FeatureSettings {
        word_ngrams: args.word_ngrams,
        char_ngrams: args.char_ngrams.unwrap_or([0, 0]),
        route_signal_weight: args.route_signal_weight,
        handoff_signal_weight: args.handoff_signal_weight,
        ..FeatureSettings::default()
    };
    let learner = Learner {
        cost: args.cost,
        epsilon: EPSILON,
    };
    let featurer = Triager::rules_only(rules.clone());
    let features: Vec<Features> = data
        .examples
        .par_iter()
        .map(|e| featurer.features(&e.intake, &settings))
        .collect();
    let (test, train): (Vec<usize>, Vec<usize>) = (0..data.examples.len())
        .partition(|i| evaluate::held_out(&data.examples[*i].id, args.holdout_percent));
    anyhow::ensure!(
        !train.is_empty(),
        "nothing left to fit on after the held-out split"
    );
    println!(
        "read {} labelled intake(s) from {} file(s), sha256 {}",
        data.examples.len(),
        files.len(),
        data.sha256
    );
    println!(
        "report-only test split: {} ({} % by a hash of the id); fitting on {}",
        test.len(),
        args.holdout_percent,
        train.len()
    );
    println!("features: {}; {}", describe(&settings), learner.describe());

    let job = Job {
        examples: &data.examples,
        features: &features,
        rules: &rules,
        settings,
        learner,
        review_below: args.review_below,
    };
    let folds: Vec<Vec<usize>> = if args.folds_by_source {
        let mut sources: Vec<&str> = train
            .iter()
            .map(|i| source(&data.examples[*i].id))
            .collect();
        sources.sort_unstable();
        sources.dedup();
        sources
            .iter()
            .map(|s| {
                train
                    .iter()
                    .copied()
                    .filter(|i| source(&data.examples[*i].id) == *s)
                    .collect()
            })
            .collect()
    } else {
        (0..args.folds)
            .map(|k| {
                train
                    .iter()
                    .copied()
                    .filter(|i| evaluate::fold(&data.examples[*i].id, args.seed, args.folds) == k)
                    .collect()
            })
            .collect()
    };
    if folds.len() >= 2 {
        let scores = folds
            .par_iter()
            .map(|fold| {
                let fit_on: Vec<usize> = train
                    .iter()
                    .copied()
                    .filter(|i| !fold.contains(i))
                    .collect();
                let model = job.fit(&fit_on, "k-fold".to_owned())?;
                Ok(job.score(&model, fold))
            })
            .collect::<anyhow::Result<Vec<Score>>>()?;
        if args.folds_by_source {
            println!(
                "\none fold per source ({} sources) on the {}:",
                folds.len(),
                train.len()
            );
        } else {
            println!(
                "\n{}-fold cross-validation on the {} (seed {}):",
                args.folds,
                train.len(),
                args.seed
            );
        }
        report_folds(&scores, args.review_below, args.list_errors);
    }

    let model = job.fit(&train, data.sha256.clone())?;
    if !test.is_empty() {
        let score = job.score(&model, &test);
        let keyword = job.score_with(&Triager::rules_only(rules.clone()), &test);
        println!(
            "\nheld-out split ({} intakes, never fitted or tuned on):",
            test.len()
        );
        println!(
            "  route accuracy            {:.3}   (keyword rules: {:.3})",
            score.accuracy(),
            keyword.accuracy()
        );
        for &route in Route::ALL {
            if let Some(a) = score.route_accuracy(route) {
                println!("    {:<22}  {a:.3}", route.as_str());
            }
        }
        println!(
            "  handoff exact match       {:.3}   (keyword rules: {:.3})",
            score.handoff_exact(),
            keyword.handoff_exact()
        );
        report_review_and_privacy(&score, args.review_below);
        print!("  confusion:\n{}", Confusion(&score));
    }
    if let Some(path) = &args.output {
        let bytes = model.to_bytes();
        std::fs::write(path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!(
            "\nwrote {} ({} bytes, {} weighted slots, fitted on {})",
            path.display(),
            bytes.len(),
            model.slot_count(),
            train.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Everything a fit and a measurement need.
struct Job<'a> {
    examples: &'a [Example],
    features: &'a [Features],
    rules: &'a Rules,
    settings: FeatureSettings,
    learner: Learner,
    review_below: f32,
}

impl Job<'_> {
    fn fit(&self, on: &[usize], data_sha256: String) -> anyhow::Result<Model> {
        let rows: Vec<Row> = on
            .iter()
            .map(|i| Row {
                features: &self.features[*i],
                route: self.examples[*i].route,
                handoffs: &self.examples[*i].handoffs,
            })
            .collect();
        let provenance = Provenance {
            examples: rows.len() as u32,
            data_sha256,
            trainer: self.learner.describe(),
        };
        fit::fit(&rows, self.settings, self.learner, provenance)
    }

    fn score(&self, model: &Model, on: &[usize]) -> Score {
        let triager = Triager::with_model(self.rules.clone(), model.clone());
        self.score_with(&triager, on)
    }

    fn score_with(&self, triager: &Triager, on: &[usize]) -> Score {
        let triager = triager.clone().review_below(self.review_below);
        let mut score = Score::default();
        for i in on {
            let example = &self.examples[*i];
            score.add(example, &triager.triage(&example.intake));
        }
        score
    }
}

/// The source of an id: the part before its first `-`.
fn source(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

fn describe(settings: &FeatureSettings) -> String {
    let mut parts = Vec::new();
    if settings.word_ngrams > 0 {
        parts.push(format!("word 1-{} grams", settings.word_ngrams));
    }
    if let [low, high] = settings.char_ngrams
        && low > 0
    {
        parts.push(format!("char {low}-{high} grams"));
    }
    parts.push(format!(
        "rubric signals weighing {} (routes) and {} (handoffs)",
        settings.route_signal_weight, settings.handoff_signal_weight
    ));
    parts.push(format!("2^{} hashed slots", settings.hash_bits));
    parts.join(", ")
}

fn report_folds(scores: &[Score], review_below: f32, list_errors: bool) {
    let per = |f: &dyn Fn(&Score) -> Option<f64>| Spread(scores.iter().filter_map(f).collect());
    println!(
        "  route accuracy            {}",
        per(&|s| Some(s.accuracy()))
    );
    for &route in Route::ALL {
        println!(
            "    {:<22}  {}",
            route.as_str(),
            per(&|s| s.route_accuracy(route))
        );
    }
    println!(
        "  handoff exact match       {}",
        per(&|s| Some(s.handoff_exact()))
    );
    let mut all = Score::default();
    scores.iter().for_each(|s| all.merge(s));
    report_review_and_privacy(&all, review_below);
    print!("  confusion (all folds):\n{}", Confusion(&all));
    if list_errors {
        println!("  wrong routes (id: expected → got, confidence):");
        for (id, expected, got, confidence) in &all.errors {
            println!(
                "    {id}: {} → {} ({confidence:.2})",
                expected.as_str(),
                got.as_str()
            );
        }
    }
}

fn report_review_and_privacy(score: &Score, review_below: f32) {
    let total = score.total().max(1) as f64;
    let wrong = total - score.accuracy() * total;
    println!(
        "  needs review (p < {review_below:.2})    {:.1} % of intakes, holding {} of {} wrong routes",
        100.0 * score.needs_review as f64 / total,
        score.wrong_and_flagged,
        wrong.round()
    );
    println!(
        "  privacy                   {} private intake(s) called clean, {} decision(s) unlike the label",
        score.private_called_clean, score.privacy_wrong
    );
}
