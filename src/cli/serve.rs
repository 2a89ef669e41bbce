//! `handoff-gate serve` and `handoff-gate config check`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, LogFormat};
use crate::deliver::Mailer;
use crate::pipeline::Pipeline;

/// Options of `serve` and `config check`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The configuration file (TOML). Without it, ./handoff-gate.toml is read
    /// if present; every key can also be set as HANDOFF_GATE__SECTION__KEY.
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Start with an empty store although the SQLite folder's marker says it
    /// held a database that is now missing (otherwise that is an error: a
    /// lost file or an unmounted volume would silently start empty).
    #[arg(long)]
    init: bool,
}

/// `handoff-gate config …`
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment), with
    /// secrets masked; report a bad value with its file and line or variable,
    /// and warn about settings that will lose mail (the defaults, example
    /// addresses, placeholder passwords).
    #[command(after_help = "Examples:
  handoff-gate config check
  handoff-gate config check -c /etc/handoff-gate.toml --strict   # warnings fail too

Exit status: 0 when the configuration can be used (warnings aside); 1 with
--strict when there are warnings; 2 when a value is wrong.")]
    Check(CheckArgs),
    /// List every key: its environment variable, type, default and meaning.
    #[command(after_help = "Examples:
  handoff-gate config keys                 # a table to read
  handoff-gate config keys --json          # for scripts: name, env, type, default, doc, secret
  handoff-gate config keys --markdown      # the README's reference table")]
    Keys(KeysArgs),
}

/// Options of `config check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The configuration to check.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Treat warnings (mail that would go nowhere) as failures: exit 1.
    #[arg(long)]
    pub strict: bool,
}

/// Options of `config keys`.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    /// Print a JSON array instead of a table.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the Markdown table the README carries.
    #[arg(long)]
    pub markdown: bool,
}

/// Start the gateway and serve until Ctrl-C.
pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.config.as_deref())?;
    // Lines still queued are written when this guard drops, at the end.
    let _log_writer = init_logging(config.log.format);
    if args.init && crate::store::forget_lost_database(&config.store.url)? {
        tracing::warn!("--init: the store's database was missing; starting with an empty one");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listen = config.server.listen;
        let mail = Mailer::describe(&config);
        let store = crate::config::redact_url(&config.store.url);
        let warnings = config.warnings();
        let app = crate::web::build_app(config).await?;
        eprintln!("handoff-gate listening on http://{}/", app.address());
        eprintln!("  store: {store}");
        eprintln!("  mail:  {mail}");
        for warning in &warnings {
            eprintln!("  warning: {}: {}", warning.key, warning.message);
        }
        eprintln!("  (configured listen address: {listen}; stop with Ctrl-C)");
        app.run().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `config check` and `config keys`
pub fn config(cmd: &ConfigCommand) -> anyhow::Result<ExitCode> {
    let check = match cmd {
        ConfigCommand::Check(check) => check,
        ConfigCommand::Keys(keys) => {
            if keys.json {
                writeln!(io::stdout(), "{:#}", crate::config::keys_json())?;
            } else if keys.markdown {
                write!(io::stdout(), "{}", crate::config::markdown_table())?;
            } else {
                for key in crate::config::KEYS {
                    writeln!(
                        io::stdout(),
                        "{:<26} {:<40} {}",
                        key.name,
                        key.env(),
                        key.doc
                    )?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let checked = Config::load(check.config.config.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            Pipeline::load(&config.pipeline_sources())?;
            Ok(config)
        });
    match checked {
        Ok(config) => {
            write!(io::stdout(), "{}", config.describe())?;
            let warnings = config.warnings();
            for warning in &warnings {
                eprintln!("warning: {}: {}", warning.key, warning.message);
            }
            match warnings.len() {
                0 => eprintln!("configuration OK"),
                n => eprintln!("configuration OK, with {n} warning(s)"),
            }
            Ok(if check.strict && !warnings.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            eprintln!("handoff-gate: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Logs to stderr, as JSON lines (each request's lines carry its
/// `request_id`) or text; `RUST_LOG` filters (default `info`). Handlers log
/// ids, routes, kinds and counts, never submitted text.
///
/// Request threads only queue their lines: one thread writes them to
/// stderr, so a slow terminal or log pipe never holds up a request. It
/// writes whatever is queued through one buffer and flushes once the queue
/// is empty: under load one `write` carries many lines, and no line waits
/// longer than the ones queued with it. If the queue fills (128,000 lines
/// behind), further lines are dropped rather than waited for.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let (writer, guard) =
        tracing_appender::non_blocking(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(!json && std::io::stderr().is_terminal());
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
    guard
}
