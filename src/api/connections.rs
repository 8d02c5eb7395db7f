//! /connections: 供需对接 requests, answers and message threads.

use crate::domain::error::{Message, Rule};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::openapi::problems::*;
use super::{Paginated, path_id};
use crate::db::connections::{MessageRow, Side};
use crate::db::time::from_db;
use crate::domain::connection::{ConnectionStatus, DeclineReason};
use crate::domain::error::Validator;
use crate::domain::listing::ListingKind;
use crate::error::{AppError, AppResult};
use crate::service::connections::{self, Details};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"achievement_id": "0f8c2d4e-6a1b-4c3d-9e7f-5a2b8c1d3e4f", "message": "我司为动力电池制造企业，希望就该成果的技术许可进行对接，可安排技术负责人赴贵校交流。"}))]
pub struct ConnectionRequest {
    /// Exactly one of `achievement_id` and `demand_id`.
    #[schema(format = Uuid)]
    pub achievement_id: Option<String>,
    #[schema(format = Uuid)]
    pub demand_id: Option<String>,
    #[schema(min_length = 1, max_length = 2000)]
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason_code": "price", "reason": "报价超出我方本年度技术引进预算。"}))]
pub struct DeclineRequest {
    pub reason_code: DeclineReason,
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"body": "您好，我们可在下周三上午安排线上会议，介绍中试线工艺参数，请确认是否方便。"}))]
pub struct MessageRequest {
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyContact {
    pub org_id: String,
    pub org_name: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// The person who made the request (requester side only).
    pub user_name: Option<String>,
    pub user_email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contacts {
    pub requester: PartyContact,
    pub owner: PartyContact,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    pub id: String,
    pub achievement_id: Option<String>,
    pub demand_id: Option<String>,
    pub listing_title: String,
    pub requester_org_id: String,
    pub requester_org_name: String,
    /// The organization that owns the listing.
    pub listing_org_id: String,
    pub listing_org_name: String,
    pub message: String,
    /// `requested`, `accepted`, `declined`, `contracted`.
    pub status: String,
    pub decline_reason_code: Option<String>,
    pub decline_reason: Option<String>,
    /// Both sides' contact details, once the request is accepted.
    pub contacts: Option<Contacts>,
    pub created_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    /// The 技术经理人 a party invited (`GET /brokers/{id}`), if any.
    pub broker_id: Option<String>,
    pub broker_invited_at: Option<DateTime<Utc>>,
}

impl From<Details> for ConnectionView {
    fn from(d: Details) -> Self {
        let r = d.row;
        let open = matches!(r.status.as_str(), "accepted" | "contracted");
        let contacts = open.then(|| Contacts {
            requester: PartyContact {
                org_id: d.requester_org.id.clone(),
                org_name: d.requester_org.name.clone(),
                contact_name: d.requester_org.contact_name.clone(),
                contact_phone: d.requester_org.contact_phone.clone(),
                user_name: Some(d.requester_user.display_name.clone()),
                user_email: Some(d.requester_user.email.clone()),
            },
            owner: PartyContact {
                org_id: d.listing_org.id.clone(),
                org_name: d.listing_org.name.clone(),
                contact_name: d.listing_org.contact_name.clone(),
                contact_phone: d.listing_org.contact_phone.clone(),
                user_name: None,
                user_email: None,
            },
        });
        let is_achievement = r.listing_kind == ListingKind::Achievement.as_str();
        Self {
            id: r.id,
            achievement_id: is_achievement.then(|| r.listing_id.clone()),
            demand_id: (!is_achievement).then(|| r.listing_id.clone()),
            listing_title: d.listing_title,
            requester_org_id: r.requester_org_id,
            requester_org_name: d.requester_org.name,
            listing_org_id: r.listing_org_id,
            listing_org_name: d.listing_org.name,
            message: r.message,
            status: r.status,
            decline_reason_code: r.decline_reason_code,
            decline_reason: r.decline_reason,
            contacts,
            created_at: from_db(r.created_at),
            responded_at: r.responded_at.map(from_db),
            broker_id: r.broker_id,
            broker_invited_at: r.broker_invited_at.map(from_db),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub connection_id: String,
    pub author_user_id: String,
    pub author_org_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<MessageRow> for MessageView {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id,
            connection_id: m.connection_id,
            author_user_id: m.author_user_id,
            author_org_id: m.author_org_id,
            body: m.body,
            created_at: from_db(m.created_at),
        }
    }
}

/// Ask the owner of a published achievement or demand to talk.
///
/// 已认证机构的成员（不能对本机构的条目发起）；`achievement_id` 与 `demand_id` 恰给其一，对象须已发布。状态为 `requested`，对方收到通知。错误：403 `forbidden`、`organization_not_verified`，404 `not_found`，409 `duplicate_connection`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])), request_body = ConnectionRequest,
    responses((status = 201, body = ConnectionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<ConnectionRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let mut v = Validator::new();
    v.check(
        body.achievement_id.is_some() != body.demand_id.is_some(),
        "achievement_id",
        Message::exactly_one("achievement_id", "demand_id"),
    );
    v.text("message", &body.message, 2000);
    v.finish()?;
    let (kind, raw) = match (body.achievement_id, body.demand_id) {
        (Some(a), None) => (ListingKind::Achievement, a),
        (None, Some(d)) => (ListingKind::Demand, d),
        _ => return Err(AppError::field("achievement_id", Message::exactly_one("achievement_id", "demand_id"))),
    };
    let field = if kind == ListingKind::Achievement { "achievement_id" } else { "demand_id" };
    let listing_id = uuid::Uuid::parse_str(&raw).map_err(|_| AppError::field(field, Rule::Id))?.to_string();
    let message = body.message.trim().to_owned();
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::request(c, &actor, kind, &listing_id, &message, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(ConnectionView::from(d)))
}

/// One connection (either organization, or an admin).
///
/// 双方机构成员、受邀的技术经理人与管理员；其他人 404 `not_found`。接受后包含双方联系方式。
#[utoipa::path(get, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let d = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::get(c, &actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(d)))
}

async fn respond(
    state: &AppState,
    user: AuthUser,
    id: &str,
    decline: Option<(DeclineReason, Option<String>)>,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::respond(c, &actor, &id, decline.clone(), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(d)))
}

/// Accept a request: `requested` → `accepted`; contact details become visible to both.
///
/// 被请求方（条目所属机构）成员。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/connections/{id}/accept", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn accept(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    respond(&state, user, &id, None).await
}

/// Decline a request with a reason code: `requested` → `declined`.
///
/// 被请求方成员，须给出原因代码（`too_early`、`unclear_benefit`、`price`、`not_relevant`、`capacity`、`other`）。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/connections/{id}/decline", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id")), request_body = DeclineRequest,
    responses((status = 200, body = ConnectionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn decline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<DeclineRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let reason = body.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let mut v = Validator::new();
    v.check(reason.as_ref().is_none_or(|r| r.chars().count() <= 2000), "reason", Message::too_long(2000));
    v.finish()?;
    respond(&state, user, &id, Some((body.reason_code, reason))).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionQuery {
    /// `sent` (by my organization), `received` (about my listings), or `brokered` (those I
    /// was invited to as a broker); sent and received when absent.
    pub role: Option<RoleParam>,
    pub status: Option<ConnectionStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleParam {
    Sent,
    Received,
    Brokered,
}

/// The caller organization's connections, newest first.
///
/// 已登录用户：本机构发起或收到的对接，可按状态与角色筛选，分页；`role=brokered` 为本人作为技术经理人受邀的对接。错误：422。
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])), params(ConnectionQuery),
    responses((status = 200, body = Paginated<ConnectionView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<ConnectionQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let side = match q.role {
        Some(RoleParam::Sent) => Some(Side::Sent),
        Some(RoleParam::Received) => Some(Side::Received),
        Some(RoleParam::Brokered) => None,
        None => Some(Side::Either),
    };
    let (items, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            match side {
                Some(side) => connections::list(c, &actor, side, q.status, page),
                None => connections::list_brokered(c, &actor, q.status, page),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items.into_iter().map(ConnectionView::from).collect(), page, total)))
}

/// Post a message in the thread (while `requested` or `accepted`).
///
/// 双方机构成员与受邀的技术经理人；对接已拒绝或已签约后不能再发言。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/connections/{id}/messages", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id")), request_body = MessageRequest,
    responses((status = 201, body = MessageView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn post_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<MessageRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let text = body.into_inner().body;
    let mut v = Validator::new();
    v.text("body", &text, 5000);
    v.finish()?;
    let now = state.clock.now();
    let m = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::post_message(c, &actor, &id, text.trim(), now)
        })
        .await?;
    Ok(HttpResponse::Created().json(MessageView::from(m)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The thread, oldest first.
///
/// 双方机构成员、受邀的技术经理人与管理员，分页。错误：404 `not_found`，422。
#[utoipa::path(get, path = "/api/v1/connections/{id}/messages", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id"), MessageQuery),
    responses((status = 200, body = Paginated<MessageView>), (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
pub async fn messages(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<MessageQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::messages(c, &actor, &id, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(MessageView::from).collect(), page, total)))
}
