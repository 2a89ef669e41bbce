//! `handoff-gate rules`: list and check detector tables and triage rules.

use std::io::{self, Write};
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
    /// Check a detector table: TOML syntax and fields (with line and column),
    /// every pattern compiles, every example is found by its own detector.
    /// Triage files are checked as what they are: a file with `[route.*]`
    /// tables as a whole rule set (`triage --rules`), a file with only
    /// additions (`[[tool]]`, `[[handoff]]`, `[signals]`, `[[no_fit]]`,
    /// `[words]`) as an extension (`triage --extend-rules`). `--as` says
    /// which, instead of detecting it.
    #[command(after_help = "Examples:
  handoff-gate rules check my-detectors.toml
  → my-detectors.toml: 3 detectors OK
  handoff-gate rules check my-triage-rules.toml
  → my-triage-rules.toml: triage rules OK (85 tools, 1442 terms)
  handoff-gate rules check more-rules.toml
  → more-rules.toml: triage rules extension OK (with the embedded rules: 86 tools, 1447 terms)
  handoff-gate rules check --as triage-extension more-rules.toml")]
    Check {
        /// The TOML file to check.
        file: PathBuf,
        /// What the file is; detected from its top-level keys when left out.
        #[arg(long = "as", value_enum, value_name = "KIND")]
        kind: Option<RulesFile>,
    },
}

/// What a rules file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFile {
    /// Extra detectors (`redact --detectors`, `scrub.detectors`).
    Detectors,
    /// A whole triage rule set (`triage --rules`, `triage.rules`).
    Triage,
    /// Additions to the embedded triage rules (`triage --extend-rules`,
    /// `triage.extend_rules`).
    TriageExtension,
}

/// Run a `rules` subcommand.
pub fn run(cmd: &RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::Show => {
            write!(io::stdout(), "{DEFAULT_TABLE}")?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::List => {
            let table = parse_table("embedded default", DEFAULT_TABLE)?;
            for d in &table.detectors {
                writeln!(
                    io::stdout(),
                    "{:<40} {:<16} {}",
                    d.id,
                    d.kind.as_str(),
                    d.service.as_deref().unwrap_or("")
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::ShowTriage => {
            write!(io::stdout(), "{DEFAULT_RULES}")?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check { file, kind } => check(file, *kind),
    }
}

/// What a file is by its top-level keys: `[[detector]]` tables make a
/// detector file, `[route.*]` tables a whole triage rule set, other triage
/// keys an extension. A file that is not valid TOML goes to the detector
/// check, which reports the syntax error with its line and column.
fn detect(text: &str) -> RulesFile {
    let Ok(table) = text.parse::<toml::Table>() else {
        return RulesFile::Detectors;
    };
    if table.contains_key("detector") {
        RulesFile::Detectors
    } else if table.contains_key("route") {
        RulesFile::Triage
    } else if ["tool", "handoff", "signals", "no_fit", "words"]
        .iter()
        .any(|k| table.contains_key(*k))
    {
        RulesFile::TriageExtension
    } else {
        RulesFile::Detectors
    }
}

fn check_triage(origin: &str, text: &str, kind: RulesFile) -> anyhow::Result<ExitCode> {
    let (rules, what) = if kind == RulesFile::Triage {
        (Rules::from_toml(origin, text)?, "triage rules OK (")
    } else {
        (
            Rules::extend_default(origin, text)?,
            "triage rules extension OK (with the embedded rules: ",
        )
    };
    writeln!(
        io::stdout(),
        "{origin}: {what}{} tools, {} terms)",
        rules.tool_count(),
        rules.term_count()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn check(file: &std::path::Path, kind: Option<RulesFile>) -> anyhow::Result<ExitCode> {
    let (origin, text) = super::read_file(file)?;
    let kind = kind.unwrap_or_else(|| detect(&text));
    if kind != RulesFile::Detectors {
        return check_triage(&origin, &text, kind);
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
    writeln!(io::stdout(), "{origin}: {count} detectors OK")?;
    Ok(ExitCode::SUCCESS)
}
