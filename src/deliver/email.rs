//! The consultant's email for one stored intake: text and HTML parts
//! rendered by askama from scrubbed fields, counts and the triage outcome.

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::config::Config;
use crate::store::IntakeRecord;
use handoff_triage::Rules;

/// How the consultant's emails are written: the time zone their times are
/// in, and where the inbox is (links appear only when it is known).
#[derive(Debug, Clone)]
pub struct Letterhead {
    time_zone: jiff::tz::TimeZone,
    public_url: Option<String>,
}

impl Letterhead {
    /// From `consultant.time_zone` and `server.public_url` (both checked when
    /// the configuration loads; an unknown zone falls back to UTC).
    pub fn from_config(config: &Config) -> Self {
        Letterhead {
            time_zone: jiff::tz::TimeZone::get(&config.consultant.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC),
            public_url: config
                .server
                .public_url
                .as_deref()
                .map(|url| url.trim_end_matches('/').to_owned()),
        }
    }

    /// `Mon 30 Nov 2026, 14:05 CET`: a stored time in the consultant's zone.
    pub fn local_time(&self, ms: i64) -> String {
        jiff::Timestamp::from_millisecond(ms).map_or_else(
            |_| "(unknown time)".to_owned(),
            |t| {
                t.to_zoned_datetime(self.time_zone.clone())
                    .strftime("%a %-d %b %Y, %H:%M %Z")
                    .to_string()
            },
        )
    }

    /// The intake in the consultant's inbox, when the public address is set.
    pub fn inbox_link(&self, record: &IntakeRecord) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/inbox/{}", record.id))
    }
}

/// What both email templates show.
struct Summary<'a> {
    record: &'a IntakeRecord,
    subject: String,
    confidence: String,
    handoffs: Vec<&'a str>,
    fields: Vec<(&'static str, &'a str)>,
    removed: Vec<(&'static str, usize)>,
    missing: Vec<&'static str>,
    meaning: &'a str,
    next_step: &'a str,
    received: String,
    inbox_link: Option<String>,
}

#[derive(Template)]
#[template(path = "email/intake.txt")]
struct TextEmail<'a> {
    s: &'a Summary<'a>,
}

#[derive(Template)]
#[template(path = "email/intake.html")]
struct HtmlEmail<'a> {
    s: &'a Summary<'a>,
}

/// Why an email could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// A template failed to render.
    #[error("email template failed: {0}")]
    Template(#[from] askama::Error),
    /// The message could not be assembled.
    #[error("email could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// `[systems_audit 91 %] payment → access · Stripe, Kajabi`, from the
/// handoffs' labels in the rules; `[repair 48 %, needs review] …` when the
/// router was unsure.
fn subject(record: &IntakeRecord, handoffs: &[&str]) -> String {
    let mut subject = format!("[{} {}]", record.route.as_str(), confidence(record));
    if !handoffs.is_empty() {
        subject.push(' ');
        subject.push_str(&handoffs.join(", "));
    }
    if !record.tools.is_empty() {
        subject.push_str(" · ");
        subject.push_str(&record.tools.join(", "));
    }
    // Only rules' labels and tool names appear, but a header never gets a line break.
    subject.retain(|c| !c.is_control());
    subject
}

/// `91 %`, or `48 %, needs review`.
fn confidence(record: &IntakeRecord) -> String {
    let percent = format!("{:.0} %", record.confidence * 100.0);
    if record.needs_review {
        format!("{percent}, needs review")
    } else {
        percent
    }
}

/// The stable `Message-ID` of an intake's email, so a resend is recognisable.
pub fn message_id(record: &IntakeRecord, from: &Mailbox) -> String {
    format!("<intake-{}@{}>", record.id, from.email.domain())
}

/// Build the email for a stored intake.
pub fn compose(
    record: &IntakeRecord,
    rules: &Rules,
    from: &Mailbox,
    to: &Mailbox,
    letterhead: &Letterhead,
) -> Result<Message, EmailError> {
    let handoffs: Vec<&str> = record
        .handoffs
        .iter()
        .map(|h| rules.handoff_label(*h))
        .collect();
    let summary = Summary {
        record,
        subject: subject(record, &handoffs),
        confidence: confidence(record),
        handoffs,
        fields: record
            .fields
            .iter()
            .map(|(f, text)| (f.reader_label(), text.as_str()))
            .collect(),
        removed: record
            .removed
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect(),
        missing: record.missing_fields.iter().map(|f| f.label()).collect(),
        meaning: rules.route_meaning(record.route),
        next_step: rules.route_next_step(record.route),
        received: letterhead.local_time(record.created_at_ms),
        inbox_link: letterhead.inbox_link(record),
    };
    let text = TextEmail { s: &summary }.render()?;
    let html = HtmlEmail { s: &summary }.render()?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(summary.subject.clone())
        .message_id(Some(message_id(record, from)));
    if let Some(reply_to) = record
        .contact_email
        .as_deref()
        .and_then(|a| a.parse::<Mailbox>().ok())
    {
        builder = builder.reply_to(reply_to);
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(text, html))?)
}
