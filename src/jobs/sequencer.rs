//! The audit sequencer: chains committed audit entries into the hash chain shortly after
//! they commit. It wakes on every local commit (so under load one pass covers many entries)
//! and polls for entries written by other instances; on PostgreSQL an advisory lock that only
//! sequencers take lets one instance at a time do a pass.

use secrecy::ExposeSecret;
use std::time::Duration;

use crate::error::AppResult;
use crate::service::audit;
use crate::state::AppState;

pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let commits = state.db.commits();
    let poll = Duration::from_millis(state.settings.audit.sequencer_poll_ms.max(10));
    loop {
        tokio::select! {
            _ = commits.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(err) = drain(&state).await {
            tracing::warn!(error = %err, "audit sequencer pass failed; retrying");
        }
    }
}

/// Sequences until nothing is pending.
pub async fn drain(state: &AppState) -> AppResult<usize> {
    let key = state.settings.audit.checkpoint_key.clone();
    let batch = state.settings.audit.sequencer_batch;
    let mut total = 0;
    // A cheap read first: most wake-ups come from commits that wrote no audit entry, or
    // from this sequencer's own commit.
    while state.db.read(audit::pending).await? > 0 {
        let now = state.clock.now();
        let key = key.clone();
        let (done, lag_ms) = state
            .db
            .tx(move |c| {
                let oldest = crate::db::audit::oldest_pending_at(c)?;
                let done = audit::sequence(c, key.expose_secret().as_bytes(), batch, now)?;
                let lag = oldest.map_or(0, |at| (crate::db::time::to_db(now) - at).num_milliseconds());
                Ok((done, lag))
            })
            .await?;
        state.metrics.audit_lag_ms.set(lag_ms);
        total += done;
        if done == 0 {
            break;
        }
    }
    Ok(total)
}
