//! `/verify-email` and `/reset-password`: the pages the account emails link to. Opening a link
//! (GET) only shows a form, because mail scanners fetch links before anyone reads the mail;
//! the form posts back to the same path, and the post does what the API's `verify-email` and
//! `password-reset/confirm` do, through the same code and the same per-IP limits.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::{failure, message, plausible_token, render};
use crate::api::auth::{confirm_email, limit, reset_password};
use crate::auth::rate_limit::Limited;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    token: String,
    new_password: String,
    new_password_again: String,
}

/// The token of the link, when it looks like one.
fn link_token(req: &HttpRequest) -> Option<String> {
    let query = web::Query::<TokenQuery>::from_query(req.query_string()).ok()?;
    let token = query.into_inner().token.trim().to_owned();
    plausible_token(&token).then_some(token)
}

/// A link without a usable token (cut off by the mail client, or made up).
fn incomplete_link() -> HttpResponse {
    message(StatusCode::BAD_REQUEST, "链接无效", "链接不完整。请从邮件中完整复制链接后重新打开。")
}

/// `GET /verify-email?token=…`: a confirm button; nothing is verified yet.
pub async fn verify_email_form(req: HttpRequest) -> HttpResponse {
    match link_token(&req) {
        Some(token) => render(StatusCode::OK, "verify_email.html", context! { title => "验证邮箱", token }),
        None => incomplete_link(),
    }
}

/// `POST /verify-email` (form `token`): verifies the address.
pub async fn verify_email(state: web::Data<AppState>, req: HttpRequest, form: web::Form<VerifyForm>) -> HttpResponse {
    if let Err(err) = limit(&state, &req, Limited::VerifyEmail) {
        return failure(&err, |_| String::new());
    }
    match confirm_email(&state, form.into_inner().token).await {
        Ok(actor) => message(
            StatusCode::OK,
            "邮箱已验证",
            &format!("邮箱 {} 已验证，现在可以登录平台、加入或创建机构。", actor.email),
        ),
        Err(err) => failure(&err, |_| {
            "链接无效或已过期：验证链接只能使用一次，且在发出后的有效期内有效。如仍需验证，请登录后重新申请验证邮件。"
                .to_owned()
        }),
    }
}

/// `GET /reset-password?token=…`: the form for the new password.
pub async fn reset_password_form(req: HttpRequest) -> HttpResponse {
    match link_token(&req) {
        Some(token) => reset_form(StatusCode::OK, &token, None),
        None => incomplete_link(),
    }
}

/// `POST /reset-password` (form `token`, `new_password`, `new_password_again`): sets the new
/// password. A password the rules refuse shows the form again with the reason.
pub async fn reset_password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> HttpResponse {
    if let Err(err) = limit(&state, &req, Limited::PasswordResetConfirm) {
        return failure(&err, |_| String::new());
    }
    let form = form.into_inner();
    if form.new_password != form.new_password_again {
        return reset_form(StatusCode::UNPROCESSABLE_ENTITY, &form.token, Some("两次输入的新密码不一致，请重新输入。"));
    }
    match reset_password(&state, &form.token, form.new_password).await {
        Ok(()) => message(StatusCode::OK, "密码已重置", "新密码已生效，请用新密码登录。所有设备上原有的登录均已退出。"),
        Err(err) => {
            if let crate::error::AppError::Client(e) = &err
                && e.errors.contains_key("new_password")
            {
                let reason = password_rule();
                return reset_form(StatusCode::UNPROCESSABLE_ENTITY, &form.token, Some(&reason));
            }
            failure(&err, |_| {
                "链接无效或已过期：重置链接只能使用一次，且在发出后的有效期内有效。请重新申请重置密码。".to_owned()
            })
        }
    }
}

fn password_rule() -> String {
    format!("新密码需为 {PASSWORD_MIN_CHARS} 到 {PASSWORD_MAX_CHARS} 个字符。")
}

fn reset_form(status: StatusCode, token: &str, error: Option<&str>) -> HttpResponse {
    let ctx = context! { title => "重置密码", token, error, rule => password_rule(), min => PASSWORD_MIN_CHARS };
    render(status, "reset_password.html", ctx)
}
