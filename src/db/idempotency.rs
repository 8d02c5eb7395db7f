//! Stored responses of requests made with an `Idempotency-Key`, scoped by user, method, path
//! and key (see `api::idempotency`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::idempotent_requests as idem;
use super::time::to_db;
use crate::error::AppResult;

/// Who sent which key to which endpoint.
#[derive(Debug, Clone)]
pub struct Scope {
    pub user_id: String,
    pub method: String,
    pub path: String,
    pub key: String,
}

pub struct StoredResponse {
    /// SHA-256 of the request body that produced the response.
    pub fingerprint: String,
    pub status: i32,
    pub response: String,
}

pub fn find(c: &mut AnyConnection, scope: &Scope) -> AppResult<Option<StoredResponse>> {
    let row: Option<(String, i32, String)> = idem::table
        .find((&scope.user_id, &scope.method, &scope.path, &scope.key))
        .select((idem::fingerprint, idem::status, idem::response))
        .first(c)
        .optional()?;
    Ok(row.map(|(fingerprint, status, response)| StoredResponse { fingerprint, status, response }))
}

/// Stores the response of a key's first use; false when another request stored one first
/// (inside a savepoint, so the caller's transaction stays usable).
pub fn save(c: &mut AnyConnection, scope: &Scope, stored: &StoredResponse, now: DateTime<Utc>) -> AppResult<bool> {
    let inserted = c.transaction(|c| {
        diesel::insert_into(idem::table)
            .values((
                idem::user_id.eq(&scope.user_id),
                idem::method.eq(&scope.method),
                idem::path.eq(&scope.path),
                idem::key.eq(&scope.key),
                idem::fingerprint.eq(&stored.fingerprint),
                idem::status.eq(stored.status),
                idem::response.eq(&stored.response),
                idem::created_at.eq(to_db(now)),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
