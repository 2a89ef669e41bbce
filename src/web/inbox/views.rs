//! How stored values read on inbox pages and in exports: times, routes,
//! confidence, handoffs, what was removed, statuses, mail states.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use handoff_scrub::FindingKind;
use handoff_triage::{Handoff, Route, Rules};

use crate::deliver::email::Letterhead;
use crate::store::{Entry, MailState, Status};

/// A time as shown (in `consultant.time_zone`) and as machine-read (RFC 3339, UTC).
pub struct When {
    /// For people: `Mon 30 Nov 2026, 08:12 CET`.
    pub shown: String,
    /// For `<time datetime>`: `2026-11-30T07:12:00Z`.
    pub iso: String,
}

/// A stored time (milliseconds since the epoch) for a page.
pub fn when(letterhead: &Letterhead, ms: i64) -> When {
    When {
        shown: letterhead.local_time(ms),
        iso: iso(ms),
    }
}

/// A stored time in RFC 3339 (UTC), as exports give it.
pub fn iso(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `systems audit` for `systems_audit`.
pub fn route_name(route: Route) -> String {
    route.as_str().replace('_', " ")
}

/// `83 %`.
pub fn confidence(value: f32) -> String {
    format!("{:.0} %", value * 100.0)
}

/// The handoffs as the rules label them (`payment → access`).
pub fn handoff_labels(rules: &Rules, handoffs: &[Handoff]) -> Vec<String> {
    handoffs
        .iter()
        .map(|h| rules.handoff_label(*h).to_owned())
        .collect()
}

/// What was removed, compactly: `2 × email`.
pub fn removed(counts: &BTreeMap<FindingKind, usize>) -> Vec<String> {
    counts
        .iter()
        .map(|(kind, n)| format!("{n} × {}", kind.as_str()))
        .collect()
}

/// A status as a tab and a row say it.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::New => "New",
        Status::Held => "Held",
        Status::MailFailed => "Mail failed",
        Status::Answered => "Answered",
    }
}

/// Where an intake's email stands, in a few words.
pub fn mail(letterhead: &Letterhead, entry: &Entry) -> String {
    match &entry.mail {
        MailState::Waiting { attempts: 0, .. } => "waiting to be sent".to_owned(),
        MailState::Waiting { attempts, .. } => {
            format!("retrying after {attempts} failed attempt(s)")
        }
        MailState::Sent { at_ms: Some(at) } => format!("sent {}", letterhead.local_time(*at)),
        MailState::Sent { at_ms: None } => "sent".to_owned(),
        MailState::Failed { attempts, .. } => format!("failed after {attempts} attempt(s)"),
        MailState::Held => "held: not mailed until released".to_owned(),
        MailState::Purged => "sent (its outbox row was purged)".to_owned(),
    }
}

/// The first `chars` characters of a text on one line, with `…` if cut.
pub fn excerpt(text: &str, chars: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line,
    }
}

/// Everything but RFC 3986's unreserved characters, escaped.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query-string or `mailto:` component, percent-encoded.
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COMPONENT).to_string()
}

/// A `mailto:` link to `address` with a subject line. The address keeps
/// its `@`; everything a URI could misread is escaped.
pub fn mailto(address: &str, subject: &str) -> String {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    format!(
        "mailto:{}@{}?subject={}",
        encode(local),
        encode(domain),
        encode(subject)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_exported_in_utc() {
        assert_eq!(iso(1_764_486_720_000), "2025-11-30T07:12:00Z");
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("a  b\nc", 10), "a b c");
        assert_eq!(excerpt("ünïcödé text", 7), "ünïcödé…");
    }

    #[test]
    fn mailto_escapes_what_a_uri_could_misread() {
        assert_eq!(
            mailto("a+b@mybiz.test", "Re: your question"),
            "mailto:a%2Bb@mybiz.test?subject=Re%3A%20your%20question"
        );
    }
}
