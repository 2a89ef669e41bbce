//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `GET /api/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{api, health, held};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "handoff-gate",
        description = "A privacy-redacting intake gateway for questions about broken CRM handoffs. Every text is scrubbed of keys, passwords, cards, other people's contact details and screenshots before it is stored; errors never quote what was sent."
    ),
    paths(
        api::create_intake,
        api::erase_intake,
        held::list,
        held::release,
        api::triage_batch,
        api::form_token,
        health::alive,
        health::ready,
        health::metrics,
    ),
    modifiers(&AdminToken),
    tags(
        (name = "intakes", description = "Submit, erase and release held intakes"),
        (name = "triage", description = "Triage without storing"),
        (name = "embed", description = "For the widget and your own form markup"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "admin.token, or the one generated in data_dir/admin-token",
                    ))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes"),
    )
}
