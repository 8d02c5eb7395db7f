//! The OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json` (Swagger UI at `/docs`, assets served by the binary).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    access, admin, auth, brokers, challenges, connections, contracts, files, freshness, instruments, integrity,
    listings, matching, meta, ops, organizations, registrations, settlement_batches, subscriptions, users, vouchers,
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
        ops::healthz, ops::readyz, ops::metrics, meta::meta,
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
        freshness::confirm_achievement, freshness::confirm_demand, freshness::extend_demand,
        freshness::achievement_insights, freshness::demand_insights,
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
        settlement_batches::create, settlement_batches::list, settlement_batches::statement,
        settlement_batches::statement_csv,
        contracts::create, contracts::list, contracts::get, contracts::sign, contracts::register, contracts::payment,
        contracts::commercialization, contracts::distribution, contracts::complete, contracts::terminate,
        registrations::file, registrations::get, registrations::request_supplement, registrations::supplement,
        registrations::accept, registrations::approve, registrations::refuse, registrations::amend,
        registrations::cancel, registrations::create_office,
        integrity::create, integrity::list, integrity::lift,
        files::upload, files::download, files::delete,
        access::create, access::list, access::grant, access::decline, access::revoke, access::accept_nda,
        instruments::create, instruments::list, instruments::get, instruments::update, instruments::book,
        instruments::bookings, instruments::approve, instruments::reject, instruments::complete, instruments::no_show,
        instruments::cancel, instruments::usage,
        users::notifications, users::read_notification, admin::audit, admin::audit_verify, admin::stats, admin::contracts_csv,
        brokers::save_profile, brokers::list, brokers::get, brokers::invite,
    ),
    components(
        schemas(
            crate::error::Problem, crate::error::ErrorCode,
            // Enums used only as query parameters are referenced, not inlined, by the derive.
            crate::domain::connection::ConnectionStatus, crate::domain::voucher::ApplicationStatus,
            crate::domain::voucher::RedemptionStatus, crate::domain::contract::ContractStatus,
            crate::domain::instrument::InstrumentStatus, crate::domain::instrument::BookingStatus,
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
        (name = "brokers", description = "技术经理人: broker profiles, the public registry and their statistics"),
        (name = "instruments", description = "科技资源开放共享: shared instruments, bookings, usage"),
        (name = "contracts", description = "技术合同: signing, registration, payments, commercialization, income split"),
        (name = "integrity", description = "Research-integrity records (科研诚信)"),
        (name = "files", description = "Documents: streamed uploads, downloads as the attachment's record allows"),
        (name = "notifications", description = "In-app notifications"),
        (name = "administration", description = "Review, roles, audit log"),
        (name = "operations", description = "Liveness, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The published document: [`ApiDoc`] plus the bounds that the shared request machinery
/// enforces on every operation (see [`universal_bounds`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let generated = ApiDoc::openapi();
    let Ok(mut value) = serde_json::to_value(&generated) else { return generated };
    universal_bounds(&mut value);
    serde_json::from_value(value).unwrap_or(generated)
}

/// Bounds every operation shares because one piece of code enforces them for all, written
/// into the document once here instead of on each field:
///
/// - `page` 1–1 000 000, `per_page` 1–100 and `limit` 1–50 query parameters (`Page`, `Limit`);
/// - a string with `minLength: 1` is text that must not be blank: the validator trims it
///   (`Validator::text`), so it also gets a pattern asking for one non-space character;
/// - every amount (`*_fen`) within ±10^15 fen (`extract::parse_json`);
/// - every `region` in a body one of the 34 province-level names (`organization::REGIONS`);
/// - no NUL character in any string (PostgreSQL text cannot hold it; `parse_json` and the
///   query and path extractors refuse it), as a pattern on every string without one.
fn universal_bounds(doc: &mut serde_json::Value) {
    walk_bounds(doc, None);
    nullable_alternatives(doc);
    describe_responses(doc);
    unique_operation_ids(doc);
}

/// Handlers of different areas share names (`list`, `get`, `create`); an `operationId` used
/// more than once becomes `<method>_<path>` (`get_admin_integrity_records`), which is unique.
fn unique_operation_ids(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in paths.values().filter_map(Value::as_object) {
        for op in item.values() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                *seen.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            let duplicated = op.get("operationId").and_then(Value::as_str).is_some_and(|id| seen.get(id) > Some(&1));
            if duplicated {
                let words: Vec<String> = path
                    .trim_start_matches("/api/v1")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace('-', "_"))
                    .collect();
                op.insert("operationId".into(), Value::String(format!("{method}_{}", words.join("_"))));
            }
        }
    }
}

/// Every response object needs a `description` (OpenAPI 3.1); the ones written inline as
/// `(status = 200, body = …)` get the status's reason phrase and the body's schema name.
fn describe_responses(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            for (status, value) in responses.iter_mut() {
                let body_schema = value
                    .pointer("/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.rsplit('/').next())
                    .map(str::to_owned);
                let Some(response) = value.as_object_mut() else { continue };
                if response.contains_key("description") || response.contains_key("$ref") {
                    continue;
                }
                let phrase = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("Response");
                let body = body_schema.map(|name| format!("{phrase}: {name}")).unwrap_or_else(|| phrase.to_owned());
                response.insert("description".into(), Value::String(body));
            }
        }
    }
}

/// What `domain::account::normalize_email` accepts, as a pattern (surrounding spaces are
/// trimmed by the server).
const EMAIL_PATTERN: &str = r"^\s*[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$";

/// `{"type": ["string", "null"], "format": …, "enum": …}` as `anyOf` a formatted string and
/// `null` (generators and validators apply `format` and `enum` reliably only to one type),
/// with `null` allowed by the enum where it is listed.
fn nullable_alternatives(value: &mut serde_json::Value) {
    use serde_json::{Value, json};
    match value {
        Value::Object(map) => {
            let nullable_string = map
                .get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.len() == 2 && t.iter().any(|x| x == "string") && t.iter().any(|x| x == "null"));
            if nullable_string && (map.contains_key("format") || map.contains_key("enum")) {
                let mut string = serde_json::Map::new();
                string.insert("type".into(), json!("string"));
                for key in ["format", "enum", "pattern", "minLength", "maxLength"] {
                    if let Some(v) = map.remove(key) {
                        string.insert(key.into(), v);
                    }
                }
                map.remove("type");
                map.insert("anyOf".into(), json!([Value::Object(string), {"type": "null"}]));
            }
            for v in map.values_mut() {
                nullable_alternatives(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_alternatives),
        _ => {}
    }
}

fn walk_bounds(value: &mut serde_json::Value, key: Option<&str>) {
    use serde_json::{Value, json};
    {
        match value {
            Value::Object(map) => {
                let is_string = map
                    .get("type")
                    .is_some_and(|t| t == "string" || t.as_array().is_some_and(|a| a.iter().any(|t| t == "string")));
                let free_text = is_string
                    && !map.contains_key("pattern")
                    && !map.contains_key("enum")
                    && !map.contains_key("format");
                if free_text {
                    let non_blank = map.get("minLength").and_then(Value::as_u64).is_some_and(|n| n >= 1);
                    let pattern = if non_blank { "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$" } else { "^[^\\u0000]*$" };
                    map.insert("pattern".into(), json!(pattern));
                }
                let is_integer = map
                    .get("type")
                    .is_some_and(|t| t == "integer" || t.as_array().is_some_and(|a| a.iter().any(|t| t == "integer")));
                // Province-level regions: the one list the validators accept.
                if is_string && key == Some("region") && !map.contains_key("enum") {
                    map.remove("pattern");
                    map.insert("enum".into(), json!(crate::domain::organization::REGIONS.as_slice()));
                }
                // Emails: the shape `domain::account::normalize_email` accepts.
                if is_string && key == Some("email") {
                    map.insert("pattern".into(), json!(EMAIL_PATTERN));
                    map.entry("maxLength").or_insert(json!(254));
                }
                if is_integer && key.is_some_and(|k| k.ends_with("_fen")) {
                    let max = crate::domain::money::MAX_FEN;
                    map.entry("maximum").or_insert(json!(max));
                    map.entry("minimum").or_insert(json!(-max));
                }
                // Query parameters by name.
                if map.get("in").is_some_and(|i| i == "query") {
                    let bounds = match map.get("name").and_then(Value::as_str) {
                        Some("page") => Some((1, Some(1_000_000))),
                        Some("per_page") => Some((1, Some(100))),
                        Some("limit") => Some((1, Some(50))),
                        _ => None,
                    };
                    if let (Some((min, max)), Some(Value::Object(schema))) = (bounds, map.get_mut("schema")) {
                        schema.insert("minimum".into(), json!(min));
                        if let Some(max) = max {
                            schema.insert("maximum".into(), json!(max));
                        }
                    }
                    // Filters that are checked: organization and user ids, a region.
                    let name = map.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                    if let Some(Value::Object(schema)) = map.get_mut("schema") {
                        match name.as_str() {
                            "org_id" | "user_id" => {
                                schema.remove("pattern");
                                schema.insert("format".into(), json!("uuid"));
                            }
                            "region" => {
                                schema.remove("pattern");
                                schema.insert("enum".into(), json!(crate::domain::organization::REGIONS.as_slice()));
                            }
                            _ => {}
                        }
                    }
                }
                let properties = map.get_mut("properties").and_then(Value::as_object_mut).map(|props| {
                    for (name, schema) in props.iter_mut() {
                        walk_bounds(schema, Some(name));
                    }
                });
                for (k, v) in map.iter_mut() {
                    if k != "properties" || properties.is_none() {
                        walk_bounds(v, if k == "items" { key } else { None });
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk_bounds(item, key);
                }
            }
            _ => {}
        }
    }
}

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
