//! List fields as input: a JSON array of objects, each element's fields checked
//! as a field of their type, every bad one named by its place:
//! `action_items[2].owner` (elements are counted from 0, as in the array).

use super::validate::{coerce, FieldError, Reading};
use baton_dsl::eval::{Element, Value};
use baton_dsl::model::{Definition, ListType, Type};

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// A value of type `ty` with every error in it: a list's are one per bad element
/// field, as well as its length; any other type's its one.
pub(super) fn coerce_all(
    field: &str,
    ty: &Type,
    v: &serde_json::Value,
    at: &Reading<'_>,
) -> Result<Value, Vec<FieldError>> {
    match ty {
        Type::List(l) => coerce_list(field, l, v, at),
        _ => coerce(field, ty, v, at).map_err(|e| vec![e]),
    }
}

/// A list: a JSON array of objects (or the tagged shape answers use, `{"List":
/// [...]}`, whose element values may be tagged too).
pub(super) fn coerce_list(
    field: &str,
    l: &ListType,
    v: &serde_json::Value,
    at: &Reading<'_>,
) -> Result<Value, Vec<FieldError>> {
    use serde_json::Value as J;
    let items = match v {
        J::Array(xs) => xs,
        J::Object(m) if m.len() == 1 => match m.get("List") {
            Some(J::Array(xs)) => xs,
            _ => return Err(vec![err(field, "expected a list of elements")]),
        },
        _ => return Err(vec![err(field, "expected a list of elements")]),
    };
    let mut errors = Vec::new();
    let n = items.len() as u64;
    if n < l.min {
        errors.push(err(
            field,
            format!("needs at least {} elements, found {n}", l.min),
        ));
    }
    if let Some(max) = l.max.filter(|m| n > *m) {
        errors.push(err(
            field,
            format!("takes at most {max} elements, found {n}"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, x) in items.iter().enumerate() {
        let place = format!("{field}[{i}]");
        let J::Object(m) = x else {
            errors.push(err(&place, "expected an element with fields"));
            continue;
        };
        let mut element = Element::new();
        for (k, fv) in m {
            let path = format!("{place}.{k}");
            let Some(f) = l.field(k) else {
                let names: Vec<&str> = l.fields.iter().map(|f| f.name.as_str()).collect();
                errors.push(err(
                    &path,
                    format!("unknown field; an element has {}", names.join(", ")),
                ));
                continue;
            };
            if fv.is_null() {
                continue;
            }
            match coerce(&path, &f.ty, fv, at) {
                Ok(v) => {
                    element.insert(k.clone(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        for f in l.fields.iter().filter(|f| !f.optional) {
            let present = m.get(&f.name).is_some_and(|v| !v.is_null());
            if !present {
                errors.push(FieldError::missing(&format!("{place}.{}", f.name)));
            }
        }
        out.push(element);
    }
    if errors.is_empty() {
        Ok(Value::List(out))
    } else {
        Err(errors)
    }
}

/// The value a list field left out takes where it may hold no element: none. A
/// list that must have elements gets none and is missing.
pub(super) fn empty_list(def: &Definition, field: &str) -> Option<Value> {
    match def.field(field).map(|f| &f.ty) {
        Some(Type::List(l)) if l.min == 0 => Some(Value::List(Vec::new())),
        _ => None,
    }
}
