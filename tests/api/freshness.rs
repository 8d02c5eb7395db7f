//! Listing freshness and insights: demands expire at their deadline (the hourly job, driven by
//! the test clock) after one reminder, owners extend them, unconfirmed listings leave matching
//! until confirmed, and owners (and admins) read what their listings drew.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, achievement_body, spawn_app, spawn_app_with};

fn today(app: &TestApp) -> NaiveDate {
    (app.clock.now() + Duration::hours(8)).date_naive()
}

fn demand_until(title: &str, deadline: NaiveDate) -> Value {
    json!({
        "title": title,
        "description": "我公司在建高层项目现场同时运行多台塔式起重机，吊臂交叉作业存在碰撞风险，希望引进群塔防碰撞预警系统。",
        "field": "construction",
        "keywords": ["塔吊", "防碰撞", "群塔作业"],
        "min_trl": 6,
        "budget_fen": 100_000_000,
        "region": "江苏省",
        "deadline": deadline.to_string(),
    })
}

fn tower_crane_demand(title: &str) -> Value {
    let mut body = demand_until(title, NaiveDate::MAX);
    body.as_object_mut().unwrap().remove("deadline");
    body
}

fn tower_crane_achievement() -> Value {
    json!({
        "title": "群塔作业塔吊防碰撞监测预警系统",
        "summary": "基于北斗定位与吊臂姿态传感的塔吊防碰撞系统，实时计算多台塔吊的干涉区域并分级报警，已在多个工地应用。",
        "field": "construction", "keywords": ["塔吊", "防碰撞"], "trl": 7,
        "transfer_modes": ["license"], "asking_price_fen": 80_000_000, "negotiable": false, "region": "江苏省",
    })
}

/// The notifications of `kind` about `id` the user has.
async fn notices(app: &TestApp, user: &TestUser, kind: &str, id: &str) -> usize {
    let notes = app.get("/me/notifications?per_page=100", user.t()).await.expect(200);
    notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == kind && n["entity_id"] == id).count()
}

/// Moves the clock and runs what became due (the hourly sweep among it).
async fn pass(app: &TestApp, by: Duration) {
    app.clock.advance(by);
    app.run_due_jobs().await;
}

fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

async fn search_ids(app: &TestApp, kind: &str, q: &str) -> Vec<String> {
    ids(&app.get(&format!("/{kind}s?q={q}"), None).await.expect(200))
}

#[tokio::test]
async fn demands_expire_at_their_deadline_after_one_reminder() {
    let app = spawn_app().await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let deadline = today(&app) + Duration::days(10);
    let id = app.publish(&enterprise, &admin, "demand", &demand_until("群塔防碰撞预警需求", deadline)).await;
    let path = format!("/demands/{id}");
    app.run_due_jobs().await;

    // Eight days before it closes: no reminder yet.
    pass(&app, Duration::days(2)).await;
    assert_eq!(notices(&app, &enterprise, "demand_deadline_soon", &id).await, 0);
    // Inside the last seven days: one reminder, and only one however often the job runs.
    pass(&app, Duration::days(3) + Duration::hours(1)).await;
    assert_eq!(notices(&app, &enterprise, "demand_deadline_soon", &id).await, 1);
    pass(&app, Duration::days(1)).await;
    pass(&app, Duration::hours(1)).await;
    assert_eq!(notices(&app, &enterprise, "demand_deadline_soon", &id).await, 1);
    assert_eq!(app.get(&path, None).await.expect(200)["status"], "published");
    assert!(search_ids(&app, "demand", "塔吊").await.contains(&id));

    // Past the deadline day: the job expires it, tells the owner, and it leaves search.
    pass(&app, Duration::days(6)).await;
    let seen = app.get(&path, enterprise.t()).await.expect(200);
    assert_eq!(seen["status"], "expired");
    assert_eq!(notices(&app, &enterprise, "demand_expired", &id).await, 1);
    app.get(&path, None).await.problem(404, "not_found");
    assert!(!search_ids(&app, "demand", "塔吊").await.contains(&id));
    let audit = app.get(&format!("/admin/audit?entity_id={id}"), admin.t()).await.expect(200);
    let expired = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "listing.expire" && e["entity_id"] == id.as_str() && e["to_status"] == "expired");
    assert!(expired, "the expiry is audited: {audit}");
}

#[tokio::test]
async fn owners_extend_demands_to_a_future_date_and_expired_ones_return() {
    let app = spawn_app().await;
    let enterprise = app.member("enterprise").await;
    let colleague = app.add_member(&enterprise).await;
    let other = app.member("enterprise").await;
    let admin = app.admin().await;
    let id = app
        .publish(&enterprise, &admin, "demand", &demand_until("群塔防碰撞预警需求", today(&app) + Duration::days(2)))
        .await;
    let extend = format!("/demands/{id}/extend");
    let later = today(&app) + Duration::days(30);

    // Owner only: another enterprise and the administrator may not.
    app.post(&extend, other.t(), &json!({"deadline": later})).await.problem(403, "forbidden");
    app.post(&extend, admin.t(), &json!({"deadline": later})).await.problem(403, "forbidden");
    app.post(&extend, None, &json!({"deadline": later})).await.problem(401, "unauthorized");
    // A future date.
    for past in [today(&app), today(&app) - Duration::days(1)] {
        let refused =
            app.post(&extend, enterprise.t(), &json!({"deadline": past})).await.problem(422, "validation_failed");
        assert!(refused["errors"]["deadline"].is_array(), "{refused}");
    }
    app.post(&extend, enterprise.t(), &json!({})).await.problem(422, "validation_failed");

    let extended = app.post(&extend, colleague.t(), &json!({"deadline": later})).await.expect(200);
    assert_eq!(extended["status"], "published");
    assert_eq!(extended["deadline"], later.to_string());
    assert!(extended["confirmed_at"].is_string());
    assert_eq!(extended["stale"], false);

    // Past the new deadline it expires; extending publishes it again, without a new review.
    pass(&app, Duration::days(32)).await;
    assert_eq!(app.get(&format!("/demands/{id}"), enterprise.t()).await.expect(200)["status"], "expired");
    assert!(!search_ids(&app, "demand", "塔吊").await.contains(&id));
    let again = today(&app) + Duration::days(10);
    let back = app.post(&extend, enterprise.t(), &json!({"deadline": again})).await.expect(200);
    assert_eq!(back["status"], "published");
    assert_eq!(back["deadline"], again.to_string());
    assert_eq!(app.get(&format!("/demands/{id}"), None).await.expect(200)["status"], "published");
    assert!(search_ids(&app, "demand", "塔吊").await.contains(&id));

    // Only published or expired demands: a draft, or a withdrawn one, is 409.
    let draft = app.post("/demands", enterprise.t(), &demand_until("草稿需求", later)).await.expect(201);
    let draft = draft["id"].as_str().unwrap();
    app.post(&format!("/demands/{draft}/extend"), enterprise.t(), &json!({"deadline": later}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&format!("/demands/{id}/withdraw"), enterprise.t(), &json!({})).await.expect(200);
    app.post(&extend, enterprise.t(), &json!({"deadline": later})).await.problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn stale_listings_leave_matching_until_their_owner_confirms() {
    let app = spawn_app_with(|s| {
        s.matching.confirm_after_days = 30;
        s.matching.confirm_reminder_days = 5;
    })
    .await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let demand = app.publish(&enterprise, &admin, "demand", &tower_crane_demand("群塔防碰撞预警需求")).await;
    let achievement = app.publish(&university, &admin, "achievement", &tower_crane_achievement()).await;
    let demand_matches = format!("/demands/{demand}/matches");
    let achievement_matches = format!("/achievements/{achievement}/matches");
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).contains(&achievement));
    assert!(ids(&app.get(&achievement_matches, university.t()).await.expect(200)).contains(&demand));
    let fresh = app.get(&format!("/demands/{demand}"), enterprise.t()).await.expect(200);
    assert_eq!(fresh["stale"], false);
    assert!(fresh["confirmed_at"].is_null());

    // A reminder before, once.
    pass(&app, Duration::days(26)).await;
    pass(&app, Duration::hours(1)).await;
    assert_eq!(notices(&app, &enterprise, "listing_confirm_soon", &demand).await, 1);
    assert_eq!(notices(&app, &university, "listing_confirm_soon", &achievement).await, 1);
    assert_eq!(notices(&app, &enterprise, "listing_stale", &demand).await, 0);

    // 30 days after publication both are stale: out of matching in both directions.
    pass(&app, Duration::days(4)).await;
    assert_eq!(notices(&app, &enterprise, "listing_stale", &demand).await, 1);
    let seen = app.get(&format!("/demands/{demand}"), enterprise.t()).await.expect(200);
    assert_eq!(seen["stale"], true);
    assert_eq!(seen["status"], "published", "still published and searchable");
    assert!(search_ids(&app, "demand", "塔吊").await.contains(&demand));
    let mine = app.get("/demands?mine=true", enterprise.t()).await.expect(200);
    assert_eq!(mine["items"][0]["stale"], true);
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).is_empty());
    assert!(ids(&app.get(&achievement_matches, university.t()).await.expect(200)).is_empty());

    // Owner only; only published listings.
    let confirm_demand = format!("/demands/{demand}/confirm");
    app.post(&confirm_demand, university.t(), &json!({})).await.problem(403, "forbidden");
    app.post(&confirm_demand, admin.t(), &json!({})).await.problem(403, "forbidden");
    let draft = app.post("/demands", enterprise.t(), &tower_crane_demand("草稿")).await.expect(201);
    app.post(&format!("/demands/{}/confirm", draft["id"].as_str().unwrap()), enterprise.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");

    // The achievement confirmed: it matches again, but the stale demand is still left out.
    let confirmed =
        app.post(&format!("/achievements/{achievement}/confirm"), university.t(), &json!({})).await.expect(200);
    assert_eq!(confirmed["stale"], false);
    assert!(confirmed["confirmed_at"].is_string());
    assert!(!ids(&app.get(&achievement_matches, university.t()).await.expect(200)).contains(&demand));
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).is_empty());

    // The demand confirmed: both directions again.
    let confirmed = app.post(&confirm_demand, enterprise.t(), &json!({})).await.expect(200);
    assert_eq!(confirmed["stale"], false);
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).contains(&achievement));
    assert!(ids(&app.get(&achievement_matches, university.t()).await.expect(200)).contains(&demand));

    // The next period counts from the confirmation.
    pass(&app, Duration::days(29)).await;
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).contains(&achievement));
    pass(&app, Duration::days(2)).await;
    assert!(ids(&app.get(&demand_matches, enterprise.t()).await.expect(200)).is_empty());
}

/// Publication alerts go only to listings still in matching: one that went stale before the
/// alert job ran is not announced.
#[tokio::test]
async fn subscribers_hear_only_of_listings_still_in_matching() {
    let app = spawn_app_with(|s| s.matching.confirm_after_days = 30).await;
    let subscriber = app.user().await;
    let university = app.member("university").await;
    let admin = app.admin().await;
    app.post("/me/subscriptions", subscriber.t(), &json!({"target": "achievement", "keywords": ["塔吊"]}))
        .await
        .expect(201);
    let fresh = app.publish(&university, &admin, "achievement", &tower_crane_achievement()).await;
    app.run_due_jobs().await;
    assert_eq!(notices(&app, &subscriber, "subscription_match", &fresh).await, 1);

    let mut body = tower_crane_achievement();
    body["title"] = json!("塔吊吊钩可视化防碰撞系统");
    let late = app.publish(&university, &admin, "achievement", &body).await;
    // The alert job runs only after the listing went stale (a worker that was down a month).
    pass(&app, Duration::days(31)).await;
    assert_eq!(notices(&app, &subscriber, "subscription_match", &late).await, 0);
}

/// `GET …/insights` for `user` over `weeks`.
async fn insights(app: &TestApp, kind: &str, id: &str, user: &TestUser, weeks: Option<u32>) -> Value {
    let query = weeks.map(|w| format!("?weeks={w}")).unwrap_or_default();
    app.get(&format!("/{kind}s/{id}/insights{query}"), user.t()).await.expect(200)
}

#[tokio::test]
async fn insights_count_appearances_requests_and_answers_for_the_owner() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let admin = app.admin().await;
    let achievement = app.publish(&university, &admin, "achievement", &tower_crane_achievement()).await;
    let quiet =
        app.publish(&university, &admin, "achievement", &achievement_body("钙钛矿电池", "大面积钙钛矿薄膜。")).await;
    let mut enterprises = Vec::new();
    for n in 0..3 {
        let enterprise = app.member("enterprise").await;
        let demand =
            app.publish(&enterprise, &admin, "demand", &tower_crane_demand(&format!("群塔防碰撞需求{n}"))).await;
        enterprises.push((enterprise, demand));
    }

    // Match lists: the first enterprise looks twice, the second once, the third never.
    for (enterprise, demand) in [&enterprises[0], &enterprises[0], &enterprises[1]] {
        let list = app.get(&format!("/demands/{demand}/matches"), enterprise.t()).await.expect(200);
        assert!(ids(&list).contains(&achievement));
    }
    // An administrator looking is not the market looking.
    app.get(&format!("/demands/{}/matches", enterprises[2].1), admin.t()).await.expect(200);
    // Search pages: three (the repeats come from the answer cache and count too).
    for _ in 0..3 {
        assert!(search_ids(&app, "achievement", "塔吊").await.contains(&achievement));
    }
    // Requests: one accepted, two declined with reasons.
    let mut requests = Vec::new();
    for (enterprise, _) in &enterprises {
        let body = json!({"achievement_id": achievement, "message": "希望了解授权条件"});
        requests
            .push(app.post("/connections", enterprise.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned());
    }
    app.post(&format!("/connections/{}/accept", requests[0]), university.t(), &json!({})).await.expect(200);
    app.post(&format!("/connections/{}/decline", requests[1]), university.t(), &json!({"reason_code": "price"}))
        .await
        .expect(200);
    app.post(&format!("/connections/{}/decline", requests[2]), university.t(), &json!({"reason_code": "too_early"}))
        .await
        .expect(200);
    app.state.match_events.flush().await;

    let seen = insights(&app, "achievement", &achievement, &university, None).await;
    assert_eq!(seen["listing_id"], achievement.as_str());
    assert_eq!(seen["weeks"].as_array().unwrap().len(), 12, "twelve weeks by default");
    let totals = &seen["totals"];
    assert_eq!(totals["match_appearances"], 2, "distinct viewers per week: {seen}");
    assert_eq!(totals["search_appearances"], 3);
    assert_eq!(totals["connection_requests"], 3);
    assert_eq!(totals["accepted"], 1);
    assert_eq!(totals["declined"], 2);
    assert_eq!(seen["acceptance_bp"], 3333);
    assert_eq!(seen["decline_reasons"], json!([{"code": "price", "count": 1}, {"code": "too_early", "count": 1}]));
    let this_week = seen["weeks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(this_week["connection_requests"], 3);
    assert_eq!(this_week["search_appearances"], 3);
    assert!(this_week["week"].as_str().unwrap().contains("-W"));

    // A listing nobody looked at has zeros; the admin reads it too.
    let nothing = insights(&app, "achievement", &quiet, &admin, Some(2)).await;
    assert_eq!(nothing["weeks"].as_array().unwrap().len(), 2);
    assert_eq!(nothing["totals"]["match_appearances"], 0);
    assert!(nothing["acceptance_bp"].is_null());
    assert_eq!(insights(&app, "achievement", &achievement, &admin, Some(1)).await["totals"]["accepted"], 1);

    // Next week's report shows this week as the one before.
    app.clock.advance(Duration::days(7));
    let later = insights(&app, "achievement", &achievement, &university, Some(2)).await;
    let weeks = later["weeks"].as_array().unwrap();
    assert_eq!(
        (weeks[0]["connection_requests"].clone(), weeks[1]["connection_requests"].clone()),
        (json!(3), json!(0))
    );

    // Owner and admins only: others who see the listing 403, who cannot 404, anonymous 401.
    let path = format!("/achievements/{achievement}/insights");
    app.get(&path, enterprises[0].0.t()).await.problem(403, "forbidden");
    app.get(&path, None).await.problem(401, "unauthorized");
    let draft = app.post("/achievements", university.t(), &achievement_body("草稿成果", "未发布。")).await.expect(201);
    let draft = draft["id"].as_str().unwrap();
    app.get(&format!("/achievements/{draft}/insights"), enterprises[0].0.t()).await.problem(404, "not_found");
    insights(&app, "achievement", draft, &university, None).await;
    let demand = &enterprises[0].1;
    insights(&app, "demand", demand, &enterprises[0].0, None).await;
    app.get(&format!("/demands/{demand}/insights"), university.t()).await.problem(403, "forbidden");
    for weeks in ["0", "53", "x"] {
        app.get(&format!("{path}?weeks={weeks}"), university.t()).await.problem(422, "validation_failed");
    }
}

/// The demo shows insights with data, an expired demand and a stale achievement.
#[tokio::test]
async fn the_demo_shows_insights_an_expired_demand_and_a_stale_listing() {
    let app = spawn_app().await;
    let passwords = app.state.passwords.clone();
    let now = app.clock.now();
    let summary = app.with_conn(|c| techtransfer::demo::seed(c, &|p| passwords.hash(p), now, 0)).expect("seed");
    let showcase = &summary.freshness;
    let login = app.login("university1@demo.techtransfer.cn", techtransfer::demo::DEMO_PASSWORD).await.expect(200);
    let university = login["access_token"].as_str();
    let login = app.login("enterprise1@demo.techtransfer.cn", techtransfer::demo::DEMO_PASSWORD).await.expect(200);
    let enterprise = login["access_token"].as_str();

    let id = showcase.insights_achievement.as_deref().expect("an achievement with insights");
    let seen = app.get(&format!("/achievements/{id}/insights?weeks=6"), university).await.expect(200);
    let totals = &seen["totals"];
    for counted in ["match_appearances", "search_appearances", "connection_requests", "accepted", "declined"] {
        assert!(totals[counted].as_i64().unwrap() > 0, "{counted}: {seen}");
    }
    assert!(!seen["decline_reasons"].as_array().unwrap().is_empty());

    let expired = showcase.expired_demand.as_deref().expect("an expired demand");
    assert_eq!(app.get(&format!("/demands/{expired}"), enterprise).await.expect(200)["status"], "expired");
    let stale = showcase.stale_achievement.as_deref().expect("a stale achievement");
    assert_eq!(app.get(&format!("/achievements/{stale}"), university).await.expect(200)["stale"], true);
}
