//! Achievements and demands: lifecycle, permissions, visibility, search, review queue,
//! subscriptions and index convergence.

use serde_json::json;

use crate::helpers::{TestApp, achievement_body, demand_body, spawn_app};

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn only_verified_universities_and_institutes_list_achievements() {
    let app = spawn_app().await;
    let body = achievement_body("高效钙钛矿太阳能电池", "采用两步法制备大面积钙钛矿薄膜，效率超过百分之二十。");
    let university = app.member("university").await;
    let created = app.post("/achievements", university.t(), &body).await.expect(201);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["org_id"], university.org());
    assert_eq!(created["patent_numbers"], json!(["CN202310123456.6"]));

    let enterprise = app.member("enterprise").await;
    app.post("/achievements", enterprise.t(), &body).await.problem(403, "forbidden");
    let pending = app.pending_member("institute").await;
    app.post("/achievements", pending.t(), &body).await.problem(403, "organization_not_verified");
    let loner = app.user().await;
    app.post("/achievements", loner.t(), &body).await.problem(403, "organization_not_verified");
    app.post("/achievements", None, &body).await.problem(401, "unauthorized");
    let mine = app.get("/achievements?mine=true", pending.t()).await.expect(200);
    assert_eq!(mine["total"], 0, "nothing was created for the unverified organization");

    let mut bad = body.clone();
    bad["trl"] = json!(10);
    bad["patent_numbers"] = json!(["CN202310123456.7"]);
    bad["transfer_modes"] = json!([]);
    let problem = app.post("/achievements", university.t(), &bad).await.problem(422, "validation_failed");
    for field in ["trl", "patent_numbers", "transfer_modes"] {
        assert!(problem["errors"][field].is_array(), "{field}: {problem}");
    }
    let mut bad_field = body.clone();
    bad_field["field"] = json!("astrology");
    app.post("/achievements", university.t(), &bad_field).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn achievement_lifecycle_and_its_guards() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let admin = app.admin().await;
    let other = app.member("institute").await;
    let created =
        app.post("/achievements", owner.t(), &achievement_body("旧标题", "足够长的成果简介，描述方法与指标。")).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_owned();
    let path = format!("/achievements/{id}");

    let edited = app.patch(&path, owner.t(), &json!({"title": "新标题", "asking_price_fen": null})).await.expect(200);
    assert_eq!(edited["title"], "新标题");
    assert!(edited["asking_price_fen"].is_null());
    assert_eq!(edited["trl"], 6, "untouched keys keep their values");
    app.patch(&path, other.t(), &json!({"title": "别人的修改"})).await.problem(404, "not_found");
    app.patch(&path, owner.t(), &json!({"trl": 0})).await.problem(422, "validation_failed");

    app.post(&format!("/admin/achievements/{id}/approve"), admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    let submitted = app.post(&format!("{path}/submit"), owner.t(), &json!({})).await.expect(200);
    assert_eq!(submitted["status"], "pending_review");
    assert!(submitted["submitted_at"].is_string());
    app.post(&format!("{path}/submit"), owner.t(), &json!({})).await.problem(409, "invalid_state_transition");
    app.patch(&path, owner.t(), &json!({"title": "审核中不能改"})).await.problem(409, "invalid_state_transition");

    app.post(&format!("/admin/achievements/{id}/reject"), owner.t(), &json!({"reason": "x"}))
        .await
        .problem(403, "forbidden");
    let rejected =
        app.post(&format!("/admin/achievements/{id}/reject"), admin.t(), &json!({"reason": "专利号与简介不符"})).await;
    assert_eq!(rejected.expect(200)["reject_reason"], "专利号与简介不符");
    app.patch(&path, owner.t(), &json!({"summary": "修改后的成果简介，补充了专利信息。"})).await.expect(200);
    app.post(&format!("{path}/submit"), owner.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/achievements/{id}/approve"), owner.t(), &json!({})).await.problem(403, "forbidden");
    let published = app.post(&format!("/admin/achievements/{id}/approve"), admin.t(), &json!({})).await.expect(200);
    assert_eq!(published["status"], "published");
    assert!(published["reject_reason"].is_null());
    app.patch(&path, owner.t(), &json!({"title": "发布后不能改"})).await.problem(409, "invalid_state_transition");

    // A published listing is public, so another organization gets 403 rather than 404.
    app.post(&format!("{path}/withdraw"), other.t(), &json!({})).await.problem(403, "forbidden");
    let withdrawn = app.post(&format!("{path}/withdraw"), owner.t(), &json!({})).await.expect(200);
    assert_eq!(withdrawn["status"], "withdrawn");
    app.post(&format!("{path}/withdraw"), owner.t(), &json!({})).await.problem(409, "invalid_state_transition");

    let log = app.get(&format!("/admin/audit?entity_type=achievement&entity_id={id}"), admin.t()).await.expect(200);
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["listing.create", "listing.submit", "listing.reject", "listing.approve", "listing.withdraw"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn unpublished_listings_are_private() {
    let app = spawn_app().await;
    let owner = app.member("institute").await;
    let admin = app.admin().await;
    let stranger = app.user().await;
    let id = app
        .post("/achievements", owner.t(), &achievement_body("草稿成果", "仅本机构可见的草稿。"))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/achievements/{id}");
    app.get(&path, None).await.problem(404, "not_found");
    app.get(&path, stranger.t()).await.problem(404, "not_found");
    app.get(&path, owner.t()).await.expect(200);
    app.get(&path, admin.t()).await.expect(200);
    app.get("/achievements/not-a-uuid", None).await.problem(404, "not_found");
    assert!(!ids(&app.get("/achievements", None).await.expect(200)).contains(&id));
    assert!(ids(&app.get("/achievements?mine=true", owner.t()).await.expect(200)).contains(&id));
    app.get("/achievements?mine=true", None).await.problem(401, "unauthorized");
    // Other organizations cannot submit it either (they cannot see it).
    let other = app.member("university").await;
    app.post(&format!("{path}/submit"), other.t(), &json!({})).await.problem(404, "not_found");
}

#[tokio::test]
async fn search_finds_words_inside_text_and_applies_filters() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let admin = app.admin().await;
    let perovskite = app
        .publish(
            &owner,
            &admin,
            "achievement",
            &achievement_body(
                "新型光伏器件制备工艺",
                "本成果提出一种高效钙钛矿太阳能电池的低温制备方法，组件效率达到百分之二十二。",
            ),
        )
        .await;
    let mut battery_body =
        achievement_body("动力电池热失控预警系统", "基于多传感器融合的锂离子电池热失控早期预警，适用于储能电站。");
    battery_body["field"] = json!("electronic_information");
    battery_body["trl"] = json!(8);
    battery_body["asking_price_fen"] = json!(100_000_000);
    battery_body["transfer_modes"] = json!(["service"]);
    battery_body["region"] = json!("广东省");
    let battery = app.publish(&owner, &admin, "achievement", &battery_body).await;

    // A word that appears only inside the summary, segmented differently by jieba.
    let found = app.get("/achievements?q=钙钛矿", None).await.expect(200);
    assert_eq!(ids(&found), vec![perovskite.clone()], "{found}");
    assert_eq!(found["total"], 1);
    // Synonyms: 锂电池 finds 锂离子电池.
    assert_eq!(ids(&app.get("/achievements?q=锂电池", None).await.expect(200)), vec![battery.clone()]);
    assert_eq!(app.get("/achievements?q=量子计算", None).await.expect(200)["total"], 0);
    // Every part of a multi-word query must match.
    assert_eq!(app.get("/achievements?q=钙钛矿%20储能", None).await.expect(200)["total"], 0);

    let filtered = |query: &'static str| {
        let app = &app;
        async move { ids(&app.get(&format!("/achievements?{query}"), None).await.expect(200)) }
    };
    assert_eq!(filtered("q=电池&field=electronic_information").await, vec![battery.clone()]);
    assert_eq!(filtered("q=电池&min_trl=7").await, vec![battery.clone()]);
    assert_eq!(filtered("q=电池&max_price_fen=200000000").await, vec![battery.clone()]);
    assert_eq!(filtered("q=电池&transfer_mode=license").await, vec![perovskite.clone()]);
    assert_eq!(filtered("q=电池&region=广东省").await, vec![battery.clone()]);
    assert_eq!(
        filtered("field=electronic_information").await,
        vec![battery.clone()],
        "filters without q use the database"
    );
    assert_eq!(filtered("min_trl=7&transfer_mode=service").await, vec![battery.clone()]);
    let newest = filtered("q=电池&sort=newest").await;
    assert_eq!(newest, vec![battery.clone(), perovskite.clone()]);
    app.get("/achievements?min_trl=abc", None).await.problem(422, "validation_failed");
    app.get("/achievements?sort=random", None).await.problem(422, "validation_failed");
    app.get("/achievements?region=火星", None).await.problem(422, "validation_failed");

    // Withdrawn listings disappear from search at once.
    app.post(&format!("/achievements/{perovskite}/withdraw"), owner.t(), &json!({})).await.expect(200);
    assert_eq!(app.get("/achievements?q=钙钛矿", None).await.expect(200)["total"], 0);
}

#[tokio::test]
async fn demands_mirror_achievements() {
    let app = spawn_app().await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let university = app.member("university").await;
    let body =
        demand_body("光伏组件清洗机器人需求", "我公司运营大型地面光伏电站，希望引进无水清扫机器人，降低运维成本。");
    app.post("/demands", university.t(), &body).await.problem(403, "forbidden");
    let government = app.member("government").await;
    app.post("/demands", government.t(), &body).await.expect(201);
    let id = app.publish(&enterprise, &admin, "demand", &body).await;
    let shown = app.get(&format!("/demands/{id}"), None).await.expect(200);
    assert_eq!(shown["description"], body["description"]);
    assert_eq!(shown["min_trl"], 5);
    assert_eq!(shown["budget_fen"], 800_000_000);
    assert_eq!(shown["deadline"], "2027-06-30");
    assert_eq!(ids(&app.get("/demands?q=清洗机器人", None).await.expect(200)), vec![id.clone()]);
    assert_eq!(ids(&app.get("/demands?min_budget_fen=500000000", None).await.expect(200)), vec![id.clone()]);
    assert_eq!(app.get("/demands?max_budget_fen=100", None).await.expect(200)["total"], 0);
    let mut bad = body.clone();
    bad["deadline"] = json!("2027-13-01");
    app.post("/demands", enterprise.t(), &bad).await.problem(422, "validation_failed");
    app.post(&format!("/admin/demands/{id}/reject"), admin.t(), &json!({"reason": "已发布"}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn review_queue_lists_oldest_first_across_kinds() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let mut expected = Vec::new();
    for (owner, kind, body) in [
        (&university, "achievement", achievement_body("第一个成果", "成果简介一")),
        (&enterprise, "demand", demand_body("第一个需求", "需求描述一")),
        (&university, "achievement", achievement_body("第二个成果", "成果简介二")),
    ] {
        let id = app.post(&format!("/{kind}s"), owner.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.clock.advance(chrono::Duration::seconds(1));
        app.post(&format!("/{kind}s/{id}/submit"), owner.t(), &json!({})).await.expect(200);
        expected.push((kind.to_owned(), id));
    }
    app.get("/admin/review-queue", university.t()).await.problem(403, "forbidden");
    let queue = app.get("/admin/review-queue", admin.t()).await.expect(200);
    let got: Vec<(String, String)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap().to_owned(), i["id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(got, expected);
    let second_page = app.get("/admin/review-queue?per_page=2&page=2", admin.t()).await.expect(200);
    assert_eq!(second_page["total"], 3);
    assert_eq!(second_page["items"][0]["id"], expected[2].1.as_str());
}

#[tokio::test]
async fn subscribers_are_notified_and_get_a_daily_digest() {
    let app = spawn_app().await;
    let subscriber = app.user().await;
    let bystander = app.user().await;
    let owner = app.member("university").await;
    let admin = app.admin().await;
    let sub = app
        .post(
            "/me/subscriptions",
            subscriber.t(),
            &json!({"target": "achievement", "fields": ["new_energy"], "keywords": ["钙钛矿"], "region": "江苏省"}),
        )
        .await
        .expect(201);
    app.post("/me/subscriptions", bystander.t(), &json!({"target": "achievement", "fields": ["biomedicine"]}))
        .await
        .expect(201);
    app.post("/me/subscriptions", bystander.t(), &json!({"target": "gossip"})).await.problem(422, "validation_failed");
    app.post("/me/subscriptions", bystander.t(), &json!({"target": "demand", "region": "火星"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(app.get("/me/subscriptions", subscriber.t()).await.expect(200)["total"], 1);

    let id = app
        .publish(
            &owner,
            &admin,
            "achievement",
            &achievement_body("钙钛矿叠层电池", "钙钛矿与晶硅叠层电池的界面钝化技术。"),
        )
        .await;
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", subscriber.t()).await.expect(200);
    let hit = notes["items"].as_array().unwrap().iter().find(|n| n["kind"] == "subscription_match").cloned();
    assert_eq!(hit.expect("subscriber notified")["entity_id"], id.as_str());
    let other_notes = app.get("/me/notifications", bystander.t()).await.expect(200);
    assert!(other_notes["items"].as_array().unwrap().iter().all(|n| n["kind"] != "subscription_match"));

    // The next morning's digest emails the subscriber, once.
    app.clock.advance(chrono::Duration::days(1));
    app.run_due_jobs().await;
    let digests: Vec<_> = app.mails().into_iter().filter(|m| m.kind == "digest").collect();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].to, subscriber.email);
    assert!(digests[0].text.contains("钙钛矿叠层电池"));
    app.clock.advance(chrono::Duration::days(1));
    app.run_due_jobs().await;
    assert_eq!(app.mails().into_iter().filter(|m| m.kind == "digest").count(), 1, "items are sent once");

    let sub_id = sub["id"].as_str().unwrap();
    app.delete(&format!("/me/subscriptions/{sub_id}"), bystander.t()).await.problem(404, "not_found");
    assert_eq!(app.delete(&format!("/me/subscriptions/{sub_id}"), subscriber.t()).await.status, 204);
    assert_eq!(app.get("/me/subscriptions", subscriber.t()).await.expect(200)["total"], 0);
}

/// Catch-up pages by (updated_at, id): more rows stamped with one instant than fit in a page are
/// all applied, and the pass ends (paging by time alone re-read the same page for ever).
#[tokio::test]
async fn catch_up_pages_through_rows_that_share_one_instant() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = achievement_body(&format!("钙钛矿叠层电池 {i}"), "钙钛矿晶硅叠层太阳电池。");
        ids.push(app.post("/achievements", owner.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned());
    }
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let instant = techtransfer::db::time::to_db(app.clock.now());
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::listings;
        diesel::update(listings::table.filter(listings::id.eq_any(&ids)))
            .set((
                listings::status.eq("published"),
                listings::published_at.eq(instant),
                listings::updated_at.eq(instant),
            ))
            .execute(c)
            .unwrap();
    });
    let (db, search) = (app.state.db.clone(), app.state.search.clone());
    let pass =
        tokio::task::spawn_blocking(move || techtransfer::search::sync::catch_up_in_pages(&db, &search, since, 2));
    tokio::time::timeout(std::time::Duration::from_secs(20), pass)
        .await
        .expect("the catch-up pass ends")
        .unwrap()
        .unwrap();
    assert_eq!(app.get("/achievements?q=钙钛矿", None).await.expect(200)["total"], 5);
}

#[tokio::test]
async fn index_converges_through_catch_up_and_rebuild() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let admin = app.admin().await;
    let id = app
        .post("/achievements", owner.t(), &achievement_body("海水淡化反渗透膜", "高通量抗污染反渗透膜材料。"))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    // Another instance publishes it: this instance's index does not know yet.
    let now = app.clock.now();
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::listings;
        diesel::update(listings::table.find(&id))
            .set((
                listings::status.eq("published"),
                listings::published_at.eq(techtransfer::db::time::to_db(now)),
                listings::updated_at.eq(techtransfer::db::time::to_db(now)),
            ))
            .execute(c)
            .unwrap();
    });
    assert_eq!(app.get("/achievements?q=反渗透膜", None).await.expect(200)["total"], 0);
    techtransfer::search::sync::catch_up(&app.state.db, &app.state.search, since).unwrap();
    assert_eq!(ids(&app.get("/achievements?q=反渗透膜", None).await.expect(200)), vec![id.clone()]);

    let count = techtransfer::search::sync::rebuild(&app.state.db, &app.state.search).unwrap();
    assert_eq!(count, 1);
    assert_eq!(ids(&app.get("/achievements?q=海水淡化", None).await.expect(200)), vec![id]);
    let _ = (TestApp::org_body("university"), admin);
}
