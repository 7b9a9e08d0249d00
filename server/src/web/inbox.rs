//! My notifications: reminders, escalations, breaches and notices, unread first and
//! newest first, each with its instance; mark one or all as read. The count of the
//! unread ones is a badge on every page.

use super::layout::{html, page, store_failure};
use super::{form, Signed};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_engine::display;
use baton_engine::store::prelude::*;
use baton_engine::store::{OutboxRecord, StoreError};
use baton_engine::Engine;
use maud::html;

/// The most notifications a page shows (and the badge counts).
pub const MAX: usize = 200;

/// The notifications above what the person read up to, and which of them they read.
fn recent(engine: &Engine, person: &str) -> Result<(Vec<OutboxRecord>, Vec<u64>), StoreError> {
    let store = &*engine.store;
    let (up_to, above) = store.read_marks(person)?;
    let items = store.inbox(person, up_to, MAX)?;
    let read = items
        .iter()
        .map(|m| m.id)
        .filter(|id| above.contains(id))
        .collect();
    Ok((items, read))
}

pub fn unread_count(engine: &Engine, person: &str) -> Result<usize, StoreError> {
    let (items, read) = recent(engine, person)?;
    Ok(items.len() - read.len())
}

pub async fn page_handler(State(state): State<AppState>, who: Signed) -> Response {
    let lang = who.lang;
    let engine = state.engine.clone();
    let person = who.person.clone();
    let got = tokio::task::spawn_blocking(move || recent(&engine, &person)).await;
    let (mut items, read) = match got {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return store_failure(lang, &e),
        Err(_) => return store_failure(lang, &StoreError::Storage("stopped".into())),
    };
    // Unread first, newest first within each.
    items.sort_by_key(|m| (read.contains(&m.id), std::cmp::Reverse(m.id)));
    let zone = state.engine.store.zone;
    let newest = items.iter().map(|m| m.id).max().unwrap_or(0);
    let body = html! {
        h1 { (lang.t("inbox.title")) }
        @if items.is_empty() {
            p { (lang.t("inbox.none")) }
        } @else {
            form method="post" action="/my/inbox/read" {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="all" value=(newest);
                button.quiet type="submit" { (lang.t("inbox.read_all")) }
            }
            ul.tasks {
                @for m in &items {
                    @let unread = !read.contains(&m.id);
                    li class=[unread.then_some("unread")] {
                        div.what {
                            div.process {
                                time { (display::time(m.at, zone)) }
                                " " a href=(format!("/my/instances/{}", m.instance)) { "#" (m.instance) }
                            }
                            @if unread { strong { (m.message.text) } } @else { span { (m.message.text) } }
                        }
                        @if unread {
                            form method="post" action="/my/inbox/read" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="id" value=(m.id);
                                button.quiet type="submit" { (lang.t("inbox.read")) }
                            }
                        }
                    }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        page(lang, &lang.t("inbox.title"), Some(&who), body),
    )
}

/// Mark one notification (`id`) or every one up to `all` as read.
pub async fn read(State(state): State<AppState>, who: Signed, req: Request) -> Response {
    let f = form(req).await;
    if let Err(r) = who.check_csrf(f.get("csrf").map(String::as_str)) {
        return *r;
    }
    let number = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok());
    let (id, all) = match (number("id"), number("all")) {
        (Some(id), _) => (id, false),
        (None, Some(up_to)) => (up_to, true),
        _ => return Redirect::to("/my/inbox").into_response(),
    };
    let engine = state.engine.clone();
    let person = who.person.clone();
    match tokio::task::spawn_blocking(move || engine.store.mark_read(&person, id, all)).await {
        Ok(Ok(())) => Redirect::to("/my/inbox").into_response(),
        Ok(Err(e)) => store_failure(who.lang, &e),
        Err(_) => store_failure(who.lang, &StoreError::Storage("stopped".into())),
    }
}
