//! Routers: what decides the route and the handoffs from what the rules
//! observed. The keyword rules ([`RuleRouter`](super::rule_router::RuleRouter))
//! and the trained model ([`ModelRouter`]) are the two implementations.

use std::cmp::Ordering;
use std::fmt;

use super::evidence::{Observation, terms};
use super::model::{self, Model};
use super::rules::Flag;
use super::{About, Cause, Handoff, Reason, Route, Signal};

/// How many of the model's words a reason lists.
const WORDS_SHOWN: usize = 4;

/// Words too common to explain anything on their own: a gram made only of
/// them, or ending in one ("ghl the"), is not shown; "is not" and "the tag" are.
/// Sorted, for a binary search.
const FUNCTION_WORDS: [&str; 32] = [
    "a", "an", "and", "are", "at", "be", "but", "for", "from", "have", "i", "in", "is", "it", "me",
    "my", "of", "on", "or", "our", "so", "that", "the", "their", "them", "they", "this", "to",
    "was", "we", "with", "you",
];

/// A router's decision.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Routing {
    pub route: Route,
    /// The strongest first.
    pub handoffs: Vec<Handoff>,
    /// The route's probability; 1 when a rule decided.
    pub confidence: f32,
    /// The route's reason first, then one per handoff.
    pub reasons: Vec<Reason>,
}

/// Decides the route and the handoffs of one observation.
pub(super) trait Router: fmt::Debug + Send + Sync {
    /// Decide, with the reasons.
    fn route(&self, obs: &Observation) -> Routing;

    /// The trained model it routes with, if any.
    fn model(&self) -> Option<&Model> {
        None
    }
}

/// The trained model, under the rubric's bright lines: prompt injection,
/// guarantees, instant or free fixes, account access through a public
/// comment, spam and service offers are `no_fit` whatever the model says;
/// otherwise three or more named tools (`audit_min_tools`) make a
/// `systems_audit`, as the rubric counts them.
#[derive(Debug)]
pub(super) struct ModelRouter {
    pub model: Model,
}

impl Router for ModelRouter {
    fn model(&self) -> Option<&Model> {
        Some(&self.model)
    }

    fn route(&self, obs: &Observation) -> Routing {
        let (features, words) = self.model.settings.features_and_words(obs);
        let scores = self.model.scores(&features);
        let words = self.weighed_words(words);
        let routes = model::route_probabilities(&scores);
        let handoff_p = model::handoff_probabilities(&scores);
        let rules = obs.rules;

        let bright_lines: Vec<Cause> = obs
            .evidence
            .no_fits
            .iter()
            .map(|(i, quotes)| (&rules.spec.no_fits[*i], quotes))
            .filter(|(spec, _)| spec.bright_line)
            .map(|(spec, quotes)| Cause::Rule {
                rule: spec.id.clone(),
                says: spec.says.clone(),
                terms: terms(rules, quotes),
            })
            .collect();
        let best = (0..routes.len())
            .max_by(|a, b| routes[*a].total_cmp(&routes[*b]).then(b.cmp(a)))
            .expect("there are routes");
        let tools = obs.evidence.tools.len();
        let min_tools = rules.spec.thresholds.audit_min_tools;
        let (route, confidence, bright_lines) = if !bright_lines.is_empty() {
            (Route::NoFit, 1.0, bright_lines)
        } else if Route::ALL[best] != Route::NoFit && tools >= min_tools {
            // The rubric counts tools outright: three or more is an audit.
            let rule = Cause::Rule {
                rule: "audit_min_tools".to_owned(),
                says: format!("{tools} tools named, an audit from {min_tools}"),
                terms: Vec::new(),
            };
            (Route::SystemsAudit, 1.0, vec![rule])
        } else {
            (Route::ALL[best], routes[best], bright_lines)
        };

        let handoffs = decode_handoffs(route, &handoff_p);
        let mut because = bright_lines;
        let output = model::route_output(route);
        because.push(Cause::Model {
            probability: routes[output],
            words: words_for(&words, output),
        });
        because.extend(fired_signals(obs));
        let mut reasons = vec![Reason {
            about: About::Route(route),
            because,
        }];
        for handoff in &handoffs {
            let output = model::handoff_output(*handoff);
            let mut because = vec![Cause::Model {
                probability: handoff_p[output - Route::ALL.len()],
                words: words_for(&words, output),
            }];
            because.extend(handoff_signals(obs, *handoff));
            reasons.push(Reason {
                about: About::Handoff(*handoff),
                because,
            });
        }
        Routing {
            route,
            handoffs,
            confidence,
            reasons,
        }
    }
}

impl ModelRouter {
    /// The distinct word n-grams the model has weights for, with their
    /// weights, less those ending in a function word.
    fn weighed_words<'t>(&self, mut words: Vec<(u32, &'t str)>) -> Vec<(&[f32], &'t str)> {
        // A gram always has the same slot: sorted by slot, then gram, the
        // copies of a gram lie together, found mostly by comparing numbers.
        words.sort_unstable();
        words.dedup();
        let mut weighed = Vec::with_capacity(words.len());
        weighed.extend(
            words
                .into_iter()
                .filter(|(_, gram)| {
                    gram.rsplit(' ')
                        .next()
                        .is_none_or(|w| FUNCTION_WORDS.binary_search(&w).is_err())
                })
                .filter_map(|(slot, gram)| self.model.row(slot).map(|row| (row, gram))),
        );
        weighed
    }
}

/// The words and word pairs of the text whose weights pushed `output` up
/// the most, strongest first.
fn words_for(words: &[(&[f32], &str)], output: usize) -> Vec<String> {
    // The grams are distinct, so the order is total: keeping the strongest
    // few in order as they come gives what sorting them all would.
    let stronger = |a: &(f32, &str), b: &(f32, &str)| {
        b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)) == Ordering::Less
    };
    let mut best: Vec<(f32, &str)> = Vec::with_capacity(WORDS_SHOWN + 1);
    for (row, gram) in words {
        let push = (row[output], *gram);
        if push.0 > 0.0 {
            let at = best.partition_point(|kept| stronger(kept, &push));
            if at < WORDS_SHOWN {
                best.insert(at, push);
                best.truncate(WORDS_SHOWN);
            }
        }
    }
    best.into_iter().map(|(_, gram)| gram.to_owned()).collect()
}

/// Which handoffs, from their probabilities and the route: the rubric's
/// repair and checklist concern one handoff (the likeliest), nurture none
/// (nothing specific is named), an audit at least one; otherwise each
/// handoff more likely than not.
fn decode_handoffs(route: Route, p: &[f32; Handoff::ALL.len()]) -> Vec<Handoff> {
    let mut ranked: Vec<(f32, Handoff)> = p
        .iter()
        .copied()
        .zip(Handoff::ALL.iter().copied())
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let likely = ranked.iter().filter(|(p, _)| *p >= 0.5).count();
    let keep = match route {
        Route::Nurture => 0,
        Route::Repair | Route::Checklist => 1,
        Route::SystemsAudit => likely.max(1),
        Route::NoFit => likely,
    };
    ranked.into_iter().take(keep).map(|(_, h)| h).collect()
}

/// The rubric signals that fired, with the rules' terms behind each.
pub(super) fn fired_signals(obs: &Observation) -> Vec<Cause> {
    let ev = &obs.evidence;
    let t = &obs.rules.spec.thresholds;
    let mut causes = Vec::new();
    if ev.tools.len() >= t.audit_min_tools {
        causes.push(Cause::Signal {
            signal: Signal::ManyTools {
                count: ev.tools.len(),
            },
            terms: Vec::new(),
        });
    }
    if ev.strong.len() >= t.audit_min_handoffs {
        causes.push(Cause::Signal {
            signal: Signal::ManyHandoffs {
                handoffs: ev.strong.keys().copied().collect(),
            },
            terms: Vec::new(),
        });
    }
    for (flag, signal) in [
        (Flag::LiveImpact, Signal::LiveImpact),
        (Flag::Recurrence, Signal::Recurrence),
        (Flag::UnclearPath, Signal::UnclearPath),
        (Flag::Failure, Signal::Failure),
        (Flag::SelfCheck, Signal::SelfCheck),
        (Flag::PreLaunch, Signal::PreLaunch),
        (Flag::Learning, Signal::Learning),
    ] {
        let quotes = ev.flag(flag);
        if !quotes.is_empty() {
            causes.push(Cause::Signal {
                signal,
                terms: terms(obs.rules, quotes),
            });
        }
    }
    causes
}

/// The rules' evidence for one handoff: its strong terms, its weak words and
/// the named tools whose role sits on it.
pub(super) fn handoff_signals(obs: &Observation, handoff: Handoff) -> Vec<Cause> {
    let ev = &obs.evidence;
    let rules = obs.rules;
    let mut causes = Vec::new();
    for (quotes, signal) in [
        (ev.strong.get(&handoff), Signal::NamesHandoff),
        (ev.weak.get(&handoff), Signal::HintsHandoff),
    ] {
        if let Some(quotes) = quotes.filter(|q| !q.is_empty()) {
            causes.push(Cause::Signal {
                signal,
                terms: terms(rules, quotes),
            });
        }
    }
    let tools = tools_on(obs, handoff);
    if !tools.is_empty() {
        causes.push(Cause::Signal {
            signal: Signal::ToolsOnHandoff { tools },
            terms: Vec::new(),
        });
    }
    causes
}

/// The named tools whose role sits on `handoff`.
pub(super) fn tools_on(obs: &Observation, handoff: Handoff) -> Vec<String> {
    let roles = &obs.rules.handoff(handoff).tool_roles;
    obs.evidence
        .tools
        .iter()
        .map(|(i, _)| &obs.rules.spec.tools[*i])
        .filter(|tool| tool.roles.iter().any(|r| roles.contains(r)))
        .map(|tool| tool.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_sorted() {
        assert!(FUNCTION_WORDS.is_sorted());
    }

    #[test]
    fn handoffs_follow_the_route() {
        let p = [0.9, 0.7, 0.2, 0.55, 0.1];
        use Handoff::*;
        assert_eq!(decode_handoffs(Route::Nurture, &p), []);
        assert_eq!(decode_handoffs(Route::Repair, &p), [FormToCrm]);
        assert_eq!(
            decode_handoffs(Route::SystemsAudit, &p),
            [FormToCrm, CrmToFollowup, BookingToPipeline]
        );
        let unsure = [0.1, 0.3, 0.2, 0.05, 0.1];
        assert_eq!(
            decode_handoffs(Route::SystemsAudit, &unsure),
            [CrmToFollowup]
        );
        assert_eq!(decode_handoffs(Route::NoFit, &unsure), []);
    }
}
