//! Settlement batches (结算批次) of a voucher program and their statements (JSON and CSV).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{AdminUser, ApiJson, ApiQuery, IdempotencyKey};
use super::idempotency::{Idempotency, IdempotencyHeader};
use super::openapi::problems::*;
use super::vouchers::PageQuery;
use super::{Paginated, path_id};
use crate::db::settlement_batches::BatchRow;
use crate::db::time::from_db;
use crate::error::AppResult;
use crate::service::settlement_batches::{self as batches, Line};
use crate::service::{Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"cut_off": "2027-06-30"}))]
pub struct SettlementBatchRequest {
    /// Last day (Asia/Shanghai) of confirmations this batch settles; not after today and within
    /// the program's settlement period.
    pub cut_off: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementBatchView {
    pub id: String,
    pub program_id: String,
    pub cut_off: NaiveDate,
    /// Redemptions settled by the batch.
    pub count: i64,
    /// Σ of their settled amounts.
    pub total_fen: i64,
    /// SHA-256 (hex) of the batch's redemption ids, sorted, each followed by `\n`.
    pub redemption_ids_sha256: String,
    pub created_at: DateTime<Utc>,
    /// The admin who closed the batch.
    pub created_by: String,
}

impl From<BatchRow> for SettlementBatchView {
    fn from(b: BatchRow) -> Self {
        Self {
            id: b.id,
            program_id: b.program_id,
            cut_off: b.cut_off,
            count: b.redemption_count,
            total_fen: b.total_fen,
            redemption_ids_sha256: b.ids_sha256,
            created_at: from_db(b.created_at),
            created_by: b.created_by,
        }
    }
}

/// Close a settlement batch: settle every confirmed redemption up to the cut-off.
///
/// 仅管理员，支持 `Idempotency-Key`；在计划锁内一次事务中将截至 `cut_off`（含当天，上海时间）已确认且未兑付的全部兑付申请置为 `settled`，记账方式与单笔兑付相同，并记录一条批次审计。错误：403 `forbidden`，404 `not_found`，409 `nothing_to_settle`（没有可兑付的申请）、`settlement_closed`、`idempotency_key_reused`，422 `validation_failed`（`cut_off` 晚于今天或不在结算期内）。
#[utoipa::path(post, path = "/api/v1/admin/voucher-programs/{id}/settlement-batches", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id"), IdempotencyHeader),
    request_body = SettlementBatchRequest,
    responses((status = 201, body = SettlementBatchView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<SettlementBatchRequest>,
) -> AppResult<HttpResponse> {
    let program_id = path_id(&id)?;
    let b = body.into_inner();
    let user_id = admin.0.id;
    let idempotency = Idempotency::new(&req, &user_id, key, &b)?;
    let now = state.clock.now();
    idempotency
        .run(&state, StatusCode::CREATED, move |c| {
            let actor = load_actor(c, &user_id)?;
            batches::create(c, &actor, &program_id, b.cut_off, now).map(SettlementBatchView::from)
        })
        .await
}

/// Settlement batches of a program, newest first.
///
/// 仅管理员，分页。错误：403 `forbidden`，404 `not_found`，422（分页参数）。
#[utoipa::path(get, path = "/api/v1/admin/voucher-programs/{id}/settlement-batches", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Program id"), PageQuery),
    responses((status = 200, body = Paginated<SettlementBatchView>), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn list(
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
            batches::list(c, &actor, &id, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(SettlementBatchView::from).collect(), page, total)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementProvider {
    pub org_id: String,
    pub name: String,
    pub count: i64,
    pub service_fee_fen: i64,
    /// Σ settled to this provider in the batch.
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    pub redemption_id: String,
    pub voucher_code: String,
    pub provider_org_id: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub invoice_no: String,
    pub service_fee_fen: i64,
    pub amount_fen: i64,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<Line> for StatementLine {
    fn from(l: Line) -> Self {
        let r = l.redemption;
        Self {
            redemption_id: r.id,
            voucher_code: l.voucher_code,
            provider_org_id: r.provider_org_id,
            enterprise_id: l.enterprise_id,
            enterprise_name: l.enterprise_name,
            invoice_no: r.invoice_no,
            service_fee_fen: r.service_fee_fen,
            amount_fen: r.amount_fen,
            confirmed_at: r.confirmed_at.map(from_db),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementStatement {
    pub batch: SettlementBatchView,
    /// Per provider organization, by name.
    pub providers: Vec<StatementProvider>,
    /// Every settled redemption of the batch, by redemption id.
    pub lines: Vec<StatementLine>,
}

/// The statement of a settlement batch: totals per provider and every line.
///
/// 仅管理员：按服务机构汇总（名称、笔数、服务费、兑付金额）及逐笔明细。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/admin/settlement-batches/{id}/statement", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Settlement batch id")),
    responses((status = 200, body = SettlementStatement), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn statement(state: web::Data<AppState>, admin: AdminUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let (batch, providers, lines) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            let batch = batches::for_statement(c, &actor, &id)?;
            let lines = batches::all_lines(c, &batch.id)?;
            let providers = batches::provider_totals(&lines)?;
            Ok((batch, providers, lines))
        })
        .await?;
    Ok(HttpResponse::Ok().json(SettlementStatement {
        batch: batch.into(),
        providers: providers
            .into_iter()
            .map(|p| StatementProvider {
                org_id: p.org_id,
                name: p.name,
                count: p.count,
                service_fee_fen: p.service_fee_fen,
                amount_fen: p.amount_fen,
            })
            .collect(),
        lines: lines.into_iter().map(StatementLine::from).collect(),
    }))
}

/// The lines of a settlement batch as CSV (UTF-8 with BOM, Chinese headers), streamed.
///
/// 仅管理员；流式输出，中途出错时中止下载而不是返回不完整文件。错误：403 `forbidden`，404 `not_found`。
#[utoipa::path(get, path = "/api/v1/admin/settlement-batches/{id}/statement.csv", tag = "vouchers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Settlement batch id")),
    responses((status = 200, description = "CSV, one row per settled redemption", content_type = "text/csv"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn statement_csv(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let batch_id = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            Ok(batches::for_statement(c, &actor, &id)?.id)
        })
        .await?;
    let db = state.db.clone();
    let header = batches::csv_header()?;
    let body = futures_util::stream::unfold(Some((String::new(), Some(header))), move |cursor| {
        let db = db.clone();
        let batch_id = batch_id.clone();
        async move {
            let (after, first) = cursor?;
            if let Some(header) = first {
                return Some((Ok::<_, actix_web::Error>(web::Bytes::from(header)), Some((after, None))));
            }
            let page = db.read(move |c| batches::csv_page(c, &batch_id, &after, 500)).await;
            match page {
                Ok((chunk, Some(last))) => Some((Ok(web::Bytes::from(chunk)), Some((last, None)))),
                Ok((_, None)) => None,
                // The 200 and the header are already sent: failing the stream aborts the
                // chunked body, so the client sees a broken download, not a short file.
                Err(e) => {
                    tracing::error!(error = %e, "settlement statement export failed mid-stream");
                    Some((Err(actix_web::error::ErrorInternalServerError(e.to_string())), None))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"settlement-statement.csv\""))
        .streaming(body))
}
