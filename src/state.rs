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
}
