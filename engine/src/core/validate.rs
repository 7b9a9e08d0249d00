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
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
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
    match parse_duration(s).map(|d| d.approx_minutes()) {
        Some(m) if m > 0 => Ok(m),
        Some(_) => Err(err("by", "an extension must be longer than zero")),
        None => Err(err(
            "by",
            format!("`{s}` is not a length of time (like 30m, 2h, 1d)"),
        )),
    }
}

/// One JSON value as a value of type `ty`. Strings are accepted for numbers and
/// booleans because the command line has only strings.
pub fn coerce(
    field: &str,
    ty: &Type,
    v: &serde_json::Value,
    dir: &Directory,
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
    let wrong = |want: &str| err(field, format!("expected {want}, found {}", describe(v)));
    match ty {
        Type::Text => match v {
            J::String(s) => Ok(Value::Text(s.clone())),
            J::Number(n) => Ok(Value::Text(n.to_string())),
            _ => Err(wrong("text")),
        },
        Type::Integer { min, max } => {
            let i = match v {
                J::Number(n) => n.as_i64(),
                J::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| wrong("a whole number"))?;
            if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
                return Err(err(
                    field,
                    format!(
                        "{i} is out of range {}..{}",
                        min.map_or(String::new(), |m| m.to_string()),
                        max.map_or(String::new(), |m| m.to_string())
                    ),
                ));
            }
            Ok(Value::Int(i))
        }
        Type::Decimal { min, max } => {
            let d = match v {
                J::Number(n) => n.as_f64(),
                J::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .filter(|d: &f64| d.is_finite())
            .ok_or_else(|| wrong("a number"))?;
            if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) {
                return Err(err(
                    field,
                    format!(
                        "{d} is out of range {}..{}",
                        min.map_or(String::new(), |m| m.to_string()),
                        max.map_or(String::new(), |m| m.to_string())
                    ),
                ));
            }
            Ok(Value::Dec(d))
        }
        Type::Bool => match v {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err(wrong("true or false")),
        },
        Type::Date => text
            .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
            .map(Value::Date)
            .ok_or_else(|| wrong("a date like 2026-12-31")),
        Type::DateTime => text
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| Value::DateTime(t.with_timezone(&Utc)))
            .ok_or_else(|| wrong("a time like 2026-12-31T17:30:00+08:00")),
        Type::Duration => text
            .and_then(parse_duration)
            .map(Value::Duration)
            .ok_or_else(|| wrong("a duration like 30m, 2h or 1d")),
        Type::Person => {
            let id = text.ok_or_else(|| wrong("a person's id"))?;
            if dir.person(id).is_none() {
                return Err(err(
                    field,
                    format!("no person `{id}` in the staff directory"),
                ));
            }
            Ok(Value::Person(id.to_string()))
        }
        Type::Department => {
            let id = text.ok_or_else(|| wrong("a department's id"))?;
            if dir.head_of(id).is_none() {
                return Err(err(
                    field,
                    format!("no department `{id}` in the staff directory"),
                ));
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
                ))
            }
        }
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
    dir: &Directory,
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
                errors.push(err(k, MISSING));
            }
            continue;
        }
        match coerce(k, &f.ty, v, dir) {
            Ok(x) => {
                out.insert(k.clone(), x);
            }
            Err(e) => errors.push(e),
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
