//! Values as people read them, the same in messages, the CLI's tables and `show`,
//! on a database or through a server: a person by name, a department by name, a
//! choice by its label, a number without float noise, a moment in the company's
//! zone in one format (`2026-12-05 18:00 +08:00`).
//!
//! `Labels` (a definition's titles and labels) and `Names` (the staff directory's
//! names, the company's zone and language) are what a renderer needs; the HTTP API
//! sends both, so that the CLI renders the same text through a server.

use crate::messages::Language;
use crate::staff::Directory;
use baton_dsl::eval::Value;
use baton_dsl::model::{Definition, FieldSource, Route, Type};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The one format of a moment for people: local time, then the zone's offset.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M %:z";

/// A moment in `zone`, in `TIME_FORMAT`.
pub fn time(t: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    t.with_timezone(&zone).format(TIME_FORMAT).to_string()
}

/// A decimal without float noise: `5`, not `5.0`; `0.3`, not `0.30000000000000004`;
/// at most two decimals (`81.67`), as people write scores and amounts.
pub fn number(d: f64) -> String {
    if !d.is_finite() {
        return d.to_string();
    }
    let s = format!("{d:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" => "0".to_string(),
        s => s.to_string(),
    }
}

/// Who people and departments are, by name.
pub trait Lookup {
    fn person(&self, id: &str) -> Option<&str>;
    fn department(&self, id: &str) -> Option<&str>;
    /// What a role is called (its id where the directory gives it no title).
    fn role(&self, _id: &str) -> Option<&str> {
        None
    }
    /// The language yes and no are written in (the company's default unless known).
    fn language(&self) -> Language {
        Language::default()
    }
}

impl Lookup for Directory {
    fn person(&self, id: &str) -> Option<&str> {
        Directory::person(self, id).map(|p| p.name.as_str())
    }
    fn role(&self, id: &str) -> Option<&str> {
        self.role_titles.get(id).map(String::as_str)
    }
    fn department(&self, id: &str) -> Option<&str> {
        self.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }
}

/// A time limit as people know it: the titles of the steps it runs between,
/// `接受投訴→回訪` (a limit has a name, for its definition, but no title).
pub fn limit_title(def: &Definition, limit: &str) -> String {
    let title = |step: &str| {
        def.step(step)
            .and_then(|s| s.title.clone())
            .or_else(|| def.end(step).and_then(|e| e.title.clone()))
            .unwrap_or_else(|| step.to_string())
    };
    match def.limits.iter().find(|l| l.name == limit) {
        Some(l) => format!("{}→{}", title(&l.from), title(&l.to)),
        None => limit.to_string(),
    }
}

/// A person by name; an id the directory no longer knows as it is.
pub fn person(id: &str, names: &dyn Lookup) -> String {
    names.person(id).unwrap_or(id).to_string()
}

/// A role by its title, or its id where it has none.
pub fn role(id: &str, names: &dyn Lookup) -> String {
    names.role(id).unwrap_or(id).to_string()
}

/// A value for people. `choice` is the label of a choice value, when its field has
/// one.
pub fn value(v: &Value, choice: Option<&str>, names: &dyn Lookup, zone: chrono_tz::Tz) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Dec(d) => number(*d),
        Value::Bool(b) => match (b, names.language()) {
            (true, Language::ZhHant) => "是".into(),
            (false, Language::ZhHant) => "否".into(),
            (true, Language::En) => "yes".into(),
            (false, Language::En) => "no".into(),
        },
        Value::Date(d) => d.to_string(),
        Value::DateTime(t) => time(*t, zone),
        Value::Duration(d) => d.to_string(),
        Value::Choice(c) => choice.unwrap_or(c).to_string(),
        Value::Person(p) => person(p, names),
        Value::Department(d) => names.department(d).unwrap_or(d).to_string(),
        // Each element's values (people by name), the elements apart by `;`.
        Value::List(xs) => xs
            .iter()
            .map(|x| {
                x.values()
                    .map(|v| value(v, None, names, zone))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A title with its `{placeholders}` left out, and the separator they followed
/// (`落實：{action.item}` -> `落實`).
fn without_placeholders(title: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in title.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let trimmed = out.trim_end_matches(|c: char| c.is_whitespace() || "：:-—、，,".contains(c));
    if trimmed.is_empty() {
        title.to_string()
    } else {
        trimmed.to_string()
    }
}

/// The staff directory's names with the company's zone and language: what
/// `GET /directory` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Names {
    /// The company's zone (IANA name): deadlines are reckoned and times shown in it.
    pub zone: String,
    /// The language of Baton's own messages: `zh-Hant` or `en`.
    pub language: Language,
    /// Person id -> name.
    pub people: BTreeMap<String, String>,
    /// Department id -> name.
    pub departments: BTreeMap<String, String>,
    /// Role id -> title, for the roles that have one.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
}

impl Names {
    pub fn of(dir: &Directory, zone: chrono_tz::Tz, language: Language) -> Names {
        Names {
            zone: zone.name().to_string(),
            language,
            people: dir
                .people
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
            departments: dir
                .departments
                .iter()
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect(),
            roles: dir.role_titles.clone(),
        }
    }
}

impl Lookup for Names {
    fn person(&self, id: &str) -> Option<&str> {
        self.people.get(id).map(String::as_str)
    }
    fn department(&self, id: &str) -> Option<&str> {
        self.departments.get(id).map(String::as_str)
    }
    fn role(&self, id: &str) -> Option<&str> {
        self.roles.get(id).map(String::as_str)
    }
    fn language(&self) -> Language {
        self.language
    }
}

/// A definition's titles and labels: what people read instead of its names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    /// The process's title (its name when it has none).
    pub title: String,
    pub fields: BTreeMap<String, FieldLabel>,
    /// The fields given when an instance starts, in the order they are declared.
    pub start_fields: Vec<String>,
    pub steps: BTreeMap<String, StepLabel>,
    /// End name -> title.
    pub ends: BTreeMap<String, String>,
    /// Time limit name -> the titles of the steps it spans (`接受投訴→回訪`).
    #[serde(default)]
    pub limits: BTreeMap<String, String>,
    /// Parallel branch name -> title.
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldLabel {
    /// The field's label (its name when it has none).
    pub label: String,
    /// `text`, `integer`, `decimal`, `bool`, `date`, `datetime`, `duration`,
    /// `person`, `department`, `choice` or `list`.
    pub kind: String,
    /// For a choice: each choice's name -> label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
    /// For a list (`list`): each element field's name -> its kind, as `kind`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub elements: BTreeMap<String, String>,
    /// For a list: each element field as declared, in order, with its label and
    /// its choices' labels, so that an element reads `投訴處理, 門票退款` in the
    /// author's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub element_fields: Vec<ElementLabel>,
}

/// One field of a list's elements, as people read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElementLabel {
    pub name: String,
    /// Its label (its name when it has none).
    pub label: String,
    /// For a choice: each choice's name -> label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepLabel {
    /// The step's title (its name when it has none).
    pub title: String,
    /// For a step whose task is completed with a choice: name -> label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
}

fn kind(ty: &Type) -> &'static str {
    match ty {
        Type::Text => "text",
        Type::Integer { .. } => "integer",
        Type::Decimal { .. } => "decimal",
        Type::Bool => "bool",
        Type::Date => "date",
        Type::DateTime => "datetime",
        Type::Duration => "duration",
        Type::Person => "person",
        Type::Department => "department",
        Type::Choice(_) => "choice",
        Type::List(_) => "list",
    }
}

impl Labels {
    pub fn of(def: &Definition) -> Labels {
        let or_name =
            |title: &Option<String>, name: &str| title.clone().unwrap_or_else(|| name.to_string());
        Labels {
            title: or_name(&def.title, &def.name),
            fields: def
                .fields
                .iter()
                .map(|f| {
                    let choices = match &f.ty {
                        Type::Choice(vs) => vs
                            .iter()
                            .map(|v| (v.name.clone(), or_name(&v.label, &v.name)))
                            .collect(),
                        _ => BTreeMap::new(),
                    };
                    let elements = match &f.ty {
                        Type::List(l) => l
                            .fields
                            .iter()
                            .map(|e| (e.name.clone(), kind(&e.ty).to_string()))
                            .collect(),
                        _ => BTreeMap::new(),
                    };
                    let element_fields = match &f.ty {
                        Type::List(l) => l
                            .fields
                            .iter()
                            .map(|e| ElementLabel {
                                name: e.name.clone(),
                                label: or_name(&e.label, &e.name),
                                choices: match &e.ty {
                                    Type::Choice(vs) => vs
                                        .iter()
                                        .map(|v| (v.name.clone(), or_name(&v.label, &v.name)))
                                        .collect(),
                                    _ => BTreeMap::new(),
                                },
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let label = FieldLabel {
                        label: or_name(&f.label, &f.name),
                        kind: kind(&f.ty).to_string(),
                        choices,
                        elements,
                        element_fields,
                    };
                    (f.name.clone(), label)
                })
                .collect(),
            start_fields: def
                .fields
                .iter()
                .filter(|f| f.source == FieldSource::Start)
                .map(|f| f.name.clone())
                .collect(),
            steps: def
                .steps
                .iter()
                .map(|s| {
                    let choices = match &s.route {
                        Route::Choose(cs) => cs
                            .iter()
                            .map(|c| (c.name.clone(), or_name(&c.label, &c.name)))
                            .collect(),
                        _ => BTreeMap::new(),
                    };
                    // A step with a task per element has its element in its title
                    // (`落實：{action.item}`), which only its tasks can fill: the
                    // step itself reads without it (`落實`).
                    let title = or_name(&s.title, &s.name);
                    let title = match &s.for_each {
                        Some(_) => without_placeholders(&title),
                        None => title,
                    };
                    let label = StepLabel { title, choices };
                    (s.name.clone(), label)
                })
                .collect(),
            ends: def
                .ends
                .iter()
                .map(|e| (e.name.clone(), or_name(&e.title, &e.name)))
                .collect(),
            limits: def
                .limits
                .iter()
                .map(|l| (l.name.clone(), limit_title(def, &l.name)))
                .collect(),
            branches: def
                .steps
                .iter()
                .filter_map(|s| match &s.action {
                    baton_dsl::model::Action::Parallel(p) => Some(&p.branches),
                    _ => None,
                })
                .flatten()
                .map(|b| (b.name.clone(), b.label().to_string()))
                .collect(),
        }
    }

    /// A time limit's title, else its name.
    /// A parallel branch's title, else its name.
    pub fn branch<'a>(&'a self, name: &'a str) -> &'a str {
        self.branches.get(name).map_or(name, String::as_str)
    }

    pub fn limit<'a>(&'a self, name: &'a str) -> &'a str {
        self.limits.get(name).map_or(name, String::as_str)
    }

    /// A field's label, else its name.
    pub fn field<'a>(&'a self, name: &'a str) -> &'a str {
        self.fields.get(name).map_or(name, |f| f.label.as_str())
    }

    /// A step's or an end's title, else its name.
    pub fn step<'a>(&'a self, name: &'a str) -> &'a str {
        self.steps
            .get(name)
            .map(|s| s.title.as_str())
            .or_else(|| self.ends.get(name).map(String::as_str))
            .unwrap_or(name)
    }

    /// The label of a step's choice (`postpone` -> `延期轉正`), else its name; the
    /// sign-off choices `approve` and `refuse` are not in the definition and stay.
    pub fn step_choice<'a>(&'a self, step: &str, choice: &'a str) -> &'a str {
        self.steps
            .get(step)
            .and_then(|s| s.choices.get(choice))
            .map_or(choice, String::as_str)
    }

    /// A field's value for people.
    pub fn value(&self, field: &str, v: &Value, names: &dyn Lookup, zone: chrono_tz::Tz) -> String {
        if let (Value::List(xs), Some(f)) = (v, self.fields.get(field)) {
            if !f.element_fields.is_empty() {
                return xs
                    .iter()
                    .map(|x| {
                        f.element_fields
                            .iter()
                            .filter_map(|e| {
                                let v = x.get(&e.name)?;
                                let choice = match v {
                                    Value::Choice(c) => e.choices.get(c).map(String::as_str),
                                    _ => None,
                                };
                                Some(value(v, choice, names, zone))
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
            }
        }
        let choice = match v {
            Value::Choice(c) => self
                .fields
                .get(field)
                .and_then(|f| f.choices.get(c))
                .map(String::as_str),
            _ => None,
        };
        value(v, choice, names, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_reads_in_declared_order_with_choice_labels_and_its_step_without_placeholders() {
        let src = r#"process t "培訓" {
  data {
    cases list 1.. of { kind internal("內部工作環節") | complaint("投訴處理") "類別", title text "案例", analysis text "要點" } "案例"
  }
  step attend "簽到：{c.title}" {
    for each c in cases
    task for starter
    next done
  }
  end done
}
"#;
        let def = baton_dsl::check(src, &Default::default())
            .definition
            .expect("checks clean");
        let labels = Labels::of(&def);
        assert_eq!(labels.step("attend"), "簽到");
        let element: baton_dsl::eval::Element = [
            ("analysis".to_string(), Value::Text("先核實".into())),
            ("kind".to_string(), Value::Choice("complaint".into())),
            ("title".to_string(), Value::Text("門票退款".into())),
        ]
        .into_iter()
        .collect();
        let dir = Directory::default();
        let shown = labels.value("cases", &Value::List(vec![element]), &dir, chrono_tz::UTC);
        assert_eq!(shown, "投訴處理, 門票退款, 先核實");
        assert_eq!(
            without_placeholders("{x}"),
            "{x}",
            "nothing left: as written"
        );
    }

    #[test]
    fn numbers_have_no_float_noise() {
        assert_eq!(number(5.0), "5");
        assert_eq!(number(1.5000001), "1.5");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-2.25), "-2.25");
        assert_eq!(number(-0.0000001), "0");
        assert_eq!(number(245.0 / 3.0), "81.67");
        assert_eq!(number(1e15), "1000000000000000");
    }

    #[test]
    fn times_are_in_the_zone_with_its_offset() {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 5, 10, 0, 0).unwrap();
        assert_eq!(time(t, chrono_tz::Asia::Taipei), "2026-12-05 18:00 +08:00");
        assert_eq!(time(t, chrono_tz::UTC), "2026-12-05 10:00 +00:00");
    }

    #[test]
    fn yes_and_no_are_words_of_the_company_language() {
        let mut names = Names::default();
        let shown = |names: &Names, b| value(&Value::Bool(b), None, names, chrono_tz::UTC);
        assert_eq!(
            (shown(&names, true), shown(&names, false)),
            ("是".into(), "否".into())
        );
        names.language = Language::En;
        assert_eq!(
            (shown(&names, true), shown(&names, false)),
            ("yes".into(), "no".into())
        );
    }
}
