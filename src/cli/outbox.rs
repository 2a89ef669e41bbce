//! `handoff-gate outbox`: what waits to be mailed and what was given up on;
//! requeue dead emails; purge the rows of sent ones. It opens the store
//! that `store.url` names, beside a running gateway if there is one.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::store::{IntakeId, Requeue, Store, now_ms};

/// Options of `outbox`.
#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// The configuration file (TOML), as for `serve`: the store is `store.url`.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to do; without one, `status`.
    #[command(subcommand)]
    command: Option<OutboxCommand>,
}

/// `handoff-gate outbox …`
#[derive(Debug, clap::Subcommand)]
enum OutboxCommand {
    /// Emails pending, sent and dead, the age of the oldest pending one, and
    /// the dead ones with their last error (oldest first).
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Dead emails to list.
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: u32,
    },
    /// Make dead emails pending again with their attempts reset, once the
    /// cause (see `status`) is fixed: every dead email, or the intake ids given.
    Requeue {
        /// Every dead email.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Intake ids (as in the email's Message-ID <intake-ID@…>).
        #[arg(value_name = "ID", required_unless_present = "all")]
        ids: Vec<String>,
    },
    /// Delete the outbox rows of emails sent more than `--older-than-days`
    /// (default `retention_days`) ago. Their intakes stay until retention
    /// deletes them.
    Purge {
        /// Age in days; default `retention_days`.
        #[arg(long, value_name = "DAYS")]
        older_than_days: Option<u32>,
    },
}

/// Run `outbox`.
pub fn run(args: &OutboxArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    super::with_existing_store(&config, async |store| {
        let command = args.command.as_ref().unwrap_or(&OutboxCommand::Status {
            json: false,
            limit: 20,
        });
        let code = match command {
            OutboxCommand::Status { json, limit } => status(store, *json, *limit).await?,
            OutboxCommand::Requeue { all: true, .. } => {
                let n = store.requeue(Requeue::All).await?;
                println!(
                    "requeued {n} dead email(s); a running gateway sends them within delivery.poll_ms"
                );
                ExitCode::SUCCESS
            }
            OutboxCommand::Requeue { ids, .. } => requeue(store, ids).await?,
            OutboxCommand::Purge { older_than_days } => {
                let days = older_than_days.unwrap_or(config.retention_days);
                let cutoff = now_ms() - i64::from(days) * 86_400_000;
                let n = store.purge_sent_before(cutoff).await?;
                println!("purged the rows of {n} email(s) sent more than {days} day(s) ago");
                ExitCode::SUCCESS
            }
        };
        Ok(code)
    })
}

async fn status(store: &Store, json: bool, limit: u32) -> anyhow::Result<ExitCode> {
    let states = store.outbox_states().await?;
    let lag = store.outbox_lag().await?;
    let dead = store.dead_emails(limit).await?;
    let count = |state: &str| states.get(state).copied().unwrap_or(0);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "pending": lag.pending,
                "sent": count("sent"),
                "dead": lag.dead,
                "held": count("held"),
                "oldest_pending_seconds": lag.oldest_pending_seconds,
                "dead_emails": dead,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "pending  {:>8}   (oldest waiting {})",
        lag.pending,
        humantime::format_duration(std::time::Duration::from_secs(lag.oldest_pending_seconds))
    );
    println!("sent     {:>8}", count("sent"));
    println!("dead     {:>8}", lag.dead);
    if count("held") > 0 {
        println!(
            "held     {:>8}   (sent faster than a person types: see `handoff-gate held`)",
            count("held")
        );
    }
    if dead.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!("\ndead emails, oldest first:");
    for email in &dead {
        let received = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(u64::try_from(email.created_at_ms).unwrap_or(0)),
        );
        println!(
            "  {}  received {received}  {} attempt(s)  last error: {}",
            email.intake_id,
            email.attempts,
            email.last_error.as_deref().unwrap_or("(none)")
        );
    }
    if lag.dead > u64::from(limit) {
        println!("  … and {} more (--limit)", lag.dead - u64::from(limit));
    }
    println!("\nFix the cause, then: handoff-gate outbox requeue --all   (or requeue ID …)");
    Ok(ExitCode::SUCCESS)
}

/// Requeue the given ids; exit 1 if any was not a dead email.
async fn requeue(store: &Store, ids: &[String]) -> anyhow::Result<ExitCode> {
    let mut missed = 0;
    for text in ids {
        let Some(id) = IntakeId::parse(text) else {
            eprintln!("handoff-gate: `{text}` is not an intake id (a UUID)");
            missed += 1;
            continue;
        };
        if store.requeue(Requeue::One(&id)).await? == 1 {
            println!("requeued {id}");
        } else {
            eprintln!("handoff-gate: {id} is not a dead email (sent, pending, or no such intake)");
            missed += 1;
        }
    }
    Ok(if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
