//! Loops that nothing can break: a cycle of steps whose way out is decided by data
//! that nothing inside the cycle can change. An instance that enters it with data that
//! keeps it in goes round for ever (or until the engine gives up on an automatic
//! loop), though an end is reachable on paper.
//!
//! Something can break a cycle when, inside it, a person chooses a way out
//! (`choose`), signs (approve and refuse lead different ways), a timer moves the
//! instance out (`on overdue -> STEP`, a limit's `on breach -> STEP`), or a field that
//! the cycle's conditions read is filled or set; conditions on `today`/`now` change as
//! time passes while someone works or waits.

use super::Checker;
use crate::catalogue::Code;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet};

fn reads_time(e: &Expr) -> bool {
    e.any(&|x| matches!(x, Expr::Today | Expr::Now))
}

/// Strongly connected components of `edges` over `nodes`, without recursion (a
/// definition may have ten thousand steps): Kosaraju with explicit stacks.
fn components<'a>(nodes: &[&'a str], edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            edges
                .get(n)
                .into_iter()
                .flatten()
                .filter_map(|t| index.get(t).copied())
                .collect()
        })
        .collect();
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, ss) in succ.iter().enumerate() {
        for &s in ss {
            pred[s].push(i);
        }
    }
    // First pass: finishing order.
    let mut seen = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    for start in 0..nodes.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![(start, 0usize)];
        while let Some((n, k)) = stack.last_mut() {
            if let Some(&next) = succ[*n].get(*k) {
                *k += 1;
                if !seen[next] {
                    seen[next] = true;
                    stack.push((next, 0));
                }
            } else {
                order.push(*n);
                stack.pop();
            }
        }
    }
    // Second pass: on the reversed graph, in reverse finishing order.
    let mut comp = vec![usize::MAX; nodes.len()];
    let mut out: Vec<Vec<&str>> = Vec::new();
    for &start in order.iter().rev() {
        if comp[start] != usize::MAX {
            continue;
        }
        let id = out.len();
        let mut members = Vec::new();
        let mut stack = vec![start];
        comp[start] = id;
        while let Some(n) = stack.pop() {
            members.push(nodes[n]);
            for &p in &pred[n] {
                if comp[p] == usize::MAX {
                    comp[p] = id;
                    stack.push(p);
                }
            }
        }
        out.push(members);
    }
    out
}

impl Checker<'_> {
    /// `finishing`: the steps from which an end can be reached.
    pub(super) fn unbreakable_loops(
        &mut self,
        d: &Definition,
        finishing: &BTreeSet<&str>,
        spans: &BTreeMap<&str, crate::ast::Span>,
    ) {
        let nodes: Vec<&str> = d.steps.iter().map(|s| s.name.as_str()).collect();
        // The ways a step goes on when it is done, without the exits that can never
        // be taken; timers are left out, since someone acting in time avoids them.
        let live = self.exits(d, true);
        let live = &live;
        // Steps that run within one command: nobody works and no time passes there.
        // A wait until a moment fixed by the data passes time only the first time
        // round: once the moment is past, the step goes straight on.
        let waits_each_round = |s: &Step| match &s.wait {
            Some(Wait::For(_)) => true,
            Some(Wait::Until(e)) => reads_time(e),
            None => false,
        };
        let automatic = |s: &Step| {
            !waits_each_round(s)
                && matches!(
                    s.action,
                    Action::Auto
                        | Action::Decide(_)
                        | Action::Start { wait: false, .. }
                        // Its branches' steps do what work there is.
                        | Action::Parallel(_)
                )
        };
        let auto_names: BTreeSet<&str> = d
            .steps
            .iter()
            .filter(|s| automatic(s))
            .map(|s| s.name.as_str())
            .collect();
        // A cycle of automatic steps, even inside a larger loop that a person can
        // break, goes round within one command until the engine gives up.
        let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
        self.cycles_within(
            d,
            &auto_names,
            live,
            finishing,
            spans,
            "none of its steps waits for a person or for time",
            &mut reported,
        );
        // Steps by name, and how many share each name (two were reported, E010).
        let mut by_name: BTreeMap<&str, Vec<&Step>> = BTreeMap::new();
        for s in &d.steps {
            by_name.entry(s.name.as_str()).or_default().push(s);
        }
        for comp in components(&nodes, live) {
            let cyclic =
                comp.len() > 1 || live.get(comp[0]).is_some_and(|ts| ts.contains(&comp[0]));
            // A cycle with no end beyond it at all is reported as such (E021, E044).
            if !cyclic || !comp.iter().all(|n| finishing.contains(n)) {
                continue;
            }
            let mut key = comp.clone();
            key.sort();
            if reported.contains(&key) {
                continue;
            }
            let members: BTreeSet<&str> = comp.iter().copied().collect();
            if comp
                .iter()
                .any(|n| by_name.get(n).is_some_and(|v| v.len() > 1))
            {
                continue;
            }
            // In source order, so the error stands at the cycle's first step.
            let mut steps: Vec<&Step> = comp
                .iter()
                .filter_map(|n| by_name.get(n).and_then(|v| v.first().copied()))
                .collect();
            let order: BTreeMap<&str, usize> =
                nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
            steps.sort_by_key(|s| order.get(s.name.as_str()).copied().unwrap_or(0));
            let mut breakable = false;
            // Fields a person fills in the cycle change from round to round; so do
            // fields computed from changing ones, from themselves (a counter) or from
            // the time. A field set to the same constant each round does not.
            let mut written: BTreeSet<String> = BTreeSet::new();
            let mut computed: Vec<(&String, &Expr)> = Vec::new();
            let mut read: BTreeSet<String> = BTreeSet::new();
            let mut time_passes = false;
            let mut time_read = false;
            for s in &steps {
                let leaves = |t: &String| !members.contains(t.as_str());
                match &s.route {
                    Route::Choose(cs) => {
                        // A person picks, and may pick the way out.
                        breakable |= cs.iter().any(|c| leaves(&c.target));
                    }
                    // The child's end decides, and a new child may end elsewhere.
                    Route::ByOutcome(arms) => {
                        breakable |= arms.iter().any(|a| leaves(&a.target));
                    }
                    Route::Next(ns) => {
                        for (c, _) in ns {
                            if let Some(c) = c {
                                let mut fs = Vec::new();
                                super::fields_in(c, &mut fs);
                                read.extend(fs);
                                time_read |= reads_time(c);
                            }
                        }
                    }
                    Route::ByRules => {}
                }
                match &s.action {
                    Action::Decide(rules) => {
                        for r in rules {
                            if let Some(c) = &r.cond {
                                let mut fs = Vec::new();
                                super::fields_in(c, &mut fs);
                                read.extend(fs);
                                time_read |= reads_time(c);
                            }
                            computed.extend(r.sets.iter().map(|(k, e)| (k, e)));
                        }
                    }
                    Action::Sign { .. } => {
                        breakable = true;
                        time_passes = true;
                    }
                    Action::Task(_) => {
                        written.extend(s.fills.iter().map(|f| f.field.clone()));
                        time_passes = true;
                    }
                    Action::Start { wait: true, .. } => time_passes = true,
                    Action::Start { .. } | Action::Auto | Action::Parallel(_) => {}
                }
                computed.extend(s.sets.iter().map(|(k, e)| (k, e)));
                time_passes |= waits_each_round(s);
                breakable |= s
                    .on_overdue
                    .iter()
                    .any(|a| matches!(a, TimedAction::Goto(t) if leaves(t)));
                breakable |= d.limits.iter().any(|l| {
                    l.from == s.name
                        && l.on_breach
                            .iter()
                            .any(|a| matches!(a, TimedAction::Goto(t) if leaves(t)))
                });
            }
            // A cycle in which nobody works and no time passes runs within one
            // command: whatever it sets, it is a loop of the engine's, not a process.
            loop {
                let before = written.len();
                for (k, e) in &computed {
                    let mut fs = Vec::new();
                    super::fields_in(e, &mut fs);
                    if fs.iter().any(|f| f == *k || written.contains(f))
                        || (time_passes && reads_time(e))
                    {
                        written.insert((*k).clone());
                    }
                }
                if written.len() == before {
                    break;
                }
            }
            breakable |= time_passes && read.iter().any(|f| written.contains(f));
            breakable |= time_read && time_passes;
            if breakable {
                continue;
            }
            let first = steps[0].name.as_str();
            let Some(span) = spans.get(first) else {
                continue;
            };
            let names: Vec<String> = steps.iter().map(|s| format!("`{}`", s.name)).collect();
            let deciders = if !time_passes {
                "none of its steps waits for a person or for time".to_string()
            } else if read.is_empty() {
                "nothing decides when it stops".to_string()
            } else {
                let fs: Vec<String> = read.iter().map(|f| format!("`{f}`")).collect();
                format!(
                    "nothing in it changes what decides whether it goes on ({})",
                    fs.join(", ")
                )
            };
            self.err(
                Code::UnbreakableLoop,
                span.clone(),
                &[&names.join(", "), &deciders],
            );
            reported.insert(key);
        }
        // A cycle of steps where nobody can change the way (no choice, no fill, no
        // signature, no timer leading elsewhere, nothing computed that changes from
        // round to round) goes round for ever once the data sends it round.
        let inert: BTreeSet<&str> = d
            .steps
            .iter()
            .filter(|s| self.inert(s, d, waits_each_round(s)))
            .map(|s| s.name.as_str())
            .collect();
        self.cycles_within(
            d,
            &inert,
            live,
            finishing,
            spans,
            "none of its steps lets anyone change where it goes",
            &mut reported,
        );
    }

    /// Whether nothing at step `s` can change where the instance goes next.
    fn inert(&self, s: &Step, d: &Definition, waits: bool) -> bool {
        let changes = |k: &String, e: &Expr| {
            let mut fs = Vec::new();
            super::fields_in(e, &mut fs);
            fs.contains(k) || (waits && reads_time(e))
        };
        let conds_read_time = match (&s.route, &s.action) {
            (Route::Next(ns), _) => ns.iter().any(|(c, _)| c.as_ref().is_some_and(reads_time)),
            (_, Action::Decide(rules)) => rules
                .iter()
                .any(|r| r.cond.as_ref().is_some_and(reads_time)),
            _ => false,
        };
        let rule_sets_change = match &s.action {
            Action::Decide(rules) => rules
                .iter()
                .any(|r| r.sets.iter().any(|(k, e)| changes(k, e))),
            _ => false,
        };
        !matches!(s.route, Route::Choose(_) | Route::ByOutcome(_))
            && !matches!(s.action, Action::Sign { .. })
            && (!matches!(s.action, Action::Task(_)) || s.fills.is_empty())
            && !s
                .on_overdue
                .iter()
                .any(|a| matches!(a, TimedAction::Goto(_)))
            && !d.limits.iter().any(|l| {
                l.from == s.name
                    && l.on_breach
                        .iter()
                        .any(|a| matches!(a, TimedAction::Goto(_)))
            })
            && !s.sets.iter().any(|(k, e)| changes(k, e))
            && !rule_sets_change
            && !(waits && conds_read_time)
    }

    /// Report each cycle made only of the steps in `within`.
    #[allow(clippy::too_many_arguments)]
    fn cycles_within<'d>(
        &mut self,
        d: &'d Definition,
        within: &BTreeSet<&'d str>,
        live: &BTreeMap<&'d str, Vec<&'d str>>,
        finishing: &BTreeSet<&str>,
        spans: &BTreeMap<&str, crate::ast::Span>,
        why: &str,
        reported: &mut BTreeSet<Vec<&'d str>>,
    ) {
        let edges: BTreeMap<&str, Vec<&str>> = live
            .iter()
            .filter(|(n, _)| within.contains(*n))
            .map(|(n, ts)| {
                (
                    *n,
                    ts.iter().copied().filter(|t| within.contains(t)).collect(),
                )
            })
            .collect();
        let nodes: Vec<&str> = d
            .steps
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| within.contains(n))
            .collect();
        for comp in components(&nodes, &edges) {
            let cyclic =
                comp.len() > 1 || edges.get(comp[0]).is_some_and(|ts| ts.contains(&comp[0]));
            if !cyclic || !comp.iter().all(|n| finishing.contains(n)) {
                continue;
            }
            let mut key = comp.clone();
            key.sort();
            if !reported.insert(key.clone()) {
                continue;
            }
            let first = d
                .steps
                .iter()
                .map(|s| s.name.as_str())
                .find(|n| comp.contains(n));
            let Some(span) = first.and_then(|f| spans.get(f)) else {
                continue;
            };
            let names: Vec<String> = key.iter().map(|n| format!("`{n}`")).collect();
            self.err(
                Code::UnbreakableLoop,
                span.clone(),
                &[&names.join(", "), &why],
            );
        }
    }
}
