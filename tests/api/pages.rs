//! The HTML pages the links in emails open: email verification, password reset and the record
//! landing pages.

use serde_json::json;
use techtransfer::domain::links::RECORD_KINDS;

use crate::helpers::{PASSWORD, TestApp, TestResponse, spawn_app, spawn_app_with, unique};

const NEW_PASSWORD: &str = "a-brand-new-passphrase";

async fn open(app: &TestApp, path: &str) -> TestResponse {
    app.raw(app.client.get(format!("{}{path}", app.addr))).await
}

async fn submit(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> TestResponse {
    app.raw(app.client.post(format!("{}{path}", app.addr)).form(fields)).await
}

/// Asserts an HTML page with this status and the pages' security headers.
#[track_caller]
fn html(res: &TestResponse, status: u16) -> &str {
    assert_eq!(res.status, status, "unexpected status; body: {}", res.text);
    let header = |name: &str| res.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(header("content-type").starts_with("text/html"), "content-type {}", header("content-type"));
    assert!(header("content-security-policy").contains("default-src 'none'"));
    assert_eq!(header("referrer-policy"), "no-referrer");
    &res.text
}

async fn status_of(app: &TestApp, email: &str) -> String {
    let tokens = app.login(email, PASSWORD).await.expect(200);
    let me = app.get("/me", tokens["access_token"].as_str()).await.expect(200);
    me["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_verification_link_shows_a_form_and_only_the_post_verifies() {
    let app = spawn_app().await;
    let email = format!("pages{}@example.cn", unique());
    app.register(&email).await.expect(201);
    let link = app.mailed_link(&email, "verify_email").await;
    assert!(link.starts_with("/verify-email?token="), "{link}");
    let token = app.mailed_token(&email, "verify_email").await;

    // Opening the link (as a mail scanner would) verifies nothing.
    let page = open(&app, &link).await;
    let body = html(&page, 200);
    assert!(body.contains("<form method=\"post\" action=\"/verify-email\">"), "{body}");
    assert!(body.contains(&format!("value=\"{token}\"")), "{body}");
    assert_eq!(page.headers["cache-control"], "no-store");
    open(&app, &link).await;
    assert_eq!(status_of(&app, &email).await, "unverified");

    let done = submit(&app, "/verify-email", &[("token", &token)]).await;
    assert!(html(&done, 200).contains("邮箱已验证"), "{}", done.text);
    assert_eq!(status_of(&app, &email).await, "active");

    // Single use, like the API.
    let again = submit(&app, "/verify-email", &[("token", &token)]).await;
    assert!(html(&again, 422).contains("链接无效或已过期"), "{}", again.text);
}

#[tokio::test]
async fn bad_links_and_bad_forms_answer_html_pages() {
    let app = spawn_app().await;
    let wrong = submit(&app, "/verify-email", &[("token", "made-up-token")]).await;
    assert!(html(&wrong, 422).contains("链接无效或已过期"));
    for path in ["/verify-email", "/verify-email?token=", "/reset-password", "/reset-password?other=1"] {
        assert!(html(&open(&app, path).await, 400).contains("链接不完整"), "{path}");
    }
    // Not a form, or a form without its fields: a page, not problem+json.
    let json_body = app.raw(app.client.post(format!("{}/verify-email", app.addr)).json(&json!({"token": "x"}))).await;
    html(&json_body, 400);
    html(&submit(&app, "/reset-password", &[("token", "x")]).await, 400);

    // Whatever the link carries is escaped.
    let hostile = open(&app, "/verify-email?token=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    let body = html(&hostile, 200);
    assert!(!body.contains("<script>") && body.contains("&quot;&gt;&lt;script&gt;"), "{body}");
}

#[tokio::test]
async fn the_pages_count_against_the_per_ip_limits() {
    let app = spawn_app_with(|s| {
        s.auth.verify_email_per_ip_per_minute = 1;
        s.auth.password_reset_confirm_per_ip_per_minute = 1;
    })
    .await;
    for path in ["/verify-email", "/reset-password"] {
        let fields = [("token", "x"), ("new_password", NEW_PASSWORD), ("new_password_again", NEW_PASSWORD)];
        html(&submit(&app, path, &fields).await, 422);
        let limited = submit(&app, path, &fields).await;
        assert!(html(&limited, 429).contains("请求过于频繁"), "{path}");
        assert!(limited.headers.contains_key("retry-after"));
    }
}

#[tokio::test]
async fn the_reset_link_sets_a_new_password_that_logs_in() {
    let app = spawn_app().await;
    let user = app.user().await;
    app.post("/auth/password-reset", None, &json!({"email": user.email})).await.expect(202);
    let link = app.mailed_link(&user.email, "password_reset").await;
    assert!(link.starts_with("/reset-password?token="), "{link}");
    let token = app.mailed_token(&user.email, "password_reset").await;

    let form = open(&app, &link).await;
    let body = html(&form, 200);
    assert!(body.contains("name=\"new_password\"") && body.contains("name=\"new_password_again\""), "{body}");
    app.login(&user.email, PASSWORD).await.expect(200);

    let mismatch = submit(
        &app,
        "/reset-password",
        &[("token", &token), ("new_password", NEW_PASSWORD), ("new_password_again", "something-else-entirely")],
    )
    .await;
    assert!(html(&mismatch, 422).contains("两次输入的新密码不一致"));
    let short = submit(
        &app,
        "/reset-password",
        &[("token", &token), ("new_password", "short"), ("new_password_again", "short")],
    )
    .await;
    let body = html(&short, 422);
    assert!(body.contains("新密码需为 10 到") && body.contains(&format!("value=\"{token}\"")), "{body}");
    // Neither refusal used the token up.
    let fields = [("token", token.as_str()), ("new_password", NEW_PASSWORD), ("new_password_again", NEW_PASSWORD)];
    let done = submit(&app, "/reset-password", &fields).await;
    assert!(html(&done, 200).contains("密码已重置"), "{}", done.text);
    app.login(&user.email, NEW_PASSWORD).await.expect(200);
    app.login(&user.email, PASSWORD).await.problem(401, "invalid_credentials");

    let again = submit(&app, "/reset-password", &fields).await;
    assert!(html(&again, 422).contains("链接无效或已过期"));
}

#[tokio::test]
async fn record_pages_name_the_api_path_without_a_frontend() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    for kind in RECORD_KINDS {
        let page = open(&app, &kind.page_path(&id)).await;
        let body = html(&page, 200);
        assert!(body.contains(kind.label) && body.contains(&kind.api_path(&id)), "{}: {body}", kind.collection);
        assert!(body.contains("href=\"/docs/\""), "{body}");
    }
    let page = open(&app, &format!("/achievements/{id}")).await;
    assert!(html(&page, 200).contains(&format!("GET /api/v1/achievements/{id}")));
    assert!(html(&open(&app, "/me/notifications").await, 200).contains("GET /api/v1/me/notifications"));
    assert!(html(&open(&app, "/achievements/not-an-id").await, 404).contains("记录编号不正确"));
    // The API keeps its own paths and answers.
    app.get(&format!("/achievements/{id}"), None).await.problem(404, "not_found");
}

#[tokio::test]
async fn record_pages_redirect_to_the_frontend_when_one_is_configured() {
    let app = spawn_app_with(|s| s.server.frontend_base_url = "https://www.example.cn/".to_owned()).await;
    let id = uuid::Uuid::new_v4().to_string();
    for path in [format!("/achievements/{id}"), format!("/voucher-redemptions/{id}"), "/me/notifications".to_owned()] {
        let res = open(&app, &path).await;
        assert_eq!(res.status, 303, "{path}");
        assert_eq!(res.headers["location"], format!("https://www.example.cn{path}"));
    }
    // The account pages stay on this server.
    html(&open(&app, "/verify-email?token=abc").await, 200);
}

#[tokio::test]
async fn the_invitation_email_links_to_a_page_that_explains_accepting() {
    let app = spawn_app().await;
    let owner = app.member("enterprise").await;
    let invitee = app.user().await;
    app.post(
        &format!("/organizations/{}/invitations", owner.org()),
        owner.t(),
        &json!({"email": invitee.email, "org_role": "member"}),
    )
    .await
    .expect(202);
    let link = app.mailed_link(&invitee.email, "notification").await;
    let id = app.invitation_for(&invitee).await;
    assert_eq!(link, format!("/invitations/{id}"));
    let page = open(&app, &link).await;
    assert!(html(&page, 200).contains(&format!("POST /api/v1/invitations/{id}/accept")), "{}", page.text);
}
