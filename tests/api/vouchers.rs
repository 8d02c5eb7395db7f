//! 科技创新券: rules, money invariants, idempotency, deadlines, races, and a property test
//! over random operation sequences.

use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

fn today(app: &TestApp) -> chrono::NaiveDate {
    techtransfer::domain::voucher::shanghai_date(app.clock.now())
}

fn program_body(app: &TestApp, budget: i64, cap: i64) -> Value {
    program_body_for(app, budget, cap, 30, 120)
}

fn program_body_for(app: &TestApp, budget: i64, cap: i64, window_days: i64, settle_days: i64) -> Value {
    let d = today(app);
    json!({
        "name": "2026年度科技创新券", "year": 2026,
        "total_budget_fen": budget, "per_enterprise_cap_fen": cap, "coverage_ratio_bp": 5000,
        "service_categories": ["inspection_testing", "rd_design"],
        "eligible_scales": ["small", "micro"],
        "valid_days": 90,
        "applications_open": d.to_string(),
        "applications_close": (d + chrono::Duration::days(window_days)).to_string(),
        "settle_by": (d + chrono::Duration::days(settle_days)).to_string(),
    })
}

struct Market {
    app: TestApp,
    admin: TestUser,
    enterprise: TestUser,
    provider: TestUser,
    program: String,
}

async fn market(budget: i64, cap: i64) -> Market {
    market_for(budget, cap, 30, 120).await
}

async fn market_for(budget: i64, cap: i64, window_days: i64, settle_days: i64) -> Market {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let enterprise = app.member("enterprise").await; // scale "small"
    let provider = app.member("service_provider").await; // offers inspection_testing, rd_design
    let body = program_body_for(&app, budget, cap, window_days, settle_days);
    let program =
        app.post("/admin/voucher-programs", admin.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    Market { app, admin, enterprise, provider, program }
}

impl Market {
    async fn apply(&self, who: &TestUser, requested: i64) -> String {
        let body = json!({"requested_fen": requested, "purpose": "委托第三方检测新产品", "service_category": "inspection_testing"});
        self.app.post(&format!("/voucher-programs/{}/applications", self.program), who.t(), &body).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn voucher(&self, requested: i64) -> Value {
        let app_id = self.apply(&self.enterprise, requested).await;
        self.app
            .post(
                &format!("/admin/voucher-applications/{app_id}/approve"),
                self.admin.t(),
                &json!({"approved_fen": requested}),
            )
            .await
            .expect(200)
    }

    async fn redeem(&self, code: &str, fee: i64, key: Option<&str>) -> crate::helpers::TestResponse {
        let body = json!({"voucher_code": code, "service_fee_fen": fee, "invoice_no": "FP-2026-001", "description": "材料成分检测"});
        let mut req =
            self.app.client.post(self.app.url("/voucher-redemptions")).bearer_auth(&self.provider.token).json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        self.app.raw(req).await
    }

    async fn summary(&self) -> Value {
        self.app.get(&format!("/admin/voucher-programs/{}/summary", self.program), self.admin.t()).await.expect(200)
    }

    /// Every invariant of the money model, checked against the database and the API.
    async fn check_invariants(&self) {
        let s = self.summary().await;
        let p = self.app.get(&format!("/voucher-programs/{}", self.program), None).await.expect(200);
        let total = s["total_budget_fen"].as_i64().unwrap();
        let issued = s["issued_fen"].as_i64().unwrap();
        let released = s["released_fen"].as_i64().unwrap();
        assert!(issued - released <= total, "issued − released ≤ budget: {s}");
        assert_eq!(s["remaining_fen"].as_i64().unwrap(), total - issued + released);
        assert!(s["remaining_fen"].as_i64().unwrap() >= 0);
        assert_eq!(p["issued_fen"], s["issued_fen"], "program balance agrees with the ledger");
        assert_eq!(p["released_fen"], s["released_fen"]);
        assert_eq!(p["settled_fen"], s["settled_fen"]);
        assert_eq!(p["remaining_fen"], s["remaining_fen"]);
        let program = self.program.clone();
        let (face, reserved, returned): (i64, i64, i64) = self.app.with_conn(|c| {
            use diesel::prelude::*;
            use techtransfer::db::schema::vouchers;
            let rows: Vec<(i64, i64, i64, i64, i64)> = vouchers::table
                .filter(vouchers::program_id.eq(&program))
                .select((
                    vouchers::face_value_fen,
                    vouchers::balance_fen,
                    vouchers::reserved_fen,
                    vouchers::settled_fen,
                    vouchers::returned_fen,
                ))
                .load(c)
                .unwrap();
            for (face, balance, reserved, settled, returned) in &rows {
                assert_eq!(balance + reserved + settled + returned, *face, "voucher parts add up to its face value");
                assert!(*balance >= 0 && *reserved >= 0);
            }
            rows.iter().fold((0, 0, 0), |acc, r| (acc.0 + r.0, acc.1 + r.2, acc.2 + r.4))
        });
        assert_eq!(face, issued, "Σ face values = issued");
        assert_eq!(reserved, s["reserved_fen"].as_i64().unwrap(), "Σ reserved = ledger reserved");
        assert_eq!(returned, released, "Σ returned = released");
    }
}

#[tokio::test]
async fn application_rules() {
    let m = market(10_000_000, 3_000_000).await;
    let app = &m.app;
    let path = format!("/voucher-programs/{}/applications", m.program);
    app.post("/admin/voucher-programs", m.enterprise.t(), &program_body(app, 1, 1)).await.problem(403, "forbidden");
    let mut bad = program_body(app, 100, 100);
    bad["coverage_ratio_bp"] = json!(0);
    app.post("/admin/voucher-programs", m.admin.t(), &bad).await.problem(422, "validation_failed");
    let good = json!({"requested_fen": 1_000_000, "purpose": "检测", "service_category": "inspection_testing"});
    let over = json!({"requested_fen": 3_000_001, "purpose": "检测", "service_category": "inspection_testing"});
    let p = app.post(&path, m.enterprise.t(), &over).await.problem(422, "validation_failed");
    assert!(p["errors"]["requested_fen"].is_array());
    let wrong_category = json!({"requested_fen": 100, "purpose": "检测", "service_category": "ip_services"});
    app.post(&path, m.enterprise.t(), &wrong_category).await.problem(422, "validation_failed");
    app.post(&path, m.provider.t(), &good).await.problem(403, "forbidden");
    let big = app.user().await;
    let mut body = TestApp::org_body("enterprise");
    body["enterprise_scale"] = json!("large");
    let org = app.post("/organizations", big.t(), &body).await.expect(201);
    app.post(&format!("/admin/organizations/{}/verify", org["id"].as_str().unwrap()), m.admin.t(), &json!({}))
        .await
        .expect(200);
    app.post(&path, big.t(), &good).await.problem(403, "forbidden"); // ineligible scale
    let pending = app.pending_member("enterprise").await;
    app.post(&path, pending.t(), &good).await.problem(403, "organization_not_verified");
    let created = app.post(&path, m.enterprise.t(), &good).await.expect(201);
    assert_eq!(created["status"], "submitted");
    // Admin decisions.
    let id = created["id"].as_str().unwrap();
    let approve = format!("/admin/voucher-applications/{id}/approve");
    app.post(&approve, m.enterprise.t(), &json!({"approved_fen": 1})).await.problem(403, "forbidden");
    let too_much =
        app.post(&approve, m.admin.t(), &json!({"approved_fen": 1_000_001})).await.problem(422, "validation_failed");
    assert!(too_much["errors"]["approved_fen"].is_array());
    let voucher = app.post(&approve, m.admin.t(), &json!({"approved_fen": 800_000})).await.expect(200);
    assert_eq!(voucher["face_value_fen"], 800_000);
    assert_eq!(voucher["balance_fen"], 800_000);
    assert_eq!(voucher["status"], "active");
    assert!(voucher["code"].as_str().unwrap().starts_with("TV2026-"));
    app.post(&approve, m.admin.t(), &json!({"approved_fen": 1})).await.problem(409, "invalid_state_transition");
    let listed = app.get("/voucher-applications?status=approved", m.enterprise.t()).await.expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["voucher_id"], voucher["id"]);
    assert_eq!(app.get("/voucher-applications", m.provider.t()).await.expect(200)["total"], 0);
    let rejected_id = m.apply(&m.enterprise, 100).await;
    let rejected = app
        .post(&format!("/admin/voucher-applications/{rejected_id}/reject"), m.admin.t(), &json!({"reason": "材料不全"}))
        .await;
    assert_eq!(rejected.expect(200)["status"], "rejected");

    // Outside the window.
    app.clock.advance(chrono::Duration::days(31));
    app.post(&path, m.enterprise.t(), &good).await.problem(409, "applications_closed");
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", m.enterprise.t()).await.expect(200);
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "voucher_application_approved"));
}

#[tokio::test]
async fn budget_and_enterprise_cap() {
    let m = market(1_000_000, 700_000).await;
    let app = &m.app;
    let a1 = m.apply(&m.enterprise, 600_000).await;
    let a2 = m.apply(&m.enterprise, 600_000).await;
    app.post(&format!("/admin/voucher-applications/{a1}/approve"), m.admin.t(), &json!({"approved_fen": 600_000}))
        .await
        .expect(200);
    app.post(&format!("/admin/voucher-applications/{a2}/approve"), m.admin.t(), &json!({"approved_fen": 200_000}))
        .await
        .problem(409, "enterprise_cap_exceeded");
    let other = app.member("enterprise").await;
    let a3 = m.apply(&other, 600_000).await;
    app.post(&format!("/admin/voucher-applications/{a3}/approve"), m.admin.t(), &json!({"approved_fen": 500_000}))
        .await
        .problem(409, "voucher_budget_exceeded");
    let v = app
        .post(&format!("/admin/voucher-applications/{a3}/approve"), m.admin.t(), &json!({"approved_fen": 400_000}))
        .await
        .expect(200);
    assert_eq!(app.get(&format!("/voucher-programs/{}", m.program), None).await.expect(200)["remaining_fen"], 0);
    // Failed approvals changed nothing.
    m.check_invariants().await;
    // Revoking returns the unreserved balance to the program and the enterprise's cap.
    let revoke = format!("/admin/vouchers/{}/revoke", v["id"].as_str().unwrap());
    let revoked = app.post(&revoke, m.admin.t(), &json!({"reason": "虚假申报"})).await.expect(200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["returned_fen"], 400_000);
    app.post(&revoke, m.admin.t(), &json!({"reason": "再次"})).await.problem(409, "invalid_state_transition");
    let s = m.summary().await;
    assert_eq!(s["released_fen"], 400_000);
    assert_eq!(s["remaining_fen"], 400_000);
    m.check_invariants().await;
}

#[tokio::test]
async fn redemption_confirmation_settlement_and_rejection() {
    let m = market(10_000_000, 5_000_000).await;
    let app = &m.app;
    let v = m.voucher(100_000).await;
    let code = v["code"].as_str().unwrap().to_owned();
    let vid = v["id"].as_str().unwrap().to_owned();
    // Wrong parties.
    let body = json!({"voucher_code": code, "service_fee_fen": 60_000, "invoice_no": "FP-1", "description": "检测"});
    app.post("/voucher-redemptions", m.enterprise.t(), &body).await.problem(403, "forbidden");
    let other_provider = app.user().await;
    let mut org = TestApp::org_body("service_provider");
    org["service_categories"] = json!(["ip_services"]);
    let created = app.post("/organizations", other_provider.t(), &org).await.expect(201);
    app.post(&format!("/admin/organizations/{}/verify", created["id"].as_str().unwrap()), m.admin.t(), &json!({}))
        .await
        .expect(200);
    app.post("/voucher-redemptions", other_provider.t(), &body).await.problem(403, "forbidden");
    let unknown = json!({"voucher_code": "TV2026-NOPE", "service_fee_fen": 1, "invoice_no": "x", "description": "x"});
    app.post("/voucher-redemptions", m.provider.t(), &unknown).await.problem(404, "not_found");

    // 50% of 60,000 = 30,000 is reserved at once.
    let r1 = m.redeem(&code, 60_000, None).await.expect(201);
    assert_eq!(r1["status"], "pending_confirmation");
    assert_eq!(r1["amount_fen"], 30_000);
    let held = app.get(&format!("/vouchers/{vid}"), m.enterprise.t()).await.expect(200);
    assert_eq!((held["balance_fen"].as_i64(), held["reserved_fen"].as_i64()), (Some(70_000), Some(30_000)));
    app.get(&format!("/vouchers/{vid}"), m.provider.t()).await.problem(404, "not_found");
    let r1_id = r1["id"].as_str().unwrap();
    app.post(&format!("/admin/voucher-redemptions/{r1_id}/settle"), m.admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&format!("/voucher-redemptions/{r1_id}/confirm"), m.provider.t(), &json!({}))
        .await
        .problem(403, "forbidden");
    app.post(&format!("/voucher-redemptions/{r1_id}/confirm"), m.enterprise.t(), &json!({})).await.expect(200);
    let settled =
        app.post(&format!("/admin/voucher-redemptions/{r1_id}/settle"), m.admin.t(), &json!({})).await.expect(200);
    assert_eq!(settled["status"], "settled");
    app.post(&format!("/admin/voucher-redemptions/{r1_id}/settle"), m.admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&format!("/admin/voucher-redemptions/{r1_id}/reject"), m.admin.t(), &json!({"reason": "x"}))
        .await
        .problem(409, "invalid_state_transition");

    // The rest of the balance: capped at 70,000 even for a large fee; the voucher is exhausted.
    let r2 = m.redeem(&code, 1_000_000, None).await.expect(201);
    assert_eq!(r2["amount_fen"], 70_000);
    assert_eq!(app.get(&format!("/vouchers/{vid}"), m.enterprise.t()).await.expect(200)["status"], "exhausted");
    m.redeem(&code, 10_000, None).await.problem(409, "voucher_not_active");
    // Rejection gives the reservation back and the voucher is usable again.
    let r2_id = r2["id"].as_str().unwrap();
    let rejected = app
        .post(&format!("/admin/voucher-redemptions/{r2_id}/reject"), m.admin.t(), &json!({"reason": "发票不符"}))
        .await;
    assert_eq!(rejected.expect(200)["status"], "rejected");
    let back = app.get(&format!("/vouchers/{vid}"), m.enterprise.t()).await.expect(200);
    assert_eq!((back["status"].as_str(), back["balance_fen"].as_i64()), (Some("active"), Some(70_000)));

    let ledger = app.get(&format!("/admin/voucher-programs/{}/ledger", m.program), m.admin.t()).await.expect(200);
    let kinds: Vec<&str> = ledger["items"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["issue", "reserve", "settle", "reserve", "release"]);
    assert!(ledger["items"].as_array().unwrap().iter().all(|l| l["amount_fen"].as_i64().unwrap() > 0));
    let s = m.summary().await;
    assert_eq!(
        (s["issued_fen"].as_i64(), s["reserved_fen"].as_i64(), s["settled_fen"].as_i64()),
        (Some(100_000), Some(0), Some(30_000))
    );
    app.get(&format!("/admin/voucher-programs/{}/summary", m.program), m.enterprise.t())
        .await
        .problem(403, "forbidden");
    m.check_invariants().await;
}

#[tokio::test]
async fn idempotent_redemptions() {
    let m = market(10_000_000, 5_000_000).await;
    let v = m.voucher(100_000).await;
    let code = v["code"].as_str().unwrap();
    let first = m.redeem(code, 20_000, Some("key-1")).await.expect(201);
    let again = m.redeem(code, 20_000, Some("key-1")).await.expect(201);
    assert_eq!(first, again, "a retry returns the first response");
    let held = m.app.get(&format!("/vouchers/{}", v["id"].as_str().unwrap()), m.enterprise.t()).await.expect(200);
    assert_eq!(held["reserved_fen"], 10_000, "and reserves nothing more");
    m.redeem(code, 30_000, Some("key-1")).await.problem(409, "idempotency_key_reused");
    let bad_key = m.app.raw(
        m.app
            .client
            .post(m.app.url("/voucher-redemptions"))
            .bearer_auth(&m.provider.token)
            .header("Idempotency-Key", " ")
            .json(&json!({})),
    );
    bad_key.await.problem(422, "validation_failed");
    // Concurrent retries with one key reserve once.
    let results = join_all((0..6).map(|_| m.redeem(code, 40_000, Some("key-2")))).await;
    let bodies: Vec<Value> = results.iter().map(|r| r.expect(201)).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let held = m.app.get(&format!("/vouchers/{}", v["id"].as_str().unwrap()), m.enterprise.t()).await.expect(200);
    assert_eq!(held["reserved_fen"], 30_000);
    m.check_invariants().await;
}

#[tokio::test]
async fn expiry_and_the_settlement_deadline() {
    let m = market(10_000_000, 5_000_000).await;
    let app = &m.app;
    let v = m.voucher(100_000).await;
    let v2 = m.voucher(50_000).await;
    let code = v["code"].as_str().unwrap().to_owned();
    let vid = v["id"].as_str().unwrap().to_owned();
    let settle = |id: &str| format!("/admin/voucher-redemptions/{id}/settle");
    let confirm = |id: &str| format!("/voucher-redemptions/{id}/confirm");
    // r1: confirmed, settled after the voucher expired but before the deadline.
    let r1 = m.redeem(&code, 40_000, None).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&confirm(&r1), m.enterprise.t(), &json!({})).await.expect(200);
    // r2: confirmed but never settled; r3: never confirmed.
    let code2 = v2["code"].as_str().unwrap();
    let r2 = m.redeem(code2, 20_000, None).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&confirm(&r2), m.enterprise.t(), &json!({})).await.expect(200);
    let r3 = m.redeem(code2, 10_000, None).await.expect(201)["id"].as_str().unwrap().to_owned();

    // After 90 days the vouchers read expired at once and refuse redemptions.
    app.clock.advance(chrono::Duration::days(91));
    assert_eq!(app.get(&format!("/vouchers/{vid}"), m.enterprise.t()).await.expect(200)["status"], "expired");
    m.redeem(&code, 1_000, None).await.problem(409, "voucher_not_active");
    // The expiry jobs return the unreserved balances; open reservations stay.
    app.run_due_jobs().await;
    let s = m.summary().await;
    assert_eq!(
        (s["released_fen"].as_i64(), s["reserved_fen"].as_i64()),
        (Some(80_000 + 35_000), Some(20_000 + 15_000))
    );
    m.check_invariants().await;
    app.post(&settle(&r1), m.admin.t(), &json!({})).await.expect(200);

    // Past the settlement deadline (day 120) nothing settles; the job closes out what is open
    // and, the vouchers having expired, the money returns to the program.
    app.clock.advance(chrono::Duration::days(30));
    app.post(&settle(&r2), m.admin.t(), &json!({})).await.problem(409, "settlement_closed");
    app.run_due_jobs().await;
    for id in [&r2, &r3] {
        assert_eq!(app.get(&format!("/voucher-redemptions/{id}"), m.admin.t()).await.expect(200)["status"], "rejected");
    }
    let s = m.summary().await;
    assert_eq!(s["reserved_fen"], 0);
    assert_eq!(s["settled_fen"], 20_000);
    assert_eq!(s["released_fen"], 130_000);
    m.check_invariants().await;
}

#[tokio::test]
async fn concurrent_approvals_never_exceed_the_budget() {
    // Budget for exactly 7 approvals of 100,000.
    let m = market(700_000, 100_000).await;
    let mut applications = Vec::new();
    for _ in 0..16 {
        let e = m.app.member("enterprise").await;
        applications.push(m.apply(&e, 100_000).await);
    }
    let body = json!({"approved_fen": 100_000});
    let paths: Vec<String> =
        applications.iter().map(|id| format!("/admin/voucher-applications/{id}/approve")).collect();
    let results = join_all(paths.iter().map(|p| m.app.post(p, m.admin.t(), &body))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let refused: Vec<_> = results.iter().filter(|r| r.status != 200).collect();
    assert_eq!(ok, 7, "exactly the approvals that fit succeed");
    for r in refused {
        r.problem(409, "voucher_budget_exceeded");
    }
    assert_eq!(m.summary().await["remaining_fen"], 0);
    m.check_invariants().await;
}

#[tokio::test]
async fn concurrent_redemptions_never_overdraw_a_voucher() {
    let m = market(10_000_000, 5_000_000).await;
    let v = m.voucher(100_000).await;
    let code = v["code"].as_str().unwrap();
    // Each asks for 15,000 (50% of 30,000): six fit fully, the seventh gets the last 10,000.
    let results = join_all((0..12).map(|_| m.redeem(code, 30_000, None))).await;
    let amounts: Vec<i64> =
        results.iter().filter(|r| r.status == 201).map(|r| r.json()["amount_fen"].as_i64().unwrap()).collect();
    for r in results.iter().filter(|r| r.status != 201) {
        r.problem(409, "voucher_not_active");
    }
    assert_eq!(amounts.iter().sum::<i64>(), 100_000, "the whole face value, never more: {amounts:?}");
    assert_eq!(amounts.len(), 7);
    let held = m.app.get(&format!("/vouchers/{}", v["id"].as_str().unwrap()), m.enterprise.t()).await.expect(200);
    assert_eq!((held["balance_fen"].as_i64(), held["reserved_fen"].as_i64()), (Some(0), Some(100_000)));
    m.check_invariants().await;
}

/// Random operation sequences: after every step the ledger and the balances reconcile.
#[tokio::test]
async fn property_ledger_reconciles_after_every_operation() {
    for seed in [7_u64, 42] {
        let m = market_for(2_000_000, 600_000, 3650, 3650).await;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut enterprises = vec![m.enterprise.clone()];
        for _ in 0..2 {
            enterprises.push(m.app.member("enterprise").await);
        }
        let mut vouchers: Vec<(String, String)> = Vec::new(); // (id, code)
        let mut redemptions: Vec<String> = Vec::new();
        for step in 0..45 {
            match rng.random_range(0..7) {
                0 | 1 => {
                    let e = &enterprises[rng.random_range(0..enterprises.len())];
                    let requested = rng.random_range(1..=6) * 50_000;
                    let id = m.apply(e, requested).await;
                    let approved = rng.random_range(1..=requested / 50_000) * 50_000;
                    let res = m
                        .app
                        .post(
                            &format!("/admin/voucher-applications/{id}/approve"),
                            m.admin.t(),
                            &json!({"approved_fen": approved}),
                        )
                        .await;
                    match res.status {
                        200 => {
                            let v = res.json();
                            vouchers
                                .push((v["id"].as_str().unwrap().to_owned(), v["code"].as_str().unwrap().to_owned()));
                        }
                        409 => assert!(
                            ["voucher_budget_exceeded", "enterprise_cap_exceeded"]
                                .contains(&res.json()["code"].as_str().unwrap())
                        ),
                        other => panic!("approve: {other} {}", res.text),
                    }
                }
                2 | 3 if !vouchers.is_empty() => {
                    let (_, code) = &vouchers[rng.random_range(0..vouchers.len())];
                    let res = m.redeem(code, rng.random_range(1..=20) * 10_000, None).await;
                    match res.status {
                        201 => redemptions.push(res.json()["id"].as_str().unwrap().to_owned()),
                        409 => {}
                        other => panic!("redeem: {other} {}", res.text),
                    }
                }
                4 if !redemptions.is_empty() => {
                    let id = &redemptions[rng.random_range(0..redemptions.len())];
                    let res = match rng.random_range(0..3) {
                        0 => {
                            // Whichever enterprise holds the voucher confirms.
                            let mut answer = None;
                            for e in &enterprises {
                                let r =
                                    m.app.post(&format!("/voucher-redemptions/{id}/confirm"), e.t(), &json!({})).await;
                                if r.status != 404 && r.status != 403 {
                                    answer = Some(r);
                                    break;
                                }
                            }
                            answer
                        }
                        1 => Some(
                            m.app
                                .post(&format!("/admin/voucher-redemptions/{id}/settle"), m.admin.t(), &json!({}))
                                .await,
                        ),
                        _ => Some(
                            m.app
                                .post(
                                    &format!("/admin/voucher-redemptions/{id}/reject"),
                                    m.admin.t(),
                                    &json!({"reason": "随机驳回"}),
                                )
                                .await,
                        ),
                    };
                    if let Some(res) = res {
                        assert!(res.status == 200 || res.status == 409, "step {step}: {} {}", res.status, res.text);
                    }
                }
                5 if !vouchers.is_empty() => {
                    let (id, _) = &vouchers[rng.random_range(0..vouchers.len())];
                    let res = m
                        .app
                        .post(&format!("/admin/vouchers/{id}/revoke"), m.admin.t(), &json!({"reason": "随机收回"}))
                        .await;
                    assert!(res.status == 200 || res.status == 409, "{}", res.text);
                }
                _ => {
                    m.app.clock.advance(chrono::Duration::days(rng.random_range(1..40)));
                    m.app.run_due_jobs().await;
                }
            }
            m.check_invariants().await;
        }
    }
}

#[tokio::test]
async fn integrity_vetoes_bar_applications_and_redemptions_until_lifted() {
    let m = market(10_000_000, 5_000_000).await;
    let app = &m.app;
    let v = m.voucher(100_000).await;
    let code = v["code"].as_str().unwrap().to_owned();
    let veto = |org: &str| json!({"org_id": org, "severity": "veto", "reason": "骗取创新券"});
    let on_enterprise = app.post("/admin/integrity-records", m.admin.t(), &veto(m.enterprise.org())).await.expect(201);
    let body = json!({"requested_fen": 1_000, "purpose": "检测", "service_category": "inspection_testing"});
    let path = format!("/voucher-programs/{}/applications", m.program);
    app.post(&path, m.enterprise.t(), &body).await.problem(403, "integrity_veto");
    // Existing vouchers are untouched: the provider can still redeem this one.
    m.redeem(&code, 2_000, None).await.expect(201);
    let on_provider = app.post("/admin/integrity-records", m.admin.t(), &veto(m.provider.org())).await.expect(201);
    m.redeem(&code, 2_000, None).await.problem(403, "integrity_veto");
    for record in [on_enterprise, on_provider] {
        let lift = format!("/admin/integrity-records/{}/lift", record["id"].as_str().unwrap());
        app.post(&lift, m.admin.t(), &json!({"reason": "复核无误"})).await.expect(200);
    }
    app.post(&path, m.enterprise.t(), &body).await.expect(201);
    m.redeem(&code, 2_000, None).await.expect(201);
    m.check_invariants().await;
}
