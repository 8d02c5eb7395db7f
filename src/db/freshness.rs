//! Queries for listing freshness (confirmation, extension, the sweep's candidates) and the
//! per-listing aggregates of listing insights (search appearances, match events).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::listings::ListingRow;
use super::schema::{listings, match_events as me, search_appearances as sa};
use super::time::to_db;
use crate::error::AppResult;

/// The owner confirmed a published listing: a new confirmation period, reminders reset.
pub fn confirm(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let now = to_db(now);
    let n = diesel::update(listings::table.find(id).filter(listings::status.eq("published")))
        .set((
            listings::confirmed_at.eq(now),
            listings::stale_reminded_at.eq(None::<NaiveDateTime>),
            listings::stale_notified_at.eq(None::<NaiveDateTime>),
            listings::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// A demand's new deadline, from `from` (published or expired) to published; extending also
/// confirms it.
pub fn extend(c: &mut AnyConnection, id: &str, from: &str, deadline: NaiveDate, now: DateTime<Utc>) -> AppResult<bool> {
    let now = to_db(now);
    let n = diesel::update(listings::table.find(id).filter(listings::status.eq(from)))
        .set((
            listings::status.eq("published"),
            listings::deadline.eq(Some(deadline)),
            listings::confirmed_at.eq(now),
            listings::deadline_reminded_at.eq(None::<NaiveDateTime>),
            listings::stale_reminded_at.eq(None::<NaiveDateTime>),
            listings::stale_notified_at.eq(None::<NaiveDateTime>),
            listings::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Published demands whose deadline is before `day` (they expire) or, with `reminder`, on or
/// before `day` and not reminded yet.
pub fn demands_due(c: &mut AnyConnection, day: NaiveDate, reminder: bool) -> AppResult<Vec<ListingRow>> {
    let q = listings::table.filter(listings::kind.eq("demand")).filter(listings::status.eq("published")).into_boxed();
    let q = if reminder {
        q.filter(listings::deadline.le(day)).filter(listings::deadline_reminded_at.is_null())
    } else {
        q.filter(listings::deadline.lt(day))
    };
    Ok(q.order(listings::id).load(c)?)
}

/// Published listings neither published nor confirmed after `cutoff`, whose owner has not had
/// the stale notice (with `reminder`: nor the reminder).
pub fn unconfirmed_since(c: &mut AnyConnection, cutoff: DateTime<Utc>, reminder: bool) -> AppResult<Vec<ListingRow>> {
    let cutoff = to_db(cutoff);
    let q = listings::table
        .filter(listings::status.eq("published"))
        .filter(listings::stale_notified_at.is_null())
        .filter(listings::published_at.le(cutoff))
        .filter(listings::confirmed_at.is_null().or(listings::confirmed_at.le(cutoff)))
        .into_boxed();
    let q = if reminder { q.filter(listings::stale_reminded_at.is_null()) } else { q };
    Ok(q.order(listings::id).load(c)?)
}

/// Which one-time notice about a listing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    DeadlineReminder,
    StaleReminder,
    Stale,
}

/// Records that `notice` went out, once (false when it already had).
pub fn mark_sent(c: &mut AnyConnection, id: &str, notice: Sent, now: DateTime<Utc>) -> AppResult<bool> {
    let now = Some(to_db(now));
    let target = listings::table.find(id).filter(listings::status.eq("published"));
    let n = match notice {
        Sent::DeadlineReminder => diesel::update(target.filter(listings::deadline_reminded_at.is_null()))
            .set(listings::deadline_reminded_at.eq(now))
            .execute(c)?,
        Sent::StaleReminder => diesel::update(target.filter(listings::stale_reminded_at.is_null()))
            .set(listings::stale_reminded_at.eq(now))
            .execute(c)?,
        Sent::Stale => diesel::update(target.filter(listings::stale_notified_at.is_null()))
            .set(listings::stale_notified_at.eq(now))
            .execute(c)?,
    };
    Ok(n == 1)
}

// ---- insights ----

/// Adds `n` search appearances of a listing on `day` (update, else insert; an insert that
/// lost a race with another writer becomes the update).
pub fn add_search_appearances(c: &mut AnyConnection, listing_id: &str, day: NaiveDate, n: i64) -> AppResult<()> {
    let bump =
        |c: &mut AnyConnection| diesel::update(sa::table.find((listing_id, day))).set(sa::n.eq(sa::n + n)).execute(c);
    if bump(c)? == 1 {
        return Ok(());
    }
    // A savepoint keeps a duplicate key from aborting the caller's transaction on PostgreSQL.
    let inserted = c.transaction(|c| {
        diesel::insert_into(sa::table).values((sa::listing_id.eq(listing_id), sa::day.eq(day), sa::n.eq(n))).execute(c)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            bump(c)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Search appearances of a listing per day in `[from, to]`.
pub fn search_appearances(
    c: &mut AnyConnection,
    listing_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(NaiveDate, i64)>> {
    Ok(sa::table
        .filter(sa::listing_id.eq(listing_id))
        .filter(sa::day.ge(from))
        .filter(sa::day.le(to))
        .select((sa::day, sa::n))
        .load(c)?)
}

/// One match event about a listing: (kind, viewing org, listing it was shown for, reason, at).
pub type EventRow = (String, String, Option<String>, Option<String>, NaiveDateTime);

/// Every match event about a listing (as the match shown, or the listing asked for) in
/// `[from, to)`.
pub fn match_events(
    c: &mut AnyConnection,
    listing_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<EventRow>> {
    Ok(me::table
        .filter(me::listing_id.eq(listing_id))
        .filter(me::created_at.ge(to_db(from)))
        .filter(me::created_at.lt(to_db(to)))
        .select((me::kind, me::org_id, me::source_listing_id, me::reason, me::created_at))
        .load(c)?)
}
