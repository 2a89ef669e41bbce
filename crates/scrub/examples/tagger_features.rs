//! The tagger's training sequences for `models/tagger/train.py`: reads
//! corpus-schema JSONL (`{"text", "sensitive": [{"value", "kind"}]}`) on
//! stdin and writes, per gate region, one line per token (`label<TAB>`
//! space-separated hex feature ids) and a blank line after each sequence.
//! Every occurrence of a person, address or dob value labels its tokens.

use std::io::{BufRead, BufWriter, Write};

use handoff_scrub::{FindingKind, Span, training_sequences};
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    text: String,
    #[serde(default)]
    sensitive: Vec<Sensitive>,
}

#[derive(Deserialize)]
struct Sensitive {
    value: String,
    kind: FindingKind,
}

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line).map_err(std::io::Error::other)?;
        let mut spans = Vec::new();
        for s in &record.sensitive {
            if matches!(
                s.kind,
                FindingKind::Person | FindingKind::Address | FindingKind::Dob
            ) && !s.value.is_empty()
            {
                for (at, v) in record.text.match_indices(s.value.as_str()) {
                    spans.push((Span::new(at, at + v.len()), s.kind));
                }
            }
        }
        for seq in training_sequences(&record.text, &spans) {
            for (features, label) in seq.features.iter().zip(&seq.labels) {
                write!(out, "{label}\t")?;
                for (k, id) in features.iter().enumerate() {
                    if k > 0 {
                        out.write_all(b" ")?;
                    }
                    write!(out, "{id:x}")?;
                }
                out.write_all(b"\n")?;
            }
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}
