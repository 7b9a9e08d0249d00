//! Signing in and out, and setting a password through an invitation.

use super::layout::{html, page, store_failure};
use super::{address, cookie, form, lang_of, same, secure, set_cookie, Lang, Signed, PRE, SESSION};
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use baton_engine::core::Rejection;
use baton_engine::logins;
use baton_engine::store::StoreError;
use maud::{html, Markup};
use std::collections::HashMap;

fn random() -> String {
    let mut b = [0u8; 32];
    // Without randomness the doubled token is empty and no sign-in passes its check.
    let _ = getrandom::fill(&mut b);
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn signin_page(lang: Lang, pre: &str, person: &str, message: Option<(&str, String)>) -> Markup {
    page(
        lang,
        &lang.t("signin.title"),
        None,
        html! {
            h1 { (lang.t("signin.title")) }
            @if let Some((class, text)) = message {
                p class=(class) role="alert" { (text) }
            }
            form method="post" action="/signin" {
                input type="hidden" name="csrf" value=(pre);
                label for="person" { (lang.t("signin.person")) }
                input type="text" id="person" name="person" value=(person) autocomplete="username" required autofocus;
                label for="password" { (lang.t("signin.password")) }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { (lang.t("signin.submit")) } }
            }
        },
    )
}

/// The sign-in form, with a fresh doubled CSRF token.
fn signin_answer(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    person: &str,
    message: Option<(&str, String)>,
) -> Response {
    let lang = lang_of(headers);
    let pre = random();
    let mut res = html(status, signin_page(lang, &pre, person, message));
    if let Ok(v) = set_cookie(PRE, &pre, None, secure(headers, &state.web.settings)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn form_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let message = if q.contains_key("expired") {
        Some(("alert", lang.t("signin.expired")))
    } else if q.contains_key("welcome") {
        Some(("note", lang.t("welcome.done")))
    } else {
        None
    };
    signin_answer(&headers, &state, StatusCode::OK, "", message)
}

pub async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = parts.headers.clone();
    let lang = lang_of(&headers);
    let addr = address(&parts, &state.web.settings);
    let f = form(Request::from_parts(parts, body)).await;
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let person = get("person").trim().to_string();
    // The doubled token: the form's must be the cookie's.
    let pre_ok = cookie(&headers, PRE).is_some_and(|c| !c.is_empty() && same(c, get("csrf")));
    if !pre_ok {
        return super::layout::refusal(lang, StatusCode::FORBIDDEN, "error.csrf");
    }
    let now = state.engine.clock.now();
    let keys = [format!("p:{person}"), format!("a:{addr}")];
    let throttle = &state.web.throttle;
    if let Some(mins) = keys.iter().filter_map(|k| throttle.held(k, now)).max() {
        return signin_answer(
            &headers,
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &person,
            Some(("alert", lang.n("signin.throttled", mins))),
        );
    }
    let engine = state.engine.clone();
    let password = get("password").to_string();
    let who = person.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<Option<String>, StoreError> {
        if !logins::check(&*engine.store, &who, &password)? {
            return Ok(None);
        }
        let (secret, _) = logins::start(&*engine.store, &who, engine.clock.now())?;
        Ok(Some(secret))
    })
    .await;
    match checked {
        Ok(Ok(Some(secret))) => {
            for k in &keys {
                throttle.cleared(k);
            }
            let mut res = Redirect::to("/").into_response();
            let s = secure(&headers, &state.web.settings);
            for c in [
                set_cookie(SESSION, &secret, None, s),
                set_cookie(PRE, "", Some(0), s),
            ] {
                if let Ok(v) = c.parse() {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Ok(Ok(None)) => {
            for k in &keys {
                throttle.failed(k, now);
            }
            signin_answer(
                &headers,
                &state,
                StatusCode::UNAUTHORIZED,
                &person,
                Some(("alert", lang.t("signin.failed"))),
            )
        }
        Ok(Err(e)) => store_failure(lang, &e),
        Err(_) => store_failure(lang, &StoreError::Storage("the sign-in stopped".into())),
    }
}

pub async fn signout(State(state): State<AppState>, who: Signed, req: Request) -> Response {
    let headers = req.headers().clone();
    let f = form(req).await;
    if let Err(r) = who.check_csrf(f.get("csrf").map(String::as_str)) {
        return *r;
    }
    if let Some(secret) = cookie(&headers, SESSION).map(str::to_string) {
        let engine = state.engine.clone();
        let ended = tokio::task::spawn_blocking(move || logins::end(&*engine.store, &secret)).await;
        if let Ok(Err(e)) = ended {
            return store_failure(who.lang, &e);
        }
    }
    let mut res = Redirect::to("/signin").into_response();
    let c = set_cookie(SESSION, "", Some(0), secure(&headers, &state.web.settings));
    if let Ok(v) = c.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn welcome_page(
    lang: Lang,
    secret: &str,
    name: &str,
    pre: &str,
    problem: Option<String>,
) -> Markup {
    page(
        lang,
        &lang.t("welcome.title"),
        None,
        html! {
            h1 { (lang.t("welcome.title")) }
            p { (lang.t("welcome.for").replace("{who}", name)) }
            @if let Some(p) = problem {
                p.alert role="alert" id="password-problem" { (p) }
            }
            form method="post" action=(format!("/welcome/{secret}")) {
                input type="hidden" name="csrf" value=(pre);
                label for="password" { (lang.t("welcome.password")) }
                input type="password" id="password" name="password" autocomplete="new-password" required minlength=(logins::MIN_PASSWORD);
                label for="again" { (lang.t("welcome.again")) }
                input type="password" id="again" name="again" autocomplete="new-password" required;
                p { button type="submit" { (lang.t("welcome.submit")) } }
            }
        },
    )
}

fn welcome_answer(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    secret: &str,
    person: &str,
    problem: Option<String>,
) -> Response {
    let lang = lang_of(headers);
    let name = baton_engine::store::DirectoryRead::directory(&*state.engine.store)
        .person(person)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| person.to_string());
    let pre = random();
    let mut res = html(status, welcome_page(lang, secret, &name, &pre, problem));
    if let Ok(v) = set_cookie(PRE, &pre, None, secure(headers, &state.web.settings)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn welcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let engine = state.engine.clone();
    let s = secret.clone();
    let found = tokio::task::spawn_blocking(move || {
        logins::invited(&*engine.store, &s, engine.clock.now())
    })
    .await;
    match found {
        Ok(Ok(Some(person))) => {
            welcome_answer(&headers, &state, StatusCode::OK, &secret, &person, None)
        }
        Ok(Ok(None)) => super::layout::refusal(lang, StatusCode::NOT_FOUND, "welcome.gone"),
        Ok(Err(e)) => store_failure(lang, &e),
        Err(_) => store_failure(lang, &StoreError::Storage("stopped".into())),
    }
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let lang = lang_of(&headers);
    let f = form(req).await;
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if !cookie(&headers, PRE).is_some_and(|c| !c.is_empty() && same(c, &get("csrf"))) {
        return super::layout::refusal(lang, StatusCode::FORBIDDEN, "error.csrf");
    }
    let engine = state.engine.clone();
    let s = secret.clone();
    let Ok(Ok(Some(person))) = tokio::task::spawn_blocking(move || {
        logins::invited(&*engine.store, &s, engine.clock.now())
    })
    .await
    else {
        return super::layout::refusal(lang, StatusCode::NOT_FOUND, "welcome.gone");
    };
    let (password, again) = (get("password"), get("again"));
    if password != again {
        return welcome_answer(
            &headers,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &secret,
            &person,
            Some(lang.t("welcome.mismatch")),
        );
    }
    let engine = state.engine.clone();
    let s = secret.clone();
    let set = tokio::task::spawn_blocking(move || {
        logins::accept(&*engine.store, &s, &password, engine.clock.now())
    })
    .await;
    match set {
        Ok(Ok(_)) => Redirect::to("/signin?welcome=1").into_response(),
        Ok(Err(StoreError::Rejected(Rejection::Invalid(_)))) => welcome_answer(
            &headers,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &secret,
            &person,
            Some(lang.t("welcome.weak")),
        ),
        Ok(Err(StoreError::Rejected(Rejection::NotFound(_)))) => {
            super::layout::refusal(lang, StatusCode::NOT_FOUND, "welcome.gone")
        }
        Ok(Err(e)) => store_failure(lang, &e),
        Err(_) => store_failure(lang, &StoreError::Storage("stopped".into())),
    }
}
