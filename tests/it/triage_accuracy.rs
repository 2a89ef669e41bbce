//! Route accuracy on the hand-written labelled set `tests/data/triage_cases.jsonl`
//! (comments and forms with typos, slang, emoji, arrows and non-native English).
//! Prints accuracy per route; fails under 95 % overall.

use std::collections::BTreeMap;

use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::{Route, Rules, triage};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Case {
    id: u32,
    channel: Channel,
    input: Value,
    route: Route,
}

#[test]
fn route_accuracy_is_at_least_95_percent() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/triage_cases.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let cases: Vec<Case> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let (policy, rules) = (Policy::default(), Rules::default());
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
        let got = triage(&intake, &rules).route;
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
    println!("route accuracy: {right}/{} = {accuracy:.1}%", cases.len());
    for (route, (r, n)) in &per_route {
        println!(
            "  {:<14} {r:>3}/{n:<3} {:.1}%",
            route.as_str(),
            100.0 * *r as f64 / *n as f64
        );
    }
    println!("{}", misses.join("\n"));
    assert!(
        accuracy >= 95.0,
        "route accuracy {accuracy:.1}% is under 95%"
    );
}
