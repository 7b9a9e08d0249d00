//! What people read instead of ids: the staff directory's names with the company's
//! zone and language, and a definition's titles and labels. A client shows people by
//! name, choices by label and times in the company's zone with these, as the CLI
//! does through a server.

use super::definitions::{stored, VersionQuery};
use crate::error::ApiError;
use crate::extract::{Caller, Params};
use crate::schema::{LabelsDoc, NamesDoc};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::Json;
use baton_engine::display::{Labels, Names};
use baton_engine::store::prelude::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(labels))
}

/// The names of the staff directory's people and departments, the company's zone
/// (times are reckoned and shown in it) and the language of Baton's messages.
#[utoipa::path(get, operation_id = "directory", path = "/directory", tag = "directory",
    responses(
        (status = 200, body = NamesDoc),
        (status = 401, response = crate::error::responses::Unauthorized),
    ))]
async fn directory(State(state): State<AppState>, _caller: Caller) -> Json<Names> {
    let store = &state.engine.store;
    Json(Names::of(&store.directory(), store.zone, store.language))
}

/// A definition's titles and labels: the process's title, each field's label and
/// type with its choices' labels, each step's title with its choices' labels, each
/// end's title.
#[utoipa::path(get, operation_id = "definition_labels", path = "/definitions/{name}/labels", tag = "definitions",
    params(("name" = String, Path, description = "The process name"), VersionQuery),
    responses(
        (status = 200, body = LabelsDoc),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn labels(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
    Params(q): Params<VersionQuery>,
) -> Result<Json<Labels>, ApiError> {
    let sd = blocking(&state, move |engine| {
        stored(engine, &name, q.version.as_deref())
    })
    .await?;
    Ok(Json(Labels::of(&sd.definition)))
}
