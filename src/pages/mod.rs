//! The few HTML pages this server renders itself: where the links in emails lead. Email
//! verification and password reset (a form each, posted back to the same path), and landing
//! pages for records, which redirect to the web frontend when `server.frontend_base_url` is
//! set and otherwise name the API path of the record.
//!
//! Pages are Chinese, rendered by minijinja from `src/pages/templates/` (compiled into the
//! binary, every value HTML-escaped), styled inline, without scripts. Every page, failures
//! included, is `text/html` with a strict `Content-Security-Policy` and `Referrer-Policy:
//! no-referrer`, so a token in the address never leaks to another site. The routes are in
//! `crate::api::configure`.

pub mod account;
pub mod records;

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use minijinja::{Environment, UndefinedBehavior};

use crate::error::AppError;
use crate::mail::templates::five_character_escaping;

/// Scripts, frames, plugins and foreign resources are refused; the inline `<style>` and form
/// posts to this server are all a page needs.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(five_character_escaping);
    let all = [
        ("base.html", include_str!("templates/base.html")),
        ("style.css", include_str!("templates/style.css")),
        ("message.html", include_str!("templates/message.html")),
        ("verify_email.html", include_str!("templates/verify_email.html")),
        ("reset_password.html", include_str!("templates/reset_password.html")),
        ("record.html", include_str!("templates/record.html")),
        ("invitation.html", include_str!("templates/invitation.html")),
    ];
    for (name, source) in all {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// Renders `template` with `ctx` as a page with `status`.
pub fn render(status: StatusCode, template: &str, ctx: minijinja::Value) -> HttpResponse {
    let rendered = TEMPLATES
        .as_ref()
        .map_err(|e| minijinja::Error::new(e.kind(), e.to_string()))
        .and_then(|env| env.get_template(template)?.render(ctx));
    match rendered {
        Ok(html) => page(status, html),
        Err(err) => {
            // A template that does not render is a bug; log it as one, answer a bare page.
            let _logged = AppError::internal(err).error_response();
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>服务器错误</title><p>服务器出错了，请稍后再试。".to_owned(),
            )
        }
    }
}

/// A page with a heading and a paragraph (success and failure notices).
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    render(status, "message.html", minijinja::context! { title, text, ok => status.is_success() })
}

fn page(status: StatusCode, html: String) -> HttpResponse {
    let mut res = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html);
    secure(&mut res);
    res
}

/// The headers every page and redirect carries.
fn secure(res: &mut HttpResponse) {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages with tokens must not be kept by the browser or a proxy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The page for a failed use case: `client` words a 4xx the reader can act on; rate limits,
/// overload and internal errors get fixed words and the API's status (and `Retry-After`).
/// Internal errors are logged exactly as the API logs them.
pub fn failure(err: &AppError, client: impl FnOnce(&crate::domain::error::DomainError) -> String) -> HttpResponse {
    let api = err.error_response();
    let status = api.status();
    let (title, text) = match err {
        AppError::Client(e) if status.is_client_error() => ("操作未完成", client(e)),
        AppError::RateLimited { retry_after_secs, .. } => {
            ("请求过于频繁", format!("来自您网络地址的请求过多，请 {retry_after_secs} 秒后再试。"))
        }
        _ if status.is_server_error() && status != StatusCode::INTERNAL_SERVER_ERROR => {
            ("服务繁忙", "服务暂时繁忙，请稍后再试。".to_owned())
        }
        _ => ("服务器错误", "服务器出错了，请稍后再试。".to_owned()),
    };
    let mut res = message(status, title, &text);
    if let Some(retry_after) = api.headers().get(header::RETRY_AFTER) {
        res.headers_mut().insert(header::RETRY_AFTER, retry_after.clone());
    }
    res
}

/// A 303 to `location`, with the pages' headers.
pub fn redirect(location: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
    secure(&mut res);
    res
}

/// Form bodies that are not `application/x-www-form-urlencoded`, too large or missing a field
/// answer a 400 page, not problem+json: a browser shows the answer.
pub fn form_config() -> actix_web::web::FormConfig {
    actix_web::web::FormConfig::default().limit(16 * 1024).error_handler(|err, _req| {
        let res =
            message(StatusCode::BAD_REQUEST, "请求无效", "表单内容不完整或格式不正确，请从邮件中的链接重新打开本页。");
        actix_web::error::InternalError::from_response(err, res).into()
    })
}

/// Tokens are short; anything longer (or absent) is refused before it reaches the database.
fn plausible_token(token: &str) -> bool {
    let token = token.trim();
    !token.is_empty() && token.len() <= 256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_escapes() {
        let res = message(StatusCode::OK, "<b>标题</b>", "\"x\" & 'y'");
        assert_eq!(res.status(), StatusCode::OK);
        let env = TEMPLATES.as_ref().expect("templates compile");
        let html = env
            .get_template("message.html")
            .and_then(|t| t.render(minijinja::context! { title => "<b>", text => "a/b", ok => true }))
            .expect("renders");
        assert!(html.contains("&lt;b&gt;") && !html.contains("<b>"), "{html}");
        assert!(html.contains("a/b"), "{html}");
    }

    #[test]
    fn tokens_must_be_plausible() {
        assert!(plausible_token("abc123"));
        assert!(!plausible_token("  "));
        assert!(!plausible_token(&"a".repeat(257)));
    }
}
