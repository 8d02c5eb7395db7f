//! Everything a request handler may reach, built once by `Application::build`.

use std::sync::Arc;

use actix_web::web::Bytes;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::auth::rate_limit::AuthLimits;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::search::SearchIndex;
use crate::search::cache::ResultCache;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub mailer: Mailer,
    pub jwt: JwtKeys,
    pub passwords: PasswordHashing,
    pub limits: Arc<AuthLimits>,
    /// Reverse proxies whose forwarding headers name the client (`server.trusted_proxies`).
    pub proxies: Arc<Vec<crate::api::client_ip::Net>>,
    pub search: Arc<SearchIndex>,
    /// Passage vectors of published listings (semantic matching; empty when it is off).
    pub vectors: Arc<crate::matching::vectors::VectorIndex>,
    pub answers: Arc<Answers>,
    /// Queue of match impressions for the event log (see [`crate::service::match_events`]).
    pub match_events: crate::service::match_events::Recorder,
    /// Search appearances per listing and day, written in batches (see
    /// [`crate::service::insights`]).
    pub search_tally: crate::service::insights::SearchTally,
    pub storage: crate::storage::Storage,
}

/// Serialized answers derived from the search index, valid for one index generation
/// (see [`crate::search::cache`]).
pub struct Answers {
    /// `GET /achievements?q=…` and `GET /demands?q=…` pages.
    /// Each page is kept with the ids it lists (search appearances are counted on every hit).
    pub search_pages: ResultCache<String, (Bytes, Arc<[String]>)>,
    /// `GET /…/{id}/matches` lists (who may see them is checked before the cache).
    pub match_lists: ResultCache<String, crate::api::matching::MatchAnswer>,
}

impl Answers {
    pub fn new(capacity: usize) -> Self {
        Self { search_pages: ResultCache::new(capacity), match_lists: ResultCache::new(capacity) }
    }
}

impl AppState {
    /// Re-reads the given listings into the search index (after a request published or
    /// withdrew them), so search and matching see the change at once.
    pub async fn refresh_index(&self, ids: Vec<String>) -> crate::error::AppResult<()> {
        let (db, search) = (self.db.clone(), self.search.clone());
        crate::db::blocking(move || crate::search::sync::refresh(&db, &search, &ids)).await
    }
}
