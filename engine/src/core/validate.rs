//! Input data checked against a definition's schema, one message per bad field,
//! before anything is written.

use super::Data;
use crate::staff::Directory;
use baton_dsl::eval::Value;
use baton_dsl::model::{Definition, Type};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    /// In English, for API clients and logs.
    pub message: String,
    /// What is wrong, for a page to say in its own language; not sent (the API's
    /// answer stays `field` and `message`).
    #[serde(skip)]
    pub problem: Option<Problem>,
}

/// What is wrong with a field's value, with what a message in any language needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Required and not given.
    Missing,
    /// Not of the field's kind: what was expected.
    Expected(Expected),
    /// A number outside the field's bounds (as written; either may be open).
    OutOfRange {
        value: String,
        min: Option<String>,
        max: Option<String>,
    },
    /// Not one of the choice's values.
    NotOneOf(String),
    NoPerson(String),
    NoDepartment(String),
}

/// The kind of value a field expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Text,
    WholeNumber,
    Number,
    YesNo,
    Date,
    Time,
    Duration,
    Person,
    Department,
    Choice,
    List,
}

impl Expected {
    fn of(ty: &Type) -> Expected {
        match ty {
            Type::Text => Expected::Text,
            Type::Integer { .. } => Expected::WholeNumber,
            Type::Decimal { .. } => Expected::Number,
            Type::Bool => Expected::YesNo,
            Type::Date => Expected::Date,
            Type::DateTime => Expected::Time,
            Type::Duration => Expected::Duration,
            Type::Person => Expected::Person,
            Type::Department => Expected::Department,
            Type::Choice(_) => Expected::Choice,
            Type::List(_) => Expected::List,
        }
    }
}

impl FieldError {
    /// A field's error with no structured problem (the message says it all).
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            problem: None,
        }
    }

    /// A required field left without a value.
    pub fn missing(field: &str) -> FieldError {
        FieldError::new(field, MISSING).with(Problem::Missing)
    }

    /// A person id that is not in the staff directory.
    pub fn no_person(field: &str, id: &str) -> FieldError {
        FieldError::new(field, format!("no person `{id}` in the staff directory"))
            .with(Problem::NoPerson(id.to_string()))
    }

    fn with(mut self, problem: Problem) -> FieldError {
        self.problem = Some(problem);
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// Parse `30m`, `2h`, `1d`, `1w` (durations given as input).
fn parse_duration(s: &str) -> Option<baton_dsl::model::Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = s[..split].parse().ok()?;
    let minutes = match s[split..].trim() {
        "m" | "min" | "minutes" => n,
        "h" | "hours" => n * 60,
        "d" | "days" => n * 60 * 24,
        "w" | "weeks" => n * 60 * 24 * 7,
        _ => return None,
    };
    Some(baton_dsl::model::Duration::minutes(minutes))
}

/// How much longer an extension asks for (`30m`, `2h`, `1d`), in minutes.
pub fn extension_minutes(s: &str) -> Result<i64, FieldError> {
    // Input durations are plain minutes (`1d` is 1440 of them), never working time.
    match parse_duration(s).map(|d| d.minutes) {
        Some(m) if m > 0 => Ok(m),
        Some(_) => Err(err("by", "an extension must be longer than zero")),
        None => Err(err(
            "by",
            format!("`{s}` is not a length of time (like 30m, 2h, 1d)"),
        )),
    }
}

/// What reading input needs besides the definition: the staff directory (people
/// and departments must exist), and the company's zone and the time, for local
/// times such as `2026-12-05 18:00` or `18:00` (today).
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub dir: &'a Directory,
    pub zone: chrono_tz::Tz,
    pub now: DateTime<Utc>,
}

/// The tag a value of type `ty` has in JSON answers (`{"Choice": "app"}`).
fn tag(ty: &Type) -> &'static str {
    match ty {
        Type::Text => "Text",
        Type::Integer { .. } => "Int",
        Type::Decimal { .. } => "Dec",
        Type::Bool => "Bool",
        Type::Date => "Date",
        Type::DateTime => "DateTime",
        Type::Duration => "Duration",
        Type::Person => "Person",
        Type::Department => "Department",
        Type::Choice(_) => "Choice",
        Type::List(_) => "List",
    }
}

/// A moment given as text: RFC 3339 with an offset, the way times are shown
/// (`2026-12-05 18:00 +08:00`), or a local time read in the company's zone:
/// `2026-12-05 18:00` (also with `T` and seconds) or `18:00` (today).
pub fn parse_time(s: &str, zone: chrono_tz::Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::{NaiveDateTime, NaiveTime};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, crate::display::TIME_FORMAT) {
        return Some(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        let time = ["%H:%M", "%H:%M:%S"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(s, f).ok())?;
        Some(now.with_timezone(&zone).date_naive().and_time(time))
    })?;
    // A time the clocks skip (a daylight-saving gap) is the end of the gap; one
    // they pass twice is its first.
    Some(baton_dsl::zone::from_local(zone, local))
}

/// One JSON value as a value of type `ty`. Each type has one plain JSON shape (a
/// string for text, a number for numbers, true/false, strings for the rest), and
/// the tagged shape the API answers with (`{"Choice": "app"}`) is read as well, so
/// an answer's values can be sent back as they are. A number for a text field or a
/// string for a number is refused: the command line converts by the field's type.
pub fn coerce(
    field: &str,
    ty: &Type,
    v: &serde_json::Value,
    at: &Reading<'_>,
) -> Result<Value, FieldError> {
    use serde_json::Value as J;
    let text = match v {
        J::String(s) => Some(s.as_str()),
        _ => None,
    };
    let describe = |v: &J| match v {
        J::Null => "null".to_string(),
        J::Bool(_) => "true/false".to_string(),
        J::Number(n) => format!("the number {n}"),
        J::String(s) => format!("\"{s}\""),
        J::Array(_) => "a list".to_string(),
        J::Object(_) => "an object".to_string(),
    };
    let expected = Problem::Expected(Expected::of(ty));
    let wrong = |want: &str| {
        err(field, format!("expected {want}, found {}", describe(v))).with(expected.clone())
    };
    if let J::Object(m) = v {
        let want = tag(ty);
        return match m.iter().next() {
            Some((k, inner)) if m.len() == 1 && k == want => match ty {
                Type::Duration => serde_json::from_value(inner.clone())
                    .map(Value::Duration)
                    .map_err(|_| wrong("a duration's parts")),
                _ if inner.is_object() => Err(wrong(&format!("{{\"{want}\": ...}}"))),
                _ => coerce(field, ty, inner, at),
            },
            _ => Err(wrong(&format!("{} or {{\"{want}\": ...}}", plain(ty)))),
        };
    }
    match ty {
        Type::Text => match v {
            J::String(s) => Ok(Value::Text(s.clone())),
            _ => Err(wrong("text")),
        },
        Type::Integer { min, max } => {
            let i = match v {
                J::Number(n) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| wrong("a whole number"))?;
            if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
                let (lo, hi) = (min.map(|m| m.to_string()), max.map(|m| m.to_string()));
                return Err(err(
                    field,
                    format!(
                        "{i} is out of range {}..{}",
                        lo.clone().unwrap_or_default(),
                        hi.clone().unwrap_or_default()
                    ),
                )
                .with(Problem::OutOfRange {
                    value: i.to_string(),
                    min: lo,
                    max: hi,
                }));
            }
            Ok(Value::Int(i))
        }
        Type::Decimal { min, max } => {
            let d = match v {
                J::Number(n) => n.as_f64(),
                _ => None,
            }
            .filter(|d: &f64| d.is_finite())
            .ok_or_else(|| wrong("a number"))?;
            if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) {
                let lo = min.map(crate::display::number);
                let hi = max.map(crate::display::number);
                let value = crate::display::number(d);
                return Err(err(
                    field,
                    format!(
                        "{value} is out of range {}..{}",
                        lo.clone().unwrap_or_default(),
                        hi.clone().unwrap_or_default()
                    ),
                )
                .with(Problem::OutOfRange {
                    value,
                    min: lo,
                    max: hi,
                }));
            }
            Ok(Value::Dec(d))
        }
        Type::Bool => match v {
            J::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(wrong("true or false")),
        },
        Type::Date => text
            .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
            .map(Value::Date)
            .ok_or_else(|| wrong("a date like 2026-12-31")),
        Type::DateTime => text
            .and_then(|s| parse_time(s, at.zone, at.now))
            .map(Value::DateTime)
            .ok_or_else(|| {
                wrong(&format!(
                    "a time like 2026-12-31 17:30 or 17:30 (today), in {}, or 2026-12-31T17:30:00+08:00",
                    at.zone.name()
                ))
            }),
        Type::Duration => text
            .and_then(parse_duration)
            .map(Value::Duration)
            .ok_or_else(|| wrong("a duration like 30m, 2h or 1d")),
        Type::Person => {
            let id = text.ok_or_else(|| wrong("a person's id"))?;
            if at.dir.person(id).is_none() {
                return Err(FieldError::no_person(field, id));
            }
            Ok(Value::Person(id.to_string()))
        }
        Type::Department => {
            let id = text.ok_or_else(|| wrong("a department's id"))?;
            if at.dir.head_of(id).is_none() {
                return Err(err(
                    field,
                    format!("no department `{id}` in the staff directory"),
                )
                .with(Problem::NoDepartment(id.to_string())));
            }
            Ok(Value::Department(id.to_string()))
        }
        Type::Choice(vs) => {
            let s = text.ok_or_else(|| wrong("a choice"))?;
            if vs.iter().any(|x| x.name == s) {
                Ok(Value::Choice(s.to_string()))
            } else {
                let names: Vec<&str> = vs.iter().map(|x| x.name.as_str()).collect();
                Err(err(
                    field,
                    format!("\"{s}\" is not one of {}", names.join(", ")),
                )
                .with(Problem::NotOneOf(s.to_string())))
            }
        }
        // The first of its errors; `check_input` reports them all.
        Type::List(l) => super::elements::coerce_list(field, l, v, at)
            .map_err(|es| es.into_iter().next().unwrap_or_else(|| wrong("a list"))),
    }
}

/// The plain JSON shape of a type, for messages.
fn plain(ty: &Type) -> &'static str {
    match ty {
        Type::Text => "text",
        Type::Integer { .. } => "a whole number",
        Type::Decimal { .. } => "a number",
        Type::Bool => "true or false",
        Type::Date => "a date",
        Type::DateTime => "a time",
        Type::Duration => "a duration",
        Type::Person => "a person's id",
        Type::Department => "a department's id",
        Type::Choice(_) => "a choice",
        Type::List(_) => "a list of elements",
    }
}

/// The message of a required field without a value, left out or sent as `null`.
pub const MISSING: &str = "missing required field";

/// Whether `input` gives `field` a value: present and not `null`.
pub fn given(input: &serde_json::Map<String, serde_json::Value>, field: &str) -> bool {
    input.get(field).is_some_and(|v| !v.is_null())
}

/// Check `input` against the fields in `allowed` (all fields of `def` when `None`).
/// Every bad field gets its own error; nothing is partially accepted.
pub fn check_input(
    def: &Definition,
    input: &serde_json::Map<String, serde_json::Value>,
    allowed: Option<&[String]>,
    at: &Reading<'_>,
) -> Result<Data, Vec<FieldError>> {
    let mut out = Data::new();
    let mut errors = Vec::new();
    for (k, v) in input {
        let Some(f) = def.field(k) else {
            let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
            let hint = names
                .iter()
                .map(|n| (strsim_like(k, n), *n))
                .filter(|(s, _)| *s <= 2)
                .min()
                .map(|(_, n)| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            errors.push(err(k, format!("unknown field{hint}")));
            continue;
        };
        if let Some(list) = allowed {
            if !list.iter().any(|a| a == k) {
                errors.push(err(k, "cannot be set here"));
                continue;
            }
        }
        // `null` is no value: an optional field is left as it is, a required one
        // is missing (a present null must not count as given).
        if v.is_null() {
            if !f.optional {
                errors.push(FieldError::missing(k));
            }
            continue;
        }
        match super::elements::coerce_all(k, &f.ty, v, at) {
            Ok(x) => {
                out.insert(k.clone(), x);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Edit distance, for "did you mean" on unknown input fields.
fn strsim_like(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
