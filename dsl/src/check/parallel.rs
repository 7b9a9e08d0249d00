//! Parallel branches: lowering a `parallel` block, and the checks that make every
//! join reachable. A branch's steps are checked as ordinary steps (they are moved
//! into the process's list of steps before any pass runs, see `flatten`); what is
//! particular to branches is here:
//!
//! - a branch's steps go on only within their branch, to `join`, or (with `may end`)
//!   to an end, so no branch leaves its parallel block another way and leaves the
//!   join waiting (E120);
//! - every branch can reach `join` from its first step (E121);
//! - nothing outside a branch goes into it, so a step belongs to one branch (E122);
//! - `join` is a target only inside a branch (E123), `join N` can be met (E124),
//!   `join` stands beside a `parallel` (E125);
//! - what the engine cannot run inside a branch is refused (E126): a branch of its
//!   own inside a branch, `start ... and wait`, a limit starting or stopping there.

use super::{Checker, StepParts};
use crate::ast::{self, Span, Stmt};
use crate::catalogue::Code;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The process with each branch's steps also listed among its steps, right after
/// the step holding the `parallel` block, so that every pass over the steps (fields,
/// types, reachability, definite assignment, people) sees them.
pub(super) fn flatten(mut p: ast::Process) -> ast::Process {
    if !p.steps.iter().any(has_parallel) {
        return p;
    }
    let mut out = Vec::with_capacity(p.steps.len());
    for s in std::mem::take(&mut p.steps) {
        let mut inner = Vec::new();
        collect_branch_steps(&s, &mut inner);
        out.push(s);
        out.extend(inner);
    }
    p.steps = out;
    p
}

fn has_parallel(s: &ast::Step) -> bool {
    s.body.iter().any(|st| matches!(st, Stmt::Parallel(..)))
}

/// The steps of `s`'s branches, and of branches nested in them (which are refused,
/// but still checked as steps so that their other mistakes are reported too).
fn collect_branch_steps(s: &ast::Step, out: &mut Vec<ast::Step>) {
    for st in &s.body {
        if let Stmt::Parallel(branches, _) = st {
            for b in branches {
                for x in &b.steps {
                    out.push(x.clone());
                    collect_branch_steps(x, out);
                }
            }
        }
    }
}

/// Where step `s` names `target` (a `next`, a choice, a rule, `on refuse`, an
/// overdue move), for a diagnostic to point at.
fn target_span(s: &ast::Step, target: &str) -> Option<Span> {
    s.body.iter().find_map(|st| {
        let named = |n: &&ast::Name| n.text == target;
        match st {
            Stmt::Next { target, .. } => Some(target).filter(named),
            Stmt::Choose(arms, _) => arms.iter().map(|a| &a.target).find(named),
            Stmt::Rules(arms, _) => arms.iter().map(|a| &a.target).find(named),
            Stmt::OnRefuse(n, _) => Some(n).filter(named),
            Stmt::OnOverdue(ast::Action::Goto(n), _) => Some(n).filter(named),
            _ => None,
        }
        .map(|n| n.span.clone())
    })
}

/// Where a step goes as written: its route, rules, refusal and overdue moves.
fn targets_of(s: &Step) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    match &s.route {
        Route::Next(ns) => out.extend(ns.iter().map(|(_, t)| t.as_str())),
        Route::Choose(cs) => out.extend(cs.iter().map(|c| c.target.as_str())),
        Route::ByOutcome(arms) => out.extend(arms.iter().map(|a| a.target.as_str())),
        Route::ByRules => {}
    }
    match &s.action {
        Action::Decide(rules) => out.extend(rules.iter().map(|r| r.target.as_str())),
        Action::Sign {
            on_refuse: Some(t), ..
        } => out.push(t),
        _ => {}
    }
    for a in &s.on_overdue {
        if let TimedAction::Goto(t) = a {
            out.push(t);
        }
    }
    out
}

impl Checker<'_> {
    /// `join` is a target in a process with branches; no step or end may take it.
    pub(super) fn join_target(&mut self, p: &ast::Process, targets: &mut BTreeSet<String>) {
        if !p.steps.iter().any(has_parallel) {
            return;
        }
        let names = p
            .steps
            .iter()
            .map(|s| &s.name)
            .chain(p.ends.iter().map(|e| &e.name));
        for n in names.filter(|n| n.text == JOIN) {
            self.err(Code::JoinIsReserved, n.span.clone(), &[]);
        }
        targets.insert(JOIN.to_string());
    }

    /// The action of a step holding a `parallel` block.
    pub(super) fn parallel(&mut self, s: &ast::Step, branches: &[ast::Branch]) -> Action {
        let mut seen = BTreeSet::new();
        for b in branches {
            if !seen.insert(b.name.text.as_str()) {
                self.err(
                    Code::DuplicateName,
                    b.name.span.clone(),
                    &[&"branch", &b.name.text],
                );
            }
        }
        let mut join = Join::All;
        for st in &s.body {
            if let Stmt::Join(mode, sp) = st {
                join = match mode {
                    ast::JoinMode::All => Join::All,
                    ast::JoinMode::Any => Join::Any,
                    ast::JoinMode::Count(n) => {
                        if *n == 0 || *n as usize > branches.len() {
                            self.err(Code::JoinCount, sp.clone(), &[n, &branches.len()]);
                        }
                        Join::Count(*n)
                    }
                };
            }
        }
        Action::Parallel(Parallel {
            branches: branches
                .iter()
                .map(|b| Branch {
                    name: b.name.text.clone(),
                    title: b.title.as_ref().map(|t| t.value.clone()),
                    may_end: b.may_end,
                    steps: b.steps.iter().map(|x| x.name.text.clone()).collect(),
                })
                .collect(),
            join,
        })
    }

    /// A `join` line beside no `parallel` block.
    pub(super) fn lone_join(&mut self, s: &ast::Step, parts: &StepParts) {
        let parallel = parts
            .actions
            .iter()
            .any(|a| matches!(a, Stmt::Parallel(..)));
        for st in &s.body {
            if let (Stmt::Join(_, sp), false) = (st, parallel) {
                self.err(Code::JoinWithoutParallel, sp.clone(), &[]);
            }
        }
    }

    /// The checks of the module documentation, over the whole definition.
    pub(super) fn branches(&mut self, p: &ast::Process, d: &Definition) {
        // Each name's first step (where its exits are looked up) and last step's span
        // (where a diagnostic about the step points), found once rather than by a
        // scan of the steps per exit, which made this pass quadratic.
        let mut by_name: BTreeMap<&str, (&ast::Step, &Span)> = BTreeMap::new();
        for s in &p.steps {
            by_name
                .entry(s.name.text.as_str())
                .and_modify(|(_, span)| *span = &s.name.span)
                .or_insert((s, &s.name.span));
        }
        let span_of = |n: &str| by_name.get(n).map_or(&p.name.span, |(_, sp)| sp).clone();
        let branch_spans: BTreeMap<&str, Span> = p
            .steps
            .iter()
            .flat_map(|s| &s.body)
            .filter_map(|st| match st {
                Stmt::Parallel(bs, _) => Some(bs),
                _ => None,
            })
            .flatten()
            .map(|b| (b.name.text.as_str(), b.name.span.clone()))
            .collect();
        // Which branch each branch step is in.
        let mut home: BTreeMap<&str, &Branch> = BTreeMap::new();
        for s in &d.steps {
            if let Action::Parallel(par) = &s.action {
                for b in &par.branches {
                    for x in &b.steps {
                        home.entry(x.as_str()).or_insert(b);
                    }
                }
            }
        }
        let is_end = |t: &str| d.end(t).is_some();
        for s in &d.steps {
            let mine = home.get(s.name.as_str()).copied();
            for t in targets_of(s) {
                // At the exit as written, else at the step; found only for a diagnostic.
                let at = || {
                    by_name
                        .get(s.name.as_str())
                        .and_then(|(step, _)| target_span(step, t))
                        .unwrap_or_else(|| span_of(&s.name))
                };
                match (mine, home.get(t).copied()) {
                    (None, _) if t == JOIN => {
                        self.err(Code::JoinOutsideBranch, at(), &[&s.name]);
                    }
                    (Some(_), _) if t == JOIN => {}
                    (Some(b), Some(tb)) if std::ptr::eq(b, tb) => {}
                    (_, Some(tb)) => {
                        self.err(Code::IntoBranch, at(), &[&t, &tb.name]);
                    }
                    (Some(b), None) if is_end(t) && b.may_end => {}
                    (Some(b), None) => {
                        // An unknown name was reported already (E002).
                        if is_end(t) || d.step(t).is_some() {
                            self.err(Code::BranchLeaves, at(), &[&s.name, &b.name, &t]);
                        }
                    }
                    (None, None) => {}
                }
            }
            if mine.is_some() {
                match &s.action {
                    Action::Parallel(_) => {
                        self.err(
                            Code::NotInBranch,
                            span_of(&s.name),
                            &[&"a `parallel` block"],
                        );
                    }
                    Action::Start { wait: true, .. } => {
                        self.err(
                            Code::NotInBranch,
                            span_of(&s.name),
                            &[&"`start ... and wait`"],
                        );
                    }
                    _ => {}
                }
            }
        }
        for l in &p.limits {
            let inside = [&l.from, &l.to]
                .into_iter()
                .any(|n| home.contains_key(n.text.as_str()));
            if inside {
                self.err(
                    Code::NotInBranch,
                    l.name.span.clone(),
                    &[&"a limit's first or last step"],
                );
            }
        }
        // Every branch can reach `join` from its first step, within itself.
        for s in &d.steps {
            let Action::Parallel(par) = &s.action else {
                continue;
            };
            for b in &par.branches {
                let Some(first) = b.first() else { continue };
                let mut seen = BTreeSet::from([first]);
                let mut queue = VecDeque::from([first]);
                let mut joins = false;
                while let Some(n) = queue.pop_front() {
                    let Some(step) = d.step(n) else { continue };
                    for t in targets_of(step) {
                        if t == JOIN {
                            joins = true;
                        } else if b.steps.iter().any(|x| x == t) && seen.insert(t) {
                            queue.push_back(t);
                        }
                    }
                }
                if !joins {
                    let at = branch_spans
                        .get(b.name.as_str())
                        .cloned()
                        .unwrap_or(span_of(&s.name));
                    let why = format!("no way from its first step `{first}` leads to `next join`");
                    self.err(Code::BranchNeverJoins, at, &[&b.name, &why]);
                }
            }
        }
    }
}

/// The step graph's exits with branches drawn in: a parallel step goes to the first
/// step of each branch, and a branch step's `join` goes where its parallel step goes
/// once joined. `exits` holds every step's exits as written (`join` among them).
pub(super) fn rewire<'d>(d: &'d Definition, exits: &mut BTreeMap<&'d str, Vec<&'d str>>) {
    for s in &d.steps {
        let Action::Parallel(par) = &s.action else {
            continue;
        };
        let after = exits.get(s.name.as_str()).cloned().unwrap_or_default();
        let firsts: Vec<&str> = par.branches.iter().filter_map(Branch::first).collect();
        exits.insert(s.name.as_str(), firsts);
        for b in &par.branches {
            for x in &b.steps {
                if let Some(e) = exits.get_mut(x.as_str()) {
                    if e.contains(&JOIN) {
                        e.retain(|t| *t != JOIN);
                        e.extend(after.iter().copied());
                    }
                }
            }
        }
    }
}
