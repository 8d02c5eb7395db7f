//! Queries on voucher programs, applications, vouchers, redemptions, the ledger and
//! idempotency keys. Every balance change is a guarded UPDATE whose row count is checked by
//! the caller; the ledger row is written in the same transaction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::AnyConnection;
use super::schema::{
    voucher_applications as apps, voucher_enterprise_totals as totals, voucher_ledger as ledger,
    voucher_programs as programs, voucher_redemptions as redemptions, vouchers,
};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct ProgramRow {
    pub id: String,
    pub name: String,
    pub year: i32,
    pub total_budget_fen: i64,
    pub per_enterprise_cap_fen: i64,
    pub coverage_ratio_bp: i32,
    pub service_categories: String,
    pub eligible_scales: String,
    pub valid_days: i32,
    pub applications_open: NaiveDate,
    pub applications_close: NaiveDate,
    pub settle_by: NaiveDate,
    pub issued_fen: i64,
    pub released_fen: i64,
    pub settled_fen: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl ProgramRow {
    pub fn remaining_fen(&self) -> i64 {
        self.total_budget_fen - self.issued_fen + self.released_fen
    }
    pub fn service_categories(&self) -> Vec<String> {
        serde_json::from_str(&self.service_categories).unwrap_or_default()
    }
    pub fn eligible_scales(&self) -> Vec<String> {
        serde_json::from_str(&self.eligible_scales).unwrap_or_default()
    }
}

#[derive(Insertable)]
#[diesel(table_name = programs)]
pub struct NewProgram<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub year: i32,
    pub total_budget_fen: i64,
    pub per_enterprise_cap_fen: i64,
    pub coverage_ratio_bp: i32,
    pub service_categories: &'a str,
    pub eligible_scales: &'a str,
    pub valid_days: i32,
    pub applications_open: NaiveDate,
    pub applications_close: NaiveDate,
    pub settle_by: NaiveDate,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_program(c: &mut AnyConnection, p: &NewProgram<'_>) -> AppResult<()> {
    diesel::insert_into(programs::table).values(p).execute(c)?;
    Ok(())
}

pub fn find_program(c: &mut AnyConnection, id: &str) -> AppResult<Option<ProgramRow>> {
    Ok(programs::table.find(id).first(c).optional()?)
}

pub fn list_programs(c: &mut AnyConnection, offset: i64, limit: i64) -> AppResult<(Vec<ProgramRow>, i64)> {
    let total = programs::table.count().get_result(c)?;
    let rows =
        programs::table.order((programs::created_at.desc(), programs::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Issues `amount` from the program's budget; false when it does not fit.
pub fn program_issue(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<bool> {
    let n = diesel::update(
        programs::table
            .find(id)
            .filter((programs::issued_fen - programs::released_fen + amount).le(programs::total_budget_fen)),
    )
    .set(programs::issued_fen.eq(programs::issued_fen + amount))
    .execute(c)?;
    Ok(n == 1)
}

pub fn program_release(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<()> {
    diesel::update(programs::table.find(id))
        .set(programs::released_fen.eq(programs::released_fen + amount))
        .execute(c)?;
    Ok(())
}

pub fn program_settle(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<()> {
    diesel::update(programs::table.find(id))
        .set(programs::settled_fen.eq(programs::settled_fen + amount))
        .execute(c)?;
    Ok(())
}

/// Makes sure the (program, enterprise) total row exists; a concurrent insert is fine.
pub fn ensure_enterprise_total(c: &mut AnyConnection, program_id: &str, enterprise_id: &str) -> AppResult<()> {
    let exists: i64 = totals::table
        .filter(totals::program_id.eq(program_id))
        .filter(totals::enterprise_id.eq(enterprise_id))
        .count()
        .get_result(c)?;
    if exists > 0 {
        return Ok(());
    }
    let inserted = c.transaction(|c| {
        diesel::insert_into(totals::table)
            .values((
                totals::program_id.eq(program_id),
                totals::enterprise_id.eq(enterprise_id),
                totals::net_fen.eq(0_i64),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) | Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds `amount` to what an enterprise holds from a program, within `cap`; false otherwise.
pub fn enterprise_add(
    c: &mut AnyConnection,
    program_id: &str,
    enterprise_id: &str,
    amount: i64,
    cap: i64,
) -> AppResult<bool> {
    let n = diesel::update(
        totals::table
            .filter(totals::program_id.eq(program_id))
            .filter(totals::enterprise_id.eq(enterprise_id))
            .filter((totals::net_fen + amount).le(cap)),
    )
    .set(totals::net_fen.eq(totals::net_fen + amount))
    .execute(c)?;
    Ok(n == 1)
}

pub fn enterprise_sub(c: &mut AnyConnection, program_id: &str, enterprise_id: &str, amount: i64) -> AppResult<()> {
    diesel::update(
        totals::table.filter(totals::program_id.eq(program_id)).filter(totals::enterprise_id.eq(enterprise_id)),
    )
    .set(totals::net_fen.eq(totals::net_fen - amount))
    .execute(c)?;
    Ok(())
}

pub fn enterprise_net(c: &mut AnyConnection, program_id: &str, enterprise_id: &str) -> AppResult<i64> {
    Ok(totals::table
        .filter(totals::program_id.eq(program_id))
        .filter(totals::enterprise_id.eq(enterprise_id))
        .select(totals::net_fen)
        .first(c)
        .optional()?
        .unwrap_or(0))
}

// ---- applications ----

#[derive(Debug, Clone, Queryable)]
pub struct ApplicationRow {
    pub id: String,
    pub program_id: String,
    pub enterprise_id: String,
    pub applicant_id: String,
    pub requested_fen: i64,
    pub purpose: String,
    pub service_category: String,
    pub status: String,
    pub approved_fen: Option<i64>,
    pub reject_reason: Option<String>,
    pub voucher_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = apps)]
pub struct NewApplication<'a> {
    pub id: &'a str,
    pub program_id: &'a str,
    pub enterprise_id: &'a str,
    pub applicant_id: &'a str,
    pub requested_fen: i64,
    pub purpose: &'a str,
    pub service_category: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_application(c: &mut AnyConnection, a: &NewApplication<'_>) -> AppResult<()> {
    diesel::insert_into(apps::table).values(a).execute(c)?;
    Ok(())
}

pub fn find_application(c: &mut AnyConnection, id: &str) -> AppResult<Option<ApplicationRow>> {
    Ok(apps::table.find(id).first(c).optional()?)
}

/// Guarded decision on a submitted application.
pub fn decide_application(
    c: &mut AnyConnection,
    id: &str,
    to: &str,
    approved_fen: Option<i64>,
    reason: Option<&str>,
    voucher_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(apps::table.find(id).filter(apps::status.eq("submitted")))
        .set((
            apps::status.eq(to),
            apps::approved_fen.eq(approved_fen),
            apps::reject_reason.eq(reason),
            apps::voucher_id.eq(voucher_id),
            apps::decided_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

pub fn list_applications(
    c: &mut AnyConnection,
    enterprise_id: Option<&str>,
    status: Option<&str>,
    program_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<ApplicationRow>, i64)> {
    let build = || {
        let mut q = apps::table.into_boxed();
        if let Some(e) = enterprise_id {
            q = q.filter(apps::enterprise_id.eq(e));
        }
        if let Some(s) = status {
            q = q.filter(apps::status.eq(s));
        }
        if let Some(p) = program_id {
            q = q.filter(apps::program_id.eq(p));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((apps::created_at.desc(), apps::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

// ---- vouchers ----

#[derive(Debug, Clone, Queryable)]
pub struct VoucherRow {
    pub id: String,
    pub code: String,
    pub program_id: String,
    pub enterprise_id: String,
    pub application_id: String,
    pub service_category: String,
    pub face_value_fen: i64,
    pub balance_fen: i64,
    pub reserved_fen: i64,
    pub settled_fen: i64,
    pub returned_fen: i64,
    pub status: String,
    pub expires_at: NaiveDateTime,
    pub issued_at: NaiveDateTime,
    pub revoke_reason: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = vouchers)]
pub struct NewVoucher<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub program_id: &'a str,
    pub enterprise_id: &'a str,
    pub application_id: &'a str,
    pub service_category: &'a str,
    pub face_value_fen: i64,
    pub balance_fen: i64,
    pub status: &'a str,
    pub expires_at: NaiveDateTime,
    pub issued_at: NaiveDateTime,
}

/// Inserts a voucher; false when its code is already taken (the caller draws another).
pub fn insert_voucher(c: &mut AnyConnection, v: &NewVoucher<'_>) -> AppResult<bool> {
    let inserted = c.transaction(|c| diesel::insert_into(vouchers::table).values(v).execute(c));
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn find_voucher(c: &mut AnyConnection, id: &str) -> AppResult<Option<VoucherRow>> {
    Ok(vouchers::table.find(id).first(c).optional()?)
}

pub fn find_voucher_by_code(c: &mut AnyConnection, code: &str) -> AppResult<Option<VoucherRow>> {
    Ok(vouchers::table.filter(vouchers::code.eq(code)).first(c).optional()?)
}

pub fn list_vouchers(
    c: &mut AnyConnection,
    enterprise_id: Option<&str>,
    program_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<VoucherRow>, i64)> {
    let build = || {
        let mut q = vouchers::table.into_boxed();
        if let Some(e) = enterprise_id {
            q = q.filter(vouchers::enterprise_id.eq(e));
        }
        if let Some(p) = program_id {
            q = q.filter(vouchers::program_id.eq(p));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((vouchers::issued_at.desc(), vouchers::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

pub fn vouchers_of_program(c: &mut AnyConnection, program_id: &str) -> AppResult<Vec<VoucherRow>> {
    Ok(vouchers::table.filter(vouchers::program_id.eq(program_id)).order(vouchers::id).load(c)?)
}

/// Reserves `amount` of an active, unexpired voucher; false when the balance does not cover it.
pub fn voucher_reserve(c: &mut AnyConnection, id: &str, amount: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(
        vouchers::table
            .find(id)
            .filter(vouchers::status.eq("active"))
            .filter(vouchers::expires_at.gt(to_db(now)))
            .filter(vouchers::balance_fen.ge(amount)),
    )
    .set((
        vouchers::balance_fen.eq(vouchers::balance_fen - amount),
        vouchers::reserved_fen.eq(vouchers::reserved_fen + amount),
    ))
    .execute(c)?;
    if n == 1 {
        diesel::update(
            vouchers::table.find(id).filter(vouchers::status.eq("active")).filter(vouchers::balance_fen.eq(0_i64)),
        )
        .set(vouchers::status.eq("exhausted"))
        .execute(c)?;
    }
    Ok(n == 1)
}

/// Moves `amount` from reserved to settled.
pub fn voucher_settle(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<bool> {
    let n = diesel::update(vouchers::table.find(id).filter(vouchers::reserved_fen.ge(amount)))
        .set((
            vouchers::reserved_fen.eq(vouchers::reserved_fen - amount),
            vouchers::settled_fen.eq(vouchers::settled_fen + amount),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Gives a reservation back to the voucher's balance (an exhausted voucher becomes active).
pub fn voucher_release(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<bool> {
    let n = diesel::update(vouchers::table.find(id).filter(vouchers::reserved_fen.ge(amount)))
        .set((
            vouchers::reserved_fen.eq(vouchers::reserved_fen - amount),
            vouchers::balance_fen.eq(vouchers::balance_fen + amount),
        ))
        .execute(c)?;
    if n == 1 {
        diesel::update(
            vouchers::table.find(id).filter(vouchers::status.eq("exhausted")).filter(vouchers::balance_fen.gt(0_i64)),
        )
        .set(vouchers::status.eq("active"))
        .execute(c)?;
    }
    Ok(n == 1)
}

/// Closes a voucher (`expired` or `revoked`), returning exactly `balance` to the program;
/// false when the voucher is no longer in `from` with that balance (a concurrent change).
pub fn voucher_close(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    balance: i64,
    reason: Option<&str>,
) -> AppResult<bool> {
    let n = diesel::update(
        vouchers::table.find(id).filter(vouchers::status.eq(from)).filter(vouchers::balance_fen.eq(balance)),
    )
    .set((
        vouchers::status.eq(to),
        vouchers::balance_fen.eq(0_i64),
        vouchers::returned_fen.eq(vouchers::returned_fen + balance),
        vouchers::revoke_reason.eq(reason),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// A reservation released on a closed voucher goes straight back to the program.
pub fn voucher_return_reserved(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<bool> {
    let n = diesel::update(vouchers::table.find(id).filter(vouchers::reserved_fen.ge(amount)))
        .set((
            vouchers::reserved_fen.eq(vouchers::reserved_fen - amount),
            vouchers::returned_fen.eq(vouchers::returned_fen + amount),
        ))
        .execute(c)?;
    Ok(n == 1)
}

// ---- redemptions ----

#[derive(Debug, Clone, Queryable)]
pub struct RedemptionRow {
    pub id: String,
    pub voucher_id: String,
    pub program_id: String,
    pub provider_org_id: String,
    pub created_by: String,
    pub service_fee_fen: i64,
    pub amount_fen: i64,
    pub invoice_no: String,
    pub description: String,
    pub status: String,
    pub reject_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub batch_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = redemptions)]
pub struct NewRedemption<'a> {
    pub id: &'a str,
    pub voucher_id: &'a str,
    pub program_id: &'a str,
    pub provider_org_id: &'a str,
    pub created_by: &'a str,
    pub service_fee_fen: i64,
    pub amount_fen: i64,
    pub invoice_no: &'a str,
    pub description: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_redemption(c: &mut AnyConnection, r: &NewRedemption<'_>) -> AppResult<()> {
    diesel::insert_into(redemptions::table).values(r).execute(c)?;
    Ok(())
}

pub fn find_redemption(c: &mut AnyConnection, id: &str) -> AppResult<Option<RedemptionRow>> {
    Ok(redemptions::table.find(id).first(c).optional()?)
}

pub fn redemption_transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let target = redemptions::table.find(id).filter(redemptions::status.eq(from));
    let n = if to == "confirmed" {
        diesel::update(target).set((redemptions::status.eq(to), redemptions::confirmed_at.eq(to_db(now)))).execute(c)?
    } else {
        diesel::update(target)
            .set((
                redemptions::status.eq(to),
                redemptions::reject_reason.eq(reason),
                redemptions::decided_at.eq(to_db(now)),
            ))
            .execute(c)?
    };
    Ok(n == 1)
}

/// Guarded `confirmed → settled`, recording the batch that settled it, if any; false when the
/// redemption was no longer confirmed.
pub fn redemption_settle(
    c: &mut AnyConnection,
    id: &str,
    batch_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(redemptions::table.find(id).filter(redemptions::status.eq("confirmed")))
        .set((
            redemptions::status.eq("settled"),
            redemptions::decided_at.eq(to_db(now)),
            redemptions::batch_id.eq(batch_id),
        ))
        .execute(c)?;
    Ok(n == 1)
}

pub fn find_vouchers(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<VoucherRow>> {
    Ok(vouchers::table.filter(vouchers::id.eq_any(ids)).load(c)?)
}

pub fn list_redemptions(
    c: &mut AnyConnection,
    provider_org_id: Option<&str>,
    voucher_ids: Option<&[String]>,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<RedemptionRow>, i64)> {
    let build = || {
        let mut q = redemptions::table.into_boxed();
        if let Some(p) = provider_org_id {
            q = q.filter(redemptions::provider_org_id.eq(p));
        }
        if let Some(ids) = voucher_ids {
            q = q.filter(redemptions::voucher_id.eq_any(ids.to_vec()));
        }
        if let Some(s) = status {
            q = q.filter(redemptions::status.eq(s));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((redemptions::created_at.desc(), redemptions::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Redemptions of a program not settled or rejected yet (the settlement-deadline job).
pub fn open_redemptions(c: &mut AnyConnection, program_id: &str) -> AppResult<Vec<RedemptionRow>> {
    Ok(redemptions::table
        .filter(redemptions::program_id.eq(program_id))
        .filter(redemptions::status.eq_any(["pending_confirmation", "confirmed"]))
        .load(c)?)
}

// ---- ledger ----

#[derive(Debug, Clone, Queryable)]
pub struct LedgerRow {
    pub id: String,
    pub program_id: String,
    pub voucher_id: String,
    pub redemption_id: Option<String>,
    pub kind: String,
    pub amount_fen: i64,
    pub at: NaiveDateTime,
}

pub fn add_ledger(
    c: &mut AnyConnection,
    program_id: &str,
    voucher_id: &str,
    redemption_id: Option<&str>,
    kind: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(ledger::table)
        .values((
            ledger::id.eq(uuid::Uuid::now_v7().to_string()),
            ledger::program_id.eq(program_id),
            ledger::voucher_id.eq(voucher_id),
            ledger::redemption_id.eq(redemption_id),
            ledger::kind.eq(kind),
            ledger::amount_fen.eq(amount),
            ledger::at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

pub fn ledger(c: &mut AnyConnection, program_id: &str, offset: i64, limit: i64) -> AppResult<(Vec<LedgerRow>, i64)> {
    let total = ledger::table.filter(ledger::program_id.eq(program_id)).count().get_result(c)?;
    let rows = ledger::table
        .filter(ledger::program_id.eq(program_id))
        .order((ledger::at, ledger::id))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    Ok((rows, total))
}

/// Σ amount of the ledger rows of one kind in a program.
pub fn ledger_sum(c: &mut AnyConnection, program_id: &str, kind: &str) -> AppResult<i64> {
    let sum: Option<i64> = ledger::table
        .filter(ledger::program_id.eq(program_id))
        .filter(ledger::kind.eq(kind))
        .select(sql::<Nullable<BigInt>>("CAST(SUM(amount_fen) AS BIGINT)"))
        .first(c)?;
    Ok(sum.unwrap_or(0))
}
