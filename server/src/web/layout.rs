//! The frame of every page, and the pages for refusals.

use super::{Lang, Signed};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_engine::store::StoreError;
use maud::{html, Markup, DOCTYPE};

/// A whole page: the header (with the person and sign-out when signed in) and
/// `body`.
pub fn page(lang: Lang, title: &str, who: Option<&Signed>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("app")) }
                link rel="stylesheet" href="/static/baton.css";
            }
            body {
                header {
                    a href="/" { strong { (lang.t("app")) } }
                    @if let Some(w) = who {
                        nav {
                            a href="/my/inbox" {
                                (lang.t("inbox.title"))
                                @if w.unread > 0 {
                                    " " span.badge aria-label=(lang.n("inbox.unread", w.unread as i64)) { (w.unread) }
                                }
                            }
                            " · "
                            a href="/start" { (lang.t("start.title")) }
                            " · "
                            a href="/processes" { (lang.t("processes.title")) }
                            @if w.manager {
                                " · "
                                a href="/overview" { (lang.t("overview.title")) }
                            }
                            @if w.admin {
                                " · "
                                a href="/admin/incidents" { (lang.t("incidents.title")) }
                            }
                        }
                        form method="post" action="/signout" {
                            span { (w.name) " " }
                            input type="hidden" name="csrf" value=(w.csrf);
                            button type="submit" { (lang.t("signout")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An HTML answer.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A refusal's page, in the pages' language.
pub fn refusal(lang: Lang, status: StatusCode, key: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("");
    html(
        status,
        page(
            lang,
            title,
            None,
            html! {
                h1 { (status.as_u16()) }
                p.alert role="alert" { (lang.t(key)) }
                p { a href="/" { (lang.t("home.title")) } }
            },
        ),
    )
}

/// A command or a read the engine refused, as its page: 404, 403 and 409 in the
/// pages' language; anything else is the store's failure.
pub fn rejected(lang: Lang, e: &StoreError) -> Response {
    use baton_engine::core::Rejection;
    match e {
        StoreError::Rejected(Rejection::NotFound(_)) => {
            refusal(lang, StatusCode::NOT_FOUND, "error.404")
        }
        StoreError::Rejected(Rejection::Forbidden(_)) => {
            refusal(lang, StatusCode::FORBIDDEN, "error.403")
        }
        StoreError::Rejected(Rejection::Conflict(_)) => {
            refusal(lang, StatusCode::CONFLICT, "error.409")
        }
        e => store_failure(lang, e),
    }
}

/// The store could not answer: 503 with the reason, never a 500.
pub fn store_failure(lang: Lang, e: &StoreError) -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            lang,
            "503",
            None,
            html! { h1 { "503" } p.alert role="alert" { (e.to_string()) } },
        ),
    )
}
