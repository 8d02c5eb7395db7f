//! Recording, sequencing and reading the audit log.

use chrono::{DateTime, Utc};

use crate::db::audit::{AuditRow, NewEntry, Verification};
use crate::db::{self, AnyConnection};
use crate::error::AppResult;

use super::{Actor, Page};

/// One audited change: who did what to which entity, and the status it moved between.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub detail: Option<String>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: &'a str) -> Self {
        Self { action, entity_type, entity_id, from: None, to: None, detail: None }
    }

    pub fn status(mut self, from: Option<&'a str>, to: &'a str) -> Self {
        self.from = from;
        self.to = Some(to);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

/// Records `change` in the caller's transaction. It joins the hash chain when the sequencer
/// next runs (after this transaction commits), so recording takes no lock.
pub fn record(c: &mut AnyConnection, actor_id: Option<&str>, change: Change<'_>, now: DateTime<Utc>) -> AppResult<()> {
    db::audit::append(
        c,
        &NewEntry {
            actor_id,
            action: change.action,
            entity_type: change.entity_type,
            entity_id: change.entity_id,
            from_status: change.from,
            to_status: change.to,
            detail: change.detail.as_deref(),
        },
        now,
    )?;
    Ok(())
}

/// One sequencer pass: chains up to `batch` pending entries and signs the new head.
pub fn sequence(c: &mut AnyConnection, key: &[u8], batch: i64, now: DateTime<Utc>) -> AppResult<usize> {
    db::audit::sequence_pending(c, key, batch, now)
}

/// Entries waiting for the sequencer.
pub fn pending(c: &mut AnyConnection) -> AppResult<i64> {
    db::audit::pending(c)
}

pub fn list(
    c: &mut AnyConnection,
    actor: &Actor,
    entity_type: Option<&str>,
    entity_id: Option<&str>,
    page: Page,
) -> AppResult<(Vec<AuditRow>, i64)> {
    actor.require_admin()?;
    db::audit::list(c, entity_type, entity_id, page.offset(), page.limit())
}

/// Sequences everything pending (so the answer never waits on the sequencer's timer), then
/// re-checks the whole chain against the latest signed checkpoint. Runs in a write
/// transaction; on PostgreSQL it waits its turn behind a running sequencer.
pub fn verify(c: &mut AnyConnection, actor: &Actor, key: &[u8], now: DateTime<Utc>) -> AppResult<Verification> {
    actor.require_admin()?;
    while db::audit::sequence_pending(c, key, 10_000, now)? > 0 {}
    db::audit::verify(c, key)
}
