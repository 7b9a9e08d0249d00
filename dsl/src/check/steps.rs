//! Steps: their statements as a whole, decisions and their coverage, limits.

use super::decide;
use super::types::{const_duration, Ty};
use super::{Checker, StepParts};
use crate::ast::{self, Span, Stmt};
use crate::catalogue::Code;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::*;
use std::collections::BTreeSet;

impl Checker<'_> {
    // ---- steps --------------------------------------------------------------------------

    /// A step in phases, in the order the engine runs them: its statements sorted
    /// into parts (with `set` and `notify` lowered on the way), then the wait, the
    /// action, what a person fills, where it goes next, and its time.
    pub(super) fn step(&mut self, s: &ast::Step, targets: &BTreeSet<String>) -> Step {
        let mut sets = Vec::new();
        let mut notifies = Vec::new();
        let parts = self.step_parts(s, &mut sets, &mut notifies);
        // A `for each` names its element in who the task is for, its due time and its
        // reminders, which the engine works out per element; not in the wait, the
        // `set`s and `notify`s, or where the step goes next, which happen once.
        let (for_each, element) = self.for_each(s);
        let wait = self.step_wait(&parts, &s.name.text);
        self.lone_join(s, &parts);
        self.element = element.clone();
        let (action, rule_route) = self.step_action(s, &parts, targets);
        self.element = None;
        let fills = self.step_fills(&parts, &action);
        let route = match parts.outcomes.first() {
            Some((arms, sp)) => {
                if rule_route
                    || !parts.chooses.is_empty()
                    || !parts.nexts.is_empty()
                    || parts.outcomes.len() > 1
                {
                    self.err(Code::SeveralRoutes, sp.clone(), &[]);
                }
                self.outcome_route(&parts.actions, arms, sp.clone(), targets)
            }
            None => self.step_route(s, &parts, &action, rule_route, targets),
        };
        let receives = self.receives(&parts.actions, &parts.receives);
        self.element = element;
        let (due, reminders, on_overdue, extend) = self.step_time(&parts, &action, targets);
        self.element = None;
        let checks = self.step_checks(&parts, &action, &fills);
        let allow_self = parts.self_approval.is_some() && matches!(action, Action::Task(_));
        if for_each.is_some() {
            self.for_each_body(s, &action);
        }
        Step {
            name: s.name.text.clone(),
            title: s.title.as_ref().map(|t| t.value.clone()),
            wait,
            sets,
            notifies,
            action,
            fills,
            route,
            due,
            reminders,
            on_overdue,
            extend,
            checks,
            allow_self,
            for_each,
            receives,
        }
    }

    /// Sort a step's statements into their parts; `set` and `notify` need no other
    /// part, so they are lowered here.
    fn step_parts<'s>(
        &mut self,
        s: &'s ast::Step,
        sets: &mut Vec<(String, Expr)>,
        notifies: &mut Vec<Notify>,
    ) -> StepParts<'s> {
        let mut parts = StepParts::default();
        for st in &s.body {
            match st {
                Stmt::Task(..)
                | Stmt::Sign { .. }
                | Stmt::Rules(..)
                | Stmt::Start { .. }
                | Stmt::Parallel(..) => parts.actions.push(st),
                // Read with its `parallel` block (see `parallel`).
                Stmt::Join(..) => {}
                Stmt::WaitFor(..) | Stmt::WaitUntil(..) => parts.waits.push(st),
                Stmt::Notify { .. } => notifies.extend(self.notice(st)),
                Stmt::Set(a, _) => sets.push(self.assign(a)),
                Stmt::Fill(items, sp) => {
                    parts.fills.extend(items);
                    parts.fill_span = Some(sp.clone());
                }
                Stmt::Choose(arms, sp) => parts.chooses.push((arms, sp.clone())),
                Stmt::Next { target, when, span } => {
                    parts.nexts.push((target, when.as_ref(), span.clone()))
                }
                Stmt::Due { at, when, span } => parts.dues.push((at, when.as_ref(), span.clone())),
                Stmt::Remind(r, sp) => parts.reminders.push((r, sp.clone())),
                Stmt::OnOverdue(a, sp) => parts.overdue.push((a, sp.clone())),
                Stmt::OnRefuse(n, sp) => parts.refuse = Some((n, sp.clone())),
                Stmt::SelfApproval(sp) => parts.self_approval = Some(sp.clone()),
                Stmt::Extend(x) => parts.extend = Some(x),
                Stmt::Check {
                    cond,
                    message,
                    span,
                } => parts.checks.push((cond, message, span.clone())),
                Stmt::ForEach { .. } => {}
                Stmt::Receive(items, sp) => parts
                    .receives
                    .extend(items.iter().map(|(o, f)| (o, f.as_ref(), sp.clone()))),
                Stmt::OnOutcome(arms, sp) => parts.outcomes.push((arms, sp.clone())),
            }
        }
        parts
    }

    fn step_wait(&mut self, parts: &StepParts, step: &str) -> Option<Wait> {
        for extra in parts.actions.iter().skip(1) {
            self.err(Code::SeveralActions, to_span(extra), &[&step]);
        }
        for extra in parts.waits.iter().skip(1) {
            self.err(Code::WaitsTwice, to_span(extra), &[]);
        }
        parts.waits.first().map(|w| match w {
            Stmt::WaitUntil(e, _) => {
                let (x, t) = self.typer().lower(e);
                if !matches!(t, Ty::Date | Ty::DateTime | Ty::Unknown) {
                    self.err(Code::WaitUntilNotTime, e.span.clone(), &[&t.describe()]);
                }
                Wait::Until(x)
            }
            Stmt::WaitFor(e, _) => {
                let x = self.typer().expect(e, &Ty::Duration, "a wait");
                if let Some(d) = const_duration(&x) {
                    if !d.is_positive() {
                        self.err(Code::NotPositive, e.span.clone(), &[&"a wait"]);
                    }
                }
                Wait::For(x)
            }
            _ => unreachable!("only waits are collected here"),
        })
    }

    /// The one thing a step does, and whether it routes by its rules.
    fn step_action(
        &mut self,
        s: &ast::Step,
        parts: &StepParts,
        targets: &BTreeSet<String>,
    ) -> (Action, bool) {
        let mut action = Action::Auto;
        let mut rule_route = false;
        if let Some(first) = parts.actions.first() {
            action = match first {
                Stmt::Task(w, _) => Action::Task(self.who(w, false)),
                Stmt::Sign {
                    mode,
                    signers,
                    span,
                } => {
                    let signers: Vec<Who> = signers.iter().map(|w| self.who(w, false)).collect();
                    let mode = match mode {
                        ast::SignMode::All => SignMode::All,
                        ast::SignMode::Any => SignMode::Any,
                        ast::SignMode::InOrder => SignMode::InOrder,
                        ast::SignMode::Count(n) => SignMode::Count(*n),
                    };
                    if let SignMode::Count(n) = mode {
                        let open_ended = signers
                            .iter()
                            .any(|w| matches!(w, Who::Role(_) | Who::EachWithRole(_)));
                        if n == 0 || (!open_ended && n as usize > signers.len()) {
                            self.err(Code::SignatureCount, span.clone(), &[&n, &signers.len()]);
                        }
                    }
                    if parts.refuse.is_none() {
                        self.err(Code::SignWithoutRefuse, span.clone(), &[]);
                    }
                    if parts.self_approval.is_none() && signers.contains(&Who::Starter) {
                        self.err(Code::StarterSigns, span.clone(), &[]);
                    }
                    Action::Sign {
                        mode,
                        signers,
                        on_refuse: parts.refuse.clone().map(|(n, _)| self.target(n, targets)),
                        allow_self: parts.self_approval.is_some(),
                    }
                }
                Stmt::Rules(arms, sp) => {
                    rule_route = true;
                    Action::Decide(self.rules(&s.name.text, arms, sp.clone(), targets))
                }
                Stmt::Start {
                    process,
                    with,
                    wait,
                    ..
                } => self.start(process, with, *wait),
                Stmt::Parallel(branches, _) => self.parallel(s, branches),
                _ => unreachable!("only actions are collected here"),
            };
        }
        if !matches!(action, Action::Sign { .. }) {
            if let Some((_, sp)) = &parts.refuse {
                self.err(
                    Code::NotASignOff,
                    sp.clone(),
                    &[&"on refuse", &"a sign-off step"],
                );
            }
            // A task with a choice is a decision too: its starter may be allowed to
            // make it (see `Step::allow_self`).
            let decision = matches!(action, Action::Task(_)) && !parts.chooses.is_empty();
            if let (Some(sp), false) = (&parts.self_approval, decision) {
                self.err(
                    Code::NotASignOff,
                    sp.clone(),
                    &[
                        &"allow self approval",
                        &"a sign-off or a task with a choice",
                    ],
                );
            }
        }
        (action, rule_route)
    }

    /// What a person fills when the task completes.
    fn step_fills(&mut self, parts: &StepParts, action: &Action) -> Vec<Fill> {
        let is_task = matches!(action, Action::Task(_));
        let mut fills = Vec::new();
        if let (Some(sp), false) = (&parts.fill_span, is_task) {
            self.err(Code::NoTaskToFill, sp.clone(), &[&"fill in data"]);
        }
        for it in &parts.fills {
            if it.ty.is_none() && !self.fields.contains_key(&it.name.text) {
                let help = did_you_mean(&it.name.text, self.fields.keys().map(String::as_str));
                self.err(
                    Code::UnknownField,
                    it.name.span.clone(),
                    &[&it.name.text, &""],
                )
                .help = help.or_else(|| Some(format!("declare it here: `{}: text`", it.name.text)));
            }
            fills.push(Fill {
                field: it.name.text.clone(),
                optional: it.optional,
            });
        }
        fills
    }

    /// Where the step goes next: by its rules, a choice, or `next` lines.
    fn step_route(
        &mut self,
        s: &ast::Step,
        parts: &StepParts,
        action: &Action,
        rule_route: bool,
        targets: &BTreeSet<String>,
    ) -> Route {
        let is_task = matches!(action, Action::Task(_));
        let routes = usize::from(rule_route)
            + usize::from(!parts.chooses.is_empty())
            + usize::from(!parts.nexts.is_empty());
        if routes > 1 {
            let sp = parts
                .chooses
                .first()
                .map(|c| c.1.clone())
                .or_else(|| parts.nexts.first().map(|n| n.2.clone()))
                .unwrap_or(s.name.span.clone());
            self.err(Code::SeveralRoutes, sp, &[]);
        }
        if rule_route {
            Route::ByRules
        } else if let Some((arms, sp)) = parts.chooses.first() {
            if !is_task {
                self.err(Code::NoTaskToFill, sp.clone(), &[&"choose"]);
            }
            if let Action::Task(Who::EachWithRole(_)) = &action {
                self.err(Code::ChooseForEach, sp.clone(), &[]);
            }
            let mut seen = BTreeSet::new();
            Route::Choose(
                arms.iter()
                    .map(|a| {
                        if !seen.insert(a.name.text.clone()) {
                            self.err(
                                Code::DuplicateName,
                                a.name.span.clone(),
                                &[&"choice", &a.name.text],
                            );
                        }
                        Choice {
                            name: a.name.text.clone(),
                            label: a.label.as_ref().map(|l| l.value.clone()),
                            target: self.target(&a.target, targets),
                        }
                    })
                    .collect(),
            )
        } else {
            let next: Vec<(Option<Expr>, String)> = parts
                .nexts
                .iter()
                .map(|(t, w, _)| {
                    let cond = w.map(|w| self.typer().expect(w, &Ty::Bool, "the condition"));
                    (cond, self.target(t, targets))
                })
                .collect();
            if next.is_empty() {
                self.err(Code::NoWayToFinish, s.name.span.clone(), &[&s.name.text]);
            } else {
                let spans: Vec<Span> = parts.nexts.iter().map(|n| n.2.clone()).collect();
                let live = self.cover(
                    next.iter().map(|(c, t)| (c.as_ref(), t.as_str())).collect(),
                    &spans,
                    s.name.span.clone(),
                    "`next`",
                    false,
                );
                for (i, ((cond, target), live)) in next.iter().zip(live).enumerate() {
                    if !live {
                        let text = match cond {
                            Some(c) => format!("`next {target} when {c}`"),
                            None => format!("`next {target}`"),
                        };
                        self.note_dead_exit(&s.name.text, i, text, parts.nexts[i].2.clone());
                    }
                }
            }
            Route::Next(next)
        }
    }

    /// Due times, reminders, what happens when overdue, and extension.
    fn step_time(
        &mut self,
        parts: &StepParts,
        action: &Action,
        targets: &BTreeSet<String>,
    ) -> (Vec<Due>, Vec<Reminder>, Vec<TimedAction>, Option<Extension>) {
        let has_person = matches!(action, Action::Task(_) | Action::Sign { .. });
        let has_due = !parts.dues.is_empty();
        if has_due && !has_person {
            self.err(Code::DueWithoutPerson, parts.dues[0].2.clone(), &[]);
        }
        let mut due = Vec::new();
        let mut shortest: Option<i64> = None;
        for (at, when, _) in &parts.dues {
            let (x, t) = self.typer().lower(at);
            match t {
                Ty::Duration => {
                    if let Some(d) = const_duration(&x) {
                        if !d.is_positive() {
                            self.err(Code::NotPositive, at.span.clone(), &[&"a due time"]);
                        }
                        let m = d.approx_minutes();
                        shortest = Some(shortest.map_or(m, |s| s.min(m)));
                    }
                }
                Ty::Date | Ty::DateTime | Ty::Unknown => {}
                other => {
                    self.err(Code::DueNotTime, at.span.clone(), &[&other.describe()]);
                }
            }
            let when = when.map(|w| self.typer().expect(w, &Ty::Bool, "the condition"));
            due.push(Due { at: x, when });
        }
        // Even one conditional line can leave cases without a deadline.
        if due.iter().any(|d| d.when.is_some()) {
            let spans: Vec<Span> = parts.dues.iter().map(|d| d.2.clone()).collect();
            let ats: Vec<String> = due.iter().map(|d| d.at.to_string()).collect();
            let conds: Vec<(Option<&Expr>, &str)> = due
                .iter()
                .zip(&ats)
                .map(|(d, a)| (d.when.as_ref(), a.as_str()))
                .collect();
            self.cover_warn(conds, &spans, "due time");
        }
        let reminders = self.reminders(&parts.reminders, shortest, has_due);
        let mut on_overdue = Vec::new();
        for (a, sp) in &parts.overdue {
            if !has_due {
                self.err(Code::NeedsDue, sp.clone(), &[&"on overdue"]);
            }
            on_overdue.push(self.action(a, targets));
        }
        let extend = self.extension(parts.extend, has_due);
        (due, reminders, on_overdue, extend)
    }

    fn assign(&mut self, a: &ast::Assign) -> (String, Expr) {
        let want = match self.fields.get(&a.field.text) {
            Some(f) => Ty::of(&f.ty),
            None => {
                // Already reported while collecting fields.
                Ty::Unknown
            }
        };
        let what = format!("the value of `{}`", a.field.text);
        let x = self.typer().expect(&a.value, &want, &what);
        (a.field.text.clone(), x)
    }

    fn start(&mut self, process: &ast::Name, with: &[ast::Assign], wait: bool) -> Action {
        let sig = self.ctx.processes.map(|ps| {
            (
                ps.get(&process.text),
                ps.keys().cloned().collect::<Vec<_>>(),
            )
        });
        let mut lowered = Vec::new();
        match sig {
            Some((None, names)) => {
                let help = did_you_mean(&process.text, names.iter().map(String::as_str));
                self.err(Code::UnknownProcess, process.span.clone(), &[&process.text])
                    .set_help(help);
                for a in with {
                    let (x, _) = self.typer().lower(&a.value);
                    lowered.push((a.field.text.clone(), x));
                }
            }
            Some((Some(sig), _)) => {
                let sig = sig.clone();
                for a in with {
                    let want = match sig.fields.get(&a.field.text) {
                        Some(t) => Ty::of(t),
                        None => {
                            let help =
                                did_you_mean(&a.field.text, sig.fields.keys().map(String::as_str));
                            self.err(
                                Code::UnknownField,
                                a.field.span.clone(),
                                &[&a.field.text, &format!(" of `{}`", process.text)],
                            )
                            .set_help(help);
                            Ty::Unknown
                        }
                    };
                    let what = format!("`{}`", a.field.text);
                    let x = self.typer().expect(&a.value, &want, &what);
                    lowered.push((a.field.text.clone(), x));
                }
                for req in &sig.required {
                    if !with.iter().any(|a| &a.field.text == req) {
                        self.err(
                            Code::MissingStartField,
                            process.span.clone(),
                            &[&process.text, req],
                        );
                    }
                }
            }
            None => {
                for a in with {
                    let (x, _) = self.typer().lower(&a.value);
                    lowered.push((a.field.text.clone(), x));
                }
            }
        }
        Action::Start {
            process: process.text.clone(),
            with: lowered,
            wait,
        }
    }

    fn rules(
        &mut self,
        step: &str,
        arms: &[ast::RuleArm],
        sp: Span,
        targets: &BTreeSet<String>,
    ) -> Vec<Rule> {
        let rules: Vec<Rule> = arms
            .iter()
            .map(|a| Rule {
                cond: a
                    .cond
                    .as_ref()
                    .map(|c| self.typer().expect(c, &Ty::Bool, "a rule's condition")),
                target: self.target(&a.target, targets),
                sets: a.sets.iter().map(|s| self.assign(s)).collect(),
            })
            .collect();
        let spans: Vec<Span> = arms.iter().map(|a| a.span.clone()).collect();
        let live = self.cover(
            rules
                .iter()
                .map(|r| (r.cond.as_ref(), r.target.as_str()))
                .collect(),
            &spans,
            sp,
            "rule",
            false,
        );
        for (i, (r, live)) in rules.iter().zip(live).enumerate() {
            if !live {
                let text = match &r.cond {
                    Some(c) => format!("the rule `{c} -> {}`", r.target),
                    None => format!("the rule `otherwise -> {}`", r.target),
                };
                self.note_dead_exit(step, i, text, arms[i].span.clone());
            }
        }
        rules
    }

    /// Conditions tried in order (`None` always holds), analysed together over every
    /// field they read (see `decide`). Reports rules that can never be used, overlaps
    /// that send the same cases elsewhere, and cases nothing covers (an error, or with
    /// `warn_gaps` a warning: no deadline then). Returns, per condition, whether it
    /// can ever be the one taken.
    fn cover(
        &mut self,
        conds: Vec<(Option<&Expr>, &str)>,
        spans: &[Span],
        at: Span,
        what: &str,
        warn_gaps: bool,
    ) -> Vec<bool> {
        let v = decide::analyse(&self.domains, &conds);
        for (i, d) in v.dead.iter().enumerate() {
            match d {
                Some(decide::Dead::NeverHolds) => {
                    self.err(Code::MatchesNothing, spans[i].clone(), &[&what]);
                }
                Some(decide::Dead::Shadowed) => {
                    self.err(
                        Code::CaseNeverUsed,
                        spans[i].clone(),
                        &[&what, &"earlier ones already cover it"],
                    );
                }
                None => {}
            }
        }
        for (i, os) in v.overlaps.iter().enumerate() {
            for (_, cases) in os {
                self.diags.push(
                    Diagnostic::new(Code::Overlap, spans[i].clone(), &[&what, cases])
                        .label("order matters here"),
                );
            }
        }
        if let Some(g) = &v.gaps {
            if warn_gaps {
                let mut described = g.described.clone();
                if !g.unanalysed.is_empty() {
                    described.push_str(" (perhaps: some conditions could not be analysed)");
                }
                self.err(Code::DueNotCovered, at, &[&what, &described]);
            } else if g.unanalysed.is_empty() {
                self.err(Code::NotCovered, at, &[&what, &g.described]);
            } else {
                let parts: Vec<String> = g
                    .unanalysed
                    .iter()
                    .map(|(e, why)| format!("`{e}` ({why})"))
                    .collect();
                self.err(
                    Code::CannotAnalyse,
                    at,
                    &[&what, &parts.join(", "), &g.described],
                );
            }
        }
        v.dead.iter().map(Option::is_none).collect()
    }

    /// For `due ... when` and `within ... when`: a gap is not fatal (no deadline
    /// then), so warn.
    fn cover_warn(&mut self, conds: Vec<(Option<&Expr>, &str)>, spans: &[Span], what: &str) {
        self.cover(conds, spans, spans[0].clone(), what, true);
    }

    pub(super) fn limit(
        &mut self,
        l: &ast::Limit,
        p: &ast::Process,
        targets: &BTreeSet<String>,
    ) -> Limit {
        for n in [&l.from, &l.to] {
            if !p.steps.iter().any(|s| s.name.text == n.text) {
                let help = did_you_mean(&n.text, p.steps.iter().map(|s| s.name.text.as_str()));
                self.err(Code::UnknownStep, n.span.clone(), &[&"step", &n.text])
                    .set_help(help);
            }
        }
        if l.within.is_empty() {
            self.err(Code::LimitWithoutWithin, l.name.span.clone(), &[]);
        }
        let mut shortest: Option<i64> = None;
        let mut within = Vec::new();
        for (e, w) in &l.within {
            let d = self.positive_duration(e, "a limit");
            if let Some(d) = d {
                let m = d.approx_minutes();
                shortest = Some(shortest.map_or(m, |s| s.min(m)));
            }
            let x = self.typer().expect(e, &Ty::Duration, "a limit");
            let cond = w
                .as_ref()
                .map(|w| self.typer().expect(w, &Ty::Bool, "the condition"));
            within.push((x, cond));
        }
        if within.iter().any(|(_, c)| c.is_some()) {
            let spans: Vec<Span> = l.within.iter().map(|(e, _)| e.span.clone()).collect();
            let ds: Vec<String> = within.iter().map(|(d, _)| d.to_string()).collect();
            let conds: Vec<(Option<&Expr>, &str)> = within
                .iter()
                .zip(&ds)
                .map(|((_, c), d)| (c.as_ref(), d.as_str()))
                .collect();
            self.cover_warn(conds, &spans, "`within`");
        }
        let rs: Vec<(&ast::RemindLine, Span)> =
            l.reminders.iter().map(|r| (r, l.span.clone())).collect();
        let reminders = self.reminders(&rs, shortest, true);
        let on_breach = l
            .on_breach
            .iter()
            .map(|a| self.action(a, targets))
            .collect();
        let extend = self.extension(l.extend.as_ref(), true);
        Limit {
            name: l.name.text.clone(),
            from: l.from.text.clone(),
            to: l.to.text.clone(),
            within,
            reminders,
            on_breach,
            extend,
        }
    }
}

pub(super) fn to_span(s: &Stmt) -> Span {
    match s {
        Stmt::Task(_, sp)
        | Stmt::Rules(_, sp)
        | Stmt::WaitFor(_, sp)
        | Stmt::WaitUntil(_, sp)
        | Stmt::Set(_, sp)
        | Stmt::Fill(_, sp)
        | Stmt::Choose(_, sp)
        | Stmt::Remind(_, sp)
        | Stmt::OnOverdue(_, sp)
        | Stmt::OnRefuse(_, sp)
        | Stmt::SelfApproval(sp)
        | Stmt::Parallel(_, sp)
        | Stmt::Join(_, sp)
        | Stmt::Receive(_, sp)
        | Stmt::OnOutcome(_, sp) => sp.clone(),
        Stmt::Notify { span, .. }
        | Stmt::Start { span, .. }
        | Stmt::Sign { span, .. }
        | Stmt::Next { span, .. }
        | Stmt::Due { span, .. }
        | Stmt::Check { span, .. }
        | Stmt::ForEach { span, .. } => span.clone(),
        Stmt::Extend(x) => x.span.clone(),
    }
}
