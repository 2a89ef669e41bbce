//! Command-line interface: clap definitions and the batch commands.

mod admin;
mod chunks;
mod embed;
mod encoding;
mod held;
mod mail;
mod outbox;
mod redact;
mod rules;
mod serve;
mod train;
mod triage;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::pipeline::Pipeline;
use handoff_scrub::Policy;

/// handoff-gate: a privacy-redacting intake gateway for CRM handoff questions.
///
/// It strips API keys, passwords, card numbers, other people's contact details
/// and screenshots from what the public sends, before anyone stores or reads it.
#[derive(Debug, Parser)]
#[command(name = "handoff-gate", version, propagate_version = true)]
#[command(after_help = "Examples:
  handoff-gate serve
  echo 'my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc' | handoff-gate redact
  handoff-gate redact --jsonl < questions.jsonl > clean.jsonl
  handoff-gate rules check my-detectors.toml")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: the intake form at /, the JSON API under /api/v1/,
    /// the outbox that emails each intake to the consultant.
    #[command(after_help = "Examples:
  handoff-gate serve                      # 127.0.0.1:8080, data/handoff-gate.db, mail as .eml in data/mail
  handoff-gate serve --config /etc/handoff-gate.toml
  HANDOFF_GATE__SERVER__LISTEN=0.0.0.0:9000 handoff-gate serve
  handoff-gate serve --init               # start empty where the SQLite database was lost

Configuration: defaults, then the TOML file, then HANDOFF_GATE__SECTION__KEY
variables. See every key and its effective value with `handoff-gate config check`.")]
    Serve(serve::ServeArgs),
    /// The consultant's inbox: set its password.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check the configuration and print the effective values (secrets masked).
    #[command(subcommand)]
    Config(serve::ConfigCommand),
    /// The outbox: emails pending, sent and given up on (dead); requeue dead
    /// emails; purge the rows of sent ones. Works beside a running gateway.
    #[command(after_help = "Examples:
  handoff-gate outbox                          # counts, oldest pending age, dead emails and why
  handoff-gate outbox status --json            # the same for scripts and monitoring
  handoff-gate outbox requeue --all            # after fixing the relay or credentials
  handoff-gate outbox requeue 01a20c3c-77cb-7345-b77e-cb4bbf003987
  handoff-gate outbox purge --older-than-days 30
  handoff-gate outbox --config /etc/handoff-gate.toml status

The store is the one store.url names (run it where `serve` runs, with the same
configuration). Exit status: 0 on success; 1 if an id given to requeue was not
a dead email; 2 on a usage or store error.")]
    Outbox(outbox::OutboxArgs),
    /// Intakes held back from the mail (sent faster than a person fills a
    /// form): list them, release the ones a person wrote. Works beside a
    /// running gateway.
    #[command(after_help = "Examples:
  handoff-gate held                            # the held intakes, oldest first
  handoff-gate held list --json                # one JSON object per line
  handoff-gate held release 01a20c3c-77cb-7345-b77e-cb4bbf003987
  handoff-gate held release --all

A form sent sooner than limits.min_fill_seconds after it loaded may be a bot,
or a person who pasted and sent at once: it is stored, the person sees the
usual thank-you, and its email waits here (and in the inbox's Held tab) until
released. Unreleased, it is deleted after limits.held_days. Exit status: 0 on
success; 1 if an id given to release was not held; 2 on a usage or store error.")]
    Held(held::HeldArgs),
    /// Prove the mail setup: send one test message through the configured
    /// transport and print the relay's answer.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Scrub text from stdin: the clean text goes to stdout, a summary of what
    /// was removed (kinds and counts, never values) to stderr.
    #[command(after_help = "Examples:
  echo 'call Dana on +44 20 7123 4567' | handoff-gate redact
      → call Dana on [PHONE]            (stderr: removed 1 phone)
  handoff-gate redact --jsonl < in.jsonl > out.jsonl
      in:  {\"id\": 1, \"text\": \"card 4242 4242 4242 4242\"}
      out: {\"id\":1,\"text\":\"card [CARD]\",\"verdict\":\"redacted\",
            \"findings\":[{\"kind\":\"card\",\"start\":5,\"end\":24}]}

Input is UTF-8, or UTF-16 with a byte-order mark. Both modes use every core
and bounded memory: a long text is cut only where the pieces scrub exactly
as the whole does.

Exit status: 0 on success; 1 if any --jsonl line was malformed (each gets an
{\"line\": n, \"error\": \"…\"} record and processing goes on); 2 on a usage error;
3 when the input is not text (its line and byte are named; the scrubbed text
before it may have been written).")]
    Redact(redact::RedactArgs),
    /// Inspect and check detector tables.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Triage questions: name the broken handoff, choose the next action
    /// (no_fit, systems_audit, repair, checklist, nurture), explain why.
    #[command(after_help = "Examples:
  handoff-gate triage --jsonl < questions.jsonl > triaged.jsonl
      in:  {\"id\": 7, \"input\": \"stripe->kajabi buyers locked out\"}
      out: {\"id\":7,\"route\":\"systems_audit\",\"handoffs\":[\"payment_to_access\"],…}
  handoff-gate triage comments.csv -o triaged.csv
  handoff-gate triage export.csv --column textOriginal --format jsonl

Exit status: 0 on success; 1 if any --jsonl line was malformed (each gets an
{\"line\": n, \"error\": \"…\"} record and processing goes on); 2 on a usage error;
3 when the export cannot be read as a comments CSV (empty, no or several text
columns, ragged rows, non-UTF-8 bytes, a cell over 1 MiB).")]
    Triage(triage::TriageArgs),
    /// Train the router model on labelled intakes, measure it (k-fold and a
    /// held-out split) and write the model file `triage.model` loads.
    #[command(after_help = "Examples:
  handoff-gate train models/router/data/dev.jsonl                     # measure only
  handoff-gate train models/router/data/dev.jsonl my-corrections.jsonl -o my-router.model
  handoff-gate train models/router/data/dev.jsonl --char-ngrams 3-5   # compare a feature choice

Each line: {\"id\": \"c-17\", \"channel\": \"comment\", \"input\": \"stripe paid, no kajabi access\",
            \"expected\": {\"route\": \"repair\", \"handoffs\": [\"payment_to_access\"], \"privacy\": \"clean\"}}
The same data, options and seed always give the same model file, byte for byte.
Serve it with `triage.model = \"my-router.model\"` in the config, or
`handoff-gate triage --model my-router.model`.")]
    Train(train::TrainArgs),
    /// Check which sites may embed the form.
    #[command(subcommand)]
    Embed(embed::EmbedCommand),
}

/// Options shared by commands that scrub.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// Extra detectors (TOML, same shape as the embedded table; a row with an
    /// existing id replaces it). See `handoff-gate rules show`.
    #[arg(long, value_name = "FILE")]
    pub detectors: Option<PathBuf>,
}

impl PolicyArgs {
    /// The default policy, extended by `--detectors` when given (built as
    /// `serve` builds it from `scrub.detectors`).
    pub fn policy(&self) -> anyhow::Result<Policy> {
        Ok(Pipeline::load_policy(self.detectors.as_deref())?)
    }
}

/// Run `work` on a one-thread runtime against the existing store that the
/// configuration names (`held`, `outbox`), closing the store afterwards.
pub(crate) fn with_existing_store<T>(
    config: &crate::config::Config,
    work: impl AsyncFnOnce(&crate::store::Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = crate::store::Store::open_existing(&config.store.url).await?;
        let result = work(&store).await;
        store.close().await;
        result
    })
}

/// A file's name for messages and its text.
pub(crate) fn read_file(path: &std::path::Path) -> anyhow::Result<(String, String)> {
    let origin = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {origin}: {e}"))?;
    Ok((origin, text))
}

/// A JSON-lines input line that could not be used: its number and why
/// (never its content).
#[derive(serde::Serialize)]
pub(crate) struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub error: String,
}

/// The exit code after a JSON-lines run: 1 (with a note on stderr) if any
/// line was malformed.
pub(crate) fn jsonl_exit(malformed: usize) -> ExitCode {
    if malformed == 0 {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "handoff-gate: {malformed} malformed line(s); see the {{\"line\", \"error\"}} records"
    );
    ExitCode::from(1)
}

/// Run a parsed command line; the exit code says whether every input was usable.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::serve(&args),
        Command::Config(cmd) => serve::config(&cmd),
        Command::Admin(cmd) => admin::run(&cmd),
        Command::Outbox(args) => outbox::run(&args),
        Command::Held(args) => held::run(&args),
        Command::Mail(cmd) => mail::run(&cmd),
        Command::Redact(args) => redact::run(&args),
        Command::Rules(cmd) => rules::run(&cmd),
        Command::Triage(args) => triage::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Embed(cmd) => embed::run(&cmd),
    }
}
