//! Test harness: `spawn_app()` starts the real server on port 0 with a fresh database
//! (SQLite file copied from a migrated template, or a PostgreSQL database created from a
//! template database), chosen by `TT_TEST_BACKEND=sqlite|postgres`.

use std::path::PathBuf;
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;
use techtransfer::clock::Clock;
use techtransfer::config::{Environment, Settings};
use techtransfer::db::{AnyConnection, Backend, DatabaseUrl};
use techtransfer::startup::{Application, BuildOptions};
use techtransfer::state::AppState;

pub fn backend() -> Backend {
    match std::env::var("TT_TEST_BACKEND").as_deref() {
        Ok("postgres") | Ok("pg") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("TT_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

fn pg_admin_url() -> String {
    std::env::var("TT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) => format!("{}/{db}", &admin[..i]),
        None => panic!("TT_TEST_PG_URL must end in /<database>"),
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A database that exists for one test and is dropped with it.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { name: String, url: String },
}

impl TestDb {
    pub fn new() -> Self {
        match backend() {
            Backend::Sqlite => {
                let template = sqlite_template();
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                std::fs::copy(template, &path).expect("copy template database");
                Self::Sqlite { url: format!("sqlite://{}", path.display()), _dir: dir }
            }
            Backend::Postgres => {
                let template = pg_template();
                let name = format!("tt_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&pg_admin_url()).expect("connect to PostgreSQL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create test database");
                Self::Postgres { url: pg_url_for(&name), name }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { name, .. } = self
            && let Ok(mut admin) = PgConnection::establish(&pg_admin_url())
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A migrated SQLite file, made once per test process.
fn sqlite_template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("template.db");
            let url = DatabaseUrl::Sqlite(path.display().to_string());
            let mut conn = AnyConnection::open(&url).expect("open template");
            conn.batch_execute("PRAGMA journal_mode = WAL;").expect("wal");
            techtransfer::db::migrate::run_pending(&mut conn).expect("migrate template");
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
            drop(conn);
            (dir, path)
        })
        .1
}

/// A migrated PostgreSQL template database, named after the migrations' content so a
/// changed migration gets a new template. Built under a temporary name and renamed, so a
/// concurrent test process never copies a half-migrated template.
fn pg_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("tt_tpl_{}", migrations_fingerprint());
        let mut admin = PgConnection::establish(&pg_admin_url()).expect(
            "PostgreSQL tests need a server at TT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres)",
        );
        if database_exists(&mut admin, &name) {
            return name;
        }
        let building = format!("tt_tpl_build_{}", uuid::Uuid::new_v4().simple());
        admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("create template");
        {
            let mut conn = AnyConnection::open(&DatabaseUrl::Postgres(pg_url_for(&building))).expect("open template");
            techtransfer::db::migrate::run_pending(&mut conn).expect("migrate template");
        }
        if admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).is_err() {
            // Another process won the race; use its template.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"));
        }
        name
    })
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        _one: i32,
    }
    diesel::sql_query("SELECT 1 AS _one FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load::<Found>(admin)
        .map(|rows| !rows.is_empty())
        .unwrap_or(false)
}

fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let dir = manifest_dir().join("migrations/postgres");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    for path in entries {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&path).unwrap_or_default());
    }
    hex(&hasher.finalize()[..6])
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for entry in rd.flatten() {
            let p = entry.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::load_for(&manifest_dir().join("config"), Environment::Test).expect("test settings");
    settings.server.port = 0;
    settings
}

#[allow(dead_code)] // the fields are used by some test modules only
pub struct TestApp {
    pub addr: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    _db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let db = TestDb::new();
    let mut settings = test_settings();
    settings.database.url = techtransfer::config::Secret::new(db.url());
    customize(&mut settings);
    let clock = Clock::adjustable();
    let app = Application::build_with(settings, BuildOptions { clock: clock.clone() }).await.expect("build app");
    let addr = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { addr, client, state, clock, _db: db }
}

fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let mut log = test_settings().log;
            log.level = "debug".to_owned();
            techtransfer::telemetry::init(&log, Environment::Test, std::io::stdout);
        }
    });
}

/// A response with its status, headers and JSON body (if any) read eagerly.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self.json()
    }

    /// Asserts a problem+json response with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(
            content_type.starts_with("application/problem+json"),
            "content-type {content_type}; body {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["code"], code, "unexpected code; body: {}", self.text);
        assert_eq!(body["status"], status);
        body
    }
}

#[allow(dead_code)]
impl TestApp {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') && !path.starts_with("/api/") && !is_root_path(path) {
            format!("{}/api/v1{path}", self.addr)
        } else {
            format!("{}{path}", self.addr)
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        TestResponse { status, headers, text }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> TestResponse {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        TestResponse { status, headers, text }
    }

    /// Runs every due background job until the queue has nothing due.
    pub async fn run_due_jobs(&self) -> usize {
        techtransfer::jobs::run_due(&self.state).await.expect("run jobs")
    }
}

fn is_root_path(path: &str) -> bool {
    ["/healthz", "/readyz", "/metrics", "/docs"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}?")))
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // Like crates.io's harness: a test must not leave failed or overdue jobs behind.
        let Ok(mut conn) = self.state.db.conn() else { return };
        let rows = techtransfer::jobs::queue::list(&mut conn).unwrap_or_default();
        let now = self.clock.now();
        let stuck: Vec<_> = rows
            .iter()
            .filter(|j| j.status == "failed" || j.run_at() <= now - chrono::Duration::seconds(1))
            .map(|j| format!("{} {} attempts={} error={:?}", j.kind, j.status, j.attempts, j.last_error))
            .collect();
        assert!(stuck.is_empty(), "jobs left failed or due but not run: {stuck:#?}");
    }
}
