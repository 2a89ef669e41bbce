//! `triage FILE`: triage a comments export (CSV with a header row).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use csv::{ByteRecord, ReaderBuilder, WriterBuilder};
use serde_json::Value;

use super::summary::{Summary, Tally};
use super::{CHUNK, Format, progress_bar};
use crate::cli::chunks;
use crate::cli::encoding::{self, Decoder, NotText};
use crate::pipeline::Pipeline;
use handoff_scrub::{Policy, scrub};
use handoff_triage::{About, Triage};

/// Header names recognised as the comment text, compared case-insensitively
/// with spaces, dashes and underscores ignored.
const TEXT_COLUMNS: [&str; 9] = [
    "comment",
    "comments",
    "commenttext",
    "text",
    "textoriginal",
    "textdisplay",
    "content",
    "message",
    "body",
];

/// The largest field accepted: far above any real comment, far below what
/// would make one row stall a batch.
const MAX_FIELD_BYTES: usize = 1 << 20;

/// The columns added to the export.
const ADDED: [&str; 8] = [
    "route",
    "confidence",
    "needs_review",
    "handoffs",
    "privacy",
    "hide",
    "why",
    "reply",
];

/// What the command was asked to do.
pub struct Settings<'a> {
    /// The export to read.
    pub input: &'a Path,
    /// Where to write (stdout when absent).
    pub output: Option<&'a Path>,
    /// CSV or JSON lines.
    pub format: Format,
    /// The text column named by `--column`.
    pub column: Option<&'a str>,
    /// The field separator named by `--delimiter`; detected from the header
    /// line when absent.
    pub delimiter: Option<u8>,
}

/// The separators an export may use, in the order ties are broken.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The separator the header line uses most, outside quotes (`,` when it
/// holds none): Excel in many locales and German and French sheets export
/// with `;`, some tools with tabs.
pub fn detect_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &byte in header_line {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|d| *d == byte) {
            counts[i] += 1;
        }
    }
    let best = (0..DELIMITERS.len())
        .max_by_key(|i| (counts[*i], std::cmp::Reverse(*i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITERS[best]
    }
}

/// How a separator reads in messages.
fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_owned(),
        other => format!("'{}'", other as char),
    }
}

/// Problems with the export itself. None quotes a cell.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file has no header row.
    #[error("{file}: the file is empty; expected a CSV export with a header row")]
    Empty {
        /// The file.
        file: String,
    },
    /// No header looks like the comment text.
    #[error("{file}: no comment text column found among: {headers}; name it with --column NAME")]
    NoTextColumn {
        /// The file.
        file: String,
        /// The header names (scrubbed).
        headers: String,
    },
    /// More than one header looks like the comment text.
    #[error(
        "{file}: several columns could hold the comment text ({candidates}); choose one with --column NAME"
    )]
    AmbiguousTextColumn {
        /// The file.
        file: String,
        /// The candidate header names.
        candidates: String,
    },
    /// `--column` names no header.
    #[error("{file}: there is no column named {column:?}; the columns are: {headers}")]
    UnknownColumn {
        /// The file.
        file: String,
        /// The name given.
        column: String,
        /// The header names (scrubbed).
        headers: String,
    },
    /// A cell is not UTF-8.
    #[error(
        "{file}: row {row} (line {line}), column {column:?}: not valid UTF-8 (at byte {byte}); re-export the file as UTF-8"
    )]
    NotUtf8 {
        /// The file.
        file: String,
        /// The data row, from 1.
        row: u64,
        /// The line in the file.
        line: u64,
        /// The column name.
        column: String,
        /// The first bad byte within the cell.
        byte: usize,
    },
    /// The file declares UTF-16 (a byte-order mark) and breaks it.
    #[error("{file}: {not_text}")]
    NotText {
        /// The file.
        file: String,
        /// Where.
        not_text: NotText,
    },
    /// A cell is larger than [`MAX_FIELD_BYTES`].
    #[error(
        "{file}: row {row} (line {line}), column {column:?}: the cell is {size} bytes; the limit is {MAX_FIELD_BYTES} bytes per cell"
    )]
    FieldTooLarge {
        /// The file.
        file: String,
        /// The data row, from 1.
        row: u64,
        /// The line in the file.
        line: u64,
        /// The column name.
        column: String,
        /// Its size in bytes.
        size: usize,
    },
    /// A quoted cell is never closed: the rest of the file became one cell.
    #[error(
        "{file}: row {row} (line {line}): a quoted cell opens here and is never closed, so the rest of the file (to line {last_line}) was read as one cell; close the quote (a quote inside a cell is written twice: \"\") or re-export the file"
    )]
    UnclosedQuote {
        /// The file.
        file: String,
        /// The data row, from 1.
        row: u64,
        /// The line where the row starts.
        line: u64,
        /// The file's last line.
        last_line: u64,
    },
    /// The CSV itself is malformed (ragged rows, bad quoting).
    #[error("{file}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong, with the row and line.
        message: String,
    },
}

/// Exit status for a bad export, apart from usage errors (2).
const EXIT_BAD_INPUT: u8 = 3;

/// Triage the export; print the summary table to stderr.
pub fn run(settings: &Settings, pipeline: &Pipeline) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let file_name = settings.input.display().to_string();
    let input =
        File::open(settings.input).map_err(|e| anyhow::anyhow!("cannot read {file_name}: {e}"))?;
    let total_bytes = input.metadata().map(|m| m.len()).unwrap_or(0);
    let staging = settings.output.and_then(Staging::for_output);
    let writer: Box<dyn Write + Send> = match settings.output {
        // Not locked: the writing runs on a pool thread, beside the work.
        None => Box::new(BufWriter::new(io::stdout())),
        Some(path) => {
            let written = staging.as_ref().map_or(path, |s| s.partial.as_path());
            let file = File::create(written)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", written.display()))?;
            Box::new(BufWriter::new(file))
        }
    };
    let bar = progress_bar(total_bytes);
    let outcome = triage_export(input, writer, settings, pipeline, &bar);
    bar.finish_and_clear();
    let summary = match (outcome, staging, settings.output) {
        (Ok(summary), Some(staging), Some(path)) => {
            std::fs::rename(&staging.partial, &staging.target)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            summary
        }
        (Ok(summary), _, _) => summary,
        (Err(err), staging, _) => {
            if let Some(staging) = staging {
                let _ = std::fs::remove_file(staging.partial);
            }
            return match err.downcast::<ExportError>() {
                Ok(export) => {
                    eprintln!("handoff-gate: {export}");
                    Ok(ExitCode::from(EXIT_BAD_INPUT))
                }
                Err(other) => Err(other),
            };
        }
    };
    eprint!("{}", summary.table(started.elapsed()));
    Ok(ExitCode::SUCCESS)
}

/// Where an export written to a file is staged, so that a failed run never
/// leaves a half-written export under the requested name: `partial`, next
/// to `target`, renamed onto it at the end.
struct Staging {
    partial: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// The staging for `-o path`; `None` when `path` is there and is not a
    /// regular file (`/dev/null`, a pipe, a terminal), which is written
    /// straight into: renaming onto a device would replace the device with
    /// a file (as root, `-o /dev/null` broke every later reader of
    /// `/dev/null` on the machine). A symlink is followed, so the file it
    /// names is replaced and the link stays.
    fn for_output(path: &Path) -> Option<Staging> {
        let target = match std::fs::metadata(path) {
            Ok(metadata) if !metadata.is_file() => return None,
            Ok(_) => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
            Err(_) => path.to_owned(),
        };
        let mut name = target.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        Some(Staging {
            partial: target.with_file_name(name),
            target,
        })
    }
}

/// Triage every row of `input` into `output`; the counts for the summary table.
fn triage_export(
    mut input: File,
    mut output: Box<dyn Write + Send>,
    settings: &Settings,
    pipeline: &Pipeline,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Summary> {
    let file_name = settings.input.display().to_string();
    let file = file_name.as_str();
    let mut summary = Summary::default();
    let Shape {
        len: file_len,
        ends_with_quote,
    } = shape(&mut input, settings.input)?;
    let mut input = io::BufReader::with_capacity(1 << 16, Decoder::new(input));
    let delimiter = match settings.delimiter {
        Some(delimiter) => delimiter,
        None => {
            let detected = detect_delimiter(first_line(&mut input)?);
            if detected != b',' {
                eprintln!(
                    "handoff-gate: {file}: reading columns separated by {} (detected from the header; --delimiter to choose)",
                    delimiter_name(detected)
                );
            }
            detected
        }
    };
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(input);
    let mut header = ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|e| malformed(file, &e, &reader, file_len))?
    {
        return Err(ExportError::Empty {
            file: file.to_owned(),
        }
        .into());
    }
    let headers: Vec<String> = header
        .iter()
        .map(|h| {
            scrub(&String::from_utf8_lossy(h), pipeline.policy())
                .into_text()
                .as_str()
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    let text_column = text_column(file, &headers, settings.column)?;
    let encoder = Encoder::new(settings.format, &headers);
    output.write_all(&encoder.header()?)?;

    let mut row: u64 = 0;
    chunks::ordered(
        || {
            let mut chunk: Vec<ByteRecord> = Vec::new();
            while chunk.len() < chunks::batch_len(CHUNK) {
                let mut record = ByteRecord::new();
                if !reader
                    .read_byte_record(&mut record)
                    .map_err(|e| malformed(file, &e, &reader, file_len))?
                {
                    break;
                }
                row += 1;
                let line = record.position().map_or(0, |p| p.line());
                let at_the_end = Some(reader.position().byte()) == file_len;
                if at_the_end && runs_to_the_end_unclosed(&record, &reader, ends_with_quote) {
                    return Err(ExportError::UnclosedQuote {
                        file: file.to_owned(),
                        row,
                        line,
                        last_line: reader.position().line(),
                    }
                    .into());
                }
                check_cells(file, row, line, &record, &headers)?;
                chunk.push(record);
            }
            bar.set_position(reader.position().byte());
            Ok(chunk)
        },
        |record| {
            let (cells, triage) = triage_row(&record, text_column, pipeline);
            let encoded = encoder.row(&cells, triage.as_ref());
            (triage.map(Tally::from), encoded)
        },
        |rows| {
            for (tally, encoded) in rows {
                match tally {
                    Some(tally) => summary.add(&tally),
                    None => summary.add_empty(),
                }
                output.write_all(&encoded?)?;
            }
            Ok(())
        },
    )?;
    output.flush()?;
    Ok(summary)
}

/// What the CSV reader will see of the file: its length once decoded
/// (without a byte-order mark) and whether its last byte, trailing white
/// space aside, is a quote.
struct Shape {
    len: Option<u64>,
    ends_with_quote: bool,
}

/// The [`Shape`] of the export. UTF-8 is measured from the file's size and
/// tail; UTF-16 is decoded once first, which also refuses broken UTF-16
/// before anything is written.
/// The file is read from its start again afterwards.
fn shape(file: &mut File, path: &Path) -> anyhow::Result<Shape> {
    use io::{Read, Seek, SeekFrom};
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    if encoding::utf16_bom(&head[..got]).is_none() {
        let bom = if head[..got] == [0xEF, 0xBB, 0xBF] {
            3
        } else {
            0
        };
        let len = file.metadata().map(|m| m.len().saturating_sub(bom)).ok();
        let length = file.seek(SeekFrom::End(0))?;
        file.seek(SeekFrom::Start(length.saturating_sub(256)))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        file.seek(SeekFrom::Start(0))?;
        return Ok(Shape {
            len,
            ends_with_quote: tail.trim_ascii_end().last() == Some(&b'"'),
        });
    }
    let mut decoder = Decoder::new(&mut *file);
    let mut block = vec![0u8; 1 << 16];
    let (mut len, mut last) = (0u64, None);
    loop {
        let n = decoder
            .read(&mut block)
            .map_err(|e| match NotText::inside(&e) {
                Some(not_text) => anyhow::Error::new(ExportError::NotText {
                    file: path.display().to_string(),
                    not_text,
                }),
                None => e.into(),
            })?;
        if n == 0 {
            break;
        }
        len += n as u64;
        if let Some(b) = block[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            last = Some(*b);
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(Shape {
        len: Some(len),
        ends_with_quote: last == Some(b'"'),
    })
}

/// The header line, without consuming it.
fn first_line<R: io::Read>(input: &mut io::BufReader<R>) -> io::Result<&[u8]> {
    use io::BufRead;
    let buffer = input.fill_buf()?;
    Ok(buffer.split(|b| *b == b'\n').next().unwrap_or(buffer))
}

/// Whether the file's last row is an unclosed quote swallowing the rest:
/// it spans lines, its last cell holds a line break, yet the file does not
/// end with the closing quote.
fn runs_to_the_end_unclosed<R: io::Read>(
    record: &ByteRecord,
    reader: &csv::Reader<R>,
    ends_with_quote: bool,
) -> bool {
    let spans_lines = record
        .position()
        .is_some_and(|start| reader.position().line() > start.line() + 1);
    let last_cell_has_a_break = record
        .iter()
        .next_back()
        .is_some_and(|cell| cell.contains(&b'\n'));
    spans_lines && last_cell_has_a_break && !ends_with_quote
}

fn malformed<R: io::Read>(
    file: &str,
    e: &csv::Error,
    reader: &csv::Reader<R>,
    file_len: Option<u64>,
) -> ExportError {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, .. }
            if Some(reader.position().byte()) == file_len
                && pos
                    .as_ref()
                    .is_some_and(|p| reader.position().line() > p.line() + 1) =>
        {
            let start = pos.as_ref().expect("checked above");
            return ExportError::UnclosedQuote {
                file: file.to_owned(),
                row: start.record(),
                line: start.line(),
                last_line: reader.position().line(),
            };
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "{}: {len} field(s) where the header has {expected_len}; every row needs the same number of columns",
            pos.as_ref().map_or("a row".to_owned(), |p| format!(
                "row {} (line {})",
                p.record(),
                p.line()
            ))
        ),
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => "malformed CSV".to_owned(),
    };
    ExportError::Malformed {
        file: file.to_owned(),
        message,
    }
}

/// The index of the comment text column: `--column`, or the one header that
/// looks like it.
fn text_column(file: &str, headers: &[String], chosen: Option<&str>) -> Result<usize, ExportError> {
    let listed = || {
        headers
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = chosen {
        return headers
            .iter()
            .position(|h| h.trim() == name.trim())
            .ok_or_else(|| ExportError::UnknownColumn {
                file: file.to_owned(),
                column: scrub(name, &Policy::default())
                    .into_text()
                    .as_str()
                    .to_owned(),
                headers: listed(),
            });
    }
    let squeezed = |h: &str| {
        h.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let candidates: Vec<usize> = (0..headers.len())
        .filter(|i| TEXT_COLUMNS.contains(&squeezed(&headers[*i]).as_str()))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(ExportError::NoTextColumn {
            file: file.to_owned(),
            headers: listed(),
        }),
        many => Err(ExportError::AmbiguousTextColumn {
            file: file.to_owned(),
            candidates: many
                .iter()
                .map(|i| format!("{:?}", headers[*i]))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn check_cells(
    file: &str,
    row: u64,
    line: u64,
    record: &ByteRecord,
    headers: &[String],
) -> Result<(), ExportError> {
    // The column's name is copied only for an error, not for every cell.
    let column = |i: usize| headers.get(i).cloned().unwrap_or_default();
    for (i, cell) in record.iter().enumerate() {
        if cell.len() > MAX_FIELD_BYTES {
            return Err(ExportError::FieldTooLarge {
                file: file.to_owned(),
                row,
                line,
                column: column(i),
                size: cell.len(),
            });
        }
        if let Err(e) = std::str::from_utf8(cell) {
            return Err(ExportError::NotUtf8 {
                file: file.to_owned(),
                row,
                line,
                column: column(i),
                byte: e.valid_up_to(),
            });
        }
    }
    Ok(())
}

/// Scrub every cell; triage the text cell. `None` when the text is blank.
fn triage_row(
    record: &ByteRecord,
    text_column: usize,
    pipeline: &Pipeline,
) -> (Vec<String>, Option<Triage>) {
    let mut triaged = None;
    let cells = record
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let cell = std::str::from_utf8(cell).unwrap_or_default();
            if i == text_column
                && let Ok(reviewed) = pipeline.comment(cell)
            {
                triaged = Some(reviewed.triage);
                return reviewed
                    .intake
                    .field_text("message")
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default();
            }
            scrub(cell, pipeline.policy())
                .into_text()
                .as_str()
                .to_owned()
        })
        .collect();
    (cells, triaged)
}

/// The route's reason in plain language, for the `why` column.
fn why(triage: &Triage) -> String {
    triage
        .reasons
        .iter()
        .find(|r| matches!(r.about, About::Route(_)))
        .map(|r| r.causes())
        .unwrap_or_default()
}

/// How each row of the output is written, CSV or JSON lines. Rows are
/// encoded on the workers, beside their triage, so the one thread that
/// writes in input order only copies bytes.
struct Encoder<'h> {
    format: Format,
    headers: &'h [String],
    csv: WriterBuilder,
}

impl<'h> Encoder<'h> {
    fn new(format: Format, headers: &'h [String]) -> Self {
        let mut csv = WriterBuilder::new();
        // A row is a few hundred bytes: no 8 KiB buffer per row.
        csv.buffer_capacity(1024);
        Encoder {
            format,
            headers,
            csv,
        }
    }

    /// What comes before the rows: the CSV header row.
    fn header(&self) -> anyhow::Result<Vec<u8>> {
        Ok(match self.format {
            Format::Csv => {
                let header = self.headers.iter().map(String::as_str).chain(ADDED);
                self.csv_record(header)?
            }
            Format::Jsonl => Vec::new(),
        })
    }

    /// One row: the scrubbed cells and the columns the triage adds.
    fn row(&self, cells: &[String], triage: Option<&Triage>) -> anyhow::Result<Vec<u8>> {
        let added = Added::of(triage);
        match self.format {
            Format::Csv => {
                let confidence = added
                    .confidence
                    .map(|c| format!("{c:.2}"))
                    .unwrap_or_default();
                let flag = |b: bool| if b { "true" } else { "false" };
                let handoffs = added.handoffs.join(";");
                let columns = [
                    added.route,
                    &confidence,
                    flag(added.needs_review),
                    &handoffs,
                    added.privacy,
                    flag(added.hide),
                    &added.why,
                    added.reply,
                ];
                self.csv_record(cells.iter().map(String::as_str).chain(columns))
            }
            Format::Jsonl => {
                let mut object = serde_json::Map::new();
                for (name, cell) in self.headers.iter().zip(cells) {
                    object.insert(name.clone(), Value::String(cell.clone()));
                }
                object.insert("route".into(), Value::from(added.route));
                object.insert("confidence".into(), Value::from(added.confidence));
                object.insert("needs_review".into(), Value::from(added.needs_review));
                object.insert("handoffs".into(), Value::from(added.handoffs));
                object.insert("privacy".into(), Value::from(added.privacy));
                object.insert("hide".into(), Value::from(added.hide));
                object.insert("why".into(), Value::from(added.why));
                object.insert("reply".into(), Value::from(added.reply));
                let mut line = serde_json::to_vec(&object)?;
                line.push(b'\n');
                Ok(line)
            }
        }
    }

    /// One CSV record, quoted as the export's writer quotes.
    fn csv_record<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Vec<u8>> {
        let mut writer = self.csv.from_writer(Vec::with_capacity(512));
        writer.write_record(fields)?;
        Ok(writer.into_inner().map_err(|e| e.into_error())?)
    }
}

/// The values of the columns a triage adds (those of an empty row when
/// there is none).
struct Added<'t> {
    route: &'t str,
    confidence: Option<f32>,
    needs_review: bool,
    handoffs: Vec<&'static str>,
    privacy: &'t str,
    hide: bool,
    why: String,
    reply: &'t str,
}

impl<'t> Added<'t> {
    fn of(triage: Option<&'t Triage>) -> Self {
        Added {
            route: triage.map_or("", |t| t.route.as_str()),
            confidence: triage.map(|t| t.confidence),
            needs_review: triage.is_some_and(|t| t.needs_review),
            handoffs: triage
                .map(|t| t.handoffs.iter().map(|h| h.as_str()).collect())
                .unwrap_or_default(),
            privacy: triage.map_or("clean", |t| t.privacy.as_str()),
            hide: triage.is_some_and(|t| t.hide),
            why: triage.map(why).unwrap_or_default(),
            reply: triage.and_then(|t| t.reply.as_deref()).unwrap_or(""),
        }
    }
}
