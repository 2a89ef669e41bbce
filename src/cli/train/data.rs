//! Labelled intakes in the routing dev format, one JSON object a line:
//! `{"id", "channel", "input", "expected": {"route", "handoffs", "privacy"}, "why"}`.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::Policy;
use handoff_triage::{Handoff, Privacy, Route};

/// One labelled intake, scrubbed.
pub struct Example {
    /// Its id as written (a string's content, or a number's digits).
    pub id: String,
    /// The scrubbed intake.
    pub intake: ScrubbedIntake,
    /// The route it should get.
    pub route: Route,
    /// The handoffs it names, in any order.
    pub handoffs: Vec<Handoff>,
    /// The privacy decision it should get, when labelled.
    pub privacy: Option<Privacy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: Value,
    channel: Option<Channel>,
    input: Value,
    expected: Expected,
    #[serde(default, rename = "why")]
    _why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    route: Route,
    #[serde(default)]
    handoffs: Vec<Handoff>,
    privacy: Option<Privacy>,
}

/// Everything read from the data files.
pub struct Data {
    /// The examples, in file order.
    pub examples: Vec<Example>,
    /// SHA-256 of every file's bytes, in the order given.
    pub sha256: String,
}

/// Read and scrub every file. Errors name the file and line, never the text.
pub fn read(files: &[(String, String)], policy: &Policy) -> anyhow::Result<Data> {
    let mut hasher = Sha256::new();
    let mut examples = Vec::new();
    for (origin, text) in files {
        hasher.update(text.as_bytes());
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let example = parse(line, policy)
                .map_err(|e| anyhow::anyhow!("{origin}, line {}: {e}", n + 1))?;
            examples.push(example);
        }
    }
    anyhow::ensure!(!examples.is_empty(), "no labelled intakes in the data");
    Ok(Data {
        examples,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn parse(line: &str, policy: &Policy) -> Result<Example, String> {
    let line: Line = serde_json::from_str(line).map_err(|e| {
        // Only the column: serde's own message may quote a value.
        let what = match e.classify() {
            serde_json::error::Category::Data => "a missing, unknown or mistyped field",
            _ => "malformed JSON",
        };
        format!(
            "{what} near column {}; expected {{\"id\", \"channel\", \"input\", \"expected\": {{\"route\", \"handoffs\", \"privacy\"}}}}",
            e.column()
        )
    })?;
    let id = match line.id {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => return Err("\"id\" must be a string or a number".to_owned()),
    };
    let intake = match (line.input, line.channel) {
        (Value::String(comment), None | Some(Channel::Comment)) => {
            ScrubbedIntake::comment(&comment, policy)
        }
        (fields @ Value::Object(_), channel) => Intake::from_json(fields).and_then(|raw| {
            ScrubbedIntake::from_intake(raw, channel.unwrap_or(Channel::Form), policy)
        }),
        _ => {
            return Err(
                "\"input\" must be a comment string or an object of safe intake fields".to_owned(),
            );
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(Example {
        id,
        intake,
        route: line.expected.route,
        handoffs: line.expected.handoffs,
        privacy: line.expected.privacy,
    })
}
