//! /challenges: 揭榜挂帅 open-bid challenges, 赛马制 horse races and 定向委托 directed
//! commissions, from publication to the last milestone.

use crate::domain::error::{Message, Rule};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery, AuthUser, IdempotencyKey, MaybeUser};
use super::files::{AttachmentIn, AttachmentView};
use super::idempotency::{Idempotency, IdempotencyHeader};
use super::openapi::problems::*;
use super::{Items, Paginated, ReasonRequest, path_id};
use crate::db::challenges::{BidRow, ScoreRow};
use crate::db::time::from_db;
use crate::domain::challenge::{ChallengeMode, ChallengeStatus};
use crate::domain::error::Validator;
use crate::domain::file::{Purpose, RecordType};
use crate::domain::listing::Field;
use crate::domain::organization::OrgKind;
use crate::error::{AppError, AppResult};
use crate::search::index::{Filters, Sort};
use crate::search::sync::field_code;
use crate::service::challenges::{
    self, Details, Indicator, NewBidInput, NewChallengeInput, NewMilestone, ScoreInput, TeamMember,
};
use crate::service::files::{self, Requirer};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct MilestoneRequest {
    #[schema(min_length = 1)]
    pub title: String,
    pub due_date: NaiveDate,
    #[schema(minimum = 0)]
    pub payment_fen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "高温合金叶片内部缺陷智能检测", "description": "面向航空发动机高温合金涡轮叶片，研制内部缺陷自动检测装备与识别算法，实现批量叶片在线检测。", "field": "advanced_manufacturing", "indicators": [{"name": "缺陷检出率", "target": "≥99%"}, {"name": "单件检测时间", "target": "≤5分钟"}], "reward_fen": 200000000, "mode": "single", "max_winners": 1, "bid_deadline": "2031-03-31T16:00:00Z", "publicity_days": 7, "eligible_kinds": ["university", "institute"], "milestones": [{"title": "样机研制", "due_date": "2031-12-31", "payment_fen": 80000000}, {"title": "现场验证", "due_date": "2032-06-30", "payment_fen": 120000000}]}))]
pub struct CreateChallengeRequest {
    #[schema(example = "高温合金叶片内部缺陷智能检测", min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    pub field: Field,
    /// Target indicators, e.g. `{"name": "检出率", "target": "≥99%"}`.
    #[schema(min_items = 1, max_items = 50)]
    pub indicators: Vec<Indicator>,
    pub reward_fen: i64,
    pub mode: ChallengeMode,
    /// `directed` only: the verified organization commissioned.
    #[schema(format = Uuid)]
    pub directed_org_id: Option<String>,
    /// `single` and `directed`: 1; `horse_race`: 2..5.
    pub max_winners: i32,
    /// Any future time.
    pub bid_deadline: DateTime<Utc>,
    /// Public notice period (公示) after the award, 0..15 days (default 0).
    #[schema(minimum = 0, maximum = 15)]
    pub publicity_days: Option<i32>,
    #[schema(min_items = 1)]
    pub eligible_kinds: Vec<OrgKind>,
    /// Payments must add up to `reward_fen`.
    #[schema(max_items = 20)]
    pub milestones: Vec<MilestoneRequest>,
    /// Attachment purposes every bid must carry (else 422 `missing_attachments`).
    #[serde(default)]
    pub required_purposes: Vec<Purpose>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneView {
    pub id: String,
    pub title: String,
    pub due_date: NaiveDate,
    pub payment_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    pub milestone_id: String,
    pub bid_id: String,
    /// `pending`, `delivered`, `accepted`.
    pub status: String,
    pub report: Option<String>,
    pub reject_reason: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestonePaymentView {
    pub bid_id: String,
    pub milestone_id: String,
    pub amount_fen: i64,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    pub id: String,
    pub issuer_org_id: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub indicators: Vec<Indicator>,
    pub reward_fen: i64,
    /// Paid out so far for accepted milestones.
    pub paid_fen: i64,
    pub mode: String,
    pub directed_org_id: Option<String>,
    pub max_winners: i32,
    pub bid_deadline: DateTime<Utc>,
    pub publicity_days: i32,
    pub eligible_kinds: Vec<String>,
    /// As of now: a passed deadline reads `bidding_closed` at once.
    pub status: ChallengeStatus,
    pub reject_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub milestones: Vec<MilestoneView>,
    /// Winning bids still in the race.
    pub winners: Vec<String>,
    pub experts_assigned: usize,
    pub progress: Vec<ProgressView>,
    pub payments: Vec<MilestonePaymentView>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub awarded_at: Option<DateTime<Utc>>,
    pub publicity_ends_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Attachment purposes every bid must carry (on create and `GET /challenges/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_purposes: Option<Vec<Purpose>>,
}

impl From<Details> for ChallengeView {
    fn from(d: Details) -> Self {
        let r = d.row;
        Self {
            indicators: serde_json::from_str(&r.indicators).unwrap_or_default(),
            eligible_kinds: r.eligible_kinds(),
            id: r.id,
            issuer_org_id: r.issuer_org_id,
            title: r.title,
            description: r.description,
            field: r.field,
            reward_fen: r.reward_fen,
            paid_fen: r.paid_fen,
            mode: r.mode,
            directed_org_id: r.directed_org_id,
            max_winners: r.max_winners,
            bid_deadline: from_db(r.bid_deadline),
            publicity_days: r.publicity_days,
            status: d.status,
            reject_reason: r.reject_reason,
            cancel_reason: r.cancel_reason,
            milestones: d
                .milestones
                .into_iter()
                .map(|m| MilestoneView { id: m.id, title: m.title, due_date: m.due_date, payment_fen: m.payment_fen })
                .collect(),
            winners: d.winners,
            experts_assigned: d.expert_count,
            progress: d
                .progress
                .into_iter()
                .map(|p| ProgressView {
                    milestone_id: p.milestone_id,
                    bid_id: p.bid_id,
                    status: p.status,
                    report: p.report,
                    reject_reason: p.reject_reason,
                    delivered_at: p.delivered_at.map(from_db),
                    accepted_at: p.accepted_at.map(from_db),
                })
                .collect(),
            payments: d
                .payments
                .into_iter()
                .map(|p| MilestonePaymentView {
                    bid_id: p.bid_id,
                    milestone_id: p.milestone_id,
                    amount_fen: p.amount_fen,
                    paid_at: from_db(p.paid_at),
                })
                .collect(),
            submitted_at: r.submitted_at.map(from_db),
            opened_at: r.opened_at.map(from_db),
            awarded_at: r.awarded_at.map(from_db),
            publicity_ends_at: r.publicity_ends_at.map(from_db),
            completed_at: r.completed_at.map(from_db),
            created_at: from_db(r.created_at),
            required_purposes: None,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"proposal": "基于相控阵超声与深度学习的叶片内部缺陷检测方案，已在 3 类叶片上完成原理验证。", "budget_fen": 180000000, "plan": "第一阶段 9 个月完成样机研制，第二阶段 6 个月完成产线现场验证。", "team": [{"name": "陈志强", "title": "教授"}, {"name": "刘洋", "title": "高级工程师"}]}))]
pub struct BidRequest {
    #[schema(min_length = 1, max_length = 20000)]
    pub proposal: String,
    #[schema(minimum = 0)]
    pub budget_fen: i64,
    #[schema(min_length = 1, max_length = 20000)]
    pub plan: String,
    #[schema(min_items = 1, max_items = 100)]
    pub team: Vec<TeamMember>,
    /// Consortium partners (at most four verified organizations); the bidder leads.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 4)]
    pub partner_org_ids: Vec<String>,
    /// The stamped proposal and other documents, by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidView {
    pub id: String,
    pub challenge_id: String,
    /// The lead organization.
    pub org_id: String,
    pub proposal: String,
    pub budget_fen: i64,
    pub plan: String,
    pub team: Vec<TeamMember>,
    pub partner_org_ids: Vec<String>,
    /// `submitted`, `withdrawn`, `awarded`, `not_selected`, `eliminated`.
    pub status: String,
    pub paid_fen: i64,
    pub eliminated_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl From<BidRow> for BidView {
    fn from(b: BidRow) -> Self {
        Self {
            team: serde_json::from_str(&b.team).unwrap_or_default(),
            partner_org_ids: b.partner_org_ids(),
            id: b.id,
            challenge_id: b.challenge_id,
            org_id: b.org_id,
            proposal: b.proposal,
            budget_fen: b.budget_fen,
            plan: b.plan,
            status: b.status,
            paid_fen: b.paid_fen,
            eliminated_reason: b.eliminated_reason,
            created_at: from_db(b.created_at),
            attachments: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"user_ids": ["5b7e2c1a-3d4f-4e6a-8b9c-0d1e2f3a4b5c", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]}))]
pub struct ExpertsRequest {
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 50)]
    pub user_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"technical": 88, "team": 85, "budget": 80, "comment": "技术路线清晰，团队具备相控阵超声检测工程经验，预算基本合理。"}))]
pub struct ScoreRequest {
    /// 0..100 each.
    #[schema(minimum = 0, maximum = 100)]
    pub technical: i32,
    #[schema(minimum = 0, maximum = 100)]
    pub team: i32,
    #[schema(minimum = 0, maximum = 100)]
    pub budget: i32,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub comment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreView {
    pub bid_id: String,
    pub expert_id: String,
    pub technical: i32,
    pub team: i32,
    pub budget: i32,
    pub total: i32,
    pub comment: String,
    pub updated_at: DateTime<Utc>,
}

impl From<ScoreRow> for ScoreView {
    fn from(s: ScoreRow) -> Self {
        Self {
            total: s.total(),
            bid_id: s.bid_id,
            expert_id: s.expert_id,
            technical: s.technical,
            team: s.team,
            budget: s.budget,
            comment: s.comment,
            updated_at: from_db(s.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingItem {
    pub bid_id: String,
    pub org_id: String,
    /// One total (technical + team + budget) per expert who scored it.
    pub expert_totals: Vec<i32>,
    /// Mean of the totals, dropping the highest and lowest with five or more experts.
    pub aggregate_score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub bid_id: String,
    pub aggregate_score: f64,
    /// 1-based among the bids that took part in the review.
    pub rank: usize,
    pub bids_total: usize,
    /// The experts' comments, without their names.
    pub comments: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"bid_ids": ["2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a"]}))]
pub struct AwardRequest {
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1)]
    pub bid_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"bid_id": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a", "report": "样机已完成实验室联调，缺陷检出率 99.3%，单件检测时间 4 分 20 秒，详见测试报告。"}))]
pub struct DeliverRequest {
    #[schema(format = Uuid)]
    pub bid_id: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub report: String,
    /// Reports and test results, by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"bid_id": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a"}))]
pub struct MilestoneAcceptRequest {
    #[schema(format = Uuid)]
    pub bid_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"bid_id": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a", "reason": "中期评估缺陷检出率仅 96%，未达到 ≥99% 的指标。"}))]
pub struct BidReasonRequest {
    #[schema(format = Uuid)]
    pub bid_id: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

fn uuid_field(raw: &str, field: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| AppError::field(field, Rule::Id))
}

fn validate_create(b: CreateChallengeRequest) -> AppResult<NewChallengeInput> {
    let mut v = Validator::new();
    v.text("title", &b.title, 200);
    v.text("description", &b.description, 10_000);
    v.check(!b.indicators.is_empty(), "indicators", Rule::IndicatorsRequired);
    v.check(
        b.indicators.iter().all(|i| !i.name.trim().is_empty() && !i.target.trim().is_empty()),
        "indicators",
        Rule::IndicatorIncomplete,
    );
    v.check(b.indicators.len() <= 50, "indicators", Message::too_many(50));
    let publicity = b.publicity_days.unwrap_or(0);
    v.check((0..=15).contains(&publicity), "publicity_days", Message::between(0, 15));
    v.check(!b.eligible_kinds.is_empty(), "eligible_kinds", Rule::EligibleKindsRequired);
    v.check(b.milestones.len() <= 20, "milestones", Message::too_many(20));
    v.check(b.milestones.iter().all(|m| !m.title.trim().is_empty()), "milestones", Rule::MilestoneTitles);
    v.finish()?;
    let directed_org_id = b.directed_org_id.as_deref().map(|d| uuid_field(d, "directed_org_id")).transpose()?;
    let mut kinds = b.eligible_kinds;
    kinds.sort();
    kinds.dedup();
    Ok(NewChallengeInput {
        title: b.title.trim().to_owned(),
        description: b.description.trim().to_owned(),
        field: b.field,
        indicators: b
            .indicators
            .into_iter()
            .map(|i| Indicator { name: i.name.trim().to_owned(), target: i.target.trim().to_owned() })
            .collect(),
        reward_fen: b.reward_fen,
        mode: b.mode,
        directed_org_id,
        max_winners: b.max_winners,
        bid_deadline: b.bid_deadline,
        publicity_days: publicity,
        eligible_kinds: kinds,
        milestones: b
            .milestones
            .into_iter()
            .map(|m| NewMilestone {
                title: m.title.trim().to_owned(),
                due_date: m.due_date,
                payment_fen: m.payment_fen,
            })
            .collect(),
    })
}

/// Publish a challenge (draft). Members of verified enterprises and government bodies.
///
/// 已认证企业、政府部门的成员；新榜单为草稿。截止时间须在未来，里程碑付款之和须等于 `reward_fen`，`single`/`directed` 仅 1 名、`horse_race` 2–5 名中标者，公示期 0–15 天。错误：403 `forbidden`、`organization_not_verified`、`integrity_veto`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges", tag = "challenges", security(("bearer" = [])), request_body = CreateChallengeRequest,
    responses((status = 201, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<CreateChallengeRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let mut required = body.required_purposes.clone();
    required.sort();
    required.dedup();
    let input = validate_create(body)?;
    let now = state.clock.now();
    let req = required.clone();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let d = challenges::create(c, &actor, input.clone(), now)?;
            files::set_required(c, Requirer::Challenge, &d.row.id, &req)?;
            Ok(d)
        })
        .await?;
    let mut view = ChallengeView::from(d);
    view.required_purposes = Some(required);
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChallengeQuery {
    /// As read now (a passed deadline counts as `bidding_closed`).
    pub status: Option<ChallengeStatus>,
    pub field: Option<Field>,
    /// Full text over title, description and indicators.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Public challenges (open or later); directed commissions only to their parties.
///
/// 任何人可调用：`open` 及之后状态的公开榜单，定向委托仅对双方可见，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/challenges", tag = "challenges", params(ChallengeQuery),
    responses((status = 200, body = Paginated<ChallengeView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: ApiQuery<ChallengeQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let now = state.clock.now();
    let text = q.q.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let filter = challenges::ListQuery { status: q.status, field: q.field };
    let Some(text) = text else {
        let (items, total) = state
            .db
            .read(move |c| {
                let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
                challenges::list(c, actor.as_ref(), &filter, page, now)
            })
            .await?;
        return Ok(HttpResponse::Ok().json(Paginated::new(
            items.into_iter().map(ChallengeView::from).collect(),
            page,
            total,
        )));
    };
    let search = state.search.clone();
    let field = q.field.map(|f| field_code(f.as_str()));
    let ids = crate::db::blocking(move || {
        let filters = Filters { field, ..Filters::default() };
        search
            .challenges
            .search(&text, &filters, Sort::Relevance, 0, 1_000)
            .map(|(ids, _)| ids)
            .map_err(|e| AppError::internal(anyhow::anyhow!("search: {e}")))
    })
    .await?;
    let (found, total) = state
        .db
        .read(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            challenges::search_hits(c, actor.as_ref(), &ids, filter.status, page, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(found.into_iter().map(ChallengeView::from).collect(), page, total)))
}

/// One challenge with its milestones, winners, progress and payments.
///
/// 公开榜单对所有人可见；草稿、待审核、被驳回及定向委托仅对相关方与管理员可见，否则 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/challenges/{id}", tag = "challenges", params(("id" = String, Path, description = "Challenge id")),
    responses((status = 200, body = ChallengeView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, user: MaybeUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let d = state
        .db
        .read(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            let d = challenges::get(c, actor.as_ref(), &id, now)?;
            Ok((d, files::required(c, Requirer::Challenge, &id)?))
        })
        .await?;
    let (d, required) = d;
    let mut view = ChallengeView::from(d);
    view.required_purposes = Some(required);
    Ok(HttpResponse::Ok().json(view))
}

/// Runs a use case as the caller and answers with the challenge.
async fn act(
    state: &AppState,
    user_id: String,
    mut f: impl FnMut(&mut crate::db::AnyConnection, &crate::service::Actor, chrono::DateTime<Utc>) -> AppResult<Details>
    + Send
    + 'static,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user_id)?;
            f(c, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ChallengeView::from(d)))
}

/// Submit for review: `draft`/`rejected` → `pending_review`.
///
/// 发榜机构成员。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/submit", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")),
    responses((status = 200, body = ChallengeView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn submit(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    act(&state, user.id, move |c, a, now| challenges::submit(c, a, &id, now)).await
}

/// Approve: `pending_review` → `open` (bidding starts).
///
/// 仅管理员；开始揭榜。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/admin/challenges/{id}/approve", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")),
    responses((status = 200, body = ChallengeView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn approve(state: web::Data<AppState>, admin: AdminUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let key = id.clone();
    let res = act(&state, admin.0.id, move |c, a, now| challenges::review(c, a, &id, true, None, now)).await?;
    state.refresh_index(vec![key]).await?;
    Ok(res)
}

/// Reject with a reason: `pending_review` → `rejected`.
///
/// 仅管理员，须给出理由。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/challenges/{id}/reject", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")), request_body = ReasonRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    act(&state, admin.0.id, move |c, a, now| challenges::review(c, a, &id, false, Some(&reason), now)).await
}

/// Bid (揭榜), alone or leading a consortium of at most four verified partners.
///
/// 符合 `eligible_kinds` 的已认证机构成员（不能是发榜方），截止前、榜单 `open` 时；每个机构只能有一个有效投标，可选带不超过 4 个已认证合作单位。错误：403 `forbidden`、`organization_not_verified`、`integrity_veto`，404 `not_found`，409 `bidding_closed`、`duplicate_bid`，422 `validation_failed`、`missing_attachments`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/bids", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), IdempotencyHeader), request_body = BidRequest,
    responses((status = 201, body = BidView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn create_bid(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<BidRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("proposal", &b.proposal, 20_000);
    v.text("plan", &b.plan, 20_000);
    v.check(b.budget_fen >= 0, "budget_fen", Rule::NonNegative);
    v.check(!b.team.is_empty(), "team", Rule::TeamRequired);
    v.check(b.team.len() <= 100, "team", Message::too_many(100));
    v.check(b.team.iter().all(|m| !m.name.trim().is_empty()), "team", Rule::TeamNames);
    v.finish()?;
    let partners = b.partner_org_ids.iter().map(|p| uuid_field(p, "partner_org_ids")).collect::<AppResult<Vec<_>>>()?;
    let docs = super::files::refs(&b.attachments, "attachments")?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let input = NewBidInput {
        proposal: b.proposal.trim().to_owned(),
        budget_fen: b.budget_fen,
        plan: b.plan.trim().to_owned(),
        team: b.team,
        partner_org_ids: partners,
    };
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::CREATED, move |c| {
            let actor = load_actor(c, &user.id)?;
            files::require(c, Requirer::Challenge, &id, &docs)?;
            let bid = challenges::bid(c, &actor, &id, input.clone(), now)?;
            files::attach(c, &actor, RecordType::Bid, &bid.id, &docs, "attachments", now)?;
            let attachments = super::files::views(c, RecordType::Bid, &bid.id)?;
            let mut view = BidView::from(bid);
            view.attachments = Some(attachments);
            Ok(view)
        })
        .await
}

/// Bids: all of them to the issuer (after the deadline), assigned experts and admins; a
/// bidder sees only its own.
///
/// 发榜方（截止后）、指派专家与管理员看全部；投标方只看本机构的。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/challenges/{id}/bids", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")),
    responses((status = 200, body = Items<BidView>), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)))]
pub async fn list_bids(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let bids = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            let bids = challenges::bids(c, &actor, &id, now)?;
            let mut out = Vec::with_capacity(bids.len());
            for bid in bids {
                let attachments = super::files::views(c, RecordType::Bid, &bid.id)?;
                let mut view = BidView::from(bid);
                view.attachments = Some(attachments);
                out.push(view);
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items: bids }))
}

/// Withdraw a bid before the deadline.
///
/// 投标机构成员，截止前；该机构可重新投标。错误：404 `not_found`，409 `bidding_closed`、`invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/bids/{bid_id}/withdraw", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("bid_id" = String, Path, description = "Bid id")),
    responses((status = 200, body = BidView), (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 409, response = Conflict)))]
pub async fn withdraw_bid(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (id, bid_id) = (path_id(&path.0)?, path_id(&path.1)?);
    let now = state.clock.now();
    let bid = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            challenges::withdraw_bid(c, &actor, &id, &bid_id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(BidView::from(bid)))
}

/// Assign experts (role `expert`, no conflict of interest): → `under_review`.
///
/// 仅管理员，截止后；被指派者须为 `expert` 角色且与投标机构无利益冲突、未受诚信否决。`bidding_closed` → `under_review`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`conflict_of_interest`、`integrity_veto`，422 `validation_failed`（非专家）。
#[utoipa::path(post, path = "/api/v1/admin/challenges/{id}/experts", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")), request_body = ExpertsRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn assign_experts(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ExpertsRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let raw = body.into_inner().user_ids;
    if raw.is_empty() || raw.len() > 50 {
        return Err(AppError::field("user_ids", Message::rule(Rule::ExpertCount).arg("min", 1).arg("max", 50)));
    }
    let mut ids = raw.iter().map(|u| uuid_field(u, "user_ids")).collect::<AppResult<Vec<_>>>()?;
    ids.sort();
    ids.dedup();
    act(&state, admin.0.id, move |c, a, now| challenges::assign_experts(c, a, &id, &ids, now)).await
}

/// An assigned expert scores a bid (0..100 each; overwritable until the award).
///
/// 被指派的专家，评审期间（授榜前可覆盖）。错误：403 `forbidden`（未被指派），404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`（分值超出 0–100）。
#[utoipa::path(put, path = "/api/v1/challenges/{id}/bids/{bid_id}/score", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("bid_id" = String, Path, description = "Bid id")),
    request_body = ScoreRequest,
    responses((status = 200, body = ScoreView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn score(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: ApiJson<ScoreRequest>,
) -> AppResult<HttpResponse> {
    let (id, bid_id) = (path_id(&path.0)?, path_id(&path.1)?);
    let b = body.into_inner();
    let mut v = Validator::new();
    for (field, value) in [("technical", b.technical), ("team", b.team), ("budget", b.budget)] {
        v.check((0..=100).contains(&value), field, Message::between(0, 100));
    }
    v.check(b.comment.chars().count() <= 5000, "comment", Message::too_long(5000));
    v.finish()?;
    let input =
        ScoreInput { technical: b.technical, team: b.team, budget: b.budget, comment: b.comment.trim().to_owned() };
    let now = state.clock.now();
    let s = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            challenges::score(c, &actor, &id, &bid_id, input.clone(), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ScoreView::from(s)))
}

/// Bids with every expert's total and the aggregate, best first.
///
/// 发榜方、指派专家与管理员；专家多于 4 名时去掉最高与最低分后取平均。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/challenges/{id}/ranking", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")),
    responses((status = 200, body = Items<RankingItem>), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)))]
pub async fn ranking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let rows = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            challenges::ranking(c, &actor, &id)
        })
        .await?;
    let items: Vec<RankingItem> = rows
        .into_iter()
        .map(|r| RankingItem {
            bid_id: r.bid.id,
            org_id: r.bid.org_id,
            expert_totals: r.expert_totals,
            aggregate_score: r.aggregate,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Award: `single` one bid, `horse_race` 2..max_winners; the others are not selected.
///
/// 发榜方成员，所有指派专家评完全部投标后；有公示期时 → `publicizing`，否则 → `in_progress`，其余投标为 `not_selected`。错误：403 `forbidden`，404 `not_found`，409 `scores_incomplete`、`invalid_state_transition`，422 `validation_failed`（中标数量不符或投标不属于本榜）。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/award", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")), request_body = AwardRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn award(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AwardRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let ids = body.into_inner().bid_ids.iter().map(|b| uuid_field(b, "bid_ids")).collect::<AppResult<Vec<_>>>()?;
    act(&state, user.id, move |c, a, now| challenges::award(c, a, &id, &ids, now)).await
}

/// A bidder's score, rank and the experts' comments, after the award.
///
/// 投标机构成员，授榜后：本机构投标的得分、排名与专家评语。错误：404 `not_found`，409 `invalid_state_transition`（尚未授榜）。
#[utoipa::path(get, path = "/api/v1/challenges/{id}/bids/{bid_id}/feedback", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("bid_id" = String, Path, description = "Bid id")),
    responses((status = 200, body = FeedbackView), (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 409, response = Conflict)))]
pub async fn feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (id, bid_id) = (path_id(&path.0)?, path_id(&path.1)?);
    let f = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            challenges::feedback(c, &actor, &id, &bid_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(FeedbackView {
        bid_id: f.bid_id,
        aggregate_score: f.aggregate,
        rank: f.rank,
        bids_total: f.total,
        comments: f.comments,
    }))
}

/// The winning team delivers a milestone: → `delivered`.
///
/// 中标机构成员，榜单 `in_progress`（公示期结束后）；里程碑 `pending` → `delivered`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/milestones/{mid}/deliver", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("mid" = String, Path, description = "Milestone id")),
    request_body = DeliverRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn deliver(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: ApiJson<DeliverRequest>,
) -> AppResult<HttpResponse> {
    let (id, mid) = (path_id(&path.0)?, path_id(&path.1)?);
    let b = body.into_inner();
    let bid_id = uuid_field(&b.bid_id, "bid_id")?;
    let mut v = Validator::new();
    v.text("report", &b.report, 20_000);
    v.finish()?;
    let report = b.report.trim().to_owned();
    let docs = super::files::refs(&b.attachments, "attachments")?;
    act(&state, user.id, move |c, a, now| {
        let d = challenges::deliver(c, a, &id, &mid, &bid_id, &report, now)?;
        if let Some(delivery) = files::delivery_id(c, &mid, &bid_id)? {
            files::attach(c, a, RecordType::MilestoneDelivery, &delivery, &docs, "attachments", now)?;
        }
        Ok(d)
    })
    .await
}

/// The issuer accepts a delivered milestone, recording its payment.
///
/// 发榜方成员；`delivered` → `accepted` 并记录付款（赛马制分摊，总额不超过奖金），全部验收后榜单 `completed`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/milestones/{mid}/accept", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("mid" = String, Path, description = "Milestone id")),
    request_body = MilestoneAcceptRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn accept_milestone(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: ApiJson<MilestoneAcceptRequest>,
) -> AppResult<HttpResponse> {
    let (id, mid) = (path_id(&path.0)?, path_id(&path.1)?);
    let bid_id = uuid_field(&body.into_inner().bid_id, "bid_id")?;
    act(&state, user.id, move |c, a, now| challenges::judge_milestone(c, a, &id, &mid, &bid_id, None, now)).await
}

/// The issuer sends a delivered milestone back: → `pending`, with a reason.
///
/// 发榜方成员，须给出理由；`delivered` → `pending`，中标方可重新交付。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/milestones/{mid}/reject", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), ("mid" = String, Path, description = "Milestone id")),
    request_body = BidReasonRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject_milestone(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: ApiJson<BidReasonRequest>,
) -> AppResult<HttpResponse> {
    let (id, mid) = (path_id(&path.0)?, path_id(&path.1)?);
    let b = body.into_inner();
    let bid_id = uuid_field(&b.bid_id, "bid_id")?;
    let reason = ReasonRequest { reason: b.reason }.validated()?;
    act(&state, user.id, move |c, a, now| challenges::judge_milestone(c, a, &id, &mid, &bid_id, Some(&reason), now))
        .await
}

/// Horse races only: drop a winner (at least one must remain).
///
/// 发榜方成员，仅赛马制（`horse_race`）进行中；淘汰一名中标者，至少保留一名。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/eliminate", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")), request_body = BidReasonRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn eliminate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<BidReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let bid_id = uuid_field(&b.bid_id, "bid_id")?;
    let reason = ReasonRequest { reason: b.reason }.validated()?;
    act(&state, user.id, move |c, a, now| challenges::eliminate(c, a, &id, &bid_id, &reason, now)).await
}

/// Cancel (issuer or admin), from any state before `completed`.
///
/// 发榜方成员或管理员，须给出理由；`completed` 与 `cancelled` 之外的任何状态 → `cancelled`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/challenges/{id}/cancel", tag = "challenges", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id")), request_body = ReasonRequest,
    responses((status = 200, body = ChallengeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    let key = id.clone();
    let res = act(&state, user.id, move |c, a, now| challenges::cancel(c, a, &id, &reason, now)).await?;
    state.refresh_index(vec![key]).await?;
    Ok(res)
}
