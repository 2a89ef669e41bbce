//! The consultant's inbox over the store: the queue (filtered, counted,
//! paged), one intake with what was done with it, answering, the route and
//! handoffs the consultant confirmed or corrected, the labelled intakes for
//! `handoff-gate train`, and which router model is served since when.
//!
//! What the consultant does is kept in `intake_reviews`, beside the
//! model's decision in `intakes` (never over it), and is erased with the
//! intake.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::record::intake_columns;
use super::write::Durability;
use super::{IntakeId, IntakeRecord, Store, StoreError, query};
use handoff_triage::{Handoff, Route};

/// Where an intake stands in the queue.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// Not answered yet, its email sent or on its way.
    New,
    /// Held back from the mail (it tripped a bot heuristic): a person
    /// should look and release it.
    Held,
    /// Its email was given up on after the last attempt.
    MailFailed,
    /// The consultant marked it answered.
    Answered,
}

impl Status {
    /// Every status, in the order the inbox shows its tabs.
    pub const ALL: &'static [Status] = <Status as strum::VariantArray>::VARIANTS;

    /// The wire name, e.g. `mail_failed`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An intake's status, in SQL over `intakes i`, `intake_reviews r` and
/// `outbox o` (LEFT JOINed): answered first, then held, then a dead email.
const STATUS: &str = "CASE WHEN r.answered_at_ms IS NOT NULL THEN 'answered' \
     WHEN o.state = 'held' THEN 'held' \
     WHEN o.state = 'dead' THEN 'mail_failed' \
     ELSE 'new' END";

/// The route the queue files an intake under: the consultant's, else the model's.
const ROUTE: &str = "COALESCE(r.label_route, i.route)";

/// The tables every queue query reads.
const FROM: &str = "FROM intakes i \
     LEFT JOIN intake_reviews r ON r.intake_id = i.id \
     LEFT JOIN outbox o ON o.intake_id = i.id";

/// The review and mail columns [`Entry::from_row`] reads, after the intake's.
const REVIEW_COLUMNS: &str = "r.answered_at_ms, r.answered_by, r.label_route, r.label_handoffs, \
     r.corrected, r.labelled_at_ms, r.labelled_by, \
     o.state AS mail_state, o.attempts AS mail_attempts, o.last_error AS mail_error, \
     o.sent_at_ms AS mail_sent_at_ms";

/// Which intakes the queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only intakes with this status.
    pub status: Option<Status>,
    /// Only intakes filed under this route (the consultant's, else the model's).
    pub route: Option<Route>,
    /// Only intakes whose scrubbed fields or tools contain this text (any case).
    pub search: Option<String>,
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// Who (`consultant.name`).
    pub by: String,
}

/// The route and handoffs the consultant gave an intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The route.
    pub route: Route,
    /// The handoffs, in [`Handoff::ALL`] order.
    pub handoffs: Vec<Handoff>,
    /// Whether it differs from the model's decision (else it confirms it).
    pub corrected: bool,
    /// Who gave it, and when.
    pub stamp: Stamp,
}

impl Label {
    /// A label for `record`: a correction when route or handoffs (as a
    /// set) differ from the model's, a confirmation otherwise.
    pub fn new(record: &IntakeRecord, route: Route, handoffs: &[Handoff], stamp: Stamp) -> Label {
        let handoffs: Vec<Handoff> = Handoff::ALL
            .iter()
            .copied()
            .filter(|h| handoffs.contains(h))
            .collect();
        let mut model: Vec<Handoff> = record.handoffs.clone();
        model.sort_unstable();
        model.dedup();
        let mut given = handoffs.clone();
        given.sort_unstable();
        Label {
            corrected: route != record.route || given != model,
            route,
            handoffs,
            stamp,
        }
    }
}

/// Where an intake's email stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailState {
    /// Waiting to be sent, or being retried.
    Waiting {
        /// Attempts so far.
        attempts: u32,
        /// The last attempt's error.
        last_error: Option<String>,
    },
    /// The relay (or the mail folder) took it.
    Sent {
        /// When.
        at_ms: Option<i64>,
    },
    /// Given up on after the last attempt.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last_error: Option<String>,
    },
    /// Held back until the consultant releases it.
    Held,
    /// Its outbox row was purged after sending (`handoff-gate outbox purge`).
    Purged,
}

/// An intake as the inbox shows it: the stored record (the model's
/// decision), its status, and what was done with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The stored intake.
    pub record: IntakeRecord,
    /// Where it stands in the queue.
    pub status: Status,
    /// When it was marked answered, and by whom.
    pub answered: Option<Stamp>,
    /// The route and handoffs the consultant confirmed or corrected.
    pub label: Option<Label>,
    /// Its email.
    pub mail: MailState,
}

impl Entry {
    /// The route it is filed under: the consultant's, else the model's.
    pub fn route(&self) -> Route {
        self.label.as_ref().map_or(self.record.route, |l| l.route)
    }

    /// The handoffs it is filed under: the consultant's, else the model's.
    pub fn handoffs(&self) -> &[Handoff] {
        self.label
            .as_ref()
            .map_or(&self.record.handoffs, |l| &l.handoffs)
    }

    fn from_row(row: &AnyRow) -> Result<Entry, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
        let status: String = row.get("status");
        let stamp = |at: &str, by: &str| {
            let at_ms: Option<i64> = row.get(at);
            let by: Option<String> = row.get(by);
            at_ms.map(|at_ms| Stamp {
                at_ms,
                by: by.unwrap_or_default(),
            })
        };
        let label = match row.get::<Option<String>, _>("label_route") {
            None => None,
            Some(route) => {
                let handoffs: Option<String> = row.get("label_handoffs");
                Some(Label {
                    route: route.parse().map_err(|_| corrupt("label_route"))?,
                    handoffs: serde_json::from_str(handoffs.as_deref().unwrap_or("[]"))
                        .map_err(|_| corrupt("label_handoffs"))?,
                    corrected: row.get::<Option<i64>, _>("corrected").unwrap_or(0) != 0,
                    stamp: stamp("labelled_at_ms", "labelled_by")
                        .ok_or_else(|| corrupt("labelled_at_ms"))?,
                })
            }
        };
        let attempts = u32::try_from(row.get::<Option<i64>, _>("mail_attempts").unwrap_or(0))
            .unwrap_or(u32::MAX);
        let last_error: Option<String> = row.get("mail_error");
        let mail = match row.get::<Option<String>, _>("mail_state").as_deref() {
            None => MailState::Purged,
            Some("sent") => MailState::Sent {
                at_ms: row.get("mail_sent_at_ms"),
            },
            Some("dead") => MailState::Failed {
                attempts,
                last_error,
            },
            Some("held") => MailState::Held,
            Some(_) => MailState::Waiting {
                attempts,
                last_error,
            },
        };
        Ok(Entry {
            record: IntakeRecord::from_row(row)?,
            status: status.parse().map_err(|_| corrupt("status"))?,
            answered: stamp("answered_at_ms", "answered_by"),
            label,
            mail,
        })
    }
}

/// How many intakes each tab holds: by status (within the route and search
/// filters) and by route (within the status and search filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Intakes per status.
    pub by_status: BTreeMap<Status, u64>,
    /// Intakes per route.
    pub by_route: BTreeMap<Route, u64>,
}

impl QueueCounts {
    /// How many intakes the filter matches.
    pub fn matching(&self, filter: &QueueFilter) -> u64 {
        match filter.status {
            Some(status) => self.by_status.get(&status).copied().unwrap_or(0),
            None => self.by_status.values().sum(),
        }
    }
}

/// A labelled intake for `handoff-gate train`.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The stored intake (scrubbed).
    pub record: IntakeRecord,
    /// The consultant's route and handoffs.
    pub label: Label,
}

/// A `WHERE` clause over the queue and its bound values (`$1`, `$2`, …).
struct Conditions {
    sql: String,
    binds: Vec<String>,
}

/// Which parts of a filter a query applies (the counts leave one out).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Except {
    Nothing,
    Status,
    Route,
}

impl QueueFilter {
    fn conditions(&self, except: Except) -> Conditions {
        let mut parts = vec!["1 = 1".to_owned()];
        let mut binds = Vec::new();
        if let Some(status) = self.status.filter(|_| except != Except::Status) {
            binds.push(status.as_str().to_owned());
            parts.push(format!("({STATUS}) = ${}", binds.len()));
        }
        if let Some(route) = self.route.filter(|_| except != Except::Route) {
            binds.push(route.as_str().to_owned());
            parts.push(format!("{ROUTE} = ${}", binds.len()));
        }
        if let Some(search) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            binds.push(like_pattern(search));
            let n = binds.len();
            parts.push(format!(
                "(LOWER(i.fields) LIKE ${n} ESCAPE '\\' OR LOWER(i.tools) LIKE ${n} ESCAPE '\\')"
            ));
        }
        Conditions {
            sql: parts.join(" AND "),
            binds,
        }
    }
}

/// `%text%`, lower-cased, with `%`, `_` and `\` matched literally. Quotes
/// and backslashes are matched as the stored JSON writes them.
fn like_pattern(text: &str) -> String {
    let json = serde_json::to_string(&text.to_lowercase()).expect("a string serializes");
    let inner = &json[1..json.len() - 1];
    let mut pattern = String::from("%");
    for c in inner.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn bind_all<'q>(
    sql: &'q str,
    binds: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    binds
        .iter()
        .fold(sqlx::query(sql), |q, value| q.bind(value.as_str()))
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// One page of the queue, newest first.
    pub async fn queue(
        &self,
        filter: &QueueFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError> {
        let conditions = filter.conditions(Except::Nothing);
        let sql = format!(
            "SELECT {}, {REVIEW_COLUMNS}, {STATUS} AS status {FROM} WHERE {} \
             ORDER BY i.created_at_ms DESC, i.id DESC LIMIT {limit} OFFSET {offset}",
            intake_columns!(),
            conditions.sql,
        );
        let rows = bind_all(&sql, &conditions.binds)
            .fetch_all(&self.reader)
            .await
            .map_err(query("reading the queue"))?;
        rows.iter().map(Entry::from_row).collect()
    }

    /// How many intakes each status and route tab holds under `filter`.
    pub async fn queue_counts(&self, filter: &QueueFilter) -> Result<QueueCounts, StoreError> {
        let mut counts = QueueCounts::default();
        for (except, column) in [(Except::Status, STATUS), (Except::Route, ROUTE)] {
            let conditions = filter.conditions(except);
            let sql = format!(
                "SELECT {column} AS tab, COUNT(*) AS n {FROM} WHERE {} GROUP BY {column}",
                conditions.sql
            );
            let rows = bind_all(&sql, &conditions.binds)
                .fetch_all(&self.reader)
                .await
                .map_err(query("counting the queue"))?;
            for row in rows {
                let tab: String = row.get("tab");
                let n = count(row.get("n"));
                if except == Except::Status {
                    if let Ok(status) = tab.parse() {
                        counts.by_status.insert(status, n);
                    }
                } else if let Ok(route) = tab.parse() {
                    counts.by_route.insert(route, n);
                }
            }
        }
        Ok(counts)
    }

    /// One intake as the inbox shows it.
    pub async fn entry(&self, id: &IntakeId) -> Result<Option<Entry>, StoreError> {
        let sql = format!(
            "SELECT {}, {REVIEW_COLUMNS}, {STATUS} AS status {FROM} WHERE i.id = $1",
            intake_columns!()
        );
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(query("reading an intake for the inbox"))?;
        row.as_ref().map(Entry::from_row).transpose()
    }

    /// Mark an intake answered (`Some`, keeping the first stamp if it was
    /// already) or not answered (`None`). Returns whether the intake exists.
    pub async fn set_answered(
        &self,
        id: &IntakeId,
        answered: Option<&Stamp>,
    ) -> Result<bool, StoreError> {
        let mut write = self
            .write("marking an intake answered", Durability::Full)
            .await?;
        let done = match answered {
            Some(stamp) => sqlx::query(
                "INSERT INTO intake_reviews (intake_id, answered_at_ms, answered_by)
                 SELECT id, $2, $3 FROM intakes WHERE id = $1
                 ON CONFLICT (intake_id) DO UPDATE SET
                    answered_at_ms = COALESCE(intake_reviews.answered_at_ms, excluded.answered_at_ms),
                    answered_by = COALESCE(intake_reviews.answered_by, excluded.answered_by)",
            )
            .bind(id.as_str())
            .bind(stamp.at_ms)
            .bind(stamp.by.as_str())
            .execute(write.conn())
            .await
            .map(|done| done.rows_affected() > 0),
            None => {
                let conn = write.conn();
                match sqlx::query(
                    "UPDATE intake_reviews SET answered_at_ms = NULL, answered_by = NULL
                     WHERE intake_id = $1",
                )
                .bind(id.as_str())
                .execute(&mut *conn)
                .await
                {
                    Ok(_) => sqlx::query("SELECT 1 FROM intakes WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_optional(conn)
                        .await
                        .map(|row| row.is_some()),
                    Err(e) => Err(e),
                }
            }
        };
        write.commit(done).await
    }

    /// Store the consultant's route and handoffs for an intake, replacing
    /// an earlier label. Returns whether the intake exists.
    pub async fn set_label(&self, id: &IntakeId, label: &Label) -> Result<bool, StoreError> {
        let handoffs = serde_json::to_string(&label.handoffs).expect("handoffs serialize");
        let mut write = self.write("labelling an intake", Durability::Full).await?;
        let done = sqlx::query(
            "INSERT INTO intake_reviews
                (intake_id, label_route, label_handoffs, corrected, labelled_at_ms, labelled_by)
             SELECT id, $2, $3, $4, $5, $6 FROM intakes WHERE id = $1
             ON CONFLICT (intake_id) DO UPDATE SET
                label_route = excluded.label_route,
                label_handoffs = excluded.label_handoffs,
                corrected = excluded.corrected,
                labelled_at_ms = excluded.labelled_at_ms,
                labelled_by = excluded.labelled_by",
        )
        .bind(id.as_str())
        .bind(label.route.as_str())
        .bind(handoffs)
        .bind(i64::from(label.corrected))
        .bind(label.stamp.at_ms)
        .bind(label.stamp.by.as_str())
        .execute(write.conn())
        .await
        .map(|done| done.rows_affected() > 0);
        write.commit(done).await
    }

    /// Every intake the consultant confirmed or corrected, oldest label first.
    pub async fn labelled(&self) -> Result<Vec<Labelled>, StoreError> {
        let sql = format!(
            "SELECT {}, {REVIEW_COLUMNS}, {STATUS} AS status {FROM} \
             WHERE r.label_route IS NOT NULL ORDER BY r.labelled_at_ms, i.id",
            intake_columns!()
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(query("reading labelled intakes"))?;
        rows.iter()
            .map(|row| {
                let entry = Entry::from_row(row)?;
                let label = entry
                    .label
                    .ok_or_else(|| StoreError::Corrupt("label_route".to_owned()))?;
                Ok(Labelled {
                    record: entry.record,
                    label,
                })
            })
            .collect()
    }

    /// How many labels are corrections (not confirmations) made at or after `since_ms`.
    pub async fn corrections_since(&self, since_ms: i64) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM intake_reviews WHERE corrected = 1 AND labelled_at_ms >= $1",
        )
        .bind(since_ms)
        .fetch_one(&self.reader)
        .await
        .map_err(query("counting corrections"))?;
        Ok(count(n))
    }

    /// Note that the router model `fingerprint` is served from `now_ms` on,
    /// unless it was served before. Returns when it was first served.
    pub async fn note_model(&self, fingerprint: &str, now_ms: i64) -> Result<i64, StoreError> {
        let mut write = self
            .write("noting the router model", Durability::Full)
            .await?;
        let done = sqlx::query(
            "INSERT INTO router_models (fingerprint, first_served_at_ms) VALUES ($1, $2)
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(now_ms)
        .execute(write.conn())
        .await;
        write.commit(done).await?;
        sqlx::query_scalar("SELECT first_served_at_ms FROM router_models WHERE fingerprint = $1")
            .bind(fingerprint)
            .fetch_one(&self.reader)
            .await
            .map_err(query("reading the router model's start"))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_text_is_matched_literally_as_stored() {
        assert_eq!(like_pattern("Kajabi"), "%kajabi%");
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("say \"hi\""), "%say \\\\\"hi\\\\\"%");
    }
}
