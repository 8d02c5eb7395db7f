//! /me, notifications and admin user management.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery, AuthUser};
use super::openapi::problems::*;
use super::{Paginated, path_id};
use crate::db::notifications::NotificationRow;
use crate::db::time::from_db;
use crate::domain::account::{OrgRole, Role, UserStatus};
use crate::domain::organization::{OrgKind, OrgStatus};
use crate::error::AppResult;
use crate::service::{self, Actor, Page, load_actor};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    pub status: OrgStatus,
    pub org_role: OrgRole,
}

/// A user as they see themselves (`GET /me`, register).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub status: UserStatus,
    pub role: Role,
    pub organization: Option<MembershipView>,
}

impl From<&Actor> for UserView {
    fn from(a: &Actor) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            status: a.status,
            role: a.role,
            organization: a.org.as_ref().map(|o| MembershipView {
                id: o.id.clone(),
                name: o.name.clone(),
                kind: o.kind,
                status: o.status,
                org_role: o.org_role,
            }),
        }
    }
}

/// The caller, their role and their organization.
///
/// 任何已登录用户。错误：401 `unauthorized`。
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, response = Unauthorized)))]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let actor = state.db.read(move |c| load_actor(c, &user.id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&actor)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"role": "expert"}))]
pub struct RoleRequest {
    pub role: Role,
}

/// Set a user's platform role (`user`, `expert`, `admin`).
///
/// 仅管理员。设置平台角色 `user`/`expert`/`admin`，新角色在对方重新登录后生效。错误：403 `forbidden`，404 `not_found`，409 `conflict`（例如撤销最后一名管理员），422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/role", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")), request_body = RoleRequest,
    responses((status = 200, body = UserView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn set_role(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<RoleRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let role = body.into_inner().role;
    let now = state.clock.now();
    let user = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            let user = service::accounts::set_role(c, &actor, &id, role, now)?;
            load_actor(c, &user.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<NotificationRow> for NotificationView {
    fn from(n: NotificationRow) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            entity_type: n.entity_type,
            entity_id: n.entity_id,
            read: n.read_at.is_some(),
            read_at: n.read_at.map(from_db),
            created_at: from_db(n.created_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread notifications.
    pub unread: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller's notifications, newest first.
///
/// 任何已登录用户，只看自己的站内通知，分页。错误：401，422（分页参数）。
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery),
    responses((status = 200, body = Paginated<NotificationView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    query: ApiQuery<NotificationQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let unread = query.unread.unwrap_or(false);
    let (rows, total) = state
        .db
        .read(move |c| crate::db::notifications::list(c, &user.id, unread, page.offset(), page.limit()))
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(rows.into_iter().map(NotificationView::from).collect(), page, total)))
}

/// Mark one notification read (idempotent).
///
/// 通知的接收者本人；标记为已读（重复调用无副作用）。他人的通知为 404 `not_found`。
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Notification id")),
    responses((status = 200, body = NotificationView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn read_notification(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            crate::db::notifications::mark_read(c, &user.id, &id, now)?
                .ok_or_else(|| crate::error::AppError::not_found("notification"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(row)))
}
