//! Evaluating checked expressions. Pure: the caller supplies the data, the time and
//! the company's zone through `Env`.

use crate::model::{BinOp, Duration, Expr, Func};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// One element of a list: its fields' values (an optional field left out is absent).
pub type Element = BTreeMap<String, Value>;

/// A value held in an instance's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Text(String),
    Int(i64),
    Dec(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(#[serde(with = "crate::zone")] DateTime<Utc>),
    Duration(Duration),
    Choice(String),
    Person(String),
    Department(String),
    /// A list field's elements, in the order given.
    List(Vec<Element>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) | Value::Choice(s) | Value::Person(s) | Value::Department(s) => {
                write!(f, "{s}")
            }
            Value::Int(i) => write!(f, "{i}"),
            Value::Dec(d) => write!(f, "{d}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(t) => write!(f, "{}", crate::zone::rfc3339(t)),
            Value::Duration(d) => write!(f, "{d}"),
            // `item: 修復, owner: wang_fang; item: ...`: each element on its own.
            Value::List(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    for (j, (k, v)) in x.iter().enumerate() {
                        let sep = if j > 0 { ", " } else { "" };
                        write!(f, "{sep}{k}: {v}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("`{0}` has no value yet")]
    Missing(String),
    #[error("division by zero")]
    DivByZero,
    #[error("{0}")]
    Invalid(String),
}

pub trait Env {
    fn get(&self, field: &str) -> Option<&Value>;
    fn now(&self) -> DateTime<Utc>;
    fn zone(&self) -> Tz;
    /// The person who started the instance, when there is one.
    fn starter(&self) -> Option<&str> {
        None
    }
    /// The supervisor of `person` in the staff directory, which the engine supplies;
    /// `None` for a person without one (or without a directory).
    fn supervisor_of(&self, _person: &str) -> Option<&str> {
        None
    }
    /// The department `person` belongs to; `None` for someone not in the directory.
    fn department_of(&self, _person: &str) -> Option<&str> {
        None
    }
    /// The head of department `dept`; `None` for a department not in the directory.
    fn head_of(&self, _dept: &str) -> Option<&str> {
        None
    }
    /// Whether `person` has `role` in the staff directory.
    fn has_role(&self, _person: &str, _role: &str) -> bool {
        false
    }
    /// The instance's number, when there is an instance.
    fn instance_id(&self) -> Option<u64> {
        None
    }
    /// Add a duration to a moment. Working time needs the business calendar, which
    /// the engine supplies; without one, working time counts as plain time.
    fn add(&self, at: DateTime<Utc>, d: &Duration) -> DateTime<Utc> {
        add_plain(at, d, self.zone())
    }
    /// The element named `var` (by `any`/`all`, or a `for each` step's task).
    fn element(&self, _var: &str) -> Option<&Element> {
        None
    }
}

/// An environment with one more element named: `any X in ...` while it looks at an
/// element, or the engine while it starts a `for each` step's task for one.
pub struct WithElement<'a> {
    pub outer: &'a dyn Env,
    pub var: &'a str,
    pub element: &'a Element,
}

impl Env for WithElement<'_> {
    fn get(&self, field: &str) -> Option<&Value> {
        self.outer.get(field)
    }
    fn now(&self) -> DateTime<Utc> {
        self.outer.now()
    }
    fn zone(&self) -> Tz {
        self.outer.zone()
    }
    fn starter(&self) -> Option<&str> {
        self.outer.starter()
    }
    fn supervisor_of(&self, person: &str) -> Option<&str> {
        self.outer.supervisor_of(person)
    }
    fn department_of(&self, person: &str) -> Option<&str> {
        self.outer.department_of(person)
    }
    fn head_of(&self, dept: &str) -> Option<&str> {
        self.outer.head_of(dept)
    }
    fn has_role(&self, person: &str, role: &str) -> bool {
        self.outer.has_role(person, role)
    }
    fn instance_id(&self) -> Option<u64> {
        self.outer.instance_id()
    }
    fn add(&self, at: DateTime<Utc>, d: &Duration) -> DateTime<Utc> {
        self.outer.add(at, d)
    }
    fn element(&self, var: &str) -> Option<&Element> {
        if var == self.var {
            Some(self.element)
        } else {
            self.outer.element(var)
        }
    }
}

/// Calendar-aware addition in the company zone. Months and whole days (`1 day`,
/// `1 week`, `24h`) are counted on the zone's calendar and keep the wall-clock time
/// across a daylight-saving change; the rest (`2h`, `30m`) is elapsed time. Without
/// a business calendar, working days count as days and working minutes as minutes.
pub fn add_plain(at: DateTime<Utc>, d: &Duration, zone: Tz) -> DateTime<Utc> {
    const DAY: i64 = 24 * 60;
    // Truncated toward zero, so `-36h` is a day back and then twelve hours.
    let days = d.minutes / DAY + d.working_days;
    let elapsed = d.minutes % DAY + d.working_minutes;
    let mut t = at;
    if d.months != 0 || days != 0 {
        let mut local = at.with_timezone(&zone).naive_local();
        if d.months > 0 {
            local = local
                .checked_add_months(Months::new(d.months as u32))
                .unwrap_or(local);
        } else if d.months < 0 {
            local = local
                .checked_sub_months(Months::new(d.months.unsigned_abs() as u32))
                .unwrap_or(local);
        }
        local += chrono::Duration::days(days);
        t = crate::zone::from_local(zone, local);
    }
    t + chrono::Duration::minutes(elapsed)
}

fn add_to_date(date: NaiveDate, d: &Duration) -> NaiveDate {
    let mut out = date;
    if d.months > 0 {
        out = out
            .checked_add_months(Months::new(d.months as u32))
            .unwrap_or(out);
    } else if d.months < 0 {
        out = out
            .checked_sub_months(Months::new(d.months.unsigned_abs() as u32))
            .unwrap_or(out);
    }
    let days = (d.minutes + d.working_minutes) / (24 * 60) + d.working_days;
    out + chrono::Duration::days(days)
}

pub fn eval(e: &Expr, env: &dyn Env) -> Result<Value, EvalError> {
    Ok(match e {
        Expr::Int(i) => Value::Int(*i),
        Expr::Dec(d) => Value::Dec(*d),
        Expr::Text(s) => Value::Text(s.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Date(d) => Value::Date(*d),
        Expr::Duration(d) => Value::Duration(*d),
        Expr::Choice(c) => Value::Choice(c.clone()),
        Expr::Today => Value::Date(env.now().with_timezone(&env.zone()).date_naive()),
        Expr::Now => Value::DateTime(env.now()),
        Expr::Starter => Value::Person(
            env.starter()
                .ok_or_else(|| EvalError::Missing("starter".into()))?
                .to_string(),
        ),
        Expr::SupervisorOf(x) => {
            let p = person(x, env)?;
            match env.supervisor_of(&p) {
                Some(s) => Value::Person(s.to_string()),
                None => return Err(EvalError::Invalid(format!("{p} has no supervisor"))),
            }
        }
        Expr::DepartmentOf(x) => {
            let p = person(x, env)?;
            match env.department_of(&p) {
                Some(d) => Value::Department(d.to_string()),
                None => {
                    return Err(EvalError::Invalid(format!(
                        "{p} is not in the staff directory"
                    )))
                }
            }
        }
        Expr::HeadOf(x) => match eval(x, env)? {
            Value::Department(d) => match env.head_of(&d) {
                Some(h) => Value::Person(h.to_string()),
                None => return Err(EvalError::Invalid(format!("department {d} has no head"))),
            },
            v => return Err(EvalError::Invalid(format!("{v} is not a department"))),
        },
        Expr::HasRole(x, role) => {
            let p = person(x, env)?;
            Value::Bool(env.has_role(&p, role))
        }
        Expr::Id => Value::Int(
            env.instance_id()
                .and_then(|i| i64::try_from(i).ok())
                .ok_or_else(|| EvalError::Missing("id".into()))?,
        ),
        Expr::Department(d) => Value::Department(d.clone()),
        Expr::Person(p) => Value::Person(p.clone()),
        Expr::Field(f) => env
            .get(f)
            .cloned()
            .ok_or_else(|| EvalError::Missing(f.clone()))?,
        Expr::Member(m) => member(&m.var, &m.field, env)?,
        Expr::Quantified(q) => quantified(q.all, &q.var, &q.list, &q.cond, env)?,
        Expr::Neg(x) => match eval(x, env)? {
            Value::Int(i) => Value::Int(-i),
            Value::Dec(d) => Value::Dec(-d),
            Value::Duration(d) => Value::Duration(d.negate()),
            v => return Err(EvalError::Invalid(format!("cannot negate {v}"))),
        },
        Expr::Not(x) => Value::Bool(!truth(&eval(x, env)?)?),
        Expr::Bin(BinOp::And, a, b) => {
            Value::Bool(truth(&eval(a, env)?)? && truth(&eval(b, env)?)?)
        }
        // `x or FALLBACK`: an empty field falls back; true/false is the usual `or`.
        Expr::Bin(BinOp::Or, a, b) => match eval(a, env) {
            Err(EvalError::Missing(_)) if matches!(**a, Expr::Field(_)) => eval(b, env)?,
            Ok(Value::Bool(true)) => Value::Bool(true),
            Ok(Value::Bool(false)) => Value::Bool(truth(&eval(b, env)?)?),
            Ok(v) => v,
            Err(e) => return Err(e),
        },
        // Comparisons read fields where they are: a condition such as `mentor !=
        // employee` copies no value.
        Expr::Bin(
            op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
            a,
            b,
        ) => {
            let (x, y) = (eval_ref(a, env)?, eval_ref(b, env)?);
            Value::Bool(ordered(*op, compare(&x, &y, env)?))
        }
        Expr::Bin(op, a, b) => binary(*op, eval(a, env)?, eval(b, env)?, env)?,
        Expr::InRange {
            value,
            lo,
            hi,
            inclusive_hi,
        } => {
            let v = eval(value, env)?;
            let above = compare(&v, &eval(lo, env)?, env)? != Ordering::Less;
            let below = match compare(&v, &eval(hi, env)?, env)? {
                Ordering::Less => true,
                Ordering::Equal => *inclusive_hi,
                Ordering::Greater => false,
            };
            Value::Bool(above && below)
        }
        Expr::InSet(value, items) => {
            let v = eval(value, env)?;
            let mut found = false;
            for i in items {
                if compare(&v, &eval(i, env)?, env)? == Ordering::Equal {
                    found = true;
                    break;
                }
            }
            Value::Bool(found)
        }
        Expr::At(d, h, m) => {
            let date = match eval(d, env)? {
                Value::Date(d) => d,
                Value::DateTime(t) => t.with_timezone(&env.zone()).date_naive(),
                v => return Err(EvalError::Invalid(format!("{v} is not a date"))),
            };
            let naive = date
                .and_hms_opt(*h, *m, 0)
                .ok_or_else(|| EvalError::Invalid("bad time of day".into()))?;
            Value::DateTime(crate::zone::from_local(env.zone(), naive))
        }
        Expr::Call(f, args) => {
            let vals = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>, _>>()?;
            call(*f, vals, env)?
        }
    })
}

// Apart from `eval`, whose frame every level of an expression's nesting pays for:
// what these hold on the stack stays out of it.

/// `X.field`: the field of the element named `X`.
#[inline(never)]
fn member(x: &str, f: &str, env: &dyn Env) -> Result<Value, EvalError> {
    env.element(x)
        .and_then(|el| el.get(f))
        .cloned()
        .ok_or_else(|| EvalError::Missing(format!("{x}.{f}")))
}

/// `any`/`all`: `any` stops at the first element that holds, `all` at the first
/// that does not.
#[inline(never)]
fn quantified(
    all: bool,
    var: &str,
    list: &Expr,
    cond: &Expr,
    env: &dyn Env,
) -> Result<Value, EvalError> {
    let items = match eval_ref(list, env)? {
        Cow::Borrowed(Value::List(xs)) => Cow::Borrowed(xs),
        Cow::Owned(Value::List(xs)) => Cow::Owned(xs),
        v => return Err(EvalError::Invalid(format!("{v} is not a list"))),
    };
    for element in items.iter() {
        let scoped = WithElement {
            outer: env,
            var,
            element,
        };
        if truth(&eval(cond, &scoped)?)? != all {
            return Ok(Value::Bool(!all));
        }
    }
    Ok(Value::Bool(all))
}

/// A field's value where the data holds it; anything else evaluated.
fn eval_ref<'a>(e: &'a Expr, env: &'a dyn Env) -> Result<Cow<'a, Value>, EvalError> {
    match e {
        Expr::Field(f) => env
            .get(f)
            .map(Cow::Borrowed)
            .ok_or_else(|| EvalError::Missing(f.clone())),
        e => eval(e, env).map(Cow::Owned),
    }
}

/// The person an expression names.
fn person<'a>(e: &'a Expr, env: &'a dyn Env) -> Result<Cow<'a, str>, EvalError> {
    match e {
        Expr::Starter => env
            .starter()
            .map(Cow::Borrowed)
            .ok_or_else(|| EvalError::Missing("starter".into())),
        e => match eval_ref(e, env)? {
            Cow::Borrowed(Value::Person(p)) => Ok(Cow::Borrowed(p)),
            Cow::Owned(Value::Person(p)) => Ok(Cow::Owned(p)),
            v => Err(EvalError::Invalid(format!("{v} is not a person"))),
        },
    }
}

/// Whether an ordering satisfies a comparison operator.
fn ordered(op: BinOp, o: Ordering) -> bool {
    match op {
        BinOp::Eq => o == Ordering::Equal,
        BinOp::Ne => o != Ordering::Equal,
        BinOp::Lt => o == Ordering::Less,
        BinOp::Le => o != Ordering::Greater,
        BinOp::Gt => o == Ordering::Greater,
        _ => o != Ordering::Less,
    }
}

pub fn truth(v: &Value) -> Result<bool, EvalError> {
    match v {
        Value::Bool(b) => Ok(*b),
        v => Err(EvalError::Invalid(format!("{v} is not true or false"))),
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Dec(d) => Some(*d),
        _ => None,
    }
}

/// Durations compare by the moment each reaches from now, so working time is
/// measured on the business calendar (`env.add`), not as an 8-hour day.
pub fn compare(a: &Value, b: &Value, env: &dyn Env) -> Result<Ordering, EvalError> {
    use Value::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Date(x), Date(y)) => x.cmp(y),
        (DateTime(x), DateTime(y)) => x.cmp(y),
        (Duration(x), Duration(y)) => env.add(env.now(), x).cmp(&env.add(env.now(), y)),
        (Text(x), Text(y))
        | (Choice(x), Choice(y))
        | (Person(x), Person(y))
        | (Department(x), Department(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (x, y) => match (num(x), num(y)) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => return Err(EvalError::Invalid(format!("cannot compare {x} with {y}"))),
        },
    })
}

fn binary(op: BinOp, a: Value, b: Value, env: &dyn Env) -> Result<Value, EvalError> {
    use Value::*;
    if matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    ) {
        return Ok(Bool(ordered(op, compare(&a, &b, env)?)));
    }
    Ok(match (op, a, b) {
        (BinOp::Add, Int(x), Int(y)) => Int(x.saturating_add(y)),
        (BinOp::Sub, Int(x), Int(y)) => Int(x.saturating_sub(y)),
        (BinOp::Mul, Int(x), Int(y)) => Int(x.saturating_mul(y)),
        (BinOp::Add, Text(x), Text(y)) => Text(x + &y),
        (BinOp::Add | BinOp::Sub, Date(d), Duration(dur)) => {
            let dur = if op == BinOp::Sub { dur.negate() } else { dur };
            Date(add_to_date(d, &dur))
        }
        (BinOp::Add, Duration(dur), Date(d)) => Date(add_to_date(d, &dur)),
        (BinOp::Add | BinOp::Sub, DateTime(t), Duration(dur)) => {
            let dur = if op == BinOp::Sub { dur.negate() } else { dur };
            DateTime(env.add(t, &dur))
        }
        (BinOp::Add, Duration(dur), DateTime(t)) => DateTime(env.add(t, &dur)),
        (BinOp::Add, Duration(x), Duration(y)) => Duration(x.plus(y)),
        (BinOp::Sub, Duration(x), Duration(y)) => Duration(x.plus(y.negate())),
        (BinOp::Sub, Date(x), Date(y)) => {
            Duration(crate::model::Duration::minutes((x - y).num_minutes()))
        }
        (BinOp::Sub, DateTime(x), DateTime(y)) => {
            Duration(crate::model::Duration::minutes((x - y).num_minutes()))
        }
        (BinOp::Mul, Duration(d), Int(k)) | (BinOp::Mul, Int(k), Duration(d)) => {
            Duration(crate::model::Duration {
                months: d.months * k,
                minutes: d.minutes * k,
                working_minutes: d.working_minutes * k,
                working_days: d.working_days * k,
            })
        }
        (op, x, y) => {
            let (p, q) = match (num(&x), num(&y)) {
                (Some(p), Some(q)) => (p, q),
                _ => return Err(EvalError::Invalid(format!("cannot combine {x} and {y}"))),
            };
            Dec(match op {
                BinOp::Add => p + q,
                BinOp::Sub => p - q,
                BinOp::Mul => p * q,
                _ => {
                    if q == 0.0 {
                        return Err(EvalError::DivByZero);
                    }
                    p / q
                }
            })
        }
    })
}

fn call(f: Func, vals: Vec<Value>, env: &dyn Env) -> Result<Value, EvalError> {
    let date = |v: &Value| -> Result<NaiveDate, EvalError> {
        match v {
            Value::Date(d) => Ok(*d),
            Value::DateTime(t) => Ok(t.with_timezone(&env.zone()).date_naive()),
            v => Err(EvalError::Invalid(format!("{v} is not a date"))),
        }
    };
    Ok(match f {
        Func::Day => Value::Int(date(&vals[0])?.day() as i64),
        Func::Month => Value::Int(date(&vals[0])?.month() as i64),
        Func::Year => Value::Int(date(&vals[0])?.year() as i64),
        Func::Weekday => Value::Int(date(&vals[0])?.weekday().number_from_monday() as i64),
        Func::Date => Value::Date(date(&vals[0])?),
        Func::Count => match &vals[0] {
            Value::List(xs) => Value::Int(i64::try_from(xs.len()).unwrap_or(i64::MAX)),
            v => return Err(EvalError::Invalid(format!("{v} is not a list"))),
        },
        Func::Round => match &vals[0] {
            Value::Int(i) => Value::Int(*i),
            v => Value::Int(num(v).unwrap_or(0.0).round() as i64),
        },
        Func::Min | Func::Max => {
            let o = compare(&vals[0], &vals[1], env)?;
            let first = (f == Func::Min) == (o != Ordering::Greater);
            let pick = if first { &vals[0] } else { &vals[1] };
            match (pick, &vals[0], &vals[1]) {
                (Value::Int(i), Value::Dec(_), _) | (Value::Int(i), _, Value::Dec(_)) => {
                    Value::Dec(*i as f64)
                }
                (v, _, _) => v.clone(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    struct E(BTreeMap<String, Value>, DateTime<Utc>);
    impl Env for E {
        fn get(&self, f: &str) -> Option<&Value> {
            self.0.get(f)
        }
        fn now(&self) -> DateTime<Utc> {
            self.1
        }
        fn zone(&self) -> Tz {
            chrono_tz::Asia::Shanghai
        }
    }

    fn expr(src: &str, fields: &str) -> Expr {
        let text = format!(
            "process p {{ data {{ {fields} }} require {src} \"m\" step s {{ next e }} end e }}"
        );
        let out = crate::check(&text, &Default::default());
        let def = out
            .definition
            .unwrap_or_else(|| panic!("{:?}", out.diagnostics));
        def.requires[0].cond.clone()
    }

    #[test]
    fn two_days_before_the_trip_at_ten_is_in_the_company_zone() {
        let e = expr("trip_date - 2d at 10:00 == now", "trip_date date");
        let Expr::Bin(_, lhs, _) = e else { panic!() };
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let env = E(
            [(
                "trip_date".into(),
                Value::Date(NaiveDate::from_ymd_opt(2026, 12, 10).unwrap()),
            )]
            .into(),
            now,
        );
        // 10:00 in Shanghai is 02:00 UTC.
        assert_eq!(
            eval(&lhs, &env),
            Ok(Value::DateTime(
                Utc.with_ymd_and_hms(2026, 12, 8, 2, 0, 0).unwrap()
            ))
        );
    }

    #[test]
    fn application_window_and_service_length() {
        let e = expr(
            "day(today) <= 15 and today >= hired_on + 1 month",
            "hired_on date",
        );
        let env = |d: u32, hired: (i32, u32, u32)| {
            E(
                [(
                    "hired_on".into(),
                    Value::Date(NaiveDate::from_ymd_opt(hired.0, hired.1, hired.2).unwrap()),
                )]
                .into(),
                Utc.with_ymd_and_hms(2026, 3, d, 4, 0, 0).unwrap(),
            )
        };
        assert_eq!(eval(&e, &env(15, (2026, 2, 1))), Ok(Value::Bool(true)));
        assert_eq!(eval(&e, &env(16, (2026, 2, 1))), Ok(Value::Bool(false)));
        assert_eq!(eval(&e, &env(10, (2026, 2, 20))), Ok(Value::Bool(false)));
    }

    #[test]
    fn or_falls_back_from_an_empty_field_and_is_the_usual_or_for_bools() {
        let e = expr(
            "(note or \"-\") == \"-\" and (n or 0) + 1 == 1 and (flag or true)",
            "note text?  n integer?  flag bool?",
        );
        let empty = E(BTreeMap::new(), Utc::now());
        assert_eq!(eval(&e, &empty), Ok(Value::Bool(true)));
        let given = E(
            [
                ("note".into(), Value::Text("x".into())),
                ("n".into(), Value::Int(4)),
                ("flag".into(), Value::Bool(false)),
            ]
            .into(),
            Utc::now(),
        );
        // Each part now reads the field's own value: all three are false.
        assert_eq!(eval(&e, &given), Ok(Value::Bool(false)));
        let only_flag = E([("flag".into(), Value::Bool(false))].into(), Utc::now());
        assert_eq!(
            eval(&expr("flag or true", "flag bool?"), &only_flag),
            Ok(Value::Bool(true))
        );
    }

    /// A starter and a two-level directory: 王芳 reports to 陳靜, who reports to 李明.
    struct People(BTreeMap<String, Value>, &'static str);
    impl Env for People {
        fn get(&self, f: &str) -> Option<&Value> {
            self.0.get(f)
        }
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap()
        }
        fn zone(&self) -> Tz {
            chrono_tz::Asia::Shanghai
        }
        fn starter(&self) -> Option<&str> {
            Some(self.1)
        }
        fn supervisor_of(&self, p: &str) -> Option<&str> {
            match p {
                "wang_fang" => Some("chen_jing"),
                "chen_jing" => Some("li_ming"),
                _ => None,
            }
        }
        fn department_of(&self, p: &str) -> Option<&str> {
            match p {
                "wang_fang" | "chen_jing" | "li_ming" => Some("cs"),
                "sun_li" => Some("hr"),
                _ => None,
            }
        }
        fn head_of(&self, d: &str) -> Option<&str> {
            match d {
                "cs" => Some("li_ming"),
                "hr" => Some("sun_li"),
                _ => None,
            }
        }
        fn has_role(&self, p: &str, r: &str) -> bool {
            matches!((p, r), ("wang_fang", "agent") | ("sun_li", "hr_officer"))
        }
        fn instance_id(&self) -> Option<u64> {
            Some(42)
        }
    }

    #[test]
    fn the_starter_and_a_supervisor_are_people() {
        let e = expr(
            "employee == starter or supervisor of employee == starter",
            "employee person",
        );
        let by = |starter| {
            People(
                [("employee".into(), Value::Person("wang_fang".into()))].into(),
                starter,
            )
        };
        assert_eq!(eval(&e, &by("wang_fang")), Ok(Value::Bool(true)));
        assert_eq!(eval(&e, &by("chen_jing")), Ok(Value::Bool(true)));
        assert_eq!(eval(&e, &by("zhang_wei")), Ok(Value::Bool(false)));
        // Two levels up, and the shown form reads as written.
        let up = expr(
            "supervisor of supervisor of employee == starter",
            "employee person",
        );
        assert_eq!(
            up.to_string(),
            "supervisor of supervisor of employee == starter"
        );
        assert_eq!(eval(&up, &by("li_ming")), Ok(Value::Bool(true)));
        // Nobody above 李明 here: an error that names him, not a silent false.
        let top = expr("supervisor of employee == starter", "employee person");
        let env = People(
            [("employee".into(), Value::Person("li_ming".into()))].into(),
            "wang_fang",
        );
        assert_eq!(
            eval(&top, &env),
            Err(EvalError::Invalid("li_ming has no supervisor".into()))
        );
        // Without a starter (an environment that has none), `starter` has no value.
        let bare = E(BTreeMap::new(), Utc::now());
        assert_eq!(
            eval(&expr("starter == starter", ""), &bare),
            Err(EvalError::Missing("starter".into()))
        );
    }

    #[test]
    fn a_persons_department_head_and_roles_and_the_instance_number() {
        let e = expr(
            "employee in department cs and head of department of employee == supervisor of supervisor of employee \
             and employee has role agent and not (starter has role agent) and id == 42 \
             and head of hr == starter and employee != person sun_li",
            "employee person",
        );
        let env = |employee: &str| {
            People(
                [("employee".into(), Value::Person(employee.into()))].into(),
                "sun_li",
            )
        };
        assert_eq!(eval(&e, &env("wang_fang")), Ok(Value::Bool(true)));
        // 李明 tops the chain: his supervisor's supervisor is nobody, said by name.
        assert_eq!(
            eval(&e, &env("chen_jing")),
            Err(EvalError::Invalid("li_ming has no supervisor".into()))
        );
        let role = expr("employee has role agent", "employee person");
        assert_eq!(eval(&role, &env("chen_jing")), Ok(Value::Bool(false)));
        let dept = expr("department of employee == hr", "employee person");
        assert_eq!(eval(&dept, &env("sun_li")), Ok(Value::Bool(true)));
        // Someone the directory does not know: an error that names them.
        assert_eq!(
            eval(&dept, &env("nobody")),
            Err(EvalError::Invalid(
                "nobody is not in the staff directory".into()
            ))
        );
        let head = expr("head of partner == starter", "partner department");
        let env = People(
            [("partner".into(), Value::Department("it".into()))].into(),
            "sun_li",
        );
        assert_eq!(
            eval(&head, &env),
            Err(EvalError::Invalid("department it has no head".into()))
        );
        // Without an instance there is no number.
        let bare = E(BTreeMap::new(), Utc::now());
        assert_eq!(
            eval(&expr("id > 0", ""), &bare),
            Err(EvalError::Missing("id".into()))
        );
    }

    #[test]
    fn averages_are_decimal_and_missing_values_are_errors() {
        let e = expr("(a + b) / 2 >= 2.5", "a integer  b integer");
        let env = E(
            [("a".into(), Value::Int(2)), ("b".into(), Value::Int(3))].into(),
            Utc::now(),
        );
        assert_eq!(eval(&e, &env), Ok(Value::Bool(true)));
        let empty = E(BTreeMap::new(), Utc::now());
        assert_eq!(eval(&e, &empty), Err(EvalError::Missing("a".into())));
    }

    #[test]
    fn hours_are_elapsed_and_days_follow_the_calendar_both_ways_across_a_change() {
        use chrono_tz::America::New_York as NY;
        let d = |minutes: i64| crate::model::Duration::minutes(minutes);
        // Monday 9 March 2026, 09:00 EDT: the clocks sprang forward on Sunday at 02:00.
        let due = NY
            .with_ymd_and_hms(2026, 3, 9, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let local = |day, h, m| {
            NY.with_ymd_and_hms(2026, 3, day, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        // A reminder `1 day before` and `2 days before`: the same wall-clock time.
        assert_eq!(add_plain(due, &d(-24 * 60), NY), local(8, 9, 0));
        assert_eq!(add_plain(due, &d(-2 * 24 * 60), NY), local(7, 9, 0));
        // `30h before`: a day back on the calendar, then six elapsed hours.
        assert_eq!(add_plain(due, &d(-30 * 60), NY), local(8, 3, 0));
        // Hours are elapsed, whichever way: 03:30 EDT less 2h is 00:30 EST.
        let after = local(8, 3, 30);
        assert_eq!(add_plain(after, &d(-120), NY), local(8, 0, 30));
        assert_eq!(add_plain(local(8, 0, 30), &d(120), NY), after);
        // A month keeps the wall-clock time too: 8 Feb 02:30 EST + 1 month falls in
        // the gap and is 03:00 EDT.
        let month = crate::model::Duration {
            months: 1,
            ..Default::default()
        };
        let feb = NY
            .with_ymd_and_hms(2026, 2, 8, 2, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(add_plain(feb, &month, NY), local(8, 3, 0));
    }
}
