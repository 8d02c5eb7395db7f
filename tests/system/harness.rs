//! Drives the real `techtransfer` binary as separate processes: a fresh database seeded with
//! the demo data set, servers started, killed with SIGKILL and restarted on it, and a JSON
//! client to talk to them. The backend follows `TT_TEST_BACKEND` like the API tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{Value, json};

pub const DEMO_PASSWORD: &str = "Demo-Pass-2026!";
pub const ADMIN: (&str, &str) = ("admin@demo.techtransfer.cn", "Demo-Admin-2026!");

pub fn on_postgres() -> bool {
    matches!(std::env::var("TT_TEST_BACKEND").as_deref(), Ok("postgres") | Ok("pg"))
}

fn pg_admin_url() -> String {
    std::env::var("TT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A seeded database and the settings every server on it shares.
pub struct World {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pg_name: Option<String>,
}

impl World {
    /// A fresh database with the demo data set (plus `synthetic` listings).
    pub fn seeded(synthetic: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_name) = if on_postgres() {
            let name = format!("tt_test_sys_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&pg_admin_url()).expect("connect to PostgreSQL");
            admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
            let admin_url = pg_admin_url();
            (format!("{}/{name}", &admin_url[..admin_url.rfind('/').unwrap()]), Some(name))
        } else {
            (format!("sqlite://{}", dir.path().join("system.db").display()), None)
        };
        let world = Self { dir, database_url, pg_name };
        let out = world.command(0).args(["seed-demo", "--synthetic", &synthetic.to_string()]).output().expect("seed");
        assert!(out.status.success(), "seed-demo failed: {}", String::from_utf8_lossy(&out.stderr));
        world
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    fn command(&self, port: u16) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_techtransfer"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("TT__DATABASE__URL", &self.database_url)
            .env("TT__DATABASE__POOL_TIMEOUT_SECS", "2")
            .env("TT__SERVER__PORT", port.to_string())
            .env("TT__SERVER__PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("TT__SERVER__SHUTDOWN_TIMEOUT_SECS", "1")
            .env("TT__MAIL__TRANSPORT", "file")
            .env("TT__MAIL__FILE_DIR", self.mail_dir())
            .env("TT__STORAGE__URL", self.dir.path().join("files"))
            .env("TT__AUTH__ARGON2_M_KIB", "1024")
            .env("TT__AUTH__ARGON2_T", "1")
            .env("TT__AUTH__LOGIN_PER_IP_PER_MINUTE", "1000000")
            .env("TT__AUTH__RATE_LIMITS", "off")
            .env("TT__JOBS__INTERVAL_SECS", "1")
            .env("TT__JOBS__LEASE_SECS", "2")
            .env("TT__SEARCH__CATCHUP_SECS", "1")
            .env("TT__LOG__LEVEL", "warn")
            .env("TT__LOG__FORMAT", "json")
            .env_remove("TT_ENV");
        cmd
    }

    /// Starts a server on a free port and waits until it is ready.
    pub async fn start(&self) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Server { port, child: None, log: self.dir.path().join(format!("server-{port}.log")) };
        server.child = Some(self.spawn(port, &server.log));
        server.wait_ready(Duration::from_secs(60)).await;
        server
    }

    /// Starts a server again on the port of one that was killed.
    pub async fn restart(&self, server: &mut Server) {
        assert!(server.child.is_none(), "stop the server first");
        server.child = Some(self.spawn(server.port, &server.log));
        server.wait_ready(Duration::from_secs(60)).await;
    }

    fn spawn(&self, port: u16, log: &Path) -> Child {
        // The server logs to stdout (JSON lines) and panics to stderr: both go to the log file
        // that `Server::errors` reads.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
        self.command(port)
            .arg("serve")
            .stdout(Stdio::from(log.try_clone().expect("log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the server")
    }

    /// Mail files addressed to `email`.
    pub fn mails_to(&self, email: &str) -> usize {
        let Ok(entries) = std::fs::read_dir(self.mail_dir()) else { return 0 };
        entries
            .filter_map(Result::ok)
            .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains(&format!("To: {email}"))))
            .count()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = PgConnection::establish(&pg_admin_url())
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// One server process.
pub struct Server {
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL: no shutdown hook, no flush, in-flight requests cut off.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// Sends a signal (`INT`, `TERM`) to the server process.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("a running server").id();
        let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().expect("run kill");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// Waits for the server process to exit by itself and returns how it ended.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("a running server");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait for the server") {
                return status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server on port {} still running {limit:?} after the signal; log:\n{}", self.port, self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_ready(&self, limit: Duration) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(res) = client.get(self.url("/readyz")).send().await
                && res.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        panic!("server on port {} not ready after {limit:?}; log:\n{log}", self.port);
    }

    /// Lines the server logged at ERROR level (5xx, panics, failed jobs).
    pub fn errors(&self) -> Vec<String> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains("\"level\":\"ERROR\"")).map(str::to_owned).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A status and a JSON body (`Value::Null` when there is none).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }
}

/// A JSON client bound to one server and, optionally, one access token.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    pub fn new(server: &Server) -> Self {
        Self { http: reqwest::Client::new(), base: server.url("/api/v1"), token: None }
    }

    /// The same identity against another server.
    pub fn on(&self, server: &Server) -> Self {
        Self { base: server.url("/api/v1"), ..self.clone() }
    }

    pub async fn login(&self, email: &str, password: &str) -> Self {
        let body = self.post("/auth/login", &json!({"email": email, "password": password})).await.expect(200);
        Self { token: Some(body["access_token"].as_str().unwrap().to_owned()), ..self.clone() }
    }

    pub async fn demo(&self, account: &str) -> Self {
        self.login(&format!("{account}@demo.techtransfer.cn"), DEMO_PASSWORD).await
    }

    pub async fn admin(&self) -> Self {
        self.login(ADMIN.0, ADMIN.1).await
    }

    /// Sends a request; `Err` when no answer arrived (connection refused or cut).
    pub async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).timeout(Duration::from_secs(30));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok(Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) })
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.try_send(reqwest::Method::GET, path, None, None).await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.try_send(reqwest::Method::POST, path, Some(body), None).await.expect("POST")
    }

    /// Every item of a paged list.
    pub async fn all(&self, path: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        for page in 1.. {
            let body = self.get(&format!("{path}{sep}page={page}&per_page=100")).await.expect(200);
            let batch = body["items"].as_array().unwrap().clone();
            let done = batch.len() < 100;
            items.extend(batch);
            if done {
                break;
            }
        }
        items
    }
}

/// Polls `check` until it returns `Some` or `limit` passes.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Today in Asia/Shanghai, `YYYY-MM-DD`.
pub fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string()
}

/// A voucher program open from today with room for everything the tests ask.
pub async fn voucher_program(admin: &Api, budget: i64, cap: i64) -> String {
    let body = json!({
        "name": "系统测试创新券", "year": 2026, "total_budget_fen": budget, "per_enterprise_cap_fen": cap,
        "coverage_ratio_bp": 5000, "service_categories": ["inspection_testing"],
        "eligible_scales": ["large", "medium", "small", "micro"], "valid_days": 365,
        "applications_open": today(), "applications_close": "2099-12-31", "settle_by": "2099-12-31",
    });
    admin.post("/admin/voucher-programs", &body).await.expect(201)["id"].as_str().unwrap().to_owned()
}

pub async fn apply(enterprise: &Api, program: &str, fen: i64) -> String {
    let body = json!({"requested_fen": fen, "purpose": "委托检测样品", "service_category": "inspection_testing"});
    let res = enterprise.post(&format!("/voucher-programs/{program}/applications"), &body).await.expect(201);
    res["id"].as_str().unwrap().to_owned()
}
