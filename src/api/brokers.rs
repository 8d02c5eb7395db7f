//! /brokers, /me/broker-profile and /connections/{id}/broker: 技术经理人.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::connections::ConnectionView;
use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::openapi::problems::*;
use super::{Paginated, path_id};
use crate::db::brokers::ListedBroker;
use crate::db::time::from_db;
use crate::domain::broker::Profile;
use crate::domain::error::Rule;
use crate::domain::listing::Field;
use crate::error::{AppError, AppResult};
use crate::service::brokers::{self, Figures};
use crate::service::{Page, connections, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"fields": ["new_energy", "new_materials"], "certificate_no": "JSJL-2024-0318", "years_of_practice": 8, "bio": "长期从事新能源与新材料领域的技术转移，促成高校成果许可、作价投资项目二十余项，熟悉技术合同认定登记与收益分配。"}))]
pub struct BrokerProfileRequest {
    /// Fields of expertise, from the listings' taxonomy (repeats are dropped).
    #[schema(min_items = 1, max_items = 15)]
    pub fields: Vec<Field>,
    /// The 技术经理人 certificate number.
    #[schema(min_length = 1, max_length = 64)]
    pub certificate_no: String,
    #[schema(minimum = 0, maximum = 60)]
    pub years_of_practice: i32,
    #[schema(min_length = 1, max_length = 2000)]
    pub bio: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokerStatistics {
    /// Connections the broker is invited to.
    pub connections: i64,
    /// Contracts drafted from those connections (any status).
    pub contracts: i64,
    /// 技术交易额: the registered amount (else the amount) of its contracts that are
    /// `registered`, `performing` or `completed`.
    pub transaction_amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokerView {
    /// The broker id (`broker_id` elsewhere).
    pub id: String,
    pub user_id: String,
    /// The broker's name (the account's display name).
    pub name: String,
    /// The service provider the broker works for, and its region.
    pub org_id: String,
    pub org_name: String,
    pub region: String,
    pub fields: Vec<Field>,
    pub certificate_no: String,
    pub years_of_practice: i32,
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only in `GET /brokers/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<BrokerStatistics>,
}

impl BrokerView {
    fn new(b: ListedBroker, figures: Option<Figures>) -> Self {
        let r = b.row;
        Self {
            id: r.id,
            user_id: r.user_id,
            name: b.name,
            org_id: r.org_id,
            org_name: b.org_name,
            region: b.region,
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            certificate_no: r.certificate_no,
            years_of_practice: r.years_of_practice,
            bio: r.bio,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
            statistics: figures.map(|f| BrokerStatistics {
                connections: f.connections,
                contracts: f.contracts,
                transaction_amount_fen: f.transaction_amount_fen,
            }),
        }
    }
}

/// Create or update your own broker profile.
///
/// 已认证服务机构（`service_provider`）的成员；每人一份档案，首次保存 201，之后为更新 200。领域取自成果与需求的领域分类，至少一个；从业年限 0–60；证书编号与简介必填。错误：403 `organization_not_verified`（未加入或机构未认证）、`forbidden`（机构不是服务机构），422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/me/broker-profile", tag = "brokers", security(("bearer" = [])), request_body = BrokerProfileRequest,
    responses((status = 201, body = BrokerView), (status = 200, body = BrokerView), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn save_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<BrokerProfileRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let profile = Profile {
        fields: b.fields,
        certificate_no: b.certificate_no,
        years_of_practice: b.years_of_practice,
        bio: b.bio,
    }
    .validated()?;
    let now = state.clock.now();
    let (broker, created) = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            brokers::save_profile(c, &actor, profile.clone(), now)
        })
        .await?;
    let view = BrokerView::new(broker, None);
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrokerQuery {
    /// Matched (as a substring) against the broker's name, bio and certificate number.
    #[param(example = "新能源")]
    pub q: Option<String>,
    /// Brokers with this field among their expertise.
    pub field: Option<Field>,
    /// The region of the broker's service provider.
    #[param(example = "江苏省")]
    pub region: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The public registry of brokers, newest first.
///
/// 任何人可调用（无需令牌）：档案有效（本人仍在已认证服务机构）的技术经理人，按姓名、简介、证书编号检索（`q`），按领域、服务机构所在地区筛选，分页。错误：422（未知地区、领域，分页越界）。
#[utoipa::path(get, path = "/api/v1/brokers", tag = "brokers", params(BrokerQuery),
    responses((status = 200, body = Paginated<BrokerView>), (status = 422, response = Unprocessable)))]
pub async fn list(state: web::Data<AppState>, query: ApiQuery<BrokerQuery>) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    if q.region.as_deref().is_some_and(|r| !crate::domain::organization::is_region(r)) {
        return Err(AppError::field("region", Rule::Region));
    }
    let text = q.q.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let (rows, total) = state.db.read(move |c| brokers::list(c, text, q.field, q.region, page)).await?;
    let items = rows.into_iter().map(|b| BrokerView::new(b, None)).collect();
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}

/// One broker with its statistics.
///
/// 任何人可调用（无需令牌）：档案与统计——受邀对接数、促成合同数、技术交易额（已认定登记及之后状态合同的认定金额之和）。档案失效（本人已离开服务机构或机构不再认证）时 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/brokers/{id}", tag = "brokers",
    params(("id" = String, Path, description = "Broker id")),
    responses((status = 200, body = BrokerView), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let (broker, figures) = state.db.read(move |c| brokers::get(c, &id)).await?;
    Ok(HttpResponse::Ok().json(BrokerView::new(broker, Some(figures))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"broker_id": "5b7d9f1a-3c5e-4a7b-8d9f-0a2c4e6b8d0f"}))]
pub struct InviteBrokerRequest {
    #[schema(format = Uuid)]
    pub broker_id: String,
}

/// Invite a broker into a connection, or replace its broker.
///
/// 对接任一方机构的成员，对接须为 `requested` 或 `accepted`；技术经理人须档案有效且不属于任一方机构。之后该技术经理人可查看此对接（含双方联系方式）、其消息与所涉成果或需求，可留言，可据此起草合同。再次邀请他人即替换（原技术经理人失去查看权限）；签约（`contracted`）后不能再换。错误：403 `forbidden`（管理员或技术经理人本人等非当事方），404 `not_found`（看不到该对接），409 `invalid_state_transition`、`conflict_of_interest`，422 `validation_failed`（`broker_id` 无效）。
#[utoipa::path(post, path = "/api/v1/connections/{id}/broker", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id")), request_body = InviteBrokerRequest,
    responses((status = 200, body = ConnectionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn invite(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<InviteBrokerRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let broker_id = uuid::Uuid::parse_str(&body.into_inner().broker_id)
        .map_err(|_| AppError::field("broker_id", Rule::Id))?
        .to_string();
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            connections::invite_broker(c, &actor, &id, &broker_id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(d)))
}
