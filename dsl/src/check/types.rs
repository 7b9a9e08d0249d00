//! Expressions: resolve names, infer types, lower to the model.

use super::Fields;
use crate::ast::{self, DurLit, ExprKind, Span};
use crate::catalogue::Code;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::{BinOp, Duration, Expr, Func, Type};

/// The type of an expression while checking. `Variant` is a bare name that is not a
/// field: it is only valid where a choice is expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Text,
    Int,
    Dec,
    Bool,
    Date,
    DateTime,
    Duration,
    Person,
    Department,
    Choice(Vec<String>),
    /// A list field: only `count`, `any`, `all` and `for each` read one.
    List,
    Variant(String),
    /// An error was already reported; stay quiet about this expression.
    Unknown,
}

impl Ty {
    pub fn of(t: &Type) -> Ty {
        match t {
            Type::Text => Ty::Text,
            Type::Integer { .. } => Ty::Int,
            Type::Decimal { .. } => Ty::Dec,
            Type::Bool => Ty::Bool,
            Type::Date => Ty::Date,
            Type::DateTime => Ty::DateTime,
            Type::Duration => Ty::Duration,
            Type::Person => Ty::Person,
            Type::Department => Ty::Department,
            Type::Choice(vs) => Ty::Choice(vs.iter().map(|v| v.name.clone()).collect()),
            Type::List(_) => Ty::List,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Ty::Text => "text".into(),
            Ty::Int => "integer".into(),
            Ty::Dec => "decimal".into(),
            Ty::Bool => "bool".into(),
            Ty::Date => "date".into(),
            Ty::DateTime => "datetime".into(),
            Ty::Duration => "duration".into(),
            Ty::Person => "person".into(),
            Ty::Department => "department".into(),
            Ty::Choice(vs) => format!("one of {}", vs.join(", ")),
            Ty::List => "a list".into(),
            Ty::Variant(v) => format!("`{v}`"),
            Ty::Unknown => "unknown".into(),
        }
    }
    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Dec)
    }
}

pub struct Typer<'a> {
    pub fields: &'a Fields,
    pub diags: &'a mut Vec<Diagnostic>,
    /// What is known of numeric fields' ranges, to see a divisor that may be zero.
    pub domains: &'a std::collections::BTreeMap<String, super::Domain>,
    /// The directory's names, to check `person ID`, `has role R` and departments.
    pub staff: Option<&'a super::StaffNames>,
    /// The elements named here (by `for each`, `any`, `all`), innermost last.
    pub bound: Vec<super::lists::Bound>,
}

impl Typer<'_> {
    pub(super) fn err(&mut self, code: Code, span: Span, args: &[&dyn std::fmt::Display]) {
        self.diags.push(Diagnostic::new(code, span, args));
    }

    /// Lower `e` and require it to have type `want` (integers are accepted where a
    /// decimal is wanted, a choice name where a choice is wanted).
    pub fn expect(&mut self, e: &ast::Expr, want: &Ty, what: &str) -> Expr {
        let (x, t) = self.lower(e);
        self.conform(&t, want, e.span.clone(), what);
        x
    }

    pub fn conform(&mut self, got: &Ty, want: &Ty, span: Span, what: &str) {
        let ok = match (got, want) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => true,
            (Ty::Int, Ty::Dec) => true,
            (Ty::Variant(v), Ty::Choice(vs)) => {
                if !vs.contains(v) {
                    let help = did_you_mean(v, vs.iter().map(String::as_str));
                    self.diags.push(
                        Diagnostic::new(Code::NotAChoice, span, &[v, &vs.join(", ")])
                            .help_opt(help),
                    );
                }
                return;
            }
            (Ty::Variant(v), _) => {
                self.unknown_name(v, span);
                return;
            }
            (Ty::Choice(a), Ty::Choice(b)) => a == b,
            (a, b) => a == b,
        };
        if !ok {
            self.err(
                Code::TypeMismatch,
                span,
                &[&what, &want.describe(), &got.describe()],
            );
        }
    }

    pub(super) fn unknown_name(&mut self, name: &str, span: Span) {
        let help = did_you_mean(name, self.fields.keys().map(String::as_str));
        self.diags.push(
            Diagnostic::new(Code::UnknownField, span, &[&name, &""])
                .label("not a field of this process")
                .help_opt(help),
        );
    }

    /// A department: an expression of that type, or a bare name that is not a field,
    /// which names a department of the directory by its id.
    fn department(&mut self, e: &ast::Expr, what: &str) -> Expr {
        let (x, t) = self.lower(e);
        match t {
            Ty::Variant(v) => self.department_named(&v, e.span.clone()),
            t => {
                self.conform(&t, &Ty::Department, e.span.clone(), what);
                x
            }
        }
    }

    /// A department of the directory, checked against it when one is given.
    fn department_named(&mut self, name: &str, span: Span) -> Expr {
        if let Some(staff) = self.staff {
            if !staff.departments.contains(name) {
                let help = did_you_mean(name, staff.departments.iter().map(String::as_str));
                self.diags
                    .push(Diagnostic::new(Code::UnknownDepartment, span, &[&name]).help_opt(help));
            }
        }
        Expr::Department(name.to_string())
    }

    /// A value standing on its own: a bare name here must be a field.
    pub(super) fn value(&mut self, e: &ast::Expr) -> (Expr, Ty) {
        let (x, t) = self.lower(e);
        if let Ty::Variant(v) = &t {
            self.unknown_name(v, e.span.clone());
            return (x, Ty::Unknown);
        }
        (x, t)
    }

    pub fn lower(&mut self, e: &ast::Expr) -> (Expr, Ty) {
        let sp = e.span.clone();
        match &e.kind {
            ExprKind::Int(i) => {
                if *i == i64::MAX {
                    self.err(Code::NumberTooLarge, sp, &[]);
                }
                (Expr::Int(*i), Ty::Int)
            }
            ExprKind::Dec(d) => (Expr::Dec(*d), Ty::Dec),
            ExprKind::Str(s) => (Expr::Text(s.clone()), Ty::Text),
            ExprKind::Bool(b) => (Expr::Bool(*b), Ty::Bool),
            ExprKind::Date(s) => match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => (Expr::Date(d), Ty::Date),
                Err(_) => {
                    self.err(Code::NoSuchDate, sp, &[s]);
                    (Expr::Bool(false), Ty::Unknown)
                }
            },
            ExprKind::Duration(d) => (Expr::Duration(duration(d)), Ty::Duration),
            ExprKind::Today => (Expr::Today, Ty::Date),
            ExprKind::Now => (Expr::Now, Ty::DateTime),
            ExprKind::Starter => (Expr::Starter, Ty::Person),
            // The supervisor of a person: a role or a text has none.
            ExprKind::SupervisorOf(whose) => {
                let x = self.expect(whose, &Ty::Person, "the operand of `supervisor of`");
                (Expr::SupervisorOf(Box::new(x)), Ty::Person)
            }
            ExprKind::Ident(n) => match self.fields.get(n) {
                Some(f) => (Expr::Field(n.clone()), Ty::of(&f.ty)),
                // The instance's number, unless a field has the name.
                None if n == "id" => (Expr::Id, Ty::Int),
                None => (Expr::Choice(n.clone()), Ty::Variant(n.clone())),
            },
            ExprKind::DepartmentOf(whose) => {
                let x = self.expect(whose, &Ty::Person, "the operand of `department of`");
                (Expr::DepartmentOf(Box::new(x)), Ty::Department)
            }
            ExprKind::HeadOf(dept) => {
                let x = self.department(dept, "the operand of `head of`");
                (Expr::HeadOf(Box::new(x)), Ty::Person)
            }
            ExprKind::HasRole(whose, role) => {
                let x = self.expect(whose, &Ty::Person, "the left of `has role`");
                if let Some(staff) = self.staff {
                    if !staff.roles.contains(&role.text) {
                        let help = did_you_mean(&role.text, staff.roles.iter().map(String::as_str));
                        self.diags.push(
                            Diagnostic::new(
                                Code::UnknownRole,
                                role.span.clone(),
                                &[&role.text, &""],
                            )
                            .help_opt(help),
                        );
                    }
                }
                (Expr::HasRole(Box::new(x), role.text.clone()), Ty::Bool)
            }
            // `X in department D` is `department of X == D`.
            ExprKind::InDepartment(whose, dept) => {
                let x = self.expect(whose, &Ty::Person, "the left of `in department`");
                let d = self.department(dept, "the department after `in department`");
                (
                    Expr::Bin(
                        BinOp::Eq,
                        Box::new(Expr::DepartmentOf(Box::new(x))),
                        Box::new(d),
                    ),
                    Ty::Bool,
                )
            }
            ExprKind::PersonRef(n) => {
                if let Some(staff) = self.staff {
                    if !staff.people.contains(&n.text) {
                        let help = did_you_mean(&n.text, staff.people.iter().map(String::as_str));
                        self.diags.push(
                            Diagnostic::new(Code::UnknownPerson, n.span.clone(), &[&n.text])
                                .help_opt(help),
                        );
                    }
                }
                (Expr::Person(n.text.clone()), Ty::Person)
            }
            ExprKind::Call(name, args) => self.call(name, args, sp),
            ExprKind::Member(m) => self.member(&m.var, &m.field, sp),
            ExprKind::Quantified(q) => self.quantified(q.all, &q.var, &q.list, &q.cond),
            ExprKind::Neg(inner) => {
                let (x, t) = self.value(inner);
                if !(t.numeric() || t == Ty::Duration || t == Ty::Unknown) {
                    self.err(Code::CannotNegate, sp, &[&t.describe()]);
                }
                (Expr::Neg(Box::new(x)), t)
            }
            ExprKind::Not(inner) => {
                let x = self.expect(inner, &Ty::Bool, "the operand of `not`");
                (Expr::Not(Box::new(x)), Ty::Bool)
            }
            ExprKind::Bin(op, l, r) => self.binary(*op, l, r, sp),
            ExprKind::InRange {
                value,
                lo,
                hi,
                inclusive_hi,
            } => {
                let (v, vt) = self.value(value);
                let (lo_x, lt) = self.value(lo);
                let (hi_x, ht) = self.value(hi);
                for (t, s) in [(&lt, lo.span.clone()), (&ht, hi.span.clone())] {
                    if !comparable(&vt, t) {
                        self.err(Code::CannotCompare, s, &[&vt.describe(), &t.describe()]);
                    }
                }
                (
                    Expr::InRange {
                        value: Box::new(v),
                        lo: Box::new(lo_x),
                        hi: Box::new(hi_x),
                        inclusive_hi: *inclusive_hi,
                    },
                    Ty::Bool,
                )
            }
            ExprKind::InSet(value, items) => {
                let (v, vt) = self.value(value);
                let xs = items
                    .iter()
                    .map(|i| {
                        let (x, t) = self.lower(i);
                        match (&t, &vt) {
                            (Ty::Variant(d), Ty::Department) => {
                                self.department_named(d, i.span.clone())
                            }
                            _ => {
                                self.conform(&t, &vt, i.span.clone(), "a member of the set");
                                x
                            }
                        }
                    })
                    .collect();
                (Expr::InSet(Box::new(v), xs), Ty::Bool)
            }
            ExprKind::At(base, (h, m)) => {
                if *h > 23 || *m > 59 {
                    self.err(Code::NoSuchTime, sp.clone(), &[h, &format!("{m:02}")]);
                }
                let x = self.expect(base, &Ty::Date, "the day before `at`");
                (Expr::At(Box::new(x), *h, *m), Ty::DateTime)
            }
        }
    }

    fn call(&mut self, name: &str, args: &[ast::Expr], sp: Span) -> (Expr, Ty) {
        let Some(f) = Func::from_name(name) else {
            let help = did_you_mean(name, Func::NAMES.iter().copied());
            self.diags.push(
                Diagnostic::new(Code::UnknownFunction, sp, &[&name]).help(
                    help.unwrap_or_else(|| format!("functions are {}", Func::NAMES.join(", "))),
                ),
            );
            return (Expr::Bool(false), Ty::Unknown);
        };
        if f == Func::Count {
            return self.count(args, sp);
        }
        let arity = match f {
            Func::Min | Func::Max => 2,
            _ => 1,
        };
        if args.len() != arity {
            self.err(
                Code::ArgumentCount,
                sp.clone(),
                &[&name, &arity, &args.len()],
            );
            return (Expr::Bool(false), Ty::Unknown);
        }
        let lowered: Vec<(Expr, Ty)> = args.iter().map(|a| self.value(a)).collect();
        let t0 = lowered[0].1.clone();
        let result = match f {
            Func::Day | Func::Month | Func::Year | Func::Weekday => {
                if !matches!(t0, Ty::Date | Ty::DateTime | Ty::Unknown) {
                    self.err(
                        Code::ArgumentType,
                        args[0].span.clone(),
                        &[&name, &"a date", &t0.describe()],
                    );
                }
                Ty::Int
            }
            Func::Date => {
                if !matches!(t0, Ty::DateTime | Ty::Date | Ty::Unknown) {
                    self.err(
                        Code::ArgumentType,
                        args[0].span.clone(),
                        &[&"date", &"a datetime", &t0.describe()],
                    );
                }
                Ty::Date
            }
            Func::Round => {
                if !(t0.numeric() || t0 == Ty::Unknown) {
                    self.err(
                        Code::ArgumentType,
                        args[0].span.clone(),
                        &[&"round", &"a number", &t0.describe()],
                    );
                }
                Ty::Int
            }
            Func::Count => Ty::Int,
            Func::Min | Func::Max => {
                let t1 = lowered[1].1.clone();
                if !comparable(&t0, &t1) {
                    self.err(
                        Code::CannotCompare,
                        sp.clone(),
                        &[&t0.describe(), &t1.describe()],
                    );
                }
                if t0 == Ty::Dec || t1 == Ty::Dec {
                    Ty::Dec
                } else {
                    t0
                }
            }
        };
        (
            Expr::Call(f, lowered.into_iter().map(|(x, _)| x).collect()),
            result,
        )
    }

    fn binary(&mut self, op: ast::BinOp, l: &ast::Expr, r: &ast::Expr, sp: Span) -> (Expr, Ty) {
        use ast::BinOp as A;
        let mop = match op {
            A::Add => BinOp::Add,
            A::Sub => BinOp::Sub,
            A::Mul => BinOp::Mul,
            A::Div => BinOp::Div,
            A::Eq => BinOp::Eq,
            A::Ne => BinOp::Ne,
            A::Lt => BinOp::Lt,
            A::Le => BinOp::Le,
            A::Gt => BinOp::Gt,
            A::Ge => BinOp::Ge,
            A::And => BinOp::And,
            A::Or => BinOp::Or,
        };
        if op == A::Or {
            // `x or FALLBACK`: the value of field `x` when it has one, else the
            // fallback. With bool operands it is the usual `or`, which reads the same.
            let (a, at) = self.value(l);
            if !matches!(at, Ty::Bool | Ty::Unknown) {
                if !matches!(a, Expr::Field(_)) {
                    let found = at.describe();
                    self.err(
                        Code::TypeMismatch,
                        l.span.clone(),
                        &[
                            &"the left of `or`",
                            &"true/false, or a field to fall back from",
                            &found,
                        ],
                    );
                }
                let b = self.expect(r, &at, "the fallback after `or`");
                return (Expr::Bin(mop, Box::new(a), Box::new(b)), at);
            }
            if at == Ty::Unknown {
                let (b, _) = self.lower(r);
                return (Expr::Bin(mop, Box::new(a), Box::new(b)), Ty::Unknown);
            }
            let b = self.expect(r, &Ty::Bool, "each side of `and`/`or`");
            return (Expr::Bin(mop, Box::new(a), Box::new(b)), Ty::Bool);
        }
        if matches!(op, A::And | A::Or) {
            let a = self.expect(l, &Ty::Bool, "each side of `and`/`or`");
            let b = self.expect(r, &Ty::Bool, "each side of `and`/`or`");
            return (Expr::Bin(mop, Box::new(a), Box::new(b)), Ty::Bool);
        }
        if matches!(op, A::Eq | A::Ne) {
            // A bare name on one side is read as a choice of the other side's field.
            let (mut a, at) = self.lower(l);
            let (mut b, bt) = self.lower(r);
            match (&at, &bt) {
                // A bare name beside a department is a department of the directory.
                (Ty::Variant(d), Ty::Department) => a = self.department_named(d, l.span.clone()),
                (Ty::Department, Ty::Variant(d)) => b = self.department_named(d, r.span.clone()),
                (Ty::Variant(v), Ty::Person) | (Ty::Person, Ty::Variant(v)) => {
                    let at_span = if matches!(at, Ty::Variant(_)) {
                        l.span.clone()
                    } else {
                        r.span.clone()
                    };
                    let help = did_you_mean(v, self.fields.keys().map(String::as_str))
                        .unwrap_or_else(|| {
                            format!("someone of the staff directory is `person {v}`")
                        });
                    self.diags.push(
                        Diagnostic::new(Code::UnknownField, at_span, &[v, &""])
                            .label("not a field of this process")
                            .help(help),
                    );
                }
                (Ty::Variant(_), Ty::Variant(v)) => {
                    self.unknown_name(v, r.span.clone());
                    if let Ty::Variant(v) = &at {
                        self.unknown_name(v, l.span.clone());
                    }
                }
                (Ty::Variant(_), other) => self.conform(&at, other, l.span.clone(), "this value"),
                (other, Ty::Variant(_)) => self.conform(&bt, other, r.span.clone(), "this value"),
                _ if !comparable(&at, &bt) => self.err(
                    Code::CannotCompare,
                    sp.clone(),
                    &[&at.describe(), &bt.describe()],
                ),
                _ => {}
            }
            return (Expr::Bin(mop, Box::new(a), Box::new(b)), Ty::Bool);
        }
        let (a, at) = self.value(l);
        let (b, bt) = self.value(r);
        let x = Expr::Bin(mop, Box::new(a), Box::new(b));
        if at == Ty::Unknown || bt == Ty::Unknown {
            let t = if matches!(op, A::Lt | A::Le | A::Gt | A::Ge) {
                Ty::Bool
            } else {
                Ty::Unknown
            };
            return (x, t);
        }
        let result = match op {
            A::Lt | A::Le | A::Gt | A::Ge => {
                let ordered = comparable(&at, &bt)
                    && matches!(
                        at,
                        Ty::Int | Ty::Dec | Ty::Date | Ty::DateTime | Ty::Duration
                    );
                ordered.then_some(Ty::Bool)
            }
            A::Add | A::Sub => match (&at, &bt) {
                (Ty::Int, Ty::Int) => Some(Ty::Int),
                (a, b) if a.numeric() && b.numeric() => Some(Ty::Dec),
                (Ty::Date, Ty::Duration) => Some(Ty::Date),
                (Ty::DateTime, Ty::Duration) => Some(Ty::DateTime),
                (Ty::Duration, Ty::Duration) => Some(Ty::Duration),
                (Ty::Duration, Ty::Date) if op == A::Add => Some(Ty::Date),
                (Ty::Duration, Ty::DateTime) if op == A::Add => Some(Ty::DateTime),
                (Ty::Date, Ty::Date) | (Ty::DateTime, Ty::DateTime) if op == A::Sub => {
                    Some(Ty::Duration)
                }
                (Ty::Text, Ty::Text) if op == A::Add => Some(Ty::Text),
                _ => None,
            },
            A::Mul => match (&at, &bt) {
                (Ty::Int, Ty::Int) => Some(Ty::Int),
                (a, b) if a.numeric() && b.numeric() => Some(Ty::Dec),
                (Ty::Duration, Ty::Int) | (Ty::Int, Ty::Duration) => Some(Ty::Duration),
                _ => None,
            },
            // Division always gives a decimal: an average of integer scores is not
            // rounded behind the author's back.
            A::Div => {
                if let Expr::Bin(_, _, divisor) = &x {
                    let range = super::coverage::range_of(divisor, self.domains);
                    if range.is_none_or(|(lo, hi)| lo <= 0.0 && hi >= 0.0) {
                        let shown = divisor.to_string();
                        self.diags.push(Diagnostic::new(
                            Code::DivisorMaybeZero,
                            r.span.clone(),
                            &[&shown],
                        ));
                    }
                }
                (at.numeric() && bt.numeric()).then_some(Ty::Dec)
            }
            _ => None,
        };
        match result {
            Some(t) => (x, t),
            None => {
                let sym = match op {
                    A::Add => "+",
                    A::Sub => "-",
                    A::Mul => "*",
                    A::Div => "/",
                    A::Lt => "<",
                    A::Le => "<=",
                    A::Gt => ">",
                    _ => ">=",
                };
                self.err(
                    Code::OperatorMismatch,
                    sp,
                    &[&sym, &at.describe(), &bt.describe()],
                );
                (x, Ty::Unknown)
            }
        }
    }
}

pub fn comparable(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        // Two lists are not compared whole: `any`/`all` compare their elements.
        (Ty::List, _) | (_, Ty::List) => false,
        (x, y) if x.numeric() && y.numeric() => true,
        (Ty::Choice(_), Ty::Variant(_)) | (Ty::Variant(_), Ty::Choice(_)) => true,
        (x, y) => x == y,
    }
}

pub fn duration(d: &DurLit) -> Duration {
    match d {
        DurLit::Minutes(m) => Duration::minutes(*m),
        DurLit::Months(m) => Duration {
            months: *m,
            ..Default::default()
        },
        DurLit::WorkingMinutes(m) => Duration {
            working_minutes: *m,
            ..Default::default()
        },
        DurLit::WorkingDays(d) => Duration {
            working_days: *d,
            ..Default::default()
        },
    }
}

/// The value of a constant duration expression (a literal, possibly negated or summed).
pub fn const_duration(e: &Expr) -> Option<Duration> {
    match e {
        Expr::Duration(d) => Some(*d),
        Expr::Neg(x) => const_duration(x).map(Duration::negate),
        Expr::Bin(BinOp::Add, a, b) => Some(const_duration(a)?.plus(const_duration(b)?)),
        Expr::Bin(BinOp::Sub, a, b) => Some(const_duration(a)?.plus(const_duration(b)?.negate())),
        _ => None,
    }
}

/// `{field}` placeholders in a message must name fields.
pub fn check_placeholders(msg: &ast::Text, fields: &Fields, diags: &mut Vec<Diagnostic>) {
    let mut rest = msg.value.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let inner = after[..close].trim();
        // `{field or 未填}`: the text after `or` stands in when the field is empty.
        let name = inner.split_once(" or ").map_or(inner, |(n, _)| n.trim());
        if !fields.contains_key(name) && !matches!(name, "title" | "id" | "step") {
            let help = did_you_mean(name, fields.keys().map(String::as_str));
            diags.push(
                Diagnostic::new(
                    Code::UnknownField,
                    msg.span.clone(),
                    &[&name, &" in a message placeholder"],
                )
                .help_opt(help),
            );
        }
        rest = &after[close + 1..];
    }
}
