//! Tasks: the caller's, a role's, overdue ones, by state; and the commands on a task:
//! claim, release, complete, reassign, comment. Who may act is the engine's
//! decision (`Forbidden` -> 403, `Conflict` -> 409).

use super::instances::outcome_response;
use crate::access::{sees_instance, Sight};
use crate::error::ApiError;
use crate::extract::{Body, Caller, IdempotencyKey, Params};
use crate::page::{self, Paged};
use crate::schema::{OutcomeDoc, TaskDoc};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use baton_engine::core::{Command, Task, TaskId, TaskState};
use baton_engine::store::prelude::*;
use baton_engine::store::TaskPosition;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(claim))
        .routes(routes!(release))
        .routes(routes!(complete))
        .routes(routes!(reassign))
        .routes(routes!(comment))
}

/// At most this many tasks are looked at for one page of a filtered list.
const SCAN_BUDGET: usize = 2000;
/// Overdue tasks are read soonest-due first, up to this many.
const OVERDUE_MAX: usize = 10_000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Tasks offered to this role and not yet claimed (the caller must hold it).
    role: Option<String>,
    /// Tasks in this state: `open`, `claimed`, `completed` or `cancelled`.
    #[param(inline, value_type = Option<crate::schema::TaskStateParam>)]
    state: Option<String>,
    /// `true`: open and claimed tasks past their due time.
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// `true`: the open and claimed tasks of the people the caller leads (whom they
    /// supervise, directly or not, and the people of a department they head).
    #[param(value_type = Option<bool>)]
    team: Option<String>,
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CompleteRequest {
    /// The choice taken (`approve`/`refuse` for a sign-off), where the step has one.
    #[serde(default)]
    pub choice: Option<String>,
    /// The fields the step fills: `{"satisfaction": 5}`; each value in its type's
    /// plain shape or tagged as answers give it (`{"Int": 5}`), see `Value`.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Why: the history keeps it, and a refusal's notice to the starter carries it.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReassignRequest {
    /// The person (directory id) to hand the task to.
    pub to: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentRequest {
    pub text: String,
}

/// A task id from a path (`42-3`); anything else names no task.
fn task_id(s: &str) -> Result<TaskId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::NotFound(format!("no task `{s}` (task ids look like 42-3)")))
}

enum Mode {
    Mine,
    Role(String),
    State(TaskState),
    Overdue,
    Team,
}

/// Soonest due first, tasks without a due time last, then by id.
fn due_key(t: &Task) -> (bool, i64, u64, u32) {
    (
        t.due.is_none(),
        t.due.map_or(0, |d| d.timestamp_millis()),
        t.id.instance,
        t.id.n,
    )
}

fn parse_due_cursor(c: &str) -> Result<(bool, i64, u64, u32), ApiError> {
    let p = page::parts(c, "t", 4)?;
    Ok((
        page::number::<u8>(&p[0])? == 1,
        page::number(&p[1])?,
        page::number(&p[2])?,
        page::number(&p[3])?,
    ))
}

/// Tasks: by default the caller's own (offered to them or their roles, or claimed by
/// them); or their team's; or a role's, a state's, or the overdue ones, of the
/// instances the caller sees. Give at most one of `role`, `state`, `overdue`, `team`.
#[utoipa::path(get, operation_id = "list_tasks", path = "/tasks", tag = "tasks", params(TaskQuery),
    responses(
        (status = 200, body = Paged<TaskDoc>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
    ))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<TaskQuery>,
) -> Result<Json<Paged<Task>>, ApiError> {
    let limit = page::limit(q.limit.as_deref())?;
    let overdue = page::flag(q.overdue.as_deref(), "overdue")?;
    let team = page::flag(q.team.as_deref(), "team")?;
    let mut modes = Vec::new();
    if let Some(r) = q.role {
        modes.push(Mode::Role(r));
    }
    if let Some(s) = q.state.as_deref() {
        modes.push(Mode::State(match s {
            "open" => TaskState::Open,
            "claimed" => TaskState::Claimed,
            "completed" => TaskState::Completed,
            "cancelled" => TaskState::Cancelled,
            _ => {
                return Err(ApiError::bad_request(
                    "state",
                    "one of open, claimed, completed, cancelled",
                ))
            }
        }));
    }
    if overdue {
        modes.push(Mode::Overdue);
    }
    if team {
        modes.push(Mode::Team);
    }
    if modes.len() > 1 {
        const ONE: &str = "give at most one of role, state, overdue, team";
        return Err(ApiError::Unusable {
            detail: ONE.into(),
            errors: ["role", "state", "overdue", "team"]
                .iter()
                .map(|f| crate::error::FieldProblem::new(*f, ONE))
                .collect(),
        });
    }
    let mode = modes.pop().unwrap_or(Mode::Mine);
    if let Mode::Role(r) = &mode {
        if !caller.admin && !caller.has_role(r) {
            return Err(ApiError::Forbidden(format!(
                "{} does not hold the role `{r}`",
                caller.person
            )));
        }
    }
    let cursor = q.cursor;
    let page = blocking(&state, move |engine| {
        let store = &*engine.store;
        let sight = Sight::of(store, &caller);
        if let Mode::State(st) = mode {
            // The position is the last task's due time (`-` for none) and id: open
            // and claimed tasks are listed soonest due first.
            let mut after = match cursor.as_deref() {
                Some(c) => {
                    let p = page::parts(c, "s", 3)?;
                    let due = match p[0].as_str() {
                        "-" => None,
                        ms => Some(
                            chrono::DateTime::from_timestamp_millis(page::number(ms)?).ok_or_else(
                                || ApiError::unusable("cursor", "not a cursor from this server"),
                            )?,
                        ),
                    };
                    Some(TaskPosition {
                        due,
                        id: TaskId {
                            instance: page::number(&p[1])?,
                            n: page::number(&p[2])?,
                        },
                    })
                }
                None => None,
            };
            let mut items = Vec::new();
            let mut scanned = 0;
            loop {
                let batch = store.tasks_in_state(st, after, 100)?;
                for t in batch.items {
                    scanned += 1;
                    let at = TaskPosition::of(&t);
                    after = Some(at);
                    if sight.task(store, &t)? {
                        items.push(t);
                    }
                    if items.len() == limit || scanned >= SCAN_BUDGET {
                        let due = at
                            .due
                            .map_or("-".to_string(), |d| d.timestamp_millis().to_string());
                        let next = Some(page::encode(&format!(
                            "s:{due}:{}:{}",
                            at.id.instance, at.id.n
                        )));
                        return Ok(Paged { items, next });
                    }
                }
                if batch.next.is_none() {
                    return Ok(Paged { items, next: None });
                }
            }
        }
        let mut all = match &mode {
            Mode::Mine => store.tasks_for(&caller.person)?,
            Mode::Role(r) => store.tasks_for_role(r)?,
            Mode::Overdue => store.overdue(engine.clock.now(), OVERDUE_MAX)?,
            Mode::Team => store.tasks_of(&sight.team)?,
            Mode::State(_) => unreachable!("answered above"),
        };
        all.sort_by_key(due_key);
        let after = cursor.as_deref().map(parse_due_cursor).transpose()?;
        let mut items = Vec::new();
        let mut last = None;
        let filter = matches!(mode, Mode::Overdue) && !caller.admin;
        let rest = all
            .into_iter()
            .filter(|t| after.is_none_or(|a| due_key(t) > a));
        for (scanned, t) in rest.enumerate() {
            if items.len() == limit || scanned >= SCAN_BUDGET {
                let (none, due, i, n) = last.unwrap_or_default();
                let next = Some(page::encode(&format!("t:{}:{due}:{i}:{n}", none as u8)));
                return Ok(Paged { items, next });
            }
            last = Some(due_key(&t));
            if !filter || sight.task(store, &t)? {
                items.push(t);
            }
        }
        Ok(Paged { items, next: None })
    })
    .await?;
    Ok(Json(page))
}

async fn task_command(
    state: AppState,
    caller: Caller,
    key: IdempotencyKey,
    id: String,
    make: impl FnOnce(TaskId) -> Command + Send + 'static,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let o = state
        .engine
        .act_async(id.instance, make(id), &caller.person, key.as_deref())
        .await?;
    Ok(outcome_response(o, false))
}

/// Take a task so that nobody else works on it: its candidates only.
#[utoipa::path(post, operation_id = "claim_task", path = "/tasks/{id}/claim", tag = "tasks",
    params(("id" = String, Path, description = "The task id, like `42-3`"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 409, response = crate::error::responses::Conflict),
    ))]
async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    task_command(state, caller, key, id, |task| Command::Claim { task }).await
}

/// Give a claimed task back to its candidates: its assignee or an admin.
#[utoipa::path(post, operation_id = "release_task", path = "/tasks/{id}/release", tag = "tasks",
    params(("id" = String, Path, description = "The task id, like `42-3`"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 409, response = crate::error::responses::Conflict),
    ))]
async fn release(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    task_command(state, caller, key, id, |task| Command::Release { task }).await
}

/// Finish a task with its choice and the fields it fills: its candidates (or its
/// assignee, once claimed).
#[utoipa::path(post, operation_id = "complete_task", path = "/tasks/{id}/complete", tag = "tasks", request_body = CompleteRequest,
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
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<CompleteRequest>,
) -> Result<Response, ApiError> {
    task_command(state, caller, key, id, move |task| match req.reason {
        None => Command::Complete {
            task,
            choice: req.choice,
            data: req.data,
        },
        Some(reason) => Command::CompleteWithReason {
            task,
            choice: req.choice,
            data: req.data,
            reason,
        },
    })
    .await
}

/// Hand a task to someone else: the person holding it, someone who leads them (their
/// supervisor, directly or not, or their department's head), or an admin; an unclaimed
/// task, someone who leads a person it is offered to (by name or role), or an admin.
#[utoipa::path(post, operation_id = "reassign_task", path = "/tasks/{id}/reassign", tag = "tasks", request_body = ReassignRequest,
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
async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<ReassignRequest>,
) -> Result<Response, ApiError> {
    task_command(state, caller, key, id, move |task| Command::Reassign {
        task,
        to: req.to,
    })
    .await
}

/// Comment on a task's instance: whoever sees the instance.
#[utoipa::path(post, operation_id = "comment_task", path = "/tasks/{id}/comment", tag = "tasks", request_body = CommentRequest,
    params(("id" = String, Path, description = "The task id, like `42-3`"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer and changes nothing", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 200, body = OutcomeDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 404, response = crate::error::responses::NotFound),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    Body(req): Body<CommentRequest>,
) -> Result<Response, ApiError> {
    let task = task_id(&id)?;
    let o = blocking(&state, move |engine| {
        // The engine lets anyone comment; the server lets only those who see the
        // instance, and the task must be one of it.
        let inst = engine.store.instance(task.instance)?;
        if task.n == 0 || task.n >= inst.next_task {
            return Err(ApiError::NotFound(format!("no task {task}")));
        }
        if !sees_instance(&*engine.store, &caller, &inst)? {
            return Err(ApiError::Forbidden(format!(
                "{} takes no part in instance {}",
                caller.person, task.instance
            )));
        }
        let cmd = Command::Comment { text: req.text };
        Ok(engine.act(task.instance, cmd, &caller.person, key.as_deref())?)
    })
    .await?;
    Ok(outcome_response(o, false))
}
