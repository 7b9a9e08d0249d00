//! `check CONDITION "message"`: conditions on completing a task.
//!
//! A check refuses a completion while it is false, so a check that the person doing
//! the task cannot make true leaves the instance where it is for good. The checker
//! asks that every check be about what the task fills: for every value of the rest of
//! the data, some values the person can fill must pass it.
//!
//! The condition is read as a decision with one rule (see `decide`): its cases are
//! cubes over the fields it compares with constants and over the parts it cannot look
//! into. The variables the person chooses (fields of the step's `fill`, and parts
//! such as `mentor != employee` that a filled field can always be made to meet) are
//! then set free; whatever cases remain uncovered are data for which no fill passes.

use super::decide::Space;
use super::{Checker, StepParts};
use crate::catalogue::Code;
use crate::model::{Action, BinOp, Check, Expr, Fill, Type};
use std::collections::BTreeSet;

impl Checker<'_> {
    /// The step's checks, lowered; each must belong to a task and be one its person
    /// can pass.
    pub(super) fn step_checks(
        &mut self,
        parts: &StepParts,
        action: &Action,
        fills: &[Fill],
    ) -> Vec<Check> {
        let is_task = matches!(action, Action::Task(_));
        let filled: BTreeSet<&str> = fills.iter().map(|f| f.field.as_str()).collect();
        let mut out = Vec::new();
        for (cond, message, span) in &parts.checks {
            if !is_task {
                self.err(Code::CheckWithoutTask, span.clone(), &[]);
            }
            let before = self.diags.len();
            let x =
                self.typer()
                    .expect(cond, &crate::check::types::Ty::Bool, "a `check` condition");
            // A condition with errors of its own says nothing to analyse.
            if is_task && self.diags.len() == before {
                if let Some(cases) = self.cannot_pass(&x, &filled) {
                    self.err(Code::CheckCannotPass, cond.span.clone(), &[&cases]);
                }
            }
            let mut fields = Vec::new();
            x.fields(&mut fields);
            let mut fields: Vec<String> = fields.into_iter().map(str::to_string).collect();
            fields.sort();
            fields.dedup();
            out.push(Check {
                cond: x,
                message: message.value.clone(),
                fields,
            });
        }
        out
    }

    /// The cases of the other data for which no value of the filled fields passes
    /// `cond`, described; `None` when there are none.
    fn cannot_pass(&self, cond: &Expr, filled: &BTreeSet<&str>) -> Option<String> {
        let mut space = Space::new(&self.domains);
        let cases = space.cases(cond);
        if space.broken {
            return None;
        }
        if space.is_empty(&cases) {
            return Some("no value passes it".into());
        }
        let mut atoms = Vec::new();
        atoms_of(cond, true, &mut atoms);
        // Parts are chosen one by one, so two parts about the same filled field (`x
        // >= a and x <= b`) are not: each may be met alone and not both at once.
        let mut roots: Vec<&str> = Vec::new();
        for v in &space.vars {
            match v.opaque {
                None => roots.push(&v.name),
                Some(_) => {
                    if let Some((a, _)) = atoms.iter().find(|(a, _)| a.to_string() == v.name) {
                        roots.extend(roots_of(a, filled));
                    }
                }
            }
        }
        let shared = |a: &Expr| {
            roots_of(a, filled)
                .iter()
                .any(|r| roots.iter().filter(|x| *x == r).count() > 1)
        };
        let chosen: Vec<usize> = space
            .vars
            .iter()
            .enumerate()
            .filter(|(_, v)| match v.opaque {
                None => filled.contains(v.name.as_str()),
                Some(_) => {
                    // What the condition needs of this part: to be true somewhere,
                    // false somewhere, or both.
                    let mine: Vec<&(&Expr, bool)> = atoms
                        .iter()
                        .filter(|(a, _)| a.to_string() == v.name)
                        .collect();
                    let (need_true, need_false) = (
                        mine.iter().any(|(_, positive)| *positive),
                        mine.iter().any(|(_, positive)| !*positive),
                    );
                    mine.first().is_some_and(|(a, _)| {
                        if shared(a) {
                            return false;
                        }
                        let (can_true, can_false) = self.answers(a, filled);
                        (can_true || !need_true) && (can_false || !need_false)
                    })
                }
            })
            .map(|(i, _)| i)
            .collect();
        let open = space.forget(&cases, &chosen);
        let failing = space.complement(&open);
        if space.is_empty(&failing) {
            return None;
        }
        let mut said = format!("when {}", space.describe(&failing));
        let unanalysed: Vec<String> = space
            .opaque_in(&failing)
            .iter()
            .map(|(e, why)| format!("`{e}` ({why})"))
            .collect();
        if !unanalysed.is_empty() {
            said.push_str(&format!(
                " (perhaps: {} could not be analysed)",
                unanalysed.join(", ")
            ));
        }
        Some(said)
    }

    /// Whether whoever fills the step's fields can always make `atom` true, and can
    /// always make it false, whatever the rest of the data: it compares a filled
    /// field (or an attribute of a filled person) with something that does not read
    /// that field, and the field's type leaves room for the answer.
    fn answers(&self, atom: &Expr, filled: &BTreeSet<&str>) -> (bool, bool) {
        match atom {
            Expr::HasRole(x, _) => {
                let chosen = root(x, filled).is_some();
                (chosen, chosen)
            }
            Expr::Bin(op, a, b) if is_comparison(*op) => {
                let (t1, f1) = self.side_answers(*op, a, b, filled);
                let (t2, f2) = self.side_answers(flip(*op), b, a, filled);
                (t1 || t2, f1 || f2)
            }
            _ => (false, false),
        }
    }

    /// `mine OP other`, where the person fills `mine`: whether it can be made true,
    /// and whether false.
    fn side_answers(
        &self,
        op: BinOp,
        mine: &Expr,
        other: &Expr,
        filled: &BTreeSet<&str>,
    ) -> (bool, bool) {
        let Some(field) = root(mine, filled) else {
            return (false, false);
        };
        let mut read = Vec::new();
        other.fields(&mut read);
        if read.contains(&field) {
            return (false, false);
        }
        // An attribute of a chosen person (their department, their supervisor): people
        // differ in it, so someone with it, or without it, can be named.
        if !matches!(mine, Expr::Field(_)) {
            let either = matches!(op, BinOp::Eq | BinOp::Ne);
            return (either, either);
        }
        let Some(f) = self.fields.get(field) else {
            return (false, false);
        };
        let range = || match self.domains.get(field) {
            Some(super::Domain::Number { lo, hi, .. }) => (*lo, *hi),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        let other_range = || {
            super::coverage::range_of(other, &self.domains)
                .unwrap_or((f64::NEG_INFINITY, f64::INFINITY))
        };
        let inf = f64::INFINITY;
        match (&f.ty, op) {
            (Type::Person | Type::Department | Type::Text | Type::Bool, BinOp::Eq | BinOp::Ne) => {
                (true, true)
            }
            (Type::Choice(vs), BinOp::Eq | BinOp::Ne) => {
                let two = vs.len() >= 2;
                (two, two)
            }
            (Type::Date | Type::DateTime | Type::Duration, _) => (true, true),
            // Far enough up or down its range to pass (or fail) whatever the other side
            // is.
            (
                Type::Integer { .. } | Type::Decimal { .. },
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
            ) => {
                let ((lo, hi), (other_lo, other_hi)) = (range(), other_range());
                let above = hi == inf || hi > other_hi;
                let reaches = hi == inf || hi >= other_hi;
                let below = lo == -inf || lo < other_lo;
                let meets_low = lo == -inf || lo <= other_lo;
                match op {
                    BinOp::Gt => (above, meets_low),
                    BinOp::Ge => (reaches, below),
                    BinOp::Lt => (below, reaches),
                    _ => (meets_low, above),
                }
            }
            _ => (false, false),
        }
    }
}

/// The filled field an expression stands on: the field itself, or a person's
/// attribute (`department of x`, `supervisor of x`, `head of department of x`).
fn root<'e>(e: &'e Expr, filled: &BTreeSet<&str>) -> Option<&'e str> {
    match e {
        Expr::Field(f) if filled.contains(f.as_str()) => Some(f),
        Expr::DepartmentOf(x) | Expr::SupervisorOf(x) | Expr::HeadOf(x) => root(x, filled),
        _ => None,
    }
}

/// The filled fields a part reads.
fn roots_of<'e>(e: &'e Expr, filled: &BTreeSet<&str>) -> Vec<&'e str> {
    let mut read = Vec::new();
    e.fields(&mut read);
    read.retain(|f| filled.contains(f));
    read.sort_unstable();
    read.dedup();
    read
}

/// The parts of a condition that `decide` sees as its atoms, each with whether it
/// stands as itself (`positive`) or under a `not`.
fn atoms_of<'e>(e: &'e Expr, positive: bool, out: &mut Vec<(&'e Expr, bool)>) {
    match e {
        Expr::Not(x) => atoms_of(x, !positive, out),
        Expr::Bin(BinOp::And | BinOp::Or, a, b) => {
            atoms_of(a, positive, out);
            atoms_of(b, positive, out);
        }
        Expr::Bool(_) => {}
        e => out.push((e, positive)),
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// `a OP b` as `b FLIP(OP) a`.
fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}
