//! Unit tests of the scrubber's contract; per-kind cases live in `tests/`.

use super::*;

fn run(text: &str) -> Scrubbed {
    scrub(text, &Policy::default())
}

#[test]
fn clean_text_is_returned_unchanged() {
    let text =
        "GHL workflow doesn't fire when the Typeform is submitted; the tag never gets added.";
    let out = run(text);
    assert_eq!(out.text().as_str(), text);
    assert_eq!(out.verdict(), &Verdict::Clean);
    assert!(out.findings().is_empty());
}

#[test]
fn text_outside_findings_is_kept_byte_for_byte() {
    let text = "Ünïcödé  spacing\tkept — key sk_live_4eC39HqLyjWDarjtT1zdp7dc, then more… ";
    let out = run(text);
    assert_eq!(
        out.text().as_str(),
        "Ünïcödé  spacing\tkept — key [API_KEY], then more… "
    );
}

#[test]
fn findings_hold_spans_not_values() {
    let text = "email bob@example.org now";
    let out = run(text);
    let f = &out.findings()[0];
    assert_eq!(f.kind, FindingKind::Email);
    assert_eq!(&text[f.start..f.end], "bob@example.org");
    let debug = format!("{:?}", out.findings());
    assert!(!debug.contains("bob@example.org"));
}

#[test]
fn overlapping_findings_merge_into_the_longest() {
    let out = run("db at postgres://app:S3cretPass@db.example.org/app ok");
    assert_eq!(out.findings().len(), 1, "{:?}", out.findings());
    assert_eq!(out.findings()[0].kind, FindingKind::AuthUrl);
    assert_eq!(out.text().as_str(), "db at [AUTH_URL]/app ok");
}

#[test]
fn every_default_detector_finds_its_own_example() {
    let policy = Policy::default();
    let missing: Vec<String> = examples_not_found(&policy)
        .iter()
        .map(|d| format!("`{}` ({})", d.id, d.kind))
        .collect();
    assert!(
        missing.is_empty(),
        "examples not found: {}",
        missing.join(", ")
    );
}

#[test]
fn account_export_rejects_and_reason_says_why() {
    let text = "name,email,phone\nAnn Lee,ann@example.org,+1 415 555 0101\nBo Chan,bo@example.org,+1 415 555 0102\nCy Diaz,cy@example.org,+1 415 555 0103\n";
    let out = run(text);
    let Verdict::Rejected { reasons } = out.verdict() else {
        panic!("expected rejection, got {:?}", out.verdict());
    };
    assert_eq!(reasons[0].kind, FindingKind::AccountExport);
    assert!(reasons[0].to_string().contains("customer records"));
    assert!(!out.text().as_str().contains("ann@example.org"));
}

#[test]
fn policy_can_reject_a_kind_and_rename_a_placeholder() {
    let policy = Policy::default()
        .with_action(FindingKind::Card, Action::Reject)
        .with_placeholder(FindingKind::Card, "[CARD_NUMBER]")
        .unwrap();
    let out = scrub("card 4242 4242 4242 4242", &policy);
    assert_eq!(out.text().as_str(), "card [CARD_NUMBER]");
    assert!(matches!(out.verdict(), Verdict::Rejected { .. }));
    // Only what the scrubber itself recognises as a placeholder is allowed,
    // so scrubbed text always scrubs to itself.
    for bad in ["card", "[X]", "[CARD];", "[card]", "[_CARD]"] {
        assert!(
            Policy::default()
                .with_placeholder(FindingKind::Card, bad)
                .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn extra_detectors_extend_the_table() {
    let extra = r#"
[[detector]]
id = "acme_member_id"
kind = "ssn"
keywords = ["ACME-"]
pattern = 'ACME-[0-9]{6}'
confidence = 0.9
"#;
    let policy = Policy::default()
        .with_extra_detectors("extra.toml", extra)
        .unwrap();
    assert_eq!(scrub("id ACME-123456", &policy).text().as_str(), "id [SSN]");
}

#[test]
fn scrubbed_text_scrubs_to_itself() {
    let once = run("password: hunter2!xyz, key sk_live_4eC39HqLyjWDarjtT1zdp7dc, me@x.org");
    let twice = run(once.text().as_str());
    assert_eq!(twice.text(), once.text());
    assert!(twice.findings().is_empty(), "{:?}", twice.findings());
}

#[test]
fn json_ids_are_scrubbed_whatever_their_type() {
    use serde_json::json;
    let policy = Policy::default();
    assert_eq!(
        super::scrub_json(json!("jane@acme.test"), &policy),
        json!("[EMAIL]")
    );
    assert_eq!(
        super::scrub_json(json!(4242424242424242u64), &policy),
        json!("[CARD]")
    );
    assert_eq!(super::scrub_json(json!(7), &policy), json!(7));
    assert_eq!(
        super::scrub_json(json!({"row": 3, "who": ["ok", "bob@x.test"]}), &policy),
        json!({"row": 3, "who": ["ok", "[EMAIL]"]})
    );
}

#[test]
fn a_long_token_after_a_key_cue_goes_whole_and_long_quoted_prose_stays() {
    let token: String = "aB3dE5gH7j".repeat(30);
    let out = run(&format!("the api key is {token} and it fails"));
    assert_eq!(out.text().as_str(), "the api key is [API_KEY] and it fails");

    let prose = format!(
        "config: \"{}\"",
        "we send the welcome email after the tag ".repeat(6)
    );
    assert_eq!(run(&prose).text().as_str(), prose);
}

#[test]
fn a_full_name_after_other_capitalised_words_is_found() {
    let out = run("The Looker Studio Sarah Johnson built shows Google Sheets totals");
    assert_eq!(
        out.text().as_str(),
        "The Looker Studio [PERSON] built shows Google Sheets totals"
    );
}

#[test]
fn digit_prefixes_stay_inside_their_window() {
    let out = run("UK mobile +44 (0) 20 7946 0958 and NI number AB 12 34 56 C, both failed");
    assert_eq!(
        out.text().as_str(),
        "UK mobile [PHONE] and NI number [SSN], both failed"
    );
}

#[test]
fn a_long_text_scrubs_as_its_lines_do() {
    // Longer than two of the engine's stretches; the shifts move the values
    // across a stretch boundary.
    let clean = "The Calendly booking never reaches the pipeline stage, why?\n";
    let private =
        "Stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc, call (415) 555-0132, from Sarah Johnson.\n";
    for shift in (0..clean.len() * 2 + private.len()).step_by(20) {
        let mut lines = vec![format!("{}\n", " ".repeat(shift))];
        while lines.iter().map(String::len).sum::<usize>() < 140_000 {
            lines.push(if lines.len() % 3 == 0 { private } else { clean }.to_owned());
        }
        let parts: Vec<Scrubbed> = lines.iter().map(|l| run(l)).collect();
        let expected: String = parts.iter().map(|p| p.text().as_str()).collect();
        let found: usize = parts.iter().map(|p| p.findings().len()).sum();
        let out = run(&lines.concat());
        assert_eq!(out.text().as_str(), expected, "shift {shift}");
        assert_eq!(out.findings().len(), found, "shift {shift}");
    }
}

#[test]
fn a_name_with_non_ascii_letters_is_replaced_whole_by_rules_and_by_default() {
    for (name, policy) in [
        ("rules", Policy::rules_only()),
        ("default", Policy::default()),
    ] {
        for (text, clean) in [
            (
                "my client Lara Ibañez paid twice",
                "my client [PERSON] paid twice",
            ),
            ("Mr. Müller called back", "Mr. [PERSON] called back"),
        ] {
            assert_eq!(scrub(text, &policy).text().as_str(), clean, "{name}");
        }
    }
}

#[test]
fn a_name_under_a_sign_off_stays_on_its_line() {
    for (text, kept) in [
        (
            "kind regards,\n\nRadhika Iyer\nFounder | bloom-studio.example",
            "\nFounder",
        ),
        (
            "Thanks,\nDana Whitfield\nOperations Lead",
            "\nOperations Lead",
        ),
    ] {
        let out = run(text);
        assert!(
            out.text()
                .as_str()
                .ends_with(&text[text.find(kept).unwrap()..]),
            "{}",
            out.text().as_str()
        );
        assert!(
            !out.text().as_str().contains("Iyer") && !out.text().as_str().contains("Whitfield")
        );
    }
}
