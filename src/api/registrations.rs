//! /contracts/{id}/registration: 技术合同认定登记 as a workflow between the seller and the
//! registration office of the seller's region; /admin/registration-offices designates offices.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{AdminUser, ApiJson, AuthUser};
use super::files::{AttachmentIn, AttachmentView};
use super::openapi::problems::*;
use super::{ReasonRequest, path_id};
use crate::db::time::from_db;
use crate::domain::error::{Message, Rule, Validator};
use crate::domain::file::RecordType;
use crate::error::{AppError, AppResult};
use crate::service::load_actor;
use crate::service::registrations::{self, Decision, Filing, View};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"declared_amount_fen": 300000000, "note": "技术转让合同已经双方盖章，申请认定登记。", "attachments": [{"file_id": "5b0e2c7a-3f14-4d8e-9a61-2c7d8e9f0a1b", "purpose": "signed_contract"}]}))]
pub struct RegistrationRequest {
    /// The declared 技术交易额, at most the contract amount.
    #[schema(minimum = 1)]
    pub declared_amount_fen: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// At least one with purpose `signed_contract` (the signed contract text).
    #[schema(min_items = 1, max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"note": "已补充第三方技术评价报告。", "attachments": [{"file_id": "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f", "purpose": "evidence"}]}))]
pub struct RegistrationSupplementRequest {
    #[schema(min_items = 1, max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"registered_amount_fen": 280000000, "registration_no": "2026-000321"}))]
pub struct RegistrationApproveRequest {
    /// The registered 技术交易额, at most the contract amount.
    #[schema(minimum = 1)]
    pub registered_amount_fen: i64,
    /// `YYYY-NNNNNN`; without it the platform issues the next number of the year.
    #[schema(max_length = 17, pattern = r"^[0-9]{4}-[0-9]{6,12}$")]
    pub registration_no: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"registered_amount_fen": 290000000, "reason": "核定技术交易额有误，按合同附件二更正。"}))]
pub struct RegistrationAmendRequest {
    #[schema(minimum = 1)]
    pub registered_amount_fen: Option<i64>,
    #[schema(max_length = 17, pattern = r"^[0-9]{4}-[0-9]{6,12}$")]
    pub registration_no: Option<String>,
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": "3e5a7c9e-1b2d-4f4a-8c6e-0d2f4a6b8c1e", "region": "江苏省"}))]
pub struct RegistrationOfficeRequest {
    /// A verified `government` organization.
    #[schema(format = Uuid)]
    pub org_id: String,
    /// A province-level region name.
    pub region: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOfficeView {
    pub id: String,
    pub org_id: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
}

/// One step of a registration's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationStepView {
    pub seq: i32,
    /// `file`, `request_supplement`, `supplement`, `accept`, `approve`, `refuse`, `amend`,
    /// `cancel`, or `register` (the one-step administrator path).
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: String,
    /// The reason or note given with the step.
    pub note: Option<String>,
    /// Amounts, numbers, and an amendment's `before` and `after`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    pub id: String,
    pub contract_id: String,
    /// The seller's region: its registration offices decide.
    pub region: String,
    /// `filed`, `supplement_requested`, `under_review`, `approved`, `refused`, `cancelled`.
    pub status: String,
    pub declared_amount_fen: i64,
    pub registered_amount_fen: Option<i64>,
    pub registration_no: Option<String>,
    pub note: String,
    pub filed_by: String,
    /// The last (re)filing: the review clock starts here.
    pub filed_at: DateTime<Utc>,
    /// The review is due by the end of this day (Asia/Shanghai).
    pub due_on: NaiveDate,
    /// The deadline passed while the office holds the file (`filed` or `under_review`).
    pub overdue: bool,
    /// The latest supplement request, refusal or cancellation reason.
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub attachments: Vec<AttachmentView>,
    pub steps: Vec<RegistrationStepView>,
    pub created_at: DateTime<Utc>,
}

fn to_view(v: View, attachments: Vec<AttachmentView>) -> RegistrationView {
    let r = v.row;
    RegistrationView {
        id: r.id,
        contract_id: r.contract_id,
        region: r.region,
        status: r.status,
        declared_amount_fen: r.declared_amount_fen,
        registered_amount_fen: r.registered_amount_fen,
        registration_no: r.registration_no,
        note: r.note,
        filed_by: r.filed_by,
        filed_at: from_db(r.filed_at),
        due_on: r.due_on,
        overdue: v.overdue,
        reason: r.reason,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(from_db),
        attachments,
        steps: v
            .steps
            .into_iter()
            .map(|s| RegistrationStepView {
                seq: s.seq,
                action: s.action,
                from_status: s.from_status,
                to_status: s.to_status,
                actor_id: s.actor_id,
                note: s.note,
                detail: serde_json::from_str(&s.detail).unwrap_or_default(),
                at: from_db(s.created_at),
            })
            .collect(),
        created_at: from_db(r.created_at),
    }
}

/// Runs a registration use case in one transaction and renders its result with attachments.
async fn run(
    state: &AppState,
    user_id: String,
    mut f: impl FnMut(&mut crate::db::AnyConnection, &crate::service::Actor, DateTime<Utc>) -> AppResult<View>
    + Send
    + 'static,
) -> AppResult<RegistrationView> {
    let now = state.clock.now();
    let (view, attachments) = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user_id)?;
            let v = f(c, &actor, now)?;
            let attachments = super::files::views(c, RecordType::Registration, &v.row.id)?;
            Ok((v, attachments))
        })
        .await?;
    Ok(to_view(view, attachments))
}

fn note_of(note: &str) -> AppResult<String> {
    let mut v = Validator::new();
    v.check(note.chars().count() <= 2000, "note", Message::too_long(2000));
    v.finish()?;
    Ok(note.trim().to_owned())
}

/// The seller files the registration (认定登记) of a signed contract.
///
/// 卖方机构成员（机构须已认证）；合同须为 `signed`；`declared_amount_fen` 为申报技术交易额，须为正且不超过合同金额；`attachments` 须含用途为 `signed_contract` 的已签合同文本。同一合同同时至多一个进行中或已通过的登记。登记地区为卖方机构所在地区，审查期限自申请日起按日历日计算（节假日不计，大额合同期限更长）。错误：403 `forbidden`、`organization_not_verified`，404 `not_found`，409 `invalid_state_transition`（合同非 `signed`）、`conflict`（已有进行中的登记），422 `validation_failed`、`missing_attachments`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = RegistrationRequest,
    responses((status = 201, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn file(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<RegistrationRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let note = note_of(&b.note)?;
    let attachments = super::files::refs(&b.attachments, "attachments")?;
    let filing = Filing { declared_amount_fen: b.declared_amount_fen, note, attachments };
    let settings = state.settings.registration.clone();
    let view = run(&state, user.id, move |c, a, now| registrations::file(c, a, &id, &filing, &settings, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The contract's current registration with its history of steps.
///
/// 合同双方机构成员、该登记所在地区的登记机构成员与管理员可见；其他人（含其他地区的登记机构）404 `not_found`。尚无登记时 404。`overdue` 表示审查期限已过而登记机构尚未办结。
#[utoipa::path(get, path = "/api/v1/contracts/{id}/registration", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses((status = 200, body = RegistrationView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let (view, attachments) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            let v = registrations::get(c, &actor, &id, now)?;
            let attachments = super::files::views(c, RecordType::Registration, &v.row.id)?;
            Ok((v, attachments))
        })
        .await?;
    Ok(HttpResponse::Ok().json(to_view(view, attachments)))
}

/// The seller answers a supplement request with more documents; the registration is `filed`
/// again and the review clock restarts.
///
/// 卖方机构成员；`supplement_requested` → `filed`，审查期限重新起算；`attachments` 至少一个。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/supplement", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = RegistrationSupplementRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn supplement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<RegistrationSupplementRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let note = note_of(&b.note)?;
    let attachments = super::files::refs(&b.attachments, "attachments")?;
    let settings = state.settings.registration.clone();
    let view = run(&state, user.id, move |c, a, now| {
        registrations::supplement(c, a, &id, &attachments, &note, &settings, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn decide(state: &AppState, user_id: String, id: &str, decision: Decision) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let view = run(state, user_id, move |c, a, now| registrations::decide(c, a, &id, decision.clone(), now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A registrar asks the seller for more material.
///
/// 该地区登记机构成员或管理员；`filed` → `supplement_requested`，须给出理由。错误：403 `forbidden`（合同当事方），404 `not_found`（其他地区的登记机构等看不到该登记的人），409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/request-supplement", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = ReasonRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn request_supplement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    decide(&state, user.id, &id, Decision::RequestSupplement { reason }).await
}

/// A registrar accepts the filing for review.
///
/// 该地区登记机构成员或管理员；`filed` → `under_review`，请求体可为空。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/accept", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")),
    responses((status = 200, body = RegistrationView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn accept(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    decide(&state, user.id, &id, Decision::Accept).await
}

/// A registrar approves: the contract becomes `registered` with the number and amount.
///
/// 该地区登记机构成员或管理员；`under_review` → `approved`，合同 `signed` → `registered`（与管理员一步登记相同的审计与通知）。`registered_amount_fen` 须为正且不超过合同金额；`registration_no` 形如 `2026-000123`（年份不晚于今年、序号至少 6 位、未被使用），缺省时按年顺序编号。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`conflict`（编号已被使用），422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/approve", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = RegistrationApproveRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn approve(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<RegistrationApproveRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let registration_no = b.registration_no.map(|n| n.trim().to_owned());
    decide(&state, user.id, &id, Decision::Approve { registered_amount_fen: b.registered_amount_fen, registration_no })
        .await
}

/// A registrar refuses (未予登记); the contract stays `signed` and may be filed again.
///
/// 该地区登记机构成员或管理员；`filed` 或 `under_review` → `refused`，须给出理由。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/refuse", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = ReasonRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn refuse(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    decide(&state, user.id, &id, Decision::Refuse { reason }).await
}

/// A registrar corrects an approved registration's amount or number (also on the contract).
///
/// 该地区登记机构成员或管理员；登记须为 `approved` 且保持 `approved`；`registered_amount_fen`、`registration_no` 至少给出一个，规则同批准；须给出理由，历史与审计记录变更前后的值。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`、`conflict`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/amend", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = RegistrationAmendRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn amend(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<RegistrationAmendRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let reason = ReasonRequest { reason: b.reason }.validated()?;
    let registration_no = b.registration_no.map(|n| n.trim().to_owned());
    let decision = Decision::Amend { registered_amount_fen: b.registered_amount_fen, registration_no, reason };
    decide(&state, user.id, &id, decision).await
}

/// A registrar cancels an approved registration; the contract is `signed` again.
///
/// 该地区登记机构成员或管理员；`approved` → `cancelled`，合同 `registered` → `signed`（清除登记编号与认定金额，已登记的收款保留）。合同已进入履行（`performing`）、完成或终止后不可撤销（409 `invalid_state_transition`）。须给出理由。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/contracts/{id}/registration/cancel", tag = "contracts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Contract id")), request_body = ReasonRequest,
    responses((status = 200, body = RegistrationView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    decide(&state, user.id, &id, Decision::Cancel { reason }).await
}

/// Designate a verified government organization as a registration office for a region.
///
/// 仅管理员；`org_id` 须为已认证的 `government` 机构，`region` 为省级行政区名称；同一机构同一地区只能指定一次（409 `conflict`）。该机构成员即成为该地区的登记机构人员。错误：403 `forbidden`，409 `conflict`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/registration-offices", tag = "contracts", security(("bearer" = [])),
    request_body = RegistrationOfficeRequest,
    responses((status = 201, body = RegistrationOfficeView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn create_office(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: ApiJson<RegistrationOfficeRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let org_id =
        uuid::Uuid::parse_str(&b.org_id).map(|u| u.to_string()).map_err(|_| AppError::field("org_id", Rule::Id))?;
    let region = b.region.trim().to_owned();
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            registrations::designate_office(c, &actor, &org_id, &region, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(RegistrationOfficeView {
        id: row.id,
        org_id: row.org_id,
        region: row.region,
        created_at: from_db(row.created_at),
    }))
}
