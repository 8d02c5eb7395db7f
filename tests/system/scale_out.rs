//! Two server instances on one PostgreSQL database: what one publishes the other finds by
//! search and matching within the catch-up interval, a job enqueued once runs once, and
//! voucher approvals and redemptions raced across both keep every money invariant.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Api, World, apply, eventually, on_postgres, voucher_program};

/// Two instances need a database both can reach: PostgreSQL only, hence ignored unless asked
/// for: `TT_TEST_BACKEND=postgres cargo test --test system -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: TT_TEST_BACKEND=postgres, run with --ignored"]
async fn two_instances_on_one_database_agree() {
    assert!(on_postgres(), "scale-out is a PostgreSQL deployment: run it with TT_TEST_BACKEND=postgres");
    let _serial = crate::SERIAL.lock().await;
    let world = World::seeded(0);
    let (a, b) = (world.start().await, world.start().await);
    let admin_a = Api::new(&a).admin().await;
    let admin_b = admin_a.on(&b);

    // --- Search and matching converge within the catch-up interval (1 s here).
    let university_a = Api::new(&a).demo("university1").await;
    let body = json!({
        "title": "钛酸锶钡柔性压电薄膜", "summary": "室温溅射制备的钛酸锶钡柔性压电薄膜，可用于可穿戴能量收集",
        "field": "new_materials", "keywords": ["钛酸锶钡", "柔性压电"], "trl": 6, "transfer_modes": ["license"],
        "negotiable": true, "region": "江苏省",
    });
    let id = university_a.post("/achievements", &body).await.expect(201)["id"].as_str().unwrap().to_owned();
    university_a.post(&format!("/achievements/{id}/submit"), &json!({})).await.expect(200);
    admin_a.post(&format!("/admin/achievements/{id}/approve"), &json!({})).await.expect(200);
    let published = Instant::now();
    let found = eventually(Duration::from_secs(10), || {
        let anon_b = Api::new(&b);
        let id = id.clone();
        async move {
            let page = anon_b.get("/achievements?q=钛酸锶钡").await.expect(200);
            page["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str()).then_some(())
        }
    })
    .await;
    let lag = published.elapsed();
    assert!(found.is_some(), "instance B never found the listing published through A");
    assert!(lag < Duration::from_secs(5), "search on B lagged {lag:?} (contract: at most 5 s)");
    eprintln!("search on instance B caught up {lag:?} after publication on A");

    // A demand published through B matches the achievement published through A, on both.
    let enterprise_b = Api::new(&b).demo("enterprise3").await;
    let demand = json!({
        "title": "可穿戴设备柔性压电能量收集材料", "description": "需要钛酸锶钡类柔性压电薄膜，用于可穿戴传感器自供能",
        "field": "new_materials", "keywords": ["柔性压电", "钛酸锶钡"], "min_trl": 5, "region": "广东省",
    });
    let demand_id = enterprise_b.post("/demands", &demand).await.expect(201)["id"].as_str().unwrap().to_owned();
    enterprise_b.post(&format!("/demands/{demand_id}/submit"), &json!({})).await.expect(200);
    admin_b.post(&format!("/admin/demands/{demand_id}/approve"), &json!({})).await.expect(200);
    for admin in [&admin_a, &admin_b] {
        let top = eventually(Duration::from_secs(10), || {
            let (admin, demand_id, id) = (admin.clone(), demand_id.clone(), id.clone());
            async move {
                let matches = admin.get(&format!("/demands/{demand_id}/matches")).await;
                let items = matches.body["items"].as_array().cloned().unwrap_or_default();
                items.first().filter(|m| m["id"] == id.as_str()).cloned()
            }
        })
        .await;
        assert!(top.is_some(), "the cross-instance pair is not the top match on every instance");
    }

    // --- A job enqueued once runs once: both workers poll the same queue.
    let emails: Vec<String> = (0..20).map(|i| format!("scale-{i}@example.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        let via = if i % 2 == 0 { Api::new(&a) } else { Api::new(&b) };
        via.post("/auth/register", &json!({"email": email, "password": "long-enough-pw", "display_name": "s"}))
            .await
            .expect(201);
    }
    let all_sent =
        eventually(Duration::from_secs(20), || async { emails.iter().all(|e| world.mails_to(e) >= 1).then_some(()) })
            .await;
    assert!(all_sent.is_some(), "some verification mails never went out");
    tokio::time::sleep(Duration::from_secs(3)).await; // time for a second delivery, if any
    for email in &emails {
        assert_eq!(world.mails_to(email), 1, "{email} got its verification mail more than once");
    }

    // --- Approvals racing across both instances never exceed the budget.
    let budget = 10 * 100_000;
    let program = voucher_program(&admin_a, budget, 10_000_000).await;
    let mut applications = Vec::new();
    for i in 0..30 {
        let enterprise = Api::new(&a).demo(&format!("enterprise{}", i % 8 + 1)).await;
        applications.push(apply(&enterprise, &program, 100_000).await);
    }
    let approvals = applications.iter().enumerate().map(|(i, app)| {
        let admin = if i % 2 == 0 { admin_a.clone() } else { admin_b.clone() };
        let path = format!("/admin/voucher-applications/{app}/approve");
        async move { admin.post(&path, &json!({"approved_fen": 100_000})).await }
    });
    let replies = futures_util::future::join_all(approvals).await;
    let approved = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies.iter().filter(|r| r.status == 409 && r.body["code"] == "voucher_budget_exceeded").count();
    assert_eq!((approved, refused), (10, 20), "{replies:?}");
    let summary = admin_b.get(&format!("/admin/voucher-programs/{program}/summary")).await.expect(200);
    assert_eq!(summary["issued_fen"], budget);
    assert_eq!(summary["remaining_fen"], 0);

    // --- Redemptions racing across both instances never overdraw a voucher.
    let voucher = &replies.iter().find(|r| r.status == 200).unwrap().body;
    let (voucher_id, code) = (voucher["id"].as_str().unwrap().to_owned(), voucher["code"].as_str().unwrap().to_owned());
    let provider_a = Api::new(&a).demo("service-provider1").await;
    let provider_b = provider_a.on(&b);
    let redemptions = (0..30).map(|k| {
        let provider = if k % 2 == 0 { provider_a.clone() } else { provider_b.clone() };
        let body = json!({"voucher_code": code, "service_fee_fen": 20_000, "invoice_no": format!("SO{k}"),
                          "description": "检测服务"});
        async move {
            provider
                .try_send(reqwest::Method::POST, "/voucher-redemptions", Some(&body), Some(&format!("race-{k}")))
                .await
        }
    });
    let replies: Vec<_> = futures_util::future::join_all(redemptions).await.into_iter().map(Result::unwrap).collect();
    let reserved: i64 =
        replies.iter().filter(|r| r.status == 201).map(|r| r.body["amount_fen"].as_i64().unwrap()).sum();
    assert!(replies.iter().all(|r| r.status == 201 || r.status == 409), "{replies:?}");
    assert_eq!(reserved, 100_000, "the voucher is used exactly to its face value");
    let voucher: Value = admin_b.get(&format!("/vouchers/{voucher_id}")).await.expect(200);
    assert_eq!(voucher["balance_fen"], 0);
    assert_eq!(voucher["status"], "exhausted");
    let ledger = admin_a.all(&format!("/admin/voucher-programs/{program}/ledger")).await;
    let ledger_reserved: i64 =
        ledger.iter().filter(|e| e["kind"] == "reserve").map(|e| e["amount_fen"].as_i64().unwrap()).sum();
    assert_eq!(ledger_reserved, reserved);

    assert!(a.errors().is_empty() && b.errors().is_empty(), "{:?} {:?}", a.errors(), b.errors());
}
