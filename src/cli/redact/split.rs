//! Cutting one long text into pieces that scrub exactly as the whole does,
//! so `redact` can scrub a huge input on every core and in bounded memory.
//!
//! A cut is made only after a line break (a blank line when there is one
//! near), and only where it changes nothing: the text around the candidate
//! cut ([`MARGIN`] bytes each side, out to whole lines) is scrubbed whole
//! and as its two halves, and the cut is taken only when both give the
//! same findings, kind for kind and byte for byte. So a value is never cut
//! in two (its finding would cross the cut), a cue is never parted from
//! the value it announces ("password:" on one line, the password on the
//! next), and a run of customer records is never cut into runs too short
//! to be an export (the halves would report two runs, or none). Where no
//! cut passes (one long export, a text without line breaks), the piece
//! grows: memory is then what holding the text whole took before.
//!
//! What this cannot see: a value, or the context that decides it, longer
//! than [`MARGIN`]. No detector reaches that far (the longest values are
//! private key blocks, a few KB; cues sit beside their values).

use std::io::{self, Read};

use handoff_scrub::{Policy, scrub};

/// How many bytes a piece holds at least (but the last).
pub(crate) const TARGET: usize = 2 << 20;

/// How far around a candidate cut the scrubber must agree.
pub(crate) const MARGIN: usize = 16 << 10;

/// Hands out the pieces of a text read from `input`.
pub(crate) struct Splitter<R> {
    input: R,
    policy: Policy,
    target: usize,
    margin: usize,
    /// Text read and not yet handed out: UTF-8, except that a character
    /// may be cut at its end.
    pending: Vec<u8>,
    /// Where in `pending` the search for a cut goes on (line breaks
    /// before it were tried).
    searched: usize,
    ended: bool,
}

impl<R: Read> Splitter<R> {
    /// Pieces of at least `target` bytes, cuts checked `margin` bytes each
    /// side; `input` must yield UTF-8 (a strict [`super::super::encoding::Decoder`]).
    pub(crate) fn new(input: R, policy: Policy, target: usize, margin: usize) -> Self {
        Splitter {
            input,
            policy,
            target: target.max(1),
            margin,
            pending: Vec::new(),
            searched: 0,
            ended: false,
        }
    }

    /// The next piece, `None` after the last.
    pub(crate) fn next_piece(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(cut) = self.find_cut() {
                let rest = self.pending.split_off(cut);
                let piece = std::mem::replace(&mut self.pending, rest);
                self.searched = 0;
                return to_text(piece).map(Some);
            }
            if self.ended {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                self.searched = 0;
                return to_text(std::mem::take(&mut self.pending)).map(Some);
            }
            self.fill()?;
        }
    }

    /// Read more input: at least enough for one more candidate and its margin.
    fn fill(&mut self) -> io::Result<()> {
        let had = self.pending.len();
        let want = (self.target + self.margin).max(had + (64 << 10));
        self.pending.resize(want, 0);
        let mut filled = had;
        while filled < want {
            match self.input.read(&mut self.pending[filled..]) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pending.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.pending.truncate(filled);
        Ok(())
    }

    /// The first line break at or after the target whose cut passes, among
    /// those with their margin read (all of them once the input ended):
    /// up to twice the target only the ends of paragraphs are tried, then
    /// every line's.
    fn find_cut(&mut self) -> Option<usize> {
        let checkable = if self.ended {
            self.pending.len()
        } else {
            self.pending.len().saturating_sub(self.margin)
        };
        let mut at = self.searched.max(self.target - 1);
        while at < checkable {
            let Some(i) = memchr::memchr(b'\n', &self.pending[at..checkable]) else {
                break;
            };
            let cut = at + i + 1;
            at = cut;
            let worth_trying = cut > 2 * self.target || self.after_blank_line(cut);
            if worth_trying && cut < self.pending.len() && self.safe(cut) {
                return Some(cut);
            }
        }
        self.searched = self.searched.max(checkable);
        None
    }

    /// Whether the line that ends just before `cut` is blank.
    fn after_blank_line(&self, cut: usize) -> bool {
        let line = &self.pending[..cut - 1];
        let start = line.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        line[start..].iter().all(u8::is_ascii_whitespace)
    }

    /// Whether cutting at `cut` (just after a line break) changes nothing the
    /// scrubber finds within the margin around it.
    fn safe(&self, cut: usize) -> bool {
        let text = &self.pending;
        // Out to whole lines, so both edges are line starts.
        let lo = cut.saturating_sub(self.margin);
        let lo = text[..lo]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let hi = (cut + self.margin).min(text.len());
        let hi = match memchr::memchr(b'\n', &text[hi..]) {
            Some(i) => hi + i + 1,
            None if self.ended => text.len(),
            None => return false,
        };
        let (Ok(left), Ok(right)) = (
            std::str::from_utf8(&text[lo..cut]),
            std::str::from_utf8(&text[cut..hi]),
        ) else {
            return false;
        };
        let whole: String = [left, right].concat();
        let spans = |text: &str, shift: usize| {
            scrub(text, &self.policy)
                .findings()
                .iter()
                .map(|f| (f.kind, f.start + shift, f.end + shift))
                .collect::<Vec<_>>()
        };
        let mut halves = spans(left, 0);
        halves.extend(spans(right, left.len()));
        spans(&whole, 0) == halves
    }
}

/// A piece as text: the decoder made it UTF-8 and cuts fall after a line
/// break, so this fails only on a decoder's bug.
fn to_text(piece: Vec<u8>) -> io::Result<String> {
    String::from_utf8(piece).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text that holds private values of many kinds, cues split from
    /// their values by a line break, a key block, and a customer export
    /// whose records sit on both sides of blank lines.
    fn sample() -> String {
        let paragraphs = [
            "Kajabi never unlocks the course after Stripe checkout.\nOur key is sk_live_4eC39HqLyjWDarjtT1zdp7dc and it worked yesterday.\n",
            "\n",
            "The password for the admin is\nhunter2hunter2!\n",
            "Call Dana Whitfield on +44 20 7946 0958 or write to dana.whitfield@example.org.\n",
            "\n",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HcJ3L+\n3pPP0OXTl4VeoDBiJ+NcCk3S5tGUlw8ZUkpJpOZYTHOh3E1ZmJcQUB5mMTgmU9pL\nkOFdvHnGJZ4cS+n0vy1ixmM8EozhIVXrZZNGk9lbk8dPz7HTLcQ5PNOJ7dOCRu+F\n-----END RSA PRIVATE KEY-----\n",
            "\n",
            "name,email,phone\nAnna Kowalski,anna.k@example.com,+48 512 345 678\n\nMarc Dubois,marc.d@example.fr,+33 6 12 34 56 78\n\nLi Wei,li.wei@example.cn,+86 138 0013 8000\nSofia Rossi,sofia.r@example.it,+39 312 345 6789\n",
            "\n",
            "Test card 4242 4242 4242 4242, exp 12/29, CVV 123.\nIBAN DE89 3704 0044 0532 0130 00 for the refund.\n",
            "\n\n",
            "Nothing private in this paragraph about Zapier and HubSpot.\n",
        ];
        paragraphs.concat()
    }

    fn pieces(text: &str, target: usize, margin: usize) -> Vec<String> {
        let mut splitter = Splitter::new(text.as_bytes(), Policy::default(), target, margin);
        let mut out = Vec::new();
        while let Some(piece) = splitter.next_piece().unwrap() {
            assert!(!piece.is_empty());
            out.push(piece);
        }
        out
    }

    #[test]
    fn the_pieces_scrub_exactly_as_the_whole() {
        let text = sample().repeat(3);
        let policy = Policy::default();
        let whole = scrub(&text, &policy);
        assert!(whole.findings().len() >= 15, "{:?}", whole.findings());
        let mut cut_somewhere = false;
        for target in [1, 7, 40, 97, 200, 333, 600, 1200] {
            let pieces = pieces(&text, target, 256);
            assert_eq!(pieces.concat(), text, "target {target}");
            cut_somewhere |= pieces.len() > 3;
            // No finding of the whole crosses a cut.
            let mut at = 0;
            for piece in &pieces[..pieces.len() - 1] {
                at += piece.len();
                assert!(
                    !whole.findings().iter().any(|f| f.start < at && at < f.end),
                    "target {target}: a cut at {at} splits a finding"
                );
            }
            let scrubbed: String = pieces
                .iter()
                .map(|p| scrub(p, &policy).into_text().as_str().to_owned())
                .collect();
            assert_eq!(
                scrubbed,
                whole.text().as_str(),
                "target {target}: {pieces:#?}"
            );
        }
        assert!(cut_somewhere, "the sample was never cut");
    }

    #[test]
    fn no_cut_is_made_where_it_would_change_a_finding() {
        // A target that lands inside the key block and the export: the
        // cuts move past them.
        let text = sample();
        let key = text.find("-----BEGIN").unwrap();
        let key_end = text.find("-----END").unwrap();
        let export = text.find("Anna").unwrap();
        let export_end = text.find("Sofia").unwrap();
        for target in [key + 70, export + 10] {
            let pieces = pieces(&text, target, 256);
            let mut at = 0;
            for piece in &pieces {
                at += piece.len();
                assert!(
                    !(key < at && at <= key_end),
                    "cut {at} inside the key block"
                );
                assert!(
                    !(export < at && at <= export_end),
                    "cut {at} inside the export"
                );
            }
        }
    }

    #[test]
    fn text_without_a_safe_cut_stays_one_piece() {
        let text = "a line without a break ".repeat(50);
        assert_eq!(pieces(&text, 10, 16), vec![text.clone()]);
        assert!(pieces("", 10, 16).is_empty());
    }
}
