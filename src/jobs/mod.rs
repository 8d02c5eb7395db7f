//! Background work. A job is enqueued in the same transaction as the change that needs it
//! (the outbox); the worker loop claims due jobs, runs them, and retries failures with
//! exponential backoff. Jobs are idempotent, so several server instances may run workers.

pub mod queue;
pub mod sequencer;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{AnyConnection, Db};
use crate::error::{AppError, AppResult};
use crate::mail::Email;
use crate::service::accounts::{self, EmailPurpose};
use crate::service::notify::{self, Notice, Recipient};
use crate::service::{challenges, freshness, subscriptions, vouchers};
use crate::state::AppState;

/// Attempts before a job is parked as `failed` (retries back off 2, 4, 8, … minutes).
pub const MAX_ATTEMPTS: i32 = 8;

/// Every kind of background work, serialized as the job payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A liveness probe for the queue itself (used by operators and tests).
    Ping { note: String },
    /// Mint a single-use token and email its link (verification, password reset).
    SendAccountEmail { user_id: String, purpose: EmailPurpose },
    /// Send one email.
    SendEmail { to: String, email: Email },
    /// Deliver an in-app notice (and its email) to a user or an organization's members.
    Notify { to: Recipient, notice: Notice },
    /// Tell subscribers about a newly published item.
    MatchSubscriptions { target: String, entity_id: String },
    /// Send the daily subscription digests, then schedule the next run.
    DailyDigest,
    /// A challenge's bid deadline passed: persist `bidding_closed`.
    CloseBidding { challenge_id: String },
    /// A challenge's notice period (公示) ended: persist `in_progress`.
    EndPublicity { challenge_id: String },
    /// A voucher reached its expiry: its unreserved balance returns to the program.
    ExpireVoucher { voucher_id: String },
    /// A program's settlement deadline passed: open redemptions are rejected.
    CloseSettlement { program_id: String },
    /// An uploaded file's grace period ended: removed if it is still attached to nothing.
    DeleteOrphanFile { file_id: String },
    /// A registration's review deadline passed: tell its registrars (once).
    RegistrationOverdue { registration_id: String },
    /// Hourly: expire demands past their deadline, remind owners, mark listings that left
    /// matching for want of confirmation, then schedule the next run.
    FreshnessSweep,
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Ping { .. } => "ping",
            Job::SendAccountEmail { .. } => "send_account_email",
            Job::SendEmail { .. } => "send_email",
            Job::Notify { .. } => "notify",
            Job::MatchSubscriptions { .. } => "match_subscriptions",
            Job::DailyDigest => "daily_digest",
            Job::CloseBidding { .. } => "close_bidding",
            Job::EndPublicity { .. } => "end_publicity",
            Job::ExpireVoucher { .. } => "expire_voucher",
            Job::CloseSettlement { .. } => "close_settlement",
            Job::DeleteOrphanFile { .. } => "delete_orphan_file",
            Job::RegistrationOverdue { .. } => "registration_overdue",
            Job::FreshnessSweep => "freshness_sweep",
        }
    }
}

/// Enqueues `job` to run as soon as a worker polls, inside the caller's transaction.
pub fn enqueue(c: &mut AnyConnection, job: &Job, now: DateTime<Utc>) -> AppResult<()> {
    queue::enqueue_at(c, job, now, None, MAX_ATTEMPTS)
}

/// Enqueues `job` for `run_at` (deadlines, expiry); one waiting job per `key`.
pub fn schedule(c: &mut AnyConnection, job: &Job, run_at: DateTime<Utc>, key: &str) -> AppResult<()> {
    queue::enqueue_at(c, job, run_at, Some(key), MAX_ATTEMPTS)
}

/// Runs one job. Database effects happen in one transaction with the job's removal, so a
/// crash never applies them twice; side effects outside the database (mail) are at least once.
async fn execute(state: &AppState, claimed: &queue::ClaimedJob, job: Job) -> AppResult<()> {
    let id = claimed.id.clone();
    let now = state.clock.now();
    match job {
        Job::Ping { note } => {
            tracing::info!(%note, "ping job ran");
            state.db.tx(move |c| queue::complete(c, &id)).await
        }
        Job::SendAccountEmail { user_id, purpose } => {
            let auth = state.settings.auth.clone();
            let minted = state.db.tx(move |c| accounts::mint_email_token(c, &user_id, purpose, &auth, now)).await?;
            if let Some((to, display_name, token)) = minted {
                let base = &state.settings.server.public_base_url;
                let hours = state.settings.auth.email_token_hours;
                let email = match purpose {
                    EmailPurpose::VerifyEmail => {
                        Email::VerifyEmail { display_name, link: format!("{base}/verify-email?token={token}"), hours }
                    }
                    EmailPurpose::PasswordReset => Email::PasswordReset {
                        display_name,
                        link: format!("{base}/reset-password?token={token}"),
                        hours,
                    },
                };
                state.mailer.send(&to, &email).await.map_err(AppError::internal)?;
            }
            state.db.tx(move |c| queue::complete(c, &id)).await
        }
        Job::SendEmail { to, email } => {
            state.mailer.send(&to, &email).await.map_err(AppError::internal)?;
            state.db.tx(move |c| queue::complete(c, &id)).await
        }
        Job::MatchSubscriptions { target, entity_id } => {
            let policy = state.settings.matching.freshness();
            state
                .db
                .tx(move |c| {
                    subscriptions::deliver_matches(c, &target, &entity_id, &policy, now)?;
                    queue::complete(c, &id)
                })
                .await
        }
        Job::DailyDigest => {
            let base = state.settings.server.public_base_url.clone();
            state
                .db
                .tx(move |c| {
                    queue::complete(c, &id)?;
                    subscriptions::send_digests(c, &base, now)?;
                    Ok(())
                })
                .await
        }
        Job::CloseBidding { challenge_id } | Job::EndPublicity { challenge_id } => {
            // Both settle whatever the clock says is due for the challenge.
            state
                .db
                .tx(move |c| {
                    challenges::close_bidding(c, &challenge_id, now)?;
                    queue::complete(c, &id)
                })
                .await
        }
        Job::ExpireVoucher { voucher_id } => {
            state
                .db
                .tx(move |c| {
                    vouchers::expire(c, &voucher_id, now)?;
                    queue::complete(c, &id)
                })
                .await
        }
        Job::CloseSettlement { program_id } => {
            state
                .db
                .tx(move |c| {
                    vouchers::close_settlement(c, &program_id, now)?;
                    queue::complete(c, &id)
                })
                .await
        }
        Job::DeleteOrphanFile { file_id } => {
            let after = chrono::Duration::hours(state.settings.storage.orphan_hours);
            let key = state.db.tx(move |c| crate::service::files::claim_orphan(c, &file_id, after, now)).await?;
            if let Some(key) = key {
                state.storage.delete(&key).await?;
            }
            state.db.tx(move |c| queue::complete(c, &id)).await
        }
        Job::RegistrationOverdue { registration_id } => {
            state
                .db
                .tx(move |c| {
                    crate::service::registrations::notify_overdue(c, &registration_id, now)?;
                    queue::complete(c, &id)
                })
                .await
        }
        Job::FreshnessSweep => {
            let policy = state.settings.matching.freshness();
            let changed = state
                .db
                .tx(move |c| {
                    queue::complete(c, &id)?;
                    freshness::sweep(c, &policy, now)
                })
                .await?;
            if !changed.is_empty() {
                state.refresh_index(changed).await?;
            }
            Ok(())
        }
        Job::Notify { to, notice } => {
            let base = state.settings.server.public_base_url.clone();
            state
                .db
                .tx(move |c| {
                    notify::deliver(c, &to, &notice, &base, now)?;
                    queue::complete(c, &id)
                })
                .await
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
