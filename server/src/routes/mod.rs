//! One router per resource, merged here into the API and its OpenAPI document.
//! Every route is registered with `routes!`, which reads the handler's
//! `#[utoipa::path]`: a route cannot exist without its documentation.

mod definitions;
mod display;
mod extend;
pub mod inbox;
mod incidents;
mod instances;
mod outbox;
mod system;
mod tasks;
pub mod tokens;

use crate::error;
use crate::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Baton",
        description = "Baton's HTTP API: definitions, instances, tasks and each person's \
            notifications. JSON throughout; errors are `application/problem+json`; lists \
            are paginated with `limit` and an opaque `cursor`. Every request but \
            `/healthz`, `/metrics` and `/openapi.json` needs `Authorization: Bearer TOKEN` \
            (`baton token issue PERSON`, or `POST /tokens`; the first admin's token is in \
            `<db>/admin.token`). POSTs take an `Idempotency-Key` header: a retry \
            with the same key returns the first answer and changes nothing. Times are RFC \
            3339 with the offset of the company's zone, which every answer names in a \
            `Baton-Zone` header."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(error::Problem, error::FieldProblem, error::SourceProblem), responses(
        error::responses::BadRequest,
        error::responses::Unauthorized,
        error::responses::Forbidden,
        error::responses::NotFound,
        error::responses::Conflict,
        error::responses::PayloadTooLarge,
        error::responses::UnsupportedMediaType,
        error::responses::Unprocessable,
        error::responses::Unavailable,
    )),
    tags(
        (name = "definitions", description = "Process definitions and their versions"),
        (name = "instances", description = "Running and finished instances"),
        (name = "incidents", description = "Instances that cannot go on by themselves: admins list and resolve them"),
        (name = "tasks", description = "Tasks: see, claim, complete, hand on"),
        (name = "inbox", description = "Each person's notifications"),
        (name = "tokens", description = "Bearer tokens: admins issue and revoke them"),
        (name = "system", description = "Health, metrics and this document"),
        (name = "directory", description = "Names of people and departments, the company's zone and language"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `baton token issue PERSON`"))
                    .build(),
            ),
        );
    }
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(definitions::router())
        .merge(instances::router())
        .merge(incidents::router())
        .merge(tasks::router())
        .merge(extend::router())
        .merge(outbox::router())
        .merge(inbox::router())
        .merge(tokens::router())
        .merge(system::router())
        .merge(display::router())
}
