//! Extensions: more time for a task's step, or for a limit running over an instance,
//! where the definition allows it (`extend up to 24h when customer_consents`). The
//! data sent along is recorded at that moment, for the condition to read: the
//! customer's consent is given when it is asked for, not when the complaint starts.

use super::instances::{instance_id, outcome_response};
use crate::error::ApiError;
use crate::extract::{Body, Caller, IdempotencyKey};
use crate::schema::OutcomeDoc;
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::response::Response;
use baton_engine::core::{extension_minutes, Command, Rejection, TaskId};
use baton_engine::store::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(extend_task))
        .routes(routes!(extend_limit))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExtendRequest {
    /// How much longer: `30m`, `2h`, `1d`.
    pub by: String,
    /// Fields recorded with the request, for the definition's condition to read:
    /// `{"customer_consents": true}`. Only the fields the condition reads (any field
    /// for an admin); they are recorded only if the extension is granted.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

fn minutes(by: &str) -> Result<i64, ApiError> {
    extension_minutes(by).map_err(|e| ApiError::Invalid(vec![e]))
}

/// Give a task's step more time: whoever works on the instance's current step (or
/// an admin), where the step's `extend` allows it.
#[utoipa::path(post, operation_id = "extend_task", path = "/tasks/{id}/extend", tag = "tasks", request_body = ExtendRequest,
    params(("id" = String, Path, description = "The task id, like `42-3`"),
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
async fn extend_task(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<ExtendRequest>,
) -> Result<Response, ApiError> {
    let task: TaskId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no task `{id}` (task ids look like 42-3)")))?;
    let minutes = minutes(&req.by)?;
    let o = blocking(&state, move |engine| {
        // The step extended is the one the task belongs to: a finished task's step
        // has moved on.
        let t = engine.store.task(task)?;
        if !t.state.is_active() {
            return Err(Rejection::Conflict(format!(
                "task {task} is already {}",
                t.state.as_str()
            ))
            .into());
        }
        let cmd = Command::Extend {
            limit: None,
            minutes,
            data: req.data,
        };
        Ok(engine.act(task.instance, cmd, &caller.person, key.as_deref())?)
    })
    .await?;
    Ok(outcome_response(o, false))
}

/// Give a running limit more time (`extend up to 24h when customer_consents`):
/// whoever works on the instance's current step, or an admin.
#[utoipa::path(post, operation_id = "extend_limit", path = "/instances/{id}/limits/{name}/extend", tag = "instances", request_body = ExtendRequest,
    params(("id" = u64, Path, description = "The instance id"),
        ("name" = String, Path, description = "The limit's name, like `settle`"),
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
async fn extend_limit(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path((id, limit)): Path<(String, String)>,
    Body(req): Body<ExtendRequest>,
) -> Result<Response, ApiError> {
    let id = instance_id(&id)?;
    let minutes = minutes(&req.by)?;
    let cmd = Command::Extend {
        limit: Some(limit),
        minutes,
        data: req.data,
    };
    let o = state
        .engine
        .act_async(id, cmd, &caller.person, key.as_deref())
        .await?;
    Ok(outcome_response(o, false))
}
