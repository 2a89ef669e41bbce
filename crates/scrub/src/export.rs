//! Recognising a pasted account export: a table or list of three or more
//! customer *records*. Single values are redacted; a block of records is
//! rejected, because even with every value replaced it says who the
//! customers are and how many there are.
//!
//! A record is a row (a line holding two or more personal values: a CSV or
//! table row, `Name - email - phone`), or a group of field lines that each
//! hold one value (`email: …`, `"phone": …`, a YAML item), which ends where
//! a key or kind repeats or a new item starts. Three records in a run of
//! lines make an export; so do three contact values on one line when
//! nothing but list punctuation and a few words stand between them. Three
//! addresses named in a sentence are not an export: they are redacted one
//! by one. The span of an export covers its rows only, so the rest of the
//! question survives in the scrubbed text.

use super::kind::{Category, FindingKind};
use super::recognize::{Candidate, Span};

/// How many records make an export.
pub(super) const MIN_RECORDS: usize = 3;

/// Whether a finding of this kind marks a line as (part of) a customer record.
fn is_record(kind: FindingKind) -> bool {
    kind.category() == Category::Personal && kind != FindingKind::Ip
        || matches!(kind, FindingKind::Card | FindingKind::Iban)
}

/// One personal value, overlaps merged.
#[derive(Debug, Clone, Copy)]
struct Value {
    span: Span,
    kind: FindingKind,
}

/// The personal values among `candidates`, in order, overlapping ones
/// merged (two detectors finding one phone number make one value).
fn values(candidates: &[Candidate]) -> Vec<Value> {
    let mut found: Vec<Value> = candidates
        .iter()
        .filter(|c| is_record(c.kind))
        .map(|c| Value {
            span: c.span,
            kind: c.kind,
        })
        .collect();
    found.sort_unstable_by_key(|v| (v.span.start, std::cmp::Reverse(v.span.end)));
    let mut merged: Vec<Value> = Vec::with_capacity(found.len());
    for v in found {
        match merged.last_mut() {
            Some(last) if v.span.start < last.span.end => {
                last.span.end = last.span.end.max(v.span.end);
            }
            _ => merged.push(v),
        }
    }
    merged
}

/// A run of lines that hold records.
#[derive(Default)]
struct RecordRun {
    span: Option<Span>,
    /// Where the keyed lines before the first value start (`- first_name:`
    /// before `  email: …`): the run takes them in when a value follows.
    lead: Option<usize>,
    records: usize,
    /// The keys (or, without a key, the kinds) of the field lines of the
    /// record being read.
    fields: Vec<Field>,
}

/// What names one field line of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    /// `email: …`, `"phone": …`, `name=…`: the key, lower-cased.
    Key(String),
    /// A line with one value and no key: its kind.
    Kind(FindingKind),
}

impl RecordRun {
    fn extend(&mut self, line: Span) {
        self.span = Some(match self.span {
            Some(span) => Span::new(span.start, line.end),
            None => Span::new(self.lead.unwrap_or(line.start), line.end),
        });
    }

    /// A line that neither holds a value nor ends the run.
    fn neutral(&mut self, line: Span, keyed: bool) {
        if self.span.is_none() {
            self.lead = if keyed {
                Some(self.lead.unwrap_or(line.start))
            } else {
                None
            };
        }
    }

    /// Close the record whose fields are being read, if any.
    fn close_fields(&mut self) {
        if !self.fields.is_empty() {
            self.records += 1;
            self.fields.clear();
        }
    }

    /// A row: a whole record on one line.
    fn row(&mut self, line: Span) {
        self.close_fields();
        self.records += 1;
        self.extend(line);
    }

    /// A line holding one field of a record.
    fn field(&mut self, line: Span, field: Field, starts_item: bool) {
        if starts_item || self.fields.contains(&field) {
            self.close_fields();
        }
        self.fields.push(field);
        self.extend(line);
    }

    /// The run ends: its span, if it held enough records.
    fn finish(&mut self) -> Option<Span> {
        self.close_fields();
        let run = std::mem::take(self);
        run.span.filter(|_| run.records >= MIN_RECORDS)
    }
}

/// Spans of text that hold three or more customer records.
pub fn find_exports(text: &str, candidates: &[Candidate]) -> Vec<Span> {
    let values = values(candidates);
    if values.len() < MIN_RECORDS {
        return Vec::new();
    }
    let mut exports = Vec::new();
    let mut run = RecordRun::default();
    let mut next = 0; // the first value not yet assigned to a line
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let span = Span::new(line_start, line_start + content.len());
        let first = next;
        while next < values.len() && values[next].span.start < line_end {
            next += 1;
        }
        let in_line = &values[first..next];
        if let Some(list) =
            inline_objects(text, span, in_line).or_else(|| inline_list(text, span, in_line))
        {
            exports.push(list);
        }
        if !in_line.is_empty() && is_prose(text, span, in_line) {
            // A sentence about a customer is not a row of an export.
            exports.extend(run.finish());
            line_start = line_end;
            continue;
        }
        match in_line {
            // Punctuation, and the other fields of a record (`tags: vip`),
            // neither end a run nor add to it.
            [] if is_filler(content) || key(content).is_some() => {
                if starts_item(content) || content.trim().is_empty() || content.contains('{') {
                    run.close_fields();
                }
                run.neutral(span, is_field(content));
            }
            [] => exports.extend(run.finish()),
            [one] => {
                let field = key_before(&text[span.start..one.span.start])
                    .map_or(Field::Kind(one.kind), Field::Key);
                run.field(span, field, starts_item(content));
            }
            _ => run.row(span),
        }
        line_start = line_end;
    }
    exports.extend(run.finish());
    exports.sort_unstable();
    exports.dedup();
    exports
}

/// Three or more emails or phone numbers on one line with nothing between
/// them but list punctuation and a few words (a name, a JSON key): a pasted
/// list. The span runs from after the line's lead-in (`…customers:`) to the
/// last value.
fn inline_list(text: &str, line: Span, values: &[Value]) -> Option<Span> {
    let contacts: Vec<&Value> = values
        .iter()
        .filter(|v| matches!(v.kind, FindingKind::Email | FindingKind::Phone))
        .collect();
    if contacts.len() < MIN_RECORDS {
        return None;
    }
    let list_like = contacts.windows(2).all(|pair| {
        let gap = &text[pair[0].span.end..pair[1].span.start];
        let words = gap
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .count();
        gap.contains([',', ';', '|', '/', '\t', '<', '>', '{', '}']) && words <= 4
    });
    if !list_like {
        return None;
    }
    let lead_in = &text[line.start..contacts[0].span.start];
    let start = match lead_in.rfind(':') {
        Some(colon) => {
            let after = &lead_in[colon + 1..];
            line.start + colon + 1 + (after.len() - after.trim_start().len())
        }
        None => line.start,
    };
    Some(Span::new(start, contacts[contacts.len() - 1].span.end))
}

/// Three or more objects (`{…}`) on one line that each hold a personal
/// value: a compact JSON array of records. The span runs from the first
/// object's `{` to the last one's `}`.
fn inline_objects(text: &str, line: Span, values: &[Value]) -> Option<Span> {
    if values.len() < MIN_RECORDS {
        return None;
    }
    let mut objects: Vec<Span> = Vec::new();
    let mut open = None;
    for (i, b) in text[line.start..line.end].bytes().enumerate() {
        match b {
            b'{' => open = Some(line.start + i),
            b'}' => {
                if let Some(start) = open.take() {
                    let object = Span::new(start, line.start + i + 1);
                    if values
                        .iter()
                        .any(|v| object.start <= v.span.start && v.span.end <= object.end)
                    {
                        objects.push(object);
                    }
                }
            }
            _ => {}
        }
    }
    (objects.len() >= MIN_RECORDS)
        .then(|| Span::new(objects[0].start, objects[objects.len() - 1].end))
}

/// The key a line starts with (`tags: vip`, `- email: …`), if it does.
fn key(line: &str) -> Option<String> {
    let at = line.find([':', '='])?;
    short_key(&line[..at])
}

/// The key just before a value (`email: `, `  "phone": "`, `{"type":
/// "email", "email": "`), if only a separator and quotes stand between.
fn key_before(before_value: &str) -> Option<String> {
    let at = before_value.rfind([':', '='])?;
    let between = before_value[at + 1..]
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<'));
    if !between.is_empty() {
        return None;
    }
    short_key(before_value[..at].rsplit([',', '{', ';', '|']).next()?)
}

/// `head` as a key: a few words of letters, digits and `_-.`, lower-cased.
fn short_key(head: &str) -> Option<String> {
    let key = head
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '*'))
        .trim_matches(['"', '\''])
        .trim();
    let short = !key.is_empty()
        && key.len() <= 32
        && key.split_whitespace().count() <= 3
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'));
    short.then(|| key.to_lowercase())
}

/// Whether the text of `line` outside its `values` reads as a sentence:
/// four or more lower-case words in a row ("and no access to the course").
fn is_prose(text: &str, line: Span, values: &[Value]) -> bool {
    let mut at = line.start;
    let mut outside = Vec::with_capacity(values.len() + 1);
    for v in values {
        outside.push(&text[at..v.span.start.max(at)]);
        at = v.span.end.min(line.end).max(at);
    }
    outside.push(&text[at..line.end.max(at)]);
    outside.iter().any(|part| {
        let mut run = 0;
        part.split(' ').any(|word| {
            let lower = !word.is_empty()
                && word.chars().all(|c| c.is_lowercase() || c == '\'')
                && word.chars().any(char::is_alphabetic);
            run = if lower { run + 1 } else { 0 };
            run >= 4
        })
    })
}

/// A line that holds a field: a key and a value after it (`tags: vip`),
/// not a heading that ends in a colon.
fn is_field(line: &str) -> bool {
    key(line).is_some()
        && line
            .split_once([':', '='])
            .is_some_and(|(_, value)| !value.trim().is_empty())
}

/// A line that starts a new item of a list: `- `, `* `, `1.`. (An object
/// opens on a line of its own, `{`, which is filler.)
fn starts_item(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with(['-', '*', '•'])
        || t.split_once(['.', ')'])
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A blank line, a table rule such as `|---|---|`, or JSON punctuation
/// (`{`, `},`, `]`).
fn is_filler(line: &str) -> bool {
    line.chars().all(|c| {
        c.is_whitespace() || matches!(c, '-' | '|' | '+' | '=' | ':' | '{' | '}' | '[' | ']' | ',')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognize::Origin;

    /// Candidates for every `@`-address and `+`-number in `text`.
    fn found(text: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        for word in
            text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '<' | '>'))
        {
            let kind = if word.contains('@') {
                FindingKind::Email
            } else if word.starts_with('+') {
                FindingKind::Phone
            } else {
                continue;
            };
            let start = word.as_ptr() as usize - text.as_ptr() as usize;
            out.push(Candidate {
                span: Span::new(start, start + word.len()),
                kind,
                origin: Origin::ExportRows,
                confidence: 1.0,
            });
        }
        out
    }

    fn exports(text: &str) -> Vec<&str> {
        find_exports(text, &found(text))
            .into_iter()
            .map(|s| &text[s.start..s.end])
            .collect()
    }

    #[test]
    fn rows_make_an_export_and_only_the_rows_are_taken() {
        let text = "export:\na@x.org, +4911111\nb@x.org, +4922222\nc@x.org, +4933333\nwhy?";
        assert_eq!(
            exports(text),
            ["a@x.org, +4911111\nb@x.org, +4922222\nc@x.org, +4933333"]
        );
    }

    #[test]
    fn one_record_over_several_field_lines_is_not_an_export() {
        let text = "{\n  \"email\": \"a@x.org\",\n  \"phone\": \"+4911111\",\n  \"mobile\": \"+4922222\"\n}";
        assert!(exports(text).is_empty());
        let signature = "Anna\nanna@x.org\n+4911111\n";
        assert!(exports(signature).is_empty());
    }

    #[test]
    fn repeated_keys_make_records() {
        let text = "list:\n- name: Ann\n  email: a@x.org\n  phone: +4911111\n  tags: vip\n- email: b@x.org\n- email: c@x.org\n";
        assert_eq!(
            exports(text),
            [
                "- name: Ann\n  email: a@x.org\n  phone: +4911111\n  tags: vip\n- email: b@x.org\n- email: c@x.org"
            ]
        );
    }

    #[test]
    fn a_list_on_one_line_is_an_export_but_a_sentence_is_not() {
        assert_eq!(
            exports("customers: Ann <a@x.org>, b@x.org; c@x.org"),
            ["Ann <a@x.org>, b@x.org; c@x.org"]
        );
        assert!(
            exports("I cc'd a@x.org, then our designer b@x.org and the intern c@x.org").is_empty()
        );
        let json = r#"rows: [{"name": "Ann", "email": "a@x.org", "tag": "vip"},{"name": "Bo", "email": "b@x.org"},{"name": "Cy", "email": "c@x.org"}]"#;
        assert_eq!(exports(json), [&json[7..json.len() - 1]]);
    }
}
