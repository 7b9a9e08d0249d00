//! Health, metrics and the OpenAPI document: no token needed.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use baton_engine::store::prelude::*;
use baton_engine::store::Health as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
    /// The company's zone (IANA name, like `Asia/Taipei`): deadlines are reckoned
    /// in it and JSON times carry its offset.
    pub zone: String,
}

/// The server is up and its store writes. Once a write or a flush to disk failed,
/// the store refuses every write until the disk takes writes again: then 503, with
/// the reason. Each call while it refuses makes it try to write again (see
/// `Health::try_recover`), so that a probe sees it recover at once.
#[utoipa::path(get, operation_id = "healthz", path = "/healthz", tag = "system", security(()),
    responses(
        (status = 200, body = Health),
        (status = 503, response = crate::error::responses::Unavailable),
    ))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // A shared database is asked whether it answers.
    if state.engine.store.broken().is_some() || state.engine.store.is_shared() {
        crate::blocking(&state, |engine| Ok(engine.store.try_recover()?)).await?;
    }
    Ok(Json(Health {
        status: "ok".into(),
        zone: state.engine.store.zone.name().to_string(),
    }))
}

/// Counters and request latency in Prometheus' text format.
#[utoipa::path(get, operation_id = "metrics", path = "/metrics", tag = "system", security(()),
    responses((status = 200, body = String, content_type = "text/plain; version=0.0.4")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Open incidents are counted from their own space (a few keys), not kept in
    // memory: they outlive restarts.
    let incidents = crate::blocking(&state, |engine| Ok(engine.store.incident_count()))
        .await
        .ok();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(
            &state.engine.metrics,
            incidents,
            state.engine.store.broken().is_none(),
        ),
    )
}

/// This document: every route, body and error of the API.
#[utoipa::path(get, operation_id = "openapi", path = "/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "An OpenAPI 3.1 document", body = Object)))]
async fn openapi(Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>) -> impl IntoResponse {
    Json(doc.as_ref().clone())
}
