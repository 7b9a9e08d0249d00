//! Processes: every deployed process with its versions, and each one's diagram
//! (drawn by the binary) and source, read-only; for admins, the definition files
//! the last deploy refused, with each diagnostic and the lines it points at.

use super::layout::{html, page, refusal, store_failure};
use super::Signed;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_engine::core::Rejection;
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use maud::{html, PreEscaped};
use std::collections::HashMap;

pub async fn list(State(state): State<AppState>, who: Signed) -> Response {
    let lang = who.lang;
    let store = &state.engine.store;
    let mut rows = Vec::new();
    for (name, latest) in store.process_names() {
        match store.latest(&name) {
            Ok((_, def)) => rows.push((
                name.clone(),
                def.title.clone().unwrap_or(name),
                def.description.clone(),
                latest,
            )),
            Err(e) => return store_failure(lang, &e),
        }
    }
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    // What the log says of a refused file, for those who can fix it.
    let refused = if who.admin {
        state.engine.refused_files()
    } else {
        Vec::new()
    };
    let zone = state.engine.store.zone;
    let body = html! {
        h1 { (lang.t("processes.title")) }
        @if !refused.is_empty() {
            section.refused {
                h2 { (lang.t("processes.refused")) }
                p.alert role="alert" { (lang.t("processes.refused_note")) }
                @for r in &refused {
                    h3 {
                        code { (file_name(&r.file)) }
                        " · " (baton_engine::display::time(r.when, zone))
                    }
                    @if let Some(other) = &r.other { p { (other) } }
                    ul.diagnostics {
                        @for (d, rendered) in &r.problems {
                            li {
                                strong { (d.diagnostic.code) } " "
                                (lang.t("processes.at").replace("{line}", &d.line.to_string()).replace("{column}", &d.column.to_string()))
                                "：" (d.diagnostic.message)
                                @if let Some(help) = &d.diagnostic.help {
                                    div.hint { (lang.t("processes.help")) "：" (help) }
                                }
                                pre.source tabindex="0" { code { (rendered) } }
                            }
                        }
                    }
                }
            }
        }
        ul.tasks {
            @for (name, title, description, latest) in &rows {
                li {
                    div.what {
                        strong { a href=(format!("/processes/{name}")) { (title) } }
                        @if let Some(d) = description { div.data { (d) } }
                    }
                    span.due { (lang.n("processes.version", i64::from(*latest))) }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        page(lang, &lang.t("processes.title"), Some(&who), body),
    )
}

/// A file by its name in the folder: where the folder is, is the server's business.
fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

pub async fn show(
    State(state): State<AppState>,
    who: Signed,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = who.lang;
    let store = state.engine.store.clone();
    let latest = match store.latest(&name) {
        Ok((v, _)) => v,
        Err(StoreError::Rejected(Rejection::NotFound(_))) => {
            return refusal(lang, StatusCode::NOT_FOUND, "error.404")
        }
        Err(e) => return store_failure(lang, &e),
    };
    let version = match q.get("version").map(|v| v.parse::<u32>()) {
        None => latest,
        Some(Ok(v)) if (1..=latest).contains(&v) => v,
        Some(_) => return refusal(lang, StatusCode::NOT_FOUND, "error.404"),
    };
    let stored =
        match tokio::task::spawn_blocking(move || store.stored_definition(&name, version)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return store_failure(lang, &e),
            Err(_) => return store_failure(lang, &StoreError::Storage("stopped".into())),
        };
    let def = &stored.definition;
    let title = def.title.clone().unwrap_or_else(|| stored.name.clone());
    let svg = super::diagram::svg(def, &[], &[]);
    let zone = state.engine.store.zone;
    let body = html! {
        h1 { (title) }
        @if let Some(d) = &def.description { p { (d) } }
        p {
            (lang.n("processes.version", i64::from(stored.version)))
            " · " (baton_engine::display::time(stored.deployed_at, zone))
        }
        @if latest > 1 {
            nav.versions aria-label=(lang.t("processes.versions")) {
                @for v in (1..=latest).rev() {
                    @if v == stored.version {
                        strong { (v) } " "
                    } @else {
                        a href=(format!("/processes/{}?version={v}", stored.name)) { (v) } " "
                    }
                }
            }
        }
        h2 { (lang.t("processes.diagram")) }
        @if let Some(svg) = svg {
            figure.diagram role="img" aria-label=(title) { (PreEscaped(svg)) }
        }
        h2 { (lang.t("processes.source")) }
        // Focusable: wider than a phone, it scrolls sideways, and arrow keys must
        // reach what is off screen as a finger does.
        pre.source tabindex="0" { code { (stored.source) } }
    };
    html(StatusCode::OK, page(lang, &title, Some(&who), body))
}
