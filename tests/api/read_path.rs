//! The read path sends a constant number of statements per list request, whatever the page
//! size: related rows are read once per page (joins or one `IN (…)` per related table), never
//! once per item. Counted with the database handle's statement counter (a diesel
//! instrumentation hook on every pooled connection).

use serde_json::json;

use crate::helpers::{TestApp, TestUser, achievement_body, spawn_app};

const ITEMS: usize = 12;

/// Statements one GET sends: the least of several tries spaced out, after the due background
/// jobs ran. Background work (the job worker, the audit sequencer's pass after the setup's
/// writes) can only add to a try, never take away, and does not last.
async fn statements(app: &TestApp, path: &str, token: Option<&str>) -> (u64, usize) {
    app.run_due_jobs().await;
    let mut least = u64::MAX;
    let mut items = 0;
    for _ in 0..8 {
        let before = app.state.db.statements();
        let page = app.get(path, token).await.expect(200);
        least = least.min(app.state.db.statements() - before);
        items = page["items"].as_array().map_or(0, Vec::len);
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    (least, items)
}

/// Asserts that a page of one and a page of `ITEMS` cost the same number of statements.
async fn constant(app: &TestApp, path: &str, user: &TestUser) -> u64 {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (one, n1) = statements(app, &format!("{path}{sep}per_page=1"), user.t()).await;
    let (many, n) = statements(app, &format!("{path}{sep}per_page={ITEMS}"), user.t()).await;
    assert_eq!((n1, n), (1, ITEMS), "{path}: the pages hold 1 and {ITEMS} items");
    assert_eq!(one, many, "{path}: {one} statements for 1 item, {many} for {ITEMS}");
    many
}

#[tokio::test]
async fn list_endpoints_send_a_constant_number_of_statements() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    let admin = app.admin().await;

    // Connections and contracts, each with every related row their views show.
    for i in 0..ITEMS {
        let achievement = app
            .publish(
                &university,
                &admin,
                "achievement",
                &achievement_body(&format!("固态电解质 {i}"), "硫化物固态电解质制备。"),
            )
            .await;
        let body = json!({"achievement_id": achievement, "message": "希望了解"});
        let conn = app.post("/connections", enterprise.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.post(&format!("/connections/{conn}/accept"), university.t(), &json!({})).await.expect(200);
        let mut contract = crate::contracts::contract_body("transfer", &university, &enterprise, 1_000_000);
        contract["achievement_id"] = json!(achievement);
        contract["connection_id"] = json!(conn);
        app.post("/contracts", enterprise.t(), &contract).await.expect(201);
    }
    let connections = constant(&app, "/connections", &enterprise).await;
    let contracts = constant(&app, "/contracts", &enterprise).await;

    // Open challenges, with milestones; searched and listed.
    let issuer = app.member("enterprise").await;
    for _ in 0..ITEMS {
        let body = crate::challenges::challenge_body(&app, "single", 1, 0);
        let id = app.post("/challenges", issuer.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.post(&format!("/challenges/{id}/submit"), issuer.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/challenges/{id}/approve"), admin.t(), &json!({})).await.expect(200);
    }
    let challenges = constant(&app, "/challenges", &issuer).await;
    let searched = constant(&app, "/challenges?q=叶片", &issuer).await;

    // Organizations, each with its research-integrity standing.
    for _ in 0..ITEMS {
        app.member("institute").await;
    }
    let organizations = constant(&app, "/organizations", &admin).await;
    eprintln!(
        "statements per list request: connections {connections}, contracts {contracts}, challenges {challenges}, \
         challenge search {searched}, organizations {organizations}"
    );
}

/// An anonymous read of a listing by id is one statement: the listing with the count of its
/// public attachments; the attachments themselves are read only when there are some.
#[tokio::test]
async fn a_listing_by_id_is_one_statement() {
    let app = spawn_app().await;
    let university = app.member("university").await;
    let admin = app.admin().await;
    let id = app
        .publish(&university, &admin, "achievement", &achievement_body("钠离子电池正极", "层状氧化物正极材料。"))
        .await;
    let (n, _) = statements(&app, &format!("/achievements/{id}"), None).await;
    assert_eq!(n, 1, "GET /achievements/{{id}}");
}
