//! HTTP layer. `configure` is THE routing table: every path the server answers is listed
//! here, in the order of the API contract. Handlers live in one file per area.

pub mod access;
pub mod admin;
pub mod auth;
pub mod brokers;
pub mod challenges;
pub mod client_ip;
pub mod connections;
pub mod contracts;
pub mod extract;
pub mod files;
pub mod freshness;
pub mod idempotency;
pub mod instruments;
pub mod integrity;
pub mod listings;
pub mod matching;
pub mod meta;
pub mod openapi;
pub mod ops;
pub mod organizations;
pub mod registrations;
pub mod settlement_batches;
pub mod subscriptions;
pub mod users;
pub mod vouchers;

use actix_web::web::{self, delete, get, post, put, resource};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::error::{DomainError, Validator};
use crate::error::AppError;
use crate::pages;
use crate::service::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(get().to(ops::healthz)))
        .service(resource("/readyz").route(get().to(ops::readyz)))
        .service(resource("/metrics").route(get().to(ops::metrics)))
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi::document()))
        // HTML pages the links in emails open (crate::pages), outside the API
        .service(
            resource("/verify-email")
                .app_data(pages::form_config())
                .route(get().to(pages::account::verify_email_form))
                .route(post().to(pages::account::verify_email)),
        )
        .service(
            resource("/reset-password")
                .app_data(pages::form_config())
                .route(get().to(pages::account::reset_password_form))
                .route(post().to(pages::account::reset_password_submit)),
        )
        // one per kind in domain::links::RECORD_KINDS (a test opens each)
        .service(resource("/achievements/{id}").route(get().to(pages::records::record)))
        .service(resource("/demands/{id}").route(get().to(pages::records::record)))
        .service(resource("/challenges/{id}").route(get().to(pages::records::record)))
        .service(resource("/connections/{id}").route(get().to(pages::records::record)))
        .service(resource("/contracts/{id}").route(get().to(pages::records::record)))
        .service(resource("/organizations/{id}").route(get().to(pages::records::record)))
        .service(resource("/vouchers/{id}").route(get().to(pages::records::record)))
        .service(resource("/voucher-applications/{id}").route(get().to(pages::records::record)))
        .service(resource("/voucher-redemptions/{id}").route(get().to(pages::records::record)))
        .service(resource("/integrity-records/{id}").route(get().to(pages::records::record)))
        .service(resource("/invitations/{id}").route(get().to(pages::records::record)))
        .service(resource("/me/notifications").route(get().to(pages::records::notifications)))
        .service(
            web::scope("/api/v1")
                // accounts
                .service(resource("/auth/register").route(post().to(auth::register)))
                .service(resource("/auth/verify-email").route(post().to(auth::verify_email)))
                .service(resource("/auth/login").route(post().to(auth::login)))
                .service(resource("/auth/refresh").route(post().to(auth::refresh)))
                .service(resource("/auth/logout").route(post().to(auth::logout)))
                .service(resource("/auth/password-reset").route(post().to(auth::password_reset)))
                .service(resource("/auth/password-reset/confirm").route(post().to(auth::password_reset_confirm)))
                .service(resource("/me").route(get().to(users::me)))
                .service(resource("/meta").route(get().to(meta::meta)))
                // organizations
                .service(
                    resource("/organizations")
                        .route(post().to(organizations::create))
                        .route(get().to(organizations::list)),
                )
                .service(resource("/organizations/{id}").route(get().to(organizations::get)))
                .service(resource("/organizations/{id}/members").route(post().to(organizations::add_member)))
                .service(
                    resource("/organizations/{id}/members/{user_id}").route(delete().to(organizations::remove_member)),
                )
                .service(resource("/organizations/{id}/invitations").route(post().to(organizations::invite)))
                .service(resource("/me/invitations").route(get().to(organizations::my_invitations)))
                .service(resource("/me/organization/leave").route(post().to(organizations::leave)))
                .service(resource("/invitations/{id}/accept").route(post().to(organizations::accept_invitation)))
                .service(resource("/invitations/{id}/decline").route(post().to(organizations::decline_invitation)))
                .service(resource("/invitations/{id}/revoke").route(post().to(organizations::revoke_invitation)))
                .service(resource("/admin/organizations/{id}/verify").route(post().to(organizations::verify)))
                .service(resource("/admin/organizations/{id}/reject").route(post().to(organizations::reject)))
                .service(resource("/admin/users/{id}/role").route(post().to(users::set_role)))
                // achievements and demands
                .service(
                    resource("/achievements")
                        .route(post().to(listings::create_achievement))
                        .route(get().to(listings::list_achievements)),
                )
                .service(
                    resource("/achievements/{id}")
                        .route(get().to(listings::get_achievement))
                        .route(web::patch().to(listings::update_achievement)),
                )
                .service(resource("/achievements/{id}/submit").route(post().to(listings::submit_achievement)))
                .service(resource("/achievements/{id}/withdraw").route(post().to(listings::withdraw_achievement)))
                .service(resource("/admin/achievements/{id}/approve").route(post().to(listings::approve_achievement)))
                .service(resource("/admin/achievements/{id}/reject").route(post().to(listings::reject_achievement)))
                .service(
                    resource("/demands")
                        .route(post().to(listings::create_demand))
                        .route(get().to(listings::list_demands)),
                )
                .service(
                    resource("/demands/{id}")
                        .route(get().to(listings::get_demand))
                        .route(web::patch().to(listings::update_demand)),
                )
                .service(resource("/demands/{id}/submit").route(post().to(listings::submit_demand)))
                .service(resource("/demands/{id}/withdraw").route(post().to(listings::withdraw_demand)))
                .service(resource("/admin/demands/{id}/approve").route(post().to(listings::approve_demand)))
                .service(resource("/admin/demands/{id}/reject").route(post().to(listings::reject_demand)))
                .service(resource("/admin/review-queue").route(get().to(listings::review_queue)))
                // freshness and insights
                .service(resource("/achievements/{id}/confirm").route(post().to(freshness::confirm_achievement)))
                .service(resource("/demands/{id}/confirm").route(post().to(freshness::confirm_demand)))
                .service(resource("/demands/{id}/extend").route(post().to(freshness::extend_demand)))
                .service(resource("/achievements/{id}/insights").route(get().to(freshness::achievement_insights)))
                .service(resource("/demands/{id}/insights").route(get().to(freshness::demand_insights)))
                // confidential detail and NDAs
                .service(
                    resource("/achievements/{id}/access-requests")
                        .route(post().to(access::create))
                        .route(get().to(access::list)),
                )
                .service(resource("/access-requests/{id}/grant").route(post().to(access::grant)))
                .service(resource("/access-requests/{id}/decline").route(post().to(access::decline)))
                .service(resource("/access-requests/{id}/revoke").route(post().to(access::revoke)))
                .service(resource("/access-requests/{id}/accept-nda").route(post().to(access::accept_nda)))
                // shared instruments (科技资源开放共享)
                .service(
                    resource("/instruments").route(get().to(instruments::list)).route(post().to(instruments::create)),
                )
                .service(
                    resource("/instruments/{id}")
                        .route(get().to(instruments::get))
                        .route(web::patch().to(instruments::update)),
                )
                .service(
                    resource("/instruments/{id}/bookings")
                        .route(post().to(instruments::book))
                        .route(get().to(instruments::bookings)),
                )
                .service(resource("/instruments/{id}/usage").route(get().to(instruments::usage)))
                .service(resource("/bookings/{id}/approve").route(post().to(instruments::approve)))
                .service(resource("/bookings/{id}/reject").route(post().to(instruments::reject)))
                .service(resource("/bookings/{id}/complete").route(post().to(instruments::complete)))
                .service(resource("/bookings/{id}/no-show").route(post().to(instruments::no_show)))
                .service(resource("/bookings/{id}/cancel").route(post().to(instruments::cancel)))
                // matching and connections (供需对接)
                .service(resource("/demands/{id}/matches").route(get().to(matching::demand_matches)))
                .service(resource("/achievements/{id}/matches").route(get().to(matching::achievement_matches)))
                .service(
                    resource("/connections").route(post().to(connections::create)).route(get().to(connections::list)),
                )
                .service(resource("/connections/{id}").route(get().to(connections::get)))
                .service(resource("/connections/{id}/broker").route(post().to(brokers::invite)))
                .service(resource("/connections/{id}/accept").route(post().to(connections::accept)))
                .service(resource("/connections/{id}/decline").route(post().to(connections::decline)))
                .service(
                    resource("/connections/{id}/messages")
                        .route(post().to(connections::post_message))
                        .route(get().to(connections::messages)),
                )
                // subscriptions
                .service(
                    resource("/me/subscriptions")
                        .route(post().to(subscriptions::create))
                        .route(get().to(subscriptions::list)),
                )
                .service(resource("/me/subscriptions/{id}").route(delete().to(subscriptions::delete)))
                // 揭榜挂帅 challenges
                .service(resource("/challenges").route(post().to(challenges::create)).route(get().to(challenges::list)))
                .service(resource("/challenges/{id}").route(get().to(challenges::get)))
                .service(resource("/challenges/{id}/submit").route(post().to(challenges::submit)))
                .service(resource("/admin/challenges/{id}/approve").route(post().to(challenges::approve)))
                .service(resource("/admin/challenges/{id}/reject").route(post().to(challenges::reject)))
                .service(
                    resource("/challenges/{id}/bids")
                        .route(post().to(challenges::create_bid))
                        .route(get().to(challenges::list_bids)),
                )
                .service(resource("/challenges/{id}/bids/{bid_id}/withdraw").route(post().to(challenges::withdraw_bid)))
                .service(resource("/admin/challenges/{id}/experts").route(post().to(challenges::assign_experts)))
                .service(resource("/challenges/{id}/bids/{bid_id}/score").route(put().to(challenges::score)))
                .service(resource("/challenges/{id}/ranking").route(get().to(challenges::ranking)))
                .service(resource("/challenges/{id}/award").route(post().to(challenges::award)))
                .service(resource("/challenges/{id}/bids/{bid_id}/feedback").route(get().to(challenges::feedback)))
                .service(resource("/challenges/{id}/milestones/{mid}/deliver").route(post().to(challenges::deliver)))
                .service(
                    resource("/challenges/{id}/milestones/{mid}/accept").route(post().to(challenges::accept_milestone)),
                )
                .service(
                    resource("/challenges/{id}/milestones/{mid}/reject").route(post().to(challenges::reject_milestone)),
                )
                .service(resource("/challenges/{id}/eliminate").route(post().to(challenges::eliminate)))
                .service(resource("/challenges/{id}/cancel").route(post().to(challenges::cancel)))
                // innovation vouchers (科技创新券)
                .service(resource("/admin/voucher-programs").route(post().to(vouchers::create_program)))
                .service(resource("/voucher-programs").route(get().to(vouchers::list_programs)))
                .service(resource("/voucher-programs/{id}").route(get().to(vouchers::get_program)))
                .service(resource("/voucher-programs/{id}/applications").route(post().to(vouchers::apply)))
                .service(resource("/voucher-applications").route(get().to(vouchers::list_applications)))
                .service(resource("/admin/voucher-applications/{id}/approve").route(post().to(vouchers::approve)))
                .service(
                    resource("/admin/voucher-applications/{id}/reject").route(post().to(vouchers::reject_application)),
                )
                .service(resource("/vouchers").route(get().to(vouchers::list_vouchers)))
                .service(resource("/vouchers/{id}").route(get().to(vouchers::get_voucher)))
                .service(
                    resource("/voucher-redemptions")
                        .route(post().to(vouchers::redeem))
                        .route(get().to(vouchers::list_redemptions)),
                )
                .service(resource("/voucher-redemptions/{id}").route(get().to(vouchers::get_redemption)))
                .service(resource("/voucher-redemptions/{id}/confirm").route(post().to(vouchers::confirm)))
                .service(resource("/admin/voucher-redemptions/{id}/settle").route(post().to(vouchers::settle)))
                .service(
                    resource("/admin/voucher-redemptions/{id}/reject").route(post().to(vouchers::reject_redemption)),
                )
                .service(resource("/admin/vouchers/{id}/revoke").route(post().to(vouchers::revoke)))
                .service(resource("/admin/voucher-programs/{id}/ledger").route(get().to(vouchers::ledger)))
                .service(resource("/admin/voucher-programs/{id}/summary").route(get().to(vouchers::summary)))
                .service(
                    resource("/admin/voucher-programs/{id}/settlement-batches")
                        .route(post().to(settlement_batches::create))
                        .route(get().to(settlement_batches::list)),
                )
                .service(
                    resource("/admin/settlement-batches/{id}/statement").route(get().to(settlement_batches::statement)),
                )
                .service(
                    resource("/admin/settlement-batches/{id}/statement.csv")
                        .route(get().to(settlement_batches::statement_csv)),
                )
                // brokers (技术经理人)
                .service(resource("/me/broker-profile").route(post().to(brokers::save_profile)))
                .service(resource("/brokers").route(get().to(brokers::list)))
                .service(resource("/brokers/{id}").route(get().to(brokers::get)))
                // technology contracts (技术合同)
                .service(resource("/contracts").route(post().to(contracts::create)).route(get().to(contracts::list)))
                .service(resource("/contracts/{id}").route(get().to(contracts::get)))
                .service(resource("/contracts/{id}/sign").route(post().to(contracts::sign)))
                .service(resource("/admin/contracts/{id}/register").route(post().to(contracts::register)))
                .service(resource("/contracts/{id}/payments").route(post().to(contracts::payment)))
                .service(resource("/contracts/{id}/commercialization").route(post().to(contracts::commercialization)))
                .service(resource("/contracts/{id}/revenue-distribution").route(post().to(contracts::distribution)))
                .service(resource("/contracts/{id}/complete").route(post().to(contracts::complete)))
                .service(resource("/contracts/{id}/terminate").route(post().to(contracts::terminate)))
                // 认定登记 (registration of a signed contract)
                .service(
                    resource("/contracts/{id}/registration")
                        .route(post().to(registrations::file))
                        .route(get().to(registrations::get)),
                )
                .service(
                    resource("/contracts/{id}/registration/request-supplement")
                        .route(post().to(registrations::request_supplement)),
                )
                .service(
                    resource("/contracts/{id}/registration/supplement").route(post().to(registrations::supplement)),
                )
                .service(resource("/contracts/{id}/registration/accept").route(post().to(registrations::accept)))
                .service(resource("/contracts/{id}/registration/approve").route(post().to(registrations::approve)))
                .service(resource("/contracts/{id}/registration/refuse").route(post().to(registrations::refuse)))
                .service(resource("/contracts/{id}/registration/amend").route(post().to(registrations::amend)))
                .service(resource("/contracts/{id}/registration/cancel").route(post().to(registrations::cancel)))
                .service(resource("/admin/registration-offices").route(post().to(registrations::create_office)))
                // research integrity
                .service(
                    resource("/admin/integrity-records")
                        .route(post().to(integrity::create))
                        .route(get().to(integrity::list)),
                )
                .service(resource("/admin/integrity-records/{id}/lift").route(post().to(integrity::lift)))
                // files (documents attached to records)
                .service(resource("/files").route(post().to(files::upload)))
                .service(resource("/files/{id}").route(get().to(files::download)).route(delete().to(files::delete)))
                // notifications, administration
                .service(resource("/me/notifications").route(get().to(users::notifications)))
                .service(resource("/me/notifications/{id}/read").route(post().to(users::read_notification)))
                .service(resource("/admin/stats").route(get().to(admin::stats)))
                .service(resource("/admin/exports/contracts.csv").route(get().to(admin::contracts_csv)))
                .service(resource("/admin/audit").route(get().to(admin::audit)))
                .service(resource("/admin/audit/verify").route(get().to(admin::audit_verify))),
        );
}

/// Fallback for every path no route matches: 404 problem+json.
pub async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use crate::error::{ErrorCode, Message, Rule};
    use actix_web::ResponseError;
    let detail = Message::rule(Rule::NoRoute).arg("method", req.method().as_str()).arg("path", req.path());
    AppError::new(ErrorCode::NotFound, detail).error_response()
}

/// The list envelope: `{items, page, per_page, total}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl<T: ToSchema> Paginated<T> {
    pub fn new(items: Vec<T>, page: Page, total: i64) -> Self {
        Self { items, page: page.page, per_page: page.per_page, total }
    }
}

/// `{items: [...]}` for unpaginated lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    pub items: Vec<T>,
}

/// A body carrying only a reason (rejections, cancellations, lifts).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "材料不完整：请补充第三方检测报告后重新提交。"}))]
pub struct ReasonRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

impl ReasonRequest {
    pub fn validated(self) -> Result<String, DomainError> {
        let mut v = Validator::new();
        v.text("reason", &self.reason, 2000);
        v.finish()?;
        Ok(self.reason.trim().to_owned())
    }
}

/// Ids in paths are UUIDs; anything else names no resource (404).
pub fn path_id(raw: &str) -> Result<String, AppError> {
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| AppError::not_found("resource"))
}

/// Serializes a response body once, so it can be kept and served again as it is.
pub fn to_json_bytes(value: &impl Serialize) -> Result<web::Bytes, AppError> {
    serde_json::to_vec(value).map(web::Bytes::from).map_err(AppError::internal)
}

/// A 200 with an already serialized JSON body.
pub fn json_body(body: web::Bytes) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body)
}
