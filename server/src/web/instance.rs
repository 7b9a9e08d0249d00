//! An instance's page: where it stands, its data, its running limits with their
//! deadlines, an incident with its reason, its open tasks, and its history as a
//! timeline (who did what, when, in the company's zone) beside the process's
//! diagram with the current step and the steps it went through filled in.

use super::diagram;
use super::layout::{html, page, refusal, rejected, store_failure};
use super::{Lang, Signed};
use crate::access::Sight;
use crate::extract::Caller;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_engine::core::{Event, Instance, Record, Rejection, Status, TaskId};
use baton_engine::display::{self, Labels, Names};
use baton_engine::messages::Language;
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use baton_engine::view::Shown;
use maud::{html, PreEscaped};
use std::collections::BTreeMap;

struct Loaded {
    shown: Shown,
    history: Vec<Record>,
    labels: Labels,
    def: std::sync::Arc<baton_dsl::model::Definition>,
    names: Names,
}

fn load(state: &AppState, who: &Signed, id: u64) -> Result<Loaded, StoreError> {
    let store = &*state.engine.store;
    let inst = store.instance(id)?;
    let caller = Caller {
        person: who.person.clone(),
        roles: who.roles.clone(),
        admin: who.admin,
    };
    if !Sight::of(store, &caller).instance(store, &inst)? {
        return Err(Rejection::Forbidden("not taking part".into()).into());
    }
    let shown = store.shown(id)?;
    let history = store.history(id)?;
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
    Ok(Loaded {
        shown,
        history,
        labels,
        def,
        names,
    })
}

/// One history entry for people, in the pages' language; None for the engine's
/// own bookkeeping (timers set and cancelled), which says nothing to a reader.
fn describe(
    lang: Lang,
    e: &Event,
    l: &Loaded,
    steps: &BTreeMap<TaskId, String>,
    zone: chrono_tz::Tz,
) -> Option<String> {
    let person = |p: &str| display::person(p, &l.names);
    let values = |d: &baton_engine::core::Data| {
        d.iter()
            .map(|(k, v)| {
                format!(
                    "{}：{}",
                    l.labels.field(k),
                    l.labels.value(k, v, &l.names, zone)
                )
            })
            .collect::<Vec<_>>()
            .join("，")
    };
    let with = |key: &str, pairs: &[(&str, String)]| {
        let mut s = lang.t(key);
        for (k, v) in pairs {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    Some(match e {
        Event::Started { .. } => with("history.started", &[("what", l.labels.title.clone())]),
        Event::StepEntered { step, .. } => with(
            "history.entered",
            &[("step", l.labels.step(step).to_string())],
        ),
        Event::DataSet { values: v } => with("history.set", &[("values", values(v))]),
        Event::TaskCreated { task } => with("history.task", &[("title", task.title.clone())]),
        Event::TaskClaimed { by, .. } => with("history.claimed", &[("who", person(by))]),
        Event::TaskReleased { .. } => lang.t("history.released"),
        Event::TaskCompleted {
            task, choice, data, ..
        } => {
            let mut s = lang.t("history.completed");
            if let Some(c) = choice {
                let step = steps.get(task).map(String::as_str).unwrap_or("");
                s.push_str(&format!("：{}", l.labels.step_choice(step, c)));
            }
            if !data.is_empty() {
                s.push_str(&format!("（{}）", values(data)));
            }
            s
        }
        Event::TaskReassigned { to, .. } => with(
            "history.reassigned",
            &[(
                "who",
                to.people
                    .iter()
                    .map(|p| person(p))
                    .chain(to.roles.iter().map(|r| display::role(r, &l.names)))
                    .collect::<Vec<_>>()
                    .join("、"),
            )],
        ),
        Event::TaskCancelled { .. } => lang.t("history.withdrawn"),
        Event::Signed { approve, .. } => lang.t(if *approve {
            "history.signed"
        } else {
            "history.refused"
        }),
        Event::LimitStarted { limit } => with(
            "history.limit",
            &[
                ("limit", l.labels.limit(&limit.name).to_string()),
                ("when", display::time(limit.deadline, zone)),
            ],
        ),
        Event::LimitBreached { name } => with(
            "history.breached",
            &[("limit", l.labels.limit(name).to_string())],
        ),
        Event::DeadlineExtended { minutes, due, .. } => with(
            "history.extended",
            &[
                ("n", minutes.to_string()),
                ("when", display::time(*due, zone)),
            ],
        ),
        Event::MessageQueued { message } if message.channel.is_none() => with(
            "history.told",
            &[
                (
                    "who",
                    message
                        .to
                        .iter()
                        .map(|p| person(p))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                ("text", message.text.clone()),
            ],
        ),
        Event::ChildStarted { process, .. } => with("history.child", &[("what", process.clone())]),
        Event::ChildFinished { outcome, .. } => {
            with("history.child_ended", &[("end", outcome.clone())])
        }
        Event::Commented { text } => with("history.comment", &[("text", text.clone())]),
        Event::Reasoned { reason, .. } => with("history.reason", &[("text", reason.clone())]),
        Event::Completed { outcome } => with(
            "history.ended",
            &[("end", l.labels.step(outcome).to_string())],
        ),
        Event::Cancelled { reason } => with("history.cancelled", &[("text", reason.clone())]),
        Event::IncidentRaised { reason, .. } => {
            with("history.incident", &[("text", reason.clone())])
        }
        Event::IncidentResolved { .. } => lang.t("history.resolved"),
        Event::BranchStarted { branch } => with(
            "history.branch_started",
            &[("branch", l.labels.branch(branch).to_string())],
        ),
        Event::BranchFinished { branch } => with(
            "history.branch_finished",
            &[("branch", l.labels.branch(branch).to_string())],
        ),
        Event::BranchCancelled { branch } => with(
            "history.branch_cancelled",
            &[("branch", l.labels.branch(branch).to_string())],
        ),
        Event::Joined { .. } => lang.t("history.joined"),
        _ => return None,
    })
}

pub async fn show(State(state): State<AppState>, who: Signed, Path(id): Path<String>) -> Response {
    let lang = who.lang;
    let Ok(id) = id.parse::<u64>() else {
        return refusal(lang, StatusCode::NOT_FOUND, "error.404");
    };
    let st = state.clone();
    let (who, got) = match tokio::task::spawn_blocking(move || {
        let r = load(&st, &who, id);
        (who, r)
    })
    .await
    {
        Ok(x) => x,
        Err(_) => return store_failure(lang, &StoreError::Storage("stopped".into())),
    };
    let l = match got {
        Ok(l) => l,
        Err(e) => return rejected(lang, &e),
    };
    let zone = state.engine.store.zone;
    let inst: &Instance = &l.shown.instance;
    let mut steps = BTreeMap::new();
    let mut visited: Vec<String> = Vec::new();
    let mut timeline = Vec::new();
    for r in &l.history {
        match &r.event {
            Event::TaskCreated { task } => {
                steps.insert(task.id, task.step.clone());
            }
            Event::StepEntered { step, .. } => visited.push(step.clone()),
            Event::Completed { outcome } => visited.push(outcome.clone()),
            _ => {}
        }
        if let Some(what) = describe(lang, &r.event, &l, &steps, zone) {
            timeline.push((
                display::time(r.at, zone),
                display::person(&r.actor, &l.names),
                what,
            ));
        }
    }
    let current: Vec<String> = match (&inst.status, &inst.step, &inst.outcome) {
        (Status::Completed, _, Some(end)) => vec![end.clone()],
        // At a parallel step: the steps its running branches are at, too.
        (_, Some(step), _) => std::iter::once(step.clone())
            .chain(
                inst.branches
                    .iter()
                    .filter_map(|b| inst.branch_step(b).map(str::to_string)),
            )
            .collect(),
        _ => vec![],
    };
    let svg = diagram::svg(&l.def, &current, &visited);
    let where_now = match (&inst.status, &inst.step) {
        (Status::Running | Status::Incident, Some(step)) => {
            lang.t("instance.at").replace("{step}", l.labels.step(step))
        }
        (Status::Completed, _) => lang.t("instance.ended").replace(
            "{end}",
            inst.outcome.as_deref().map_or("", |o| l.labels.step(o)),
        ),
        _ => lang.t("instance.cancelled"),
    };
    let title = format!("{} #{}", l.labels.title, inst.id);
    let body = html! {
        div.process { (l.labels.title) }
        h1 { "#" (inst.id) " · " (where_now) }
        @if let Some(incident) = &l.shown.incident {
            p.alert role="alert" { (lang.t("instance.incident")) "：" (incident.reason) }
        }
        @if !inst.data.is_empty() {
            h2 { (lang.t("task.data")) }
            dl.data {
                @for f in &l.def.fields {
                    @if let Some(v) = inst.data.get(&f.name) {
                        dt { (l.labels.field(&f.name)) }
                        dd { (l.labels.value(&f.name, v, &l.names, zone)) }
                    }
                }
            }
        }
        @if !inst.limits.is_empty() {
            h2 { (lang.t("instance.limits")) }
            ul {
                @for lim in &inst.limits {
                    li class=[lim.breached.then_some("overdue")] {
                        (l.labels.limit(&lim.name)) "：" (display::time(lim.deadline, zone))
                    }
                }
            }
        }
        @let open: Vec<_> = inst.active_tasks().collect();
        @if !open.is_empty() {
            h2 { (lang.t("instance.tasks")) }
            ul {
                @for t in open {
                    li { a href=(format!("/my/tasks/{}", t.id)) { (t.title) } }
                }
            }
        }
        div.split {
            section {
                h2 { (lang.t("instance.history")) }
                ol.timeline {
                    @for (at, by, what) in &timeline {
                        li { time { (at) } " " strong { (by) } " " (what) }
                    }
                }
            }
            @if let Some(svg) = svg {
                section {
                    h2 { (lang.t("processes.diagram")) }
                    figure.diagram role="img" aria-label=(l.labels.title) { (PreEscaped(svg)) }
                }
            }
        }
    };
    html(StatusCode::OK, page(lang, &title, Some(&who), body))
}
