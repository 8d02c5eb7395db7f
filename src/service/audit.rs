//! Recording and reading the audit log.

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

/// Appends `change` to the chain in the caller's transaction.
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

pub fn verify(c: &mut AnyConnection, actor: &Actor) -> AppResult<Verification> {
    actor.require_admin()?;
    db::audit::verify(c)
}
