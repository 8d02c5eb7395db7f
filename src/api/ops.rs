//! Operational endpoints at the server root: liveness, readiness, metrics.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` when every dependency answers.
    pub status: &'static str,
    /// `ok` when the database answered a query.
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: crate::db::Backend,
    /// Semantic matching: `off` (no embeddings server configured), `ok`, or `degraded` (the
    /// server failed its last call; matching ranks by text until it answers). The server stays
    /// ready either way.
    pub embeddings: EmbeddingsReadiness,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmbeddingsReadiness {
    pub status: crate::matching::vectors::Status,
    /// Published listings still waiting for their vectors.
    pub pending: i64,
}

/// Liveness: the process is up and serving.
///
/// 任何人可调用，无需令牌；进程存活即 200，不访问数据库。
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers. 503 problem+json otherwise.
///
/// 任何人可调用；数据库可用时 200，否则 503 `service_unavailable`（带 Retry-After）。
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "A dependency is down", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state.db.ping().await.map_err(|e| match e {
        AppError::Unavailable(source) => AppError::Unavailable(source.context("readiness check")),
        other => AppError::Unavailable(anyhow::anyhow!("readiness check failed: {other}")),
    })?;
    let embeddings = EmbeddingsReadiness { status: state.vectors.status(), pending: state.vectors.pending() };
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", database: "ok", backend: state.db.backend(), embeddings }))
}

/// Prometheus text exposition. With `server.metrics_token` set (production requires it, or a
/// private port), only `Authorization: Bearer <token>` gets an answer; others get 404.
///
/// Prometheus 文本格式。配置了 `metrics_token` 时只接受该 bearer 令牌，否则 404 `not_found`（除非 `metrics_public`）。
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 404, description = "A metrics token is configured and the request did not present it",
            body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> AppResult<HttpResponse> {
    if let Some(token) = &state.settings.server.metrics_token {
        use sha2::{Digest, Sha256};
        let presented = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Digests are compared, so the comparison's timing says nothing about the token.
        let expected = Sha256::digest(secrecy::ExposeSecret::expose_secret(token).as_bytes());
        if Sha256::digest(presented.trim().as_bytes()) != expected {
            return Err(AppError::not_found("resource"));
        }
    }
    let (pool_connections, pool_idle, pool_max) = state.db.pool_state();
    let (jobs_pending, jobs_failed) = crate::jobs::queue_depth(&state.db).await.unwrap_or((-1, -1));
    let audit_pending = state.db.read(crate::service::audit::pending).await.unwrap_or(-1);
    let (tx_retries, tx_retries_exhausted) = state.db.contention_counts();
    let body = state
        .metrics
        .render(&crate::metrics::Gauges {
            pool_connections,
            pool_idle,
            pool_max,
            jobs_pending,
            jobs_failed,
            tx_retries,
            tx_retries_exhausted,
            audit_pending,
            statements: state.db.statements(),
        })
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}
