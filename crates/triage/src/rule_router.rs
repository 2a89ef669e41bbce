//! The keyword router: the rubric's precedence applied to the rules'
//! evidence alone, with no model. Kept as the baseline the trained router is
//! measured against, and for rules files that need no model.

use super::evidence::{Evidence, Observation, terms};
use super::router::{Router, Routing, handoff_signals, tools_on};
use super::rules::{Compiled, Flag};
use super::{About, Cause, Handoff, Reason, Route, Signal};

/// Routes by the rubric's precedence over the rules' terms.
#[derive(Debug)]
pub(super) struct RuleRouter;

impl Router for RuleRouter {
    fn route(&self, obs: &Observation) -> Routing {
        let handoffs = handoffs(obs);
        let (route, because) = route(obs, &handoffs);
        let mut reasons = vec![Reason {
            about: About::Route(route),
            because,
        }];
        reasons.extend(handoffs.iter().map(|h| Reason {
            about: About::Handoff(*h),
            because: handoff_signals(obs, *h),
        }));
        Routing {
            route,
            handoffs,
            confidence: 1.0,
            reasons,
        }
    }
}

/// A handoff is found when its evidence weighs enough and includes a strong
/// term or a tool on it; the heaviest comes first.
fn handoffs(obs: &Observation) -> Vec<Handoff> {
    let (rules, ev) = (obs.rules, &obs.evidence);
    let w = &rules.spec.weights;
    let mut found: Vec<(u32, Handoff)> = Vec::new();
    for &handoff in Handoff::ALL {
        let strong = ev.strong.get(&handoff).map_or(0, |q| distinct(q));
        let weak = ev.weak.get(&handoff).map_or(0, |q| distinct(q));
        let on_it = tools_on(obs, handoff).len() as u32;
        let score = strong * w.strong_term + weak * w.weak_term + on_it * w.tool_role;
        let anchored = strong > 0 || on_it > 0;
        if anchored && score >= rules.spec.thresholds.handoff_min_score {
            found.push((score, handoff));
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, h)| h).collect()
}

fn distinct(quotes: &[super::evidence::Quote]) -> u32 {
    let mut seen: Vec<usize> = quotes.iter().map(|q| q.term).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len() as u32
}

/// The rubric's precedence: the first route whose conditions hold wins.
fn route(obs: &Observation, handoffs: &[Handoff]) -> (Route, Vec<Cause>) {
    let (rules, ev) = (obs.rules, &obs.evidence);
    let t = &rules.spec.thresholds;
    let tools = ev.tools.len();
    let signal = |flag: Flag, signal: Signal| Cause::Signal {
        signal,
        terms: terms(rules, ev.flag(flag)),
    };
    let raised = |flag: Flag| !ev.flag(flag).is_empty();
    let on_topic =
        tools > 0 || !ev.strong.is_empty() || raised(Flag::Domain) || raised(Flag::Learning);

    let mut because: Vec<Cause> = no_fit_rules(rules, ev, on_topic);
    if because.is_empty() && !on_topic {
        because.push(Cause::Signal {
            signal: Signal::OffTopic,
            terms: Vec::new(),
        });
    }
    if !because.is_empty() {
        return (Route::NoFit, because);
    }

    if tools >= t.audit_min_tools {
        because.push(Cause::Signal {
            signal: Signal::ManyTools { count: tools },
            terms: Vec::new(),
        });
    }
    let named: Vec<Handoff> = handoffs
        .iter()
        .copied()
        .filter(|h| ev.strong.contains_key(h))
        .collect();
    if named.len() >= t.audit_min_handoffs {
        because.push(Cause::Signal {
            signal: Signal::ManyHandoffs { handoffs: named },
            terms: Vec::new(),
        });
    }
    for (flag, s) in [
        (Flag::LiveImpact, Signal::LiveImpact),
        (Flag::Recurrence, Signal::Recurrence),
        (Flag::UnclearPath, Signal::UnclearPath),
    ] {
        if raised(flag) {
            because.push(signal(flag, s));
        }
    }
    if !because.is_empty() {
        return (Route::SystemsAudit, because);
    }

    let failure = raised(Flag::Failure);
    if failure && (tools > 0 || !handoffs.is_empty()) && tools <= t.repair_max_tools {
        return (Route::Repair, vec![signal(Flag::Failure, Signal::Failure)]);
    }

    let learning = raised(Flag::Learning);
    if raised(Flag::SelfCheck) || (raised(Flag::PreLaunch) && !learning) {
        for (flag, s) in [
            (Flag::SelfCheck, Signal::SelfCheck),
            (Flag::PreLaunch, Signal::PreLaunch),
        ] {
            if raised(flag) {
                because.push(signal(flag, s));
            }
        }
        return (Route::Checklist, because);
    }

    if learning {
        because.push(signal(Flag::Learning, Signal::Learning));
    }
    if !failure || (tools == 0 && handoffs.is_empty()) {
        because.push(Cause::Signal {
            signal: Signal::Vague,
            terms: Vec::new(),
        });
    }
    (Route::Nurture, because)
}

/// Every no-fit entry whose terms were found (`only_off_topic` ones only
/// when nothing else ties the text to CRM work).
fn no_fit_rules(rules: &Compiled, ev: &Evidence, on_topic: bool) -> Vec<Cause> {
    ev.no_fits
        .iter()
        .map(|(i, quotes)| (&rules.spec.no_fits[*i], quotes))
        .filter(|(spec, _)| !spec.only_off_topic || !on_topic)
        .map(|(spec, quotes)| Cause::Rule {
            rule: spec.id.clone(),
            says: spec.says.clone(),
            terms: terms(rules, quotes),
        })
        .collect()
}
