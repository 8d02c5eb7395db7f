//! Messages people read: Chinese by default, English on `Accept-Language: en`, the machine
//! `code` the same in both; a 422 names every failing field by its JSON path or parameter.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, demand_body, spawn_app};

async fn post_in(app: &TestApp, lang: Option<&str>, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
    let mut req = app.client.post(app.url(path)).json(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(lang) = lang {
        req = req.header("Accept-Language", lang);
    }
    app.raw(req).await
}

async fn get_in(app: &TestApp, lang: Option<&str>, path: &str) -> TestResponse {
    let mut req = app.client.get(app.url(path));
    if let Some(lang) = lang {
        req = req.header("Accept-Language", lang);
    }
    app.raw(req).await
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn a_422_names_every_failing_field_in_the_callers_language() {
    let app = spawn_app().await;
    let owner = app.member("enterprise").await;
    let mut body = demand_body("地铁轮对在线检测", "需要在线检测地铁车辆轮对尺寸的系统");
    body.as_object_mut().unwrap().remove("description");
    body["field"] = json!("新材料");
    body["min_trl"] = json!("七");
    body["deadline"] = json!("明年");

    let zh = post_in(&app, None, "/demands", owner.t(), &body).await;
    let problem = zh.problem(422, "validation_failed");
    for field in ["description", "field", "min_trl", "deadline"] {
        let messages = problem["errors"][field].as_array().unwrap_or_else(|| panic!("{field} missing: {problem}"));
        assert!(has_chinese(messages[0].as_str().unwrap()), "{field}: {problem}");
    }
    assert_eq!(problem["errors"]["description"][0], "缺少必填字段");
    let choice = problem["errors"]["field"][0].as_str().unwrap();
    assert!(choice.starts_with("取值无效：应为 ") && choice.contains("new_materials"), "{choice}");
    assert!(has_chinese(problem["detail"].as_str().unwrap()), "{problem}");
    assert_eq!(problem["title"], "校验未通过");
    assert_eq!(zh.headers.get("content-language").unwrap(), "zh-CN");

    let en = post_in(&app, Some("en-US,en;q=0.9"), "/demands", owner.t(), &body).await;
    let problem = en.problem(422, "validation_failed");
    assert_eq!(problem["errors"]["description"][0], "is required");
    assert_eq!(problem["errors"]["min_trl"][0], "must be an integer");
    assert!(problem["errors"]["field"][0].as_str().unwrap().starts_with("must be one of new_materials"));
    assert!(!has_chinese(problem["detail"].as_str().unwrap()), "{problem}");
    assert_eq!(problem["title"], "Validation failed");
    assert_eq!(en.headers.get("content-language").unwrap(), "en");

    // Nothing was created by either attempt.
    let mine = app.get("/demands?mine=true", owner.t()).await.expect(200);
    assert_eq!(mine["total"], 0, "{mine}");
}

#[tokio::test]
async fn nested_fields_are_keyed_by_their_json_path() {
    let app = spawn_app().await;
    let issuer = app.member("enterprise").await;
    let body = json!({
        "title": "叶片缺陷检测",
        "description": "面向高温合金涡轮叶片的内部缺陷检测。",
        "field": "advanced_manufacturing",
        "indicators": [{"name": "检出率", "target": "≥99%"}],
        "reward_fen": 1_000_000,
        "mode": "single",
        "max_winners": 1,
        "bid_deadline": "2030-01-01T00:00:00Z",
        "publicity_days": 5,
        "eligible_kinds": ["university"],
        "milestones": [
            {"title": "样机", "due_date": "2030-06-30", "payment_fen": 400_000},
            {"title": "验证", "due_date": "2030-09-30", "payment_fen": 300_000},
            {"due_date": "2030-12-31", "payment_fen": "三十万"},
        ],
    });
    let problem = app.post("/challenges", issuer.t(), &body).await.problem(422, "validation_failed");
    assert!(problem["errors"]["milestones[2].title"].is_array(), "{problem}");
    assert!(problem["errors"]["milestones[2].payment_fen"].is_array(), "{problem}");
}

#[tokio::test]
async fn query_errors_are_keyed_by_the_parameter_name() {
    let app = spawn_app().await;
    let res = get_in(&app, None, "/achievements?page=abc&field=xyz&per_page=5").await;
    let problem = res.problem(422, "validation_failed");
    assert!(problem["errors"]["page"].is_array(), "{problem}");
    assert!(problem["errors"]["field"].is_array(), "{problem}");
    assert!(problem["errors"].get("abc").is_none() && problem["errors"].get("xyz").is_none(), "{problem}");

    let en = get_in(&app, Some("en"), "/achievements?page=abc").await.problem(422, "validation_failed");
    assert_eq!(en["errors"]["page"][0], "must be an integer", "{en}");
}

#[tokio::test]
async fn other_problems_speak_the_callers_language_and_keep_their_code() {
    let app = spawn_app().await;
    let missing = get_in(&app, None, "/achievements/00000000-0000-0000-0000-000000000000").await;
    let zh = missing.problem(404, "not_found");
    assert_eq!(zh["detail"], "科技成果不存在", "{zh}");
    let en = get_in(&app, Some("en"), "/achievements/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(en.problem(404, "not_found")["detail"], "achievement not found");

    let no_route = get_in(&app, None, "/no-such-thing").await.problem(404, "not_found");
    assert!(no_route["detail"].as_str().unwrap().starts_with("没有这个接口"), "{no_route}");

    let malformed = post_in(&app, None, "/auth/login", None, &json!("x")).await;
    assert_eq!(malformed.status, 422, "{}", malformed.text);
    let broken = app
        .raw(app.client.post(app.url("/auth/login")).header("content-type", "application/json").body("{\"email\":"))
        .await;
    let problem = broken.problem(400, "malformed_json");
    assert!(problem["detail"].as_str().unwrap().starts_with("JSON 格式错误"), "{problem}");
}
