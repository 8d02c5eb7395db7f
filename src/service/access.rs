//! Confidential detail of achievements and the NDA flow that opens it: a verified organization
//! asks, the owner grants (offering its NDA text) or declines, the requester accepts that exact
//! text, and from then on that organization reads the detail until the owner revokes it.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::files::{AccessChange, AccessRequestRow};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::listing::ListingKind;
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, new_id};

/// Access-request statuses: `requested → granted → active`, or `declined`, or `revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessAction {
    Grant,
    Decline,
    Revoke,
    AcceptNda,
}

impl AccessAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessAction::Grant => "grant",
            AccessAction::Decline => "decline",
            AccessAction::Revoke => "revoke",
            AccessAction::AcceptNda => "accept_nda",
        }
    }

    /// The status an action leads to from `from`, if it is allowed there.
    pub fn apply(self, from: &str) -> Option<&'static str> {
        match (self, from) {
            (AccessAction::Grant, "requested") => Some("granted"),
            (AccessAction::Decline, "requested" | "granted") => Some("declined"),
            (AccessAction::Revoke, "granted" | "active") => Some("revoked"),
            (AccessAction::AcceptNda, "granted") => Some("active"),
            _ => None,
        }
    }
}

pub fn nda_sha256(text: &str) -> String {
    crate::domain::audit::hex(&Sha256::digest(text.as_bytes()))
}

/// The owner, administrators and organizations holding an accepted NDA.
pub fn may_read_confidential(c: &mut AnyConnection, actor: &Actor, achievement_id: &str) -> AppResult<bool> {
    if actor.is_admin() {
        return Ok(true);
    }
    let Some(row) = db::listings::find(c, ListingKind::Achievement.as_str(), achievement_id)? else { return Ok(false) };
    if actor.is_member_of(&row.org_id) {
        return Ok(true);
    }
    match actor.org_id() {
        Some(org) => db::files::is_nda_holder(c, achievement_id, org),
        None => Ok(false),
    }
}

/// Sets the confidential text of an achievement the caller just created or edited (its
/// service checked ownership and that it is still editable).
pub fn set_confidential(c: &mut AnyConnection, achievement_id: &str, text: &str, now: DateTime<Utc>) -> AppResult<()> {
    db::files::set_confidential_text(c, achievement_id, text, now)
}

pub fn confidential_text(c: &mut AnyConnection, achievement_id: &str) -> AppResult<Option<String>> {
    db::files::confidential_text(c, achievement_id)
}

/// A verified organization other than the owner asks to read a published achievement's detail.
pub fn request(
    c: &mut AnyConnection,
    actor: &Actor,
    achievement_id: &str,
    message: &str,
    now: DateTime<Utc>,
) -> AppResult<AccessRequestRow> {
    let listing = super::listings::get(c, Some(actor), ListingKind::Achievement, achievement_id)?;
    let org = actor.require_verified_org()?;
    if org.id == listing.org_id {
        return Err(AppError::forbidden(Rule::OwnerReadsDetail));
    }
    if listing.status != "published" {
        return Err(DomainError::transition("achievement", &listing.status, "request_access").into());
    }
    let has_detail = db::files::confidential_text(c, achievement_id)?.is_some()
        || !db::files::attachments_of(c, "achievement_confidential", achievement_id)?.is_empty();
    if !has_detail {
        return Err(AppError::new(ErrorCode::Conflict, Rule::NoConfidentialDetail));
    }
    let row = AccessRequestRow {
        id: new_id(),
        achievement_id: achievement_id.to_owned(),
        org_id: org.id.clone(),
        requested_by: actor.id.clone(),
        message: message.to_owned(),
        status: "requested".to_owned(),
        nda_text: None,
        nda_version: None,
        nda_sha256: None,
        decided_by: None,
        decided_at: None,
        reason: None,
        accepted_by: None,
        accepted_at: None,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    db::files::insert_access_request(c, &row)
        .map_err(|e| AppError::on_unique(e, ErrorCode::DuplicateAccessRequest, Rule::LiveAccessRequest))?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("access_request.create", "access_request", &row.id).status(None, "requested"),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(listing.org_id.clone()),
        Notice::new(
            "access_requested",
            format!("保密信息查阅申请：{}", listing.title),
            format!("{}申请查阅成果的保密信息。", org.name),
        )
        .about("achievement", achievement_id),
        now,
    )?;
    Ok(row)
}

/// The owner's (and administrators') list of requests and holders.
pub fn list(c: &mut AnyConnection, actor: &Actor, achievement_id: &str) -> AppResult<Vec<AccessRequestRow>> {
    let listing = super::listings::get(c, Some(actor), ListingKind::Achievement, achievement_id)?;
    if !(actor.is_admin() || actor.is_member_of(&listing.org_id)) {
        return Err(AppError::forbidden(Rule::AccessListers));
    }
    db::files::access_requests_of(c, achievement_id)
}

/// What an owner's or requester's action carries.
#[derive(Debug, Clone)]
pub enum Decision {
    Grant { nda_text: String, nda_version: String },
    Decline { reason: Option<String> },
    Revoke { reason: Option<String> },
    AcceptNda { nda_sha256: String },
}

/// Moves a request: grant, decline and revoke by the owner; accept-nda by the requester.
pub fn decide(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    decision: &Decision,
    now: DateTime<Utc>,
) -> AppResult<AccessRequestRow> {
    let req = db::files::find_access_request(c, id)?.ok_or_else(|| AppError::not_found("access request"))?;
    let listing = db::listings::find(c, ListingKind::Achievement.as_str(), &req.achievement_id)?
        .ok_or_else(|| AppError::not_found("access request"))?;
    let owner = actor.is_member_of(&listing.org_id);
    let requester = actor.is_member_of(&req.org_id);
    if !(owner || requester || actor.is_admin()) {
        return Err(AppError::not_found("access request"));
    }
    let action = match decision {
        Decision::Grant { .. } => AccessAction::Grant,
        Decision::Decline { .. } => AccessAction::Decline,
        Decision::Revoke { .. } => AccessAction::Revoke,
        Decision::AcceptNda { .. } => AccessAction::AcceptNda,
    };
    let allowed = if action == AccessAction::AcceptNda { requester } else { owner };
    if !allowed {
        return Err(AppError::forbidden(if action == AccessAction::AcceptNda {
            Message::rule(Rule::AccessRequesterOnly)
        } else {
            Message::rule(Rule::AccessOwnerOnly).word("action", action.as_str())
        }));
    }
    let to = action
        .apply(&req.status)
        .ok_or_else(|| DomainError::transition("access request", &req.status, action.as_str()))?;
    let mut change = AccessChange::default();
    let sha;
    let mut detail = serde_json::json!({});
    match decision {
        Decision::Grant { nda_text, nda_version } => {
            sha = nda_sha256(nda_text);
            change.nda = Some((nda_text.as_str(), nda_version.as_str(), sha.as_str()));
            change.decided_by = Some(&actor.id);
            detail = serde_json::json!({ "nda_version": nda_version, "nda_sha256": sha });
        }
        Decision::Decline { reason } | Decision::Revoke { reason } => {
            change.decided_by = Some(&actor.id);
            change.reason = reason.as_deref();
            if let Some(r) = reason {
                detail = serde_json::json!({ "reason": r });
            }
        }
        Decision::AcceptNda { nda_sha256 } => {
            if req.nda_sha256.as_deref() != Some(nda_sha256.as_str()) {
                return Err(AppError::new(ErrorCode::NdaVersionMismatch, Rule::NdaMismatch));
            }
            change.accepted_by = Some(&actor.id);
            // Who accepted which NDA text, when: the entry's actor and time, and the text's hash.
            detail = serde_json::json!({
                "nda_sha256": nda_sha256,
                "nda_version": req.nda_version,
                "org_id": req.org_id,
                "accepted_by": actor.id,
            });
        }
    }
    if !db::files::transition_access_request(c, id, &req.status, to, &change, now)? {
        return Err(DomainError::transition("access request", &req.status, action.as_str()).into());
    }
    let name = format!("access_request.{}", action.as_str());
    audit::record(
        c,
        Some(&actor.id),
        Change::new(&name, "access_request", id).status(Some(&req.status), to).detail(detail),
        now,
    )?;
    let (recipient, kind, title) = match action {
        AccessAction::AcceptNda => {
            (listing.org_id.clone(), "nda_accepted", format!("保密协议已签署：{}", listing.title))
        }
        AccessAction::Grant => {
            (req.org_id.clone(), "access_granted", format!("保密信息查阅申请已同意，请签署保密协议：{}", listing.title))
        }
        AccessAction::Decline => {
            (req.org_id.clone(), "access_declined", format!("保密信息查阅申请未获同意：{}", listing.title))
        }
        AccessAction::Revoke => {
            (req.org_id.clone(), "access_revoked", format!("保密信息查阅权限已撤销：{}", listing.title))
        }
    };
    notify::send(
        c,
        Recipient::Org(recipient),
        Notice::new(kind, title, "详情请登录平台查看。").about("achievement", &listing.id),
        now,
    )?;
    db::files::find_access_request(c, id)?.ok_or_else(|| AppError::not_found("access request"))
}

#[cfg(test)]
mod tests {
    use super::AccessAction::*;

    #[test]
    fn transitions() {
        assert_eq!(Grant.apply("requested"), Some("granted"));
        assert_eq!(AcceptNda.apply("granted"), Some("active"));
        assert_eq!(AcceptNda.apply("requested"), None);
        assert_eq!(Revoke.apply("active"), Some("revoked"));
        assert_eq!(Decline.apply("active"), None);
        assert_eq!(Grant.apply("revoked"), None);
    }
}
