//! Queries on registration offices, contract registrations (认定登记) and their steps.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{
    contracts, registration_offices as offices, registration_steps as steps, registrations as regs, users,
};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = offices)]
pub struct OfficeRow {
    pub id: String,
    pub org_id: String,
    pub region: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_office(c: &mut AnyConnection, row: &OfficeRow) -> QueryResult<usize> {
    diesel::insert_into(offices::table).values(row).execute(c)
}

/// Whether `org_id` is a registration office for `region`.
pub fn is_office(c: &mut AnyConnection, org_id: &str, region: &str) -> AppResult<bool> {
    let n: i64 =
        offices::table.filter(offices::org_id.eq(org_id)).filter(offices::region.eq(region)).count().get_result(c)?;
    Ok(n > 0)
}

/// The organizations designated for `region`.
pub fn office_orgs(c: &mut AnyConnection, region: &str) -> AppResult<Vec<String>> {
    Ok(offices::table.filter(offices::region.eq(region)).select(offices::org_id).order(offices::org_id).load(c)?)
}

/// The platform administrators (who stand in for a region without an office).
pub fn admin_ids(c: &mut AnyConnection) -> AppResult<Vec<String>> {
    Ok(users::table
        .filter(users::role.eq("admin"))
        .filter(users::status.ne("disabled"))
        .select(users::id)
        .order(users::id)
        .load(c)?)
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = regs)]
pub struct RegistrationRow {
    pub id: String,
    pub contract_id: String,
    pub region: String,
    pub status: String,
    pub declared_amount_fen: i64,
    pub registered_amount_fen: Option<i64>,
    pub registration_no: Option<String>,
    pub note: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub due_on: NaiveDate,
    pub overdue_notified_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Fails with a unique violation when the contract already has a live registration.
pub fn insert(c: &mut AnyConnection, row: &RegistrationRow) -> QueryResult<usize> {
    diesel::insert_into(regs::table).values(row).execute(c)
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<RegistrationRow>> {
    Ok(regs::table.find(id).first(c).optional()?)
}

/// The contract's latest registration (ids are time-ordered UUIDs).
pub fn latest_of(c: &mut AnyConnection, contract_id: &str) -> AppResult<Option<RegistrationRow>> {
    Ok(regs::table
        .filter(regs::contract_id.eq(contract_id))
        .order((regs::created_at.desc(), regs::id.desc()))
        .first(c)
        .optional()?)
}

/// What a guarded status change also writes.
#[derive(Default, AsChangeset)]
#[diesel(table_name = regs)]
pub struct Changes<'a> {
    pub status: Option<&'a str>,
    pub registered_amount_fen: Option<i64>,
    pub registration_no: Option<&'a str>,
    pub filed_at: Option<NaiveDateTime>,
    pub due_on: Option<NaiveDate>,
    pub reason: Option<&'a str>,
    pub decided_by: Option<&'a str>,
    pub decided_at: Option<NaiveDateTime>,
}

/// Applies `changes` if the registration is still `from`; false otherwise.
pub fn update(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    changes: &Changes<'_>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(regs::table.find(id).filter(regs::status.eq(from)))
        .set((changes, regs::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}

/// Records that the office was told the review is overdue; false if it already was (or the
/// registration left review).
pub fn mark_overdue_notified(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(
        regs::table
            .find(id)
            .filter(regs::overdue_notified_at.is_null())
            .filter(regs::status.eq_any(["filed", "under_review"])),
    )
    .set(regs::overdue_notified_at.eq(to_db(now)))
    .execute(c)?;
    Ok(n == 1)
}

/// Whether a registration number is used by any contract or registration (cancelled ones
/// keep theirs: a number is never issued twice).
pub fn number_taken(c: &mut AnyConnection, number: &str) -> AppResult<bool> {
    let on_contracts: i64 = contracts::table.filter(contracts::registration_no.eq(number)).count().get_result(c)?;
    let on_registrations: i64 = regs::table.filter(regs::registration_no.eq(number)).count().get_result(c)?;
    Ok(on_contracts + on_registrations > 0)
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = steps)]
pub struct StepRow {
    pub id: String,
    pub registration_id: String,
    pub seq: i32,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: String,
    pub note: Option<String>,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_step(c: &mut AnyConnection, row: &StepRow) -> AppResult<()> {
    diesel::insert_into(steps::table).values(row).execute(c)?;
    Ok(())
}

pub fn next_seq(c: &mut AnyConnection, registration_id: &str) -> AppResult<i32> {
    let max: Option<i32> = steps::table
        .filter(steps::registration_id.eq(registration_id))
        .select(diesel::dsl::max(steps::seq))
        .first(c)?;
    Ok(max.unwrap_or(0) + 1)
}

pub fn steps_of(c: &mut AnyConnection, registration_id: &str) -> AppResult<Vec<StepRow>> {
    Ok(steps::table.filter(steps::registration_id.eq(registration_id)).order(steps::seq).load(c)?)
}
