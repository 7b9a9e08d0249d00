//! Extractors whose failures are `ApiError`s, so that every bad request gets a
//! problem+json answer naming the bad field (axum's own extractors answer in plain
//! text): the JSON body, the query string, the caller behind the bearer token and
//! the `Idempotency-Key` header.

use crate::error::{ApiError, FieldProblem};
use crate::AppState;
use axum::async_trait;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use baton_engine::store::prelude::*;
use baton_engine::tokens;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

/// A JSON request body that may be left out: no body, an empty one or JSON `null`
/// (which the OpenAPI document allows for an optional body) is `T::default()`.
pub struct OptionalBody<T>(pub T);

/// The body, if any. A body without `Content-Type` is taken as JSON (so that a plain
/// `curl --data` works); one that says it is something else is refused with 415.
async fn read_json<S: Send + Sync>(req: Request, state: &S) -> Result<Option<Bytes>, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        let json = essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body is `{essence}`; send `application/json`"
            )));
        }
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "the body is larger than {} bytes",
                crate::BODY_LIMIT
            ))
        } else {
            ApiError::bad_request("body", r.body_text())
        }
    })?;
    Ok((!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes))
}

/// Parse a JSON object, telling a syntax error (400, "malformed JSON") from a value
/// of the wrong shape (400 naming the field). The whole body must be UTF-8, the
/// members nobody reads included (the parser skips those without looking), and
/// an object: the request types are structs, which serde would also fill from an
/// array of their members in order.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request("body", format!("the body is not UTF-8: {e}")))?;
    if text.trim_start().starts_with('[') {
        return Err(ApiError::bad_request(
            "body",
            "expected a JSON object, found an array",
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("body", format!("malformed JSON: {inner}"));
        }
        // `missing field `x`` is reported on the object that lacks it.
        let message = strip_position(&inner.to_string());
        let path = e.path().to_string();
        let field = match (path.as_str(), message.split('`').nth(1)) {
            (p, Some(name)) if message.starts_with("missing field") => {
                if p == "." {
                    name.to_string()
                } else {
                    format!("{p}.{name}")
                }
            }
            (".", _) => "body".to_string(),
            (p, _) => p.to_string(),
        };
        ApiError::BadRequest {
            detail: format!("the body does not have the expected shape: `{field}`: {message}"),
            errors: vec![FieldProblem::new(field, message)],
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("body", format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn strip_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

#[async_trait]
impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match read_json(req, state).await? {
            Some(b) => Ok(Body(parse_json(&b)?)),
            None => Err(ApiError::bad_request("body", "a JSON body is required")),
        }
    }
}

#[async_trait]
impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match read_json(req, state).await? {
            Some(b) if b.trim_ascii() != b"null" => Ok(OptionalBody(parse_json(&b)?)),
            _ => Ok(OptionalBody(T::default())),
        }
    }
}

/// The query string. Its types keep every parameter as text, so that each handler
/// checks them and names each bad one.
pub struct Params<T>(pub T);

#[async_trait]
impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(Params)
            .map_err(|e| ApiError::bad_request("query", e.to_string()))
    }
}

/// Who is calling, from the bearer token, with what the staff directory says of them.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: String,
    pub roles: Vec<String>,
    pub admin: bool,
}

impl Caller {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[async_trait]
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized(
                "send `Authorization: Bearer TOKEN` (issued by `baton token issue PERSON`)".into(),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer TOKEN`".into())
            })?;
        // A lookup of one small, always-cached key: cheaper than a hop to the
        // blocking pool, unlike the engine's commands, which wait for the disk.
        let rec = tokens::verify(&*state.engine.store, token)?
            .ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".into()))?;
        let dir = state.engine.store.directory();
        let person = dir.person(&rec.person).ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "the token's owner `{}` is no longer in the staff directory",
                rec.person
            ))
        })?;
        let admin = person
            .roles
            .iter()
            .any(|r| *r == state.engine.store.admin_role);
        Ok(Caller {
            person: person.id.clone(),
            roles: person.roles.clone(),
            admin,
        })
    }
}

/// The `Idempotency-Key` header, scoped to the method and path it was sent with: a
/// retry of the same request returns the first answer, while the same key sent to
/// another route is another request.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

#[async_trait]
impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get(IDEMPOTENCY_KEY) else {
            return Ok(IdempotencyKey(None));
        };
        let key = v
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::bad_request(
                    IDEMPOTENCY_KEY,
                    "1 to 255 visible ASCII characters, such as a UUID",
                )
            })?;
        Ok(IdempotencyKey(Some(format!(
            "{} {}\n{key}",
            parts.method,
            parts.uri.path()
        ))))
    }
}

impl IdempotencyKey {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}
