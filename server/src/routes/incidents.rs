//! Incidents: instances Baton could not carry on by itself (a timer, a child start,
//! the route after a task was refused). Admins list them and resolve each: retry
//! what failed, set corrected data and retry, or move the instance to a step;
//! cancelling is `POST /instances/{id}/cancel`.

use super::instances::{instance_id, outcome_response, PageQuery};
use crate::error::ApiError;
use crate::extract::{Body, Caller, IdempotencyKey, OptionalBody, Params};
use crate::page::{self, Paged};
use crate::schema::{IncidentDoc, OutcomeDoc};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use baton_engine::core::{Command, Incident};
use baton_engine::store::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retry))
        .routes(routes!(set))
        .routes(routes!(move_to))
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RetryRequest {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SetRequest {
    /// Corrected values, checked against the definition: `{"handler": "wang_fang"}`
    /// (at least one: a plain retry is `POST /instances/{id}/retry`).
    #[schema(schema_with = some_fields)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// A JSON object with at least one member: the document says so, and a schema-driven
/// client then never sends the `{}` the server refuses.
fn some_fields() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .min_properties(Some(1))
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
        ))
        .build()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MoveRequest {
    /// A step or end of the instance's definition version.
    pub step: String,
}

fn admin_only(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    if caller.admin {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "only the `{}` role sees and resolves incidents",
        state.engine.store.admin_role
    )))
}

/// Open incidents, oldest instance first (admins only).
#[utoipa::path(get, operation_id = "list_incidents", path = "/incidents", tag = "incidents", params(PageQuery),
    responses(
        (status = 200, body = Paged<IncidentDoc>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
    ))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PageQuery>,
) -> Result<Json<Paged<Incident>>, ApiError> {
    admin_only(&state, &caller)?;
    let limit = page::limit(q.limit.as_deref())?;
    let after = match q.cursor.as_deref() {
        Some(c) => Some(page::number::<u64>(&page::parts(c, "n", 1)?[0])?),
        None => None,
    };
    let p = blocking(&state, move |engine| {
        Ok(engine.store.incidents(after, limit)?)
    })
    .await?;
    Ok(Json(Paged {
        items: p.items,
        next: p.next.map(|id| page::encode(&format!("n:{id}"))),
    }))
}

async fn resolve(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    id: &str,
    cmd: Command,
) -> Result<Response, ApiError> {
    admin_only(state, caller)?;
    let id = instance_id(id)?;
    let o = state.engine.act_async(id, cmd, &caller.person, key).await?;
    Ok(outcome_response(o, false))
}

/// Try again what failed (after its cause was fixed: a directory change, the date).
/// Refused with the reason, changing nothing, if it still cannot go on.
#[utoipa::path(post, operation_id = "retry_instance", path = "/instances/{id}/retry", tag = "incidents",
    request_body(content = Option<RetryRequest>, description = "Optional, empty"),
    params(("id" = u64, Path, description = "The instance id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 409, response = crate::error::responses::Conflict),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    OptionalBody(_body): OptionalBody<RetryRequest>,
) -> Result<Response, ApiError> {
    let cmd = Command::Retry {
        data: Default::default(),
        attempted: None,
    };
    resolve(&state, &caller, key.as_deref(), &id, cmd).await
}

/// Set corrected data (recorded with the admin as actor) and try again what failed,
/// all or nothing.
#[utoipa::path(post, operation_id = "set_instance_data", path = "/instances/{id}/set", tag = "incidents",
    request_body = SetRequest,
    params(("id" = u64, Path, description = "The instance id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 409, response = crate::error::responses::Conflict),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn set(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<SetRequest>,
) -> Result<Response, ApiError> {
    if req.data.is_empty() {
        return Err(ApiError::bad_request(
            "data",
            "give at least one field (or retry without data)",
        ));
    }
    let cmd = Command::Retry {
        data: req.data,
        attempted: None,
    };
    resolve(&state, &caller, key.as_deref(), &id, cmd).await
}

/// Move the instance to a step or end of its definition. Refused (422, one entry per
/// field) when a required field the step reads has no value.
#[utoipa::path(post, operation_id = "move_instance", path = "/instances/{id}/move", tag = "incidents",
    request_body = MoveRequest,
    params(("id" = u64, Path, description = "The instance id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 409, response = crate::error::responses::Conflict),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn move_to(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<MoveRequest>,
) -> Result<Response, ApiError> {
    resolve(
        &state,
        &caller,
        key.as_deref(),
        &id,
        Command::Move { step: req.step },
    )
    .await
}
