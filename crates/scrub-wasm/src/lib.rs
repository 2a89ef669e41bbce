//! handoff-scrub in the browser: the scrubber crate compiled to
//! WebAssembly (`wasm32-unknown-unknown`, glue by `wasm-bindgen`) so that
//! the form's live warning finds exactly what the server will find.
//!
//! `scripts/build-wasm.sh` builds it into `assets/wasm/` (committed, so
//! running the gateway needs no wasm tooling; CI rebuilds it and fails when
//! the committed bytes are stale). `assets/detect.js` wraps it: it loads the
//! module once and turns the byte offsets below into string indexes.
//!
//! ```
//! let json = handoff_scrub_wasm::findings("my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc");
//! assert!(json.starts_with(r#"[{"kind":"api_key","label":"#));
//! ```

use handoff_scrub::{Policy, browser_findings};
use wasm_bindgen::prelude::wasm_bindgen;

/// Scrub `text` with the server's default policy and return its findings
/// as a JSON array of [`handoff_scrub::BrowserFinding`]
/// (`kind`, `label`, `placeholder`, UTF-8 byte `start` and `end`, `warn`,
/// `credential`).
#[wasm_bindgen]
pub fn findings(text: &str) -> String {
    serde_json::to_string(&browser_findings(text, &Policy::default()))
        .expect("findings serialize: plain strings, numbers and booleans")
}
