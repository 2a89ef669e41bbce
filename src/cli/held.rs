//! `handoff-gate held`: intakes held back from the mail because they were
//! sent faster than a person fills a form (`limits.min_fill_seconds`). List
//! them to judge, release the ones a person wrote. It opens the store that
//! `store.url` names, beside a running gateway if there is one.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::store::{IntakeId, IntakeRecord, Store};
use crate::web::rfc3339;
use handoff_intake::IntakeField;

/// Options of `held`.
#[derive(Debug, clap::Args)]
pub struct HeldArgs {
    /// The configuration file (TOML), as for `serve`: the store is `store.url`.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to do; without one, `list`.
    #[command(subcommand)]
    command: Option<HeldCommand>,
}

/// `handoff-gate held …`
#[derive(Debug, clap::Subcommand)]
enum HeldCommand {
    /// The held intakes, oldest first: id, when, channel, route and the
    /// start of the (scrubbed) question.
    List {
        /// Print one JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// How many to list.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
    },
    /// Release held intakes to the mail: their emails go out like any
    /// other (a running gateway sends them within delivery.poll_ms).
    Release {
        /// Every held intake.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Intake ids, as `list` prints them.
        #[arg(value_name = "ID", required_unless_present = "all")]
        ids: Vec<String>,
    },
}

/// Run `held`.
pub fn run(args: &HeldArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    super::with_existing_store(&config, async |store| {
        let command = args.command.as_ref().unwrap_or(&HeldCommand::List {
            json: false,
            limit: 50,
        });
        let code = match command {
            HeldCommand::List { json, limit } => list(store, &config, *json, *limit).await?,
            HeldCommand::Release { all: true, .. } => {
                let mut released = 0;
                for record in store.held(u32::MAX).await? {
                    released += u32::from(store.release_held(&record.id).await?);
                }
                println!(
                    "released {released} held intake(s); a running gateway mails them within delivery.poll_ms"
                );
                ExitCode::SUCCESS
            }
            HeldCommand::Release { ids, .. } => release(store, ids).await?,
        };
        Ok(code)
    })
}

/// The first line of the question, cut to `width` characters.
fn excerpt(record: &IntakeRecord, width: usize) -> String {
    let message = record
        .field(IntakeField::Message)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if message.chars().count() <= width {
        return message;
    }
    let cut: String = message.chars().take(width - 1).collect();
    format!("{cut}…")
}

async fn list(store: &Store, config: &Config, json: bool, limit: u32) -> anyhow::Result<ExitCode> {
    let total = store.held_count().await?;
    let held = store.held(limit).await?;
    if json {
        for record in &held {
            println!(
                "{}",
                serde_json::json!({
                    "id": record.id,
                    "received_at": rfc3339(record.created_at_ms),
                    "channel": record.channel.as_str(),
                    "route": record.route,
                    "message": record.field(IntakeField::Message),
                })
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if held.is_empty() {
        println!("no intake is held");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{total} intake(s) held from the mail: sent sooner than limits.min_fill_seconds ({} s) after the form loaded. Oldest first:\n",
        config.limits.min_fill_seconds
    );
    for record in &held {
        println!(
            "  {}  {}  {:<5}  {:<13}  {}",
            record.id,
            rfc3339(record.created_at_ms),
            record.channel.as_str(),
            record.route.as_str(),
            excerpt(record, 60)
        );
    }
    if total > u64::from(limit) {
        println!("  … and {} more (--limit)", total - u64::from(limit));
    }
    println!(
        "\nRelease those a person wrote: handoff-gate held release ID …   (or --all)\nUnreleased, they are deleted after limits.held_days ({} days).",
        config.limits.held_days
    );
    Ok(ExitCode::SUCCESS)
}

/// Release the given ids; exit 1 if any was not held.
async fn release(store: &Store, ids: &[String]) -> anyhow::Result<ExitCode> {
    let mut missed = 0;
    for text in ids {
        let Some(id) = IntakeId::parse(text) else {
            eprintln!("handoff-gate: `{text}` is not an intake id (a UUID)");
            missed += 1;
            continue;
        };
        if store.release_held(&id).await? {
            println!("released {id}: its email is on its way");
        } else {
            eprintln!("handoff-gate: {id} is not held (released already, erased, or never held)");
            missed += 1;
        }
    }
    Ok(if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
