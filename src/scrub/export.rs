//! Recognising a pasted account export: a table or list of three or more
//! customer records. Single values are redacted; a block of records is
//! rejected, because even with every value replaced it says who the
//! customers are and how many there are.

use super::engine::Candidate;
use super::kind::{Category, FindingKind};

/// How many records make an export.
const MIN_RECORDS: usize = 3;

/// Whether a finding of this kind marks a line as a customer record.
fn is_record(kind: FindingKind) -> bool {
    kind.category() == Category::Personal && kind != FindingKind::Ip
        || matches!(kind, FindingKind::Card | FindingKind::Iban)
}

/// Spans of text that hold three or more customer records: runs of
/// consecutive lines that each carry a personal value (blank and separator
/// lines such as `|---|` do not break a run), or one line listing three or
/// more email addresses or phone numbers.
pub fn find_exports(text: &str, candidates: &[Candidate]) -> Vec<(usize, usize)> {
    let records: Vec<&Candidate> = candidates.iter().filter(|c| is_record(c.kind)).collect();
    if records.len() < MIN_RECORDS {
        return Vec::new();
    }
    let mut exports = Vec::new();
    let mut run: Option<(usize, usize, usize)> = None; // (start, end, records)
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let in_line = records
            .iter()
            .filter(|c| c.start >= line_start && c.start < line_end)
            .count();
        let contact_values = records
            .iter()
            .filter(|c| c.start >= line_start && c.start < line_end)
            .filter(|c| matches!(c.kind, FindingKind::Email | FindingKind::Phone))
            .count();
        if contact_values >= MIN_RECORDS {
            exports.push((line_start, line_start + content.len()));
        }
        if in_line > 0 {
            run = Some(match run {
                Some((start, _, n)) => (start, line_start + content.len(), n + 1),
                None => (line_start, line_start + content.len(), 1),
            });
        } else if !is_filler(content) {
            flush(&mut run, &mut exports);
        }
        line_start = line_end;
    }
    flush(&mut run, &mut exports);
    exports.sort_unstable();
    exports
}

fn flush(run: &mut Option<(usize, usize, usize)>, exports: &mut Vec<(usize, usize)>) {
    if let Some((start, end, n)) = run.take()
        && n >= MIN_RECORDS
    {
        exports.push((start, end));
    }
}

/// A blank line or a table rule such as `|---|---|` or `-----`.
fn is_filler(line: &str) -> bool {
    line.chars()
        .all(|c| c.is_whitespace() || matches!(c, '-' | '|' | '+' | '=' | ':'))
}
