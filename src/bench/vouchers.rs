//! `techtransfer bench vouchers`: voucher approvals per second on a fresh PostgreSQL
//! database with concurrent clients, racing for a budget that fits only part of them, then
//! every money invariant checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::db::{self, DatabaseUrl, Db};
use crate::domain::organization::{EnterpriseScale, OrgKind, ServiceCategory, credit_check_char};
use crate::error::AppError;
use crate::service::{self, load_actor};

fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let cut = admin_url.rfind('/').ok_or_else(|| anyhow::anyhow!("--pg must end in /<database>"))?;
    Ok(format!("{}/{name}", &admin_url[..cut]))
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn run(admin_url: &str, applications: usize, clients: usize) -> anyhow::Result<()> {
    let name = format!("tt_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(admin_url)?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let result = bench(&database_url(admin_url, &name)?, applications, clients);
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    result
}

fn bench(url: &str, applications: usize, clients: usize) -> anyhow::Result<()> {
    let db = Db::connect(&DatabaseUrl::parse(url)?, clients as u32 + 2, Duration::from_secs(30), 5)?;
    {
        let mut conn = db.conn().map_err(app_err)?;
        db::migrate::run_pending(&mut conn)?;
    }
    let now = Utc::now();
    let hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$placeholderplaceholderplaceholder00";
    let (admin, _) = db
        .tx_blocking(|c| service::accounts::create_admin(c, "bench-admin@example.cn", hash, "bench", now))
        .map_err(app_err)?;
    let admin = db.tx_blocking(|c| load_actor(c, &admin.id)).map_err(app_err)?;
    let amount = 100_000_i64;
    let budget = amount * (applications as i64 * 3 / 4);
    let program = db
        .tx_blocking(|c| {
            service::vouchers::create_program(
                c,
                &admin,
                service::vouchers::NewProgramInput {
                    name: "基准测试创新券".into(),
                    year: 2026,
                    total_budget_fen: budget,
                    per_enterprise_cap_fen: amount,
                    coverage_ratio_bp: 5000,
                    service_categories: vec![ServiceCategory::InspectionTesting],
                    eligible_scales: vec![EnterpriseScale::Small],
                    valid_days: 365,
                    applications_open: (now - chrono::Duration::days(1)).date_naive(),
                    applications_close: (now + chrono::Duration::days(30)).date_naive(),
                    settle_by: (now + chrono::Duration::days(400)).date_naive(),
                },
                now,
            )
        })
        .map_err(app_err)?;
    print!("seeding {applications} enterprises and applications … ");
    let seeded = Instant::now();
    let mut ids = Vec::with_capacity(applications);
    for i in 0..applications {
        let id = db
            .tx_blocking(|c| {
                let user = service::accounts::register(
                    c,
                    service::accounts::NewAccount {
                        email: format!("e{i}@bench.cn"),
                        password_hash: hash.into(),
                        display_name: "e".into(),
                    },
                    now,
                )?;
                let actor = load_actor(c, &user.id)?;
                let first17 = format!("91110108{:09}", i);
                let check = credit_check_char(&first17).unwrap_or('0');
                let org = service::organizations::create(
                    c,
                    &actor,
                    service::organizations::NewOrganization {
                        name: format!("基准企业{i}"),
                        kind: OrgKind::Enterprise,
                        credit_code: format!("{first17}{check}"),
                        region: "江苏省".into(),
                        description: String::new(),
                        enterprise_scale: Some(EnterpriseScale::Small),
                        service_categories: Vec::new(),
                        contact_name: None,
                        contact_phone: None,
                    },
                    now,
                )?;
                service::organizations::review(c, &admin, &org.id, true, None, now)?;
                let actor = load_actor(c, &user.id)?;
                let a = service::vouchers::apply(
                    c,
                    &actor,
                    &program.id,
                    service::vouchers::NewApplicationInput {
                        requested_fen: amount,
                        purpose: "检测".into(),
                        service_category: ServiceCategory::InspectionTesting,
                    },
                    now,
                )?;
                Ok(a.id)
            })
            .map_err(app_err)?;
        ids.push(id);
    }
    println!("{:.1}s", seeded.elapsed().as_secs_f64());

    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let approved = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (db, ids, next, approved, refused, admin) =
                (db.clone(), ids.clone(), next.clone(), approved.clone(), refused.clone(), admin.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(id) = ids.get(i) else { return Ok(()) };
                    match db.tx_blocking(|c| service::vouchers::approve(c, &admin, id, amount, Utc::now())) {
                        Ok(_) => approved.fetch_add(1, Ordering::SeqCst),
                        Err(AppError::Client(e))
                            if e.code == crate::domain::error::ErrorCode::VoucherBudgetExceeded =>
                        {
                            refused.fetch_add(1, Ordering::SeqCst)
                        }
                        Err(e) => return Err(app_err(e)),
                    };
                }
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| anyhow::anyhow!("worker panicked"))??;
    }
    let elapsed = started.elapsed();
    let (ok, no) = (approved.load(Ordering::SeqCst), refused.load(Ordering::SeqCst));
    println!(
        "{clients} clients: {} decisions in {:.2}s = {:.0} decisions/s ({ok} approved, {no} refused: budget for {})",
        ok + no,
        elapsed.as_secs_f64(),
        (ok + no) as f64 / elapsed.as_secs_f64(),
        budget / amount
    );

    // Every invariant, from the balances and from the ledger.
    let p = db.tx_blocking(|c| service::vouchers::program(c, &program.id)).map_err(app_err)?;
    let s = db.tx_blocking(|c| service::vouchers::summary(c, &admin, &program.id)).map_err(app_err)?;
    let vouchers = db.tx_blocking(|c| db::vouchers::vouchers_of_program(c, &program.id)).map_err(app_err)?;
    let face: i64 = vouchers.iter().map(|v| v.face_value_fen).sum();
    let checks = [
        ("approved exactly what the budget fits", ok as i64 == budget / amount),
        ("issued − released ≤ budget", p.issued_fen - p.released_fen <= p.total_budget_fen),
        ("ledger issue = program issued", s.issued_fen == p.issued_fen),
        ("Σ voucher face value = issued", face == p.issued_fen),
        (
            "remaining = budget − issued + released",
            s.remaining_fen == p.total_budget_fen - p.issued_fen + p.released_fen,
        ),
        ("one voucher per approval", vouchers.len() == ok),
    ];
    let mut all = true;
    for (what, holds) in checks {
        println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
        all &= holds;
    }
    anyhow::ensure!(all, "an invariant failed");
    Ok(())
}
