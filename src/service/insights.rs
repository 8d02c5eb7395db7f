//! Listing insights for its owner: how often it appeared in match lists and in search, the
//! connection requests it drew and how they were answered, per ISO week.
//!
//! Search appearances are counted on the read path, so they are not written there: a search
//! adds its page's ids to an in-process tally per (listing, Asia/Shanghai day), and a
//! background task adds the tally to `search_appearances` every `FLUSH_EVERY` (one UPDATE per
//! listing and day, not per result). The tally is bounded; beyond `MAX_KEYS` new keys are
//! dropped until the next flush.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::listings::ListingRow;
use crate::db::time::from_db;
use crate::db::{self, AnyConnection, Db};
use crate::domain::error::Rule;
use crate::domain::freshness::{self as rules, Event, Insights};
use crate::domain::listing::ListingKind;
use crate::domain::match_event::MatchEventKind;
use crate::domain::voucher::{end_of_shanghai_day, shanghai_date};
use crate::error::{AppError, AppResult};

use super::load_actor;

/// The tally is written at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Distinct (listing, day) keys the tally holds between flushes.
const MAX_KEYS: usize = 100_000;

/// Search appearances not yet written (cheap to clone, one per application).
#[derive(Clone, Default)]
pub struct SearchTally {
    counts: Arc<Mutex<HashMap<(String, NaiveDate), i64>>>,
}

impl SearchTally {
    /// Counts one appearance of each listing on a results page shown at `at`.
    pub fn shown(&self, ids: &[String], at: DateTime<Utc>) {
        if ids.is_empty() {
            return;
        }
        let day = shanghai_date(at);
        let Ok(mut counts) = self.counts.lock() else { return };
        for id in ids {
            if let Some(n) = counts.get_mut(&(id.clone(), day)) {
                *n += 1;
            } else if counts.len() < MAX_KEYS {
                counts.insert((id.clone(), day), 1);
            }
        }
    }

    /// Writes what has been counted so far (the background task, shutdown, tests).
    pub async fn flush(&self, db: &Db) -> AppResult<()> {
        let taken = match self.counts.lock() {
            Ok(mut counts) => std::mem::take(&mut *counts),
            Err(_) => return Ok(()),
        };
        if taken.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<((String, NaiveDate), i64)> = taken.into_iter().collect();
        // One order for every writer, so two instances never wait on each other's rows.
        rows.sort();
        let rows = Arc::new(rows);
        db.tx(move |c| {
            for ((id, day), n) in rows.iter() {
                db::freshness::add_search_appearances(c, id, *day, *n)?;
            }
            Ok(())
        })
        .await
    }
}

/// Flushes the tally every [`FLUSH_EVERY`] until shutdown, then once more.
pub async fn run_writer(db: Db, tally: SearchTally, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => false,
            _ = shutdown.changed() => true,
        };
        if let Err(err) = tally.flush(&db).await {
            tracing::warn!(error = %err, "search appearances not stored");
        }
        if stop {
            return;
        }
    }
}

/// The listing whose insights are asked for, once the caller may see them: the owning
/// organization and admins (403 for others who can see the listing, 404 otherwise).
pub fn authorize(c: &mut AnyConnection, user_id: &str, kind: ListingKind, id: &str) -> AppResult<ListingRow> {
    let actor = load_actor(c, user_id)?;
    let row = super::listings::get(c, Some(&actor), kind, id)?;
    if !(actor.is_admin() || actor.is_member_of(&row.org_id)) {
        return Err(AppError::forbidden(Rule::InsightsOwnerOnly));
    }
    Ok(row)
}

/// The insights of `listing_id` over the `weeks` ISO weeks ending with the current one.
pub fn insights(c: &mut AnyConnection, listing_id: &str, weeks: u32, now: DateTime<Utc>) -> AppResult<Insights> {
    let empty = rules::empty_weeks(shanghai_date(now), weeks);
    let (Some(first), Some(last)) = (empty.first(), empty.last()) else {
        return Ok(rules::insights(empty, &[]));
    };
    let (from_day, to_day) = (first.starts, last.starts + chrono::Duration::days(6));
    let from = end_of_shanghai_day(from_day - chrono::Duration::days(1));
    let to = end_of_shanghai_day(to_day);
    let mut events: Vec<(NaiveDate, Event)> = Vec::new();
    for (day, n) in db::freshness::search_appearances(c, listing_id, from_day, to_day)? {
        events.push((day, Event::Searched { n }));
    }
    for (kind, org_id, source, reason, at) in db::freshness::match_events(c, listing_id, from, to)? {
        let event = match MatchEventKind::parse(&kind) {
            Some(MatchEventKind::Shown) => Event::Shown { viewer: format!("{org_id}|{}", source.unwrap_or_default()) },
            Some(MatchEventKind::Requested) => Event::Requested,
            Some(MatchEventKind::Accepted) => Event::Accepted,
            Some(MatchEventKind::Declined) => Event::Declined { reason },
            Some(MatchEventKind::Contracted) | None => continue,
        };
        events.push((shanghai_date(from_db(at)), event));
    }
    Ok(rules::insights(empty, &events))
}
