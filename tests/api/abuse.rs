//! Abuse resistance of the unauthenticated account endpoints: bounded password hashing,
//! per-IP limits, the login lockout under a burst, reset-email throttling, trusted proxies
//! and the metrics token.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with, unique};

#[tokio::test]
async fn a_burst_of_logins_evaluates_at_most_the_lockout_budget() {
    let app = spawn_app().await;
    let user = app.user().await;
    let (before, _) = app.state.passwords.counts();
    let mut attempts: Vec<_> = (0..30).map(|_| app.login(&user.email, "wrong-password-123")).collect();
    attempts.push(app.login(&user.email, PASSWORD));
    let answers = join_all(attempts).await;
    let (after, _) = app.state.passwords.counts();
    assert!(after - before <= 5, "{} passwords were evaluated in the burst", after - before);
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| [200, 401, 429].contains(s)), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 429).count() >= 25, "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 1);
    if !statuses.contains(&200) {
        // Every wrong password that was evaluated counted: the account is locked now, and
        // the right password is refused until the lock ends.
        app.login(&user.email, PASSWORD).await.problem(429, "rate_limited");
        app.clock.advance(chrono::Duration::minutes(16));
    }
    app.login(&user.email, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn no_login_succeeds_once_the_fifth_failure_is_counted() {
    let app = spawn_app().await;
    let user = app.user().await;
    let wrong: Vec<_> = (0..5).map(|_| app.login(&user.email, "wrong-password-123")).collect();
    let answers = join_all(wrong).await;
    assert!(answers.iter().all(|r| [401, 429].contains(&r.status)));
    assert!(answers.iter().any(|r| r.status == 429), "the fifth failure locks");
    for _ in 0..3 {
        app.login(&user.email, PASSWORD).await.problem(429, "rate_limited");
    }
}

#[tokio::test]
async fn a_made_up_reset_token_is_refused_before_any_hashing() {
    let app = spawn_app().await;
    let (before, _) = app.state.passwords.counts();
    let res =
        app.post("/auth/password-reset/confirm", None, &json!({"token": "x", "new_password": "aaaaaaaaaa"})).await;
    assert!(res.problem(422, "validation_failed")["errors"]["token"].is_array());
    assert_eq!(app.state.passwords.counts().0, before, "no argon2 work for a bad token");
}

#[tokio::test]
async fn hashing_beyond_the_queue_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.auth.hash_concurrency = 1;
        s.auth.hash_queue = 0;
    })
    .await;
    // The only place in the queue is taken.
    let held = app.state.passwords.admit().expect("a place");
    let email = format!("busy{}@example.cn", unique());
    let res = app.register(&email).await;
    res.problem(503, "service_unavailable");
    assert!(res.headers.contains_key("retry-after"));
    // Nothing was created: the same email registers once the queue frees.
    drop(held);
    app.register(&email).await.expect(201);
    // A login refused at the queue does not spend one of the account's attempts.
    let held = app.state.passwords.admit().expect("a place");
    for _ in 0..6 {
        app.login(&email, "wrong-password-123").await.problem(503, "service_unavailable");
    }
    drop(held);
    app.login(&email, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn account_endpoints_are_limited_per_ip() {
    let app = spawn_app_with(|s| {
        s.auth.register_per_ip_per_minute = 2;
        s.auth.password_reset_per_ip_per_minute = 1;
        s.auth.password_reset_confirm_per_ip_per_minute = 1;
        s.auth.verify_email_per_ip_per_minute = 1;
    })
    .await;
    for _ in 0..2 {
        app.register(&format!("r{}@example.cn", unique())).await.expect(201);
    }
    let res = app.register(&format!("r{}@example.cn", unique())).await;
    res.problem(429, "rate_limited");
    assert!(res.headers.contains_key("retry-after"));

    let reset = json!({"email": format!("nobody{}@example.cn", unique())});
    assert_eq!(app.post("/auth/password-reset", None, &reset).await.status, 202);
    app.post("/auth/password-reset", None, &reset).await.problem(429, "rate_limited");

    let confirm = json!({"token": "x", "new_password": "aaaaaaaaaa"});
    app.post("/auth/password-reset/confirm", None, &confirm).await.problem(422, "validation_failed");
    app.post("/auth/password-reset/confirm", None, &confirm).await.problem(429, "rate_limited");

    let verify = json!({"token": "x"});
    app.post("/auth/verify-email", None, &verify).await.problem(422, "validation_failed");
    app.post("/auth/verify-email", None, &verify).await.problem(429, "rate_limited");
    app.clock.advance(chrono::Duration::seconds(61));
    app.post("/auth/verify-email", None, &verify).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn rate_limits_off_disables_the_per_ip_limits_but_not_the_lockout() {
    let app = spawn_app_with(|s| {
        s.auth.register_per_ip_per_minute = 1;
        s.auth.login_per_ip_per_minute = 1;
        s.auth.rate_limits = techtransfer::config::Switch::Off;
    })
    .await;
    let user = app.user().await;
    app.register(&format!("r{}@example.cn", unique())).await.expect(201);
    for _ in 0..4 {
        app.login(&user.email, "wrong-password-123").await.problem(401, "invalid_credentials");
    }
    app.login(&user.email, "wrong-password-123").await.problem(429, "rate_limited");
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let limited = |trusted: Vec<String>| {
        move |s: &mut techtransfer::config::Settings| {
            s.auth.login_per_ip_per_minute = 1;
            s.server.trusted_proxies = trusted;
        }
    };
    let login = |app: &crate::helpers::TestApp, forwarded: &str| {
        app.client
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", forwarded.to_owned())
            .json(&json!({"email": "someone@example.cn", "password": "whatever-password"}))
    };
    // Behind a trusted proxy each forwarded client has its own budget.
    let app = spawn_app_with(limited(vec!["127.0.0.0/8".into(), "::1".into()])).await;
    assert_eq!(app.raw(login(&app, "198.51.100.1")).await.status, 401);
    assert_eq!(app.raw(login(&app, "198.51.100.2")).await.status, 401);
    app.raw(login(&app, "198.51.100.1")).await.problem(429, "rate_limited");
    // Without one the header is the client's own claim and is ignored.
    let app = spawn_app_with(limited(vec![])).await;
    assert_eq!(app.raw(login(&app, "198.51.100.1")).await.status, 401);
    app.raw(login(&app, "198.51.100.2")).await.problem(429, "rate_limited");
}

#[tokio::test]
async fn reset_emails_are_throttled_per_account_and_only_the_newest_link_works() {
    let app = spawn_app_with(|s| s.auth.password_reset_interval_minutes = 5).await;
    let user = app.user().await;
    let ask = json!({"email": user.email});
    let count = |app: &crate::helpers::TestApp| app.mails().iter().filter(|m| m.kind == "password_reset").count();
    assert_eq!(app.post("/auth/password-reset", None, &ask).await.status, 202);
    assert_eq!(app.post("/auth/password-reset", None, &ask).await.status, 202);
    let first = app.mailed_token(&user.email, "password_reset").await;
    assert_eq!(app.post("/auth/password-reset", None, &ask).await.status, 202);
    app.run_due_jobs().await;
    assert_eq!(count(&app), 1, "one email per account per interval");

    app.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(app.post("/auth/password-reset", None, &ask).await.status, 202);
    let second = app.mailed_token(&user.email, "password_reset").await;
    assert_eq!(count(&app), 2);
    assert_ne!(first, second);
    let body = |token: &str| json!({"token": token, "new_password": "another-long-password"});
    app.post("/auth/password-reset/confirm", None, &body(&first)).await.problem(422, "validation_failed");
    assert_eq!(app.post("/auth/password-reset/confirm", None, &body(&second)).await.status, 204);
}

#[tokio::test]
async fn metrics_answer_only_with_the_configured_token() {
    let open = spawn_app().await;
    assert_eq!(open.get("/metrics", None).await.status, 200);
    let app = spawn_app_with(|s| s.server.metrics_token = Some("metrics-token-0123456789".into())).await;
    app.get("/metrics", None).await.problem(404, "not_found");
    app.get("/metrics", Some("wrong-token")).await.problem(404, "not_found");
    assert_eq!(app.get("/metrics", Some("metrics-token-0123456789")).await.status, 200);
}

#[tokio::test]
async fn concurrent_correct_logins_never_lock_the_account() {
    let app = spawn_app().await;
    let user = app.user().await;
    for _ in 0..3 {
        let answers = join_all((0..20).map(|_| app.login(&user.email, PASSWORD))).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
        assert!(statuses.iter().all(|s| [200, 429].contains(s)), "{statuses:?}");
        assert!(statuses.contains(&200), "{statuses:?}");
        // Once the burst is over the account is as before.
        app.login(&user.email, PASSWORD).await.expect(200);
    }
    for _ in 0..4 {
        app.login(&user.email, "wrong-password-123").await.problem(401, "invalid_credentials");
    }
    app.login(&user.email, PASSWORD).await.expect(200);
}
