//! Prometheus metrics: counts of requests, intakes, handoffs and finding
//! kinds (never values), bot discards and held intakes, delivery health, and the time scrub
//! and triage take. One registry per app, rendered at `GET /metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use crate::store::IntakeRecord;
use crate::store::OutboxLag;

/// Every metric the gateway exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// HTTP requests by matched route and status.
    pub http_requests: IntCounterVec,
    /// HTTP request latency by matched route.
    pub http_duration: HistogramVec,
    /// Stored intakes by route and privacy decision.
    pub intakes: IntCounterVec,
    /// Stored intakes the router was unsure of, by route.
    pub needs_review: IntCounterVec,
    /// Stored intakes by handoff named.
    pub handoffs: IntCounterVec,
    /// Findings by kind.
    pub findings: IntCounterVec,
    /// Form posts that filled the honeypot, dropped.
    pub bot_discards: IntCounter,
    /// Form posts held back from the mail (sent faster than a person fills
    /// a form): stored for the consultant to release.
    pub held: IntCounter,
    /// Loads of the embedded form by pages not in `embed.allowed_origins`.
    pub embed_refused: IntCounter,
    /// Emails waiting.
    pub outbox_pending: IntGauge,
    /// Emails given up on.
    pub outbox_dead: IntGauge,
    /// Emails held until their intakes are released.
    pub outbox_held: IntGauge,
    /// Age of the oldest waiting email.
    pub outbox_oldest: IntGauge,
    /// Failed send attempts.
    pub send_failures: IntCounter,
    /// Time to scrub one submission (all its fields).
    pub scrub_seconds: Histogram,
    /// Time to triage one submission.
    pub triage_seconds: Histogram,
    /// Inbox sign-ins by outcome: signed_in, refused, limited.
    pub inbox_sign_ins: IntCounterVec,
    /// Inbox actions: answered, reopened, confirmed, corrected, erased,
    /// exported_csv, exported_labels.
    pub inbox_actions: IntCounterVec,
    /// Route corrections, by the model's route and the consultant's.
    pub inbox_route_corrections: IntCounterVec,
    /// Handoffs a correction added or removed.
    pub inbox_handoff_corrections: IntCounterVec,
    /// From an intake's arrival to its first "answered".
    pub inbox_time_to_answer: Histogram,
    /// Webhook delivery attempts by endpoint name and outcome: sent,
    /// retry, dead.
    pub webhook_deliveries: IntCounterVec,
}

const FAST_BUCKETS: &[f64] = &[
    0.000_05, 0.0001, 0.000_25, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/// Minutes to a week: how long an intake waits for its answer.
const ANSWER_BUCKETS: &[f64] = &[
    300.0, 900.0, 3_600.0, 14_400.0, 43_200.0, 86_400.0, 172_800.0, 604_800.0,
];

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("handoff_gate".to_owned()), None)
            .expect("the metric prefix is valid");
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let histogram = |name: &str, help: &str| {
            let metric =
                Histogram::with_opts(HistogramOpts::new(name, help).buckets(FAST_BUCKETS.to_vec()))
                    .expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let inbox_time_to_answer = Histogram::with_opts(
            HistogramOpts::new(
                "inbox_time_to_answer_seconds",
                "time from an intake's arrival to its first answer in the inbox",
            )
            .buckets(ANSWER_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        registry
            .register(Box::new(inbox_time_to_answer.clone()))
            .expect("registered once");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            ),
            &["route"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(http_duration.clone()))
            .expect("registered once");
        Metrics {
            http_requests: counter_vec(
                "http_requests_total",
                "HTTP requests by route and status",
                &["route", "status"],
            ),
            http_duration,
            intakes: counter_vec(
                "intakes_total",
                "stored intakes by route and privacy decision",
                &["route", "privacy"],
            ),
            needs_review: counter_vec(
                "intakes_needs_review_total",
                "stored intakes whose route probability was below triage.review_below, by route",
                &["route"],
            ),
            handoffs: counter_vec(
                "intake_handoffs_total",
                "stored intakes by handoff named",
                &["handoff"],
            ),
            findings: counter_vec(
                "findings_total",
                "private values removed, by kind (never the values)",
                &["kind"],
            ),
            bot_discards: counter(
                "bot_discards_total",
                "form posts that filled the honeypot, dropped",
            ),
            held: counter(
                "intakes_held_total",
                "form posts sent faster than min_fill_seconds, stored but held from the mail until released",
            ),
            embed_refused: counter(
                "embed_refused_total",
                "loads of the embedded form by pages not in embed.allowed_origins",
            ),
            outbox_pending: gauge("outbox_pending", "emails waiting to be sent"),
            outbox_dead: gauge("outbox_dead", "emails given up on after the last attempt"),
            outbox_held: gauge(
                "outbox_held",
                "emails of held intakes, waiting for the consultant to release them (handoff-gate held)",
            ),
            outbox_oldest: gauge(
                "outbox_oldest_pending_seconds",
                "age of the oldest waiting email",
            ),
            send_failures: counter("email_send_failures_total", "failed email send attempts"),
            scrub_seconds: histogram("scrub_seconds", "time to scrub one submission"),
            triage_seconds: histogram("triage_seconds", "time to triage one submission"),
            inbox_sign_ins: counter_vec(
                "inbox_sign_ins_total",
                "inbox sign-in attempts by outcome",
                &["outcome"],
            ),
            inbox_actions: counter_vec("inbox_actions_total", "inbox actions by kind", &["action"]),
            inbox_route_corrections: counter_vec(
                "inbox_route_corrections_total",
                "routes corrected in the inbox, by the model's route and the consultant's",
                &["model_route", "route"],
            ),
            inbox_handoff_corrections: counter_vec(
                "inbox_handoff_corrections_total",
                "handoffs added or removed by a correction in the inbox",
                &["handoff", "change"],
            ),
            inbox_time_to_answer,
            webhook_deliveries: counter_vec(
                "webhook_deliveries_total",
                "webhook delivery attempts by endpoint name and outcome (sent, retry, dead)",
                &["endpoint", "outcome"],
            ),
            registry,
        }
    }

    /// Count a stored intake.
    pub fn intake_stored(&self, record: &IntakeRecord) {
        self.intakes
            .with_label_values(&[record.route.as_str(), record.privacy.as_str()])
            .inc();
        if record.needs_review {
            self.needs_review
                .with_label_values(&[record.route.as_str()])
                .inc();
        }
        for handoff in &record.handoffs {
            self.handoffs.with_label_values(&[handoff.as_str()]).inc();
        }
        for (kind, count) in &record.removed {
            self.findings
                .with_label_values(&[kind.as_str()])
                .inc_by(*count as u64);
        }
    }

    /// The Prometheus text exposition, with the outbox gauges set from `lag`.
    pub fn render(&self, lag: Option<OutboxLag>) -> String {
        if let Some(lag) = lag {
            self.outbox_pending.set(lag.pending as i64);
            self.outbox_dead.set(lag.dead as i64);
            self.outbox_held.set(lag.held as i64);
            self.outbox_oldest.set(lag.oldest_pending_seconds as i64);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding does not fail");
        String::from_utf8(out).expect("the exposition is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
