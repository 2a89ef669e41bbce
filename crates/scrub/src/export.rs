//! Recognising a pasted account export: a table or list of three or more
//! customer records. Single values are redacted; a block of records is
//! rejected, because even with every value replaced it says who the
//! customers are and how many there are.

use super::kind::{Category, FindingKind};
use super::recognize::{Candidate, Span};

/// How many records make an export.
pub(super) const MIN_RECORDS: usize = 3;

/// Whether a finding of this kind marks a line as a customer record.
fn is_record(kind: FindingKind) -> bool {
    kind.category() == Category::Personal && kind != FindingKind::Ip
        || matches!(kind, FindingKind::Card | FindingKind::Iban)
}

/// Spans of text that hold three or more customer records: runs of
/// consecutive lines that each carry a personal value (blank and separator
/// lines such as `|---|` do not break a run), or one line listing three or
/// more email addresses or phone numbers.
pub fn find_exports(text: &str, candidates: &[Candidate]) -> Vec<Span> {
    let mut records: Vec<&Candidate> = candidates.iter().filter(|c| is_record(c.kind)).collect();
    if records.len() < MIN_RECORDS {
        return Vec::new();
    }
    records.sort_unstable_by_key(|c| c.span.start);
    let mut exports = Vec::new();
    let mut run: Option<RecordRun> = None;
    let mut next = 0; // index of the first record not yet assigned to a line
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content_end = line_start + line.trim_end_matches(['\n', '\r']).len();
        let first = next;
        while next < records.len() && records[next].span.start < line_end {
            next += 1;
        }
        let in_line = &records[first..next];
        // A phone candidate inside a card number or IBAN is not a second contact.
        let contact_values = in_line
            .iter()
            .filter(|c| matches!(c.kind, FindingKind::Email | FindingKind::Phone))
            .filter(|c| {
                !in_line.iter().any(|o| {
                    matches!(o.kind, FindingKind::Card | FindingKind::Iban)
                        && o.span.start < c.span.end
                        && c.span.start < o.span.end
                })
            })
            .count();
        if contact_values >= MIN_RECORDS {
            exports.push(Span::new(line_start, content_end));
        }
        if !in_line.is_empty() {
            run = Some(match run {
                Some(RecordRun { span, records }) => RecordRun {
                    span: Span::new(span.start, content_end),
                    records: records + 1,
                },
                None => RecordRun {
                    span: Span::new(line_start, content_end),
                    records: 1,
                },
            });
        } else if !is_filler(&text[line_start..content_end]) {
            flush(&mut run, &mut exports);
        }
        line_start = line_end;
    }
    flush(&mut run, &mut exports);
    exports.sort_unstable();
    exports
}

/// Consecutive lines that each hold a record.
struct RecordRun {
    span: Span,
    records: usize,
}

fn flush(run: &mut Option<RecordRun>, exports: &mut Vec<Span>) {
    if let Some(run) = run.take()
        && run.records >= MIN_RECORDS
    {
        exports.push(run.span);
    }
}

/// A blank line or a table rule such as `|---|---|` or `-----`.
fn is_filler(line: &str) -> bool {
    line.chars()
        .all(|c| c.is_whitespace() || matches!(c, '-' | '|' | '+' | '=' | ':'))
}
