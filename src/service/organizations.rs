//! Organizations: creation by a user without one, admin verification, members, listing.

use chrono::{DateTime, Utc};

use crate::db::organizations::{NewOrg, OrgFilter, OrgRow};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::account::OrgRole;
use crate::domain::error::{DomainError, ErrorCode};
use crate::domain::organization::{self as rules, EnterpriseScale, OrgKind, OrgStatus, ServiceCategory};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};
use crate::mail::Email;

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, new_id};

#[derive(Clone)]
pub struct NewOrganization {
    pub name: String,
    pub kind: OrgKind,
    pub credit_code: String,
    pub region: String,
    pub description: String,
    pub enterprise_scale: Option<EnterpriseScale>,
    pub service_categories: Vec<ServiceCategory>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

pub fn create(c: &mut AnyConnection, actor: &Actor, input: NewOrganization, now: DateTime<Utc>) -> AppResult<OrgRow> {
    if actor.org.is_some() {
        return Err(DomainError::new(ErrorCode::AlreadyInOrganization, "you already belong to an organization").into());
    }
    let id = new_id();
    let categories = serde_json::to_string(&input.service_categories).map_err(AppError::internal)?;
    db::organizations::insert(
        c,
        &NewOrg {
            id: &id,
            name: &input.name,
            kind: input.kind.as_str(),
            credit_code: &input.credit_code,
            region: &input.region,
            description: &input.description,
            enterprise_scale: input.enterprise_scale.map(EnterpriseScale::as_str),
            service_categories: &categories,
            contact_name: input.contact_name.as_deref(),
            contact_phone: input.contact_phone.as_deref(),
            status: OrgStatus::Pending.as_str(),
            created_by: &actor.id,
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )
    .map_err(|e| AppError::on_unique(e, ErrorCode::CreditCodeTaken, "an organization with this credit code exists"))?;
    if !db::users::join_org(c, &actor.id, &id, OrgRole::Owner.as_str(), now)? {
        return Err(DomainError::new(ErrorCode::AlreadyInOrganization, "you already belong to an organization").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.create", "organization", &id).status(None, "pending"),
        now,
    )?;
    get_row(c, &id)
}

fn get_row(c: &mut AnyConnection, id: &str) -> AppResult<OrgRow> {
    db::organizations::find(c, id)?.ok_or_else(|| AppError::not_found("organization"))
}

/// Verified organizations are public; others only to their members and admins (404 to the rest).
pub fn get(c: &mut AnyConnection, actor: Option<&Actor>, id: &str) -> AppResult<OrgRow> {
    let org = get_row(c, id)?;
    let visible =
        org.status == OrgStatus::Verified.as_str() || actor.is_some_and(|a| a.is_admin() || a.is_member_of(&org.id));
    if visible { Ok(org) } else { Err(AppError::not_found("organization")) }
}

pub struct ListQuery {
    pub kind: Option<OrgKind>,
    pub status: Option<OrgStatus>,
    pub q: Option<String>,
}

pub fn list(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    query: &ListQuery,
    page: Page,
) -> AppResult<(Vec<OrgRow>, i64)> {
    let is_admin = actor.is_some_and(Actor::is_admin);
    let status = if is_admin { query.status.map(OrgStatus::as_str) } else { Some(OrgStatus::Verified.as_str()) };
    if !is_admin && query.status.is_some_and(|s| s != OrgStatus::Verified) {
        return Ok((Vec::new(), 0));
    }
    let filter =
        OrgFilter { kind: query.kind.map(OrgKind::as_str), status, q: query.q.as_deref().filter(|q| !q.is_empty()) };
    db::organizations::list(c, &filter, page.offset(), page.limit())
}

/// Admin review: `pending` → `verified` or `rejected` (with a reason), told to the members.
pub fn review(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    approve: bool,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<OrgRow> {
    actor.require_admin()?;
    let org = get_row(c, id)?;
    let from = OrgStatus::parse(&org.status).ok_or_else(|| super::corrupt("org status", &org.status))?;
    let to = rules::review(from, approve)?;
    if !db::organizations::transition(c, id, from.as_str(), to.as_str(), reason, now)? {
        return Err(DomainError::transition("organization", from.as_str(), "review").into());
    }
    let action = if approve { "organization.verify" } else { "organization.reject" };
    let mut change = Change::new(action, "organization", id).status(Some(from.as_str()), to.as_str());
    if let Some(reason) = reason {
        change = change.detail(serde_json::json!({ "reason": reason }));
    }
    audit::record(c, Some(&actor.id), change, now)?;
    let (notice, email) = if approve {
        (
            Notice::new("organization_verified", format!("机构认证已通过：{}", org.name), "您的机构已通过平台认证。"),
            Email::OrgVerified { org_name: org.name.clone() },
        )
    } else {
        let reason = reason.unwrap_or_default().to_owned();
        (
            Notice::new("organization_rejected", format!("机构认证未通过：{}", org.name), format!("原因：{reason}")),
            Email::OrgRejected { org_name: org.name.clone(), reason },
        )
    };
    // The dedicated verified/rejected email goes to every member; the in-app notice too.
    notify::send(c, Recipient::Org(id.to_owned()), notice.about("organization", id).in_app_only(), now)?;
    for member in db::users::members_of(c, id)? {
        jobs::enqueue(c, &Job::SendEmail { to: member.email, email: email.clone() }, now)?;
    }
    get_row(c, id)
}

/// The owner adds an existing user who has no organization.
pub fn add_member(
    c: &mut AnyConnection,
    actor: &Actor,
    org_id: &str,
    email: &str,
    role: OrgRole,
    now: DateTime<Utc>,
) -> AppResult<crate::db::users::UserRow> {
    let org = get(c, Some(actor), org_id)?;
    let is_owner = actor.is_member_of(&org.id) && actor.org.as_ref().is_some_and(|o| o.org_role == OrgRole::Owner);
    if !is_owner {
        return Err(AppError::forbidden("only the organization's owner may add members"));
    }
    let user = db::users::find_by_email(c, email)?.ok_or_else(|| AppError::not_found("user"))?;
    if !db::users::join_org(c, &user.id, org_id, role.as_str(), now)? {
        return Err(
            DomainError::new(ErrorCode::AlreadyInOrganization, "that user already belongs to an organization").into()
        );
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.add_member", "organization", org_id)
            .detail(serde_json::json!({ "user_id": user.id, "org_role": role.as_str() })),
        now,
    )?;
    notify::send(
        c,
        Recipient::User(user.id.clone()),
        Notice::new(
            "organization_member_added",
            format!("您已加入机构：{}", org.name),
            format!("{} 将您添加为机构成员。", actor.display_name),
        )
        .about("organization", org_id),
        now,
    )?;
    db::users::find(c, &user.id)?.ok_or_else(|| AppError::not_found("user"))
}
