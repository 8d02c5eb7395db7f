//! Typed settings: `config/default.toml` → `config/<TT_ENV>.toml` → `TT__SECTION__KEY` env.
//!
//! Settings are built once in `main` (or by a test) and passed down explicitly; there is no
//! global. `Settings::validate` refuses configurations that must never reach production.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde::Deserialize;

/// `config/default.toml`, compiled into the binary as the base layer.
const EMBEDDED_DEFAULTS: &str = include_str!("../config/default.toml");

/// The JWT secret shipped in `config/default.toml`; production refuses to start with it.
pub const DEFAULT_JWT_SECRET: &str = "dev-only-secret-change-me-in-production-0123456789";

/// The audit checkpoint key shipped in `config/default.toml`; production refuses it too.
pub const DEFAULT_AUDIT_KEY: &str = "dev-only-audit-checkpoint-key-change-me-0123456789";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `development` unless `TT_ENV` says otherwise; not read from files.
    #[serde(default)]
    pub env: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub jobs: JobSettings,
    pub log: LogSettings,
    pub search: SearchSettings,
    pub matching: crate::matching::Params,
    pub contracts: ContractSettings,
    pub registration: RegistrationSettings,
    pub audit: AuditSettings,
    pub storage: StorageSettings,
    pub instruments: InstrumentSettings,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Test,
    Production,
}

impl Environment {
    fn from_env_var(value: Option<&str>) -> anyhow::Result<Self> {
        match value.unwrap_or("development") {
            "development" | "dev" | "" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => anyhow::bail!("TT_ENV must be development, test or production, not {other:?}"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Base URL used in links sent by email.
    pub public_base_url: String,
    /// Base URL of the web frontend. When set, the record pages that emails link to
    /// (`/achievements/{id}`, …) redirect to the same path there; empty: this server shows a
    /// page pointing at the API.
    #[serde(default)]
    pub frontend_base_url: String,
    /// Seconds the server waits for in-flight requests on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Origins allowed by CORS; empty means no CORS headers at all (same-origin clients only).
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` / `Forwarded`
    /// headers name the client; empty means the socket peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// When set, `GET /metrics` answers only with `Authorization: Bearer <token>` (404
    /// otherwise). Production requires it or `metrics_public = true`.
    #[serde(default)]
    pub metrics_token: Option<Secret>,
    /// Acknowledges that `/metrics` is reachable only from a private network (a listener bound
    /// to loopback or behind a proxy that hides the path), so no token is needed in production.
    #[serde(default)]
    pub metrics_public: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: Secret,
    pub pool_max_size: u32,
    pub pool_timeout_secs: u64,
    /// Times a write transaction is re-run after a PostgreSQL deadlock or serialization
    /// failure before the request answers 503.
    pub max_retries: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: Secret,
    pub access_token_secs: i64,
    pub refresh_token_days: i64,
    pub email_token_hours: i64,
    pub login_per_ip_per_minute: u32,
    pub register_per_ip_per_minute: u32,
    pub password_reset_per_ip_per_minute: u32,
    pub password_reset_confirm_per_ip_per_minute: u32,
    pub verify_email_per_ip_per_minute: u32,
    /// `off` disables every per-IP limit above (load tests); refused in production. The
    /// per-account login lockout is not a rate limit and stays on.
    pub rate_limits: Switch,
    /// At most one password-reset email per account in this many minutes.
    pub password_reset_interval_minutes: i64,
    /// Password hashes (and verifications) computed at once; 0 means one per CPU core.
    pub hash_concurrency: usize,
    /// Hashing requests that may wait for a turn; beyond them the answer is 503.
    pub hash_queue: usize,
    pub account_lock_failures: u32,
    pub account_lock_minutes: i64,
    /// argon2id memory cost in KiB, iterations and lanes.
    pub argon2_m_kib: u32,
    pub argon2_t: u32,
    pub argon2_p: u32,
}

/// An on/off setting (`on` | `off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Smtp,
    File,
    Log,
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    #[serde(default)]
    pub smtp_user: Option<String>,
    #[serde(default)]
    pub smtp_password: Option<Secret>,
    pub file_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Seconds between worker polls; 0 disables the in-process worker (tests drive jobs).
    pub interval_secs: u64,
    /// How long a claimed job stays locked before another worker may retry it.
    pub lease_secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    /// `pretty` for people, `json` for log shippers (forced in production).
    pub format: LogFormat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// Seconds between catch-up passes that pull listing changes made by other instances.
    pub catchup_secs: u64,
    /// Memory budget of the index writer, in MiB.
    pub writer_heap_mib: usize,
    /// Search pages and match lists kept per kind of answer until the index changes
    /// (0 turns the cache off).
    pub result_cache_entries: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSettings {
    /// Legal minimum share of transfer income for inventors, in basis points (促进科技成果转化法 Art. 45).
    pub inventor_min_share_bp: i32,
}

/// 技术合同认定登记: the review deadline, counted in calendar days from (re)filing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSettings {
    /// Days the office has to decide a filing.
    pub deadline_days: u32,
    /// Days for contracts whose amount is above `large_amount_fen`.
    pub long_deadline_days: u32,
    pub large_amount_fen: i64,
    /// Dates (`YYYY-MM-DD`, Asia/Shanghai) that do not count towards the deadline.
    #[serde(default)]
    pub holidays: Vec<chrono::NaiveDate>,
}

/// The shipped defaults (`config/default.toml`), for callers without a configuration (the
/// demo seeder).
impl Default for RegistrationSettings {
    fn default() -> Self {
        Self { deadline_days: 10, long_deadline_days: 40, large_amount_fen: 1_000_000_000, holidays: Vec::new() }
    }
}

impl RegistrationSettings {
    /// The review days for a contract of `amount_fen`.
    pub fn days_for(&self, amount_fen: i64) -> u32 {
        if amount_fen > self.large_amount_fen { self.long_deadline_days } else { self.deadline_days }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSettings {
    /// No-shows within `no_show_window_days` that suspend an organization's booking rights
    /// (0 = never suspend).
    pub no_show_limit: u32,
    pub no_show_window_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// HMAC-SHA256 key that signs audit checkpoints (tree size + head hash).
    pub checkpoint_key: Secret,
    /// Milliseconds between sequencer passes when no local commit woke it (entries written
    /// by other instances).
    pub sequencer_poll_ms: u64,
    /// Entries sequenced per sequencer transaction.
    pub sequencer_batch: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// A local directory (`data/files`, or `file:///abs/path`) or `s3://bucket` for any
    /// S3-compatible store (MinIO, Ceph, Alibaba OSS, Tencent COS, AWS).
    pub url: String,
    /// Key prefix inside the directory or bucket (several deployments may share a bucket).
    #[serde(default)]
    pub prefix: String,
    /// S3 endpoint, e.g. `http://127.0.0.1:9000` for MinIO; empty means AWS.
    #[serde(default)]
    pub endpoint: String,
    pub region: String,
    #[serde(default)]
    pub access_key_id: Option<Secret>,
    #[serde(default)]
    pub secret_access_key: Option<Secret>,
    /// Allows a plain-HTTP endpoint (local MinIO or test servers).
    pub allow_http: bool,
    /// Part size of S3 multipart uploads (S3 requires at least 5 MiB but for the last part).
    pub s3_part_size_bytes: usize,
    /// Chunk size of writes to a local directory.
    pub local_chunk_bytes: usize,
    /// Parts written concurrently per upload.
    pub upload_concurrency: usize,
    /// Hours after which a file attached to nothing is deleted.
    pub orphan_hours: i64,
    /// Largest file per purpose, in bytes; purposes not named get `default_max_bytes`.
    pub default_max_bytes: u64,
    #[serde(default)]
    pub max_bytes: std::collections::BTreeMap<String, u64>,
}

impl StorageSettings {
    pub fn max_bytes_for(&self, purpose: &str) -> u64 {
        self.max_bytes.get(purpose).copied().unwrap_or(self.default_max_bytes)
    }
}

/// A string that never appears in logs or `Debug` output and is wiped from memory when
/// dropped; read it with `ExposeSecret::expose_secret`.
pub type Secret = secrecy::SecretString;

impl Settings {
    /// Loads the layered configuration from `config_dir` and the process environment.
    pub fn load(config_dir: &Path) -> anyhow::Result<Self> {
        let env = Environment::from_env_var(std::env::var("TT_ENV").ok().as_deref())?;
        Self::load_for(config_dir, env)
    }

    pub fn load_for(config_dir: &Path, env: Environment) -> anyhow::Result<Self> {
        let builder = config::Config::builder()
            // The defaults are compiled in, so the binary runs from any directory; a
            // `config/default.toml` on disk (the same file) may override them.
            .add_source(config::File::from_str(EMBEDDED_DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from(config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(config_dir.join(format!("{}.toml", env.as_str()))).required(false))
            .add_source(
                config::Environment::with_prefix("TT")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("server.cors_allowed_origins")
                    .with_list_parse_key("server.trusted_proxies")
                    .try_parsing(true),
            );
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.env = env;
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses configurations that are unsafe or meaningless.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.env == Environment::Production {
            anyhow::ensure!(
                self.auth.jwt_secret.expose_secret() != DEFAULT_JWT_SECRET,
                "TT_ENV=production refuses the default JWT secret: set TT__AUTH__JWT_SECRET"
            );
            anyhow::ensure!(
                self.audit.checkpoint_key.expose_secret() != DEFAULT_AUDIT_KEY,
                "TT_ENV=production refuses the default audit checkpoint key: set TT__AUDIT__CHECKPOINT_KEY"
            );
            anyhow::ensure!(
                self.mail.transport == MailTransportKind::Smtp,
                "TT_ENV=production needs TT__MAIL__TRANSPORT=smtp"
            );
            anyhow::ensure!(self.auth.rate_limits == Switch::On, "TT_ENV=production refuses TT__AUTH__RATE_LIMITS=off");
            anyhow::ensure!(
                self.server.metrics_token.is_some() || self.server.metrics_public,
                "TT_ENV=production needs TT__SERVER__METRICS_TOKEN (or TT__SERVER__METRICS_PUBLIC=true when /metrics is reachable only from a private network)"
            );
        }
        crate::api::client_ip::parse_proxies(&self.server.trusted_proxies)?;
        anyhow::ensure!(
            self.auth.password_reset_interval_minutes >= 0,
            "auth.password_reset_interval_minutes must not be negative"
        );
        anyhow::ensure!(self.auth.jwt_secret.expose_secret().len() >= 32, "auth.jwt_secret must be at least 32 bytes");
        anyhow::ensure!(self.auth.access_token_secs > 0, "auth.access_token_secs must be positive");
        anyhow::ensure!(self.database.pool_max_size > 0, "database.pool_max_size must be positive");
        anyhow::ensure!(
            self.audit.checkpoint_key.expose_secret().len() >= 32,
            "audit.checkpoint_key must be at least 32 bytes"
        );
        anyhow::ensure!(self.audit.sequencer_batch > 0, "audit.sequencer_batch must be positive");
        anyhow::ensure!(
            (0..=10_000).contains(&self.contracts.inventor_min_share_bp),
            "contracts.inventor_min_share_bp must be within 0..=10000"
        );
        crate::db::DatabaseUrl::parse(self.database.url.expose_secret())?;
        anyhow::ensure!(
            !self.storage.url.starts_with("s3://") || self.storage.s3_part_size_bytes >= 5 * 1024 * 1024,
            "storage.s3_part_size_bytes must be at least 5 MiB (the S3 minimum part size)"
        );
        anyhow::ensure!(self.storage.local_chunk_bytes > 0, "storage.local_chunk_bytes must be positive");
        anyhow::ensure!(self.storage.upload_concurrency > 0, "storage.upload_concurrency must be positive");
        for purpose in self.storage.max_bytes.keys() {
            anyhow::ensure!(
                crate::domain::file::Purpose::parse(purpose).is_some(),
                "storage.max_bytes names an unknown purpose {purpose:?}"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut settings = Settings::load_for(&dir, Environment::Development).unwrap();
        settings.database.url = Secret::from("postgres://app:s3cr3t-db-pw@db.internal/tt");
        settings.auth.jwt_secret = Secret::from("s3cr3t-jwt-key-0123456789abcdef0123456789");
        settings.mail.smtp_password = Some(Secret::from("s3cr3t-smtp-pw"));
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("[REDACTED]"), "{printed}");
    }
}
