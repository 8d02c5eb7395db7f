//! kill -9 in the middle of a voucher redemption storm and a bid storm: after a restart every
//! acknowledged write is there, retries with the same keys neither lose nor double anything,
//! the voucher ledger reconciles, and every job enqueued before the crash still runs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::harness::{Api, Reply, World, apply, eventually, voucher_program};

const VOUCHERS: usize = 4;
const REDEMPTIONS: usize = 160;
const FEE_FEN: i64 = 4_000; // coverage 50 % → 2 000 fen reserved per redemption
const CHALLENGES: usize = 4;
const BIDDERS: [&str; 10] = [
    "university1",
    "university2",
    "university3",
    "university4",
    "university5",
    "institute1",
    "institute2",
    "institute3",
    "institute4",
    "institute5",
];

/// What one storm request was and what (if anything) acknowledged it.
struct Sent {
    key: String,
    path: String,
    body: Value,
    client: Api,
    acknowledged: Option<Reply>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_redemption_and_bid_storms_loses_nothing_acknowledged() {
    let _serial = crate::SERIAL.lock().await;
    let world = World::seeded(0);
    let mut server = world.start().await;
    let anon = Api::new(&server);
    let admin = anon.admin().await;

    // Four vouchers of 1 000 000 fen, one per enterprise.
    let program = voucher_program(&admin, 10_000_000, 1_000_000).await;
    let mut codes = Vec::new();
    for n in 1..=VOUCHERS {
        let enterprise = anon.demo(&format!("enterprise{n}")).await;
        let application = apply(&enterprise, &program, 1_000_000).await;
        let voucher = admin
            .post(&format!("/admin/voucher-applications/{application}/approve"), &json!({"approved_fen": 1_000_000}))
            .await
            .expect(200);
        codes.push(voucher["code"].as_str().unwrap().to_owned());
    }

    // Open challenges for universities and institutes to bid on.
    let issuer = anon.demo("enterprise1").await;
    let mut challenges = Vec::new();
    for i in 0..CHALLENGES {
        let deadline = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let body = json!({
            "title": format!("高温合金叶片精密铸造工艺攻关 {i}"), "description": "单晶叶片合格率提升至 85% 以上",
            "field": "advanced_manufacturing", "indicators": [{"name": "合格率", "target": "≥85%"}],
            "reward_fen": 5_000_000, "mode": "single", "max_winners": 1, "bid_deadline": deadline,
            "eligible_kinds": ["university", "institute"],
            "milestones": [{"title": "工艺验证", "due_date": "2027-12-31", "payment_fen": 5_000_000}],
        });
        let id = issuer.post("/challenges", &body).await.expect(201)["id"].as_str().unwrap().to_owned();
        issuer.post(&format!("/challenges/{id}/submit"), &json!({})).await.expect(200);
        admin.post(&format!("/admin/challenges/{id}/approve"), &json!({})).await.expect(200);
        challenges.push(id);
    }

    let provider = anon.demo("service-provider1").await;
    let mut redemptions = Vec::new();
    for k in 0..REDEMPTIONS {
        redemptions.push(Sent {
            key: format!("storm-{k}"),
            path: "/voucher-redemptions".into(),
            body: json!({"voucher_code": codes[k % VOUCHERS], "service_fee_fen": FEE_FEN,
                         "invoice_no": format!("FP{k:06}"), "description": "材料成分检测"}),
            client: provider.clone(),
            acknowledged: None,
        });
    }
    let mut bids = Vec::new();
    for bidder in BIDDERS {
        let client = anon.demo(bidder).await;
        for challenge in &challenges {
            bids.push(Sent {
                key: format!("{bidder}@{challenge}"),
                path: format!("/challenges/{challenge}/bids"),
                body: json!({"proposal": "采用定向凝固与数值模拟结合的工艺路线", "budget_fen": 4_000_000,
                             "plan": "三个月完成工艺验证", "team": [{"name": "张工", "title": "研究员"}]}),
                client: client.clone(),
                acknowledged: None,
            });
        }
    }
    // Interleave the two storms: four redemptions to a bid.
    let mut sent = Vec::new();
    let mut bids = bids.into_iter();
    for (k, redemption) in redemptions.into_iter().enumerate() {
        sent.push(redemption);
        if k % 4 == 3 {
            sent.extend(bids.next());
        }
    }
    sent.extend(bids);

    // Fire everything; SIGKILL once a third has been answered.
    let answered = Arc::new(AtomicUsize::new(0));
    let third = Arc::new(Notify::new());
    let total = sent.len();
    let mut tasks = Vec::new();
    for s in sent {
        let (answered, third) = (answered.clone(), third.clone());
        tasks.push(tokio::spawn(async move {
            let key = s.path.starts_with("/voucher").then_some(s.key.as_str());
            let reply = s.client.try_send(reqwest::Method::POST, &s.path, Some(&s.body), key).await.ok();
            if reply.is_some() && answered.fetch_add(1, Ordering::SeqCst) + 1 == total / 3 {
                third.notify_one();
            }
            Sent { acknowledged: reply, ..s }
        }));
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), third.notified()).await;
    server.kill9();
    let mut sent: Vec<Sent> = futures_util::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    let acknowledged: Vec<&Sent> =
        sent.iter().filter(|s| s.acknowledged.as_ref().is_some_and(|r| r.status < 300)).collect();
    let cut_off = sent.iter().filter(|s| s.acknowledged.is_none()).count();
    assert!(!acknowledged.is_empty(), "nothing was acknowledged before the kill");
    assert!(cut_off > 0, "the kill came after every answer; the test proves nothing");
    for s in &sent {
        if let Some(reply) = &s.acknowledged {
            assert!(reply.status < 500, "{} → {}: {}", s.key, reply.status, reply.body);
        }
    }
    eprintln!("kill -9 after {} acknowledged writes, {cut_off} cut off", acknowledged.len());

    world.restart(&mut server).await;
    let anon = Api::new(&server);
    let admin = anon.admin().await;

    // 1. Every acknowledged write is there, unchanged.
    for s in &acknowledged {
        let reply = s.acknowledged.as_ref().unwrap();
        let id = reply.body["id"].as_str().unwrap();
        if s.path.starts_with("/voucher") {
            let stored = admin.get(&format!("/voucher-redemptions/{id}")).await.expect(200);
            assert_eq!(stored["amount_fen"], reply.body["amount_fen"]);
        } else {
            let bids = admin.get(&s.path).await.expect(200);
            assert!(bids["items"].as_array().unwrap().iter().any(|b| b["id"] == id), "acknowledged bid {id} is gone");
        }
    }

    // 2. Retrying every request with the same key completes the storm exactly once:
    // a redemption committed before the kill replays, a bid committed before it is a duplicate.
    let provider = anon.demo("service-provider1").await;
    let mut bidders = BTreeMap::new();
    for bidder in BIDDERS {
        bidders.insert(bidder, anon.demo(bidder).await);
    }
    for s in sent.iter_mut() {
        if s.path.starts_with("/voucher") {
            let reply = provider.try_send(reqwest::Method::POST, &s.path, Some(&s.body), Some(&s.key)).await.unwrap();
            assert_eq!(reply.status, 201, "{}: {}", s.key, reply.body);
            if let Some(first) = s.acknowledged.as_ref().filter(|r| r.status == 201) {
                assert_eq!(first.body["id"], reply.body["id"], "a replay must return the first answer");
            }
        } else {
            let client = bidders[s.key.split('@').next().unwrap()].clone();
            let reply = client.post(&s.path, &s.body).await;
            assert!(reply.status == 201 || reply.status == 409, "{}: {} {}", s.key, reply.status, reply.body);
            if s.acknowledged.as_ref().is_some_and(|r| r.status == 201) {
                assert_eq!(reply.status, 409, "an acknowledged bid must still be there");
            }
        }
    }

    // 3. The ledger reconciles: each voucher lost exactly its redemptions, no more, no less.
    let reserved_per_voucher = (REDEMPTIONS / VOUCHERS) as i64 * FEE_FEN / 2;
    let vouchers = admin.all("/vouchers").await;
    let ours: Vec<&Value> = vouchers.iter().filter(|v| codes.iter().any(|c| v["code"] == c.as_str())).collect();
    assert_eq!(ours.len(), VOUCHERS);
    for v in &ours {
        assert_eq!(v["face_value_fen"].as_i64().unwrap() - v["balance_fen"].as_i64().unwrap(), reserved_per_voucher);
    }
    let summary = admin.get(&format!("/admin/voucher-programs/{program}/summary")).await.expect(200);
    assert_eq!(summary["issued_fen"], 4_000_000);
    assert_eq!(summary["reserved_fen"], reserved_per_voucher * VOUCHERS as i64);
    assert_eq!(summary["remaining_fen"], 6_000_000);
    let ledger = admin.all(&format!("/admin/voucher-programs/{program}/ledger")).await;
    let reserves: Vec<&Value> = ledger.iter().filter(|e| e["kind"] == "reserve").collect();
    assert_eq!(reserves.len(), REDEMPTIONS);
    let redemption_ids: BTreeSet<&str> = reserves.iter().map(|e| e["redemption_id"].as_str().unwrap()).collect();
    assert_eq!(redemption_ids.len(), REDEMPTIONS, "one reservation per redemption");

    // Every (challenge, bidder) pair holds exactly one bid.
    for challenge in &challenges {
        let bids = admin.get(&format!("/challenges/{challenge}/bids")).await.expect(200);
        assert_eq!(bids["items"].as_array().unwrap().len(), BIDDERS.len(), "{challenge}: {bids}");
    }

    // 4. No job was lost: each bid and each redemption notified its recipient exactly once,
    // including those whose notification job was enqueued (or claimed) just before the kill.
    let notified = |client: Api, kind: &'static str| async move {
        client.all("/me/notifications?").await.iter().filter(|n| n["kind"] == kind).count()
    };
    let expected_bids = CHALLENGES * BIDDERS.len();
    let issuer = anon.demo("enterprise1").await;
    let bids_seen = eventually(Duration::from_secs(30), || {
        let issuer = issuer.clone();
        async move {
            let n = notified(issuer, "bid_received").await;
            (n >= expected_bids).then_some(n)
        }
    })
    .await;
    assert_eq!(bids_seen, Some(expected_bids), "bid notifications");
    for n in 1..=VOUCHERS {
        let holder = anon.demo(&format!("enterprise{n}")).await;
        let expected = REDEMPTIONS / VOUCHERS;
        let seen = eventually(Duration::from_secs(30), || {
            let holder = holder.clone();
            async move {
                let seen = notified(holder, "voucher_redemption_pending").await;
                (seen >= expected).then_some(seen)
            }
        })
        .await;
        assert_eq!(seen, Some(expected), "redemption notifications of enterprise{n}");
    }
    assert!(server.errors().is_empty(), "server errors: {:?}", server.errors());
}
