//! The checker: syntax tree -> typed model, collecting every problem on the way.
//!
//! It runs in passes (fields, steps, decisions, the step graph, schedules) and never
//! stops at the first error, so an author sees everything wrong with a file at once.

mod assigned;
mod coverage;
mod decide;
mod graph;
mod people;
mod schedule;
mod steps;
mod types;

pub use coverage::Domain;

use crate::ast::{self, Span, Stmt};
use crate::diagnostic::{did_you_mean, Diagnostic, Severity};
use crate::model::*;
use crate::parse::parse;
use std::collections::{BTreeMap, BTreeSet};
use types::{check_placeholders, const_duration, Ty, Typer};

pub(crate) type Fields = BTreeMap<String, Field>;

/// The names a staff directory defines, for checking roles, people and departments.
#[derive(Debug, Clone, Default)]
pub struct StaffNames {
    pub roles: BTreeSet<String>,
    pub people: BTreeSet<String>,
    pub departments: BTreeSet<String>,
    /// The directory's shape, for who-chains that may find nobody: each person's
    /// name, roles, department and supervisor, and each department's head.
    pub shape: BTreeMap<String, PersonShape>,
    pub heads: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonShape {
    pub name: String,
    pub roles: BTreeSet<String>,
    pub department: String,
    pub supervisor: Option<String>,
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
        dead_exits: BTreeMap::new(),
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
    /// Per step: exits that can never be taken (index among the step's `next` lines
    /// or rules, and the exit as written), for the loop check.
    dead_exits: BTreeMap<String, Vec<(usize, String)>>,
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

    fn note_dead_exit(&mut self, step: &str, index: usize, text: String) {
        self.dead_exits
            .entry(step.to_string())
            .or_default()
            .push((index, text));
    }

    fn typer(&mut self) -> Typer<'_> {
        Typer {
            fields: &self.fields,
            diags: &mut self.diags,
            domains: &self.domains,
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
        self.definite_assignment(p, &definition);
        self.who_chains(p);
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
                // `supervisor of` and `head of department of` follow one person up the
                // directory; a role has many members and no single answer.
                if let Who::Role(r) = &x {
                    let of = if matches!(w, ast::Who::SupervisorOf(..)) {
                        "`supervisor of`"
                    } else {
                        "`head of department of`"
                    };
                    self.err(
                        "E082",
                        inner.span(),
                        format!("{of} needs exactly one person, and `{r}` is a role"),
                    )
                    .help = Some(
                        "name one person: `starter`, a person field, `person ID`, or another `supervisor of ...`".into(),
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
