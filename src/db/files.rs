//! Files, attachments, required purposes, confidential detail and access requests.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{
    access_requests as ar, achievement_confidential as ac, attachments as at, files as f, required_purposes as rp,
};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = f)]
pub struct FileRow {
    pub id: String,
    pub storage_key: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub purpose: String,
    pub uploaded_by: String,
    pub org_id: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub attached_at: Option<NaiveDateTime>,
}

pub fn insert_file(c: &mut AnyConnection, row: &FileRow) -> AppResult<()> {
    diesel::insert_into(f::table).values(row).execute(c)?;
    Ok(())
}

pub fn find_file(c: &mut AnyConnection, id: &str) -> AppResult<Option<FileRow>> {
    Ok(f::table.find(id).first(c).optional()?)
}

/// Marks a live file attached (guarded: a file being deleted cannot be attached).
pub fn mark_attached(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(f::table.filter(f::id.eq(id)).filter(f::status.eq_any(["stored", "attached"])))
        .set((f::status.eq("attached"), f::attached_at.eq(Some(to_db(now)))))
        .execute(c)?;
    Ok(n == 1)
}

/// Moves an unattached file to `deleted` if it was uploaded at or before `uploaded_before`
/// (and, when given, by `uploader`). The bytes are removed afterwards.
pub fn claim_for_deletion(
    c: &mut AnyConnection,
    id: &str,
    uploader: Option<&str>,
    uploaded_before: Option<DateTime<Utc>>,
) -> AppResult<bool> {
    let mut q = diesel::update(f::table).filter(f::id.eq(id)).filter(f::status.eq("stored")).into_boxed();
    if let Some(u) = uploader {
        q = q.filter(f::uploaded_by.eq(u.to_owned()));
    }
    if let Some(t) = uploaded_before {
        q = q.filter(f::created_at.le(to_db(t)));
    }
    Ok(q.set(f::status.eq("deleted")).execute(c)? == 1)
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = at)]
pub struct AttachmentRow {
    pub id: String,
    pub file_id: String,
    pub record_type: String,
    pub record_id: String,
    pub purpose: String,
    pub attached_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_attachment(c: &mut AnyConnection, row: &AttachmentRow) -> AppResult<()> {
    diesel::insert_into(at::table).values(row).execute(c)?;
    Ok(())
}

/// A record's attachments with their files, oldest first.
pub fn attachments_of(
    c: &mut AnyConnection,
    record_type: &str,
    record_id: &str,
) -> AppResult<Vec<(AttachmentRow, FileRow)>> {
    Ok(at::table
        .inner_join(f::table)
        .filter(at::record_type.eq(record_type))
        .filter(at::record_id.eq(record_id))
        .order((at::created_at.asc(), at::id.asc()))
        .select((at::all_columns, f::all_columns))
        .load(c)?)
}

/// Every record a file is attached to.
pub fn attachments_of_file(c: &mut AnyConnection, file_id: &str) -> AppResult<Vec<AttachmentRow>> {
    Ok(at::table.filter(at::file_id.eq(file_id)).order(at::created_at.asc()).load(c)?)
}

pub fn set_required(c: &mut AnyConnection, record_type: &str, record_id: &str, purposes: &str) -> AppResult<()> {
    diesel::delete(rp::table.filter(rp::record_type.eq(record_type)).filter(rp::record_id.eq(record_id))).execute(c)?;
    diesel::insert_into(rp::table)
        .values((rp::record_type.eq(record_type), rp::record_id.eq(record_id), rp::purposes.eq(purposes)))
        .execute(c)?;
    Ok(())
}

pub fn required(c: &mut AnyConnection, record_type: &str, record_id: &str) -> AppResult<Option<String>> {
    Ok(rp::table
        .filter(rp::record_type.eq(record_type))
        .filter(rp::record_id.eq(record_id))
        .select(rp::purposes)
        .first(c)
        .optional()?)
}

pub fn confidential_text(c: &mut AnyConnection, achievement_id: &str) -> AppResult<Option<String>> {
    Ok(ac::table.find(achievement_id).select(ac::text).first(c).optional()?)
}

pub fn set_confidential_text(
    c: &mut AnyConnection,
    achievement_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let n = diesel::update(ac::table.find(achievement_id))
        .set((ac::text.eq(text), ac::updated_at.eq(to_db(now))))
        .execute(c)?;
    if n == 0 {
        diesel::insert_into(ac::table)
            .values((ac::achievement_id.eq(achievement_id), ac::text.eq(text), ac::updated_at.eq(to_db(now))))
            .execute(c)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ar)]
pub struct AccessRequestRow {
    pub id: String,
    pub achievement_id: String,
    pub org_id: String,
    pub requested_by: String,
    pub message: String,
    pub status: String,
    pub nda_text: Option<String>,
    pub nda_version: Option<String>,
    pub nda_sha256: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a request; a unique violation means the organization already has a live one.
pub fn insert_access_request(c: &mut AnyConnection, row: &AccessRequestRow) -> QueryResult<usize> {
    diesel::insert_into(ar::table).values(row).execute(c)
}

pub fn find_access_request(c: &mut AnyConnection, id: &str) -> AppResult<Option<AccessRequestRow>> {
    Ok(ar::table.find(id).first(c).optional()?)
}

pub fn access_requests_of(c: &mut AnyConnection, achievement_id: &str) -> AppResult<Vec<AccessRequestRow>> {
    Ok(ar::table.filter(ar::achievement_id.eq(achievement_id)).order((ar::created_at.asc(), ar::id.asc())).load(c)?)
}

/// Whether `org_id` holds an accepted NDA for the achievement.
pub fn is_nda_holder(c: &mut AnyConnection, achievement_id: &str, org_id: &str) -> AppResult<bool> {
    let n: i64 = ar::table
        .filter(ar::achievement_id.eq(achievement_id))
        .filter(ar::org_id.eq(org_id))
        .filter(ar::status.eq("active"))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// What a guarded status change writes besides the status.
#[derive(Default)]
pub struct AccessChange<'a> {
    pub nda: Option<(&'a str, &'a str, &'a str)>,
    pub decided_by: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub accepted_by: Option<&'a str>,
}

/// Moves a request from `from` to `to`; false when it was no longer in `from`.
pub fn transition_access_request(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    change: &AccessChange<'_>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let target = ar::table.filter(ar::id.eq(id)).filter(ar::status.eq(from));
    let now = to_db(now);
    let mut n = diesel::update(target).set((ar::status.eq(to), ar::updated_at.eq(now))).execute(c)?;
    if n == 1 {
        if let Some((text, version, sha)) = change.nda {
            diesel::update(ar::table.find(id))
                .set((ar::nda_text.eq(Some(text)), ar::nda_version.eq(Some(version)), ar::nda_sha256.eq(Some(sha))))
                .execute(c)?;
        }
        if let Some(by) = change.decided_by {
            diesel::update(ar::table.find(id))
                .set((ar::decided_by.eq(Some(by)), ar::decided_at.eq(Some(now)), ar::reason.eq(change.reason)))
                .execute(c)?;
        }
        if let Some(by) = change.accepted_by {
            n = diesel::update(ar::table.find(id))
                .set((ar::accepted_by.eq(Some(by)), ar::accepted_at.eq(Some(now))))
                .execute(c)?;
        }
    }
    Ok(n == 1)
}
