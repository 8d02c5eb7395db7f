//! Integrity records.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::integrity_records as ir;
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct IntegrityRow {
    pub id: String,
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    pub severity: String,
    pub reason: String,
    pub expires_at: Option<NaiveDateTime>,
    pub lifted_at: Option<NaiveDateTime>,
    pub lift_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = ir)]
pub struct NewRecord<'a> {
    pub id: &'a str,
    pub org_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub severity: &'a str,
    pub reason: &'a str,
    pub expires_at: Option<NaiveDateTime>,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, r: &NewRecord<'_>) -> AppResult<()> {
    diesel::insert_into(ir::table).values(r).execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<IntegrityRow>> {
    Ok(ir::table.find(id).first(c).optional()?)
}

/// Records not lifted on any of these organizations.
pub fn unlifted_for_orgs(c: &mut AnyConnection, org_ids: &[String]) -> AppResult<Vec<IntegrityRow>> {
    Ok(ir::table.filter(ir::lifted_at.is_null()).filter(ir::org_id.eq_any(org_ids)).load(c)?)
}

/// Records not lifted on the organization or on the user (candidates for being in force).
pub fn unlifted_for(
    c: &mut AnyConnection,
    org_id: Option<&str>,
    user_id: Option<&str>,
) -> AppResult<Vec<IntegrityRow>> {
    let mut q = ir::table.filter(ir::lifted_at.is_null()).into_boxed();
    q = match (org_id, user_id) {
        (Some(o), Some(u)) => q.filter(ir::org_id.eq(o).or(ir::user_id.eq(u))),
        (Some(o), None) => q.filter(ir::org_id.eq(o)),
        (None, Some(u)) => q.filter(ir::user_id.eq(u)),
        (None, None) => return Ok(Vec::new()),
    };
    Ok(q.load(c)?)
}

pub fn list(
    c: &mut AnyConnection,
    org_id: Option<&str>,
    user_id: Option<&str>,
    active_at: Option<DateTime<Utc>>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<IntegrityRow>, i64)> {
    let build = || {
        let mut q = ir::table.into_boxed();
        if let Some(o) = org_id {
            q = q.filter(ir::org_id.eq(o));
        }
        if let Some(u) = user_id {
            q = q.filter(ir::user_id.eq(u));
        }
        if let Some(now) = active_at {
            q = q.filter(ir::lifted_at.is_null()).filter(ir::expires_at.is_null().or(ir::expires_at.gt(to_db(now))));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((ir::created_at.desc(), ir::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Lifts a record that is not lifted yet; false otherwise.
pub fn lift(c: &mut AnyConnection, id: &str, reason: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(ir::table.find(id).filter(ir::lifted_at.is_null()))
        .set((ir::lifted_at.eq(to_db(now)), ir::lift_reason.eq(reason)))
        .execute(c)?;
    Ok(n == 1)
}
