//! /instruments and /bookings: shared research instruments (科技资源开放共享) and their bookings.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, AuthUser, IdempotencyKey};
use super::idempotency::{Idempotency, IdempotencyHeader};
use super::openapi::problems::*;
use super::{Paginated, path_id};
use crate::db::instruments::{BookingRow, InstrumentRow};
use crate::db::time::from_db;
use crate::domain::error::{Message, Rule, Validator};
use crate::domain::instrument::{BookingAction, BookingStatus, InstrumentStatus};
use crate::domain::organization::is_region;
use crate::domain::voucher::shanghai_date;
use crate::error::{AppError, AppResult};
use crate::service::instruments::{self, BookingInput, InstrumentInput, InstrumentQuery, StepInput, Usage};
use crate::service::{Page, load_actor};
use crate::state::AppState;

/// A shared instrument.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentView {
    pub id: String,
    /// The service provider that operates it.
    pub org_id: String,
    pub name: String,
    pub model: String,
    /// Free-text class, e.g. `电子显微镜`, `质谱仪`.
    pub category: String,
    pub location: String,
    pub region: String,
    pub description: String,
    pub fee_per_hour_fen: Option<i64>,
    pub fee_per_sample_fen: Option<i64>,
    pub accessories: String,
    /// Opening hours as people read them, e.g. `工作日 9:00–17:00`.
    pub open_hours: String,
    /// Hours open per week, the base of `utilization_bp`.
    pub weekly_open_hours: i32,
    /// Users must have been trained by the provider before operating it themselves.
    pub training_required: bool,
    /// `active` (bookable) or `inactive`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InstrumentRow> for InstrumentView {
    fn from(r: InstrumentRow) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            model: r.model,
            category: r.category,
            location: r.location,
            region: r.region,
            description: r.description,
            fee_per_hour_fen: r.fee_per_hour_fen,
            fee_per_sample_fen: r.fee_per_sample_fen,
            accessories: r.accessories,
            open_hours: r.open_hours,
            weekly_open_hours: r.weekly_open_hours,
            training_required: r.training_required,
            status: r.status,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "场发射扫描电子显微镜", "model": "Gemini 560", "category": "电子显微镜", "location": "苏州工业园区星湖街 218 号 B3 楼 105 室", "region": "江苏省", "description": "分辨率 0.7 nm（15 kV），配能谱仪，可做形貌观察与元素面分布分析。", "fee_per_hour_fen": 60000, "fee_per_sample_fen": 30000, "accessories": "能谱仪（EDS）、离子溅射仪", "open_hours": "工作日 9:00–17:00", "weekly_open_hours": 40, "training_required": true}))]
pub struct InstrumentRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub model: String,
    #[schema(min_length = 1, max_length = 64)]
    pub category: String,
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    pub region: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// At least one of the two fees.
    #[schema(minimum = 1)]
    pub fee_per_hour_fen: Option<i64>,
    #[schema(minimum = 1)]
    pub fee_per_sample_fen: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub accessories: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub open_hours: String,
    #[schema(minimum = 1, maximum = 168)]
    pub weekly_open_hours: i32,
    #[serde(default)]
    pub training_required: bool,
}

/// Changes to an instrument; absent fields stay. A fee can be removed with `null` only if the
/// other stays.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({"fee_per_hour_fen": 55000, "open_hours": "工作日 8:30–20:00", "weekly_open_hours": 57, "status": "active"}))]
pub struct InstrumentPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 200)]
    pub model: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    pub category: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub location: Option<String>,
    pub region: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1, value_type = Option<i64>)]
    pub fee_per_hour_fen: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1, value_type = Option<i64>)]
    pub fee_per_sample_fen: Option<Option<i64>>,
    #[schema(max_length = 2000)]
    pub accessories: Option<String>,
    #[schema(max_length = 200)]
    pub open_hours: Option<String>,
    #[schema(minimum = 1, maximum = 168)]
    pub weekly_open_hours: Option<i32>,
    pub training_required: Option<bool>,
    pub status: Option<InstrumentStatus>,
}

/// A field that is present: `null` reads as `Some(None)`, absence (the default) as `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

struct Texts<'a> {
    name: Option<&'a str>,
    model: Option<&'a str>,
    category: Option<&'a str>,
    location: Option<&'a str>,
    region: Option<&'a str>,
    description: Option<&'a str>,
    accessories: Option<&'a str>,
    open_hours: Option<&'a str>,
    weekly_open_hours: Option<i32>,
    fees: [(&'static str, Option<i64>); 2],
}

/// The field rules shared by create and edit (absent fields are not checked).
fn validate(t: &Texts<'_>) -> Result<(), crate::domain::error::DomainError> {
    let mut v = Validator::new();
    for (field, value, max) in [("name", t.name, 200), ("category", t.category, 64), ("location", t.location, 200)] {
        if let Some(value) = value {
            v.text(field, value, max);
        }
    }
    for (field, value, max) in [
        ("model", t.model, 200),
        ("description", t.description, 5000),
        ("accessories", t.accessories, 2000),
        ("open_hours", t.open_hours, 200),
    ] {
        if let Some(value) = value {
            v.check(value.chars().count() <= max, field, Message::too_long(max));
        }
    }
    if let Some(region) = t.region {
        v.check(is_region(region.trim()), "region", Rule::Region);
    }
    if let Some(hours) = t.weekly_open_hours {
        v.check((1..=168).contains(&hours), "weekly_open_hours", Message::between(1, 168));
    }
    for (field, fee) in t.fees {
        if let Some(fee) = fee {
            v.check(fee > 0, field, Rule::Positive);
        }
    }
    v.finish()
}

impl InstrumentRequest {
    fn validated(self) -> AppResult<InstrumentInput> {
        validate(&Texts {
            name: Some(&self.name),
            model: Some(&self.model),
            category: Some(&self.category),
            location: Some(&self.location),
            region: Some(&self.region),
            description: Some(&self.description),
            accessories: Some(&self.accessories),
            open_hours: Some(&self.open_hours),
            weekly_open_hours: Some(self.weekly_open_hours),
            fees: [("fee_per_hour_fen", self.fee_per_hour_fen), ("fee_per_sample_fen", self.fee_per_sample_fen)],
        })?;
        Ok(InstrumentInput {
            name: self.name.trim().to_owned(),
            model: self.model.trim().to_owned(),
            category: self.category.trim().to_owned(),
            location: self.location.trim().to_owned(),
            region: self.region.trim().to_owned(),
            description: self.description.trim().to_owned(),
            fee_per_hour_fen: self.fee_per_hour_fen,
            fee_per_sample_fen: self.fee_per_sample_fen,
            accessories: self.accessories.trim().to_owned(),
            open_hours: self.open_hours.trim().to_owned(),
            weekly_open_hours: self.weekly_open_hours,
            training_required: self.training_required,
            status: InstrumentStatus::Active,
        })
    }
}

impl InstrumentPatch {
    fn validate(&self) -> AppResult<()> {
        validate(&Texts {
            name: self.name.as_deref(),
            model: self.model.as_deref(),
            category: self.category.as_deref(),
            location: self.location.as_deref(),
            region: self.region.as_deref(),
            description: self.description.as_deref(),
            accessories: self.accessories.as_deref(),
            open_hours: self.open_hours.as_deref(),
            weekly_open_hours: self.weekly_open_hours,
            fees: [
                ("fee_per_hour_fen", self.fee_per_hour_fen.flatten()),
                ("fee_per_sample_fen", self.fee_per_sample_fen.flatten()),
            ],
        })?;
        Ok(())
    }

    fn apply(self, to: &mut InstrumentInput) {
        let trimmed = |s: String| s.trim().to_owned();
        if let Some(v) = self.name {
            to.name = trimmed(v);
        }
        if let Some(v) = self.model {
            to.model = trimmed(v);
        }
        if let Some(v) = self.category {
            to.category = trimmed(v);
        }
        if let Some(v) = self.location {
            to.location = trimmed(v);
        }
        if let Some(v) = self.region {
            to.region = trimmed(v);
        }
        if let Some(v) = self.description {
            to.description = trimmed(v);
        }
        if let Some(v) = self.fee_per_hour_fen {
            to.fee_per_hour_fen = v;
        }
        if let Some(v) = self.fee_per_sample_fen {
            to.fee_per_sample_fen = v;
        }
        if let Some(v) = self.accessories {
            to.accessories = trimmed(v);
        }
        if let Some(v) = self.open_hours {
            to.open_hours = trimmed(v);
        }
        if let Some(v) = self.weekly_open_hours {
            to.weekly_open_hours = v;
        }
        if let Some(v) = self.training_required {
            to.training_required = v;
        }
        if let Some(v) = self.status {
            to.status = v;
        }
    }
}

/// A provider lists one of its instruments for shared use.
///
/// 已认证服务机构的成员；按小时或按样品收费至少填一项。状态 `active`。错误：403 `forbidden`、`organization_not_verified`、`integrity_veto`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/instruments", tag = "instruments", security(("bearer" = [])), request_body = InstrumentRequest,
    responses((status = 201, body = InstrumentView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<InstrumentRequest>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner().validated()?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            instruments::create(c, &actor, input.clone(), now)
        })
        .await?;
    Ok(HttpResponse::Created().json(InstrumentView::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstrumentListQuery {
    /// Words that must each appear in the name, model, category or description.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub category: Option<String>,
    pub region: Option<String>,
    /// One provider's instruments.
    #[param(format = Uuid)]
    pub org_id: Option<String>,
    pub status: Option<InstrumentStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The public catalogue of shared instruments, newest change first.
///
/// 公开；`q` 中每个词都须出现在名称、型号、类别或简介中；可按类别、地区、机构、状态筛选，分页。错误：422。
#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments", params(InstrumentListQuery),
    responses((status = 200, body = Paginated<InstrumentView>), (status = 422, response = Unprocessable)))]
pub async fn list(state: web::Data<AppState>, query: ApiQuery<InstrumentListQuery>) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let mut v = Validator::new();
    v.check(q.q.as_deref().is_none_or(|t| t.chars().count() <= 200), "q", Message::too_long(200));
    v.check(q.region.as_deref().is_none_or(is_region), "region", Rule::Region);
    v.check(q.org_id.as_deref().is_none_or(|id| uuid::Uuid::parse_str(id).is_ok()), "org_id", Rule::Id);
    v.finish()?;
    let filter = InstrumentQuery { q: q.q, category: q.category, region: q.region, org_id: q.org_id, status: q.status };
    let (rows, total) = state.db.read(move |c| instruments::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(InstrumentView::from).collect(), page, total)))
}

/// One instrument.
///
/// 公开。错误：404 `not_found`。
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "instruments",
    params(("id" = String, Path, description = "Instrument id")),
    responses((status = 200, body = InstrumentView), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let row = state.db.read(move |c| instruments::get(c, &id)).await?;
    Ok(HttpResponse::Ok().json(InstrumentView::from(row)))
}

/// The provider edits an instrument or closes it for bookings (`status: inactive`).
///
/// 仪器所属机构的成员与管理员；未给出的字段不变。错误：403 `forbidden`，404 `not_found`，422 `validation_failed`。
#[utoipa::path(patch, path = "/api/v1/instruments/{id}", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id")), request_body = InstrumentPatch,
    responses((status = 200, body = InstrumentView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<InstrumentPatch>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let patch = body.into_inner();
    patch.validate()?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let patch = patch.clone();
            instruments::update(c, &actor, &id, |input| patch.apply(input), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(InstrumentView::from(row)))
}

/// A booking of a shared instrument.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    pub id: String,
    pub instrument_id: String,
    /// The booking organization.
    pub org_id: String,
    pub requested_by: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub samples: Option<i32>,
    pub purpose: String,
    /// Per sample when `samples` is set, else per hour for the booked minutes.
    pub fee_fen: i64,
    /// The voucher paying part of the fee, and the part it holds.
    pub voucher_id: Option<String>,
    pub reserved_fen: i64,
    /// The voucher redemption created on completion.
    pub redemption_id: Option<String>,
    /// `requested → approved | rejected`, `approved → completed | no_show | cancelled`.
    pub status: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<BookingRow> for BookingView {
    fn from(r: BookingRow) -> Self {
        Self {
            id: r.id,
            instrument_id: r.instrument_id,
            org_id: r.org_id,
            requested_by: r.requested_by,
            starts_at: from_db(r.starts_at),
            ends_at: from_db(r.ends_at),
            samples: r.samples,
            purpose: r.purpose,
            fee_fen: r.fee_fen,
            voucher_id: r.voucher_id,
            reserved_fen: r.reserved_fen,
            redemption_id: r.redemption_id,
            status: r.status,
            reason: r.reason,
            created_at: from_db(r.created_at),
            decided_at: r.decided_at.map(from_db),
            finished_at: r.finished_at.map(from_db),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"starts_at": "2031-03-10T01:00:00Z", "ends_at": "2031-03-10T03:30:00Z", "purpose": "锂电池正极材料截面形貌观察与元素面分布分析"}))]
pub struct BookingRequest {
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 168 hours later.
    pub ends_at: DateTime<Utc>,
    /// Charge per sample (the instrument must have a per-sample fee); absent: per hour.
    #[schema(minimum = 1, maximum = 10000)]
    pub samples: Option<i32>,
    #[schema(min_length = 1, max_length = 2000)]
    pub purpose: String,
    /// An instrument-sharing voucher of the booking organization: the covered share of the
    /// fee is reserved now and redeemed on completion.
    #[schema(max_length = 64)]
    pub voucher_code: Option<String>,
}

/// A verified organization books a time slot; a voucher code reserves the covered share.
/// Send an `Idempotency-Key` to make retries safe.
///
/// 已认证机构的成员（不能预约本机构的仪器）；时段须在将来、不超过 168 小时，且与该仪器已申请、已确认、已完成或爽约的预约不重叠（并发预约同一时段只有一个成功）。近期爽约次数达到上限的机构暂停预约。使用创新券时须为本机构持有的仪器共享券，按补贴比例预留金额。错误：403 `forbidden`、`organization_not_verified`、`booking_suspended`、`integrity_veto`，404 `not_found`，409 `slot_taken`、`conflict`（仪器已停止开放）、`voucher_not_active`、`settlement_closed`、`idempotency_key_reused`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/instruments/{id}/bookings", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id"), IdempotencyHeader), request_body = BookingRequest,
    responses((status = 201, body = BookingView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<BookingRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("purpose", &b.purpose, 2000);
    v.check(b.samples.is_none_or(|n| (1..=10_000).contains(&n)), "samples", Message::between(1, 10_000));
    if let Some(code) = &b.voucher_code {
        v.text("voucher_code", code, 64);
    }
    v.finish()?;
    let idempotency = Idempotency::new(&req, &user.id, key, &b)?;
    let input = BookingInput {
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        samples: b.samples,
        purpose: b.purpose.trim().to_owned(),
        voucher_code: b.voucher_code.map(|c| c.trim().to_owned()),
    };
    let settings = state.settings.instruments.clone();
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::CREATED, move |c| {
            let actor = load_actor(c, &user.id)?;
            instruments::book(c, &actor, &id, &input, &settings, now).map(BookingView::from)
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    pub status: Option<BookingStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Bookings of an instrument: all of them for its provider and admins, the caller's
/// organization's for others.
///
/// 已登录用户；仪器所属机构与管理员看全部，其他机构只看本机构的预约，按开始时间倒序分页。错误：404 `not_found`，422。
#[utoipa::path(get, path = "/api/v1/instruments/{id}/bookings", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instrument id"), BookingQuery),
    responses((status = 200, body = Paginated<BookingView>), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn bookings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<BookingQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            instruments::bookings(c, &actor, &id, q.status, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(BookingView::from).collect(), page, total)))
}

/// An optional reason for a booking step.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "该时段仪器例行维护，请改约其他时间。"}))]
pub struct BookingReason {
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Completion of a booking; a booking paid by voucher needs the provider's invoice number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"invoice_no": "32011234567890123456"}))]
pub struct BookingCompletion {
    #[schema(max_length = 64)]
    pub invoice_no: Option<String>,
}

async fn step(
    state: &AppState,
    user: AuthUser,
    id: &str,
    action: BookingAction,
    input: StepInput,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            instruments::step(c, &actor, &id, action, &input, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(BookingView::from(row)))
}

fn reason(body: Option<ApiJson<BookingReason>>) -> AppResult<Option<String>> {
    let reason = body.map(|b| b.into_inner().reason).unwrap_or_default();
    let mut v = Validator::new();
    if let Some(r) = &reason {
        v.text("reason", r, 2000);
    }
    v.finish()?;
    Ok(reason.map(|r| r.trim().to_owned()))
}

/// The provider approves a requested booking.
///
/// 仪器所属机构的成员；`requested` → `approved`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/bookings/{id}/approve", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")),
    responses((status = 200, body = BookingView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn approve(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    step(&state, user, &id, BookingAction::Approve, StepInput::default()).await
}

/// The provider rejects a requested booking; a voucher reservation is given back.
///
/// 仪器所属机构的成员；`requested` → `rejected`，理由可选，预留的创新券金额退回。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422。
#[utoipa::path(post, path = "/api/v1/bookings/{id}/reject", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")), request_body(content = BookingReason, description = "Optional"),
    responses((status = 200, body = BookingView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn reject(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: Option<ApiJson<BookingReason>>,
) -> AppResult<HttpResponse> {
    let reason = reason(body)?;
    step(&state, user, &id, BookingAction::Reject, StepInput { reason, invoice_no: None }).await
}

/// The provider records that the booked service was delivered (after the slot began); a
/// booking paid by voucher becomes a redemption the holder confirms.
///
/// 仪器所属机构的成员，预约开始之后；`approved` → `completed`。使用创新券的预约须填写发票号，并生成待持券企业确认的兑付申请。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/bookings/{id}/complete", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")), request_body(content = BookingCompletion, description = "Optional"),
    responses((status = 200, body = BookingView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn complete(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: Option<ApiJson<BookingCompletion>>,
) -> AppResult<HttpResponse> {
    let invoice_no = body.and_then(|b| b.into_inner().invoice_no);
    let mut v = Validator::new();
    if let Some(n) = &invoice_no {
        v.text("invoice_no", n, 64);
    }
    v.finish()?;
    let input = StepInput { reason: None, invoice_no: invoice_no.map(|n| n.trim().to_owned()) };
    step(&state, user, &id, BookingAction::Complete, input).await
}

/// The provider records that the booking organization did not come (after the slot began);
/// the reservation is given back, and repeated no-shows suspend booking rights.
///
/// 仪器所属机构的成员，预约开始之后；`approved` → `no_show`，预留的创新券金额退回。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422。
#[utoipa::path(post, path = "/api/v1/bookings/{id}/no-show", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")), request_body(content = BookingReason, description = "Optional"),
    responses((status = 200, body = BookingView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn no_show(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: Option<ApiJson<BookingReason>>,
) -> AppResult<HttpResponse> {
    let reason = reason(body)?;
    step(&state, user, &id, BookingAction::NoShow, StepInput { reason, invoice_no: None }).await
}

/// The booking organization or the provider cancels an approved booking before it starts.
///
/// 预约机构或仪器所属机构的成员，开始之前；`approved` → `cancelled`，预留的创新券金额退回。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422。
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "instruments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")), request_body(content = BookingReason, description = "Optional"),
    responses((status = 200, body = BookingView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: Option<ApiJson<BookingReason>>,
) -> AppResult<HttpResponse> {
    let reason = reason(body)?;
    step(&state, user, &id, BookingAction::Cancel, StepInput { reason, invoice_no: None }).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day (Asia/Shanghai), default 29 days before `to`.
    pub from: Option<NaiveDate>,
    /// Last day, default today. At most 366 days after `from`.
    pub to: Option<NaiveDate>,
}

/// Usage of an instrument over a period: bookings by status, booked and used hours,
/// utilization of its open hours, enterprises served.
///
/// 公开（只含汇总数字，不含预约机构）；按开始时间落在 [from, to]（上海日历日）内的预约统计。错误：404 `not_found`，422。
#[utoipa::path(get, path = "/api/v1/instruments/{id}/usage", tag = "instruments",
    params(("id" = String, Path, description = "Instrument id"), UsageQuery),
    responses((status = 200, body = Usage), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn usage(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: ApiQuery<UsageQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let q = query.into_inner();
    let to = q.to.unwrap_or_else(|| shanghai_date(state.clock.now()));
    let from = q.from.unwrap_or(to - Duration::days(29));
    if to < from {
        return Err(AppError::field("to", Message::rule(Rule::NotBefore).arg("other", "from")));
    }
    if (to - from).num_days() > 366 {
        return Err(AppError::field("from", Message::rule(Rule::UsagePeriod).arg("days", 366)));
    }
    let usage = state.db.read(move |c| instruments::usage(c, &id, from, to)).await?;
    Ok(HttpResponse::Ok().json(usage))
}
