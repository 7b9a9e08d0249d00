//! What else a task's page offers besides doing the task: the instance's comments
//! and a box to add one (whoever sees the instance), handing the task on and asking
//! for more time (only to those the engine would let through, by the same rules it
//! applies: `core::may`). Each form posts to its own address and comes back to the
//! task's page; a refusal is the page's message.

use super::layout::rejected;
use super::task::{input, json_of, loaded, Input, Loaded};
use super::{form, Lang, Signed};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_dsl::model::Definition;
use baton_engine::core::{extension_minutes, may, Command, Event, Instance, Rejection, Status};
use baton_engine::display::{self, Labels, Names};
use baton_engine::store::prelude::*;
use baton_engine::store::{Store, StoreError};
use baton_engine::Engine;
use maud::{html, Markup};
use std::collections::HashMap;

/// A comment as the page shows it.
pub(super) struct Comment {
    pub when: String,
    pub who: String,
    pub text: String,
}

/// A deadline the person may ask more time for.
pub(super) struct Extendable {
    /// `step`, or `limit:NAME`: the form's value.
    pub key: String,
    pub label: String,
    pub due: String,
    /// The fields its condition reads (`when customer_consents`), asked along.
    pub reads: Vec<String>,
}

/// The comments and what the person may do besides the task itself.
#[derive(Default)]
pub(super) struct Actions {
    pub comments: Vec<Comment>,
    /// Who the task is for now: its holder, or the people and roles offered it.
    pub for_whom: String,
    pub due: Option<String>,
    pub hand_on: bool,
    pub extend: Vec<Extendable>,
}

/// The fields a condition reads, each once.
fn reads(when: Option<&baton_dsl::model::Expr>) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(c) = when {
        c.fields(&mut names);
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

pub(super) fn load(
    store: &Store,
    who: &Signed,
    task: &baton_engine::core::Task,
    inst: &Instance,
    def: &Definition,
    labels: &Labels,
    names: &Names,
) -> Result<Actions, StoreError> {
    let zone = store.zone;
    let comments = store
        .history(inst.id)?
        .into_iter()
        .filter_map(|r| match r.event {
            Event::Commented { text } => Some(Comment {
                when: display::time(r.at, zone),
                who: display::person(&r.actor, names),
                text,
            }),
            _ => None,
        })
        .collect();
    let for_whom = match &task.assignee {
        Some(a) => display::person(a, names),
        None => task
            .candidates
            .people
            .iter()
            .map(|p| display::person(p, names))
            .chain(
                task.candidates
                    .roles
                    .iter()
                    .map(|r| display::role(r, names)),
            )
            .collect::<Vec<_>>()
            .join("、"),
    };
    let mut a = Actions {
        comments,
        for_whom,
        due: task.due.map(|d| display::time(d, zone)),
        ..Actions::default()
    };
    if !task.state.is_active() || inst.status != Status::Running {
        return Ok(a);
    }
    let dir = store.directory();
    let admin_role = store.admin_role.as_str();
    a.hand_on = may::hand_on(&dir, admin_role, task, &who.person);
    if may::extend(&dir, admin_role, inst, &who.person) {
        // The step's own due time, where the step allows more of it.
        let step = inst.step.as_deref().and_then(|s| def.step(s));
        if let (Some(step), Some(due)) = (step, inst.due) {
            if let Some(ext) = &step.extend {
                a.extend.push(Extendable {
                    key: "step".into(),
                    label: labels.step(&step.name).to_string(),
                    due: display::time(due, zone),
                    reads: reads(ext.when.as_ref()),
                });
            }
        }
        for l in &inst.limits {
            let Some(ext) = def
                .limits
                .iter()
                .find(|d| d.name == l.name)
                .and_then(|d| d.extend.as_ref())
            else {
                continue;
            };
            a.extend.push(Extendable {
                key: format!("limit:{}", l.name),
                label: labels.limit(&l.name).to_string(),
                due: display::time(l.deadline, zone),
                reads: reads(ext.when.as_ref()),
            });
        }
    }
    Ok(a)
}

/// The comments, then the forms the person may use.
pub(super) fn section(
    lang: Lang,
    who: &Signed,
    l: &Loaded,
    typed: &HashMap<String, String>,
    dir: &baton_engine::staff::Directory,
) -> Markup {
    let a = &l.actions;
    let t = &l.task;
    let typed_of = |k: &str| typed.get(k).map(String::as_str);
    let mut asked: Vec<&str> = Vec::new();
    for e in &a.extend {
        for f in &e.reads {
            if !asked.contains(&f.as_str()) {
                asked.push(f);
            }
        }
    }
    html! {
        @if a.hand_on {
            section.hand-on {
                h2 { (lang.t("actions.reassign")) }
                form method="post" action=(format!("/my/tasks/{}/reassign", t.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="a-to" { (lang.t("actions.to")) }
                    select id="a-to" name="to" required {
                        option value="" { "—" }
                        @for p in &dir.people {
                            option value=(p.id) selected[typed_of("to") == Some(p.id.as_str())] { (p.name) }
                        }
                    }
                    " "
                    button type="submit" { (lang.t("actions.reassign_submit")) }
                }
            }
        }
        @if !a.extend.is_empty() {
            section.extend {
                h2 { (lang.t("actions.extend")) }
                form method="post" action=(format!("/my/tasks/{}/extend", t.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="a-what" { (lang.t("actions.deadline")) }
                    select id="a-what" name="what" {
                        @for e in &a.extend {
                            option value=(e.key) selected[typed_of("what") == Some(e.key.as_str())] {
                                (e.label) "：" (e.due)
                            }
                        }
                    }
                    div.field {
                        label for="a-amount" { (lang.t("actions.by")) }
                        input type="number" id="a-amount" name="amount" min="1" step="1" required
                            value=(typed_of("amount").unwrap_or(""));
                        " "
                        select name="unit" aria-label=(lang.t("actions.unit")) {
                            @for (u, key) in [("m", "actions.minutes"), ("h", "actions.hours"), ("d", "actions.days")] {
                                option value=(u) selected[typed_of("unit").unwrap_or("h") == u] { (lang.t(key)) }
                            }
                        }
                    }
                    @for f in &asked {
                        @if let Some(field) = l.def.field(f) {
                            (input(
                                lang,
                                Input {
                                    name: f,
                                    label: l.labels.field(f),
                                    ty: &field.ty,
                                    required: false,
                                    typed: typed_of(f),
                                    problem: None,
                                },
                                dir,
                            ))
                        }
                    }
                    p.actions { button type="submit" { (lang.t("actions.extend_submit")) } }
                }
            }
        }
        section.comments {
            h2 { (lang.t("actions.comments")) }
            @if a.comments.is_empty() {
                p.hint { (lang.t("actions.no_comments")) }
            } @else {
                ol.timeline {
                    @for c in &a.comments {
                        li { time { (c.when) } " " strong { (c.who) } " " (c.text) }
                    }
                }
            }
            form method="post" action=(format!("/my/tasks/{}/comment", t.id)) {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="a-comment" { (lang.t("actions.comment")) }
                textarea id="a-comment" name="text" rows="3" required { (typed_of("text").unwrap_or("")) }
                p.actions { button type="submit" { (lang.t("actions.comment_submit")) } }
            }
        }
    }
}

/// The task's page again with the refusal's message at the top, what was typed
/// kept; 404, 409 and a refusal to someone the form was not offered to as their
/// pages.
fn refused(
    engine: &Engine,
    who: &Signed,
    l: &Loaded,
    typed: HashMap<String, String>,
    offered: bool,
    e: StoreError,
) -> Response {
    let (status, message) = match e {
        StoreError::Rejected(Rejection::Invalid(errs)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.iter()
                .map(|e| who.lang.problem(e))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        StoreError::Rejected(Rejection::Requirement { message, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        // Offered the form, refused all the same (the definition's condition, its
        // cap): the reason matters to them.
        StoreError::Rejected(Rejection::Forbidden(m)) if offered => (StatusCode::FORBIDDEN, m),
        e => return rejected(who.lang, &e),
    };
    super::task::render_refused(engine, who, l, typed, message, status)
}

/// What every action's post does first: the form, its token, the task as the
/// person sees it.
async fn posted(
    state: &AppState,
    who: Signed,
    id: &str,
    req: Request,
) -> Result<(Signed, Loaded, HashMap<String, String>), Response> {
    let sent = form(req).await;
    if let Err(r) = who.check_csrf(sent.get("csrf").map(String::as_str)) {
        return Err(*r);
    }
    let (who, l) = loaded(state, who, id).await?;
    Ok((who, l, sent))
}

fn back(l: &Loaded) -> Response {
    Redirect::to(&format!("/my/tasks/{}", l.task.id)).into_response()
}

pub async fn comment(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (who, l, sent) = match posted(&state, who, &id, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Seeing the task is seeing its instance (`loaded` checked it): the rule the
    // JSON API applies to comments.
    let text = sent
        .get("text")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let cmd = Command::Comment { text };
    match state
        .engine
        .act_async(l.task.id.instance, cmd, &who.person, None)
        .await
    {
        Ok(_) => back(&l),
        Err(e) => refused(&state.engine, &who, &l, sent, true, e),
    }
}

pub async fn reassign(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (who, l, sent) = match posted(&state, who, &id, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let to = sent.get("to").cloned().unwrap_or_default();
    let cmd = Command::Reassign {
        task: l.task.id,
        to,
    };
    match state
        .engine
        .act_async(l.task.id.instance, cmd, &who.person, None)
        .await
    {
        Ok(_) => back(&l),
        Err(e) => {
            let offered = l.actions.hand_on;
            refused(&state.engine, &who, &l, sent, offered, e)
        }
    }
}

pub async fn extend(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (who, l, sent) = match posted(&state, who, &id, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let offered = !l.actions.extend.is_empty();
    let what = sent.get("what").map(String::as_str).unwrap_or("step");
    let limit = what.strip_prefix("limit:").map(str::to_string);
    let by = format!(
        "{}{}",
        sent.get("amount").map(|a| a.trim()).unwrap_or(""),
        sent.get("unit").map(String::as_str).unwrap_or("h")
    );
    let minutes = match extension_minutes(&by) {
        Ok(m) => m,
        Err(e) => {
            let e = StoreError::Rejected(Rejection::Invalid(vec![e]));
            return refused(&state.engine, &who, &l, sent, offered, e);
        }
    };
    // Only the fields the chosen deadline's condition reads go along: the engine
    // refuses any other from someone not an admin.
    let mut data = serde_json::Map::new();
    if let Some(e) = l.actions.extend.iter().find(|e| e.key == what) {
        for f in &e.reads {
            if let (Some(field), Some(v)) = (l.def.field(f), sent.get(f)) {
                if let Some(j) = json_of(&field.ty, v) {
                    data.insert(f.clone(), j);
                }
            }
        }
    }
    let cmd = Command::Extend {
        limit,
        minutes,
        data,
    };
    match state
        .engine
        .act_async(l.task.id.instance, cmd, &who.person, None)
        .await
    {
        Ok(_) => back(&l),
        Err(e) => refused(&state.engine, &who, &l, sent, offered, e),
    }
}
