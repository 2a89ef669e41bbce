//! The `handoff-gate` binary: parse the command line and run the subcommand.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = handoff_gate::cli::Cli::parse();
    match handoff_gate::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("handoff-gate: {err:#}");
            ExitCode::from(2)
        }
    }
}
