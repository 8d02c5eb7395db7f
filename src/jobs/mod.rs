//! Background work. A job is enqueued in the same transaction as the change that needs it
//! (the outbox); the worker loop claims due jobs, runs them, and retries failures with
//! exponential backoff. Jobs are idempotent, so several server instances may run workers.

pub mod queue;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{AnyConnection, Db};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Every kind of background work, serialized as the job payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A liveness probe for the queue itself (used by operators and tests).
    Ping { note: String },
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Ping { .. } => "ping",
        }
    }
}

/// Enqueues `job` to run as soon as a worker polls, inside the caller's transaction.
pub fn enqueue(
    c: &mut AnyConnection,
    state_settings: &crate::config::JobSettings,
    job: &Job,
    now: DateTime<Utc>,
) -> AppResult<()> {
    queue::enqueue_at(c, job, now, None, state_settings.max_attempts)
}

/// Runs one job. Database effects happen in one transaction with the job's removal, so a
/// crash never applies them twice; side effects outside the database (mail) are at least once.
async fn execute(state: &AppState, claimed: &queue::ClaimedJob, job: Job) -> AppResult<()> {
    let id = claimed.id.clone();
    match job {
        Job::Ping { note } => {
            tracing::info!(%note, "ping job ran");
            state.db.tx(move |c| queue::complete(c, &id)).await
        }
    }
}

/// Claims and runs due jobs until none is due; returns how many ran (successfully or not).
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let mut ran = 0;
    loop {
        let now = state.clock.now();
        let lease = chrono::Duration::seconds(state.settings.jobs.lease_secs);
        let db = state.db.clone();
        let claimed = crate::db::blocking(move || {
            let mut c = db.conn()?;
            queue::claim(&mut c, now, lease)
        })
        .await?;
        let Some(claimed) = claimed else { return Ok(ran) };
        ran += 1;
        let outcome = match serde_json::from_str::<Job>(&claimed.payload) {
            Ok(job) => execute(state, &claimed, job).await,
            Err(e) => Err(AppError::internal(anyhow::anyhow!("undecodable {} job: {e}", claimed.kind))),
        };
        if let Err(err) = outcome {
            tracing::warn!(job.id = %claimed.id, job.kind = %claimed.kind, attempt = claimed.attempts, error = %err, "job failed");
            let failed = claimed.clone();
            let message = err.to_string();
            let now = state.clock.now();
            state.db.tx(move |c| queue::fail(c, &failed, &message, now)).await?;
        }
    }
}

/// The worker loop: polls every `interval` until `shutdown` flips.
pub async fn worker(state: AppState, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(err) = run_due(&state).await {
            tracing::warn!(error = %err, "job worker pass failed; retrying next tick");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// (pending, failed) job counts for `/metrics`.
pub async fn queue_depth(db: &Db) -> AppResult<(i64, i64)> {
    db.read(queue::depth).await
}
