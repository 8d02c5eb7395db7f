//! Timestamps are stored the same way on both backends: a `TIMESTAMP` column holding UTC,
//! truncated to microseconds and always bound from Rust (never the database's `now`).

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// UTC time → the value stored in a `TIMESTAMP` column.
pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    let naive = t.naive_utc();
    naive.with_nanosecond(naive.nanosecond() / 1_000 * 1_000).unwrap_or(naive)
}

/// A stored `TIMESTAMP` → UTC time.
pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
