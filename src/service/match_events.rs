//! The match event log: what match lists showed (impressions) and what came of it (connection
//! requested, accepted, declined, contracted), and the online report built from it.
//!
//! Impressions are recorded on the read path, so they are not written there: a match request
//! hands them to a bounded in-process queue and a background writer stores them in batches
//! (at most `FLUSH_EVERY` late). When the queue is full they are dropped and counted
//! (`match_impressions_total{outcome="dropped"}`): serving matches matters more than counting
//! them. Outcomes are written in the transaction of the connection change they describe, so
//! they are exact, and carry the rank and mode of the latest impression of that listing to the
//! requesting organization within `ATTRIBUTION_DAYS`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::db::match_events::{self as events, Attribution, Impression, Outcome};
use crate::db::time::to_db;
use crate::db::{AnyConnection, Db};
use crate::domain::match_event::{self as rules, Count, MatchEventKind, MatchMode, Report};
use crate::error::AppResult;
use crate::metrics::Metrics;

/// A request is credited to the latest impression of its listing to its organization within
/// this many days.
pub const ATTRIBUTION_DAYS: i64 = 30;
/// Impressions waiting for the writer before new ones are dropped.
const QUEUE: usize = 20_000;
/// The writer stores what it has at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// …and at once when this many are waiting.
const BATCH: usize = 500;

enum Message {
    Shown(Vec<Impression>),
    Flush(oneshot::Sender<()>),
}

/// The sending side of the impression queue (cheap to clone, one per application).
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Message>,
    metrics: Arc<Metrics>,
}

/// The receiving side, handed to [`run_writer`].
pub struct Writer {
    queue: mpsc::Receiver<Message>,
    metrics: Arc<Metrics>,
}

pub fn channel(metrics: Arc<Metrics>) -> (Recorder, Writer) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Recorder { queue: tx, metrics: metrics.clone() }, Writer { queue: rx, metrics })
}

impl Recorder {
    /// Queues the impressions of one match list shown to `org_id`: `listings` best first.
    pub fn shown(
        &self,
        org_id: &str,
        source_listing_id: &str,
        listings: &[String],
        mode: MatchMode,
        at: DateTime<Utc>,
    ) {
        if listings.is_empty() {
            return;
        }
        let batch: Vec<Impression> = listings
            .iter()
            .zip(1..)
            .map(|(listing_id, rank)| Impression {
                org_id: org_id.to_owned(),
                source_listing_id: source_listing_id.to_owned(),
                listing_id: listing_id.clone(),
                rank,
                mode,
                at,
            })
            .collect();
        let n = batch.len() as u64;
        if self.queue.try_send(Message::Shown(batch)).is_err() {
            self.metrics.match_impressions.with_label_values(&["dropped"]).inc_by(n);
        }
    }

    /// Waits until everything queued before this call is stored (tests, shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// Stores queued impressions until shutdown, then stores what is left.
pub async fn run_writer(db: Db, mut writer: Writer, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut pending: Vec<Impression> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        let (mut stop, mut ticked) = (false, false);
        tokio::select! {
            message = writer.queue.recv() => match message {
                Some(Message::Shown(batch)) => pending.extend(batch),
                Some(Message::Flush(done)) => waiting.push(done),
                None => stop = true,
            },
            _ = tick.tick() => ticked = true,
            _ = shutdown.changed() => stop = true,
        }
        // Take whatever else is already queued before writing.
        while let Ok(message) = writer.queue.try_recv() {
            match message {
                Message::Shown(batch) => pending.extend(batch),
                Message::Flush(done) => waiting.push(done),
            }
        }
        let due = stop || ticked || !waiting.is_empty() || pending.len() >= BATCH;
        if due && !pending.is_empty() {
            store(&db, &writer.metrics, std::mem::take(&mut pending)).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
        if stop {
            return;
        }
    }
}

async fn store(db: &Db, metrics: &Metrics, batch: Vec<Impression>) {
    let n = batch.len() as u64;
    // Shared, not moved: `Db::tx` may run the closure again after a collision.
    let rows = Arc::new(batch);
    match db.tx(move |c| events::insert_shown(c, &rows)).await {
        Ok(()) => metrics.match_impressions.with_label_values(&["written"]).inc_by(n),
        Err(err) => {
            tracing::warn!(error = %err, impressions = n, "match impressions not stored");
            metrics.match_impressions.with_label_values(&["dropped"]).inc_by(n);
        }
    }
}

/// Records a connection request, credited to the match list that showed the listing to the
/// requesting organization (if one did within [`ATTRIBUTION_DAYS`]).
pub fn requested(
    c: &mut AnyConnection,
    org_id: &str,
    listing_id: &str,
    connection_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let since = now - chrono::Duration::days(ATTRIBUTION_DAYS);
    let attribution = events::latest_impression(c, org_id, listing_id, since)?.unwrap_or(Attribution::NONE);
    events::insert_outcome(
        c,
        &Outcome {
            kind: MatchEventKind::Requested,
            org_id,
            listing_id,
            connection_id,
            attribution: &attribution,
            reason: None,
            at: now,
        },
    )
}

/// Records what became of a connection (accepted, declined with `reason`, contracted), with
/// the attribution of its request. Connections older than the event log have none and are
/// left out.
pub fn outcome(
    c: &mut AnyConnection,
    connection_id: &str,
    kind: MatchEventKind,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some((org_id, listing_id, attribution)) = events::request_of(c, connection_id)? else {
        return Ok(());
    };
    events::insert_outcome(
        c,
        &Outcome {
            kind,
            org_id: &org_id,
            listing_id: &listing_id,
            connection_id,
            attribution: &attribution,
            reason,
            at: now,
        },
    )
}

/// The online report over `[from, to)`.
pub fn report(c: &mut AnyConnection, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Report> {
    let (from, to) = (to_db(from), to_db(to));
    let mut counts = Vec::new();
    for row in events::impressions(c, from, to)? {
        let mode = row.mode.as_deref().and_then(MatchMode::parse);
        counts.push(Count { kind: MatchEventKind::Shown, rank: row.rank, mode, reason: None, n: row.n });
    }
    for row in events::outcomes(c, from, to)? {
        let Some(kind) = MatchEventKind::parse(&row.kind) else { continue };
        let mode = row.mode.as_deref().and_then(MatchMode::parse);
        counts.push(Count { kind, rank: row.rank, mode, reason: row.reason, n: row.n });
    }
    Ok(rules::report(&counts))
}

/// The report as a table for a terminal.
pub fn render(report: &Report, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    use std::fmt::Write;
    fn pct(v: Option<f64>) -> String {
        v.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
    }
    let mut out = String::new();
    let _ = writeln!(out, "match events {} – {}", from.format("%Y-%m-%d %H:%M"), to.format("%Y-%m-%d %H:%M"));
    let _ = writeln!(
        out,
        "{:<14} {:>11} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "slice", "impressions", "requests", "req/impr", "accepted", "declined", "acceptance", "contracted"
    );
    let mut line = |name: &str, f: &rules::Funnel| {
        let _ = writeln!(
            out,
            "{:<14} {:>11} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
            name,
            f.impressions,
            f.requests,
            pct(f.request_rate()),
            f.accepted,
            f.declined,
            pct(f.acceptance()),
            f.contracted
        );
    };
    line("all matches", &report.total);
    for row in &report.by_rank {
        line(&format!("rank {}", row.ranks), &row.funnel);
    }
    for row in &report.by_mode {
        line(&format!("mode {}", row.mode), &row.funnel);
    }
    line("not matched", &report.not_from_matches);
    if !report.decline_reasons.is_empty() {
        let reasons: Vec<String> = report.decline_reasons.iter().map(|(code, n)| format!("{code} {n}")).collect();
        let _ = writeln!(out, "decline reasons (matched): {}", reasons.join(", "));
    }
    out
}
