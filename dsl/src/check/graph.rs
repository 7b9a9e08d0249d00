//! The step graph: what can be reached, and what can still reach an end.

use super::Checker;
use crate::ast;
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

impl Checker<'_> {
    // ---- the step graph -------------------------------------------------------------------

    pub(super) fn graph(&mut self, p: &ast::Process, d: &Definition) {
        let Some(first) = d.steps.first() else { return };
        // Every exit as written, and the exits that can actually be taken: a `next`
        // or rule whose condition can never hold leads nowhere. Timers lead on too.
        let mut edges = self.exits(d, false);
        let mut live = self.exits(d, true);
        for s in &d.steps {
            for a in &s.on_overdue {
                if let TimedAction::Goto(t) = a {
                    edges.entry(s.name.as_str()).or_default().push(t);
                    live.entry(s.name.as_str()).or_default().push(t);
                }
            }
        }
        for l in &d.limits {
            for a in &l.on_breach {
                if let TimedAction::Goto(t) = a {
                    edges.entry(l.from.as_str()).or_default().push(t);
                    live.entry(l.from.as_str()).or_default().push(t);
                }
            }
        }
        let mut reached = BTreeSet::from([first.name.as_str()]);
        let mut queue = VecDeque::from([first.name.as_str()]);
        while let Some(n) = queue.pop_front() {
            for t in edges.get(n).into_iter().flatten() {
                if reached.insert(t) {
                    queue.push_back(t);
                }
            }
        }
        for s in &p.steps {
            if !reached.contains(s.name.text.as_str()) {
                self.diags.push(Diagnostic::new(
                    Code::NeverReached,
                    s.name.span.clone(),
                    &[&"step", &s.name.text],
                ));
            }
        }
        for e in &p.ends {
            if !reached.contains(e.name.text.as_str()) {
                self.diags.push(Diagnostic::new(
                    Code::NeverReached,
                    e.name.span.clone(),
                    &[&"end", &e.name.text],
                ));
            }
        }
        let finishing_live = can_finish(&live, d);
        let finishing = can_finish(&edges, d);
        let spans: BTreeMap<&str, crate::ast::Span> = p
            .steps
            .iter()
            .map(|s| (s.name.text.as_str(), s.name.span.clone()))
            .collect();
        self.unbreakable_loops(d, &finishing_live, &spans);
        let names: BTreeSet<&str> = d
            .steps
            .iter()
            .map(|s| s.name.as_str())
            .chain(d.ends.iter().map(|e| e.name.as_str()))
            .collect();
        for s in &p.steps {
            let n = s.name.text.as_str();
            let tos = edges.get(n).map(Vec::as_slice).unwrap_or_default();
            // A step that names a missing target was already reported (E002); whether
            // it can finish cannot be judged until that name is fixed.
            let dangling = tos.iter().any(|t| !names.contains(t));
            if reached.contains(n) && !tos.is_empty() && !dangling && !finishing.contains(n) {
                self.err(Code::NoEndReachable, s.name.span.clone(), &[&n]);
            } else if reached.contains(n) && !dangling && !finishing_live.contains(n) {
                // An end is reachable only through exits that can never be taken:
                // report it where such an exit is, naming it.
                let Some(dead) = self.dead_exits.get(n) else {
                    continue;
                };
                let names: Vec<String> = dead.iter().map(|(_, t, _)| t.clone()).collect();
                let spans: Vec<_> = dead.iter().map(|(_, _, sp)| sp.clone()).collect();
                // This error says why the exit is dead; the one at the exit itself
                // would only say it again.
                self.diags.retain(|d| {
                    !(matches!(d.code, Code::MatchesNothing | Code::CaseNeverUsed)
                        && spans.contains(&d.span))
                });
                self.err(
                    Code::DeadExit,
                    s.name.span.clone(),
                    &[&n, &names.join(" or ")],
                );
            }
        }
    }

    /// Where each step goes when it is done: its `next` lines or choices, its rules,
    /// a sign-off's refusal. With `live_only`, without the exits whose condition can
    /// never hold.
    pub(super) fn exits<'d>(
        &self,
        d: &'d Definition,
        live_only: bool,
    ) -> BTreeMap<&'d str, Vec<&'d str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in &d.steps {
            let dead: Vec<usize> = match (live_only, self.dead_exits.get(&s.name)) {
                (true, Some(v)) => v.iter().map(|(i, _, _)| *i).collect(),
                _ => Vec::new(),
            };
            let e = out.entry(s.name.as_str()).or_default();
            match &s.route {
                Route::Next(ns) => e.extend(
                    ns.iter()
                        .enumerate()
                        .filter(|(i, _)| !dead.contains(i))
                        .map(|(_, (_, t))| t.as_str()),
                ),
                Route::Choose(cs) => e.extend(cs.iter().map(|c| c.target.as_str())),
                Route::ByOutcome(arms) => e.extend(arms.iter().map(|a| a.target.as_str())),
                Route::ByRules => {}
            }
            match &s.action {
                Action::Decide(rules) => e.extend(
                    rules
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !dead.contains(i))
                        .map(|(_, r)| r.target.as_str()),
                ),
                Action::Sign {
                    on_refuse: Some(t), ..
                } => e.push(t.as_str()),
                _ => {}
            }
        }
        super::parallel::rewire(d, &mut out);
        out
    }
}

/// The steps from which an end can be reached over `edges`: a breadth-first walk
/// backwards from the ends, so a 10,000-step chain stays linear.
fn can_finish<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>, d: &'a Definition) -> BTreeSet<&'a str> {
    let mut back: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, tos) in edges {
        for t in tos {
            back.entry(t).or_default().push(from);
        }
    }
    let mut finishing: BTreeSet<&str> = d.ends.iter().map(|e| e.name.as_str()).collect();
    let mut queue: VecDeque<&str> = finishing.iter().copied().collect();
    while let Some(n) = queue.pop_front() {
        for from in back.get(n).into_iter().flatten() {
            if finishing.insert(from) {
                queue.push_back(from);
            }
        }
    }
    finishing
}
