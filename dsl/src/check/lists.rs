//! Lists: the list type, `X.field`, `count`, `any`/`all`, and `for each` steps.

use super::steps::to_span;
use super::types::{check_placeholders, Ty, Typer};
use super::{type_of, Checker};
use crate::ast::{self, Span, Stmt};
use crate::catalogue::Code;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::*;
use std::collections::BTreeSet;

/// An element in scope: its name, the list field it comes from, and that list's type.
#[derive(Debug, Clone)]
pub struct Bound {
    pub var: String,
    pub list: String,
    pub ty: ListType,
    /// Named over something that is not a list (already reported): its fields are
    /// not checked again.
    pub quiet: bool,
}

/// `list MIN..MAX of { FIELDS }`.
pub(super) fn list_type(
    min: u64,
    max: Option<u64>,
    elems: &[ast::FieldDecl],
    span: &Span,
    diags: &mut Vec<Diagnostic>,
) -> Type {
    if let Some(m) = max {
        if m == 0 || min > m {
            let why = format!("at least {min} and at most {m} elements");
            diags.push(Diagnostic::new(Code::ListLength, span.clone(), &[&why]));
        }
    }
    let mut seen = BTreeSet::new();
    let mut fields = Vec::new();
    for e in elems {
        if !seen.insert(e.name.text.as_str()) {
            diags.push(Diagnostic::new(
                Code::DuplicateName,
                e.name.span.clone(),
                &[&"field", &e.name.text],
            ));
        }
        if matches!(e.ty, ast::TypeSpec::List { .. }) {
            diags.push(Diagnostic::new(Code::ListInList, e.name.span.clone(), &[]));
        }
        fields.push(ElemField {
            name: e.name.text.clone(),
            ty: type_of(&e.ty, diags),
            optional: e.optional,
            label: e.label.as_ref().map(|t| t.value.clone()),
        });
    }
    Type::List(ListType { min, max, fields })
}

impl Typer<'_> {
    fn bound(&self, var: &str) -> Option<&Bound> {
        self.bound.iter().rev().find(|b| b.var == var)
    }

    /// The list field `n` names, for `what` (`count`, `any`, `for each`).
    pub(super) fn list_field(&mut self, n: &ast::Name, what: &str) -> Option<ListType> {
        match self.fields.get(&n.text).map(|f| &f.ty) {
            Some(Type::List(l)) => Some(l.clone()),
            Some(other) => {
                let t = other.describe();
                self.err(Code::NotAList, n.span.clone(), &[&what, &n.text, &t]);
                None
            }
            None => {
                self.unknown_name(&n.text, n.span.clone());
                None
            }
        }
    }

    /// `X.field`: a field of an element in scope, which must have a value.
    pub(super) fn member(&mut self, x: &ast::Name, f: &ast::Name, sp: Span) -> (Expr, Ty) {
        let Some(b) = self.bound(&x.text).cloned() else {
            self.err(Code::NotAnElement, x.span.clone(), &[&x.text]);
            return (Expr::Bool(false), Ty::Unknown);
        };
        if b.quiet {
            return (Expr::Bool(false), Ty::Unknown);
        }
        let Some(ef) = b.ty.field(&f.text) else {
            let help = did_you_mean(&f.text, b.ty.fields.iter().map(|e| e.name.as_str()));
            self.diags.push(
                Diagnostic::new(Code::NoElementField, f.span.clone(), &[&b.list, &f.text])
                    .help_opt(help),
            );
            return (Expr::Bool(false), Ty::Unknown);
        };
        if ef.optional {
            let whole = format!("{}.{}", x.text, f.text);
            self.err(Code::ElementMaybeEmpty, sp, &[&whole, &f.text, &b.list]);
        }
        let m = Member {
            var: x.text.clone(),
            field: f.text.clone(),
        };
        (Expr::Member(Box::new(m)), Ty::of(&ef.ty))
    }

    /// `any X in LIST where COND`, `all X in LIST where COND`.
    pub(super) fn quantified(
        &mut self,
        all: bool,
        var: &ast::Name,
        list: &ast::Name,
        cond: &ast::Expr,
    ) -> (Expr, Ty) {
        let what = if all { "`all`" } else { "`any`" };
        let ty = self.list_field(list, what);
        self.bound.push(Bound {
            var: var.text.clone(),
            list: list.text.clone(),
            quiet: ty.is_none(),
            ty: ty.unwrap_or(ListType {
                min: 0,
                max: None,
                fields: vec![],
            }),
        });
        let c = self.expect(cond, &Ty::Bool, "the condition");
        self.bound.pop();
        let q = Quantified {
            all,
            var: var.text.clone(),
            list: Expr::Field(list.text.clone()),
            cond: c,
        };
        (Expr::Quantified(Box::new(q)), Ty::Bool)
    }

    /// `count(LIST)`: the number of elements.
    pub(super) fn count(&mut self, args: &[ast::Expr], sp: Span) -> (Expr, Ty) {
        let [arg] = args else {
            self.err(Code::ArgumentCount, sp, &[&"count", &1, &args.len()]);
            return (Expr::Bool(false), Ty::Unknown);
        };
        let (x, t) = self.value(arg);
        if !matches!(t, Ty::List | Ty::Unknown) {
            let shown = format!("{x}");
            let described = t.describe();
            self.err(
                Code::NotAList,
                arg.span.clone(),
                &[&"`count`", &shown, &described],
            );
        }
        (Expr::Call(Func::Count, vec![x]), Ty::Int)
    }
}

impl Checker<'_> {
    /// The step's `for each`, if any, and the element it names.
    pub(super) fn for_each(&mut self, s: &ast::Step) -> (Option<ForEach>, Option<Bound>) {
        let mut found: Option<ForEach> = None;
        let mut element = None;
        for st in &s.body {
            let Stmt::ForEach { var, list, span } = st else {
                continue;
            };
            if found.is_some() {
                self.err(
                    Code::NotInForEach,
                    span.clone(),
                    &[
                        &"a second `for each`",
                        &"a step starts one task per element of one list",
                    ],
                );
                continue;
            }
            let ty = self.typer().list_field(list, "`for each`");
            element = Some(Bound {
                var: var.text.clone(),
                list: list.text.clone(),
                quiet: ty.is_none(),
                ty: ty.unwrap_or(ListType {
                    min: 0,
                    max: None,
                    fields: vec![],
                }),
            });
            found = Some(ForEach {
                var: var.text.clone(),
                list: list.text.clone(),
            });
        }
        // The task's title may name the element's fields: `"跟進：{item.item}"`.
        if let (Some(t), Some(_)) = (&s.title, &found) {
            self.element = element.clone();
            self.element_placeholders(t);
            self.element = None;
        }
        (found, element)
    }

    /// What a `for each` step may not have besides its task.
    pub(super) fn for_each_body(&mut self, s: &ast::Step, action: &Action) {
        let Some(at) = s.body.iter().find_map(|st| match st {
            Stmt::ForEach { span, .. } => Some(span.clone()),
            _ => None,
        }) else {
            return;
        };
        let has = match action {
            Action::Task(_) => None,
            Action::Sign { mode, .. } => {
                let form = match mode {
                    SignMode::All => None,
                    SignMode::Any => Some("`sign any of`".to_string()),
                    SignMode::Count(n) => Some(format!("`sign {n} of`")),
                    SignMode::InOrder => Some("`sign in order by`".to_string()),
                };
                if let (Some(form), Some(sp)) = (form, sign_span(s)) {
                    self.err(Code::ForEachSignMode, sp, &[&form]);
                }
                None
            }
            Action::Auto => Some("nothing to start"),
            Action::Decide(_) => Some("rules"),
            Action::Start { .. } => None,
            Action::Parallel(_) => Some("branches"),
        };
        if let Some(has) = has {
            self.err(Code::ForEachWithoutTask, at, &[&has]);
        }
        for st in &s.body {
            let (what, why) = match st {
                Stmt::Fill(..) => (
                    "`fill`",
                    "the elements' tasks would fill the same fields",
                ),
                Stmt::Choose(..) => (
                    "`choose`",
                    "each element's task would choose on its own, and the step goes one way",
                ),
                Stmt::Check { .. } => ("`check`", "its task fills nothing to check"),
                Stmt::OnOverdue(..) => (
                    "`on overdue`",
                    "each element is overdue on its own; `remind every ... after due` tells its owner",
                ),
                Stmt::Extend(..) => (
                    "`extend`",
                    "each element has its own due time, and the step none to extend",
                ),
                Stmt::Receive(_, sp) => {
                    self.err(Code::ForEachOutcome, sp.clone(), &[&"`receive`"]);
                    continue;
                }
                Stmt::OnOutcome(_, sp) => {
                    self.err(Code::ForEachOutcome, sp.clone(), &[&"`on outcome`"]);
                    continue;
                }
                _ => continue,
            };
            self.err(Code::NotInForEach, to_span(st), &[&what, &why]);
        }
    }

    /// `task for X.owner`: a person field of the step's element.
    pub(super) fn element_person(&mut self, x: &ast::Name, f: &ast::Name) -> Who {
        let who = Who::Member(Box::new(Member {
            var: x.text.clone(),
            field: f.text.clone(),
        }));
        self.element_who(x, f, &Type::Person);
        who
    }

    /// `head of X.department`: a department field of the step's element.
    pub(super) fn element_head(&mut self, x: &ast::Name, f: &ast::Name) -> Who {
        let who = Who::HeadOfMember(Box::new(Member {
            var: x.text.clone(),
            field: f.text.clone(),
        }));
        self.element_who(x, f, &Type::Department);
        who
    }

    /// A who position naming `X.f`: a required field of type `want` of the step's
    /// element.
    fn element_who(&mut self, x: &ast::Name, f: &ast::Name, want: &Type) {
        let Some(b) = self.element.clone().filter(|b| b.var == x.text) else {
            self.err(Code::NotAnElement, x.span.clone(), &[&x.text]);
            return;
        };
        if b.quiet {
            return;
        }
        let whole = format!("{}.{}", x.text, f.text);
        match b.ty.field(&f.text) {
            Some(ef) if &ef.ty != want => {
                let t = ef.ty.describe();
                if want == &Type::Department {
                    self.err(Code::HeadOfNotDepartment, f.span.clone(), &[&whole, &t]);
                } else {
                    self.err(Code::NotAPerson, f.span.clone(), &[&whole, &t, &"a person"]);
                }
            }
            Some(ef) if ef.optional => {
                self.err(
                    Code::ElementMaybeEmpty,
                    f.span.clone(),
                    &[&whole, &f.text, &b.list],
                );
            }
            Some(_) => {}
            None => {
                let help = did_you_mean(&f.text, b.ty.fields.iter().map(|e| e.name.as_str()));
                self.err(Code::NoElementField, f.span.clone(), &[&b.list, &f.text])
                    .set_help(help);
            }
        }
    }

    /// A message's placeholders: `{X.field}` of the step's element, the others
    /// fields as everywhere.
    pub(super) fn placeholders(&mut self, m: &ast::Text) {
        if self.element.is_none() {
            check_placeholders(m, &self.fields, &mut self.diags);
            return;
        }
        let rest = self.element_placeholders(m);
        check_placeholders(&rest, &self.fields, &mut self.diags);
    }

    /// Check the `{X.field}` placeholders of `m` against the step's element; what is
    /// left, for the usual check of field placeholders.
    fn element_placeholders(&mut self, m: &ast::Text) -> ast::Text {
        let mut left = String::new();
        let mut rest = m.value.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let inner = after[..close].trim();
            let name = inner.split_once(" or ").map_or(inner, |(n, _)| n.trim());
            left.push_str(&rest[..open]);
            match name.split_once('.') {
                Some((x, f)) => self.element_placeholder(x, f, m.span.clone()),
                None => left.push_str(&rest[open..open + 1 + close + 1]),
            }
            rest = &after[close + 1..];
        }
        left.push_str(rest);
        ast::Text {
            value: left,
            span: m.span.clone(),
        }
    }

    fn element_placeholder(&mut self, x: &str, f: &str, span: Span) {
        match self.element.clone().filter(|b| b.var == x) {
            None => {
                self.err(Code::NotAnElement, span, &[&x]);
            }
            Some(b) if !b.quiet && b.ty.field(f).is_none() => {
                self.err(Code::NoElementField, span, &[&b.list, &f]);
            }
            Some(_) => {}
        }
    }
}

/// Where a step's `sign` line is.
fn sign_span(s: &ast::Step) -> Option<Span> {
    s.body.iter().find_map(|st| match st {
        Stmt::Sign { span, .. } => Some(span.clone()),
        _ => None,
    })
}
