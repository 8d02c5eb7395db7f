//! GET /demands/{id}/matches and GET /achievements/{id}/matches.

use crate::domain::error::Message;
use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiQuery, AuthUser};
use super::openapi::problems::*;
use super::{json_body, path_id, to_json_bytes};
use crate::domain::listing::ListingKind;
use crate::domain::match_event::MatchMode;
use crate::error::AppResult;
use crate::matching::{FieldRelation, RegionRelation};
use crate::service::matches::{self, Match};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchReasons {
    /// The shared terms that carried the match, strongest first (synonyms shown by their
    /// canonical name).
    pub matched_terms: Vec<String>,
    pub field: FieldRelation,
    /// The achievement's TRL reaches the demand's minimum (true when either is unset).
    pub trl_fit: bool,
    /// The asking price is within the budget (true when either is unset).
    pub budget_fit: bool,
    pub region: RegionRelation,
    /// How close the two listings are in meaning (cosine of their embeddings) and the two
    /// sentences that share the most; `null` when the match was ranked by text alone (semantic
    /// matching off, the embeddings server down, or no vector yet for one side).
    pub semantic: Option<SemanticReason>,
    /// The reasons above as one sentence a person reads (Chinese), e.g.
    /// `共同关键词：石墨烯、散热；同属新材料领域；技术成熟度 7 级，满足需求的 5 级以上；报价在预算内；同在江苏省。`
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SemanticReason {
    pub score: f64,
    pub demand_sentence: String,
    pub listing_sentence: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchItem {
    pub id: String,
    pub title: String,
    pub org_id: String,
    /// In [0, 1]: text relevance relative to the best match, times the structured fit.
    pub score: f64,
    pub reasons: MatchReasons,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchList {
    pub items: Vec<MatchItem>,
}

impl From<Match> for MatchItem {
    fn from(m: Match) -> Self {
        Self {
            id: m.row.id,
            title: m.row.title,
            org_id: m.row.org_id,
            score: (f64::from(m.score) * 10_000.0).round() / 10_000.0,
            reasons: MatchReasons {
                matched_terms: m.matched_terms,
                field: m.fit.field,
                trl_fit: m.fit.trl_fit,
                budget_fit: m.fit.budget_fit,
                region: m.fit.region,
                semantic: m.semantic.map(|s| SemanticReason {
                    score: (f64::from(s.score) * 10_000.0).round() / 10_000.0,
                    demand_sentence: s.demand_sentence,
                    listing_sentence: s.listing_sentence,
                }),
                text: m.text,
            },
        }
    }
}

/// A serialized match list as the answer cache keeps it, with what its impressions record.
#[derive(Clone)]
pub struct MatchAnswer {
    pub body: Bytes,
    /// The listed ids, best first.
    pub ids: Arc<[String]>,
    pub mode: MatchMode,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// 1..50, default 10.
    pub limit: Option<i64>,
}

async fn matches_for(
    state: &AppState,
    user: AuthUser,
    kind: ListingKind,
    id: &str,
    limit: Option<i64>,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let limit = limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(crate::error::AppError::field("limit", Message::between(1, 50)));
    }
    let user_id = user.id;
    let (row, member) = state.db.read_point(move |c| matches::authorize(c, &user_id, kind, &id)).await?;
    // Read before ranking: a list computed while the index changed is stored as stale. The
    // listing's own `updated_at` is in the key, so an edited listing asks afresh.
    let generation = state.search.collection(matches::counterpart(kind)).generation();
    // Vectors arriving (or the embeddings server failing) change the answer too.
    // So does the listing leaving matching with time (stale, past its deadline).
    let matchable = crate::service::freshness::matchable(&row, &state.settings.matching.freshness(), state.clock.now());
    let key = format!(
        "{}|{}|{limit}|{}|{:?}|{matchable}",
        row.id,
        row.updated_at,
        state.vectors.generation(),
        state.vectors.status()
    );
    let shown = |list: &MatchAnswer| {
        if member {
            let now = state.clock.now();
            state.match_events.shown(&row.org_id, &row.id, &list.ids, list.mode, now);
        }
    };
    if let Some(answer) = state.answers.match_lists.get(&key, generation) {
        shown(&answer);
        return Ok(json_body(answer.body));
    }
    let (db, search, vectors) = (state.db.clone(), state.search.clone(), state.vectors.clone());
    let params = state.settings.matching.clone();
    let now = state.clock.now();
    let listing = row.clone();
    let found = crate::db::blocking(move || {
        matches::rank_for(&db, &search, &vectors, &params, kind, &listing, limit as usize, now)
    })
    .await?;
    let mode = if found.iter().any(|m| m.semantic.is_some()) { MatchMode::Hybrid } else { MatchMode::Lexical };
    let ids: Arc<[String]> = found.iter().map(|m| m.row.id.clone()).collect();
    let body = to_json_bytes(&MatchList { items: found.into_iter().map(MatchItem::from).collect() })?;
    let answer = MatchAnswer { body, ids, mode };
    shown(&answer);
    state.answers.match_lists.put(key, generation, answer.clone());
    Ok(json_body(answer.body))
}

/// Published achievements ranked for this demand, with reasons. Owning organization and admins.
///
/// 需求所属机构成员与管理员；按领域、关键词、TRL、价格与地区打分并给出理由。错误：403 `forbidden`，404 `not_found`，422（`limit`）。
#[utoipa::path(get, path = "/api/v1/demands/{id}/matches", tag = "matching", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id"), MatchQuery),
    responses((status = 200, body = MatchList), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn demand_matches(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<MatchQuery>,
) -> AppResult<HttpResponse> {
    matches_for(&state, user, ListingKind::Demand, &id, query.limit).await
}

/// Published demands ranked for this achievement, with reasons. Owning organization and admins.
///
/// 成果所属机构成员与管理员；返回与该成果匹配的已发布需求及理由。错误：403 `forbidden`，404 `not_found`，422（`limit`）。
#[utoipa::path(get, path = "/api/v1/achievements/{id}/matches", tag = "matching", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id"), MatchQuery),
    responses((status = 200, body = MatchList), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn achievement_matches(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    query: ApiQuery<MatchQuery>,
) -> AppResult<HttpResponse> {
    matches_for(&state, user, ListingKind::Achievement, &id, query.limit).await
}
