//! Queries on users and their refresh/email tokens and login throttle.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{email_tokens, login_throttle, refresh_tokens, users};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub status: String,
    pub role: String,
    pub org_id: Option<String>,
    pub org_role: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub status: &'a str,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, user: &NewUser<'_>) -> QueryResult<usize> {
    diesel::insert_into(users::table).values(user).execute(c)
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table.find(id).first(c).optional()?)
}

/// The users with these ids (any order; unknown ids are left out).
pub fn find_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<UserRow>> {
    Ok(users::table.filter(users::id.eq_any(ids)).load(c)?)
}

/// A user with their organization, in one statement.
pub fn find_with_org(
    c: &mut AnyConnection,
    id: &str,
) -> AppResult<Option<(UserRow, Option<super::organizations::OrgRow>)>> {
    use super::schema::organizations;
    Ok(users::table
        .left_join(organizations::table)
        .filter(users::id.eq(id))
        .select((users::all_columns, organizations::all_columns.nullable()))
        .first(c)
        .optional()?)
}

pub fn find_by_email(c: &mut AnyConnection, email: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table.filter(users::email.eq(email)).first(c).optional()?)
}

pub fn members_of(c: &mut AnyConnection, org_id: &str) -> AppResult<Vec<UserRow>> {
    Ok(users::table.filter(users::org_id.eq(org_id)).order(users::created_at).load(c)?)
}

/// Puts a user who has no organization into `org_id`; false when they already have one.
pub fn join_org(
    c: &mut AnyConnection,
    user_id: &str,
    org_id: &str,
    org_role: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::org_id.is_null()))
        .set((users::org_id.eq(org_id), users::org_role.eq(org_role), users::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}

pub fn set_status(c: &mut AnyConnection, user_id: &str, from: &str, to: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::status.eq(from)))
        .set((users::status.eq(to), users::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}

pub fn set_role(c: &mut AnyConnection, user_id: &str, role: &str, now: DateTime<Utc>) -> AppResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::role.eq(role), users::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(())
}

pub fn set_password(c: &mut AnyConnection, user_id: &str, hash: &str, now: DateTime<Utc>) -> AppResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(())
}

pub fn count_admins(c: &mut AnyConnection) -> AppResult<i64> {
    Ok(users::table.filter(users::role.eq("admin")).count().get_result(c)?)
}

// ---- refresh tokens ----

#[derive(Debug, Clone, Queryable)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub status: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert_refresh(
    c: &mut AnyConnection,
    user_id: &str,
    family_id: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::new_v4().to_string()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::status.eq("active"),
            refresh_tokens::expires_at.eq(to_db(expires_at)),
            refresh_tokens::created_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

pub fn find_refresh(c: &mut AnyConnection, token_hash: &str) -> AppResult<Option<RefreshTokenRow>> {
    Ok(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(token_hash)).first(c).optional()?)
}

/// Marks an active token rotated; false when it was not active any more (a concurrent use).
pub fn rotate_refresh(c: &mut AnyConnection, id: &str) -> AppResult<bool> {
    let n = diesel::update(refresh_tokens::table.find(id).filter(refresh_tokens::status.eq("active")))
        .set(refresh_tokens::status.eq("rotated"))
        .execute(c)?;
    Ok(n == 1)
}

pub fn revoke_family(c: &mut AnyConnection, family_id: &str) -> AppResult<usize> {
    Ok(diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family_id)))
        .set(refresh_tokens::status.eq("revoked"))
        .execute(c)?)
}

pub fn revoke_all_for_user(c: &mut AnyConnection, user_id: &str) -> AppResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::status.ne("revoked")),
    )
    .set(refresh_tokens::status.eq("revoked"))
    .execute(c)?)
}

// ---- email tokens ----

#[derive(Debug, Clone, Queryable)]
pub struct EmailTokenRow {
    pub id: String,
    pub user_id: String,
    pub purpose: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert_email_token(
    c: &mut AnyConnection,
    user_id: &str,
    purpose: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(uuid::Uuid::new_v4().to_string()),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose),
            email_tokens::token_hash.eq(token_hash),
            email_tokens::expires_at.eq(to_db(expires_at)),
            email_tokens::created_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// Whether `token_hash` is an unused, unexpired token of `purpose` (a cheap check made before
/// expensive work; [`consume_email_token`] stays the authority).
pub fn email_token_usable(
    c: &mut AnyConnection,
    purpose: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n: i64 = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(to_db(now)))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Marks every unused token of `purpose` of the user as used (a newer one replaces them).
pub fn retire_email_tokens(c: &mut AnyConnection, user_id: &str, purpose: &str, now: DateTime<Utc>) -> AppResult<()> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(to_db(now)))
    .execute(c)?;
    Ok(())
}

/// When the newest token of `purpose` was minted for the user.
pub fn last_email_token_at(c: &mut AnyConnection, user_id: &str, purpose: &str) -> AppResult<Option<NaiveDateTime>> {
    Ok(email_tokens::table
        .filter(email_tokens::user_id.eq(user_id))
        .filter(email_tokens::purpose.eq(purpose))
        .select(diesel::dsl::max(email_tokens::created_at))
        .first(c)?)
}

/// Consumes an unused, unexpired token of `purpose`; returns its user id.
pub fn consume_email_token(
    c: &mut AnyConnection,
    purpose: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let row: Option<EmailTokenRow> = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose))
        .first(c)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.used_at.is_some() || row.expires_at <= to_db(now) {
        return Ok(None);
    }
    let n = diesel::update(email_tokens::table.find(&row.id).filter(email_tokens::used_at.is_null()))
        .set(email_tokens::used_at.eq(to_db(now)))
        .execute(c)?;
    Ok((n == 1).then_some(row.user_id))
}

// ---- login throttle ----

#[derive(Debug, Clone, Queryable)]
pub struct ThrottleRow {
    pub email: String,
    /// Attempts counted in the current window: in flight, failed, or succeeded while others
    /// of the same burst were in flight.
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    /// Attempts counted whose password check has not finished yet.
    pub pending: i32,
    /// Completed failures in the current window; `auth.account_lock_failures` of them lock.
    pub failed: i32,
}

/// The throttle row of `email`, created when missing, locked until the transaction ends: an
/// atomic upsert then `FOR UPDATE` on PostgreSQL (two first attempts cannot both insert);
/// on SQLite the write transaction already holds the database's write lock.
pub fn lock_throttle(c: &mut AnyConnection, email: &str, now: DateTime<Utc>) -> AppResult<ThrottleRow> {
    use diesel::sql_types::{Text, Timestamp};
    const UPSERT: &str = "INSERT INTO login_throttle (email, failures, window_start, locked_until, pending) \
                          VALUES ($1, 0, $2, NULL, 0) ON CONFLICT (email) DO NOTHING";
    match c {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query(UPSERT).bind::<Text, _>(email).bind::<Timestamp, _>(to_db(now)).execute(pg)?;
            diesel::sql_query("SELECT email FROM login_throttle WHERE email = $1 FOR UPDATE")
                .bind::<Text, _>(email)
                .execute(pg)?;
        }
        AnyConnection::Sqlite(lite) => {
            diesel::sql_query(UPSERT.replace("$1", "?").replace("$2", "?"))
                .bind::<Text, _>(email)
                .bind::<Timestamp, _>(to_db(now))
                .execute(lite)?;
        }
    }
    Ok(login_throttle::table.find(email).first(c)?)
}

/// Writes back a row read by [`lock_throttle`].
pub fn save_throttle(c: &mut AnyConnection, row: &ThrottleRow) -> AppResult<()> {
    diesel::update(login_throttle::table.find(&row.email))
        .set((
            login_throttle::failures.eq(row.failures),
            login_throttle::window_start.eq(row.window_start),
            login_throttle::locked_until.eq(row.locked_until),
            login_throttle::pending.eq(row.pending),
            login_throttle::failed.eq(row.failed),
        ))
        .execute(c)?;
    Ok(())
}

pub fn clear_throttle(c: &mut AnyConnection, email: &str) -> AppResult<()> {
    diesel::delete(login_throttle::table.find(email)).execute(c)?;
    Ok(())
}
