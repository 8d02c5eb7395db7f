//! Queries on connections and their message threads.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{connection_messages as msgs, connections};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct ConnectionRow {
    pub id: String,
    pub listing_id: String,
    pub listing_kind: String,
    pub listing_org_id: String,
    pub requester_org_id: String,
    pub requester_user_id: String,
    pub message: String,
    pub status: String,
    pub decline_reason_code: Option<String>,
    pub decline_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    /// The 技术经理人 (broker profile) a party invited, if any.
    pub broker_id: Option<String>,
    pub broker_invited_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = connections)]
pub struct NewConnection<'a> {
    pub id: &'a str,
    pub listing_id: &'a str,
    pub listing_kind: &'a str,
    pub listing_org_id: &'a str,
    pub requester_org_id: &'a str,
    pub requester_user_id: &'a str,
    pub message: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, row: &NewConnection<'_>) -> QueryResult<usize> {
    diesel::insert_into(connections::table).values(row).execute(c)
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<ConnectionRow>> {
    Ok(connections::table.find(id).first(c).optional()?)
}

pub fn live_exists(c: &mut AnyConnection, requester_org_id: &str, listing_id: &str) -> AppResult<bool> {
    let n: i64 = connections::table
        .filter(connections::requester_org_id.eq(requester_org_id))
        .filter(connections::listing_id.eq(listing_id))
        .filter(connections::status.eq_any(["requested", "accepted"]))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Guarded status change; false when the connection was no longer in `from`.
pub fn transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<(&str, Option<&str>)>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let target = connections::table.find(id).filter(connections::status.eq(from));
    let n = match reason {
        Some((code, text)) => diesel::update(target)
            .set((
                connections::status.eq(to),
                connections::decline_reason_code.eq(code),
                connections::decline_reason.eq(text),
                connections::responded_at.eq(to_db(now)),
                connections::updated_at.eq(to_db(now)),
            ))
            .execute(c)?,
        None if to == "accepted" => diesel::update(target)
            .set((
                connections::status.eq(to),
                connections::responded_at.eq(to_db(now)),
                connections::updated_at.eq(to_db(now)),
            ))
            .execute(c)?,
        None => diesel::update(target)
            .set((connections::status.eq(to), connections::updated_at.eq(to_db(now))))
            .execute(c)?,
    };
    Ok(n == 1)
}

/// Sets (or replaces) the broker of a live connection; false when the connection is no longer
/// `requested` or `accepted`.
pub fn set_broker(c: &mut AnyConnection, id: &str, broker_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(connections::table.find(id).filter(connections::status.eq_any(["requested", "accepted"])))
        .set((
            connections::broker_id.eq(broker_id),
            connections::broker_invited_at.eq(to_db(now)),
            connections::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Which side of a connection an organization is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sent,
    Received,
    Either,
}

pub fn list(
    c: &mut AnyConnection,
    org_id: &str,
    side: Side,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<ConnectionRow>, i64)> {
    let build = || {
        let mut q = connections::table.into_boxed();
        q = match side {
            Side::Sent => q.filter(connections::requester_org_id.eq(org_id)),
            Side::Received => q.filter(connections::listing_org_id.eq(org_id)),
            Side::Either => {
                q.filter(connections::requester_org_id.eq(org_id).or(connections::listing_org_id.eq(org_id)))
            }
        };
        if let Some(s) = status {
            q = q.filter(connections::status.eq(s));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((connections::created_at.desc(), connections::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// The connections the broker profile `broker_id` is invited to, newest first.
pub fn list_brokered(
    c: &mut AnyConnection,
    broker_id: &str,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<ConnectionRow>, i64)> {
    let build = || {
        let mut q = connections::table.filter(connections::broker_id.eq(broker_id)).into_boxed();
        if let Some(s) = status {
            q = q.filter(connections::status.eq(s));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((connections::created_at.desc(), connections::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable)]
pub struct MessageRow {
    pub id: String,
    pub connection_id: String,
    pub author_user_id: String,
    pub author_org_id: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn add_message(
    c: &mut AnyConnection,
    connection_id: &str,
    author_user_id: &str,
    author_org_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(msgs::table)
        .values((
            msgs::id.eq(&id),
            msgs::connection_id.eq(connection_id),
            msgs::author_user_id.eq(author_user_id),
            msgs::author_org_id.eq(author_org_id),
            msgs::body.eq(body),
            msgs::created_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(id)
}

pub fn messages(
    c: &mut AnyConnection,
    connection_id: &str,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<MessageRow>, i64)> {
    let total = msgs::table.filter(msgs::connection_id.eq(connection_id)).count().get_result(c)?;
    let rows = msgs::table
        .filter(msgs::connection_id.eq(connection_id))
        .order((msgs::created_at, msgs::id))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    Ok((rows, total))
}

pub fn find_message(c: &mut AnyConnection, id: &str) -> AppResult<Option<MessageRow>> {
    Ok(msgs::table.find(id).first(c).optional()?)
}
