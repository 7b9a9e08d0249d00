//! Definitions: the deployed processes, their versions, sources and diagrams; admins
//! deploy new sources.

use crate::error::ApiError;
use crate::extract::{Body, Caller, Params};
use crate::page::{self, Paged};
use crate::{blocking, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_dsl::model::FieldSource;
use baton_engine::store::prelude::*;
use baton_engine::store::{Deployed, StoredDefinition};
use baton_engine::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, deploy))
        .routes(routes!(show))
        .routes(routes!(source))
        .routes(routes!(diagram))
}

/// A deployed process, at its latest version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DefinitionItem {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The latest version: new instances start on it.
    pub version: u32,
    #[serde(with = "baton_dsl::zone")]
    pub deployed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionItem {
    pub version: u32,
    #[serde(with = "baton_dsl::zone")]
    pub deployed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldSummary {
    pub name: String,
    /// `text`, `integer`, `one of a, b`, ...
    #[serde(rename = "type")]
    pub ty: String,
    pub label: Option<String>,
    pub optional: bool,
    pub has_default: bool,
    /// `start` (given when starting), `fill STEP` (filled at a step) or `computed`.
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedItem {
    pub name: String,
    pub title: Option<String>,
}

/// A process: its versions and a summary of its latest model.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DefinitionDetail {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Roles that may start it by hand; empty means anyone in the staff directory.
    pub started_by: Vec<String>,
    pub latest: u32,
    /// Oldest first.
    pub versions: Vec<VersionItem>,
    pub fields: Vec<FieldSummary>,
    pub steps: Vec<NamedItem>,
    pub ends: Vec<NamedItem>,
}

/// A source to deploy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeployRequest {
    /// The file name, for diagnostics (default `request.flow`).
    #[serde(default)]
    pub file: Option<String>,
    /// The definition's text in Baton's language.
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeployResponse {
    pub name: String,
    pub version: u32,
    /// False when the source is the same as the latest version's (nothing changed).
    pub created: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From a previous page's `next`.
    #[param(pattern = "^([0-9a-f]{2}){1,1024}$")]
    cursor: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version (default: the latest).
    #[param(value_type = Option<u32>)]
    pub(super) version: Option<String>,
}

pub(super) fn stored(
    engine: &Engine,
    name: &str,
    version: Option<&str>,
) -> Result<StoredDefinition, ApiError> {
    let v = match version {
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_request("version", "a version number, like 2"))?,
        None => engine.store.latest(name)?.0,
    };
    Ok(engine.store.stored_definition(name, v)?)
}

/// The deployed processes, at their latest versions, by name.
#[utoipa::path(get, operation_id = "list_definitions", path = "/definitions", tag = "definitions", params(ListQuery),
    responses(
        (status = 200, body = Paged<DefinitionItem>),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
    ))]
async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Paged<DefinitionItem>>, ApiError> {
    let limit = page::limit(q.limit.as_deref())?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| page::parts(c, "d", 1).map(|mut p| p.remove(0)))
        .transpose()?;
    let page = blocking(&state, move |engine| {
        let mut items = Vec::new();
        let mut next = None;
        for (name, version) in engine.store.process_names() {
            if after.as_ref().is_some_and(|a| name <= *a) {
                continue;
            }
            if items.len() == limit {
                next = items
                    .last()
                    .map(|i: &DefinitionItem| page::encode(&format!("d:{}", i.name)));
                break;
            }
            let sd = engine.store.stored_definition(&name, version)?;
            items.push(DefinitionItem {
                name,
                title: sd.definition.title,
                description: sd.definition.description,
                version,
                deployed_at: sd.deployed_at,
            });
        }
        Ok(Paged { items, next })
    })
    .await?;
    Ok(Json(page))
}

/// Deploy a source (admins only). A source with errors is refused with its
/// diagnostics and the version in use stays; an unchanged source keeps its version.
#[utoipa::path(post, operation_id = "deploy_definition", path = "/definitions", tag = "definitions", request_body = DeployRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Deploying is idempotent by nature; the header is accepted and not needed", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7E]+$")),
    responses(
        (status = 201, description = "A new version", body = DeployResponse),
        (status = 200, description = "The source is unchanged", body = DeployResponse),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::error::responses::Forbidden),
        (status = 413, response = crate::error::responses::PayloadTooLarge),
        (status = 415, response = crate::error::responses::UnsupportedMediaType),
        (status = 422, response = crate::error::responses::Unprocessable),
    ))]
async fn deploy(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<DeployRequest>,
) -> Result<Response, ApiError> {
    if !caller.admin {
        return Err(ApiError::Forbidden(format!(
            "only the `{}` role deploys definitions",
            state.engine.store.admin_role
        )));
    }
    let file = req.file.unwrap_or_else(|| "request.flow".into());
    let (name, deployed) = blocking(&state, move |engine| {
        Ok(engine
            .store
            .deploy(&file, &req.source, engine.clock.now())?)
    })
    .await?;
    let (status, version, created) = match deployed {
        Deployed::New { version } => (StatusCode::CREATED, version, true),
        Deployed::Unchanged { version } => (StatusCode::OK, version, false),
    };
    tracing::info!(by = %caller.person, %name, version, created, "definition deployed");
    let location = format!("/definitions/{name}");
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(DeployResponse {
            name,
            version,
            created,
        }),
    )
        .into_response())
}

/// A process: its versions and a summary of its latest model.
#[utoipa::path(get, operation_id = "show_definition", path = "/definitions/{name}", tag = "definitions",
    params(("name" = String, Path, description = "The process name")),
    responses(
        (status = 200, body = DefinitionDetail),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<DefinitionDetail>, ApiError> {
    let detail = blocking(&state, move |engine| {
        let (latest, def) = engine.store.latest(&name)?;
        let mut versions = Vec::new();
        for v in 1..=latest {
            // Versions are dense from 1; one that cannot be read is left out
            // rather than hiding the rest.
            if let Ok(sd) = engine.store.stored_definition(&name, v) {
                versions.push(VersionItem {
                    version: v,
                    deployed_at: sd.deployed_at,
                });
            }
        }
        Ok(DefinitionDetail {
            name: def.name.clone(),
            title: def.title.clone(),
            description: def.description.clone(),
            started_by: def.started_by.clone(),
            latest,
            versions,
            fields: def
                .fields
                .iter()
                .map(|f| FieldSummary {
                    name: f.name.clone(),
                    ty: f.ty.describe(),
                    label: f.label.clone(),
                    optional: f.optional,
                    has_default: f.default.is_some(),
                    source: match &f.source {
                        FieldSource::Start => "start".into(),
                        FieldSource::Filled(step) => format!("fill {step}"),
                        FieldSource::Computed | FieldSource::Written => "computed".into(),
                    },
                })
                .collect(),
            steps: def
                .steps
                .iter()
                .map(|s| NamedItem {
                    name: s.name.clone(),
                    title: s.title.clone(),
                })
                .collect(),
            ends: def
                .ends
                .iter()
                .map(|e| NamedItem {
                    name: e.name.clone(),
                    title: e.title.clone(),
                })
                .collect(),
        })
    })
    .await?;
    Ok(Json(detail))
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// A version's source, as it was deployed.
#[utoipa::path(get, operation_id = "definition_source", path = "/definitions/{name}/source", tag = "definitions",
    params(("name" = String, Path, description = "The process name"), VersionQuery),
    responses(
        (status = 200, body = String, content_type = "text/plain"),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn source(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
    Params(q): Params<VersionQuery>,
) -> Result<Response, ApiError> {
    let sd = blocking(&state, move |engine| {
        stored(engine, &name, q.version.as_deref())
    })
    .await?;
    Ok(text(sd.source))
}

/// A version drawn as a Mermaid flowchart: steps, transitions, timers, escalations,
/// limits and ends.
#[utoipa::path(get, operation_id = "definition_diagram", path = "/definitions/{name}/diagram", tag = "definitions",
    params(("name" = String, Path, description = "The process name"), VersionQuery),
    responses(
        (status = 200, description = "Mermaid text", body = String, content_type = "text/plain"),
        (status = 400, response = crate::error::responses::BadRequest),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 404, response = crate::error::responses::NotFound),
    ))]
async fn diagram(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
    Params(q): Params<VersionQuery>,
) -> Result<Response, ApiError> {
    let sd = blocking(&state, move |engine| {
        stored(engine, &name, q.version.as_deref())
    })
    .await?;
    Ok(text(baton_dsl::graph::mermaid(&sd.definition)))
}
