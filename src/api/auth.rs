//! /auth: register, verify email, login, refresh, logout, password reset.

use crate::domain::error::Rule;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client_ip::client_ip;
use super::extract::{ApiJson, AuthUser};
use super::openapi::problems::*;
use super::users::UserView;
use crate::auth::rate_limit::Limited;
use crate::domain::account::{check_password, normalize_email};
use crate::domain::error::{ErrorCode, Validator};
use crate::error::{AppError, AppResult};
use crate::service::accounts::{self, LoginAdmission, LoginCompletion, NewAccount, RefreshOutcome};
use crate::service::{Actor, load_actor};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "li.ming@example.cn", "password": "correct-horse-battery", "display_name": "李明"}))]
pub struct RegisterRequest {
    #[schema(example = "li.ming@example.cn", max_length = 254)]
    pub email: String,
    /// At least 10 characters.
    #[schema(example = "correct-horse-battery", min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(example = "李明", min_length = 1, max_length = 100)]
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "q7GxT2mV9kLp4RzW8nBc3YdF6hJs1UeA"}))]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "li.ming@example.cn", "password": "correct-horse-battery"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "R4vN8cXq2LmT7pWz9KdY3hFb6JsG1aEu"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "li.ming@example.cn"}))]
pub struct PasswordResetRequest {
    #[schema(max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "Z8kP3wQm6TbN1xVr4LcY9gHd2JfS7aEu", "new_password": "quiet-river-lantern-2027"}))]
pub struct PasswordResetConfirm {
    pub token: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Counts the request against its per-IP limit (429 with `Retry-After` once spent). The
/// emailed-link pages (`crate::pages`) count against the same limits as the API.
pub(crate) fn limit(state: &AppState, req: &HttpRequest, endpoint: Limited) -> AppResult<()> {
    state.limits.check(endpoint, client_ip(req, &state.proxies), state.clock.now())
}

/// Create an account; a verification email is sent.
///
/// 任何人可调用，按 IP 限流。新账户状态为 `unverified`，验证邮件经任务队列发出。错误：409 `email_taken`，422 `validation_failed`（邮箱格式、密码至少 10 位），429 `rate_limited`，503（密码哈希排队已满）。
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 400, response = BadRequest),
        (status = 409, response = Conflict), (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests), (status = 503, response = ServiceUnavailable)))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<RegisterRequest>,
) -> AppResult<HttpResponse> {
    limit(&state, &req, Limited::Register)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let email = normalize_email(&body.email);
    v.check(email.is_some(), "email", Rule::Email);
    check_password(&mut v, "password", &body.password);
    v.text("display_name", &body.display_name, 100);
    v.finish()?;
    let email = email.unwrap_or_default();
    let password_hash = state.passwords.admit()?.hash(body.password).await?;
    let input = NewAccount { email, password_hash, display_name: body.display_name.trim().to_owned() };
    let now = state.clock.now();
    let actor = state
        .db
        .tx(move |c| {
            let user = accounts::register(c, input.clone(), now)?;
            load_actor(c, &user.id)
        })
        .await?;
    Ok(HttpResponse::Created().json(UserView::from(&actor)))
}

/// Confirm an email address with the token from the verification email.
///
/// 任何人可调用，凭邮件中的一次性令牌；账户 `unverified` → `active`。错误：422 `validation_failed`（令牌无效、过期或已用过，字段 `token`），429 `rate_limited`。
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "accounts", request_body = TokenRequest,
    responses((status = 200, body = UserView), (status = 400, response = BadRequest), (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests)))]
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<TokenRequest>,
) -> AppResult<HttpResponse> {
    limit(&state, &req, Limited::VerifyEmail)?;
    let actor = confirm_email(&state, body.into_inner().token).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&actor)))
}

/// Consumes an email-verification token and activates its account: the API's
/// `verify-email` and the page the emailed link opens.
pub(crate) async fn confirm_email(state: &AppState, token: String) -> AppResult<Actor> {
    let now = state.clock.now();
    state
        .db
        .tx(move |c| {
            let user_id = accounts::verify_email(c, token.trim(), now)?;
            load_actor(c, &user_id)
        })
        .await
}

/// Log in with email and password. Unknown email and wrong password are the same 401.
/// After `auth.account_lock_failures` failures the account's logins answer 429 for
/// `auth.account_lock_minutes`, the right password included.
///
/// 任何人可调用，按 IP 限流；返回访问令牌与刷新令牌。错误：401 `invalid_credentials`（邮箱或密码错误，未知用户同样耗时），429 `rate_limited`，503。
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable), (status = 429, response = TooManyRequests),
        (status = 503, response = ServiceUnavailable)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<LoginRequest>,
) -> AppResult<HttpResponse> {
    limit(&state, &req, Limited::Login)?;
    let body = body.into_inner();
    let email = normalize_email(&body.email).unwrap_or_else(|| body.email.trim().to_lowercase());
    // A place in the hashing queue first: a 503 there must not spend one of the account's
    // attempts.
    let ticket = state.passwords.admit()?;
    let auth = state.settings.auth.clone();
    let now = state.clock.now();
    let admission = {
        let (email, auth) = (email.clone(), auth.clone());
        state.db.tx(move |c| accounts::begin_login(c, &email, &auth, now)).await?
    };
    let user = match admission {
        LoginAdmission::Locked(secs) => return Err(locked(secs)),
        LoginAdmission::Admitted(user) => user,
    };
    let ok = ticket.verify(body.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let now = state.clock.now();
    match (ok, user) {
        (true, Some(user)) => {
            match state.db.tx(move |c| accounts::complete_login(c, &user.id, &email, &auth, now)).await? {
                LoginCompletion::Done { user, refresh_token } => {
                    Ok(HttpResponse::Ok().json(token_pair(&state, &user, refresh_token)?))
                }
                LoginCompletion::Locked(secs) => Err(locked(secs)),
            }
        }
        _ => {
            let locked_now = state.db.tx(move |c| accounts::record_login_failure(c, &email, &auth, now)).await?;
            match locked_now {
                Some(secs) => Err(locked(secs)),
                None => Err(AppError::new(ErrorCode::InvalidCredentials, Rule::WrongPassword)),
            }
        }
    }
}

fn locked(secs: i64) -> AppError {
    AppError::RateLimited { retry_after_secs: secs.max(1) as u64, detail: Rule::LoginLocked.into() }
}

fn token_pair(state: &AppState, user: &crate::db::users::UserRow, refresh_token: String) -> AppResult<TokenPair> {
    let role =
        crate::domain::account::Role::parse(&user.role).ok_or_else(|| crate::service::corrupt("role", &user.role))?;
    let access_token = state
        .jwt
        .issue(&user.id, role, user.org_id.clone(), chrono::Utc::now().timestamp())
        .map_err(AppError::internal)?;
    Ok(TokenPair { access_token, refresh_token, token_type: "Bearer", expires_in: state.jwt.access_token_secs })
}

/// Exchange a refresh token for a new pair. The old token stops working; presenting a
/// rotated token again revokes its whole family.
///
/// 持有刷新令牌者调用；旧刷新令牌作废（轮换），返回新的一对令牌。错误：401 `invalid_token`（已用过、已注销或过期），422。
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn refresh(state: web::Data<AppState>, body: ApiJson<RefreshRequest>) -> AppResult<HttpResponse> {
    let token = body.into_inner().refresh_token;
    let now = state.clock.now();
    let auth = state.settings.auth.clone();
    match state.db.tx(move |c| accounts::refresh(c, token.trim(), &auth, now)).await? {
        RefreshOutcome::Rotated { user, refresh_token } => {
            Ok(HttpResponse::Ok().json(token_pair(&state, &user, refresh_token)?))
        }
        RefreshOutcome::Invalid => Err(AppError::new(ErrorCode::InvalidToken, Rule::RefreshTokenInvalid)),
        RefreshOutcome::ReuseDetected => Err(AppError::new(ErrorCode::InvalidToken, Rule::RefreshTokenReused)),
    }
}

/// Revoke a refresh token (and its session family).
///
/// 已登录用户；作废所给刷新令牌，成功返回 204。错误：401 `unauthorized`/`invalid_token`，422。
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", request_body = RefreshRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let token = body.into_inner().refresh_token;
    state.db.tx(move |c| accounts::logout(c, &user.id, token.trim())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a password-reset email. Always 202, whether or not the account exists; at most one
/// email per account every `auth.password_reset_interval_minutes`, and each new link
/// replaces the older ones.
///
/// 任何人可调用，按 IP 限流；无论邮箱是否注册都返回 202（不泄露账户是否存在），已注册时发送重置邮件。错误：422，429 `rate_limited`。
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted"), (status = 400, response = BadRequest), (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests)))]
pub async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    limit(&state, &req, Limited::PasswordReset)?;
    let now = state.clock.now();
    let email = normalize_email(&body.into_inner().email).ok_or_else(|| AppError::field("email", Rule::Email))?;
    let auth = state.settings.auth.clone();
    state.db.tx(move |c| accounts::request_password_reset(c, &email, &auth, now)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from the reset email; every session is logged out.
///
/// 凭重置邮件中的一次性令牌设置新密码（至少 10 位），该用户已有的刷新令牌全部作废，返回 204。错误：422 `validation_failed`（令牌无效、过期或已用过，或新密码太短），429 `rate_limited`，503。
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts", request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password changed"), (status = 400, response = BadRequest), (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests), (status = 503, response = ServiceUnavailable)))]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<PasswordResetConfirm>,
) -> AppResult<HttpResponse> {
    limit(&state, &req, Limited::PasswordResetConfirm)?;
    let body = body.into_inner();
    reset_password(&state, &body.token, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a new password with a password-reset token and logs every session out: the API's
/// `password-reset/confirm` and the page the emailed link opens. A too short or too long
/// password is a 422 on `new_password`, an unusable token a 422 on `token`.
pub(crate) async fn reset_password(state: &AppState, token: &str, new_password: String) -> AppResult<()> {
    let mut v = Validator::new();
    check_password(&mut v, "new_password", &new_password);
    v.finish()?;
    // The token is checked before the new password is hashed: a made-up token costs one
    // indexed read, not an argon2 hash.
    let now = state.clock.now();
    let token = token.trim().to_owned();
    let usable = {
        let token = token.clone();
        state.db.read(move |c| accounts::password_reset_token_usable(c, &token, now)).await?
    };
    if !usable {
        return Err(AppError::field("token", Rule::LinkTokenInvalid));
    }
    let hash = state.passwords.admit()?.hash(new_password).await?;
    state.db.tx(move |c| accounts::confirm_password_reset(c, &token, &hash, now)).await
}
