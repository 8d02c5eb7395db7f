//! Queries on 技术经理人 (broker) profiles and the figures of their work.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{broker_profiles as brokers, connections, contracts, organizations, users};
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct BrokerRow {
    pub id: String,
    pub user_id: String,
    pub org_id: String,
    /// JSON array of technology fields.
    pub fields: String,
    pub certificate_no: String,
    pub years_of_practice: i32,
    pub bio: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A live profile with the names its views show.
#[derive(Debug, Clone)]
pub struct ListedBroker {
    pub row: BrokerRow,
    pub name: String,
    pub org_name: String,
    pub region: String,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = brokers)]
pub struct BrokerChanges<'a> {
    pub org_id: &'a str,
    pub fields: &'a str,
    pub certificate_no: &'a str,
    pub years_of_practice: i32,
    pub bio: &'a str,
    pub updated_at: NaiveDateTime,
}

pub fn insert(
    c: &mut AnyConnection,
    id: &str,
    user_id: &str,
    row: &BrokerChanges<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(brokers::table)
        .values((brokers::id.eq(id), brokers::user_id.eq(user_id), row, brokers::created_at.eq(now)))
        .execute(c)
}

pub fn update(c: &mut AnyConnection, id: &str, row: &BrokerChanges<'_>) -> AppResult<()> {
    diesel::update(brokers::table.find(id)).set(row).execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<BrokerRow>> {
    Ok(brokers::table.find(id).first(c).optional()?)
}

pub fn find_by_user(c: &mut AnyConnection, user_id: &str) -> AppResult<Option<BrokerRow>> {
    Ok(brokers::table.filter(brokers::user_id.eq(user_id)).first(c).optional()?)
}

#[derive(Debug, Default)]
pub struct BrokerFilter {
    /// Matched against the broker's name, bio and certificate number.
    pub q: Option<String>,
    pub field: Option<String>,
    pub region: Option<String>,
    pub id: Option<String>,
}

/// Live profiles: the user is still a member of the profile's organization, which is a
/// verified service provider. Newest first, ties broken by id.
pub fn list(c: &mut AnyConnection, f: &BrokerFilter, offset: i64, limit: i64) -> AppResult<(Vec<ListedBroker>, i64)> {
    let build = || {
        let mut q = brokers::table
            .inner_join(
                users::table.on(users::id.eq(brokers::user_id).and(users::org_id.eq(brokers::org_id.nullable()))),
            )
            .inner_join(organizations::table.on(organizations::id.eq(brokers::org_id)))
            .filter(organizations::status.eq("verified"))
            .filter(organizations::kind.eq("service_provider"))
            .into_boxed();
        if let Some(text) = &f.q {
            let pattern = super::like_pattern(text);
            q = q.filter(
                users::display_name
                    .like(pattern.clone())
                    .escape('\\')
                    .or(brokers::bio.like(pattern.clone()).escape('\\'))
                    .or(brokers::certificate_no.like(pattern).escape('\\')),
            );
        }
        if let Some(field) = &f.field {
            q = q.filter(brokers::fields.like(format!("%\"{field}\"%")));
        }
        if let Some(region) = &f.region {
            q = q.filter(organizations::region.eq(region.clone()));
        }
        if let Some(id) = &f.id {
            q = q.filter(brokers::id.eq(id.clone()));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows: Vec<(BrokerRow, String, String, String)> = build()
        .select((brokers::all_columns, users::display_name, organizations::name, organizations::region))
        .order((brokers::created_at.desc(), brokers::id))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    let rows = rows.into_iter().map(|(row, name, org_name, region)| ListedBroker { row, name, org_name, region });
    Ok((rows.collect(), total))
}

/// What a broker has done: connections it was invited to, contracts from them, and the
/// 技术交易额 of those contracts that reached `registered` or later.
pub struct BrokerFigures {
    pub connections: i64,
    pub contracts: i64,
    pub amounts: Vec<(Option<i64>, i64)>,
}

pub fn figures(c: &mut AnyConnection, broker_id: &str) -> AppResult<BrokerFigures> {
    let connections = connections::table.filter(connections::broker_id.eq(broker_id)).count().get_result(c)?;
    let contracts_n = contracts::table.filter(contracts::broker_id.eq(broker_id)).count().get_result(c)?;
    let amounts = contracts::table
        .filter(contracts::broker_id.eq(broker_id))
        .filter(contracts::status.eq_any(["registered", "performing", "completed"]))
        .select((contracts::registered_amount_fen, contracts::amount_fen))
        .load(c)?;
    Ok(BrokerFigures { connections, contracts: contracts_n, amounts })
}

/// Whether the broker profile `broker_id` was invited to a connection about `listing_id`.
pub fn invited_about(c: &mut AnyConnection, broker_id: &str, listing_id: &str) -> AppResult<bool> {
    let n: i64 = connections::table
        .filter(connections::broker_id.eq(broker_id))
        .filter(connections::listing_id.eq(listing_id))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}
