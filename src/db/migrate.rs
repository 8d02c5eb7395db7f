//! Embedded, per-backend migrations (`migrations/postgres`, `migrations/sqlite`: same names,
//! same order), applied at start and by `techtransfer migrate`.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::AnyConnection;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

fn source(conn: &AnyConnection) -> EmbeddedMigrations {
    match conn {
        AnyConnection::Postgresql(_) => POSTGRES,
        AnyConnection::Sqlite(_) => SQLITE,
    }
}

/// Applies pending migrations; returns the names applied.
pub fn run_pending(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let migrations = source(conn);
    let applied = conn.run_pending_migrations(migrations).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration (used by the up → down → up test).
pub fn revert_all(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let migrations = source(conn);
    let reverted = conn.revert_all_migrations(migrations).map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}
