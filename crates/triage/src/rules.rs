//! The triage rules: parsed from TOML, checked, and compiled into one
//! Aho-Corasick automaton over every term of every vocabulary.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;

use super::normalise::Normaliser;
use super::{Handoff, Route};
use handoff_intake::IntakeField;

/// The embedded default rules (TOML).
pub const DEFAULT_RULES: &str = include_str!("rules.toml");

/// What is wrong with a rules file. Messages name the file and, for TOML
/// errors, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Malformed TOML, a missing or unknown key, or a wrong value type.
    #[error("{origin}: {message}")]
    Toml {
        /// Where the rules came from.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A handoff is listed twice or not at all.
    #[error("{origin}: [[handoff]] `{handoff}` must appear exactly once (found {count})")]
    HandoffCount {
        /// Where the rules came from.
        origin: String,
        /// The handoff id.
        handoff: &'static str,
        /// How many times it appears.
        count: usize,
    },
    /// A term is empty once normalised (only punctuation or emoji).
    #[error("{origin}: {section}: the term {term:?} is empty once normalised")]
    EmptyTerm {
        /// Where the rules came from.
        origin: String,
        /// Which list holds it.
        section: String,
        /// The term as written.
        term: String,
    },
    /// A threshold that must be at least 1 is 0.
    #[error("{origin}: [thresholds] {name} must be at least 1")]
    Threshold {
        /// Where the rules came from.
        origin: String,
        /// The key.
        name: &'static str,
    },
    /// The term automaton could not be built.
    #[error("{origin}: cannot build the term matcher: {message}")]
    Matcher {
        /// Where the rules came from.
        origin: String,
        /// The builder's message.
        message: String,
    },
}

/// Where a tool sits on a customer's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Holds contacts, tags, pipelines.
    Crm,
    /// Collects form, quiz or opt-in submissions.
    Form,
    /// Takes payments.
    Payment,
    /// Grants course, membership or community access.
    Access,
    /// Takes bookings.
    Booking,
    /// Connects other tools.
    Automation,
    /// Sends email or SMS.
    Email,
    /// Reports and tracks.
    Reporting,
    /// Hosts pages.
    Website,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Thresholds {
    pub audit_min_tools: usize,
    pub audit_min_handoffs: usize,
    pub repair_max_tools: usize,
    pub handoff_min_score: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Fields {
    pub not_handoff_evidence: Vec<IntakeField>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Weights {
    pub strong_term: u32,
    pub weak_term: u32,
    pub tool_role: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ToolSpec {
    pub name: String,
    pub roles: Vec<Role>,
    pub aliases: Vec<String>,
    /// The name is an everyday word ("Make", "Monday"): only the aliases name the tool.
    #[serde(default)]
    pub everyday_word: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HandoffSpec {
    pub id: Handoff,
    pub label: String,
    pub tool_roles: Vec<Role>,
    pub strong: Vec<String>,
    pub weak: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignalSpec {
    pub domain: Vec<String>,
    pub live_impact: Vec<String>,
    pub recurrence: Vec<String>,
    pub unclear_path: Vec<String>,
    pub failure: Vec<String>,
    pub self_check: Vec<String>,
    pub pre_launch: Vec<String>,
    pub learning: Vec<String>,
}

impl SignalSpec {
    /// The terms of one flag.
    pub fn terms_mut(&mut self, flag: Flag) -> &mut Vec<String> {
        match flag {
            Flag::Domain => &mut self.domain,
            Flag::LiveImpact => &mut self.live_impact,
            Flag::Recurrence => &mut self.recurrence,
            Flag::UnclearPath => &mut self.unclear_path,
            Flag::Failure => &mut self.failure,
            Flag::SelfCheck => &mut self.self_check,
            Flag::PreLaunch => &mut self.pre_launch,
            Flag::Learning => &mut self.learning,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoFitSpec {
    pub id: String,
    pub says: String,
    #[serde(default)]
    pub only_off_topic: bool,
    /// The rubric's bright line: `no_fit` whatever the model says.
    #[serde(default)]
    pub bright_line: bool,
    /// Counts only for a public comment.
    #[serde(default)]
    pub only_comments: bool,
    pub terms: Vec<String>,
    pub reply: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteText {
    pub meaning: String,
    pub next_step: String,
    pub reply: String,
    pub missing: Vec<IntakeField>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteTexts {
    pub no_fit: RouteText,
    pub systems_audit: RouteText,
    pub repair: RouteText,
    pub checklist: RouteText,
    pub nurture: RouteText,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyTexts {
    pub names_handoff: String,
    pub no_handoff: String,
    pub ask: String,
    pub remove_private: String,
    pub rotate: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RulesSpec {
    pub thresholds: Thresholds,
    pub fields: Fields,
    pub weights: Weights,
    #[serde(default)]
    pub words: BTreeMap<String, String>,
    #[serde(rename = "tool")]
    pub tools: Vec<ToolSpec>,
    #[serde(rename = "handoff")]
    pub handoffs: Vec<HandoffSpec>,
    pub signals: SignalSpec,
    #[serde(rename = "no_fit")]
    pub no_fits: Vec<NoFitSpec>,
    pub route: RouteTexts,
    pub reply: ReplyTexts,
}

/// Additions to the embedded rules (`Rules::extend_default`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesExtension {
    #[serde(default)]
    words: BTreeMap<String, String>,
    #[serde(default, rename = "tool")]
    tools: Vec<ToolSpec>,
    #[serde(default, rename = "handoff")]
    handoffs: Vec<HandoffTerms>,
    #[serde(default)]
    signals: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "no_fit")]
    no_fits: Vec<NoFitTerms>,
}

/// Extra terms for one handoff.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffTerms {
    id: Handoff,
    #[serde(default)]
    strong: Vec<String>,
    #[serde(default)]
    weak: Vec<String>,
}

/// Extra terms for one no-fit signal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFitTerms {
    id: String,
    terms: Vec<String>,
}

fn parse<T: serde::de::DeserializeOwned>(origin: &str, text: &str) -> Result<T, RulesError> {
    toml::from_str(text).map_err(|e| RulesError::Toml {
        origin: origin.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// What one term is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Meaning {
    Tool(usize),
    Strong(Handoff),
    Weak(Handoff),
    NoFit(usize),
    Flag(Flag),
}

/// The route signals of `[signals]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Flag {
    Domain,
    LiveImpact,
    Recurrence,
    UnclearPath,
    Failure,
    SelfCheck,
    PreLaunch,
    Learning,
}

impl Flag {
    /// Every flag.
    pub const ALL: [Flag; 8] = [
        Flag::Domain,
        Flag::LiveImpact,
        Flag::Recurrence,
        Flag::UnclearPath,
        Flag::Failure,
        Flag::SelfCheck,
        Flag::PreLaunch,
        Flag::Learning,
    ];

    /// Its key under `[signals]`.
    pub fn key(self) -> &'static str {
        match self {
            Flag::Domain => "domain",
            Flag::LiveImpact => "live_impact",
            Flag::Recurrence => "recurrence",
            Flag::UnclearPath => "unclear_path",
            Flag::Failure => "failure",
            Flag::SelfCheck => "self_check",
            Flag::PreLaunch => "pre_launch",
            Flag::Learning => "learning",
        }
    }
}

/// One distinct normalised term and everything it is evidence of.
#[derive(Debug)]
pub(super) struct Term {
    /// The term as normalised, `*` kept for a prefix, for quoting in reasons.
    pub text: String,
    pub signals: Vec<Meaning>,
}

#[derive(Debug)]
pub(super) struct Compiled {
    pub spec: RulesSpec,
    pub normaliser: Normaliser,
    pub matcher: AhoCorasick,
    pub terms: Vec<Term>,
}

/// Compiled triage rules. Cheap to clone: the compiled form is shared.
#[derive(Debug, Clone)]
pub struct Rules(pub(super) Arc<Compiled>);

static DEFAULT: LazyLock<Rules> = LazyLock::new(|| {
    Rules::from_toml("embedded default", DEFAULT_RULES)
        .expect("the embedded triage rules compile (checked by tests)")
});

impl Default for Rules {
    /// The embedded rules, parsed and compiled once per process.
    fn default() -> Self {
        DEFAULT.clone()
    }
}

impl Rules {
    /// Parse, check and compile a rules file. `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, RulesError> {
        let spec: RulesSpec = parse(origin, text)?;
        Self::compile(origin, spec)
    }

    /// The embedded rules extended by a file of additions: `[[tool]]` rows
    /// (a known name gets the extra aliases and roles, a new name is added),
    /// `[[handoff]]` rows with `id` and extra `strong`/`weak` terms,
    /// `[signals]` with extra terms per signal, `[[no_fit]]` rows with `id`
    /// and extra `terms`, and `[words]` spellings.
    pub fn extend_default(origin: &str, text: &str) -> Result<Self, RulesError> {
        let extra: RulesExtension = parse(origin, text)?;
        let mut spec = Rules::default().0.spec.clone();
        spec.words.extend(extra.words);
        for tool in extra.tools {
            match spec
                .tools
                .iter_mut()
                .find(|t| t.name.eq_ignore_ascii_case(&tool.name))
            {
                Some(known) => {
                    known.aliases.extend(tool.aliases);
                    known.roles.extend(tool.roles);
                }
                None => spec.tools.push(tool),
            }
        }
        for more in extra.handoffs {
            if let Some(h) = spec.handoffs.iter_mut().find(|h| h.id == more.id) {
                h.strong.extend(more.strong);
                h.weak.extend(more.weak);
            }
        }
        for (name, terms) in extra.signals {
            let Some(flag) = Flag::ALL.into_iter().find(|f| f.key() == name) else {
                return Err(RulesError::Toml {
                    origin: origin.to_owned(),
                    message: format!(
                        "[signals] has no `{name}`; expected domain, live_impact, recurrence, unclear_path, failure, self_check, pre_launch or learning"
                    ),
                });
            };
            let list = spec.signals.terms_mut(flag);
            list.extend(terms);
        }
        for more in extra.no_fits {
            match spec.no_fits.iter_mut().find(|n| n.id == more.id) {
                Some(n) => n.terms.extend(more.terms),
                None => {
                    return Err(RulesError::Toml {
                        origin: origin.to_owned(),
                        message: format!(
                            "[[no_fit]] id `{}` is not in the embedded rules",
                            more.id
                        ),
                    });
                }
            }
        }
        Self::compile(origin, spec)
    }

    fn compile(origin: &str, mut spec: RulesSpec) -> Result<Self, RulesError> {
        check(origin, &spec)?;
        let normaliser = Normaliser::new(&spec.words);
        let mut builder = TermBuilder {
            origin,
            normaliser: &normaliser,
            index: HashMap::new(),
            terms: Vec::new(),
        };
        for (i, tool) in spec.tools.iter().enumerate() {
            builder.add_all(
                &format!("tool {}", tool.name),
                &tool.aliases,
                Meaning::Tool(i),
            )?;
            if !tool.everyday_word {
                builder.add(&format!("tool {}", tool.name), &tool.name, Meaning::Tool(i))?;
            }
        }
        for h in &spec.handoffs {
            builder.add_all(
                &format!("handoff {} strong", h.id),
                &h.strong,
                Meaning::Strong(h.id),
            )?;
            builder.add_all(
                &format!("handoff {} weak", h.id),
                &h.weak,
                Meaning::Weak(h.id),
            )?;
        }
        for flag in Flag::ALL {
            builder.add_all(
                &format!("signals.{}", flag.key()),
                spec.signals.terms_mut(flag),
                Meaning::Flag(flag),
            )?;
        }
        for (i, no_fit) in spec.no_fits.iter().enumerate() {
            builder.add_all(
                &format!("no_fit {}", no_fit.id),
                &no_fit.terms,
                Meaning::NoFit(i),
            )?;
        }
        let TermBuilder { index, terms, .. } = builder;
        let mut patterns: Vec<(usize, String)> = index.into_iter().map(|(p, i)| (i, p)).collect();
        patterns.sort_unstable();
        // A DFA: slower to build than the default NFA (about 45 M more
        // instructions, once per process) but the fastest to run over every
        // field of every submission (about 2,300 fewer per comment).
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns.iter().map(|(_, p)| p))
            .map_err(|e| RulesError::Matcher {
                origin: origin.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Rules(Arc::new(Compiled {
            spec,
            normaliser,
            matcher,
            terms,
        })))
    }

    /// How many tools the rules name.
    pub fn tool_count(&self) -> usize {
        self.0.spec.tools.len()
    }

    /// How many distinct terms the matcher holds.
    pub fn term_count(&self) -> usize {
        self.0.terms.len()
    }

    /// The canonical tool names, in file order.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.0.spec.tools.iter().map(|t| t.name.as_str())
    }

    /// What a route means, from the rules' `[route.*]` texts.
    pub fn route_meaning(&self, route: Route) -> &str {
        &self.0.route_text(route).meaning
    }

    /// A handoff's label from the rules, e.g. `payment → access`.
    pub fn handoff_label(&self, handoff: Handoff) -> &str {
        &self.0.handoff(handoff).label
    }

    /// The reply to a person on a route (empty for `no_fit`).
    pub fn route_reply(&self, route: Route) -> &str {
        &self.0.route_text(route).reply
    }

    /// What the consultant does next on a route.
    pub fn route_next_step(&self, route: Route) -> &str {
        &self.0.route_text(route).next_step
    }
}

impl Compiled {
    pub(super) fn route_text(&self, route: Route) -> &RouteText {
        let r = &self.spec.route;
        match route {
            Route::NoFit => &r.no_fit,
            Route::SystemsAudit => &r.systems_audit,
            Route::Repair => &r.repair,
            Route::Checklist => &r.checklist,
            Route::Nurture => &r.nurture,
        }
    }

    pub(super) fn handoff(&self, id: Handoff) -> &HandoffSpec {
        self.spec
            .handoffs
            .iter()
            .find(|h| h.id == id)
            .expect("every handoff appears once (checked when the rules are built)")
    }
}

fn check(origin: &str, spec: &RulesSpec) -> Result<(), RulesError> {
    for &handoff in Handoff::ALL {
        let count = spec.handoffs.iter().filter(|h| h.id == handoff).count();
        if count != 1 {
            return Err(RulesError::HandoffCount {
                origin: origin.to_owned(),
                handoff: handoff.as_str(),
                count,
            });
        }
    }
    let t = &spec.thresholds;
    for (name, value) in [
        ("audit_min_tools", t.audit_min_tools),
        ("audit_min_handoffs", t.audit_min_handoffs),
        ("handoff_min_score", t.handoff_min_score as usize),
    ] {
        if value == 0 {
            return Err(RulesError::Threshold {
                origin: origin.to_owned(),
                name,
            });
        }
    }
    Ok(())
}

struct TermBuilder<'a> {
    origin: &'a str,
    normaliser: &'a Normaliser,
    /// Padded pattern → index into `terms`.
    index: HashMap<String, usize>,
    terms: Vec<Term>,
}

impl TermBuilder<'_> {
    fn add_all(
        &mut self,
        section: &str,
        terms: &[String],
        signal: Meaning,
    ) -> Result<(), RulesError> {
        terms
            .iter()
            .try_for_each(|term| self.add(section, term, signal))
    }

    /// Add one term: ` term ` for whole words, ` term` for a `term*` prefix.
    fn add(&mut self, section: &str, term: &str, signal: Meaning) -> Result<(), RulesError> {
        let (body, prefix) = match term.strip_suffix('*') {
            Some(body) => (body, true),
            None => (term, false),
        };
        let normalised = self.normaliser.normalise(body);
        let text = normalised.trim();
        if text.is_empty() {
            return Err(RulesError::EmptyTerm {
                origin: self.origin.to_owned(),
                section: section.to_owned(),
                term: term.to_owned(),
            });
        }
        let pattern = if prefix {
            format!(" {text}")
        } else {
            format!(" {text} ")
        };
        let next = self.terms.len();
        let at = *self.index.entry(pattern).or_insert(next);
        if at == next {
            let shown = if prefix {
                format!("{text}*")
            } else {
                text.to_owned()
            };
            self.terms.push(Term {
                text: shown,
                signals: Vec::new(),
            });
        }
        if !self.terms[at].signals.contains(&signal) {
            self.terms[at].signals.push(signal);
        }
        Ok(())
    }
}
