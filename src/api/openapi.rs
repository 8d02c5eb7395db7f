//! The OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json` (Swagger UI at `/docs`, assets served by the binary).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::ops;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "科技成果转化平台 API",
        version = "1.0.0",
        description = "Technology-transfer marketplace: achievements and demands, matching, 揭榜挂帅 challenges, \
innovation vouchers, technology contracts. Errors are RFC 7807 problem+json with a stable `code`; \
money is integer fen (`_fen`), ratios integer basis points (`_bp`)."
    ),
    paths(ops::healthz, ops::readyz, ops::metrics),
    components(schemas(crate::error::Problem, crate::error::ErrorCode)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Liveness, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme (JWT access tokens).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}
