//! /admin/integrity-records: research-integrity warnings and vetoes (科研诚信 一票否决).

use crate::domain::error::{Message, Rule};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery};
use super::files::{AttachmentIn, AttachmentView};
use super::openapi::problems::*;
use super::{Paginated, ReasonRequest, path_id};
use crate::db::integrity::IntegrityRow;
use crate::db::time::from_db;
use crate::domain::error::Validator;
use crate::domain::file::RecordType;
use crate::domain::integrity::Severity;
use crate::error::AppResult;
use crate::service::files;
use crate::service::integrity::{self, NewIntegrityRecord};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"org_id": "7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a", "severity": "warning", "reason": "申报材料中检测报告数据与原始记录不一致，经核查属实。", "expires_at": "2031-12-31T16:00:00Z"}))]
pub struct CreateIntegrityRequest {
    /// Exactly one of `org_id` and `user_id`.
    #[schema(format = Uuid)]
    pub org_id: Option<String>,
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
    pub severity: Severity,
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// When the record stops being in force (none: until lifted).
    pub expires_at: Option<DateTime<Utc>>,
    /// Evidence, by the ids `POST /files` returned (purpose `evidence`); administrators only.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrityView {
    pub id: String,
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    pub severity: String,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lift_reason: Option<String>,
    /// In force now: not lifted and not expired.
    pub active: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

impl IntegrityView {
    fn new(r: IntegrityRow, now: DateTime<Utc>) -> Self {
        Self {
            active: integrity::is_active(&r, now),
            id: r.id,
            org_id: r.org_id,
            user_id: r.user_id,
            severity: r.severity,
            reason: r.reason,
            expires_at: r.expires_at.map(from_db),
            lifted_at: r.lifted_at.map(from_db),
            lift_reason: r.lift_reason,
            created_by: r.created_by,
            created_at: from_db(r.created_at),
            attachments: None,
        }
    }
}

/// Record a warning or a veto on an organization or a user.
///
/// 仅管理员；`org_id` 与 `user_id` 恰给其一。`veto`（否决）生效期间，该机构或用户不能投标、申请创新券、签订合同或担任评审专家；`warning` 仅作提示。错误：403 `forbidden`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/integrity-records", tag = "integrity", security(("bearer" = [])),
    request_body = CreateIntegrityRequest,
    responses((status = 201, body = IntegrityView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: ApiJson<CreateIntegrityRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let now = state.clock.now();
    let mut v = Validator::new();
    v.check(body.org_id.is_some() != body.user_id.is_some(), "org_id", Message::exactly_one("org_id", "user_id"));
    v.text("reason", &body.reason, 2000);
    v.check(body.expires_at.is_none_or(|e| e > now), "expires_at", Rule::Future);
    v.finish()?;
    let docs = super::files::refs(&body.attachments, "attachments")?;
    let input = NewIntegrityRecord {
        org_id: id_of(body.org_id, "org_id")?,
        user_id: id_of(body.user_id, "user_id")?,
        severity: body.severity,
        reason: body.reason.trim().to_owned(),
        expires_at: body.expires_at,
    };
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            let row = integrity::create(c, &actor, input.clone(), now)?;
            files::attach(c, &actor, RecordType::IntegrityRecord, &row.id, &docs, "attachments", now)?;
            Ok((super::files::views(c, RecordType::IntegrityRecord, &row.id)?, row))
        })
        .await?;
    let (attachments, row) = row;
    let mut view = IntegrityView::new(row, now);
    view.attachments = Some(attachments);
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntegrityQuery {
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    /// Only records in force now.
    pub active: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Integrity records, newest first.
///
/// 仅管理员，可按机构或用户筛选，分页。错误：403 `forbidden`，422。
#[utoipa::path(get, path = "/api/v1/admin/integrity-records", tag = "integrity", security(("bearer" = [])),
    params(IntegrityQuery),
    responses((status = 200, body = Paginated<IntegrityView>), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: ApiQuery<IntegrityQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    let (org_id, user_id) = (id_of(q.org_id, "org_id")?, id_of(q.user_id, "user_id")?);
    let now = state.clock.now();
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            integrity::list(c, &actor, org_id.as_deref(), user_id.as_deref(), q.active.unwrap_or(false), page, now)
        })
        .await?;
    let items = rows.into_iter().map(|r| IntegrityView::new(r, now)).collect();
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}

/// End a record early; it stays in the history.
///
/// 仅管理员，须给出理由；记录提前失效但保留在历史中。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`（已解除），422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/integrity-records/{id}/lift", tag = "integrity", security(("bearer" = [])),
    params(("id" = String, Path, description = "Record id")), request_body = ReasonRequest,
    responses((status = 200, body = IntegrityView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn lift(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let reason = body.into_inner().validated()?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            integrity::lift(c, &actor, &id, &reason, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(IntegrityView::new(row, now)))
}

/// An optional id from a body or query: a UUID, or 422 naming `field`.
fn id_of(raw: Option<String>, field: &str) -> AppResult<Option<String>> {
    raw.map(|r| {
        uuid::Uuid::parse_str(&r).map(|u| u.to_string()).map_err(|_| crate::error::AppError::field(field, Rule::Id))
    })
    .transpose()
}
