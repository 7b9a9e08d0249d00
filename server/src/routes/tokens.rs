//! Bearer tokens, for admins: issue one for a person (shown once, in the answer) and
//! revoke a person's tokens. This is how tokens are handed out while `baton serve`
//! owns the database; the first admin's token comes from `baton serve` itself
//! (`<db>/admin.token`).

use crate::error::ApiError;
use crate::extract::{Body, Caller, IdempotencyKey};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_engine::tokens;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue))
        .routes(routes!(revoke))
        .routes(routes!(invite))
}

/// A one-time invitation to set a password for the web pages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invited {
    pub person: String,
    /// The page where the person sets their password, on this server as the request
    /// reached it: hand it to them (it works once, for 7 days).
    pub link: String,
    /// The same, without the server: `/welcome/` and 64 hex digits.
    pub path: String,
    #[serde(with = "baton_dsl::zone")]
    pub expires_at: DateTime<Utc>,
}

/// Invite a person to the web pages, or reset their password (admins only): a
/// one-time link with which they set a new password; an old password stops working
/// at once.
#[utoipa::path(post, operation_id = "invite", path = "/invites", tag = "tokens", request_body = IssueRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key, by the same admin, within 10 minutes returns the same link (kept in the server's memory only) and issues none", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 201, body = Invited),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
    ))]
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    headers: axum::http::HeaderMap,
    Body(req): Body<IssueRequest>,
) -> Result<Response, ApiError> {
    admin_only(&state, &caller, "invites people")?;
    // As for tokens: the link exists only in the answer, so a retry after a lost
    // answer gets the same one from memory rather than a second one.
    let replays = state.invite_replays.clone();
    let mut seen = match key.as_deref() {
        Some(_) => Some(replays.0.lock().await),
        None => None,
    };
    let slot = key.as_deref().map(|k| format!("{}\n{k}", caller.person));
    if let (Some(seen), Some(slot)) = (seen.as_mut(), slot.as_ref()) {
        seen.retain(|_, (at, _)| at.elapsed() < REPLAY_WINDOW);
        if let Some((_, first)) = seen.get(slot) {
            return Ok((StatusCode::CREATED, Json(first.clone())).into_response());
        }
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let scheme = if crate::web::secure_request(&headers, &state.web.settings) {
        "https"
    } else {
        "http"
    };
    let person = req.person;
    let invited = blocking(&state, move |engine| {
        let now = engine.clock.now();
        let secret = baton_engine::logins::invite(&*engine.store, &person, now)?;
        let path = format!("/welcome/{secret}");
        Ok(Invited {
            person,
            link: format!("{scheme}://{host}{path}"),
            path,
            expires_at: now + baton_engine::logins::INVITE_VALID,
        })
    })
    .await?;
    tracing::info!(by = %caller.person, person = %invited.person, "invitation issued");
    if let (Some(seen), Some(slot)) = (seen.as_mut(), slot) {
        seen.insert(slot, (Instant::now(), invited.clone()));
    }
    Ok((StatusCode::CREATED, Json(invited)).into_response())
}

/// How long a retry with the same `Idempotency-Key` gets the token issued first.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(600);

/// Answers to `POST /tokens` by idempotency key, kept in memory only (the database
/// keeps only hashes of tokens) and for `REPLAY_WINDOW`: a retry after a lost answer
/// gets the same token instead of a second one nobody knows.
#[derive(Default)]
pub struct Replays(tokio::sync::Mutex<HashMap<String, (Instant, Issued)>>);

/// The same for `POST /invites`.
#[derive(Default)]
pub struct InviteReplays(tokio::sync::Mutex<HashMap<String, (Instant, Invited)>>);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssueRequest {
    /// A person id of the staff directory.
    pub person: String,
}

/// A new token. This answer is the only place it appears: the server keeps its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Issued {
    pub person: String,
    /// `baton_` and 64 hex digits; send it as `Authorization: Bearer TOKEN`.
    pub token: String,
    #[serde(with = "baton_dsl::zone")]
    pub issued_at: DateTime<Utc>,
    /// True when this is the answer to an earlier request with the same
    /// `Idempotency-Key` (no new token was issued).
    pub replayed: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    pub person: String,
    /// How many tokens were revoked.
    pub revoked: usize,
}

fn admin_only(state: &AppState, caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.admin {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "only the `{}` role {what}",
        state.engine.store.admin_role
    )))
}

/// Issue a token for a person (admins only). The token is in this answer and
/// nowhere else: the database keeps only its hash.
#[utoipa::path(post, operation_id = "issue_token", path = "/tokens", tag = "tokens", request_body = IssueRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key, by the same admin, within 10 minutes returns the same token (kept in the server's memory only) and issues none", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 201, description = "Issued (or, with `replayed`, the first answer to this key)", body = Issued),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
    ))]
async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Body(req): Body<IssueRequest>,
) -> Result<Response, ApiError> {
    admin_only(&state, &caller, "issues tokens")?;
    // The lock is held while the token is issued, so that two retries racing each
    // other issue one token between them.
    let replays = state.token_replays.clone();
    let mut seen = match key.as_deref() {
        Some(_) => Some(replays.0.lock().await),
        None => None,
    };
    let slot = key.as_deref().map(|k| format!("{}\n{k}", caller.person));
    if let (Some(seen), Some(slot)) = (seen.as_mut(), slot.as_ref()) {
        seen.retain(|_, (at, _)| at.elapsed() < REPLAY_WINDOW);
        if let Some((_, first)) = seen.get(slot) {
            let mut again = first.clone();
            again.replayed = true;
            return Ok((StatusCode::CREATED, Json(again)).into_response());
        }
    }
    let person = req.person;
    let issued = blocking(&state, move |engine| {
        let now = engine.clock.now();
        let token = tokens::issue(&*engine.store, &person, now)?;
        Ok(Issued {
            person,
            token,
            issued_at: now,
            replayed: false,
        })
    })
    .await?;
    tracing::info!(by = %caller.person, person = %issued.person, "token issued");
    if let (Some(seen), Some(slot)) = (seen.as_mut(), slot) {
        seen.insert(slot, (Instant::now(), issued.clone()));
    }
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// Revoke every token of a person (admins only); their requests get 401 from now
/// on. To revoke a single token, use `baton token revoke TOKEN` on the database: a
/// token does not belong in a URL.
#[utoipa::path(delete, operation_id = "revoke_tokens", path = "/tokens/{person}", tag = "tokens",
    params(("person" = String, Path, description = "A person id")),
    responses(
        (status = 200, body = Revoked),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(person): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    admin_only(&state, &caller, "revokes tokens")?;
    if person.starts_with(tokens::PREFIX) {
        return Err(ApiError::bad_request(
            "person",
            "give the person id: a token does not belong in a URL (URLs get logged); \
             revoke a single token with `baton token revoke TOKEN` on the database",
        ));
    }
    let who = person.clone();
    let revoked = blocking(&state, move |engine| {
        Ok(tokens::revoke(&*engine.store, &who)?)
    })
    .await?;
    if revoked == 0 {
        return Err(ApiError::NotFound(format!(
            "nobody by the id `{person}` holds a token"
        )));
    }
    tracing::info!(by = %caller.person, %person, revoked, "tokens revoked");
    Ok(Json(Revoked { person, revoked }))
}
