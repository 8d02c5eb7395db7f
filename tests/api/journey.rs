//! The first journey of the README's "新用户上手" section, step by step as a new enterprise
//! user takes it: register, verify through the emailed link's page, log in, create an
//! organization, post a demand, read explained matches, apply for an innovation voucher.
//! Every message along the way is in Chinese (no `Accept-Language` is sent).

use serde_json::{Value, json};

use crate::helpers::{credit_code, spawn_app, unique};

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn a_new_enterprise_user_goes_from_registration_to_a_voucher_application() {
    let app = spawn_app().await;
    // What the platform already holds: a published achievement and an open voucher program.
    let admin = app.admin().await;
    let university = app.member("university").await;
    let achievement = json!({
        "title": "高导热石墨烯复合散热膜制备技术",
        "summary": "采用化学气相沉积与热压复合工艺制备石墨烯散热膜，面内导热系数 1500 W/m·K，用于手机和服务器散热。",
        "field": "new_materials", "keywords": ["石墨烯", "散热膜", "导热"], "trl": 7,
        "transfer_modes": ["license"], "asking_price_fen": 50_000_000, "negotiable": true, "region": "江苏省",
    });
    app.publish(&university, &admin, "achievement", &achievement).await;
    let today = app.clock.now().date_naive();
    let program = json!({
        "name": "2026年度科技创新券", "year": 2026,
        "total_budget_fen": 100_000_000, "per_enterprise_cap_fen": 3_000_000, "coverage_ratio_bp": 5000,
        "service_categories": ["inspection_testing", "rd_design"], "eligible_scales": ["small", "micro"],
        "valid_days": 90,
        "applications_open": today.to_string(),
        "applications_close": (today + chrono::Duration::days(30)).to_string(),
        "settle_by": (today + chrono::Duration::days(120)).to_string(),
    });
    app.post("/admin/voucher-programs", admin.t(), &program).await.expect(201);

    // 1. Register.
    let email = format!("zhang.gong{}@example.cn", unique());
    let password = "Suzhou-Graphene-2026";
    let registered = app
        .post("/auth/register", None, &json!({"email": email, "password": password, "display_name": "张工"}))
        .await
        .expect(201);
    assert_eq!(registered["status"], "unverified");

    // 2. Open the emailed link and confirm on its page.
    let link = app.mailed_link(&email, "verify_email").await;
    let page = app.raw(app.client.get(format!("{}{link}", app.addr))).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let token = link.split("token=").nth(1).expect("a token in the link");
    let confirmed = app.raw(app.client.post(format!("{}/verify-email", app.addr)).form(&[("token", token)])).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert!(confirmed.text.contains("邮箱已验证"));

    // 3. Log in.
    let tokens = app.login(&email, password).await.expect(200);
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/me", Some(&token)).await.expect(200);
    assert_eq!(me["status"], "active");

    // 4. Create the organization; a platform administrator verifies it.
    let org = json!({
        "name": format!("苏州新材科技有限公司{}", unique()), "kind": "enterprise",
        "credit_code": credit_code(unique()), "region": "江苏省", "enterprise_scale": "small",
        "description": "电子散热材料研发与生产", "contact_name": "张工", "contact_phone": "0512-66668888",
    });
    // A mistake first: the answer names the field in Chinese.
    let mut wrong = org.clone();
    wrong["region"] = json!("苏州");
    let refused = app.post("/organizations", Some(&token), &wrong).await.problem(422, "validation_failed");
    assert!(has_chinese(refused["errors"]["region"][0].as_str().unwrap()), "{refused}");
    let org = app.post("/organizations", Some(&token), &org).await.expect(201);
    let org_id = org["id"].as_str().unwrap();
    app.post(&format!("/admin/organizations/{org_id}/verify"), admin.t(), &json!({})).await.expect(200);

    // 5. Post a demand and submit it for review; the administrator publishes it.
    let demand = json!({
        "title": "手机散热用高导热石墨烯膜需求",
        "description": "我司生产的手机主板散热不足，需要面内导热系数 1200 W/m·K 以上的石墨烯散热膜，可批量供货。",
        "field": "new_materials", "keywords": ["石墨烯", "散热膜"], "min_trl": 6,
        "budget_fen": 60_000_000, "region": "江苏省",
    });
    let created = app.post("/demands", Some(&token), &demand).await.expect(201);
    let demand_id = created["id"].as_str().unwrap();
    app.post(&format!("/demands/{demand_id}/submit"), Some(&token), &json!({})).await.expect(200);
    app.post(&format!("/admin/demands/{demand_id}/approve"), admin.t(), &json!({})).await.expect(200);

    // 6. Read the explained matches.
    let matches = app.get(&format!("/demands/{demand_id}/matches"), Some(&token)).await.expect(200);
    let first: &Value = &matches["items"][0];
    assert_eq!(first["title"], achievement["title"], "{matches}");
    let sentence = first["reasons"]["text"].as_str().expect("a sentence beside the reason codes");
    assert!(sentence.contains("新材料"), "{sentence}");

    // 7. Apply for an innovation voucher.
    let programs = app.get("/voucher-programs", Some(&token)).await.expect(200);
    let program_id = programs["items"][0]["id"].as_str().expect("an open program");
    let application = json!({"requested_fen": 1_000_000, "purpose": "委托检测石墨烯膜导热系数", "service_category": "inspection_testing"});
    let applied =
        app.post(&format!("/voucher-programs/{program_id}/applications"), Some(&token), &application).await.expect(201);
    assert_eq!(applied["status"], "submitted", "{applied}");
}
