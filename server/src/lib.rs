//! Baton's HTTP API: axum over the engine. Handlers parse, call the engine and map
//! the result; the engine holds every business rule, this crate only who is calling
//! (bearer tokens), what they may read, and HTTP.
//!
//! `app(state)` is the whole API as a `Router`, so tests drive it with `oneshot` and
//! no socket; `serve` runs it on a listener until a shutdown signal.
//!
//! ```no_run
//! # async fn run(engine: baton_engine::Engine) -> std::io::Result<()> {
//! let state = baton_server::AppState::new(std::sync::Arc::new(engine));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! baton_server::serve(state, listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod access;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod page;
mod routes;

pub use routes::inbox::Notification;
pub use routes::tokens::{Invited, Issued, Revoked};
pub mod schema;
pub mod web;

pub use error::{ApiError, FieldProblem, Problem};
pub use metrics::HttpMetrics;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use baton_engine::Engine;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use utoipa::openapi::OpenApi;

/// Request bodies larger than this are refused with 413. A definition's source is
/// the largest body the API takes; the biggest of processes/ is a few KiB.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// Requests and their latency; the engine keeps its own counters.
    pub metrics: Arc<HttpMetrics>,
    /// Answers to `POST /tokens` kept for retries with the same idempotency key.
    pub token_replays: Arc<routes::tokens::Replays>,
    /// The same for `POST /invites`.
    pub invite_replays: Arc<routes::tokens::InviteReplays>,
    /// The web pages' settings and sign-in throttle.
    pub web: Arc<web::Web>,
}

impl AppState {
    /// The state of an API over `engine`. JSON times are written from now on with
    /// the offset of the engine's zone, the company's (a process serves one company).
    pub fn new(engine: Arc<Engine>) -> AppState {
        baton_dsl::zone::set_json_zone(engine.store.zone);
        AppState {
            engine,
            metrics: Arc::new(HttpMetrics::new()),
            token_replays: Arc::default(),
            invite_replays: Arc::default(),
            web: Arc::default(),
        }
    }

    /// With the web pages' settings (baton.ron's `web`).
    pub fn with_web(mut self, settings: web::Settings) -> AppState {
        self.web = Arc::new(web::Web::new(settings));
        self
    }
}

/// The whole API.
pub fn app(state: AppState) -> Router {
    let (router, doc) = routes::api().split_for_parts();
    router
        .merge(web::pages())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::Extension(Arc::new(doc)))
        .layer(middleware::from_fn(read_body_first))
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(state.clone(), zone_header))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a handler panicked".into()).into_response()
            },
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document of `app`, built from the same route registrations.
pub fn openapi() -> OpenApi {
    routes::api().split_for_parts().1
}

/// Serve the API on `listener` until `shutdown` resolves; requests under way are
/// finished first.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Answers are small and each one ends a request: send them at once rather than
    // let Nagle's algorithm hold a segment back for an acknowledgement.
    // The peer's address reaches the handlers (the sign-in throttle counts per
    // address).
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .tcp_nodelay(true)
    .with_graceful_shutdown(shutdown)
    .await
}

/// Run engine work on the blocking pool: reads that may go to the disk, and work
/// that mixes reads with a command, must not hold up the async workers. Plain
/// commands use the engine's async entry points instead.
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Engine) -> Result<T, ApiError> + Send + 'static,
{
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| ApiError::Internal(format!("engine worker: {e}")))?
}

/// Every answer says the company's zone, `Baton-Zone: Asia/Taipei`: the zone its
/// times are reckoned in, for clients that show them to people.
async fn zone_header(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Ok(zone) = HeaderValue::from_str(state.engine.store.zone.name()) {
        res.headers_mut().insert("baton-zone", zone);
    }
    res
}

/// Latency and status of every request, by route template.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    state.metrics.observe(
        method.as_str(),
        &route,
        res.status().as_u16(),
        start.elapsed(),
    );
    res
}

/// How much of a body over the limit is read (and dropped) before the 413 answer, so
/// that a client still sending it gets the answer rather than a broken pipe.
pub const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;

enum BodyRead {
    Whole(Vec<u8>),
    /// Over the limit; `drained` if it was read to its end all the same.
    TooLarge {
        drained: bool,
    },
    Broken,
}

async fn read_body(mut body: axum::body::Body, declared: Option<u64>) -> BodyRead {
    use http_body_util::BodyExt;
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return BodyRead::TooLarge { drained: false };
    }
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(BODY_LIMIT));
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return BodyRead::Broken;
        };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= BODY_LIMIT {
                buf.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                return BodyRead::TooLarge { drained: false };
            }
        }
    }
    if total > BODY_LIMIT {
        BodyRead::TooLarge { drained: true }
    } else {
        BodyRead::Whole(buf)
    }
}

/// Read each request's whole body before its handler runs. A route that takes no
/// body (claim, release, every GET) would leave one it is sent unread, and hyper may
/// then close the connection just after answering (when the handler is done before
/// the body has arrived): a client that sends its next request on that kept-alive
/// connection finds it closed. A body over the limit is answered with 413 once it
/// has been read to its end (up to `DRAIN_LIMIT`; beyond, at once, and the
/// connection is closed).
async fn read_body_first(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (err, close) = match read_body(body, declared).await {
        BodyRead::Whole(bytes) => {
            return next
                .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        BodyRead::TooLarge { drained } => (
            ApiError::PayloadTooLarge(format!("the body is larger than {BODY_LIMIT} bytes")),
            !drained,
        ),
        BodyRead::Broken => (
            ApiError::bad_request("body", "the body could not be read to its end"),
            true,
        ),
    };
    let mut res = err.into_response();
    if close {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Errors made outside the handlers (a route with another method: 405) come without
/// a body; give them the same problem+json as every other error.
async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let head = req.method() == Method::HEAD;
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == HeaderValue::from_static(error::PROBLEM_JSON));
    // The web pages answer their refusals with pages of their own.
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let is_problem = is_problem || is_page;
    if head || !(res.status().is_client_error() || res.status().is_server_error()) || is_problem {
        return res;
    }
    let status = res.status().as_u16();
    let allow = res.headers().get(header::ALLOW).cloned();
    // axum's own rejections (a path segment that is not valid UTF-8, say) explain
    // themselves in a short plain-text body: keep that as the detail.
    let text = axum::body::to_bytes(res.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        format!("the request was refused with status {status}")
    } else {
        text
    };
    let err = match status {
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge(format!("the body is larger than {BODY_LIMIT} bytes")),
        404 => ApiError::NotFound("no such route".into()),
        s if s >= 500 => ApiError::Internal(format!("status {s}: {detail}")),
        _ => ApiError::BadRequest {
            detail,
            errors: vec![],
        },
    };
    let mut out = err.into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
