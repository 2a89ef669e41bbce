//! The tagger's training sequences for `models/tagger/train.py`: reads
//! corpus-schema JSONL (`{"text", "sensitive": [{"value", "kind"}]}`) on
//! stdin and writes, per gate region, one line per token (`label<TAB>`
//! space-separated hex feature ids) and a blank line after each sequence.
//! Every occurrence of a person, address or dob value labels its tokens.
//!
//! Word dropout: half of the person values, and one in sixteen of the other
//! words, are hidden from their own features (chosen by an FNV-1a hash, so
//! the same on every run). The model then learns names from their shape
//! and context as well as from the name lists, and finds the names no list
//! holds ("Kenji Watanabe", "Oluwaseun Adebayo"); and since ordinary words
//! are hidden too, a word it never saw is no sign of a name by itself.

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

/// FNV-1a 64 of `bytes`, continuing from `hash`.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Whether a person value is hidden from its features: one in two.
fn hidden_name(value: &str) -> bool {
    fnv(FNV_OFFSET, value.as_bytes()).is_multiple_of(2)
}

/// The words (runs of letters and digits) of `text` hidden from their
/// features: one occurrence in sixteen, by the word and where it stands.
fn hidden_words(text: &str) -> Vec<Span> {
    let mut hidden = Vec::new();
    let mut start = None;
    let ends = text.char_indices().chain([(text.len(), ' ')]);
    for (at, c) in ends {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                let place = (from as u64).to_le_bytes();
                let hash = fnv(fnv(FNV_OFFSET, &place), &text.as_bytes()[from..at]);
                if hash.is_multiple_of(16) {
                    hidden.push(Span::new(from, at));
                }
                start = None;
            }
            _ => {}
        }
    }
    hidden
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
        let mut unseen = hidden_words(&record.text);
        for s in &record.sensitive {
            if matches!(
                s.kind,
                FindingKind::Person | FindingKind::Address | FindingKind::Dob
            ) && !s.value.is_empty()
            {
                let hide = s.kind == FindingKind::Person && hidden_name(&s.value);
                for (at, v) in record.text.match_indices(s.value.as_str()) {
                    let span = Span::new(at, at + v.len());
                    spans.push((span, s.kind));
                    if hide {
                        unseen.push(span);
                    }
                }
            }
        }
        for seq in training_sequences(&record.text, &spans, &unseen) {
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
