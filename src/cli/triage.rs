//! `handoff-gate triage`: triage a stream of JSON lines or a comments export.
//!
//! Both modes read in batches, triage each batch on every core with rayon
//! while the previous one is written and the next one read, and write in
//! input order, so memory stays constant in the size of the input.

mod csv_export;
mod jsonl;
mod summary;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::PolicyArgs;
use crate::pipeline::{Pipeline, Sources};

/// How many records per thread are triaged together: large enough to keep
/// every core busy, small enough to keep memory flat.
const CHUNK: usize = 1024;

/// Arguments of `handoff-gate triage`.
#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// A comments export (CSV with a header row) to triage.
    #[arg(
        value_name = "FILE",
        required_unless_present = "jsonl",
        conflicts_with = "jsonl"
    )]
    pub file: Option<PathBuf>,
    /// Read JSON lines `{"id": …, "channel": "form"|"comment", "input": …}`
    /// from stdin and write one result line per input line, in order.
    #[arg(long)]
    pub jsonl: bool,
    /// Where to write the triaged export (default: stdout).
    #[arg(short, long, value_name = "FILE", requires = "file")]
    pub output: Option<PathBuf>,
    /// The output format of a triaged export.
    #[arg(long, value_enum, default_value_t = Format::Csv, requires = "file")]
    pub format: Format,
    /// The column that holds the comment text (default: detected among
    /// comment, text, content, message, body).
    #[arg(long, value_name = "NAME", requires = "file")]
    pub column: Option<String>,
    /// The field separator of the export: `,` `;` `|` or `tab` (default:
    /// detected from the header line; many European spreadsheets use `;`).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter, requires = "file")]
    pub delimiter: Option<u8>,
    /// Triage rules to use instead of the embedded ones (see `handoff-gate rules show-triage`).
    #[arg(long, value_name = "FILE", conflicts_with = "extend_rules")]
    pub rules: Option<PathBuf>,
    /// Additions to the embedded rules: extra `[[tool]]` aliases, `[[handoff]]`
    /// terms, `[signals]` terms, `[[no_fit]]` terms (see docs/triage.md).
    #[arg(long, value_name = "FILE")]
    pub extend_rules: Option<PathBuf>,
    /// A router model written by `handoff-gate train` instead of the embedded one.
    #[arg(long, value_name = "FILE", conflicts_with = "keyword_rules")]
    pub model: Option<PathBuf>,
    /// Route by the keyword rules alone, without a model.
    #[arg(long)]
    pub keyword_rules: bool,
    /// Flag `needs_review` below this route probability (0 to 1; default 0.6).
    #[arg(long, value_name = "P", value_parser = probability)]
    pub review_below: Option<f32>,
    /// Detector options.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// The output format of a triaged export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The input columns, scrubbed, plus route, confidence, needs_review,
    /// handoffs, privacy, hide, why, reply.
    Csv,
    /// One JSON object per row with the same keys.
    Jsonl,
}

/// Run `triage`.
pub fn run(args: &TriageArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&Sources {
        detectors: args.policy.detectors.clone(),
        rules: args.rules.clone(),
        extend_rules: args.extend_rules.clone(),
        model: args.model.clone(),
        review_below: args.review_below,
        keyword_rules: args.keyword_rules,
    })?;
    match &args.file {
        None => jsonl::run(&pipeline),
        Some(file) => {
            let settings = csv_export::Settings {
                input: file,
                output: args.output.as_deref(),
                format: args.format,
                column: args.column.as_deref(),
                delimiter: args.delimiter,
            };
            csv_export::run(&settings, &pipeline)
        }
    }
}

/// `--delimiter`: one of the separators exports use.
fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "," | ";" | "|" => Ok(text.as_bytes()[0]),
        "tab" | "\t" | "\\t" => Ok(b'\t'),
        _ => Err("expected `,`, `;`, `|` or `tab`".to_owned()),
    }
}

/// `--review-below`: a probability.
fn probability(text: &str) -> Result<f32, String> {
    text.parse::<f32>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| "expected a probability from 0 to 1, e.g. 0.6".to_owned())
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar(total_bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total_bytes);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta} left) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
