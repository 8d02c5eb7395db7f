//! Uploaded files and their attachments to workflow records: registering an upload, attaching
//! files to a record (append-only: a new version is a new attachment), required purposes,
//! who may download, and removal of files attached to nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::files::{AttachmentRow, FileRow};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::error::{Arg, DomainError, ErrorCode, Message, Rule, Validator};
use crate::domain::file::{Purpose, RecordType, missing_purposes};
use crate::domain::listing::ListingKind;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::{Actor, new_id};

/// One entry of a record's `attachments: [{file_id, purpose}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRef {
    pub file_id: String,
    pub purpose: Purpose,
}

/// What an upload stored, before it has a row.
pub struct Stored {
    pub id: String,
    pub storage_key: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub purpose: Purpose,
}

/// Where a file's bytes live: one object per file, grouped by upload month.
pub fn storage_key(id: &str, now: DateTime<Utc>) -> String {
    format!("files/{}/{id}", now.format("%Y/%m"))
}

/// Records a completed upload and schedules its removal should it stay unattached.
pub fn register(
    c: &mut AnyConnection,
    actor: &Actor,
    stored: &Stored,
    orphan_after: chrono::Duration,
    now: DateTime<Utc>,
) -> AppResult<FileRow> {
    let row = FileRow {
        id: stored.id.clone(),
        storage_key: stored.storage_key.clone(),
        name: stored.name.clone(),
        size: stored.size,
        content_type: stored.content_type.clone(),
        sha256: stored.sha256.clone(),
        purpose: stored.purpose.as_str().to_owned(),
        uploaded_by: actor.id.clone(),
        org_id: actor.org_id().map(str::to_owned),
        status: "stored".to_owned(),
        created_at: to_db(now),
        attached_at: None,
    };
    db::files::insert_file(c, &row)?;
    jobs::schedule(
        c,
        &Job::DeleteOrphanFile { file_id: row.id.clone() },
        now + orphan_after,
        &format!("orphan:{}", row.id),
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("file.upload", "file", &row.id)
            .status(None, "stored")
            .detail(serde_json::json!({ "sha256": row.sha256, "size": row.size, "purpose": row.purpose })),
        now,
    )?;
    Ok(row)
}

/// Checks `refs` (field errors under `field`, e.g. `attachments`) and attaches them to the
/// record. Only the uploader attaches a file, with the purpose it was uploaded for; the same
/// file twice on one record is attached once.
pub fn attach(
    c: &mut AnyConnection,
    actor: &Actor,
    record: RecordType,
    record_id: &str,
    refs: &[AttachmentRef],
    field: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let mut v = Validator::new();
    v.check(refs.len() <= 50, field, Message::too_many(50));
    let mut files = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let file = db::files::find_file(c, &r.file_id)?.filter(|f| f.status != "deleted" && f.uploaded_by == actor.id);
        match file {
            None => {
                v.add(&format!("{field}[{i}].file_id"), Rule::FileNotYours);
            }
            Some(f) if f.purpose != r.purpose.as_str() => {
                v.add(
                    &format!("{field}[{i}].purpose"),
                    Message::rule(Rule::UploadedAs).arg("purpose", f.purpose.as_str()),
                );
            }
            Some(f) => files.push((f, r.purpose)),
        }
    }
    v.finish()?;
    let mut existing: Vec<String> =
        db::files::attachments_of(c, record.as_str(), record_id)?.into_iter().map(|(a, _)| a.file_id).collect();
    for (file, purpose) in files {
        if existing.contains(&file.id) {
            continue;
        }
        existing.push(file.id.clone());
        if !db::files::mark_attached(c, &file.id, now)? {
            return Err(AppError::field(field, Rule::FileDeleted));
        }
        let row = AttachmentRow {
            id: new_id(),
            file_id: file.id.clone(),
            record_type: record.as_str().to_owned(),
            record_id: record_id.to_owned(),
            purpose: purpose.as_str().to_owned(),
            attached_by: actor.id.clone(),
            created_at: to_db(now),
        };
        db::files::insert_attachment(c, &row)?;
        audit::record(
            c,
            Some(&actor.id),
            Change::new("file.attach", record.as_str(), record_id)
                .detail(serde_json::json!({ "file_id": file.id, "purpose": row.purpose, "sha256": file.sha256 })),
            now,
        )?;
    }
    Ok(())
}

/// A record's attachments with their files, oldest first.
pub fn list(c: &mut AnyConnection, record: RecordType, record_id: &str) -> AppResult<Vec<(AttachmentRow, FileRow)>> {
    db::files::attachments_of(c, record.as_str(), record_id)
}

/// Which records carry required purposes.
#[derive(Debug, Clone, Copy)]
pub enum Requirer {
    VoucherProgram,
    Challenge,
}

impl Requirer {
    fn as_str(self) -> &'static str {
        match self {
            Requirer::VoucherProgram => "voucher_program",
            Requirer::Challenge => "challenge",
        }
    }
}

pub fn set_required(c: &mut AnyConnection, owner: Requirer, id: &str, purposes: &[Purpose]) -> AppResult<()> {
    let mut purposes = purposes.to_vec();
    purposes.sort();
    purposes.dedup();
    let json = serde_json::to_string(&purposes).map_err(AppError::internal)?;
    db::files::set_required(c, owner.as_str(), id, &json)
}

pub fn required(c: &mut AnyConnection, owner: Requirer, id: &str) -> AppResult<Vec<Purpose>> {
    match db::files::required(c, owner.as_str(), id)? {
        Some(json) => serde_json::from_str(&json).map_err(|_| super::corrupt("required purposes", &json)),
        None => Ok(Vec::new()),
    }
}

/// 422 `missing_attachments` naming every required purpose `refs` does not cover.
pub fn require(c: &mut AnyConnection, owner: Requirer, id: &str, refs: &[AttachmentRef]) -> AppResult<()> {
    let required = required(c, owner, id)?;
    let present: Vec<Purpose> = refs.iter().map(|r| r.purpose).collect();
    let missing = missing_purposes(&required, &present);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.as_str()).collect();
    let listed = Arg::List(names.iter().map(|n| (*n).to_owned()).collect());
    let mut err =
        DomainError::new(ErrorCode::MissingAttachments, Message::rule(Rule::MissingAttachment).arg("purpose", listed));
    let each = names.iter().map(|n| Message::rule(Rule::MissingAttachment).arg("purpose", *n)).collect();
    err.errors.insert("attachments".to_owned(), each);
    Err(err.into())
}

/// The file, if `actor` may download it: the uploader, administrators, and whoever may read a
/// record it is attached to at that attachment's visibility. Anyone else: 404.
pub fn readable(c: &mut AnyConnection, actor: Option<&Actor>, file_id: &str, now: DateTime<Utc>) -> AppResult<FileRow> {
    let file = db::files::find_file(c, file_id)?
        .filter(|f| f.status != "deleted")
        .ok_or_else(|| AppError::not_found("file"))?;
    if actor.is_some_and(|a| a.is_admin() || a.id == file.uploaded_by) {
        return Ok(file);
    }
    for a in db::files::attachments_of_file(c, file_id)? {
        let Some(record) = RecordType::parse(&a.record_type) else { continue };
        if may_read(c, actor, record, &a.record_id, now)? {
            return Ok(file);
        }
    }
    Err(AppError::not_found("file"))
}

/// Whether `actor` may read a record's attachments (see `RecordType::visibility`).
pub fn may_read(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    record: RecordType,
    record_id: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if actor.is_some_and(Actor::is_admin) {
        return Ok(true);
    }
    match record {
        RecordType::Achievement => seen(super::listings::get(c, actor, ListingKind::Achievement, record_id)),
        RecordType::Demand => seen(super::listings::get(c, actor, ListingKind::Demand, record_id)),
        RecordType::AchievementConfidential => {
            let Some(actor) = actor else { return Ok(false) };
            super::access::may_read_confidential(c, actor, record_id)
        }
        RecordType::VoucherApplication => {
            let Some(actor) = actor else { return Ok(false) };
            Ok(db::vouchers::find_application(c, record_id)?.is_some_and(|a| actor.is_member_of(&a.enterprise_id)))
        }
        RecordType::VoucherRedemption => {
            let Some(actor) = actor else { return Ok(false) };
            seen(super::vouchers::get_redemption(c, actor, record_id))
        }
        RecordType::Bid => {
            let Some(actor) = actor else { return Ok(false) };
            bid_reviewable(c, actor, record_id, now)
        }
        RecordType::MilestoneDelivery => {
            let Some(actor) = actor else { return Ok(false) };
            match progress_bid(c, record_id)? {
                Some(bid_id) => bid_reviewable(c, actor, &bid_id, now),
                None => Ok(false),
            }
        }
        RecordType::Contract => {
            let Some(actor) = actor else { return Ok(false) };
            seen(super::contracts::get(c, actor, record_id))
        }
        RecordType::Registration => {
            let Some(actor) = actor else { return Ok(false) };
            super::registrations::may_read(c, actor, record_id)
        }
        // Evidence of integrity cases is for administrators only.
        RecordType::IntegrityRecord => Ok(false),
    }
}

fn seen<T>(outcome: AppResult<T>) -> AppResult<bool> {
    match outcome {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Forbidden) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whoever sees the bid in the challenge's bid list: the bidding team, the issuer after the
/// deadline, assigned experts (and administrators).
fn bid_reviewable(c: &mut AnyConnection, actor: &Actor, bid_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let Some(bid) = db::challenges::find_bid(c, bid_id)? else { return Ok(false) };
    match super::challenges::bids(c, actor, &bid.challenge_id, now) {
        Ok(bids) => Ok(bids.iter().any(|b| b.id == bid.id)),
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Forbidden) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The milestone delivery (progress row) of a bid: its id, for attachments.
pub fn delivery_id(c: &mut AnyConnection, milestone_id: &str, bid_id: &str) -> AppResult<Option<String>> {
    use crate::db::schema::milestone_progress as mp;
    Ok(mp::table
        .filter(mp::milestone_id.eq(milestone_id))
        .filter(mp::bid_id.eq(bid_id))
        .select(mp::id)
        .first(c)
        .optional()?)
}

fn progress_bid(c: &mut AnyConnection, progress_id: &str) -> AppResult<Option<String>> {
    use crate::db::schema::milestone_progress as mp;
    Ok(mp::table.find(progress_id).select(mp::bid_id).first(c).optional()?)
}

/// The uploader removes a file attached to nothing. Returns the storage key to delete.
pub fn delete(c: &mut AnyConnection, actor: &Actor, file_id: &str, now: DateTime<Utc>) -> AppResult<String> {
    let file = db::files::find_file(c, file_id)?
        .filter(|f| f.status != "deleted" && f.uploaded_by == actor.id)
        .ok_or_else(|| AppError::not_found("file"))?;
    if !db::files::claim_for_deletion(c, file_id, Some(&actor.id), None)? {
        return Err(DomainError::transition("file", &file.status, "delete").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("file.delete", "file", file_id).status(Some("stored"), "deleted"),
        now,
    )?;
    Ok(file.storage_key)
}

/// The orphan job: a file still attached to nothing when its time is up is marked deleted;
/// returns its storage key (also when an earlier run marked it but did not finish).
pub fn claim_orphan(
    c: &mut AnyConnection,
    file_id: &str,
    orphan_after: chrono::Duration,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let Some(file) = db::files::find_file(c, file_id)? else { return Ok(None) };
    match file.status.as_str() {
        "deleted" => Ok(Some(file.storage_key)),
        "stored" if db::files::claim_for_deletion(c, file_id, None, Some(now - orphan_after))? => {
            audit::record(
                c,
                None,
                Change::new("file.orphan_delete", "file", file_id).status(Some("stored"), "deleted"),
                now,
            )?;
            Ok(Some(file.storage_key))
        }
        _ => Ok(None),
    }
}
