//! Keeps `listing_vectors` and the in-process vector index in step with the published
//! listings: each pass embeds a batch of listings whose vectors are missing or stale
//! (published, edited, or made by another model), then loads every vector written since the
//! last pass — its own and other instances' — into the index. A failing embeddings server
//! marks the index degraded (matching falls back to text for what has no vector) and the next
//! pass tries again; nothing needs a restart.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db;
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

/// One pass; returns how many listings it embedded.
pub async fn sync_once(state: &AppState, embedder: &Embedder, loaded: &mut NaiveDateTime) -> anyhow::Result<usize> {
    let model = embedder.model().to_owned();
    let batch = state.settings.matching.embeddings.batch_size.max(1) as i64;
    let m = model.clone();
    let pending = state.db.read(move |c| db::vectors::pending(c, &m, batch)).await.map_err(db_error)?;
    if !pending.is_empty() {
        let texts: Vec<String> = pending.iter().map(|p| passage_text(&p.title, &p.keywords(), &p.body)).collect();
        let passages = embedder.embed(&texts, Side::Passage).await?;
        let queries = embedder.embed(&texts, Side::Query).await?;
        let now = state.clock.now();
        let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
        let m = model.clone();
        state
            .db
            .tx(move |c| {
                for ((id, passage), query) in ids.iter().zip(&passages).zip(&queries) {
                    db::vectors::save(c, id, &m, passage, query, now)?;
                }
                Ok(())
            })
            .await
            .map_err(db_error)?;
    }
    // Load what was written since the last pass, here or elsewhere.
    loop {
        let (m, since) = (model.clone(), *loaded);
        let rows = state.db.read(move |c| db::vectors::since(c, &m, since, 1000)).await.map_err(db_error)?;
        for row in &rows {
            let Some(kind) = kind_of(&row.kind) else { continue };
            let vector = (row.status == "published").then(|| Quantized::new(&from_bytes(&row.passage)));
            state.vectors.put(kind, &row.listing_id, vector);
            *loaded = (*loaded).max(row.updated_at);
        }
        if rows.len() < 1000 {
            break;
        }
    }
    let m = model.clone();
    let waiting = state.db.read(move |c| db::vectors::pending_count(c, &m)).await.map_err(db_error)?;
    state.vectors.set_pending(waiting);
    Ok(pending.len())
}

/// The sync loop of a server with an embeddings server configured.
pub async fn run(state: AppState, embedder: Embedder, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let every = Duration::from_secs(state.settings.matching.embeddings.sync_secs.max(1));
    let mut loaded = NaiveDateTime::default();
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
