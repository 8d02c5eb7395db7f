//! Matches for a listing: runs the engine over the counterpart collection, then reads the
//! ranked listings back from the database (only published ones count) and explains them.

use chrono::{DateTime, Utc};

use crate::db::listings::ListingRow;
use crate::db::{self, AnyConnection, Db};
use crate::domain::labels;
use crate::domain::listing::{Field, ListingKind, ListingStatus};
use crate::error::{AppError, AppResult};
use crate::matching::{self, Fit, Params, QueryListing, Role};
use crate::search::index::Collection;
use crate::search::sync::{field_code, region_code};
use crate::search::{Kind, SearchIndex};

use super::load_actor;

pub struct Match {
    pub row: ListingRow,
    pub score: f32,
    pub fit: Fit,
    pub matched_terms: Vec<String>,
    /// The reasons as one Chinese sentence.
    pub text: String,
}

fn side(row: &ListingRow) -> labels::Side<'_> {
    labels::Side { field: Field::parse(&row.field), region: &row.region, trl: row.trl, price_fen: row.price_fen }
}

/// The match of `query` (a listing of `kind`) with `found`, explained in one sentence.
fn explain(kind: ListingKind, query: &ListingRow, found: &ListingRow, fit: &Fit, matched_terms: &[String]) -> String {
    let (demand, achievement) = match kind {
        ListingKind::Demand => (side(query), side(found)),
        ListingKind::Achievement => (side(found), side(query)),
    };
    let field = match fit.field {
        matching::FieldRelation::Same => "same",
        matching::FieldRelation::Related => "related",
        matching::FieldRelation::Other => "other",
    };
    let region = if fit.region == matching::RegionRelation::Same { "same" } else { "other" };
    let reasons = labels::Reasons { matched_terms, field, trl_fit: fit.trl_fit, budget_fit: fit.budget_fit, region };
    labels::match_sentence(&demand, &achievement, &reasons)
}

fn query_of(row: &ListingRow, role: Role) -> (QueryListing<'_>, Vec<String>) {
    let keywords = row.keywords();
    let q = QueryListing {
        role,
        title: &row.title,
        keywords: &[],
        body: &row.body,
        field: field_code(&row.field),
        region: region_code(&row.region),
        trl: row.trl.map(|t| t as u64),
        price: row.price_fen.map(|p| p.max(0) as u64),
        org_id: Some(&row.org_id),
    };
    (q, keywords)
}

fn index_err(e: tantivy::TantivyError) -> AppError {
    AppError::internal(anyhow::anyhow!("matching: {e}"))
}

/// The listing whose matches `req` asks for, once the caller may see them: only the owning
/// organization and admins (403 for other callers who can see the listing, 404 otherwise).
pub fn authorize(c: &mut AnyConnection, user_id: &str, kind: ListingKind, id: &str) -> AppResult<ListingRow> {
    let actor = load_actor(c, user_id)?;
    let row = super::listings::get(c, Some(&actor), kind, id)?;
    if !(actor.is_admin() || actor.is_member_of(&row.org_id)) {
        return Err(AppError::forbidden("only the owning organization and administrators see matches"));
    }
    Ok(row)
}

/// The collection a listing's counterparts live in.
pub fn counterpart(kind: ListingKind) -> Kind {
    match kind {
        ListingKind::Demand => Kind::Achievement,
        ListingKind::Achievement => Kind::Demand,
    }
}

/// Ranks published counterparts for a listing of `kind` (see [`authorize`] for who may ask),
/// best first, at most `limit`. Runs on a blocking thread.
pub fn rank_for(
    db: &Db,
    index: &SearchIndex,
    params: &Params,
    kind: ListingKind,
    row: &ListingRow,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<Vec<Match>> {
    let role = if kind == ListingKind::Demand { Role::Demand } else { Role::Achievement };
    let collection: &Collection = index.collection(counterpart(kind));
    let (mut q, keywords) = query_of(row, role);
    q.keywords = &keywords;
    // A few spare results cover listings that left `published` since the index last heard.
    let ranked = matching::rank(collection, &q, params, limit + 5).map_err(index_err)?;
    let ids: Vec<String> = ranked.iter().map(|r| r.id.clone()).collect();
    let rows = db.read_blocking(|c| db::listings::find_many(c, &ids))?;
    let terms = matching::query_terms(&q);
    let idf_cache = matching::idfs(collection, &terms).map_err(index_err)?;
    let mut out = Vec::with_capacity(limit);
    for r in ranked {
        let Some(found) = rows.iter().find(|x| x.id == r.id && x.status == ListingStatus::Published.as_str()) else {
            continue;
        };
        let matched_terms = matching::matched_terms(
            collection,
            &terms,
            &idf_cache,
            &found.title,
            &found.keywords(),
            &found.body,
            params.matched_terms_max,
        )
        .map_err(index_err)?;
        let text = explain(kind, row, found, &r.fit, &matched_terms);
        out.push(Match { row: found.clone(), score: r.score, fit: r.fit, matched_terms, text });
        if out.len() == limit {
            break;
        }
    }
    if !out.is_empty() && row.first_matched_at.is_none() {
        db.tx_blocking(|c| db::listings::mark_matched(c, &row.id, now))?;
    }
    Ok(out)
}
