//! `handoff-gate rules`: list and check detector tables.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scrub::{DEFAULT_TABLE, DetectorSet, Policy, parse_table, scrub};

/// `handoff-gate rules …`
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Print the embedded default detector table (TOML), to copy and extend.
    Show,
    /// List every detector: id, kind, service.
    List,
    /// Check a detector table: TOML syntax and fields (with line and column),
    /// every pattern compiles, every example is found by its own detector.
    #[command(after_help = "Example:
  handoff-gate rules check my-detectors.toml
  → my-detectors.toml: 3 detectors OK")]
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
        RulesCommand::Check { file } => check(file),
    }
}

fn check(file: &PathBuf) -> anyhow::Result<ExitCode> {
    let origin = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {origin}: {e}"))?;
    let table = parse_table(&origin, &text)?;
    let count = table.detectors.len();
    DetectorSet::compile(&origin, table.detectors.clone())?;
    let policy = Policy::default().with_extra_detectors(&origin, &text)?;
    let mut failures = 0;
    for spec in &table.detectors {
        let Some(example) = &spec.example else {
            continue;
        };
        let found = scrub(example, &policy)
            .findings()
            .iter()
            .any(|f| f.kind == spec.kind);
        if !found {
            failures += 1;
            eprintln!(
                "{origin}: detector `{}`: its example is not found as {}",
                spec.id, spec.kind
            );
        }
    }
    if failures > 0 {
        return Ok(ExitCode::from(1));
    }
    println!("{origin}: {count} detectors OK");
    Ok(ExitCode::SUCCESS)
}
