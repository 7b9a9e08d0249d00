//! Instances: start, list, show, history, cancel.

use crate::access::{sees_instance, Sight};
use crate::error::ApiError;
use crate::extract::{Body, Caller, IdempotencyKey, OptionalBody, Params};
use crate::page::{self, Paged};
use crate::schema::{InstanceDoc, OutcomeDoc, RecordDoc, ShownInstanceDoc};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_engine::core::{Command, Instance, InstanceId, Record};
use baton_engine::store::prelude::*;
use baton_engine::store::{Outcome, StoreError};
use baton_engine::view::Shown;
use baton_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(show))
        .routes(routes!(history))
        .routes(routes!(cancel))
}

/// How many instances one list request looks at, at most, when it filters (by
/// starter, or by what the caller may see): a page then ends early with a cursor
/// rather than reading without bound.
const SCAN_BUDGET: usize = 2000;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StartRequest {
    /// The process to start (its latest version).
    pub process: String,
    /// The start fields: `{"customer": "張三", "severity": "major"}`; each value in
    /// its type's plain shape or tagged as answers give it (`{"Choice": "major"}`),
    /// see `Value`.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CancelRequest {
    /// Why (default `cancelled`).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this process (default: every process, by name).
    process: Option<String>,
    /// `running` (default), `completed`, `cancelled` or `incident`.
    #[param(inline, value_type = Option<crate::schema::InstanceState>)]
    state: Option<String>,
    /// Only instances started by this person.
    starter: Option<String>,
    /// `true`: the instances the people the caller leads take part in, instead of
    /// the caller's own.
    #[param(value_type = Option<bool>)]
    team: Option<String>,
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    pub cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// An instance id from a path; anything else names no instance.
pub fn instance_id(s: &str) -> Result<InstanceId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::NotFound(format!("no instance `{s}`")))
}

/// The instance, if the caller may see it.
fn visible(engine: &Engine, caller: &Caller, id: InstanceId) -> Result<Instance, ApiError> {
    let inst = engine.store.instance(id)?;
    if !sees_instance(&*engine.store, caller, &inst)? {
        return Err(ApiError::Forbidden(format!(
            "{} takes no part in instance {id}",
            caller.person
        )));
    }
    Ok(inst)
}

/// A command's answer: 200, or 201 with the instance's address for a start.
pub fn outcome_response(o: Outcome, created: bool) -> Response {
    if created {
        let location = format!("/instances/{}", o.instance.id);
        (StatusCode::CREATED, [(header::LOCATION, location)], Json(o)).into_response()
    } else {
        Json(o).into_response()
    }
}

/// Start an instance of a process's latest version. Only the roles the definition
/// names may start it.
#[utoipa::path(post, operation_id = "start_instance", path = "/instances", tag = "instances", request_body = StartRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 201, description = "Started (or, with `replayed`, the first answer to this key)", body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Body(req): Body<StartRequest>,
) -> Result<Response, ApiError> {
    // Commands wait for the disk without holding a runtime worker (see
    // `Engine::start_async`).
    let o = state
        .engine
        .start_async(&req.process, req.data, &caller.person, key.as_deref())
        .await?;
    Ok(outcome_response(o, true))
}

/// Instances, by process and state, that the caller takes part in or their roles
/// cover (admins: all); with `team=true`, those of the people the caller leads.
#[utoipa::path(get, operation_id = "list_instances", path = "/instances", tag = "instances", params(ListQuery),
    responses(
        (status = 200, body = Paged<InstanceDoc>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
    ))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Paged<Instance>>, ApiError> {
    let limit = page::limit(q.limit.as_deref())?;
    let status = q.state.unwrap_or_else(|| "running".into());
    if !["running", "completed", "cancelled", "incident"].contains(&status.as_str()) {
        return Err(ApiError::bad_request(
            "state",
            "one of running, completed, cancelled, incident",
        ));
    }
    let team = page::flag(q.team.as_deref(), "team")?;
    let from = match q.cursor.as_deref() {
        Some(c) => {
            let p = page::parts(c, "i", 2)?;
            Some((p[0].clone(), page::number::<u64>(&p[1])?))
        }
        None => None,
    };
    let page = blocking(&state, move |engine| {
        let store = &*engine.store;
        let sight = Sight::of(store, &caller);
        // The caller's own (an admin: every one), or their team's.
        let listed = |inst: &Instance| -> Result<bool, StoreError> {
            if team {
                store.takes_part(&sight.team, inst)
            } else {
                Ok(sight.admin || store.takes_part(&sight.own, inst)?)
            }
        };
        let processes: Vec<String> = match q.process {
            Some(p) => vec![p],
            None => store.process_names().into_iter().map(|(n, _)| n).collect(),
        };
        let mut items = Vec::new();
        let mut scanned = 0;
        for p in processes {
            let mut after = match &from {
                Some((fp, _)) if p < *fp => continue,
                Some((fp, id)) if p == *fp => Some(*id),
                _ => None,
            };
            loop {
                let batch = store.instances(&p, &status, after, 100)?;
                for inst in batch.items {
                    scanned += 1;
                    after = Some(inst.id);
                    let id = inst.id;
                    if q.starter.as_ref().is_none_or(|s| inst.starter == *s) && listed(&inst)? {
                        items.push(inst);
                    }
                    if items.len() == limit || scanned >= SCAN_BUDGET {
                        let next = Some(page::encode(&format!("i:{p}:{id}")));
                        return Ok(Paged { items, next });
                    }
                }
                if batch.next.is_none() {
                    break;
                }
            }
        }
        Ok(Paged { items, next: None })
    })
    .await?;
    Ok(Json(page))
}

/// An instance: its step, data and current tasks, every sign-off of its history, and
/// what its step waits for.
#[utoipa::path(get, operation_id = "show_instance", path = "/instances/{id}", tag = "instances",
    params(("id" = u64, Path, description = "The instance id")),
    responses(
        (status = 200, body = ShownInstanceDoc),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Shown>, ApiError> {
    let id = instance_id(&id)?;
    let shown = blocking(&state, move |engine| {
        visible(engine, &caller, id)?;
        Ok(engine.store.shown(id)?)
    })
    .await?;
    Ok(Json(shown))
}

/// An instance's history: who did what, and when, oldest first.
#[utoipa::path(get, operation_id = "instance_history", path = "/instances/{id}/history", tag = "instances",
    params(("id" = u64, Path, description = "The instance id"), PageQuery),
    responses(
        (status = 200, body = Paged<RecordDoc>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Paged<Record>>, ApiError> {
    let id = instance_id(&id)?;
    let limit = page::limit(q.limit.as_deref())?;
    let after = match q.cursor.as_deref() {
        Some(c) => Some(page::number::<u64>(&page::parts(c, "h", 1)?[0])?),
        None => None,
    };
    let page = blocking(&state, move |engine| {
        visible(engine, &caller, id)?;
        let mut items: Vec<Record> = engine
            .store
            .history(id)?
            .into_iter()
            .filter(|r| after.is_none_or(|a| r.seq > a))
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| page::encode(&format!("h:{}", r.seq)))
        } else {
            None
        };
        Ok(Paged { items, next })
    })
    .await?;
    Ok(Json(page))
}

/// Cancel a running instance: its starter or an admin.
#[utoipa::path(post, operation_id = "cancel_instance", path = "/instances/{id}/cancel", tag = "instances",
    request_body(content = Option<CancelRequest>, description = "Optional: no body, an empty one or `null` is `{}`"),
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
    ))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    OptionalBody(req): OptionalBody<CancelRequest>,
) -> Result<Response, ApiError> {
    let id = instance_id(&id)?;
    let reason = req.reason.unwrap_or_else(|| "cancelled".into());
    let o = state
        .engine
        .act_async(
            id,
            Command::Cancel { reason },
            &caller.person,
            key.as_deref(),
        )
        .await?;
    Ok(outcome_response(o, false))
}
