//! Input encodings of the batch commands: UTF-8 (a byte-order mark is
//! dropped), UTF-16 with a byte-order mark (transcoded as it is read), and
//! nothing else: other bytes are refused with the line and byte where they
//! stop being UTF-8, so that no secret slips past the scrubber because the
//! input was in another encoding.
//!
//! [`Decoder`] does this as a stream, a block at a time, so a command
//! holds no more of its input than the block it works on.

use std::fmt;
use std::io::{self, Read};

/// Where the input stops being text the scrubber can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotText {
    /// 1-based line of the first bad byte.
    pub line: usize,
    /// 0-based offset of the first bad byte in the input.
    pub byte: usize,
    /// Whether the input declared UTF-16 (a byte-order mark) and broke it.
    pub utf16: bool,
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.utf16 {
            "invalid UTF-16"
        } else {
            "not UTF-8 (nor UTF-16 with a byte-order mark)"
        };
        write!(
            f,
            "the input is {what} at line {}, byte {}; save it as UTF-8 and run again",
            self.line, self.byte
        )
    }
}

impl std::error::Error for NotText {}

impl NotText {
    /// The `NotText` inside an I/O error from a [`Decoder`], if it is one.
    pub(crate) fn inside(error: &io::Error) -> Option<NotText> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<NotText>())
            .copied()
    }

    /// The `NotText` an error chain from a [`Decoder`] ends in, if any.
    pub(crate) fn in_chain(error: &anyhow::Error) -> Option<NotText> {
        error.chain().find_map(|cause| {
            cause
                .downcast_ref::<NotText>()
                .copied()
                .or_else(|| cause.downcast_ref::<io::Error>().and_then(NotText::inside))
        })
    }
}

/// A UTF-16 byte-order mark at the start of `bytes`: `Some(true)` for
/// big-endian, `Some(false)` for little-endian.
pub(crate) fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFE, 0xFF, ..] => Some(true),
        [0xFF, 0xFE, ..] => Some(false),
        _ => None,
    }
}

const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// How much input is read at a time.
const BLOCK: usize = 1 << 16;

/// The encoding the first bytes declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16 { big_endian: bool },
}

/// Reads an input in UTF-8 or UTF-16 with a byte-order mark and yields it
/// as UTF-8 without a byte-order mark, a block at a time. Broken UTF-16 is
/// an [`io::ErrorKind::InvalidData`] error holding a [`NotText`] (see
/// [`NotText::inside`]). UTF-8 is checked too when [`Decoder::strict`];
/// otherwise its bytes pass as they are (the line-based commands check each
/// line and answer a bad one with an error record).
pub(crate) struct Decoder<R> {
    input: R,
    strict: bool,
    /// Unknown until the first bytes are read.
    encoding: Option<Encoding>,
    /// Input bytes read but not yet decoded: an incomplete character.
    raw: Vec<u8>,
    /// Decoded bytes not yet handed out, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
    /// Input bytes decoded so far (the byte-order mark included).
    offset: usize,
    /// Line breaks decoded so far.
    lines: usize,
    /// The input ended.
    ended: bool,
}

impl<R: Read> Decoder<R> {
    /// A decoder that passes UTF-8 bytes through unchecked.
    pub(crate) fn new(input: R) -> Self {
        Decoder {
            input,
            strict: false,
            encoding: None,
            raw: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            offset: 0,
            lines: 0,
            ended: false,
        }
    }

    /// A decoder that refuses invalid UTF-8 too, at its first bad byte.
    pub(crate) fn strict(input: R) -> Self {
        Decoder {
            strict: true,
            ..Decoder::new(input)
        }
    }

    /// Append up to a block of input to `raw`; whether the input ended.
    fn read_block(&mut self) -> io::Result<bool> {
        let had = self.raw.len();
        self.raw.resize(had + BLOCK, 0);
        let n = loop {
            match self.input.read(&mut self.raw[had..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.raw.truncate(had);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(had + n);
        Ok(n == 0)
    }

    /// Read the first bytes and learn the encoding from them.
    fn sniff(&mut self) -> io::Result<Encoding> {
        while self.raw.len() < 3 && !self.ended {
            self.ended = self.read_block()?;
        }
        let (encoding, bom) = match utf16_bom(&self.raw) {
            Some(big_endian) => (Encoding::Utf16 { big_endian }, 2),
            None if self.raw.starts_with(&UTF8_BOM) => (Encoding::Utf8, 3),
            None => (Encoding::Utf8, 0),
        };
        self.raw.drain(..bom);
        self.offset = bom;
        self.encoding = Some(encoding);
        Ok(encoding)
    }

    fn not_text(&self, bad_at: usize, decoded: &[u8], utf16: bool) -> io::Error {
        let lines = self.lines + decoded.iter().filter(|&&b| b == b'\n').count();
        io::Error::new(
            io::ErrorKind::InvalidData,
            NotText {
                line: 1 + lines,
                byte: self.offset + bad_at,
                utf16,
            },
        )
    }

    /// Decode what `raw` holds into `out` (emptied first), keeping an
    /// incomplete last character in `raw` unless the input ended.
    fn decode(&mut self, encoding: Encoding) -> io::Result<()> {
        self.out.clear();
        self.out_at = 0;
        let valid = match encoding {
            Encoding::Utf8 if !self.strict => self.raw.len(),
            Encoding::Utf8 => match std::str::from_utf8(&self.raw) {
                Ok(_) => self.raw.len(),
                // A character cut by the block's end: finish it next time.
                Err(e) if e.error_len().is_none() && !self.ended => e.valid_up_to(),
                Err(e) => {
                    let good = &self.raw[..e.valid_up_to()];
                    return Err(self.not_text(e.valid_up_to(), good, false));
                }
            },
            Encoding::Utf16 { big_endian } => {
                let used = self.decode_utf16(big_endian)?;
                self.raw.drain(..used);
                self.offset += used;
                self.count_lines();
                return Ok(());
            }
        };
        if valid == self.raw.len() {
            std::mem::swap(&mut self.out, &mut self.raw);
        } else {
            self.out.extend(self.raw.drain(..valid));
        }
        self.offset += valid;
        self.count_lines();
        Ok(())
    }

    fn count_lines(&mut self) {
        self.lines += self.out.iter().filter(|&&b| b == b'\n').count();
    }

    /// Transcode the whole UTF-16 units of `raw` into `out`; how many bytes
    /// of `raw` were used.
    fn decode_utf16(&mut self, big_endian: bool) -> io::Result<usize> {
        let unit = |pair: &[u8]| {
            if big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            }
        };
        let mut whole = self.raw.len() / 2 * 2;
        // A high surrogate at the block's end waits for its low half.
        if !self.ended
            && whole >= 2
            && (0xD800..0xDC00).contains(&unit(&self.raw[whole - 2..whole]))
        {
            whole -= 2;
        }
        let mut at = 0;
        let mut decoded = std::mem::take(&mut self.out);
        let units = self.raw[..whole].chunks_exact(2).map(unit);
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => {
                    let mut utf8 = [0; 4];
                    decoded.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    at += 2 * c.len_utf16();
                }
                Err(_) => return Err(self.not_text(at, &decoded, true)),
            }
        }
        if self.ended && whole < self.raw.len() {
            // An odd last byte: never a whole unit.
            return Err(self.not_text(whole, &decoded, true));
        }
        self.out = decoded;
        Ok(whole)
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out.len() {
            let encoding = match self.encoding {
                Some(encoding) => encoding,
                None => self.sniff()?,
            };
            if self.raw.is_empty() && self.ended {
                return Ok(0);
            }
            if !self.ended {
                self.ended = self.read_block()?;
            }
            self.decode(encoding)?;
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    /// Reads at most `step` bytes at a time, to cut characters and units.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn decode(bytes: &[u8], step: usize) -> Result<String, NotText> {
        let mut out = Vec::new();
        Decoder::strict(Trickle(bytes, step))
            .read_to_end(&mut out)
            .map_err(|e| NotText::inside(&e).expect("a NotText error"))?;
        Ok(String::from_utf8(out).expect("a strict decoder yields UTF-8"))
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_transcoded() {
        let text = "key sk_live_4eC39HqLyjWDarjtT1zdp7dc\nLara Ibañez 😀 end";
        for step in [1, 2, 3, 5, 4096] {
            assert_eq!(decode(&utf16(text, false), step).unwrap(), text);
            assert_eq!(decode(&utf16(text, true), step).unwrap(), text);
            assert_eq!(decode(text.as_bytes(), step).unwrap(), text);
        }
    }

    #[test]
    fn a_utf8_byte_order_mark_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello", 1).unwrap(), "hello");
        assert_eq!(decode(b"\xEF\xBB\xBFhello", 100).unwrap(), "hello");
        assert_eq!(decode(b"", 1).unwrap(), "");
        assert_eq!(decode(b"a", 1).unwrap(), "a");
    }

    #[test]
    fn other_bytes_are_refused_with_line_and_byte() {
        for step in [1, 7, 4096] {
            let err = decode(b"fine\nalso fine\ncaf\xE9 latin-1", step).unwrap_err();
            assert_eq!((err.line, err.byte, err.utf16), (3, 18, false));
            assert!(err.to_string().contains("line 3, byte 18"), "{err}");
            // Cut short inside a character.
            let err = decode(b"ok\n\xC3", step).unwrap_err();
            assert_eq!((err.line, err.byte), (2, 3));
            let mut broken = utf16("ab\ncd", false);
            broken.extend([0x00, 0xD8, b'x', 0x00]); // a lone high surrogate
            let err = decode(&broken, step).unwrap_err();
            assert_eq!((err.line, err.utf16), (2, true));
            assert_eq!(err.byte, 2 + 10);
            let mut odd = utf16("ab", true);
            odd.push(b'c');
            let err = decode(&odd, step).unwrap_err();
            assert_eq!((err.line, err.byte, err.utf16), (1, 6, true));
        }
    }

    #[test]
    fn a_lenient_decoder_passes_utf8_bytes_as_they_are() {
        let mut out = Vec::new();
        Decoder::new(Trickle(b"\xEF\xBB\xBFcaf\xE9\n", 2))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"caf\xE9\n");
    }
}
