//! # handoff-gate
//!
//! A privacy-redacting intake gateway for questions about broken CRM
//! handoffs. Every question, whichever way it arrives, goes through one
//! pipeline:
//!
//! ```text
//!  web / cli ──► intake ──► scrub ──► triage ──► store ──► deliver
//!  (this crate)  (handoff-intake,     (handoff-  (this crate: adapters)
//!                 handoff-scrub: pure) triage: pure)
//! ```
//!
//! The pure core lives in its own crates, which Cargo holds to their
//! boundaries (no web framework, database, runtime or mailer in them):
//!
//! * [`handoff_scrub`] finds private values (keys, passwords, cards, IBANs,
//!   other people's emails, phones and names, screenshots, pasted exports)
//!   and replaces them with typed placeholders, or rejects the text. It
//!   returns [`handoff_scrub::CleanText`], the only text type later stages
//!   accept.
//! * [`handoff_intake`] holds the safe intake fields; a
//!   [`handoff_intake::ScrubbedIntake`] is made only by scrubbing every
//!   free-text field.
//! * [`handoff_triage`] names the broken handoff, chooses the route and
//!   explains why (`docs/triage.md`).
//!
//! This crate is the application around them: one [`pipeline`] (parse,
//! scrub, triage) that every channel shares, the command line ([`cli`]), the
//! configuration ([`config`]), the HTTP server ([`web`]), the durable store
//! ([`store`]) and the outbox that mails each intake ([`deliver`]).
//!
//! ```
//! use handoff_scrub::{scrub, Policy};
//!
//! let out = scrub("my client jane@acme.test paid with 4242 4242 4242 4242", &Policy::default());
//! assert_eq!(out.text().as_str(), "my client [EMAIL] paid with [CARD]");
//! ```

pub mod cli;
pub mod config;
pub mod deliver;
pub mod metrics;
pub mod pipeline;
pub mod private_files;
pub mod store;
pub mod web;
