//! /organizations and their admin review.

use crate::domain::error::{Message, Rule};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery, AuthUser, MaybeUser};
use super::openapi::problems::*;
use super::users::UserView;
use super::{Paginated, ReasonRequest, path_id};
use crate::db::organizations::OrgRow;
use crate::db::time::from_db;
use crate::domain::account::OrgRole;
use crate::domain::error::Validator;
use crate::domain::organization::{
    self as rules, EnterpriseScale, InvitationStatus, OrgKind, OrgStatus, ServiceCategory,
};
use crate::error::AppResult;
use crate::service::organizations::{self, InvitationDetails, ListQuery, NewOrganization};
use crate::service::{Actor, Page, load_actor, parse_categories};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "江南先进材料研究院", "kind": "institute", "credit_code": "12320100466002518X", "region": "江苏省", "description": "专注于高性能复合材料与新型储能材料的应用研究，拥有省级中试基地。", "contact_name": "周敏", "contact_phone": "025-83791234"}))]
pub struct CreateOrgRequest {
    #[schema(example = "江南先进材料研究院", min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: OrgKind,
    /// 18-character 统一社会信用代码 with a valid GB 32100 check character.
    #[schema(
        example = "91350100M000100Y43",
        pattern = r"^\s*[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}\s*$"
    )]
    pub credit_code: String,
    /// Province-level region, e.g. `江苏省`.
    #[schema(example = "江苏省")]
    pub region: String,
    #[schema(max_length = 5000)]
    pub description: String,
    /// Enterprises only.
    pub enterprise_scale: Option<EnterpriseScale>,
    /// Service providers only: the services offered (voucher redemption checks them).
    pub service_categories: Option<Vec<ServiceCategory>>,
    #[schema(max_length = 100)]
    pub contact_name: Option<String>,
    #[schema(max_length = 100)]
    pub contact_phone: Option<String>,
}

impl CreateOrgRequest {
    fn validate(self) -> Result<NewOrganization, crate::domain::error::DomainError> {
        let mut v = Validator::new();
        v.text("name", &self.name, 200);
        let credit_code = rules::validate_credit_code(&self.credit_code);
        if let Err(msg) = &credit_code {
            v.add("credit_code", *msg);
        }
        v.check(rules::is_region(self.region.trim()), "region", Rule::Region);
        v.check(self.description.chars().count() <= 5000, "description", Message::too_long(5000));
        v.check(
            self.enterprise_scale.is_none() || self.kind == OrgKind::Enterprise,
            "enterprise_scale",
            Rule::ScaleEnterprisesOnly,
        );
        let categories = self.service_categories.unwrap_or_default();
        v.check(
            categories.is_empty() || self.kind == OrgKind::ServiceProvider,
            "service_categories",
            Rule::CategoriesProvidersOnly,
        );
        for (field, value) in [("contact_name", &self.contact_name), ("contact_phone", &self.contact_phone)] {
            v.check(value.as_ref().is_none_or(|s| s.chars().count() <= 100), field, Message::too_long(100));
        }
        v.finish()?;
        let mut categories = categories;
        categories.sort();
        categories.dedup();
        Ok(NewOrganization {
            name: self.name.trim().to_owned(),
            kind: self.kind,
            credit_code: credit_code.unwrap_or_default(),
            region: self.region.trim().to_owned(),
            description: self.description.trim().to_owned(),
            enterprise_scale: self.enterprise_scale,
            service_categories: categories,
            contact_name: self.contact_name.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            contact_phone: self.contact_phone.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// An organization's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub region: String,
    pub description: String,
    pub enterprise_scale: Option<String>,
    pub service_categories: Vec<ServiceCategory>,
    pub status: String,
    /// Why an administrator rejected it.
    pub reject_reason: Option<String>,
    /// The strongest research-integrity record in force: `clear`, `warning` or `veto`.
    pub integrity: String,
    /// Contact details: shown to members, administrators and connected counterparts.
    pub contact: Option<ContactView>,
    pub created_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

impl OrgView {
    pub fn new(org: OrgRow, integrity: &str, show_contact: bool) -> Self {
        let contact =
            show_contact.then(|| ContactView { name: org.contact_name.clone(), phone: org.contact_phone.clone() });
        Self {
            service_categories: parse_categories(&org.service_categories),
            id: org.id,
            name: org.name,
            kind: org.kind,
            credit_code: org.credit_code,
            region: org.region,
            description: org.description,
            enterprise_scale: org.enterprise_scale,
            status: org.status,
            reject_reason: org.reject_reason,
            integrity: integrity.to_owned(),
            contact,
            created_at: from_db(org.created_at),
            verified_at: org.verified_at.map(from_db),
        }
    }

    fn for_actor(org: OrgRow, integrity: &str, actor: Option<&Actor>) -> Self {
        let show = actor.is_some_and(|a| a.is_admin() || a.is_member_of(&org.id));
        Self::new(org, integrity, show)
    }
}

/// Register an organization; the caller becomes its owner and an administrator reviews it.
///
/// 任何尚未加入机构的已登录用户；调用者成为所有者（owner），机构状态 `pending`，待管理员审核。统一社会信用代码须通过 GB 32100 校验。错误：409 `already_in_organization`、`credit_code_taken`，422 `validation_failed`（信用代码、地区、规模仅限企业、服务类别仅限服务机构）。
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])),
    request_body = CreateOrgRequest,
    responses((status = 201, body = OrgView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<CreateOrgRequest>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner().validate()?;
    let now = state.clock.now();
    let (org, actor) = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let org = organizations::create(c, &actor, input.clone(), now)?;
            Ok((org, load_actor(c, &user.id)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(OrgView::for_actor(org, "clear", Some(&actor))))
}

/// An organization's public profile (verified ones); members and admins see any status.
///
/// 已认证机构对所有人可见；待审核或被驳回的机构仅对其成员与管理员可见，其他人 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations",
    params(("id" = String, Path, description = "Organization id")),
    responses((status = 200, body = OrgView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get(state: web::Data<AppState>, user: MaybeUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let view = state
        .db
        .read(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            let org = organizations::get(c, actor.as_ref(), &id)?;
            let integrity = crate::service::integrity::standing_of_org(c, &org.id, now)?;
            Ok(OrgView::for_actor(org, integrity.as_str(), actor.as_ref()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    pub kind: Option<OrgKind>,
    /// Administrators only; others always see verified organizations.
    pub status: Option<OrgStatus>,
    /// Part of the name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Verified organizations (administrators: all, filterable by status).
///
/// 任何人可调用：机构列表，可按类型、状态与名称关键词筛选，分页；联系方式仅对成员与管理员可见。错误：422（查询参数）。
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgListQuery),
    responses((status = 200, body = Paginated<OrgView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: ApiQuery<OrgListQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let now = state.clock.now();
    let (items, total) = state
        .db
        .read(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            let filter = ListQuery { kind: query.kind, status: query.status, q: query.q.map(|q| q.trim().to_owned()) };
            let (rows, total) = organizations::list(c, actor.as_ref(), &filter, page)?;
            let ids: Vec<String> = rows.iter().map(|o| o.id.clone()).collect();
            let standings = crate::service::integrity::standings_of_orgs(c, &ids, now)?;
            let items = rows
                .into_iter()
                .map(|org| {
                    let integrity =
                        standings.get(&org.id).copied().unwrap_or(crate::domain::integrity::Standing::Clear);
                    OrgView::for_actor(org, integrity.as_str(), actor.as_ref())
                })
                .collect();
            Ok((items, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "wang.fang@example.cn", "org_role": "member"}))]
pub struct InvitationRequest {
    /// Email of the person to invite (with or without an account).
    #[schema(example = "wang.fang@example.cn", max_length = 254)]
    pub email: String,
    pub org_role: OrgRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub email: String,
    pub org_role: String,
    pub status: InvitationStatus,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<InvitationDetails> for InvitationView {
    fn from(d: InvitationDetails) -> Self {
        let r = d.row;
        Self {
            id: r.id,
            org_id: r.org_id,
            org_name: d.org_name,
            email: r.email,
            org_role: r.org_role,
            status: d.status,
            expires_at: from_db(r.expires_at),
            decided_at: r.decided_at.map(from_db),
            created_at: from_db(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
}

async fn invite_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<InvitationRequest>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let body = body.into_inner();
    let email = crate::domain::account::normalize_email(&body.email)
        .ok_or_else(|| crate::error::AppError::field("email", Rule::Email))?;
    let now = state.clock.now();
    state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            organizations::invite(c, &actor, &id, &email, body.org_role, now)
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// An owner invites someone to join as a member or co-owner. Always 202 for a valid request,
/// whether or not the email has an account or an organization; the person joins only when
/// they accept (`POST /invitations/{id}/accept`).
///
/// 机构所有者。对合法请求总是返回 202（不泄露该邮箱是否有账户），对方接受后加入。错误：403 `forbidden`（非所有者），404 `not_found`，422 `validation_failed`（邮箱）。
#[utoipa::path(post, path = "/api/v1/organizations/{id}/invitations", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")), request_body = InvitationRequest,
    responses((status = 202, description = "Invitation recorded"), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
pub async fn invite(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<InvitationRequest>,
) -> AppResult<HttpResponse> {
    invite_member(state, user, id, body).await
}

/// The first round's way to add a member; now the same as an invitation (202, the user joins
/// on accepting).
///
/// 与 `POST /organizations/{id}/invitations` 相同：机构所有者发出邀请，返回 202。错误：403 `forbidden`，404 `not_found`，422。
#[utoipa::path(post, path = "/api/v1/organizations/{id}/members", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")), request_body = InvitationRequest,
    responses((status = 202, description = "Invitation recorded"), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
pub async fn add_member(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<InvitationRequest>,
) -> AppResult<HttpResponse> {
    invite_member(state, user, id, body).await
}

/// Invitations addressed to the caller's email, newest first.
///
/// 任何已登录用户：发往本人邮箱、仍待处理的邀请。错误：401。
#[utoipa::path(get, path = "/api/v1/me/invitations", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = InvitationList), (status = 401, response = Unauthorized)))]
pub async fn my_invitations(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let items = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &user.id)?;
            organizations::my_invitations(c, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(InvitationList { items: items.into_iter().map(InvitationView::from).collect() }))
}

type InvitationAction = fn(&mut crate::db::AnyConnection, &Actor, &str, DateTime<Utc>) -> AppResult<InvitationDetails>;

async fn on_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    action: InvitationAction,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let view = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            action(c, &actor, &id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(InvitationView::from(view)))
}

/// The invitee joins the organization. Needs a verified email and no organization yet
/// (409 `already_in_organization`); the platform administrator cannot accept (403).
///
/// 被邀请人（邮箱须已验证）；`pending` → `accepted`，加入机构。错误：403 `forbidden`（邮箱未验证），404 `not_found`，409 `already_in_organization`、`invalid_state_transition`（已处理或已过期）。
#[utoipa::path(post, path = "/api/v1/invitations/{id}/accept", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    on_invitation(state, user, id, organizations::accept_invitation).await
}

/// The invitee declines.
///
/// 被邀请人；`pending` → `declined`。错误：404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/invitations/{id}/decline", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationView), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    on_invitation(state, user, id, organizations::decline_invitation).await
}

/// An owner withdraws a pending invitation of their organization.
///
/// 邀请所属机构的所有者；`pending` → `revoked`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/invitations/{id}/revoke", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    on_invitation(state, user, id, organizations::revoke_invitation).await
}

/// An owner removes a member or co-owner; the last owner cannot be removed (409 `last_owner`).
///
/// 机构所有者移除成员，返回 204。错误：403 `forbidden`，404 `not_found`，409 `last_owner`（不能移除最后一名所有者）。
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), ("user_id" = String, Path, description = "Member's user id")),
    responses((status = 204, description = "Removed"), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (org_id, member_id) = path.into_inner();
    let (org_id, member_id) = (path_id(&org_id)?, path_id(&member_id)?);
    let now = state.clock.now();
    state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            organizations::remove_member(c, &actor, &org_id, &member_id, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leave your organization; its last owner cannot (409 `last_owner`).
///
/// 机构成员本人退出机构。错误：409 `last_owner`（最后一名所有者不能退出）、`conflict`（不在任何机构）。
#[utoipa::path(post, path = "/api/v1/me/organization/leave", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, response = Unauthorized), (status = 409, response = Conflict)))]
pub async fn leave(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let actor = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            organizations::leave(c, &actor, now)?;
            load_actor(c, &actor.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserView::from(&actor)))
}

/// Verify a pending organization.
///
/// 仅管理员；`pending` → `verified`，此后成员可发布成果、需求、榜单等。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/admin/organizations/{id}/verify", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    responses((status = 200, body = OrgView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn verify(state: web::Data<AppState>, admin: AdminUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    review(state, admin, id, true, None).await
}

/// Reject a pending organization with a reason.
///
/// 仅管理员，须给出理由；`pending` → `rejected`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`（理由为空）。
#[utoipa::path(post, path = "/api/v1/admin/organizations/{id}/reject", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")), request_body = ReasonRequest,
    responses((status = 200, body = OrgView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn reject(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    review(state, admin, id, false, Some(reason)).await
}

async fn review(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    approve: bool,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let org = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            organizations::review(c, &actor, &id, approve, reason.as_deref(), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrgView::new(org, "clear", true)))
}
