//! `handoff-gate redact`: scrub stdin to stdout.
//!
//! Both modes work on every core and in bounded memory: `--jsonl` scrubs
//! batches of lines, one text is cut into pieces that scrub exactly as the
//! whole does ([`split`]); results are written in input order while the
//! next batch is read ([`super::chunks`]).

mod split;

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;

use super::LineError;
use super::PolicyArgs;
use super::chunks;
use super::encoding::{Decoder, NotText};
use handoff_scrub::{FindingKind, Policy, Scrubbed, Verdict, scrub, scrub_json};

/// Arguments of `handoff-gate redact`.
#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    /// Read JSON lines `{"id": …, "text": "…"}` and write one result line per
    /// input line, in order, in constant memory.
    #[arg(long)]
    pub jsonl: bool,
    /// Detector options.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Run `redact`.
pub fn run(args: &RedactArgs) -> anyhow::Result<ExitCode> {
    let policy = args.policy.policy()?;
    // Not locked: the reading and writing run on a pool thread, beside the work.
    let stdout = BufWriter::with_capacity(1 << 16, io::stdout());
    let done = if args.jsonl {
        redact_jsonl(Decoder::new(io::stdin()), stdout, &policy).map(super::jsonl_exit)
    } else {
        redact_text(
            Decoder::strict(io::stdin()),
            stdout,
            io::stderr().lock(),
            &policy,
        )
    };
    match done {
        Ok(code) => Ok(code),
        Err(error) => match NotText::in_chain(&error) {
            Some(not_text) => {
                eprintln!("handoff-gate redact: {not_text}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
            None => Err(error),
        },
    }
}

/// The exit code for input that is not text (as `triage` uses for a CSV
/// it cannot read).
const EXIT_BAD_INPUT: u8 = 3;

/// Scrub all of `input` as one text, cut into pieces that scrub as the
/// whole does, on every core; write a summary of what was removed to
/// `report`. `input` yields UTF-8 (a strict [`Decoder`]): when it stops
/// being text, the error is returned, the text before the piece it is in
/// having been written.
pub fn redact_text(
    input: impl Read + Send,
    mut output: impl Write + Send,
    mut report: impl Write,
    policy: &Policy,
) -> anyhow::Result<ExitCode> {
    let mut pieces = split::Splitter::new(input, policy.clone(), split::TARGET, split::MARGIN);
    let mut totals = Totals::default();
    chunks::ordered(
        || {
            let mut batch = Vec::new();
            while batch.len() < chunks::batch_len(2) {
                match pieces.next_piece()? {
                    Some(piece) => batch.push(piece),
                    None => break,
                }
            }
            Ok(batch)
        },
        |piece| scrub(&piece, policy),
        |scrubbed| {
            for out in scrubbed {
                output.write_all(out.text().as_str().as_bytes())?;
                totals.add(&out);
            }
            Ok(())
        },
    )?;
    output.flush()?;
    writeln!(report, "{}", totals.summary())?;
    Ok(ExitCode::SUCCESS)
}

/// What the pieces of one text had removed, together.
#[derive(Debug, Default)]
pub struct Totals {
    counts: BTreeMap<FindingKind, usize>,
    /// 0 clean, 1 redacted, 2 rejected: the worst piece's.
    verdict: u8,
    exposed_credentials: bool,
}

impl Totals {
    /// Count one piece.
    pub fn add(&mut self, out: &Scrubbed) {
        for (kind, n) in out.counts() {
            *self.counts.entry(kind).or_insert(0) += n;
        }
        let verdict = match out.verdict() {
            Verdict::Clean => 0,
            Verdict::Redacted => 1,
            Verdict::Rejected { .. } => 2,
        };
        self.verdict = self.verdict.max(verdict);
        self.exposed_credentials |= out.exposed_credentials();
    }

    /// `clean: nothing removed`, or `redacted: removed 2 api_key, 1 email`.
    pub fn summary(&self) -> String {
        if self.counts.is_empty() {
            return "clean: nothing removed".to_owned();
        }
        let parts: Vec<String> = FindingKind::ALL
            .iter()
            .filter_map(|k| self.counts.get(k).map(|n| format!("{n} {k}")))
            .collect();
        let verdict = ["clean", "redacted", "rejected"][usize::from(self.verdict)];
        let mut line = format!("{verdict}: removed {}", parts.join(", "));
        if self.exposed_credentials {
            line.push_str(" — rotate any exposed credential now");
        }
        line
    }
}

#[derive(Serialize)]
struct FindingOut {
    kind: FindingKind,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    id: &'a Value,
    text: &'a str,
    verdict: &'static str,
    findings: Vec<FindingOut>,
}

/// Lines per thread scrubbed together.
const LINES: usize = 1024;

/// Bytes read into one batch at most (long texts make shorter batches).
const BATCH_BYTES: usize = 8 << 20;

/// Scrub JSON lines in batches on every core, written in input order.
/// Returns how many lines were malformed.
pub fn redact_jsonl(
    input: impl Read + Send,
    mut output: impl Write + Send,
    policy: &Policy,
) -> anyhow::Result<usize> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut number = 0;
    let mut malformed = 0;
    chunks::ordered(
        || {
            let mut batch = Vec::new();
            let mut bytes = 0;
            while batch.len() < chunks::batch_len(LINES) && bytes < BATCH_BYTES {
                let mut line = Vec::new();
                if input.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                number += 1;
                bytes += line.len();
                if !line.iter().all(u8::is_ascii_whitespace) {
                    batch.push((number, line));
                }
            }
            Ok(batch)
        },
        |(number, line)| redact_line(number, &line, policy),
        |done| {
            for (ok, line) in done {
                malformed += usize::from(!ok);
                output.write_all(&line)?;
            }
            Ok(())
        },
    )?;
    output.flush()?;
    Ok(malformed)
}

/// One output line (with its line break) for one input line, and whether
/// the input line was well formed.
fn redact_line(number: usize, line: &[u8], policy: &Policy) -> (bool, Vec<u8>) {
    let mut out = Vec::with_capacity(line.len() + 64);
    let ok = match parse_record(line) {
        Ok((id, text)) => {
            let id = scrub_id(id, policy);
            let scrubbed = scrub(&text, policy);
            let record = RecordOut {
                id: &id,
                text: scrubbed.text().as_str(),
                verdict: scrubbed.verdict().as_str(),
                findings: scrubbed
                    .findings()
                    .iter()
                    .map(|f| FindingOut {
                        kind: f.kind,
                        start: f.start,
                        end: f.end,
                    })
                    .collect(),
            };
            serde_json::to_writer(&mut out, &record).expect("a record serializes");
            true
        }
        Err(error) => {
            let line = LineError {
                line: number,
                error,
            };
            serde_json::to_writer(&mut out, &line).expect("an error serializes");
            false
        }
    };
    out.push(b'\n');
    (ok, out)
}

/// Integers below this are echoed as they are: too short for any number
/// the scrubber finds on its own (cards, phones, account numbers), so a
/// row number needs no scrub (`ids_too_short_to_be_private_are_echoed`).
const PLAIN_ID_BELOW: u64 = 1_000_000;

/// The id to echo: scrubbed (an email or a card number used as an id),
/// except a small integer, which cannot hold a private value.
fn scrub_id(id: Value, policy: &Policy) -> Value {
    let small = |n: &serde_json::Number| {
        n.as_u64()
            .or_else(|| n.as_i64().map(i64::unsigned_abs))
            .is_some_and(|n| n < PLAIN_ID_BELOW)
    };
    match id {
        Value::Number(n) if small(&n) => Value::Number(n),
        other => scrub_json(other, policy),
    }
}

/// Parse one input line. Errors describe the problem without quoting the
/// line: it may hold exactly the secrets we must not echo.
fn parse_record(line: &[u8]) -> Result<(Value, String), String> {
    let mut object = parse_object(line, "expected a JSON object with \"id\" and \"text\"")?;
    let id = object.remove("id").unwrap_or(Value::Null);
    match object.remove("text") {
        Some(Value::String(text)) => Ok((id, text)),
        Some(_) => Err("\"text\" must be a string".to_owned()),
        None => Err("missing \"text\" field".to_owned()),
    }
}

/// Parse one JSON-lines input line into an object. The error says what is
/// wrong and where, never what the line holds; `not_object` is the message
/// for valid JSON of the wrong type.
pub(crate) fn parse_object(
    line: &[u8],
    not_object: &str,
) -> Result<serde_json::Map<String, Value>, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "invalid JSON at column {}: {}",
            e.column(),
            json_error_class(&e)
        )
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(not_object.to_owned()),
    }
}

fn json_error_class(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "the line ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_too_short_to_be_private_are_echoed() {
        // The scrubber finds nothing in any integer below the bound: every
        // one up to 20,000 and a spread of the rest, negative ones too.
        let policy = Policy::default();
        let spread = (0..20_000u64).chain((20_000..PLAIN_ID_BELOW).step_by(7_919));
        for n in spread.chain([PLAIN_ID_BELOW - 1, 123_456, 999_999, 112_233]) {
            for text in [n.to_string(), format!("-{n}")] {
                assert!(
                    scrub(&text, &policy).findings().is_empty(),
                    "{text} would be scrubbed"
                );
            }
        }
        assert_eq!(scrub_id(Value::from(17), &policy), Value::from(17));
        assert_eq!(scrub_id(Value::from(-17), &policy), Value::from(-17));
        // Longer ones still go through the scrubber: a card used as an id.
        assert_eq!(
            scrub_id(Value::from(4_242_424_242_424_242u64), &policy),
            Value::from("[CARD]")
        );
    }
}
