//! The home page: my open tasks, and those offered to my roles that nobody has
//! claimed, soonest due first, each with its process, the instance's key data (the
//! fields given at its start, by their labels) and its due time as people say it.

use super::layout::{html, page, refusal, rejected, store_failure};
use super::{form, Lang, Signed};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_engine::core::{Command, Task, TaskId, TaskState};
use baton_engine::display::{Labels, Names};
use baton_engine::messages::Language;
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use baton_engine::Engine;
use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A task as the home page shows it.
struct Row {
    id: TaskId,
    process: String,
    title: String,
    data: String,
    due: Option<DateTime<Utc>>,
    claimed: bool,
}

/// Tasks for the page: mine (open or claimed by me), then offered to my roles
/// and unclaimed; each list soonest due first (no due time last).
fn rows(engine: &Engine, who: &Signed) -> Result<(Vec<Row>, Vec<Row>), StoreError> {
    let store = &*engine.store;
    let names = Names::of(
        &store.directory(),
        store.zone,
        if who.lang == Lang::En {
            Language::En
        } else {
            Language::ZhHant
        },
    );
    let mut labels: BTreeMap<(String, u32), Arc<Labels>> = BTreeMap::new();
    let mut row = |t: &Task| -> Result<Row, StoreError> {
        let inst = store.instance(t.id.instance)?;
        let key = (inst.process.clone(), inst.version);
        let l = match labels.get(&key) {
            Some(l) => l.clone(),
            None => {
                let def = store.definition(&inst.process, inst.version)?;
                let l = Arc::new(Labels::of(&def));
                labels.insert(key, l.clone());
                l
            }
        };
        let data = l
            .start_fields
            .iter()
            .filter_map(|f| {
                let v = inst.data.get(f)?;
                Some(format!(
                    "{}：{}",
                    l.field(f),
                    l.value(f, v, &names, store.zone)
                ))
            })
            .take(3)
            .collect::<Vec<_>>()
            .join(" · ");
        Ok(Row {
            id: t.id,
            process: l.title.clone(),
            title: t.title.clone(),
            data,
            due: t.due,
            claimed: t.state == TaskState::Claimed,
        })
    };
    let mut seen = BTreeSet::new();
    let mut mine = Vec::new();
    for t in store.tasks_for(&who.person)? {
        let active = matches!(t.state, TaskState::Open | TaskState::Claimed);
        let others = t.assignee.as_deref().is_some_and(|a| a != who.person);
        if active && !others && seen.insert(t.id) {
            mine.push(row(&t)?);
        }
    }
    let mut offered = Vec::new();
    for r in &who.roles {
        for t in store.tasks_for_role(r)? {
            if t.state == TaskState::Open && t.assignee.is_none() && seen.insert(t.id) {
                offered.push(row(&t)?);
            }
        }
    }
    let by_due =
        |a: &Row, b: &Row| (a.due.is_none(), a.due, a.id).cmp(&(b.due.is_none(), b.due, b.id));
    mine.sort_by(by_due);
    offered.sort_by(by_due);
    Ok((mine, offered))
}

/// Due within this long is marked as soon due.
const SOON: i64 = 60;

fn due_cell(
    lang: Lang,
    due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> Markup {
    let class = match due {
        Some(d) if d < now => "due overdue",
        Some(d) if d - now < Duration::minutes(SOON) => "due soon",
        _ => "due",
    };
    let at = due.map(|d| baton_engine::display::time(d, zone));
    html! {
        span class=(class) title=[at.as_deref()] { (lang.due(due, now)) }
    }
}

/// Tasks shown in each list, soonest due first; the rest are counted below it (and
/// in the page's title), so that the page stays light however many a person has.
const SHOWN: usize = 100;

fn list(who: &Signed, rows: &[Row], now: DateTime<Utc>, zone: chrono_tz::Tz, mine: bool) -> Markup {
    let lang = who.lang;
    html! {
        @if rows.is_empty() {
            p { (lang.t("home.none")) }
        } @else {
            // One form for the list, each button posting to its own task: the CSRF
            // token once, not once per task.
            form method="post" action="/" {
                input type="hidden" name="csrf" value=(who.csrf);
                ul.tasks {
                    @for r in rows.iter().take(SHOWN) {
                        li {
                            div.what {
                                div.process { (r.process) " " a href=(format!("/my/instances/{}", r.id.instance)) { "#" (r.id.instance) } }
                                strong { a href=(format!("/my/tasks/{}", r.id)) { (r.title) } }
                                @if !r.data.is_empty() { div.data { (r.data) } }
                            }
                            (due_cell(lang, r.due, now, zone))
                            @let (action, label) = if mine && r.claimed {
                                ("release", lang.t("home.release"))
                            } else {
                                ("claim", lang.t("home.claim"))
                            };
                            button.quiet type="submit" formaction=(format!("/my/tasks/{}/{action}", r.id)) aria-label=(format!("{label}: {}", r.title)) { (label) }
                        }
                    }
                }
            }
            @if rows.len() > SHOWN {
                p { (lang.n("home.more", (rows.len() - SHOWN) as i64)) }
            }
        }
    }
}

/// The lists and the page's title, for the page and for its live updates.
async fn lists(state: &AppState, who: Signed) -> Result<(Signed, String, Markup), Response> {
    let engine = state.engine.clone();
    let lang = who.lang;
    let (who, found) = match tokio::task::spawn_blocking(move || {
        let r = rows(&engine, &who);
        (who, r)
    })
    .await
    {
        Ok(x) => x,
        Err(_) => return Err(store_failure(lang, &StoreError::Storage("stopped".into()))),
    };
    let (mine, offered) = match found {
        Ok(x) => x,
        Err(e) => return Err(store_failure(lang, &e)),
    };
    let now = state.engine.clock.now();
    let zone = state.engine.store.zone;
    let count = mine.len() + offered.len();
    let title = if count > 0 {
        format!("({count}) {}", lang.t("home.title"))
    } else {
        lang.t("home.title")
    };
    let markup = html! {
        h2 { (lang.t("home.mine")) }
        (list(&who, &mine, now, zone, true))
        h2 { (lang.t("home.offered")) }
        (list(&who, &offered, now, zone, false))
    };
    Ok((who, title, markup))
}

/// The few lines of script that keep the lists current without a reload: on each
/// `tasks` event, the new lists and title. The page says which change it shows
/// (`data-seen`), so that the server sends at once only what came after it.
/// Without script the page works the same, refreshed by hand.
const LIVE: &str = "if(window.EventSource){var l=document.getElementById('lists');\
var s=new EventSource('/my/events?seen='+l.dataset.seen);\
s.addEventListener('tasks',function(e){var d=JSON.parse(e.data);\
l.innerHTML=d.html;document.title=d.title;});}";

pub async fn page_handler(State(state): State<AppState>, who: Signed) -> Response {
    let lang = who.lang;
    // Read before the lists: a change while they are built is sent again.
    let seen = *state.engine.store.changes().borrow();
    let (who, title, markup) = match lists(&state, who).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    html(
        StatusCode::OK,
        page(
            lang,
            &title,
            Some(&who),
            html! {
                h1 { (lang.t("home.title")) }
                div id="lists" aria-live="polite" data-seen=(seen) { (markup) }
                script { (maud::PreEscaped(LIVE)) }
            },
        ),
    )
}

/// Server-sent events: the lists as a `tasks` event whenever commands have changed
/// something since the last one (changes that come while one is built are sent
/// together), and at once if something changed since the page was rendered
/// (`seen`, the change it shows).
pub async fn events(
    State(state): State<AppState>,
    who: Signed,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let mut rx = state.engine.store.changes();
    let seen = q.get("seen").and_then(|s| s.parse::<u64>().ok());
    let behind = seen != Some(*rx.borrow_and_update());
    let stream = futures_util::stream::unfold(
        (state, who, rx, behind),
        |(state, who, mut rx, now)| async move {
            if !now {
                rx.changed().await.ok()?;
            }
            rx.borrow_and_update();
            let (who, title, markup) = lists(&state, who).await.ok()?;
            let data = serde_json::json!({ "title": title, "html": markup.into_string() });
            let event = Event::default().event("tasks").data(data.to_string());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (state, who, rx, false),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn act(
    state: AppState,
    who: Signed,
    id: String,
    req: Request,
    make: fn(TaskId) -> Command,
) -> Response {
    let f = form(req).await;
    if let Err(r) = who.check_csrf(f.get("csrf").map(String::as_str)) {
        return *r;
    }
    let Ok(id) = id.parse::<TaskId>() else {
        return refusal(who.lang, StatusCode::NOT_FOUND, "error.404");
    };
    match state
        .engine
        .act_async(id.instance, make(id), &who.person, None)
        .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => rejected(who.lang, &e),
    }
}

pub async fn claim(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(state, who, id, req, |task| Command::Claim { task }).await
}

pub async fn release(
    State(state): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(state, who, id, req, |task| Command::Release { task }).await
}
