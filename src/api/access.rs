//! Access requests to the confidential detail of achievements (NDA flow).

use crate::domain::error::Message;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, AuthUser};
use super::openapi::problems::*;
use super::{Items, path_id};
use crate::db::files::AccessRequestRow;
use crate::db::time::from_db;
use crate::domain::error::Validator;
use crate::error::AppResult;
use crate::service::access::{self, Decision};
use crate::service::load_actor;
use crate::state::AppState;

/// A request by a verified organization to read an achievement's confidential detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRequestView {
    pub id: String,
    pub achievement_id: String,
    /// The requesting organization.
    pub org_id: String,
    pub requested_by: String,
    pub message: String,
    /// `requested → granted → active` (NDA accepted), or `declined`, or `revoked`.
    pub status: String,
    /// The owner's NDA text, offered on grant.
    pub nda_text: Option<String>,
    pub nda_version: Option<String>,
    /// SHA-256 of `nda_text`; `accept-nda` must send it back.
    pub nda_sha256: Option<String>,
    pub reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AccessRequestRow> for AccessRequestView {
    fn from(r: AccessRequestRow) -> Self {
        Self {
            id: r.id,
            achievement_id: r.achievement_id,
            org_id: r.org_id,
            requested_by: r.requested_by,
            message: r.message,
            status: r.status,
            nda_text: r.nda_text,
            nda_version: r.nda_version,
            nda_sha256: r.nda_sha256,
            reason: r.reason,
            decided_at: r.decided_at.map(from_db),
            accepted_by: r.accepted_by,
            accepted_at: r.accepted_at.map(from_db),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"message": "我司拟在动力电池产线应用该技术，希望查阅工艺参数与中试数据以评估导入可行性。"}))]
pub struct AccessRequestCreate {
    /// Why the organization wants the detail.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"nda_text": "甲乙双方就甲方科技成果的保密技术资料达成如下保密协议：乙方仅为评估合作可行性之目的使用上述资料，未经甲方书面同意不得向任何第三方披露，保密期限为五年。", "nda_version": "2026-v1"}))]
pub struct GrantRequest {
    /// The NDA text the requester must accept.
    #[schema(min_length = 1, max_length = 50000)]
    pub nda_text: String,
    /// The owner's name for this text's version (default `1`).
    #[schema(min_length = 1, max_length = 64)]
    pub nda_version: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"nda_sha256": "3f9a6c1e0b7d4a2f8e5c9b1d6a3f0e7c2b8d5a1f4e9c6b3d0a7f2e8c5b1d4a6f"}))]
pub struct AcceptNdaRequest {
    /// The `nda_sha256` of the request: proves which text was accepted.
    pub nda_sha256: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "贵方业务方向与该成果应用领域不符，暂不提供保密资料。"}))]
pub struct AccessReason {
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// A verified organization asks to read a published achievement's confidential detail.
///
/// 已认证机构的成员（非成果所属机构）；成果须已发布。状态 `requested`。错误：403 `forbidden`、`organization_not_verified`，404 `not_found`，409 `duplicate_access_request`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/achievements/{id}/access-requests", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")), request_body = AccessRequestCreate,
    responses((status = 201, body = AccessRequestView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AccessRequestCreate>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let message = body.into_inner().message.trim().to_owned();
    let mut v = Validator::new();
    v.check(message.chars().count() <= 2000, "message", Message::too_long(2000));
    v.finish()?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            access::request(c, &actor, &id, &message, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(AccessRequestView::from(row)))
}

/// The owner's list of requests and NDA holders.
///
/// 成果所属机构成员与管理员。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/achievements/{id}/access-requests", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = Items<AccessRequestView>), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let rows = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            access::list(c, &actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items: rows.into_iter().map(AccessRequestView::from).collect::<Vec<_>>() }))
}

async fn decide(state: &AppState, user: AuthUser, id: &str, decision: Decision) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            access::decide(c, &actor, &id, &decision, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AccessRequestView::from(row)))
}

/// The owner grants a request, offering its NDA text.
///
/// 成果所属机构成员；`requested` → `granted`，附保密协议文本（版本缺省为 `1`），申请方须接受后才能查看。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/grant", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Access request id")), request_body = GrantRequest,
    responses((status = 200, body = AccessRequestView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn grant(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<GrantRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let mut v = Validator::new();
    v.text("nda_text", &b.nda_text, 50_000);
    if let Some(version) = &b.nda_version {
        v.text("nda_version", version, 64);
    }
    v.finish()?;
    let nda_text = b.nda_text.trim().to_owned();
    let nda_version = b.nda_version.map_or_else(|| "1".to_owned(), |v| v.trim().to_owned());
    decide(&state, user, &id, Decision::Grant { nda_text, nda_version }).await
}

/// The owner declines a request (requested or granted).
///
/// 成果所属机构成员；`requested`/`granted` → `declined`，理由可选。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/decline", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Access request id")), request_body = AccessReason,
    responses((status = 200, body = AccessRequestView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn decline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AccessReason>,
) -> AppResult<HttpResponse> {
    let reason = reason(body.into_inner())?;
    decide(&state, user, &id, Decision::Decline { reason }).await
}

/// The owner revokes access (granted or active).
///
/// 成果所属机构成员；`granted`/`active` → `revoked`，理由可选。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/revoke", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Access request id")), request_body = AccessReason,
    responses((status = 200, body = AccessRequestView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn revoke(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AccessReason>,
) -> AppResult<HttpResponse> {
    let reason = reason(body.into_inner())?;
    decide(&state, user, &id, Decision::Revoke { reason }).await
}

fn reason(b: AccessReason) -> AppResult<Option<String>> {
    let mut v = Validator::new();
    if let Some(r) = &b.reason {
        v.check(r.chars().count() <= 2000, "reason", Message::too_long(2000));
    }
    v.finish()?;
    Ok(b.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()))
}

/// The requester accepts the NDA offered (by its hash): the detail opens to its organization.
///
/// 申请方机构成员，回传授予时给出的 `nda_sha256`；`granted` → `active`。错误：403 `forbidden`，404 `not_found`，409 `nda_version_mismatch`（哈希不符）、`invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/accept-nda", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Access request id")), request_body = AcceptNdaRequest,
    responses((status = 200, body = AccessRequestView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn accept_nda(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AcceptNdaRequest>,
) -> AppResult<HttpResponse> {
    let nda_sha256 = body.into_inner().nda_sha256.trim().to_ascii_lowercase();
    decide(&state, user, &id, Decision::AcceptNda { nda_sha256 }).await
}
