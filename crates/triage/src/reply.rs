//! The public answer to a comment. It is built from the rules' texts only,
//! so it cannot repeat anything the person wrote.

use super::evidence::Evidence;
use super::rules::Compiled;
use super::{Handoff, Privacy, Route};
use handoff_intake::ScrubbedIntake;

/// Name the broken handoff first, give the route's next step, ask what should
/// happen and what happens now; tell the person to remove private data.
pub(super) fn compose(
    rules: &Compiled,
    route: Route,
    evidence: &Evidence,
    handoffs: &[Handoff],
    privacy: Privacy,
    intake: &ScrubbedIntake,
) -> String {
    let texts = &rules.spec.reply;
    let mut sentences: Vec<String> = Vec::new();
    if route == Route::NoFit {
        let answer = evidence.no_fits.first().map_or_else(
            || no_fit_fallback(rules),
            |(i, _)| rules.spec.no_fits[*i].reply.clone(),
        );
        sentences.push(answer);
    } else {
        let labels: Vec<&str> = handoffs
            .iter()
            .map(|h| rules.handoff(*h).label.as_str())
            .collect();
        sentences.push(match labels.as_slice() {
            [] => texts.no_handoff.clone(),
            labels => texts
                .names_handoff
                .replace("{handoff}", &labels.join(" and ")),
        });
        sentences.push(rules.route_text(route).reply.clone());
        sentences.push(texts.ask.clone());
    }
    if privacy != Privacy::Clean {
        sentences.push(texts.remove_private.clone());
    }
    if intake.exposed_credentials() {
        sentences.push(texts.rotate.clone());
    }
    sentences.retain(|s| !s.trim().is_empty());
    sentences.join(" ")
}

/// Off-topic by absence of any signal: the off-topic entry's reply, if the rules have one.
fn no_fit_fallback(rules: &Compiled) -> String {
    rules
        .spec
        .no_fits
        .iter()
        .find(|n| n.only_off_topic)
        .map(|n| n.reply.clone())
        .unwrap_or_default()
}
