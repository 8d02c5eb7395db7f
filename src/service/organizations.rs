//! Organizations: creation by a user without one, admin verification, members, listing.

use chrono::{DateTime, Duration, Utc};

use crate::db::invitations::{InvitationRow, NewInvitation};
use crate::db::lock::{Root, lock};
use crate::db::organizations::{NewOrg, OrgFilter, OrgRow};
use crate::db::time::{from_db, to_db};
use crate::db::{self, AnyConnection};
use crate::domain::account::{OrgRole, UserStatus};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::organization::{
    self as rules, EnterpriseScale, INVITATION_DAYS, InvitationStatus, OrgKind, OrgStatus, ServiceCategory,
};
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
        return Err(DomainError::new(ErrorCode::AlreadyInOrganization, Rule::AlreadyMember).into());
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
    .map_err(|e| AppError::on_unique(e, ErrorCode::CreditCodeTaken, Rule::CreditCodeRegistered))?;
    if !db::users::join_org(c, &actor.id, &id, OrgRole::Owner.as_str(), now)? {
        return Err(DomainError::new(ErrorCode::AlreadyInOrganization, Rule::AlreadyMember).into());
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

fn require_owner(actor: &Actor, org_id: &str) -> AppResult<()> {
    match &actor.org {
        Some(o) if o.id == org_id && o.org_role == OrgRole::Owner => Ok(()),
        _ => Err(AppError::forbidden(Rule::OwnersOnly)),
    }
}

/// An invitation with the status a reader sees (expiry applied) and its organization's name.
pub struct InvitationDetails {
    pub row: InvitationRow,
    pub status: InvitationStatus,
    pub org_name: String,
}

fn stored_invitation_status(row: &InvitationRow) -> AppResult<InvitationStatus> {
    InvitationStatus::parse(&row.status).ok_or_else(|| super::corrupt("invitation status", &row.status))
}

fn effective_invitation_status(row: &InvitationRow, now: DateTime<Utc>) -> AppResult<InvitationStatus> {
    let status = stored_invitation_status(row)?;
    Ok(if status == InvitationStatus::Pending && from_db(row.expires_at) <= now {
        InvitationStatus::Expired
    } else {
        status
    })
}

fn invitation_details(c: &mut AnyConnection, row: InvitationRow, now: DateTime<Utc>) -> AppResult<InvitationDetails> {
    let id = row.id.clone();
    invitations_details(c, vec![row], now)?.pop().ok_or_else(|| super::corrupt("invitation", &id))
}

/// [`invitation_details`] of many invitations, the organizations read in one statement.
fn invitations_details(
    c: &mut AnyConnection,
    rows: Vec<InvitationRow>,
    now: DateTime<Utc>,
) -> AppResult<Vec<InvitationDetails>> {
    let ids: Vec<String> = rows.iter().map(|r| r.org_id.clone()).collect();
    let names: std::collections::HashMap<String, String> =
        db::organizations::find_many(c, &ids)?.into_iter().map(|o| (o.id, o.name)).collect();
    rows.into_iter()
        .map(|row| {
            let status = effective_invitation_status(&row, now)?;
            let org_name = names.get(&row.org_id).cloned().ok_or_else(|| super::corrupt("invitation org", &row.id))?;
            Ok(InvitationDetails { row, status, org_name })
        })
        .collect()
}

/// An owner invites `email` to join as `role`. The answer is the same whether or not the
/// address has an account, already has an organization or was invited before (inviting again
/// renews the pending invitation), so it reveals nothing about the address. A registered
/// invitee gets a notification and an email; an address without an account finds the
/// invitation under `GET /me/invitations` once it registers.
pub fn invite(
    c: &mut AnyConnection,
    actor: &Actor,
    org_id: &str,
    email: &str,
    role: OrgRole,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let org = get(c, Some(actor), org_id)?;
    require_owner(actor, org_id)?;
    lock(c, Root::Organization, org_id)?;
    let invitee = db::users::find_by_email(c, email)?;
    if invitee.as_ref().is_some_and(|u| u.org_id.as_deref() == Some(org_id)) {
        return Ok(());
    }
    let expires_at = now + Duration::days(INVITATION_DAYS);
    let id = match db::invitations::pending_for(c, org_id, email)? {
        Some(open) if from_db(open.expires_at) > now => {
            db::invitations::renew(c, &open.id, role.as_str(), expires_at, now)?;
            open.id
        }
        stale => {
            if let Some(stale) = stale {
                db::invitations::transition(c, &stale.id, "pending", "expired", now)?;
            }
            let id = new_id();
            let new =
                NewInvitation { id: &id, org_id, email, org_role: role.as_str(), invited_by: &actor.id, expires_at };
            db::invitations::insert(c, &new, now)?;
            id
        }
    };
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.invite", "invitation", &id)
            .status(None, "pending")
            .detail(serde_json::json!({ "org_id": org_id, "org_role": role.as_str() })),
        now,
    )?;
    if let Some(invitee) = invitee {
        notify::send(
            c,
            Recipient::User(invitee.id),
            Notice::new(
                "organization_invitation",
                format!("机构邀请：{}", org.name),
                format!("{} 邀请您加入机构“{}”。接受或拒绝请见“我的邀请”。", actor.display_name, org.name),
            )
            .about("invitation", &id),
            now,
        )?;
    }
    Ok(())
}

/// Invitations addressed to the actor's email, newest first.
pub fn my_invitations(c: &mut AnyConnection, actor: &Actor, now: DateTime<Utc>) -> AppResult<Vec<InvitationDetails>> {
    let rows = db::invitations::for_email(c, &actor.email)?;
    invitations_details(c, rows, now)
}

/// The invitation, if it is addressed to the actor (404 otherwise, so ids reveal nothing).
fn addressed_to(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<InvitationRow> {
    db::invitations::find(c, id)?
        .filter(|row| row.email == actor.email)
        .ok_or_else(|| AppError::not_found("invitation"))
}

/// Moves a pending invitation to `to`; an expired one is recorded as expired and refused.
fn decide(c: &mut AnyConnection, row: &InvitationRow, to: InvitationStatus, now: DateTime<Utc>) -> AppResult<()> {
    let from = effective_invitation_status(row, now)?;
    if from == InvitationStatus::Expired && stored_invitation_status(row)? == InvitationStatus::Pending {
        db::invitations::transition(c, &row.id, "pending", "expired", now)?;
    }
    let refused = || -> AppError {
        let message = Message::rule(Rule::InvitationDecided).word("from", from.as_str()).word("to", to.as_str());
        DomainError::new(ErrorCode::InvalidStateTransition, message).into()
    };
    if from != InvitationStatus::Pending {
        return Err(refused());
    }
    if !db::invitations::transition(c, &row.id, "pending", to.as_str(), now)? {
        return Err(refused());
    }
    Ok(())
}

/// The invitee joins the organization. Needs a verified email (the address is what was
/// invited) and no organization yet; the platform administrator cannot join one.
pub fn accept_invitation(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<InvitationDetails> {
    if actor.is_admin() {
        return Err(AppError::forbidden(Rule::AdminCannotJoin));
    }
    let row = addressed_to(c, actor, id)?;
    if actor.status != UserStatus::Active {
        return Err(AppError::forbidden(Rule::VerifyEmailFirst));
    }
    lock(c, Root::Organization, &row.org_id)?;
    let row = addressed_to(c, actor, id)?;
    if effective_invitation_status(&row, now)? == InvitationStatus::Pending && actor.org.is_some() {
        return Err(already_in_organization());
    }
    decide(c, &row, InvitationStatus::Accepted, now)?;
    if !db::users::join_org(c, &actor.id, &row.org_id, &row.org_role, now)? {
        return Err(already_in_organization());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.join", "invitation", id)
            .status(Some("pending"), "accepted")
            .detail(serde_json::json!({ "org_id": row.org_id, "org_role": row.org_role })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(row.org_id.clone()),
        Notice::new(
            "organization_member_joined",
            "新成员加入",
            format!("{} 接受邀请，加入了本机构。", actor.display_name),
        )
        .about("organization", &row.org_id),
        now,
    )?;
    let row = db::invitations::find(c, id)?.ok_or_else(|| AppError::not_found("invitation"))?;
    invitation_details(c, row, now)
}

fn already_in_organization() -> AppError {
    DomainError::new(ErrorCode::AlreadyInOrganization, Rule::LeaveOrganizationFirst).into()
}

/// The invitee declines.
pub fn decline_invitation(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<InvitationDetails> {
    let row = addressed_to(c, actor, id)?;
    lock(c, Root::Organization, &row.org_id)?;
    decide(c, &row, InvitationStatus::Declined, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.decline", "invitation", id).status(Some("pending"), "declined"),
        now,
    )?;
    let row = db::invitations::find(c, id)?.ok_or_else(|| AppError::not_found("invitation"))?;
    invitation_details(c, row, now)
}

/// An owner withdraws a pending invitation of their organization.
pub fn revoke_invitation(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<InvitationDetails> {
    let row = db::invitations::find(c, id)?
        .filter(|row| actor.is_member_of(&row.org_id))
        .ok_or_else(|| AppError::not_found("invitation"))?;
    require_owner(actor, &row.org_id)?;
    lock(c, Root::Organization, &row.org_id)?;
    decide(c, &row, InvitationStatus::Revoked, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.revoke_invitation", "invitation", id).status(Some("pending"), "revoked"),
        now,
    )?;
    let row = db::invitations::find(c, id)?.ok_or_else(|| AppError::not_found("invitation"))?;
    invitation_details(c, row, now)
}

/// Takes `user_id` out of `org_id`, keeping at least one owner (409 `last_owner`).
fn depart(c: &mut AnyConnection, org_id: &str, user_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    lock(c, Root::Organization, org_id)?;
    let member = db::users::find(c, user_id)?
        .filter(|u| u.org_id.as_deref() == Some(org_id))
        .ok_or_else(|| AppError::not_found("member"))?;
    if member.org_role.as_deref() == Some(OrgRole::Owner.as_str()) && db::invitations::owner_count(c, org_id)? <= 1 {
        return Err(DomainError::new(ErrorCode::LastOwner, Rule::LastOwnerLeaves).into());
    }
    if !db::invitations::leave(c, user_id, org_id, now)? {
        return Err(AppError::not_found("member"));
    }
    Ok(())
}

/// An owner removes a member (or co-owner) from the organization.
pub fn remove_member(
    c: &mut AnyConnection,
    actor: &Actor,
    org_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let org = get(c, Some(actor), org_id)?;
    require_owner(actor, org_id)?;
    depart(c, org_id, user_id, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("organization.remove_member", "organization", org_id)
            .detail(serde_json::json!({ "user_id": user_id })),
        now,
    )?;
    if user_id != actor.id {
        notify::send(
            c,
            Recipient::User(user_id.to_owned()),
            Notice::new(
                "organization_member_removed",
                format!("您已被移出机构：{}", org.name),
                format!("{} 将您移出了机构。", actor.display_name),
            )
            .about("organization", org_id),
            now,
        )?;
    }
    Ok(())
}

/// The actor leaves their organization (409 `last_owner` for its only owner).
pub fn leave(c: &mut AnyConnection, actor: &Actor, now: DateTime<Utc>) -> AppResult<()> {
    let Some(org_id) = actor.org_id() else {
        return Err(DomainError::new(ErrorCode::Conflict, Rule::NoOrganization).into());
    };
    depart(c, org_id, &actor.id, now)?;
    audit::record(c, Some(&actor.id), Change::new("organization.leave", "organization", org_id), now)?;
    Ok(())
}
