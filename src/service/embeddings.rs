//! Keeps `listing_vectors` and the in-process vector index in step with the published
//! listings: each pass embeds a batch of listings whose vectors are missing or stale
//! (published, edited, or made by another model), then loads every vector written since the
//! last pass — its own and other instances' — into the index. A failing embeddings server
//! marks the index degraded (matching falls back to text for what has no vector) and the next
//! pass tries again; nothing needs a restart.

use std::time::Duration;

use crate::db::vectors::Cursor;

/// Vectors read into the index per query.
const LOAD_PAGE: i64 = 1000;
use crate::clock::Clock;
use crate::db::{self, Db};
use crate::matching::embeddings::{Embedder, Quantized, Side, from_bytes};
use crate::matching::vectors::Status;
use crate::search::Kind;
use crate::state::AppState;

/// The text embedded for a listing: title, keywords, body.
pub fn passage_text(title: &str, keywords: &[String], body: &str) -> String {
    crate::bench::match_quality::passage_text(title, keywords, body)
}

fn kind_of(kind: &str) -> Option<Kind> {
    match kind {
        "achievement" => Some(Kind::Achievement),
        "demand" => Some(Kind::Demand),
        _ => None,
    }
}

fn db_error(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Embeds up to `batch` published listings whose vectors are missing or stale and stores
/// their vectors; returns how many it embedded (0: none is waiting).
pub async fn embed_batch(db: &Db, embedder: &Embedder, batch: usize, clock: &Clock) -> anyhow::Result<usize> {
    let model = embedder.model().to_owned();
    let limit = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
    let m = model.clone();
    let pending = db.read(move |c| db::vectors::pending(c, &m, limit)).await.map_err(db_error)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let texts: Vec<String> = pending.iter().map(|p| passage_text(&p.title, &p.keywords(), &p.body)).collect();
    let passages = embedder.embed(&texts, Side::Passage).await?;
    let queries = embedder.embed(&texts, Side::Query).await?;
    let now = clock.now();
    let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
    db.tx(move |c| {
        for ((id, passage), query) in ids.iter().zip(&passages).zip(&queries) {
            db::vectors::save(c, id, &model, passage, query, now)?;
        }
        Ok(())
    })
    .await
    .map_err(db_error)?;
    Ok(pending.len())
}

/// How many published listings wait for vectors of the embedder's model.
pub async fn pending(db: &Db, embedder: &Embedder) -> anyhow::Result<i64> {
    let model = embedder.model().to_owned();
    db.read(move |c| db::vectors::pending_count(c, &model)).await.map_err(db_error)
}

/// One pass; returns how many listings it embedded.
pub async fn sync_once(state: &AppState, embedder: &Embedder, loaded: &mut Cursor) -> anyhow::Result<usize> {
    let model = embedder.model().to_owned();
    let embedded =
        embed_batch(&state.db, embedder, state.settings.matching.embeddings.batch_size, &state.clock).await?;
    // Load what was written since the last pass, here or elsewhere, in (time, id) order so a
    // page boundary inside one timestamp loses nothing.
    loop {
        let (m, after) = (model.clone(), loaded.clone());
        let rows = state.db.read(move |c| db::vectors::since(c, &m, &after, LOAD_PAGE)).await.map_err(db_error)?;
        for row in &rows {
            let Some(kind) = kind_of(&row.kind) else { continue };
            let vector = (row.status == "published").then(|| Quantized::new(&from_bytes(&row.passage)));
            state.vectors.put(kind, &row.listing_id, vector);
        }
        if let Some(last) = rows.last() {
            *loaded = Cursor { at: last.updated_at, listing_id: last.listing_id.clone() };
        }
        if rows.len() < LOAD_PAGE as usize {
            break;
        }
    }
    state.vectors.set_pending(pending(&state.db, embedder).await?);
    Ok(embedded)
}

/// The sync loop of a server with an embeddings server configured.
pub async fn run(state: AppState, embedder: Embedder, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let every = Duration::from_secs(state.settings.matching.embeddings.sync_secs.max(1));
    let mut loaded = Cursor::default();
    loop {
        let embedded = match sync_once(&state, &embedder, &mut loaded).await {
            Ok(n) => {
                state.vectors.set_status(Status::Ok);
                n
            }
            Err(err) => {
                if state.vectors.status() != Status::Degraded {
                    tracing::warn!(error = %err, "embeddings unavailable; matching falls back to text until they answer");
                }
                state.vectors.set_status(Status::Degraded);
                0
            }
        };
        // A full batch means more are waiting: go on at once.
        let pause = if embedded > 0 { Duration::from_millis(10) } else { every };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
    }
}
