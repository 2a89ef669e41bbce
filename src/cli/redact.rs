//! `handoff-gate redact`: scrub stdin to stdout.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;

use super::LineError;
use super::PolicyArgs;
use super::encoding;
use handoff_scrub::{FindingKind, Policy, Scrubbed, scrub, scrub_json};

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
    let mut stdin = io::stdin().lock();
    let stdout = BufWriter::new(io::stdout().lock());
    if !args.jsonl {
        return redact_text(stdin, stdout, io::stderr().lock(), &policy);
    }
    let head = stdin.fill_buf()?;
    if encoding::utf16_bom(head).is_some() {
        // UTF-16 lines are transcoded as a whole, then streamed as UTF-8.
        let mut bytes = Vec::new();
        stdin.read_to_end(&mut bytes)?;
        return match encoding::decode(bytes) {
            Ok(text) => Ok(super::jsonl_exit(redact_jsonl(
                io::Cursor::new(text.into_bytes()),
                stdout,
                &policy,
            )?)),
            Err(not_text) => {
                eprintln!("handoff-gate redact: {not_text}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        };
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        stdin.consume(3);
    }
    Ok(super::jsonl_exit(redact_jsonl(stdin, stdout, &policy)?))
}

/// The exit code for input that is not text (as `triage` uses for a CSV
/// it cannot read).
const EXIT_BAD_INPUT: u8 = 3;

/// Scrub all of `input` as one text (UTF-8, or UTF-16 with a byte-order
/// mark); write a summary of what was removed to `report`. Input in any
/// other encoding is refused (exit code 3) with the line and byte where it
/// stops being UTF-8, and nothing is written to `output`.
pub fn redact_text(
    mut input: impl Read,
    mut output: impl Write,
    mut report: impl Write,
    policy: &Policy,
) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let text = match encoding::decode(bytes) {
        Ok(text) => text,
        Err(not_text) => {
            writeln!(report, "handoff-gate redact: {not_text}")?;
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let out = scrub(&text, policy);
    output.write_all(out.text().as_str().as_bytes())?;
    output.flush()?;
    writeln!(report, "{}", summary(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// `clean: nothing removed`, or `redacted: removed 2 api_key, 1 email`.
pub fn summary(out: &Scrubbed) -> String {
    let counts = out.counts();
    if counts.is_empty() {
        return "clean: nothing removed".to_owned();
    }
    let parts: Vec<String> = FindingKind::ALL
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n} {k}")))
        .collect();
    let mut line = format!("{}: removed {}", out.verdict().as_str(), parts.join(", "));
    if out.exposed_credentials() {
        line.push_str(" — rotate any exposed credential now");
    }
    line
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

/// Stream JSON lines through the scrubber. Returns how many lines were malformed.
pub fn redact_jsonl(
    mut input: impl BufRead,
    mut output: impl Write,
    policy: &Policy,
) -> anyhow::Result<usize> {
    let mut line = Vec::new();
    let mut number = 0;
    let mut malformed = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_record(&line) {
            Ok((id, text)) => {
                // The id is echoed: it is scrubbed too (an email used as an id).
                let id = scrub_json(id, policy);
                let out = scrub(&text, policy);
                let record = RecordOut {
                    id: &id,
                    text: out.text().as_str(),
                    verdict: out.verdict().as_str(),
                    findings: out
                        .findings()
                        .iter()
                        .map(|f| FindingOut {
                            kind: f.kind,
                            start: f.start,
                            end: f.end,
                        })
                        .collect(),
                };
                serde_json::to_writer(&mut output, &record)?;
            }
            Err(error) => {
                malformed += 1;
                serde_json::to_writer(
                    &mut output,
                    &LineError {
                        line: number,
                        error,
                    },
                )?;
            }
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(malformed)
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
