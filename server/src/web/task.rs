//! A task's page: the instance's data so far, then a form generated from the step
//! (each field it fills as the input its type takes, a button per choice, sign or
//! refuse for a sign-off). A refused submission comes back with each field's message
//! beside it and what was typed kept; a `require` or `check` message at the top.

use super::actions::{self, Actions};
use super::layout::{html, page, refusal, store_failure};
use super::{form, Lang, Signed};
use crate::access::Sight;
use crate::extract::Caller;
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_dsl::model::{Definition, Route, Type};
use baton_engine::core::{Command, Rejection, Task, TaskId, TaskKind};
use baton_engine::display::{Labels, Names};
use baton_engine::messages::Language;
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use baton_engine::Engine;
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a refused submission brings back to the form.
#[derive(Default)]
struct Refused {
    typed: HashMap<String, String>,
    /// Field -> its message.
    fields: BTreeMap<String, String>,
    /// A `require` or `check` message, or a problem not tied to a field.
    top: Option<String>,
}

pub(super) struct Loaded {
    pub task: Task,
    pub def: Arc<Definition>,
    pub labels: Labels,
    data: Vec<(String, String)>,
    pub actions: Actions,
}

fn caller(who: &Signed) -> Caller {
    Caller {
        person: who.person.clone(),
        roles: who.roles.clone(),
        admin: who.admin,
    }
}

fn load(engine: &Engine, who: &Signed, id: TaskId) -> Result<Option<Loaded>, StoreError> {
    let store = &*engine.store;
    let task = match store.task(id) {
        Ok(t) => t,
        Err(StoreError::Rejected(Rejection::NotFound(_))) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !Sight::of(store, &caller(who)).task(store, &task)? {
        return Err(Rejection::Forbidden("not yours".into()).into());
    }
    let inst = store.instance(id.instance)?;
    let def = store.definition(&inst.process, inst.version)?;
    let labels = Labels::of(&def);
    let names = Names::of(
        &store.directory(),
        store.zone,
        if who.lang == Lang::En {
            Language::En
        } else {
            Language::ZhHant
        },
    );
    let data = def
        .fields
        .iter()
        .filter_map(|f| {
            let v = inst.data.get(&f.name)?;
            Some((
                labels.field(&f.name).to_string(),
                labels.value(&f.name, v, &names, store.zone),
            ))
        })
        .collect();
    let actions = actions::load(store, who, &task, &inst, &def, &labels, &names)?;
    Ok(Some(Loaded {
        task,
        def,
        labels,
        data,
        actions,
    }))
}

/// A field the step fills, as its input shows it.
pub(super) struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub ty: &'a Type,
    pub required: bool,
    /// What was typed before a refusal.
    pub typed: Option<&'a str>,
    pub problem: Option<&'a str>,
}

/// One input for a field the step fills, by its type.
pub(super) fn input(lang: Lang, i: Input<'_>, dir: &baton_engine::staff::Directory) -> Markup {
    let Input {
        name,
        label,
        ty,
        required,
        typed,
        problem,
    } = i;
    let id = format!("f-{name}");
    let err = format!("{id}-problem");
    let v = typed.unwrap_or("");
    let described = problem.map(|_| err.clone());
    html! {
        div.field {
            @if !matches!(ty, Type::Bool) {
                label for=(id) { (label) @if required { " " abbr title=(lang.t("task.required")) { "*" } } }
            }
            @match ty {
                Type::Integer { min, max } => {
                    input type="number" id=(id) name=(name) value=(v) step="1"
                        min=[min.map(|m| m.to_string())] max=[max.map(|m| m.to_string())]
                        required[required] aria-describedby=[described.as_deref()];
                }
                Type::Decimal { min, max } => {
                    input type="number" id=(id) name=(name) value=(v) step="any"
                        min=[min.map(|m| m.to_string())] max=[max.map(|m| m.to_string())]
                        required[required] aria-describedby=[described.as_deref()];
                }
                Type::Bool => {
                    input type="hidden" name=(name) value="false";
                    label for=(id) {
                        input type="checkbox" id=(id) name=(name) value="true" checked[v == "true"];
                        " " (label)
                    }
                }
                Type::Date => {
                    input type="date" id=(id) name=(name) value=(v) required[required] aria-describedby=[described.as_deref()];
                }
                Type::DateTime => {
                    input type="datetime-local" id=(id) name=(name) value=(v) required[required] aria-describedby=[described.as_deref()];
                }
                Type::Choice(variants) => {
                    select id=(id) name=(name) required[required] aria-describedby=[described.as_deref()] {
                        @if !required || v.is_empty() { option value="" { "—" } }
                        @for var in variants {
                            option value=(var.name) selected[v == var.name] { (var.label.as_deref().unwrap_or(&var.name)) }
                        }
                    }
                }
                Type::Person => {
                    select id=(id) name=(name) required[required] aria-describedby=[described.as_deref()] {
                        option value="" { "—" }
                        @for p in &dir.people {
                            option value=(p.id) selected[v == p.id] { (p.name) }
                        }
                    }
                }
                Type::Department => {
                    select id=(id) name=(name) required[required] aria-describedby=[described.as_deref()] {
                        option value="" { "—" }
                        @for d in &dir.departments {
                            option value=(d.id) selected[v == d.id] { (d.name) }
                        }
                    }
                }
                Type::Text | Type::Duration => {
                    textarea id=(id) name=(name) rows="3" required[required] aria-describedby=[described.as_deref()] { (v) }
                }
                // One element per line, its fields in the declared order apart by `|`.
                Type::List(l) => {
                    @let fields = l.fields.iter().map(|f| f.label.as_deref().unwrap_or(&f.name)).collect::<Vec<_>>().join(" | ");
                    p.hint id=(format!("{id}-hint")) { (lang.t("task.list")) " " (fields) }
                    textarea id=(id) name=(name) rows="5" aria-describedby=(format!("{id}-hint")) { (v) }
                }
            }
            @if let Some(p) = problem {
                p.problem id=(err) { (p) }
            }
        }
    }
}

fn render(
    engine: &Engine,
    who: &Signed,
    l: &Loaded,
    refused: &Refused,
    status: StatusCode,
) -> Response {
    let lang = who.lang;
    let t = &l.task;
    let step = l.def.step(&t.step);
    let dir = engine.store.directory();
    let active = t.state.is_active();
    let body = html! {
        div.process { (l.labels.title) " " a href=(format!("/my/instances/{}", t.id.instance)) { "#" (t.id.instance) } }
        h1 { (t.title) }
        p.meta {
            (lang.t("actions.for")) "：" (l.actions.for_whom)
            @if let Some(due) = &l.actions.due {
                " · " span.due { (lang.t("actions.due")) "：" (due) }
            }
        }
        @if let Some(top) = &refused.top {
            p.alert role="alert" { (top) }
        }
        @if !refused.fields.is_empty() && refused.top.is_none() {
            p.alert role="alert" { (lang.t("task.fix")) }
        }
        @if !l.data.is_empty() {
            h2 { (lang.t("task.data")) }
            dl.data {
                @for (k, v) in &l.data { dt { (k) } dd { (v) } }
            }
        }
        @if !active {
            p.note { (lang.t("task.done")) }
        } @else {
            form method="post" action=(format!("/my/tasks/{}", t.id)) {
                input type="hidden" name="csrf" value=(who.csrf);
                @if t.kind == TaskKind::Sign {
                    label for="f-reason" { (lang.t("task.reason")) }
                    textarea id="f-reason" name="reason" rows="2" { (refused.typed.get("reason").map(String::as_str).unwrap_or("")) }
                    p.actions {
                        button type="submit" name="choice" value="approve" { (lang.t("task.sign")) }
                        " "
                        button.quiet type="submit" name="choice" value="refuse" { (lang.t("task.refuse")) }
                    }
                } @else {
                    @if let Some(step) = step {
                        @for f in &step.fills {
                            @if let Some(field) = l.def.field(&f.field) {
                                (input(
                                    lang,
                                    Input {
                                        name: &f.field,
                                        label: l.labels.field(&f.field),
                                        ty: &field.ty,
                                        required: !f.optional,
                                        typed: refused.typed.get(&f.field).map(String::as_str),
                                        problem: refused.fields.get(&f.field).map(String::as_str),
                                    },
                                    &dir,
                                ))
                            }
                        }
                        p.actions {
                            @match &step.route {
                                Route::Choose(choices) => {
                                    @for c in choices {
                                        button type="submit" name="choice" value=(c.name) { (c.label.as_deref().unwrap_or(&c.name)) }
                                        " "
                                    }
                                }
                                _ => { button type="submit" { (lang.t("task.complete")) } }
                            }
                        }
                    }
                }
            }
        }
        (actions::section(lang, who, l, &refused.typed, &dir))
    };
    html(status, page(lang, &t.title, Some(who), body))
}

/// The page again after one of the other actions was refused: its message at the
/// top, what was typed kept.
pub(super) fn render_refused(
    engine: &Engine,
    who: &Signed,
    l: &Loaded,
    typed: HashMap<String, String>,
    message: String,
    status: StatusCode,
) -> Response {
    let refused = Refused {
        typed,
        fields: BTreeMap::new(),
        top: Some(message),
    };
    render(engine, who, l, &refused, status)
}

pub(super) async fn loaded(
    state: &AppState,
    who: Signed,
    id: &str,
) -> Result<(Signed, Loaded), Response> {
    let lang = who.lang;
    let Ok(id) = id.parse::<TaskId>() else {
        return Err(refusal(lang, StatusCode::NOT_FOUND, "error.404"));
    };
    let engine = state.engine.clone();
    let got = tokio::task::spawn_blocking(move || {
        let r = load(&engine, &who, id);
        (who, r)
    })
    .await;
    match got {
        Ok((who, Ok(Some(l)))) => Ok((who, l)),
        Ok((_, Ok(None))) => Err(refusal(lang, StatusCode::NOT_FOUND, "error.404")),
        Ok((_, Err(StoreError::Rejected(Rejection::Forbidden(_))))) => {
            Err(refusal(lang, StatusCode::FORBIDDEN, "error.403"))
        }
        Ok((_, Err(e))) => Err(store_failure(lang, &e)),
        Err(_) => Err(store_failure(lang, &StoreError::Storage("stopped".into()))),
    }
}

pub async fn show(State(state): State<AppState>, who: Signed, Path(id): Path<String>) -> Response {
    match loaded(&state, who, &id).await {
        Ok((who, l)) => render(&state.engine, &who, &l, &Refused::default(), StatusCode::OK),
        Err(r) => r,
    }
}

/// A typed value as the JSON the engine reads: numbers for numeric fields,
/// true/false for bool, text for the rest; an empty input is left out.
pub(super) fn json_of(ty: &Type, v: &str) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(match ty {
        Type::Integer { .. } | Type::Decimal { .. } => serde_json::from_str::<J>(v)
            .ok()
            .filter(J::is_number)
            .unwrap_or(J::String(v.into())),
        Type::Bool => J::Bool(v == "true"),
        Type::List(l) => J::Array(
            v.lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| {
                    let parts = line.split('|').map(str::trim);
                    J::Object(
                        l.fields
                            .iter()
                            .zip(parts)
                            .filter_map(|(f, p)| Some((f.name.clone(), json_of(&f.ty, p)?)))
                            .collect(),
                    )
                })
                .collect(),
        ),
        _ => J::String(v.into()),
    })
}

/// A refused field's message where its input can show it: an element's field
/// (`action_items[2].owner`) at its list's input, with its place; else `None`.
pub(super) fn problem_of(
    lang: Lang,
    def: &baton_dsl::model::Definition,
    e: &baton_engine::core::FieldError,
    problems: &mut BTreeMap<String, String>,
) -> Option<()> {
    if def.field(&e.field).is_some() {
        problems.insert(e.field.clone(), lang.problem(e));
        return Some(());
    }
    let (list, place) = e.field.split_once('[')?;
    def.field(list)?;
    let line = format!("[{place}: {}", lang.problem(e));
    problems
        .entry(list.to_string())
        .and_modify(|m| {
            m.push_str("; ");
            m.push_str(&line);
        })
        .or_insert(line);
    Some(())
}

pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    // A checkbox sends its hidden "false" and, when ticked, "true": the last wins.
    let bytes = form(req).await;
    if let Err(r) = who.check_csrf(bytes.get("csrf").map(String::as_str)) {
        return *r;
    }
    let (who, l) = match loaded(&state, who, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = who.lang;
    let t = &l.task;
    let mut data = serde_json::Map::new();
    if let Some(step) = l.def.step(&t.step) {
        for f in &step.fills {
            if let (Some(field), Some(v)) = (l.def.field(&f.field), bytes.get(&f.field)) {
                if let Some(j) = json_of(&field.ty, v) {
                    data.insert(f.field.clone(), j);
                }
            }
        }
    }
    let choice = bytes.get("choice").filter(|c| !c.is_empty()).cloned();
    let reason = bytes
        .get("reason")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let cmd = match reason {
        Some(reason) if t.kind == TaskKind::Sign => Command::CompleteWithReason {
            task: t.id,
            choice,
            data,
            reason,
        },
        _ => Command::Complete {
            task: t.id,
            choice,
            data,
        },
    };
    match state
        .engine
        .act_async(t.id.instance, cmd, &who.person, None)
        .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(StoreError::Rejected(r)) => {
            let mut refused = Refused {
                typed: bytes.clone(),
                ..Refused::default()
            };
            let status = match r {
                Rejection::Invalid(errs) => {
                    for e in errs {
                        if problem_of(lang, &l.def, &e, &mut refused.fields).is_none() {
                            refused.top = Some(lang.problem(&e));
                        }
                    }
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Rejection::Requirement { message, .. } => {
                    refused.top = Some(message);
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Rejection::Conflict(_) => {
                    return refusal(lang, StatusCode::CONFLICT, "error.409");
                }
                Rejection::Forbidden(_) => {
                    return refusal(lang, StatusCode::FORBIDDEN, "error.403")
                }
                Rejection::NotFound(_) => return refusal(lang, StatusCode::NOT_FOUND, "error.404"),
                other => {
                    refused.top = Some(other.to_string());
                    StatusCode::UNPROCESSABLE_ENTITY
                }
            };
            render(&state.engine, &who, &l, &refused, status)
        }
        Err(e) => store_failure(lang, &e),
    }
}
