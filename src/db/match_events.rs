//! Queries on `match_events`: impressions written in batches, outcomes written in the
//! transaction of the connection they describe, and the aggregates the online report reads.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::AnyConnection;
use super::schema::match_events as me;
use super::time::to_db;
use crate::domain::match_event::{MatchEventKind, MatchMode};
use crate::error::AppResult;

/// One listing shown in one match list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impression {
    /// The organization that looked.
    pub org_id: String,
    /// The listing whose matches were shown.
    pub source_listing_id: String,
    /// The match.
    pub listing_id: String,
    /// 1-based.
    pub rank: i32,
    pub mode: MatchMode,
    pub at: DateTime<Utc>,
}

/// Where a request came from: the match list that showed the listing, if any.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Attribution {
    pub source_listing_id: Option<String>,
    pub rank: Option<i32>,
    pub mode: Option<String>,
}

impl Attribution {
    pub const NONE: Attribution = Attribution { source_listing_id: None, rank: None, mode: None };
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Writes a batch of impressions (one statement per row: the two backends share no batch
/// insert through `AnyConnection`; the caller wraps them in one transaction).
pub fn insert_shown(c: &mut AnyConnection, batch: &[Impression]) -> AppResult<()> {
    for i in batch {
        diesel::insert_into(me::table)
            .values((
                me::id.eq(new_id()),
                me::kind.eq(MatchEventKind::Shown.as_str()),
                me::org_id.eq(&i.org_id),
                me::source_listing_id.eq(Some(&i.source_listing_id)),
                me::listing_id.eq(&i.listing_id),
                me::rank.eq(Some(i.rank)),
                me::mode.eq(Some(i.mode.as_str())),
                me::created_at.eq(to_db(i.at)),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// The latest impression of `listing_id` to `org_id` at or after `since`.
pub fn latest_impression(
    c: &mut AnyConnection,
    org_id: &str,
    listing_id: &str,
    since: DateTime<Utc>,
) -> AppResult<Option<Attribution>> {
    Ok(me::table
        .filter(me::listing_id.eq(listing_id))
        .filter(me::org_id.eq(org_id))
        .filter(me::kind.eq(MatchEventKind::Shown.as_str()))
        .filter(me::created_at.ge(to_db(since)))
        .order(me::created_at.desc())
        .select((me::source_listing_id, me::rank, me::mode))
        .first(c)
        .optional()?)
}

/// The attribution recorded with a connection's request (`None` for connections older than
/// the event log).
pub fn request_of(c: &mut AnyConnection, connection_id: &str) -> AppResult<Option<(String, String, Attribution)>> {
    Ok(me::table
        .filter(me::connection_id.eq(connection_id))
        .filter(me::kind.eq(MatchEventKind::Requested.as_str()))
        .select((me::org_id, me::listing_id, (me::source_listing_id, me::rank, me::mode)))
        .first(c)
        .optional()?)
}

/// One event about a connection.
pub struct Outcome<'a> {
    pub kind: MatchEventKind,
    pub org_id: &'a str,
    pub listing_id: &'a str,
    pub connection_id: &'a str,
    pub attribution: &'a Attribution,
    pub reason: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub fn insert_outcome(c: &mut AnyConnection, o: &Outcome<'_>) -> AppResult<()> {
    diesel::insert_into(me::table)
        .values((
            me::id.eq(new_id()),
            me::kind.eq(o.kind.as_str()),
            me::org_id.eq(o.org_id),
            me::source_listing_id.eq(o.attribution.source_listing_id.as_deref()),
            me::listing_id.eq(o.listing_id),
            me::rank.eq(o.attribution.rank),
            me::mode.eq(o.attribution.mode.as_deref()),
            me::connection_id.eq(Some(o.connection_id)),
            me::reason.eq(o.reason),
            me::created_at.eq(to_db(o.at)),
        ))
        .execute(c)?;
    Ok(())
}

/// Distinct impressions of one (rank, mode).
#[derive(Debug, Queryable)]
pub struct ShownCount {
    pub rank: Option<i32>,
    pub mode: Option<String>,
    pub n: i64,
}

/// Distinct impressions per (rank, mode) in `[from, to)`: an organization seeing the same match
/// for the same listing twice counts once.
pub fn impressions(c: &mut AnyConnection, from: NaiveDateTime, to: NaiveDateTime) -> AppResult<Vec<ShownCount>> {
    Ok(me::table
        .filter(me::kind.eq(MatchEventKind::Shown.as_str()))
        .filter(me::created_at.ge(from))
        .filter(me::created_at.lt(to))
        .group_by((me::rank, me::mode))
        .select((
            me::rank,
            me::mode,
            sql::<BigInt>("COUNT(DISTINCT org_id || '|' || source_listing_id || '|' || listing_id)"),
        ))
        .load(c)?)
}

/// Outcome events of one (kind, rank, mode, reason).
#[derive(Debug, Queryable)]
pub struct OutcomeCount {
    pub kind: String,
    pub rank: Option<i32>,
    pub mode: Option<String>,
    pub reason: Option<String>,
    pub n: i64,
}

/// Outcome events per (kind, rank, mode, reason) in `[from, to)`.
pub fn outcomes(c: &mut AnyConnection, from: NaiveDateTime, to: NaiveDateTime) -> AppResult<Vec<OutcomeCount>> {
    Ok(me::table
        .filter(me::kind.ne(MatchEventKind::Shown.as_str()))
        .filter(me::created_at.ge(from))
        .filter(me::created_at.lt(to))
        .group_by((me::kind, me::rank, me::mode, me::reason))
        .select((me::kind, me::rank, me::mode, me::reason, count_star()))
        .load(c)?)
}
