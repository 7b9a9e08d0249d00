//! Each person's notifications: reminders, escalations, breaches and `notify` steps
//! addressed to them, oldest first.

use crate::error::ApiError;
use crate::extract::{Caller, Params};
use crate::page::{self, Paged};
use crate::{blocking, AppState};
use axum::extract::State;
use axum::Json;
use baton_engine::core::MessageKind;
use baton_engine::store::prelude::*;
use baton_engine::store::OutboxRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbox))
}

/// One notification, as its recipient sees it (how it was delivered elsewhere, to
/// which webhooks, is not theirs to see).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// Unique and stable: receivers use it to drop repeats.
    pub id: u64,
    pub instance: u64,
    #[serde(with = "baton_dsl::zone")]
    pub at: DateTime<Utc>,
    /// `notify`, `reminder`, `overdue`, `escalation`, `breach` or `incident` (to
    /// the admins and the process's owner: an instance cannot go on by itself).
    #[schema(value_type = String)]
    pub kind: MessageKind,
    pub text: String,
    /// The task it is about, as written in paths (`42-3`).
    pub task: Option<String>,
}

impl From<&OutboxRecord> for Notification {
    fn from(r: &OutboxRecord) -> Self {
        Notification {
            id: r.id,
            instance: r.instance,
            at: r.at,
            kind: r.message.kind,
            text: r.message.text.clone(),
            task: r.message.task.map(|t| t.to_string()),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// The caller's notifications, oldest first. Each has an id that stays the same
/// however often it is delivered.
#[utoipa::path(get, operation_id = "inbox", path = "/inbox", tag = "inbox", params(InboxQuery),
    responses(
        (status = 200, body = Paged<Notification>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
    ))]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InboxQuery>,
) -> Result<Json<Paged<Notification>>, ApiError> {
    let limit = page::limit(q.limit.as_deref())?;
    let after = match q.cursor.as_deref() {
        Some(c) => page::number::<u64>(&page::parts(c, "m", 1)?[0])?,
        None => 0,
    };
    let page = blocking(&state, move |engine| {
        // One more than asked tells whether there is a next page.
        let mut items: Vec<Notification> = engine
            .store
            .inbox(&caller.person, after, limit + 1)?
            .iter()
            .map(Notification::from)
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|m| page::encode(&format!("m:{}", m.id)))
        } else {
            None
        };
        Ok(Paged { items, next })
    })
    .await?;
    Ok(Json(page))
}
