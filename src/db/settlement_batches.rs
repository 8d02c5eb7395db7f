//! Queries on settlement batches (结算批次) and the redemptions they settle.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{voucher_redemptions as redemptions, voucher_settlement_batches as batches};
use super::vouchers::RedemptionRow;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct BatchRow {
    pub id: String,
    pub program_id: String,
    pub cut_off: NaiveDate,
    pub redemption_count: i64,
    pub total_fen: i64,
    pub ids_sha256: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = batches)]
pub struct NewBatch<'a> {
    pub id: &'a str,
    pub program_id: &'a str,
    pub cut_off: NaiveDate,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

/// Inserts an empty batch; the redemptions it settles name it, then `finish` records totals.
pub fn insert(c: &mut AnyConnection, b: &NewBatch<'_>) -> AppResult<()> {
    diesel::insert_into(batches::table).values(b).execute(c)?;
    Ok(())
}

pub fn finish(c: &mut AnyConnection, id: &str, count: i64, total_fen: i64, ids_sha256: &str) -> AppResult<()> {
    diesel::update(batches::table.find(id))
        .set((
            batches::redemption_count.eq(count),
            batches::total_fen.eq(total_fen),
            batches::ids_sha256.eq(ids_sha256),
        ))
        .execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<BatchRow>> {
    Ok(batches::table.find(id).first(c).optional()?)
}

pub fn list(c: &mut AnyConnection, program_id: &str, offset: i64, limit: i64) -> AppResult<(Vec<BatchRow>, i64)> {
    let total = batches::table.filter(batches::program_id.eq(program_id)).count().get_result(c)?;
    let rows = batches::table
        .filter(batches::program_id.eq(program_id))
        .order((batches::created_at.desc(), batches::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    Ok((rows, total))
}

/// The next `limit` redemptions of a program, by id after `after`, that a batch settles:
/// confirmed before `confirmed_before` and in no batch yet.
pub fn eligible_after(
    c: &mut AnyConnection,
    program_id: &str,
    confirmed_before: NaiveDateTime,
    after: &str,
    limit: i64,
) -> AppResult<Vec<RedemptionRow>> {
    Ok(redemptions::table
        .filter(redemptions::program_id.eq(program_id))
        .filter(redemptions::status.eq("confirmed"))
        .filter(redemptions::batch_id.is_null())
        .filter(redemptions::confirmed_at.lt(confirmed_before))
        .filter(redemptions::id.gt(after))
        .order(redemptions::id)
        .limit(limit)
        .load(c)?)
}

/// The next `limit` redemptions of a batch, by id after `after`.
pub fn lines_after(c: &mut AnyConnection, batch_id: &str, after: &str, limit: i64) -> AppResult<Vec<RedemptionRow>> {
    Ok(redemptions::table
        .filter(redemptions::batch_id.eq(batch_id))
        .filter(redemptions::id.gt(after))
        .order(redemptions::id)
        .limit(limit)
        .load(c)?)
}
