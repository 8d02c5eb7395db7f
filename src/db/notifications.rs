//! In-app notifications.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::notifications;
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub read_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub struct NewNotification<'a> {
    pub user_id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
}

pub fn insert(c: &mut AnyConnection, n: &NewNotification<'_>, now: DateTime<Utc>) -> AppResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(uuid::Uuid::new_v4().to_string()),
            notifications::user_id.eq(n.user_id),
            notifications::kind.eq(n.kind),
            notifications::title.eq(n.title),
            notifications::body.eq(n.body),
            notifications::entity_type.eq(n.entity_type),
            notifications::entity_id.eq(n.entity_id),
            notifications::created_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

pub fn list(
    c: &mut AnyConnection,
    user_id: &str,
    unread_only: bool,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<NotificationRow>, i64)> {
    let build = || {
        let mut q = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed();
        if unread_only {
            q = q.filter(notifications::read_at.is_null());
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows =
        build().order((notifications::created_at.desc(), notifications::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Marks one of `user_id`'s notifications read (idempotent); `None` if it is not theirs.
pub fn mark_read(
    c: &mut AnyConnection,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<NotificationRow>> {
    diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(to_db(now)))
    .execute(c)?;
    Ok(notifications::table.find(id).filter(notifications::user_id.eq(user_id)).first(c).optional()?)
}
