//! The hash-chained audit log. Appends are serialized (PostgreSQL: a transaction-scoped
//! advisory lock; SQLite: the single writer), so the chain never forks.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::audit_log;
use super::time::to_db;
use crate::domain::audit::{EntryContent, GENESIS, entry_hash};
use crate::error::AppResult;

/// Key of the advisory lock that serializes audit appends on PostgreSQL.
const AUDIT_LOCK_KEY: i64 = 0x0074_7461_7564_6974; // "ttaudit"

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub seq: i64,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
    pub at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

/// What a caller records; the chain fields are computed here.
pub struct NewEntry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Canonical time text covered by the hash.
pub fn at_text(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn append(c: &mut AnyConnection, e: &NewEntry<'_>, now: DateTime<Utc>) -> AppResult<i64> {
    if let AnyConnection::Postgresql(pg) = c {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")).execute(pg)?;
    }
    let last: Option<(i64, String)> =
        audit_log::table.order(audit_log::seq.desc()).select((audit_log::seq, audit_log::hash)).first(c).optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = to_db(now);
    let at_str = at_text(at);
    let hash = entry_hash(
        &prev_hash,
        &EntryContent {
            seq,
            actor_id: e.actor_id,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            from_status: e.from_status,
            to_status: e.to_status,
            detail: e.detail,
            at: &at_str,
        },
    );
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(seq),
            audit_log::actor_id.eq(e.actor_id),
            audit_log::action.eq(e.action),
            audit_log::entity_type.eq(e.entity_type),
            audit_log::entity_id.eq(e.entity_id),
            audit_log::from_status.eq(e.from_status),
            audit_log::to_status.eq(e.to_status),
            audit_log::detail.eq(e.detail),
            audit_log::at.eq(at),
            audit_log::prev_hash.eq(&prev_hash),
            audit_log::hash.eq(&hash),
        ))
        .execute(c)?;
    Ok(seq)
}

pub fn list(
    c: &mut AnyConnection,
    entity_type: Option<&str>,
    entity_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<AuditRow>, i64)> {
    let build = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(t) = entity_type {
            q = q.filter(audit_log::entity_type.eq(t));
        }
        if let Some(id) = entity_id {
            q = q.filter(audit_log::entity_id.eq(id));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order(audit_log::seq.desc()).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Outcome of re-checking the chain.
pub struct Verification {
    pub entries: i64,
    /// First entry whose hash, link or sequence does not check out.
    pub broken_at: Option<i64>,
}

/// Walks the whole chain in order, in pages, recomputing every hash.
pub fn verify(c: &mut AnyConnection) -> AppResult<Verification> {
    let mut prev_hash = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut entries = 0;
    loop {
        let page: Vec<AuditRow> =
            audit_log::table.filter(audit_log::seq.ge(expected_seq)).order(audit_log::seq).limit(5_000).load(c)?;
        if page.is_empty() {
            return Ok(Verification { entries, broken_at: None });
        }
        for row in page {
            entries += 1;
            let recomputed = entry_hash(
                &prev_hash,
                &EntryContent {
                    seq: row.seq,
                    actor_id: row.actor_id.as_deref(),
                    action: &row.action,
                    entity_type: &row.entity_type,
                    entity_id: &row.entity_id,
                    from_status: row.from_status.as_deref(),
                    to_status: row.to_status.as_deref(),
                    detail: row.detail.as_deref(),
                    at: &at_text(row.at),
                },
            );
            if row.seq != expected_seq || row.prev_hash != prev_hash || row.hash != recomputed {
                return Ok(Verification { entries, broken_at: Some(row.seq.min(expected_seq)) });
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
    }
}
