//! Collisions of two different flows on one aggregate, sent at the same moment, many times:
//! none may answer 5xx, and each rule holds in every trial. (On PostgreSQL these deadlocked
//! or broke rules before the audit log was sequenced and writers locked in one order.)

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, backend, spawn_app};

fn pairs() -> usize {
    let default = if backend() == techtransfer::db::Backend::Postgres { 200 } else { 40 };
    std::env::var("TT_RACE_PAIRS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn program_body(app: &TestApp, budget: i64, cap: i64) -> Value {
    let d = techtransfer::domain::voucher::shanghai_date(app.clock.now());
    json!({
        "name": "并发测试创新券", "year": 2026,
        "total_budget_fen": budget, "per_enterprise_cap_fen": cap, "coverage_ratio_bp": 5000,
        "service_categories": ["inspection_testing"], "eligible_scales": ["small", "micro"], "valid_days": 90,
        "applications_open": d.to_string(),
        "applications_close": (d + chrono::Duration::days(30)).to_string(),
        "settle_by": (d + chrono::Duration::days(60)).to_string(),
    })
}

struct Vouchers {
    app: TestApp,
    admin: TestUser,
    enterprise: TestUser,
    provider: TestUser,
    program: String,
}

impl Vouchers {
    async fn new(budget: i64) -> Self {
        let app = spawn_app().await;
        let admin = app.admin().await;
        let enterprise = app.member("enterprise").await;
        let provider = app.member("service_provider").await;
        let program =
            app.post("/admin/voucher-programs", admin.t(), &program_body(&app, budget, budget)).await.expect(201)["id"]
                .as_str()
                .unwrap()
                .to_owned();
        Self { app, admin, enterprise, provider, program }
    }

    async fn application(&self, fen: i64) -> String {
        let body = json!({"requested_fen": fen, "purpose": "委托检测", "service_category": "inspection_testing"});
        self.app
            .post(&format!("/voucher-programs/{}/applications", self.program), self.enterprise.t(), &body)
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn voucher(&self, fen: i64) -> String {
        let id = self.application(fen).await;
        let path = format!("/admin/voucher-applications/{id}/approve");
        self.app.post(&path, self.admin.t(), &json!({"approved_fen": fen})).await.expect(200)["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn redeem_body(code: &str, fee: i64) -> Value {
        json!({"voucher_code": code, "service_fee_fen": fee, "invoice_no": "FP-R", "description": "检测服务"})
    }

    /// A confirmed redemption of `code`, ready to settle.
    async fn confirmed(&self, code: &str, fee: i64) -> String {
        let r =
            self.app.post("/voucher-redemptions", self.provider.t(), &Self::redeem_body(code, fee)).await.expect(201);
        let id = r["id"].as_str().unwrap().to_owned();
        self.app.post(&format!("/voucher-redemptions/{id}/confirm"), self.enterprise.t(), &json!({})).await.expect(200);
        id
    }
}

/// A POST whose arguments it owns, so many can be in flight at once.
async fn post(app: &TestApp, path: String, who: &TestUser, body: Value) -> (u16, Value) {
    let r = app.post(&path, who.t(), &body).await;
    (r.status, r.json())
}

#[track_caller]
fn no_server_errors(what: &str, statuses: &[u16]) {
    let bad: Vec<&u16> = statuses.iter().filter(|s| **s >= 500).collect();
    assert!(bad.is_empty(), "{what}: {} of {} requests answered 5xx", bad.len(), statuses.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settling_while_the_same_voucher_is_redeemed() {
    let n = pairs();
    let v = Vouchers::new(1_000_000_000).await;
    let code = v.voucher(500_000_000).await;
    let mut settle_ids = Vec::new();
    for _ in 0..n {
        settle_ids.push(v.confirmed(&code, 2_000).await);
    }
    let app = &v.app;
    let rounds = settle_ids.iter().map(|id| {
        let settle = post(app, format!("/admin/voucher-redemptions/{id}/settle"), &v.admin, json!({}));
        let redeem = post(app, "/voucher-redemptions".into(), &v.provider, Vouchers::redeem_body(&code, 2_000));
        async move {
            let (s, r) = futures_util::join!(settle, redeem);
            (s.0, r.0)
        }
    });
    let results = join_all(rounds).await;
    let statuses: Vec<u16> = results.iter().flat_map(|(a, b)| [*a, *b]).collect();
    no_server_errors("settle ‖ redeem", &statuses);
    assert!(results.iter().all(|(s, r)| *s == 200 && *r == 201), "{results:?}");
    let summary = app.get(&format!("/admin/voucher-programs/{}/summary", v.program), v.admin.t()).await.expect(200);
    assert_eq!(summary["settled_fen"], (n as i64) * 1_000);
    assert_eq!(summary["reserved_fen"], (n as i64) * 1_000, "the new redemptions are reserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settling_while_applications_of_the_program_are_approved() {
    let n = pairs();
    // The budget covers the first voucher and half of the approvals: the rest are refused
    // with the contract's code, never with a 5xx.
    let v = Vouchers::new(100_000 + (n as i64 / 2) * 1_000).await;
    let code = v.voucher(100_000).await;
    let mut settle_ids = Vec::new();
    let mut applications = Vec::new();
    for _ in 0..n {
        settle_ids.push(v.confirmed(&code, 200).await);
        applications.push(v.application(1_000).await);
    }
    let app = &v.app;
    let rounds = settle_ids.iter().zip(&applications).map(|(r, a)| {
        let settle = post(app, format!("/admin/voucher-redemptions/{r}/settle"), &v.admin, json!({}));
        let approve =
            post(app, format!("/admin/voucher-applications/{a}/approve"), &v.admin, json!({"approved_fen": 1_000}));
        async move {
            let (s, a) = futures_util::join!(settle, approve);
            (s.0, a.0, a.1["code"].clone())
        }
    });
    let results = join_all(rounds).await;
    let statuses: Vec<u16> = results.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
    no_server_errors("settle ‖ approve", &statuses);
    assert!(results.iter().all(|(s, _, _)| *s == 200));
    let approved = results.iter().filter(|(_, a, _)| *a == 200).count();
    assert_eq!(approved, n / 2, "exactly the budget's worth is approved");
    assert!(
        results.iter().filter(|(_, a, _)| *a != 200).all(|(_, a, code)| *a == 409 && code == "voucher_budget_exceeded")
    );
    let summary = app.get(&format!("/admin/voucher-programs/{}/summary", v.program), v.admin.t()).await.expect(200);
    assert_eq!(summary["remaining_fen"], 0);
    assert_eq!(summary["settled_fen"], (n as i64) * 100);
}

/// A directed commission in progress with its first milestone delivered.
async fn delivered(app: &TestApp, issuer: &TestUser, team: &TestUser, admin: &TestUser) -> (String, String, String) {
    let body = json!({
        "title": "定向委托：电池热失控预警算法", "description": "研制预警算法。", "field": "new_energy",
        "indicators": [{"name": "预警提前量", "target": "≥5分钟"}], "reward_fen": 100_000, "mode": "directed",
        "directed_org_id": team.org(), "max_winners": 1,
        "bid_deadline": (app.clock.now() + chrono::Duration::days(5)).to_rfc3339(),
        "eligible_kinds": ["university"],
        "milestones": [{"title": "算法交付", "due_date": "2027-06-30", "payment_fen": 40_000},
                       {"title": "装车验证", "due_date": "2027-12-31", "payment_fen": 60_000}],
    });
    let created = app.post("/challenges", issuer.t(), &body).await.expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    let milestone = created["milestones"][0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{id}/submit"), issuer.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{id}/approve"), admin.t(), &json!({})).await.expect(200);
    let bid = app
        .post(
            &format!("/challenges/{id}/bids"),
            team.t(),
            &json!({"proposal": "方案", "budget_fen": 100_000, "plan": "计划", "team": [{"name": "李教授", "title": "负责人"}]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let awarded =
        app.post(&format!("/challenges/{id}/award"), issuer.t(), &json!({"bid_ids": [bid]})).await.expect(200);
    assert_eq!(awarded["status"], "in_progress");
    let path = format!("/challenges/{id}/milestones/{milestone}/deliver");
    app.post(&path, team.t(), &json!({"bid_id": bid, "report": "算法与测试报告"})).await.expect(200);
    (id, milestone, bid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accepting_a_milestone_while_the_challenge_is_cancelled() {
    let n = pairs().min(100);
    let app = spawn_app().await;
    let (issuer, team, admin) = (app.member("enterprise").await, app.member("university").await, app.admin().await);
    let mut cases = Vec::new();
    for _ in 0..n {
        cases.push(delivered(&app, &issuer, &team, &admin).await);
    }
    let rounds = cases.iter().map(|(id, m, bid)| {
        let accept = post(&app, format!("/challenges/{id}/milestones/{m}/accept"), &issuer, json!({"bid_id": bid}));
        let cancel = post(&app, format!("/challenges/{id}/cancel"), &issuer, json!({"reason": "项目调整"}));
        async move {
            let (a, c) = futures_util::join!(accept, cancel);
            (a.0, c.0)
        }
    });
    let results = join_all(rounds).await;
    let statuses: Vec<u16> = results.iter().flat_map(|(a, b)| [*a, *b]).collect();
    no_server_errors("accept milestone ‖ cancel", &statuses);
    for ((id, _, _), (accept, cancel)) in cases.iter().zip(&results) {
        assert_eq!(*cancel, 200, "cancelling is allowed before completion either way");
        let view = app.get(&format!("/challenges/{id}"), issuer.t()).await.expect(200);
        assert_eq!(view["status"], "cancelled");
        // The tranche is paid exactly when the acceptance won the race.
        let paid = view["paid_fen"].as_i64().unwrap();
        assert_eq!(paid, if *accept == 200 { 40_000 } else { 0 }, "accept {accept}: {view}");
        assert!(*accept == 200 || *accept == 409);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_eliminations_in_a_two_horse_race_leave_one_winner() {
    let trials = if backend() == techtransfer::db::Backend::Postgres { 30 } else { 5 };
    let app = spawn_app().await;
    let (issuer, admin, expert) = (app.member("enterprise").await, app.admin().await, app.expert().await);
    let teams = [app.member("university").await, app.member("institute").await];
    for _ in 0..trials {
        let body = json!({
            "title": "赛马：储能电池快充", "description": "两支团队并行攻关。", "field": "new_energy",
            "indicators": [{"name": "充电时间", "target": "≤10分钟"}], "reward_fen": 100_000, "mode": "horse_race",
            "max_winners": 2, "bid_deadline": (app.clock.now() + chrono::Duration::days(1)).to_rfc3339(),
            "eligible_kinds": ["university", "institute"],
            "milestones": [{"title": "样机", "due_date": "2027-06-30", "payment_fen": 100_000}],
        });
        let id = app.post("/challenges", issuer.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.post(&format!("/challenges/{id}/submit"), issuer.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/challenges/{id}/approve"), admin.t(), &json!({})).await.expect(200);
        let mut bids = Vec::new();
        for t in &teams {
            let b = json!({"proposal": "方案", "budget_fen": 50_000, "plan": "计划", "team": [{"name": "王工", "title": "负责人"}]});
            bids.push(
                app.post(&format!("/challenges/{id}/bids"), t.t(), &b).await.expect(201)["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        app.clock.advance(chrono::Duration::days(2));
        app.post(&format!("/admin/challenges/{id}/experts"), admin.t(), &json!({"user_ids": [expert.id]}))
            .await
            .expect(200);
        for b in &bids {
            let score = json!({"technical": 80, "team": 80, "budget": 80, "comment": "好"});
            app.put(&format!("/challenges/{id}/bids/{b}/score"), expert.t(), &score).await.expect(200);
        }
        let awarded =
            app.post(&format!("/challenges/{id}/award"), issuer.t(), &json!({"bid_ids": bids})).await.expect(200);
        assert_eq!(awarded["status"], "in_progress");
        let path = format!("/challenges/{id}/eliminate");
        let (a, b) = futures_util::join!(
            post(&app, path.clone(), &issuer, json!({"bid_id": bids[0], "reason": "落后"})),
            post(&app, path.clone(), &issuer, json!({"bid_id": bids[1], "reason": "落后"})),
        );
        no_server_errors("eliminate ‖ eliminate", &[a.0, b.0]);
        let mut outcomes = [a.0, b.0];
        outcomes.sort();
        assert_eq!(outcomes, [200, 409], "exactly one elimination wins");
        let view = app.get(&format!("/challenges/{id}/bids"), issuer.t()).await.expect(200);
        let winners =
            view.as_array().or(view["items"].as_array()).unwrap().iter().filter(|b| b["status"] == "awarded").count();
        assert_eq!(winners, 1, "one horse stays in the race");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_racing_a_termination_never_land_after_it() {
    let trials = if backend() == techtransfer::db::Backend::Postgres { 50 } else { 10 };
    let app = spawn_app().await;
    let (seller, buyer, admin) = (app.member("university").await, app.member("enterprise").await, app.admin().await);
    for _ in 0..trials {
        let body = json!({
            "kind": "license", "title": "专利许可合同", "seller_org_id": seller.org(), "buyer_org_id": buyer.org(),
            "amount_fen": 100_000, "payment_plan": [{"due_date": "2027-01-31", "amount_fen": 100_000}],
        });
        let id = app.post("/contracts", seller.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.post(&format!("/contracts/{id}/sign"), seller.t(), &json!({})).await.expect(200);
        app.post(&format!("/contracts/{id}/sign"), buyer.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
        let pay = json!({"amount_fen": 10_000, "paid_at": "2026-12-01T08:00:00Z", "reference": "P"});
        let payments = (0..4).map(|_| post(&app, format!("/contracts/{id}/payments"), &seller, pay.clone()));
        let terminate = post(&app, format!("/contracts/{id}/terminate"), &buyer, json!({"reason": "终止"}));
        let (paid, ended) = futures_util::join!(join_all(payments), terminate);
        let mut statuses: Vec<u16> = paid.iter().map(|r| r.0).collect();
        statuses.push(ended.0);
        no_server_errors("pay ‖ terminate", &statuses);
        assert_eq!(ended.0, 200);
        let view = app.get(&format!("/contracts/{id}"), seller.t()).await.expect(200);
        assert_eq!(view["status"], "terminated");
        let ok = paid.iter().filter(|r| r.0 == 200).count() as i64;
        assert_eq!(view["paid_fen"], ok * 10_000, "every acknowledged payment, and only those, is recorded");
        assert_eq!(view["payments"].as_array().unwrap().len() as i64, ok);
        // After the termination, a payment is refused.
        app.post(&format!("/contracts/{id}/payments"), seller.t(), &pay).await.problem(409, "invalid_state_transition");
    }
}
