//! Listing freshness and insights: `POST /achievements/{id}/confirm`, `POST /demands/{id}/confirm`,
//! `POST /demands/{id}/extend`, `GET /achievements/{id}/insights`, `GET /demands/{id}/insights`.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::listings::{AchievementView, DemandView, dated_view};
use super::openapi::problems::*;
use super::path_id;
use crate::domain::error::Message;
use crate::domain::freshness::{Insights, Week};
use crate::domain::listing::ListingKind;
use crate::error::{AppError, AppResult};
use crate::service::{self, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"deadline": "2031-12-31"}))]
pub struct ExtendRequest {
    /// The new last day the demand is open (YYYY-MM-DD, Asia/Shanghai); must be after today.
    #[schema(example = "2031-12-31")]
    pub deadline: NaiveDate,
}

async fn confirm(state: &AppState, user: AuthUser, kind: ListingKind, id: &str) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            service::freshness::confirm(c, &actor, kind, &id, now)
        })
        .await?;
    // A listing back from stale rejoins matching: cached match lists must not leave it out.
    state.refresh_index(vec![row.id.clone()]).await?;
    Ok(HttpResponse::Ok().json(dated_view(state, kind, row)))
}

/// Confirm a published achievement is still current (owning organization).
///
/// 所属机构成员；确认成果信息仍然有效，更新 `confirmed_at`。超过 `matching.confirm_after_days` 天未确认（自发布或上次确认起）的成果暂停参与匹配，确认后立即恢复。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`（未发布）。
#[utoipa::path(post, path = "/api/v1/achievements/{id}/confirm", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = AchievementView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn confirm_achievement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    confirm(&state, user, ListingKind::Achievement, &id).await
}

/// Confirm a published demand is still current (owning organization).
///
/// 所属机构成员；确认需求信息仍然有效，更新 `confirmed_at`，长期未确认而暂停匹配的需求随即恢复匹配。已到期（`expired`）的需求请用延期接口。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/demands/{id}/confirm", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn confirm_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    confirm(&state, user, ListingKind::Demand, &id).await
}

/// Move a demand's deadline: `published` stays published, `expired` → `published` again.
///
/// 所属机构成员；新截止日期须晚于今天（北京时间）。已到期的需求延期后直接恢复发布，无需重新审核（内容未变）；延期同时视为确认（更新 `confirmed_at`），到期提醒重新计算。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`（其他状态），422（`deadline`）。
#[utoipa::path(post, path = "/api/v1/demands/{id}/extend", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")), request_body = ExtendRequest,
    responses((status = 200, body = DemandView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn extend_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ExtendRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let deadline = body.into_inner().deadline;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            service::freshness::extend(c, &actor, &id, deadline, now)
        })
        .await?;
    state.refresh_index(vec![row.id.clone()]).await?;
    Ok(HttpResponse::Ok().json(dated_view(&state, ListingKind::Demand, row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// ISO weeks to report, ending with the current one (Asia/Shanghai): 1..=52, default 12.
    #[param(example = 12, minimum = 1, maximum = 52)]
    pub weeks: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsightCounts {
    /// Distinct (organization, its listing) pairs shown this listing in a match list, counted
    /// once per week each.
    pub match_appearances: i64,
    /// Search results pages (`GET /achievements?q=…`, `GET /demands?q=…`) that listed it.
    pub search_appearances: i64,
    pub connection_requests: i64,
    pub accepted: i64,
    pub declined: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsightWeek {
    /// ISO week, e.g. `2026-W49`.
    #[schema(example = "2026-W49")]
    pub week: String,
    /// Its Monday.
    pub starts: NaiveDate,
    #[serde(flatten)]
    pub counts: InsightCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeclineReasonCount {
    /// The decline reason code (`GET /meta` lists them with labels); `other` when none given.
    pub code: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsightsView {
    pub listing_id: String,
    /// First and last day covered (Monday of the first week, Sunday of the last).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: InsightCounts,
    /// Accepted ÷ answered (accepted + declined) in basis points; `null` before any answer.
    pub acceptance_bp: Option<i64>,
    /// Declines by reason, most frequent first.
    pub decline_reasons: Vec<DeclineReasonCount>,
    /// Oldest first.
    pub weeks: Vec<InsightWeek>,
}

fn counts(w: &Week) -> InsightCounts {
    InsightCounts {
        match_appearances: w.match_appearances,
        search_appearances: w.search_appearances,
        connection_requests: w.connection_requests,
        accepted: w.accepted,
        declined: w.declined,
    }
}

impl InsightsView {
    fn new(listing_id: String, insights: Insights) -> Self {
        let mut total = Week::default();
        for w in &insights.weeks {
            total.match_appearances += w.match_appearances;
            total.search_appearances = total.search_appearances.saturating_add(w.search_appearances);
            total.connection_requests += w.connection_requests;
            total.accepted += w.accepted;
            total.declined += w.declined;
        }
        let answered = total.accepted + total.declined;
        let from = insights.weeks.first().map(|w| w.starts).unwrap_or_default();
        let to = insights.weeks.last().map(|w| w.starts + chrono::Duration::days(6)).unwrap_or_default();
        Self {
            listing_id,
            from,
            to,
            totals: counts(&total),
            acceptance_bp: (answered > 0).then(|| total.accepted * 10_000 / answered),
            decline_reasons: insights
                .decline_reasons
                .into_iter()
                .map(|(code, count)| DeclineReasonCount { code, count })
                .collect(),
            weeks: insights
                .weeks
                .iter()
                .map(|w| InsightWeek { week: w.label(), starts: w.starts, counts: counts(w) })
                .collect(),
        }
    }
}

async fn insights(
    state: &AppState,
    user: AuthUser,
    kind: ListingKind,
    id: &str,
    weeks: Option<i64>,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let weeks = weeks.unwrap_or(12);
    let weeks = u32::try_from(weeks)
        .ok()
        .filter(|w| (1..=52).contains(w))
        .ok_or_else(|| AppError::field("weeks", Message::between(1, 52)))?;
    // Appearances counted moments ago are part of the answer.
    state.search_tally.flush(&state.db).await?;
    let now = state.clock.now();
    let out = state
        .db
        .read(move |c| {
            let row = service::insights::authorize(c, &user.id, kind, &id)?;
            Ok(InsightsView::new(row.id.clone(), service::insights::insights(c, &row.id, weeks, now)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// How an achievement fared: match and search appearances, connection requests and answers per week.
///
/// 所属机构成员与管理员；按 ISO 周统计出现在匹配结果中的次数（每个机构及其信息每周计一次）、出现在检索结果页中的次数、对接请求数、接受与拒绝数，以及拒绝原因分布。错误：403 `forbidden`，404 `not_found`，422（`weeks`）。
#[utoipa::path(get, path = "/api/v1/achievements/{id}/insights", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id"), InsightsQuery),
    responses((status = 200, body = InsightsView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn achievement_insights(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<InsightsQuery>,
) -> AppResult<HttpResponse> {
    insights(&state, user, ListingKind::Achievement, &id, query.weeks).await
}

/// How a demand fared: match and search appearances, connection requests and answers per week.
///
/// 所属机构成员与管理员；统计口径同成果洞察。错误：403 `forbidden`，404 `not_found`，422（`weeks`）。
#[utoipa::path(get, path = "/api/v1/demands/{id}/insights", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id"), InsightsQuery),
    responses((status = 200, body = InsightsView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn demand_insights(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<InsightsQuery>,
) -> AppResult<HttpResponse> {
    insights(&state, user, ListingKind::Demand, &id, query.weeks).await
}
