//! Administration: the audit log and its verification.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Paginated;
use super::extract::{AdminUser, ApiQuery};
use super::openapi::problems::*;
use crate::db::audit::AuditRow;
use crate::db::time::from_db;
use crate::error::AppResult;
use crate::service::{self, Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    /// Position in the hash chain; null until the sequencer has chained the entry (it runs
    /// right after commit, and `GET /admin/audit/verify` sequences everything pending first).
    pub seq: Option<i64>,
    pub sequenced: bool,
    /// Who acted (null for the system: jobs, CLI).
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
    /// SHA-256 of the previous entry's hash and this entry's content; null until sequenced.
    pub hash: Option<String>,
}

impl From<AuditRow> for AuditEntryView {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            seq: r.seq,
            sequenced: r.seq.is_some(),
            actor_id: r.actor_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            from_status: r.from_status,
            to_status: r.to_status,
            detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
            at: from_db(r.at),
            hash: r.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `organization`, `achievement`, `voucher`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Every state change and admin action, newest first.
///
/// 仅管理员，可按对象类型与对象 id 筛选，分页。错误：403 `forbidden`，422。
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "administration", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Paginated<AuditEntryView>), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn audit(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: ApiQuery<AuditQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            service::audit::list(c, &actor, query.entity_type.as_deref(), query.entity_id.as_deref(), page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(AuditEntryView::from).collect(), page, total)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// True when every entry's hash and link check out and the chain matches the latest
    /// signed checkpoint.
    pub ok: bool,
    /// Sequenced entries checked.
    pub entries: i64,
    /// Entries committed meanwhile and not yet sequenced.
    pub pending: i64,
    /// The first `seq` that does not check out (or where the chain stops short of the
    /// checkpoint).
    pub broken_at_seq: Option<i64>,
    /// The latest signed checkpoint the chain was checked against.
    pub checkpoint: Option<CheckpointView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    /// Entries in the chain when it was signed.
    pub size: i64,
    /// Hash of the entry at `seq = size`.
    pub head: String,
    pub at: DateTime<Utc>,
    /// Hex HMAC-SHA256 of size, head and time under the configured checkpoint key.
    pub signature: String,
}

/// Sequences pending entries, then re-checks the audit log's hash chain from the first
/// entry against the latest signed checkpoint.
///
/// 仅管理员；返回哈希链的校验结果。错误：403 `forbidden`。
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 401, response = Unauthorized), (status = 403, response = Forbidden)))]
pub async fn audit_verify(state: web::Data<AppState>, admin: AdminUser) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let key = state.settings.audit.checkpoint_key.clone();
    let result = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            service::audit::verify(c, &actor, key.expose_secret().as_bytes(), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditVerification {
        ok: result.broken_at.is_none() && result.checkpoint_ok,
        entries: result.entries,
        pending: result.pending,
        broken_at_seq: result.broken_at,
        checkpoint: result.checkpoint.map(|(cp, at)| CheckpointView {
            size: cp.size,
            head: cp.head,
            at: from_db(at),
            signature: cp.signature,
        }),
    }))
}

/// Platform statistics by SQL aggregation, with the listing → contract funnel.
///
/// 仅管理员。错误：403 `forbidden`。
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = crate::service::stats::Stats), (status = 401, response = Unauthorized), (status = 403, response = Forbidden)))]
pub async fn stats(state: web::Data<AppState>, admin: AdminUser) -> AppResult<HttpResponse> {
    let stats = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            service::stats::compute(c, &actor)
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

/// Every contract as CSV (UTF-8 with BOM, Chinese headers; opens in Excel), streamed.
///
/// 仅管理员；流式输出，中途出错时中止下载而不是返回不完整文件。错误：403 `forbidden`。
#[utoipa::path(get, path = "/api/v1/admin/exports/contracts.csv", tag = "administration", security(("bearer" = [])),
    responses((status = 200, description = "CSV, one row per contract", content_type = "text/csv"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden)))]
pub async fn contracts_csv(state: web::Data<AppState>, admin: AdminUser) -> AppResult<HttpResponse> {
    state.db.read(move |c| load_actor(c, &admin.0.id)?.require_admin()).await?;
    let db = state.db.clone();
    let header = crate::service::export::contracts_header()?;
    let body = futures_util::stream::unfold(Some((String::new(), Some(header))), move |cursor| {
        let db = db.clone();
        async move {
            let (after, first) = cursor?;
            if let Some(header) = first {
                return Some((Ok::<_, actix_web::Error>(web::Bytes::from(header)), Some((after, None))));
            }
            let page = db.read(move |c| crate::service::export::contracts_page(c, &after, 500)).await;
            match page {
                Ok((chunk, Some(last))) => Some((Ok(web::Bytes::from(chunk)), Some((last, None)))),
                Ok((_, None)) => None,
                // The 200 and the header are already sent: failing the stream aborts the
                // chunked body, so the client sees a broken download, not a short file that
                // looks complete.
                Err(e) => {
                    tracing::error!(error = %e, "contracts export failed mid-stream");
                    Some((Err(actix_web::error::ErrorInternalServerError(e.to_string())), None))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"contracts.csv\""))
        .streaming(body))
}
