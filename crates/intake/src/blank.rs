//! Whether a text says anything: blanks, zero-width spaces, joiners,
//! direction marks and fillers render as nothing.

/// Whether `text` holds no visible character: only white space, control
/// characters, Unicode's default-ignorable code points (zero-width space,
/// joiners, direction marks, variation selectors, the byte-order mark,
/// fillers …) and the blank braille pattern.
///
/// ```
/// use handoff_intake::is_blank;
///
/// assert!(is_blank(" \u{200B}\u{FEFF}\n\u{2060}\u{3164}"));
/// assert!(!is_blank("\u{200B}HubSpot"));
/// ```
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || c.is_control() || invisible(c))
}

/// Unicode's `Default_Ignorable_Code_Point` set (DerivedCoreProperties),
/// plus U+2800 BRAILLE PATTERN BLANK, which renders as a space.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_only_texts_are_blank() {
        for blank in [
            "",
            "   ",
            "\t\r\n",
            "\u{00A0}\u{2003}\u{3000}",
            "\u{200B}",
            " \u{200B} \u{200C}\u{200D} ",
            "\u{FEFF}\u{2060}\u{180E}",
            "\u{200E}\u{202E}\u{2066}",
            "\u{3164}\u{115F}\u{FFA0}\u{2800}",
            "\u{FE0F}\u{E0041}",
            "\u{00AD}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
    }

    #[test]
    fn any_visible_character_is_not_blank() {
        for text in ["a", " . ", "\u{200B}?", "日本", "😀", "\u{200D}👍"] {
            assert!(!is_blank(text), "{text:?}");
        }
    }
}
