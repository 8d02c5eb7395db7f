//! /me/subscriptions: hear about newly published achievements, demands or challenges.

use crate::domain::error::{Message, Rule};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::openapi::problems::*;
use super::{Paginated, path_id};
use crate::db::listings::SubscriptionRow;
use crate::db::time::from_db;
use crate::domain::error::Validator;
use crate::domain::listing::Field;
use crate::error::AppResult;
use crate::service::subscriptions::{self, NewSubscription, Target};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"target": "demand", "fields": ["new_energy", "new_materials"], "keywords": ["储能", "固态电池"], "region": "江苏省"}))]
pub struct SubscriptionRequest {
    pub target: Target,
    /// Any of these fields (empty: every field).
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Any of these words in the title or text (empty: no word filter).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub keywords: Vec<String>,
    pub region: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub target: String,
    pub fields: Vec<String>,
    pub keywords: Vec<String>,
    pub region: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<SubscriptionRow> for SubscriptionView {
    fn from(r: SubscriptionRow) -> Self {
        Self {
            fields: r.fields(),
            keywords: r.keywords(),
            id: r.id,
            target: r.target,
            region: r.region,
            created_at: from_db(r.created_at),
        }
    }
}

/// Subscribe to newly published items of one kind.
///
/// 任何已登录用户；按类型（成果、需求、榜单）、领域、关键词（至多 20 个）与地区订阅，新发布时收到站内通知。错误：422 `validation_failed`（未知地区、关键词过多）。
#[utoipa::path(post, path = "/api/v1/me/subscriptions", tag = "notifications", security(("bearer" = [])),
    request_body = SubscriptionRequest,
    responses((status = 201, body = SubscriptionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<SubscriptionRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let keywords: Vec<String> = body.keywords.iter().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
    let region = body.region.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let mut v = Validator::new();
    v.check(keywords.len() <= 20, "keywords", Message::too_many(20));
    v.check(
        keywords.iter().all(|k| k.chars().count() <= 40),
        "keywords",
        Message::rule(Rule::KeywordTooLong).arg("max", 40),
    );
    v.check(region.as_deref().is_none_or(crate::domain::organization::is_region), "region", Rule::Region);
    v.finish()?;
    let mut fields = body.fields;
    fields.sort();
    fields.dedup();
    let input = NewSubscription { target: body.target, fields, keywords, region };
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            subscriptions::create(c, &actor, input.clone(), now)
        })
        .await?;
    Ok(HttpResponse::Created().json(SubscriptionView::from(row)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller's subscriptions, newest first.
///
/// 任何已登录用户，只看自己的订阅，分页。错误：422（分页参数）。
#[utoipa::path(get, path = "/api/v1/me/subscriptions", tag = "notifications", security(("bearer" = [])),
    params(SubscriptionQuery),
    responses((status = 200, body = Paginated<SubscriptionView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<SubscriptionQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let rows = state.db.read(move |c| crate::db::listings::subscriptions_of(c, &user.id)).await?;
    let total = rows.len() as i64;
    let items =
        rows.into_iter().skip(page.offset() as usize).take(page.limit() as usize).map(SubscriptionView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}

/// Stop a subscription.
///
/// 订阅者本人，返回 204；他人的订阅为 404 `not_found`。
#[utoipa::path(delete, path = "/api/v1/me/subscriptions/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted"), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            subscriptions::delete(c, &actor, &id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
