//! 技术经理人: profiles only for members of verified service providers, the public registry,
//! invitation into a connection by a party only, the broker's view limited to the connections
//! it was invited to, its messages and contract drafts, the commission and its place in the
//! income split, and the statistics.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, achievement_body, spawn_app};

fn profile(fields: &[&str], certificate_no: &str, bio: &str) -> Value {
    json!({"fields": fields, "certificate_no": certificate_no, "years_of_practice": 6, "bio": bio})
}

/// A member of a new verified service provider in `region`, with a saved broker profile;
/// returns the member and the broker id.
async fn broker(app: &TestApp, region: &str, body: &Value) -> (TestUser, String) {
    let mut user = app.user().await;
    let mut org = TestApp::org_body("service_provider");
    org["region"] = json!(region);
    let created = app.post("/organizations", user.t(), &org).await.expect(201);
    user.org_id = Some(created["id"].as_str().unwrap().to_owned());
    let admin = app.admin().await;
    app.post(&format!("/admin/organizations/{}/verify", user.org()), admin.t(), &json!({})).await.expect(200);
    let saved = app.post("/me/broker-profile", user.t(), body).await.expect(201);
    (user, saved["id"].as_str().unwrap().to_owned())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id in {v}")).to_owned()
}

/// A university's published achievement and an enterprise's accepted connection about it.
struct Deal {
    university: TestUser,
    enterprise: TestUser,
    admin: TestUser,
    achievement: String,
    connection: String,
}

async fn deal(app: &TestApp) -> Deal {
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let achievement = app
        .publish(&university, &admin, "achievement", &achievement_body("钠离子电池正极材料", "层状氧化物正极。"))
        .await;
    let connection = id(&app
        .post("/connections", enterprise.t(), &json!({"achievement_id": achievement, "message": "希望许可实施"}))
        .await
        .expect(201));
    app.post(&format!("/connections/{connection}/accept"), university.t(), &json!({})).await.expect(200);
    Deal { university, enterprise, admin, achievement, connection }
}

#[tokio::test]
async fn only_members_of_verified_service_providers_keep_a_profile() {
    let app = spawn_app().await;
    let body = profile(&["new_energy"], "JSJL-2024-0001", "新能源成果转化。");
    let loner = app.user().await;
    app.post("/me/broker-profile", loner.t(), &body).await.problem(403, "organization_not_verified");
    let pending = app.pending_member("service_provider").await;
    app.post("/me/broker-profile", pending.t(), &body).await.problem(403, "organization_not_verified");
    let enterprise = app.member("enterprise").await;
    app.post("/me/broker-profile", enterprise.t(), &body).await.problem(403, "forbidden");
    app.post("/me/broker-profile", None, &body).await.problem(401, "unauthorized");

    let provider = app.member("service_provider").await;
    let bad = json!({"fields": [], "certificate_no": " ", "years_of_practice": 61, "bio": "x"});
    let refused = app.post("/me/broker-profile", provider.t(), &bad).await.problem(422, "validation_failed");
    for field in ["fields", "certificate_no", "years_of_practice"] {
        assert!(refused["errors"][field].is_array(), "{field}: {refused}");
    }
    let unknown_field = profile(&["alchemy"], "JSJL-1", "x");
    app.post("/me/broker-profile", provider.t(), &unknown_field).await.problem(422, "validation_failed");

    let created = app.post("/me/broker-profile", provider.t(), &body).await.expect(201);
    assert_eq!(created["org_id"], provider.org());
    assert_eq!(created["fields"], json!(["new_energy"]));
    assert_eq!(created["name"], "测试用户");
    let updated = app
        .post("/me/broker-profile", provider.t(), &profile(&["biomedicine", "biomedicine"], "JSJL-2024-0002", "医药。"))
        .await
        .expect(200);
    assert_eq!(updated["id"], created["id"], "one profile per person");
    assert_eq!(updated["fields"], json!(["biomedicine"]));
    let shown = app.get(&format!("/brokers/{}", id(&created)), None).await.expect(200);
    assert_eq!(shown["certificate_no"], "JSJL-2024-0002");
    assert_eq!(shown["statistics"], json!({"connections": 0, "contracts": 0, "transaction_amount_fen": 0}));
    app.get(&format!("/brokers/{}", uuid::Uuid::new_v4()), None).await.problem(404, "not_found");
}

#[tokio::test]
async fn the_registry_searches_and_filters() {
    let app = spawn_app().await;
    let (_, solar) =
        broker(&app, "江苏省", &profile(&["new_energy", "new_materials"], "JSJL-2024-0101", "专注光伏与储能成果转化"))
            .await;
    app.clock.advance(chrono::Duration::seconds(1));
    let (_, pharma) =
        broker(&app, "广东省", &profile(&["biomedicine"], "YDJL-2023-0202", "创新药与医疗器械许可谈判")).await;
    let ids = |page: &Value| -> Vec<String> { page["items"].as_array().unwrap().iter().map(id).collect() };

    let all = app.get("/brokers", None).await.expect(200);
    assert_eq!(all["total"], 2);
    assert_eq!(ids(&all), vec![pharma.clone(), solar.clone()], "newest first");
    assert_eq!(ids(&app.get("/brokers?q=储能", None).await.expect(200)), vec![solar.clone()], "bio");
    assert_eq!(ids(&app.get("/brokers?q=YDJL-2023", None).await.expect(200)), vec![pharma.clone()], "certificate");
    assert_eq!(app.get("/brokers?q=测试用户", None).await.expect(200)["total"], 2, "name");
    assert_eq!(app.get("/brokers?q=100%25", None).await.expect(200)["total"], 0, "wildcards are literal");
    assert_eq!(ids(&app.get("/brokers?field=new_materials", None).await.expect(200)), vec![solar.clone()]);
    assert_eq!(ids(&app.get("/brokers?field=biomedicine", None).await.expect(200)), vec![pharma.clone()]);
    assert_eq!(ids(&app.get("/brokers?region=广东省", None).await.expect(200)), vec![pharma.clone()]);
    assert_eq!(app.get("/brokers?region=江苏省&field=biomedicine", None).await.expect(200)["total"], 0);
    let page = app.get("/brokers?per_page=1&page=2", None).await.expect(200);
    assert_eq!((page["total"].as_i64(), ids(&page)), (Some(2), vec![solar.clone()]));
    app.get("/brokers?region=火星", None).await.problem(422, "validation_failed");
    app.get("/brokers?field=alchemy", None).await.problem(422, "validation_failed");
    app.get("/brokers?per_page=101", None).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn only_a_party_invites_and_only_the_invited_broker_sees_the_connection() {
    let app = spawn_app().await;
    let Deal { university, enterprise, admin, achievement, connection } = deal(&app).await;
    let (first, first_id) = broker(&app, "江苏省", &profile(&["new_energy"], "A-1", "甲")).await;
    let (second, second_id) = broker(&app, "浙江省", &profile(&["new_energy"], "B-2", "乙")).await;
    let invite = format!("/connections/{connection}/broker");
    let thread = format!("/connections/{connection}/messages");
    let outsider = app.member("enterprise").await;

    // Who may invite: a party only.
    app.post(&invite, outsider.t(), &json!({"broker_id": first_id})).await.problem(404, "not_found");
    app.post(&invite, first.t(), &json!({"broker_id": first_id})).await.problem(404, "not_found");
    app.post(&invite, admin.t(), &json!({"broker_id": first_id})).await.problem(403, "forbidden");
    app.post(&invite, None, &json!({"broker_id": first_id})).await.problem(401, "unauthorized");
    let unknown = json!({"broker_id": uuid::Uuid::new_v4().to_string()});
    assert!(
        app.post(&invite, enterprise.t(), &unknown).await.problem(422, "validation_failed")["errors"]["broker_id"]
            .is_array()
    );
    app.post(&invite, enterprise.t(), &json!({"broker_id": "nope"})).await.problem(422, "validation_failed");

    // Before the invitation the broker is an outsider.
    app.get(&format!("/connections/{connection}"), first.t()).await.problem(404, "not_found");
    let invited = app.post(&invite, enterprise.t(), &json!({"broker_id": first_id})).await.expect(200);
    assert_eq!(invited["broker_id"], first_id.as_str());
    let mine = app.get("/connections?role=brokered", first.t()).await.expect(200);
    assert_eq!((mine["total"].as_i64(), mine["items"][0]["id"].as_str()), (Some(1), Some(connection.as_str())));
    assert_eq!(app.get("/connections?role=brokered", second.t()).await.expect(200)["total"], 0);
    assert_eq!(app.get("/connections?role=brokered", enterprise.t()).await.expect(200)["total"], 0);

    // The invited broker sees both sides, the thread and the listing, and talks in it.
    let seen = app.get(&format!("/connections/{connection}"), first.t()).await.expect(200);
    assert_eq!(seen["contacts"]["requester"]["org_id"], enterprise.org());
    assert_eq!(seen["contacts"]["owner"]["org_id"], university.org());
    app.post(&thread, enterprise.t(), &json!({"body": "请经理人协助评估许可费。"})).await.expect(201);
    let said = app.post(&thread, first.t(), &json!({"body": "建议采用入门费加提成。"})).await.expect(201);
    assert_eq!(said["author_org_id"], first.org());
    assert_eq!(app.get(&thread, first.t()).await.expect(200)["total"], 2);
    app.get(&format!("/achievements/{achievement}"), first.t()).await.expect(200);
    // …but is not a party: it cannot answer for one or invite another broker.
    app.post(&format!("/connections/{connection}/decline"), first.t(), &json!({"reason_code": "price"}))
        .await
        .problem(403, "forbidden");
    app.post(&invite, first.t(), &json!({"broker_id": second_id})).await.problem(403, "forbidden");

    // A broker not invited is an outsider everywhere.
    app.get(&format!("/connections/{connection}"), second.t()).await.problem(404, "not_found");
    app.get(&thread, second.t()).await.problem(404, "not_found");
    app.post(&thread, second.t(), &json!({"body": "你好"})).await.problem(404, "not_found");

    // Either party may replace the broker while the connection is live; the first loses sight.
    let replaced = app.post(&invite, university.t(), &json!({"broker_id": second_id})).await.expect(200);
    assert_eq!(replaced["broker_id"], second_id.as_str());
    app.get(&format!("/connections/{connection}"), first.t()).await.problem(404, "not_found");
    app.get(&format!("/connections/{connection}"), second.t()).await.expect(200);
    assert_eq!(app.get("/connections?role=brokered", first.t()).await.expect(200)["total"], 0);
    assert_eq!(app.get("/connections?role=brokered&status=accepted", second.t()).await.expect(200)["total"], 1);

    // The listing as the parties see it: still visible to the broker once withdrawn.
    app.post(&format!("/achievements/{achievement}/withdraw"), university.t(), &json!({})).await.expect(200);
    app.get(&format!("/achievements/{achievement}"), outsider.t()).await.problem(404, "not_found");
    app.get(&format!("/achievements/{achievement}"), first.t()).await.problem(404, "not_found");
    assert_eq!(app.get(&format!("/achievements/{achievement}"), second.t()).await.expect(200)["status"], "withdrawn");

    // A broker from either party's own organization is a conflict of interest.
    let (own, own_id) = broker(&app, "江苏省", &profile(&["new_energy"], "C-3", "丙")).await;
    let other = app.publish(&university, &admin, "achievement", &achievement_body("钠电负极", "硬碳负极。")).await;
    let theirs = id(&app
        .post("/connections", own.t(), &json!({"achievement_id": other, "message": "本机构希望对接"}))
        .await
        .expect(201));
    app.post(&format!("/connections/{theirs}/broker"), university.t(), &json!({"broker_id": own_id}))
        .await
        .problem(409, "conflict_of_interest");
    // A closed connection takes no broker.
    app.post(&format!("/connections/{theirs}/decline"), university.t(), &json!({"reason_code": "price"}))
        .await
        .expect(200);
    app.post(&format!("/connections/{theirs}/broker"), university.t(), &json!({"broker_id": first_id}))
        .await
        .problem(409, "invalid_state_transition");
}

fn contract_body(deal: &Deal, amount: i64) -> Value {
    json!({
        "kind": "license", "title": "钠离子电池正极材料技术许可合同",
        "seller_org_id": deal.university.org(), "buyer_org_id": deal.enterprise.org(),
        "achievement_id": deal.achievement, "connection_id": deal.connection,
        "amount_fen": amount,
        "payment_plan": [{"due_date": "2027-03-31", "amount_fen": amount}],
    })
}

#[tokio::test]
async fn the_broker_drafts_the_contract_and_its_commission_comes_out_first() {
    let app = spawn_app().await;
    let deal = deal(&app).await;
    let (agent, agent_id) = broker(&app, "江苏省", &profile(&["new_energy"], "A-1", "甲")).await;
    let (stranger, _) = broker(&app, "江苏省", &profile(&["new_energy"], "B-2", "乙")).await;
    let amount = 1_000_000;

    // Without a broker on the connection there is no commission.
    let mut body = contract_body(&deal, amount);
    body["commission_bp"] = json!(1000);
    let refused = app.post("/contracts", deal.university.t(), &body).await.problem(422, "validation_failed");
    assert!(refused["errors"]["commission_bp"].is_array(), "{refused}");
    app.post(&format!("/connections/{}/broker", deal.connection), deal.enterprise.t(), &json!({"broker_id": agent_id}))
        .await
        .expect(200);

    // Commission validation: at most one of the two, bp within 0..=10000, fen within the amount.
    for (fen, bp, field) in [
        (json!(10), json!(10), "commission_bp"),
        (json!(null), json!(10_001), "commission_bp"),
        (json!(null), json!(-1), "commission_bp"),
        (json!(amount + 1), json!(null), "commission_fen"),
        (json!(-1), json!(null), "commission_fen"),
    ] {
        let mut bad = contract_body(&deal, amount);
        bad["commission_fen"] = fen;
        bad["commission_bp"] = bp;
        let refused = app.post("/contracts", agent.t(), &bad).await.problem(422, "validation_failed");
        assert!(refused["errors"][field].is_array(), "{field}: {refused}");
    }

    // A broker not invited drafts nothing; the invited one drafts for the parties.
    app.post("/contracts", stranger.t(), &body).await.problem(403, "forbidden");
    let created = app.post("/contracts", agent.t(), &body).await.expect(201);
    let contract = id(&created);
    assert_eq!(created["broker_id"], agent_id.as_str());
    assert_eq!(created["broker_org_id"], agent.org());
    assert_eq!((created["commission_bp"].as_i64(), created["commission_fen"].as_i64()), (Some(1000), None));
    assert_eq!(created["commission_due_fen"], 100_000);
    let connection = app.get(&format!("/connections/{}", deal.connection), deal.university.t()).await.expect(200);
    assert_eq!(connection["status"], "contracted");

    // The broker sees the contract but signs nothing; others still get 404.
    app.get(&format!("/contracts/{contract}"), agent.t()).await.expect(200);
    app.get(&format!("/contracts/{contract}"), stranger.t()).await.problem(404, "not_found");
    app.post(&format!("/contracts/{contract}/sign"), agent.t(), &json!({})).await.problem(403, "forbidden");
    for party in [&deal.university, &deal.enterprise] {
        app.post(&format!("/contracts/{contract}/sign"), party.t(), &json!({})).await.expect(200);
    }
    let shown = app.get(&format!("/brokers/{agent_id}"), None).await.expect(200);
    assert_eq!(
        shown["statistics"],
        json!({"connections": 1, "contracts": 1, "transaction_amount_fen": 0}),
        "signed is not yet registered"
    );
    app.post(
        &format!("/admin/contracts/{contract}/register"),
        deal.admin.t(),
        &json!({"registered_amount_fen": 900_000}),
    )
    .await
    .expect(200);

    // The income split: the commission is its own line, out of the net income first; the
    // inventors' legal share applies to what remains.
    let split = format!("/contracts/{contract}/revenue-distribution");
    let beneficiaries = json!([{"name": "陈志强", "share_bp": 10_000}]);
    let short = json!({"net_income_fen": 99_999, "inventor_share_bp": 5000, "beneficiaries": beneficiaries});
    let refused = app.post(&split, deal.university.t(), &short).await.problem(422, "validation_failed");
    assert!(refused["errors"]["net_income_fen"].is_array(), "{refused}");
    let low = json!({"net_income_fen": 1_000_000, "inventor_share_bp": 4999, "beneficiaries": beneficiaries});
    app.post(&split, deal.university.t(), &low).await.problem(422, "inventor_share_too_low");
    let ok = json!({"net_income_fen": 1_000_000, "inventor_share_bp": 5000, "beneficiaries": beneficiaries});
    let done = app.post(&split, deal.university.t(), &ok).await.expect(200);
    let d = &done["distribution"];
    assert_eq!(d["broker_commission_fen"], 100_000);
    assert_eq!(d["inventor_base_fen"], 900_000);
    assert_eq!(d["inventor_pool_fen"], 450_000);
    assert_eq!(d["beneficiaries"][0]["amount_fen"], 450_000);

    // Statistics: the broker's and the platform's.
    let shown = app.get(&format!("/brokers/{agent_id}"), None).await.expect(200);
    assert_eq!(shown["statistics"], json!({"connections": 1, "contracts": 1, "transaction_amount_fen": 900_000}));
    let stats = app.get("/admin/stats", deal.admin.t()).await.expect(200);
    assert_eq!(
        stats["brokers"],
        json!({"profiles": 2, "connections_with_broker": 1, "contracts_with_broker": 1, "brokered_amount_fen": 900_000})
    );
    assert!(stats["funnel"].is_array() && stats["contracts"]["by_status"].is_object(), "existing fields stay");
}

#[tokio::test]
async fn a_party_drafting_from_a_brokered_connection_records_the_broker() {
    let app = spawn_app().await;
    let deal = deal(&app).await;
    let (_, agent_id) = broker(&app, "江苏省", &profile(&["new_energy"], "A-1", "甲")).await;
    app.post(&format!("/connections/{}/broker", deal.connection), deal.university.t(), &json!({"broker_id": agent_id}))
        .await
        .expect(200);
    let mut body = contract_body(&deal, 500_000);
    body["commission_fen"] = json!(20_000);
    let created = app.post("/contracts", deal.enterprise.t(), &body).await.expect(201);
    assert_eq!(created["broker_id"], agent_id.as_str());
    assert_eq!(
        (created["commission_fen"].as_i64(), created["commission_due_fen"].as_i64()),
        (Some(20_000), Some(20_000))
    );
    // A contracted connection keeps its broker.
    let (_, other_id) = broker(&app, "江苏省", &profile(&["new_energy"], "B-2", "乙")).await;
    app.post(&format!("/connections/{}/broker", deal.connection), deal.university.t(), &json!({"broker_id": other_id}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn the_demo_shows_brokers_at_work() {
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0)).expect("seed");
    let registry = app.get("/brokers", None).await.expect(200);
    assert!(registry["total"].as_i64().unwrap() >= 3, "{registry}");
    let admin = app.login(techtransfer::demo::ADMIN_EMAIL, techtransfer::demo::ADMIN_PASSWORD).await.expect(200);
    let stats = app.get("/admin/stats", admin["access_token"].as_str()).await.expect(200);
    assert_eq!(stats["brokers"]["connections_with_broker"], 2);
    assert_eq!(stats["brokers"]["contracts_with_broker"], 1);
    assert_eq!(stats["brokers"]["brokered_amount_fen"], 80_000_000);
}
