//! `GET /admin/stats`: platform statistics computed by SQL aggregation (one grouped query per
//! figure, served by the status/kind indexes), including the funnel from published listings
//! to registered contracts.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;

use crate::db::AnyConnection;
use crate::error::AppResult;

use super::Actor;

#[derive(QueryableByName)]
struct Group {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ValueGroup {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    hi: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    lo: Option<i64>,
}

#[derive(QueryableByName)]
struct Single {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct MoneySum {
    #[diesel(sql_type = Nullable<BigInt>)]
    hi: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    lo: Option<i64>,
}

/// SQL selecting the sum of `column` as two parts, `hi` (whole 10^9 fen) and `lo` (the rest),
/// that cannot overflow a BIGINT on either backend however many rows there are: a plain
/// `SUM` of amounts near the ceiling fails on both (SQLite: integer overflow; PostgreSQL:
/// bigint out of range). Integer division and remainder truncate the same way on both, so
/// `hi × 10^9 + lo` is the exact sum.
fn money_sum(column: &str) -> String {
    format!("CAST(SUM({column} / 1000000000) AS BIGINT) AS hi, CAST(SUM({column} % 1000000000) AS BIGINT) AS lo")
}

fn join_sum(hi: Option<i64>, lo: Option<i64>) -> i64 {
    crate::domain::money::saturate(i128::from(hi.unwrap_or(0)) * 1_000_000_000 + i128::from(lo.unwrap_or(0)))
}

fn single_money(c: &mut AnyConnection, column: &str, from_where: &str) -> AppResult<i64> {
    let sum = diesel::sql_query(format!("SELECT {} {from_where}", money_sum(column))).get_result::<MoneySum>(c)?;
    Ok(join_sum(sum.hi, sum.lo))
}

fn groups(c: &mut AnyConnection, sql: &str) -> AppResult<BTreeMap<String, i64>> {
    Ok(diesel::sql_query(sql).load::<Group>(c)?.into_iter().map(|g| (g.key, g.n)).collect())
}

fn value_groups(c: &mut AnyConnection, sql: &str) -> AppResult<Vec<ValueBucket>> {
    Ok(diesel::sql_query(sql)
        .load::<ValueGroup>(c)?
        .into_iter()
        .map(|g| ValueBucket { key: g.key, contracts: g.n, amount_fen: join_sum(g.hi, g.lo) })
        .collect())
}

fn single(c: &mut AnyConnection, sql: &str) -> AppResult<i64> {
    Ok(diesel::sql_query(sql).get_result::<Single>(c)?.n)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValueBucket {
    pub key: String,
    pub contracts: i64,
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListingStats {
    pub by_status: BTreeMap<String, i64>,
    /// Published listings per technology field.
    pub published_by_field: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractStats {
    pub by_status: BTreeMap<String, i64>,
    /// Concluded contracts (signed or later): count and value per kind.
    pub value_by_kind: Vec<ValueBucket>,
    /// Per seller region (技术输出地).
    pub value_by_region: Vec<ValueBucket>,
    /// Per quarter of registration (or creation, before registration), e.g. `2026-Q4`.
    pub value_by_quarter: Vec<ValueBucket>,
    pub registered_amount_fen: i64,
}

/// 技术合同认定登记: registrations filed, decided and the registered 技术交易额.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationStats {
    /// Every filing (a refused contract filed again counts again; one-step registrations too).
    pub filed: i64,
    /// Registrations approved now (amended ones included, cancelled ones not).
    pub approved: i64,
    pub refused: i64,
    pub by_status: BTreeMap<String, i64>,
    /// Sum of the registered 技术交易额 of approved registrations.
    pub registered_amount_fen: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgramUse {
    pub program_id: String,
    pub name: String,
    pub total_budget_fen: i64,
    pub issued_fen: i64,
    pub settled_fen: i64,
    pub released_fen: i64,
    pub remaining_fen: i64,
    pub applications: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeStats {
    pub by_status: BTreeMap<String, i64>,
    pub bids: i64,
    pub bids_by_status: BTreeMap<String, i64>,
    pub paid_fen: i64,
    pub reward_fen: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    pub stage: String,
    pub count: i64,
    /// Share of the previous step that reached this one (null for the first step).
    pub conversion_from_previous: Option<f64>,
}

/// 技术经理人 at work.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BrokerStats {
    /// Broker profiles saved (live or not).
    pub profiles: i64,
    /// Connections a party invited a broker to.
    pub connections_with_broker: i64,
    /// Contracts drafted from such connections, in any status.
    pub contracts_with_broker: i64,
    /// 技术交易额 of brokered contracts that reached `registered` or later: their registered
    /// amount (else their amount), for `registered`, `performing` and `completed` contracts.
    pub brokered_amount_fen: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub organizations: BTreeMap<String, i64>,
    pub achievements: ListingStats,
    pub demands: ListingStats,
    pub connections: BTreeMap<String, i64>,
    pub contracts: ContractStats,
    pub registrations: RegistrationStats,
    pub vouchers: Vec<ProgramUse>,
    pub challenges: ChallengeStats,
    pub brokers: BrokerStats,
    /// Published listings → matched → connections requested → accepted → contracts signed
    /// → registered.
    pub funnel: Vec<FunnelStep>,
}

fn listing_stats(c: &mut AnyConnection, kind: &str) -> AppResult<ListingStats> {
    Ok(ListingStats {
        by_status: groups(
            c,
            &format!("SELECT status AS key, COUNT(*) AS n FROM listings WHERE kind = '{kind}' GROUP BY status"),
        )?,
        published_by_field: groups(
            c,
            &format!(
                "SELECT field AS key, COUNT(*) AS n FROM listings WHERE kind = '{kind}' AND status = 'published' GROUP BY field"
            ),
        )?,
    })
}

const CONCLUDED: &str = "status IN ('signed', 'registered', 'performing', 'completed')";

pub fn compute(c: &mut AnyConnection, actor: &Actor) -> AppResult<Stats> {
    actor.require_admin()?;
    let quarter = match c {
        AnyConnection::Postgresql(_) => {
            "CAST(EXTRACT(YEAR FROM COALESCE(registered_at, created_at)) AS INTEGER) || '-Q' || \
             CAST(EXTRACT(QUARTER FROM COALESCE(registered_at, created_at)) AS INTEGER)"
        }
        AnyConnection::Sqlite(_) => {
            "strftime('%Y', COALESCE(registered_at, created_at)) || '-Q' || \
             ((CAST(strftime('%m', COALESCE(registered_at, created_at)) AS INTEGER) + 2) / 3)"
        }
    };
    let contracts = ContractStats {
        by_status: groups(c, "SELECT status AS key, COUNT(*) AS n FROM contracts GROUP BY status")?,
        value_by_kind: value_groups(
            c,
            &format!(
                "SELECT kind AS key, COUNT(*) AS n, {} \
                 FROM contracts WHERE {CONCLUDED} GROUP BY kind ORDER BY kind",
                money_sum("amount_fen")
            ),
        )?,
        value_by_region: value_groups(
            c,
            &format!(
                "SELECT o.region AS key, COUNT(*) AS n, {} \
                 FROM contracts k JOIN organizations o ON o.id = k.seller_org_id \
                 WHERE k.{CONCLUDED} GROUP BY o.region ORDER BY o.region",
                money_sum("k.amount_fen")
            ),
        )?,
        value_by_quarter: value_groups(
            c,
            &format!(
                "SELECT {quarter} AS key, COUNT(*) AS n, {} \
                 FROM contracts WHERE {CONCLUDED} GROUP BY 1 ORDER BY 1",
                money_sum("amount_fen")
            ),
        )?,
        registered_amount_fen: single_money(
            c,
            "registered_amount_fen",
            "FROM contracts WHERE registration_no IS NOT NULL",
        )?,
    };

    let by_status = groups(c, "SELECT status AS key, COUNT(*) AS n FROM registrations GROUP BY status")?;
    let registrations = RegistrationStats {
        filed: by_status.values().sum(),
        approved: by_status.get("approved").copied().unwrap_or(0),
        refused: by_status.get("refused").copied().unwrap_or(0),
        registered_amount_fen: single_money(
            c,
            "registered_amount_fen",
            "FROM registrations WHERE status = 'approved'",
        )?,
        by_status,
    };

    let programs = crate::db::vouchers::list_programs(c, 0, 1_000)?.0;
    let mut vouchers = Vec::with_capacity(programs.len());
    for p in programs {
        let applications = groups(
            c,
            &format!(
                "SELECT status AS key, COUNT(*) AS n FROM voucher_applications WHERE program_id = '{}' GROUP BY status",
                p.id.replace('\'', "")
            ),
        )?;
        vouchers.push(ProgramUse {
            remaining_fen: p.remaining_fen(),
            program_id: p.id,
            name: p.name,
            total_budget_fen: p.total_budget_fen,
            issued_fen: p.issued_fen,
            settled_fen: p.settled_fen,
            released_fen: p.released_fen,
            applications,
        });
    }

    let challenges = ChallengeStats {
        by_status: groups(c, "SELECT status AS key, COUNT(*) AS n FROM challenges GROUP BY status")?,
        bids: single(c, "SELECT COUNT(*) AS n FROM bids")?,
        bids_by_status: groups(c, "SELECT status AS key, COUNT(*) AS n FROM bids GROUP BY status")?,
        paid_fen: single_money(c, "paid_fen", "FROM challenges")?,
        reward_fen: single_money(
            c,
            "reward_fen",
            "FROM challenges WHERE status NOT IN ('draft', 'pending_review', 'rejected')",
        )?,
    };

    let counts = [
        ("published_listings", "SELECT COUNT(*) AS n FROM listings WHERE published_at IS NOT NULL"),
        ("matched", "SELECT COUNT(*) AS n FROM listings WHERE first_matched_at IS NOT NULL"),
        ("connections_requested", "SELECT COUNT(DISTINCT listing_id) AS n FROM connections"),
        (
            "connections_accepted",
            "SELECT COUNT(DISTINCT listing_id) AS n FROM connections WHERE status IN ('accepted', 'contracted')",
        ),
        (
            "contracts_signed",
            "SELECT COUNT(*) AS n FROM contracts WHERE status IN ('signed', 'registered', 'performing', 'completed')",
        ),
        ("contracts_registered", "SELECT COUNT(*) AS n FROM contracts WHERE registration_no IS NOT NULL"),
    ];
    let mut funnel: Vec<FunnelStep> = Vec::with_capacity(counts.len());
    for (stage, sql) in counts {
        let count = single(c, sql)?;
        let conversion_from_previous = funnel.last().map(|prev| {
            if prev.count > 0 { (count as f64 / prev.count as f64 * 10_000.0).round() / 10_000.0 } else { 0.0 }
        });
        funnel.push(FunnelStep { stage: stage.to_owned(), count, conversion_from_previous });
    }

    let brokers = BrokerStats {
        profiles: single(c, "SELECT COUNT(*) AS n FROM broker_profiles")?,
        connections_with_broker: single(c, "SELECT COUNT(*) AS n FROM connections WHERE broker_id IS NOT NULL")?,
        contracts_with_broker: single(c, "SELECT COUNT(*) AS n FROM contracts WHERE broker_id IS NOT NULL")?,
        brokered_amount_fen: single_money(
            c,
            "COALESCE(registered_amount_fen, amount_fen)",
            "FROM contracts WHERE broker_id IS NOT NULL AND status IN ('registered', 'performing', 'completed')",
        )?,
    };

    Ok(Stats {
        organizations: groups(
            c,
            "SELECT kind || ':' || status AS key, COUNT(*) AS n FROM organizations GROUP BY kind, status",
        )?,
        achievements: listing_stats(c, "achievement")?,
        demands: listing_stats(c, "demand")?,
        connections: groups(c, "SELECT status AS key, COUNT(*) AS n FROM connections GROUP BY status")?,
        contracts,
        registrations,
        vouchers,
        challenges,
        brokers,
        funnel,
    })
}
