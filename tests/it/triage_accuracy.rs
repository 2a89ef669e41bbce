//! Route accuracy of the embedded model on the project's own hand-written
//! cases, `tests/data/triage_cases.jsonl` (comments and forms with typos,
//! slang, emoji, arrows and non-native English). The model was never fitted
//! on them (it is fitted on `models/router/data/`), so this is an
//! out-of-sample figure from a third writer. Prints accuracy per route, the
//! keyword rules' beside it, and the misses.
//!
//! The same for comments in German, French, Spanish, Portuguese, Italian,
//! Dutch, Polish, Swedish, Danish, Norwegian, Finnish, Czech and Turkish
//! (`tests/data/triage_cases_other_languages.jsonl`): its `tuning` part was
//! written before the rules' glossary of those languages and read while
//! writing it; its `held_out` part was written after the glossary was
//! frozen and is only reported (both parts in two rounds: the first five
//! languages, then the other eight).

use std::collections::BTreeMap;

use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::{Route, Rules, Triager};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Case {
    id: u32,
    channel: Channel,
    input: Value,
    route: Route,
}

/// A case in another language, from the tuning or the held-out part.
#[derive(Deserialize)]
struct OtherLanguageCase {
    part: String,
    lang: String,
    input: String,
    route: Route,
}

#[test]
fn route_accuracy_on_the_projects_own_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/triage_cases.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let cases: Vec<Case> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let policy = Policy::default();
    let (model, keyword) = (Triager::default(), Triager::rules_only(Rules::default()));
    let mut keyword_right = 0;
    let mut per_route: BTreeMap<Route, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in &cases {
        let intake = match (&case.channel, &case.input) {
            (Channel::Comment, Value::String(t)) => ScrubbedIntake::comment(t, &policy).unwrap(),
            (channel, fields) => ScrubbedIntake::from_intake(
                Intake::from_json(fields.clone()).unwrap(),
                *channel,
                &policy,
            )
            .unwrap(),
        };
        let got = model.triage(&intake).route;
        keyword_right += usize::from(keyword.triage(&intake).route == case.route);
        let entry = per_route.entry(case.route).or_default();
        entry.1 += 1;
        if got == case.route {
            entry.0 += 1;
        } else {
            misses.push(format!(
                "  case {}: expected {}, got {}",
                case.id,
                case.route.as_str(),
                got.as_str()
            ));
        }
    }
    let right: usize = per_route.values().map(|(r, _)| r).sum();
    let accuracy = 100.0 * right as f64 / cases.len() as f64;
    println!(
        "route accuracy: {right}/{} = {accuracy:.1}% (keyword rules: {keyword_right})",
        cases.len()
    );
    for (route, (r, n)) in &per_route {
        println!(
            "  {:<14} {r:>3}/{n:<3} {:.1}%",
            route.as_str(),
            100.0 * *r as f64 / *n as f64
        );
    }
    println!("{}", misses.join("\n"));
    // Measured 93.8 % when the model was committed; the floor catches a
    // broken model or features, not noise.
    assert!(
        accuracy >= 85.0,
        "route accuracy {accuracy:.1}% is under 85%"
    );
}

#[test]
fn route_accuracy_on_comments_in_other_languages() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/triage_cases_other_languages.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let cases: Vec<OtherLanguageCase> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let policy = Policy::default();
    let model = Triager::default();
    // (part, language) -> (right, all)
    let mut tally: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in &cases {
        let intake = ScrubbedIntake::comment(&case.input, &policy).unwrap();
        let got = model.triage(&intake).route;
        for key in [
            (case.part.as_str(), case.lang.as_str()),
            (case.part.as_str(), "all"),
        ] {
            let entry = tally.entry(key).or_default();
            entry.0 += usize::from(got == case.route);
            entry.1 += 1;
        }
        if got != case.route {
            misses.push(format!(
                "  {} {}: expected {}, got {}",
                case.part,
                case.lang,
                case.route.as_str(),
                got.as_str()
            ));
        }
    }
    for ((part, lang), (right, all)) in &tally {
        println!("{part:<9} {lang:<4} {right:>3}/{all:<3}");
    }
    println!("{}", misses.join("\n"));
    let share = |part| {
        let (right, all) = tally[&(part, "all")];
        100.0 * right as f64 / all as f64
    };
    // Measured 90 % (tuning) and 67 % (held out) when the glossary came in,
    // against 58 % and 43 % without it; with the eight languages added on
    // 2026-12-01, 80/90 (88.9 %) and 38/54 (70.4 %), the new part 36/40 and
    // 18/24 against 21/40 and 14/24 before their entries. The floors catch
    // a lost glossary, not noise.
    assert!(
        share("tuning") >= 80.0,
        "tuning part {:.1}%",
        share("tuning")
    );
    assert!(
        share("held_out") >= 55.0,
        "held-out part {:.1}%",
        share("held_out")
    );
}
