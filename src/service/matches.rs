//! Matches for a listing: runs the engine over the counterpart collection, then reads the
//! ranked listings back from the database (only published ones count) and explains them.

use chrono::{DateTime, Utc};

use crate::db::listings::ListingRow;
use crate::db::{self, AnyConnection, Db};
use crate::domain::labels;
use crate::domain::listing::{Field, ListingKind};
use crate::error::{AppError, AppResult};
use crate::matching::vectors::VectorIndex;
use crate::matching::{self, Fit, Params, QueryListing, Role};
use crate::search::index::Collection;
use crate::search::sync::{field_code, region_code};
use crate::search::{Kind, SearchIndex};

use super::{freshness, load_actor};

pub struct Match {
    pub row: ListingRow,
    pub score: f32,
    pub fit: Fit,
    pub matched_terms: Vec<String>,
    /// The reasons as one Chinese sentence.
    pub text: String,
    /// The semantic part of the reasons; `None` when the match was ranked by text alone (no
    /// embeddings server, or no vector yet for one side).
    pub semantic: Option<Semantic>,
}

/// How close the two listings are in meaning, and the two sentences that share the most.
pub struct Semantic {
    /// Cosine similarity of the listings' embeddings.
    pub score: f32,
    pub demand_sentence: String,
    pub listing_sentence: String,
}

/// The sentences of `text` (split at Chinese and Western sentence ends).
fn sentences(text: &str) -> Vec<&str> {
    text.split(['。', '！', '？', '；', '\n', '.', '!', '?', ';'])
        .map(str::trim)
        .filter(|s| s.chars().count() >= 4)
        .collect()
}

/// The pair of sentences, one from each text, that share the most character bigrams
/// (relative to their size): the passage a reader should compare first.
fn closest_sentences(a: &str, b: &str) -> Option<(String, String)> {
    use std::collections::HashSet;
    let bigrams = |s: &str| -> HashSet<(char, char)> {
        let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (xs, ys) = (sentences(a), sentences(b));
    let ys: Vec<(&str, HashSet<(char, char)>)> = ys.into_iter().map(|y| (y, bigrams(y))).collect();
    let mut best: Option<(f32, &str, &str)> = None;
    for x in xs {
        let bx = bigrams(x);
        for (y, by) in &ys {
            let shared = bx.intersection(by).count() as f32;
            let score = shared / (bx.len() + by.len()).max(1) as f32;
            if best.is_none_or(|(s, _, _)| score > s) {
                best = Some((score, x, y));
            }
        }
    }
    best.map(|(_, x, y)| (x.to_owned(), y.to_owned()))
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
///
/// Also says whether the viewer is a member of the owning organization: only their views are
/// impressions (an administrator looking is not the market looking).
pub fn authorize(c: &mut AnyConnection, user_id: &str, kind: ListingKind, id: &str) -> AppResult<(ListingRow, bool)> {
    let actor = load_actor(c, user_id)?;
    let row = super::listings::get(c, Some(&actor), kind, id)?;
    let member = actor.is_member_of(&row.org_id);
    if !(actor.is_admin() || member) {
        return Err(AppError::forbidden(crate::domain::error::Rule::MatchesOwnerOnly));
    }
    Ok((row, member))
}

/// The collection a listing's counterparts live in.
pub fn counterpart(kind: ListingKind) -> Kind {
    match kind {
        ListingKind::Demand => Kind::Achievement,
        ListingKind::Achievement => Kind::Demand,
    }
}

/// Ranks published, fresh counterparts (see [`freshness::matchable`]) for a listing of `kind` (see [`authorize`] for who may ask),
/// best first, at most `limit`. Runs on a blocking thread.
///
/// With semantic matching on and a query vector for the listing, the BM25 candidates and the
/// nearest listings by embedding are ranked together (`matching::fuse`); otherwise by text.
#[allow(clippy::too_many_arguments)]
pub fn rank_for(
    db: &Db,
    index: &SearchIndex,
    vectors: &VectorIndex,
    params: &Params,
    kind: ListingKind,
    row: &ListingRow,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<Vec<Match>> {
    // A listing that left matching (stale, expired) neither is matched nor gets matches.
    let policy = params.freshness();
    if !freshness::matchable(row, &policy, now) {
        return Ok(Vec::new());
    }
    let role = if kind == ListingKind::Demand { Role::Demand } else { Role::Achievement };
    let other = counterpart(kind);
    let collection: &Collection = index.collection(other);
    let (mut q, keywords) = query_of(row, role);
    q.keywords = &keywords;
    let query_vector = if vectors.enabled() && vectors.len(other) > 0 {
        db.read_blocking(|c| db::vectors::query_vector(c, &row.id, &vectors.model))?
    } else {
        None
    };
    let Some(query_vector) = query_vector else { return lexical(db, collection, params, kind, row, &q, limit, now) };

    // Hybrid: BM25 candidates ∪ nearest by embedding, fused, then the structured fit.
    let lexical_hits = matching::rank(collection, &q, params, params.candidates).map_err(index_err)?;
    let mut text: std::collections::HashMap<String, f32> = lexical_hits
        .iter()
        .map(|r| (r.id.clone(), if r.fit.factor > 0.0 { r.score / r.fit.factor } else { 0.0 }))
        .collect();
    let dense = vectors.top(other, &query_vector, params.embeddings.candidates);
    let mut ids: Vec<String> = lexical_hits.into_iter().map(|r| r.id).collect();
    ids.extend(dense.iter().map(|(id, _)| id.clone()).filter(|id| !text.contains_key(id)));
    let rows = db.read_blocking(|c| db::listings::find_many(c, &ids))?;
    let candidates: Vec<(matching::Candidate, &ListingRow)> = rows
        .iter()
        .filter(|r| freshness::matchable(r, &policy, now) && r.org_id != row.org_id)
        .map(|r| {
            let theirs = matching::Facts {
                field: field_code(&r.field),
                region: region_code(&r.region),
                trl: r.trl.map(|t| t.max(0) as u64),
                price: r.price_fen.map(|p| p.max(0) as u64),
            };
            let candidate = matching::Candidate {
                id: r.id.clone(),
                text: text.remove(&r.id).unwrap_or(0.0),
                dense: vectors.similarity(other, &r.id, &query_vector),
                fit: matching::fit_for(&q, &theirs, params),
            };
            (candidate, r)
        })
        .collect();
    let only: Vec<matching::Candidate> = candidates.iter().map(|(c, _)| c.clone()).collect();
    let scores = matching::fuse(&only, params.embeddings.weight_for(q.body));
    let mut order: Vec<usize> = (0..candidates.len()).filter(|&i| scores[i] > 0.0).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then_with(|| candidates[a].0.id.cmp(&candidates[b].0.id)));
    order.truncate(limit);
    let explainer = Explainer::new(collection, &q, params, kind, row)?;
    let mut out = Vec::with_capacity(order.len());
    for i in order {
        let (candidate, found) = &candidates[i];
        let (matched_terms, text) = explainer.explain(found, &candidate.fit)?;
        let semantic = candidate.dense.map(|score| {
            let (demand, listing) = match kind {
                ListingKind::Demand => (&row.body, &found.body),
                ListingKind::Achievement => (&found.body, &row.body),
            };
            let (demand_sentence, listing_sentence) = closest_sentences(demand, listing).unwrap_or_default();
            Semantic { score, demand_sentence, listing_sentence }
        });
        out.push(Match { row: (*found).clone(), score: scores[i], fit: candidate.fit, matched_terms, text, semantic });
    }
    mark_matched(db, row, &out, now)?;
    Ok(out)
}

/// Explains matches for one query listing: the shared terms (by contribution) and the
/// sentence.
struct Explainer<'a> {
    collection: &'a Collection,
    terms: Vec<String>,
    idf_cache: Vec<(String, f32)>,
    params: &'a Params,
    kind: ListingKind,
    query: &'a ListingRow,
}

impl<'a> Explainer<'a> {
    fn new(
        collection: &'a Collection,
        q: &QueryListing<'_>,
        params: &'a Params,
        kind: ListingKind,
        query: &'a ListingRow,
    ) -> AppResult<Self> {
        let terms = matching::query_terms(q);
        let idf_cache = matching::idfs(collection, &terms).map_err(index_err)?;
        Ok(Self { collection, terms, idf_cache, params, kind, query })
    }

    fn explain(&self, found: &ListingRow, fit: &Fit) -> AppResult<(Vec<String>, String)> {
        let matched_terms = matching::matched_terms(
            self.collection,
            &self.terms,
            &self.idf_cache,
            &found.title,
            &found.keywords(),
            &found.body,
            self.params.matched_terms_max,
        )
        .map_err(index_err)?;
        let text = explain(self.kind, self.query, found, fit, &matched_terms);
        Ok((matched_terms, text))
    }
}

fn mark_matched(db: &Db, row: &ListingRow, out: &[Match], now: DateTime<Utc>) -> AppResult<()> {
    if !out.is_empty() && row.first_matched_at.is_none() {
        db.tx_blocking(|c| db::listings::mark_matched(c, &row.id, now))?;
    }
    Ok(())
}

/// Text-only ranking: BM25 candidates re-ranked by the structured fit.
#[allow(clippy::too_many_arguments)]
fn lexical(
    db: &Db,
    collection: &Collection,
    params: &Params,
    kind: ListingKind,
    row: &ListingRow,
    q: &QueryListing<'_>,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<Vec<Match>> {
    // A few spare results cover listings that left `published` since the index last heard.
    let ranked = matching::rank(collection, q, params, limit + 5).map_err(index_err)?;
    let ids: Vec<String> = ranked.iter().map(|r| r.id.clone()).collect();
    let rows = db.read_blocking(|c| db::listings::find_many(c, &ids))?;
    let explainer = Explainer::new(collection, q, params, kind, row)?;
    let mut out = Vec::with_capacity(limit);
    for r in ranked {
        let Some(found) = rows.iter().find(|x| x.id == r.id && freshness::matchable(x, &params.freshness(), now))
        else {
            continue;
        };
        let (matched_terms, text) = explainer.explain(found, &r.fit)?;
        out.push(Match { row: found.clone(), score: r.score, fit: r.fit, matched_terms, text, semantic: None });
        if out.len() == limit {
            break;
        }
    }
    mark_matched(db, row, &out, now)?;
    Ok(out)
}
