//! What the form's live warning needs from one scrub. The browser runs this
//! very crate, compiled to WebAssembly (`crates/scrub-wasm`), so it finds
//! exactly what the server finds; this module only shapes the answer: each
//! finding with its label, its placeholder and whether the form warns about
//! it.
//!
//! The browser only warns; the server still scrubs everything.
//!
//! ```
//! use handoff_scrub::{Policy, browser_findings};
//!
//! let found = browser_findings("key sk_live_4eC39HqLyjWDarjtT1zdp7dc, mail ann@example.com", &Policy::default());
//! assert_eq!(found[0].kind.as_str(), "api_key");
//! assert_eq!(found[0].placeholder, "[API_KEY]");
//! assert!(found[0].warn);
//! assert!(!found[1].warn); // an email alone is redacted by the server, not worth a warning
//! ```

use serde::Serialize;

use super::kind::{Category, FindingKind};
use super::{Policy, scrub};

/// Whether the form warns about a finding of this kind before sending:
/// every credential and payment kind, and a pasted customer export (which
/// the server refuses).
pub fn warns(kind: FindingKind) -> bool {
    matches!(kind.category(), Category::Credential | Category::Payment)
        || kind == FindingKind::AccountExport
}

/// One finding as the browser sees it. Offsets are UTF-8 bytes here; the
/// JavaScript wrapper turns them into string (UTF-16) indexes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrowserFinding {
    /// What was found.
    pub kind: FindingKind,
    /// "an API key or access token"
    pub label: &'static str,
    /// What replaces it: `[API_KEY]`.
    pub placeholder: String,
    /// Byte offset of the value.
    pub start: usize,
    /// Byte offset one past the value.
    pub end: usize,
    /// Whether the form warns about it ([`warns`]).
    pub warn: bool,
    /// Whether it grants access, so that a real one should be rotated now.
    pub credential: bool,
}

/// Scrub `text` with `policy` and describe each finding for the browser, in
/// input order, overlaps merged (the server's findings, one for one).
pub fn browser_findings(text: &str, policy: &Policy) -> Vec<BrowserFinding> {
    scrub(text, policy)
        .findings()
        .iter()
        .map(|f| BrowserFinding {
            kind: f.kind,
            label: f.kind.describe(),
            placeholder: policy.placeholder(f.kind).to_owned(),
            start: f.start,
            end: f.end,
            warn: warns(f.kind),
            credential: f.kind.category() == Category::Credential,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_sees_the_servers_findings() {
        let policy = Policy::default();
        let text =
            "Stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc and card 4242 4242 4242 4242, call Anna";
        let server = scrub(text, &policy);
        let browser = browser_findings(text, &policy);
        assert_eq!(browser.len(), server.findings().len());
        for (b, s) in browser.iter().zip(server.findings()) {
            assert_eq!((b.kind, b.start, b.end), (s.kind, s.start, s.end));
        }
        assert!(
            browser
                .iter()
                .any(|b| b.kind == FindingKind::Card && b.warn)
        );
    }

    #[test]
    fn warned_kinds_are_credentials_payments_and_exports() {
        assert!(warns(FindingKind::ApiKey));
        assert!(warns(FindingKind::Iban));
        assert!(warns(FindingKind::AccountExport));
        assert!(!warns(FindingKind::Email));
        assert!(!warns(FindingKind::Person));
    }
}
