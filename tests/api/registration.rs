//! 技术合同认定登记 as a workflow: filing with the signed contract, the supplement loop, review,
//! approval (the contract becomes registered), refusal and re-filing, amendment, cancellation
//! (the contract is signed again), registrar scoping by region, the overdue job, the one-step
//! administrator path, concurrent filings and the admin stats.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::contracts::contract_body;
use crate::files::pdf;
use crate::helpers::{TestApp, TestUser, spawn_app, spawn_app_with};

/// A member of a verified government organization of `region`.
async fn government(app: &TestApp, region: &str) -> TestUser {
    let mut user = app.user().await;
    let mut body = TestApp::org_body("government");
    body["region"] = json!(region);
    let org = app.post("/organizations", user.t(), &body).await.expect(201);
    user.org_id = Some(org["id"].as_str().unwrap().to_owned());
    let admin = app.admin().await;
    app.post(&format!("/admin/organizations/{}/verify", user.org()), admin.t(), &json!({})).await.expect(200);
    user
}

/// A member of a government organization designated as the registration office of `region`.
async fn registrar(app: &TestApp, region: &str) -> TestUser {
    let user = government(app, region).await;
    let admin = app.admin().await;
    app.post("/admin/registration-offices", admin.t(), &json!({"org_id": user.org(), "region": region}))
        .await
        .expect(201);
    user
}

/// A contract both parties signed; the seller's organization is in 江苏省.
async fn signed(app: &TestApp, seller: &TestUser, buyer: &TestUser, amount: i64) -> String {
    let body = contract_body("transfer", seller, buyer, amount);
    let id = app.post("/contracts", seller.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    for party in [seller, buyer] {
        app.post(&format!("/contracts/{id}/sign"), party.t(), &json!({})).await.expect(200);
    }
    id
}

async fn filing(app: &TestApp, seller: &TestUser, amount: i64) -> Value {
    let file = app.file(seller, "signed_contract", &pdf(2_000)).await;
    json!({"declared_amount_fen": amount, "note": "申请认定登记",
           "attachments": [{"file_id": file, "purpose": "signed_contract"}]})
}

async fn file(app: &TestApp, seller: &TestUser, contract: &str, amount: i64) -> Value {
    let body = filing(app, seller, amount).await;
    app.post(&format!("/contracts/{contract}/registration"), seller.t(), &body).await.expect(201)
}

fn path(contract: &str, action: &str) -> String {
    format!("/contracts/{contract}/registration/{action}")
}

fn actions(registration: &Value) -> Vec<String> {
    registration["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap().to_owned()).collect()
}

async fn kinds_of_notices(app: &TestApp, user: &TestUser) -> Vec<String> {
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", user.t()).await.expect(200);
    notes["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

async fn overdue(app: &TestApp, user: &TestUser) -> usize {
    kinds_of_notices(app, user).await.iter().filter(|k| *k == "registration_overdue").count()
}

#[tokio::test]
async fn filing_supplement_loop_and_approval() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let office = registrar(&app, "江苏省").await;
    let outsider = app.member("institute").await;
    let id = signed(&app, &seller, &buyer, 1_000_000).await;
    let filings = format!("/contracts/{id}/registration");

    app.get(&filings, seller.t()).await.problem(404, "not_found");
    // Only the seller files, with the signed contract and an amount within the contract's.
    let body = filing(&app, &seller, 900_000).await;
    app.post(&filings, buyer.t(), &body).await.problem(403, "forbidden");
    app.post(&filings, outsider.t(), &body).await.problem(404, "not_found");
    let mut over = body.clone();
    over["declared_amount_fen"] = json!(1_000_001);
    let refused = app.post(&filings, seller.t(), &over).await.problem(422, "validation_failed");
    assert!(refused["errors"]["declared_amount_fen"].is_array(), "{refused}");
    let other = app.file(&seller, "other", &pdf(100)).await;
    let without = json!({"declared_amount_fen": 900_000, "attachments": [{"file_id": other, "purpose": "other"}]});
    app.post(&filings, seller.t(), &without).await.problem(422, "missing_attachments");
    let draft = app.post("/contracts", seller.t(), &contract_body("license", &seller, &buyer, 5_000)).await.expect(201)
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body_for_draft = filing(&app, &seller, 5_000).await;
    app.post(&format!("/contracts/{draft}/registration"), seller.t(), &body_for_draft)
        .await
        .problem(409, "invalid_state_transition");

    let filed = app.post(&filings, seller.t(), &body).await.expect(201);
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["region"], "江苏省");
    assert_eq!(filed["declared_amount_fen"], 900_000);
    assert_eq!(filed["attachments"][0]["purpose"], "signed_contract");
    let first_due = filed["due_on"].as_str().unwrap().to_owned();
    // Parties, the region's office and administrators see it; others do not.
    for who in [&seller, &buyer, &office] {
        assert_eq!(app.get(&filings, who.t()).await.expect(200)["id"], filed["id"]);
    }
    app.get(&filings, outsider.t()).await.problem(404, "not_found");
    // The office reads the signed contract.
    let file_id = filed["attachments"][0]["file_id"].as_str().unwrap();
    let (download, _) = app.download(file_id, Some(&office), None).await;
    assert_eq!(download.status, 200);
    let (download, _) = app.download(file_id, Some(&outsider), None).await;
    assert_eq!(download.status, 404);

    // The supplement loop: the office asks, the seller answers, the clock restarts.
    let reason = json!({"reason": "请补充技术评价报告"});
    app.post(&path(&id, "request-supplement"), seller.t(), &reason).await.problem(403, "forbidden");
    app.post(&path(&id, "request-supplement"), office.t(), &json!({"reason": " "}))
        .await
        .problem(422, "validation_failed");
    let asked = app.post(&path(&id, "request-supplement"), office.t(), &reason).await.expect(200);
    assert_eq!(asked["status"], "supplement_requested");
    assert_eq!(asked["reason"], "请补充技术评价报告");
    app.post(&path(&id, "accept"), office.t(), &json!({})).await.problem(409, "invalid_state_transition");
    assert!(kinds_of_notices(&app, &seller).await.contains(&"registration_supplement_requested".to_owned()));
    app.clock.advance(chrono::Duration::days(3));
    let evidence = app.file(&seller, "evidence", &pdf(300)).await;
    let answer = json!({"note": "已补充", "attachments": [{"file_id": evidence, "purpose": "evidence"}]});
    let buyer_file = app.file(&buyer, "evidence", &pdf(300)).await;
    let buyer_answer = json!({"attachments": [{"file_id": buyer_file, "purpose": "evidence"}]});
    app.post(&path(&id, "supplement"), buyer.t(), &buyer_answer).await.problem(403, "forbidden");
    app.post(&path(&id, "supplement"), seller.t(), &json!({"attachments": []})).await.problem(422, "validation_failed");
    let refiled = app.post(&path(&id, "supplement"), seller.t(), &answer).await.expect(200);
    assert_eq!(refiled["status"], "filed");
    assert!(refiled["due_on"].as_str().unwrap() > first_due.as_str(), "the clock restarted: {refiled}");
    assert_eq!(refiled["attachments"].as_array().unwrap().len(), 2);
    app.post(&path(&id, "supplement"), seller.t(), &answer).await.problem(409, "invalid_state_transition");

    // Review and approval: the contract is registered like the one-step path does it.
    app.post(&path(&id, "approve"), office.t(), &json!({"registered_amount_fen": 800_000}))
        .await
        .problem(409, "invalid_state_transition");
    assert_eq!(app.post(&path(&id, "accept"), office.t(), &json!({})).await.expect(200)["status"], "under_review");
    app.post(&path(&id, "approve"), buyer.t(), &json!({"registered_amount_fen": 800_000}))
        .await
        .problem(403, "forbidden");
    let approved = app
        .post(
            &path(&id, "approve"),
            office.t(),
            &json!({"registered_amount_fen": 800_000, "registration_no": "2026-000777"}),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["registration_no"], "2026-000777");
    assert_eq!(approved["decided_by"], office.id.as_str());
    assert_eq!(actions(&approved), ["file", "request_supplement", "supplement", "accept", "approve"]);
    let contract = app.get(&format!("/contracts/{id}"), seller.t()).await.expect(200);
    assert_eq!(contract["status"], "registered");
    assert_eq!(contract["registration_no"], "2026-000777");
    assert_eq!(contract["registered_amount_fen"], 800_000);
    // An approved registration blocks another filing.
    let again = filing(&app, &seller, 900_000).await;
    app.post(&filings, seller.t(), &again).await.problem(409, "invalid_state_transition");
    assert!(kinds_of_notices(&app, &buyer).await.contains(&"contract_registered".to_owned()));
    assert!(kinds_of_notices(&app, &office).await.contains(&"registration_filed".to_owned()));
}

#[tokio::test]
async fn registrars_are_scoped_by_region() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    let jiangsu = registrar(&app, "江苏省").await;
    let shanghai = registrar(&app, "上海市").await;
    let undesignated = government(&app, "江苏省").await;
    let id = signed(&app, &seller, &buyer, 500_000).await;
    file(&app, &seller, &id, 500_000).await;

    // Registrars of another region, and government members who are no office, see nothing.
    for who in [&shanghai, &undesignated] {
        app.get(&format!("/contracts/{id}/registration"), who.t()).await.problem(404, "not_found");
        app.post(&path(&id, "accept"), who.t(), &json!({})).await.problem(404, "not_found");
        app.post(&path(&id, "refuse"), who.t(), &json!({"reason": "不符合"})).await.problem(404, "not_found");
    }
    assert_eq!(app.post(&path(&id, "accept"), jiangsu.t(), &json!({})).await.expect(200)["status"], "under_review");
    // Administrators act everywhere.
    let approved =
        app.post(&path(&id, "approve"), admin.t(), &json!({"registered_amount_fen": 500_000})).await.expect(200);
    assert!(approved["registration_no"].as_str().unwrap().ends_with("-000001"), "{approved}");

    // Designating offices: administrators only, verified government organizations, real regions.
    let office = |org: &str, region: &str| json!({"org_id": org, "region": region});
    app.post("/admin/registration-offices", jiangsu.t(), &office(undesignated.org(), "江苏省"))
        .await
        .problem(403, "forbidden");
    let refused = app
        .post("/admin/registration-offices", admin.t(), &office(buyer.org(), "江苏省"))
        .await
        .problem(422, "validation_failed");
    assert!(refused["errors"]["org_id"].is_array(), "{refused}");
    let pending = app.pending_member("government").await;
    app.post("/admin/registration-offices", admin.t(), &office(pending.org(), "江苏省"))
        .await
        .problem(422, "validation_failed");
    let refused = app
        .post("/admin/registration-offices", admin.t(), &office(undesignated.org(), "苏州"))
        .await
        .problem(422, "validation_failed");
    assert!(refused["errors"]["region"].is_array(), "{refused}");
    app.post("/admin/registration-offices", admin.t(), &office(jiangsu.org(), "江苏省")).await.problem(409, "conflict");
}

#[tokio::test]
async fn amounts_and_numbers_are_checked() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let office = registrar(&app, "江苏省").await;
    let admin = app.admin().await;
    let taken = signed(&app, &seller, &buyer, 10_000).await;
    let number = app.post(&format!("/admin/contracts/{taken}/register"), admin.t(), &json!({})).await.expect(200)
        ["registration_no"]
        .as_str()
        .unwrap()
        .to_owned();

    let id = signed(&app, &seller, &buyer, 1_000_000).await;
    file(&app, &seller, &id, 1_000_000).await;
    app.post(&path(&id, "accept"), office.t(), &json!({})).await.expect(200);
    let approve = |body: Value| {
        let (app, office, id) = (&app, &office, &id);
        async move { app.post(&path(id, "approve"), office.t(), &body).await }
    };
    let over = approve(json!({"registered_amount_fen": 1_000_001})).await.problem(422, "validation_failed");
    assert!(over["errors"]["registered_amount_fen"].is_array(), "{over}");
    approve(json!({"registered_amount_fen": 0})).await.problem(422, "validation_failed");
    for bad in ["2026-12", "REG-000001", "2999-000001", "2026-000000"] {
        let refused = approve(json!({"registered_amount_fen": 10, "registration_no": bad}))
            .await
            .problem(422, "validation_failed");
        assert!(refused["errors"]["registration_no"].is_array(), "{bad}: {refused}");
    }
    approve(json!({"registered_amount_fen": 10, "registration_no": number})).await.problem(409, "conflict");
    let approved = approve(json!({"registered_amount_fen": 1_000_000})).await.expect(200);
    assert_ne!(approved["registration_no"], json!(number));

    // Amendments obey the same rules and keep what was before.
    let amend = path(&id, "amend");
    app.post(&amend, office.t(), &json!({"reason": "更正"})).await.problem(422, "validation_failed");
    app.post(&amend, office.t(), &json!({"registered_amount_fen": 1_000_001, "reason": "更正"}))
        .await
        .problem(422, "validation_failed");
    app.post(&amend, office.t(), &json!({"registration_no": number, "reason": "更正"})).await.problem(409, "conflict");
    app.post(&amend, seller.t(), &json!({"registered_amount_fen": 1, "reason": "更正"}))
        .await
        .problem(403, "forbidden");
    let amended = app
        .post(
            &amend,
            office.t(),
            &json!({"registered_amount_fen": 950_000, "registration_no": "2026-009999", "reason": "按附件更正"}),
        )
        .await
        .expect(200);
    assert_eq!(amended["status"], "approved");
    assert_eq!(amended["registered_amount_fen"], 950_000);
    let step = amended["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(step["action"], "amend");
    assert_eq!(step["note"], "按附件更正");
    assert_eq!(step["detail"]["before"]["registration_no"], approved["registration_no"]);
    assert_eq!(step["detail"]["after"]["registered_amount_fen"], 950_000);
    let contract = app.get(&format!("/contracts/{id}"), buyer.t()).await.expect(200);
    assert_eq!(
        (contract["registration_no"].as_str(), contract["registered_amount_fen"].as_i64()),
        (Some("2026-009999"), Some(950_000))
    );
}

#[tokio::test]
async fn refusal_then_filing_again() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let office = registrar(&app, "江苏省").await;
    let id = signed(&app, &seller, &buyer, 300_000).await;
    let first = file(&app, &seller, &id, 300_000).await;
    // A second filing while one is open is a conflict.
    let body = filing(&app, &seller, 300_000).await;
    app.post(&format!("/contracts/{id}/registration"), seller.t(), &body).await.problem(409, "conflict");

    let refused = app.post(&path(&id, "refuse"), office.t(), &json!({"reason": "非技术合同"})).await.expect(200);
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["reason"], "非技术合同");
    app.post(&path(&id, "accept"), office.t(), &json!({})).await.problem(409, "invalid_state_transition");
    assert_eq!(app.get(&format!("/contracts/{id}"), seller.t()).await.expect(200)["status"], "signed");
    assert!(kinds_of_notices(&app, &seller).await.contains(&"registration_refused".to_owned()));

    let second = app.post(&format!("/contracts/{id}/registration"), seller.t(), &body).await.expect(201);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["status"], "filed");
    assert_eq!(actions(&second), ["file"]);
    let current = app.get(&format!("/contracts/{id}/registration"), buyer.t()).await.expect(200);
    assert_eq!(current["id"], second["id"]);
    // Refused from review too.
    app.post(&path(&id, "accept"), office.t(), &json!({})).await.expect(200);
    assert_eq!(
        app.post(&path(&id, "refuse"), office.t(), &json!({"reason": "材料不实"})).await.expect(200)["status"],
        "refused"
    );

    let admin = app.admin().await;
    let stats = app.get("/admin/stats", admin.t()).await.expect(200);
    assert_eq!(stats["registrations"]["filed"], 2);
    assert_eq!(stats["registrations"]["refused"], 2);
    assert_eq!(stats["registrations"]["approved"], 0);
}

#[tokio::test]
async fn cancelling_moves_the_contract_back_to_signed_and_payments_stay() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let office = registrar(&app, "江苏省").await;
    let approve = |id: String| {
        let (app, seller, office) = (&app, &seller, &office);
        async move {
            file(app, seller, &id, 100_000).await;
            app.post(&path(&id, "accept"), office.t(), &json!({})).await.expect(200);
            app.post(&path(&id, "approve"), office.t(), &json!({"registered_amount_fen": 100_000})).await.expect(200)
        }
    };
    let id = signed(&app, &seller, &buyer, 100_000).await;
    let approved = approve(id.clone()).await;
    let cancel = path(&id, "cancel");
    app.post(&cancel, seller.t(), &json!({"reason": "误登记"})).await.problem(403, "forbidden");
    let cancelled = app.post(&cancel, office.t(), &json!({"reason": "误登记"})).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["registration_no"], approved["registration_no"], "the registration keeps its number");
    let contract = app.get(&format!("/contracts/{id}"), seller.t()).await.expect(200);
    assert_eq!(contract["status"], "signed");
    assert!(contract["registration_no"].is_null() && contract["registered_amount_fen"].is_null(), "{contract}");
    app.post(&cancel, office.t(), &json!({"reason": "再次"})).await.problem(409, "invalid_state_transition");
    app.post(&path(&id, "amend"), office.t(), &json!({"registered_amount_fen": 1, "reason": "x"}))
        .await
        .problem(409, "invalid_state_transition");
    // Filed again after cancellation, approved with a new number.
    let again = approve(id.clone()).await;
    assert_ne!(again["registration_no"], approved["registration_no"]);

    // A performing contract (a payment recorded) goes back to signed too; its payments stay,
    // and no new payment is taken until it is registered again.
    let paid = signed(&app, &seller, &buyer, 100_000).await;
    approve(paid.clone()).await;
    let payment = json!({"amount_fen": 10_000, "paid_at": "2026-03-15T02:30:00Z", "reference": "电汇"});
    let payments = format!("/contracts/{paid}/payments");
    app.post(&payments, seller.t(), &payment).await.expect(200);
    assert_eq!(app.get(&format!("/contracts/{paid}"), seller.t()).await.expect(200)["status"], "performing");
    app.post(&path(&paid, "cancel"), office.t(), &json!({"reason": "误登记"})).await.expect(200);
    let contract = app.get(&format!("/contracts/{paid}"), seller.t()).await.expect(200);
    assert_eq!(contract["status"], "signed");
    assert_eq!(contract["paid_fen"], 10_000, "recorded payments stay: {contract}");
    app.post(&payments, seller.t(), &payment).await.problem(409, "invalid_state_transition");
    approve(paid.clone()).await;
    assert_eq!(app.get(&format!("/contracts/{paid}"), seller.t()).await.expect(200)["status"], "registered");
    app.post(&payments, seller.t(), &payment).await.expect(200);
    let contract = app.get(&format!("/contracts/{paid}"), seller.t()).await.expect(200);
    assert_eq!((contract["status"].as_str(), contract["paid_fen"].as_i64()), (Some("performing"), Some(20_000)));

    // A completed contract's registration stays.
    app.post(&format!("/contracts/{paid}/complete"), seller.t(), &json!({})).await.expect(200);
    app.post(&path(&paid, "cancel"), office.t(), &json!({"reason": "误登记"}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn the_one_step_admin_path_records_an_approved_registration() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    let id = signed(&app, &seller, &buyer, 200_000).await;
    let contract = app
        .post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({"registered_amount_fen": 150_000}))
        .await
        .expect(200);
    assert_eq!(contract["status"], "registered");
    let registration = app.get(&format!("/contracts/{id}/registration"), seller.t()).await.expect(200);
    assert_eq!(registration["status"], "approved");
    assert_eq!(registration["registration_no"], contract["registration_no"]);
    assert_eq!(registration["registered_amount_fen"], 150_000);
    assert_eq!(actions(&registration), ["register"]);
    // Amend and cancel work after it.
    let amended = app
        .post(&path(&id, "amend"), admin.t(), &json!({"registered_amount_fen": 160_000, "reason": "更正"}))
        .await
        .expect(200);
    assert_eq!(amended["registered_amount_fen"], 160_000);
    app.post(&path(&id, "cancel"), admin.t(), &json!({"reason": "撤销"})).await.expect(200);
    assert_eq!(app.get(&format!("/contracts/{id}"), seller.t()).await.expect(200)["status"], "signed");

    // With a filing open, the one-step path approves that filing.
    let filed = file(&app, &seller, &id, 200_000).await;
    app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({})).await.expect(200);
    let registration = app.get(&format!("/contracts/{id}/registration"), seller.t()).await.expect(200);
    assert_eq!(registration["id"], filed["id"]);
    assert_eq!(registration["status"], "approved");
    assert_eq!(actions(&registration), ["file", "register"]);
    app.post(&format!("/admin/contracts/{id}/register"), admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn overdue_filings_are_reported_once_to_the_office() {
    let app = spawn_app_with(|s| {
        s.registration.deadline_days = 10;
        s.registration.long_deadline_days = 40;
        s.registration.large_amount_fen = 1_000_000;
    })
    .await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let office = registrar(&app, "江苏省").await;
    let admin = app.admin().await;
    let small = signed(&app, &seller, &buyer, 500_000).await;
    let large = signed(&app, &seller, &buyer, 5_000_000).await;
    let filed = file(&app, &seller, &small, 500_000).await;
    let large_filed = file(&app, &seller, &large, 5_000_000).await;
    let day = |v: &Value| chrono::NaiveDate::parse_from_str(v["due_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(day(&large_filed) - day(&filed), chrono::Duration::days(30), "large contracts get the long deadline");

    app.clock.advance(chrono::Duration::days(10));
    assert_eq!(overdue(&app, &office).await, 0, "due by the end of the tenth day");
    assert_eq!(app.get(&format!("/contracts/{small}/registration"), seller.t()).await.expect(200)["overdue"], false);
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(overdue(&app, &office).await, 1);
    assert_eq!(overdue(&app, &admin).await, 0, "the region has an office");
    assert_eq!(app.get(&format!("/contracts/{small}/registration"), seller.t()).await.expect(200)["overdue"], true);
    // Once per registration, however long it stays overdue.
    app.clock.advance(chrono::Duration::days(5));
    assert_eq!(overdue(&app, &office).await, 1);
    app.clock.advance(chrono::Duration::days(30));
    assert_eq!(overdue(&app, &office).await, 2, "the large contract's deadline passed too");
}

#[tokio::test]
async fn without_an_office_administrators_are_told_and_supplements_restart_the_clock() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    let id = signed(&app, &seller, &buyer, 500_000).await;
    file(&app, &seller, &id, 500_000).await;
    app.clock.advance(chrono::Duration::days(5));
    app.post(&path(&id, "request-supplement"), admin.t(), &json!({"reason": "补充材料"})).await.expect(200);
    app.clock.advance(chrono::Duration::days(20));
    assert_eq!(overdue(&app, &admin).await, 0, "the clock stops while the seller holds the file");
    let evidence = app.file(&seller, "evidence", &pdf(300)).await;
    let answer = json!({"attachments": [{"file_id": evidence, "purpose": "evidence"}]});
    app.post(&path(&id, "supplement"), seller.t(), &answer).await.expect(200);
    app.clock.advance(chrono::Duration::days(10));
    assert_eq!(overdue(&app, &admin).await, 0, "the clock restarted at the supplement");
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(overdue(&app, &admin).await, 1);
}

#[tokio::test]
async fn concurrent_filings_exactly_one_wins() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let id = signed(&app, &seller, &buyer, 500_000).await;
    let mut bodies = Vec::new();
    for _ in 0..6 {
        bodies.push(filing(&app, &seller, 500_000).await);
    }
    let url = format!("/contracts/{id}/registration");
    let results = join_all(bodies.iter().map(|b| app.post(&url, seller.t(), b))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    for r in results.iter().filter(|r| r.status != 201) {
        r.problem(409, "conflict");
    }
}

#[tokio::test]
async fn stats_count_registrations() {
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let admin = app.admin().await;
    let one = signed(&app, &seller, &buyer, 400_000).await;
    let two = signed(&app, &seller, &buyer, 600_000).await;
    app.post(&format!("/admin/contracts/{one}/register"), admin.t(), &json!({"registered_amount_fen": 300_000}))
        .await
        .expect(200);
    file(&app, &seller, &two, 600_000).await;
    let stats = app.get("/admin/stats", admin.t()).await.expect(200);
    let r = &stats["registrations"];
    assert_eq!((r["filed"].as_i64(), r["approved"].as_i64(), r["refused"].as_i64()), (Some(2), Some(1), Some(0)));
    assert_eq!(r["registered_amount_fen"], 300_000);
    assert_eq!(r["by_status"]["filed"], 1);
    assert_eq!(stats["contracts"]["registered_amount_fen"], 300_000, "existing fields unchanged");
}

/// The database itself refuses a second live registration of one contract: the backstop for
/// filings that race past the service's check.
#[tokio::test]
async fn the_database_holds_one_live_registration_per_contract() {
    use diesel::result::{DatabaseErrorKind, Error};
    use techtransfer::db::registrations;
    let app = spawn_app().await;
    let seller = app.member("university").await;
    let buyer = app.member("enterprise").await;
    let id = signed(&app, &seller, &buyer, 500_000).await;
    file(&app, &seller, &id, 500_000).await;
    let mut twin = app.with_conn(|c| registrations::latest_of(c, &id)).unwrap().expect("a registration");
    for status in ["filed", "supplement_requested", "under_review", "approved"] {
        twin.id = uuid::Uuid::now_v7().to_string();
        twin.status = status.to_owned();
        let second = app.with_conn(|c| registrations::insert(c, &twin));
        assert!(
            matches!(second, Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))),
            "{status}: {second:?}"
        );
    }
    for status in ["refused", "cancelled"] {
        twin.id = uuid::Uuid::now_v7().to_string();
        twin.status = status.to_owned();
        assert_eq!(app.with_conn(|c| registrations::insert(c, &twin)).unwrap(), 1, "{status} is not live");
    }
}

/// The demo shows a registration office and a registration in every status (the oldest filing
/// past its deadline).
#[tokio::test]
async fn the_demo_seeds_a_registration_in_every_status() {
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    let summary = app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0)).expect("seed");
    assert_eq!(summary.files.len(), 6);
    let login = |who: &'static str| {
        let app = &app;
        async move {
            let res = app.login(&format!("{who}@demo.techtransfer.cn"), techtransfer::demo::DEMO_PASSWORD).await;
            res.expect(200)["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (seller, office) = (login("university1").await, login("government1").await);
    let contracts = app.get("/contracts?per_page=100", Some(&seller)).await.expect(200);
    let mut statuses = Vec::new();
    for k in contracts["items"].as_array().unwrap() {
        let r = app.get(&format!("/contracts/{}/registration", k["id"].as_str().unwrap()), Some(&office)).await;
        if r.status == 200 {
            statuses.push(r.json()["status"].as_str().unwrap().to_owned());
        }
    }
    statuses.sort();
    assert_eq!(statuses, ["approved", "cancelled", "filed", "refused", "supplement_requested", "under_review"]);
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", Some(&office)).await.expect(200);
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "registration_overdue"), "{notes}");
}
