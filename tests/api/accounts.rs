//! Accounts: registration, verification, login, tokens, password reset, throttling, roles.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with, unique};

#[tokio::test]
async fn register_returns_flat_unverified_user_and_sends_verification() {
    let app = spawn_app().await;
    let email = format!("New.User{}@Example.cn", unique());
    let body = app.register(&email).await.expect(201);
    assert_eq!(body["email"], email.to_lowercase());
    assert_eq!(body["status"], "unverified");
    assert_eq!(body["role"], "user");
    assert!(body["organization"].is_null());
    assert!(body.get("password_hash").is_none());

    let token = app.mailed_token(&email.to_lowercase(), "verify_email").await;
    let mail = app.mails().into_iter().find(|m| m.kind == "verify_email").unwrap();
    assert!(mail.subject.contains("验证"), "Chinese subject: {}", mail.subject);
    assert!(mail.text.contains(&format!("token={token}")) && mail.html.contains(&format!("token={token}")));

    let verified = app.post("/auth/verify-email", None, &json!({"token": token})).await.expect(200);
    assert_eq!(verified["status"], "active");
    // Single use.
    let again = app.post("/auth/verify-email", None, &json!({"token": token})).await.problem(422, "validation_failed");
    assert!(again["errors"]["token"].is_array());
}

#[tokio::test]
async fn verification_tokens_expire() {
    let app = spawn_app().await;
    let email = format!("late{}@example.cn", unique());
    app.register(&email).await.expect(201);
    let token = app.mailed_token(&email, "verify_email").await;
    app.clock.advance(chrono::Duration::hours(25));
    app.post("/auth/verify-email", None, &json!({"token": token})).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn register_validates_and_rejects_duplicates() {
    let app = spawn_app().await;
    let email = format!("dup{}@example.cn", unique());
    app.register(&email).await.expect(201);
    app.register(&email.to_uppercase()).await.problem(409, "email_taken");

    let short =
        app.post("/auth/register", None, &json!({"email": "a@b.cn", "password": "short", "display_name": "x"})).await;
    assert!(short.problem(422, "validation_failed")["errors"]["password"].is_array());
    let bad_email =
        app.post("/auth/register", None, &json!({"email": "nope", "password": PASSWORD, "display_name": "x"})).await;
    assert!(bad_email.problem(422, "validation_failed")["errors"]["email"].is_array());
    let missing = app.post("/auth/register", None, &json!({"email": "a@b.cn"})).await;
    assert!(missing.problem(422, "validation_failed")["errors"]["password"].is_array(), "{}", missing.text);
    let wrong_type =
        app.post("/auth/register", None, &json!({"email": 5, "password": PASSWORD, "display_name": "x"})).await;
    assert!(wrong_type.problem(422, "validation_failed")["errors"]["email"].is_array(), "{}", wrong_type.text);
}

#[tokio::test]
async fn malformed_bodies_are_400_415_413_and_change_nothing() {
    let app = spawn_app().await;
    let url = app.url("/auth/register");
    let res = app.raw(app.client.post(&url).header("content-type", "application/json").body("{\"email\": ")).await;
    res.problem(400, "malformed_json");
    let res = app.raw(app.client.post(&url).header("content-type", "text/plain").body("hello")).await;
    res.problem(415, "unsupported_media_type");
    let huge = format!("{{\"email\":\"{}\"}}", "x".repeat(300_000));
    let res = app.raw(app.client.post(&url).header("content-type", "application/json").body(huge)).await;
    res.problem(413, "payload_too_large");
    let count: i64 = app.with_conn(|c| {
        use diesel::prelude::*;
        techtransfer::db::schema::users::table.count().get_result(c).unwrap()
    });
    assert_eq!(count, 0);
}

#[tokio::test]
async fn login_me_and_indistinguishable_failures() {
    let app = spawn_app().await;
    let user = app.user().await;
    let tokens = app.login(&user.email, PASSWORD).await.expect(200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me = app.get("/me", Some(tokens["access_token"].as_str().unwrap())).await.expect(200);
    assert_eq!(me["id"], user.id.as_str());
    assert!(me["organization"].is_null());

    let wrong_password = app.login(&user.email, "wrong-password-123").await;
    let unknown = app.login(&format!("ghost{}@example.cn", unique()), "wrong-password-123").await;
    let a = wrong_password.problem(401, "invalid_credentials");
    let b = unknown.problem(401, "invalid_credentials");
    assert_eq!(a, b, "unknown email and wrong password must look the same");
}

#[tokio::test]
async fn protected_endpoints_need_a_valid_token() {
    let app = spawn_app().await;
    let res = app.get("/me", None).await;
    res.problem(401, "unauthorized");
    assert!(res.headers.get("www-authenticate").is_some());
    app.get("/me", Some("not-a-jwt")).await.problem(401, "unauthorized");
    let user = app.user().await;
    let tampered = format!("{}x", user.token);
    app.get("/me", Some(&tampered)).await.problem(401, "unauthorized");

    // A token signed with the right key but expired.
    use jsonwebtoken::{EncodingKey, Header, encode};
    let secret = secrecy::ExposeSecret::expose_secret(&app.state.settings.auth.jwt_secret).to_owned();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": user.id, "role": "user", "org": null, "iat": now - 3600, "exp": now - 1800, "jti": "x"});
    let expired = encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap();
    app.get("/me", Some(&expired)).await.problem(401, "unauthorized");
    // A token with alg=HS512 is refused even with the right key (algorithm pinned).
    let claims = json!({"sub": user.id, "role": "admin", "org": null, "iat": now, "exp": now + 600, "jti": "x"});
    let other_alg =
        encode(&Header::new(jsonwebtoken::Algorithm::HS512), &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .unwrap();
    app.get("/me", Some(&other_alg)).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.user().await;
    let first = app.post("/auth/refresh", None, &json!({"refresh_token": user.refresh})).await.expect(200);
    let second_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, user.refresh);
    app.get("/me", Some(first["access_token"].as_str().unwrap())).await.expect(200);

    // The rotated token comes back: 401, and the whole family dies, including the newest.
    app.post("/auth/refresh", None, &json!({"refresh_token": user.refresh})).await.problem(401, "invalid_token");
    app.post("/auth/refresh", None, &json!({"refresh_token": second_refresh})).await.problem(401, "invalid_token");
    // Other sessions are untouched.
    let other = app.login(&user.email, PASSWORD).await.expect(200);
    app.post("/auth/refresh", None, &json!({"refresh_token": other["refresh_token"]})).await.expect(200);
    app.post("/auth/refresh", None, &json!({"refresh_token": "garbage"})).await.problem(401, "invalid_token");
}

#[tokio::test]
async fn refresh_tokens_expire() {
    let app = spawn_app().await;
    let user = app.user().await;
    app.clock.advance(chrono::Duration::days(31));
    app.post("/auth/refresh", None, &json!({"refresh_token": user.refresh})).await.problem(401, "invalid_token");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.user().await;
    app.post("/auth/logout", None, &json!({"refresh_token": user.refresh})).await.problem(401, "unauthorized");
    let res = app.post("/auth/logout", user.t(), &json!({"refresh_token": user.refresh})).await;
    assert_eq!(res.status, 204);
    app.post("/auth/refresh", None, &json!({"refresh_token": user.refresh})).await.problem(401, "invalid_token");
}

#[tokio::test]
async fn password_reset_flow() {
    let app = spawn_app().await;
    let user = app.user().await;
    let unknown =
        app.post("/auth/password-reset", None, &json!({"email": format!("nobody{}@example.cn", unique())})).await;
    assert_eq!(unknown.status, 202);
    let res = app.post("/auth/password-reset", None, &json!({"email": user.email})).await;
    assert_eq!(res.status, 202);
    let token = app.mailed_token(&user.email, "password_reset").await;
    assert_eq!(app.mails().iter().filter(|m| m.kind == "password_reset").count(), 1, "no mail for unknown addresses");
    let mail = app.mails().into_iter().find(|m| m.kind == "password_reset").unwrap();
    assert!(mail.html.contains(&format!("token={token}")));

    let short = app.post("/auth/password-reset/confirm", None, &json!({"token": token, "new_password": "short"})).await;
    assert!(short.problem(422, "validation_failed")["errors"]["new_password"].is_array());
    let new_password = "another-long-password";
    let res =
        app.post("/auth/password-reset/confirm", None, &json!({"token": token, "new_password": new_password})).await;
    assert_eq!(res.status, 204, "{}", res.text);
    app.login(&user.email, PASSWORD).await.problem(401, "invalid_credentials");
    app.login(&user.email, new_password).await.expect(200);
    // Existing sessions were logged out; the token is single-use.
    app.post("/auth/refresh", None, &json!({"refresh_token": user.refresh})).await.problem(401, "invalid_token");
    app.post("/auth/password-reset/confirm", None, &json!({"token": token, "new_password": "yet-another-password"}))
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn five_failures_lock_an_account_for_fifteen_minutes() {
    let app = spawn_app().await;
    let user = app.user().await;
    for _ in 0..4 {
        app.login(&user.email, "wrong-password-123").await.problem(401, "invalid_credentials");
    }
    let fifth = app.login(&user.email, "wrong-password-123").await;
    fifth.problem(429, "rate_limited");
    let retry: i64 = fifth.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
    // Even the right password is refused while locked.
    app.login(&user.email, PASSWORD).await.problem(429, "rate_limited");
    app.clock.advance(chrono::Duration::minutes(16));
    app.login(&user.email, PASSWORD).await.expect(200);

    // A successful login resets the count.
    for _ in 0..4 {
        app.login(&user.email, "wrong-password-123").await.problem(401, "invalid_credentials");
    }
    app.login(&user.email, PASSWORD).await.expect(200);
    app.login(&user.email, "wrong-password-123").await.problem(401, "invalid_credentials");

    // Unknown addresses lock the same way, so a lock reveals nothing.
    let ghost = format!("ghost{}@example.cn", unique());
    for _ in 0..4 {
        app.login(&ghost, "wrong-password-123").await.problem(401, "invalid_credentials");
    }
    app.login(&ghost, "wrong-password-123").await.problem(429, "rate_limited");
}

#[tokio::test]
async fn logins_are_limited_per_ip() {
    let app = spawn_app_with(|s| s.auth.login_per_ip_per_minute = 3).await;
    for _ in 0..3 {
        app.login("someone@example.cn", "whatever-password").await.problem(401, "invalid_credentials");
    }
    let res = app.login("someone-else@example.cn", "whatever-password").await;
    res.problem(429, "rate_limited");
    assert!(res.headers.get("retry-after").is_some());
    app.clock.advance(chrono::Duration::seconds(61));
    app.login("someone@example.cn", "whatever-password").await.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn admins_set_roles() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.user().await;
    let path = format!("/admin/users/{}/role", user.id);
    app.post(&path, user.t(), &json!({"role": "admin"})).await.problem(403, "forbidden");
    app.post(&path, admin.t(), &json!({"role": "wizard"})).await.problem(422, "validation_failed");
    let body = app.post(&path, admin.t(), &json!({"role": "expert"})).await.expect(200);
    assert_eq!(body["role"], "expert");
    assert_eq!(app.get("/me", user.t()).await.expect(200)["role"], "expert");
    app.post("/admin/users/00000000-0000-0000-0000-000000000000/role", admin.t(), &json!({"role": "user"}))
        .await
        .problem(404, "not_found");
    app.post("/admin/users/not-a-uuid/role", admin.t(), &json!({"role": "user"})).await.problem(404, "not_found");
    // The last administrator cannot be demoted.
    app.post(&format!("/admin/users/{}/role", admin.id), admin.t(), &json!({"role": "user"}))
        .await
        .problem(409, "conflict");

    let audit = app.get(&format!("/admin/audit?entity_type=user&entity_id={}", user.id), admin.t()).await.expect(200);
    let entry = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "user.set_role").unwrap();
    assert_eq!(entry["from_status"], "user");
    assert_eq!(entry["to_status"], "expert");
    assert_eq!(entry["actor_id"], admin.id.as_str());
}

#[tokio::test]
async fn create_admin_promotes_an_existing_account() {
    let app = spawn_app().await;
    let user = app.user().await;
    let hash = app.state.passwords.hash("a-new-admin-password").unwrap();
    let now = app.clock.now();
    let email = user.email.clone();
    let (row, created) = app
        .state
        .db
        .tx(move |c| techtransfer::service::accounts::create_admin(c, &email, &hash, "x", now))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(row.role, "admin");
    let tokens = app.login(&user.email, "a-new-admin-password").await.expect(200);
    assert_eq!(app.get("/me", tokens["access_token"].as_str()).await.expect(200)["role"], "admin");
}
