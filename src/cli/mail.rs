//! `handoff-gate mail test`: send one message through the configured
//! transport (the SMTP relay, or the mail folder while `smtp.host` is
//! unset) and print what the relay answered, so a setup is proven before
//! the first person's question depends on it.

use std::path::PathBuf;
use std::process::ExitCode;

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;

use crate::config::Config;
use crate::deliver::{MailFolder, Mailer, Relay};

/// `handoff-gate mail …`
#[derive(Debug, clap::Subcommand)]
pub enum MailCommand {
    /// Send one test message through the configured transport and print the
    /// relay's answer (or the file written while smtp.host is unset).
    #[command(after_help = "Examples:
  handoff-gate mail test                          # to mail.to
  handoff-gate mail test --to me@mybiz.example    # to another address
  handoff-gate mail test -c /etc/handoff-gate.toml

Exit status: 0 when the relay took the message (or the file was written);
1 when it was refused or could not be sent (the reason is printed); 2 on a
usage or configuration error.")]
    Test(TestArgs),
}

/// Options of `mail test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The configuration file (TOML), as for `serve`.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Send to this address instead of mail.to.
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
}

/// Run `mail`.
pub fn run(command: &MailCommand) -> anyhow::Result<ExitCode> {
    let MailCommand::Test(args) = command;
    let config = Config::load(args.config.as_deref())?;
    let to_text = args.to.as_deref().unwrap_or(&config.mail.to);
    let to: Mailbox = to_text.parse().map_err(|e| {
        anyhow::anyhow!("`{to_text}` is not an address mail can go to ({e}); give --to NAME@DOMAIN")
    })?;
    let from: Mailbox = config.mail.from.parse().map_err(|e| {
        anyhow::anyhow!(
            "mail.from `{}` is not a valid mailbox: {e}",
            config.mail.from
        )
    })?;
    for warning in config.warnings() {
        let about_mail = warning.key.starts_with("mail.") || warning.key.starts_with("smtp.");
        let overridden = args.to.is_some() && warning.key == "mail.to";
        if about_mail && !overridden && !(warning.key == "smtp.host" && config.smtp.host.is_none())
        {
            eprintln!("warning: {}: {}", warning.key, warning.message);
        }
    }
    let message = test_message(&config, &from, &to)?;
    let transport = Mailer::describe(&config);
    println!("Sending a test message through {transport}");
    println!("  from: {from}");
    println!("  to:   {to}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sent = runtime.block_on(async {
        match &config.smtp.host {
            Some(host) => {
                let relay = Relay::new(&config.smtp, host)?;
                relay
                    .send_answered(message.envelope(), &message.formatted())
                    .await
                    .map(|answer| format!("The relay answered: {answer}"))
                    .map_err(anyhow::Error::msg)
            }
            None => {
                let folder = MailFolder::create(&config.mail.dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the mail folder {}: {e}", config.mail.dir.display())
                })?;
                let stem = format!("test-{}", uuid::Uuid::now_v7().simple());
                folder
                    .write_named(&stem, &message.formatted())
                    .await
                    .map(|path| {
                        format!(
                            "Written to {} (no relay is configured: set smtp.host, smtp.username and smtp.password to send real mail)",
                            path.display()
                        )
                    })
                    .map_err(|e| anyhow::anyhow!("cannot write the mail file: {e}"))
            }
        }
    });
    match sent {
        Ok(answer) => {
            println!("{answer}");
            if config.smtp.host.is_some() {
                println!(
                    "Look for \"handoff-gate test message\" in {}'s inbox (and its spam folder).",
                    to.email
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("handoff-gate: the test message was not sent: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The test message: plain text saying where it came from and what it proves.
fn test_message(config: &Config, from: &Mailbox, to: &Mailbox) -> anyhow::Result<Message> {
    let id = uuid::Uuid::now_v7();
    let body = format!(
        "This is a test message from handoff-gate (`handoff-gate mail test`).\n\n\
         It went through {}, from mail.from to {}.\n\
         Intakes will be mailed the same way to mail.to ({}).\n\n\
         Nothing was stored; no one else received it.\n",
        Mailer::describe(config),
        to.email,
        config.mail.to
    );
    Ok(Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject("handoff-gate test message")
        .message_id(Some(format!(
            "<test-{}@{}>",
            id.simple(),
            from.email.domain()
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?)
}
