//! Queries on `listing_vectors`: the embeddings of published listings.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{listing_vectors as v, listings as l};
use super::time::to_db;
use crate::error::AppResult;

/// A published listing whose vectors are missing, made by another model, or older than its
/// last edit.
#[derive(Debug, Clone, Queryable)]
pub struct Pending {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub keywords: String,
    pub body: String,
}

impl Pending {
    pub fn keywords(&self) -> Vec<String> {
        serde_json::from_str(&self.keywords).unwrap_or_default()
    }
}

/// Published listings whose vectors are missing or stale for `model`: the oldest edits first.
pub fn pending(c: &mut AnyConnection, model: &str, limit: i64) -> AppResult<Vec<Pending>> {
    Ok(l::table
        .left_join(v::table)
        .filter(l::status.eq("published"))
        .filter(v::listing_id.is_null().or(v::model.ne(model)).or(v::updated_at.lt(l::updated_at)))
        .select((l::id, l::kind, l::title, l::keywords, l::body))
        .order((l::updated_at.asc(), l::id.asc()))
        .limit(limit)
        .load(c)?)
}

/// How many published listings wait for vectors.
pub fn pending_count(c: &mut AnyConnection, model: &str) -> AppResult<i64> {
    Ok(l::table
        .left_join(v::table)
        .filter(l::status.eq("published"))
        .filter(v::listing_id.is_null().or(v::model.ne(model)).or(v::updated_at.lt(l::updated_at)))
        .count()
        .get_result(c)?)
}

/// Stores the vectors of one listing (replacing older ones).
pub fn save(
    c: &mut AnyConnection,
    listing_id: &str,
    model: &str,
    passage: &[f32],
    query: &[f32],
    now: DateTime<Utc>,
) -> AppResult<()> {
    use crate::matching::embeddings::to_bytes;
    diesel::delete(v::table.find(listing_id)).execute(c)?;
    diesel::insert_into(v::table)
        .values((
            v::listing_id.eq(listing_id),
            v::model.eq(model),
            v::dim.eq(i32::try_from(passage.len()).unwrap_or(i32::MAX)),
            v::passage.eq(to_bytes(passage)),
            v::query.eq(to_bytes(query)),
            v::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// Passage vectors of `model` written after the cursor, oldest first, with their listing's kind
/// and whether it is still published.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub listing_id: String,
    pub kind: String,
    pub status: String,
    pub passage: Vec<u8>,
    pub updated_at: NaiveDateTime,
}

/// A position in the `(updated_at, listing_id)` order of `listing_vectors`: everything up to
/// and including it has been read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub listing_id: String,
}

pub fn since(c: &mut AnyConnection, model: &str, after: &Cursor, limit: i64) -> AppResult<Vec<Stored>> {
    Ok(v::table
        .inner_join(l::table)
        .filter(v::model.eq(model))
        // The first condition is the indexed range; the second drops what the cursor has read.
        .filter(v::updated_at.ge(after.at))
        .filter(v::updated_at.gt(after.at).or(v::listing_id.gt(&after.listing_id)))
        .select((v::listing_id, l::kind, l::status, v::passage, v::updated_at))
        .order((v::updated_at.asc(), v::listing_id.asc()))
        .limit(limit)
        .load(c)?)
}

/// The query vector of one listing, when it has one of `model` that is not older than the
/// listing's last edit.
pub fn query_vector(c: &mut AnyConnection, listing_id: &str, model: &str) -> AppResult<Option<Vec<f32>>> {
    let row: Option<Vec<u8>> = v::table
        .inner_join(l::table)
        .filter(v::listing_id.eq(listing_id))
        .filter(v::model.eq(model))
        .filter(v::updated_at.ge(l::updated_at))
        .select(v::query)
        .first(c)
        .optional()?;
    Ok(row.map(|b| crate::matching::embeddings::from_bytes(&b)))
}
