//! From a router's decision to the whole triage: tools, privacy, missing
//! fields, confidence and the public reply.

use super::evidence::{Observation, terms};
use super::features::privacy_of;
use super::router::Routing;
use super::{About, Cause, Privacy, Reason, Triage, reply};
use handoff_intake::{Channel, IntakeField};
use handoff_scrub::FindingKind;

pub(super) fn assemble(obs: &Observation, routing: Routing, review_below: f32) -> Triage {
    let rules = obs.rules;
    let intake = obs.intake;
    let Routing {
        route,
        handoffs,
        confidence,
        reasons: routed,
    } = routing;
    let mut reasons = Vec::with_capacity(routed.len() + 2);
    if !obs.evidence.tools.is_empty() {
        reasons.push(Reason {
            about: About::Tools,
            because: obs
                .evidence
                .tools
                .iter()
                .map(|(i, quotes)| Cause::Tool {
                    name: rules.spec.tools[*i].name.clone(),
                    terms: terms(rules, quotes),
                })
                .collect(),
        });
    }
    reasons.extend(routed);
    let privacy = privacy_of(obs);
    reasons.push(privacy_reason(obs, privacy));
    let tools = obs.tool_names();
    let missing_fields = rules
        .route_text(route)
        .missing
        .iter()
        .copied()
        .filter(|field| !intake.has(*field))
        .filter(|field| *field != IntakeField::AffectedTools || tools.is_empty())
        .collect();
    let is_comment = intake.channel() == Channel::Comment;
    let reply =
        is_comment.then(|| reply::compose(rules, route, &obs.evidence, &handoffs, privacy, intake));
    Triage {
        route,
        confidence,
        needs_review: confidence < review_below,
        handoffs,
        privacy,
        tools,
        reasons,
        missing_fields,
        reply,
        hide: is_comment && privacy != Privacy::Clean,
    }
}

fn privacy_reason(obs: &Observation, privacy: Privacy) -> Reason {
    let intake = obs.intake;
    let mut because = match privacy {
        Privacy::Reject if intake.attachment() => vec![Cause::Attachment],
        Privacy::Reject => vec![Cause::PastedExport {
            fields: intake
                .fields()
                .iter()
                .filter(|f| f.rejected)
                .map(|f| f.field)
                .collect(),
        }],
        Privacy::Redact => {
            let counts = intake.counts();
            FindingKind::ALL
                .iter()
                .filter_map(|kind| {
                    counts.get(kind).map(|count| Cause::Removed {
                        finding: *kind,
                        count: *count,
                    })
                })
                .collect()
        }
        Privacy::Clean => vec![Cause::NothingPrivate],
    };
    if intake.exposed_credentials() {
        because.push(Cause::ExposedCredential);
    }
    Reason {
        about: About::Privacy(privacy),
        because,
    }
}
