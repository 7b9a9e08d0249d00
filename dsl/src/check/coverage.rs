//! Do a decision's rules cover every case, and does any rule overlap an earlier one?
//!
//! Conditions over one field are turned into sets of values: unions of intervals for
//! numbers (open or closed at each end), sets of choices for choice and bool fields.
//! The values no rule covers are the field's domain minus the union of the rules.

use crate::model::{BinOp, Expr};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub v: f64,
    pub closed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iv {
    pub lo: Bound,
    pub hi: Bound,
}

impl Iv {
    fn is_empty(&self) -> bool {
        self.lo.v > self.hi.v || (self.lo.v == self.hi.v && !(self.lo.closed && self.hi.closed))
    }
}

/// What the checker knows about a field's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    Number { lo: f64, hi: f64, integer: bool },
    Choices(Vec<String>),
}

/// A set of values of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Num(Vec<Iv>),
    Choices(BTreeSet<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub field: String,
    pub values: Values,
}

pub struct Analyzer<'a> {
    pub domains: &'a BTreeMap<String, Domain>,
}

fn num(v: f64) -> Option<f64> {
    Some(v)
}

pub(super) fn constant(e: &Expr) -> Option<f64> {
    match e {
        Expr::Int(i) => num(*i as f64),
        Expr::Dec(d) => num(*d),
        Expr::Neg(x) => constant(x).map(|v| -v),
        _ => None,
    }
}

fn iv(lo: f64, lo_closed: bool, hi: f64, hi_closed: bool) -> Iv {
    Iv {
        lo: Bound {
            v: lo,
            closed: lo_closed && lo.is_finite(),
        },
        hi: Bound {
            v: hi,
            closed: hi_closed && hi.is_finite(),
        },
    }
}

impl Analyzer<'_> {
    /// The values of one field for which `e` holds, or `None` when `e` is not a
    /// condition on a single field that this analysis understands.
    pub fn constraint(&self, e: &Expr) -> Option<Constraint> {
        match e {
            Expr::Field(f) => match self.domains.get(f)? {
                Domain::Choices(vs) if vs == &["false", "true"] => Some(Constraint {
                    field: f.clone(),
                    values: Values::Choices(["true".to_string()].into()),
                }),
                _ => None,
            },
            Expr::Not(x) => {
                let c = self.constraint(x)?;
                let dom = self.domains.get(&c.field)?;
                Some(Constraint {
                    values: complement(&c.values, dom),
                    field: c.field,
                })
            }
            Expr::Bin(op @ (BinOp::And | BinOp::Or), a, b) => {
                let (ca, cb) = (self.constraint(a)?, self.constraint(b)?);
                if ca.field != cb.field {
                    return None;
                }
                let dom = self.domains.get(&ca.field)?;
                let values = if *op == BinOp::And {
                    intersect(&ca.values, &cb.values, dom)
                } else {
                    union(&ca.values, &cb.values, dom)
                };
                Some(Constraint {
                    field: ca.field,
                    values,
                })
            }
            Expr::Bin(op, a, b) => {
                // field OP constant, or constant OP field (flip the operator)
                let (field, c, op) = match (&**a, &**b) {
                    (Expr::Field(f), other) => (f, other, *op),
                    (other, Expr::Field(f)) => (f, other, flip(*op)?),
                    _ => return None,
                };
                let dom = self.domains.get(field)?;
                let values = match dom {
                    Domain::Number { .. } => {
                        let k = constant(c)?;
                        let inf = f64::INFINITY;
                        let set = match op {
                            BinOp::Lt => vec![iv(-inf, false, k, false)],
                            BinOp::Le => vec![iv(-inf, false, k, true)],
                            BinOp::Gt => vec![iv(k, false, inf, false)],
                            BinOp::Ge => vec![iv(k, true, inf, false)],
                            BinOp::Eq => vec![iv(k, true, k, true)],
                            BinOp::Ne => vec![iv(-inf, false, k, false), iv(k, false, inf, false)],
                            _ => return None,
                        };
                        Values::Num(normalize(set, dom))
                    }
                    Domain::Choices(_) => {
                        let v = match c {
                            Expr::Choice(v) => v.clone(),
                            Expr::Bool(b) => b.to_string(),
                            _ => return None,
                        };
                        let one = Values::Choices([v].into());
                        match op {
                            BinOp::Eq => one,
                            BinOp::Ne => complement(&one, dom),
                            _ => return None,
                        }
                    }
                };
                Some(Constraint {
                    field: field.clone(),
                    values,
                })
            }
            Expr::InRange {
                value,
                lo,
                hi,
                inclusive_hi,
            } => {
                let Expr::Field(f) = &**value else {
                    return None;
                };
                let dom = self.domains.get(f)?;
                let (lo, hi) = (constant(lo)?, constant(hi)?);
                Some(Constraint {
                    field: f.clone(),
                    values: Values::Num(normalize(vec![iv(lo, true, hi, *inclusive_hi)], dom)),
                })
            }
            Expr::InSet(value, items) => {
                let Expr::Field(f) = &**value else {
                    return None;
                };
                let dom = self.domains.get(f)?;
                let values = match dom {
                    Domain::Choices(_) => Values::Choices(
                        items
                            .iter()
                            .map(|i| match i {
                                Expr::Choice(v) => Some(v.clone()),
                                Expr::Bool(b) => Some(b.to_string()),
                                _ => None,
                            })
                            .collect::<Option<_>>()?,
                    ),
                    Domain::Number { .. } => Values::Num(normalize(
                        items
                            .iter()
                            .map(|i| constant(i).map(|k| iv(k, true, k, true)))
                            .collect::<Option<_>>()?,
                        dom,
                    )),
                };
                Some(Constraint {
                    field: f.clone(),
                    values,
                })
            }
            _ => None,
        }
    }
}

fn flip(op: BinOp) -> Option<BinOp> {
    Some(match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        BinOp::Eq => BinOp::Eq,
        BinOp::Ne => BinOp::Ne,
        _ => return None,
    })
}

/// Clip to the domain, snap to whole numbers for integer fields, sort and merge.
fn normalize(set: Vec<Iv>, dom: &Domain) -> Vec<Iv> {
    let Domain::Number { lo, hi, integer } = dom else {
        return set;
    };
    let mut out: Vec<Iv> = set
        .into_iter()
        .map(|mut i| {
            if i.lo.v < *lo || (i.lo.v == *lo && lo.is_finite()) {
                i.lo = Bound {
                    v: *lo,
                    closed: lo.is_finite() && (i.lo.v < *lo || i.lo.closed),
                };
            }
            if i.hi.v > *hi || (i.hi.v == *hi && hi.is_finite()) {
                i.hi = Bound {
                    v: *hi,
                    closed: hi.is_finite() && (i.hi.v > *hi || i.hi.closed),
                };
            }
            if *integer {
                if i.lo.v.is_finite() {
                    let v = if i.lo.closed {
                        i.lo.v.ceil()
                    } else {
                        i.lo.v.floor() + 1.0
                    };
                    i.lo = Bound { v, closed: true };
                }
                if i.hi.v.is_finite() {
                    let v = if i.hi.closed {
                        i.hi.v.floor()
                    } else {
                        i.hi.v.ceil() - 1.0
                    };
                    i.hi = Bound { v, closed: true };
                }
            }
            i
        })
        .filter(|i| !i.is_empty())
        .collect();
    out.sort_by(|a, b| {
        a.lo.v
            .total_cmp(&b.lo.v)
            .then((!a.lo.closed).cmp(&!b.lo.closed))
    });
    let mut merged: Vec<Iv> = Vec::new();
    for i in out {
        if let Some(last) = merged.last_mut() {
            let touches = i.lo.v < last.hi.v
                || (i.lo.v == last.hi.v && (i.lo.closed || last.hi.closed))
                || (*integer && i.lo.v <= last.hi.v + 1.0);
            if touches {
                if i.hi.v > last.hi.v || (i.hi.v == last.hi.v && i.hi.closed) {
                    last.hi = i.hi;
                }
                continue;
            }
        }
        merged.push(i);
    }
    merged
}

pub fn union(a: &Values, b: &Values, dom: &Domain) -> Values {
    match (a, b) {
        (Values::Num(x), Values::Num(y)) => {
            Values::Num(normalize(x.iter().chain(y).copied().collect(), dom))
        }
        (Values::Choices(x), Values::Choices(y)) => Values::Choices(x.union(y).cloned().collect()),
        _ => a.clone(),
    }
}

pub fn complement(a: &Values, dom: &Domain) -> Values {
    match (a, dom) {
        (Values::Num(set), Domain::Number { lo, hi, .. }) => {
            let mut out = Vec::new();
            let mut cur = Bound {
                v: *lo,
                closed: lo.is_finite(),
            };
            for i in set {
                out.push(Iv {
                    lo: cur,
                    hi: Bound {
                        v: i.lo.v,
                        closed: !i.lo.closed,
                    },
                });
                cur = Bound {
                    v: i.hi.v,
                    closed: !i.hi.closed,
                };
            }
            out.push(Iv {
                lo: cur,
                hi: Bound {
                    v: *hi,
                    closed: hi.is_finite(),
                },
            });
            Values::Num(normalize(out, dom))
        }
        (Values::Choices(set), Domain::Choices(all)) => {
            Values::Choices(all.iter().filter(|v| !set.contains(*v)).cloned().collect())
        }
        _ => a.clone(),
    }
}

pub fn intersect(a: &Values, b: &Values, dom: &Domain) -> Values {
    match (a, b) {
        (Values::Choices(x), Values::Choices(y)) => {
            Values::Choices(x.intersection(y).cloned().collect())
        }
        // A ∩ B = ¬(¬A ∪ ¬B): reuses the two operations above instead of a third sweep.
        _ => complement(&union(&complement(a, dom), &complement(b, dom), dom), dom),
    }
}

/// Whether two unions of intervals share a value, without building the intersection.
pub fn intervals_meet(x: &[Iv], y: &[Iv]) -> bool {
    x.iter().any(|i| {
        y.iter().any(|j| {
            let lo = if i.lo.v > j.lo.v || (i.lo.v == j.lo.v && !i.lo.closed) {
                i.lo
            } else {
                j.lo
            };
            let hi = if i.hi.v < j.hi.v || (i.hi.v == j.hi.v && !i.hi.closed) {
                i.hi
            } else {
                j.hi
            };
            !Iv { lo, hi }.is_empty()
        })
    })
}

#[cfg(test)]
fn is_empty(v: &Values) -> bool {
    match v {
        Values::Num(s) => s.is_empty(),
        Values::Choices(s) => s.is_empty(),
    }
}

/// "score in [60, 65) or (70, 80)", "severity is major or minor".
pub fn describe(field: &str, v: &Values, dom: &Domain) -> String {
    match v {
        Values::Choices(s) => {
            let names: Vec<&str> = s.iter().map(String::as_str).collect();
            format!("{field} is {}", names.join(" or "))
        }
        Values::Num(set) => {
            let integer = matches!(dom, Domain::Number { integer: true, .. });
            let mut out = format!("{field} in ");
            for (n, i) in set.iter().enumerate() {
                if n > 0 {
                    out.push_str(" or ");
                }
                if integer && i.lo.v == i.hi.v {
                    let _ = write!(out, "{{{}}}", fmt_num(i.lo.v));
                    continue;
                }
                let _ = write!(
                    out,
                    "{}{}, {}{}",
                    if i.lo.closed { '[' } else { '(' },
                    fmt_num(i.lo.v),
                    fmt_num(i.hi.v),
                    if i.hi.closed { ']' } else { ')' }
                );
            }
            out
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v == f64::INFINITY {
        "∞".into()
    } else if v == f64::NEG_INFINITY {
        "-∞".into()
    } else if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The range of a numeric expression by interval arithmetic, given field ranges.
pub fn range_of(e: &Expr, domains: &BTreeMap<String, Domain>) -> Option<(f64, f64)> {
    match e {
        Expr::Int(i) => Some((*i as f64, *i as f64)),
        Expr::Dec(d) => Some((*d, *d)),
        Expr::Field(f) => match domains.get(f)? {
            Domain::Number { lo, hi, .. } => Some((*lo, *hi)),
            Domain::Choices(_) => None,
        },
        Expr::Neg(x) => range_of(x, domains).map(|(a, b)| (-b, -a)),
        Expr::Bin(op, a, b) => {
            let (a0, a1) = range_of(a, domains)?;
            let (b0, b1) = range_of(b, domains)?;
            let corners = |f: fn(f64, f64) -> f64| {
                let c = [f(a0, b0), f(a0, b1), f(a1, b0), f(a1, b1)];
                let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (!lo.is_nan() && !hi.is_nan()).then_some((lo, hi))
            };
            match op {
                BinOp::Add => Some((a0 + b0, a1 + b1)),
                BinOp::Sub => Some((a0 - b1, a1 - b0)),
                BinOp::Mul => corners(|x, y| x * y),
                BinOp::Div if b0 > 0.0 || b1 < 0.0 => corners(|x, y| x / y),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score_domain() -> (BTreeMap<String, Domain>, Domain) {
        let d = Domain::Number {
            lo: 0.0,
            hi: 100.0,
            integer: false,
        };
        ([("score".to_string(), d.clone())].into(), d)
    }

    fn ge(k: f64) -> Expr {
        Expr::Bin(
            BinOp::Ge,
            Box::new(Expr::Field("score".into())),
            Box::new(Expr::Dec(k)),
        )
    }

    #[test]
    fn probation_bands_leave_two_gaps() {
        let (domains, dom) = score_domain();
        let a = Analyzer { domains: &domains };
        let rules = [
            ge(90.0),
            ge(80.0),
            Expr::InRange {
                value: Box::new(Expr::Field("score".into())),
                lo: Box::new(Expr::Int(65)),
                hi: Box::new(Expr::Int(70)),
                inclusive_hi: true,
            },
            Expr::Bin(
                BinOp::Lt,
                Box::new(Expr::Field("score".into())),
                Box::new(Expr::Int(60)),
            ),
        ];
        let mut acc = Values::Num(vec![]);
        for r in &rules {
            acc = union(&acc, &a.constraint(r).expect("analysable").values, &dom);
        }
        let gaps = complement(&acc, &dom);
        assert_eq!(
            describe("score", &gaps, &dom),
            "score in [60, 65) or (70, 80)"
        );
    }

    #[test]
    fn integer_gaps_are_whole_numbers() {
        let dom = Domain::Number {
            lo: 1.0,
            hi: 5.0,
            integer: true,
        };
        let covered = Values::Num(normalize(
            vec![iv(1.0, true, 2.0, true), iv(4.0, true, 5.0, true)],
            &dom,
        ));
        assert_eq!(describe("x", &complement(&covered, &dom), &dom), "x in {3}");
        let all = Values::Num(normalize(
            vec![iv(1.0, true, 2.0, true), iv(3.0, true, 5.0, true)],
            &dom,
        ));
        assert!(is_empty(&complement(&all, &dom)));
    }

    #[test]
    fn average_of_bounded_scores_is_bounded() {
        let d = Domain::Number {
            lo: 0.0,
            hi: 100.0,
            integer: true,
        };
        let domains: BTreeMap<_, _> = [("a".to_string(), d.clone()), ("b".to_string(), d)].into();
        let avg = Expr::Bin(
            BinOp::Div,
            Box::new(Expr::Bin(
                BinOp::Add,
                Box::new(Expr::Field("a".into())),
                Box::new(Expr::Field("b".into())),
            )),
            Box::new(Expr::Int(2)),
        );
        assert_eq!(range_of(&avg, &domains), Some((0.0, 100.0)));
    }
}
