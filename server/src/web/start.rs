//! Starting a process: the processes I may start, with their descriptions, and a
//! start form generated from each one's data (the fields given at start, with
//! their labels; required ones marked). A refusal comes back as its message.

use super::layout::{html, page, refusal, store_failure};
use super::task::{input, json_of, Input};
use super::{form, Signed};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_dsl::model::{Definition, FieldSource};
use baton_engine::core::Rejection;
use baton_engine::display::Labels;
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use maud::html;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The fields the start form asks for: those given at start, but for the optional
/// ones a step fills later (declared in the data block for their labels, they are
/// that step's to fill, not the starter's).
fn asked(def: &Definition) -> impl Iterator<Item = &baton_dsl::model::Field> {
    def.fields.iter().filter(|f| {
        f.source == FieldSource::Start
            && !(f.optional
                && def
                    .steps
                    .iter()
                    .any(|s| s.fills.iter().any(|fill| fill.field == f.name)))
    })
}

/// May `who` start `def` by hand? Its `started by` roles (anyone when it names
/// none), or an admin.
fn may_start(who: &Signed, def: &Definition) -> bool {
    who.admin || def.started_by.is_empty() || def.started_by.iter().any(|r| who.roles.contains(r))
}

pub async fn list(State(state): State<AppState>, who: Signed) -> Response {
    let store = &state.engine.store;
    let mut found: Vec<(String, String, Option<String>)> = Vec::new();
    for (name, _) in store.process_names() {
        let def = match store.latest(&name) {
            Ok((_, d)) => d,
            Err(e) => return store_failure(who.lang, &e),
        };
        if may_start(&who, &def) {
            let title = def.title.clone().unwrap_or_else(|| name.clone());
            found.push((name, title, def.description.clone()));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    let lang = who.lang;
    let body = html! {
        h1 { (lang.t("start.title")) }
        @if found.is_empty() {
            p { (lang.t("start.none")) }
        } @else {
            ul.tasks {
                @for (name, title, description) in &found {
                    li {
                        div.what {
                            strong { a href=(format!("/start/{name}")) { (title) } }
                            @if let Some(d) = description { div.data { (d) } }
                        }
                    }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        page(lang, &lang.t("start.title"), Some(&who), body),
    )
}

/// What the form shows again after a refusal.
#[derive(Default)]
struct Again<'a> {
    typed: HashMap<String, String>,
    problems: BTreeMap<String, String>,
    top: Option<&'a str>,
}

fn start_page(
    who: &Signed,
    name: &str,
    def: &Definition,
    again: &Again<'_>,
    status: StatusCode,
    dir: &baton_engine::staff::Directory,
) -> Response {
    let Again {
        typed,
        problems,
        top,
    } = again;
    let top = *top;
    let lang = who.lang;
    let labels = Labels::of(def);
    let title = def.title.clone().unwrap_or_else(|| name.to_string());
    let body = html! {
        h1 { (title) }
        @if let Some(d) = &def.description { p { (d) } }
        @if let Some(top) = top { p.alert role="alert" { (top) } }
        @if !problems.is_empty() && top.is_none() { p.alert role="alert" { (lang.t("task.fix")) } }
        form method="post" action=(format!("/start/{name}")) {
            input type="hidden" name="csrf" value=(who.csrf);
            @for f in asked(def) {
                (input(lang, Input {
                    name: &f.name,
                    label: labels.field(&f.name),
                    ty: &f.ty,
                    required: !f.optional && f.default.is_none(),
                    typed: typed.get(&f.name).map(String::as_str),
                    problem: problems.get(&f.name).map(String::as_str),
                }, dir))
            }
            p.actions { button type="submit" { (lang.t("start.submit")) } }
        }
    };
    html(status, page(lang, &title, Some(who), body))
}

fn startable(state: &AppState, who: &Signed, name: &str) -> Result<Arc<Definition>, Box<Response>> {
    match state.engine.store.latest(name) {
        Ok((_, def)) if may_start(who, &def) => Ok(def),
        Ok(_) => Err(Box::new(refusal(
            who.lang,
            StatusCode::FORBIDDEN,
            "error.403",
        ))),
        Err(StoreError::Rejected(Rejection::NotFound(_))) => Err(Box::new(refusal(
            who.lang,
            StatusCode::NOT_FOUND,
            "error.404",
        ))),
        Err(e) => Err(Box::new(store_failure(who.lang, &e))),
    }
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(name): Path<String>,
) -> Response {
    let def = match startable(&state, &who, &name) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let dir = state.engine.store.directory();
    start_page(&who, &name, &def, &Again::default(), StatusCode::OK, &dir)
}

pub async fn submit(
    State(state): State<AppState>,
    who: Signed,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let typed = form(req).await;
    if let Err(r) = who.check_csrf(typed.get("csrf").map(String::as_str)) {
        return *r;
    }
    let def = match startable(&state, &who, &name) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let mut data = serde_json::Map::new();
    for f in asked(&def) {
        if let Some(j) = typed.get(&f.name).and_then(|v| json_of(&f.ty, v)) {
            data.insert(f.name.clone(), j);
        }
    }
    let lang = who.lang;
    let refused = |problems: BTreeMap<String, String>, top: Option<String>| {
        let dir = state.engine.store.directory();
        let again = Again {
            typed: typed.clone(),
            problems,
            top: top.as_deref(),
        };
        start_page(
            &who,
            &name,
            &def,
            &again,
            StatusCode::UNPROCESSABLE_ENTITY,
            &dir,
        )
    };
    match state
        .engine
        .start_async(&name, data, &who.person, None)
        .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(StoreError::Rejected(Rejection::Invalid(errs))) => {
            let mut problems = BTreeMap::new();
            let mut top = None;
            for e in errs {
                if super::task::problem_of(lang, &def, &e, &mut problems).is_none() {
                    top = Some(lang.problem(&e));
                }
            }
            refused(problems, top)
        }
        Err(StoreError::Rejected(Rejection::Requirement { message, .. })) => {
            refused(BTreeMap::new(), Some(message))
        }
        Err(StoreError::Rejected(Rejection::Forbidden(_))) => {
            refusal(lang, StatusCode::FORBIDDEN, "error.403")
        }
        Err(StoreError::Rejected(r)) => refused(BTreeMap::new(), Some(r.to_string())),
        Err(e) => store_failure(lang, &e),
    }
}
