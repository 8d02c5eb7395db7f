//! The cross-flow torture test: many clients run a random mix of the money and state flows
//! (vouchers: apply, approve, reject, redeem, confirm, settle, settlement batch, reject, revoke, expire;
//! challenges: bid, score, award, eliminate, milestone deliver/accept/reject, cancel;
//! contracts: sign, register, pay, terminate, commercialization, distribution; shared
//! instruments: book (some paid by voucher), approve, reject, complete, no-show, cancel) on
//! shared programs, vouchers, challenges, contracts and instrument slots, so that flows
//! collide. Then: no 5xx, every ledger reconciles (per program, voucher and settlement batch;
//! every settled redemption has exactly one `settle` row), every voucher's reservation is exactly what
//! its open redemptions and bookings hold, no two live bookings of an instrument overlap, no horse race in progress without a winner, no payment accepted after
//! a termination was acknowledged, stages never went backwards, the audit chain verifies, and
//! every 2xx state change left exactly its audit entry (so no refused request left one).
//!
//! Configurations: one instance (both backends) and two instances on one PostgreSQL
//! database. `TT_TORTURE_SECS` sets the load phase (default 20 s); `TT_TORTURE_REPORT`
//! names a file the counts are appended to (CI prints it).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use techtransfer::db::Backend;
use techtransfer::db::schema::{
    audit_log, bids, challenge_payments, challenges, contract_payments, contracts, instrument_bookings,
    voucher_enterprise_totals, voucher_ledger, voucher_programs, voucher_redemptions as redemptions,
    voucher_settlement_batches, vouchers,
};
use techtransfer::state::AppState;

use crate::helpers::{TestApp, TestUser, backend, spawn_app_with};

/// One torture configuration at a time: they measure lag and throughput.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CLIENTS: usize = 12;
const CAP_FEN: i64 = 400_000;
const BUDGET_FEN: i64 = 3_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn torture_one_instance() {
    run(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn torture_two_instances_on_postgres() {
    if backend() != Backend::Postgres {
        eprintln!("SKIPPED torture_two_instances_on_postgres: two instances share a PostgreSQL database");
        return;
    }
    run(2).await;
}

fn load_phase() -> Duration {
    let secs = std::env::var("TT_TORTURE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    Duration::from_secs(secs)
}

/// What every client shares: the servers, the actors, the ids created so far, and the log of
/// every response.
struct World {
    bases: Vec<String>,
    states: Vec<AppState>,
    http: reqwest::Client,
    admin: TestUser,
    enterprises: Vec<TestUser>,
    providers: Vec<TestUser>,
    teams: Vec<TestUser>,
    expert: TestUser,
    programs: Vec<String>,
    /// (instrument id, index of the provider that operates it)
    instruments: Vec<(String, usize)>,
    clock: techtransfer::clock::Clock,
    pools: Mutex<Pools>,
    log: Mutex<Log>,
}

#[derive(Default)]
struct Pools {
    /// (application id, enterprise index, requested fen)
    applications: Vec<(String, usize, i64)>,
    /// (voucher id, code, enterprise index, pays for instrument sharing)
    vouchers: Vec<(String, String, usize, bool)>,
    /// (redemption id, enterprise index)
    redemptions: Vec<(String, usize)>,
    challenges: Vec<ChallengeRef>,
    challenges_made: usize,
    /// (contract id, seller team index, buyer enterprise index)
    contracts: Vec<(String, usize, usize)>,
    contracts_made: usize,
    bookings: Vec<BookingRef>,
}

#[derive(Clone)]
struct BookingRef {
    id: String,
    /// Index into `World::instruments`.
    instrument: usize,
    enterprise: usize,
    paid: bool,
}

#[derive(Clone)]
struct ChallengeRef {
    id: String,
    issuer: usize,
    milestones: Vec<String>,
    /// (bid id, team index)
    winners: Vec<(String, usize)>,
}

#[derive(Default)]
struct Log {
    /// (operation, status) → count
    counts: BTreeMap<(&'static str, u16), u64>,
    server_errors: Vec<String>,
    /// When the response to a successful termination arrived, per contract.
    terminated: HashMap<String, Instant>,
    /// Successful payments: (contract, when the request was sent).
    payments: Vec<(String, Instant)>,
    /// Successful stage reports: (contract, stage rank, sent, answered).
    stages: Vec<(String, i32, Instant, Instant)>,
}

impl World {
    async fn call(
        &self,
        rng: &mut StdRng,
        op: &'static str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value, Instant) {
        let base = &self.bases[rng.random_range(0..self.bases.len())];
        let mut req = self.http.request(method, format!("{base}/api/v1{path}")).bearer_auth(token);
        if let Some(body) = &body {
            req = req.json(body);
        }
        let sent = Instant::now();
        let (status, text) = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                (status, res.text().await.unwrap_or_default())
            }
            Err(e) => (599, format!("transport error: {e}")),
        };
        let mut log = self.log.lock().unwrap();
        *log.counts.entry((op, status)).or_default() += 1;
        if status >= 500 {
            log.server_errors.push(format!("{op} {path} → {status}: {text}"));
        }
        drop(log);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null), sent)
    }

    async fn post(&self, rng: &mut StdRng, op: &'static str, path: &str, who: &TestUser, body: Value) -> (u16, Value) {
        let (status, value, _) = self.call(rng, op, reqwest::Method::POST, path, &who.token, Some(body)).await;
        (status, value)
    }
}

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    if items.is_empty() { None } else { Some(items[rng.random_range(0..items.len())].clone()) }
}

async fn run(instances: usize) {
    let _serial = SERIAL.lock().await;
    let app = spawn_app_with(|s| {
        s.auth.access_token_secs = 90 * 24 * 3600;
        s.database.pool_max_size = 8;
    })
    .await;
    let mut bases = vec![app.addr.clone()];
    let mut states = vec![app.state.clone()];
    for _ in 1..instances {
        let peer = app.spawn_peer().await;
        bases.push(peer.addr);
        states.push(peer.state);
    }
    let world = Arc::new(setup(&app, bases, states).await);
    let seeds: Vec<StdRng> = (0..CLIENTS as u64).map(|i| StdRng::seed_from_u64(0x7e57 + i)).collect();

    // Load phase; late in it every voucher passes its expiry (valid for one day; the clock
    // jumps two), so expiry collides with redemptions and settlements too.
    let phase = load_phase();
    let started = Instant::now();
    let end = started + phase;
    let mut tasks = Vec::new();
    for rng in seeds {
        let world = world.clone();
        tasks.push(tokio::spawn(async move { client(world, rng, end).await }));
    }
    for state in world.states.clone() {
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let _ = techtransfer::jobs::run_due(&state).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    tokio::time::sleep(phase.mul_f64(0.75)).await;
    let jumped_at = app.clock.now();
    app.clock.advance(chrono::Duration::days(2));
    for t in tasks {
        t.await.expect("client task");
    }
    let elapsed = started.elapsed();
    for state in &world.states {
        techtransfer::jobs::run_due(state).await.expect("drain jobs");
    }

    let verify = app.get("/admin/audit/verify", world.admin.t()).await.expect(200);
    let report = check(&app, &world, instances, elapsed, jumped_at, &verify);
    println!("{report}");
    if let Ok(path) = std::env::var("TT_TORTURE_REPORT") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{report}");
        }
    }
}

async fn setup(app: &TestApp, bases: Vec<String>, states: Vec<AppState>) -> World {
    let admin = app.admin().await;
    let mut enterprises = Vec::new();
    for _ in 0..4 {
        enterprises.push(app.member("enterprise").await);
    }
    let providers = vec![app.instrument_provider().await, app.instrument_provider().await];
    let teams = vec![
        app.member("university").await,
        app.member("institute").await,
        app.member("university").await,
        app.member("institute").await,
    ];
    let expert = app.expert().await;
    let today = techtransfer::domain::voucher::shanghai_date(app.clock.now());
    let mut programs = Vec::new();
    for n in 0..2 {
        let body = json!({
            "name": format!("压力测试创新券{n}"), "year": 2026,
            "total_budget_fen": BUDGET_FEN, "per_enterprise_cap_fen": CAP_FEN, "coverage_ratio_bp": 5000,
            "service_categories": ["inspection_testing", "instrument_sharing"], "eligible_scales": ["small", "micro"],
            "valid_days": 1,
            "applications_open": today.to_string(),
            "applications_close": (today + chrono::Duration::days(30)).to_string(),
            "settle_by": (today + chrono::Duration::days(60)).to_string(),
        });
        programs.push(
            app.post("/admin/voucher-programs", admin.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned(),
        );
    }
    let mut instruments = Vec::new();
    for (i, provider) in providers.iter().enumerate() {
        let body = json!({
            "name": format!("共享液相色谱仪{i}"), "model": "LC-20", "category": "色谱仪", "location": "测试楼 101",
            "region": "江苏省", "fee_per_hour_fen": 40_000, "weekly_open_hours": 60,
        });
        instruments.push((
            app.post("/instruments", provider.t(), &body).await.expect(201)["id"].as_str().unwrap().to_owned(),
            i,
        ));
    }
    let world = World {
        bases,
        states,
        http: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap(),
        admin,
        enterprises,
        providers,
        teams,
        expert,
        programs,
        instruments,
        clock: app.clock.clone(),
        pools: Mutex::new(Pools::default()),
        log: Mutex::new(Log::default()),
    };
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..3 {
        new_challenge(&world, &mut rng).await;
    }
    for _ in 0..6 {
        new_contract(&world, &mut rng).await;
    }
    world
}

/// One client: random operations until `end`.
async fn client(world: Arc<World>, mut rng: StdRng, end: Instant) {
    while Instant::now() < end {
        let roll = rng.random_range(0..112);
        match roll {
            0..=9 => apply(&world, &mut rng).await,
            10..=19 => approve(&world, &mut rng).await,
            20..=21 => reject_application(&world, &mut rng).await,
            22..=33 => redeem(&world, &mut rng).await,
            34..=41 => confirm(&world, &mut rng).await,
            42..=49 => settle(&world, &mut rng).await,
            50..=52 => reject_redemption(&world, &mut rng).await,
            53 => revoke(&world, &mut rng).await,
            54..=56 => eliminate(&world, &mut rng).await,
            57..=62 => deliver(&world, &mut rng).await,
            63..=68 => judge(&world, &mut rng, true).await,
            69..=70 => judge(&world, &mut rng, false).await,
            71 => cancel(&world, &mut rng).await,
            72 => new_challenge(&world, &mut rng).await,
            73..=81 => pay(&world, &mut rng).await,
            82 => terminate(&world, &mut rng).await,
            83..=88 => commercialize(&world, &mut rng).await,
            89..=91 => distribute(&world, &mut rng).await,
            92 => complete(&world, &mut rng).await,
            93..=94 => new_contract(&world, &mut rng).await,
            95..=99 => book(&world, &mut rng).await,
            100..=102 => booking_step(&world, &mut rng, "approve").await,
            103 => booking_step(&world, &mut rng, "reject").await,
            104..=105 => booking_step(&world, &mut rng, "complete").await,
            106 => booking_step(&world, &mut rng, "no-show").await,
            107 => booking_step(&world, &mut rng, "cancel").await,
            108 => settlement_batch(&world, &mut rng).await,
            _ => read_back(&world, &mut rng).await,
        }
    }
}

// ---- vouchers ----

async fn apply(w: &World, rng: &mut StdRng) {
    let e = rng.random_range(0..w.enterprises.len());
    let program = pick(rng, &w.programs).unwrap();
    let requested = rng.random_range(1..=CAP_FEN / 1000) * 1000;
    let category = if rng.random_bool(0.3) { "instrument_sharing" } else { "inspection_testing" };
    let body = json!({"requested_fen": requested, "purpose": "委托检测新材料样品", "service_category": category});
    let (status, v) =
        w.post(rng, "apply", &format!("/voucher-programs/{program}/applications"), &w.enterprises[e], body).await;
    if status == 201 {
        w.pools.lock().unwrap().applications.push((v["id"].as_str().unwrap().to_owned(), e, requested));
    }
}

async fn approve(w: &World, rng: &mut StdRng) {
    let Some((id, e, requested)) = pick(rng, &w.pools.lock().unwrap().applications) else { return };
    let approved = rng.random_range(1..=requested);
    let (status, v) = w
        .post(
            rng,
            "approve",
            &format!("/admin/voucher-applications/{id}/approve"),
            &w.admin,
            json!({"approved_fen": approved}),
        )
        .await;
    if status == 200 {
        let mut pools = w.pools.lock().unwrap();
        let sharing = v["service_category"] == "instrument_sharing";
        pools.vouchers.push((v["id"].as_str().unwrap().to_owned(), v["code"].as_str().unwrap().to_owned(), e, sharing));
    }
}

async fn reject_application(w: &World, rng: &mut StdRng) {
    let Some((id, _, _)) = pick(rng, &w.pools.lock().unwrap().applications) else { return };
    w.post(
        rng,
        "reject_application",
        &format!("/admin/voucher-applications/{id}/reject"),
        &w.admin,
        json!({"reason": "材料不全"}),
    )
    .await;
}

async fn redeem(w: &World, rng: &mut StdRng) {
    let Some((_, code, e, _)) = pick(rng, &w.pools.lock().unwrap().vouchers) else { return };
    let provider = &w.providers[rng.random_range(0..w.providers.len())];
    let fee = rng.random_range(1..=200) * 1000;
    let body = json!({"voucher_code": code, "service_fee_fen": fee, "invoice_no": "FP-T-1", "description": "成分检测"});
    let (status, v) = w.post(rng, "redeem", "/voucher-redemptions", provider, body).await;
    if status == 201 {
        w.pools.lock().unwrap().redemptions.push((v["id"].as_str().unwrap().to_owned(), e));
    }
}

async fn confirm(w: &World, rng: &mut StdRng) {
    let Some((id, e)) = pick(rng, &w.pools.lock().unwrap().redemptions) else { return };
    w.post(rng, "confirm", &format!("/voucher-redemptions/{id}/confirm"), &w.enterprises[e], json!({})).await;
}

async fn settle(w: &World, rng: &mut StdRng) {
    let Some((id, _)) = pick(rng, &w.pools.lock().unwrap().redemptions) else { return };
    w.post(rng, "settle", &format!("/admin/voucher-redemptions/{id}/settle"), &w.admin, json!({})).await;
}

async fn reject_redemption(w: &World, rng: &mut StdRng) {
    let Some((id, _)) = pick(rng, &w.pools.lock().unwrap().redemptions) else { return };
    w.post(
        rng,
        "reject_redemption",
        &format!("/admin/voucher-redemptions/{id}/reject"),
        &w.admin,
        json!({"reason": "发票不符"}),
    )
    .await;
}

async fn revoke(w: &World, rng: &mut StdRng) {
    let Some((id, _, _, _)) = pick(rng, &w.pools.lock().unwrap().vouchers) else { return };
    w.post(rng, "revoke", &format!("/admin/vouchers/{id}/revoke"), &w.admin, json!({"reason": "违规使用"})).await;
}

// ---- shared instruments ----

/// Books a slot on a coarse grid of the next 30 hours, so bookings collide on slots; half of
/// the enterprises that hold an instrument-sharing voucher pay with it.
async fn book(w: &World, rng: &mut StdRng) {
    let e = rng.random_range(0..w.enterprises.len());
    let instrument = rng.random_range(0..w.instruments.len());
    let hour = w.clock.now().timestamp() / 3600 + rng.random_range(1..=30);
    let starts = chrono::DateTime::from_timestamp(hour * 3600, 0).unwrap();
    let ends = starts + chrono::Duration::hours(rng.random_range(1..=3));
    let mut body = json!({"starts_at": starts.to_rfc3339(), "ends_at": ends.to_rfc3339(), "purpose": "样品成分分析"});
    let voucher = {
        let pools = w.pools.lock().unwrap();
        let held: Vec<String> = pools.vouchers.iter().filter(|v| v.2 == e && v.3).map(|v| v.1.clone()).collect();
        pick(rng, &held).filter(|_| rng.random_bool(0.5))
    };
    let paid = voucher.is_some();
    if let Some(code) = voucher {
        body["voucher_code"] = json!(code);
    }
    let path = format!("/instruments/{}/bookings", w.instruments[instrument].0);
    let (status, v) = w.post(rng, "book", &path, &w.enterprises[e], body).await;
    if status == 201 {
        let booking = BookingRef { id: v["id"].as_str().unwrap().to_owned(), instrument, enterprise: e, paid };
        w.pools.lock().unwrap().bookings.push(booking);
    }
}

/// The provider approves, rejects, completes or records a no-show; the enterprise cancels.
/// A completed booking paid by voucher leaves a redemption that the voucher flows then move.
async fn booking_step(w: &World, rng: &mut StdRng, action: &'static str) {
    let Some(b) = pick(rng, &w.pools.lock().unwrap().bookings) else { return };
    let who =
        if action == "cancel" { &w.enterprises[b.enterprise] } else { &w.providers[w.instruments[b.instrument].1] };
    let op = match action {
        "approve" => "approve_booking",
        "reject" => "reject_booking",
        "complete" if b.paid => "complete_booking_paid",
        "complete" => "complete_booking",
        "no-show" => "no_show",
        _ => "cancel_booking",
    };
    let (status, v) = w
        .post(
            rng,
            op,
            &format!("/bookings/{}/{action}", b.id),
            who,
            json!({"invoice_no": "FP-T-2", "reason": "压力测试"}),
        )
        .await;
    if let Some(redemption) = v["redemption_id"].as_str().filter(|_| status == 200) {
        w.pools.lock().unwrap().redemptions.push((redemption.to_owned(), b.enterprise));
    }
}

// ---- challenges ----

/// Publishes a horse race, takes three bids, lets bidding close, has it scored and awards
/// two winners, so the race runs with two horses.
async fn new_challenge(w: &World, rng: &mut StdRng) {
    {
        let mut pools = w.pools.lock().unwrap();
        if pools.challenges_made >= 10 {
            return;
        }
        pools.challenges_made += 1;
    }
    let issuer = rng.random_range(0..w.enterprises.len());
    let who = &w.enterprises[issuer];
    let now = w.states[0].clock.now();
    let body = json!({
        "title": "高温合金叶片缺陷检测揭榜", "description": "研制内部缺陷自动检测装备。", "field": "advanced_manufacturing",
        "indicators": [{"name": "检出率", "target": "≥99%"}], "reward_fen": 1_000_000, "mode": "horse_race",
        "max_winners": 3, "bid_deadline": (now + chrono::Duration::milliseconds(1500)).to_rfc3339(),
        "publicity_days": 0, "eligible_kinds": ["university", "institute"],
        "milestones": [
            {"title": "样机研制", "due_date": "2027-06-30", "payment_fen": 300_000},
            {"title": "中试验证", "due_date": "2027-09-30", "payment_fen": 300_000},
            {"title": "现场应用", "due_date": "2027-12-31", "payment_fen": 400_000},
        ],
    });
    let (status, created) = w.post(rng, "challenge_create", "/challenges", who, body).await;
    if status != 201 {
        return;
    }
    let id = created["id"].as_str().unwrap().to_owned();
    let milestones: Vec<String> =
        created["milestones"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    w.post(rng, "challenge_submit", &format!("/challenges/{id}/submit"), who, json!({})).await;
    w.post(rng, "challenge_approve", &format!("/admin/challenges/{id}/approve"), &w.admin, json!({})).await;
    let mut bids = Vec::new();
    for (t, team) in w.teams.iter().enumerate().take(3) {
        let body = json!({"proposal": "相控阵超声检测方案", "budget_fen": 900_000, "plan": "分阶段实施",
                          "team": [{"name": "张教授", "title": "首席科学家"}]});
        let (status, bid) = w.post(rng, "bid", &format!("/challenges/{id}/bids"), team, body).await;
        if status == 201 {
            bids.push((bid["id"].as_str().unwrap().to_owned(), t));
        }
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    w.post(
        rng,
        "assign_experts",
        &format!("/admin/challenges/{id}/experts"),
        &w.admin,
        json!({"user_ids": [w.expert.id]}),
    )
    .await;
    for (bid, _) in &bids {
        let (technical, team) = (rng.random_range(0..=100), rng.random_range(0..=100));
        let (status, _, _) = w
            .call(
                rng,
                "score",
                reqwest::Method::PUT,
                &format!("/challenges/{id}/bids/{bid}/score"),
                &w.expert.token,
                Some(json!({"technical": technical, "team": team, "budget": 50, "comment": "方案可行"})),
            )
            .await;
        assert_eq!(status, 200, "scoring a fresh challenge");
    }
    let winners: Vec<(String, usize)> = bids.into_iter().take(2).collect();
    let ids: Vec<&str> = winners.iter().map(|(b, _)| b.as_str()).collect();
    let (status, _) = w.post(rng, "award", &format!("/challenges/{id}/award"), who, json!({"bid_ids": ids})).await;
    if status == 200 {
        w.pools.lock().unwrap().challenges.push(ChallengeRef { id, issuer, milestones, winners });
    }
}

async fn eliminate(w: &World, rng: &mut StdRng) {
    let Some(ch) = pick(rng, &w.pools.lock().unwrap().challenges) else { return };
    let (bid, _) = pick(rng, &ch.winners).unwrap();
    w.post(
        rng,
        "eliminate",
        &format!("/challenges/{}/eliminate", ch.id),
        &w.enterprises[ch.issuer],
        json!({"bid_id": bid, "reason": "中期评估落后"}),
    )
    .await;
}

async fn deliver(w: &World, rng: &mut StdRng) {
    let Some(ch) = pick(rng, &w.pools.lock().unwrap().challenges) else { return };
    let (bid, team) = pick(rng, &ch.winners).unwrap();
    let m = pick(rng, &ch.milestones).unwrap();
    let path = format!("/challenges/{}/milestones/{m}/deliver", ch.id);
    w.post(rng, "deliver", &path, &w.teams[team], json!({"bid_id": bid, "report": "阶段成果报告"})).await;
}

async fn judge(w: &World, rng: &mut StdRng, accept: bool) {
    let Some(ch) = pick(rng, &w.pools.lock().unwrap().challenges) else { return };
    let (bid, _) = pick(rng, &ch.winners).unwrap();
    let m = pick(rng, &ch.milestones).unwrap();
    let issuer = &w.enterprises[ch.issuer];
    if accept {
        let path = format!("/challenges/{}/milestones/{m}/accept", ch.id);
        w.post(rng, "accept_milestone", &path, issuer, json!({"bid_id": bid})).await;
    } else {
        let path = format!("/challenges/{}/milestones/{m}/reject", ch.id);
        w.post(rng, "reject_milestone", &path, issuer, json!({"bid_id": bid, "reason": "指标未达到"})).await;
    }
}

async fn cancel(w: &World, rng: &mut StdRng) {
    let Some(ch) = pick(rng, &w.pools.lock().unwrap().challenges) else { return };
    w.post(
        rng,
        "cancel",
        &format!("/challenges/{}/cancel", ch.id),
        &w.enterprises[ch.issuer],
        json!({"reason": "需求变更"}),
    )
    .await;
}

// ---- contracts ----

/// Drafts, signs (both sides) and registers a licence contract between a team and an
/// enterprise.
async fn new_contract(w: &World, rng: &mut StdRng) {
    {
        let mut pools = w.pools.lock().unwrap();
        if pools.contracts_made >= 30 {
            return;
        }
        pools.contracts_made += 1;
    }
    let (t, e) = (rng.random_range(0..w.teams.len()), rng.random_range(0..w.enterprises.len()));
    let (seller, buyer) = (&w.teams[t], &w.enterprises[e]);
    let body = json!({
        "kind": "license", "title": "固态电解质专利许可合同",
        "seller_org_id": seller.org(), "buyer_org_id": buyer.org(), "amount_fen": 1_000_000,
        "payment_plan": [{"due_date": "2027-01-31", "amount_fen": 400_000}, {"due_date": "2027-06-30", "amount_fen": 600_000}],
    });
    let (status, created) = w.post(rng, "contract_create", "/contracts", seller, body).await;
    if status != 201 {
        return;
    }
    let id = created["id"].as_str().unwrap().to_owned();
    w.post(rng, "sign", &format!("/contracts/{id}/sign"), seller, json!({})).await;
    w.post(rng, "sign", &format!("/contracts/{id}/sign"), buyer, json!({})).await;
    let (status, _) = w.post(rng, "register", &format!("/admin/contracts/{id}/register"), &w.admin, json!({})).await;
    if status == 200 {
        w.pools.lock().unwrap().contracts.push((id, t, e));
    }
}

async fn pay(w: &World, rng: &mut StdRng) {
    let Some((id, t, _)) = pick(rng, &w.pools.lock().unwrap().contracts) else { return };
    let amount = rng.random_range(1..=40) * 10_000;
    let body = json!({"amount_fen": amount, "paid_at": "2026-12-01T08:00:00Z", "reference": "TT-PAY"});
    let (status, _, sent) = w
        .call(rng, "pay", reqwest::Method::POST, &format!("/contracts/{id}/payments"), &w.teams[t].token, Some(body))
        .await;
    if status == 200 {
        w.log.lock().unwrap().payments.push((id, sent));
    }
}

async fn terminate(w: &World, rng: &mut StdRng) {
    let Some((id, t, e)) = pick(rng, &w.pools.lock().unwrap().contracts) else { return };
    let who = if rng.random_bool(0.5) { &w.teams[t] } else { &w.enterprises[e] };
    let (status, _) =
        w.post(rng, "terminate", &format!("/contracts/{id}/terminate"), who, json!({"reason": "合作终止"})).await;
    if status == 200 {
        w.log.lock().unwrap().terminated.insert(id, Instant::now());
    }
}

async fn complete(w: &World, rng: &mut StdRng) {
    let Some((id, t, _)) = pick(rng, &w.pools.lock().unwrap().contracts) else { return };
    w.post(rng, "complete", &format!("/contracts/{id}/complete"), &w.teams[t], json!({})).await;
}

const STAGES: [&str; 4] = ["lab", "pilot", "mass_production", "on_market"];

async fn commercialize(w: &World, rng: &mut StdRng) {
    let Some((id, t, e)) = pick(rng, &w.pools.lock().unwrap().contracts) else { return };
    let rank = rng.random_range(0..STAGES.len());
    let who = if rng.random_bool(0.5) { &w.teams[t] } else { &w.enterprises[e] };
    let body = json!({"stage": STAGES[rank], "note": "进展顺利", "reported_at": "2026-12-01T08:00:00Z"});
    let path = format!("/contracts/{id}/commercialization");
    let (status, _, sent) = w.call(rng, "commercialize", reqwest::Method::POST, &path, &who.token, Some(body)).await;
    if status == 200 {
        w.log.lock().unwrap().stages.push((id, rank as i32, sent, Instant::now()));
    }
}

async fn distribute(w: &World, rng: &mut StdRng) {
    let Some((id, t, _)) = pick(rng, &w.pools.lock().unwrap().contracts) else { return };
    let body = json!({"net_income_fen": rng.random_range(1..=100) * 10_000, "inventor_share_bp": 7000,
                      "beneficiaries": [{"name": "张教授", "share_bp": 6000}, {"name": "李博士", "share_bp": 4000}]});
    w.post(rng, "distribute", &format!("/contracts/{id}/revenue-distribution"), &w.teams[t], body).await;
}

/// Reads mixed into the writes (they must never fail either).
async fn read_back(w: &World, rng: &mut StdRng) {
    let program = pick(rng, &w.programs).unwrap();
    let path = format!("/admin/voucher-programs/{program}/summary");
    w.call(rng, "summary", reqwest::Method::GET, &path, &w.admin.token, None).await;
    let challenge = pick(rng, &w.pools.lock().unwrap().challenges);
    if let Some(ch) = challenge {
        let path = format!("/challenges/{}", ch.id);
        w.call(rng, "challenge_get", reqwest::Method::GET, &path, &w.admin.token, None).await;
    }
}

/// Now and then an admin closes a settlement batch with a cut-off of today, colliding with
/// single settles, rejections, revocations and redemptions.
async fn settlement_batch(w: &World, rng: &mut StdRng) {
    let program = pick(rng, &w.programs).unwrap();
    let today = techtransfer::domain::voucher::shanghai_date(w.clock.now());
    let path = format!("/admin/voucher-programs/{program}/settlement-batches");
    w.post(rng, "settlement_batch", &path, &w.admin, json!({"cut_off": today.to_string()})).await;
}

// ---- afterwards ----

/// Audit actions of which every successful request of the listed operations writes exactly one.
const AUDITED: [(&[&str], &str); 25] = [
    (&["apply"], "voucher_application.submit"),
    (&["approve"], "voucher_application.approve"),
    (&["reject_application"], "voucher_application.reject"),
    (&["redeem", "complete_booking_paid"], "voucher_redemption.create"),
    (&["confirm"], "voucher_redemption.confirm"),
    (&["settle"], "voucher_redemption.settle"),
    (&["settlement_batch"], "voucher_settlement_batch.create"),
    (&["reject_redemption"], "voucher_redemption.reject"),
    (&["revoke"], "voucher.revoke"),
    (&["eliminate"], "bid.eliminate"),
    (&["deliver"], "milestone.deliver"),
    (&["accept_milestone"], "milestone.accept"),
    (&["reject_milestone"], "milestone.reject"),
    (&["cancel"], "challenge.cancel"),
    (&["pay"], "contract.payment"),
    (&["terminate"], "contract.terminate"),
    (&["complete"], "contract.complete"),
    (&["commercialize"], "contract.commercialization"),
    (&["distribute"], "contract.revenue_distribution"),
    (&["book"], "instrument_booking.create"),
    (&["approve_booking"], "instrument_booking.approve"),
    (&["reject_booking"], "instrument_booking.reject"),
    (&["complete_booking", "complete_booking_paid"], "instrument_booking.complete"),
    (&["no_show"], "instrument_booking.no_show"),
    (&["cancel_booking"], "instrument_booking.cancel"),
];

fn check(
    app: &TestApp,
    world: &World,
    instances: usize,
    elapsed: Duration,
    jumped_at: chrono::DateTime<chrono::Utc>,
    verify: &Value,
) -> String {
    let log = world.log.lock().unwrap();
    let mut failures = Vec::new();
    failures.extend(log.server_errors.iter().take(10).cloned());
    if verify["ok"] != true {
        failures.push(format!("audit chain does not verify: {verify}"));
    }
    app.with_conn(|c| {
        money_invariants(c, &mut failures);
        batch_invariants(c, &mut failures);
        booking_invariants(c, &mut failures);
        challenge_invariants(c, &mut failures);
        contract_invariants(c, &mut failures);
        audit_completeness(c, &log.counts, &mut failures);
    });
    // Linearizability at the edge: once a termination was acknowledged, no later payment
    // request succeeded; once a stage was acknowledged, no later report of an earlier stage.
    for (contract, sent) in &log.payments {
        if log.terminated.get(contract).is_some_and(|done| sent > done) {
            failures.push(format!("payment on contract {contract} accepted after its termination"));
        }
    }
    for (contract, rank, sent, _) in &log.stages {
        if log.stages.iter().any(|(c2, r2, _, done)| c2 == contract && r2 > rank && done < sent) {
            failures.push(format!("contract {contract}: stage {rank} accepted after a later stage"));
        }
    }

    let lag_ms = app.with_conn(|c| max_lag_before(c, jumped_at));
    let (retries, exhausted) =
        world.states.iter().map(|s| s.db.contention_counts()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
    let mut by_op: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for ((op, status), n) in &log.counts {
        *by_status.entry(*status).or_default() += n;
        let e = by_op.entry(op).or_default();
        if *status < 300 { e.0 += n } else { e.1 += n }
    }
    let total: u64 = by_status.values().sum();
    let mut report = format!(
        "torture [{:?}, {instances} instance(s), {CLIENTS} clients, {:.1} s]: {total} requests ({:.0}/s); by status {by_status:?}; \
         transaction retries {retries} (exhausted {exhausted}); max audit sequencing lag {lag_ms} ms; audit entries {}\n  per operation (2xx, other): {by_op:?}",
        backend(),
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        verify["entries"],
    );
    if lag_ms > 2_000 {
        failures.push(format!("audit sequencing lag {lag_ms} ms exceeds 2 s"));
    }
    if !failures.is_empty() {
        report.push_str(&format!("\n  FAILURES:\n  {}", failures.join("\n  ")));
    }
    assert!(failures.is_empty(), "{report}");
    report
}

fn money_invariants(c: &mut techtransfer::db::AnyConnection, failures: &mut Vec<String>) {
    type Program = (String, i64, i64, i64, i64, i64);
    let programs: Vec<Program> = voucher_programs::table
        .select((
            voucher_programs::id,
            voucher_programs::total_budget_fen,
            voucher_programs::issued_fen,
            voucher_programs::released_fen,
            voucher_programs::settled_fen,
            voucher_programs::per_enterprise_cap_fen,
        ))
        .load(c)
        .unwrap();
    let ledger: Vec<(String, String, String, i64)> = voucher_ledger::table
        .select((
            voucher_ledger::program_id,
            voucher_ledger::voucher_id,
            voucher_ledger::kind,
            voucher_ledger::amount_fen,
        ))
        .load(c)
        .unwrap();
    let sum = |program: &str, voucher: Option<&str>, kinds: &[&str]| -> i64 {
        ledger
            .iter()
            .filter(|(p, v, k, _)| p == program && voucher.is_none_or(|x| x == v) && kinds.contains(&k.as_str()))
            .map(|r| r.3)
            .sum()
    };
    for (id, total, issued, released, settled, cap) in &programs {
        let remaining = total - issued + released;
        if remaining < 0 || remaining > *total {
            failures.push(format!("program {id}: remaining {remaining} outside 0..={total}"));
        }
        if sum(id, None, &["issue"]) != *issued {
            failures.push(format!("program {id}: issued {issued} ≠ ledger {}", sum(id, None, &["issue"])));
        }
        if sum(id, None, &["expire", "revoke"]) != *released {
            failures.push(format!("program {id}: released {released} ≠ ledger"));
        }
        if sum(id, None, &["settle"]) != *settled {
            failures.push(format!("program {id}: settled {settled} ≠ ledger"));
        }
        let totals: Vec<(String, i64)> = voucher_enterprise_totals::table
            .filter(voucher_enterprise_totals::program_id.eq(id))
            .select((voucher_enterprise_totals::enterprise_id, voucher_enterprise_totals::net_fen))
            .load(c)
            .unwrap();
        for (enterprise, net) in totals {
            if net > *cap || net < 0 {
                failures.push(format!("program {id}: enterprise {enterprise} holds {net} of a {cap} cap"));
            }
        }
    }
    type Voucher = (String, String, i64, i64, i64, i64, i64);
    let all: Vec<Voucher> = vouchers::table
        .select((
            vouchers::id,
            vouchers::program_id,
            vouchers::face_value_fen,
            vouchers::balance_fen,
            vouchers::reserved_fen,
            vouchers::settled_fen,
            vouchers::returned_fen,
        ))
        .load(c)
        .unwrap();
    for (id, program, face, balance, reserved, settled, returned) in all {
        if balance + reserved + settled + returned != face || balance < 0 || reserved < 0 {
            failures.push(format!(
                "voucher {id}: balance {balance} + reserved {reserved} + settled {settled} + returned {returned} ≠ face {face}"
            ));
        }
        let held = sum(&program, Some(&id), &["reserve"]) - sum(&program, Some(&id), &["release", "settle"]);
        if held != reserved {
            failures.push(format!("voucher {id}: reserved {reserved} ≠ ledger {held}"));
        }
        if sum(&program, Some(&id), &["settle"]) != settled {
            failures.push(format!("voucher {id}: settled {settled} ≠ ledger"));
        }
        if sum(&program, Some(&id), &["expire", "revoke"]) != returned {
            failures.push(format!("voucher {id}: returned {returned} ≠ ledger"));
        }
    }
}

/// Each settlement batch reconciles: Σ of its redemptions' `settle` ledger rows = its total =
/// Σ of its redemptions' amounts, with its count; every settled redemption has exactly one
/// `settle` row (never settled twice, by a batch or singly), and only settled ones are in a batch.
fn batch_invariants(c: &mut techtransfer::db::AnyConnection, failures: &mut Vec<String>) {
    let batches: Vec<(String, i64, i64)> = voucher_settlement_batches::table
        .select((
            voucher_settlement_batches::id,
            voucher_settlement_batches::redemption_count,
            voucher_settlement_batches::total_fen,
        ))
        .load(c)
        .unwrap();
    let rows: Vec<(String, String, i64, Option<String>)> = redemptions::table
        .select((redemptions::id, redemptions::status, redemptions::amount_fen, redemptions::batch_id))
        .load(c)
        .unwrap();
    let settles: Vec<(Option<String>, i64)> = voucher_ledger::table
        .filter(voucher_ledger::kind.eq("settle"))
        .select((voucher_ledger::redemption_id, voucher_ledger::amount_fen))
        .load(c)
        .unwrap();
    let mut per_redemption: HashMap<&str, (u32, i64)> = HashMap::new();
    for (id, amount) in &settles {
        if let Some(id) = id {
            let e = per_redemption.entry(id.as_str()).or_default();
            e.0 += 1;
            e.1 += amount;
        }
    }
    for (id, status, _, batch) in &rows {
        let n = per_redemption.get(id.as_str()).map_or(0, |e| e.0);
        if (status == "settled") != (n == 1) || n > 1 {
            failures.push(format!("redemption {id} ({status}) has {n} settle ledger rows"));
        }
        if batch.is_some() && status != "settled" {
            failures.push(format!("redemption {id} is in a batch but {status}"));
        }
    }
    for (batch, count, total) in batches {
        let mine: Vec<_> = rows.iter().filter(|r| r.3.as_deref() == Some(batch.as_str())).collect();
        let amounts: i64 = mine.iter().map(|r| r.2).sum();
        let ledger: i64 = mine.iter().map(|r| per_redemption.get(r.0.as_str()).map_or(0, |e| e.1)).sum();
        if mine.len() as i64 != count || amounts != total || ledger != total {
            failures.push(format!(
                "batch {batch}: count {count} / total {total}, but {} redemptions of Σ {amounts}, ledger Σ {ledger}",
                mine.len()
            ));
        }
    }
}

fn challenge_invariants(c: &mut techtransfer::db::AnyConnection, failures: &mut Vec<String>) {
    let rows: Vec<(String, String, String, i64, i64)> = challenges::table
        .select((challenges::id, challenges::mode, challenges::status, challenges::reward_fen, challenges::paid_fen))
        .load(c)
        .unwrap();
    for (id, mode, status, reward, paid) in rows {
        let winners: i64 = bids::table
            .filter(bids::challenge_id.eq(&id))
            .filter(bids::status.eq("awarded"))
            .count()
            .get_result(c)
            .unwrap();
        if mode == "horse_race" && matches!(status.as_str(), "in_progress" | "publicizing") && winners == 0 {
            failures.push(format!("challenge {id} is {status} without a winner"));
        }
        let payments: Vec<i64> = challenge_payments::table
            .filter(challenge_payments::challenge_id.eq(&id))
            .select(challenge_payments::amount_fen)
            .load(c)
            .unwrap();
        if payments.iter().sum::<i64>() != paid || paid > reward {
            failures.push(format!("challenge {id}: paid {paid}, payments {payments:?}, reward {reward}"));
        }
    }
}

fn contract_invariants(c: &mut techtransfer::db::AnyConnection, failures: &mut Vec<String>) {
    let rows: Vec<(String, String, i64, i64)> = contracts::table
        .select((contracts::id, contracts::status, contracts::amount_fen, contracts::paid_fen))
        .load(c)
        .unwrap();
    for (id, status, amount, paid) in rows {
        let payments: Vec<i64> = contract_payments::table
            .filter(contract_payments::contract_id.eq(&id))
            .select(contract_payments::amount_fen)
            .load(c)
            .unwrap();
        if payments.iter().sum::<i64>() != paid || paid > amount {
            failures.push(format!("contract {id} ({status}): paid {paid}, payments {payments:?}, amount {amount}"));
        }
    }
}

/// What a voucher holds in reserve is exactly what its open redemptions and its live bookings
/// hold, and no two bookings that hold a slot of one instrument overlap.
fn booking_invariants(c: &mut techtransfer::db::AnyConnection, failures: &mut Vec<String>) {
    let mut held: HashMap<String, i64> = HashMap::new();
    let open: Vec<(String, i64)> = redemptions::table
        .filter(redemptions::status.eq_any(["pending_confirmation", "confirmed"]))
        .select((redemptions::voucher_id, redemptions::amount_fen))
        .load(c)
        .unwrap();
    let live: Vec<(Option<String>, i64)> = instrument_bookings::table
        .filter(instrument_bookings::status.eq_any(["requested", "approved"]))
        .select((instrument_bookings::voucher_id, instrument_bookings::reserved_fen))
        .load(c)
        .unwrap();
    for (voucher, amount) in open.into_iter().chain(live.into_iter().filter_map(|(v, a)| v.map(|v| (v, a)))) {
        *held.entry(voucher).or_default() += amount;
    }
    let reserved: Vec<(String, i64)> = vouchers::table.select((vouchers::id, vouchers::reserved_fen)).load(c).unwrap();
    for (id, reserved) in reserved {
        let holds = held.get(&id).copied().unwrap_or(0);
        if holds != reserved {
            failures.push(format!("voucher {id}: reserved {reserved} but redemptions and bookings hold {holds}"));
        }
    }
    type Slot = (String, String, chrono::NaiveDateTime, chrono::NaiveDateTime);
    let mut slots: Vec<Slot> = instrument_bookings::table
        .filter(instrument_bookings::status.eq_any(["requested", "approved", "completed", "no_show"]))
        .select((
            instrument_bookings::instrument_id,
            instrument_bookings::id,
            instrument_bookings::starts_at,
            instrument_bookings::ends_at,
        ))
        .load(c)
        .unwrap();
    slots.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    for pair in slots.windows(2) {
        if pair[0].0 == pair[1].0 && pair[1].2 < pair[0].3 {
            failures.push(format!("bookings {} and {} of instrument {} overlap", pair[0].1, pair[1].1, pair[0].0));
        }
    }
}

/// Every successful request of an audited operation wrote exactly one entry with its
/// action (by a user), and no refused request wrote one.
fn audit_completeness(
    c: &mut techtransfer::db::AnyConnection,
    counts: &BTreeMap<(&'static str, u16), u64>,
    failures: &mut Vec<String>,
) {
    for (ops, action) in AUDITED {
        let ok: u64 = counts.iter().filter(|((o, s), _)| ops.contains(o) && *s < 300).map(|(_, n)| n).sum();
        let entries: i64 = audit_log::table
            .filter(audit_log::action.eq(action))
            .filter(audit_log::actor_id.is_not_null())
            .count()
            .get_result(c)
            .unwrap();
        if entries as u64 != ok {
            failures.push(format!("{ops:?}: {ok} successful requests but {entries} `{action}` audit entries"));
        }
    }
}

/// The longest commit-to-sequence wait among entries written and sequenced before the clock
/// jumped (the jump itself is not a wait).
fn max_lag_before(c: &mut techtransfer::db::AnyConnection, before: chrono::DateTime<chrono::Utc>) -> i64 {
    let rows: Vec<(chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = audit_log::table
        .filter(audit_log::at.lt(before.naive_utc()))
        .select((audit_log::at, audit_log::sequenced_at))
        .load(c)
        .unwrap();
    rows.iter()
        .filter_map(|(at, done)| done.filter(|d| *d < before.naive_utc()).map(|d| (d - *at).num_milliseconds()))
        .max()
        .unwrap_or(0)
}
