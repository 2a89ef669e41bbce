//! One batch record (`{"id", "channel", "input"}`) scrubbed and triaged: the
//! shared core of `handoff-gate triage --jsonl` and `POST /api/v1/triage`.

use serde_json::{Map, Value};

use super::{Triage, Triager};
use handoff_intake::{Channel, Intake, ScrubbedIntake};
use handoff_scrub::{Policy, scrub_json};

/// What a record must look like, for error messages.
pub const RECORD_SHAPE: &str = "expected a JSON object with \"id\", \"channel\" and \"input\"";

/// Scrub and triage one record. Returns its (scrubbed) id and the triage.
/// Errors describe the problem without quoting the record: it may hold
/// exactly the secrets that must not be echoed.
pub fn triage_record(
    mut object: Map<String, Value>,
    policy: &Policy,
    triager: &Triager,
) -> Result<(Value, Triage), String> {
    let id = match object.remove("id").unwrap_or(Value::Null) {
        id @ (Value::String(_) | Value::Number(_) | Value::Null) => scrub_json(id, policy),
        _ => return Err("\"id\" must be a string, a number or null".to_owned()),
    };
    let input = object.remove("input").ok_or("missing \"input\" field")?;
    let channel = match object.remove("channel") {
        None if input.is_string() => Channel::Comment,
        None => Channel::Form,
        Some(Value::String(s)) if s == "form" => Channel::Form,
        Some(Value::String(s)) if s == "comment" => Channel::Comment,
        Some(_) => return Err("\"channel\" must be \"form\" or \"comment\"".to_owned()),
    };
    if let Some(key) = object.keys().next() {
        return Err(format!(
            "unknown field {}; expected \"id\", \"channel\" and \"input\"",
            handoff_intake::printable_name(key)
        ));
    }
    let intake = match input {
        Value::String(comment) => ScrubbedIntake::comment(&comment, policy),
        object @ Value::Object(_) => Intake::from_json(object)
            .and_then(|raw| ScrubbedIntake::from_intake(raw, channel, policy)),
        _ => {
            return Err(
                "\"input\" must be a comment string or an object of safe intake fields".to_owned(),
            );
        }
    }
    .map_err(|e| e.to_string())?;
    if channel == Channel::Form && intake.channel() == Channel::Comment {
        return Err("a form's \"input\" must be an object of safe intake fields".to_owned());
    }
    Ok((id, triager.triage(&intake)))
}
