//! The integration test binary: everything in `tests/` runs through the real
//! library and the real `handoff-gate` binary.

mod corpus;
