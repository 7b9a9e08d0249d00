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
        let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in &d.steps {
            let e = edges.entry(s.name.as_str()).or_default();
            match &s.route {
                Route::Choose(cs) => e.extend(cs.iter().map(|c| c.target.as_str())),
                Route::Next(ns) => e.extend(ns.iter().map(|(_, t)| t.as_str())),
                Route::ByRules => {}
            }
            if let Action::Decide(rules) = &s.action {
                e.extend(rules.iter().map(|r| r.target.as_str()));
            }
            if let Action::Sign {
                on_refuse: Some(t), ..
            } = &s.action
            {
                e.push(t);
            }
            for a in &s.on_overdue {
                if let TimedAction::Goto(t) = a {
                    e.push(t);
                }
            }
        }
        for l in &d.limits {
            for a in &l.on_breach {
                if let TimedAction::Goto(t) = a {
                    edges.entry(l.from.as_str()).or_default().push(t);
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
        // Which steps can still reach an end: walk the edges backwards from the ends
        // (a breadth-first search, so a 10,000-step chain stays linear).
        let mut back: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, tos) in &edges {
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
            }
        }
    }
}
