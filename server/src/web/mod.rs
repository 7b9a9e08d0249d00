//! The staff's web pages, served by `baton serve` beside the JSON API: the same
//! engine and the same authorization, a third door after the CLI and the API.
//!
//! A person signs in with their staff id and the password they set through a
//! one-time invitation (`baton invite PERSON`); the browser then holds a session
//! cookie (HttpOnly, SameSite=Strict, Secure over TLS or behind a trusted proxy)
//! that ends after an idle time (`web.session_idle_minutes` in baton.ron) or when
//! the person's tokens are revoked. Every form carries the session's CSRF token;
//! the sign-in form, before any session, a token doubled in a cookie. Failed
//! sign-ins are throttled per person and per address, with one answer whether the
//! person exists or not.
//!
//! Pages are HTML built on the server (maud, compiled into the binary) with one
//! small stylesheet: every form works without JavaScript.

mod actions;
mod diagram;
mod home;
mod inbox;
mod incidents;
mod instance;
mod layout;
mod overview;
mod processes;
mod signin;
mod start;
mod task;
pub mod words;

use crate::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use baton_engine::logins;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
pub use words::Lang;

/// The session cookie's name.
pub const SESSION: &str = "baton_session";
/// The sign-in form's doubled CSRF token.
const PRE: &str = "baton_pre";

/// Failed sign-ins allowed per person and per address within `WINDOW`.
pub const MAX_FAILURES: u32 = 5;
const WINDOW: i64 = 15;

/// The pages' settings, from baton.ron's `web`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// Requests come through a proxy that sets `X-Forwarded-For` and
    /// `X-Forwarded-Proto`, which are then believed.
    pub trusted_proxy: bool,
    /// Roles that read the managers' overview, besides admins.
    pub managers: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle: Duration::hours(8),
            trusted_proxy: false,
            managers: Vec::new(),
        }
    }
}

/// What the pages share besides the engine.
#[derive(Default)]
pub struct Web {
    pub settings: Settings,
    throttle: Throttle,
}

impl Web {
    pub fn new(settings: Settings) -> Web {
        Web {
            settings,
            throttle: Throttle::default(),
        }
    }
}

/// Failed sign-ins per key (`p:` + person, `a:` + address): how many, since when.
#[derive(Default)]
struct Throttle(Mutex<HashMap<String, (u32, DateTime<Utc>)>>);

impl Throttle {
    /// Minutes until `key` may try again, if it is held back now.
    fn held(&self, key: &str, now: DateTime<Utc>) -> Option<i64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = map.get(key)?;
        let until = *since + Duration::minutes(WINDOW);
        (*n >= MAX_FAILURES && until > now).then(|| ((until - now).num_seconds() + 59) / 60)
    }

    fn failed(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Forget what is older than the window, so the map does not grow forever.
        map.retain(|_, (_, since)| *since + Duration::minutes(WINDOW) > now);
        let e = map.entry(key.to_string()).or_insert((0, now));
        e.0 += 1;
    }

    fn cleared(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The pages' routes.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page_handler))
        .route("/signin", get(signin::form_page).post(signin::submit))
        .route("/signout", post(signin::signout))
        .route(
            "/welcome/:secret",
            get(signin::welcome).post(signin::set_password),
        )
        .route("/my/tasks/:id", get(task::show).post(task::submit))
        .route("/my/events", get(home::events))
        .route("/my/inbox", get(inbox::page_handler))
        .route("/my/inbox/read", post(inbox::read))
        .route("/my/instances/:id", get(instance::show))
        .route("/admin/incidents", get(incidents::list))
        .route("/admin/incidents/:id/:what", post(incidents::act))
        .route("/overview", get(overview::page_handler))
        .route("/overview.csv", get(overview::csv))
        .route("/processes", get(processes::list))
        .route("/processes/:name", get(processes::show))
        .route("/start", get(start::list))
        .route("/start/:process", get(start::show).post(start::submit))
        .route("/my/tasks/:id/claim", post(home::claim))
        .route("/my/tasks/:id/release", post(home::release))
        .route("/my/tasks/:id/comment", post(actions::comment))
        .route("/my/tasks/:id/reassign", post(actions::reassign))
        .route("/my/tasks/:id/extend", post(actions::extend))
        .route("/static/baton.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("baton.css"),
    )
        .into_response()
}

/// A cookie's value from the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Did the request come over TLS (as the proxy says, when it is trusted)?
pub fn secure_request(headers: &HeaderMap, settings: &Settings) -> bool {
    secure(headers, settings)
}

fn secure(headers: &HeaderMap, settings: &Settings) -> bool {
    settings.trusted_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for the pages' cookies.
fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The address a request came from: the proxy's word when it is trusted, else the
/// connection's (absent in tests that call the router directly).
fn address(req: &Parts, settings: &Settings) -> String {
    if settings.trusted_proxy {
        if let Some(ip) = req
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return ip.to_string();
        }
    }
    req.extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// Compare secrets without telling how much of them matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in person behind the session cookie. A request without a live
/// session is sent to the sign-in page.
pub struct Signed {
    pub person: String,
    pub name: String,
    pub roles: Vec<String>,
    pub admin: bool,
    /// Reads the managers' overview (an admin, or a role in `web.managers`).
    pub manager: bool,
    pub csrf: String,
    pub lang: Lang,
    /// Unread notifications, for the badge on every page (counted up to `inbox::MAX`).
    pub unread: usize,
}

#[axum::async_trait]
impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let to_signin = || Redirect::to("/signin").into_response();
        let Some(secret) = cookie(&parts.headers, SESSION).map(str::to_string) else {
            return Err(to_signin());
        };
        let engine = state.engine.clone();
        let idle = state.web.settings.idle;
        let rec = tokio::task::spawn_blocking(move || {
            let rec = logins::session(&*engine.store, &secret, engine.clock.now(), idle)?;
            let unread = match &rec {
                Some(r) => inbox::unread_count(&engine, &r.person)?,
                None => 0,
            };
            Ok::<_, baton_engine::store::StoreError>(rec.map(|r| (r, unread)))
        })
        .await
        .map_err(|_| layout::refusal(lang, StatusCode::SERVICE_UNAVAILABLE, "error.404"))?
        .map_err(|e| layout::store_failure(lang, &e))?;
        let Some((rec, unread)) = rec else {
            return Err(Redirect::to("/signin?expired=1").into_response());
        };
        let dir = baton_engine::store::DirectoryRead::directory(&*state.engine.store);
        let Some(p) = dir.person(&rec.person) else {
            return Err(to_signin());
        };
        let admin = p.roles.iter().any(|r| *r == state.engine.store.admin_role);
        let manager = admin
            || p.roles
                .iter()
                .any(|r| state.web.settings.managers.contains(r));
        Ok(Signed {
            person: p.id.clone(),
            name: p.name.clone(),
            roles: p.roles.clone(),
            admin,
            manager,
            csrf: rec.csrf,
            lang,
            unread,
        })
    }
}

impl Signed {
    /// The form's CSRF token must be the session's; a 403 page otherwise.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Box<Response>> {
        match sent {
            Some(s) if same(s, &self.csrf) => Ok(()),
            _ => Err(Box::new(layout::refusal(
                self.lang,
                StatusCode::FORBIDDEN,
                "error.csrf",
            ))),
        }
    }
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::of(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A form body, parsed leniently: a field that is not there is None.
pub(crate) async fn form(req: Request) -> HashMap<String, String> {
    let bytes = axum::body::to_bytes(req.into_body(), crate::BODY_LIMIT)
        .await
        .unwrap_or_default();
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .unwrap_or_default()
        .into_iter()
        .collect()
}
