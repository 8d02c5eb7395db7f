//! `techtransfer bench stats`: latency of `GET /admin/stats`'s aggregation over a fresh
//! database filled with synthetic listings and contracts (default 100k and 10k).

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::percentiles;
use crate::db::listings::Content;
use crate::db::{self, DatabaseUrl, Db};
use crate::domain::listing::Field;
use crate::domain::organization::{OrgKind, REGIONS, credit_check_char};
use crate::error::AppError;
use crate::service::{self, load_actor};

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn run(backend: &str, pg_admin: &str, listings: usize, contracts: usize, runs: usize) -> anyhow::Result<()> {
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("tt-bench-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            let result = bench(&url, listings, contracts, runs);
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
        "postgres" => {
            let name = format!("tt_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(pg_admin)?;
            admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let cut = pg_admin.rfind('/').ok_or_else(|| anyhow::anyhow!("--pg must end in /<database>"))?;
            let result = bench(&format!("{}/{name}", &pg_admin[..cut]), listings, contracts, runs);
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            result
        }
        other => anyhow::bail!("--backend is sqlite or postgres, not {other}"),
    }
}

fn bench(url: &str, listings: usize, contracts: usize, runs: usize) -> anyhow::Result<()> {
    let db = Db::connect(&DatabaseUrl::parse(url)?, 4, Duration::from_secs(30), 5)?;
    {
        let mut conn = db.conn().map_err(app_err)?;
        db::migrate::run_pending(&mut conn)?;
    }
    let now = Utc::now();
    let hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$placeholderplaceholderplaceholder00";
    let seeded = Instant::now();
    let (admin, _) = db
        .tx_blocking(|c| service::accounts::create_admin(c, "stats-admin@example.cn", hash, "bench", now))
        .map_err(app_err)?;
    let admin = db.tx_blocking(|c| load_actor(c, &admin.id)).map_err(app_err)?;
    // A few organizations of each side own everything.
    let mut orgs = Vec::new();
    for (i, kind) in [OrgKind::University, OrgKind::Institute, OrgKind::Enterprise, OrgKind::Enterprise]
        .iter()
        .cycle()
        .take(40)
        .enumerate()
    {
        let org = db
            .tx_blocking(|c| {
                let user = service::accounts::register(
                    c,
                    service::accounts::NewAccount {
                        email: format!("o{i}@bench.cn"),
                        password_hash: hash.into(),
                        display_name: "o".into(),
                    },
                    now,
                )?;
                let actor = load_actor(c, &user.id)?;
                let first17 = format!("91320100{:09}", i);
                let code = format!("{first17}{}", credit_check_char(&first17).unwrap_or('0'));
                let org = service::organizations::create(
                    c,
                    &actor,
                    service::organizations::NewOrganization {
                        name: format!("基准机构{i}"),
                        kind: *kind,
                        credit_code: code,
                        region: REGIONS[i % REGIONS.len()].into(),
                        description: String::new(),
                        enterprise_scale: None,
                        service_categories: Vec::new(),
                        contact_name: None,
                        contact_phone: None,
                    },
                    now,
                )?;
                service::organizations::review(c, &admin, &org.id, true, None, now)?;
                Ok((org.id, user.id))
            })
            .map_err(app_err)?;
        orgs.push(org);
    }
    let statuses = ["published", "published", "published", "draft", "pending_review", "withdrawn"];
    for chunk in (0..listings).collect::<Vec<_>>().chunks(5_000) {
        db.tx_blocking(|c| {
            for &i in chunk {
                let (org, user) = &orgs[i % orgs.len()];
                let content = Content {
                    title: format!("基准成果{i}"),
                    body: "用于统计基准的合成数据。".into(),
                    field: Field::ALL[i % Field::ALL.len()].as_str().into(),
                    keywords: "[]".into(),
                    transfer_modes: "[\"license\"]".into(),
                    patent_numbers: "[]".into(),
                    trl: Some((i % 9) as i32 + 1),
                    price_fen: Some(100_000),
                    negotiable: false,
                    region: REGIONS[i % REGIONS.len()].into(),
                    deadline: None,
                };
                let kind = if i % 4 == 0 { "demand" } else { "achievement" };
                db::listings::insert(c, &uuid::Uuid::new_v4().to_string(), kind, org, user, &content, now)?;
            }
            Ok(())
        })
        .map_err(app_err)?;
    }
    let mut conn = db.conn().map_err(app_err)?;
    let ts = crate::db::time::to_db(now).format("%Y-%m-%d %H:%M:%S").to_string();
    for (i, status) in statuses.iter().enumerate() {
        let published =
            if *status == "published" || *status == "withdrawn" { format!("'{ts}'") } else { "NULL".into() };
        let matched = if i == 0 { format!("'{ts}'") } else { "NULL".into() };
        conn.batch_execute(&format!(
            "UPDATE listings SET status = '{status}', published_at = {published}, first_matched_at = {matched} \
             WHERE id IN (SELECT id FROM listings WHERE status = 'draft' ORDER BY id LIMIT {})",
            listings / statuses.len()
        ))?;
    }
    drop(conn);
    let kinds = ["transfer", "license", "equity", "development", "consulting", "service"];
    for chunk in (0..contracts).collect::<Vec<_>>().chunks(2_000) {
        db.tx_blocking(|c| {
            for &i in chunk {
                let (seller, user) = &orgs[(i * 2) % orgs.len()];
                let (buyer, _) = &orgs[(i * 2 + 1) % orgs.len()];
                let id = uuid::Uuid::new_v4().to_string();
                db::contracts::insert(
                    c,
                    &db::contracts::NewContract {
                        id: &id,
                        kind: kinds[i % kinds.len()],
                        title: "基准合同",
                        seller_org_id: seller,
                        buyer_org_id: buyer,
                        created_by: user,
                        achievement_id: None,
                        demand_id: None,
                        challenge_id: None,
                        bid_id: None,
                        connection_id: None,
                        amount_fen: 1_000_000 + (i as i64 % 97) * 10_000,
                        royalty_rate_bp: None,
                        status: ["draft", "signed", "registered", "performing", "completed"][i % 5],
                        created_at: crate::db::time::to_db(now - chrono::Duration::days((i % 700) as i64)),
                        updated_at: crate::db::time::to_db(now),
                        broker_id: None,
                        broker_org_id: None,
                        commission_fen: None,
                        commission_bp: None,
                    },
                )?;
            }
            Ok(())
        })
        .map_err(app_err)?;
    }
    let mut conn = db.conn().map_err(app_err)?;
    conn.batch_execute(
        "UPDATE contracts SET registration_no = id, registered_amount_fen = amount_fen, registered_at = created_at \
         WHERE status IN ('registered', 'performing', 'completed')",
    )?;
    drop(conn);
    println!(
        "stats benchmark ({}): {listings} listings, {contracts} contracts seeded in {:.1}s",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
        seeded.elapsed().as_secs_f64()
    );
    let mut samples = Vec::with_capacity(runs);
    let mut funnel = String::new();
    for i in 0..runs + 2 {
        let t = Instant::now();
        let stats = db.tx_blocking(|c| service::stats::compute(c, &admin)).map_err(app_err)?;
        if i >= 2 {
            samples.push(t.elapsed());
        }
        funnel = stats.funnel.iter().map(|s| format!("{}={}", s.stage, s.count)).collect::<Vec<_>>().join(" ");
    }
    let (p50, p95, p99) = percentiles(&mut samples);
    println!("GET /admin/stats aggregation: p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms over {runs} runs");
    println!("funnel: {funnel}");
    Ok(())
}
