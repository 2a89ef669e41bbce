//! The integration test binary: everything in `tests/` runs through the real
//! library and the real `handoff-gate` binary.

mod browser;
mod browser_door;
mod browser_inbox;
mod cases;
mod cli_admin;
mod cli_outbox;
mod cli_redact;
mod cli_serve;
mod cli_triage;
mod corpus;
mod inbox_client;
mod inbox_train;
mod kinds;
mod pipeline;
mod properties;
mod replicas;
mod serve_api;
mod serve_delivery;
mod serve_door;
mod serve_durability;
mod serve_embed;
mod serve_form;
mod serve_guards;
mod serve_inbox;
mod serve_leaks;
mod serve_openapi;
mod serve_ops;
mod serve_slow_clients;
mod store_contract;
mod store_inbox;
mod support;
mod triage_accuracy;
mod triage_model;
mod triage_rules;
mod triage_train;
