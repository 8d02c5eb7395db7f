//! Keeping the derived index in step with the database: a full rebuild at start, a refresh
//! of the listings a request just published or withdrew, and a periodic catch-up that picks
//! up changes made through other server instances.

use chrono::{DateTime, Duration, Utc};

use super::index::{IndexDoc, NONE};
use super::{Kind, SearchIndex};
use crate::db::challenges::ChallengeRow;
use crate::db::listings::ListingRow;
use crate::db::time::{from_db, to_db};
use crate::db::{self, Db};
use crate::domain::challenge::ChallengeStatus;
use crate::domain::listing::{Field, TransferMode};
use crate::domain::organization::REGIONS;
use crate::error::{AppError, AppResult};

pub fn field_code(field: &str) -> u64 {
    Field::ALL.iter().position(|f| f.as_str() == field).map_or(NONE, |i| i as u64)
}

pub fn region_code(region: &str) -> u64 {
    REGIONS.iter().position(|r| *r == region).map_or(NONE, |i| i as u64)
}

pub fn mode_code(mode: &str) -> Option<u64> {
    TransferMode::ALL.iter().position(|m| m.as_str() == mode).map(|i| i as u64)
}

fn kind_of(row: &ListingRow) -> Kind {
    if row.kind == "demand" { Kind::Demand } else { Kind::Achievement }
}

/// The index document of a published listing.
pub fn listing_doc(row: &ListingRow) -> IndexDoc {
    IndexDoc {
        id: row.id.clone(),
        title: row.title.clone(),
        keywords: row.keywords(),
        body: row.body.clone(),
        field: field_code(&row.field),
        region: region_code(&row.region),
        org_id: row.org_id.clone(),
        trl: row.trl.map(|t| t as u64),
        price: row.price_fen.map(|p| p.max(0) as u64),
        modes: row.transfer_modes().iter().filter_map(|m| mode_code(m)).collect(),
        published_us: row.published_at.map_or(0, |t| from_db(t).timestamp_micros()),
    }
}

fn index_err(e: tantivy::TantivyError) -> AppError {
    AppError::internal(anyhow::anyhow!("search index: {e}"))
}

/// Puts published rows into the index and takes every other row out.
pub fn apply_rows(index: &SearchIndex, rows: &[ListingRow]) -> AppResult<()> {
    for kind in [Kind::Achievement, Kind::Demand] {
        let mine: Vec<&ListingRow> = rows.iter().filter(|r| kind_of(r) == kind).collect();
        if mine.is_empty() {
            continue;
        }
        let docs: Vec<IndexDoc> = mine.iter().filter(|r| r.status == "published").map(|r| listing_doc(r)).collect();
        let removed: Vec<String> = mine.iter().filter(|r| r.status != "published").map(|r| r.id.clone()).collect();
        index.collection(kind).apply(&docs, &removed).map_err(index_err)?;
    }
    Ok(())
}

/// Re-reads the given listings (or challenges) and updates the index (after a publish,
/// withdraw or approval).
pub fn refresh(db: &Db, index: &SearchIndex, ids: &[String]) -> AppResult<()> {
    let (rows, challenges) =
        db.tx_blocking(|c| Ok((db::listings::find_many(c, ids)?, db::challenges::find_many(c, ids)?)))?;
    apply_rows(index, &rows)?;
    apply_challenges(index, &challenges)
}

/// Whether a challenge belongs in the public search index.
fn searchable(row: &ChallengeRow) -> bool {
    row.directed_org_id.is_none()
        && ChallengeStatus::parse(&row.status).is_some_and(crate::domain::challenge::is_public)
}

/// The index document of a public challenge: indicators count as keywords.
pub fn challenge_doc(row: &ChallengeRow) -> IndexDoc {
    let indicators: Vec<serde_json::Value> = serde_json::from_str(&row.indicators).unwrap_or_default();
    IndexDoc {
        id: row.id.clone(),
        title: row.title.clone(),
        keywords: indicators.iter().filter_map(|i| i["name"].as_str().map(str::to_owned)).collect(),
        body: row.description.clone(),
        field: field_code(&row.field),
        region: NONE,
        org_id: row.issuer_org_id.clone(),
        trl: None,
        price: Some(row.reward_fen.max(0) as u64),
        modes: Vec::new(),
        published_us: row.opened_at.map_or(0, |t| from_db(t).timestamp_micros()),
    }
}

fn apply_challenges(index: &SearchIndex, rows: &[ChallengeRow]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let docs: Vec<IndexDoc> = rows.iter().filter(|r| searchable(r)).map(challenge_doc).collect();
    let removed: Vec<String> = rows.iter().filter(|r| !searchable(r)).map(|r| r.id.clone()).collect();
    index.challenges.apply(&docs, &removed).map_err(index_err)
}

/// Rebuilds every collection from the database; returns the number of documents indexed.
pub fn rebuild(db: &Db, index: &SearchIndex) -> AppResult<usize> {
    let mut total = 0;
    for (kind, name) in [(Kind::Achievement, "achievement"), (Kind::Demand, "demand")] {
        let collection = index.collection(kind);
        collection.clear().map_err(index_err)?;
        let mut after = String::new();
        loop {
            let rows = db.tx_blocking(|c| db::listings::published_page(c, name, &after, 5_000))?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            let docs: Vec<IndexDoc> = rows.iter().map(listing_doc).collect();
            collection.apply(&docs, &[]).map_err(index_err)?;
            total += docs.len();
        }
        collection.optimize().map_err(index_err)?;
    }
    index.challenges.clear().map_err(index_err)?;
    let mut after = String::new();
    loop {
        let rows = db.tx_blocking(|c| db::challenges::public_page(c, &after, 5_000))?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        apply_challenges(index, &rows)?;
        total += rows.len();
    }
    Ok(total)
}

/// Applies every change stamped at or after `since` and returns the next watermark. The
/// watermark trails the newest change by a safety margin, so a row written by another
/// instance with a slightly older clock is still picked up; re-applying is harmless.
pub fn catch_up(db: &Db, index: &SearchIndex, since: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    catch_up_in_pages(db, index, since, 1_000)
}

/// [`catch_up`] reading `page` rows per query.
pub fn catch_up_in_pages(db: &Db, index: &SearchIndex, since: DateTime<Utc>, page: i64) -> AppResult<DateTime<Utc>> {
    // Keyset paging on (updated_at, id): a page boundary inside one instant neither repeats
    // nor skips rows, however many share it.
    let (mut at, mut after) = (to_db(since), String::new());
    loop {
        let rows = db.read_blocking(|c| db::listings::changed_since(c, at, &after, page))?;
        apply_rows(index, &rows)?;
        match rows.last() {
            Some(last) if rows.len() == page as usize => (at, after) = (last.updated_at, last.id.clone()),
            _ => break,
        }
    }
    let (mut at, mut after) = (to_db(since), String::new());
    loop {
        let rows = db.read_blocking(|c| db::challenges::changed_since(c, at, &after, page))?;
        apply_challenges(index, &rows)?;
        match rows.last() {
            Some(last) if rows.len() == page as usize => (at, after) = (last.updated_at, last.id.clone()),
            _ => break,
        }
    }
    Ok(Utc::now() - Duration::seconds(60))
}
