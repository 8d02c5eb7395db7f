//! Matching: explained results for constructed cases, only published counterparts,
//! immediate effect of withdrawal, permissions.

use serde_json::json;

use crate::helpers::{TestApp, TestUser, spawn_app};

struct World {
    app: TestApp,
    university: TestUser,
    enterprise: TestUser,
    admin: TestUser,
    demand: String,
    direct: String,
    adjacent: String,
    draft: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let demand = app
        .publish(
            &enterprise,
            &admin,
            "demand",
            &json!({
                "title": "塔式起重机多机协同作业干涉预警需求",
                "description": "我公司在建高层项目现场同时运行多台塔式起重机，吊臂交叉作业存在碰撞风险，希望引进群塔防碰撞预警系统，实时监测吊臂位置并提前报警。",
                "field": "construction",
                "keywords": ["塔吊", "防碰撞", "群塔作业"],
                "min_trl": 6,
                "budget_fen": 100_000_000,
                "region": "江苏省",
            }),
        )
        .await;
    let direct = app
        .publish(
            &university,
            &admin,
            "achievement",
            &json!({
                "title": "群塔作业塔吊防碰撞监测预警系统",
                "summary": "基于北斗定位与吊臂姿态传感的塔吊防碰撞系统，实时计算多台塔吊的干涉区域并分级报警，已在多个工地应用。",
                "field": "construction", "keywords": ["塔吊", "防碰撞"], "trl": 7,
                "transfer_modes": ["license"], "asking_price_fen": 80_000_000, "negotiable": false, "region": "江苏省",
            }),
        )
        .await;
    let adjacent = app
        .publish(
            &university,
            &admin,
            "achievement",
            &json!({
                "title": "港口门座起重机防碰撞预警技术",
                "summary": "门座式起重机作业区域的激光雷达防碰撞预警，适用于港口装卸。",
                "field": "transportation", "keywords": ["起重机", "防碰撞"], "trl": 4,
                "transfer_modes": ["transfer"], "asking_price_fen": 300_000_000, "negotiable": true, "region": "广东省",
            }),
        )
        .await;
    let draft = app
        .post(
            "/achievements",
            university.t(),
            &json!({
                "title": "塔吊防碰撞预警系统（未发布）", "summary": "群塔作业塔吊防碰撞预警，吊臂干涉实时报警。",
                "field": "construction", "keywords": ["塔吊", "防碰撞", "群塔作业"], "trl": 8,
                "transfer_modes": ["license"], "region": "江苏省",
            }),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World { app, university, enterprise, admin, demand, direct, adjacent, draft }
}

#[tokio::test]
async fn matches_are_ranked_and_explained() {
    let w = world().await;
    let res = w.app.get(&format!("/demands/{}/matches", w.demand), w.enterprise.t()).await.expect(200);
    let items = res["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], w.direct, "{res}");
    assert!(ids.contains(&w.adjacent.as_str()));
    assert!(!ids.contains(&w.draft.as_str()), "unpublished listings never appear");
    let best = &items[0];
    assert_eq!(best["title"], "群塔作业塔吊防碰撞监测预警系统");
    assert_eq!(best["org_id"], w.university.org());
    assert!((best["score"].as_f64().unwrap() - 1.0).abs() < 1e-9, "best text match with a perfect fit scores 1");
    let terms: Vec<&str> =
        best["reasons"]["matched_terms"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(terms.contains(&"塔吊") && terms.contains(&"防碰撞"), "{terms:?}");
    assert_eq!(best["reasons"]["field"], "same");
    assert_eq!(best["reasons"]["trl_fit"], true);
    assert_eq!(best["reasons"]["budget_fit"], true);
    assert_eq!(best["reasons"]["region"], "same");
    let text = best["reasons"]["text"].as_str().unwrap();
    assert!(text.starts_with("共同关键词：") && text.contains("同属建筑领域") && text.ends_with("。"), "{text}");

    let other = items.iter().find(|i| i["id"] == w.adjacent.as_str()).unwrap();
    assert_eq!(other["reasons"]["field"], "related", "construction ↔ transportation");
    assert_eq!(other["reasons"]["trl_fit"], false, "TRL 4 < minimum 6");
    assert_eq!(other["reasons"]["budget_fit"], false, "3,000,000 yuan > 1,000,000 yuan");
    assert_eq!(other["reasons"]["region"], "other");
    let text = other["reasons"]["text"].as_str().unwrap();
    assert!(text.contains("低于需求的 6 级") && text.contains("报价超出预算"), "{text}");
    let mut last = f64::INFINITY;
    for item in items {
        let score = item["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score) && score <= last, "best first, in [0, 1]");
        last = score;
    }

    // Reverse direction.
    let back = w.app.get(&format!("/achievements/{}/matches", w.direct), w.university.t()).await.expect(200);
    assert_eq!(back["items"][0]["id"], w.demand.as_str());
    assert_eq!(back["items"][0]["reasons"]["trl_fit"], true);
}

#[tokio::test]
async fn withdrawn_and_newly_published_listings_take_effect_at_once() {
    let w = world().await;
    let path = format!("/demands/{}/matches", w.demand);
    // Asked once before the change, so a kept answer would still name the withdrawn listing.
    let before = w.app.get(&path, w.enterprise.t()).await.expect(200);
    assert!(before["items"].as_array().unwrap().iter().any(|i| i["id"] == w.direct.as_str()), "{before}");
    w.app.post(&format!("/achievements/{}/withdraw", w.direct), w.university.t(), &json!({})).await.expect(200);
    let after = w.app.get(&path, w.enterprise.t()).await.expect(200);
    assert!(after["items"].as_array().unwrap().iter().all(|i| i["id"] != w.direct.as_str()), "{after}");
    // Publishing the draft makes it matchable immediately.
    w.app.post(&format!("/achievements/{}/submit", w.draft), w.university.t(), &json!({})).await.expect(200);
    w.app.post(&format!("/admin/achievements/{}/approve", w.draft), w.admin.t(), &json!({})).await.expect(200);
    let now = w.app.get(&path, w.enterprise.t()).await.expect(200);
    assert_eq!(now["items"][0]["id"], w.draft.as_str());
}

#[tokio::test]
async fn only_the_owner_and_admins_see_matches() {
    let w = world().await;
    let path = format!("/demands/{}/matches", w.demand);
    // The admin's answer is kept; who may see it is still checked on every request.
    w.app.get(&path, w.admin.t()).await.expect(200);
    w.app.get(&path, None).await.problem(401, "unauthorized");
    w.app.get(&path, w.university.t()).await.problem(403, "forbidden");
    w.app.get(&format!("{path}?limit=0"), w.enterprise.t()).await.problem(422, "validation_failed");
    w.app.get(&format!("{path}?limit=51"), w.enterprise.t()).await.problem(422, "validation_failed");
    let limited = w.app.get(&format!("{path}?limit=1"), w.enterprise.t()).await.expect(200);
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    // Someone else's unpublished listing does not exist for them.
    w.app.get(&format!("/achievements/{}/matches", w.draft), w.enterprise.t()).await.problem(404, "not_found");
    w.app.get(&format!("/achievements/{}/matches", w.draft), w.university.t()).await.expect(200);
}

/// The match event log: impressions from match lists (members of the owning organization only,
/// cached answers included), requests credited to the rank they were shown at, outcomes, and
/// the online report built from them.
#[tokio::test]
async fn impressions_and_outcomes_feed_the_online_report() {
    use techtransfer::domain::match_event::Funnel;
    let w = world().await;
    let app = &w.app;
    let path = format!("/demands/{}/matches", w.demand);
    let listed = app.get(&path, w.enterprise.t()).await.expect(200);
    let ids: Vec<String> =
        listed["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids[0], w.direct);
    let adjacent_rank = ids.iter().position(|i| *i == w.adjacent).unwrap() + 1;
    // The same list again (from the answer cache) and an administrator's look.
    app.get(&path, w.enterprise.t()).await.expect(200);
    app.get(&path, w.admin.t()).await.expect(200);
    app.state.match_events.flush().await;
    let shown: i64 = app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::match_events as me;
        me::table.filter(me::kind.eq("shown")).count().get_result(c).unwrap()
    });
    assert_eq!(shown, 2 * ids.len() as i64, "two member views recorded, the administrator's not");

    // A request from the list, accepted, then contracted; one from the list, declined; and one
    // for a listing the requester was never shown.
    let request = |achievement: &str| json!({"achievement_id": achievement, "message": "希望进一步了解"});
    let conn = app.post("/connections", w.enterprise.t(), &request(&w.direct)).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/connections/{conn}/accept"), w.university.t(), &json!({})).await.expect(200);
    let mut contract = crate::contracts::contract_body("transfer", &w.university, &w.enterprise, 1_000_000);
    contract["achievement_id"] = json!(w.direct);
    contract["connection_id"] = json!(conn);
    app.post("/contracts", w.enterprise.t(), &contract).await.expect(201);
    let declined = app.post("/connections", w.enterprise.t(), &request(&w.adjacent)).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/connections/{declined}/decline"), w.university.t(), &json!({"reason_code": "price"}))
        .await
        .expect(200);
    let stranger = app.member("enterprise").await;
    app.post("/connections", stranger.t(), &request(&w.direct)).await.expect(201);

    let to = chrono::Utc::now() + chrono::Duration::minutes(1);
    let from = to - chrono::Duration::days(1);
    let report = app.state.db.read(move |c| techtransfer::service::match_events::report(c, from, to)).await.unwrap();
    let n = ids.len() as i64;
    assert_eq!(report.total, Funnel { impressions: n, requests: 2, accepted: 1, declined: 1, contracted: 1 });
    assert_eq!(
        report.by_rank[0].funnel,
        Funnel { impressions: 1, requests: 1, accepted: 1, declined: 0, contracted: 1 }
    );
    let adjacent_row = report
        .by_rank
        .iter()
        .find(|r| r.ranks == techtransfer::domain::match_event::bucket_label(adjacent_rank as i32).unwrap())
        .unwrap();
    assert_eq!((adjacent_row.funnel.requests, adjacent_row.funnel.declined), (1, 1));
    assert_eq!(report.by_mode[1].funnel.requests, 2, "ranked by text: no embeddings server in this test");
    assert_eq!(report.not_from_matches, Funnel { requests: 1, ..Funnel::default() });
    assert_eq!(report.decline_reasons, vec![("price".to_owned(), 1)]);
    let table = techtransfer::service::match_events::render(&report, from, to);
    assert!(table.contains("rank 1") && table.contains("decline reasons (matched): price 1"), "{table}");
}
