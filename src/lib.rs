//! # handoff-gate
//!
//! A privacy-redacting intake gateway for questions about broken CRM
//! handoffs. Every question, whichever way it arrives, goes through one
//! pipeline:
//!
//! ```text
//! web / cli ──► scrub ──► triage ──► store ──► deliver
//!              (pure)     (pure)    (adapter)  (adapter)
//! ```
//!
//! * [`scrub`] finds private values (keys, passwords, cards, IBANs, other
//!   people's emails, phones and names, screenshots, pasted exports) and
//!   replaces them with typed placeholders, or rejects the text. It returns
//!   [`scrub::CleanText`], the only text type later stages accept.
//! * [`intake`] holds the safe intake fields; a [`intake::ScrubbedIntake`] is
//!   made only by scrubbing every free-text field.
//! * [`triage`] names the broken handoff, chooses the route and explains why,
//!   from rules kept as data (`docs/triage.md`).
//!
//! ```
//! use handoff_gate::scrub::{scrub, Policy};
//!
//! let out = scrub("my client jane@acme.test paid with 4242 4242 4242 4242", &Policy::default());
//! assert_eq!(out.text().as_str(), "my client [EMAIL] paid with [CARD]");
//! ```

pub mod cli;
pub mod config;
pub mod deliver;
pub mod intake;
pub mod metrics;
pub mod scrub;
pub mod store;
pub mod triage;
pub mod web;
