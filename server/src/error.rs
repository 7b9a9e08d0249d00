//! One error type for every handler. Each variant is a status; the body is always
//! `application/problem+json` (RFC 9457) with a stable `type`, a title people can
//! read, the status, a detail and, for bad input, one entry per bad field. Internal
//! errors are logged here and never shown to the caller.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_dsl::Located;
use baton_engine::core::{FieldError, Rejection};
use baton_engine::store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer (RFC 9457 problem details).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `urn:baton:problem:conflict`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of problem, for people.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// For bad input: one entry per bad field (body fields, query parameters, headers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For a definition that does not check: every error, located in the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<SourceProblem>,
}

/// One bad field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// The field: a data field of the process, a member of the JSON body (`data`,
    /// `choice`), a query parameter (`limit`) or a header (`Idempotency-Key`).
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One error of a definition's source, as `baton check` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Stable code, listed in docs/language.md.
    pub code: String,
    pub message: String,
    pub label: Option<String>,
    pub help: Option<String>,
}

impl From<&Located> for SourceProblem {
    fn from(l: &Located) -> Self {
        SourceProblem {
            file: l.file.clone(),
            line: l.line,
            column: l.column,
            end_line: l.end_line,
            end_column: l.end_column,
            code: l.diagnostic.code.to_string(),
            message: l.diagnostic.message.clone(),
            label: l.diagnostic.label.clone(),
            help: l.diagnostic.help.clone(),
        }
    }
}

#[derive(Debug)]
pub enum ApiError {
    /// 400: malformed JSON, a body or query of the wrong shape, a bad header.
    BadRequest {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// 401: no token, or a token that is unknown or revoked.
    Unauthorized(String),
    /// 403: this person may not do this.
    Forbidden(String),
    /// 404: no such route, instance, task or process.
    NotFound(String),
    /// 405: the route exists, not with this method.
    MethodNotAllowed,
    /// 409: the state moved on (already completed, claimed by someone else).
    Conflict(String),
    /// 413: the body is larger than the server takes.
    PayloadTooLarge(String),
    /// 415: a body that is not JSON.
    UnsupportedMediaType(String),
    /// 422: data that breaks the definition's schema, one entry per field.
    Invalid(Vec<FieldError>),
    /// 422: a `require` or `check` condition of the process failed: its message, and
    /// the data fields the condition reads, each in `errors` with the message.
    Requirement { detail: String, fields: Vec<String> },
    /// 422: a definition's source has errors.
    Definition(Vec<Located>),
    /// 422: the process cannot go on (for example nobody to assign a task to).
    Stuck(String),
    /// 422: an `Idempotency-Key` sent again with a different request.
    KeyReused(String),
    /// 422: query parameters of the documented shape that cannot be used together or
    /// here: a cursor of another list (or not made by this server), two ways of
    /// choosing tasks at once. The OpenAPI document cannot say these; a request of
    /// the wrong shape is a 400.
    Unusable {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// 500: logged with its cause; the caller sees only that it happened.
    Internal(String),
    /// 503: the store is broken and refuses every write; the detail says why.
    Unavailable(String),
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest {
            detail: message.clone(),
            errors: vec![FieldProblem::new(field, message)],
        }
    }

    pub fn unusable(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Unusable {
            detail: message.clone(),
            errors: vec![FieldProblem::new(field, message)],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_)
            | ApiError::Requirement { .. }
            | ApiError::Definition(_)
            | ApiError::Stuck(_)
            | ApiError::KeyReused(_)
            | ApiError::Unusable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The problem as the caller sees it.
    pub fn problem(&self) -> Problem {
        let (kind, title) = match self {
            ApiError::BadRequest { .. } => ("bad-request", "Malformed request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Not authenticated"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) => ("conflict", "The state has moved on"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Send JSON"),
            ApiError::Invalid(_) => ("invalid-data", "Data breaks the process's schema"),
            ApiError::Requirement { .. } => {
                ("requirement", "A condition of the process is not met")
            }
            ApiError::Definition(_) => ("definition", "The definition has errors"),
            ApiError::Stuck(_) => ("stuck", "The process cannot go on"),
            ApiError::Unusable { .. } => {
                ("unusable-query", "The query cannot be used as it stands")
            }
            ApiError::KeyReused(_) => (
                "idempotency-key-reused",
                "The Idempotency-Key was used for another request",
            ),
            ApiError::Internal(_) => ("internal", "Internal error"),
            ApiError::Unavailable(_) => ("unavailable", "The store refuses every write"),
        };
        let mut errors = Vec::new();
        let mut diagnostics = Vec::new();
        let detail = match self {
            ApiError::BadRequest { detail, errors: e }
            | ApiError::Unusable { detail, errors: e } => {
                errors = e.clone();
                detail.clone()
            }
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Stuck(d)
            | ApiError::Unavailable(d) => d.clone(),
            ApiError::MethodNotAllowed => "this route does not take this method".into(),
            // The fields involved, so that a form can mark them.
            ApiError::Requirement { detail, fields } => {
                errors = fields
                    .iter()
                    .map(|f| FieldProblem::new(f, detail))
                    .collect();
                detail.clone()
            }
            ApiError::KeyReused(d) => {
                errors = vec![FieldProblem::new("Idempotency-Key", d)];
                d.clone()
            }
            ApiError::Invalid(fields) => {
                errors = fields
                    .iter()
                    .map(|f| FieldProblem::new(&f.field, &f.message))
                    .collect();
                match fields.len() {
                    1 => format!("1 field is invalid: {}", fields[0]),
                    n => format!("{n} fields are invalid"),
                }
            }
            ApiError::Definition(diags) => {
                diagnostics = diags.iter().map(SourceProblem::from).collect();
                errors = diags
                    .iter()
                    .map(|d| {
                        FieldProblem::new(
                            "source",
                            format!(
                                "{}:{}: {} [{}]",
                                d.line, d.column, d.diagnostic.message, d.diagnostic.code
                            ),
                        )
                    })
                    .collect();
                format!(
                    "the definition has {} error(s) and was not deployed",
                    diags.len()
                )
            }
            ApiError::Internal(_) => {
                "the server could not answer this request; the cause is in its log".into()
            }
        };
        Problem {
            kind: format!("urn:baton:problem:{kind}"),
            title: title.into(),
            status: self.status().as_u16(),
            detail,
            errors,
            diagnostics,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"baton\""),
            );
        }
        res
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::NotFound(m) => ApiError::NotFound(m),
            Rejection::Conflict(m) => ApiError::Conflict(m),
            Rejection::Forbidden(m) => ApiError::Forbidden(m),
            Rejection::Invalid(fields) => ApiError::Invalid(fields),
            Rejection::Requirement { message, fields } => ApiError::Requirement {
                detail: message,
                fields,
            },
            Rejection::Stuck(m) => ApiError::Stuck(m),
            Rejection::KeyReused(m) => ApiError::KeyReused(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(r) => r.into(),
            StoreError::Definition(diags) => ApiError::Definition(diags),
            // Said once in the log when the store broke; each request need not repeat it.
            e @ StoreError::Broken(_) => ApiError::Unavailable(e.to_string()),
            // PostgreSQL down or every connection busy: nothing was written.
            e @ StoreError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Reusable responses for the OpenAPI document: each error status, its meaning, and
/// its body. They exist only to be described.
#[allow(dead_code)]
pub mod responses {
    use super::Problem;
    use utoipa::ToResponse;

    /// Malformed request: JSON that does not parse, a body or query parameter of the
    /// wrong shape, a bad `Idempotency-Key`; `errors` names each bad field.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BadRequest(#[to_schema] Problem);

    /// No bearer token, or a token that is unknown or revoked.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unauthorized(#[to_schema] Problem);

    /// This person may not do this (not a candidate of the task, not a role that
    /// starts the process, not an admin, takes no part in the instance).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Forbidden(#[to_schema] Problem);

    /// No such instance, task, process or version.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotFound(#[to_schema] Problem);

    /// The state has moved on: the task is already completed, or claimed by someone else,
    /// or the instance has ended.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Conflict(#[to_schema] Problem);

    /// The request body is larger than the server takes (1 MiB).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PayloadTooLarge(#[to_schema] Problem);

    /// The body is not JSON (`Content-Type` must be `application/json`).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnsupportedMediaType(#[to_schema] Problem);

    /// The data breaks the process's schema (`errors` has one entry per bad field), a
    /// `require` or `check` condition failed (its message is the detail, and `errors`
    /// names each data field the condition reads), the definition has errors
    /// (`diagnostics`), the process cannot go on, the `Idempotency-Key` was sent
    /// before with a different request, or query parameters of the right shape cannot
    /// be used (a cursor of another list, two ways of choosing tasks at once).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unprocessable(#[to_schema] Problem);

    /// The store is broken: a write or a flush to disk failed, and every write is
    /// refused until the disk takes writes again (the store then writes again by
    /// itself). The detail says why.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unavailable(#[to_schema] Problem);
}
