//! A sequence tagger for person names, street addresses and dates of birth:
//! a linear-chain CRF over hashed token features, trained on generated text
//! by `models/tagger/` and embedded in the crate.
//!
//! It runs only where it can matter: a [`Gate`] opens regions around
//! capitalised or non-ASCII words and around birth and name cue words
//! ("born", "client", "regards", …), and the tagger labels each token of a
//! region `O`, `PER`, `ADR` or `DOB` (Viterbi). A run of tokens with one
//! label becomes a [`Candidate`] of that kind.
//!
//! It knows the name and street vocabularies of Faker's European and
//! American locales, but was trained with word dropout (half of the names
//! and one word in sixteen hidden from their own features), so it also
//! finds names no list holds by their shape and the words around them.
//! Limits: a lower-case name with no cue before it is outside every region;
//! names in scripts other than Latin were never in its training data; a
//! capitalised product or company name where names usually stand can be
//! taken for a name.

mod features;
mod model;
mod person_run;
mod score;

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

use features::{Scratch, Token, gate_cues, tokenize};
pub(crate) use features::{is_listed_first_name, is_listed_last_name, is_tool_word};
pub use model::ModelError;
use model::{L, Model};
use person_run::names_in_run;
use score::Scorer;

use crate::kind::FindingKind;
use crate::recognize::{Candidate, Gate, Memo, Origin, Recognizer, Span};
use crate::render::Rendered;

/// The embedded model, trained by `models/tagger/train.py`.
pub const DEFAULT_TAGGER_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/tagger/tagger.model"
));

/// How far (bytes) a gate region reaches either side of the word that opened it.
const RADIUS: usize = 40;

/// The label numbers, as in the model.
const PER: u8 = 1;
const ADR: u8 = 2;
const DOB: u8 = 3;

/// The CRF tagger as a [`Recognizer`].
#[derive(Debug)]
pub struct Tagger {
    model: Model,
    gate: Gate,
}

static DEFAULT: LazyLock<Arc<Tagger>> = LazyLock::new(|| {
    Arc::new(
        Tagger::from_bytes(DEFAULT_TAGGER_MODEL)
            .expect("the embedded tagger model reads (checked by tests)"),
    )
});

impl Tagger {
    /// Read a model file (the format `models/tagger/train.py` exports).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        Ok(Tagger {
            model: Model::parse(bytes)?,
            gate: Gate::new(gate_cues(), RADIUS),
        })
    }

    /// The embedded model, read once and shared.
    pub fn embedded() -> Arc<Tagger> {
        Arc::clone(&DEFAULT)
    }
}

/// The buffers of a scan, kept per thread and reused by its next scans.
#[derive(Default)]
struct Buffers {
    tokens: Vec<Token>,
    scorer: Scorer,
    emissions: Vec<[f32; L]>,
    back: Vec<[u8; L]>,
    labels: Vec<u8>,
    /// The token bounds of the values in one run.
    runs: Vec<(usize, usize)>,
}

fn kind_of(label: u8) -> Option<(FindingKind, &'static str)> {
    match label {
        PER => Some((FindingKind::Person, "person")),
        ADR => Some((FindingKind::Address, "address")),
        DOB => Some((FindingKind::Dob, "dob")),
        _ => None,
    }
}

/// Whether a run of tokens can be a value of its kind: a name holds a
/// letter, an address a letter and a digit, a birth date a digit.
fn plausible(text: &str, label: u8) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digit = text.bytes().any(|b| b.is_ascii_digit());
    match label {
        PER => letters >= 2 && !digit,
        ADR => letters >= 2 && digit && features::looks_like_address(text),
        DOB => digit,
        _ => false,
    }
}

/// Whether the gap between two tokens of one label keeps them in one
/// value: a name or a birth date stays on its line, an address may run over
/// lines (a signature) but not over a blank one.
fn joins(gap: &str, label: u8) -> bool {
    let breaks = gap.bytes().filter(|&b| b == b'\n').count();
    breaks == 0 || (label == ADR && breaks == 1)
}

impl Tagger {
    fn tag_region(&self, text: &str, region: Span, b: &mut Buffers, out: &mut Vec<Candidate>) {
        let part = &text[region.start..region.end];
        b.tokens.clear();
        tokenize(part, &mut b.tokens);
        b.scorer
            .emissions(&self.model, part, &b.tokens, &mut b.emissions);
        self.model.viterbi(&b.emissions, &mut b.back, &mut b.labels);
        let mut i = 0;
        while i < b.tokens.len() {
            let label = b.labels[i];
            if label == 0 || b.tokens[i].placeholder {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < b.tokens.len()
                && b.labels[i + 1] == label
                && !b.tokens[i + 1].placeholder
                && joins(&part[b.tokens[i].end..b.tokens[i + 1].start], label)
            {
                i += 1;
            }
            // A run never ends on punctuation.
            let mut last = i;
            while last > first && !part[b.tokens[last].start..].starts_with(char::is_alphanumeric) {
                last -= 1;
            }
            i += 1;
            b.runs.clear();
            if label == PER {
                names_in_run(part, &b.tokens, first, last, &mut b.runs);
            } else {
                b.runs.push((first, last));
            }
            for &(first, last) in &b.runs {
                let span = Span::new(b.tokens[first].start, b.tokens[last].end);
                if let Some((kind, rule)) = kind_of(label)
                    && plausible(&part[span.start..span.end], label)
                {
                    out.push(Candidate {
                        span: span.shifted(region.start),
                        kind,
                        origin: Origin::Recognizer {
                            name: "tagger",
                            rule,
                        },
                        confidence: 0.6,
                    });
                }
            }
        }
    }
}

thread_local! {
    /// Each thread's buffers, reused by every scan it runs.
    static BUFFERS: RefCell<Buffers> = RefCell::default();
}

/// The gate regions a first scan tagged, in order: a region of the scrubbed
/// text that is one of them, unchanged, has nothing new to find.
struct Regions(Vec<Span>);

impl Regions {
    /// Whether `region` of `rendered` holds no placeholder and was, at the
    /// same place in the input, a region of the first scan. The tagger reads
    /// nothing outside its region, so it would label it as the first scan
    /// did, and whatever the first scan found there is a placeholder now.
    fn unchanged(&self, rendered: &Rendered, region: Span) -> bool {
        let replacements = rendered.replacements();
        let before = replacements.partition_point(|r| r.output.end <= region.start);
        if replacements
            .get(before)
            .is_some_and(|r| r.output.start < region.end)
        {
            return false;
        }
        let shift = before.checked_sub(1).map_or(0, |k| {
            replacements[k].output.end as isize - replacements[k].input.end as isize
        });
        let input = Span::new(
            region.start.saturating_add_signed(-shift),
            region.end.saturating_add_signed(-shift),
        );
        self.0.binary_search(&input).is_ok()
    }
}

impl Recognizer for Tagger {
    fn scan(&self, text: &str, out: &mut Vec<Candidate>) -> Memo {
        let regions = self.gate.regions(text);
        BUFFERS.with_borrow_mut(|buffers| {
            for &region in &regions {
                self.tag_region(text, region, buffers, out);
            }
        });
        Memo::new(Regions(regions))
    }

    /// The gate regions of the scrubbed text: a placeholder changes the
    /// words around it and the line it ends, and a region's labels hang
    /// together, so every region that is not one of the first scan's,
    /// unchanged, is tagged again. Placeholders are never part of a run, so
    /// whatever it finds is new.
    fn rescan(&self, rendered: &Rendered, memo: &Memo, out: &mut Vec<Candidate>) {
        let first = memo.get::<Regions>();
        if first.is_some() && rendered.replacements().is_empty() {
            // Nothing was replaced: the text is the input, whose regions are
            // the first scan's, every one unchanged.
            return;
        }
        let text = rendered.text();
        BUFFERS.with_borrow_mut(|buffers| {
            for region in self.gate.regions(text) {
                if !first.is_some_and(|f| f.unchanged(rendered, region)) {
                    self.tag_region(text, region, buffers, out);
                }
            }
        });
    }
}

/// One labelled token sequence for training: each token's feature ids and
/// its label number (0 `O`, 1 `PER`, 2 `ADR`, 3 `DOB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSequence {
    /// Per token, its feature ids.
    pub features: Vec<Vec<u32>>,
    /// Per token, its label number.
    pub labels: Vec<u8>,
}

/// The sequences the tagger would see in `text` (one per gate region), with
/// every token that starts inside one of `spans` labelled by its kind
/// (person, address, dob; other kinds are ignored). The words of the tokens
/// that start inside one of `unseen` are hidden from their features, as a
/// name outside every list is at inference: the model learns to find such
/// names by their shape and the words around them. Used by the training
/// pipeline (`models/tagger/`), so that training and inference share one
/// gate, one tokenizer and one feature set.
pub fn training_sequences(
    text: &str,
    spans: &[(Span, FindingKind)],
    unseen: &[Span],
) -> Vec<TrainingSequence> {
    static GATE: LazyLock<Gate> = LazyLock::new(|| Gate::new(gate_cues(), RADIUS));
    let gate = &*GATE;
    let mut tokens = Vec::new();
    let mut scratch = Scratch::default();
    let mut ids = Vec::new();
    let mut offsets = Vec::new();
    let mut out = Vec::new();
    for region in gate.regions(text) {
        let part = &text[region.start..region.end];
        tokens.clear();
        tokenize(part, &mut tokens);
        ids.clear();
        let hidden = |i: usize| {
            let at = region.start + tokens[i].start;
            unseen.iter().any(|s| s.start <= at && at < s.end)
        };
        features::features(part, &tokens, hidden, &mut scratch, &mut ids, &mut offsets);
        let labels = tokens
            .iter()
            .map(|t| {
                let at = region.start + t.start;
                spans
                    .iter()
                    .find(|(s, _)| s.start <= at && at < s.end)
                    .map_or(0, |(_, kind)| match kind {
                        FindingKind::Person => PER,
                        FindingKind::Address => ADR,
                        FindingKind::Dob => DOB,
                        _ => 0,
                    })
            })
            .collect();
        let features = offsets
            .windows(2)
            .map(|w| ids[w[0]..w[1]].to_vec())
            .collect();
        out.push(TrainingSequence { features, labels });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(FindingKind, &str)> {
        let mut out = Vec::new();
        Tagger::embedded().scan(text, &mut out);
        out.iter()
            .map(|c| (c.kind, &text[c.span.start..c.span.end]))
            .collect()
    }

    #[test]
    fn the_embedded_model_finds_names_addresses_and_birth_dates() {
        let text =
            "my client Lara Ibañez (born 12 March 1987) lives at Hauptstraße 5, 10115 Berlin";
        let got = found(text);
        assert!(
            got.contains(&(FindingKind::Person, "Lara Ibañez")),
            "{got:?}"
        );
        assert!(
            got.contains(&(FindingKind::Dob, "12 March 1987")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(k, v)| *k == FindingKind::Address && v.contains("Hauptstraße 5")),
            "{got:?}"
        );
    }

    #[test]
    fn tool_names_and_lower_case_prose_are_left_alone() {
        assert_eq!(
            found(
                "Our Google Sheets to Active Campaign zap in Make stopped after the Find Contact step"
            ),
            vec![]
        );
        assert_eq!(found("nothing capitalised here, 42 runs"), vec![]);
    }

    #[test]
    fn names_no_list_holds_are_found_by_their_shape_and_place() {
        for (text, name) in [
            (
                "My client Oluwaseun Adebayo paid twice",
                "Oluwaseun Adebayo",
            ),
            ("Name: Kenji Watanabe", "Kenji Watanabe"),
        ] {
            let got = found(text);
            assert!(
                got.contains(&(FindingKind::Person, name)),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn placeholders_are_never_tagged() {
        for (kind, value) in found("Thanks,\n[PERSON]\n[ADDRESS]") {
            assert!(!value.contains('['), "{kind}: {value}");
        }
    }

    #[test]
    fn a_bad_model_file_is_refused() {
        assert_eq!(
            Tagger::from_bytes(b"nope").unwrap_err(),
            ModelError::Truncated
        );
        assert_eq!(
            Tagger::from_bytes(b"HGTAG\0\0\x02xxxxxxxx").unwrap_err(),
            ModelError::Magic
        );
        let mut short = DEFAULT_TAGGER_MODEL.to_vec();
        short.pop();
        assert_eq!(
            Tagger::from_bytes(&short).unwrap_err(),
            ModelError::Truncated
        );
        let mut long = DEFAULT_TAGGER_MODEL.to_vec();
        long.push(0);
        assert_eq!(
            Tagger::from_bytes(&long).unwrap_err(),
            ModelError::Trailing(1)
        );
    }
}
