//! 技术合同: lifecycle and permissions, transfer marking, registration numbers under
//! concurrency, payments, commercialization, income distribution, stats and CSV export.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, achievement_body, spawn_app};

pub fn contract_body(kind: &str, seller: &TestUser, buyer: &TestUser, amount: i64) -> Value {
    json!({
        "kind": kind, "title": "固态电解质技术转让合同",
        "seller_org_id": seller.org(), "buyer_org_id": buyer.org(),
        "amount_fen": amount,
        "payment_plan": [{"due_date": "2027-01-31", "amount_fen": amount / 2}, {"due_date": "2027-06-30", "amount_fen": amount - amount / 2}],
    })
}

async fn signed(app: &TestApp, seller: &TestUser, buyer: &TestUser, body: &Value) -> String {
    let id = app.post("/contracts", seller.t(), body).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/contracts/{id}/sign"), seller.t(), &json!({})).await.expect(200);
    let done = app.post(&format!("/contracts/{id}/sign"), buyer.t(), &json!({})).await.expect(200);
    assert_eq!(done["status"], "signed");
    id
}

#[tokio::test]
async fn transfer_contract_lifecycle() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let achievement = app
        .publish(&university, &admin, "achievement", &achievement_body("硫化物固态电解质", "高离子电导率固态电解质。"))
        .await;
    let conn = app
        .post("/connections", enterprise.t(), &json!({"achievement_id": achievement, "message": "希望受让"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/connections/{conn}/accept"), university.t(), &json!({})).await.expect(200);

    let mut body = contract_body("transfer", &university, &enterprise, 1_000_000);
    body["achievement_id"] = json!(achievement);
    body["connection_id"] = json!(conn);
    let mut bad_plan = body.clone();
    bad_plan["payment_plan"] = json!([{"due_date": "2027-01-31", "amount_fen": 10}]);
    assert!(app.post("/contracts", enterprise.t(), &bad_plan).await.problem(422, "validation_failed")["errors"]["payment_plan"].is_array());
    let outsider = app.member("institute").await;
    app.post("/contracts", outsider.t(), &body).await.problem(403, "forbidden");
    let mut wrong_link = body.clone();
    wrong_link["achievement_id"] = json!(crate::helpers::credit_code(1).len().to_string()); // not a uuid
    app.post("/contracts", enterprise.t(), &wrong_link).await.problem(422, "validation_failed");

    let created = app.post("/contracts", enterprise.t(), &body).await.expect(201);
    assert_eq!(created["status"], "draft");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/connections/{conn}"), enterprise.t()).await.expect(200)["status"], "contracted");
    app.get(&format!("/contracts/{id}"), outsider.t()).await.problem(404, "not_found");
    app.get(&format!("/contracts/{id}"), admin.t()).await.expect(200);

    // Each party signs once; both signatures make it signed and transfer the achievement.
    app.post(&format!("/contracts/{id}/sign"), outsider.t(), &json!({})).await.problem(404, "not_found");
    app.post(&format!("/contracts/{id}/sign"), enterprise.t(), &json!({})).await.expect(200);
    app.post(&format!("/contracts/{id}/sign"), enterprise.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    let signed = app.post(&format!("/contracts/{id}/sign"), university.t(), &json!({})).await.expect(200);
    assert_eq!(signed["status"], "signed");
    assert_eq!(
        app.get(&format!("/achievements/{achievement}"), university.t()).await.expect(200)["status"],
        "transferred"
    );
    app.get(&format!("/achievements/{achievement}"), None).await.problem(404, "not_found");
    assert_eq!(app.get("/achievements?q=固态电解质", None).await.expect(200)["total"], 0);

    // Registration by an admin, with a recognised amount no larger than the contract.
    let register = format!("/admin/contracts/{id}/register");
    app.post(&register, university.t(), &json!({})).await.problem(403, "forbidden");
    app.post(&register, admin.t(), &json!({"registered_amount_fen": 1_000_001}))
        .await
        .problem(422, "validation_failed");
    let registered = app.post(&register, admin.t(), &json!({"registered_amount_fen": 900_000})).await.expect(200);
    assert_eq!(registered["status"], "registered");
    let number = registered["registration_no"].as_str().unwrap();
    assert!(number.len() == 11 && number.as_bytes()[4] == b'-', "{number}");
    assert_eq!(registered["registered_amount_fen"], 900_000);
    app.post(&register, admin.t(), &json!({})).await.problem(409, "invalid_state_transition");

    // Payments by the seller, never beyond the amount.
    let pay = format!("/contracts/{id}/payments");
    let payment = json!({"amount_fen": 600_000, "paid_at": "2027-01-30T08:00:00Z", "reference": "银行回单 001"});
    app.post(&pay, enterprise.t(), &payment).await.problem(403, "forbidden");
    let performing = app.post(&pay, university.t(), &payment).await.expect(200);
    assert_eq!(performing["status"], "performing");
    assert_eq!(performing["paid_fen"], 600_000);
    let over = app.post(&pay, university.t(), &payment).await.problem(422, "validation_failed");
    assert!(over["errors"]["amount_fen"].is_array());
    app.post(
        &pay,
        university.t(),
        &json!({"amount_fen": 400_000, "paid_at": "2027-06-29T08:00:00Z", "reference": "002"}),
    )
    .await
    .expect(200);

    // Commercialization moves forward only.
    let report = format!("/contracts/{id}/commercialization");
    app.post(
        &report,
        enterprise.t(),
        &json!({"stage": "pilot", "note": "中试线建成", "reported_at": "2027-03-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    app.post(
        &report,
        university.t(),
        &json!({"stage": "lab", "note": "回到实验室", "reported_at": "2027-03-02T00:00:00Z"}),
    )
    .await
    .problem(422, "validation_failed");
    let market = app
        .post(&report, enterprise.t(), &json!({"stage": "on_market", "note": "产品上市", "revenue_fen": 5_000_000, "reported_at": "2027-09-01T00:00:00Z"}))
        .await
        .expect(200);
    assert_eq!(market["timeline"].as_array().unwrap().len(), 2);

    // Income split: the seller (a university) gives inventors at least 50%.
    let split = format!("/contracts/{id}/revenue-distribution");
    let beneficiaries = json!([{"name": "张教授", "share_bp": 6000}, {"name": "李博士", "share_bp": 4000}]);
    app.post(
        &split,
        enterprise.t(),
        &json!({"net_income_fen": 1_000_000, "inventor_share_bp": 7000, "beneficiaries": beneficiaries}),
    )
    .await
    .problem(403, "forbidden");
    let low = app
        .post(
            &split,
            university.t(),
            &json!({"net_income_fen": 1_000_000, "inventor_share_bp": 4999, "beneficiaries": beneficiaries}),
        )
        .await
        .problem(422, "inventor_share_too_low");
    assert!(low["errors"]["inventor_share_bp"].is_array());
    app.post(&split, university.t(), &json!({"net_income_fen": 1_000_000, "inventor_share_bp": 7000, "beneficiaries": [{"name": "张", "share_bp": 5000}]}))
        .await
        .problem(422, "validation_failed");
    let split_done = app
        .post(
            &split,
            university.t(),
            &json!({"net_income_fen": 1_000_001, "inventor_share_bp": 7000, "beneficiaries": beneficiaries}),
        )
        .await
        .expect(200);
    let d = &split_done["distribution"];
    assert_eq!(d["inventor_pool_fen"], 700_000);
    let parts: i64 = d["beneficiaries"].as_array().unwrap().iter().map(|b| b["amount_fen"].as_i64().unwrap()).sum();
    assert_eq!(parts, 700_000);

    let completed = app.post(&format!("/contracts/{id}/complete"), enterprise.t(), &json!({})).await.expect(200);
    assert_eq!(completed["status"], "completed");
    app.post(&format!("/contracts/{id}/terminate"), university.t(), &json!({"reason": "x"}))
        .await
        .problem(409, "invalid_state_transition");
    let full = app.get(&format!("/contracts/{id}"), university.t()).await.expect(200);
    assert_eq!(full["payments"].as_array().unwrap().len(), 2);
    assert_eq!(full["payment_plan"].as_array().unwrap().len(), 2);
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", university.t()).await.expect(200);
    let kinds: Vec<&str> = notes["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    for kind in ["contract_awaiting_signature", "contract_signed", "contract_registered"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn service_contracts_need_no_inventor_minimum_and_terminate() {
    let app = spawn_app().await;
    let institute = app.member("institute").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let id = signed(&app, &institute, &enterprise, &contract_body("service", &institute, &enterprise, 200_000)).await;
    app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
    let split = app
        .post(
            &format!("/contracts/{id}/revenue-distribution"),
            institute.t(),
            &json!({"net_income_fen": 100_000, "inventor_share_bp": 1000, "beneficiaries": [{"name": "王", "share_bp": 10000}]}),
        )
        .await
        .expect(200);
    assert_eq!(split["distribution"]["inventor_pool_fen"], 10_000);
    let terminated = app
        .post(&format!("/contracts/{id}/terminate"), enterprise.t(), &json!({"reason": "项目取消"}))
        .await
        .expect(200);
    assert_eq!(terminated["status"], "terminated");
    assert_eq!(terminated["terminate_reason"], "项目取消");
    // Draft contracts can be terminated too, but not completed.
    let draft = app
        .post("/contracts", enterprise.t(), &contract_body("consulting", &institute, &enterprise, 10_000))
        .await
        .expect(201);
    let draft_id = draft["id"].as_str().unwrap();
    app.post(&format!("/contracts/{draft_id}/complete"), enterprise.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(
        &format!("/contracts/{draft_id}/payments"),
        institute.t(),
        &json!({"amount_fen": 1, "paid_at": "2027-01-01T00:00:00Z", "reference": "x"}),
    )
    .await
    .problem(409, "invalid_state_transition");
    let listed = app.get("/contracts?status=terminated", enterprise.t()).await.expect(200);
    assert_eq!(listed["total"], 1);
}

#[tokio::test]
async fn registration_numbers_are_unique_and_sequential_under_concurrency() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(signed(&app, &seller, &buyer, &contract_body("license", &seller, &buyer, 10_000)).await);
    }
    let paths: Vec<String> = ids.iter().map(|id| format!("/admin/contracts/{id}/register")).collect();
    let empty = json!({});
    let results = join_all(paths.iter().map(|p| app.post(p, admin.t(), &empty))).await;
    let mut numbers: Vec<String> =
        results.iter().map(|r| r.expect(200)["registration_no"].as_str().unwrap().to_owned()).collect();
    numbers.sort();
    let year = &numbers[0][..4];
    let expected: Vec<String> = (1..=8).map(|n| format!("{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn contract_from_a_challenge_links_the_winning_bid_and_vetoes_bar_new_contracts() {
    let app = spawn_app().await;
    let issuer = app.member("enterprise").await;
    let team = app.member("institute").await;
    let admin = app.admin().await;
    let directed = json!({
        "title": "定向研发", "description": "定向委托研发任务", "field": "new_materials",
        "indicators": [{"name": "指标", "target": "达标"}], "reward_fen": 100, "mode": "directed",
        "directed_org_id": team.org(), "max_winners": 1,
        "bid_deadline": (app.clock.now() + chrono::Duration::days(10)).to_rfc3339(), "eligible_kinds": ["institute"],
        "milestones": [{"title": "交付", "due_date": "2027-12-31", "payment_fen": 100}],
    });
    let cid = app.post("/challenges", issuer.t(), &directed).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{cid}/submit"), issuer.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{cid}/approve"), admin.t(), &json!({})).await.expect(200);
    let bid = app
        .post(
            &format!("/challenges/{cid}/bids"),
            team.t(),
            &json!({"proposal": "p", "budget_fen": 100, "plan": "p", "team": [{"name": "a", "title": "b"}]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = contract_body("development", &team, &issuer, 100);
    body["challenge_id"] = json!(cid);
    app.post("/contracts", issuer.t(), &body).await.problem(422, "validation_failed"); // not awarded yet
    app.post(&format!("/challenges/{cid}/award"), issuer.t(), &json!({"bid_ids": [bid]})).await.expect(200);
    let created = app.post("/contracts", issuer.t(), &body).await.expect(201);
    assert_eq!(created["bid_id"], bid.as_str());

    app.post(
        "/admin/integrity-records",
        admin.t(),
        &json!({"org_id": team.org(), "severity": "veto", "reason": "学术不端"}),
    )
    .await
    .expect(201);
    app.post("/contracts", team.t(), &body).await.problem(403, "integrity_veto");
}

#[tokio::test]
async fn stats_and_csv_export() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    app.publish(&seller, &admin, "achievement", &achievement_body("成果一", "简介一")).await;
    let id = signed(&app, &seller, &buyer, &contract_body("license", &seller, &buyer, 300_000)).await;
    app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
    let mut tricky = contract_body("consulting", &seller, &buyer, 1_000);
    tricky["title"] = json!("咨询, 含\"引号\"的合同");
    app.post("/contracts", buyer.t(), &tricky).await.expect(201);

    app.get("/admin/stats", seller.t()).await.problem(403, "forbidden");
    let stats = app.get("/admin/stats", admin.t()).await.expect(200);
    assert_eq!(stats["contracts"]["by_status"]["registered"], 1);
    assert_eq!(stats["contracts"]["by_status"]["draft"], 1);
    let by_kind = stats["contracts"]["value_by_kind"].as_array().unwrap();
    assert_eq!(by_kind.len(), 1);
    assert_eq!((by_kind[0]["key"].as_str(), by_kind[0]["amount_fen"].as_i64()), (Some("license"), Some(300_000)));
    assert_eq!(stats["contracts"]["value_by_region"][0]["key"], "江苏省");
    assert!(stats["contracts"]["value_by_quarter"][0]["key"].as_str().unwrap().contains("-Q"));
    assert_eq!(stats["achievements"]["by_status"]["published"], 1);
    let funnel = stats["funnel"].as_array().unwrap();
    assert_eq!(funnel[0]["stage"], "published_listings");
    assert_eq!(funnel[0]["count"], 1);
    assert!(funnel[0]["conversion_from_previous"].is_null());
    assert_eq!(funnel[5]["stage"], "contracts_registered");
    assert_eq!(funnel[5]["count"], 1);

    app.get("/admin/exports/contracts.csv", seller.t()).await.problem(403, "forbidden");
    let csv = app.get("/admin/exports/contracts.csv", admin.t()).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.text.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    let lines: Vec<&str> = csv.text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "header + one row per contract");
    for column in ["id", "title", "kind", "status", "seller", "buyer", "amount_fen", "registration_no", "合同名称"]
    {
        assert!(lines[0].contains(column), "{column} in {}", lines[0]);
    }
    assert!(csv.text.contains("\"咨询, 含\"\"引号\"\"的合同\""), "quoted cell: {}", csv.text);
}

async fn keyed(app: &TestApp, path: &str, who: &TestUser, key: &str, body: &Value) -> crate::helpers::TestResponse {
    let req = app.client.post(app.url(path)).bearer_auth(&who.token).header("Idempotency-Key", key).json(body);
    app.raw(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_payments_with_one_idempotency_key_record_one_payment() {
    let app = spawn_app().await;
    let institute = app.member("institute").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let id = signed(&app, &institute, &enterprise, &contract_body("service", &institute, &enterprise, 200_000)).await;
    app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
    let pay = format!("/contracts/{id}/payments");
    let payment = json!({"amount_fen": 1_000, "paid_at": "2027-01-30T08:00:00Z", "reference": "回单 7"});

    // The same key twice: one payment, the same answer, marked as a replay.
    let first = keyed(&app, &pay, &institute, "pay-1", &payment).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = keyed(&app, &pay, &institute, "pay-1", &payment).await;
    assert_eq!((again.status, &again.text), (200, &first.text));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // Five at once with a new key: still one payment.
    let racing = join_all((0..5).map(|_| keyed(&app, &pay, &institute, "pay-2", &payment))).await;
    assert!(racing.iter().all(|r| r.status == 200), "{:?}", racing.iter().map(|r| r.status).collect::<Vec<_>>());
    let contract = app.get(&format!("/contracts/{id}"), institute.t()).await.expect(200);
    assert_eq!(contract["payments"].as_array().unwrap().len(), 2);
    assert_eq!(contract["paid_fen"], 2_000);
    // The same key with another body is refused and changes nothing.
    let mut other = payment.clone();
    other["amount_fen"] = json!(5);
    keyed(&app, &pay, &institute, "pay-1", &other).await.problem(409, "idempotency_key_reused");
    // A key is scoped by path: the same key on another endpoint is a new request.
    let report = json!({"stage": "pilot", "note": "中试", "revenue_fen": 0, "reported_at": "2027-02-01T00:00:00Z"});
    let path = format!("/contracts/{id}/commercialization");
    assert_eq!(keyed(&app, &path, &institute, "pay-1", &report).await.status, 200);
    assert_eq!(keyed(&app, &path, &institute, "pay-1", &report).await.headers["idempotent-replayed"], "true");
    let contract = app.get(&format!("/contracts/{id}"), institute.t()).await.expect(200);
    assert_eq!(contract["paid_fen"], 2_000);
    // Without a key every request is its own.
    assert_eq!(app.post(&pay, institute.t(), &payment).await.status, 200);
    assert_eq!(app.post(&pay, institute.t(), &payment).await.status, 200);
    let contract = app.get(&format!("/contracts/{id}"), institute.t()).await.expect(200);
    assert_eq!(contract["paid_fen"], 4_000);
}

#[tokio::test]
async fn amounts_above_the_ceiling_are_refused_and_sums_never_overflow() {
    let app = spawn_app().await;
    let institute = app.member("institute").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    // 10^15 fen is the largest amount any field accepts.
    let too_big = contract_body("service", &institute, &enterprise, 1_000_000_000_000_001);
    let refused = app.post("/contracts", institute.t(), &too_big).await.problem(422, "validation_failed");
    assert!(refused["errors"]["amount_fen"].is_array(), "{refused}");
    let huge = app.post("/contracts", institute.t(), &json!(i64::MAX)).await;
    assert!(huge.status >= 400 && huge.status < 500);
    let max = 1_000_000_000_000_000_i64;
    // Two contracts at the ceiling: the statistics add them without overflowing.
    for _ in 0..2 {
        let id = signed(&app, &institute, &enterprise, &contract_body("service", &institute, &enterprise, max)).await;
        app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
        let pay = format!("/contracts/{id}/payments");
        let payment = |amount: i64| json!({"amount_fen": amount, "paid_at": "2027-01-30T08:00:00Z", "reference": "x"});
        app.post(&pay, institute.t(), &payment(1)).await.expect(200);
        app.post(&pay, institute.t(), &payment(i64::MAX)).await.problem(422, "validation_failed");
        app.post(&pay, institute.t(), &payment(max)).await.problem(422, "validation_failed");
        app.post(&pay, institute.t(), &payment(max - 1)).await.expect(200);
    }
    let stats = app.get("/admin/stats", admin.t()).await.expect(200);
    assert!(stats.to_string().contains("2000000000000000"), "{stats}");
}
