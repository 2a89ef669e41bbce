//! The table printed after a batch: counts per route, handoff and privacy.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use handoff_triage::{Handoff, Privacy, Route, Triage};

/// What the summary counts of one triage, taken on the worker that triaged
/// it: the writer thread then neither keeps nor drops the whole [`Triage`].
#[derive(Debug)]
pub struct Tally {
    route: Route,
    privacy: Privacy,
    handoffs: Vec<Handoff>,
    hide: bool,
}

impl From<Triage> for Tally {
    fn from(triage: Triage) -> Self {
        Tally {
            route: triage.route,
            privacy: triage.privacy,
            handoffs: triage.handoffs,
            hide: triage.hide,
        }
    }
}

/// Running counts over a batch.
#[derive(Debug, Default)]
pub struct Summary {
    total: usize,
    empty: usize,
    hidden: usize,
    routes: BTreeMap<Route, usize>,
    handoffs: BTreeMap<Handoff, usize>,
    privacy: BTreeMap<Privacy, usize>,
}

impl Summary {
    /// Count one triaged item.
    pub fn add(&mut self, tally: &Tally) {
        self.total += 1;
        *self.routes.entry(tally.route).or_default() += 1;
        *self.privacy.entry(tally.privacy).or_default() += 1;
        for h in &tally.handoffs {
            *self.handoffs.entry(*h).or_default() += 1;
        }
        self.hidden += usize::from(tally.hide);
    }

    /// Count a row with no text to triage.
    pub fn add_empty(&mut self) {
        self.total += 1;
        self.empty += 1;
    }

    /// The table, with the time it took.
    pub fn table(&self, elapsed: Duration) -> Table<'_> {
        Table {
            summary: self,
            elapsed,
        }
    }
}

/// A [`Summary`] ready to print.
pub struct Table<'a> {
    summary: &'a Summary,
    elapsed: Duration,
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.summary;
        let secs = self.elapsed.as_secs_f64();
        writeln!(f, "triaged {} item(s) in {secs:.2} s", s.total)?;
        let share = |n: usize| {
            if s.total == 0 {
                0.0
            } else {
                100.0 * n as f64 / s.total as f64
            }
        };
        writeln!(f, "{:<24} {:>9} {:>7}", "route", "count", "share")?;
        for &route in Route::ALL {
            let n = s.routes.get(&route).copied().unwrap_or(0);
            writeln!(f, "  {:<22} {n:>9} {:>6.1}%", route.as_str(), share(n))?;
        }
        writeln!(f, "{:<24} {:>9} {:>7}", "handoff", "count", "share")?;
        for &handoff in Handoff::ALL {
            let n = s.handoffs.get(&handoff).copied().unwrap_or(0);
            writeln!(f, "  {:<22} {n:>9} {:>6.1}%", handoff.as_str(), share(n))?;
        }
        writeln!(f, "{:<24} {:>9} {:>7}", "privacy", "count", "share")?;
        for privacy in [Privacy::Reject, Privacy::Redact, Privacy::Clean] {
            let n = s.privacy.get(&privacy).copied().unwrap_or(0);
            writeln!(f, "  {:<22} {n:>9} {:>6.1}%", privacy.as_str(), share(n))?;
        }
        writeln!(
            f,
            "  {:<22} {:>9} {:>6.1}%",
            "hidden for review",
            s.hidden,
            share(s.hidden)
        )?;
        if s.empty > 0 {
            writeln!(
                f,
                "  {:<22} {:>9} {:>6.1}%",
                "empty (not triaged)",
                s.empty,
                share(s.empty)
            )?;
        }
        Ok(())
    }
}
