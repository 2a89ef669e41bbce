//! `handoff-gate admin set-password`: hash the inbox password with argon2
//! and write the hash into the configuration (or print the line to add).
//! The password is read without echo from the terminal, or as one line
//! from standard input; it is never printed, logged or written anywhere.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{DEFAULT_FILE, ENV_PREFIX};
use crate::web::inbox::password;

/// `handoff-gate admin …`
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Set the inbox password: read it (twice, without echo, from the
    /// terminal; or one line from standard input), hash it with argon2id and
    /// write `inbox.password_hash` into the configuration file. Restart the
    /// gateway to use it: sessions signed in under the old password end.
    #[command(after_help = "Examples:
  handoff-gate admin set-password                          # asks twice, writes ./handoff-gate.toml
  handoff-gate admin set-password -c /etc/handoff-gate.toml
  handoff-gate admin set-password --print                  # prints the two lines to add yourself
  pass show gate/inbox | handoff-gate admin set-password   # one line from standard input

Where the file reads the hash from elsewhere (password_hash = { file = \"PATH\" }),
that file is written instead; for { env = \"VARIABLE\" } the line to set is printed.
The password needs at least 12 characters; a passphrase of four or more words is good.")]
    SetPassword(SetPasswordArgs),
}

/// Options of `admin set-password`.
#[derive(Debug, clap::Args)]
pub struct SetPasswordArgs {
    /// The configuration file to write (created, mode 0600, if missing).
    /// Without it, ./handoff-gate.toml.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the TOML lines to add instead of writing any file.
    #[arg(long)]
    print: bool,
}

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Run `admin`.
pub fn run(command: &AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::SetPassword(args) => set_password(args),
    }
}

fn set_password(args: &SetPasswordArgs) -> anyhow::Result<ExitCode> {
    let secret = read_password()?;
    let count = secret.chars().count();
    anyhow::ensure!(
        count >= MIN_PASSWORD_CHARS,
        "the password has {count} characters; use at least {MIN_PASSWORD_CHARS} (a passphrase of four or more words is good)"
    );
    let hash = password::hash(&secret);
    drop(secret);
    let line = format!("password_hash = \"{hash}\"");
    if args.print {
        println!("[inbox]\n{line}");
        return Ok(ExitCode::SUCCESS);
    }
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    match write_hash(&path, &hash)? {
        Written::Config => println!(
            "inbox.password_hash written to {}. Restart the gateway to use it: sessions signed in under the old password end.",
            path.display()
        ),
        Written::SecretFile(file) => println!(
            "the hash was written to {} (inbox.password_hash = {{ file = … }} in {}). Restart the gateway to use it.",
            file.display(),
            path.display()
        ),
        Written::Variable(variable) => println!(
            "{} reads inbox.password_hash from ${variable}: set it to\n{hash}\nand restart the gateway.",
            path.display()
        ),
    }
    let variable = format!("{ENV_PREFIX}INBOX__PASSWORD_HASH");
    if std::env::var_os(&variable).is_some() {
        eprintln!(
            "note: {variable} is set and takes precedence over the file: unset it or update it too"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// From the terminal: asked twice, without echo. Otherwise one line of
/// standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New inbox password: ")?;
        let again = rpassword::prompt_password("The same again: ")?;
        anyhow::ensure!(
            first == again,
            "the two entries differ; nothing was changed"
        );
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Where the hash went.
enum Written {
    /// Into the configuration file.
    Config,
    /// Into the file the configuration reads it from.
    SecretFile(PathBuf),
    /// Nowhere: the configuration reads it from this variable.
    Variable(String),
}

/// Set `[inbox] password_hash` in the TOML file at `path` (keeping its
/// comments and layout), or in the file it points to.
fn write_hash(path: &Path, hash: &str) -> anyhow::Result<Written> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let inbox = document
        .entry("inbox")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .with_context(|| format!("`inbox` in {} is not a table", path.display()))?;
    if let Some(source) = inbox.get("password_hash").and_then(|v| v.as_table_like()) {
        if let Some(file) = source.get("file").and_then(|v| v.as_str()) {
            let file = PathBuf::from(file);
            write_private(&file, &format!("{hash}\n"))?;
            return Ok(Written::SecretFile(file));
        }
        if let Some(variable) = source.get("env").and_then(|v| v.as_str()) {
            return Ok(Written::Variable(variable.to_owned()));
        }
    }
    inbox.insert("password_hash", toml_edit::value(hash));
    write_private(path, &document.to_string())?;
    Ok(Written::Config)
}

/// Replace `path` with `text` in one rename; a new file is created 0600,
/// an existing one keeps its permissions.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = || -> std::io::Result<()> {
        // Renaming onto a device or a pipe would replace it with a file.
        if std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file()) {
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut file = options.open(&partial)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&partial, metadata.permissions())?;
        }
        std::fs::rename(&partial, path)
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}
