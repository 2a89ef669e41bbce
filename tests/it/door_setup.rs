//! Setup that tells the truth: `handoff-gate mail test` sends one message
//! through the configured transport (a real aiosmtpd relay, or the mail
//! folder) and prints the relay's answer; when the relay or PostgreSQL
//! cannot be used, at start or later, the message says the real cause
//! (refused connection, missing STARTTLS, a refused login or user, a
//! missing database), not a timeout.

use std::path::Path;
use std::process::Command;

use crate::support::{SmtpServer, free_port, skipped, smtp_available};

/// Run `handoff-gate ARGS` in `dir` with `env`: exit code, stdout, stderr.
fn gate(dir: &Path, args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The environment of a gateway that mails through plain SMTP on `port`.
fn smtp_env(port: u16, tls: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HANDOFF_GATE__SMTP__HOST", "127.0.0.1".to_owned()),
        ("HANDOFF_GATE__SMTP__PORT", port.to_string()),
        ("HANDOFF_GATE__SMTP__TLS", tls.to_owned()),
        ("HANDOFF_GATE__SMTP__TIMEOUT_SECONDS", "3".to_owned()),
        (
            "HANDOFF_GATE__MAIL__FROM",
            "Gate <gate@mybiz.example>".to_owned(),
        ),
        ("HANDOFF_GATE__MAIL__TO", "owner@mybiz.example".to_owned()),
    ]
}

#[test]
fn mail_test_sends_through_the_relay_and_prints_its_answer() {
    if !smtp_available("mail_test_sends_through_the_relay_and_prints_its_answer") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let relay = SmtpServer::start(port, dir.path());
    let env = smtp_env(port, "none");
    let (code, out, err) = gate(
        dir.path(),
        &["mail", "test", "--to", "me@elsewhere.example"],
        &env,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("SMTP 127.0.0.1:{port}")),
        "names the transport: {out}"
    );
    assert!(out.contains("The relay answered: 250"), "{out}");
    let messages = relay.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("To: me@elsewhere.example"),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains("Subject: handoff-gate test message"));
    // Without --to it goes to mail.to.
    let (code, out, _) = gate(dir.path(), &["mail", "test"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("owner@mybiz.example"), "{out}");
    assert_eq!(relay.messages().len(), 2);
}

#[test]
fn mail_test_says_why_the_relay_cannot_be_used() {
    if !smtp_available("mail_test_says_why_the_relay_cannot_be_used") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Nothing listens yet.
    let (code, _, err) = gate(dir.path(), &["mail", "test"], &smtp_env(port, "none"));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("cannot connect to 127.0.0.1:{port}"))
            && err.to_lowercase().contains("refused"),
        "{err}"
    );
    assert!(err.contains("smtp.host and smtp.port"), "{err}");
    // A relay without STARTTLS, asked for it.
    let _relay = SmtpServer::start(port, dir.path());
    let (code, _, err) = gate(dir.path(), &["mail", "test"], &smtp_env(port, "starttls"));
    assert_eq!(code, 1);
    assert!(err.contains("does not offer STARTTLS"), "{err}");
}

#[test]
fn mail_test_refuses_a_relay_certificate_it_cannot_trust_and_says_so() {
    if !smtp_available("mail_test_refuses_a_relay_certificate_it_cannot_trust_and_says_so") {
        return;
    }
    for (tls, smtps, says) in [
        ("starttls", false, "STARTTLS with 127.0.0.1"),
        ("tls", true, "the TLS connection to 127.0.0.1"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let relay = SmtpServer::start_self_signed(port, dir.path(), smtps);
        let (code, out, err) = gate(dir.path(), &["mail", "test"], &smtp_env(port, tls));
        assert_eq!(code, 1, "smtp.tls = {tls}: {out}{err}");
        assert!(err.contains(says), "smtp.tls = {tls}: {err}");
        assert!(
            err.contains("certificate") && err.contains("smtp.host"),
            "smtp.tls = {tls}: says the certificate is the cause and what to check: {err}"
        );
        assert!(relay.messages().is_empty(), "nothing went out unencrypted");
    }
}

#[test]
fn mail_test_without_a_relay_writes_the_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = gate(dir.path(), &["mail", "test"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Written to data/mail/test-"), "{out}");
    assert!(out.contains("set smtp.host"), "{out}");
    assert!(
        err.contains("mail.to") && err.contains("consultant@localhost"),
        "warns that mail.to is nobody's inbox: {err}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("data/mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("Subject: handoff-gate test message"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, _, err) = gate(dir.path(), &["mail", "test", "--to", "not an address"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not an address mail can go to"), "{err}");
}

#[test]
fn postgres_connection_errors_say_the_real_cause() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        skipped(
            "postgres_connection_errors_say_the_real_cause",
            "TEST_DATABASE_URL is not set",
            "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; .ci/run sets it",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let open = |url: String| {
        let (code, _, err) = gate(
            dir.path(),
            &["outbox"],
            &[("HANDOFF_GATE__STORE__URL", url)],
        );
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains("pool timed out"), "{err}");
        err
    };
    let port = free_port();
    let err = open(format!("postgres://postgres:hunter2@127.0.0.1:{port}/x"));
    assert!(
        err.contains(&format!("PostgreSQL is unreachable at 127.0.0.1:{port}"))
            && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "the password is masked: {err}");
    let err = open(format!("{base}/hg_no_such_database_here"));
    assert!(
        err.contains("the database hg_no_such_database_here does not exist")
            && err.contains("createdb"),
        "{err}"
    );
    let host = base.rsplit_once('@').map_or("127.0.0.1:5432", |(_, h)| h);
    let err = open(format!("postgres://nobody_here_at_all@{host}/postgres"));
    assert!(err.contains("refused user nobody_here_at_all"), "{err}");
}

#[test]
fn mail_test_says_when_the_relay_refuses_the_login_or_wants_one() {
    if !smtp_available("mail_test_says_when_the_relay_refuses_the_login_or_wants_one") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let relay = SmtpServer::start_with_login(port, dir.path(), "gate", "right-password");
    let mut env = smtp_env(port, "none");
    // No login configured: the relay refuses the mail and says why.
    let (code, _, err) = gate(dir.path(), &["mail", "test"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("set smtp.username and smtp.password"), "{err}");
    // A wrong password: the login is refused, and the password never printed.
    env.push(("HANDOFF_GATE__SMTP__USERNAME", "gate".to_owned()));
    env.push(("HANDOFF_GATE__SMTP__PASSWORD", "wrong-password".to_owned()));
    let (code, out, err) = gate(dir.path(), &["mail", "test"], &env);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "127.0.0.1:{port} refused the login (check smtp.username and smtp.password)"
        )),
        "{err}"
    );
    assert!(!format!("{out}{err}").contains("wrong-password"));
    env.pop();
    env.push(("HANDOFF_GATE__SMTP__PASSWORD", "right-password".to_owned()));
    let (code, out, err) = gate(dir.path(), &["mail", "test"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("The relay answered: 250"), "{out}");
    assert_eq!(relay.messages().len(), 1);
}

#[test]
fn the_readme_keeps_the_smtp_password_out_of_the_toml_and_out_of_git() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n# handoff-gate.toml")
        .expect("the SMTP example");
    let example = &readme[start..start + readme[start..].find("\n```\n").unwrap()];
    let password = example
        .lines()
        .find(|l| l.trim_start().starts_with("password"))
        .expect("the example sets the password");
    assert!(
        password.contains("{ file = ") || password.contains("{ env = "),
        "the password comes from a file or the environment: {password}"
    );
    let ignore = readme
        .lines()
        .find(|l| l.contains(">> .gitignore"))
        .expect("the README adds the secrets to .gitignore");
    for path in ["/handoff-gate.toml", "/secrets/", "/data/"] {
        assert!(ignore.contains(path), "{path} in {ignore}");
    }
}

#[test]
fn a_skipped_test_says_so_in_the_test_output_and_fails_under_ci() {
    // This test binary again, running only a test that needs PostgreSQL,
    // without TEST_DATABASE_URL: outside CI it passes and says SKIPPED where
    // `cargo test` shows it; under CI=1 it fails.
    let run = |ci: bool| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "door_setup::postgres_connection_errors_say_the_real_cause",
            ])
            .env_remove("TEST_DATABASE_URL")
            .env_remove("CI");
        if ci {
            command.env("CI", "1");
        }
        let output = command.output().unwrap();
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    };
    let (passed, text) = run(false);
    assert!(passed, "{text}");
    assert!(
        text.contains(
            "SKIPPED postgres_connection_errors_say_the_real_cause: TEST_DATABASE_URL is not set"
        ),
        "{text}"
    );
    assert!(text.contains("1 passed"), "{text}");
    let (passed, text) = run(true);
    assert!(!passed, "under CI a skip fails: {text}");
    assert!(text.contains("CI must run it"), "{text}");
}

/// A TCP relay on a loopback port to `target`, until the returned handle
/// is dropped: then its port refuses connections and every relayed one closes.
async fn tcp_relay(target: String) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut links = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let target = target.clone();
            links.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, task)
}

#[tokio::test]
async fn postgres_lost_at_run_time_is_named_not_a_pool_timeout() {
    let Some(db) =
        crate::support::PgDatabase::create("postgres_lost_at_run_time_is_named_not_a_pool_timeout")
            .await
    else {
        return;
    };
    let authority = db.url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let (port, relay) = tcp_relay(authority.to_owned()).await;
    let url = db.url.replace(authority, &format!("127.0.0.1:{port}"));
    let store = handoff_gate::store::Store::open(&url).await.unwrap();
    store.readiness().await.unwrap();
    // The server goes away: connections close, new ones are refused.
    relay.abort();
    let _ = relay.await;
    let err = store.readiness().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("PostgreSQL is unreachable at 127.0.0.1:{port}"))
            && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("pool timed out"), "{err}");
    // A request's write, which the web layer logs, says the same.
    let (scrubbed, triage) =
        crate::support::reviewed(serde_json::json!({"message": "Stripe paid, no Kajabi access"}));
    let err = store
        .insert(&scrubbed, &triage, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("PostgreSQL is unreachable at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("pool timed out"), "{err}");
    store.close().await;
    db.drop_database().await;
}
