//! The hash-chained audit log, sequenced after commit.
//!
//! A business transaction only inserts its entry (`seq`, `prev_hash` and `hash` null): no
//! lock, so writers never wait on each other for the log. The sequencer ([`sequence_pending`],
//! one at a time: an advisory lock on PostgreSQL that nothing else takes, the single writer
//! on SQLite) takes committed entries in insertion order, assigns the next `seq` and the chain
//! hash, and records a signed checkpoint of the chain's size and head, so rewriting or
//! truncating the newest entries is detected as well.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{audit_checkpoints, audit_log};
use super::time::to_db;
use crate::domain::audit::{Checkpoint, EntryContent, GENESIS, entry_hash};
use crate::error::AppResult;

/// Key of the advisory lock only the sequencer takes (PostgreSQL).
const SEQUENCER_LOCK_KEY: i64 = 0x0074_7461_7564_6974; // "ttaudit"

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: String,
    pub seq: Option<i64>,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
    pub at: NaiveDateTime,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    pub sequenced_at: Option<NaiveDateTime>,
}

impl AuditRow {
    fn content<'a>(&'a self, seq: i64, at: &'a str) -> EntryContent<'a> {
        EntryContent {
            seq,
            actor_id: self.actor_id.as_deref(),
            action: &self.action,
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            from_status: self.from_status.as_deref(),
            to_status: self.to_status.as_deref(),
            detail: self.detail.as_deref(),
            at,
        }
    }
}

/// What a caller records; the chain fields are added by the sequencer.
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

/// Inserts an unsequenced entry in the caller's transaction; returns its id.
pub fn append(c: &mut AnyConnection, e: &NewEntry<'_>, now: DateTime<Utc>) -> AppResult<String> {
    // Time-ordered ids: the sequencer's order follows insertion within a timestamp.
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(&id),
            audit_log::actor_id.eq(e.actor_id),
            audit_log::action.eq(e.action),
            audit_log::entity_type.eq(e.entity_type),
            audit_log::entity_id.eq(e.entity_id),
            audit_log::from_status.eq(e.from_status),
            audit_log::to_status.eq(e.to_status),
            audit_log::detail.eq(e.detail),
            audit_log::at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(id)
}

/// Entries, sequenced ones newest first, then those not sequenced yet (newest first).
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
    // `seq IS NULL` first: the newest, still unsequenced entries lead the page.
    let rows = build()
        .order((audit_log::seq.is_null().desc(), audit_log::seq.desc(), audit_log::at.desc(), audit_log::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    Ok((rows, total))
}

/// Entries not sequenced yet.
pub fn pending(c: &mut AnyConnection) -> AppResult<i64> {
    Ok(audit_log::table.filter(audit_log::seq.is_null()).count().get_result(c)?)
}

/// When the oldest unsequenced entry was written.
pub fn oldest_pending_at(c: &mut AnyConnection) -> AppResult<Option<NaiveDateTime>> {
    Ok(audit_log::table
        .filter(audit_log::seq.is_null())
        .order((audit_log::at, audit_log::id))
        .select(audit_log::at)
        .first(c)
        .optional()?)
}

/// Chains up to `batch` committed, unsequenced entries (oldest first) onto the head and signs
/// a checkpoint of the new head. Run inside a write transaction; returns how many it chained.
pub fn sequence_pending(c: &mut AnyConnection, key: &[u8], batch: i64, now: DateTime<Utc>) -> AppResult<usize> {
    if let AnyConnection::Postgresql(pg) = c {
        // Only sequencers take this lock, and first in their transaction: it orders them and
        // can never wait on (or be waited on by) a business transaction's row locks.
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK_KEY})")).execute(pg)?;
    }
    let next: Vec<AuditRow> =
        audit_log::table.filter(audit_log::seq.is_null()).order((audit_log::at, audit_log::id)).limit(batch).load(c)?;
    if next.is_empty() {
        return Ok(0);
    }
    let head: Option<(Option<i64>, Option<String>)> = audit_log::table
        .filter(audit_log::seq.is_not_null())
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first(c)
        .optional()?;
    let (mut seq, mut prev_hash) = match head {
        Some((Some(seq), Some(hash))) => (seq, hash),
        _ => (0, GENESIS.to_owned()),
    };
    let sequenced_at = to_db(now);
    for row in &next {
        seq += 1;
        let hash = entry_hash(&prev_hash, &row.content(seq, &at_text(row.at)));
        diesel::update(audit_log::table.find(&row.id).filter(audit_log::seq.is_null()))
            .set((
                audit_log::seq.eq(seq),
                audit_log::prev_hash.eq(&prev_hash),
                audit_log::hash.eq(&hash),
                audit_log::sequenced_at.eq(sequenced_at),
            ))
            .execute(c)?;
        prev_hash = hash;
    }
    let checkpoint = Checkpoint::sign(key, seq, &prev_hash, &at_text(sequenced_at));
    diesel::insert_into(audit_checkpoints::table)
        .values((
            audit_checkpoints::size.eq(checkpoint.size),
            audit_checkpoints::head.eq(&checkpoint.head),
            audit_checkpoints::at.eq(sequenced_at),
            audit_checkpoints::signature.eq(&checkpoint.signature),
        ))
        .execute(c)?;
    Ok(next.len())
}

/// The most recent signed checkpoint.
pub fn latest_checkpoint(c: &mut AnyConnection) -> AppResult<Option<(Checkpoint, NaiveDateTime)>> {
    let row: Option<(i64, String, NaiveDateTime, String)> = audit_checkpoints::table
        .order(audit_checkpoints::size.desc())
        .select((audit_checkpoints::size, audit_checkpoints::head, audit_checkpoints::at, audit_checkpoints::signature))
        .first(c)
        .optional()?;
    Ok(row.map(|(size, head, at, signature)| (Checkpoint { size, head, signature }, at)))
}

/// The longest time an entry waited between insertion and sequencing, in milliseconds.
pub fn max_sequencing_lag_ms(c: &mut AnyConnection) -> AppResult<i64> {
    let mut max = 0;
    let mut after: Option<i64> = None;
    loop {
        let mut q = audit_log::table
            .filter(audit_log::seq.is_not_null())
            .select((audit_log::seq, audit_log::at, audit_log::sequenced_at))
            .order(audit_log::seq)
            .limit(10_000)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(audit_log::seq.gt(after));
        }
        let page: Vec<(Option<i64>, NaiveDateTime, Option<NaiveDateTime>)> = q.load(c)?;
        let Some(last) = page.last() else { return Ok(max) };
        after = last.0;
        for (_, at, sequenced_at) in &page {
            if let Some(done) = sequenced_at {
                max = max.max((*done - *at).num_milliseconds());
            }
        }
    }
}

/// Outcome of re-checking the chain.
pub struct Verification {
    /// Sequenced entries checked.
    pub entries: i64,
    /// Entries still waiting for the sequencer.
    pub pending: i64,
    /// First `seq` whose hash, link or position does not check out, or where the chain stops
    /// short of the latest checkpoint.
    pub broken_at: Option<i64>,
    /// The latest checkpoint and whether its signature and head matched the chain.
    pub checkpoint: Option<(Checkpoint, NaiveDateTime)>,
    pub checkpoint_ok: bool,
}

/// Walks the whole sequenced chain in order, in pages, recomputing every hash, then checks it
/// against the latest signed checkpoint (its signature, and the chain's hash at its size).
pub fn verify(c: &mut AnyConnection, key: &[u8]) -> AppResult<Verification> {
    let checkpoint = latest_checkpoint(c)?;
    let mut prev_hash = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut entries = 0;
    let mut broken_at = None;
    let mut hash_at_checkpoint = None;
    'pages: loop {
        let page: Vec<AuditRow> =
            audit_log::table.filter(audit_log::seq.ge(expected_seq)).order(audit_log::seq).limit(5_000).load(c)?;
        if page.is_empty() {
            break;
        }
        for row in page {
            entries += 1;
            let seq = row.seq.unwrap_or(0);
            let recomputed = entry_hash(&prev_hash, &row.content(seq, &at_text(row.at)));
            if seq != expected_seq
                || row.prev_hash.as_deref() != Some(prev_hash.as_str())
                || row.hash.as_deref() != Some(recomputed.as_str())
            {
                broken_at = Some(seq.min(expected_seq));
                break 'pages;
            }
            if checkpoint.as_ref().is_some_and(|(cp, _)| cp.size == seq) {
                hash_at_checkpoint = Some(recomputed.clone());
            }
            prev_hash = recomputed;
            expected_seq += 1;
        }
    }
    let checkpoint_ok = match &checkpoint {
        None => true,
        Some((cp, at)) => {
            let signed = cp.verify(key, &at_text(*at));
            let reaches = hash_at_checkpoint.as_deref() == Some(cp.head.as_str());
            if broken_at.is_none() && !reaches {
                // The chain is shorter than the checkpoint says, or its head was rewritten.
                broken_at = Some(expected_seq.min(cp.size));
            }
            signed && reaches
        }
    };
    Ok(Verification { entries, pending: pending(c)?, broken_at, checkpoint, checkpoint_ok })
}
