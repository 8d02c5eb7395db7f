//! The matching engine: ranks published counterparts for a listing (achievements for a
//! demand, demands for an achievement) and explains every match.
//!
//! 1. The query is the listing's own text (title, each keyword, body) through the shared
//!    analyzer: unique terms, capped at `max_query_terms` by IDF.
//! 2. Candidates: BM25 over the counterpart collection's `words` field (top `candidates`).
//! 3. Re-ranking: `score = bm25 / bm25_max × F_field × F_trl × F_budget × F_region`, every
//!    factor in (0, 1], so the score is in (0, 1]. The factors are symmetric: the demand
//!    holds the minimum TRL and the budget, the achievement the TRL and the asking price.
//! 4. Reasons: matched terms (by contribution), field relation, TRL fit, budget fit, region.
//!
//! Tuned on `bench/match-dev` only (see `techtransfer bench match-quality`).

pub mod embeddings;
pub mod fields;
pub mod vectors;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::search::analyzer::Analyzer;
use crate::search::index::{Collection, Hit, NONE};

/// Re-ranking parameters (config `[matching]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Candidates taken from BM25 before re-ranking.
    pub candidates: usize,
    /// Longest query, in unique terms (the highest-IDF ones are kept).
    pub max_query_terms: usize,
    /// Field factor for a related field, and for an unrelated one.
    pub field_related: f32,
    pub field_other: f32,
    /// TRL factor: minus `trl_step` per missing level, never below `trl_floor`.
    pub trl_step: f32,
    pub trl_floor: f32,
    /// Budget factor: minus `budget_slope` per 100% over budget, never below `budget_floor`.
    pub budget_slope: f32,
    pub budget_floor: f32,
    /// Region factor for a different province (1.0: region is reported, not ranked).
    pub region_other: f32,
    /// Matched terms shown per result.
    pub matched_terms_max: usize,
    /// Terms found in more than this share of the collection are left out of candidate
    /// retrieval (they cost the most postings and discriminate least); 1.0 keeps all.
    pub max_df_ratio: f32,
    /// A published listing leaves matching this many days after the later of its publication
    /// and its owner's last confirmation, until the owner confirms it again (0: never).
    #[serde(default = "default_confirm_after_days")]
    pub confirm_after_days: i64,
    /// The owner is reminded this many days before the listing would leave matching.
    #[serde(default = "default_confirm_reminder_days")]
    pub confirm_reminder_days: i64,
    /// Semantic matching (`[matching.embeddings]`); off while its `url` is empty.
    #[serde(default)]
    pub embeddings: embeddings::EmbeddingSettings,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            candidates: 200,
            max_query_terms: 64,
            field_related: 0.9,
            field_other: 0.75,
            trl_step: 0.05,
            trl_floor: 0.6,
            budget_slope: 0.3,
            budget_floor: 0.5,
            region_other: 1.0,
            matched_terms_max: 8,
            max_df_ratio: 1.0,
            confirm_after_days: default_confirm_after_days(),
            confirm_reminder_days: default_confirm_reminder_days(),
            embeddings: embeddings::EmbeddingSettings::default(),
        }
    }
}

fn default_confirm_after_days() -> i64 {
    180
}

fn default_confirm_reminder_days() -> i64 {
    14
}

impl Params {
    /// The freshness rules these settings describe.
    pub fn freshness(&self) -> crate::domain::freshness::Policy {
        crate::domain::freshness::Policy {
            confirm_after_days: self.confirm_after_days,
            reminder_days: self.confirm_reminder_days,
        }
    }
}

/// The side of a pair that holds each structured fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The listing holds a minimum TRL and a budget.
    Demand,
    /// The listing holds a TRL and an asking price.
    Achievement,
}

/// A listing used as a query.
#[derive(Debug, Clone)]
pub struct QueryListing<'a> {
    pub role: Role,
    pub title: &'a str,
    pub keywords: &'a [String],
    /// Empty in `short` mode (title and keywords only).
    pub body: &'a str,
    /// Taxonomy index (see `search::sync::field_code`), or `NONE`.
    pub field: u64,
    pub region: u64,
    pub trl: Option<u64>,
    pub price: Option<u64>,
    pub org_id: Option<&'a str>,
}

/// How the fields of the two sides relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldRelation {
    Same,
    Related,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionRelation {
    Same,
    Other,
}

/// The structured part of the explanation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub factor: f32,
    pub field: FieldRelation,
    pub trl_fit: bool,
    pub budget_fit: bool,
    pub region: RegionRelation,
}

/// The structured facts of one side of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Taxonomy index, or `NONE`.
    pub field: u64,
    pub region: u64,
    /// Demand: minimum TRL. Achievement: TRL.
    pub trl: Option<u64>,
    /// Demand: budget. Achievement: asking price.
    pub price: Option<u64>,
}

/// The structured fit between a demand's constraints and an achievement's facts.
pub fn fit(params: &Params, demand: &Facts, achievement: &Facts) -> Fit {
    let field = if demand.field == NONE || achievement.field == NONE || demand.field == achievement.field {
        FieldRelation::Same
    } else if fields::related(demand.field, achievement.field) {
        FieldRelation::Related
    } else {
        FieldRelation::Other
    };
    let f_field = match field {
        FieldRelation::Same => 1.0,
        FieldRelation::Related => params.field_related,
        FieldRelation::Other => params.field_other,
    };
    let (f_trl, trl_fit) = match (demand.trl, achievement.trl) {
        (Some(min), Some(t)) if t < min => ((1.0 - params.trl_step * (min - t) as f32).max(params.trl_floor), false),
        _ => (1.0, true),
    };
    let (f_budget, budget_fit) = match (demand.price, achievement.price) {
        (Some(b), Some(p)) if p > b => {
            let over = if b == 0 { f32::INFINITY } else { p as f32 / b as f32 - 1.0 };
            ((1.0 - params.budget_slope * over).max(params.budget_floor), false)
        }
        _ => (1.0, true),
    };
    let region = if demand.region != NONE && demand.region == achievement.region {
        RegionRelation::Same
    } else {
        RegionRelation::Other
    };
    let f_region = if region == RegionRelation::Same { 1.0 } else { params.region_other };
    Fit { factor: f_field * f_trl * f_budget * f_region, field, trl_fit, budget_fit, region }
}

/// One ranked counterpart.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub id: String,
    pub score: f32,
    pub fit: Fit,
}

/// The query's unique analyzed terms.
pub fn query_terms(q: &QueryListing<'_>) -> Vec<String> {
    let analyzer = Analyzer::global();
    let mut terms = analyzer.analyze(q.title);
    for keyword in q.keywords {
        analyzer.analyze_into(keyword, &mut terms);
    }
    analyzer.analyze_into(q.body, &mut terms);
    let mut seen = HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms
}

/// Inverse document frequency as BM25 (and tantivy) computes it.
pub fn idf(num_docs: u64, doc_freq: u64) -> f32 {
    let (n, df) = (num_docs as f32, doc_freq as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// IDF of each term in `collection` (computed once per query for the explanations).
pub fn idfs(collection: &Collection, terms: &[String]) -> tantivy::Result<Vec<(String, f32)>> {
    terms
        .iter()
        .map(|t| {
            let (n, df) = collection.doc_freq(t)?;
            Ok((t.clone(), idf(n, df)))
        })
        .collect()
}

/// Σ df/N over the query's terms: how much of the index a query touches (a benchmark
/// diagnostic; 1.0 means as many postings as listings).
pub fn postings_load(collection: &Collection, terms: &[String]) -> tantivy::Result<f64> {
    let mut load = 0.0;
    for t in terms {
        let (n, df) = collection.doc_freq(t)?;
        load += df as f64 / n.max(1) as f64;
    }
    Ok(load)
}

/// Keeps at most `max` terms: the ones with the highest IDF (ties by term), leaving out
/// terms present in more than `max_df_ratio` of the collection.
pub fn cap_terms(
    collection: &Collection,
    mut terms: Vec<String>,
    max: usize,
    max_df_ratio: f32,
) -> tantivy::Result<Vec<String>> {
    if terms.len() <= max && max_df_ratio >= 1.0 {
        return Ok(terms);
    }
    let mut weighted = Vec::with_capacity(terms.len());
    for t in terms.drain(..) {
        let (n, df) = collection.doc_freq(&t)?;
        if (df as f32) > max_df_ratio * n as f32 {
            continue;
        }
        weighted.push((idf(n, df), t));
    }
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(weighted.into_iter().take(max).map(|(_, t)| t).collect())
}

/// Ranks the counterparts in `collection` for `q`: best first, at most `limit`.
pub fn rank(
    collection: &Collection,
    q: &QueryListing<'_>,
    params: &Params,
    limit: usize,
) -> tantivy::Result<Vec<Ranked>> {
    let terms = cap_terms(collection, query_terms(q), params.max_query_terms, params.max_df_ratio)?;
    let candidates = collection.candidates(&terms, q.org_id, params.candidates)?;
    rerank(q, &candidates.hits, params, limit)
        .into_iter()
        .map(|(hit, score, fit)| Ok(Ranked { id: candidates.id_of(hit)?, score, fit }))
        .collect()
}

/// One candidate of a hybrid ranking: its BM25 score relative to the best candidate's (0 when
/// BM25 did not find it), its cosine similarity to the query (`None` without vectors) and its
/// structured fit.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub text: f32,
    pub dense: Option<f32>,
    pub fit: Fit,
}

/// Hybrid score of each candidate, in the order given: `((1 − w)·text + w·dense) × fit`,
/// where `dense` is the cosine rescaled to [0, 1] over the candidates that have one (so the
/// best semantic match weighs like the best BM25 match). Without any cosine it is the lexical
/// score alone, so a missing vector or an embedder outage degrades to lexical matching.
pub fn fuse(candidates: &[Candidate], weight: f32) -> Vec<f32> {
    let cosines = candidates.iter().filter_map(|c| c.dense);
    let (lo, hi) = cosines.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let spread = hi - lo;
    candidates
        .iter()
        .map(|c| {
            let text = match c.dense {
                Some(cos) if spread > f32::EPSILON => (1.0 - weight) * c.text + weight * (cos - lo) / spread,
                Some(_) => (1.0 - weight) * c.text + weight,
                None if hi.is_finite() => (1.0 - weight) * c.text,
                None => c.text,
            };
            text * c.fit.factor
        })
        .collect()
}

/// The structured fit of a pair from the query's side (`q` holds the query listing's facts).
pub fn fit_for(q: &QueryListing<'_>, theirs: &Facts, params: &Params) -> Fit {
    let mine = Facts { field: q.field, region: q.region, trl: q.trl, price: q.price };
    match q.role {
        Role::Demand => fit(params, &mine, theirs),
        Role::Achievement => fit(params, theirs, &mine),
    }
}

/// Structured re-ranking of BM25 candidates: the best `limit` with their score and fit.
pub fn rerank<'h>(q: &QueryListing<'_>, hits: &'h [Hit], params: &Params, limit: usize) -> Vec<(&'h Hit, f32, Fit)> {
    let Some(best) = hits.first().map(|h| h.score).filter(|s| *s > 0.0) else { return Vec::new() };
    let mut ranked: Vec<(&Hit, f32, Fit)> = hits
        .iter()
        .map(|h| {
            let mine = Facts { field: q.field, region: q.region, trl: q.trl, price: q.price };
            let theirs = Facts { field: h.field, region: h.region, trl: h.trl, price: h.price };
            let fit = match q.role {
                Role::Demand => fit(params, &mine, &theirs),
                Role::Achievement => fit(params, &theirs, &mine),
            };
            (h, (h.score / best).min(1.0) * fit.factor, fit)
        })
        .collect();
    // Ties keep the text order (then index order), so results are stable for a snapshot.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(limit);
    ranked
}

/// The query terms that contributed most to a match, shown as people read them
/// (concepts by their canonical name), without terms contained in an earlier one.
pub fn matched_terms(
    collection: &Collection,
    query_terms: &[String],
    idf_cache: &[(String, f32)],
    doc_title: &str,
    doc_keywords: &[String],
    doc_body: &str,
    max: usize,
) -> tantivy::Result<Vec<String>> {
    let analyzer = Analyzer::global();
    let mut doc = analyzer.analyze(doc_title);
    for k in doc_keywords {
        analyzer.analyze_into(k, &mut doc);
    }
    analyzer.analyze_into(doc_body, &mut doc);
    let mut tf: HashMap<&str, f32> = HashMap::new();
    for t in &doc {
        *tf.entry(t.as_str()).or_default() += 1.0;
    }
    let (k1, dl_norm) = (1.2_f32, 1.0_f32);
    let mut contributions: HashMap<&str, f32> = HashMap::new();
    for term in query_terms {
        let Some(&f) = tf.get(term.as_str()) else { continue };
        let weight = match idf_cache.iter().find(|(t, _)| t == term) {
            Some((_, w)) => *w,
            None => {
                let (n, df) = collection.doc_freq(term)?;
                idf(n, df)
            }
        };
        let part = weight * f * (k1 + 1.0) / (f + k1 * dl_norm);
        *contributions.entry(Analyzer::display(term)).or_default() += part;
    }
    let mut ordered: Vec<(&str, f32)> = contributions.into_iter().collect();
    ordered.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut shown: Vec<String> = Vec::new();
    for (term, _) in ordered {
        if shown.iter().any(|s| s.contains(term) || term.contains(s.as_str())) {
            continue;
        }
        shown.push(term.to_owned());
        if shown.len() >= max {
            break;
        }
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Params {
        Params::default()
    }

    fn facts(field: u64, region: u64, trl: Option<u64>, price: Option<u64>) -> Facts {
        Facts { field, region, trl, price }
    }

    #[test]
    fn fit_factors_and_reasons() {
        // Same field, TRL and budget fine, same region.
        let f = fit(&p(), &facts(4, 9, Some(5), Some(100)), &facts(4, 9, Some(7), Some(80)));
        assert_eq!(
            (f.field, f.trl_fit, f.budget_fit, f.region),
            (FieldRelation::Same, true, true, RegionRelation::Same)
        );
        assert!((f.factor - 1.0).abs() < 1e-6);
        // Two TRL levels short: ×0.9; 50% over budget: ×0.85.
        let f = fit(&p(), &facts(4, 9, Some(7), Some(100)), &facts(4, 10, Some(5), Some(150)));
        assert!(!f.trl_fit && !f.budget_fit);
        assert_eq!(f.region, RegionRelation::Other);
        assert!((f.factor - 0.9 * 0.85).abs() < 1e-5, "{}", f.factor);
        // Floors hold.
        let f = fit(&p(), &facts(4, 0, Some(9), Some(1)), &facts(4, 0, Some(1), Some(1_000)));
        assert!((f.factor - 0.6 * 0.5).abs() < 1e-5);
        // Unset constraints always fit.
        let f = fit(&p(), &facts(4, 0, None, None), &facts(4, 0, Some(1), Some(1_000)));
        assert!(f.trl_fit && f.budget_fit);
    }

    #[test]
    fn field_relations_are_symmetric() {
        // new_materials (0) ↔ advanced_manufacturing (1) are related; biomedicine (3) ↔ aerospace (7) are not.
        let a = fit(&p(), &facts(0, 0, None, None), &facts(1, 0, None, None));
        let b = fit(&p(), &facts(1, 0, None, None), &facts(0, 0, None, None));
        assert_eq!((a.field, b.field), (FieldRelation::Related, FieldRelation::Related));
        assert!((a.factor - 0.9).abs() < 1e-6);
        let c = fit(&p(), &facts(3, 0, None, None), &facts(7, 0, None, None));
        assert_eq!(c.field, FieldRelation::Other);
        assert!((c.factor - 0.75).abs() < 1e-6);
    }
}
