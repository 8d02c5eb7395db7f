//! Shared instruments and their bookings.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{instrument_bookings as b, instruments as i};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = i)]
pub struct InstrumentRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub model: String,
    pub category: String,
    pub location: String,
    pub region: String,
    pub description: String,
    pub fee_per_hour_fen: Option<i64>,
    pub fee_per_sample_fen: Option<i64>,
    pub accessories: String,
    pub open_hours: String,
    pub weekly_open_hours: i32,
    pub training_required: bool,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, row: &InstrumentRow) -> AppResult<()> {
    diesel::insert_into(i::table).values(row).execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<InstrumentRow>> {
    Ok(i::table.find(id).first(c).optional()?)
}

/// Writes every field of an edited instrument (its owner and creation stay).
pub fn update(c: &mut AnyConnection, row: &InstrumentRow) -> AppResult<()> {
    diesel::update(i::table.find(&row.id))
        .set((
            i::name.eq(&row.name),
            i::model.eq(&row.model),
            i::category.eq(&row.category),
            i::location.eq(&row.location),
            i::region.eq(&row.region),
            i::description.eq(&row.description),
            i::fee_per_hour_fen.eq(row.fee_per_hour_fen),
            i::fee_per_sample_fen.eq(row.fee_per_sample_fen),
            i::accessories.eq(&row.accessories),
            i::open_hours.eq(&row.open_hours),
            i::weekly_open_hours.eq(row.weekly_open_hours),
            i::training_required.eq(row.training_required),
            i::status.eq(&row.status),
            i::updated_at.eq(row.updated_at),
        ))
        .execute(c)?;
    Ok(())
}

pub struct InstrumentFilter<'a> {
    /// Words that must each appear in the name, model, category or description.
    pub words: Vec<&'a str>,
    pub category: Option<&'a str>,
    pub region: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub fn list(
    c: &mut AnyConnection,
    f: &InstrumentFilter<'_>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<InstrumentRow>, i64)> {
    let build = || {
        let mut q = i::table.into_boxed();
        for word in &f.words {
            let pattern = super::like_pattern(word);
            q = q.filter(
                i::name
                    .like(pattern.clone())
                    .escape('\\')
                    .or(i::model.like(pattern.clone()).escape('\\'))
                    .or(i::category.like(pattern.clone()).escape('\\'))
                    .or(i::description.like(pattern).escape('\\')),
            );
        }
        if let Some(category) = f.category {
            q = q.filter(i::category.eq(category));
        }
        if let Some(region) = f.region {
            q = q.filter(i::region.eq(region));
        }
        if let Some(org) = f.org_id {
            q = q.filter(i::org_id.eq(org));
        }
        if let Some(status) = f.status {
            q = q.filter(i::status.eq(status));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((i::updated_at.desc(), i::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = b)]
pub struct BookingRow {
    pub id: String,
    pub instrument_id: String,
    pub org_id: String,
    pub requested_by: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub samples: Option<i32>,
    pub purpose: String,
    pub fee_fen: i64,
    pub voucher_id: Option<String>,
    pub program_id: Option<String>,
    pub reserved_fen: i64,
    pub redemption_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn insert_booking(c: &mut AnyConnection, row: &BookingRow) -> AppResult<()> {
    diesel::insert_into(b::table).values(row).execute(c)?;
    Ok(())
}

pub fn find_booking(c: &mut AnyConnection, id: &str) -> AppResult<Option<BookingRow>> {
    Ok(b::table.find(id).first(c).optional()?)
}

/// A booking of `instrument_id` in one of `statuses` whose slot meets `[starts, ends)`.
pub fn overlapping(
    c: &mut AnyConnection,
    instrument_id: &str,
    statuses: &[&str],
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> AppResult<Option<BookingRow>> {
    Ok(b::table
        .filter(b::instrument_id.eq(instrument_id))
        .filter(b::status.eq_any(statuses))
        .filter(b::starts_at.lt(to_db(ends)))
        .filter(b::ends_at.gt(to_db(starts)))
        .order(b::starts_at)
        .first(c)
        .optional()?)
}

/// How a guarded transition changes a booking besides its status.
pub struct BookingChange<'a> {
    pub reason: Option<&'a str>,
    pub redemption_id: Option<&'a str>,
    /// Set when the booking is decided (approve, reject).
    pub decided: bool,
    /// Set when the booking ends (complete, no-show, cancel).
    pub finished: bool,
}

/// Moves a booking `from → to`; false when it is no longer in `from`.
pub fn booking_transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    change: &BookingChange<'_>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let at = Some(to_db(now));
    let target = b::table.find(id).filter(b::status.eq(from));
    let n = diesel::update(target)
        .set((
            b::status.eq(to),
            change.reason.map(|r| b::reason.eq(Some(r))),
            change.redemption_id.map(|r| b::redemption_id.eq(Some(r))),
            change.decided.then_some(b::decided_at.eq(at)),
            change.finished.then_some(b::finished_at.eq(at)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

pub struct BookingFilter<'a> {
    pub instrument_id: &'a str,
    /// Only this organization's bookings (None: all).
    pub org_id: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub fn list_bookings(
    c: &mut AnyConnection,
    f: &BookingFilter<'_>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<BookingRow>, i64)> {
    let build = || {
        let mut q = b::table.filter(b::instrument_id.eq(f.instrument_id)).into_boxed();
        if let Some(org) = f.org_id {
            q = q.filter(b::org_id.eq(org));
        }
        if let Some(status) = f.status {
            q = q.filter(b::status.eq(status));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((b::starts_at.desc(), b::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Missed bookings of `org_id` that started at or after `since`.
pub fn no_shows_since(c: &mut AnyConnection, org_id: &str, since: DateTime<Utc>) -> AppResult<i64> {
    Ok(b::table
        .filter(b::org_id.eq(org_id))
        .filter(b::status.eq("no_show"))
        .filter(b::starts_at.ge(to_db(since)))
        .count()
        .get_result(c)?)
}

/// What usage statistics read of one booking.
#[derive(Debug, Clone, Queryable)]
pub struct SlotUse {
    pub status: String,
    pub org_id: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub fee_fen: i64,
    pub reserved_fen: i64,
}

/// Bookings of one instrument starting in `[from, to)` (durations are summed by the caller:
/// the two databases differ on date arithmetic).
pub fn uses_in(
    c: &mut AnyConnection,
    instrument_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<SlotUse>> {
    Ok(b::table
        .filter(b::instrument_id.eq(instrument_id))
        .filter(b::starts_at.ge(to_db(from)))
        .filter(b::starts_at.lt(to_db(to)))
        .select((b::status, b::org_id, b::starts_at, b::ends_at, b::fee_fen, b::reserved_fen))
        .load(c)?)
}
