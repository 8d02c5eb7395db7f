//! Queries on organization invitations.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{org_invitations, users};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct InvitationRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub org_role: String,
    pub status: String,
    pub invited_by: String,
    pub expires_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub org_role: &'a str,
    pub invited_by: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(c: &mut AnyConnection, new: &NewInvitation<'_>, now: DateTime<Utc>) -> AppResult<()> {
    diesel::insert_into(org_invitations::table)
        .values((
            org_invitations::id.eq(new.id),
            org_invitations::org_id.eq(new.org_id),
            org_invitations::email.eq(new.email),
            org_invitations::org_role.eq(new.org_role),
            org_invitations::status.eq("pending"),
            org_invitations::invited_by.eq(new.invited_by),
            org_invitations::expires_at.eq(to_db(new.expires_at)),
            org_invitations::created_at.eq(to_db(now)),
            org_invitations::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<InvitationRow>> {
    Ok(org_invitations::table.find(id).first(c).optional()?)
}

/// The organization's pending invitation of `email`, if any (at most one exists).
pub fn pending_for(c: &mut AnyConnection, org_id: &str, email: &str) -> AppResult<Option<InvitationRow>> {
    Ok(org_invitations::table
        .filter(org_invitations::org_id.eq(org_id))
        .filter(org_invitations::email.eq(email))
        .filter(org_invitations::status.eq("pending"))
        .first(c)
        .optional()?)
}

/// Invitations addressed to `email`, newest first.
pub fn for_email(c: &mut AnyConnection, email: &str) -> AppResult<Vec<InvitationRow>> {
    Ok(org_invitations::table
        .filter(org_invitations::email.eq(email))
        .order((org_invitations::created_at.desc(), org_invitations::id.desc()))
        .limit(100)
        .load(c)?)
}

/// Gives a pending invitation a new role and expiry (the owner invited again).
pub fn renew(
    c: &mut AnyConnection,
    id: &str,
    org_role: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(org_invitations::table.find(id).filter(org_invitations::status.eq("pending")))
        .set((
            org_invitations::org_role.eq(org_role),
            org_invitations::expires_at.eq(to_db(expires_at)),
            org_invitations::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// Moves an invitation from `from` to `to`; false when it is no longer in `from`.
pub fn transition(c: &mut AnyConnection, id: &str, from: &str, to: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(org_invitations::table.find(id).filter(org_invitations::status.eq(from)))
        .set((
            org_invitations::status.eq(to),
            org_invitations::decided_at.eq(Some(to_db(now))),
            org_invitations::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Owners of the organization.
pub fn owner_count(c: &mut AnyConnection, org_id: &str) -> AppResult<i64> {
    Ok(users::table.filter(users::org_id.eq(org_id)).filter(users::org_role.eq("owner")).count().get_result(c)?)
}

/// Takes the user out of `org_id`; false when they were not in it.
pub fn leave(c: &mut AnyConnection, user_id: &str, org_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::org_id.eq(org_id)))
        .set((users::org_id.eq(None::<String>), users::org_role.eq(None::<String>), users::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}
