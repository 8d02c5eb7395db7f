//! /contracts: 技术合同 from draft to completion.

use crate::domain::error::{Message, Rule};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery, AuthUser, IdempotencyKey};
use super::files::{AttachmentIn, AttachmentView};
use super::idempotency::{Idempotency, IdempotencyHeader};
use super::openapi::problems::*;
use super::{Paginated, ReasonRequest, path_id};
use crate::db::time::from_db;
use crate::domain::broker::Commission;
use crate::domain::contract::{ContractKind, ContractStatus, Share, Stage};
use crate::domain::error::Validator;
use crate::domain::file::RecordType;
use crate::error::{AppError, AppResult};
use crate::service::contracts::{self, Details, NewContractInput, PlanItem};
use crate::service::files;
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanRequest {
    pub due_date: NaiveDate,
    #[schema(minimum = 1)]
    pub amount_fen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"kind": "transfer", "title": "高效钙钛矿太阳能电池制备技术转让合同", "seller_org_id": "7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a", "buyer_org_id": "4a6c8e0f-2b4d-4f6a-9c1e-3d5f7a9b1c3e", "achievement_id": "0f8c2d4e-6a1b-4c3d-9e7f-5a2b8c1d3e4f", "amount_fen": 300000000, "payment_plan": [{"due_date": "2031-03-31", "amount_fen": 100000000}, {"due_date": "2031-09-30", "amount_fen": 200000000}]}))]
pub struct ContractRequest {
    pub kind: ContractKind,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(format = Uuid)]
    pub seller_org_id: String,
    #[schema(format = Uuid)]
    pub buyer_org_id: String,
    #[schema(format = Uuid)]
    pub achievement_id: Option<String>,
    #[schema(format = Uuid)]
    pub demand_id: Option<String>,
    #[schema(format = Uuid)]
    pub challenge_id: Option<String>,
    /// An accepted connection between the parties; it moves to `contracted`.
    #[schema(format = Uuid)]
    pub connection_id: Option<String>,
    #[schema(minimum = 1)]
    pub amount_fen: i64,
    /// Instalments adding up to `amount_fen`.
    #[schema(min_items = 1, max_items = 100)]
    pub payment_plan: Vec<PlanRequest>,
    pub royalty_rate_bp: Option<i32>,
    /// The broker's commission as a fixed amount (0..=`amount_fen`); only for a contract from
    /// a connection with an invited broker, and at most one of `commission_fen` and
    /// `commission_bp`.
    #[schema(minimum = 0)]
    pub commission_fen: Option<i64>,
    /// The broker's commission as a ratio of `amount_fen` (0..=10000 bp).
    #[schema(minimum = 0, maximum = 10000)]
    pub commission_bp: Option<i32>,
    /// The contract text and annexes, by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub seq: i32,
    pub due_date: NaiveDate,
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractPaymentView {
    pub id: String,
    pub amount_fen: i64,
    pub paid_at: DateTime<Utc>,
    pub reference: String,
    pub recorded_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: String,
    pub stage: String,
    pub note: String,
    pub revenue_fen: Option<i64>,
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
    pub org_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DistributionView {
    pub net_income_fen: i64,
    pub inventor_share_bp: i32,
    /// The broker's line: its commission, taken out of the net income first (0 without one).
    pub broker_commission_fen: i64,
    /// What the inventors' share applies to: `net_income_fen − broker_commission_fen`.
    pub inventor_base_fen: i64,
    /// `inventor_base_fen × inventor_share_bp`, split among the beneficiaries.
    pub inventor_pool_fen: i64,
    pub beneficiaries: Vec<Share>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub seller_org_id: String,
    pub buyer_org_id: String,
    pub achievement_id: Option<String>,
    pub demand_id: Option<String>,
    pub challenge_id: Option<String>,
    /// The winning bid, for contracts from a challenge.
    pub bid_id: Option<String>,
    pub connection_id: Option<String>,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub royalty_rate_bp: Option<i32>,
    /// The 技术经理人 of the connection the contract came from, and its organization.
    pub broker_id: Option<String>,
    pub broker_org_id: Option<String>,
    /// The broker's commission as agreed: a fixed amount or a ratio of `amount_fen`.
    pub commission_fen: Option<i64>,
    pub commission_bp: Option<i32>,
    /// What the broker is owed: `commission_fen`, or `amount_fen × commission_bp` rounded down.
    pub commission_due_fen: Option<i64>,
    /// `draft`, `signed`, `registered`, `performing`, `completed`, `terminated`.
    pub status: String,
    pub seller_signed_at: Option<DateTime<Utc>>,
    pub buyer_signed_at: Option<DateTime<Utc>>,
    pub registration_no: Option<String>,
    pub registered_amount_fen: Option<i64>,
    pub registered_at: Option<DateTime<Utc>>,
    pub terminate_reason: Option<String>,
    pub payment_plan: Vec<PlanView>,
    pub payments: Vec<ContractPaymentView>,
    pub timeline: Vec<TimelineEntry>,
    pub distribution: Option<DistributionView>,
    pub created_at: DateTime<Utc>,
    /// Documents (in single-contract responses), visible to the parties and administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl From<Details> for ContractView {
    fn from(d: Details) -> Self {
        let r = d.row;
        Self {
            id: r.id,
            kind: r.kind,
            title: r.title,
            seller_org_id: r.seller_org_id,
            buyer_org_id: r.buyer_org_id,
            achievement_id: r.achievement_id,
            demand_id: r.demand_id,
            challenge_id: r.challenge_id,
            bid_id: r.bid_id,
            connection_id: r.connection_id,
            amount_fen: r.amount_fen,
            paid_fen: r.paid_fen,
            royalty_rate_bp: r.royalty_rate_bp,
            commission_due_fen: Commission::from_columns(r.commission_fen, r.commission_bp)
                .map(|k| k.due(r.amount_fen)),
            broker_id: r.broker_id,
            broker_org_id: r.broker_org_id,
            commission_fen: r.commission_fen,
            commission_bp: r.commission_bp,
            status: r.status,
            seller_signed_at: r.seller_signed_at.map(from_db),
            buyer_signed_at: r.buyer_signed_at.map(from_db),
            registration_no: r.registration_no,
            registered_amount_fen: r.registered_amount_fen,
            registered_at: r.registered_at.map(from_db),
            terminate_reason: r.terminate_reason,
            payment_plan: d
                .plan
                .into_iter()
                .map(|p| PlanView { seq: p.seq, due_date: p.due_date, amount_fen: p.amount_fen })
                .collect(),
            payments: d
                .payments
                .into_iter()
                .map(|p| ContractPaymentView {
                    id: p.id,
                    amount_fen: p.amount_fen,
                    paid_at: from_db(p.paid_at),
                    reference: p.reference,
                    recorded_by: p.recorded_by,
                })
                .collect(),
            timeline: d
                .timeline
                .into_iter()
                .map(|t| TimelineEntry {
                    id: t.id,
                    stage: t.stage,
                    note: t.note,
                    revenue_fen: t.revenue_fen,
                    reported_at: from_db(t.reported_at),
                    reported_by: t.reported_by,
                    org_id: t.reporter_org_id,
                })
                .collect(),
            distribution: d.distribution.map(|x| DistributionView {
                net_income_fen: x.net_income_fen,
                inventor_share_bp: x.inventor_share_bp,
                broker_commission_fen: x.broker_commission_fen,
                inventor_base_fen: x.net_income_fen.saturating_sub(x.broker_commission_fen),
                inventor_pool_fen: x.inventor_pool_fen,
                beneficiaries: serde_json::from_str(&x.beneficiaries).unwrap_or_default(),
                recorded_at: from_db(x.created_at),
            }),
            created_at: from_db(r.created_at),
            attachments: None,
        }
    }
}

fn uuid_field(raw: &str, field: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| AppError::field(field, Rule::Id))
}

fn optional_uuid(raw: Option<String>, field: &str) -> AppResult<Option<String>> {
    raw.map(|r| uuid_field(&r, field)).transpose()
}

/// Draft a contract (member of either party).
///
/// 卖方或买方机构的成员，或关联对接所邀请的技术经理人（合同记录 `broker_id` 与 `broker_org_id`）；双方须为已认证机构且均不在诚信否决期内；佣金 `commission_fen`（0 至合同金额）与 `commission_bp`（0–10000）至多给出其一，且仅限关联了已邀请技术经理人的对接；分期付款之和须等于 `amount_fen`，提成比例 0–10000 基点；关联已接受的对接时对接变为 `contracted`。新合同为 `draft`。错误：403 `forbidden`、`organization_not_verified`、`integrity_veto`，422 `validation_failed`（含对方机构未认证）。
#[utoipa::path(post, path = "/api/v1/contracts", tag = "contracts", security(("bearer" = [])), request_body = ContractRequest,
    responses((status = 201, body = ContractView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<ContractRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("title", &b.title, 200);
    v.check(b.amount_fen > 0, "amount_fen", Rule::Positive);
    v.check(!b.payment_plan.is_empty(), "payment_plan", Rule::InstalmentsRequired);
    v.check(b.payment_plan.len() <= 100, "payment_plan", Message::too_many(100));
    v.check(b.payment_plan.iter().all(|p| p.amount_fen > 0), "payment_plan", Rule::InstalmentsPositive);
    let sum = crate::domain::money::checked_sum(b.payment_plan.iter().map(|p| p.amount_fen));
    v.check(sum == Some(b.amount_fen), "payment_plan", Rule::InstalmentsSum);
    v.check(b.royalty_rate_bp.is_none_or(|r| (0..=10_000).contains(&r)), "royalty_rate_bp", Message::between(0, 10000));
    let commission = Commission::parse(b.amount_fen, b.commission_fen, b.commission_bp);
    if let Err(e) = &commission {
        for (field, messages) in &e.errors {
            for m in messages {
                v.add(field, m.clone());
            }
        }
    }
    v.finish()?;
    let commission = commission?;
    let docs = super::files::refs(&b.attachments, "attachments")?;
    let input = NewContractInput {
        kind: b.kind,
        title: b.title.trim().to_owned(),
        seller_org_id: uuid_field(&b.seller_org_id, "seller_org_id")?,
        buyer_org_id: uuid_field(&b.buyer_org_id, "buyer_org_id")?,
        achievement_id: optional_uuid(b.achievement_id, "achievement_id")?,
        demand_id: optional_uuid(b.demand_id, "demand_id")?,
        challenge_id: optional_uuid(b.challenge_id, "challenge_id")?,
        connection_id: optional_uuid(b.connection_id, "connection_id")?,
        amount_fen: b.amount_fen,
        payment_plan: b
            .payment_plan
            .into_iter()
            .map(|p| PlanItem { due_date: p.due_date, amount_fen: p.amount_fen })
            .collect(),
        royalty_rate_bp: b.royalty_rate_bp,
        commission,
    };
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let d = contracts::create(c, &actor, input.clone(), now)?;
            files::attach(c, &actor, RecordType::Contract, &d.row.id, &docs, "attachments", now)?;
            Ok((super::files::views(c, RecordType::Contract, &d.row.id)?, d))
        })
        .await?;
    let (attachments, d) = d;
    let mut view = ContractView::from(d);
    view.attachments = Some(attachments);
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Contracts the caller's organization is a party to (administrators: all).
///
/// 已登录用户：本机构作为一方的合同；管理员看全部，可按状态筛选，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/contracts", tag = "contracts", security(("bearer" = [])), params(ContractQuery),
    responses((status = 200, body = Paginated<ContractView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<ContractQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let (items, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            contracts::list(c, &actor, q.status, q.kind, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items.into_iter().map(ContractView::from).collect(), page, total)))
}

/// One contract with its plan, payments, timeline and distribution (parties, admin).
///
/// 双方机构成员与管理员；其他人 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses((status = 200, body = ContractView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let d = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            let d = contracts::get(c, &actor, &id)?;
            Ok((super::files::views(c, RecordType::Contract, &id)?, d))
        })
        .await?;
    let (attachments, d) = d;
    let mut view = ContractView::from(d);
    view.attachments = Some(attachments);
    Ok(HttpResponse::Ok().json(view))
}

async fn act(
    state: &AppState,
    user_id: String,
    mut f: impl FnMut(&mut crate::db::AnyConnection, &crate::service::Actor, DateTime<Utc>) -> AppResult<Details>
    + Send
    + 'static,
) -> AppResult<ContractView> {
    let now = state.clock.now();
    let d = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user_id)?;
            f(c, &actor, now)
        })
        .await?;
    Ok(ContractView::from(d))
}

/// Sign for your side; both signatures make it `signed` (a transfer marks its achievement
/// `transferred`).
///
/// 双方机构成员各签一次；双方签署后 `draft` → `signed`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`（已签或状态不符）。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/sign", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses((status = 200, body = ContractView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn sign(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let view = act(&state, user.id, move |c, a, now| contracts::sign(c, a, &id, now)).await?;
    if let Some(achievement) = &view.achievement_id {
        state.refresh_index(vec![achievement.clone()]).await?;
    }
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[schema(example = json!({"registered_amount_fen": 300000000}))]
pub struct ContractRegisterRequest {
    /// The recognised technology transaction amount (技术交易额); defaults to the contract amount.
    pub registered_amount_fen: Option<i64>,
}

/// 认定登记: `signed` → `registered`, with a unique number like `2026-000123`.
///
/// 仅管理员；认定金额缺省为合同金额且不得超过它，请求体可为空。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/contracts/{id}/register", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = ContractRegisterRequest,
    responses((status = 200, body = ContractView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn register(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    // The body is optional: an empty one registers the full amount.
    let req: ContractRegisterRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ContractRegisterRequest::default()
    } else {
        super::extract::parse_json(&body)?
    };
    let amount = req.registered_amount_fen;
    let view = act(&state, admin.0.id, move |c, a, now| contracts::register(c, a, &id, amount, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"amount_fen": 100000000, "paid_at": "2026-03-15T02:30:00Z", "reference": "工商银行电汇 HX20260315-0042"}))]
pub struct PaymentRequest {
    #[schema(minimum = 1)]
    pub amount_fen: i64,
    pub paid_at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 200)]
    pub reference: String,
}

/// The seller records a payment received (never beyond the amount).
///
/// 卖方机构成员，合同 `registered` 或 `performing`；首笔付款使合同进入 `performing`，累计不得超过合同金额；支持 `Idempotency-Key`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`idempotency_key_reused`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/payments", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), IdempotencyHeader), request_body = PaymentRequest,
    responses((status = 200, body = ContractView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<PaymentRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    v.check(b.amount_fen > 0, "amount_fen", Rule::Positive);
    v.text("reference", &b.reference, 200);
    v.finish()?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let reference = b.reference.trim().to_owned();
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::OK, move |c| {
            let actor = load_actor(c, &user.id)?;
            let d = contracts::record_payment(c, &actor, &id, b.amount_fen, b.paid_at, &reference, now)?;
            Ok(ContractView::from(d))
        })
        .await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"stage": "pilot", "note": "中试线投产，首批 500 片组件通过第三方认证。", "revenue_fen": 0, "reported_at": "2026-06-30T08:00:00Z"}))]
pub struct CommercializationRequest {
    pub stage: Stage,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub note: String,
    #[schema(minimum = 0)]
    pub revenue_fen: Option<i64>,
    pub reported_at: DateTime<Utc>,
}

/// Either party reports progress to market; stages never go back.
///
/// 任一方机构成员；阶段 `lab` → `pilot` → `mass_production` → `on_market` 只进不退；支持 `Idempotency-Key`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`idempotency_key_reused`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/commercialization", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), IdempotencyHeader), request_body = CommercializationRequest,
    responses((status = 200, body = ContractView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn commercialization(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<CommercializationRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    v.check(b.note.chars().count() <= 5000, "note", Message::too_long(5000));
    v.check(b.revenue_fen.is_none_or(|r| r >= 0), "revenue_fen", Rule::NonNegative);
    v.finish()?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let report = contracts::ProgressReport {
        stage: b.stage,
        note: b.note.trim().to_owned(),
        revenue_fen: b.revenue_fen,
        reported_at: b.reported_at,
    };
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::OK, move |c| {
            let actor = load_actor(c, &user.id)?;
            Ok(ContractView::from(contracts::report(c, &actor, &id, report.clone(), now)?))
        })
        .await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"net_income_fen": 100000000, "inventor_share_bp": 7000, "beneficiaries": [{"name": "陈志强", "share_bp": 6000}, {"name": "刘洋", "share_bp": 4000}]}))]
pub struct DistributionRequest {
    pub net_income_fen: i64,
    /// Inventors' share of the net income; for transfer, license and equity contracts at
    /// least the legal minimum (default 5000 bp).
    pub inventor_share_bp: i32,
    /// Shares of the inventors' pool, adding up to 10000.
    #[schema(max_items = 200)]
    pub beneficiaries: Vec<Share>,
}

/// The seller (university or institute) records how income is split with inventors.
///
/// 卖方机构成员；有技术经理人佣金时先从净收入中扣除佣金（单列为 `broker_commission_fen`，净收入不足支付佣金为 422），发明人比例按扣除后的金额计算；受益人份额之和须为 10000 基点，转让、许可、作价投资合同给发明人的比例不得低于法定下限（缺省 5000 基点）；支持 `Idempotency-Key`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`idempotency_key_reused`，422 `inventor_share_too_low`、`validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/revenue-distribution", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id"), IdempotencyHeader), request_body = DistributionRequest,
    responses((status = 200, body = ContractView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn distribution(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<DistributionRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    if b.beneficiaries.len() > 200 {
        return Err(AppError::field("beneficiaries", Message::too_many(200)));
    }
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let settings = state.settings.contracts.clone();
    let split = contracts::Split {
        net_income_fen: b.net_income_fen,
        inventor_share_bp: b.inventor_share_bp,
        beneficiaries: b.beneficiaries,
    };
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::OK, move |c| {
            let actor = load_actor(c, &user.id)?;
            Ok(ContractView::from(contracts::distribute(c, &actor, &id, &split, &settings, now)?))
        })
        .await
}

/// Either party completes the contract.
///
/// 任一方机构成员；`registered`/`performing` → `completed`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/complete", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses((status = 200, body = ContractView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn complete(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let view = act(&state, user.id, move |c, a, now| contracts::close(c, a, &id, None, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Either party terminates the contract, with a reason.
///
/// 任一方机构成员，须给出理由；`draft`、`signed`、`registered`、`performing` → `terminated`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/terminate", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = ReasonRequest,
    responses((status = 200, body = ContractView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn terminate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    let view = act(&state, user.id, move |c, a, now| contracts::close(c, a, &id, Some(&reason), now)).await?;
    Ok(HttpResponse::Ok().json(view))
}
