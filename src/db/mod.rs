//! Storage: an r2d2 pool of [`AnyConnection`] (SQLite or PostgreSQL, chosen by URL scheme)
//! and the one way handlers reach it: [`Db::tx`] / [`Db::read`], which run a closure inside
//! one transaction on the blocking thread pool. Nothing async ever holds a connection.

pub mod audit;
pub mod brokers;
pub mod challenges;
pub mod conn;
pub mod connections;
pub mod contracts;
pub mod files;
pub mod freshness;
pub mod idempotency;
pub mod instruments;
pub mod integrity;
pub mod invitations;
pub mod listings;
pub mod lock;
pub mod match_events;
pub mod migrate;
pub mod notifications;
pub mod organizations;
pub mod registrations;
pub mod schema;
pub mod settlement_batches;
pub mod time;
pub mod users;
pub mod vectors;
pub mod vouchers;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

pub use conn::AnyConnection;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://<path>`: the path to the database file.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| anyhow::anyhow!("database.url must start with sqlite:// or postgres://"))?;
        anyhow::ensure!(!path.is_empty(), "database.url names no SQLite file");
        anyhow::ensure!(
            !path.starts_with(":memory:"),
            "in-memory SQLite gives every pooled connection its own database; use a file"
        );
        Ok(Self::Sqlite(path.to_owned()))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

pub type Pool = diesel::r2d2::Pool<conn::Manager>;

/// The database handle kept in application state.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    /// One permit per pooled connection: requests wait here, asynchronously, rather than as
    /// blocked threads parked on the pool (which under load meant dozens of threads and a
    /// context switch per hand-over).
    permits: Arc<Semaphore>,
    /// SQLite has one writer at a time. Writers of this process take turns here, in order,
    /// instead of colliding on the file lock, where the loser sleeps in SQLite's busy handler
    /// (1, 2, 5, 10… ms steps) long after the lock is free. (Other processes still meet the
    /// busy timeout.) PostgreSQL: no turn-taking.
    writer: Option<Arc<Semaphore>>,
    timeout: Duration,
    /// Re-runs of a write transaction after a deadlock or serialization failure.
    max_retries: u32,
    contention: Arc<ContentionCounters>,
    /// Woken after every committed write transaction (the audit sequencer listens).
    commits: Arc<Notify>,
    /// Where `read_point` opens its per-thread SQLite connections, and which handle they
    /// belong to (a process may hold several databases: tests, tools).
    url: DatabaseUrl,
    /// Statements sent by this handle's connections since start.
    statements: conn::StatementCounter,
    /// When a statement last found its connection lost (checkouts are tested for a while).
    health: conn::Health,
    id: u64,
}

thread_local! {
    /// The calling thread's own SQLite connection for `read_point`, tagged with the `Db` it
    /// belongs to.
    static POINT_READER: std::cell::RefCell<Option<(u64, AnyConnection)>> = const { std::cell::RefCell::new(None) };
}

static NEXT_DB_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Db {
    /// Opens the pool. For SQLite the file (and its directory) is created and switched to WAL
    /// once, before the pool exists: doing it per connection races for the write lock.
    pub fn connect(url: &DatabaseUrl, max_size: u32, timeout: Duration, max_retries: u32) -> anyhow::Result<Self> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut conn = AnyConnection::open(url)?;
            conn.batch_execute("PRAGMA journal_mode = WAL;")?;
        }
        let backend = url.backend();
        let statements = conn::StatementCounter::default();
        let health = conn::Health::default();
        let pool = diesel::r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            // A PostgreSQL connection can die with its server (restart, failover); a SQLite
            // one cannot, so it skips the round trip on every checkout.
            .test_on_check_out(backend == Backend::Postgres)
            .build(conn::Manager::new(url.clone(), statements.clone(), health.clone()))?;
        Ok(Self {
            pool,
            backend,
            permits: Arc::new(Semaphore::new(max_size as usize)),
            writer: (backend == Backend::Sqlite).then(|| Arc::new(Semaphore::new(1))),
            timeout,
            max_retries,
            contention: Arc::default(),
            commits: Arc::new(Notify::new()),
            url: url.clone(),
            statements,
            health,
            id: NEXT_DB_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// (retried transactions, transactions that exhausted their retries) since start.
    pub fn contention_counts(&self) -> (u64, u64) {
        (self.contention.retries.load(Ordering::Relaxed), self.contention.exhausted.load(Ordering::Relaxed))
    }

    /// Statements this handle's connections have sent since start (`BEGIN`/`COMMIT` included).
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Notified after every committed write transaction of this handle.
    pub fn commits(&self) -> Arc<Notify> {
        self.commits.clone()
    }

    /// (open connections, idle connections, max size) for metrics.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections, self.pool.max_size())
    }

    /// Runs `f` in one read-write transaction on the blocking pool. On SQLite the
    /// transaction is `BEGIN IMMEDIATE`, so writers queue instead of failing when a read lock
    /// would have to be upgraded. On PostgreSQL a transaction the server aborts for a deadlock
    /// or a serialization failure is rolled back and `f` runs again (at most
    /// `database.max_retries` times, with jittered backoff), so `f` must be re-runnable:
    /// everything it does happens inside the transaction. Exhausted retries are a 503.
    pub async fn tx<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnMut(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let turn = match &self.writer {
            Some(writer) => Some(self.acquire(writer).await?),
            None => None,
        };
        let (this, permit) = (self.clone(), self.permit().await?);
        let result = blocking(move || {
            let _held = (permit, turn);
            this.tx_blocking(f)
        })
        .await;
        if result.is_ok() {
            self.commits.notify_one();
        }
        result
    }

    /// Runs read-only `f` on the blocking pool. On SQLite inside one deferred transaction: a
    /// consistent snapshot, no write lock. On PostgreSQL without one: at READ COMMITTED (the
    /// isolation every transaction here runs at) each statement takes its own snapshot inside
    /// a transaction too, so BEGIN and COMMIT would only add two round trips.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (this, permit) = (self.clone(), self.permit().await?);
        blocking(move || {
            let _permit = permit;
            this.read_blocking(f)
        })
        .await
    }

    /// `read` for a lookup by key that takes microseconds (one listing by id), where each
    /// statement seeing its own snapshot is enough, so no transaction is opened: BEGIN and
    /// COMMIT would cost more round trips than the lookup. On SQLite it runs on the calling
    /// thread with that thread's own connection: in WAL mode a reader never waits for a
    /// writer, and handing the work to the blocking pool and back cost more than the lookup
    /// itself. On PostgreSQL (a network round trip) it runs on a pooled connection on the
    /// blocking pool, as [`Db::read`] does.
    pub async fn read_point<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == Backend::Postgres {
            return self.read(f).await;
        }
        POINT_READER.with(|cell| {
            let mut slot = cell.borrow_mut();
            let conn = match &mut *slot {
                Some((id, conn)) if *id == self.id => conn,
                other => {
                    let mut conn = AnyConnection::open(&self.url).map_err(|e| AppError::Unavailable(e.into()))?;
                    self.statements.attach(&mut conn);
                    &mut other.insert((self.id, conn)).1
                }
            };
            // No BEGIN/COMMIT around it: each statement is its own snapshot, which is all a
            // lookup by key needs, and the pair cost more than the lookup.
            let result = f(conn);
            if <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn) {
                *slot = None;
            }
            result
        })
    }

    /// A turn at a pooled connection, waited for without holding a thread; the permit moves
    /// into the blocking closure, so it is returned when the work ends even if the request
    /// that asked for it was cancelled.
    async fn permit(&self) -> AppResult<OwnedSemaphorePermit> {
        self.acquire(&self.permits).await
    }

    async fn acquire(&self, permits: &Arc<Semaphore>) -> AppResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.timeout, permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Unavailable(anyhow::anyhow!("the database stayed busy for {:?}", self.timeout))),
        }
    }

    /// `tx` for code already on a blocking thread (CLI commands, benchmarks, job runners),
    /// with the same retries.
    pub fn tx_blocking<T>(&self, mut f: impl FnMut(&mut AnyConnection) -> AppResult<T>) -> AppResult<T> {
        let mut attempt = 0;
        loop {
            let mut conn = self.pool.get()?;
            match self.health.watch(write_tx(&mut conn, &mut f)) {
                Err(AppError::Contention(cause)) => {
                    if attempt >= self.max_retries {
                        self.contention.exhausted.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(attempts = attempt + 1, error = %cause, "transaction kept colliding; giving up");
                        return Err(AppError::Contention(cause));
                    }
                    attempt += 1;
                    self.contention.retries.fetch_add(1, Ordering::Relaxed);
                    drop(conn);
                    std::thread::sleep(retry_backoff(attempt));
                }
                other => return other,
            }
        }
    }

    /// `read` for code already on a blocking thread (a deferred transaction on SQLite, none on
    /// PostgreSQL).
    pub fn read_blocking<T>(&self, f: impl FnOnce(&mut AnyConnection) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.pool.get()?;
        let conn: &mut AnyConnection = &mut conn;
        self.health.watch(match self.backend {
            Backend::Postgres => f(conn),
            Backend::Sqlite => conn.transaction(f),
        })
    }

    /// A raw pooled connection for code that manages its own transactions (migrations, tests).
    pub fn conn(&self) -> AppResult<diesel::r2d2::PooledConnection<conn::Manager>> {
        Ok(self.pool.get()?)
    }

    /// Checks that the database answers (readiness).
    pub async fn ping(&self) -> AppResult<()> {
        let (pool, permit) = (self.pool.clone(), self.permit().await?);
        blocking(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            conn.batch_execute("SELECT 1").map_err(|e| AppError::Unavailable(e.into()))
        })
        .await
    }
}

#[derive(Default)]
struct ContentionCounters {
    retries: AtomicU64,
    exhausted: AtomicU64,
}

/// 2, 4, 8 … ms (capped at 64) times a random factor in [0.5, 1.5): colliding transactions
/// spread out instead of meeting again.
fn retry_backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = 2_u64.pow(attempt.min(6));
    let jitter = rand::rng().random_range(0.5..1.5);
    Duration::from_micros((base as f64 * 1000.0 * jitter) as u64)
}

/// Runs `f` in a write transaction on `conn` (see [`Db::tx`]); no retries.
pub fn write_tx<T>(conn: &mut AnyConnection, f: impl FnOnce(&mut AnyConnection) -> AppResult<T>) -> AppResult<T> {
    match conn {
        AnyConnection::Postgresql(_) => conn.transaction(f),
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(err) => {
                    if let Err(rollback) = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn)
                    {
                        tracing::error!(error = %rollback, "rollback failed");
                    }
                    Err(err)
                }
            }
        }
    }
}

/// Runs blocking work on tokio's blocking pool, mapping a panic or cancellation to a 500.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)?
}

/// `%text%` for LIKE, with `%`, `_` and `\` escaped (use with `.escape('\\')`).
pub fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds SQLite with the query-planner stability guarantee; without
    /// it every cached `LIMIT ?` statement is re-prepared on each execution.
    #[test]
    fn bundled_sqlite_keeps_cached_statements_prepared() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(&mut conn).unwrap();
        assert!(options.iter().any(|o| o.compile_options == "ENABLE_QPSG"), "built without SQLITE_ENABLE_QPSG");
    }
}
