//! The queue: tabs by status and by route with their counts, a search over
//! the scrubbed text and fields, newest first, paged.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::views::{self, When};
use super::{Chrome, Consultant, InboxError, render};
use crate::deliver::email::Letterhead;
use crate::store::{Entry, QueueFilter, Status};
use crate::web::AppState;
use handoff_triage::Route;

/// The queue's address: a filter and a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueQuery {
    /// Which intakes.
    pub filter: QueueFilter,
    /// From 1.
    pub page: u64,
}

impl QueueQuery {
    /// Read `status`, `route`, `q` and `page`; unknown values are ignored.
    pub fn parse(query: &str) -> QueueQuery {
        let mut parsed = QueueQuery {
            page: 1,
            ..QueueQuery::default()
        };
        for (name, value) in crate::web::embed::query_pairs(query) {
            match name.as_str() {
                "status" => parsed.filter.status = value.parse().ok(),
                "route" => parsed.filter.route = value.parse().ok(),
                "q" => {
                    let q: String = value.trim().chars().take(200).collect();
                    parsed.filter.search = (!q.is_empty()).then_some(q);
                }
                "page" => parsed.page = value.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        parsed
    }

    /// The query string of this filter (and page, past the first).
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.filter.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if let Some(route) = self.filter.route {
            parts.push(format!("route={}", route.as_str()));
        }
        if let Some(q) = &self.filter.search {
            parts.push(format!("q={}", views::encode(q)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }

    /// `path` with this query.
    pub fn link(&self, path: &str) -> String {
        match self.query_string() {
            query if query.is_empty() => path.to_owned(),
            query => format!("{path}?{query}"),
        }
    }

    fn with(&self, change: impl FnOnce(&mut QueueQuery)) -> QueueQuery {
        let mut changed = self.clone();
        changed.page = 1;
        change(&mut changed);
        changed
    }
}

struct Tab {
    label: String,
    count: u64,
    href: String,
    current: bool,
}

struct Row {
    href: String,
    received: When,
    excerpt: String,
    route: String,
    corrected_from: Option<String>,
    confidence: String,
    needs_review: bool,
    handoffs: Vec<String>,
    tools: String,
    removed: Vec<String>,
    channel: &'static str,
    status: &'static str,
}

struct Pager {
    page: u64,
    pages: u64,
    newer: Option<String>,
    older: Option<String>,
}

struct ModelNote {
    trained_on: Option<u32>,
    since: When,
    corrections: u64,
}

#[derive(Template)]
#[template(path = "inbox/queue.html")]
struct QueuePage {
    chrome: Chrome,
    search: String,
    hidden: Vec<(&'static str, &'static str)>,
    status_tabs: Vec<Tab>,
    route_tabs: Vec<Tab>,
    heading: String,
    rows: Vec<Row>,
    matching: u64,
    pager: Pager,
    csv_href: String,
    model: ModelNote,
}

/// `GET /inbox?status=…&route=…&q=…&page=…`
pub async fn page(
    req: HttpRequest,
    consultant: Consultant,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let query = QueueQuery::parse(req.query_string());
    let per_page = state.config.inbox.page_size;
    let store = &state.store;
    let counts = store.queue_counts(&query.filter).await?;
    let matching = counts.matching(&query.filter);
    let pages = matching.div_ceil(u64::from(per_page)).max(1);
    let page = query.page.min(pages);
    let entries = store
        .queue(&query.filter, (page - 1) * u64::from(per_page), per_page)
        .await?;
    let rules = state.pipeline.rules();
    let letterhead = &state.inbox.letterhead;
    let rows = entries.iter().map(|e| row(e, rules, letterhead)).collect();

    let mut status_tabs = vec![Tab {
        label: "All".to_owned(),
        count: counts.by_status.values().sum(),
        href: query.with(|q| q.filter.status = None).link("/inbox"),
        current: query.filter.status.is_none(),
    }];
    status_tabs.extend(Status::ALL.iter().map(|status| {
        Tab {
            label: views::status_name(*status).to_owned(),
            count: counts.by_status.get(status).copied().unwrap_or(0),
            href: query
                .with(|q| q.filter.status = Some(*status))
                .link("/inbox"),
            current: query.filter.status == Some(*status),
        }
    }));
    let mut route_tabs = vec![Tab {
        label: "Any route".to_owned(),
        count: counts.by_route.values().sum(),
        href: query.with(|q| q.filter.route = None).link("/inbox"),
        current: query.filter.route.is_none(),
    }];
    route_tabs.extend(Route::ALL.iter().map(|route| Tab {
        label: views::route_name(*route),
        count: counts.by_route.get(route).copied().unwrap_or(0),
        href: query.with(|q| q.filter.route = Some(*route)).link("/inbox"),
        current: query.filter.route == Some(*route),
    }));
    let mut hidden = Vec::new();
    if let Some(status) = query.filter.status {
        hidden.push(("status", status.as_str()));
    }
    if let Some(route) = query.filter.route {
        hidden.push(("route", route.as_str()));
    }
    let at = |p: u64| {
        let mut paged = query.clone();
        paged.page = p;
        paged.link("/inbox")
    };
    let model = &state.inbox.model;
    let page_view = QueuePage {
        chrome: Chrome::of(&consultant),
        search: query.filter.search.clone().unwrap_or_default(),
        hidden,
        status_tabs,
        route_tabs,
        heading: heading(&query.filter),
        rows,
        matching,
        pager: Pager {
            page,
            pages,
            newer: (page > 1).then(|| at(page - 1)),
            older: (page < pages).then(|| at(page + 1)),
        },
        csv_href: query.with(|_| {}).link("/inbox/export.csv"),
        model: ModelNote {
            trained_on: model.provenance.as_ref().map(|p| p.examples),
            since: views::when(letterhead, model.first_served_ms),
            corrections: store.corrections_since(model.first_served_ms).await?,
        },
    };
    render(&page_view, StatusCode::OK)
}

/// "New intakes filed under repair, matching “kajabi”".
fn heading(filter: &QueueFilter) -> String {
    let mut heading = match filter.status {
        Some(status) => format!("{} intakes", views::status_name(status)),
        None => "All intakes".to_owned(),
    };
    if let Some(route) = filter.route {
        heading.push_str(&format!(" filed under {}", views::route_name(route)));
    }
    if let Some(q) = &filter.search {
        heading.push_str(&format!(", matching “{q}”"));
    }
    heading
}

fn row(entry: &Entry, rules: &handoff_triage::Rules, letterhead: &Letterhead) -> Row {
    let record = &entry.record;
    let corrected = entry.label.as_ref().filter(|l| l.route != record.route);
    Row {
        href: format!("/inbox/{}", record.id),
        received: views::when(letterhead, record.created_at_ms),
        excerpt: views::excerpt(
            record
                .field(handoff_intake::IntakeField::Message)
                .unwrap_or(""),
            110,
        ),
        route: views::route_name(entry.route()),
        corrected_from: corrected.map(|_| views::route_name(record.route)),
        confidence: views::confidence(record.confidence),
        needs_review: record.needs_review && entry.label.is_none(),
        handoffs: views::handoff_labels(rules, entry.handoffs()),
        tools: record.tools.join(", "),
        removed: views::removed(&record.removed),
        channel: record.channel.as_str(),
        status: views::status_name(entry.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_addresses_round_trip_and_ignore_nonsense() {
        let query = QueueQuery::parse("status=mail_failed&route=repair&q=Kajabi+%26+Stripe&page=3");
        assert_eq!(query.filter.status, Some(Status::MailFailed));
        assert_eq!(query.filter.route, Some(Route::Repair));
        assert_eq!(query.filter.search.as_deref(), Some("Kajabi & Stripe"));
        assert_eq!(query.page, 3);
        assert_eq!(QueueQuery::parse(&query.query_string()), query);
        let odd = QueueQuery::parse("status=lost&route=x&page=-2&q=+++");
        assert_eq!(odd, QueueQuery::parse(""));
    }
}
