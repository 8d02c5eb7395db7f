//! Queries on contracts, their payment plans, payments, commercialization reports, income
//! distributions and registration numbers.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{
    commercialization_reports as reports, contract_payment_plan as plan, contract_payments as payments, contracts,
    registration_counters as counters, revenue_distributions as distributions,
};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct ContractRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub seller_org_id: String,
    pub buyer_org_id: String,
    pub created_by: String,
    pub achievement_id: Option<String>,
    pub demand_id: Option<String>,
    pub challenge_id: Option<String>,
    pub bid_id: Option<String>,
    pub connection_id: Option<String>,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub royalty_rate_bp: Option<i32>,
    pub status: String,
    pub seller_signed_at: Option<NaiveDateTime>,
    pub seller_signed_by: Option<String>,
    pub buyer_signed_at: Option<NaiveDateTime>,
    pub buyer_signed_by: Option<String>,
    pub registration_no: Option<String>,
    pub registered_amount_fen: Option<i64>,
    pub registered_at: Option<NaiveDateTime>,
    pub terminate_reason: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The broker profile of the connection the contract came from, and its organization.
    pub broker_id: Option<String>,
    pub broker_org_id: Option<String>,
    /// The broker's commission: a fixed amount or a ratio of `amount_fen` (at most one).
    pub commission_fen: Option<i64>,
    pub commission_bp: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = contracts)]
pub struct NewContract<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub seller_org_id: &'a str,
    pub buyer_org_id: &'a str,
    pub created_by: &'a str,
    pub achievement_id: Option<&'a str>,
    pub demand_id: Option<&'a str>,
    pub challenge_id: Option<&'a str>,
    pub bid_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
    pub amount_fen: i64,
    pub royalty_rate_bp: Option<i32>,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub broker_id: Option<&'a str>,
    pub broker_org_id: Option<&'a str>,
    pub commission_fen: Option<i64>,
    pub commission_bp: Option<i32>,
}

pub fn insert(c: &mut AnyConnection, row: &NewContract<'_>) -> AppResult<()> {
    diesel::insert_into(contracts::table).values(row).execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<ContractRow>> {
    Ok(contracts::table.find(id).first(c).optional()?)
}

/// Records one side's signature (once); false when that side already signed or the
/// contract left `draft`.
pub fn sign(c: &mut AnyConnection, id: &str, seller: bool, user_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let target = contracts::table.find(id).filter(contracts::status.eq("draft"));
    let n = if seller {
        diesel::update(target.filter(contracts::seller_signed_at.is_null()))
            .set((
                contracts::seller_signed_at.eq(to_db(now)),
                contracts::seller_signed_by.eq(user_id),
                contracts::updated_at.eq(to_db(now)),
            ))
            .execute(c)?
    } else {
        diesel::update(target.filter(contracts::buyer_signed_at.is_null()))
            .set((
                contracts::buyer_signed_at.eq(to_db(now)),
                contracts::buyer_signed_by.eq(user_id),
                contracts::updated_at.eq(to_db(now)),
            ))
            .execute(c)?
    };
    Ok(n == 1)
}

pub fn transition(c: &mut AnyConnection, id: &str, from: &str, to: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let target = contracts::table.find(id).filter(contracts::status.eq(from));
    let now_db = to_db(now);
    let n = if matches!(to, "completed" | "terminated") {
        diesel::update(target)
            .set((contracts::status.eq(to), contracts::closed_at.eq(now_db), contracts::updated_at.eq(now_db)))
            .execute(c)?
    } else {
        diesel::update(target).set((contracts::status.eq(to), contracts::updated_at.eq(now_db))).execute(c)?
    };
    Ok(n == 1)
}

pub fn set_terminate_reason(c: &mut AnyConnection, id: &str, reason: &str) -> AppResult<()> {
    diesel::update(contracts::table.find(id)).set(contracts::terminate_reason.eq(reason)).execute(c)?;
    Ok(())
}

/// Registers a signed contract with its number and recognised amount (a number already on
/// another contract is a unique violation).
pub fn register(c: &mut AnyConnection, id: &str, number: &str, amount: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::update(contracts::table.find(id).filter(contracts::status.eq("signed")))
        .set((
            contracts::status.eq("registered"),
            contracts::registration_no.eq(number),
            contracts::registered_amount_fen.eq(amount),
            contracts::registered_at.eq(to_db(now)),
            contracts::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// A registered contract back to `signed`, without registration (its registration was
/// cancelled before any payment).
pub fn deregister(c: &mut AnyConnection, id: &str, from: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(contracts::table.find(id).filter(contracts::status.eq(from)))
        .set((
            contracts::status.eq("signed"),
            contracts::registration_no.eq(None::<String>),
            contracts::registered_amount_fen.eq(None::<i64>),
            contracts::registered_at.eq(None::<NaiveDateTime>),
            contracts::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// An amended registration: the contract carrying `old_number` takes the new number and
/// amount (a number already on another contract is a unique violation).
pub fn amend_registration(
    c: &mut AnyConnection,
    id: &str,
    old_number: &str,
    number: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(contracts::table.find(id).filter(contracts::registration_no.eq(old_number)))
        .set((
            contracts::registration_no.eq(number),
            contracts::registered_amount_fen.eq(amount),
            contracts::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Adds a payment within the contract amount while the contract is registered or being
/// performed; false when it would overpay or the contract has moved on (both rules are in
/// the statement).
pub fn add_paid(c: &mut AnyConnection, id: &str, amount: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(
        contracts::table
            .find(id)
            .filter(contracts::status.eq_any(["registered", "performing"]))
            .filter((contracts::paid_fen + amount).le(contracts::amount_fen)),
    )
    .set((contracts::paid_fen.eq(contracts::paid_fen + amount), contracts::updated_at.eq(to_db(now))))
    .execute(c)?;
    Ok(n == 1)
}

/// The next registration number of `year` (the counter row is locked until commit).
pub fn next_registration_seq(c: &mut AnyConnection, year: i32) -> AppResult<i64> {
    for _ in 0..3 {
        let n =
            diesel::update(counters::table.find(year)).set(counters::last_no.eq(counters::last_no + 1)).execute(c)?;
        if n == 1 {
            return Ok(counters::table.find(year).select(counters::last_no).first(c)?);
        }
        let inserted = c.transaction(|c| {
            diesel::insert_into(counters::table)
                .values((counters::year.eq(year), counters::last_no.eq(1_i64)))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(1),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::error::AppError::internal(anyhow::anyhow!("could not allocate a registration number for {year}")))
}

pub struct ContractFilter<'a> {
    /// Contracts where this organization is a party (admins: none, all contracts).
    pub org_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub kind: Option<&'a str>,
}

pub fn list(
    c: &mut AnyConnection,
    f: &ContractFilter<'_>,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<ContractRow>, i64)> {
    let build = || {
        let mut q = contracts::table.into_boxed();
        if let Some(org) = f.org_id {
            q = q.filter(contracts::seller_org_id.eq(org).or(contracts::buyer_org_id.eq(org)));
        }
        if let Some(s) = f.status {
            q = q.filter(contracts::status.eq(s));
        }
        if let Some(k) = f.kind {
            q = q.filter(contracts::kind.eq(k));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((contracts::created_at.desc(), contracts::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

/// A page of every contract in id order after `after` (the CSV export streams these).
pub fn page_after(c: &mut AnyConnection, after: &str, limit: i64) -> AppResult<Vec<ContractRow>> {
    Ok(contracts::table.filter(contracts::id.gt(after)).order(contracts::id).limit(limit).load(c)?)
}

// ---- plan, payments, timeline, distribution ----

#[derive(Debug, Clone, Queryable)]
pub struct PlanRow {
    pub id: String,
    pub contract_id: String,
    pub seq: i32,
    pub due_date: NaiveDate,
    pub amount_fen: i64,
}

pub fn insert_plan(c: &mut AnyConnection, contract_id: &str, seq: i32, due: NaiveDate, amount: i64) -> AppResult<()> {
    diesel::insert_into(plan::table)
        .values((
            plan::id.eq(uuid::Uuid::new_v4().to_string()),
            plan::contract_id.eq(contract_id),
            plan::seq.eq(seq),
            plan::due_date.eq(due),
            plan::amount_fen.eq(amount),
        ))
        .execute(c)?;
    Ok(())
}

/// The payment plans of many contracts, each in its order.
pub fn plans_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<PlanRow>> {
    Ok(plan::table.filter(plan::contract_id.eq_any(ids)).order((plan::contract_id, plan::seq)).load(c)?)
}

#[derive(Debug, Clone, Queryable)]
pub struct PaymentRow {
    pub id: String,
    pub contract_id: String,
    pub amount_fen: i64,
    pub paid_at: NaiveDateTime,
    pub reference: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_payment(
    c: &mut AnyConnection,
    contract_id: &str,
    amount: i64,
    paid_at: DateTime<Utc>,
    reference: &str,
    by: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(uuid::Uuid::now_v7().to_string()),
            payments::contract_id.eq(contract_id),
            payments::amount_fen.eq(amount),
            payments::paid_at.eq(to_db(paid_at)),
            payments::reference.eq(reference),
            payments::recorded_by.eq(by),
            payments::created_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// The payments of many contracts, each contract's in the order they were paid.
pub fn payments_of_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<PaymentRow>> {
    Ok(payments::table
        .filter(payments::contract_id.eq_any(ids))
        .order((payments::contract_id, payments::paid_at, payments::id))
        .load(c)?)
}

#[derive(Debug, Clone, Queryable)]
pub struct ReportRow {
    pub id: String,
    pub contract_id: String,
    pub stage: String,
    pub stage_rank: i32,
    pub note: String,
    pub revenue_fen: Option<i64>,
    pub reported_at: NaiveDateTime,
    pub reported_by: String,
    pub reporter_org_id: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_report(c: &mut AnyConnection, r: &ReportRow) -> AppResult<()> {
    diesel::insert_into(reports::table)
        .values((
            reports::id.eq(&r.id),
            reports::contract_id.eq(&r.contract_id),
            reports::stage.eq(&r.stage),
            reports::stage_rank.eq(r.stage_rank),
            reports::note.eq(&r.note),
            reports::revenue_fen.eq(r.revenue_fen),
            reports::reported_at.eq(r.reported_at),
            reports::reported_by.eq(&r.reported_by),
            reports::reporter_org_id.eq(&r.reporter_org_id),
            reports::created_at.eq(r.created_at),
        ))
        .execute(c)?;
    Ok(())
}

/// The commercialization reports of many contracts, each contract's oldest first.
pub fn timelines(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<ReportRow>> {
    Ok(reports::table
        .filter(reports::contract_id.eq_any(ids))
        .order((reports::contract_id, reports::created_at, reports::id))
        .load(c)?)
}

/// The furthest stage reported so far.
pub fn max_stage_rank(c: &mut AnyConnection, contract_id: &str) -> AppResult<Option<i32>> {
    Ok(reports::table
        .filter(reports::contract_id.eq(contract_id))
        .select(diesel::dsl::max(reports::stage_rank))
        .first::<Option<i32>>(c)?)
}

#[derive(Debug, Clone, Queryable)]
pub struct DistributionRow {
    pub id: String,
    pub contract_id: String,
    pub net_income_fen: i64,
    pub inventor_share_bp: i32,
    pub inventor_pool_fen: i64,
    pub beneficiaries: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    /// The broker's line, taken out of the net income before the inventors' share.
    pub broker_commission_fen: i64,
}

pub fn insert_distribution(c: &mut AnyConnection, d: &DistributionRow) -> AppResult<()> {
    diesel::insert_into(distributions::table)
        .values((
            distributions::id.eq(&d.id),
            distributions::contract_id.eq(&d.contract_id),
            distributions::net_income_fen.eq(d.net_income_fen),
            distributions::inventor_share_bp.eq(d.inventor_share_bp),
            distributions::inventor_pool_fen.eq(d.inventor_pool_fen),
            distributions::beneficiaries.eq(&d.beneficiaries),
            distributions::recorded_by.eq(&d.recorded_by),
            distributions::created_at.eq(d.created_at),
            distributions::broker_commission_fen.eq(d.broker_commission_fen),
        ))
        .execute(c)?;
    Ok(())
}

/// Every income distribution of many contracts, each contract's newest first.
pub fn distributions_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<DistributionRow>> {
    Ok(distributions::table
        .filter(distributions::contract_id.eq_any(ids))
        .order((distributions::contract_id, distributions::created_at.desc(), distributions::id.desc()))
        .load(c)?)
}
