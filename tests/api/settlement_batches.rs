//! Settlement batches (结算批次): which redemptions a batch settles, never twice, idempotent
//! replay, races with single settles, the statement (JSON and CSV) and permissions.

use futures_util::future::join_all;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, TestUser, spawn_app};

fn today(app: &TestApp) -> chrono::NaiveDate {
    techtransfer::domain::voucher::shanghai_date(app.clock.now())
}

struct Market {
    app: TestApp,
    admin: TestUser,
    enterprise: TestUser,
    provider: TestUser,
    program: String,
}

async fn market() -> Market {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let enterprise = app.member("enterprise").await;
    let provider = app.member("service_provider").await;
    let d = today(&app);
    let body = json!({
        "name": "2026年度科技创新券", "year": 2026,
        "total_budget_fen": 100_000_000, "per_enterprise_cap_fen": 50_000_000, "coverage_ratio_bp": 5000,
        "service_categories": ["inspection_testing", "rd_design"], "eligible_scales": ["small", "micro"],
        "valid_days": 90, "applications_open": d.to_string(),
        "applications_close": (d + chrono::Duration::days(30)).to_string(),
        "settle_by": (d + chrono::Duration::days(120)).to_string(),
    });
    let program =
        app.post("/admin/voucher-programs", admin.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    Market { app, admin, enterprise, provider, program }
}

impl Market {
    async fn voucher_code(&self, fen: i64) -> String {
        let body = json!({"requested_fen": fen, "purpose": "委托检测", "service_category": "inspection_testing"});
        let path = format!("/voucher-programs/{}/applications", self.program);
        let a = self.app.post(&path, self.enterprise.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        let path = format!("/admin/voucher-applications/{a}/approve");
        let v = self.app.post(&path, self.admin.t(), &json!({"approved_fen": fen})).await.expect(200);
        v["code"].as_str().unwrap().to_owned()
    }

    /// A redemption of `fee` (half of it reserved), confirmed by the holder when `confirm`.
    async fn redemption(&self, code: &str, fee: i64, confirm: bool) -> String {
        let body =
            json!({"voucher_code": code, "service_fee_fen": fee, "invoice_no": "FP-2026-7", "description": "材料检测"});
        let id = self.app.post("/voucher-redemptions", self.provider.t(), &body).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if confirm {
            self.app
                .post(&format!("/voucher-redemptions/{id}/confirm"), self.enterprise.t(), &json!({}))
                .await
                .expect(200);
        }
        id
    }

    fn batches_path(&self) -> String {
        format!("/admin/voucher-programs/{}/settlement-batches", self.program)
    }

    async fn batch(&self, cut_off: chrono::NaiveDate) -> crate::helpers::TestResponse {
        self.app.post(&self.batches_path(), self.admin.t(), &json!({"cut_off": cut_off.to_string()})).await
    }

    async fn status(&self, id: &str) -> (String, Value) {
        let r = self.app.get(&format!("/voucher-redemptions/{id}"), self.admin.t()).await.expect(200);
        (r["status"].as_str().unwrap().to_owned(), r)
    }

    /// How many `settle` ledger rows a redemption has.
    fn settle_rows(&self, redemption: &str) -> i64 {
        let id = redemption.to_owned();
        self.app.with_conn(|c| {
            use diesel::prelude::*;
            use techtransfer::db::schema::voucher_ledger as l;
            l::table.filter(l::redemption_id.eq(&id)).filter(l::kind.eq("settle")).count().get_result(c).unwrap()
        })
    }

    /// Σ of the batch's settle ledger rows and of its redemptions' amounts.
    fn batch_sums(&self, batch: &str) -> (i64, i64, i64) {
        let batch = batch.to_owned();
        self.app.with_conn(|c| {
            use diesel::prelude::*;
            use techtransfer::db::schema::{voucher_ledger as l, voucher_redemptions as r};
            let rows: Vec<(String, i64)> =
                r::table.filter(r::batch_id.eq(&batch)).select((r::id, r::amount_fen)).load(c).unwrap();
            let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            let ledger: Vec<i64> = l::table
                .filter(l::kind.eq("settle"))
                .filter(l::redemption_id.eq_any(&ids))
                .select(l::amount_fen)
                .load(c)
                .unwrap();
            (ledger.iter().sum(), rows.iter().map(|r| r.1).sum(), rows.len() as i64)
        })
    }
}

fn ids_hash(ids: &[&str]) -> String {
    let mut ids = ids.to_vec();
    ids.sort();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    crate::helpers::hex(&h.finalize())
}

#[tokio::test]
async fn a_batch_settles_exactly_the_confirmed_redemptions_up_to_its_cut_off() {
    let m = market().await;
    let app = &m.app;
    let day0 = today(app);
    let code = m.voucher_code(10_000_000).await;
    let early = m.redemption(&code, 100_000, true).await; // 50,000
    let early2 = m.redemption(&code, 60_000, true).await; // 30,000
    let pending = m.redemption(&code, 20_000, false).await;
    let rejected = m.redemption(&code, 20_000, true).await;
    app.post(&format!("/admin/voucher-redemptions/{rejected}/reject"), m.admin.t(), &json!({"reason": "发票不符"}))
        .await
        .expect(200);
    app.clock.advance(chrono::Duration::days(2));
    let later = m.redemption(&code, 40_000, true).await; // 20,000, confirmed on day 2

    // Cut-off rules: not after today, not before the program's settlement period.
    let p = m.batch(today(app) + chrono::Duration::days(1)).await.problem(422, "validation_failed");
    assert!(p["errors"]["cut_off"].is_array(), "{p}");
    m.batch(day0 - chrono::Duration::days(1)).await.problem(422, "validation_failed");

    let b = m.batch(day0).await.expect(201);
    assert_eq!((b["count"].as_i64(), b["total_fen"].as_i64()), (Some(2), Some(80_000)));
    assert_eq!(b["cut_off"], day0.to_string());
    assert_eq!(b["created_by"], m.admin.id.as_str());
    assert_eq!(b["redemption_ids_sha256"], ids_hash(&[&early, &early2]));
    let batch_id = b["id"].as_str().unwrap().to_owned();
    for id in [&early, &early2] {
        assert_eq!(m.status(id).await.0, "settled");
        assert_eq!(m.settle_rows(id), 1);
    }
    assert_eq!(m.status(&pending).await.0, "pending_confirmation");
    assert_eq!(m.status(&rejected).await.0, "rejected");
    assert_eq!(m.status(&later).await.0, "confirmed", "confirmed after the cut-off day");
    assert_eq!(m.batch_sums(&batch_id), (80_000, 80_000, 2), "ledger = batch total = Σ amounts");
    // A settled redemption cannot be settled again, singly or by a batch.
    app.post(&format!("/admin/voucher-redemptions/{early}/settle"), m.admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    let b2 = m.batch(today(app)).await.expect(201);
    assert_eq!((b2["count"].as_i64(), b2["total_fen"].as_i64()), (Some(1), Some(20_000)));
    assert_eq!(b2["redemption_ids_sha256"], ids_hash(&[&later]));
    let empty = m.batch(today(app)).await.problem(409, "nothing_to_settle");
    assert!(empty["detail"].as_str().unwrap().contains(&today(app).to_string()), "{empty}");

    // Balances: exactly as single settles.
    let s = app.get(&format!("/admin/voucher-programs/{}/summary", m.program), m.admin.t()).await.expect(200);
    assert_eq!(s["settled_fen"], 100_000);
    let prog = app.get(&format!("/voucher-programs/{}", m.program), None).await.expect(200);
    assert_eq!(prog["settled_fen"], 100_000);

    // One audit entry per batch, none per redemption.
    let program = m.program.clone();
    let (batch_audits, settle_audits) = app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::audit_log as a;
        let batches: Vec<Option<String>> = a::table
            .filter(a::action.eq("voucher_settlement_batch.create"))
            .order(a::at)
            .select(a::detail)
            .load(c)
            .unwrap();
        let settles: i64 = a::table.filter(a::action.eq("voucher_redemption.settle")).count().get_result(c).unwrap();
        (batches, settles)
    });
    assert_eq!(settle_audits, 0);
    assert_eq!(batch_audits.len(), 2);
    let detail: Value = serde_json::from_str(batch_audits[0].as_deref().unwrap()).unwrap();
    assert_eq!(detail["count"], 2);
    assert_eq!(detail["total_fen"], 80_000);
    assert_eq!(detail["program_id"], program.as_str());
    assert_eq!(detail["redemption_ids_sha256"], ids_hash(&[&early, &early2]));

    let listed = app.get(&m.batches_path(), m.admin.t()).await.expect(200);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["items"][0]["id"], b2["id"], "newest first");
    assert_eq!(listed["items"][1]["count"], 2);
}

#[tokio::test]
async fn statements_agree_with_the_batch_and_the_csv_has_a_bom() {
    let m = market().await;
    let app = &m.app;
    let code = m.voucher_code(10_000_000).await;
    let mut ids = Vec::new();
    for fee in [100_000, 30_000, 7_000] {
        ids.push(m.redemption(&code, fee, true).await);
    }
    // A second provider.
    let other = app.member("service_provider").await;
    let body =
        json!({"voucher_code": code, "service_fee_fen": 10_000, "invoice_no": "=HYPERLINK(1)", "description": "设计"});
    let r = app.post("/voucher-redemptions", other.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/voucher-redemptions/{r}/confirm"), m.enterprise.t(), &json!({})).await.expect(200);
    let b = m.batch(today(app)).await.expect(201);
    let id = b["id"].as_str().unwrap();
    assert_eq!((b["count"].as_i64(), b["total_fen"].as_i64()), (Some(4), Some(73_500)));

    let st = app.get(&format!("/admin/settlement-batches/{id}/statement"), m.admin.t()).await.expect(200);
    let providers = st["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2);
    let sum = |key: &str| providers.iter().map(|p| p[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("count"), sum("amount_fen"), sum("service_fee_fen")), (4, 73_500, 147_000));
    let mine = providers.iter().find(|p| p["org_id"] == m.provider.org()).unwrap();
    assert_eq!((mine["count"].as_i64(), mine["amount_fen"].as_i64()), (Some(3), Some(68_500)));
    assert!(!mine["name"].as_str().unwrap().is_empty());
    let lines = st["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.iter().map(|l| l["amount_fen"].as_i64().unwrap()).sum::<i64>(), 73_500);
    assert!(lines.iter().all(|l| l["voucher_code"] == code.as_str() && l["confirmed_at"].is_string()));
    assert!(lines.iter().all(|l| l["enterprise_id"] == m.enterprise.org()));
    assert_eq!(st["batch"]["total_fen"], 73_500);

    let csv = app.get(&format!("/admin/settlement-batches/{id}/statement.csv"), m.admin.t()).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.text.starts_with('\u{feff}'), "BOM first");
    let mut reader = csv::Reader::from_reader(csv.text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let amount = headers.iter().position(|h| h.ends_with("(amount_fen)")).unwrap();
    let invoice = headers.iter().position(|h| h.ends_with("(invoice_no)")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().map(|r| r[amount].parse::<i64>().unwrap()).sum::<i64>(), 73_500);
    assert!(rows.iter().any(|r| &r[invoice] == "'=HYPERLINK(1)"), "formulas defused");

    app.get("/admin/settlement-batches/nope/statement", m.admin.t()).await.problem(404, "not_found");
    app.get("/admin/settlement-batches/nope/statement.csv", m.admin.t()).await.problem(404, "not_found");
}

#[tokio::test]
async fn only_admins_close_and_read_batches() {
    let m = market().await;
    let app = &m.app;
    let code = m.voucher_code(1_000_000).await;
    m.redemption(&code, 10_000, true).await;
    let body = json!({"cut_off": today(app).to_string()});
    for who in [&m.enterprise, &m.provider] {
        app.post(&m.batches_path(), who.t(), &body).await.problem(403, "forbidden");
        app.get(&m.batches_path(), who.t()).await.problem(403, "forbidden");
    }
    app.post(&m.batches_path(), None, &body).await.problem(401, "unauthorized");
    let id = m.batch(today(app)).await.expect(201)["id"].as_str().unwrap().to_owned();
    for who in [&m.enterprise, &m.provider] {
        app.get(&format!("/admin/settlement-batches/{id}/statement"), who.t()).await.problem(403, "forbidden");
        app.get(&format!("/admin/settlement-batches/{id}/statement.csv"), who.t()).await.problem(403, "forbidden");
    }
    app.post("/admin/voucher-programs/nope/settlement-batches", m.admin.t(), &body).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_replayed_batch_request_returns_the_same_batch() {
    let m = market().await;
    let app = &m.app;
    let code = m.voucher_code(1_000_000).await;
    m.redemption(&code, 10_000, true).await;
    let send = |cut_off: chrono::NaiveDate| {
        let req = app
            .client
            .post(app.url(&m.batches_path()))
            .bearer_auth(&m.admin.token)
            .header("Idempotency-Key", "batch-2026-12")
            .json(&json!({"cut_off": cut_off.to_string()}));
        app.raw(req)
    };
    let first = send(today(app)).await.expect(201);
    let again = send(today(app)).await;
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.expect(201)["id"], first["id"]);
    app.clock.advance(chrono::Duration::days(1));
    send(today(app)).await.problem(409, "idempotency_key_reused");
    assert_eq!(app.get(&m.batches_path(), m.admin.t()).await.expect(200)["total"], 1);
}

#[tokio::test]
async fn concurrent_batches_and_single_settles_settle_each_redemption_once() {
    let m = market().await;
    let app = &m.app;
    let code = m.voucher_code(10_000_000).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(m.redemption(&code, 10_000 + i * 100, true).await);
    }
    let body = json!({"cut_off": today(app).to_string()});
    let path = m.batches_path();
    let empty = json!({});
    let settle_paths: Vec<String> = ids.iter().map(|id| format!("/admin/voucher-redemptions/{id}/settle")).collect();
    let batches = (0..3).map(|_| app.post(&path, m.admin.t(), &body));
    let singles = settle_paths.iter().map(|p| app.post(p, m.admin.t(), &empty));
    let (batches, singles) = futures_util::join!(join_all(batches), join_all(singles));
    let mut in_batches = 0;
    for b in &batches {
        match b.status {
            201 => in_batches += b.json()["count"].as_i64().unwrap(),
            409 => {
                assert!(["nothing_to_settle", "conflict"].contains(&b.json()["code"].as_str().unwrap()), "{}", b.text)
            }
            s => panic!("batch answered {s}: {}", b.text),
        }
    }
    let mut single = 0;
    for s in &singles {
        match s.status {
            200 => single += 1,
            409 => {}
            other => panic!("single settle answered {other}: {}", s.text),
        }
    }
    assert_eq!(in_batches + single, 12, "every redemption settled exactly once");
    for id in &ids {
        assert_eq!(m.status(id).await.0, "settled");
        assert_eq!(m.settle_rows(id), 1, "one settle ledger row for {id}");
    }
    let listed = app.get(&m.batches_path(), m.admin.t()).await.expect(200);
    for b in listed["items"].as_array().unwrap() {
        let (ledger, amounts, count) = m.batch_sums(b["id"].as_str().unwrap());
        assert_eq!(
            (ledger, amounts, count),
            (b["total_fen"].as_i64().unwrap(), b["total_fen"].as_i64().unwrap(), b["count"].as_i64().unwrap())
        );
    }
    let s = app.get(&format!("/admin/voucher-programs/{}/summary", m.program), m.admin.t()).await.expect(200);
    assert_eq!(s["reserved_fen"], 0);
}

#[tokio::test]
async fn the_demo_shows_a_closed_batch_and_a_redemption_waiting_for_the_next() {
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0)).expect("seed the demo");
    let admin = app.login(techtransfer::demo::ADMIN_EMAIL, techtransfer::demo::ADMIN_PASSWORD).await.expect(200);
    let token = admin["access_token"].as_str();
    let programs = app.get("/voucher-programs", None).await.expect(200);
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/admin/voucher-programs/{program}/settlement-batches");
    let batches = app.get(&path, token).await.expect(200);
    assert_eq!(batches["total"], 1);
    assert_eq!(batches["items"][0]["count"], 1);
    let id = batches["items"][0]["id"].as_str().unwrap();
    let st = app.get(&format!("/admin/settlement-batches/{id}/statement"), token).await.expect(200);
    assert_eq!(st["providers"].as_array().unwrap().len(), 1);
    let waiting = app.get("/voucher-redemptions?status=confirmed", token).await.expect(200);
    assert_eq!(waiting["total"], 1);
}
