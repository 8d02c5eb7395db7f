//! 供需对接: requests, answers, threads, permissions.

use serde_json::json;

use crate::helpers::{achievement_body, spawn_app};

#[tokio::test]
async fn request_accept_and_talk() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let achievement = app
        .publish(&university, &admin, "achievement", &achievement_body("固态电解质", "硫化物固态电解质制备。"))
        .await;

    let body = json!({"achievement_id": achievement, "message": "我们希望了解授权条件"});
    let created = app.post("/connections", enterprise.t(), &body).await.expect(201);
    assert_eq!(created["status"], "requested");
    assert_eq!(created["achievement_id"], achievement.as_str());
    assert!(created["demand_id"].is_null());
    assert!(created["contacts"].is_null(), "no contact details before acceptance");
    let id = created["id"].as_str().unwrap().to_owned();
    app.post("/connections", enterprise.t(), &body).await.problem(409, "duplicate_connection");
    app.post("/connections", university.t(), &body).await.problem(403, "forbidden");

    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", university.t()).await.expect(200);
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "connection_requested" && n["entity_id"] == id.as_str())
    );

    app.post(&format!("/connections/{id}/accept"), enterprise.t(), &json!({})).await.problem(403, "forbidden");
    let accepted = app.post(&format!("/connections/{id}/accept"), university.t(), &json!({})).await.expect(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["contacts"]["requester"]["user_email"], enterprise.email.as_str());
    assert_eq!(accepted["contacts"]["owner"]["contact_name"], "王工");
    app.post(&format!("/connections/{id}/accept"), university.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&format!("/connections/{id}/decline"), university.t(), &json!({"reason_code": "price"}))
        .await
        .problem(409, "invalid_state_transition");
    // Still live: a second request is refused.
    app.post("/connections", enterprise.t(), &body).await.problem(409, "duplicate_connection");

    let path = format!("/connections/{id}/messages");
    app.post(&path, enterprise.t(), &json!({"body": "请问许可费用？"})).await.expect(201);
    app.post(&path, university.t(), &json!({"body": "可以面谈。"})).await.expect(201);
    app.post(&path, enterprise.t(), &json!({"body": "  "})).await.problem(422, "validation_failed");
    let thread = app.get(&path, enterprise.t()).await.expect(200);
    let bodies: Vec<&str> = thread["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["请问许可费用？", "可以面谈。"]);
    let outsider = app.member("institute").await;
    app.get(&path, outsider.t()).await.problem(404, "not_found");
    app.post(&path, outsider.t(), &json!({"body": "插话"})).await.problem(404, "not_found");
    app.get(&format!("/connections/{id}"), outsider.t()).await.problem(404, "not_found");
    app.get(&format!("/connections/{id}"), admin.t()).await.expect(200);

    let sent = app.get("/connections?role=sent", enterprise.t()).await.expect(200);
    assert_eq!(sent["total"], 1);
    assert_eq!(app.get("/connections?role=received", enterprise.t()).await.expect(200)["total"], 0);
    assert_eq!(app.get("/connections?role=received&status=accepted", university.t()).await.expect(200)["total"], 1);
    app.get("/connections?role=sideways", university.t()).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn decline_with_a_reason_and_ask_again() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let demand = app
        .publish(
            &enterprise,
            &admin,
            "demand",
            &crate::helpers::demand_body("需要耐高温涂层", "燃气轮机叶片热障涂层需求。"),
        )
        .await;
    let body = json!({"demand_id": demand, "message": "我们有热障涂层成果"});
    let id = app.post("/connections", university.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    let decline = format!("/connections/{id}/decline");
    app.post(&decline, enterprise.t(), &json!({"reason_code": "because"})).await.problem(422, "validation_failed");
    let declined = app
        .post(&decline, enterprise.t(), &json!({"reason_code": "too_early", "reason": "项目明年启动"}))
        .await
        .expect(200);
    assert_eq!(declined["status"], "declined");
    let seen = app.get(&format!("/connections/{id}"), university.t()).await.expect(200);
    assert_eq!(seen["decline_reason_code"], "too_early");
    assert_eq!(seen["decline_reason"], "项目明年启动");
    app.post(&format!("/connections/{id}/messages"), university.t(), &json!({"body": "好的"}))
        .await
        .problem(409, "invalid_state_transition");
    // A declined request is not live: the organization may ask again later.
    app.post("/connections", university.t(), &body).await.expect(201);
}

#[tokio::test]
async fn who_may_request() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let admin = app.admin().await;
    let achievement = app.publish(&university, &admin, "achievement", &achievement_body("成果", "简介")).await;
    let body = json!({"achievement_id": achievement, "message": "你好"});
    app.post("/connections", None, &body).await.problem(401, "unauthorized");
    let pending = app.pending_member("enterprise").await;
    app.post("/connections", pending.t(), &body).await.problem(403, "organization_not_verified");
    let loner = app.user().await;
    app.post("/connections", loner.t(), &body).await.problem(403, "organization_not_verified");
    let enterprise = app.member("enterprise").await;
    app.post("/connections", enterprise.t(), &json!({"message": "两个都没有"})).await.problem(422, "validation_failed");
    app.post(
        "/connections",
        enterprise.t(),
        &json!({"achievement_id": achievement, "demand_id": achievement, "message": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    let draft = app.post("/achievements", university.t(), &achievement_body("草稿", "未发布")).await.expect(201);
    app.post("/connections", enterprise.t(), &json!({"achievement_id": draft["id"], "message": "x"}))
        .await
        .problem(404, "not_found");
    app.post(
        "/connections",
        enterprise.t(),
        &json!({"achievement_id": "00000000-0000-0000-0000-000000000000", "message": "x"}),
    )
    .await
    .problem(404, "not_found");

    // A research-integrity veto bars the organization from requesting.
    app.post(
        "/admin/integrity-records",
        admin.t(),
        &json!({"org_id": enterprise.org(), "severity": "veto", "reason": "伪造检测报告"}),
    )
    .await
    .expect(201);
    app.post("/connections", enterprise.t(), &body).await.problem(403, "integrity_veto");
}
