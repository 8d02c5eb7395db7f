//! Everything a request handler may reach, built once by `Application::build`.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::auth::rate_limit::IpLimiter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::search::SearchIndex;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub mailer: Mailer,
    pub jwt: JwtKeys,
    pub passwords: PasswordHashing,
    pub login_limiter: Arc<IpLimiter>,
    pub search: Arc<SearchIndex>,
}

impl AppState {
    /// Re-reads the given listings into the search index (after a request published or
    /// withdrew them), so search and matching see the change at once.
    pub async fn refresh_index(&self, ids: Vec<String>) -> crate::error::AppResult<()> {
        let (db, search) = (self.db.clone(), self.search.clone());
        crate::db::blocking(move || crate::search::sync::refresh(&db, &search, &ids)).await
    }
}
