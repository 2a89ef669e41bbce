//! The detector table as browser rules: the rows the widget uses to warn
//! before text leaves the device, with each pattern rewritten from Rust
//! `regex` syntax into a JavaScript `RegExp` source. Served at
//! `GET /api/v1/rules.json` and printed by `handoff-gate rules browser`.
//!
//! The browser only warns; the server still scrubs everything.
//!
//! ```
//! use handoff_scrub::browser_rules;
//!
//! let rules = browser_rules();
//! let stripe = rules.detectors.iter().find(|d| d.id == "stripe_secret_key").unwrap();
//! assert!(!stripe.pattern.contains("(?P<"));
//! assert!(rules.skipped.is_empty());
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::kind::{Category, FindingKind};
use super::shape::{Margins, Shape};
use super::table::DEFAULT_TABLE;
use super::{Validator, parse_table};

/// The kinds the browser checks: every credential and payment kind, plus
/// email and phone, which only serve to recognise a pasted export.
pub fn browser_kind(kind: FindingKind) -> bool {
    matches!(kind.category(), Category::Credential | Category::Payment)
        || matches!(kind, FindingKind::Email | FindingKind::Phone)
}

/// Everything the browser needs.
#[derive(Debug, Serialize)]
pub struct BrowserRules {
    /// Format version.
    pub version: u32,
    /// Per kind: what to call it and its placeholder.
    pub kinds: BTreeMap<FindingKind, KindText>,
    /// The detectors, in table order.
    pub detectors: Vec<BrowserDetector>,
    /// Rows that could not be expressed in JavaScript, and why.
    pub skipped: Vec<Skipped>,
    /// How many consecutive record lines make a pasted export.
    pub export_min_records: usize,
}

/// How a kind is named to people.
#[derive(Debug, Serialize)]
pub struct KindText {
    /// "an API key or access token"
    pub label: &'static str,
    /// "[API_KEY]"
    pub placeholder: String,
}

/// One detector row in JavaScript terms; fields mean what they mean in
/// `detectors.toml`.
#[derive(Debug, Serialize)]
pub struct BrowserDetector {
    /// Table id.
    pub id: String,
    /// What it finds.
    pub kind: FindingKind,
    /// Prefilter words (lower case: any case; with a capital: as written).
    pub keywords: Vec<String>,
    /// The shape prefilter and its window margins (before, after), if any.
    pub shape: Option<BrowserShape>,
    /// `RegExp` source.
    pub pattern: String,
    /// `RegExp` flags (always includes `g`).
    pub flags: &'static str,
    /// Validator name, reimplemented in the script.
    pub validator: Option<Validator>,
    /// Context words required shortly before the match.
    pub context: Vec<String>,
    /// Words that veto the match shortly before it.
    pub exclude_context: Vec<String>,
    /// Whole values (any case) that are never findings.
    pub exclude_values: Vec<String>,
    /// How far back context words count, in bytes.
    pub context_window: usize,
    /// `[before, after]` bytes around a keyword hit, when narrower than the default.
    pub keyword_window: Option<[usize; 2]>,
    /// Whether the match must stand alone.
    pub standalone: bool,
    /// Confidence, for overlaps.
    pub confidence: f32,
}

/// A shape prefilter in JavaScript terms.
#[derive(Debug, Serialize)]
pub struct BrowserShape {
    /// `RegExp` source of the shape.
    pub pattern: &'static str,
    /// Bytes before a hit the detector looks.
    pub before: usize,
    /// Bytes after a hit the detector looks.
    pub after: usize,
}

/// A row left out.
#[derive(Debug, Serialize)]
pub struct Skipped {
    /// Table id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// The embedded table's browser rules.
pub fn browser_rules() -> BrowserRules {
    let table = parse_table("embedded default", DEFAULT_TABLE)
        .expect("the embedded detector table parses (checked by tests)");
    let mut detectors = Vec::new();
    let mut skipped = Vec::new();
    for spec in table.detectors.into_iter().filter(|d| browser_kind(d.kind)) {
        match to_js(&spec.pattern) {
            Ok(pattern) => detectors.push(BrowserDetector {
                id: spec.id,
                kind: spec.kind,
                keywords: spec.keywords,
                shape: spec.shape.map(|shape: Shape| {
                    let Margins { before, after } = shape.margins();
                    BrowserShape {
                        pattern: shape.pattern(),
                        before,
                        after,
                    }
                }),
                pattern,
                flags: "g",
                validator: spec.validator,
                context: spec.context,
                exclude_context: spec.exclude_context,
                exclude_values: spec.exclude_values,
                context_window: spec.context_window,
                keyword_window: spec.keyword_window,
                standalone: spec.standalone,
                confidence: spec.confidence,
            }),
            Err(reason) => skipped.push(Skipped {
                id: spec.id,
                reason,
            }),
        }
    }
    BrowserRules {
        version: 1,
        kinds: FindingKind::ALL
            .iter()
            .copied()
            .filter(|k| browser_kind(*k) || *k == FindingKind::AccountExport)
            .map(|k| {
                (
                    k,
                    KindText {
                        label: k.describe(),
                        placeholder: k.default_placeholder(),
                    },
                )
            })
            .collect(),
        detectors,
        skipped,
        export_min_records: super::export::MIN_RECORDS,
    }
}

/// Rewrite a Rust `regex` pattern as a JavaScript `RegExp` source (no `u`
/// flag): `(?P<n>` becomes `(?<n>`, `(?i:…)` groups spell each letter in both
/// cases, `\z` becomes an end-of-input lookahead. Anything else Rust-only is
/// refused with a reason rather than mistranslated.
pub fn to_js(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    // For each open group: whether it switched case-insensitivity on.
    let mut groups: Vec<bool> = Vec::new();
    let mut insensitive = 0usize;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let next = *chars.get(i + 1).ok_or("a pattern ends with a backslash")?;
            match next {
                'z' if !in_class => out.push_str("(?![\\s\\S])"),
                'A' if !in_class => out.push_str("(?<![\\s\\S])"),
                'p' | 'P' | 'x' | 'Z' => {
                    return Err(format!("`\\{next}` has no JavaScript equivalent here"));
                }
                _ => {
                    out.push('\\');
                    out.push(next);
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '[' if chars.get(i + 1) == Some(&':') => {
                    return Err("POSIX character classes are not supported".to_owned());
                }
                '&' if chars.get(i + 1) == Some(&'&') => {
                    return Err("class intersections are not supported".to_owned());
                }
                c if insensitive > 0 && c.is_ascii_alphabetic() => {
                    // a-z inside (?i:…) also admits A-Z: add the other case of each end.
                    if chars.get(i + 1) == Some(&'-')
                        && let Some(&end) = chars.get(i + 2)
                        && end.is_ascii_alphabetic()
                    {
                        out.push_str(&format!("{c}-{end}{}-{}", swap_case(c), swap_case(end)));
                        i += 3;
                        continue;
                    }
                    out.push(c);
                    out.push(swap_case(c));
                }
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with("P<") {
                    out.push_str("(?<");
                    groups.push(false);
                    i += 4;
                    continue;
                }
                if rest.starts_with("i:") {
                    out.push_str("(?:");
                    groups.push(true);
                    insensitive += 1;
                    i += 4;
                    continue;
                }
                if rest.starts_with(':')
                    || rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                    || rest.starts_with('<')
                {
                    out.push_str("(?");
                    groups.push(false);
                    i += 2;
                    continue;
                }
                return Err(format!("inline flags `(?{rest}…` are not supported"));
            }
            '(' => {
                out.push('(');
                groups.push(false);
            }
            ')' => {
                if groups.pop().ok_or("unbalanced parentheses")? {
                    insensitive -= 1;
                }
                out.push(')');
            }
            c if insensitive > 0 && c.is_ascii_alphabetic() => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                out.push(']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    if in_class || !groups.is_empty() {
        return Err("unbalanced brackets or parentheses".to_owned());
    }
    Ok(out)
}

fn swap_case(c: char) -> char {
    if c.is_ascii_lowercase() {
        c.to_ascii_uppercase()
    } else {
        c.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_only_syntax_is_rewritten() {
        assert_eq!(
            to_js(r"(?P<secret>sk_live_[0-9a-z]+)\z").unwrap(),
            r"(?<secret>sk_live_[0-9a-z]+)(?![\s\S])"
        );
        assert_eq!(to_js(r"(?i:key)[a-z]").unwrap(), r"(?:[kK][eE][yY])[a-z]");
        assert_eq!(
            to_js(r"(?i:[a-z_]*\bpw)").unwrap(),
            r"(?:[a-zA-Z_]*\b[pP][wW])"
        );
        assert_eq!(to_js(r"[^\]x]").unwrap(), r"[^\]x]");
        assert!(to_js(r"(?x) a b").is_err());
        assert!(to_js(r"\p{L}").is_err());
    }

    #[test]
    fn every_browser_row_converts() {
        let rules = browser_rules();
        assert!(rules.skipped.is_empty(), "{:?}", rules.skipped);
        assert!(rules.detectors.len() >= 60, "{}", rules.detectors.len());
        assert!(rules.detectors.iter().all(|d| browser_kind(d.kind)));
    }
}
