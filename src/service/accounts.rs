//! Accounts: registration, email verification, login with throttling, refresh-token
//! rotation with reuse detection, logout, password reset, roles.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::tokens;
use crate::config::AuthSettings;
use crate::db::time::{from_db, to_db};
use crate::db::users::{NewUser, ThrottleRow, UserRow};
use crate::db::{self, AnyConnection};
use crate::domain::account::{Role, UserStatus};
use crate::domain::error::{DomainError, ErrorCode, Rule};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::{Actor, new_id};

/// Which single-use email token a job should mint and send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailPurpose {
    VerifyEmail,
    PasswordReset,
}

impl EmailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }
}

#[derive(Clone)]
pub struct NewAccount {
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
}

pub fn register(c: &mut AnyConnection, input: NewAccount, now: DateTime<Utc>) -> AppResult<UserRow> {
    let id = new_id();
    db::users::insert(
        c,
        &NewUser {
            id: &id,
            email: &input.email,
            password_hash: &input.password_hash,
            display_name: &input.display_name,
            status: UserStatus::Unverified.as_str(),
            role: Role::User.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )
    .map_err(|e| AppError::on_unique(e, ErrorCode::EmailTaken, Rule::EmailRegistered))?;
    jobs::enqueue(c, &Job::SendAccountEmail { user_id: id.clone(), purpose: EmailPurpose::VerifyEmail }, now)?;
    audit::record(c, Some(&id), Change::new("user.register", "user", &id).status(None, "unverified"), now)?;
    db::users::find(c, &id)?.ok_or_else(|| AppError::internal(anyhow::anyhow!("user vanished after insert")))
}

/// Mints a single-use token for `purpose` and returns (recipient, display name, raw token).
/// Called by the mail job at send time, so the raw token never rests in the database.
pub fn mint_email_token(
    c: &mut AnyConnection,
    user_id: &str,
    purpose: EmailPurpose,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<Option<(String, String, String)>> {
    let Some(user) = db::users::find(c, user_id)? else { return Ok(None) };
    if purpose == EmailPurpose::VerifyEmail && user.status != UserStatus::Unverified.as_str() {
        return Ok(None);
    }
    // A new reset token replaces the older ones: only the newest email's link works.
    if purpose == EmailPurpose::PasswordReset {
        db::users::retire_email_tokens(c, &user.id, purpose.as_str(), now)?;
    }
    let token = tokens::generate();
    let expires = now + Duration::hours(settings.email_token_hours);
    db::users::insert_email_token(c, &user.id, purpose.as_str(), &tokens::hash(&token), expires, now)?;
    Ok(Some((user.email, user.display_name, token)))
}

fn bad_email_token() -> AppError {
    AppError::field("token", Rule::LinkTokenInvalid)
}

/// Consumes a verification token and activates its account; returns the user id.
pub fn verify_email(c: &mut AnyConnection, token: &str, now: DateTime<Utc>) -> AppResult<String> {
    let user_id = db::users::consume_email_token(c, EmailPurpose::VerifyEmail.as_str(), &tokens::hash(token), now)?
        .ok_or_else(bad_email_token)?;
    if db::users::set_status(c, &user_id, UserStatus::Unverified.as_str(), UserStatus::Active.as_str(), now)? {
        audit::record(
            c,
            Some(&user_id),
            Change::new("user.verify_email", "user", &user_id).status(Some("unverified"), "active"),
            now,
        )?;
    }
    Ok(user_id)
}

/// The first step of a login, taken before the password is checked.
pub enum LoginAdmission {
    /// The account's logins are locked (or its attempt budget is spent) for this many seconds.
    Locked(i64),
    /// The attempt is counted; the user, when the email belongs to an enabled account.
    Admitted(Option<Box<UserRow>>),
}

/// How a login whose password matched ends.
pub enum LoginCompletion {
    Done {
        user: Box<UserRow>,
        refresh_token: String,
    },
    /// Failures counted while the password was being checked locked the account.
    Locked(i64),
}

fn lock_window(settings: &AuthSettings) -> Duration {
    Duration::minutes(settings.account_lock_minutes)
}

fn locked_for(row: &ThrottleRow, now: DateTime<Utc>) -> Option<i64> {
    row.locked_until.map(from_db).filter(|until| *until > now).map(|until| (until - now).num_seconds().max(1))
}

/// Counts a login attempt for `email` before its password is checked, atomically with the
/// lockout decision (the throttle row is locked). Attempts in flight count against the
/// account's budget of `account_lock_failures`, so a burst of parallel attempts evaluates at
/// most that many passwords and the rest are refused (429) without touching argon2.
pub fn begin_login(
    c: &mut AnyConnection,
    email: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<LoginAdmission> {
    let mut row = db::users::lock_throttle(c, email, now)?;
    if let Some(secs) = locked_for(&row, now) {
        return Ok(LoginAdmission::Locked(secs));
    }
    let window = lock_window(settings);
    if from_db(row.window_start) + window <= now {
        row.failures = 0;
        row.failed = 0;
        row.pending = 0;
        row.window_start = to_db(now);
        row.locked_until = None;
    }
    if row.failures >= settings.account_lock_failures as i32 {
        // Spent by attempts still in flight: a moment; by finished ones: the window.
        let secs = if row.pending > 0 { 1 } else { (from_db(row.window_start) + window - now).num_seconds().max(1) };
        return Ok(LoginAdmission::Locked(secs));
    }
    row.failures += 1;
    row.pending += 1;
    db::users::save_throttle(c, &row)?;
    let user = db::users::find_by_email(c, email)?.filter(|u| u.status != UserStatus::Disabled.as_str());
    Ok(LoginAdmission::Admitted(user.map(Box::new)))
}

/// Ends an admitted attempt whose password did not match; returns the lock length when the
/// account is (now) locked: the `account_lock_failures`-th failure in the window locks it.
pub fn record_login_failure(
    c: &mut AnyConnection,
    email: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    let mut row = db::users::lock_throttle(c, email, now)?;
    row.pending = (row.pending - 1).max(0);
    row.failed += 1;
    let locked = match locked_for(&row, now) {
        Some(secs) => Some(secs),
        None if row.failed >= settings.account_lock_failures as i32 => {
            let window = lock_window(settings);
            row.locked_until = Some(to_db(now + window));
            row.failures = 0;
            row.failed = 0;
            row.window_start = to_db(now);
            Some(window.num_seconds())
        }
        None => {
            if row.pending == 0 {
                // The burst is over: only its failures stay counted.
                row.failures = row.failed;
            }
            None
        }
    };
    db::users::save_throttle(c, &row)?;
    Ok(locked)
}

/// Ends an admitted attempt whose password matched: refused while the account is locked
/// (failures counted meanwhile may have locked it), otherwise a new refresh-token family. A
/// success with nothing else in flight clears the count; one made amid a burst keeps its place
/// in the budget until the burst is over, so the burst still evaluates no more passwords than
/// the budget allows.
pub fn complete_login(
    c: &mut AnyConnection,
    user_id: &str,
    email: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<LoginCompletion> {
    let mut row = db::users::lock_throttle(c, email, now)?;
    row.pending = (row.pending - 1).max(0);
    if let Some(secs) = locked_for(&row, now) {
        db::users::save_throttle(c, &row)?;
        return Ok(LoginCompletion::Locked(secs));
    }
    if row.pending == 0 {
        row.failures = 0;
        row.failed = 0;
        row.window_start = to_db(now);
        row.locked_until = None;
    }
    db::users::save_throttle(c, &row)?;
    let user = db::users::find(c, user_id)?.ok_or_else(|| AppError::not_found("user"))?;
    let refresh_token = new_refresh_token(c, &user.id, &new_id(), settings, now)?;
    Ok(LoginCompletion::Done { user: Box::new(user), refresh_token })
}

fn new_refresh_token(
    c: &mut AnyConnection,
    user_id: &str,
    family_id: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = tokens::generate();
    let expires = now + Duration::days(settings.refresh_token_days);
    db::users::insert_refresh(c, user_id, family_id, &tokens::hash(&token), expires, now)?;
    Ok(token)
}

pub enum RefreshOutcome {
    Rotated {
        user: Box<UserRow>,
        refresh_token: String,
    },
    Invalid,
    /// A rotated token came back: its whole family is now revoked.
    ReuseDetected,
}

pub fn refresh(
    c: &mut AnyConnection,
    token: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<RefreshOutcome> {
    let Some(row) = db::users::find_refresh(c, &tokens::hash(token))? else { return Ok(RefreshOutcome::Invalid) };
    match row.status.as_str() {
        "active" if from_db(row.expires_at) > now => {
            if !db::users::rotate_refresh(c, &row.id)? {
                // Lost a race with another use of the same token: that is reuse too.
                db::users::revoke_family(c, &row.family_id)?;
                return Ok(RefreshOutcome::ReuseDetected);
            }
            let Some(user) = db::users::find(c, &row.user_id)?.filter(|u| u.status != UserStatus::Disabled.as_str())
            else {
                return Ok(RefreshOutcome::Invalid);
            };
            let refresh_token = new_refresh_token(c, &user.id, &row.family_id, settings, now)?;
            Ok(RefreshOutcome::Rotated { user: Box::new(user), refresh_token })
        }
        "rotated" => {
            db::users::revoke_family(c, &row.family_id)?;
            audit::record(
                c,
                Some(&row.user_id),
                Change::new("user.refresh_reuse_detected", "user", &row.user_id)
                    .detail(serde_json::json!({ "family_id": row.family_id })),
                now,
            )?;
            Ok(RefreshOutcome::ReuseDetected)
        }
        _ => Ok(RefreshOutcome::Invalid),
    }
}

pub fn logout(c: &mut AnyConnection, actor_id: &str, token: &str) -> AppResult<()> {
    if let Some(row) = db::users::find_refresh(c, &tokens::hash(token))?
        && row.user_id == actor_id
    {
        db::users::revoke_family(c, &row.family_id)?;
    }
    Ok(())
}

/// Queues a reset email for `email`'s account, at most one per
/// `auth.password_reset_interval_minutes` (a request within that time after the last email,
/// or while one waits to be sent, does nothing). The caller answers the same either way.
pub fn request_password_reset(
    c: &mut AnyConnection,
    email: &str,
    settings: &AuthSettings,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(user) = db::users::find_by_email(c, email)?.filter(|u| u.status != UserStatus::Disabled.as_str()) else {
        return Ok(());
    };
    let purpose = EmailPurpose::PasswordReset;
    let interval = Duration::minutes(settings.password_reset_interval_minutes);
    if let Some(last) = db::users::last_email_token_at(c, &user.id, purpose.as_str())?
        && from_db(last) + interval > now
    {
        return Ok(());
    }
    // One waiting job per account: the key makes a second enqueue a no-op until it has run.
    let key = format!("password_reset:{}", user.id);
    jobs::schedule(c, &Job::SendAccountEmail { user_id: user.id, purpose }, now, &key)
}

/// Whether `token` could reset a password right now: the cheap check made before the new
/// password is hashed.
pub fn password_reset_token_usable(c: &mut AnyConnection, token: &str, now: DateTime<Utc>) -> AppResult<bool> {
    db::users::email_token_usable(c, EmailPurpose::PasswordReset.as_str(), &tokens::hash(token), now)
}

pub fn confirm_password_reset(
    c: &mut AnyConnection,
    token: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let user_id = db::users::consume_email_token(c, EmailPurpose::PasswordReset.as_str(), &tokens::hash(token), now)?
        .ok_or_else(bad_email_token)?;
    let user = db::users::find(c, &user_id)?.ok_or_else(bad_email_token)?;
    db::users::set_password(c, &user_id, password_hash, now)?;
    db::users::retire_email_tokens(c, &user_id, EmailPurpose::PasswordReset.as_str(), now)?;
    db::users::revoke_all_for_user(c, &user_id)?;
    db::users::clear_throttle(c, &user.email)?;
    // Following a link sent to the address proves it, like verification does.
    db::users::set_status(c, &user_id, UserStatus::Unverified.as_str(), UserStatus::Active.as_str(), now)?;
    audit::record(c, Some(&user_id), Change::new("user.password_reset", "user", &user_id), now)?;
    Ok(())
}

pub fn set_role(
    c: &mut AnyConnection,
    actor: &Actor,
    target_id: &str,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<UserRow> {
    actor.require_admin()?;
    let target = db::users::find(c, target_id)?.ok_or_else(|| AppError::not_found("user"))?;
    if target.role == Role::Admin.as_str() && role != Role::Admin && db::users::count_admins(c)? <= 1 {
        return Err(DomainError::new(ErrorCode::Conflict, Rule::LastAdmin).into());
    }
    db::users::set_role(c, target_id, role.as_str(), now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("user.set_role", "user", target_id).status(Some(&target.role), role.as_str()),
        now,
    )?;
    db::users::find(c, target_id)?.ok_or_else(|| AppError::not_found("user"))
}

/// `create-admin`: creates a verified administrator, or promotes and re-passwords an
/// existing account with that email.
pub fn create_admin(
    c: &mut AnyConnection,
    email: &str,
    password_hash: &str,
    display_name: &str,
    now: DateTime<Utc>,
) -> AppResult<(UserRow, bool)> {
    if let Some(user) = db::users::find_by_email(c, email)? {
        db::users::set_role(c, &user.id, Role::Admin.as_str(), now)?;
        db::users::set_password(c, &user.id, password_hash, now)?;
        db::users::set_status(c, &user.id, UserStatus::Unverified.as_str(), UserStatus::Active.as_str(), now)?;
        audit::record(
            c,
            None,
            Change::new("user.create_admin", "user", &user.id).status(Some(&user.role), "admin"),
            now,
        )?;
        let user = db::users::find(c, &user.id)?.ok_or_else(|| AppError::not_found("user"))?;
        return Ok((user, false));
    }
    let id = new_id();
    db::users::insert(
        c,
        &NewUser {
            id: &id,
            email,
            password_hash,
            display_name,
            status: UserStatus::Active.as_str(),
            role: Role::Admin.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )?;
    audit::record(c, None, Change::new("user.create_admin", "user", &id).status(None, "admin"), now)?;
    let user = db::users::find(c, &id)?.ok_or_else(|| AppError::not_found("user"))?;
    Ok((user, true))
}
