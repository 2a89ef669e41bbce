//! `triage --jsonl`: JSON lines in, one result line per input line out.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use super::CHUNK;
use super::summary::{Summary, Tally};
use crate::cli::LineError;
use crate::cli::chunks;
use crate::cli::encoding::{Decoder, NotText};
use crate::pipeline::Pipeline;
use handoff_triage::{RECORD_SHAPE, Triage};

/// A line's id and triage, or what is wrong with the line.
type LineResult = Result<(Value, Triage), String>;

#[derive(Serialize)]
struct RecordOut<'a> {
    id: &'a Value,
    #[serde(flatten)]
    triage: &'a Triage,
}

/// Stream stdin to stdout; exit 1 if any line was malformed.
pub fn run(pipeline: &Pipeline) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut summary = Summary::default();
    // Not locked: the reading and writing run on a pool thread, beside the work.
    let malformed = match triage_jsonl(
        BufReader::with_capacity(1 << 16, Decoder::new(io::stdin())),
        BufWriter::with_capacity(1 << 16, io::stdout()),
        pipeline,
        &mut summary,
    ) {
        Ok(malformed) => malformed,
        Err(error) => {
            return match NotText::in_chain(&error) {
                Some(not_text) => {
                    eprintln!("handoff-gate triage: {not_text}");
                    Ok(ExitCode::from(3))
                }
                None => Err(error),
            };
        }
    };
    eprint!("{}", summary.table(started.elapsed()));
    Ok(crate::cli::jsonl_exit(malformed))
}

/// Triage JSON lines in batches on every core, written in input order.
/// Returns how many lines were malformed.
pub fn triage_jsonl(
    mut input: impl BufRead + Send,
    mut output: impl Write + Send,
    pipeline: &Pipeline,
    summary: &mut Summary,
) -> anyhow::Result<usize> {
    let mut number = 0;
    let mut malformed = 0;
    chunks::ordered(
        || {
            let mut batch = Vec::new();
            while batch.len() < chunks::batch_len(CHUNK) {
                let mut line = Vec::new();
                if input.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                number += 1;
                if !line.iter().all(u8::is_ascii_whitespace) {
                    batch.push((number, line));
                }
            }
            Ok(batch)
        },
        |(number, line)| {
            let result = triage_line(&line, pipeline);
            let mut out = Vec::with_capacity(512);
            match &result {
                Ok((id, triage)) => serde_json::to_writer(&mut out, &RecordOut { id, triage }),
                Err(error) => serde_json::to_writer(
                    &mut out,
                    &LineError {
                        line: number,
                        error: error.clone(),
                    },
                ),
            }
            .expect("a result serializes");
            out.push(b'\n');
            (result.ok().map(|(_, triage)| Tally::from(triage)), out)
        },
        |done| {
            for (tally, line) in done {
                match tally {
                    Some(tally) => summary.add(&tally),
                    None => malformed += 1,
                }
                output.write_all(&line)?;
            }
            Ok(())
        },
    )?;
    output.flush()?;
    Ok(malformed)
}

/// Parse, scrub and triage one line.
fn triage_line(line: &[u8], pipeline: &Pipeline) -> LineResult {
    let object = crate::cli::redact::parse_object(line, RECORD_SHAPE)?;
    pipeline.record(object)
}
