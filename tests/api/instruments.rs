//! Shared instruments (科技资源开放共享): listing and editing, bookings and their state machine,
//! no overlapping slots (also under concurrency), voucher reservations that become
//! redemptions or go back, no-show suspension, and usage figures.

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

fn instrument_body() -> Value {
    json!({
        "name": "场发射扫描电子显微镜", "model": "Gemini 560", "category": "电子显微镜",
        "location": "苏州工业园区星湖街 218 号", "region": "江苏省",
        "description": "分辨率 0.7 nm，配能谱仪", "fee_per_hour_fen": 60_000, "fee_per_sample_fen": 30_000,
        "accessories": "能谱仪", "open_hours": "工作日 9:00–17:00", "weekly_open_hours": 40, "training_required": true,
    })
}

struct Lab {
    app: TestApp,
    admin: TestUser,
    provider: TestUser,
    enterprise: TestUser,
    instrument: String,
    /// Slots are placed relative to this instant plus every advance of the clock, so two
    /// slots written "10 to 12" and "12 to 13" touch exactly (the test clock keeps running).
    origin: DateTime<Utc>,
    shifted: std::cell::Cell<Duration>,
}

/// A verified service provider offering instrument sharing, one of its instruments, and a
/// verified small enterprise.
async fn lab() -> Lab {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let provider = app.instrument_provider().await;
    let enterprise = app.member("enterprise").await;
    let instrument =
        app.post("/instruments", provider.t(), &instrument_body()).await.expect(201)["id"].as_str().unwrap().to_owned();
    let origin = app.clock.now();
    Lab { app, admin, provider, enterprise, instrument, origin, shifted: std::cell::Cell::new(Duration::zero()) }
}

impl Lab {
    fn at(&self, offset: Duration) -> String {
        (self.origin + self.shifted.get() + offset).to_rfc3339()
    }

    fn advance(&self, by: Duration) {
        self.app.clock.advance(by);
        self.shifted.set(self.shifted.get() + by);
    }

    fn slot(&self, from_h: i64, to_h: i64) -> Value {
        json!({"starts_at": self.at(Duration::hours(from_h)), "ends_at": self.at(Duration::hours(to_h)), "purpose": "正极材料截面形貌观察"})
    }

    async fn book(&self, who: &TestUser, body: &Value) -> crate::helpers::TestResponse {
        self.app.post(&format!("/instruments/{}/bookings", self.instrument), who.t(), body).await
    }

    async fn booked(&self, from_h: i64, to_h: i64) -> String {
        self.book(&self.enterprise, &self.slot(from_h, to_h)).await.expect(201)["id"].as_str().unwrap().to_owned()
    }

    async fn step(&self, who: &TestUser, id: &str, action: &str, body: &Value) -> crate::helpers::TestResponse {
        self.app.post(&format!("/bookings/{id}/{action}"), who.t(), body).await
    }

    /// A voucher for instrument sharing held by the enterprise: `face` fen at 50% coverage.
    async fn voucher(&self, face: i64) -> Value {
        let d = techtransfer::domain::voucher::shanghai_date(self.app.clock.now());
        let program = json!({
            "name": "大型科研仪器共享券", "year": 2026,
            "total_budget_fen": 10_000_000, "per_enterprise_cap_fen": 5_000_000, "coverage_ratio_bp": 5000,
            "service_categories": ["instrument_sharing"], "eligible_scales": ["small", "micro"], "valid_days": 90,
            "applications_open": d.to_string(), "applications_close": (d + Duration::days(30)).to_string(),
            "settle_by": (d + Duration::days(120)).to_string(),
        });
        let program = self.app.post("/admin/voucher-programs", self.admin.t(), &program).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let application =
            json!({"requested_fen": face, "purpose": "材料表征", "service_category": "instrument_sharing"});
        let id = self
            .app
            .post(&format!("/voucher-programs/{program}/applications"), self.enterprise.t(), &application)
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.app
            .post(&format!("/admin/voucher-applications/{id}/approve"), self.admin.t(), &json!({"approved_fen": face}))
            .await
            .expect(200)
    }

    async fn voucher_state(&self, id: &str) -> Value {
        self.app.get(&format!("/vouchers/{id}"), self.enterprise.t()).await.expect(200)
    }
}

#[tokio::test]
async fn providers_list_instruments_and_anyone_finds_them() {
    let lab = lab().await;
    let app = &lab.app;
    // Only verified service providers list instruments.
    let university = app.member("university").await;
    app.post("/instruments", university.t(), &instrument_body()).await.problem(403, "forbidden");
    let pending = app.pending_member("service_provider").await;
    app.post("/instruments", pending.t(), &instrument_body()).await.problem(403, "organization_not_verified");
    app.post("/instruments", None, &instrument_body()).await.expect(401);
    // At least one fee, positive fees, a real region, open hours within a week.
    let mut no_fee = instrument_body();
    no_fee["fee_per_hour_fen"] = Value::Null;
    no_fee["fee_per_sample_fen"] = Value::Null;
    let p = app.post("/instruments", lab.provider.t(), &no_fee).await.problem(422, "validation_failed");
    assert!(p["errors"]["fee_per_hour_fen"].is_array(), "{p}");
    let mut bad = instrument_body();
    bad["region"] = json!("火星");
    bad["weekly_open_hours"] = json!(200);
    bad["fee_per_sample_fen"] = json!(0);
    let p = app.post("/instruments", lab.provider.t(), &bad).await.problem(422, "validation_failed");
    for field in ["region", "weekly_open_hours", "fee_per_sample_fen"] {
        assert!(p["errors"][field].is_array(), "{field}: {p}");
    }

    // Public catalogue and search: every word must match.
    let found = app.get("/instruments?q=电子显微镜 Gemini", None).await.expect(200);
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], lab.instrument.as_str());
    assert_eq!(app.get("/instruments?q=质谱", None).await.expect(200)["total"], 0);
    assert_eq!(app.get(&format!("/instruments?org_id={}", lab.provider.org()), None).await.expect(200)["total"], 1);
    assert_eq!(app.get("/instruments?region=北京市", None).await.expect(200)["total"], 0);
    app.get("/instruments?region=火星", None).await.problem(422, "validation_failed");
    app.get(&format!("/instruments/{}", lab.instrument), None).await.expect(200);

    // Only the owner edits; a fee can be dropped only while the other remains.
    let path = format!("/instruments/{}", lab.instrument);
    app.patch(&path, lab.enterprise.t(), &json!({"name": "改名"})).await.problem(403, "forbidden");
    let edited = app
        .patch(&path, lab.provider.t(), &json!({"fee_per_sample_fen": null, "weekly_open_hours": 50}))
        .await
        .expect(200);
    assert_eq!(edited["fee_per_sample_fen"], Value::Null);
    assert_eq!(edited["weekly_open_hours"], 50);
    assert_eq!(edited["name"], "场发射扫描电子显微镜", "absent fields stay");
    app.patch(&path, lab.provider.t(), &json!({"fee_per_hour_fen": null})).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn the_booking_state_machine_and_who_moves_it() {
    let lab = lab().await;
    let (app, e, p) = (&lab.app, &lab.enterprise, &lab.provider);
    // The provider does not book its own instrument; slots lie in the future and end after they start.
    lab.book(p, &lab.slot(2, 3)).await.problem(403, "forbidden");
    lab.book(e, &lab.slot(-1, 3)).await.problem(422, "validation_failed");
    lab.book(e, &lab.slot(3, 2)).await.problem(422, "validation_failed");
    lab.book(e, &lab.slot(1, 200)).await.problem(422, "validation_failed");

    let id = lab.booked(2, 4).await;
    let b = app.get(&format!("/instruments/{}/bookings", lab.instrument), e.t()).await.expect(200);
    assert_eq!(b["items"][0]["fee_fen"], 120_000, "two hours at 600 yuan");
    assert_eq!(b["items"][0]["status"], "requested");
    // Only the provider approves; cancel is only from approved.
    lab.step(e, &id, "approve", &json!({})).await.problem(403, "forbidden");
    lab.step(e, &id, "cancel", &json!({})).await.problem(409, "invalid_state_transition");
    lab.step(p, &id, "complete", &json!({})).await.problem(409, "invalid_state_transition");
    assert_eq!(lab.step(p, &id, "approve", &json!({})).await.expect(200)["status"], "approved");
    lab.step(p, &id, "approve", &json!({})).await.problem(409, "invalid_state_transition");
    lab.step(p, &id, "reject", &json!({})).await.problem(409, "invalid_state_transition");
    // Completion and no-show only once the slot has begun.
    lab.step(p, &id, "complete", &json!({})).await.problem(409, "invalid_state_transition");
    lab.step(p, &id, "no-show", &json!({})).await.problem(409, "invalid_state_transition");
    lab.advance(Duration::hours(3));
    lab.step(e, &id, "cancel", &json!({})).await.problem(409, "invalid_state_transition");
    lab.step(e, &id, "complete", &json!({})).await.problem(403, "forbidden");
    let done = lab.step(p, &id, "complete", &json!({})).await.expect(200);
    assert_eq!(done["status"], "completed");
    assert!(done["finished_at"].is_string());
    lab.step(p, &id, "no-show", &json!({})).await.problem(409, "invalid_state_transition");

    // Reject from requested; cancel by either side before the start.
    let r = lab.booked(10, 11).await;
    let rejected = lab.step(p, &r, "reject", &json!({"reason": "例行维护"})).await.expect(200);
    assert_eq!((rejected["status"].as_str(), rejected["reason"].as_str()), (Some("rejected"), Some("例行维护")));
    let c = lab.booked(10, 11).await; // the rejected slot is free again
    lab.step(p, &c, "approve", &json!({})).await.expect(200);
    let other = app.member("enterprise").await;
    lab.step(&other, &c, "cancel", &json!({})).await.problem(404, "not_found");
    assert_eq!(lab.step(e, &c, "cancel", &json!({})).await.expect(200)["status"], "cancelled");

    // Visibility: others see only their own bookings; strangers' single bookings are 404.
    let seen = app.get(&format!("/instruments/{}/bookings", lab.instrument), other.t()).await.expect(200);
    assert_eq!(seen["total"], 0);
    let all = app.get(&format!("/instruments/{}/bookings", lab.instrument), p.t()).await.expect(200);
    assert_eq!(all["total"], 3);
    app.get(&format!("/instruments/{}/bookings", lab.instrument), None).await.expect(401);

    // An inactive instrument takes no bookings.
    app.patch(&format!("/instruments/{}", lab.instrument), p.t(), &json!({"status": "inactive"})).await.expect(200);
    lab.book(e, &lab.slot(30, 31)).await.problem(409, "conflict");
}

#[tokio::test]
async fn live_bookings_never_overlap_and_fees_follow_the_basis() {
    let lab = lab().await;
    let e = &lab.enterprise;
    let other = lab.app.member("enterprise").await;
    lab.booked(10, 12).await;
    let taken = lab.book(&other, &lab.slot(11, 13)).await.problem(409, "slot_taken");
    assert!(taken["detail"].as_str().unwrap().contains("T"), "names the taken slot: {taken}");
    lab.book(&other, &lab.slot(9, 10)).await.expect(201); // touching is not overlapping
    lab.book(&other, &lab.slot(12, 13)).await.expect(201);
    // Per sample when samples are given.
    let mut by_sample = lab.slot(20, 21);
    by_sample["samples"] = json!(3);
    assert_eq!(lab.book(e, &by_sample).await.expect(201)["fee_fen"], 90_000);
    // An hourly-only instrument refuses samples.
    lab.app
        .patch(&format!("/instruments/{}", lab.instrument), lab.provider.t(), &json!({"fee_per_sample_fen": null}))
        .await
        .expect(200);
    let mut by_sample = lab.slot(30, 31);
    by_sample["samples"] = json!(2);
    lab.book(e, &by_sample).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_exactly_one_wins() {
    let lab = lab().await;
    let mut bookers = Vec::new();
    for _ in 0..6 {
        bookers.push(lab.app.member("enterprise").await);
    }
    let lab = &lab;
    for round in 0..3 {
        let base = 10 + round * 10;
        let attempts = bookers.iter().enumerate().map(|(i, who)| {
            // Overlapping but not identical slots, so the rule is overlap, not equality.
            let i = i64::try_from(i).unwrap();
            let body = json!({
                "starts_at": lab.at(Duration::hours(base) + Duration::minutes(i * 5)),
                "ends_at": lab.at(Duration::hours(base + 2)),
                "purpose": "并发预约",
            });
            async move { lab.book(who, &body).await }
        });
        let results = join_all(attempts).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "round {round}: {statuses:?}");
        for r in results.iter().filter(|r| r.status != 201) {
            r.problem(409, "slot_taken");
        }
    }
}

#[tokio::test]
async fn a_voucher_reserves_at_booking_and_becomes_a_redemption_on_completion() {
    let lab = lab().await;
    let (app, e, p) = (&lab.app, &lab.enterprise, &lab.provider);
    let voucher = lab.voucher(100_000).await;
    let (vid, code) = (voucher["id"].as_str().unwrap(), voucher["code"].as_str().unwrap());

    // Only the holder uses it, only for instrument sharing.
    let mut body = lab.slot(5, 7);
    body["voucher_code"] = json!(code);
    let stranger = app.member("enterprise").await;
    lab.book(&stranger, &body).await.problem(403, "forbidden");

    // Idempotent: a retry with the same key reserves once.
    let send = |key: &'static str| {
        let req = app
            .client
            .post(app.url(&format!("/instruments/{}/bookings", lab.instrument)))
            .bearer_auth(&e.token)
            .header("Idempotency-Key", key)
            .json(&body);
        app.raw(req)
    };
    let first = send("book-1").await.expect(201);
    let again = send("book-1").await;
    assert_eq!(again.expect(201)["id"], first["id"]);
    assert_eq!(first["fee_fen"], 120_000);
    assert_eq!(first["reserved_fen"], 60_000, "half of the fee, within the balance");
    let v = lab.voucher_state(vid).await;
    assert_eq!((v["balance_fen"].as_i64(), v["reserved_fen"].as_i64()), (Some(40_000), Some(60_000)));

    // Completion needs the invoice and creates the redemption the holder confirms.
    let id = first["id"].as_str().unwrap();
    lab.step(p, id, "approve", &json!({})).await.expect(200);
    lab.advance(Duration::hours(6));
    lab.step(p, id, "complete", &json!({})).await.problem(422, "validation_failed");
    let done = lab.step(p, id, "complete", &json!({"invoice_no": "32011234567890"})).await.expect(200);
    let redemption = done["redemption_id"].as_str().unwrap();
    let r = app.get(&format!("/voucher-redemptions/{redemption}"), e.t()).await.expect(200);
    assert_eq!((r["amount_fen"].as_i64(), r["service_fee_fen"].as_i64()), (Some(60_000), Some(120_000)));
    assert_eq!(r["status"], "pending_confirmation");
    app.post(&format!("/voucher-redemptions/{redemption}/confirm"), e.t(), &json!({})).await.expect(200);
    app.post(&format!("/admin/voucher-redemptions/{redemption}/settle"), lab.admin.t(), &json!({})).await.expect(200);
    let v = lab.voucher_state(vid).await;
    assert_eq!((v["reserved_fen"].as_i64(), v["settled_fen"].as_i64()), (Some(0), Some(60_000)));

    // Reject, cancel and no-show each give the reservation back.
    for action in ["reject", "cancel", "no-show"] {
        let before = lab.voucher_state(vid).await["balance_fen"].as_i64().unwrap();
        let mut body = lab.slot(2, 3);
        body["voucher_code"] = json!(code);
        let b = lab.book(e, &body).await.expect(201);
        let id = b["id"].as_str().unwrap();
        assert_eq!(b["reserved_fen"], 30_000);
        assert_eq!(lab.voucher_state(vid).await["balance_fen"].as_i64().unwrap(), before - 30_000);
        if action != "reject" {
            lab.step(p, id, "approve", &json!({})).await.expect(200);
        }
        if action == "no-show" {
            lab.advance(Duration::hours(2));
        }
        lab.step(p, id, action, &json!({})).await.expect(200);
        assert_eq!(lab.voucher_state(vid).await["balance_fen"].as_i64().unwrap(), before, "{action} releases");
        lab.advance(Duration::hours(3));
    }
    let v = lab.voucher_state(vid).await;
    assert_eq!(v["reserved_fen"], 0);
    // The ledger holds exactly what the voucher holds: four reservations, three releases, one settlement.
    let voucher_id = vid.to_owned();
    let ledger: Vec<(String, i64)> = app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::voucher_ledger as l;
        l::table.filter(l::voucher_id.eq(&voucher_id)).select((l::kind, l::amount_fen)).load(c).unwrap()
    });
    let total = |kind: &str| ledger.iter().filter(|(k, _)| k == kind).map(|(_, a)| a).sum::<i64>();
    assert_eq!(total("reserve"), 60_000 + 3 * 30_000);
    assert_eq!(total("release"), 3 * 30_000);
    assert_eq!(total("settle"), 60_000);
    assert_eq!(total("reserve") - total("release") - total("settle"), v["reserved_fen"].as_i64().unwrap());
}

#[tokio::test]
async fn repeated_no_shows_suspend_booking_rights_for_the_window() {
    let lab = lab().await;
    let (app, e, p) = (&lab.app, &lab.enterprise, &lab.provider);
    for _ in 0..3 {
        let id = lab.booked(1, 2).await;
        lab.step(p, &id, "approve", &json!({})).await.expect(200);
        lab.advance(Duration::hours(1));
        lab.step(p, &id, "no-show", &json!({})).await.expect(200);
        lab.advance(Duration::hours(2));
    }
    lab.book(e, &lab.slot(5, 6)).await.problem(403, "booking_suspended");
    // Another organization is not affected; the window moves on.
    let other = app.member("enterprise").await;
    lab.book(&other, &lab.slot(5, 6)).await.expect(201);
    lab.advance(Duration::days(91));
    lab.book(e, &lab.slot(5, 6)).await.expect(201);
}

#[tokio::test]
async fn usage_counts_hours_utilization_and_enterprises_served() {
    let lab = lab().await;
    let (app, p) = (&lab.app, &lab.provider);
    let other = app.member("enterprise").await;
    let start: DateTime<Utc> = app.clock.now();
    let mine = lab.booked(24, 28).await; // 4 h, completed
    let theirs = lab.book(&other, &lab.slot(30, 32)).await.expect(201)["id"].as_str().unwrap().to_owned(); // 2 h, completed
    let approved = lab.booked(50, 51).await; // 1 h, approved only
    lab.booked(60, 61).await; // requested: not booked time
    for id in [&mine, &theirs, &approved] {
        lab.step(p, id, "approve", &json!({})).await.expect(200);
    }
    lab.advance(Duration::hours(33));
    for id in [&mine, &theirs] {
        lab.step(p, id, "complete", &json!({})).await.expect(200);
    }
    let from = techtransfer::domain::voucher::shanghai_date(start);
    let to = from + Duration::days(6);
    let u = app.get(&format!("/instruments/{}/usage?from={from}&to={to}", lab.instrument), None).await.expect(200);
    assert_eq!(u["used_hours"], 6.0);
    assert_eq!(u["booked_hours"], 7.0);
    assert_eq!(u["open_hours"], 40.0, "a week of a 40-hour instrument");
    assert_eq!(u["utilization_bp"], 1500);
    assert_eq!(u["enterprises_served"], 2);
    assert_eq!(u["bookings"]["completed"], 2);
    assert_eq!(u["bookings"]["requested"], 1);
    assert_eq!(u["fees_fen"], 360_000);
    app.get(&format!("/instruments/{}/usage?from={to}&to={from}", lab.instrument), None)
        .await
        .problem(422, "validation_failed");
    let far = from + Duration::days(400);
    app.get(&format!("/instruments/{}/usage?from={from}&to={far}", lab.instrument), None)
        .await
        .problem(422, "validation_failed");
}
