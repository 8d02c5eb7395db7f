//! Row locks that order writers. Every write flow locks the root row of the aggregate it
//! changes before it reads anything it will decide on, so the reads that follow see the
//! latest committed state and two flows on one aggregate run one after the other. The order
//! across aggregates is written down in `docs/architecture.md` ("Lock order"):
//!
//! voucher program → application → voucher → redemption; instrument (new bookings) → voucher;
//! voucher program → instrument booking (a booking giving its reservation back); challenge → bid → progress and
//! payments; contract → payments, reports, distribution (then the listing it transfers).
//!
//! PostgreSQL: `SELECT … FOR NO KEY UPDATE` (it does not block inserts of rows referencing
//! the locked one). SQLite: a no-op, since a write transaction (`BEGIN IMMEDIATE`) already
//! holds the database's single write lock.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::AnyConnection;
use crate::error::AppResult;

/// The aggregate roots that are locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    VoucherProgram,
    Challenge,
    Contract,
    Organization,
    Instrument,
}

impl Root {
    fn table(self) -> &'static str {
        match self {
            Self::VoucherProgram => "voucher_programs",
            Self::Challenge => "challenges",
            Self::Contract => "contracts",
            Self::Organization => "organizations",
            Self::Instrument => "instruments",
        }
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Locks the row `id` of `root` until the transaction ends; false when there is no such row.
pub fn lock(c: &mut AnyConnection, root: Root, id: &str) -> AppResult<bool> {
    match c {
        AnyConnection::Postgresql(pg) => {
            let rows: Vec<Locked> =
                diesel::sql_query(format!("SELECT id FROM {} WHERE id = $1 FOR NO KEY UPDATE", root.table()))
                    .bind::<Text, _>(id)
                    .load(pg)?;
            Ok(rows.iter().any(|r| r.id == id))
        }
        AnyConnection::Sqlite(_) => Ok(true),
    }
}
