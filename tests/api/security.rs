//! Security properties listed in docs/security.md (OWASP API Security Top 10) that no feature
//! test already pins: forged tokens, mass assignment, page limits and CORS.

use serde_json::json;

use crate::helpers::{achievement_body, spawn_app, spawn_app_with};

/// base64url of `{"alg":"none","typ":"JWT"}`.
const ALG_NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

#[tokio::test]
async fn unsigned_and_re_signed_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.user().await;
    let admin = app.admin().await;
    let parts: Vec<&str> = user.token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // `alg: none` with the genuine claims and no signature.
    let unsigned = format!("{ALG_NONE_HEADER}.{}.", parts[1]);
    app.get("/me", Some(&unsigned)).await.problem(401, "unauthorized");

    // An administrator's claims under the user's signature.
    let admin_claims = admin.token.split('.').nth(1).unwrap();
    let spliced = format!("{}.{admin_claims}.{}", parts[0], parts[2]);
    app.get("/me", Some(&spliced)).await.problem(401, "unauthorized");
    app.get("/admin/review-queue", Some(&spliced)).await.problem(401, "unauthorized");

    // The genuine token still works, so the refusals above are about the forgery.
    app.get("/me", user.t()).await.expect(200);
}

#[tokio::test]
async fn clients_cannot_assign_status_owner_or_money_they_do_not_own() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let other = app.member("university").await;

    let mut body = achievement_body("钙钛矿叠层电池", "效率 28% 的钙钛矿/晶硅叠层电池工艺");
    body["status"] = json!("published");
    body["org_id"] = json!(other.org());
    body["id"] = json!("00000000-0000-0000-0000-000000000000");
    body["view_count"] = json!(1_000_000);
    let created = app.post("/achievements", owner.t(), &body).await.expect(201);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["org_id"], owner.org());
    assert_ne!(created["id"], "00000000-0000-0000-0000-000000000000");
    let id = created["id"].as_str().unwrap();

    let patched = app.patch(&format!("/achievements/{id}"), owner.t(), &json!({"status": "published"})).await;
    assert_eq!(patched.expect(200)["status"], "draft");
    // Still private: a client-chosen status published nothing.
    app.get(&format!("/achievements/{id}"), None).await.problem(404, "not_found");

    // A new account cannot make itself an administrator or skip verification.
    let res = app
        .post(
            "/auth/register",
            None,
            &json!({"email": "mass@example.com", "password": "long-enough-pw", "display_name": "m",
                    "role": "admin", "status": "active"}),
        )
        .await
        .expect(201);
    assert_eq!(res["role"], "user");
    assert_eq!(res["status"], "unverified");
}

#[tokio::test]
async fn page_sizes_are_bounded() {
    let app = spawn_app().await;
    app.get("/achievements?per_page=101", None).await.problem(422, "validation_failed");
    app.get("/achievements?per_page=0", None).await.problem(422, "validation_failed");
    app.get("/achievements?page=0", None).await.problem(422, "validation_failed");
    let page = app.get("/achievements?per_page=100", None).await.expect(200);
    assert_eq!(page["per_page"], 100);
}

#[tokio::test]
async fn cors_headers_only_for_configured_origins() {
    const PORTAL: &str = "https://portal.example.cn";

    // Default: no origins configured, no CORS headers at all.
    let app = spawn_app().await;
    let res = app.raw(app.client.get(app.url("/achievements")).header("origin", PORTAL)).await;
    assert_eq!(res.status, 200);
    assert!(res.headers.get("access-control-allow-origin").is_none());

    let app = spawn_app_with(|s| s.server.cors_allowed_origins = vec![PORTAL.to_owned()]).await;
    let preflight = app
        .raw(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/achievements"))
                .header("origin", PORTAL)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type"),
        )
        .await;
    assert_eq!(preflight.status, 200, "{}", preflight.text);
    assert_eq!(preflight.headers["access-control-allow-origin"], PORTAL);
    assert!(preflight.headers.get("access-control-allow-credentials").is_none());

    let res = app.raw(app.client.get(app.url("/achievements")).header("origin", PORTAL)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["access-control-allow-origin"], PORTAL);

    let res = app.raw(app.client.get(app.url("/achievements")).header("origin", "https://evil.example")).await;
    assert!(res.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn nul_characters_are_refused_before_reaching_the_database() {
    let app = spawn_app().await;
    let res = app.post("/auth/login", None, &json!({"email": "a\u{0}@example.com", "password": "x"})).await;
    let problem = res.problem(422, "validation_failed");
    assert!(problem["errors"]["email"].is_array(), "{problem}");

    let owner = app.member("university").await;
    let mut body = achievement_body("标题", "摘要");
    body["keywords"] = json!(["光伏", "bad\u{0}word"]);
    let problem = app.post("/achievements", owner.t(), &body).await.problem(422, "validation_failed");
    assert!(problem["errors"]["keywords[1]"].is_array(), "{problem}");

    // Only what the endpoint reads is checked: an unknown field is ignored, whatever it holds.
    let mut body = achievement_body("标题二", "摘要");
    body["unknown\u{0}key"] = json!({"note": "x\u{0}y"});
    app.post("/achievements", owner.t(), &body).await.expect(201);
    let mut body = achievement_body("标题三", "摘要");
    body["title"] = json!("标\u{0}题");
    assert!(
        app.post("/achievements", owner.t(), &body).await.problem(422, "validation_failed")["errors"]["title"]
            .is_array()
    );

    // An escaped backslash followed by "u0000" is ordinary text, not a NUL.
    let text = json!({"email": "nobody@example.com", "password": "\\u0000-literal"});
    app.post("/auth/login", None, &text).await.problem(401, "invalid_credentials");

    app.get("/achievements/%00", None).await.problem(404, "not_found");
    app.get("/achievements?org_id=%00", None).await.problem(422, "validation_failed");
    let page = app.get("/achievements?mine=true", owner.t()).await.expect(200);
    assert_eq!(page["total"], 1, "only the body whose NUL was in an unknown field");
}
