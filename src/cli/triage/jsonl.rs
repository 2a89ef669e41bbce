//! `triage --jsonl`: JSON lines in, one result line per input line out.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::CHUNK;
use super::summary::Summary;
use crate::cli::LineError;
use crate::pipeline::Pipeline;
use handoff_triage::{RECORD_SHAPE, Triage};

/// A line's id and triage, or what is wrong with the line.
type LineResult = Result<(Value, Triage), String>;

#[derive(Serialize)]
struct RecordOut<'a> {
    id: Value,
    #[serde(flatten)]
    triage: &'a Triage,
}

/// Stream stdin to stdout; exit 1 if any line was malformed.
pub fn run(pipeline: &Pipeline) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let malformed = triage_jsonl(
        io::stdin().lock(),
        BufWriter::new(io::stdout().lock()),
        pipeline,
        &mut summary,
    )?;
    eprint!("{}", summary.table(started.elapsed()));
    Ok(crate::cli::jsonl_exit(malformed))
}

/// Triage JSON lines in chunks, in order. Returns how many lines were malformed.
pub fn triage_jsonl(
    mut input: impl BufRead,
    mut output: impl Write,
    pipeline: &Pipeline,
    summary: &mut Summary,
) -> anyhow::Result<usize> {
    let mut number = 0;
    let mut malformed = 0;
    loop {
        let mut chunk: Vec<(usize, Vec<u8>)> = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            let mut line = Vec::new();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            if !line.iter().all(u8::is_ascii_whitespace) {
                chunk.push((number, line));
            }
        }
        if chunk.is_empty() {
            break;
        }
        let results: Vec<(usize, LineResult)> = chunk
            .par_iter()
            .map(|(n, line)| (*n, triage_line(line, pipeline)))
            .collect();
        for (line, result) in results {
            match result {
                Ok((id, triage)) => {
                    summary.add(&triage);
                    serde_json::to_writer(
                        &mut output,
                        &RecordOut {
                            id,
                            triage: &triage,
                        },
                    )?;
                }
                Err(error) => {
                    malformed += 1;
                    serde_json::to_writer(&mut output, &LineError { line, error })?;
                }
            }
            output.write_all(b"\n")?;
        }
    }
    output.flush()?;
    Ok(malformed)
}

/// Parse, scrub and triage one line.
fn triage_line(line: &[u8], pipeline: &Pipeline) -> LineResult {
    let object = crate::cli::redact::parse_object(line, RECORD_SHAPE)?;
    pipeline.record(object)
}
