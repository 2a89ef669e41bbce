//! `handoff-gate admin set-password` through the real binary: the hash goes
//! into the configuration (its comments kept, a new file 0600) or the file
//! it names, the password is never printed, and a short one is refused.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use handoff_gate::config::Config;
use handoff_gate::web::inbox::password;

fn set_password(dir: &std::path::Path, args: &[&str], typed: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args(["admin", "set-password"])
        .args(args)
        .current_dir(dir)
        .env_remove("HANDOFF_GATE__INBOX__PASSWORD_HASH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn set_password_writes_the_hash_into_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "tangerine rocket harbour violin";

    // No file yet: one is created, readable by its owner only.
    let output = set_password(dir.path(), &[], &format!("{secret}\n"));
    assert!(output.status.success(), "{}", printed(&output));
    assert!(!printed(&output).contains(secret), "never echoed");
    let file = dir.path().join("handoff-gate.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let config = Config::load(Some(&file)).unwrap();
    let hash = config.inbox.password_hash.expect("written");
    assert!(password::verify(hash.expose(), secret));

    // An existing file keeps its comments and other keys; the hash is replaced.
    std::fs::write(
        &file,
        "# my gateway\n[mail]\nto = \"me@mybiz.test\" # where intakes go\n\n[inbox]\nsession_idle_minutes = 45\npassword_hash = \"$argon2id$old\"\n",
    )
    .unwrap();
    let output = set_password(dir.path(), &["--config", "handoff-gate.toml"], secret);
    assert!(output.status.success(), "{}", printed(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# my gateway") && text.contains("# where intakes go"),
        "{text}"
    );
    assert!(!text.contains("$argon2id$old"));
    let config = Config::load(Some(&file)).unwrap();
    assert_eq!(config.inbox.session_idle_minutes, 45);
    assert!(password::verify(
        config.inbox.password_hash.unwrap().expose(),
        secret
    ));

    // Where the configuration reads the hash from a file, that file is written.
    std::fs::write(
        &file,
        "[inbox]\npassword_hash = { file = \"inbox.hash\" }\n",
    )
    .unwrap();
    let output = set_password(dir.path(), &[], secret);
    assert!(output.status.success(), "{}", printed(&output));
    let stored = std::fs::read_to_string(dir.path().join("inbox.hash")).unwrap();
    assert!(password::verify(stored.trim(), secret));

    // --print writes nothing; a short password is refused.
    let output = set_password(dir.path(), &["--print"], secret);
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.starts_with("[inbox]\npassword_hash = \"$argon2id$"),
        "{shown}"
    );
    assert!(!printed(&output).contains(secret));
    let output = set_password(dir.path(), &[], "short one\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        printed(&output).contains("at least 12"),
        "{}",
        printed(&output)
    );
}

#[test]
fn a_malformed_password_hash_is_a_config_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gate.toml");
    std::fs::write(&file, "[inbox]\n\npassword_hash = \"hunter2\"\n").unwrap();
    let error = Config::load(Some(&file)).unwrap_err().to_string();
    assert!(error.contains("gate.toml:3"), "{error}");
    assert!(
        error.contains("admin set-password") && !error.contains("hunter2"),
        "{error}"
    );
}
