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
    _files: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let db = TestDb::new();
    let files = tempfile::tempdir().expect("temp dir for files");
    let mut settings = test_settings();
    settings.database.url = techtransfer::config::Secret::from(db.url());
    settings.storage.url = files.path().display().to_string();
    customize(&mut settings);
    let clock = Clock::adjustable();
    let app = Application::build_with(settings, BuildOptions { clock: clock.clone() }).await.expect("build app");
    let addr = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { addr, client, state, clock, _db: db, _files: files }
}

/// A second server on the same database (scale-out in one process): its own pool, search
/// index, sequencer and port, the same settings and clock.
#[allow(dead_code)]
pub struct Peer {
    pub addr: String,
    pub state: AppState,
}

#[allow(dead_code)]
impl TestApp {
    pub async fn spawn_peer(&self) -> Peer {
        let settings = (*self.state.settings).clone();
        let app =
            Application::build_with(settings, BuildOptions { clock: self.clock.clone() }).await.expect("build peer");
        let addr = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        Peer { addr, state }
    }
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
        // Like crates.io's harness: every job a test enqueued must run cleanly. Due jobs are
        // drained here (on a runtime of our own: Drop cannot await), then nothing may have
        // failed or be waiting to retry after an error.
        let state = self.state.clone();
        let drained = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(techtransfer::jobs::run_due(&state)).map_err(|e| e.to_string())
        })
        .join();
        assert!(matches!(drained, Ok(Ok(_))), "draining jobs failed: {drained:?}");
        let Ok(mut conn) = self.state.db.conn() else { return };
        let rows = techtransfer::jobs::queue::list(&mut conn).unwrap_or_default();
        let stuck: Vec<_> = rows
            .iter()
            .filter(|j| j.status == "failed" || j.last_error.is_some())
            .map(|j| format!("{} {} attempts={} error={:?}", j.kind, j.status, j.attempts, j.last_error))
            .collect();
        assert!(stuck.is_empty(), "jobs failed: {stuck:#?}");
    }
}

/// A logged-in user as tests drive them.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
    pub refresh: String,
    pub org_id: Option<String>,
}

#[allow(dead_code)]
impl TestUser {
    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }
    pub fn org(&self) -> &str {
        self.org_id.as_deref().expect("user has an organization")
    }
}

pub const PASSWORD: &str = "correct-horse-battery";

/// A valid unified social credit code, distinct per `n`.
pub fn credit_code(n: u64) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = String::from("91110108");
    let mut x = n.wrapping_mul(2_654_435_761) ^ (n << 7);
    for _ in 0..9 {
        body.push(CHARS[(x % 31) as usize] as char);
        x /= 31;
    }
    let check = techtransfer::domain::organization::credit_check_char(&body).expect("check char");
    format!("{body}{check}")
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn unique() -> u64 {
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + std::process::id() as u64 * 1_000_000
}

#[allow(dead_code)]
impl TestApp {
    pub fn mails(&self) -> Vec<techtransfer::mail::SentMail> {
        self.state.mailer.sent()
    }

    /// The last `token=` value mailed to `to` (runs due jobs first).
    pub async fn mailed_token(&self, to: &str, kind: &str) -> String {
        self.run_due_jobs().await;
        let mail = self
            .mails()
            .into_iter()
            .rev()
            .find(|m| m.to == to && m.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} mail to {to}"));
        let start = mail.text.find("token=").expect("token in mail") + "token=".len();
        mail.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect()
    }

    /// The link in the newest mail of `kind` to `to`, without the configured base URL (runs
    /// due jobs first).
    pub async fn mailed_link(&self, to: &str, kind: &str) -> String {
        self.run_due_jobs().await;
        let base = &self.state.settings.server.public_base_url;
        let mail = self.mails().into_iter().rev().find(|m| m.to == to && m.kind == kind).expect("a mail");
        let start = mail.text.find(base.as_str()).expect("a link in the mail") + base.len();
        mail.text[start..].split_whitespace().next().unwrap_or("").to_owned()
    }

    pub async fn register(&self, email: &str) -> TestResponse {
        self.post(
            "/auth/register",
            None,
            &serde_json::json!({"email": email, "password": PASSWORD, "display_name": "测试用户"}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post("/auth/login", None, &serde_json::json!({"email": email, "password": password})).await
    }

    /// A registered, logged-in user without an organization.
    pub async fn user(&self) -> TestUser {
        let email = format!("user{}@example.cn", unique());
        let id = self.register(&email).await.expect(201)["id"].as_str().unwrap().to_owned();
        let tokens = self.login(&email, PASSWORD).await.expect(200);
        TestUser {
            id,
            email,
            password: PASSWORD.to_owned(),
            token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            org_id: None,
        }
    }

    /// A logged-in administrator (created the way `create-admin` does).
    pub async fn admin(&self) -> TestUser {
        let email = format!("admin{}@example.cn", unique());
        let hash = self.state.passwords.hash(PASSWORD).unwrap();
        let now = self.clock.now();
        let e = email.clone();
        let (user, _) = self
            .state
            .db
            .tx(move |c| techtransfer::service::accounts::create_admin(c, &e, &hash, "管理员", now))
            .await
            .unwrap();
        let tokens = self.login(&email, PASSWORD).await.expect(200);
        TestUser {
            id: user.id,
            email,
            password: PASSWORD.to_owned(),
            token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            org_id: None,
        }
    }

    /// Logs `user` in again (fresh token after a role change).
    pub async fn relogin(&self, user: &TestUser) -> TestUser {
        let tokens = self.login(&user.email, &user.password).await.expect(200);
        TestUser {
            token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            ..user.clone()
        }
    }

    pub fn org_body(kind: &str) -> Value {
        let mut body = serde_json::json!({
            "name": format!("测试机构{}", unique()),
            "kind": kind,
            "credit_code": credit_code(unique()),
            "region": "江苏省",
            "description": "一家用于测试的机构",
            "contact_name": "王工",
            "contact_phone": "025-12345678",
        });
        if kind == "enterprise" {
            body["enterprise_scale"] = "small".into();
        }
        if kind == "service_provider" {
            body["service_categories"] = serde_json::json!(["inspection_testing", "rd_design"]);
        }
        body
    }

    /// A user who owns a new organization of `kind`, still `pending`.
    pub async fn pending_member(&self, kind: &str) -> TestUser {
        self.pending_member_with(Self::org_body(kind)).await
    }

    async fn pending_member_with(&self, org_body: serde_json::Value) -> TestUser {
        let mut user = self.user().await;
        let org = self.post("/organizations", user.t(), &org_body).await.expect(201);
        user.org_id = Some(org["id"].as_str().unwrap().to_owned());
        user
    }

    /// A user who owns a new, verified organization of `kind`.
    pub async fn member(&self, kind: &str) -> TestUser {
        self.member_with(Self::org_body(kind)).await
    }

    /// A user who owns a new, verified organization registered with `org_body`.
    pub async fn member_with(&self, org_body: serde_json::Value) -> TestUser {
        let user = self.pending_member_with(org_body).await;
        let admin = self.admin().await;
        self.post(&format!("/admin/organizations/{}/verify", user.org()), admin.t(), &serde_json::json!({}))
            .await
            .expect(200);
        user
    }

    /// A verified service provider that also opens instruments (科技资源开放共享).
    pub async fn instrument_provider(&self) -> TestUser {
        let mut body = Self::org_body("service_provider");
        body["service_categories"] = serde_json::json!(["inspection_testing", "instrument_sharing"]);
        self.member_with(body).await
    }

    /// Confirms the user's email with the token from the verification email.
    pub async fn verify_email(&self, user: &TestUser) {
        let token = self.mailed_token(&user.email, "verify_email").await;
        self.post("/auth/verify-email", None, &serde_json::json!({"token": token})).await.expect(200);
    }

    /// The id of the newest invitation addressed to `user`.
    pub async fn invitation_for(&self, user: &TestUser) -> String {
        let list = self.get("/me/invitations", user.t()).await.expect(200);
        list["items"][0]["id"].as_str().expect("an invitation").to_owned()
    }

    /// A new user with a verified email, invited to `owner`'s organization as a member, who
    /// accepted.
    pub async fn add_member(&self, owner: &TestUser) -> TestUser {
        let mut user = self.user().await;
        self.verify_email(&user).await;
        self.post(
            &format!("/organizations/{}/invitations", owner.org()),
            owner.t(),
            &serde_json::json!({"email": user.email, "org_role": "member"}),
        )
        .await
        .expect(202);
        let invitation = self.invitation_for(&user).await;
        self.post(&format!("/invitations/{invitation}/accept"), user.t(), &serde_json::json!({})).await.expect(200);
        user.org_id = owner.org_id.clone();
        user
    }

    /// A logged-in user with the `expert` role.
    pub async fn expert(&self) -> TestUser {
        let user = self.user().await;
        let admin = self.admin().await;
        self.post(&format!("/admin/users/{}/role", user.id), admin.t(), &serde_json::json!({"role": "expert"}))
            .await
            .expect(200);
        self.relogin(&user).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(reqwest::Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(reqwest::Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(reqwest::Method::DELETE, path, token, None).await
    }

    /// Runs a closure on a database connection (direct inspection or tampering in tests).
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut techtransfer::db::AnyConnection) -> T) -> T {
        let mut conn = self.state.db.conn().expect("connection");
        f(&mut conn)
    }
}

#[allow(dead_code)]
pub fn achievement_body(title: &str, summary: &str) -> Value {
    serde_json::json!({
        "title": title,
        "summary": summary,
        "field": "new_energy",
        "keywords": ["光伏", "薄膜电池"],
        "trl": 6,
        "transfer_modes": ["license", "transfer"],
        "asking_price_fen": 500_000_000,
        "negotiable": true,
        "region": "江苏省",
        "patent_numbers": ["CN202310123456.6"],
    })
}

#[allow(dead_code)]
pub fn demand_body(title: &str, description: &str) -> Value {
    serde_json::json!({
        "title": title,
        "description": description,
        "field": "new_energy",
        "keywords": ["光伏"],
        "min_trl": 5,
        "budget_fen": 800_000_000,
        "region": "上海市",
        "deadline": "2027-06-30",
    })
}

#[allow(dead_code)]
impl TestApp {
    /// Creates, submits and approves a listing; returns its id.
    pub async fn publish(&self, owner: &TestUser, admin: &TestUser, kind: &str, body: &Value) -> String {
        let created = self.post(&format!("/{kind}s"), owner.t(), body).await.expect(201);
        let id = created["id"].as_str().unwrap().to_owned();
        self.post(&format!("/{kind}s/{id}/submit"), owner.t(), &serde_json::json!({})).await.expect(200);
        let published =
            self.post(&format!("/admin/{kind}s/{id}/approve"), admin.t(), &serde_json::json!({})).await.expect(200);
        assert_eq!(published["status"], "published");
        id
    }
}

/// Where a test keeps uploaded files: the local directory always, an S3-compatible server
/// when `TT_TEST_S3_ENDPOINT` names one (CI starts moto for that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum StorageChoice {
    Local,
    S3,
}

/// The storage kinds to run a file test on; says so when S3 is skipped.
#[allow(dead_code)]
pub fn storage_choices() -> Vec<StorageChoice> {
    if std::env::var("TT_TEST_S3_ENDPOINT").is_ok_and(|e| !e.is_empty()) {
        vec![StorageChoice::Local, StorageChoice::S3]
    } else {
        static NOTICE: OnceLock<()> = OnceLock::new();
        NOTICE.get_or_init(|| {
            eprintln!("SKIP: S3 storage tests (set TT_TEST_S3_ENDPOINT to an S3-compatible server, e.g. moto)")
        });
        vec![StorageChoice::Local]
    }
}

/// Points `settings` at the chosen storage; S3 runs get a bucket (created if missing) and a
/// key prefix of their own.
#[allow(dead_code)]
pub async fn use_storage(settings: &mut Settings, choice: StorageChoice) {
    if choice == StorageChoice::Local {
        return;
    }
    let endpoint = std::env::var("TT_TEST_S3_ENDPOINT").expect("TT_TEST_S3_ENDPOINT");
    let bucket = std::env::var("TT_TEST_S3_BUCKET").unwrap_or_else(|_| "tt-test".to_owned());
    ensure_bucket(&endpoint, &bucket).await;
    let s = &mut settings.storage;
    s.url = format!("s3://{bucket}");
    s.endpoint = endpoint;
    s.allow_http = true;
    s.region = "us-east-1".to_owned();
    s.access_key_id = Some(techtransfer::config::Secret::from("testing"));
    s.secret_access_key = Some(techtransfer::config::Secret::from("testing"));
    s.prefix = format!("t{}", uuid::Uuid::new_v4().simple());
}

async fn ensure_bucket(endpoint: &str, bucket: &str) {
    static MADE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    MADE.get_or_init(|| async {
        // moto accepts an unsigned CreateBucket; an existing bucket answers 409, which is fine.
        let res =
            reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("reach the S3 test server");
        assert!(res.status().is_success() || res.status().as_u16() == 409, "create bucket: {}", res.status());
    })
    .await;
}

/// An app whose files live in `choice`.
#[allow(dead_code)]
pub async fn spawn_app_on(choice: StorageChoice, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let mut storage = test_settings();
    use_storage(&mut storage, choice).await;
    let storage = storage.storage;
    spawn_app_with(move |s| {
        if choice == StorageChoice::S3 {
            s.storage = storage;
        }
        customize(s);
    })
    .await
}
