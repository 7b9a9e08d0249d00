//! The outbox: every notification with its delivery state, for the admins who run
//! Baton (`baton outbox --server`), while the server holds the database.

use crate::error::ApiError;
use crate::extract::{Caller, Params};
use crate::page::{self, Paged};
use crate::{blocking, AppState};
use axum::extract::State;
use axum::Json;
use baton_engine::store::prelude::*;
use baton_engine::store::{Delivery, OutboxRecord};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(outbox))
}

/// At most this many records are looked at for one page of failed deliveries.
const SCAN_BUDGET: usize = 2000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `true`: only deliveries that failed for good.
    #[param(value_type = Option<bool>)]
    failed: Option<String>,
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// A notification as the outbox keeps it, with its delivery.
#[derive(ToSchema)]
#[schema(as = OutboxRecord)]
#[allow(dead_code)]
pub struct OutboxRecordDoc {
    pub id: u64,
    pub instance: u64,
    pub at: DateTime<Utc>,
    /// `{kind, to, channel, text, task}`.
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
    /// `"Pending"`, `"Sent"` or `{"Failed": REASON}`.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
    /// Each webhook it goes to: `{url, state, attempts}`.
    #[schema(value_type = Vec<Object>)]
    pub webhooks: Vec<serde_json::Value>,
}

/// Every notification, oldest first, with its delivery state: admins only.
#[utoipa::path(get, operation_id = "outbox", path = "/outbox", tag = "inbox", params(OutboxQuery),
    responses(
        (status = 200, body = Paged<OutboxRecordDoc>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
    ))]
async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<OutboxQuery>,
) -> Result<Json<Paged<OutboxRecord>>, ApiError> {
    if !caller.admin {
        return Err(ApiError::Forbidden(format!(
            "{} may not read the outbox: admins only",
            caller.person
        )));
    }
    let limit = page::limit(q.limit.as_deref())?;
    let failed = page::flag(q.failed.as_deref(), "failed")?;
    let mut after = match q.cursor.as_deref() {
        Some(c) => page::number::<u64>(&page::parts(c, "o", 1)?[0])?,
        None => 0,
    };
    let page = blocking(&state, move |engine| {
        let mut items = Vec::new();
        let mut scanned = 0;
        loop {
            let batch = engine.store.outbox(after, 100)?;
            let Some(last) = batch.last() else {
                return Ok(Paged { items, next: None });
            };
            let end = last.id;
            for r in batch {
                scanned += 1;
                after = r.id;
                if !failed || matches!(r.state, Delivery::Failed(_)) {
                    items.push(r);
                }
                if items.len() == limit || scanned >= SCAN_BUDGET {
                    let next = (after < end || engine.store.outbox(after, 1)?.len() == 1)
                        .then(|| page::encode(&format!("o:{after}")));
                    return Ok(Paged { items, next });
                }
            }
        }
    })
    .await?;
    Ok(Json(page))
}
