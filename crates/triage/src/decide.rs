//! From evidence to decisions: handoffs, route, privacy, missing fields.

use std::fmt::Write as _;

use super::evidence::{Evidence, Quote, Quotes};
use super::rules::{Compiled, Flag};
use super::{Handoff, Privacy, Reason, Route, Triage, reply};
use handoff_intake::{Channel, IntakeField, ScrubbedIntake};
use handoff_scrub::FindingKind;

pub(super) fn decide(rules: &Compiled, intake: &ScrubbedIntake) -> Triage {
    let evidence = Evidence::gather(rules, intake);
    let mut reasons = Vec::new();

    let tools: Vec<usize> = evidence.tools.iter().map(|(i, _)| *i).collect();
    if !tools.is_empty() {
        let because = evidence
            .tools
            .iter()
            .map(|(i, quotes)| {
                format!(
                    "{} from {}",
                    rules.spec.tools[*i].name,
                    Quotes { rules, quotes }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        reasons.push(Reason {
            about: "tools".to_owned(),
            because,
        });
    }

    let handoffs = handoffs(rules, &evidence, &tools, &mut reasons);
    let route = route(rules, &evidence, tools.len(), &handoffs, &mut reasons);
    let privacy = privacy(intake, &mut reasons);
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
        is_comment.then(|| reply::compose(rules, route, &evidence, &handoffs, privacy, intake));
    Triage {
        route,
        handoffs,
        privacy,
        tools: tools
            .iter()
            .map(|i| rules.spec.tools[*i].name.clone())
            .collect(),
        reasons,
        missing_fields,
        reply,
        hide: is_comment && privacy != Privacy::Clean,
    }
}

/// A handoff is found when its evidence weighs enough and includes a strong
/// term or a tool on it; the heaviest comes first.
fn handoffs(
    rules: &Compiled,
    evidence: &Evidence,
    tools: &[usize],
    reasons: &mut Vec<Reason>,
) -> Vec<Handoff> {
    let w = &rules.spec.weights;
    let mut found: Vec<(u32, Handoff)> = Vec::new();
    for &handoff in Handoff::ALL {
        let spec = rules.handoff(handoff);
        let strong = evidence.strong.get(&handoff).map_or(&[][..], Vec::as_slice);
        let weak = evidence.weak.get(&handoff).map_or(&[][..], Vec::as_slice);
        let on_it: Vec<&str> = tools
            .iter()
            .map(|i| &rules.spec.tools[*i])
            .filter(|t| t.roles.iter().any(|r| spec.tool_roles.contains(r)))
            .map(|t| t.name.as_str())
            .collect();
        let score = distinct(strong) * w.strong_term
            + distinct(weak) * w.weak_term
            + on_it.len() as u32 * w.tool_role;
        let anchored = !strong.is_empty() || !on_it.is_empty();
        if !anchored || score < rules.spec.thresholds.handoff_min_score {
            continue;
        }
        let mut because = String::new();
        let parts = [(strong, "names it"), (weak, "hints at it")];
        for (quotes, what) in parts.iter().filter(|(q, _)| !q.is_empty()) {
            let _ = write!(because, "{} {what}; ", Quotes { rules, quotes });
        }
        if !on_it.is_empty() {
            let _ = write!(because, "tools on it: {}; ", on_it.join(", "));
        }
        let _ = write!(because, "weight {score}");
        reasons.push(Reason {
            about: format!("handoff {handoff}"),
            because,
        });
        found.push((score, handoff));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, h)| h).collect()
}

fn distinct(quotes: &[Quote]) -> u32 {
    let mut terms: Vec<usize> = quotes.iter().map(|q| q.term).collect();
    terms.sort_unstable();
    terms.dedup();
    terms.len() as u32
}

/// The rubric's precedence: the first route whose conditions hold wins.
fn route(
    rules: &Compiled,
    ev: &Evidence,
    tools: usize,
    handoffs: &[Handoff],
    reasons: &mut Vec<Reason>,
) -> Route {
    let t = &rules.spec.thresholds;
    let quotes = |flag| Quotes {
        rules,
        quotes: ev.flag(flag),
    };
    let on_topic = tools > 0
        || !ev.strong.is_empty()
        || !ev.flag(Flag::Domain).is_empty()
        || !ev.flag(Flag::Learning).is_empty();
    let mut because: Vec<String> = Vec::new();

    for (i, q) in &ev.no_fits {
        let spec = &rules.spec.no_fits[*i];
        if !spec.only_off_topic || !on_topic {
            because.push(format!("{}: {}", spec.says, Quotes { rules, quotes: q }));
        }
    }
    if because.is_empty() && !on_topic {
        because.push("nothing in it names a tool, a handoff or CRM and automation work".to_owned());
    }
    if !because.is_empty() {
        return explained(Route::NoFit, because, reasons);
    }

    if tools >= t.audit_min_tools {
        because.push(format!(
            "{tools} tools named (an audit from {})",
            t.audit_min_tools
        ));
    }
    let named: Vec<&str> = handoffs
        .iter()
        .filter(|h| ev.strong.contains_key(h))
        .map(|h| h.as_str())
        .collect();
    if named.len() >= t.audit_min_handoffs {
        because.push(format!(
            "{} handoffs named: {}",
            named.len(),
            named.join(", ")
        ));
    }
    for (flag, what) in [
        (Flag::LiveImpact, "live customers affected"),
        (Flag::Recurrence, "repaired once and came back"),
        (Flag::UnclearPath, "nobody can explain the current path"),
    ] {
        if !ev.flag(flag).is_empty() {
            because.push(format!("{what}: {}", quotes(flag)));
        }
    }
    if !because.is_empty() {
        return explained(Route::SystemsAudit, because, reasons);
    }

    let failure = !ev.flag(Flag::Failure).is_empty();
    if failure && (tools > 0 || !handoffs.is_empty()) && tools <= t.repair_max_tools {
        let at = match handoffs.first() {
            Some(h) => format!("at {h}"),
            None => "at a named tool".to_owned(),
        };
        because.push(format!(
            "one specific failure {at}: {}",
            quotes(Flag::Failure)
        ));
        because.push(format!(
            "{tools} tool(s), at most {} for a repair; no live-customer breadth",
            t.repair_max_tools
        ));
        return explained(Route::Repair, because, reasons);
    }

    let self_check = !ev.flag(Flag::SelfCheck).is_empty();
    let pre_launch = !ev.flag(Flag::PreLaunch).is_empty();
    let learning = !ev.flag(Flag::Learning).is_empty();
    if self_check || (pre_launch && !learning) {
        for (flag, what) in [
            (Flag::SelfCheck, "wants to check it"),
            (Flag::PreLaunch, "not live yet"),
        ] {
            if !ev.flag(flag).is_empty() {
                because.push(format!("{what}: {}", quotes(flag)));
            }
        }
        because.push("nothing reported broken for live customers".to_owned());
        return explained(Route::Checklist, because, reasons);
    }

    if learning {
        because.push(format!("still learning: {}", quotes(Flag::Learning)));
    }
    if !failure {
        because.push("no specific failure described".to_owned());
    } else if tools == 0 && handoffs.is_empty() {
        because.push(format!(
            "a failure ({}) but no tool or handoff named",
            quotes(Flag::Failure)
        ));
    }
    explained(Route::Nurture, because, reasons)
}

fn explained(route: Route, because: Vec<String>, reasons: &mut Vec<Reason>) -> Route {
    reasons.push(Reason {
        about: format!("route {}", route.as_str()),
        because: because.join("; "),
    });
    route
}

fn privacy(intake: &ScrubbedIntake, reasons: &mut Vec<Reason>) -> Privacy {
    let counts = intake.counts();
    let removed: Vec<String> = FindingKind::ALL
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n} {k}")))
        .collect();
    let fields: Vec<&str> = intake
        .fields()
        .iter()
        .filter(|f| !f.counts.is_empty())
        .map(|f| f.field.as_str())
        .collect();
    let (privacy, mut because) = if intake.attachment() {
        (
            Privacy::Reject,
            "a file was attached; nothing is stored, describe it in words instead".to_owned(),
        )
    } else if intake.rejected() {
        (
            Privacy::Reject,
            format!(
                "a pasted list of customer records in {}; nothing is stored",
                fields.join(", ")
            ),
        )
    } else if !removed.is_empty() {
        (
            Privacy::Redact,
            format!("removed {} from {}", removed.join(", "), fields.join(", ")),
        )
    } else {
        (Privacy::Clean, "nothing private found".to_owned())
    };
    if intake.exposed_credentials() {
        because.push_str("; rotate the exposed credential");
    }
    reasons.push(Reason {
        about: format!("privacy {}", privacy.as_str()),
        because,
    });
    privacy
}
