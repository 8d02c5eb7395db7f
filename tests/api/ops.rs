//! Foundation: operational endpoints, problem+json, OpenAPI, docs, migrations, backends.

use crate::helpers::{TestDb, backend, spawn_app};
use techtransfer::db::{AnyConnection, Backend, DatabaseUrl};

/// Fails the run when PostgreSQL was required (CI's second pass) but the suite ran on
/// something else, so "the PostgreSQL tests did not run" is a red build.
#[tokio::test]
async fn backend_sentinel() {
    let app = spawn_app().await;
    let body = app.get("/readyz", None).await.expect(200);
    let expected = match backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["backend"], expected);
    if std::env::var("TT_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        assert_eq!(body["backend"], "postgres", "TT_TEST_REQUIRE_POSTGRES=1 but the suite ran on {expected}");
        if let Ok(path) = std::env::var("TT_TEST_SENTINEL_FILE") {
            std::fs::write(path, "PostgreSQL suite ran").expect("write sentinel");
        }
    }
}

#[tokio::test]
async fn healthz_and_readyz() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.expect(200)["status"], "ok");
    assert!(res.headers.get("x-request-id").is_some(), "request id header");
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn unknown_route_and_wrong_method_are_problem_json() {
    let app = spawn_app().await;
    app.get("/api/v1/no-such-thing", None).await.problem(404, "not_found");
    app.get("/nope", None).await.problem(404, "not_found");
    let res = app.raw(app.client.delete(app.url("/healthz"))).await;
    res.problem(405, "method_not_allowed");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    app.get("/healthz", None).await.expect(200);
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.text.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{}",
        res.text
    );
    assert!(res.text.contains("http_request_duration_seconds_bucket"));
    assert!(res.text.contains("db_pool_connections{state=\"max\"}"));
    assert!(res.text.contains("jobs_queue_depth{status=\"failed\"} 0"), "{}", res.text);
}

#[tokio::test]
async fn openapi_document_is_valid_openapi_3() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."), "{doc}");
    assert!(doc["info"]["title"].is_string());
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // Every `$ref` resolves: a dangling one makes clients and fuzzers give up on the operation.
    let text = doc.to_string();
    for reference in text.split("\"#/components/").skip(1) {
        let target = &reference[..reference.find('"').unwrap()];
        let (section, name) = target.split_once('/').unwrap();
        assert!(doc["components"][section][name].is_object(), "dangling $ref to {target}");
    }
    // Enum schemas carry the wire texts, not the Rust variant names.
    assert_eq!(doc["components"]["schemas"]["VoucherStatus"]["enum"][0], "active");
}

#[tokio::test]
async fn docs_page_is_served_without_network() {
    let app = spawn_app().await;
    let redirect = app.get("/docs", None).await;
    assert!(matches!(redirect.status, 301 | 302 | 307 | 308), "status {}", redirect.status);
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    // Every asset is relative: nothing is fetched from a CDN.
    assert!(!page.text.contains("http://") && !page.text.contains("https://"), "{}", page.text);
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, 200);
    let init = app.get("/docs/swagger-initializer.js", None).await;
    assert!(init.text.contains("/api/v1/openapi.json"), "{}", init.text);
}

#[tokio::test]
async fn migrations_run_up_down_up() {
    let db = TestDb::new();
    let url = DatabaseUrl::parse(db.url()).expect("url");
    let mut conn = AnyConnection::open(&url).expect("open");
    let reverted = techtransfer::db::migrate::revert_all(&mut conn).expect("down");
    assert!(!reverted.is_empty());
    let applied = techtransfer::db::migrate::run_pending(&mut conn).expect("up again");
    assert_eq!(applied.len(), reverted.len());
    assert!(techtransfer::db::migrate::run_pending(&mut conn).expect("idempotent").is_empty());
}

#[tokio::test]
async fn seed_demo_fills_every_role_and_synthetic_listings() {
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    let summary = app
        .with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 40))
        .expect("seed the demo data set");
    assert!(summary.achievements >= 150 + 30, "{}", summary.achievements);
    assert!(summary.demands >= 50 + 10, "{}", summary.demands);
    for role in ["admin", "expert", "university", "institute", "enterprise", "service_provider", "government"] {
        assert!(summary.accounts.iter().any(|a| a.role == role), "no {role} account");
    }

    let page = app.get("/achievements?per_page=1", None).await.expect(200);
    assert_eq!(page["total"], summary.achievements as i64);
    let page = app.get("/demands?per_page=1", None).await.expect(200);
    assert_eq!(page["total"], summary.demands as i64);
    let admin = app.login(techtransfer::demo::ADMIN_EMAIL, techtransfer::demo::ADMIN_PASSWORD).await.expect(200);
    let queue = app.get("/admin/review-queue", admin["access_token"].as_str()).await.expect(200);
    assert!(queue["total"].as_i64().unwrap() > 0, "the demo leaves items waiting for review");
    // Shared instruments with bookings in every state, one paid by voucher.
    let instruments = app.get("/instruments", None).await.expect(200);
    assert_eq!(instruments["total"], 3);
    let token = admin["access_token"].as_str();
    let mut statuses = std::collections::BTreeSet::new();
    let mut paid = 0;
    for i in instruments["items"].as_array().unwrap() {
        let bookings =
            app.get(&format!("/instruments/{}/bookings", i["id"].as_str().unwrap()), token).await.expect(200);
        for b in bookings["items"].as_array().unwrap() {
            statuses.insert(b["status"].as_str().unwrap().to_owned());
            paid += i32::from(b["reserved_fen"].as_i64().unwrap() > 0);
        }
    }
    assert_eq!(statuses.len(), 5, "requested, approved, rejected, completed, no_show: {statuses:?}");
    assert_eq!(paid, 1);

    // A second seed refuses to mix into existing data.
    let again = app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0));
    assert!(again.is_err());
}

/// The voucher journey the README names works for the demo accounts it names: `enterprise1`
/// (small) applies to the seeded program, whose window is open today; a large enterprise is
/// refused; `enterprise2` holds a voucher that a service provider redeems.
#[tokio::test]
async fn demo_accounts_can_walk_the_voucher_journey() {
    use serde_json::json;
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0)).expect("seed");
    let login = |who: &'static str| {
        let app = &app;
        async move {
            let email = format!("{who}@demo.techtransfer.cn");
            let res = app.login(&email, techtransfer::demo::DEMO_PASSWORD).await.expect(200);
            res["access_token"].as_str().unwrap().to_owned()
        }
    };

    let small = login("enterprise1").await;
    let programs = app.get("/voucher-programs", Some(&small)).await.expect(200);
    let program = programs["items"].as_array().unwrap().first().expect("a seeded voucher program").clone();
    let id = program["id"].as_str().unwrap();
    let body = json!({"requested_fen": 1_000_000, "purpose": "委托检测废水处理样品", "service_category": "inspection_testing"});
    let path = format!("/voucher-programs/{id}/applications");
    app.post(&path, Some(&small), &body).await.expect(201);

    let large = login("enterprise4").await;
    app.post(&path, Some(&large), &body).await.problem(403, "forbidden");

    let holder = login("enterprise2").await;
    let vouchers = app.get("/vouchers", Some(&holder)).await.expect(200);
    let code = vouchers["items"][0]["code"].as_str().expect("enterprise2 holds a voucher").to_owned();
    let provider = login("service-provider1").await;
    let redemption = json!({"voucher_code": code, "service_fee_fen": 400_000, "invoice_no": "FP-DEMO-1", "description": "菌剂活性检测"});
    app.post("/voucher-redemptions", Some(&provider), &redemption).await.expect(201);

    let admin = app.login(techtransfer::demo::ADMIN_EMAIL, techtransfer::demo::ADMIN_PASSWORD).await.expect(200);
    let waiting = app.get("/voucher-applications?status=submitted", admin["access_token"].as_str()).await.expect(200);
    assert!(waiting["items"].as_array().unwrap().len() >= 2, "{waiting}");
}

#[tokio::test]
async fn meta_lists_codes_with_chinese_labels() {
    let app = crate::helpers::spawn_app().await;
    let meta = app.get("/meta", None).await.expect(200);
    let fields = meta["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 15);
    assert!(fields.iter().any(|f| f["code"] == "new_materials" && f["label"] == "新材料"));
    assert_eq!(meta["regions"].as_array().unwrap().len(), 34);
    assert!(meta["regions"].as_array().unwrap().iter().any(|r| r == "江苏省"));
    for list in [
        "transfer_modes",
        "service_categories",
        "enterprise_scales",
        "organization_kinds",
        "contract_kinds",
        "reason_codes",
    ] {
        let items = meta[list].as_array().unwrap();
        assert!(!items.is_empty(), "{list}");
        assert!(items.iter().all(|i| i["code"].is_string() && !i["label"].as_str().unwrap().is_empty()), "{list}");
    }
    assert!(
        meta["contract_kinds"].as_array().unwrap().iter().any(|k| k["code"] == "license" && k["label"] == "技术许可")
    );
}
