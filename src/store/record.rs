//! An intake as stored: scrubbed fields, triage outcome, finding counts.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use handoff_intake::{Channel, IntakeField, ScrubbedIntake};
use handoff_scrub::FindingKind;
use handoff_triage::{Handoff, Privacy, Reason, Route, Triage};

/// Every column [`IntakeRecord::from_row`] reads, of `intakes` named `i`.
macro_rules! intake_columns {
    () => {
        concat!(
            "i.id, i.created_at_ms, i.channel, i.route, i.confidence, i.needs_review, i.handoffs, ",
            "i.privacy, i.removed, i.exposed_credentials, i.fields, i.tools, i.reasons, ",
            "i.missing_fields, i.contact_email, i.consent, i.request_hash"
        )
    };
}
pub(super) use intake_columns;

/// `SELECT` of every column [`IntakeRecord::from_row`] reads, then `$where`.
macro_rules! select_intake {
    ($where:literal) => {
        concat!(
            "SELECT ",
            $crate::store::record::intake_columns!(),
            " FROM intakes i WHERE ",
            $where
        )
    };
}
pub(super) use select_intake;

/// A public intake id: a UUIDv7 in its hyphenated form (time-ordered, 74 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IntakeId(String);

impl IntakeId {
    fn generate() -> Self {
        IntakeId(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    /// Parse an id from a URL: only a well-formed UUID is accepted.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text)
            .ok()
            .map(|u| IntakeId(u.hyphenated().to_string()))
    }

    pub(super) fn from_stored(text: String) -> Self {
        IntakeId(text)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IntakeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored intake. Its texts were [`CleanText`](handoff_scrub::CleanText)
/// when written; the type keeps them as plain strings on the way back.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeRecord {
    /// Public id.
    pub id: IntakeId,
    /// When it was stored.
    pub created_at_ms: i64,
    /// Form or comment.
    pub channel: Channel,
    /// The next action.
    pub route: Route,
    /// The route's probability under the model (1 when a rule decided).
    pub confidence: f32,
    /// The confidence fell below the review threshold.
    pub needs_review: bool,
    /// The handoffs named.
    pub handoffs: Vec<Handoff>,
    /// What happened to private data.
    pub privacy: Privacy,
    /// What was removed, by kind.
    pub removed: BTreeMap<FindingKind, usize>,
    /// Whether a credential was exposed (the person was told to rotate it).
    pub exposed_credentials: bool,
    /// The scrubbed free-text fields, in form order.
    pub fields: BTreeMap<IntakeField, String>,
    /// Canonical tool names.
    pub tools: Vec<String>,
    /// The evidence behind the decisions.
    pub reasons: Vec<Reason>,
    /// Fields that would help and were not given.
    pub missing_fields: Vec<IntakeField>,
    /// The submitter's own address (never published).
    pub contact_email: Option<String>,
    /// Whether they agreed to be contacted.
    pub consent: bool,
    /// Only this module makes records (from a `ScrubbedIntake` or a stored
    /// row), so no other code can hand unscrubbed text to the mailer.
    sealed: Sealed,
}

/// The mark of a record made here.
#[derive(Debug, Clone, PartialEq)]
struct Sealed;

impl IntakeRecord {
    pub(super) fn new(intake: &ScrubbedIntake, triage: &Triage, created_at_ms: i64) -> Self {
        IntakeRecord {
            id: IntakeId::generate(),
            created_at_ms,
            channel: intake.channel(),
            route: triage.route,
            confidence: triage.confidence,
            needs_review: triage.needs_review,
            handoffs: triage.handoffs.clone(),
            privacy: triage.privacy,
            removed: intake.counts(),
            exposed_credentials: intake.exposed_credentials(),
            fields: intake
                .fields()
                .iter()
                .map(|f| (f.field, f.text.as_str().to_owned()))
                .collect(),
            tools: triage.tools.clone(),
            reasons: triage.reasons.clone(),
            missing_fields: triage.missing_fields.clone(),
            contact_email: intake.contact_email().map(|c| c.as_str().to_owned()),
            consent: intake.consent(),
            sealed: Sealed,
        }
    }

    pub(super) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        fn parse<T: for<'de> Deserialize<'de>>(
            row: &AnyRow,
            column: &str,
        ) -> Result<T, StoreError> {
            let text: String = row.get(column);
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
        }
        fn word<T: for<'de> Deserialize<'de>>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
            let text: String = row.get(column);
            serde_json::from_value(serde_json::Value::String(text))
                .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
        }
        Ok(IntakeRecord {
            id: IntakeId(row.get("id")),
            created_at_ms: row.get("created_at_ms"),
            channel: word(row, "channel")?,
            route: word(row, "route")?,
            confidence: row.get::<f64, _>("confidence") as f32,
            needs_review: row.get::<i64, _>("needs_review") != 0,
            handoffs: parse(row, "handoffs")?,
            privacy: word(row, "privacy")?,
            removed: parse(row, "removed")?,
            exposed_credentials: row.get::<i64, _>("exposed_credentials") != 0,
            fields: parse(row, "fields")?,
            tools: parse(row, "tools")?,
            reasons: parse(row, "reasons")?,
            missing_fields: parse(row, "missing_fields")?,
            contact_email: row.get("contact_email"),
            consent: row.get::<i64, _>("consent") != 0,
            sealed: Sealed,
        })
    }

    /// The scrubbed text of one field.
    pub fn field(&self, field: IntakeField) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }
}
