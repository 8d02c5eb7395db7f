//! The jobs table: enqueue (inside the caller's transaction), claim, finish, retry.
//!
//! Claiming differs by backend: PostgreSQL uses `FOR UPDATE SKIP LOCKED` so several
//! instances take different jobs; SQLite has a single writer and claims inside an
//! immediate transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::db::schema::jobs;
use crate::db::time::{from_db, to_db};
use crate::db::{AnyConnection, write_tx};
use crate::error::{AppError, AppResult};

use super::Job;

#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct ClaimedJob {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
}

/// Enqueues `job` to run at `run_at` inside the caller's transaction (the outbox). When
/// `dedup_key` is set and a job with that key is still waiting, nothing is added.
pub fn enqueue_at(
    c: &mut AnyConnection,
    job: &Job,
    run_at: DateTime<Utc>,
    dedup_key: Option<&str>,
    max_attempts: i32,
) -> AppResult<()> {
    let payload = serde_json::to_string(job).map_err(AppError::internal)?;
    let row = (
        jobs::id.eq(uuid::Uuid::new_v4().to_string()),
        jobs::kind.eq(job.kind()),
        jobs::payload.eq(payload),
        jobs::dedup_key.eq(dedup_key),
        jobs::status.eq("pending"),
        jobs::run_at.eq(to_db(run_at)),
        jobs::attempts.eq(0),
        jobs::max_attempts.eq(max_attempts),
        jobs::created_at.eq(to_db(Utc::now())),
    );
    if dedup_key.is_none() {
        diesel::insert_into(jobs::table).values(row).execute(c)?;
        return Ok(());
    }
    // A savepoint keeps a duplicate key from aborting the caller's transaction on PostgreSQL.
    let inserted = c.transaction(|c| diesel::insert_into(jobs::table).values(row).execute(c));
    match inserted {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Claims the next due job, locking it for `lease` so no other worker takes it meanwhile.
pub fn claim(c: &mut AnyConnection, now: DateTime<Utc>, lease: chrono::Duration) -> AppResult<Option<ClaimedJob>> {
    let now_db = to_db(now);
    let until = to_db(now + lease);
    match c {
        AnyConnection::Postgresql(pg) => {
            let claimed = diesel::sql_query(
                "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs \
                             WHERE status = 'pending' AND run_at <= $2 \
                               AND (locked_until IS NULL OR locked_until <= $2) \
                             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, kind, payload, attempts, max_attempts",
            )
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now_db)
            .get_result::<ClaimedJob>(pg)
            .optional()?;
            Ok(claimed)
        }
        AnyConnection::Sqlite(_) => write_tx(c, |c| {
            let next: Option<String> = jobs::table
                .filter(jobs::status.eq("pending"))
                .filter(jobs::run_at.le(now_db))
                .filter(jobs::locked_until.is_null().or(jobs::locked_until.le(now_db)))
                .order((jobs::run_at, jobs::id))
                .select(jobs::id)
                .first(c)
                .optional()?;
            let Some(id) = next else { return Ok(None) };
            diesel::update(jobs::table.find(&id))
                .set((jobs::locked_until.eq(until), jobs::attempts.eq(jobs::attempts + 1)))
                .execute(c)?;
            let job = jobs::table
                .find(&id)
                .select((jobs::id, jobs::kind, jobs::payload, jobs::attempts, jobs::max_attempts))
                .first::<ClaimedJob>(c)?;
            Ok(Some(job))
        }),
    }
}

/// Removes a finished job.
pub fn complete(c: &mut AnyConnection, id: &str) -> AppResult<()> {
    diesel::delete(jobs::table.find(id)).execute(c)?;
    Ok(())
}

/// Records a failed attempt: retried after 2^attempts minutes, or parked as `failed` once
/// `max_attempts` is reached. A parked job gives up its dedup key, so the work it stood for
/// (a recurring digest, say) can be scheduled again.
pub fn fail(c: &mut AnyConnection, job: &ClaimedJob, error: &str, now: DateTime<Utc>) -> AppResult<()> {
    let error: String = error.chars().take(2000).collect();
    if job.attempts >= job.max_attempts {
        diesel::update(jobs::table.find(&job.id))
            .set((
                jobs::status.eq("failed"),
                jobs::dedup_key.eq(None::<String>),
                jobs::last_error.eq(error),
                jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(c)?;
    } else {
        let run_at = now + backoff(job.attempts);
        diesel::update(jobs::table.find(&job.id))
            .set((
                jobs::run_at.eq(to_db(run_at)),
                jobs::last_error.eq(error),
                jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Delay before retry number `attempts + 1`: 2^attempts minutes, capped at a day.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = attempts.clamp(0, 11) as u32;
    chrono::Duration::minutes(2_i64.pow(exp).min(24 * 60))
}

/// (pending, failed) counts.
pub fn depth(c: &mut AnyConnection) -> AppResult<(i64, i64)> {
    let pending = jobs::table.filter(jobs::status.eq("pending")).count().get_result(c)?;
    let failed = jobs::table.filter(jobs::status.eq("failed")).count().get_result(c)?;
    Ok((pending, failed))
}

/// A job row as seen by operators and tests.
#[derive(Debug, Clone, Queryable)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub run_at: chrono::NaiveDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl JobRow {
    pub fn run_at(&self) -> DateTime<Utc> {
        from_db(self.run_at)
    }
}

pub fn list(c: &mut AnyConnection) -> AppResult<Vec<JobRow>> {
    Ok(jobs::table
        .order((jobs::run_at, jobs::id))
        .select((jobs::id, jobs::kind, jobs::payload, jobs::status, jobs::run_at, jobs::attempts, jobs::last_error))
        .load(c)?)
}
