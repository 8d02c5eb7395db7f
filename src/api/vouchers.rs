//! 科技创新券: programs, applications, vouchers, redemptions, the ledger and the summary.

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
use crate::db::vouchers::{ApplicationRow, LedgerRow, ProgramRow, RedemptionRow, VoucherRow};
use crate::domain::error::Validator;
use crate::domain::file::{Purpose, RecordType};
use crate::domain::organization::{EnterpriseScale, ServiceCategory};
use crate::domain::voucher::{ApplicationStatus, RedemptionStatus, VoucherStatus};
use crate::error::AppResult;
use crate::service::files::{self, Requirer};
use crate::service::vouchers::{self, NewApplicationInput, NewProgramInput, RedemptionInput};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "2027年度江苏省科技创新券", "year": 2027, "total_budget_fen": 5000000000_i64, "per_enterprise_cap_fen": 30000000, "coverage_ratio_bp": 5000, "service_categories": ["inspection_testing", "rd_design", "technology_consulting"], "eligible_scales": ["small", "micro", "medium"], "valid_days": 180, "applications_open": "2027-01-01", "applications_close": "2027-10-31", "settle_by": "2028-03-31"}))]
pub struct ProgramRequest {
    #[schema(example = "2026年度科技创新券", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[schema(minimum = 1)]
    pub total_budget_fen: i64,
    #[schema(minimum = 1)]
    pub per_enterprise_cap_fen: i64,
    /// Share of a service fee the voucher pays, in basis points (5000 = 50%).
    #[schema(minimum = 1, maximum = 10000)]
    pub coverage_ratio_bp: i32,
    #[schema(min_items = 1)]
    pub service_categories: Vec<ServiceCategory>,
    #[schema(min_items = 1)]
    pub eligible_scales: Vec<EnterpriseScale>,
    /// Vouchers must be used within this many days of issue.
    #[schema(minimum = 1, maximum = 3650)]
    pub valid_days: i32,
    /// Inclusive calendar days (Asia/Shanghai).
    pub applications_open: NaiveDate,
    pub applications_close: NaiveDate,
    /// Last day of settlement (兑付).
    pub settle_by: NaiveDate,
    /// Attachment purposes every application must carry (else 422 `missing_attachments`).
    #[serde(default)]
    pub required_purposes: Vec<Purpose>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: String,
    pub name: String,
    pub year: i32,
    pub total_budget_fen: i64,
    pub per_enterprise_cap_fen: i64,
    pub coverage_ratio_bp: i32,
    pub service_categories: Vec<String>,
    pub eligible_scales: Vec<String>,
    pub valid_days: i32,
    pub applications_open: NaiveDate,
    pub applications_close: NaiveDate,
    pub settle_by: NaiveDate,
    pub issued_fen: i64,
    pub released_fen: i64,
    pub settled_fen: i64,
    /// `total_budget_fen − issued_fen + released_fen`.
    pub remaining_fen: i64,
    pub created_at: DateTime<Utc>,
    /// Attachment purposes every application must carry (single-program responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_purposes: Option<Vec<Purpose>>,
}

impl From<ProgramRow> for ProgramView {
    fn from(p: ProgramRow) -> Self {
        Self {
            remaining_fen: p.remaining_fen(),
            service_categories: p.service_categories(),
            eligible_scales: p.eligible_scales(),
            id: p.id,
            name: p.name,
            year: p.year,
            total_budget_fen: p.total_budget_fen,
            per_enterprise_cap_fen: p.per_enterprise_cap_fen,
            coverage_ratio_bp: p.coverage_ratio_bp,
            valid_days: p.valid_days,
            applications_open: p.applications_open,
            applications_close: p.applications_close,
            settle_by: p.settle_by,
            issued_fen: p.issued_fen,
            released_fen: p.released_fen,
            settled_fen: p.settled_fen,
            created_at: from_db(p.created_at),
            required_purposes: None,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"requested_fen": 1000000, "purpose": "委托第三方检测机构开展新型锂电池隔膜孔隙率与热收缩性能检测。", "service_category": "inspection_testing"}))]
pub struct ApplicationRequest {
    #[schema(minimum = 1)]
    pub requested_fen: i64,
    #[schema(min_length = 1, max_length = 5000)]
    pub purpose: String,
    pub service_category: ServiceCategory,
    /// Financial statements, credit report, commitment letter… by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    pub program_id: String,
    pub enterprise_id: String,
    pub applicant_id: String,
    pub requested_fen: i64,
    pub purpose: String,
    pub service_category: String,
    /// `submitted`, `approved`, `rejected`.
    pub status: String,
    pub approved_fen: Option<i64>,
    pub reject_reason: Option<String>,
    pub voucher_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Documents (in the response to the application itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl From<ApplicationRow> for ApplicationView {
    fn from(a: ApplicationRow) -> Self {
        Self {
            id: a.id,
            program_id: a.program_id,
            enterprise_id: a.enterprise_id,
            applicant_id: a.applicant_id,
            requested_fen: a.requested_fen,
            purpose: a.purpose,
            service_category: a.service_category,
            status: a.status,
            approved_fen: a.approved_fen,
            reject_reason: a.reject_reason,
            voucher_id: a.voucher_id,
            created_at: from_db(a.created_at),
            decided_at: a.decided_at.map(from_db),
            attachments: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoucherView {
    pub id: String,
    pub code: String,
    pub program_id: String,
    pub enterprise_id: String,
    pub application_id: String,
    pub service_category: String,
    pub face_value_fen: i64,
    /// What can still be redeemed.
    pub balance_fen: i64,
    /// Held by redemptions awaiting confirmation or settlement.
    pub reserved_fen: i64,
    pub settled_fen: i64,
    /// Returned to the program by revocation or expiry.
    pub returned_fen: i64,
    /// As of now: a passed `expires_at` reads `expired`.
    pub status: VoucherStatus,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
}

impl VoucherView {
    fn new(v: VoucherRow, now: DateTime<Utc>) -> AppResult<Self> {
        Ok(Self {
            status: vouchers::voucher_status(&v, now)?,
            id: v.id,
            code: v.code,
            program_id: v.program_id,
            enterprise_id: v.enterprise_id,
            application_id: v.application_id,
            service_category: v.service_category,
            face_value_fen: v.face_value_fen,
            balance_fen: v.balance_fen,
            reserved_fen: v.reserved_fen,
            settled_fen: v.settled_fen,
            returned_fen: v.returned_fen,
            expires_at: from_db(v.expires_at),
            issued_at: from_db(v.issued_at),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"voucher_code": "KJQ-2027-7F3K9M2P", "service_fee_fen": 600000, "invoice_no": "25322000000012345678", "description": "锂电池隔膜孔隙率、热收缩率及穿刺强度检测（报告编号 JC2027-0315）。"}))]
pub struct RedemptionRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub voucher_code: String,
    #[schema(minimum = 1)]
    pub service_fee_fen: i64,
    #[schema(min_length = 1, max_length = 64)]
    pub invoice_no: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// The service contract, proof of payment… by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RedemptionView {
    pub id: String,
    pub voucher_id: String,
    pub program_id: String,
    pub provider_org_id: String,
    pub service_fee_fen: i64,
    /// `min(balance, fee × coverage_ratio)`, reserved at creation.
    pub amount_fen: i64,
    pub invoice_no: String,
    pub description: String,
    /// `pending_confirmation`, `confirmed`, `settled`, `rejected`.
    pub status: String,
    pub reject_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Documents (in single-redemption responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl From<RedemptionRow> for RedemptionView {
    fn from(r: RedemptionRow) -> Self {
        Self {
            id: r.id,
            voucher_id: r.voucher_id,
            program_id: r.program_id,
            provider_org_id: r.provider_org_id,
            service_fee_fen: r.service_fee_fen,
            amount_fen: r.amount_fen,
            invoice_no: r.invoice_no,
            description: r.description,
            status: r.status,
            reject_reason: r.reject_reason,
            created_at: from_db(r.created_at),
            confirmed_at: r.confirmed_at.map(from_db),
            decided_at: r.decided_at.map(from_db),
            attachments: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerItem {
    pub id: String,
    /// `issue`, `reserve`, `release`, `settle`, `expire`, `revoke`.
    pub kind: String,
    /// Always positive.
    pub amount_fen: i64,
    pub voucher_id: String,
    pub redemption_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<LedgerRow> for LedgerItem {
    fn from(l: LedgerRow) -> Self {
        Self {
            id: l.id,
            kind: l.kind,
            amount_fen: l.amount_fen,
            voucher_id: l.voucher_id,
            redemption_id: l.redemption_id,
            at: from_db(l.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub total_budget_fen: i64,
    pub issued_fen: i64,
    /// Reserved by redemptions not yet settled or rejected.
    pub reserved_fen: i64,
    pub settled_fen: i64,
    /// Returned to the program by revocation and expiry.
    pub released_fen: i64,
    /// `total_budget_fen − issued_fen + released_fen`.
    pub remaining_fen: i64,
}

/// Open a voucher program with a fixed budget.
///
/// 仅管理员。金额以分计，补贴比例以基点计（1–10000），申请窗口与兑付截止为上海时区的日期且依次不早于前者。错误：403 `forbidden`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/voucher-programs", tag = "vouchers", security(("bearer" = [])), request_body = ProgramRequest,
    responses((status = 201, body = ProgramView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create_program(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: ApiJson<ProgramRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("name", &b.name, 200);
    v.check((2000..=2100).contains(&b.year), "year", Message::between(2000, 2100));
    v.check(b.total_budget_fen > 0, "total_budget_fen", Rule::Positive);
    v.check(b.per_enterprise_cap_fen > 0, "per_enterprise_cap_fen", Rule::Positive);
    v.check((1..=10_000).contains(&b.coverage_ratio_bp), "coverage_ratio_bp", Message::between(1, 10000));
    v.check(!b.service_categories.is_empty(), "service_categories", Rule::ServiceCategoriesRequired);
    v.check(!b.eligible_scales.is_empty(), "eligible_scales", Rule::ScalesRequired);
    v.check((1..=3650).contains(&b.valid_days), "valid_days", Message::between(1, 3650));
    v.check(
        b.applications_open <= b.applications_close,
        "applications_close",
        Message::rule(Rule::NotBefore).arg("other", "applications_open"),
    );
    v.check(
        b.applications_close <= b.settle_by,
        "settle_by",
        Message::rule(Rule::NotBefore).arg("other", "applications_close"),
    );
    v.finish()?;
    let mut categories = b.service_categories;
    categories.sort();
    categories.dedup();
    let mut scales = b.eligible_scales;
    scales.sort();
    scales.dedup();
    let required = b.required_purposes.clone();
    let mut required_view = required.clone();
    required_view.sort();
    required_view.dedup();
    let input = NewProgramInput {
        name: b.name.trim().to_owned(),
        year: b.year,
        total_budget_fen: b.total_budget_fen,
        per_enterprise_cap_fen: b.per_enterprise_cap_fen,
        coverage_ratio_bp: b.coverage_ratio_bp,
        service_categories: categories,
        eligible_scales: scales,
        valid_days: b.valid_days,
        applications_open: b.applications_open,
        applications_close: b.applications_close,
        settle_by: b.settle_by,
    };
    let now = state.clock.now();
    let p = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            let p = vouchers::create_program(c, &actor, input.clone(), now)?;
            files::set_required(c, Requirer::VoucherProgram, &p.id, &required)?;
            Ok(p)
        })
        .await?;
    let mut view = ProgramView::from(p);
    view.required_purposes = Some(required_view);
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Voucher programs with their remaining budget.
///
/// 任何人可调用（无需令牌），分页。错误：422（分页参数）。
#[utoipa::path(get, path = "/api/v1/voucher-programs", tag = "vouchers", params(PageQuery),
    responses((status = 200, body = Paginated<ProgramView>), (status = 422, response = Unprocessable)))]
pub async fn list_programs(state: web::Data<AppState>, query: ApiQuery<PageQuery>) -> AppResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) =
        state.db.read(move |c| crate::db::vouchers::list_programs(c, page.offset(), page.limit())).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(ProgramView::from).collect(), page, total)))
}

/// One voucher program.
///
/// 任何人可调用，含要求的附件用途。错误：404 `not_found`。
#[utoipa::path(get, path = "/api/v1/voucher-programs/{id}", tag = "vouchers", params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = ProgramView), (status = 404, response = NotFound)))]
pub async fn get_program(state: web::Data<AppState>, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let (p, required) = state
        .db
        .read(move |c| Ok((vouchers::program(c, &id)?, files::required(c, Requirer::VoucherProgram, &id)?)))
        .await?;
    let mut view = ProgramView::from(p);
    view.required_purposes = Some(required);
    Ok(HttpResponse::Ok().json(view))
}

/// Apply for a voucher (member of a verified enterprise of an eligible scale, in the window).
///
/// 已认证企业的成员，企业规模在 `eligible_scales` 内，申请窗口期间；支持 `Idempotency-Key`。错误：403 `forbidden`、`organization_not_verified`、`integrity_veto`，404 `not_found`，409 `applications_closed`、`idempotency_key_reused`，422 `validation_failed`、`missing_attachments`。
#[utoipa::path(post, path = "/api/v1/voucher-programs/{id}/applications", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id"), IdempotencyHeader), request_body = ApplicationRequest,
    responses((status = 201, body = ApplicationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<ApplicationRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    v.check(b.requested_fen > 0, "requested_fen", Rule::Positive);
    v.text("purpose", &b.purpose, 5000);
    v.finish()?;
    let docs = super::files::refs(&b.attachments, "attachments")?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let input = NewApplicationInput {
        requested_fen: b.requested_fen,
        purpose: b.purpose.trim().to_owned(),
        service_category: b.service_category,
    };
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::CREATED, move |c| {
            let actor = load_actor(c, &user.id)?;
            files::require(c, Requirer::VoucherProgram, &id, &docs)?;
            let a = vouchers::apply(c, &actor, &id, input.clone(), now)?;
            files::attach(c, &actor, RecordType::VoucherApplication, &a.id, &docs, "attachments", now)?;
            let attachments = super::files::views(c, RecordType::VoucherApplication, &a.id)?;
            let mut view = ApplicationView::from(a);
            view.attachments = Some(attachments);
            Ok(view)
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    pub status: Option<ApplicationStatus>,
    pub program_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller organization's applications (administrators: all).
///
/// 已登录用户：本机构的申请；管理员看全部，可按状态与计划筛选，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/voucher-applications", tag = "vouchers", security(("bearer" = [])), params(ApplicationQuery),
    responses((status = 200, body = Paginated<ApplicationView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list_applications(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<ApplicationQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            vouchers::applications(c, &actor, q.status, q.program_id.as_deref(), page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(ApplicationView::from).collect(), page, total)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"approved_fen": 800000}))]
pub struct ApproveRequest {
    /// At most the requested amount.
    pub approved_fen: i64,
}

/// Approve an application within the budget and the enterprise cap; issues a voucher.
///
/// 仅管理员；`submitted` → `approved`，核定金额不超过申请额，从计划预算中扣除并签发创新券。错误：403 `forbidden`，404 `not_found`，409 `voucher_budget_exceeded`、`enterprise_cap_exceeded`、`invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/voucher-applications/{id}/approve", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = ApproveRequest,
    responses((status = 200, body = VoucherView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn approve(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ApproveRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let amount = body.into_inner().approved_fen;
    let now = state.clock.now();
    let v = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            vouchers::approve(c, &actor, &id, amount, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(VoucherView::new(v, now)?))
}

/// Reject an application with a reason.
///
/// 仅管理员，须给出理由；`submitted` → `rejected`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/voucher-applications/{id}/reject", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = ReasonRequest,
    responses((status = 200, body = ApplicationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject_application(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    let now = state.clock.now();
    let a = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            vouchers::reject_application(c, &actor, &id, &reason, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApplicationView::from(a)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VoucherQuery {
    pub program_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller organization's vouchers (administrators: all).
///
/// 已登录用户：本机构持有的创新券（含券码与余额）；管理员看全部，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/vouchers", tag = "vouchers", security(("bearer" = [])), params(VoucherQuery),
    responses((status = 200, body = Paginated<VoucherView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list_vouchers(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<VoucherQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let now = state.clock.now();
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            vouchers::vouchers(c, &actor, q.program_id.as_deref(), page)
        })
        .await?;
    let items = rows.into_iter().map(|v| VoucherView::new(v, now)).collect::<AppResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}

/// One voucher (holder enterprise, admin).
///
/// 持券企业成员与管理员；其他人 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/vouchers/{id}", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Voucher id")),
    responses((status = 200, body = VoucherView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get_voucher(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let v = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            vouchers::get_voucher(c, &actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(VoucherView::new(v, now)?))
}

/// A service provider redeems a voucher; the covered amount is reserved at once. Send an
/// `Idempotency-Key` to make retries safe.
///
/// 已认证服务机构的成员，且提供该券的服务类别；按补贴比例从券余额中预留金额，状态 `pending_confirmation`。错误：403 `forbidden`、`organization_not_verified`，404 `not_found`（券码不存在），409 `voucher_not_active`、`voucher_budget_exceeded`（余额不足）、`idempotency_key_reused`，422 `validation_failed`、`missing_attachments`。
#[utoipa::path(post, path = "/api/v1/voucher-redemptions", tag = "vouchers", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = RedemptionRequest,
    responses((status = 201, body = RedemptionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn redeem(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<RedemptionRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("voucher_code", &b.voucher_code, 64);
    v.check(b.service_fee_fen > 0, "service_fee_fen", Rule::Positive);
    v.text("invoice_no", &b.invoice_no, 64);
    v.text("description", &b.description, 2000);
    v.finish()?;
    let docs = super::files::refs(&b.attachments, "attachments")?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let input = RedemptionInput {
        voucher_code: b.voucher_code.trim().to_owned(),
        service_fee_fen: b.service_fee_fen,
        invoice_no: b.invoice_no.trim().to_owned(),
        description: b.description.trim().to_owned(),
    };
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::CREATED, move |c| {
            let actor = load_actor(c, &user.id)?;
            let r = vouchers::redeem(c, &actor, &input, now)?;
            files::attach(c, &actor, RecordType::VoucherRedemption, &r.id, &docs, "attachments", now)?;
            let attachments = super::files::views(c, RecordType::VoucherRedemption, &r.id)?;
            let mut view = RedemptionView::from(r);
            view.attachments = Some(attachments);
            Ok(view)
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedemptionQuery {
    pub status: Option<RedemptionStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Redemptions the caller's organization made (provider) or received (holder); admins all.
///
/// 已登录用户：本机构发起（服务机构）或收到（持券企业）的兑付；管理员看全部，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/voucher-redemptions", tag = "vouchers", security(("bearer" = [])), params(RedemptionQuery),
    responses((status = 200, body = Paginated<RedemptionView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list_redemptions(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<RedemptionQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            vouchers::redemptions(c, &actor, q.status, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(RedemptionView::from).collect(), page, total)))
}

/// One redemption (provider, holder, admin).
///
/// 服务机构、持券企业的成员与管理员；其他人 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/voucher-redemptions/{id}", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Redemption id")),
    responses((status = 200, body = RedemptionView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get_redemption(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let r = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            let r = vouchers::get_redemption(c, &actor, &id)?;
            Ok((r, super::files::views(c, RecordType::VoucherRedemption, &id)?))
        })
        .await?;
    let (r, attachments) = r;
    let mut view = RedemptionView::from(r);
    view.attachments = Some(attachments);
    Ok(HttpResponse::Ok().json(view))
}

async fn redemption_step(
    state: &AppState,
    user_id: String,
    id: &str,
    mut f: impl FnMut(
        &mut crate::db::AnyConnection,
        &crate::service::Actor,
        &str,
        DateTime<Utc>,
    ) -> AppResult<RedemptionRow>
    + Send
    + 'static,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let r = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user_id)?;
            f(c, &actor, &id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RedemptionView::from(r)))
}

/// The holder enterprise confirms it received the service.
///
/// 持券企业成员；`pending_confirmation` → `confirmed`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/voucher-redemptions/{id}/confirm", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Redemption id")),
    responses((status = 200, body = RedemptionView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn confirm(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    redemption_step(&state, user.id, &id, vouchers::confirm).await
}

/// Settle (兑付) a confirmed redemption, before the program's settlement deadline.
///
/// 仅管理员，兑付截止日前；`confirmed` → `settled`，预留金额记为已兑付。错误：403 `forbidden`，404 `not_found`，409 `settlement_closed`、`invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/admin/voucher-redemptions/{id}/settle", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Redemption id")),
    responses((status = 200, body = RedemptionView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn settle(state: web::Data<AppState>, admin: AdminUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    redemption_step(&state, admin.0.id, &id, vouchers::settle).await
}

/// Reject a redemption; its reservation returns to the voucher.
///
/// 仅管理员，须给出理由；`pending_confirmation`/`confirmed` → `rejected`，预留金额退回创新券。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/voucher-redemptions/{id}/reject", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Redemption id")), request_body = ReasonRequest,
    responses((status = 200, body = RedemptionView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject_redemption(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    redemption_step(&state, admin.0.id, &id, move |c, a, id, now| {
        vouchers::reject_redemption(c, Some(a), id, &reason, now)
    })
    .await
}

/// Revoke a voucher; its unreserved balance returns to the program.
///
/// 仅管理员，须给出理由；`active` → `revoked`，未预留的余额退回计划预算。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/vouchers/{id}/revoke", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Voucher id")), request_body = ReasonRequest,
    responses((status = 200, body = VoucherView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn revoke(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    let now = state.clock.now();
    let v = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            vouchers::revoke(c, &actor, &id, &reason, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(VoucherView::new(v, now)?))
}

/// Every money movement of a program, oldest first.
///
/// 仅管理员：签发、预留、释放、兑付、过期、撤销等每笔资金流水，分页。错误：403 `forbidden`，404 `not_found`，422。
#[utoipa::path(get, path = "/api/v1/admin/voucher-programs/{id}/ledger", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id"), PageQuery),
    responses((status = 200, body = Paginated<LedgerItem>), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn ledger(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    query: ApiQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            vouchers::ledger(c, &actor, &id, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(LedgerItem::from).collect(), page, total)))
}

/// Totals computed from the ledger.
///
/// 仅管理员：由流水计算的预算、已签发、已预留、已兑付与剩余金额。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/admin/voucher-programs/{id}/summary", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id")),
    responses((status = 200, body = SummaryView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)))]
pub async fn summary(state: web::Data<AppState>, admin: AdminUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let s = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            vouchers::summary(c, &actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(SummaryView {
        total_budget_fen: s.total_budget_fen,
        issued_fen: s.issued_fen,
        reserved_fen: s.reserved_fen,
        settled_fen: s.settled_fen,
        released_fen: s.released_fen,
        remaining_fen: s.remaining_fen,
    }))
}
