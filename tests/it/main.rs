//! The integration test binary: everything in `tests/` runs through the real
//! library and the real `handoff-gate` binary.

mod cli_redact;
mod corpus;
mod kinds;
mod properties;
