//! The checker: syntax tree -> typed model, collecting every problem on the way.
//!
//! It runs in passes (fields, steps, decisions, the step graph, schedules) and never
//! stops at the first error, so an author sees everything wrong with a file at once.

mod coverage;
mod schedule;
mod types;

pub use coverage::Domain;

use crate::ast::{self, Span, Stmt};
use crate::diagnostic::{did_you_mean, Diagnostic, Severity};
use crate::model::*;
use crate::parse::parse;
use coverage::{Analyzer, Values};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use types::{check_placeholders, const_duration, Ty, Typer};

pub(crate) type Fields = BTreeMap<String, Field>;

/// The names a staff directory defines, for checking roles, people and departments.
#[derive(Debug, Clone, Default)]
pub struct StaffNames {
    pub roles: BTreeSet<String>,
    pub people: BTreeSet<String>,
    pub departments: BTreeSet<String>,
}

/// What other processes look like from outside: enough to check `start X with ...`.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    pub fields: BTreeMap<String, Type>,
    /// Fields that must be given when the process starts.
    pub required: Vec<String>,
}

#[derive(Default)]
pub struct Context<'a> {
    pub staff: Option<&'a StaffNames>,
    /// Every process known to the caller (for example all files of a folder).
    pub processes: Option<&'a BTreeMap<String, Signature>>,
}

#[derive(Debug)]
pub struct Outcome {
    /// Present when there are no errors (warnings allowed).
    pub definition: Option<Definition>,
    /// Sorted by position; errors and warnings both.
    pub diagnostics: Vec<Diagnostic>,
}

impl Outcome {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// Check one definition's source.
pub fn check(src: &str, ctx: &Context) -> Outcome {
    let process = match parse(src) {
        Ok(p) => p,
        Err(diagnostics) => {
            return Outcome {
                definition: None,
                diagnostics,
            }
        }
    };
    let mut c = Checker {
        ctx,
        diags: Vec::new(),
        fields: BTreeMap::new(),
        domains: BTreeMap::new(),
    };
    let definition = c.run(&process);
    let mut diagnostics = c.diags;
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics.dedup();
    let ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Outcome {
        definition: ok.then_some(definition),
        diagnostics,
    }
}

/// The name and outside view of a definition, from a parse alone.
pub fn signature(src: &str) -> Option<(String, Signature)> {
    let p = parse(src).ok()?;
    let mut sig = Signature::default();
    for f in &p.data {
        let mut sink = Vec::new();
        sig.fields
            .insert(f.name.text.clone(), type_of(&f.ty, &mut sink));
        if !f.optional && f.default.is_none() {
            sig.required.push(f.name.text.clone());
        }
    }
    Some((p.name.text, sig))
}

fn type_of(t: &ast::TypeSpec, diags: &mut Vec<Diagnostic>) -> Type {
    match t {
        ast::TypeSpec::Base(n) => match n.text.as_str() {
            "text" => Type::Text,
            "integer" => Type::Integer {
                min: None,
                max: None,
            },
            "decimal" => Type::Decimal {
                min: None,
                max: None,
            },
            "bool" => Type::Bool,
            "date" => Type::Date,
            "datetime" => Type::DateTime,
            "duration" => Type::Duration,
            "person" => Type::Person,
            _ => Type::Department,
        },
        ast::TypeSpec::Range {
            decimal,
            lo,
            hi,
            span,
        } => {
            if lo > hi {
                diags.push(Diagnostic::error(
                    "E052",
                    span.clone(),
                    format!("empty range: {lo} is above {hi}"),
                ));
            }
            if *decimal {
                Type::Decimal {
                    min: Some(*lo),
                    max: Some(*hi),
                }
            } else {
                if lo.fract() != 0.0 || hi.fract() != 0.0 {
                    diags.push(Diagnostic::error(
                        "E052",
                        span.clone(),
                        "an integer range needs whole numbers; write `decimal` before it",
                    ));
                }
                Type::Integer {
                    min: Some(*lo as i64),
                    max: Some(*hi as i64),
                }
            }
        }
        ast::TypeSpec::Choice(vs) => {
            let mut seen = BTreeSet::new();
            for (n, _) in vs {
                if !seen.insert(&n.text) {
                    diags.push(Diagnostic::error(
                        "E010",
                        n.span.clone(),
                        format!("choice `{}` is listed twice", n.text),
                    ));
                }
            }
            Type::Choice(
                vs.iter()
                    .map(|(n, l)| Variant {
                        name: n.text.clone(),
                        label: l.as_ref().map(|t| t.value.clone()),
                    })
                    .collect(),
            )
        }
    }
}

struct Checker<'a> {
    ctx: &'a Context<'a>,
    diags: Vec<Diagnostic>,
    fields: Fields,
    domains: BTreeMap<String, Domain>,
}

/// What a step's statements say, gathered before they are checked as a whole.
#[derive(Default)]
struct StepParts<'s> {
    actions: Vec<&'s Stmt>,
    waits: Vec<&'s Stmt>,
    fills: Vec<&'s ast::FillItem>,
    fill_span: Option<Span>,
    chooses: Vec<(&'s Vec<ast::ChoiceArm>, Span)>,
    nexts: Vec<(&'s ast::Name, Option<&'s ast::Expr>, Span)>,
    dues: Vec<(&'s ast::Expr, Option<&'s ast::Expr>, Span)>,
    reminders: Vec<(&'s ast::Remind, Span)>,
    overdue: Vec<(&'s ast::Action, Span)>,
    refuse: Option<(&'s ast::Name, Span)>,
    self_approval: Option<Span>,
    extend: Option<&'s ast::Extend>,
}

impl Checker<'_> {
    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, span, msg));
        self.diags.last_mut().expect("just pushed")
    }

    fn typer(&mut self) -> Typer<'_> {
        Typer {
            fields: &self.fields,
            diags: &mut self.diags,
        }
    }

    fn run(&mut self, p: &ast::Process) -> Definition {
        self.collect_fields(p);
        let targets = self.collect_targets(p);

        let started_by = p.started_by.iter().map(|r| self.role(r)).collect();
        let schedules = p
            .schedules
            .iter()
            .map(|s| schedule::lower(s, self.ctx.staff, &mut self.diags))
            .collect();
        for s in &p.schedules {
            if s.for_each_role.is_some()
                && self.fields.get("subject").map(|f| &f.ty) != Some(&Type::Person)
            {
                self.err(
                    "E012",
                    s.span.clone(),
                    "a start for each person needs a `subject person` field to hold that person",
                )
                .help = Some("add `subject person?` to `data`".into());
            }
        }
        let requires = p
            .requires
            .iter()
            .map(|r| {
                let cond = self
                    .typer()
                    .expect(&r.cond, &Ty::Bool, "a `require` condition");
                self.only_start_fields(&cond, r.cond.span.clone());
                Require {
                    cond,
                    message: r.message.value.clone(),
                }
            })
            .collect();
        let steps: Vec<Step> = p.steps.iter().map(|s| self.step(s, &targets)).collect();
        let limits = p
            .limits
            .iter()
            .map(|l| self.limit(l, p, &targets))
            .collect();
        if p.steps.is_empty() {
            self.err(
                "E007",
                p.name.span.clone(),
                "a process needs at least one step",
            );
        }
        let definition = Definition {
            name: p.name.text.clone(),
            title: p.title.as_ref().map(|t| t.value.clone()),
            description: p.description.as_ref().map(|t| t.value.clone()),
            started_by,
            schedules,
            requires,
            fields: self.fields.values().cloned().collect(),
            limits,
            steps,
            ends: p
                .ends
                .iter()
                .map(|e| End {
                    name: e.name.text.clone(),
                    title: e.title.as_ref().map(|t| t.value.clone()),
                })
                .collect(),
        };
        self.graph(p, &definition);
        definition
    }

    // ---- fields -----------------------------------------------------------------------

    fn add_field(&mut self, name: &ast::Name, field: Field) {
        if self.fields.contains_key(&name.text) {
            self.err(
                "E010",
                name.span.clone(),
                format!("field `{}` is declared twice", name.text),
            );
            return;
        }
        let domain = match &field.ty {
            Type::Integer { min, max } => Some(Domain::Number {
                lo: min.map_or(f64::NEG_INFINITY, |v| v as f64),
                hi: max.map_or(f64::INFINITY, |v| v as f64),
                integer: true,
            }),
            Type::Decimal { min, max } => Some(Domain::Number {
                lo: min.unwrap_or(f64::NEG_INFINITY),
                hi: max.unwrap_or(f64::INFINITY),
                integer: false,
            }),
            Type::Choice(vs) => Some(Domain::Choices(vs.iter().map(|v| v.name.clone()).collect())),
            Type::Bool => Some(Domain::Choices(vec!["false".into(), "true".into()])),
            _ => None,
        };
        if let Some(d) = domain {
            self.domains.insert(name.text.clone(), d);
        }
        self.fields.insert(name.text.clone(), field);
    }

    fn collect_fields(&mut self, p: &ast::Process) {
        for f in &p.data {
            let ty = type_of(&f.ty, &mut self.diags);
            self.add_field(
                &f.name,
                Field {
                    name: f.name.text.clone(),
                    ty,
                    optional: f.optional,
                    default: None,
                    label: f.label.as_ref().map(|t| t.value.clone()),
                    source: FieldSource::Start,
                },
            );
        }
        for s in &p.steps {
            for st in &s.body {
                if let Stmt::Fill(items, _) = st {
                    for it in items {
                        if let Some(t) = &it.ty {
                            let ty = type_of(t, &mut self.diags);
                            self.add_field(
                                &it.name,
                                Field {
                                    name: it.name.text.clone(),
                                    ty,
                                    optional: true,
                                    default: None,
                                    label: None,
                                    source: FieldSource::Filled(s.name.text.clone()),
                                },
                            );
                        }
                    }
                }
            }
        }
        // Defaults are typed once every field is known.
        for f in &p.data {
            if let Some(d) = &f.default {
                let want = Ty::of(&self.fields[&f.name.text].ty);
                let x = self.typer().expect(d, &want, "the default");
                if let Some(field) = self.fields.get_mut(&f.name.text) {
                    field.default = Some(x);
                }
            }
        }
        // Values written by `set` or a rule's `with` are fields too; an undeclared one
        // takes the type of its first assignment, and its range where one can be known.
        for s in &p.steps {
            for st in &s.body {
                let assigns: Vec<&ast::Assign> = match st {
                    Stmt::Set(a, _) => vec![a],
                    Stmt::Rules(arms, _) => arms.iter().flat_map(|a| &a.sets).collect(),
                    _ => vec![],
                };
                for a in assigns {
                    if self.fields.contains_key(&a.field.text) {
                        continue;
                    }
                    let (x, t) = self.typer().lower(&a.value);
                    let ty = match t {
                        Ty::Text => Type::Text,
                        Ty::Int => Type::Integer {
                            min: None,
                            max: None,
                        },
                        Ty::Dec => Type::Decimal {
                            min: None,
                            max: None,
                        },
                        Ty::Bool => Type::Bool,
                        Ty::Date => Type::Date,
                        Ty::DateTime => Type::DateTime,
                        Ty::Duration => Type::Duration,
                        Ty::Person => Type::Person,
                        Ty::Department => Type::Department,
                        // The value's own error was reported already.
                        Ty::Unknown => continue,
                        Ty::Choice(_) | Ty::Variant(_) => {
                            self.err(
                                "E036",
                                a.field.span.clone(),
                                format!(
                                    "declare `{}` in `data` so its choices are known",
                                    a.field.text
                                ),
                            );
                            continue;
                        }
                    };
                    let range = coverage::range_of(&x, &self.domains);
                    self.add_field(
                        &a.field,
                        Field {
                            name: a.field.text.clone(),
                            ty: ty.clone(),
                            optional: true,
                            default: None,
                            label: None,
                            source: FieldSource::Computed,
                        },
                    );
                    if let Some((lo, hi)) = range {
                        self.domains.insert(
                            a.field.text.clone(),
                            Domain::Number {
                                lo,
                                hi,
                                integer: matches!(ty, Type::Integer { .. }),
                            },
                        );
                    }
                }
            }
        }
    }

    /// `require` is evaluated at start, before any step has filled or computed a value.
    fn only_start_fields(&mut self, e: &Expr, span: Span) {
        let mut names = Vec::new();
        fields_in(e, &mut names);
        for n in names {
            if let Some(f) = self.fields.get(&n) {
                if f.source != FieldSource::Start {
                    self.err(
                        "E037",
                        span.clone(),
                        format!("`require` is checked at start, when `{n}` has no value yet"),
                    );
                }
            }
        }
    }

    // ---- names ------------------------------------------------------------------------

    fn collect_targets(&mut self, p: &ast::Process) -> BTreeSet<String> {
        let mut seen: BTreeMap<&str, &ast::Name> = BTreeMap::new();
        let names = p
            .steps
            .iter()
            .map(|s| &s.name)
            .chain(p.ends.iter().map(|e| &e.name));
        for n in names {
            if seen.insert(&n.text, n).is_some() {
                self.err(
                    "E010",
                    n.span.clone(),
                    format!("`{}` is already the name of a step or end", n.text),
                );
            }
        }
        let mut limits = BTreeSet::new();
        for l in &p.limits {
            if !limits.insert(&l.name.text) {
                self.err(
                    "E010",
                    l.name.span.clone(),
                    format!("limit `{}` is declared twice", l.name.text),
                );
            }
        }
        seen.keys().map(|s| s.to_string()).collect()
    }

    fn target(&mut self, n: &ast::Name, targets: &BTreeSet<String>) -> String {
        if !targets.contains(&n.text) {
            let help = did_you_mean(&n.text, targets.iter().map(String::as_str));
            self.err(
                "E002",
                n.span.clone(),
                format!("no step or end is named `{}`", n.text),
            )
            .help = help;
        }
        n.text.clone()
    }

    fn role(&mut self, r: &ast::Name) -> String {
        if let Some(staff) = self.ctx.staff {
            if !staff.roles.contains(&r.text) {
                let help = did_you_mean(&r.text, staff.roles.iter().map(String::as_str));
                self.err(
                    "E004",
                    r.span.clone(),
                    format!("no one in the staff directory has the role `{}`", r.text),
                )
                .help = help;
            }
        }
        r.text.clone()
    }

    fn who(&mut self, w: &ast::Who, allow_address: bool) -> Who {
        match w {
            ast::Who::Starter(_) => Who::Starter,
            ast::Who::EachWithRole(r) => Who::EachWithRole(self.role(r)),
            ast::Who::Person(n) => {
                if let Some(staff) = self.ctx.staff {
                    if !staff.people.contains(&n.text) {
                        let help = did_you_mean(&n.text, staff.people.iter().map(String::as_str));
                        self.err(
                            "E005",
                            n.span.clone(),
                            format!("no person `{}` in the staff directory", n.text),
                        )
                        .help = help;
                    }
                }
                Who::Person(n.text.clone())
            }
            ast::Who::SupervisorOf(inner, _) | ast::Who::DeptHeadOf(inner, _) => {
                let x = self.who(inner, false);
                if matches!(x, Who::EachWithRole(_)) {
                    self.err(
                        "E038",
                        inner.span(),
                        "`each person with role` cannot be nested; name one person",
                    );
                }
                if matches!(w, ast::Who::SupervisorOf(..)) {
                    Who::SupervisorOf(Box::new(x))
                } else {
                    Who::DeptHeadOf(Box::new(x))
                }
            }
            ast::Who::HeadOf(n) => match self.fields.get(&n.text).map(|f| &f.ty) {
                Some(Type::Department) => Who::HeadOfField(n.text.clone()),
                Some(other) => {
                    let t = other.describe();
                    self.err(
                        "E030",
                        n.span.clone(),
                        format!("`head of` needs a department, `{}` is {t}", n.text),
                    );
                    Who::HeadOfField(n.text.clone())
                }
                None => {
                    if let Some(staff) = self.ctx.staff {
                        if !staff.departments.contains(&n.text) {
                            let help = did_you_mean(
                                &n.text,
                                staff
                                    .departments
                                    .iter()
                                    .map(String::as_str)
                                    .chain(self.fields.keys().map(String::as_str)),
                            );
                            self.err(
                                "E006",
                                n.span.clone(),
                                format!("`{}` is neither a department field nor a department in the staff directory", n.text),
                            )
                            .help = help;
                        }
                    }
                    Who::HeadOfDept(n.text.clone())
                }
            },
            ast::Who::Name(n) => match self.fields.get(&n.text).map(|f| f.ty.clone()) {
                Some(Type::Person) => Who::Field(n.text.clone()),
                Some(Type::Text) if allow_address => Who::Address(n.text.clone()),
                Some(other) => {
                    self.err(
                        "E030",
                        n.span.clone(),
                        format!(
                            "`{}` is {}, not a person{}",
                            n.text,
                            other.describe(),
                            if allow_address { " or an address" } else { "" }
                        ),
                    );
                    Who::Field(n.text.clone())
                }
                None => {
                    if let Some(staff) = self.ctx.staff {
                        if !staff.roles.contains(&n.text) {
                            let person_fields: Vec<&str> = self
                                .fields
                                .iter()
                                .filter(|(_, f)| f.ty == Type::Person)
                                .map(|(k, _)| k.as_str())
                                .collect();
                            let help = did_you_mean(
                                &n.text,
                                staff
                                    .roles
                                    .iter()
                                    .map(String::as_str)
                                    .chain(person_fields.iter().copied()),
                            );
                            self.err(
                                "E004",
                                n.span.clone(),
                                format!(
                                    "`{}` is neither a person field nor a role in the staff directory",
                                    n.text
                                ),
                            )
                            .help = help;
                        }
                    }
                    Who::Role(n.text.clone())
                }
            },
        }
    }

    fn action(&mut self, a: &ast::Action, targets: &BTreeSet<String>) -> TimedAction {
        match a {
            ast::Action::Notify(w, msg) => {
                if let Some(m) = msg {
                    check_placeholders(m, &self.fields, &mut self.diags);
                }
                TimedAction::Notify(self.who(w, false), msg.as_ref().map(|m| m.value.clone()))
            }
            ast::Action::Escalate(w) => TimedAction::Escalate(self.who(w, false)),
            ast::Action::Goto(n) => TimedAction::Goto(self.target(n, targets)),
        }
    }

    fn positive_duration(&mut self, e: &ast::Expr, what: &str) -> Option<Duration> {
        let x = self.typer().expect(e, &Ty::Duration, what);
        let d = const_duration(&x)?;
        if !d.is_positive() {
            self.err(
                "E050",
                e.span.clone(),
                format!("{what} must be longer than zero"),
            );
            return None;
        }
        Some(d)
    }

    fn reminders(
        &mut self,
        rs: &[(&ast::Remind, Span)],
        shortest_due: Option<i64>,
        has_due: bool,
    ) -> Vec<Reminder> {
        let mut out = Vec::new();
        for (r, sp) in rs {
            if !has_due {
                self.err(
                    "E051",
                    sp.clone(),
                    "a reminder needs a due time to count from",
                )
                .help = Some("add `due 2h` (or another time) to the step".into());
            }
            match r {
                ast::Remind::Before(e) => {
                    if let Some(d) = self.positive_duration(e, "a reminder's lead time") {
                        if let Some(due) = shortest_due {
                            if d.approx_minutes() >= due {
                                self.err(
                                    "E051",
                                    e.span.clone(),
                                    "this reminder would come before the step even starts",
                                )
                                .help = Some(
                                    "a reminder before the due time must be shorter than the time allowed".into(),
                                );
                            }
                        }
                        out.push(Reminder::Before(d));
                    }
                }
                ast::Remind::Every(e) => {
                    if let Some(d) = self.positive_duration(e, "a repeating reminder's interval") {
                        out.push(Reminder::Every(d));
                    }
                }
            }
        }
        out
    }

    fn extension(&mut self, x: Option<&ast::Extend>, has_due: bool) -> Option<Extension> {
        let x = x?;
        if !has_due {
            self.err(
                "E026",
                x.span.clone(),
                "`extend` needs a due time to extend",
            );
        }
        let up_to = self.positive_duration(&x.up_to, "an extension")?;
        let when = x
            .when
            .as_ref()
            .map(|w| self.typer().expect(w, &Ty::Bool, "the condition"));
        Some(Extension { up_to, when })
    }

    // ---- steps --------------------------------------------------------------------------

    fn step(&mut self, s: &ast::Step, targets: &BTreeSet<String>) -> Step {
        let mut parts = StepParts::default();
        let mut sets = Vec::new();
        let mut notifies = Vec::new();
        for st in &s.body {
            match st {
                Stmt::Task(..) | Stmt::Sign { .. } | Stmt::Rules(..) | Stmt::Start { .. } => {
                    parts.actions.push(st)
                }
                Stmt::WaitFor(..) | Stmt::WaitUntil(..) => parts.waits.push(st),
                Stmt::Notify {
                    to, via, message, ..
                } => {
                    check_placeholders(message, &self.fields, &mut self.diags);
                    let to = self.who(to, via.is_some());
                    if matches!(to, Who::Address(_)) && via.is_none() {
                        self.err("E030", to_span(st), "an address needs a channel: `via sms`");
                    }
                    notifies.push(Notify {
                        to,
                        via: via.as_ref().map(|v| v.text.clone()),
                        message: message.value.clone(),
                    });
                }
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
            }
        }

        for extra in parts.actions.iter().skip(1) {
            self.err(
                "E023",
                to_span(extra),
                format!(
                    "step `{}` already has a task, sign-off, decision or start",
                    s.name.text
                ),
            )
            .help = Some("a step does one thing: split it into two steps".into());
        }
        for extra in parts.waits.iter().skip(1) {
            self.err("E023", to_span(extra), "a step can wait only once");
        }
        let wait = parts.waits.first().map(|w| match w {
            Stmt::WaitUntil(e, _) => {
                let (x, t) = self.typer().lower(e);
                if !matches!(t, Ty::Date | Ty::DateTime | Ty::Unknown) {
                    self.err(
                        "E030",
                        e.span.clone(),
                        format!(
                            "`wait until` needs a date or a time, found {}",
                            t.describe()
                        ),
                    );
                }
                Wait::Until(x)
            }
            Stmt::WaitFor(e, _) => {
                let x = self.typer().expect(e, &Ty::Duration, "a wait");
                if let Some(d) = const_duration(&x) {
                    if !d.is_positive() {
                        self.err("E050", e.span.clone(), "a wait must be longer than zero");
                    }
                }
                Wait::For(x)
            }
            _ => unreachable!("only waits are collected here"),
        });

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
                            self.err(
                                "E029",
                                span.clone(),
                                format!("{n} signatures asked of {} signers", signers.len()),
                            );
                        }
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
                    Action::Decide(self.rules(arms, sp.clone(), targets))
                }
                Stmt::Start {
                    process,
                    with,
                    wait,
                    ..
                } => self.start(process, with, *wait),
                _ => unreachable!("only actions are collected here"),
            };
        }
        let is_task = matches!(action, Action::Task(_));
        let has_person = is_task || matches!(action, Action::Sign { .. });
        if !matches!(action, Action::Sign { .. }) {
            if let Some((_, sp)) = &parts.refuse {
                self.err("E027", sp.clone(), "`on refuse` belongs to a sign-off step");
            }
            if let Some(sp) = &parts.self_approval {
                self.err(
                    "E027",
                    sp.clone(),
                    "`allow self approval` belongs to a sign-off step",
                );
            }
        }

        // What a person fills.
        let mut fills = Vec::new();
        if let (Some(sp), false) = (&parts.fill_span, is_task) {
            self.err(
                "E024",
                sp.clone(),
                "only a task has someone to fill in data",
            )
            .help = Some("add `task for ...` to this step".into());
        }
        for it in &parts.fills {
            if it.ty.is_none() && !self.fields.contains_key(&it.name.text) {
                let help = did_you_mean(&it.name.text, self.fields.keys().map(String::as_str));
                self.err(
                    "E003",
                    it.name.span.clone(),
                    format!("unknown field `{}`", it.name.text),
                )
                .help = help.or_else(|| Some(format!("declare it here: `{}: text`", it.name.text)));
            }
            fills.push(Fill {
                field: it.name.text.clone(),
                optional: it.optional,
            });
        }

        // Where the step goes next.
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
            self.err(
                "E025",
                sp,
                "a step goes on by its rules, by a choice, or by `next`: not by more than one",
            );
        }
        let route = if rule_route {
            Route::ByRules
        } else if let Some((arms, sp)) = parts.chooses.first() {
            if !is_task {
                self.err("E024", sp.clone(), "only a task has someone to choose");
            }
            if let Action::Task(Who::EachWithRole(_)) = &action {
                self.err(
                    "E028",
                    sp.clone(),
                    "a task for each person cannot have one choice; use `sign` to collect answers",
                );
            }
            let mut seen = BTreeSet::new();
            Route::Choose(
                arms.iter()
                    .map(|a| {
                        if !seen.insert(a.name.text.clone()) {
                            self.err(
                                "E010",
                                a.name.span.clone(),
                                format!("choice `{}` is listed twice", a.name.text),
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
                self.err(
                    "E022",
                    s.name.span.clone(),
                    format!("step `{}` has no way to finish", s.name.text),
                )
                .help = Some("add `next STEP`, a `choose { ... }` or a `rule { ... }`".into());
            } else {
                let spans: Vec<Span> = parts.nexts.iter().map(|n| n.2.clone()).collect();
                self.cover(
                    next.iter().map(|(c, t)| (c.as_ref(), t.as_str())).collect(),
                    &spans,
                    s.name.span.clone(),
                    "`next`",
                );
            }
            Route::Next(next)
        };

        // Time.
        let has_due = !parts.dues.is_empty();
        if has_due && !has_person {
            self.err(
                "E026",
                parts.dues[0].2.clone(),
                "a due time needs a task or a sign-off to be due",
            );
        }
        let mut due = Vec::new();
        let mut shortest: Option<i64> = None;
        for (at, when, _) in &parts.dues {
            let (x, t) = self.typer().lower(at);
            match t {
                Ty::Duration => {
                    if let Some(d) = const_duration(&x) {
                        if !d.is_positive() {
                            self.err(
                                "E050",
                                at.span.clone(),
                                "a due time must be longer than zero",
                            );
                        }
                        let m = d.approx_minutes();
                        shortest = Some(shortest.map_or(m, |s| s.min(m)));
                    }
                }
                Ty::Date | Ty::DateTime | Ty::Unknown => {}
                other => {
                    self.err(
                        "E030",
                        at.span.clone(),
                        format!(
                            "a due time is a duration, a date or a time, found {}",
                            other.describe()
                        ),
                    );
                }
            }
            let when = when.map(|w| self.typer().expect(w, &Ty::Bool, "the condition"));
            due.push(Due { at: x, when });
        }
        if due.iter().all(|d| d.when.is_some()) && due.len() > 1 {
            let spans: Vec<Span> = parts.dues.iter().map(|d| d.2.clone()).collect();
            let conds: Vec<(Option<&Expr>, &str)> =
                due.iter().map(|d| (d.when.as_ref(), "")).collect();
            self.cover_warn(conds, &spans, "due time");
        }
        let reminders = self.reminders(&parts.reminders, shortest, has_due);
        let mut on_overdue = Vec::new();
        for (a, sp) in &parts.overdue {
            if !has_due {
                self.err("E026", sp.clone(), "`on overdue` needs a due time");
            }
            on_overdue.push(self.action(a, targets));
        }
        let extend = self.extension(parts.extend, has_due);

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
        }
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
                self.err(
                    "E008",
                    process.span.clone(),
                    format!("no process is named `{}`", process.text),
                )
                .help = help;
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
                                "E003",
                                a.field.span.clone(),
                                format!("`{}` has no field `{}`", process.text, a.field.text),
                            )
                            .help = help;
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
                            "E009",
                            process.span.clone(),
                            format!("starting `{}` needs `{req}`", process.text),
                        )
                        .help = Some(format!("add `with {req} = ...`"));
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

    fn rules(&mut self, arms: &[ast::RuleArm], sp: Span, targets: &BTreeSet<String>) -> Vec<Rule> {
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
        self.cover(
            rules
                .iter()
                .map(|r| (r.cond.as_ref(), r.target.as_str()))
                .collect(),
            &spans,
            sp,
            "rule",
        );
        rules
    }

    /// Conditions tried in order (`None` always holds). Reports rules that can never
    /// match, overlaps that send the same values elsewhere, and values nothing covers.
    fn cover(&mut self, conds: Vec<(Option<&Expr>, &str)>, spans: &[Span], at: Span, what: &str) {
        if let Some(pos) = conds.iter().position(|(c, _)| c.is_none()) {
            for sp in spans.iter().skip(pos + 1) {
                self.err(
                    "E041",
                    sp.clone(),
                    format!("this {what} can never be used: an earlier one always applies"),
                );
            }
            return;
        }
        let analyzer = Analyzer {
            domains: &self.domains,
        };
        let constraints: Option<Vec<_>> = conds
            .iter()
            .map(|(c, _)| c.and_then(|c| analyzer.constraint(c)))
            .collect();
        let Some(cs) = constraints.filter(|cs| cs.windows(2).all(|w| w[0].field == w[1].field))
        else {
            self.err(
                "E040",
                at,
                format!("cannot tell whether every case is covered by these {what}s"),
            )
            .help = Some(format!(
                "add a last {what} that always applies (`otherwise -> STEP` or an unconditional `next STEP`)"
            ));
            return;
        };
        let field = cs[0].field.clone();
        let dom = self.domains[&field].clone();
        let empty = match &cs[0].values {
            Values::Num(_) => Values::Num(vec![]),
            Values::Choices(_) => Values::Choices(BTreeSet::new()),
        };
        let mut covered = empty.clone();
        let mut by_target: Vec<(String, Values)> = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let fresh = coverage::intersect(&c.values, &coverage::complement(&covered, &dom), &dom);
            if coverage::is_empty(&c.values) {
                self.err(
                    "E041",
                    spans[i].clone(),
                    format!("this {what} matches no value"),
                );
            } else if coverage::is_empty(&fresh) {
                self.err(
                    "E041",
                    spans[i].clone(),
                    format!("this {what} can never be used: earlier ones already cover it"),
                );
            } else {
                let target = conds[i].1;
                // Compare with what each earlier rule really decides (its values not
                // taken by rules before it), and only where the destination differs.
                for (t, vals) in &by_target {
                    let overlap = coverage::intersect(&c.values, vals, &dom);
                    if t != target && !coverage::is_empty(&overlap) {
                        self.diags.push(
                            Diagnostic::warning(
                                "W002",
                                spans[i].clone(),
                                format!(
                                    "this {what} overlaps an earlier one for {}; the earlier one wins",
                                    coverage::describe(&field, &overlap, &dom)
                                ),
                            )
                            .label("order matters here"),
                        );
                    }
                }
            }
            by_target.push((conds[i].1.to_string(), fresh));
            covered = coverage::union(&covered, &c.values, &dom);
        }
        let gaps = coverage::complement(&covered, &dom);
        if !coverage::is_empty(&gaps) {
            self.err(
                "E040",
                at,
                format!(
                    "the {what}s do not cover {}",
                    coverage::describe(&field, &gaps, &dom)
                ),
            )
            .help = Some(format!(
                "add a {what} for these values, or a last one that always applies"
            ));
        }
    }

    /// For `due ... when`: a gap is not fatal (no deadline then), so warn.
    fn cover_warn(&mut self, conds: Vec<(Option<&Expr>, &str)>, spans: &[Span], what: &str) {
        let before = self.diags.len();
        self.cover(conds, spans, spans[0].clone(), what);
        for d in &mut self.diags[before..] {
            if d.code == "E040" {
                d.severity = Severity::Warning;
                d.code = "W003";
                d.message = format!("{}; there is no deadline then", d.message);
            }
        }
    }

    fn limit(&mut self, l: &ast::Limit, p: &ast::Process, targets: &BTreeSet<String>) -> Limit {
        for n in [&l.from, &l.to] {
            if !p.steps.iter().any(|s| s.name.text == n.text) {
                let help = did_you_mean(&n.text, p.steps.iter().map(|s| s.name.text.as_str()));
                self.err(
                    "E002",
                    n.span.clone(),
                    format!("no step is named `{}`", n.text),
                )
                .help = help;
            }
        }
        if l.within.is_empty() {
            self.err(
                "E011",
                l.name.span.clone(),
                "a limit needs `within DURATION`",
            );
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
        if within.len() > 1 && within.iter().all(|(_, c)| c.is_some()) {
            let spans: Vec<Span> = l.within.iter().map(|(e, _)| e.span.clone()).collect();
            let conds: Vec<(Option<&Expr>, &str)> =
                within.iter().map(|(_, c)| (c.as_ref(), "")).collect();
            self.cover_warn(conds, &spans, "`within`");
        }
        let rs: Vec<(&ast::Remind, Span)> =
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

    // ---- the step graph -------------------------------------------------------------------

    fn graph(&mut self, p: &ast::Process, d: &Definition) {
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
                self.diags.push(
                    Diagnostic::warning(
                        "W001",
                        s.name.span.clone(),
                        format!("step `{}` can never be reached", s.name.text),
                    )
                    .help("no step leads here; the first step is where every instance begins"),
                );
            }
        }
        for e in &p.ends {
            if !reached.contains(e.name.text.as_str()) {
                self.diags.push(Diagnostic::warning(
                    "W001",
                    e.name.span.clone(),
                    format!("end `{}` can never be reached", e.name.text),
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
        for s in &p.steps {
            let n = s.name.text.as_str();
            let tos = edges.get(n).map(Vec::as_slice).unwrap_or_default();
            // A step that names a missing target was already reported (E002); whether
            // it can finish cannot be judged until that name is fixed.
            let dangling = tos
                .iter()
                .any(|t| d.step(t).is_none() && d.end(t).is_none());
            if reached.contains(n) && !tos.is_empty() && !dangling && !finishing.contains(n) {
                self.err(
                    "E021",
                    s.name.span.clone(),
                    format!("no end can be reached from step `{n}`"),
                )
                .help = Some("every path must lead to an `end`; this one loops forever".into());
            }
        }
    }
}

fn to_span(s: &Stmt) -> Span {
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
        | Stmt::SelfApproval(sp) => sp.clone(),
        Stmt::Notify { span, .. }
        | Stmt::Start { span, .. }
        | Stmt::Sign { span, .. }
        | Stmt::Next { span, .. }
        | Stmt::Due { span, .. } => span.clone(),
        Stmt::Extend(x) => x.span.clone(),
    }
}

/// The fields an expression reads.
pub fn fields_in(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Field(f) => out.push(f.clone()),
        Expr::Call(_, xs) => xs.iter().for_each(|x| fields_in(x, out)),
        Expr::Neg(x) | Expr::Not(x) | Expr::At(x, _, _) => fields_in(x, out),
        Expr::Bin(_, a, b) => {
            fields_in(a, out);
            fields_in(b, out);
        }
        Expr::InRange { value, lo, hi, .. } => {
            fields_in(value, out);
            fields_in(lo, out);
            fields_in(hi, out);
        }
        Expr::InSet(v, xs) => {
            fields_in(v, out);
            xs.iter().for_each(|x| fields_in(x, out));
        }
        _ => {}
    }
}
