//! `handoff-gate config check` and `serve --help` through the real binary.

use std::process::Command;

fn gate(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handoff-gate"));
    command.args(args).current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn config_check_prints_the_effective_values_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[smtp]\nhost = \"smtp.example.com\"\nusername = \"me\"\npassword = \"hunter2-secret\"\n",
    )
    .unwrap();
    let (code, out, err) = gate(
        dir.path(),
        &["config", "check"],
        &[
            ("HANDOFF_GATE__SERVER__LISTEN", "0.0.0.0:9000"),
            ("HANDOFF_GATE__ADMIN__TOKEN", "admin-secret"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("server.listen              = \"0.0.0.0:9000\""),
        "{out}"
    );
    assert!(
        out.contains("smtp.host                  = \"smtp.example.com\""),
        "{out}"
    );
    assert!(out.contains("store.url                  = \"sqlite://data/handoff-gate.db\""));
    assert!(
        out.contains("smtp.password              = [REDACTED]"),
        "{out}"
    );
    assert!(
        out.contains("admin.token                = [REDACTED]"),
        "{out}"
    );
    assert!(!out.contains("hunter2") && !out.contains("admin-secret"));
    assert!(err.contains("configuration OK"));
}

#[test]
fn a_bad_value_is_reported_with_file_line_and_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gate.toml");
    std::fs::write(
        &file,
        "retention_days = 30\n\n[smtp]\nhost = \"smtp.example.com\"\ntls = \"ssl\"\n",
    )
    .unwrap();
    let (code, _, err) = gate(
        dir.path(),
        &["config", "check", "--config", "gate.toml"],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("gate.toml:5: smtp.tls"), "{err}");
    assert!(err.contains("`starttls`, `tls`, `none`"), "{err}");

    std::fs::write(&file, "[mail]\nto = \"nobody\"\n").unwrap();
    let (code, _, err) = gate(dir.path(), &["config", "check", "-c", "gate.toml"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("gate.toml:2: mail.to is not an email address"),
        "{err}"
    );

    std::fs::write(&file, "[smtp]\npassword = 12345678\n").unwrap();
    let (_, _, err) = gate(dir.path(), &["config", "check", "-c", "gate.toml"], &[]);
    assert!(
        err.contains("gate.toml:2: smtp.password: expected the secret as a string"),
        "{err}"
    );
    assert!(
        !err.contains("12345678"),
        "a secret is never repeated: {err}"
    );

    let (code, _, err) = gate(
        dir.path(),
        &["config", "check"],
        &[("HANDOFF_GATE__LIMITS__BODY_BYTES", "lots")],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("environment HANDOFF_GATE__LIMITS__BODY_BYTES"),
        "{err}"
    );

    let (code, _, err) = gate(dir.path(), &["config", "check", "-c", "missing.toml"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml: no such file"), "{err}");
}

#[test]
fn serve_help_teaches_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = gate(dir.path(), &["serve", "--help"], &[]);
    assert_eq!(code, 0);
    for needle in [
        "--config",
        "HANDOFF_GATE__SERVER__LISTEN=0.0.0.0:9000",
        "config check",
        "data/mail",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
}

#[test]
fn the_readme_reference_table_is_the_declared_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (code, table, err) = gate(dir.path(), &["config", "keys", "--markdown"], &[]);
    assert_eq!(code, 0, "{err}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- config-keys:start")
        .expect("README has the config-keys markers");
    let body = &readme[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("<!-- config-keys:end -->").unwrap()];
    assert_eq!(
        body, table,
        "README's configuration table drifted: paste `handoff-gate config keys --markdown` between its markers"
    );
}

#[test]
fn config_keys_json_lists_every_key_with_its_environment_name_and_secrecy() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = gate(dir.path(), &["config", "keys", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let keys: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let tls = keys.iter().find(|k| k["name"] == "smtp.tls").unwrap();
    assert_eq!(tls["env"], "HANDOFF_GATE__SMTP__TLS");
    assert_eq!(tls["default"], "`starttls`");
    assert_eq!(tls["secret"], false);
    let password = keys.iter().find(|k| k["name"] == "smtp.password").unwrap();
    assert_eq!(password["secret"], true);
    assert_eq!(password["type"], "Option<Secret>");
}

#[test]
fn secrets_can_live_in_a_file_or_another_variable_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smtp-password"), "hunter2-from-a-file\n").unwrap();
    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[smtp]\nhost = \"smtp.relay.test\"\nusername = \"me\"\npassword = { file = \"smtp-password\" }\n",
    )
    .unwrap();
    let (code, out, err) = gate(dir.path(), &["config", "check"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("smtp.password              = [REDACTED]"),
        "{out}"
    );
    assert!(!out.contains("hunter2") && !err.contains("hunter2"));

    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[smtp]\nhost = \"smtp.relay.test\"\nusername = \"me\"\n",
    )
    .unwrap();
    let (code, out, err) = gate(
        dir.path(),
        &["config", "check"],
        &[
            ("HANDOFF_GATE__SMTP__PASSWORD__ENV", "MY_RELAY_PASSWORD"),
            ("MY_RELAY_PASSWORD", "hunter2-env"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("hunter2") && !err.contains("hunter2"));

    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[smtp]\nhost = \"smtp.relay.test\"\nusername = \"me\"\npassword = { file = \"missing\" }\n",
    )
    .unwrap();
    let (code, _, err) = gate(dir.path(), &["config", "check"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("handoff-gate.toml:4") && err.contains("cannot read missing"),
        "{err}"
    );
    // A wrong value is not repeated, even as a number.
    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[smtp]\nhost = \"smtp.relay.test\"\nusername = \"me\"\npassword = 98765432123\n",
    )
    .unwrap();
    let (code, _, err) = gate(dir.path(), &["config", "check"], &[]);
    assert_eq!(code, 2);
    assert!(!err.contains("98765432123"), "{err}");
}

#[test]
fn config_check_warns_when_mail_would_go_nowhere_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = gate(dir.path(), &["config", "check"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: mail.to:") && err.contains("consultant@localhost"),
        "{err}"
    );
    assert!(err.contains("warning: smtp.host:"), "{err}");
    assert!(err.contains("with 2 warning(s)"), "{err}");
    let (code, _, _) = gate(dir.path(), &["config", "check", "--strict"], &[]);
    assert_eq!(code, 1);
    std::fs::write(
        dir.path().join("handoff-gate.toml"),
        "[mail]\nto = \"alex@alexconsults.com\"\nfrom = \"Intake <intake@alexconsults.com>\"\n[smtp]\nhost = \"smtp.postmarkapp.com\"\nusername = \"3f1c0a9e\"\npassword = \"9b2e77d1c4aa\"\n",
    )
    .unwrap();
    let (code, _, err) = gate(dir.path(), &["config", "check", "--strict"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("configuration OK") && !err.contains("warning"),
        "{err}"
    );
}

#[test]
fn store_urls_with_a_password_parameter_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = gate(
        dir.path(),
        &["config", "check"],
        &[(
            "HANDOFF_GATE__STORE__URL",
            "postgres://gate@db.internal/hg?password=pg-s3cret&sslmode=require",
        )],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("password=[REDACTED]&sslmode=require"), "{out}");
    assert!(!out.contains("pg-s3cret") && !err.contains("pg-s3cret"));
}

#[test]
fn webhook_endpoints_are_checked_and_their_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gate.toml");
    let good = "[[webhooks.endpoints]]\nname = \"zapier\"\nurl = \"https://hooks.zapier.example/catch/1\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    std::fs::write(&file, good).unwrap();
    let (code, out, err) = gate(dir.path(), &["config", "check", "-c", "gate.toml"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("zapier") && out.contains("[REDACTED]"),
        "{out}"
    );
    assert!(!out.contains("MfKQ9r8G"), "the secret is masked: {out}");

    for (toml, expected) in [
        (
            good.replace(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
            "gate.toml:4: webhooks.endpoints `zapier`: a webhook secret starts with `whsec_`",
        ),
        (
            good.replace("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "c2hvcnQ="),
            "holds 24 to 64 bytes (this one 5)",
        ),
        (
            good.replace("https://", "ftp://"),
            "gate.toml:3: webhooks.endpoints `zapier`: the url must be an http(s) address",
        ),
        (
            format!("{good}{good}"),
            "gate.toml:6: webhooks.endpoints the name \"zapier\" is used twice",
        ),
        (
            good.replace("name = \"zapier\"", "name = \"my hook\""),
            "gate.toml:2: webhooks.endpoints the name \"my hook\" must be letters, digits",
        ),
    ] {
        std::fs::write(&file, &toml).unwrap();
        let (code, _, err) = gate(dir.path(), &["config", "check", "-c", "gate.toml"], &[]);
        assert_eq!(code, 2, "{toml}");
        assert!(err.contains(expected), "{expected} in {err}");
        assert!(
            !err.contains("MfKQ9r8G") && !err.contains("c2hvcnQ"),
            "{err}"
        );
    }
}

#[test]
fn webhook_endpoints_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints =
        "[{name=crm, url=\"https://hooks.crm.example/in\", secret={env=CRM_HOOK_SECRET}}]";
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (code, out, err) = gate(
        dir.path(),
        &["config", "check"],
        &[
            ("HANDOFF_GATE__WEBHOOKS__ENDPOINTS", endpoints),
            ("CRM_HOOK_SECRET", secret),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("name = \"crm\"") && out.contains("https://hooks.crm.example/in"),
        "{out}"
    );
    assert!(!out.contains("MfKQ9r8G"), "the secret is masked: {out}");
    // A bad value names the variable that set it.
    let (code, _, err) = gate(
        dir.path(),
        &["config", "check"],
        &[
            (
                "HANDOFF_GATE__WEBHOOKS__ENDPOINTS",
                &endpoints.replace("https://", "ftp://"),
            ),
            ("CRM_HOOK_SECRET", secret),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("environment HANDOFF_GATE__WEBHOOKS__ENDPOINTS: webhooks.endpoints `crm`: the url must be an http(s) address"),
        "{err}"
    );
    assert!(!err.contains("MfKQ9r8G"), "{err}");
}
