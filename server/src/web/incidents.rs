//! Incidents, for admins: every instance Baton could not carry on by itself, since
//! when and why, with what was being attempted; retry it (once the cause is fixed),
//! move it to a step or an end of its process, or cancel it with a reason.

use super::layout::{html, page, refusal, store_failure};
use super::{form, Signed};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baton_engine::core::{Command, Rejection};
use baton_engine::display::{self, Labels};
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use maud::html;

/// As many as one page shows; the rest follow once these are resolved.
const SHOWN: usize = 200;

pub async fn list(State(state): State<AppState>, who: Signed) -> Response {
    let lang = who.lang;
    if !who.admin {
        return refusal(lang, StatusCode::FORBIDDEN, "error.403");
    }
    let store = &state.engine.store;
    let page_of = match store.incidents(None, SHOWN) {
        Ok(p) => p,
        Err(e) => return store_failure(lang, &e),
    };
    let zone = store.zone;
    let mut rows = Vec::new();
    for i in &page_of.items {
        let inst = match store.instance(i.instance) {
            Ok(x) => x,
            Err(e) => return store_failure(lang, &e),
        };
        let def = match store.definition(&inst.process, inst.version) {
            Ok(d) => d,
            Err(e) => return store_failure(lang, &e),
        };
        let labels = Labels::of(&def);
        // Where it may be moved: every step and end, by title.
        let targets: Vec<(String, String)> = def
            .steps
            .iter()
            .map(|s| (s.name.clone(), labels.step(&s.name).to_string()))
            .chain(
                def.ends
                    .iter()
                    .map(|e| (e.name.clone(), labels.step(&e.name).to_string())),
            )
            .collect();
        rows.push((i, labels.title.clone(), targets));
    }
    let body = html! {
        h1 { (lang.t("incidents.title")) }
        @if rows.is_empty() {
            p { (lang.t("incidents.none")) }
        }
        @for (i, title, targets) in &rows {
            section.incident {
                h2 { (title) " " a href=(format!("/my/instances/{}", i.instance)) { "#" (i.instance) } }
                p { (lang.t("incidents.since")) " " (display::time(i.at, zone)) }
                p.alert { (i.reason) }
                p.data { (lang.t("incidents.attempted")) "：" (i.attempted.to_string()) }
                form method="post" action=(format!("/admin/incidents/{}/retry", i.instance)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button type="submit" { (lang.t("incidents.retry")) }
                }
                form method="post" action=(format!("/admin/incidents/{}/move", i.instance)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for=(format!("to-{}", i.instance)) { (lang.t("incidents.move_to")) }
                    select id=(format!("to-{}", i.instance)) name="step" required {
                        @for (name, label) in targets { option value=(name) { (label) } }
                    }
                    " "
                    button.quiet type="submit" { (lang.t("incidents.move")) }
                }
                form method="post" action=(format!("/admin/incidents/{}/cancel", i.instance)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for=(format!("why-{}", i.instance)) { (lang.t("incidents.reason")) }
                    input type="text" id=(format!("why-{}", i.instance)) name="reason" required;
                    " "
                    button.quiet type="submit" { (lang.t("incidents.cancel")) }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        page(lang, &lang.t("incidents.title"), Some(&who), body),
    )
}

/// An admin's act on an incident; back to the list, or the refusal's message.
pub async fn act(
    State(state): State<AppState>,
    who: Signed,
    Path((id, what)): Path<(String, String)>,
    req: Request,
) -> Response {
    let lang = who.lang;
    let f = form(req).await;
    if let Err(r) = who.check_csrf(f.get("csrf").map(String::as_str)) {
        return *r;
    }
    if !who.admin {
        return refusal(lang, StatusCode::FORBIDDEN, "error.403");
    }
    let Ok(id) = id.parse::<u64>() else {
        return refusal(lang, StatusCode::NOT_FOUND, "error.404");
    };
    let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let cmd = match what.as_str() {
        "retry" => Command::Retry {
            data: serde_json::Map::new(),
            attempted: None,
        },
        "move" => Command::Move { step: text("step") },
        "cancel" => Command::Cancel {
            reason: text("reason"),
        },
        _ => return refusal(lang, StatusCode::NOT_FOUND, "error.404"),
    };
    match state.engine.act_async(id, cmd, &who.person, None).await {
        Ok(_) => Redirect::to("/admin/incidents").into_response(),
        Err(StoreError::Rejected(Rejection::NotFound(_))) => {
            refusal(lang, StatusCode::NOT_FOUND, "error.404")
        }
        Err(StoreError::Rejected(Rejection::Forbidden(_))) => {
            refusal(lang, StatusCode::FORBIDDEN, "error.403")
        }
        // Still failing, or a move the data does not allow: the reason, in words.
        Err(StoreError::Rejected(r)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                lang,
                &lang.t("incidents.title"),
                Some(&who),
                html! {
                    h1 { (lang.t("incidents.title")) }
                    p.alert role="alert" { (r.to_string()) }
                    p { a href="/admin/incidents" { (lang.t("incidents.back")) } }
                },
            ),
        ),
        Err(e) => store_failure(lang, &e),
    }
}
