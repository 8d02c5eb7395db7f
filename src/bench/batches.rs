//! `techtransfer bench settlement-batch`: one settlement batch of N confirmed redemptions on a
//! fresh PostgreSQL database. The redemptions (with their reservations on one voucher and
//! their `reserve` ledger rows) are bulk-inserted with `generate_series`; the batch runs the
//! real use case. Prints the time, the peak RSS and whether the batch reconciles.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::db::{self, AnyConnection, DatabaseUrl, Db};
use crate::domain::organization::{EnterpriseScale, OrgKind, ServiceCategory, credit_check_char};
use crate::error::{AppError, AppResult};
use crate::service::{self, Actor, load_actor};

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn run(admin_url: &str, redemptions: usize) -> anyhow::Result<()> {
    let name = format!("tt_bench_{}", uuid::Uuid::new_v4().simple());
    let cut = admin_url.rfind('/').ok_or_else(|| anyhow::anyhow!("--pg must end in /<database>"))?;
    let url = format!("{}/{name}", &admin_url[..cut]);
    let mut admin = PgConnection::establish(admin_url)?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let result = bench(&url, redemptions);
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    result
}

/// A verified organization of `kind` with one owner.
fn organization(c: &mut AnyConnection, admin: &Actor, i: usize, kind: OrgKind) -> AppResult<Actor> {
    let now = Utc::now();
    let user = service::accounts::register(
        c,
        service::accounts::NewAccount {
            email: format!("o{i}@bench.cn"),
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$placeholderplaceholderplaceholder00".into(),
            display_name: "o".into(),
        },
        now,
    )?;
    let actor = load_actor(c, &user.id)?;
    let first17 = format!("91110108{i:09}");
    let check = credit_check_char(&first17).unwrap_or('0');
    let provider = kind == OrgKind::ServiceProvider;
    let org = service::organizations::create(
        c,
        &actor,
        service::organizations::NewOrganization {
            name: format!("基准机构{i}"),
            kind,
            credit_code: format!("{first17}{check}"),
            region: "江苏省".into(),
            description: String::new(),
            enterprise_scale: (!provider).then_some(EnterpriseScale::Small),
            service_categories: if provider { vec![ServiceCategory::InspectionTesting] } else { Vec::new() },
            contact_name: None,
            contact_phone: None,
        },
        now,
    )?;
    service::organizations::review(c, admin, &org.id, true, None, now)?;
    load_actor(c, &user.id)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn bench(url: &str, n: usize) -> anyhow::Result<()> {
    let db = Db::connect(&DatabaseUrl::parse(url)?, 2, Duration::from_secs(30), 5)?;
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
    let amount = 100_i64;
    let face = amount * n as i64;
    let today = crate::domain::voucher::shanghai_date(now);
    let (program, voucher, provider) = db
        .tx_blocking(|c| {
            let program = service::vouchers::create_program(
                c,
                &admin,
                service::vouchers::NewProgramInput {
                    name: "基准测试创新券".into(),
                    year: 2026,
                    total_budget_fen: face,
                    per_enterprise_cap_fen: face,
                    coverage_ratio_bp: 5000,
                    service_categories: vec![ServiceCategory::InspectionTesting],
                    eligible_scales: vec![EnterpriseScale::Small],
                    valid_days: 365,
                    applications_open: today - chrono::Duration::days(1),
                    applications_close: today + chrono::Duration::days(30),
                    settle_by: today + chrono::Duration::days(400),
                },
                now,
            )?;
            let enterprise = organization(c, &admin, 1, OrgKind::Enterprise)?;
            let provider = organization(c, &admin, 2, OrgKind::ServiceProvider)?;
            let application = service::vouchers::apply(
                c,
                &enterprise,
                &program.id,
                service::vouchers::NewApplicationInput {
                    requested_fen: face,
                    purpose: "检测".into(),
                    service_category: ServiceCategory::InspectionTesting,
                },
                now,
            )?;
            let voucher = service::vouchers::approve(c, &admin, &application.id, face, now)?;
            Ok((program, voucher, provider))
        })
        .map_err(app_err)?;
    let provider_org = provider.org.as_ref().map(|o| o.id.clone()).unwrap_or_default();
    print!("bulk-inserting {n} confirmed redemptions … ");
    let seeded = Instant::now();
    let yesterday = (now - chrono::Duration::days(1)).naive_utc().format("%Y-%m-%d %H:%M:%S");
    let sql = format!(
        "INSERT INTO voucher_redemptions (id, voucher_id, program_id, provider_org_id, created_by, service_fee_fen, \
           amount_fen, invoice_no, description, status, created_at, confirmed_at) \
         SELECT '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), '{v}', '{p}', '{o}', '{u}', {fee}, {amount}, \
           'FP' || g, '检测', 'confirmed', '{t}', '{t}' FROM generate_series(1, {n}) g; \
         INSERT INTO voucher_ledger (id, program_id, voucher_id, redemption_id, kind, amount_fen, at) \
         SELECT '00000000-0000-7000-9000-' || lpad(g::text, 12, '0'), '{p}', '{v}', \
           '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), 'reserve', {amount}, '{t}' FROM generate_series(1, {n}) g; \
         UPDATE vouchers SET balance_fen = 0, reserved_fen = {face}, status = 'exhausted' WHERE id = '{v}'; \
         ANALYZE;",
        v = voucher.id,
        p = program.id,
        o = provider_org,
        u = provider.id,
        fee = amount * 2,
        t = yesterday,
    );
    {
        let mut conn = db.conn().map_err(app_err)?;
        conn.batch_execute(&sql)?;
    }
    println!("{:.1}s", seeded.elapsed().as_secs_f64());
    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let batch = db
        .tx_blocking(|c| service::settlement_batches::create(c, &admin, &program.id, today, Utc::now()))
        .map_err(app_err)?;
    let elapsed = started.elapsed();
    println!(
        "one batch of {} redemptions (Σ {} fen): {:.2}s = {:.0} redemptions/s; peak RSS {:.1} MiB (before the batch {:.1} MiB)",
        batch.redemption_count,
        batch.total_fen,
        elapsed.as_secs_f64(),
        batch.redemption_count as f64 / elapsed.as_secs_f64(),
        peak_rss_mib(),
        rss_before,
    );
    let s = db.tx_blocking(|c| service::vouchers::summary(c, &admin, &program.id)).map_err(app_err)?;
    let checks = [
        ("every redemption settled", batch.redemption_count == n as i64),
        ("batch total = Σ amounts", batch.total_fen == face),
        ("ledger settle = batch total", s.settled_fen == batch.total_fen),
        ("nothing left reserved", s.reserved_fen == 0),
    ];
    let mut all = true;
    for (what, holds) in checks {
        println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
        all &= holds;
    }
    anyhow::ensure!(all, "an invariant failed");
    Ok(())
}
