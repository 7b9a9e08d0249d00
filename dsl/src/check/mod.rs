//! The checker: syntax tree -> typed model, collecting every problem on the way.
//!
//! It runs in passes (fields, steps, decisions, the step graph, schedules) and never
//! stops at the first error, so an author sees everything wrong with a file at once.

mod assigned;
mod checks;
mod coverage;
mod decide;
mod graph;
mod lists;
mod loops;
mod nobody;
mod outputs;
mod parallel;
mod people;
mod schedule;
mod steps;
mod types;

pub use coverage::Domain;

use crate::ast::{self, Span, Stmt};
use crate::catalogue::Code;
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
    /// Its `outputs`, with their types and whether an end may leave them empty.
    pub outputs: BTreeMap<String, (Type, bool)>,
    /// Its ends, by name.
    pub ends: Vec<String>,
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
        Ok(p) => parallel::flatten(p),
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
        element: None,
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
/// The fields a process writes itself: by `set`, a rule's `with` or `receive`, in
/// any step, branches' steps included.
fn written_fields(steps: &[ast::Step]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in steps {
        for st in &s.body {
            match st {
                Stmt::Set(a, _) => {
                    out.insert(a.field.text.clone());
                }
                Stmt::Rules(arms, _) => {
                    out.extend(
                        arms.iter()
                            .flat_map(|a| &a.sets)
                            .map(|a| a.field.text.clone()),
                    );
                }
                Stmt::Receive(items, _) => {
                    out.extend(
                        items
                            .iter()
                            .map(|(output, field)| field.as_ref().unwrap_or(output).text.clone()),
                    );
                }
                Stmt::Parallel(branches, _) => {
                    for b in branches {
                        out.extend(written_fields(&b.steps));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

pub fn signature(src: &str) -> Option<(String, Signature)> {
    let p = parse(src).ok()?;
    let written = written_fields(&p.steps);
    // Only which names are fields matters to what the first step reads.
    let declared: Fields = p
        .data
        .iter()
        .map(|f| {
            let field = Field {
                name: f.name.text.clone(),
                ty: Type::Text,
                optional: f.optional,
                default: None,
                label: None,
                source: FieldSource::Start,
            };
            (f.name.text.clone(), field)
        })
        .collect();
    let read_first = assigned::read_first(&p, &declared);
    let mut sig = Signature::default();
    // What a parent may give at start: the fields asked for at start (see
    // `FieldSource::Written`).
    for f in p.data.iter().filter(|f| {
        !(f.optional
            && f.default.is_none()
            && written.contains(&f.name.text)
            && !read_first.contains(&f.name.text))
    }) {
        let mut sink = Vec::new();
        sig.fields
            .insert(f.name.text.clone(), type_of(&f.ty, &mut sink));
        if !f.optional && f.default.is_none() {
            sig.required.push(f.name.text.clone());
        }
    }
    outputs::describe(&p, &mut sig);
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
                diags.push(Diagnostic::new(Code::EmptyRange, span.clone(), &[lo, hi]));
            }
            if *decimal {
                Type::Decimal {
                    min: Some(*lo),
                    max: Some(*hi),
                }
            } else {
                if lo.fract() != 0.0 || hi.fract() != 0.0 {
                    diags.push(Diagnostic::new(Code::FractionalRange, span.clone(), &[]));
                }
                Type::Integer {
                    min: Some(*lo as i64),
                    max: Some(*hi as i64),
                }
            }
        }
        ast::TypeSpec::List {
            min,
            max,
            elems,
            span,
        } => lists::list_type(*min, *max, elems, span, diags),
        ast::TypeSpec::Choice(vs) => {
            let mut seen = BTreeSet::new();
            for (n, _) in vs {
                if !seen.insert(&n.text) {
                    diags.push(Diagnostic::new(
                        Code::DuplicateName,
                        n.span.clone(),
                        &[&"choice", &n.text],
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

/// The fields of the data block in the order they are written (the first names an
/// instance to people), then those filled at steps or computed, by name.
fn in_declared_order(fields: &Fields, data: &[crate::ast::FieldDecl]) -> Vec<Field> {
    let mut out: Vec<Field> = data
        .iter()
        .filter_map(|d| fields.get(&d.name.text).cloned())
        .collect();
    let declared: BTreeSet<&str> = data.iter().map(|d| d.name.text.as_str()).collect();
    out.extend(
        fields
            .values()
            .filter(|f| !declared.contains(f.name.as_str()))
            .cloned(),
    );
    out
}

struct Checker<'a> {
    ctx: &'a Context<'a>,
    diags: Vec<Diagnostic>,
    fields: Fields,
    domains: BTreeMap<String, Domain>,
    /// Per step: exits that can never be taken (index among the step's `next` lines
    /// or rules, and the exit as written), for the loop check.
    dead_exits: BTreeMap<String, Vec<(usize, String, Span)>>,
    /// While a `for each` step is checked: its element's name and the list's type.
    element: Option<lists::Bound>,
}

/// An arm of `on outcome` as written: the end (`None`: `otherwise`) and the step.
type OutcomeArmAst = (Option<ast::Name>, ast::Name);

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
    reminders: Vec<(&'s ast::RemindLine, Span)>,
    overdue: Vec<(&'s ast::Action, Span)>,
    refuse: Option<(&'s ast::Name, Span)>,
    self_approval: Option<Span>,
    extend: Option<&'s ast::Extend>,
    checks: Vec<(&'s ast::Expr, &'s ast::Text, Span)>,
    receives: Vec<(&'s ast::Name, Option<&'s ast::Name>, Span)>,
    outcomes: Vec<(&'s [OutcomeArmAst], Span)>,
}

impl Checker<'_> {
    fn err(&mut self, code: Code, span: Span, args: &[&dyn std::fmt::Display]) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(code, span, args));
        self.diags.last_mut().expect("just pushed")
    }

    fn note_dead_exit(&mut self, step: &str, index: usize, text: String, span: Span) {
        self.dead_exits
            .entry(step.to_string())
            .or_default()
            .push((index, text, span));
    }

    fn typer(&mut self) -> Typer<'_> {
        Typer {
            fields: &self.fields,
            diags: &mut self.diags,
            domains: &self.domains,
            staff: self.ctx.staff,
            bound: self.element.iter().cloned().collect(),
        }
    }

    fn run(&mut self, p: &ast::Process) -> Definition {
        self.collect_fields(p);
        let mut targets = self.collect_targets(p);
        self.join_target(p, &mut targets);

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
                self.err(Code::NoSubjectField, s.span.clone(), &[]);
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
            self.err(Code::NoSteps, p.name.span.clone(), &[]);
        }
        let counted_by = self.counted_by(p);
        let definition = Definition {
            name: p.name.text.clone(),
            title: p.title.as_ref().map(|t| t.value.clone()),
            description: p.description.as_ref().map(|t| t.value.clone()),
            started_by,
            schedules,
            requires,
            fields: in_declared_order(&self.fields, &p.data),
            limits,
            steps,
            ends: p.ends.iter().map(|e| self.end(e)).collect(),
            outputs: self.outputs(p),
            counted_by,
        };
        self.graph(p, &definition);
        self.definite_assignment(p, &definition);
        self.who_chains(p);
        self.nobody_left(p);
        self.branches(p, &definition);
        definition
    }

    // ---- fields -----------------------------------------------------------------------

    fn add_field(&mut self, name: &ast::Name, field: Field) {
        if self.fields.contains_key(&name.text) {
            self.err(
                Code::DuplicateName,
                name.span.clone(),
                &[&"field", &name.text],
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
                                    label: it.label.as_ref().map(|t| t.value.clone()),
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
        // A declared field the process writes itself is not asked for at start, unless
        // it must be given there (required, or with a default to start from) or is
        // read before the process could have written it.
        let written = written_fields(&p.steps);
        let read_first = assigned::read_first(p, &self.fields);
        for f in self.fields.values_mut() {
            if f.source == FieldSource::Start
                && f.optional
                && f.default.is_none()
                && written.contains(&f.name)
                && !read_first.contains(&f.name)
            {
                f.source = FieldSource::Written;
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
                        // A list's elements have a declared shape; a computed copy
                        // of one would have none.
                        Ty::List => {
                            self.err(
                                Code::TypeMismatch,
                                a.value.span.clone(),
                                &[&"a computed field", &"a single value", &"a list"],
                            );
                            continue;
                        }
                        Ty::Choice(_) | Ty::Variant(_) => {
                            self.err(
                                Code::UndeclaredChoiceField,
                                a.field.span.clone(),
                                &[&a.field.text],
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

    /// `counted by F`: each F a choice field of the process (declared in `data`, or
    /// where a step fills or computes it), named once. An instance is counted by the
    /// value its field holds, so the field must have a fixed set of values.
    fn counted_by(&mut self, p: &ast::Process) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in &p.counted_by {
            match self.fields.get(&n.text).map(|f| f.ty.clone()) {
                Some(Type::Choice(_)) => {}
                Some(other) => {
                    let what = format!("`{}` is {}", n.text, other.describe());
                    self.err(Code::CountedNotChoice, n.span.clone(), &[&n.text, &what]);
                }
                None => {
                    let choices: Vec<&str> = self
                        .fields
                        .iter()
                        .filter(|(_, f)| matches!(f.ty, Type::Choice(_)))
                        .map(|(k, _)| k.as_str())
                        .collect();
                    let help = did_you_mean(&n.text, choices.iter().copied());
                    let what = format!("the process has no field `{}`", n.text);
                    self.err(Code::CountedNotChoice, n.span.clone(), &[&n.text, &what])
                        .set_help(help);
                }
            }
            if out.contains(&n.text) {
                self.err(
                    Code::DuplicateName,
                    n.span.clone(),
                    &[&"counted field", &n.text],
                );
                continue;
            }
            out.push(n.text.clone());
        }
        out
    }

    /// `require` is evaluated at start, before any step has filled or computed a value.
    fn only_start_fields(&mut self, e: &Expr, span: Span) {
        let mut names = Vec::new();
        fields_in(e, &mut names);
        for n in names {
            if let Some(f) = self.fields.get(&n) {
                if f.source != FieldSource::Start {
                    self.err(Code::RequireBeforeValue, span.clone(), &[&n]);
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
                    Code::DuplicateName,
                    n.span.clone(),
                    &[&"step or end", &n.text],
                );
            }
        }
        let mut limits = BTreeSet::new();
        for l in &p.limits {
            if !limits.insert(&l.name.text) {
                self.err(
                    Code::DuplicateName,
                    l.name.span.clone(),
                    &[&"limit", &l.name.text],
                );
            }
        }
        seen.keys().map(|s| s.to_string()).collect()
    }

    fn target(&mut self, n: &ast::Name, targets: &BTreeSet<String>) -> String {
        if !targets.contains(&n.text) {
            let help = did_you_mean(&n.text, targets.iter().map(String::as_str));
            self.err(
                Code::UnknownStep,
                n.span.clone(),
                &[&"step or end", &n.text],
            )
            .set_help(help);
        }
        n.text.clone()
    }

    fn role(&mut self, r: &ast::Name) -> String {
        if let Some(staff) = self.ctx.staff {
            if !staff.roles.contains(&r.text) {
                let help = did_you_mean(&r.text, staff.roles.iter().map(String::as_str));
                self.err(Code::UnknownRole, r.span.clone(), &[&r.text, &""])
                    .set_help(help);
            }
        }
        r.text.clone()
    }

    fn who(&mut self, w: &ast::Who, allow_address: bool) -> Who {
        match w {
            ast::Who::Except(base, xs, _) => {
                let base = self.who(base, allow_address);
                let xs = xs.iter().map(|x| self.who(x, false)).collect();
                Who::Except(Box::new(base), xs)
            }
            ast::Who::Starter(_) => Who::Starter,
            ast::Who::Member(m, _) => self.element_person(&m.var, &m.field),
            ast::Who::HeadOfMember(m, _) => self.element_head(&m.var, &m.field),
            ast::Who::EachWithRole(r) => Who::EachWithRole(self.role(r)),
            ast::Who::Person(n) => {
                if let Some(staff) = self.ctx.staff {
                    if !staff.people.contains(&n.text) {
                        let help = did_you_mean(&n.text, staff.people.iter().map(String::as_str));
                        self.err(Code::UnknownPerson, n.span.clone(), &[&n.text])
                            .set_help(help);
                    }
                }
                Who::Person(n.text.clone())
            }
            ast::Who::SupervisorOf(inner, _) | ast::Who::DeptHeadOf(inner, _) => {
                let x = self.who(inner, false);
                if matches!(x, Who::EachWithRole(_)) {
                    self.err(Code::NestedEachWithRole, inner.span(), &[]);
                }
                // `supervisor of` and `head of department of` follow one person up the
                // directory; a role has many members and no single answer.
                if let Who::Role(r) = &x {
                    let of = if matches!(w, ast::Who::SupervisorOf(..)) {
                        "`supervisor of`"
                    } else {
                        "`head of department of`"
                    };
                    self.err(Code::NotOnePerson, inner.span(), &[&of, r]);
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
                    self.err(Code::HeadOfNotDepartment, n.span.clone(), &[&n.text, &t]);
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
                            self.err(Code::UnknownDepartment, n.span.clone(), &[&n.text])
                                .set_help(help);
                        }
                    }
                    Who::HeadOfDept(n.text.clone())
                }
            },
            ast::Who::Name(n) => match self.fields.get(&n.text).map(|f| f.ty.clone()) {
                Some(Type::Person) => Who::Field(n.text.clone()),
                Some(Type::Text) if allow_address => Who::Address(n.text.clone()),
                Some(other) => {
                    let wanted = if allow_address {
                        "a person or an address"
                    } else {
                        "a person"
                    };
                    self.err(
                        Code::NotAPerson,
                        n.span.clone(),
                        &[&n.text, &other.describe(), &wanted],
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
                                Code::UnknownRole,
                                n.span.clone(),
                                &[&n.text, &", and it is not a person field"],
                            )
                            .set_help(help);
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
            self.err(Code::NotPositive, e.span.clone(), &[&what]);
            return None;
        }
        Some(d)
    }

    fn reminders(
        &mut self,
        rs: &[(&ast::RemindLine, Span)],
        shortest_due: Option<i64>,
        has_due: bool,
    ) -> Vec<Reminder> {
        let mut out = Vec::new();
        for (r, sp) in rs {
            if !has_due {
                self.err(Code::ReminderWithoutDue, sp.clone(), &[]);
            }
            if let Some(m) = &r.message {
                self.placeholders(m);
            }
            let to = r.to.as_ref().map(|w| self.who(w, false));
            let text = r.message.as_ref().map(|m| m.value.clone());
            let told = to.is_some() || text.is_some();
            match &r.at {
                ast::Remind::Before(e) => {
                    if let Some(d) = self.positive_duration(e, "a reminder's lead time") {
                        if let Some(due) = shortest_due {
                            if d.approx_minutes() >= due {
                                self.err(Code::ReminderTooEarly, e.span.clone(), &[]);
                            }
                        }
                        out.push(if told {
                            Reminder::BeforeTold { lead: d, to, text }
                        } else {
                            Reminder::Before(d)
                        });
                    }
                }
                ast::Remind::Every(e) => {
                    if let Some(d) = self.positive_duration(e, "a repeating reminder's interval") {
                        out.push(if told {
                            Reminder::EveryTold { every: d, to, text }
                        } else {
                            Reminder::Every(d)
                        });
                    }
                }
            }
        }
        out
    }

    fn extension(&mut self, x: Option<&ast::Extend>, has_due: bool) -> Option<Extension> {
        let x = x?;
        if !has_due {
            self.err(Code::NeedsDue, x.span.clone(), &[&"extend"]);
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
    let mut names = Vec::new();
    e.fields(&mut names);
    out.extend(names.into_iter().map(str::to_string));
}
