//! The real `handoff-gate` binary, run as a child process: `redact` in text
//! mode (scrubbed stdout, a summary of kinds and counts on stderr that never
//! holds a value), `redact --jsonl` (order kept, ids of every JSON type echoed,
//! malformed lines turned into `{"line", "error"}` records that never quote
//! the line, exit status 1 at the end), `rules check` on good and bad tables,
//! and `--help`; UTF-16 input is transcoded, other encodings refused.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const STRIPE_KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const EMAIL: &str = "jane.doe@example.org";
const PHONE: &str = "+44 20 7946 0958";
const CARD: &str = "4242 4242 4242 4242";

/// Run the binary with `args`, feeding `stdin`.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the handoff-gate binary starts");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).expect("stdin accepts the input");
    drop(input);
    child.wait_with_output().expect("the binary finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// A detector table in the test's scratch directory.
fn table_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).expect("the scratch directory is writable");
    path
}

#[test]
fn text_mode_scrubs_stdout_and_summarises_on_stderr() {
    let input = format!(
        "Kajabi → Stripe: my key {STRIPE_KEY} fails.\nCall Dana on {PHONE} or write to {EMAIL}.\nThe offer grants no access.\nTest card {CARD}.\n"
    );
    let out = run(&["redact"], input.as_bytes());
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        stdout,
        "Kajabi → Stripe: my key [API_KEY] fails.\nCall Dana on [PHONE] or write to [EMAIL].\nThe offer grants no access.\nTest card [CARD].\n"
    );
    for expected in [
        "redacted",
        "1 api_key",
        "1 card",
        "1 email",
        "1 phone",
        "rotate",
    ] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}: {stderr}"
        );
    }
    for secret in [STRIPE_KEY, EMAIL, PHONE, CARD] {
        assert!(
            !stderr.contains(secret),
            "stderr leaks {secret:?}: {stderr}"
        );
    }
}

/// Values written to slip past a scanner (full-width, with zero-width
/// characters inside, spelled out, dotted, split by a space) never reach the
/// output, and the text around them comes out byte for byte.
#[test]
fn obfuscated_values_never_reach_the_output() {
    let input = "Stripe key sk_live_4eC39Hq\u{200b}LyjWDarjtT1zdp7dc fails.\n\
        Write to jane.doe [at] example [dot] org or ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ.\n\
        カード番号は４２４２ ４２４２ ４２４２ ４２４２です。Card 4111.1111.1111.1111 too.\n\
        The other key: sk_live_4eC39HqLyjWD arjtT1zdp7dc\n";
    let out = run(&["redact"], input.as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "Stripe key [API_KEY] fails.\n\
        Write to [EMAIL] or [EMAIL].\n\
        カード番号は[CARD]です。Card [CARD] too.\n\
        The other key: [API_KEY]\n"
    );
    let stderr = text(&out.stderr);
    for expected in ["2 api_key", "2 card", "2 email"] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}: {stderr}"
        );
    }
}

#[test]
fn text_mode_passes_clean_text_through() {
    let input = "GHL workflow doesn't fire when the Typeform is submitted; order #10234, $1,497.\n";
    let out = run(&["redact"], input.as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), input);
    assert_eq!(text(&out.stderr).trim(), "clean: nothing removed");
}

#[test]
fn jsonl_keeps_order_echoes_ids_and_reports_findings() {
    let lines = [
        json!({"id": 1, "text": format!("card {CARD} declined in Kajabi")}),
        json!({"id": "q-2", "text": format!("email {EMAIL} twice")}),
        json!({"id": {"form": "contact", "n": [1, 2]}, "text": "Zapier step 3 fails"}),
        json!({"id": [7, "x"], "text": format!("key {STRIPE_KEY}")}),
        json!({"id": 2.5, "text": ""}),
        json!({"id": true, "text": "HubSpot"}),
        json!({"id": null, "text": "Calendly"}),
        json!({"text": "no id at all"}),
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = run(&["redact", "--jsonl"], input.as_bytes());
    assert!(out.status.success(), "{out:?}");
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    assert_eq!(records.len(), lines.len());
    for (record, line) in records.iter().zip(&lines) {
        assert_eq!(record["id"], line.get("id").cloned().unwrap_or(Value::Null));
    }
    assert_eq!(records[0]["text"], "card [CARD] declined in Kajabi");
    assert_eq!(records[0]["verdict"], "redacted");
    assert_eq!(
        records[0]["findings"],
        json!([{"kind": "card", "start": 5, "end": 24}])
    );
    assert_eq!(records[1]["text"], "email [EMAIL] twice");
    assert_eq!(records[2]["verdict"], "clean");
    assert_eq!(records[2]["findings"], json!([]));
    assert_eq!(records[3]["findings"][0]["kind"], "api_key");
    assert_eq!(records[4]["text"], "");
    let stdout = text(&out.stdout);
    for secret in [STRIPE_KEY, EMAIL, CARD] {
        assert!(!stdout.contains(secret), "stdout leaks {secret:?}");
    }
}

#[test]
fn jsonl_scrubs_the_ids_it_echoes() {
    let input = concat!(
        "{\"id\": \"jane@acme.test\", \"text\": \"hi\"}\n",
        "{\"id\": 4242424242424242, \"text\": \"hi\"}\n",
        "{\"id\": 17, \"text\": \"hi\"}\n",
    );
    let out = run(&["redact", "--jsonl"], input.as_bytes());
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["id"], "[EMAIL]");
    assert_eq!(lines[1]["id"], "[CARD]");
    assert_eq!(lines[2]["id"], 17);
    assert!(!text(&out.stdout).contains("jane@") && !text(&out.stdout).contains("4242"));
}

#[test]
fn jsonl_turns_bad_lines_into_error_records_and_goes_on() {
    let mut input: Vec<u8> = Vec::new();
    let mut push = |line: &[u8]| {
        input.extend_from_slice(line);
        input.push(b'\n');
    };
    push(format!(r#"{{"id": 1, "text": "key {STRIPE_KEY}"}}"#).as_bytes());
    push(format!(r#"{{"id": 2, "text": "my key is {STRIPE_KEY}"#).as_bytes()); // unterminated
    push(format!(r#"["{STRIPE_KEY}", "{EMAIL}"]"#).as_bytes()); // not an object
    push(format!(r#"{{"id": 4, "note": "{EMAIL}"}}"#).as_bytes()); // no text
    push(format!(r#"{{"id": 5, "text": {{"body": "{EMAIL}"}}}}"#).as_bytes()); // text not a string
    push(b""); // blank lines are skipped but counted
    let mut invalid_utf8 = br#"{"id": 7, "text": "caf"#.to_vec();
    invalid_utf8.extend_from_slice(b"\xff\xfe ");
    invalid_utf8.extend_from_slice(format!(r#"{STRIPE_KEY}"}}"#).as_bytes());
    push(&invalid_utf8);
    push(format!(r#"{{"id": 8, "text": "write to {EMAIL}"}}"#).as_bytes());

    let out = run(&["redact", "--jsonl"], &input);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = text(&out.stdout);
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    assert_eq!(records.len(), 7, "{stdout}");
    assert_eq!(records[0]["text"], "key [API_KEY]");
    for (record, line) in records[1..6].iter().zip([2, 3, 4, 5, 7]) {
        assert_eq!(record["line"], line, "{record}");
        let error = record["error"].as_str().expect("an error message");
        assert!(!error.is_empty());
        for fragment in [
            STRIPE_KEY,
            "sk_live",
            EMAIL,
            "example.org",
            "caf",
            "body",
            "note",
        ] {
            assert!(!error.contains(fragment), "error quotes the line: {error}");
        }
        assert!(record.get("text").is_none(), "{record}");
    }
    assert_eq!(records[6]["id"], 8);
    assert_eq!(records[6]["text"], "write to [EMAIL]");
    for secret in [STRIPE_KEY, EMAIL] {
        assert!(!stdout.contains(secret), "stdout leaks {secret:?}");
    }
    let stderr = text(&out.stderr);
    assert!(stderr.contains("5 malformed"), "{stderr}");
    assert!(
        !stderr.contains(STRIPE_KEY) && !stderr.contains(EMAIL),
        "{stderr}"
    );
}

#[test]
fn rules_check_accepts_a_good_table() {
    let path = table_file(
        "good-detectors.toml",
        r#"
[[detector]]
id = "acme_member_id"
kind = "ssn"
service = "Acme gym membership"
keywords = ["ACME-"]
pattern = '\bACME-[0-9]{6}\b'
confidence = 0.9
example = "member ACME-123456 can't book"
"#,
    );
    let out = run(&["rules", "check", path.to_str().expect("UTF-8 path")], b"");
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("1 detectors OK"), "{out:?}");
}

#[test]
fn rules_check_names_the_line_of_a_bad_field() {
    let path = table_file(
        "bad-field-detectors.toml",
        "[[detector]]\nid = \"typo\"\nkind = \"apikey\"\npattern = 'x'\nconfidence = 0.5\n",
    );
    let out = run(&["rules", "check", path.to_str().expect("UTF-8 path")], b"");
    assert!(!out.status.success(), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad-field-detectors.toml"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(
        stderr.contains("api_key"),
        "the message lists the valid kinds: {stderr}"
    );
}

#[test]
fn rules_check_names_the_detector_with_a_bad_regex() {
    let path = table_file(
        "bad-regex-detectors.toml",
        "[[detector]]\nid = \"unclosed_group\"\nkind = \"api_key\"\npattern = 'key-(abc'\nconfidence = 0.5\n",
    );
    let out = run(&["rules", "check", path.to_str().expect("UTF-8 path")], b"");
    assert!(!out.status.success(), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("detector `unclosed_group`"), "{stderr}");
    assert!(stderr.contains("invalid pattern"), "{stderr}");
}

#[test]
fn help_lists_the_subcommands() {
    let out = run(&["--help"], b"");
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    for word in ["redact", "rules", "Usage"] {
        assert!(stdout.contains(word), "--help lacks {word:?}: {stdout}");
    }
    let out = run(&["redact", "--help"], b"");
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("--jsonl"));
}

/// `… | head` closes the pipe early: the command ends quietly (status 0),
/// never with a panic or an error message.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let cases: [(&[&str], String); 3] = [
        (&["rules", "show-triage"], String::new()),
        (
            &["redact", "--jsonl"],
            "{\"id\": 1, \"text\": \"key sk_live_4eC39HqLyjWDarjtT1zdp7dc\"}\n".repeat(50_000),
        ),
        (
            &["triage", "--jsonl"],
            "{\"id\": 1, \"input\": \"stripe buyers locked out\"}\n".repeat(20_000),
        ),
    ];
    for (args, input) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        // stdout is dropped here: the pipe is closed with output still to come.
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(
            matches!(out.status.code(), Some(0) | None),
            "{args:?}: {:?} {err}",
            out.status
        );
    }
}

/// The examples in `--help` are copy-paste material: at 80 columns no line
/// is wrapped in the middle of a JSON example.
#[test]
fn help_examples_fit_80_columns_unbroken() {
    for args in [
        &["redact", "--help"][..],
        &["triage", "--help"],
        &["--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
            .args(args)
            .env("COLUMNS", "80")
            .output()
            .unwrap();
        let help = text(&out.stdout);
        for line in help.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: wrapped: {line}");
        }
        for json_line in help
            .lines()
            .filter(|l| l.trim_start().starts_with("out: {"))
        {
            let continued = json_line.ends_with(',');
            assert!(
                json_line.ends_with('}') || json_line.ends_with("…}") || continued,
                "{args:?}: {json_line}"
            );
        }
    }
    let redact = text(
        &Command::new(env!("CARGO_BIN_EXE_handoff-gate"))
            .args(["redact", "--help"])
            .env("COLUMNS", "80")
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        redact.contains(r#""findings":[{"kind":"card","start":5,"end":24}]}"#),
        "{redact}"
    );
}

/// `text` as UTF-16 little-endian with its byte-order mark.
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend(unit.to_le_bytes());
    }
    out
}

#[test]
fn utf16_input_is_transcoded_and_scrubbed_and_other_encodings_are_refused() {
    // Text mode: a UTF-16 paste (Windows Notepad, PowerShell) is scrubbed
    // like UTF-8, and the secret never passes through as interleaved bytes.
    let out = run(
        &["redact"],
        &utf16le(&format!("key {STRIPE_KEY}\nLara Ibañez, {EMAIL}\n")),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "key [API_KEY]\n[PERSON], [EMAIL]\n");

    // JSON lines in UTF-16, and a UTF-8 byte-order mark, read as UTF-8.
    let line = format!("{{\"id\": 1, \"text\": \"key {STRIPE_KEY}\"}}\n");
    for input in [
        utf16le(&line),
        [&b"\xEF\xBB\xBF"[..], line.as_bytes()].concat(),
    ] {
        let out = run(&["redact", "--jsonl"], &input);
        assert!(out.status.success(), "{out:?}");
        let record: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
        assert_eq!(record["text"], "key [API_KEY]");
    }

    // Latin-1: refused with the line and byte, exit code 3, nothing echoed.
    let mut latin1 = format!("fine\nkey {STRIPE_KEY} caf").into_bytes();
    latin1.push(0xE9);
    let out = run(&["redact"], &latin1);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 2, byte 45"), "{stderr}");
    assert!(!stderr.contains(STRIPE_KEY), "{stderr}");
}
