//! `handoff-gate rules`: list and check detector tables and triage rules.

use std::path::PathBuf;
use std::process::ExitCode;

use handoff_scrub::{DEFAULT_TABLE, Policy, examples_not_found, parse_table};
use handoff_triage::{DEFAULT_RULES, Rules};

/// `handoff-gate rules …`
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Print the embedded default detector table (TOML), to copy and extend.
    Show,
    /// List every detector: id, kind, service.
    List,
    /// Print the embedded default triage rules (TOML), to copy and change.
    ShowTriage,
    /// Print the browser rules (JSON): the credential, payment, email and
    /// phone detectors as JavaScript patterns, as served at /api/v1/rules.json.
    Browser,
    /// Check a detector table: TOML syntax and fields (with line and column),
    /// every pattern compiles, every example is found by its own detector.
    /// A file without `[[detector]]` tables but with triage keys (`[[tool]]`,
    /// `[[handoff]]`, `[signals]`, `[route.*]`) is checked as triage rules.
    #[command(after_help = "Example:
  handoff-gate rules check my-detectors.toml
  → my-detectors.toml: 3 detectors OK
  handoff-gate rules check my-triage-rules.toml
  → my-triage-rules.toml: triage rules OK (85 tools, 1332 terms)")]
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

/// Run a `rules` subcommand.
pub fn run(cmd: &RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::Show => {
            print!("{DEFAULT_TABLE}");
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Browser => {
            println!(
                "{}",
                serde_json::to_string_pretty(&handoff_scrub::browser_rules())?
            );
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::List => {
            let table = parse_table("embedded default", DEFAULT_TABLE)?;
            for d in &table.detectors {
                println!(
                    "{:<40} {:<16} {}",
                    d.id,
                    d.kind.as_str(),
                    d.service.as_deref().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::ShowTriage => {
            print!("{DEFAULT_RULES}");
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check { file } => check(file),
    }
}

/// Triage rules have no `[[detector]]` table and at least one triage key.
/// A file that is not valid TOML goes to the detector check, which reports
/// the syntax error with its line and column.
fn is_triage_rules(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|table| {
        !table.contains_key("detector")
            && ["tool", "handoff", "signals", "route", "no_fit"]
                .iter()
                .any(|k| table.contains_key(*k))
    })
}

fn check_triage(origin: &str, text: &str) -> anyhow::Result<ExitCode> {
    let rules = Rules::from_toml(origin, text)?;
    println!(
        "{origin}: triage rules OK ({} tools, {} terms)",
        rules.tool_count(),
        rules.term_count()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let (origin, text) = super::read_file(file)?;
    if is_triage_rules(&text) {
        return check_triage(&origin, &text);
    }
    let table = parse_table(&origin, &text)?;
    let policy = Policy::default().with_extra_detectors(&origin, &text)?;
    let failures: Vec<_> = examples_not_found(&policy)
        .into_iter()
        .filter(|d| table.detectors.iter().any(|spec| *spec.id == *d.id))
        .collect();
    for d in &failures {
        eprintln!(
            "{origin}: detector `{}`: its example is not found as {}",
            d.id, d.kind
        );
    }
    if !failures.is_empty() {
        return Ok(ExitCode::from(1));
    }
    let count = table.detectors.len();
    println!("{origin}: {count} detectors OK");
    Ok(ExitCode::SUCCESS)
}
