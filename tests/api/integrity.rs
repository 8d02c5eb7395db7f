//! 定向委托 directed commissions and 科研诚信 research-integrity records (一票否决).

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn directed_body(app: &TestApp, directed_org: &str) -> Value {
    json!({
        "title": "盐湖提锂吸附剂定向研发",
        "description": "委托指定团队研发高选择性铝系锂吸附剂。",
        "field": "new_materials",
        "indicators": [{"name": "吸附容量", "target": "≥8 mg/g"}],
        "reward_fen": 500_000,
        "mode": "directed",
        "directed_org_id": directed_org,
        "max_winners": 1,
        "bid_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
        "eligible_kinds": ["university", "institute"],
        "milestones": [{"title": "中试", "due_date": "2027-09-30", "payment_fen": 500_000}],
    })
}

fn bid_body() -> Value {
    json!({"proposal": "铝系吸附剂改性方案", "budget_fen": 500_000, "plan": "一年", "team": [{"name": "李研究员", "title": "负责人"}]})
}

#[tokio::test]
async fn directed_commissions_are_private_to_their_parties() {
    let app = spawn_app().await;
    let issuer = app.member("enterprise").await;
    let chosen = app.member("institute").await;
    let third = app.member("university").await;
    let admin = app.admin().await;
    let mut bad = directed_body(&app, chosen.org());
    bad["directed_org_id"] = Value::Null;
    app.post("/challenges", issuer.t(), &bad).await.problem(422, "validation_failed");
    let pending = app.pending_member("institute").await;
    app.post("/challenges", issuer.t(), &directed_body(&app, pending.org())).await.problem(422, "validation_failed");
    let mut single_with_target = directed_body(&app, chosen.org());
    single_with_target["mode"] = json!("single");
    app.post("/challenges", issuer.t(), &single_with_target).await.problem(422, "validation_failed");

    let id = app.post("/challenges", issuer.t(), &directed_body(&app, chosen.org())).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/challenges/{id}/submit"), issuer.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{id}/approve"), admin.t(), &json!({})).await.expect(200);
    let path = format!("/challenges/{id}");
    app.get(&path, None).await.problem(404, "not_found");
    app.get(&path, third.t()).await.problem(404, "not_found");
    app.get(&path, chosen.t()).await.expect(200);
    app.get(&path, admin.t()).await.expect(200);
    let ids = |v: Value| {
        v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(!ids(app.get("/challenges", third.t()).await.expect(200)).contains(&id));
    assert!(!ids(app.get("/challenges", None).await.expect(200)).contains(&id));
    assert!(!ids(app.get("/challenges?q=提锂", None).await.expect(200)).contains(&id));
    assert!(ids(app.get("/challenges", chosen.t()).await.expect(200)).contains(&id));

    app.post(&format!("{path}/bids"), third.t(), &bid_body()).await.problem(404, "not_found");
    let bid =
        app.post(&format!("{path}/bids"), chosen.t(), &bid_body()).await.expect(201)["id"].as_str().unwrap().to_owned();
    // No experts: the issuer may award the directed bid straight away.
    let awarded = app.post(&format!("{path}/award"), issuer.t(), &json!({"bid_ids": [bid]})).await.expect(200);
    assert_eq!(awarded["status"], "in_progress");
    let m = awarded["milestones"][0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("{path}/milestones/{m}/deliver"), chosen.t(), &json!({"bid_id": bid, "report": "中试完成"}))
        .await
        .expect(200);
    let done =
        app.post(&format!("{path}/milestones/{m}/accept"), issuer.t(), &json!({"bid_id": bid})).await.expect(200);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["paid_fen"], 500_000);
}

#[tokio::test]
async fn integrity_records_bar_while_in_force() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let issuer = app.member("enterprise").await;
    let barred = app.member("university").await;
    let user = app.user().await;
    // Admin only, exactly one subject.
    let body = json!({"org_id": barred.org(), "severity": "veto", "reason": "论文数据造假",
                      "expires_at": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339()});
    app.post("/admin/integrity-records", user.t(), &body).await.problem(403, "forbidden");
    app.post(
        "/admin/integrity-records",
        admin.t(),
        &json!({"org_id": barred.org(), "user_id": user.id, "severity": "veto", "reason": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post("/admin/integrity-records", admin.t(), &json!({"severity": "veto", "reason": "x"}))
        .await
        .problem(422, "validation_failed");
    app.post(
        "/admin/integrity-records",
        admin.t(),
        &json!({"org_id": barred.org(), "severity": "mild", "reason": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    let warning_body = json!({"org_id": barred.org(), "severity": "warning", "reason": "逾期提交报告"});
    let warning = app.post("/admin/integrity-records", admin.t(), &warning_body).await.expect(201);
    assert_eq!(app.get(&format!("/organizations/{}", barred.org()), None).await.expect(200)["integrity"], "warning");
    let veto = app.post("/admin/integrity-records", admin.t(), &body).await.expect(201);
    assert_eq!(veto["active"], true);
    assert_eq!(app.get(&format!("/organizations/{}", barred.org()), None).await.expect(200)["integrity"], "veto");

    // A veto bars bidding; a member of the org is barred too.
    let deadline = (app.clock.now() + chrono::Duration::days(60)).to_rfc3339();
    let challenge = json!({
        "title": "耐高温陶瓷涂层", "description": "燃气轮机叶片涂层。", "field": "new_materials",
        "indicators": [{"name": "寿命", "target": "≥1000h"}], "reward_fen": 100, "mode": "single", "max_winners": 1,
        "bid_deadline": deadline, "eligible_kinds": ["university"],
        "milestones": [{"title": "交付", "due_date": "2027-12-31", "payment_fen": 100}],
    });
    let cid = app.post("/challenges", issuer.t(), &challenge).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{cid}/submit"), issuer.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{cid}/approve"), admin.t(), &json!({})).await.expect(200);
    let member = app.add_member(&barred).await;
    app.post(&format!("/challenges/{cid}/bids"), member.t(), &bid_body()).await.problem(403, "integrity_veto");

    // Listing filters and the record list.
    let active =
        app.get(&format!("/admin/integrity-records?org_id={}&active=true", barred.org()), admin.t()).await.expect(200);
    assert_eq!(active["total"], 2);
    // An expired veto no longer bars.
    app.clock.advance(chrono::Duration::days(31));
    assert_eq!(app.get(&format!("/organizations/{}", barred.org()), None).await.expect(200)["integrity"], "warning");
    let active =
        app.get(&format!("/admin/integrity-records?org_id={}&active=true", barred.org()), admin.t()).await.expect(200);
    assert_eq!(active["total"], 1);
    let challenge2 = {
        let mut c = challenge.clone();
        c["bid_deadline"] = json!((app.clock.now() + chrono::Duration::days(60)).to_rfc3339());
        c
    };
    let cid2 = app.post("/challenges", issuer.t(), &challenge2).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{cid2}/submit"), issuer.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{cid2}/approve"), admin.t(), &json!({})).await.expect(200);
    app.post(&format!("/challenges/{cid2}/bids"), member.t(), &bid_body()).await.expect(201);

    // A user's own veto follows them; lifting ends it early and keeps the history.
    let personal = app
        .post(
            "/admin/integrity-records",
            admin.t(),
            &json!({"user_id": member.id, "severity": "veto", "reason": "伪造签名"}),
        )
        .await
        .expect(201);
    let other_org_bidder = app.member("university").await;
    app.post(&format!("/challenges/{cid2}/bids"), other_org_bidder.t(), &bid_body()).await.expect(201);
    let lift = format!("/admin/integrity-records/{}/lift", personal["id"].as_str().unwrap());
    app.post(&lift, admin.t(), &json!({"reason": ""})).await.problem(422, "validation_failed");
    let lifted = app.post(&lift, admin.t(), &json!({"reason": "申诉成立"})).await.expect(200);
    assert_eq!(lifted["active"], false);
    assert_eq!(lifted["lift_reason"], "申诉成立");
    app.post(&lift, admin.t(), &json!({"reason": "再次"})).await.problem(409, "invalid_state_transition");
    let history = app.get(&format!("/admin/integrity-records?user_id={}", member.id), admin.t()).await.expect(200);
    assert_eq!(history["total"], 1);

    // The organization and the user were told; everything is in the audit log.
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", barred.t()).await.expect(200);
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "integrity_record_created"));
    let audit = app.get("/admin/audit?entity_type=integrity_record", admin.t()).await.expect(200);
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"integrity.create") && actions.contains(&"integrity.lift"));
    let _ = warning;
}
