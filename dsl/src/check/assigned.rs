//! Definite assignment: every field a step reads must have a value on every path
//! that reaches the read.
//!
//! A field has a value from the start when it is given at start (required, or with a
//! default); it gets one on the way when a step `set`s it, a rule's `with` writes it,
//! or a task that `fill`s it (without `?`) completes. The analysis is the classic
//! forward "must" data-flow over the step graph: what is assigned on entry to a step
//! is what every edge into it assigns. Reads happen at fixed points of a step, in the
//! order the engine runs them: on entry (limits that start here, `wait`), after the
//! step's `set`s (messages, who a task is for, due times, rules, `start ... with`,
//! timed actions), and on completion (`next ... when`, after the task's `fill`).
//!
//! `x or FALLBACK` reads `x` only when it has a value, so a bare field on the left of
//! `or` is not a read that needs one.

use super::Checker;
use crate::ast::{self, ExprKind, Span, Stmt};
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Action, Definition, FieldSource, Route, TimedAction};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Where in a step a read happens.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Point {
    /// Before the step's `set`s: limits starting here, the wait.
    Entry,
    /// After `set` number `n` of the step (0: before any).
    AfterSets(usize),
    /// When the task completes: its `fill` has been written.
    Completion,
}

struct Read {
    field: String,
    span: Span,
    what: &'static str,
    point: Point,
    /// A bare optional field passed to a started process's field.
    passed_to: Option<(String, String)>,
}

/// An edge of the step graph, and what it writes on the way.
struct Edge {
    to: String,
    label: Option<String>,
    /// Assigned when leaving by this edge (fills, rule `with`), besides the step's sets.
    writes: Vec<String>,
    /// Whether the step's task completed (its fills written) when taking this edge.
    completes: bool,
}

struct StepFlow {
    sets: Vec<String>,
    fills: Vec<String>,
    reads: Vec<Read>,
    edges: Vec<Edge>,
}

/// The fields an AST expression reads where a value is needed.
fn reads_in(e: &ast::Expr, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    fields_of(e, fields, false, out)
}

/// Every field an expression mentions, tested ones (`x or fallback`) included.
fn mentions_in(e: &ast::Expr, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    fields_of(e, fields, true, out)
}

/// The fields in an expression; a bare field tested by `x or fallback` only when
/// `tested` (it needs no value there).
fn fields_of(e: &ast::Expr, fields: &super::Fields, tested: bool, out: &mut Vec<(String, Span)>) {
    let mut each = |x: &ast::Expr| fields_of(x, fields, tested, out);
    match &e.kind {
        ExprKind::Ident(n) if fields.contains_key(n) => out.push((n.clone(), e.span.clone())),
        ExprKind::Bin(ast::BinOp::Or, a, b) => {
            if tested || !matches!(&a.kind, ExprKind::Ident(n) if fields.contains_key(n)) {
                each(a);
            }
            each(b);
        }
        ExprKind::Bin(_, a, b) | ExprKind::InDepartment(a, b) => {
            each(a);
            each(b);
        }
        ExprKind::Neg(x)
        | ExprKind::Not(x)
        | ExprKind::At(x, _)
        | ExprKind::SupervisorOf(x)
        | ExprKind::DepartmentOf(x)
        | ExprKind::HeadOf(x)
        | ExprKind::HasRole(x, _) => each(x),
        ExprKind::Call(_, xs) => xs.iter().for_each(each),
        ExprKind::InRange { value, lo, hi, .. } => {
            each(value);
            each(lo);
            each(hi);
        }
        ExprKind::InSet(v, xs) => {
            each(v);
            xs.iter().for_each(each);
        }
        ExprKind::Quantified(q) => {
            if fields.contains_key(&q.list.text) {
                out.push((q.list.text.clone(), q.list.span.clone()));
            }
            fields_of(&q.cond, fields, tested, out);
        }
        _ => {}
    }
}

/// The fields read before the process could have written anything: by a `require`
/// or by the first step. A field the process writes but reads there is an input
/// with a fallback (`next_call or today`), asked for at start.
pub(super) fn read_first(p: &ast::Process, fields: &super::Fields) -> BTreeSet<String> {
    let mut out = Vec::new();
    for r in &p.requires {
        mentions_in(&r.cond, fields, &mut out);
    }
    for st in p.steps.first().map_or(&[][..], |s| &s.body[..]) {
        match st {
            Stmt::WaitFor(e, _) | Stmt::WaitUntil(e, _) => mentions_in(e, fields, &mut out),
            Stmt::Set(a, _) => mentions_in(&a.value, fields, &mut out),
            Stmt::Rules(arms, _) => {
                for a in arms {
                    if let Some(c) = &a.cond {
                        mentions_in(c, fields, &mut out);
                    }
                    a.sets
                        .iter()
                        .for_each(|w| mentions_in(&w.value, fields, &mut out));
                }
            }
            Stmt::Next { when: Some(w), .. } => mentions_in(w, fields, &mut out),
            Stmt::Due { at, when, .. } => {
                mentions_in(at, fields, &mut out);
                if let Some(w) = when {
                    mentions_in(w, fields, &mut out);
                }
            }
            Stmt::Start { with, .. } => with
                .iter()
                .for_each(|a| mentions_in(&a.value, fields, &mut out)),
            Stmt::Task(w, _) => who_reads(w, fields, &mut out),
            Stmt::Notify { to, message, .. } => {
                who_reads(to, fields, &mut out);
                placeholder_reads(message, fields, &mut out);
            }
            _ => {}
        }
    }
    out.into_iter().map(|(f, _)| f).collect()
}

fn who_reads(w: &ast::Who, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    match w {
        ast::Who::Name(n) | ast::Who::HeadOf(n) if fields.contains_key(&n.text) => {
            out.push((n.text.clone(), n.span.clone()))
        }
        ast::Who::SupervisorOf(inner, _) | ast::Who::DeptHeadOf(inner, _) => {
            who_reads(inner, fields, out)
        }
        ast::Who::Except(base, xs, _) => {
            who_reads(base, fields, out);
            xs.iter().for_each(|x| who_reads(x, fields, out));
        }
        _ => {}
    }
}

fn placeholder_reads(t: &ast::Text, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    let mut rest = t.value.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = after[..close].trim();
        // `{x or TEXT}` has a fallback, so it needs no value.
        if fields.contains_key(name) {
            out.push((name.to_string(), t.span.clone()));
        }
        rest = &after[close + 1..];
    }
}

impl Checker<'_> {
    pub(super) fn definite_assignment(&mut self, p: &ast::Process, d: &Definition) {
        let Some(first) = d.steps.first() else { return };
        let fields = &self.fields;
        // Given at start: required data, or data with a default.
        let at_start: BTreeSet<String> = fields
            .values()
            .filter(|f| f.source == FieldSource::Start && (!f.optional || f.default.is_some()))
            .map(|f| f.name.clone())
            .collect();

        let mut flows: BTreeMap<String, StepFlow> = BTreeMap::new();
        for (s, m) in p.steps.iter().zip(&d.steps) {
            flows.insert(s.name.text.clone(), self.step_flow(s, m, p, d));
        }

        for e in &p.ends {
            flows.insert(e.name.text.clone(), self.end_flow(e, p));
        }

        // The fixed point: assigned on entry to each step.
        let mut entry: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        entry.insert(first.name.as_str(), at_start.clone());
        let mut queue: VecDeque<&str> = VecDeque::from([first.name.as_str()]);
        while let Some(n) = queue.pop_front() {
            let Some(flow) = flows.get(n) else { continue };
            let inn = entry.get(n).cloned().unwrap_or_default();
            for e in &flow.edges {
                let mut out = inn.clone();
                out.extend(flow.sets.iter().cloned());
                if e.completes {
                    out.extend(flow.fills.iter().cloned());
                }
                out.extend(e.writes.iter().cloned());
                if !flows.contains_key(e.to.as_str()) {
                    continue;
                }
                let to = e.to.as_str();
                let changed = match entry.get_mut(to) {
                    None => {
                        entry.insert(to, out);
                        true
                    }
                    Some(cur) => {
                        let before = cur.len();
                        cur.retain(|f| out.contains(f));
                        cur.len() != before
                    }
                };
                if changed {
                    queue.push_back(to);
                }
            }
        }

        // `require` runs at start.
        let mut found: Vec<Diagnostic> = Vec::new();
        for r in &p.requires {
            let mut rs = Vec::new();
            reads_in(&r.cond, &self.fields, &mut rs);
            for (f, sp) in rs {
                if !at_start.contains(&f) && self.fields[&f].source == FieldSource::Start {
                    found.push(Diagnostic::new(
                        Code::FieldMaybeEmpty,
                        sp,
                        &[
                            &f,
                            &"`require`",
                            &"at start",
                            &"it is optional and has no default",
                        ],
                    ));
                }
            }
        }

        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        let places = d.steps.iter().map(|s| (&s.name, "step"));
        for (name, kind) in places.chain(d.ends.iter().map(|e| (&e.name, "end"))) {
            let Some(inn) = entry.get(name.as_str()) else {
                continue;
            };
            let flow = &flows[name];
            for r in &flow.reads {
                let mut have = inn.clone();
                let sets_before = match r.point {
                    Point::Entry => 0,
                    Point::AfterSets(n) => n,
                    Point::Completion => flow.sets.len(),
                };
                have.extend(flow.sets.iter().take(sets_before).cloned());
                if r.point == Point::Completion {
                    have.extend(flow.fills.iter().cloned());
                }
                if have.contains(&r.field) {
                    continue;
                }
                // One error per field and kind of read in a step: four rules reading
                // the same empty field are one mistake.
                if !reported.insert((r.field.clone(), format!("{name}:{}", r.what))) {
                    continue;
                }
                let path = self.path_without(&r.field, name, &flows, &at_start, d);
                let goes = format!("the {} goes {path}", d.name);
                found.push(match &r.passed_to {
                    Some((child, field)) => Diagnostic::new(
                        Code::OptionalToRequired,
                        r.span.clone(),
                        &[&r.field, child, field, &goes],
                    ),
                    None => Diagnostic::new(
                        Code::FieldMaybeEmpty,
                        r.span.clone(),
                        &[&r.field, &format!("{kind} `{name}`"), &r.what, &goes],
                    ),
                });
            }
        }
        self.diags.extend(found);
    }

    /// One path from the first step to `at` on which `field` is never assigned.
    fn path_without(
        &self,
        field: &str,
        at: &str,
        flows: &BTreeMap<String, StepFlow>,
        at_start: &BTreeSet<String>,
        d: &Definition,
    ) -> String {
        let first = d.steps[0].name.as_str();
        if at_start.contains(field) {
            return at.to_string();
        }
        // Breadth-first over steps reached with the field still empty.
        let mut prev: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
        let mut seen: BTreeSet<&str> = BTreeSet::from([first]);
        let mut queue = VecDeque::from([first]);
        while let Some(n) = queue.pop_front() {
            if n == at {
                break;
            }
            let Some(flow) = flows.get(n) else { continue };
            if flow.sets.iter().any(|f| f == field) {
                continue;
            }
            for e in &flow.edges {
                let writes = (e.completes && flow.fills.iter().any(|f| f == field))
                    || e.writes.iter().any(|f| f == field);
                if writes || !seen.insert(e.to.as_str()) {
                    continue;
                }
                prev.insert(e.to.as_str(), (n, e.label.as_deref()));
                queue.push_back(e.to.as_str());
            }
        }
        let mut names = vec![at.to_string()];
        let mut cur = at;
        while let Some((p, label)) = prev.get(cur) {
            let step = match label {
                Some(l) => format!("{p}({l})"),
                None => p.to_string(),
            };
            names.push(step);
            cur = p;
        }
        names.reverse();
        names.join(" -> ")
    }

    fn step_flow(
        &self,
        s: &ast::Step,
        m: &crate::model::Step,
        p: &ast::Process,
        d: &Definition,
    ) -> StepFlow {
        let fields = &self.fields;
        let mut reads: Vec<Read> = Vec::new();
        let mut push = |rs: Vec<(String, Span)>, what: &'static str, point: Point| {
            for (field, span) in rs {
                reads.push(Read {
                    field,
                    span,
                    what,
                    point,
                    passed_to: None,
                });
            }
        };
        // Limits that start here, then the wait.
        for l in p.limits.iter().filter(|l| l.from.text == s.name.text) {
            let mut rs = Vec::new();
            for (e, w) in &l.within {
                reads_in(e, fields, &mut rs);
                if let Some(w) = w {
                    reads_in(w, fields, &mut rs);
                }
            }
            push(rs, "a limit's `within`", Point::Entry);
            let mut rs = Vec::new();
            for a in &l.on_breach {
                action_reads(a, fields, &mut rs);
            }
            for r in &l.reminders {
                remind_reads(r, fields, &mut rs);
            }
            if let Some(x) = &l.extend {
                if let Some(w) = &x.when {
                    reads_in(w, fields, &mut rs);
                }
            }
            push(rs, "a limit's breach or extension", Point::Entry);
        }
        let mut sets = Vec::new();
        let mut fills = Vec::new();
        let mut passes: Vec<Read> = Vec::new();
        for st in &s.body {
            let n = sets.len();
            let mut rs = Vec::new();
            let what = match st {
                Stmt::WaitFor(e, _) | Stmt::WaitUntil(e, _) => {
                    let mut w = Vec::new();
                    reads_in(e, fields, &mut w);
                    push(w, "the wait", Point::Entry);
                    continue;
                }
                Stmt::Set(a, _) => {
                    reads_in(&a.value, fields, &mut rs);
                    push(rs, "a `set`", Point::AfterSets(n));
                    sets.push(a.field.text.clone());
                    continue;
                }
                Stmt::Notify { to, message, .. } => {
                    who_reads(to, fields, &mut rs);
                    placeholder_reads(message, fields, &mut rs);
                    "a notice"
                }
                Stmt::Task(w, _) => {
                    who_reads(w, fields, &mut rs);
                    "who the task is for"
                }
                Stmt::Sign { signers, .. } => {
                    signers.iter().for_each(|w| who_reads(w, fields, &mut rs));
                    "who signs"
                }
                Stmt::Rules(arms, _) => {
                    for a in arms {
                        if let Some(c) = &a.cond {
                            reads_in(c, fields, &mut rs);
                        }
                        for w in &a.sets {
                            reads_in(&w.value, fields, &mut rs);
                        }
                    }
                    "a rule"
                }
                Stmt::Start { process, with, .. } => {
                    let sig = self.ctx.processes.and_then(|ps| ps.get(&process.text));
                    for a in with {
                        let mut one = Vec::new();
                        reads_in(&a.value, fields, &mut one);
                        let bare =
                            matches!(&a.value.kind, ExprKind::Ident(n) if fields.contains_key(n));
                        let required = sig.is_some_and(|s| s.required.contains(&a.field.text));
                        for (field, span) in one {
                            passes.push(Read {
                                field,
                                span,
                                what: "`start ... with`",
                                point: Point::Completion,
                                passed_to: (bare && required)
                                    .then(|| (process.text.clone(), a.field.text.clone())),
                            });
                        }
                    }
                    continue;
                }
                Stmt::Due { at, when, .. } => {
                    reads_in(at, fields, &mut rs);
                    if let Some(w) = when {
                        reads_in(w, fields, &mut rs);
                    }
                    "the due time"
                }
                Stmt::OnOverdue(a, _) => {
                    action_reads(a, fields, &mut rs);
                    "`on overdue`"
                }
                Stmt::Extend(x) => {
                    if let Some(w) = &x.when {
                        reads_in(w, fields, &mut rs);
                    }
                    "`extend`"
                }
                Stmt::Next { when, .. } => {
                    if let Some(w) = when {
                        let mut c = Vec::new();
                        reads_in(w, fields, &mut c);
                        push(c, "a `next` condition", Point::Completion);
                    }
                    continue;
                }
                Stmt::Fill(items, _) => {
                    fills.extend(
                        items
                            .iter()
                            .filter(|i| !i.optional)
                            .map(|i| i.name.text.clone()),
                    );
                    continue;
                }
                Stmt::Remind(r, _) => {
                    remind_reads(r, fields, &mut rs);
                    "a reminder"
                }
                // A check reads the data as the completion leaves it: the task's
                // fills are written by then.
                Stmt::Check { cond, .. } => {
                    let mut c = Vec::new();
                    reads_in(cond, fields, &mut c);
                    push(c, "a `check`", Point::Completion);
                    continue;
                }
                Stmt::ForEach { list, .. } => {
                    if fields.contains_key(&list.text) {
                        rs.push((list.text.clone(), list.span.clone()));
                    }
                    "`for each`"
                }
                Stmt::Choose(..)
                | Stmt::OnRefuse(..)
                | Stmt::SelfApproval(..)
                | Stmt::Receive(..)
                | Stmt::OnOutcome(..) => continue,
                // A branch's steps are steps of their own, read where they are.
                Stmt::Parallel(..) | Stmt::Join(..) => continue,
            };
            // Everything else reads after all of the step's sets: the engine runs
            // sets first, whatever their place in the text.
            push(rs, what, Point::AfterSets(usize::MAX));
        }
        // The `start ... with` values are read after the sets, not on completion.
        for mut r in passes {
            r.point = Point::AfterSets(usize::MAX);
            reads.push(r);
        }
        for r in &mut reads {
            if let Point::AfterSets(n) = r.point {
                r.point = Point::AfterSets(n.min(sets.len()));
            }
        }
        // A step whose task is not `fill`ed still completes; only tasks fill.
        let is_task = matches!(m.action, Action::Task(_));
        if !is_task {
            fills.clear();
        }

        let mut edges = Vec::new();
        match &m.route {
            Route::Choose(cs) => edges.extend(cs.iter().map(|c| Edge {
                to: c.target.clone(),
                label: Some(c.name.clone()),
                writes: vec![],
                completes: true,
            })),
            Route::Next(ns) => edges.extend(ns.iter().map(|(_, t)| Edge {
                to: t.clone(),
                label: None,
                writes: vec![],
                completes: true,
            })),
            Route::ByOutcome(arms) => {
                let kept = self.kept_on_ending(m);
                edges.extend(arms.iter().map(|a| Edge {
                    to: a.target.clone(),
                    label: Some(a.end.clone().unwrap_or_else(|| "otherwise".into())),
                    // A child that reached one of its ends gave back its outputs; one
                    // cancelled, or any end under `otherwise`, may not have.
                    writes: match &a.end {
                        Some(e) if e != crate::model::CANCELLED => kept.clone(),
                        _ => vec![],
                    },
                    completes: false,
                }))
            }
            Route::ByRules => {}
        }
        if let Action::Decide(rules) = &m.action {
            edges.extend(rules.iter().map(|r| Edge {
                to: r.target.clone(),
                label: None,
                writes: r.sets.iter().map(|(k, _)| k.clone()).collect(),
                completes: false,
            }));
        }
        // A parallel step starts each branch; what follows its join is reached by its
        // own `next` with what was known before it (what one branch fills, another
        // may not have).
        if let Action::Parallel(par) = &m.action {
            edges.extend(par.branches.iter().filter_map(|b| b.first()).map(|f| Edge {
                to: f.to_string(),
                label: None,
                writes: vec![],
                completes: false,
            }));
        }
        if let Action::Sign {
            on_refuse: Some(t), ..
        } = &m.action
        {
            edges.push(Edge {
                to: t.clone(),
                label: Some("refused".into()),
                writes: vec![],
                completes: false,
            });
        }
        for a in &m.on_overdue {
            if let TimedAction::Goto(t) = a {
                edges.push(Edge {
                    to: t.clone(),
                    label: Some("overdue".into()),
                    writes: vec![],
                    completes: false,
                });
            }
        }
        for l in d.limits.iter().filter(|l| l.from == m.name) {
            for a in &l.on_breach {
                if let TimedAction::Goto(t) = a {
                    edges.push(Edge {
                        to: t.clone(),
                        label: Some(format!("{} breached", l.name)),
                        writes: vec![],
                        completes: false,
                    });
                }
            }
        }
        StepFlow {
            sets,
            fills,
            reads,
            edges,
        }
    }
}

impl Checker<'_> {
    /// An end reads what its notices name, and the outputs that must have a value.
    fn end_flow(&self, e: &ast::End, p: &ast::Process) -> StepFlow {
        let fields = &self.fields;
        let mut reads = Vec::new();
        let mut push = |rs: Vec<(String, Span)>, what: &'static str| {
            for (field, span) in rs {
                reads.push(Read {
                    field,
                    span,
                    what,
                    point: Point::Entry,
                    passed_to: None,
                });
            }
        };
        for n in &e.notices {
            if let Stmt::Notify { to, message, .. } = n {
                let mut rs = Vec::new();
                who_reads(to, fields, &mut rs);
                placeholder_reads(message, fields, &mut rs);
                push(rs, "a notice");
            }
        }
        let outputs = p
            .outputs
            .iter()
            .filter(|(n, optional)| !optional && fields.contains_key(&n.text))
            .map(|(n, _)| (n.text.clone(), n.span.clone()))
            .collect();
        push(outputs, "an output without `?`");
        StepFlow {
            sets: vec![],
            fills: vec![],
            reads,
            edges: vec![],
        }
    }

    /// The fields a step's `receive` fills when its child reaches an end: those whose
    /// output the child promises at every end (all of them when the child is not
    /// known here: it was when the definition was deployed).
    fn kept_on_ending(&self, m: &crate::model::Step) -> Vec<String> {
        let sig = match &m.action {
            Action::Start { process, .. } => self.ctx.processes.and_then(|ps| ps.get(process)),
            _ => None,
        };
        m.receives
            .iter()
            .filter(|r| sig.is_none_or(|s| s.outputs.get(&r.output).is_some_and(|(_, opt)| !opt)))
            .map(|r| r.field.clone())
            .collect()
    }
}

/// A reminder that names whom it goes to, or says a message, reads those fields.
fn remind_reads(r: &ast::RemindLine, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    if let Some(w) = &r.to {
        who_reads(w, fields, out);
    }
    if let Some(m) = &r.message {
        placeholder_reads(m, fields, out);
    }
}

fn action_reads(a: &ast::Action, fields: &super::Fields, out: &mut Vec<(String, Span)>) {
    match a {
        ast::Action::Notify(w, msg) => {
            who_reads(w, fields, out);
            if let Some(m) = msg {
                placeholder_reads(m, fields, out);
            }
        }
        ast::Action::Escalate(w) => who_reads(w, fields, out),
        ast::Action::Goto(_) => {}
    }
}
