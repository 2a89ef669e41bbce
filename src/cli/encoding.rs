//! Input encodings of the batch commands: UTF-8 (a byte-order mark is
//! dropped), UTF-16 with a byte-order mark (transcoded), and nothing else:
//! other bytes are refused with the line and byte where they stop being
//! UTF-8, so that no secret slips past the scrubber because the input was
//! in another encoding.

use std::fmt;

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

/// A UTF-16 byte-order mark at the start of `bytes`: `Some(true)` for
/// big-endian, `Some(false)` for little-endian.
pub(crate) fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFE, 0xFF, ..] => Some(true),
        [0xFF, 0xFE, ..] => Some(false),
        _ => None,
    }
}

/// The text of `bytes`: UTF-8 (without its byte-order mark) or UTF-16 with
/// a byte-order mark, transcoded to UTF-8.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String, NotText> {
    if let Some(big_endian) = utf16_bom(&bytes) {
        return decode_utf16(&bytes[2..], big_endian);
    }
    let skip = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    match std::str::from_utf8(&bytes[skip..]) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let good = &bytes[skip..skip + e.valid_up_to()];
            Err(NotText {
                line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
                byte: skip + e.valid_up_to(),
                utf16: false,
            })
        }
    }
}

fn decode_utf16(body: &[u8], big_endian: bool) -> Result<String, NotText> {
    let units = body.chunks(2).map(|pair| match (pair, big_endian) {
        ([a, b], true) => u16::from_be_bytes([*a, *b]),
        ([a, b], false) => u16::from_le_bytes([*a, *b]),
        // An odd last byte: never a valid unit.
        _ => 0xDC00,
    });
    let mut text = String::with_capacity(body.len());
    let mut at = 0usize;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                text.push(c);
                at += 2 * c.len_utf16();
            }
            Err(_) => {
                return Err(NotText {
                    line: 1 + text.matches('\n').count(),
                    byte: 2 + at,
                    utf16: true,
                });
            }
        }
    }
    if body.len() % 2 == 1 {
        return Err(NotText {
            line: 1 + text.matches('\n').count(),
            byte: 2 + body.len() - 1,
            utf16: true,
        });
    }
    Ok(text)
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

    #[test]
    fn utf16_with_a_byte_order_mark_is_transcoded() {
        let text = "key sk_live_4eC39HqLyjWDarjtT1zdp7dc\nLara Ibañez 😀";
        assert_eq!(decode(utf16(text, false)).unwrap(), text);
        assert_eq!(decode(utf16(text, true)).unwrap(), text);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello".to_vec()).unwrap(), "hello");
    }

    #[test]
    fn other_bytes_are_refused_with_line_and_byte() {
        let err = decode(b"fine\nalso fine\ncaf\xE9 latin-1".to_vec()).unwrap_err();
        assert_eq!((err.line, err.byte, err.utf16), (3, 18, false));
        assert!(err.to_string().contains("line 3, byte 18"), "{err}");
        let mut broken = utf16("ab\ncd", false);
        broken.extend([0x00, 0xD8, b'x', 0x00]); // a lone high surrogate
        let err = decode(broken).unwrap_err();
        assert_eq!((err.line, err.utf16), (2, true));
        assert_eq!(err.byte, 2 + 10);
    }
}
