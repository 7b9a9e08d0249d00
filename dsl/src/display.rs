//! Model values written back as Baton source text: for diagrams, messages and history.

use crate::model::*;
use std::fmt;

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.months != 0 {
            parts.push(format!(
                "{} month{}",
                self.months,
                if self.months.abs() == 1 { "" } else { "s" }
            ));
        }
        let m = self.minutes;
        if m != 0 {
            parts.push(if m % (60 * 24) == 0 && m.abs() >= 2 * 60 * 24 {
                format!("{}d", m / (60 * 24))
            } else if m % 60 == 0 {
                format!("{}h", m / 60)
            } else {
                format!("{m}m")
            });
        }
        if self.working_days != 0 {
            parts.push(format!("{} working days", self.working_days));
        }
        if self.working_minutes != 0 {
            let wm = self.working_minutes;
            parts.push(if wm % 60 == 0 {
                format!("{} working hours", wm / 60)
            } else {
                format!("{wm} working minutes")
            });
        }
        if parts.is_empty() {
            parts.push("0m".into());
        }
        write!(f, "{}", parts.join(" + "))
    }
}

fn op_str(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::And => "and",
        BinOp::Or => "or",
    }
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Bin(BinOp::Or, ..) => 1,
        Expr::Bin(BinOp::And, ..) => 2,
        Expr::Not(_) => 3,
        Expr::Bin(BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, ..)
        | Expr::InRange { .. }
        | Expr::InSet(..)
        | Expr::HasRole(..) => 4,
        Expr::At(..) => 5,
        Expr::Bin(BinOp::Add | BinOp::Sub, ..) => 6,
        Expr::Bin(BinOp::Mul | BinOp::Div, ..) => 7,
        _ => 9,
    }
}

struct Paren<'a>(&'a Expr, u8);

impl fmt::Display for Paren<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if prec(self.0) < self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = prec(self);
        match self {
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Dec(d) => write!(f, "{d}"),
            Expr::Text(s) => write!(f, "{s:?}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Date(d) => write!(f, "{d}"),
            Expr::Duration(d) => write!(f, "{d}"),
            Expr::Choice(c) | Expr::Field(c) => write!(f, "{c}"),
            Expr::Today => write!(f, "today"),
            Expr::Starter => write!(f, "starter"),
            Expr::SupervisorOf(x) => write!(f, "supervisor of {}", Paren(x, 9)),
            Expr::DepartmentOf(x) => write!(f, "department of {}", Paren(x, 9)),
            // `head of department of x` reads as written.
            Expr::HeadOf(x) => write!(f, "head of {}", Paren(x, 9)),
            Expr::HasRole(x, r) => write!(f, "{} has role {r}", Paren(x, 5)),
            Expr::Id => write!(f, "id"),
            Expr::Department(d) => write!(f, "{d}"),
            Expr::Person(p) => write!(f, "person {p}"),
            Expr::Now => write!(f, "now"),
            Expr::Call(func, args) => {
                let name = format!("{func:?}").to_lowercase();
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                write!(f, "{name}({})", args.join(", "))
            }
            Expr::Neg(x) => write!(f, "-{}", Paren(x, 9)),
            Expr::Not(x) => write!(f, "not {}", Paren(x, 3)),
            // Left-associative: the right operand needs parentheses at equal precedence.
            Expr::Bin(op, a, b) => write!(f, "{} {} {}", Paren(a, p), op_str(*op), Paren(b, p + 1)),
            Expr::InRange {
                value,
                lo,
                hi,
                inclusive_hi,
            } => write!(
                f,
                "{} in {}{}{}",
                Paren(value, 5),
                Paren(lo, 5),
                if *inclusive_hi { ".." } else { "..<" },
                Paren(hi, 5)
            ),
            Expr::InSet(v, xs) => {
                let xs: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
                write!(f, "{} in {{{}}}", Paren(v, 5), xs.join(", "))
            }
            Expr::At(d, h, m) => write!(f, "{} at {h:02}:{m:02}", Paren(d, 6)),
            Expr::Member(m) => write!(f, "{}.{}", m.var, m.field),
            Expr::Quantified(q) => {
                let word = if q.all { "all" } else { "any" };
                write!(f, "{word} {} in {} where {}", q.var, q.list, q.cond)
            }
        }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Role(r) => write!(f, "{r}"),
            Who::Person(p) => write!(f, "person {p}"),
            Who::Starter => write!(f, "starter"),
            Who::Field(x) | Who::Address(x) => write!(f, "{x}"),
            Who::SupervisorOf(w) => write!(f, "supervisor of {w}"),
            Who::DeptHeadOf(w) => write!(f, "head of department of {w}"),
            Who::HeadOfField(x) | Who::HeadOfDept(x) => write!(f, "head of {x}"),
            Who::EachWithRole(r) => write!(f, "each person with role {r}"),
            Who::Member(m) => write!(f, "{}.{}", m.var, m.field),
            Who::HeadOfMember(m) => write!(f, "head of {}.{}", m.var, m.field),
            Who::Except(w, xs) => {
                write!(f, "{w}")?;
                xs.iter().try_for_each(|x| write!(f, " except {x}"))
            }
        }
    }
}

impl fmt::Display for TimedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimedAction::Notify(w, _) => write!(f, "notify {w}"),
            TimedAction::Escalate(w) => write!(f, "escalate to {w}"),
            TimedAction::Goto(s) => write!(f, "-> {s}"),
        }
    }
}
