//! 揭榜挂帅: publication, bidding rules, expert review, award per mode, milestones and
//! payments, horse-race elimination, deadlines by the clock, visibility.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

pub fn challenge_body(app: &TestApp, mode: &str, max_winners: i32, publicity_days: i32) -> Value {
    let deadline = (app.clock.now() + chrono::Duration::days(10)).to_rfc3339();
    json!({
        "title": "航空发动机叶片内部缺陷智能检测",
        "description": "面向高温合金涡轮叶片，研制内部缺陷自动检测装备与算法。",
        "field": "advanced_manufacturing",
        "indicators": [{"name": "缺陷检出率", "target": "≥99%"}, {"name": "单件检测时间", "target": "≤5分钟"}],
        "reward_fen": 1_000_000,
        "mode": mode,
        "max_winners": max_winners,
        "bid_deadline": deadline,
        "publicity_days": publicity_days,
        "eligible_kinds": ["university", "institute"],
        "milestones": [
            {"title": "样机研制", "due_date": "2027-06-30", "payment_fen": 400_000},
            {"title": "现场验证", "due_date": "2027-12-31", "payment_fen": 600_000},
        ],
    })
}

struct Setup {
    app: TestApp,
    issuer: TestUser,
    admin: TestUser,
    id: String,
}

async fn open_challenge(mode: &str, max_winners: i32, publicity_days: i32) -> Setup {
    let app = spawn_app().await;
    let issuer = app.member("enterprise").await;
    let admin = app.admin().await;
    let body = challenge_body(&app, mode, max_winners, publicity_days);
    let created = app.post("/challenges", issuer.t(), &body).await.expect(201);
    assert_eq!(created["status"], "draft");
    let id = created["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{id}/submit"), issuer.t(), &json!({})).await.expect(200);
    let open = app.post(&format!("/admin/challenges/{id}/approve"), admin.t(), &json!({})).await.expect(200);
    assert_eq!(open["status"], "open");
    Setup { app, issuer, admin, id }
}

fn bid_body() -> Value {
    json!({"proposal": "基于相控阵超声与深度学习的叶片检测方案", "budget_fen": 900_000, "plan": "分两阶段实施",
           "team": [{"name": "张教授", "title": "首席科学家"}]})
}

async fn bid(s: &Setup, bidder: &TestUser) -> String {
    s.app.post(&format!("/challenges/{}/bids", s.id), bidder.t(), &bid_body()).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn close_bidding(s: &Setup) {
    s.app.clock.advance(chrono::Duration::days(11));
}

#[tokio::test]
async fn creation_rules() {
    let app = spawn_app().await;
    let issuer = app.member("enterprise").await;
    let mut body = challenge_body(&app, "single", 1, 0);
    body["reward_fen"] = json!(999_999);
    let p = app.post("/challenges", issuer.t(), &body).await.problem(422, "validation_failed");
    assert!(p["errors"]["milestones"].is_array(), "payments must add up to the reward: {p}");
    let mut two = challenge_body(&app, "single", 2, 0);
    two["max_winners"] = json!(2);
    app.post("/challenges", issuer.t(), &two).await.problem(422, "validation_failed");
    app.post("/challenges", issuer.t(), &challenge_body(&app, "horse_race", 1, 0))
        .await
        .problem(422, "validation_failed");
    app.post("/challenges", issuer.t(), &challenge_body(&app, "horse_race", 6, 0))
        .await
        .problem(422, "validation_failed");
    let mut past = challenge_body(&app, "single", 1, 0);
    past["bid_deadline"] = json!((app.clock.now() - chrono::Duration::hours(1)).to_rfc3339());
    app.post("/challenges", issuer.t(), &past).await.problem(422, "validation_failed");
    app.post("/challenges", issuer.t(), &challenge_body(&app, "single", 1, 16)).await.problem(422, "validation_failed");
    let university = app.member("university").await;
    app.post("/challenges", university.t(), &challenge_body(&app, "single", 1, 0)).await.problem(403, "forbidden");
    let pending = app.pending_member("enterprise").await;
    app.post("/challenges", pending.t(), &challenge_body(&app, "single", 1, 0))
        .await
        .problem(403, "organization_not_verified");
    // Drafts are private.
    let draft = app.post("/challenges", issuer.t(), &challenge_body(&app, "single", 1, 0)).await.expect(201);
    let path = format!("/challenges/{}", draft["id"].as_str().unwrap());
    app.get(&path, None).await.problem(404, "not_found");
    app.get(&path, issuer.t()).await.expect(200);
    assert_eq!(draft["milestones"].as_array().unwrap().len(), 2);
    assert!(draft["milestones"][0]["id"].is_string());
}

#[tokio::test]
async fn bidding_rules() {
    let s = open_challenge("single", 1, 0).await;
    let app = &s.app;
    let path = format!("/challenges/{}/bids", s.id);
    let university = app.member("university").await;
    let first = bid(&s, &university).await;
    app.post(&path, university.t(), &bid_body()).await.problem(409, "duplicate_bid");
    app.post(&path, s.issuer.t(), &bid_body()).await.problem(403, "forbidden");
    let enterprise = app.member("enterprise").await;
    app.post(&path, enterprise.t(), &bid_body()).await.problem(403, "forbidden"); // ineligible kind
    let pending = app.pending_member("institute").await;
    app.post(&path, pending.t(), &bid_body()).await.problem(403, "organization_not_verified");

    // A consortium: at most four verified partners, never the issuer.
    let institute = app.member("institute").await;
    let mut partners = Vec::new();
    for _ in 0..5 {
        partners.push(app.member("university").await.org().to_owned());
    }
    let mut too_many = bid_body();
    too_many["partner_org_ids"] = json!(partners);
    let p = app.post(&path, institute.t(), &too_many).await.problem(422, "validation_failed");
    assert!(p["errors"]["partner_org_ids"].is_array());
    let mut with_issuer = bid_body();
    with_issuer["partner_org_ids"] = json!([s.issuer.org()]);
    app.post(&path, institute.t(), &with_issuer).await.problem(422, "validation_failed");
    let mut unverified_partner = bid_body();
    unverified_partner["partner_org_ids"] = json!([pending.org()]);
    app.post(&path, institute.t(), &unverified_partner).await.problem(422, "validation_failed");
    let mut consortium = bid_body();
    consortium["partner_org_ids"] = json!(partners[..4]);
    let c = app.post(&path, institute.t(), &consortium).await.expect(201);
    assert_eq!(c["partner_org_ids"].as_array().unwrap().len(), 4);

    // Withdraw frees the organization to bid again; bidders see only their own bids.
    app.post(&format!("{path}/{first}/withdraw"), institute.t(), &json!({})).await.problem(404, "not_found");
    app.post(&format!("{path}/{first}/withdraw"), university.t(), &json!({})).await.expect(200);
    let again = bid(&s, &university).await;
    let mine = app.get(&path, university.t()).await.expect(200);
    let ids: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&again.as_str()) && ids.contains(&first.as_str()) && ids.len() == 2, "{ids:?}");
    // The issuer sees bids only after the deadline.
    app.get(&path, s.issuer.t()).await.problem(403, "forbidden");

    // After the deadline: closed for bidding and withdrawal, read as bidding_closed at once.
    close_bidding(&s);
    let late = app.member("university").await;
    app.post(&path, late.t(), &bid_body()).await.problem(409, "bidding_closed");
    app.post(&format!("{path}/{again}/withdraw"), university.t(), &json!({})).await.problem(409, "bidding_closed");
    assert_eq!(app.get(&format!("/challenges/{}", s.id), None).await.expect(200)["status"], "bidding_closed");
    assert_eq!(app.get(&path, s.issuer.t()).await.expect(200)["items"].as_array().unwrap().len(), 3);
    // The scheduled job persists it.
    app.run_due_jobs().await;
    let stored: String = app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::challenges;
        challenges::table.find(&s.id).select(challenges::status).first(c).unwrap()
    });
    assert_eq!(stored, "bidding_closed");
}

#[tokio::test]
async fn review_award_and_milestones_single() {
    let s = open_challenge("single", 1, 3).await;
    let app = &s.app;
    let a = app.member("university").await;
    let b = app.member("institute").await;
    let bid_a = bid(&s, &a).await;
    let bid_b = bid(&s, &b).await;
    let experts_path = format!("/admin/challenges/{}/experts", s.id);
    let expert1 = app.expert().await;
    let expert2 = app.expert().await;
    // Review starts after the deadline.
    app.post(&experts_path, s.admin.t(), &json!({"user_ids": [expert1.id]}))
        .await
        .problem(409, "invalid_state_transition");
    close_bidding(&s);
    // Conflict of interest: an expert from a bidding organization.
    let conflicted = app.add_member(&a).await;
    let make_expert =
        app.post(&format!("/admin/users/{}/role", conflicted.id), s.admin.t(), &json!({"role": "expert"})).await;
    make_expert.expect(200);
    app.post(&experts_path, s.admin.t(), &json!({"user_ids": [conflicted.id]}))
        .await
        .problem(409, "conflict_of_interest");
    let not_expert = app.user().await;
    app.post(&experts_path, s.admin.t(), &json!({"user_ids": [not_expert.id]})).await.problem(422, "validation_failed");
    app.post(&experts_path, s.issuer.t(), &json!({"user_ids": [expert1.id]})).await.problem(403, "forbidden");
    let reviewed =
        app.post(&experts_path, s.admin.t(), &json!({"user_ids": [expert1.id, expert2.id]})).await.expect(200);
    assert_eq!(reviewed["status"], "under_review");
    assert_eq!(reviewed["experts_assigned"], 2);

    let score = |bid: &str| format!("/challenges/{}/bids/{bid}/score", s.id);
    let outsider = app.expert().await;
    app.put(&score(&bid_a), outsider.t(), &json!({"technical": 80, "team": 80, "budget": 80, "comment": "x"}))
        .await
        .problem(403, "forbidden");
    app.put(&score(&bid_a), expert1.t(), &json!({"technical": 101, "team": 80, "budget": 80}))
        .await
        .problem(422, "validation_failed");
    app.put(&score(&bid_a), expert1.t(), &json!({"technical": 50, "team": 50, "budget": 50, "comment": "初稿"}))
        .await
        .expect(200);
    let overwritten = app
        .put(&score(&bid_a), expert1.t(), &json!({"technical": 90, "team": 85, "budget": 80, "comment": "方案成熟"}))
        .await
        .expect(200);
    assert_eq!(overwritten["total"], 255);
    app.put(
        &score(&bid_b),
        expert1.t(),
        &json!({"technical": 70, "team": 70, "budget": 70, "comment": "指标论证不足"}),
    )
    .await
    .expect(200);
    app.put(&score(&bid_a), expert2.t(), &json!({"technical": 88, "team": 80, "budget": 82, "comment": ""}))
        .await
        .expect(200);

    let award_path = format!("/challenges/{}/award", s.id);
    app.post(&award_path, s.issuer.t(), &json!({"bid_ids": [bid_a]})).await.problem(409, "scores_incomplete");
    app.put(&score(&bid_b), expert2.t(), &json!({"technical": 60, "team": 65, "budget": 75, "comment": "团队偏弱"}))
        .await
        .expect(200);
    let ranking = app.get(&format!("/challenges/{}/ranking", s.id), s.issuer.t()).await.expect(200);
    assert_eq!(ranking["items"][0]["bid_id"], bid_a.as_str());
    let mut totals: Vec<i64> =
        ranking["items"][0]["expert_totals"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    totals.sort();
    assert_eq!(totals, vec![250, 255]);
    assert_eq!(ranking["items"][0]["aggregate_score"], 252.5);
    app.get(&format!("/challenges/{}/ranking", s.id), a.t()).await.problem(403, "forbidden");

    app.post(&award_path, a.t(), &json!({"bid_ids": [bid_a]})).await.problem(403, "forbidden");
    app.post(&award_path, s.issuer.t(), &json!({"bid_ids": [bid_a, bid_b]})).await.problem(422, "validation_failed");
    app.post(&award_path, s.issuer.t(), &json!({"bid_ids": []})).await.problem(422, "validation_failed");
    let awarded = app.post(&award_path, s.issuer.t(), &json!({"bid_ids": [bid_a]})).await.expect(200);
    assert_eq!(awarded["status"], "publicizing");
    assert_eq!(awarded["winners"], json!([bid_a]));
    app.put(&score(&bid_a), expert1.t(), &json!({"technical": 1, "team": 1, "budget": 1}))
        .await
        .problem(409, "invalid_state_transition");

    // Losers learn their score, rank and the experts' comments.
    let feedback = app.get(&format!("/challenges/{}/bids/{bid_b}/feedback", s.id), b.t()).await.expect(200);
    assert_eq!(feedback["rank"], 2);
    assert_eq!(feedback["bids_total"], 2);
    assert_eq!(feedback["aggregate_score"], 205.0);
    let mut comments: Vec<&str> =
        feedback["comments"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    comments.sort();
    assert_eq!(comments, vec!["团队偏弱", "指标论证不足"]);
    app.get(&format!("/challenges/{}/bids/{bid_b}/feedback", s.id), a.t()).await.problem(404, "not_found");
    app.run_due_jobs().await;
    let notes = app.get("/me/notifications", b.t()).await.expect(200);
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "award_result"));

    // Milestones: not during the notice period; deliver, reject, deliver, accept.
    let m1 = awarded["milestones"][0]["id"].as_str().unwrap().to_owned();
    let m2 = awarded["milestones"][1]["id"].as_str().unwrap().to_owned();
    let ms = |m: &str, action: &str| format!("/challenges/{}/milestones/{m}/{action}", s.id);
    app.post(&ms(&m1, "deliver"), a.t(), &json!({"bid_id": bid_a, "report": "样机完成"}))
        .await
        .problem(409, "invalid_state_transition");
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(app.get(&format!("/challenges/{}", s.id), None).await.expect(200)["status"], "in_progress");
    app.post(&ms(&m1, "accept"), s.issuer.t(), &json!({"bid_id": bid_a}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&ms(&m1, "deliver"), b.t(), &json!({"bid_id": bid_b, "report": "x"})).await.problem(404, "not_found");
    app.post(&ms(&m1, "deliver"), a.t(), &json!({"bid_id": bid_a, "report": "样机完成"})).await.expect(200);
    let sent_back = app
        .post(&ms(&m1, "reject"), s.issuer.t(), &json!({"bid_id": bid_a, "reason": "检出率未达标"}))
        .await
        .expect(200);
    assert_eq!(
        sent_back["progress"].as_array().unwrap().iter().find(|p| p["milestone_id"] == m1.as_str()).unwrap()["status"],
        "pending"
    );
    app.post(&ms(&m1, "deliver"), a.t(), &json!({"bid_id": bid_a, "report": "改进后样机"})).await.expect(200);
    let accepted = app.post(&ms(&m1, "accept"), s.issuer.t(), &json!({"bid_id": bid_a})).await.expect(200);
    assert_eq!(accepted["paid_fen"], 400_000);
    assert_eq!(accepted["payments"][0]["amount_fen"], 400_000);
    app.post(&ms(&m1, "accept"), s.issuer.t(), &json!({"bid_id": bid_a}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&ms(&m2, "deliver"), a.t(), &json!({"bid_id": bid_a, "report": "现场验证报告"})).await.expect(200);
    let done = app.post(&ms(&m2, "accept"), s.issuer.t(), &json!({"bid_id": bid_a})).await.expect(200);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["paid_fen"], 1_000_000);
    app.post(&format!("/challenges/{}/cancel", s.id), s.issuer.t(), &json!({"reason": "晚了"}))
        .await
        .problem(409, "invalid_state_transition");

    let log = app.get(&format!("/admin/audit?entity_type=challenge&entity_id={}", s.id), s.admin.t()).await.expect(200);
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "challenge.create",
        "challenge.approve",
        "challenge.assign_experts",
        "challenge.award",
        "challenge.complete",
        "challenge.payment",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn horse_race_elimination_and_payments_within_reward() {
    let s = open_challenge("horse_race", 3, 0).await;
    let app = &s.app;
    let teams = [app.member("university").await, app.member("institute").await, app.member("university").await];
    let mut bids = Vec::new();
    for t in &teams {
        bids.push(bid(&s, t).await);
    }
    close_bidding(&s);
    let experts: Vec<TestUser> =
        vec![app.expert().await, app.expert().await, app.expert().await, app.expert().await, app.expert().await];
    let ids: Vec<&str> = experts.iter().map(|e| e.id.as_str()).collect();
    app.post(&format!("/admin/challenges/{}/experts", s.id), s.admin.t(), &json!({"user_ids": ids})).await.expect(200);
    let totals = [[90, 80, 70, 60, 100], [50, 50, 50, 50, 50], [10, 20, 30, 40, 50]];
    for (b, scores) in bids.iter().zip(totals) {
        for (e, total) in experts.iter().zip(scores) {
            let per = total / 2;
            app.put(
                &format!("/challenges/{}/bids/{b}/score", s.id),
                e.t(),
                &json!({"technical": per, "team": total - per, "budget": 0}),
            )
            .await
            .expect(200);
        }
    }
    let ranking = app.get(&format!("/challenges/{}/ranking", s.id), s.admin.t()).await.expect(200);
    // Five experts: the highest and lowest totals are dropped.
    assert_eq!(ranking["items"][0]["aggregate_score"], 80.0);
    assert_eq!(ranking["items"][2]["aggregate_score"], 30.0);
    let award = format!("/challenges/{}/award", s.id);
    app.post(&award, s.issuer.t(), &json!({"bid_ids": [bids[0]]})).await.problem(422, "validation_failed");
    app.post(
        &award,
        s.issuer.t(),
        &json!({"bid_ids": bids.clone().into_iter().chain(["x".into()]).collect::<Vec<_>>()}),
    )
    .await
    .problem(422, "validation_failed");
    let awarded = app.post(&award, s.issuer.t(), &json!({"bid_ids": [bids[0], bids[1]]})).await.expect(200);
    assert_eq!(awarded["status"], "in_progress", "no notice period");
    let m1 = awarded["milestones"][0]["id"].as_str().unwrap().to_owned();
    let m2 = awarded["milestones"][1]["id"].as_str().unwrap().to_owned();
    let ms = |m: &str, action: &str| format!("/challenges/{}/milestones/{m}/{action}", s.id);
    // Both horses deliver the first milestone and share its tranche.
    for (t, b) in teams.iter().zip(&bids).take(2) {
        app.post(&ms(&m1, "deliver"), t.t(), &json!({"bid_id": b, "report": "阶段成果"})).await.expect(200);
        app.post(&ms(&m1, "accept"), s.issuer.t(), &json!({"bid_id": b})).await.expect(200);
    }
    let eliminate = format!("/challenges/{}/eliminate", s.id);
    app.post(&eliminate, s.issuer.t(), &json!({"bid_id": bids[1], "reason": "中期评估落后"})).await.expect(200);
    app.post(&eliminate, s.issuer.t(), &json!({"bid_id": bids[0], "reason": "最后一个"}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&ms(&m2, "deliver"), teams[1].t(), &json!({"bid_id": bids[1], "report": "x"}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&ms(&m2, "deliver"), teams[0].t(), &json!({"bid_id": bids[0], "report": "终期成果"})).await.expect(200);
    let done = app.post(&ms(&m2, "accept"), s.issuer.t(), &json!({"bid_id": bids[0]})).await.expect(200);
    assert_eq!(done["status"], "completed");
    let paid: i64 = done["payments"].as_array().unwrap().iter().map(|p| p["amount_fen"].as_i64().unwrap()).sum();
    assert_eq!(paid, done["paid_fen"].as_i64().unwrap());
    assert_eq!(paid, 1_000_000, "200k + 200k for the shared first tranche, then the full second");
    assert!(paid <= 1_000_000, "never beyond the reward");
}

#[tokio::test]
async fn single_mode_cannot_eliminate_and_experts_under_veto_are_refused() {
    let s = open_challenge("single", 1, 0).await;
    let app = &s.app;
    let team = app.member("university").await;
    let b = bid(&s, &team).await;
    close_bidding(&s);
    let expert = app.expert().await;
    app.post(
        "/admin/integrity-records",
        s.admin.t(),
        &json!({"user_id": expert.id, "severity": "veto", "reason": "评审造假"}),
    )
    .await
    .expect(201);
    app.post(&format!("/admin/challenges/{}/experts", s.id), s.admin.t(), &json!({"user_ids": [expert.id]}))
        .await
        .problem(409, "integrity_veto");
    let clean = app.expert().await;
    app.post(&format!("/admin/challenges/{}/experts", s.id), s.admin.t(), &json!({"user_ids": [clean.id]}))
        .await
        .expect(200);
    app.put(
        &format!("/challenges/{}/bids/{b}/score", s.id),
        clean.t(),
        &json!({"technical": 80, "team": 80, "budget": 80}),
    )
    .await
    .expect(200);
    app.post(&format!("/challenges/{}/award", s.id), s.issuer.t(), &json!({"bid_ids": [b]})).await.expect(200);
    app.post(&format!("/challenges/{}/eliminate", s.id), s.issuer.t(), &json!({"bid_id": b, "reason": "x"}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn listing_search_and_cancel() {
    let s = open_challenge("single", 1, 0).await;
    let app = &s.app;
    let listed = app.get("/challenges", None).await.expect(200);
    assert!(listed["items"].as_array().unwrap().iter().any(|c| c["id"] == s.id.as_str()));
    let found = app.get("/challenges?q=叶片", None).await.expect(200);
    assert_eq!(found["items"][0]["id"], s.id.as_str());
    assert_eq!(app.get("/challenges?q=叶片&status=completed", None).await.expect(200)["total"], 0);
    assert_eq!(app.get("/challenges?status=open&field=advanced_manufacturing", None).await.expect(200)["total"], 1);
    app.get("/challenges?status=sleeping", None).await.problem(422, "validation_failed");
    let stranger = app.member("enterprise").await;
    app.post(&format!("/challenges/{}/cancel", s.id), stranger.t(), &json!({"reason": "x"}))
        .await
        .problem(403, "forbidden");
    let cancelled = app
        .post(&format!("/challenges/{}/cancel", s.id), s.issuer.t(), &json!({"reason": "需求变更"}))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "需求变更");
    let u = app.member("university").await;
    app.post(&format!("/challenges/{}/bids", s.id), u.t(), &bid_body()).await.problem(409, "bidding_closed");
}

#[tokio::test]
async fn milestone_reports_reject_reasons_and_payments_are_for_the_parties_only() {
    let s = open_challenge("horse_race", 2, 0).await;
    let app = &s.app;
    let teams = [app.member("university").await, app.member("institute").await];
    let mut bids = Vec::new();
    for t in &teams {
        bids.push(bid(&s, t).await);
    }
    close_bidding(&s);
    let expert = app.expert().await;
    app.post(&format!("/admin/challenges/{}/experts", s.id), s.admin.t(), &json!({"user_ids": [expert.id]}))
        .await
        .expect(200);
    for b in &bids {
        app.put(
            &format!("/challenges/{}/bids/{b}/score", s.id),
            expert.t(),
            &json!({"technical": 40, "team": 30, "budget": 10}),
        )
        .await
        .expect(200);
    }
    let awarded =
        app.post(&format!("/challenges/{}/award", s.id), s.issuer.t(), &json!({"bid_ids": bids})).await.expect(200);
    let m1 = awarded["milestones"][0]["id"].as_str().unwrap().to_owned();
    let ms = |action: &str| format!("/challenges/{}/milestones/{m1}/{action}", s.id);
    // Team 0 is accepted (a payment), team 1 is sent back with a reason.
    app.post(&ms("deliver"), teams[0].t(), &json!({"bid_id": bids[0], "report": "甲队阶段报告"})).await.expect(200);
    app.post(&ms("accept"), s.issuer.t(), &json!({"bid_id": bids[0]})).await.expect(200);
    app.post(&ms("deliver"), teams[1].t(), &json!({"bid_id": bids[1], "report": "乙队阶段报告"})).await.expect(200);
    app.post(&ms("reject"), s.issuer.t(), &json!({"bid_id": bids[1], "reason": "乙队检出率未达标"})).await.expect(200);

    let path = format!("/challenges/{}", s.id);
    let seen_by = |view: &serde_json::Value| {
        let progress = view["progress"].as_array().unwrap();
        let texts: Vec<String> = progress
            .iter()
            .flat_map(|p| [p["report"].as_str(), p["reject_reason"].as_str()])
            .flatten()
            .map(str::to_owned)
            .collect();
        let paid_bids: Vec<String> =
            view["payments"].as_array().unwrap().iter().map(|p| p["bid_id"].as_str().unwrap().to_owned()).collect();
        (texts, paid_bids, progress.len())
    };
    // Anonymous readers and the public list: statuses and winners, no reports, reasons or payments.
    for view in [
        app.get(&path, None).await.expect(200),
        app.get("/challenges", None).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == s.id.as_str())
            .cloned()
            .unwrap(),
        app.get(&path, app.user().await.t()).await.expect(200),
    ] {
        let (texts, paid, progress) = seen_by(&view);
        assert!(texts.is_empty(), "{texts:?}");
        assert!(paid.is_empty(), "{paid:?}");
        assert_eq!(progress, 4, "every milestone of both winners, statuses public");
        assert_eq!(view["winners"].as_array().map(Vec::len), Some(2));
    }
    // Each team sees its own report and reason, not the other's.
    let (texts, paid, _) = seen_by(&app.get(&path, teams[0].t()).await.expect(200));
    assert_eq!(texts, vec!["甲队阶段报告".to_owned()]);
    assert_eq!(paid, vec![bids[0].clone()]);
    let (texts, paid, _) = seen_by(&app.get(&path, teams[1].t()).await.expect(200));
    assert_eq!(texts, vec!["乙队阶段报告".to_owned(), "乙队检出率未达标".to_owned()]);
    assert!(paid.is_empty());
    // The issuer, the assigned expert and admins see everything.
    for who in [&s.issuer, &expert, &s.admin] {
        let (texts, paid, _) = seen_by(&app.get(&path, who.t()).await.expect(200));
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert_eq!(paid, vec![bids[0].clone()]);
    }
}
