//! The `handoff-gate` binary: parse the command line and run the subcommand.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: scrubbing and triage make
/// many small short-lived values on every core, and glibc's malloc and free
/// took a sixth of `triage`'s instructions per comment (34,000 of 216,000;
/// mimalloc takes 13,000) and more than a quarter of starting up.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = handoff_gate::cli::Cli::parse();
    match handoff_gate::cli::run(cli) {
        Ok(code) => code,
        // The reader went away (`… | head`): what it wanted was written.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("handoff-gate: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether writing failed because the reader closed the pipe, however the
/// writer wrapped the I/O error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|json| json.io_error_kind() == Some(BrokenPipe))
            || cause.downcast_ref::<csv::Error>().is_some_and(
                |csv| matches!(csv.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
    })
}
