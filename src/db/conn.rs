//! The connection enum over both backends and the r2d2 manager that builds it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::{PgConnection, SqliteConnection};

use super::{Backend, DatabaseUrl};

/// One connection to whichever backend the configuration chose.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgresql(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Establishes the concrete connection type the URL names (never by trial and error:
    /// `AnyConnection::establish` would hide the real error and could create a stray SQLite file).
    pub fn open(url: &DatabaseUrl) -> ConnectionResult<Self> {
        match url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(Self::Postgresql),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // busy_timeout and foreign_keys are per connection; WAL is set once per file
                // before the pool starts (see `Db::connect`).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(Self::Sqlite(conn))
            }
        }
    }
}

/// Counts the statements a set of connections sends (`db_statements_total`, and the test that
/// holds list endpoints to a constant number of statements per page).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Makes `conn` count every statement it starts here.
    pub fn attach(&self, conn: &mut AnyConnection) {
        let count = self.0.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

/// How long after a lost connection every checkout is tested.
const SUSPECT_WINDOW_MS: i64 = 60_000;

/// When a connection of one pool was last found lost (ms since the Unix epoch; 0: never).
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<AtomicI64>);

impl Health {
    /// Records that a statement found its connection lost (see [`Manager::is_valid`]).
    pub fn note_lost(&self) {
        self.0.store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    fn suspect(&self) -> bool {
        chrono::Utc::now().timestamp_millis() - self.0.load(Ordering::Relaxed) < SUSPECT_WINDOW_MS
    }

    /// Passes `result` through, noting a lost connection.
    pub fn watch<T>(&self, result: crate::error::AppResult<T>) -> crate::error::AppResult<T> {
        if let Err(e) = &result
            && e.is_lost_connection()
        {
            self.note_lost();
        }
        result
    }
}

/// r2d2 manager that opens connections of the configured backend.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    statements: StatementCounter,
    health: Health,
}

impl Manager {
    pub fn new(url: DatabaseUrl, statements: StatementCounter, health: Health) -> Self {
        Self { url, statements, health }
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        let mut conn = AnyConnection::open(&self.url).map_err(r2d2::Error::ConnectionError)?;
        self.statements.attach(&mut conn);
        Ok(conn)
    }

    /// Runs on every checkout, but asks the server only while the connection is suspect:
    /// within `SUSPECT_WINDOW_MS` of a lost connection of this pool (a database restart or
    /// failover kills every pooled connection at once). The rest of the time a checkout
    /// costs no round trip; a connection that dies unnoticed fails its next statement with a
    /// 503, which opens the window and clears out its siblings.
    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        if !self.health.suspect() {
            return Ok(());
        }
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::TransactionManager;
        <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}
