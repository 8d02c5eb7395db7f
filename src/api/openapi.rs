//! The OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json` (Swagger UI at `/docs`, assets served by the binary).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    access, admin, auth, challenges, connections, contracts, files, integrity, listings, matching, ops, organizations,
    subscriptions, users, vouchers,
};
use crate::api::openapi::problems::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "科技成果转化平台 API",
        version = "1.0.0",
        description = "Technology-transfer marketplace: achievements and demands, matching, 揭榜挂帅 challenges, \
innovation vouchers, technology contracts. Errors are RFC 7807 problem+json with a stable `code`; \
money is integer fen (`_fen`), ratios integer basis points (`_bp`)."
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        auth::register, auth::verify_email, auth::login, auth::refresh, auth::logout, auth::password_reset,
        auth::password_reset_confirm, users::me,
        organizations::create, organizations::list, organizations::get, organizations::add_member,
        organizations::invite, organizations::my_invitations, organizations::accept_invitation,
        organizations::decline_invitation, organizations::revoke_invitation, organizations::remove_member,
        organizations::leave,
        organizations::verify, organizations::reject, users::set_role,
        listings::create_achievement, listings::list_achievements, listings::get_achievement, listings::update_achievement,
        listings::submit_achievement, listings::withdraw_achievement, listings::approve_achievement,
        listings::reject_achievement,
        listings::create_demand, listings::list_demands, listings::get_demand, listings::update_demand,
        listings::submit_demand, listings::withdraw_demand, listings::approve_demand, listings::reject_demand,
        listings::review_queue,
        subscriptions::create, subscriptions::list, subscriptions::delete,
        matching::demand_matches, matching::achievement_matches,
        connections::create, connections::list, connections::get, connections::accept, connections::decline,
        connections::post_message, connections::messages,
        challenges::create, challenges::list, challenges::get, challenges::submit, challenges::approve,
        challenges::reject, challenges::create_bid, challenges::list_bids, challenges::withdraw_bid,
        challenges::assign_experts, challenges::score, challenges::ranking, challenges::award, challenges::feedback,
        challenges::deliver, challenges::accept_milestone, challenges::reject_milestone, challenges::eliminate,
        challenges::cancel,
        vouchers::create_program, vouchers::list_programs, vouchers::get_program, vouchers::apply,
        vouchers::list_applications, vouchers::approve, vouchers::reject_application, vouchers::list_vouchers,
        vouchers::get_voucher, vouchers::redeem, vouchers::list_redemptions, vouchers::get_redemption, vouchers::confirm,
        vouchers::settle, vouchers::reject_redemption, vouchers::revoke, vouchers::ledger, vouchers::summary,
        contracts::create, contracts::list, contracts::get, contracts::sign, contracts::register, contracts::payment,
        contracts::commercialization, contracts::distribution, contracts::complete, contracts::terminate,
        integrity::create, integrity::list, integrity::lift,
        files::upload, files::download, files::delete,
        access::create, access::list, access::grant, access::decline, access::revoke, access::accept_nda,
        users::notifications, users::read_notification, admin::audit, admin::audit_verify, admin::stats, admin::contracts_csv,
    ),
    components(
        schemas(
            crate::error::Problem, crate::error::ErrorCode,
            // Enums used only as query parameters are referenced, not inlined, by the derive.
            crate::domain::connection::ConnectionStatus, crate::domain::voucher::ApplicationStatus,
            crate::domain::voucher::RedemptionStatus, crate::domain::contract::ContractStatus,
            listings::SortParam, connections::RoleParam,
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
            Unprocessable, TooManyRequests, ServiceUnavailable
        ),
    ),
    modifiers(&BearerAuth, &CommonProblems),
    tags(
        (name = "accounts", description = "Registration, login, tokens, password reset"),
        (name = "achievements", description = "Research results (科技成果) listed by universities and institutes"),
        (name = "demands", description = "Technical demands (技术需求) posted by enterprises"),
        (name = "matching", description = "Explained matches between achievements and demands"),
        (name = "connections", description = "供需对接: requests, answers and threads between organizations"),
        (name = "organizations", description = "Universities, institutes, enterprises, service providers, government bodies"),
        (name = "challenges", description = "揭榜挂帅 open-bid challenges, 赛马制 horse races, 定向委托 directed commissions"),
        (name = "vouchers", description = "科技创新券: programs, applications, redemption and settlement"),
        (name = "contracts", description = "技术合同: signing, registration, payments, commercialization, income split"),
        (name = "integrity", description = "Research-integrity records (科研诚信)"),
        (name = "files", description = "Documents: streamed uploads, downloads as the attachment's record allows"),
        (name = "notifications", description = "In-app notifications"),
        (name = "administration", description = "Review, roles, audit log"),
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

/// Adds the problem responses that the shared machinery can give on any operation, so that
/// each handler's annotation lists only what its own rules produce: body extraction (400,
/// 413, 415, 422) wherever there is a request body, 422 wherever there is a query string
/// (an unparsable value), 401 wherever a token is read, 404
/// wherever a path names a resource, and 503 everywhere (database unavailable).
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr};

        for (path, item) in openapi.paths.paths.iter_mut() {
            let names_resource = path.contains('{');
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let mut add = |status: &str, component: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(component)));
                };
                let has_query =
                    operation.parameters.iter().flatten().any(
                        |p| matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query),
                    );
                if has_query {
                    add("422", "Unprocessable");
                }
                if operation.request_body.is_some() {
                    add("400", "BadRequest");
                    add("413", "PayloadTooLarge");
                    add("415", "UnsupportedMediaType");
                    add("422", "Unprocessable");
                }
                if operation.security.is_some() {
                    add("401", "Unauthorized");
                }
                if names_resource {
                    add("404", "NotFound");
                }
                add("503", "ServiceUnavailable");
            }
        }
    }
}

/// Problem+json responses shared by every operation, referenced from path annotations as
/// `(status = 404, response = NotFound)`.
pub mod problems {
    use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

    macro_rules! problem_response {
        ($($name:ident => $desc:literal;)*) => {$(
            pub struct $name;
            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let content = Content::new(Some(Ref::from_schema_name("Problem")));
                    let response = ResponseBuilder::new()
                        .description($desc)
                        .content(crate::error::PROBLEM_JSON, content)
                        .build();
                    (stringify!($name), RefOr::T(response))
                }
            }
        )*};
    }

    problem_response! {
        BadRequest => "Malformed JSON (`malformed_json`) or an unreadable request (`bad_request`)";
        Unauthorized => "Missing, malformed, tampered or expired access token (`unauthorized`)";
        Forbidden => "Authenticated but not allowed (`forbidden`, `organization_not_verified`, `integrity_veto`)";
        NotFound => "No such resource, or not visible to the caller (`not_found`)";
        Conflict => "The current state does not allow this (see `code`, e.g. `invalid_state_transition`)";
        Unprocessable => "Invalid values; `errors` maps each field to its messages (`validation_failed`)";
        PayloadTooLarge => "The body is larger than the configured limit (`payload_too_large`)";
        UnsupportedMediaType => "The body is not `application/json` (`unsupported_media_type`)";
        TooManyRequests => "Rate limited (`rate_limited`); see the Retry-After header";
        ServiceUnavailable => "The database is unreachable, the pool is exhausted, or too much work is queued (`service_unavailable`); see the Retry-After header";
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Names of the types that derive `ToSchema` or are declared with `text_enum!`, with the
    /// files that declare them. utoipa keys components by the bare type name, so two types of
    /// one name would silently publish one schema for both.
    fn schema_names(dir: &Path, found: &mut BTreeMap<String, Vec<String>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                schema_names(&path, found);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let mut pending = None::<&str>;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    pending = Some("derive");
                } else if line == "text_enum!(" {
                    pending = Some("text_enum");
                } else if let Some(kind) = pending {
                    let name = match kind {
                        "derive" => ["pub struct ", "pub enum ", "struct ", "enum "]
                            .iter()
                            .find_map(|p| line.strip_prefix(p))
                            .map(|rest| rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("")),
                        _ if line.starts_with("///") => None,
                        _ => line.split(|c: char| !c.is_alphanumeric() && c != '_').next(),
                    };
                    if let Some(name) = name.filter(|n| !n.is_empty()) {
                        found.entry(name.to_owned()).or_default().push(path.display().to_string());
                        pending = None;
                    }
                }
            }
        }
    }

    #[test]
    fn schema_names_are_unique() {
        let mut found = BTreeMap::new();
        schema_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.len() > 100, "the scan finds the schemas ({} found)", found.len());
        let clashes: Vec<_> = found.iter().filter(|(_, files)| files.len() > 1).collect();
        assert!(clashes.is_empty(), "schema names declared more than once: {clashes:?}");
    }
}
