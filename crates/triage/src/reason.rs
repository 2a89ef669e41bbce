//! Structured reasons: what each decision rests on, as data, rendered in
//! plain language for the email, the CSV and the logs.
//!
//! A reason quotes only the rules' terms, the model's words found in the
//! **scrubbed** text, and counts: never a raw value.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Handoff, Privacy, Route};
use handoff_intake::IntakeField;
use handoff_scrub::FindingKind;

/// The evidence behind one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The decision it explains.
    pub about: About,
    /// What it rests on, the weightiest first.
    pub because: Vec<Cause>,
}

/// Which decision a [`Reason`] explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "decision", content = "value", rename_all = "snake_case")]
pub enum About {
    /// The route chosen.
    Route(Route),
    /// A handoff named.
    Handoff(Handoff),
    /// The tools named.
    Tools,
    /// What happened to private data.
    Privacy(Privacy),
}

/// One thing a decision rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The trained model: how sure it is, and the words of the scrubbed text
    /// that pushed it most towards this decision.
    Model {
        /// The model's probability for this decision, 0 to 1.
        probability: f32,
        /// Words and word pairs from the scrubbed text, strongest first.
        words: Vec<String>,
    },
    /// A rubric signal the rules found.
    Signal {
        /// Which signal.
        signal: Signal,
        /// The rules' terms found, with their field.
        terms: Vec<Term>,
    },
    /// A bright-line rule of the rubric decided, whatever the model said.
    Rule {
        /// The rule's id in the rules file, e.g. `prompt_injection`.
        rule: String,
        /// What it means, e.g. "contains hidden instructions or asks for prompt text".
        says: String,
        /// The rules' terms found, with their field.
        terms: Vec<Term>,
    },
    /// A tool named, by canonical name.
    Tool {
        /// The canonical name.
        name: String,
        /// The aliases found, with their field.
        terms: Vec<Term>,
    },
    /// Private values of one kind were replaced by placeholders.
    Removed {
        /// The kind of value.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        finding: FindingKind,
        /// How many.
        count: usize,
    },
    /// A file was attached: nothing is stored.
    Attachment,
    /// A list of customer records was pasted: nothing is stored.
    PastedExport {
        /// The fields that held it.
        fields: Vec<IntakeField>,
    },
    /// A credential was exposed and must be rotated.
    ExposedCredential,
    /// Nothing private was found.
    NothingPrivate,
    /// A reason stored as text by a version before reasons were structured.
    Recorded {
        /// The text as it was stored.
        text: String,
    },
}

/// A rubric signal the rules look for (see `[signals]` and `[thresholds]`
/// in the rules file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// At least the audit threshold of distinct tools is named.
    ManyTools {
        /// How many tools.
        count: usize,
    },
    /// At least the audit threshold of handoffs is named by strong terms.
    ManyHandoffs {
        /// Which handoffs.
        handoffs: Vec<Handoff>,
    },
    /// Live customers are already affected.
    LiveImpact,
    /// It was repaired once and came back.
    Recurrence,
    /// Nobody can explain the current path.
    UnclearPath,
    /// One specific thing fails.
    Failure,
    /// The person wants to check it themselves.
    SelfCheck,
    /// Nothing is live yet.
    PreLaunch,
    /// Still learning, praise, or a general question.
    Learning,
    /// Terms that name a handoff on their own.
    NamesHandoff,
    /// Words that only hint at a handoff.
    HintsHandoff,
    /// Named tools whose role sits on the handoff.
    ToolsOnHandoff {
        /// The tools' canonical names.
        tools: Vec<String>,
    },
    /// Nothing ties the text to CRM and automation work.
    OffTopic,
    /// No specific tool, step or failure is named.
    Vague,
}

/// A rules term found in one field. It quotes the rules, never the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Term {
    /// The term as the rules hold it (normalised; `*` marks a prefix).
    pub term: String,
    /// Where it was found.
    pub field: IntakeField,
}

/// At most this many terms or words per cause: enough to see why, short enough to read.
const SHOWN: usize = 4;

impl Reason {
    /// The causes in plain language, without the decision:
    /// `91 % sure, mentions "paid buyers"; live customers affected (…)`.
    pub fn causes(&self) -> String {
        use fmt::Write;
        let mut text = String::with_capacity(128);
        for (i, cause) in self.because.iter().enumerate() {
            if i > 0 {
                text.push_str("; ");
            }
            write!(text, "{cause}").expect("writing to a String cannot fail");
        }
        text
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.about, self.causes())
    }
}

impl fmt::Display for About {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            About::Route(route) => write!(f, "route {}", route.as_str()),
            About::Handoff(handoff) => write!(f, "handoff {handoff}"),
            About::Tools => f.write_str("tools"),
            About::Privacy(privacy) => write!(f, "privacy {}", privacy.as_str()),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Model { probability, words } => {
                write!(f, "{:.0} % sure", probability * 100.0)?;
                if !words.is_empty() {
                    f.write_str(", mentions ")?;
                    list(f, words.iter().map(String::as_str).map(Quoted), words.len())?;
                }
                Ok(())
            }
            Cause::Signal { signal, terms } => {
                write!(f, "{signal}")?;
                terms_list(f, terms)
            }
            Cause::Rule { rule, says, terms } => {
                write!(f, "{says} (rule {rule})")?;
                terms_list(f, terms)
            }
            Cause::Tool { name, terms } => {
                f.write_str(name)?;
                terms_list(f, terms)
            }
            Cause::Removed { finding, count } => write!(f, "removed {count} {finding}"),
            Cause::Attachment => {
                f.write_str("a file was attached; nothing is stored, describe it in words instead")
            }
            Cause::PastedExport { fields } => {
                f.write_str("a pasted list of customer records in ")?;
                list(f, fields.iter().map(|x| x.as_str()), fields.len())?;
                f.write_str("; nothing is stored")
            }
            Cause::ExposedCredential => f.write_str("rotate the exposed credential"),
            Cause::NothingPrivate => f.write_str("nothing private found"),
            Cause::Recorded { text } => f.write_str(text),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signal::ManyTools { count } => write!(f, "{count} tools named"),
            Signal::ManyHandoffs { handoffs } => {
                write!(f, "{} handoffs named: ", handoffs.len())?;
                list(f, handoffs.iter().map(|h| h.as_str()), handoffs.len())
            }
            Signal::LiveImpact => f.write_str("live customers affected"),
            Signal::Recurrence => f.write_str("repaired once and came back"),
            Signal::UnclearPath => f.write_str("nobody can explain the current path"),
            Signal::Failure => f.write_str("one specific failure"),
            Signal::SelfCheck => f.write_str("wants to check it themselves"),
            Signal::PreLaunch => f.write_str("not live yet"),
            Signal::Learning => f.write_str("still learning or asking in general"),
            Signal::NamesHandoff => f.write_str("names it"),
            Signal::HintsHandoff => f.write_str("hints at it"),
            Signal::ToolsOnHandoff { tools } => {
                f.write_str("tools on it: ")?;
                list(f, tools.iter(), tools.len())
            }
            Signal::Vague => f.write_str("no specific tool, step or failure named"),
            Signal::OffTopic => {
                f.write_str("nothing in it names a tool, a handoff or CRM and automation work")
            }
        }
    }
}

/// ` ("paid but" in message, "locked out" in business_risk)`, or nothing.
fn terms_list(f: &mut fmt::Formatter<'_>, terms: &[Term]) -> fmt::Result {
    if terms.is_empty() {
        return Ok(());
    }
    f.write_str(" (")?;
    let shown = terms.iter().map(Found);
    list(f, shown, terms.len())?;
    f.write_str(")")
}

/// `"word"`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

/// `"term" in field`.
struct Found<'a>(&'a Term);

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" in {}", self.0.term, self.0.field.as_str())
    }
}

/// The first [`SHOWN`] items, comma-separated, then "and N more".
fn list<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = T>,
    total: usize,
) -> fmt::Result {
    for (i, item) in items.take(SHOWN).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    if total > SHOWN {
        write!(f, " and {} more", total - SHOWN)?;
    }
    Ok(())
}

/// Reasons are read back from the store: today's shape, or the
/// `{"about": "…", "because": "…"}` text of earlier versions, kept as
/// [`Cause::Recorded`] so an intake stored before the upgrade is still mailed.
impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Current { about: About, because: Vec<Cause> },
            Text { about: String, because: String },
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Current { about, because } => Reason { about, because },
            Stored::Text { about, because } => Reason {
                about: legacy_about(&about)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown reason {about:?}")))?,
                because: vec![Cause::Recorded { text: because }],
            },
        })
    }
}

/// `route repair`, `handoff form_to_crm`, `tools`, `privacy redact`.
fn legacy_about(text: &str) -> Option<About> {
    let word = |w: &str| serde_json::Value::String(w.to_owned());
    match text.split_once(' ') {
        None if text == "tools" => Some(About::Tools),
        Some(("route", w)) => serde_json::from_value(word(w)).ok().map(About::Route),
        Some(("handoff", w)) => serde_json::from_value(word(w)).ok().map(About::Handoff),
        Some(("privacy", w)) => serde_json::from_value(word(w)).ok().map(About::Privacy),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_plainly() {
        let reason = Reason {
            about: About::Route(Route::SystemsAudit),
            because: vec![
                Cause::Model {
                    probability: 0.912,
                    words: vec!["paid buyers".into(), "log in".into()],
                },
                Cause::Signal {
                    signal: Signal::LiveImpact,
                    terms: vec![Term {
                        term: "locked out".into(),
                        field: IntakeField::Message,
                    }],
                },
            ],
        };
        assert_eq!(
            reason.to_string(),
            "route systems_audit: 91 % sure, mentions \"paid buyers\", \"log in\"; \
             live customers affected (\"locked out\" in message)"
        );
    }

    #[test]
    fn reasons_round_trip_and_earlier_text_reasons_still_read() {
        let reason = Reason {
            about: About::Handoff(Handoff::FormToCrm),
            because: vec![Cause::Removed {
                finding: FindingKind::Email,
                count: 2,
            }],
        };
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), reason);

        let old = r#"{"about": "route repair", "because": "one specific failure at form_to_crm"}"#;
        let read: Reason = serde_json::from_str(old).unwrap();
        assert_eq!(read.about, About::Route(Route::Repair));
        assert_eq!(
            read.to_string(),
            "route repair: one specific failure at form_to_crm"
        );
        assert!(serde_json::from_str::<Reason>(r#"{"about": "mood", "because": "x"}"#).is_err());
    }
}
