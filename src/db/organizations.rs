//! Queries on organizations.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::organizations;
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub region: String,
    pub description: String,
    pub enterprise_scale: Option<String>,
    pub service_categories: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub status: String,
    pub reject_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub verified_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrg<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub credit_code: &'a str,
    pub region: &'a str,
    pub description: &'a str,
    pub enterprise_scale: Option<&'a str>,
    pub service_categories: &'a str,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub status: &'a str,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, org: &NewOrg<'_>) -> QueryResult<usize> {
    diesel::insert_into(organizations::table).values(org).execute(c)
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<OrgRow>> {
    Ok(organizations::table.find(id).first(c).optional()?)
}

pub fn find_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<OrgRow>> {
    Ok(organizations::table.filter(organizations::id.eq_any(ids)).load(c)?)
}

/// Guarded status change; false when the organization was not in `from`.
pub fn transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let verified_at = (to == "verified").then(|| to_db(now));
    let n = diesel::update(organizations::table.find(id).filter(organizations::status.eq(from)))
        .set((
            organizations::status.eq(to),
            organizations::reject_reason.eq(reason),
            organizations::verified_at.eq(verified_at),
            organizations::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

pub struct OrgFilter<'a> {
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
    pub q: Option<&'a str>,
}

pub fn list(c: &mut AnyConnection, f: &OrgFilter<'_>, offset: i64, limit: i64) -> AppResult<(Vec<OrgRow>, i64)> {
    let build = || {
        let mut q = organizations::table.into_boxed();
        if let Some(kind) = f.kind {
            q = q.filter(organizations::kind.eq(kind));
        }
        if let Some(status) = f.status {
            q = q.filter(organizations::status.eq(status));
        }
        if let Some(text) = f.q {
            q = q.filter(organizations::name.like(super::like_pattern(text)).escape('\\'));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows =
        build().order((organizations::created_at.desc(), organizations::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}
