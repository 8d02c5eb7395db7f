//! The permission matrix: each operation × {anonymous, user without an organization, member
//! of an unverified organization, member of another organization, expert, admin, owner},
//! with the status the contract prescribes. Roles run in that order, the owner last, so a
//! refused caller never sees the owner's change. Someone else's private resource is 404.

use serde_json::{Value, json};

use sha2::Digest;

use crate::files::pdf;
use crate::helpers::{TestUser, achievement_body, demand_body, spawn_app};

const ROLES: [&str; 7] = ["anonymous", "no_org", "unverified", "other_org", "expert", "admin", "owner"];

struct Row {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Whose action `owner` is.
    owner: TestUser,
    /// Expected status per role, in `ROLES` order.
    expect: [u16; 7],
}

fn row(method: &'static str, path: String, body: Option<Value>, owner: &TestUser, expect: [u16; 7]) -> Row {
    Row { method, path, body, owner: owner.clone(), expect }
}

#[tokio::test]
async fn permission_matrix() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let provider = app.member("service_provider").await;
    let other = app.member("institute").await;
    let no_org = app.user().await;
    let unverified = app.pending_member("enterprise").await;
    let expert = app.expert().await;
    let spare_pending = app.pending_member("university").await;

    let ach_pub = app.publish(&university, &admin, "achievement", &achievement_body("公开成果", "公开成果简介")).await;
    let ach_withdraw = app.publish(&university, &admin, "achievement", &achievement_body("待撤回成果", "简介")).await;
    let ach_draft = app.post("/achievements", university.t(), &achievement_body("草稿成果", "简介")).await.expect(201)
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ach_pending =
        app.post("/achievements", university.t(), &achievement_body("待审成果", "简介")).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
    app.post(&format!("/achievements/{ach_pending}/submit"), university.t(), &json!({})).await.expect(200);
    let dem_pub = app.publish(&enterprise, &admin, "demand", &demand_body("公开需求", "需求描述")).await;
    let conn = app
        .post("/connections", enterprise.t(), &json!({"achievement_id": ach_pub, "message": "对接"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let challenge = json!({
        "title": "开放榜单", "description": "描述", "field": "new_materials",
        "indicators": [{"name": "指标", "target": "目标"}], "reward_fen": 100, "mode": "single", "max_winners": 1,
        "bid_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
        "eligible_kinds": ["institute", "university"],
        "milestones": [{"title": "交付", "due_date": "2027-12-31", "payment_fen": 100}],
    });
    let ch = app.post("/challenges", enterprise.t(), &challenge).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/challenges/{ch}/submit"), enterprise.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/challenges/{ch}/approve"), admin.t(), &json!({})).await.expect(200);
    let today = techtransfer::domain::voucher::shanghai_date(app.clock.now());
    let program_body = json!({
        "name": "创新券", "year": 2026, "total_budget_fen": 10_000_000, "per_enterprise_cap_fen": 1_000_000,
        "coverage_ratio_bp": 5000, "service_categories": ["inspection_testing"], "eligible_scales": ["small"], "valid_days": 90,
        "applications_open": today.to_string(), "applications_close": (today + chrono::Duration::days(30)).to_string(),
        "settle_by": (today + chrono::Duration::days(120)).to_string(),
    });
    let prog = app.post("/admin/voucher-programs", admin.t(), &program_body).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let apply = json!({"requested_fen": 100_000, "purpose": "检测", "service_category": "inspection_testing"});
    let application =
        app.post(&format!("/voucher-programs/{prog}/applications"), enterprise.t(), &apply).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let voucher = app
        .post(
            &format!("/admin/voucher-applications/{application}/approve"),
            admin.t(),
            &json!({"approved_fen": 100_000}),
        )
        .await
        .expect(200);
    let voucher_id = voucher["id"].as_str().unwrap().to_owned();
    let code = voucher["code"].as_str().unwrap().to_owned();
    let contract = json!({
        "kind": "license", "title": "许可合同", "seller_org_id": university.org(), "buyer_org_id": enterprise.org(),
        "amount_fen": 1000, "payment_plan": [{"due_date": "2027-01-01", "amount_fen": 1000}],
    });
    let k = app.post("/contracts", university.t(), &contract).await.expect(201)["id"].as_str().unwrap().to_owned();
    let fresh = app.user().await;
    // Invitations for the accept and decline rows, and a member for the removal row.
    let invitee = app.user().await;
    app.verify_email(&invitee).await;
    for org in [&university, &enterprise] {
        app.post(
            &format!("/organizations/{}/invitations", org.org()),
            org.t(),
            &json!({"email": invitee.email, "org_role": "member"}),
        )
        .await
        .expect(202);
    }
    let invites = app.get("/me/invitations", invitee.t()).await.expect(200);
    let invite_of = |org: &TestUser| {
        invites["items"].as_array().unwrap().iter().find(|i| i["org_id"] == org.org()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (invitation, second_invitation) = (invite_of(&university), invite_of(&enterprise));
    let removable = app.add_member(&university).await;
    // documents and NDA requests
    let annex = app.file(&university, "signed_contract", &pdf(200)).await;
    let mut contract2 = contract.clone();
    contract2["attachments"] = json!([{"file_id": annex, "purpose": "signed_contract"}]);
    app.post("/contracts", university.t(), &contract2).await.expect(201);
    let loose = app.file(&university, "other", &pdf(200)).await;
    let mut conf_body = achievement_body("保密成果", "简介");
    conf_body["confidential"] = json!({"text": "保密细节"});
    let ach_conf = app.publish(&university, &admin, "achievement", &conf_body).await;
    let requester = app.member("enterprise").await;
    let access = app
        .post(&format!("/achievements/{ach_conf}/access-requests"), requester.t(), &json!({}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nda = "保密协议文本";
    let nda_sha = crate::helpers::hex(&sha2::Sha256::digest(nda.as_bytes()));

    let rows = vec![
        // accounts and organizations
        row("GET", "/me".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
        row(
            "GET",
            format!("/organizations/{}", university.org()),
            None,
            &university,
            [200, 200, 200, 200, 200, 200, 200],
        ),
        row(
            "GET",
            format!("/organizations/{}", unverified.org()),
            None,
            &unverified,
            [404, 404, 200, 404, 404, 200, 200],
        ),
        row(
            "POST",
            format!("/organizations/{}/members", university.org()),
            Some(json!({"email": fresh.email, "org_role": "member"})),
            &university,
            [401, 403, 403, 403, 403, 403, 202],
        ),
        row(
            "POST",
            format!("/organizations/{}/invitations", university.org()),
            Some(json!({"email": fresh.email, "org_role": "member"})),
            &university,
            [401, 403, 403, 403, 403, 403, 202],
        ),
        row("GET", "/me/invitations".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
        row("POST", format!("/invitations/{invitation}/accept"), None, &invitee, [401, 404, 404, 404, 404, 403, 200]),
        row(
            "POST",
            format!("/invitations/{second_invitation}/decline"),
            None,
            &invitee,
            [401, 404, 404, 404, 404, 404, 200],
        ),
        row(
            "DELETE",
            format!("/organizations/{}/members/{}", university.org(), removable.id),
            None,
            &university,
            [401, 403, 403, 403, 403, 403, 204],
        ),
        row("POST", "/me/organization/leave".into(), None, &university, [401, 409, 409, 409, 409, 409, 409]),
        row(
            "POST",
            format!("/admin/organizations/{}/verify", spare_pending.org()),
            None,
            &spare_pending,
            [401, 403, 403, 403, 403, 200, 403],
        ),
        row(
            "POST",
            format!("/admin/users/{}/role", no_org.id),
            Some(json!({"role": "user"})),
            &university,
            [401, 403, 403, 403, 403, 200, 403],
        ),
        // achievements and demands
        row(
            "POST",
            "/achievements".into(),
            Some(achievement_body("新成果", "简介")),
            &university,
            [401, 403, 403, 201, 403, 403, 201],
        ),
        row("GET", format!("/achievements/{ach_draft}"), None, &university, [404, 404, 404, 404, 404, 200, 200]),
        row(
            "PATCH",
            format!("/achievements/{ach_draft}"),
            Some(json!({"title": "改"})),
            &university,
            [401, 404, 404, 404, 404, 403, 200],
        ),
        row(
            "POST",
            format!("/achievements/{ach_withdraw}/withdraw"),
            None,
            &university,
            [401, 403, 403, 403, 403, 403, 200],
        ),
        row(
            "POST",
            format!("/admin/achievements/{ach_pending}/approve"),
            None,
            &university,
            [401, 403, 403, 403, 403, 200, 403],
        ),
        row("GET", format!("/demands/{dem_pub}"), None, &enterprise, [200, 200, 200, 200, 200, 200, 200]),
        row("GET", format!("/demands/{dem_pub}/matches"), None, &enterprise, [401, 403, 403, 403, 403, 200, 200]),
        row("GET", format!("/achievements/{ach_pub}/matches"), None, &university, [401, 403, 403, 403, 403, 200, 200]),
        row("GET", "/admin/review-queue".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        // connections
        row(
            "POST",
            "/connections".into(),
            Some(json!({"demand_id": dem_pub, "message": "你好"})),
            &enterprise,
            [401, 403, 403, 201, 403, 403, 403],
        ),
        row("GET", format!("/connections/{conn}/messages"), None, &university, [401, 404, 404, 404, 404, 200, 200]),
        row("POST", format!("/connections/{conn}/accept"), None, &university, [401, 404, 404, 404, 404, 403, 200]),
        // challenges
        row("GET", format!("/challenges/{ch}"), None, &enterprise, [200, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            format!("/challenges/{ch}/bids"),
            Some(json!({"proposal": "p", "budget_fen": 1, "plan": "p", "team": [{"name": "a", "title": "b"}]})),
            &enterprise,
            [401, 403, 403, 201, 403, 403, 403],
        ),
        row("GET", format!("/challenges/{ch}/bids"), None, &enterprise, [401, 200, 200, 200, 200, 200, 403]),
        row("GET", format!("/challenges/{ch}/ranking"), None, &enterprise, [401, 403, 403, 403, 403, 200, 200]),
        row(
            "POST",
            format!("/admin/challenges/{ch}/experts"),
            Some(json!({"user_ids": [expert.id]})),
            &enterprise,
            [401, 403, 403, 403, 403, 409, 403],
        ),
        // vouchers
        row("GET", "/voucher-programs".into(), None, &enterprise, [200, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            format!("/voucher-programs/{prog}/applications"),
            Some(apply.clone()),
            &enterprise,
            [401, 403, 403, 403, 403, 403, 201],
        ),
        row("GET", format!("/vouchers/{voucher_id}"), None, &enterprise, [401, 404, 404, 404, 404, 200, 200]),
        row(
            "POST",
            "/voucher-redemptions".into(),
            Some(json!({"voucher_code": code, "service_fee_fen": 1000, "invoice_no": "FP", "description": "检测"})),
            &provider,
            [401, 403, 403, 403, 403, 403, 201],
        ),
        row(
            "GET",
            format!("/admin/voucher-programs/{prog}/summary"),
            None,
            &enterprise,
            [401, 403, 403, 403, 403, 200, 403],
        ),
        row(
            "GET",
            format!("/admin/voucher-programs/{prog}/ledger"),
            None,
            &enterprise,
            [401, 403, 403, 403, 403, 200, 403],
        ),
        // contracts
        row("GET", format!("/contracts/{k}"), None, &university, [401, 404, 404, 404, 404, 200, 200]),
        row("POST", format!("/contracts/{k}/sign"), None, &university, [401, 404, 404, 404, 404, 403, 200]),
        row("POST", format!("/admin/contracts/{k}/register"), None, &university, [401, 403, 403, 403, 403, 409, 403]),
        // files
        row("POST", "/files".into(), None, &university, [401, 403, 403, 415, 403, 415, 415]),
        row("GET", format!("/files/{annex}"), None, &university, [404, 404, 404, 404, 404, 200, 200]),
        row("DELETE", format!("/files/{loose}"), None, &university, [401, 404, 404, 404, 404, 404, 204]),
        // confidential detail and NDAs
        row(
            "POST",
            format!("/achievements/{ach_conf}/access-requests"),
            None,
            &university,
            [401, 403, 403, 201, 403, 403, 403],
        ),
        row(
            "GET",
            format!("/achievements/{ach_conf}/access-requests"),
            None,
            &university,
            [401, 403, 403, 403, 403, 200, 200],
        ),
        row(
            "POST",
            format!("/access-requests/{access}/grant"),
            Some(json!({"nda_text": nda})),
            &university,
            [401, 404, 404, 404, 404, 403, 200],
        ),
        row(
            "POST",
            format!("/access-requests/{access}/accept-nda"),
            Some(json!({"nda_sha256": nda_sha})),
            &requester,
            [401, 404, 404, 404, 404, 403, 200],
        ),
        row(
            "POST",
            format!("/access-requests/{access}/revoke"),
            None,
            &university,
            [401, 404, 404, 404, 404, 403, 200],
        ),
        // administration, notifications
        row("GET", "/admin/stats".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        row("GET", "/admin/audit".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        row("GET", "/admin/audit/verify".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        row("GET", "/admin/exports/contracts.csv".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        row("GET", "/admin/integrity-records".into(), None, &university, [401, 403, 403, 403, 403, 200, 403]),
        row("GET", "/me/notifications".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
        row("GET", "/connections".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
        row("GET", "/contracts".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
        row("GET", "/vouchers".into(), None, &university, [401, 200, 200, 200, 200, 200, 200]),
    ];

    let mut failures = Vec::new();
    for r in &rows {
        let callers: [Option<&TestUser>; 7] =
            [None, Some(&no_org), Some(&unverified), Some(&other), Some(&expert), Some(&admin), Some(&r.owner)];
        for ((role, caller), expected) in ROLES.iter().zip(callers).zip(r.expect) {
            let method = reqwest::Method::from_bytes(r.method.as_bytes()).unwrap();
            let body = r.body.clone().or_else(|| (r.method != "GET").then(|| json!({})));
            let res = app.send(method, &r.path, caller.map(|u| u.token.as_str()), body.as_ref()).await;
            if res.status != expected {
                failures.push(format!(
                    "{} {} as {role}: expected {expected}, got {} {}",
                    r.method, r.path, res.status, res.text
                ));
            }
            if res.status >= 400 {
                let ct = res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                if !ct.starts_with("application/problem+json") {
                    failures.push(format!("{} {} as {role}: {} without problem+json", r.method, r.path, res.status));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} permission mismatches:\n{}", failures.len(), failures.join("\n"));
}
