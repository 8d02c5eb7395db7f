//! `techtransfer seed-demo`: fills an empty database with a realistic Chinese marketplace so
//! a newcomer sees it alive: verified organizations of every kind, ~200 published
//! achievements and ~60 demands across all fields, a few items waiting for review, some
//! connections with messages and subscriptions, an innovation-voucher program open today
//! for small, medium and micro enterprises, and one account per role.
//!
//! Everything goes through the same use cases as the API (so the audit chain and the
//! state rules hold); the notifications those would send are dropped at the end.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::{self, AnyConnection};
use crate::domain::account::Role;
use crate::domain::listing::{Field, ListingContent, ListingKind, TransferMode};
use crate::domain::organization::{EnterpriseScale, OrgKind, ServiceCategory};
use crate::error::{AppError, AppResult};
use crate::service::{self, Actor, load_actor};

/// The password of every demo account except the administrator's.
pub const DEMO_PASSWORD: &str = "Demo-Pass-2026!";
pub const ADMIN_EMAIL: &str = "admin@demo.techtransfer.cn";
pub const ADMIN_PASSWORD: &str = "Demo-Admin-2026!";

#[derive(Deserialize)]
struct OrgSeed {
    name: String,
    kind: OrgKind,
    credit_code: String,
    region: String,
    description: String,
    enterprise_scale: Option<EnterpriseScale>,
    service_categories: Option<Vec<ServiceCategory>>,
    contact_name: String,
    contact_phone: String,
}

#[derive(Deserialize)]
struct AchievementSeed {
    title: String,
    summary: String,
    field: Field,
    keywords: Vec<String>,
    trl: i32,
    transfer_modes: Vec<TransferMode>,
    asking_price_fen: Option<i64>,
    region: String,
    institution_kind: String,
}

#[derive(Deserialize)]
struct DemandSeed {
    title: String,
    description: String,
    field: Field,
    keywords: Vec<String>,
    min_trl: Option<i32>,
    budget_fen: Option<i64>,
    region: String,
}

fn parse_lines<T: for<'de> Deserialize<'de>>(data: &str) -> AppResult<Vec<T>> {
    data.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).map_err(AppError::internal)).collect()
}

/// One demo account.
pub struct Account {
    pub email: String,
    pub role: &'static str,
    pub organization: Option<String>,
}

pub struct Summary {
    pub organizations: usize,
    pub achievements: usize,
    pub demands: usize,
    pub accounts: Vec<Account>,
    /// Listing freshness and insights on show (see [`freshness`]).
    pub freshness: Showcase,
}

/// The listings that show freshness and insights: an achievement with weeks of insights, a
/// demand past its deadline (`expired`) and an achievement nobody confirmed (stale).
#[derive(Debug, Default)]
pub struct Showcase {
    pub insights_achievement: Option<String>,
    pub expired_demand: Option<String>,
    pub stale_achievement: Option<String>,
}

/// Hashes `password` for each email up front (slow work outside the transaction).
pub type Hasher<'a> = &'a dyn Fn(&str) -> anyhow::Result<String>;

/// Seeds the demo data set into an empty database, in one transaction, plus `synthetic`
/// published listings recombined from the demo texts (for load tests at a realistic size).
pub fn seed(c: &mut AnyConnection, hash: Hasher<'_>, now: DateTime<Utc>, synthetic: usize) -> AppResult<Summary> {
    let users: i64 = db::schema::users::table.count().get_result(c)?;
    if users > 0 {
        return Err(AppError::new(crate::domain::error::ErrorCode::Conflict, crate::domain::error::Rule::DemoNotEmpty));
    }
    let orgs: Vec<OrgSeed> = serde_json::from_str(include_str!("organizations.json")).map_err(AppError::internal)?;
    let achievements: Vec<AchievementSeed> = parse_lines(include_str!("achievements.jsonl"))?;
    let mut demands: Vec<DemandSeed> = parse_lines(include_str!("demands.jsonl"))?;
    demands.extend(parse_lines::<DemandSeed>(include_str!("extra_demands.jsonl"))?);
    let start = now - Duration::days(120);
    let hashed = hash(DEMO_PASSWORD).map_err(AppError::internal)?;
    let mut accounts = Vec::new();

    let (admin_row, _) = service::accounts::create_admin(
        c,
        ADMIN_EMAIL,
        &hash(ADMIN_PASSWORD).map_err(AppError::internal)?,
        "平台管理员",
        start,
    )?;
    let admin = load_actor(c, &admin_row.id)?;
    accounts.push(Account { email: ADMIN_EMAIL.into(), role: "admin", organization: None });

    for n in 1..=3 {
        let email = format!("expert{n}@demo.techtransfer.cn");
        let user = service::accounts::register(
            c,
            service::accounts::NewAccount {
                email: email.clone(),
                password_hash: hashed.clone(),
                display_name: format!("评审专家{n}"),
            },
            start,
        )?;
        db::users::set_status(c, &user.id, "unverified", "active", start)?;
        service::accounts::set_role(c, &admin, &user.id, Role::Expert, start)?;
        accounts.push(Account { email, role: "expert", organization: None });
    }

    let mut owners: Vec<(OrgKind, Actor)> = Vec::new();
    let mut per_kind: std::collections::HashMap<OrgKind, usize> = std::collections::HashMap::new();
    for (i, o) in orgs.into_iter().enumerate() {
        let n = per_kind.entry(o.kind).or_default();
        *n += 1;
        let email = format!("{}{}@demo.techtransfer.cn", o.kind.as_str().replace('_', "-"), n);
        let at = start + Duration::hours(i as i64);
        let user = service::accounts::register(
            c,
            service::accounts::NewAccount {
                email: email.clone(),
                password_hash: hashed.clone(),
                display_name: o.contact_name.clone(),
            },
            at,
        )?;
        db::users::set_status(c, &user.id, "unverified", "active", at)?;
        let actor = load_actor(c, &user.id)?;
        let org = service::organizations::create(
            c,
            &actor,
            service::organizations::NewOrganization {
                name: o.name.clone(),
                kind: o.kind,
                credit_code: o.credit_code,
                region: o.region,
                description: o.description,
                enterprise_scale: o.enterprise_scale,
                service_categories: o.service_categories.unwrap_or_default(),
                contact_name: Some(o.contact_name),
                contact_phone: Some(o.contact_phone),
            },
            at,
        )?;
        service::organizations::review(c, &admin, &org.id, true, None, at + Duration::hours(2))?;
        accounts.push(Account { email, role: o.kind.as_str(), organization: Some(o.name) });
        owners.push((o.kind, load_actor(c, &user.id)?));
    }
    let pick = |kinds: &[OrgKind], i: usize| -> Option<&Actor> {
        let matching: Vec<&Actor> = owners.iter().filter(|(k, _)| kinds.contains(k)).map(|(_, a)| a).collect();
        (!matching.is_empty()).then(|| matching[i % matching.len()])
    };

    let mut published = (0, 0);
    let total = achievements.len();
    for (i, a) in achievements.into_iter().enumerate() {
        let kinds: &[OrgKind] =
            if a.institution_kind == "university" { &[OrgKind::University] } else { &[OrgKind::Institute] };
        let owner = pick(kinds, i).ok_or_else(|| AppError::internal(anyhow::anyhow!("no owner for achievements")))?;
        let content = ListingContent {
            title: a.title,
            body: a.summary,
            field: a.field,
            keywords: a.keywords,
            trl: Some(a.trl),
            price_fen: a.asking_price_fen,
            negotiable: a.asking_price_fen.is_none(),
            transfer_modes: a.transfer_modes,
            patent_numbers: Vec::new(),
            region: a.region,
            deadline: None,
        }
        .validated(ListingKind::Achievement)?;
        // The last few stay drafts or wait for review, so the review queue is not empty.
        let stage = if i + 3 >= total {
            0
        } else if i + 8 >= total {
            1
        } else {
            2
        };
        let at = start + Duration::minutes(i as i64 * 41);
        if publish(c, &admin, owner, ListingKind::Achievement, content, stage, at)? {
            published.0 += 1;
        }
    }
    let total = demands.len();
    for (i, d) in demands.into_iter().enumerate() {
        let kinds: &[OrgKind] = if i % 12 == 11 { &[OrgKind::Government] } else { &[OrgKind::Enterprise] };
        let owner = pick(kinds, i).ok_or_else(|| AppError::internal(anyhow::anyhow!("no owner for demands")))?;
        let content = ListingContent {
            title: d.title,
            body: d.description,
            field: d.field,
            keywords: d.keywords,
            trl: d.min_trl,
            price_fen: d.budget_fen,
            negotiable: false,
            transfer_modes: Vec::new(),
            patent_numbers: Vec::new(),
            region: d.region,
            deadline: Some((now + Duration::days(90 + i as i64)).date_naive()),
        }
        .validated(ListingKind::Demand)?;
        let stage = if i + 2 >= total { 1 } else { 2 };
        let at = start + Duration::minutes(i as i64 * 137 + 20);
        if publish(c, &admin, owner, ListingKind::Demand, content, stage, at)? {
            published.1 += 1;
        }
    }

    let (achievements, demands) = synthetic_listings(c, &admin, &owners, synthetic, start)?;
    published.0 += achievements;
    published.1 += demands;

    connections(c, &owners, now - Duration::days(10))?;
    vouchers(c, &admin, &owners, now)?;
    let showcase = freshness(c, &admin, &owners, now)?;
    if showcase.stale_achievement.is_some() {
        published.0 += 1;
    }

    // The seeded accounts did not really ask to be told about their own demo data.
    diesel::delete(db::schema::jobs::table.filter(db::schema::jobs::kind.ne("daily_digest"))).execute(c)?;
    Ok(Summary {
        organizations: owners.len(),
        achievements: published.0,
        demands: published.1,
        accounts,
        freshness: showcase,
    })
}

/// `n` published listings from `bench::synth` (three achievements to one demand), owned in
/// turn by the demo institutions and enterprises. Returns (achievements, demands).
fn synthetic_listings(
    c: &mut AnyConnection,
    admin: &Actor,
    owners: &[(OrgKind, Actor)],
    n: usize,
    start: DateTime<Utc>,
) -> AppResult<(usize, usize)> {
    let of = |kinds: &[OrgKind]| -> Vec<&Actor> {
        owners.iter().filter(|(k, _)| kinds.contains(k)).map(|(_, a)| a).collect()
    };
    let institutions = of(&[OrgKind::University, OrgKind::Institute]);
    let enterprises = of(&[OrgKind::Enterprise]);
    let pieces = crate::bench::synth::Pieces::from_demo();
    let mut counts = (0, 0);
    for (i, doc) in pieces.listings(n, 20261123).enumerate() {
        let demand = i % 4 == 3;
        let (kind, owner) = if demand {
            (ListingKind::Demand, enterprises[i % enterprises.len()])
        } else {
            (ListingKind::Achievement, institutions[i % institutions.len()])
        };
        let at = start + Duration::seconds(i as i64 * 60);
        let content = ListingContent {
            title: doc.title.chars().take(100).collect(),
            body: doc.body,
            field: Field::ALL[doc.field as usize],
            keywords: doc.keywords,
            trl: doc.trl.map(|t| t as i32),
            price_fen: doc.price.map(|p| p as i64),
            negotiable: !demand && doc.price.is_none(),
            transfer_modes: if demand { Vec::new() } else { vec![TransferMode::ALL[doc.modes[0] as usize]] },
            patent_numbers: Vec::new(),
            region: crate::domain::organization::REGIONS[doc.region as usize].to_owned(),
            deadline: demand.then(|| (at + Duration::days(365)).date_naive()),
        }
        .validated(kind)?;
        publish(c, admin, owner, kind, content, 2, at)?;
        if demand {
            counts.1 += 1;
        } else {
            counts.0 += 1;
        }
    }
    Ok(counts)
}

/// Creates a listing and moves it `stage` steps along: 0 draft, 1 pending review, 2 published.
fn publish(
    c: &mut AnyConnection,
    admin: &Actor,
    owner: &Actor,
    kind: ListingKind,
    content: ListingContent,
    stage: u8,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let row = service::listings::create(c, owner, kind, content, at)?;
    if stage >= 1 {
        service::listings::submit(c, owner, kind, &row.id, at + Duration::minutes(5))?;
    }
    if stage >= 2 {
        service::listings::review(c, admin, kind, &row.id, true, None, at + Duration::hours(3))?;
        return Ok(true);
    }
    Ok(false)
}

/// The demo enterprises' owners in seeding order (`enterprise1` first).
fn enterprises(owners: &[(OrgKind, Actor)]) -> Vec<&Actor> {
    owners.iter().filter(|(k, _)| *k == OrgKind::Enterprise).map(|(_, a)| a).collect()
}

/// A voucher program whose application window is open today (relative to `now`) for small,
/// medium and micro enterprises and covers every service the demo providers offer;
/// `enterprise2` holds an issued voucher (providers can redeem it) and `enterprise3` has an
/// application waiting for the administrator. `enterprise1` has not applied yet.
fn vouchers(c: &mut AnyConnection, admin: &Actor, owners: &[(OrgKind, Actor)], now: DateTime<Utc>) -> AppResult<()> {
    let today = crate::domain::voucher::shanghai_date(now);
    let program = service::vouchers::create_program(
        c,
        admin,
        service::vouchers::NewProgramInput {
            name: format!("{}年度科技创新券（中小微企业）", chrono::Datelike::year(&today)),
            year: chrono::Datelike::year(&today),
            total_budget_fen: 500_000_000,
            per_enterprise_cap_fen: 20_000_000,
            coverage_ratio_bp: 5_000,
            service_categories: ServiceCategory::ALL.to_vec(),
            eligible_scales: vec![EnterpriseScale::Medium, EnterpriseScale::Small, EnterpriseScale::Micro],
            valid_days: 180,
            applications_open: today - Duration::days(30),
            applications_close: today + Duration::days(90),
            settle_by: today + Duration::days(365),
        },
        now - Duration::days(30),
    )?;
    let enterprises = enterprises(owners);
    let apply = |c: &mut AnyConnection, who: &Actor, fen: i64, purpose: &str, category, at| {
        service::vouchers::apply(
            c,
            who,
            &program.id,
            service::vouchers::NewApplicationInput {
                requested_fen: fen,
                purpose: purpose.to_owned(),
                service_category: category,
            },
            at,
        )
    };
    if let Some(holder) = enterprises.get(1) {
        let at = now - Duration::days(20);
        let application = apply(
            c,
            holder,
            5_000_000,
            "委托第三方检测新型菌剂的活性与安全性",
            ServiceCategory::InspectionTesting,
            at,
        )?;
        service::vouchers::approve(c, admin, &application.id, 5_000_000, at + Duration::days(2))?;
    }
    if let Some(waiting) = enterprises.get(2) {
        apply(
            c,
            waiting,
            8_000_000,
            "委托开展伺服控制系统的技术咨询与方案设计",
            ServiceCategory::TechnologyConsulting,
            now - Duration::days(3),
        )?;
    }
    Ok(())
}

/// Freshness and insights: one of `university1`'s achievements with five weeks of match
/// impressions, search appearances and connection requests (accepted and declined with
/// reasons); a demand whose deadline passed, expired by the freshness sweep; an achievement
/// published 200 days ago and never confirmed, so stale under the default 180 days.
fn freshness(
    c: &mut AnyConnection,
    admin: &Actor,
    owners: &[(OrgKind, Actor)],
    now: DateTime<Utc>,
) -> AppResult<Showcase> {
    use crate::db::match_events::Impression;
    use crate::domain::connection::DeclineReason;
    use crate::domain::match_event::MatchMode;
    let mut showcase = Showcase::default();
    let enterprises = enterprises(owners);
    let Some(university) = owners.iter().find(|(k, _)| *k == OrgKind::University).map(|(_, a)| a) else {
        return Ok(showcase);
    };
    let Some(org_id) = university.org_id() else { return Ok(showcase) };
    let filter = db::listings::ListFilter {
        kind: "achievement".into(),
        status: Some("published".into()),
        org_id: Some(org_id.to_owned()),
        ..Default::default()
    };
    // Past the listings the demo connections already asked about.
    let (rows, _) = db::listings::list(c, &filter, 8, 1)?;
    if let Some(listing) = rows.first() {
        let demands =
            db::listings::ListFilter { kind: "demand".into(), status: Some("published".into()), ..Default::default() };
        let (demands, _) = db::listings::list(c, &demands, 0, 12)?;
        let mut shown = Vec::new();
        for (week, demand) in demands.iter().enumerate() {
            for look in 0..(week % 3 + 1) {
                let at = now - Duration::days(35 - 3 * week as i64) + Duration::hours(look as i64);
                shown.push(Impression {
                    org_id: demand.org_id.clone(),
                    source_listing_id: demand.id.clone(),
                    listing_id: listing.id.clone(),
                    rank: (week % 5 + 1) as i32,
                    mode: MatchMode::Lexical,
                    at,
                });
            }
        }
        db::match_events::insert_shown(c, &shown)?;
        for day in 0..35 {
            let date = crate::domain::voucher::shanghai_date(now - Duration::days(day));
            db::freshness::add_search_appearances(c, &listing.id, date, 3 + (day * 7) % 11)?;
        }
        let answers: [Option<DeclineReason>; 4] =
            [None, Some(DeclineReason::Price), Some(DeclineReason::TooEarly), Some(DeclineReason::Price)];
        for (i, (requester, answer)) in enterprises.iter().rev().zip(answers).enumerate() {
            let t = now - Duration::days(28 - 6 * i as i64);
            let d = service::connections::request(
                c,
                requester,
                ListingKind::Achievement,
                &listing.id,
                "看到匹配推荐，希望了解该成果的许可方式与报价。",
                t,
            )?;
            let decline = answer.map(|reason| (reason, None));
            service::connections::respond(c, university, &d.row.id, decline, t + Duration::days(2))?;
        }
        showcase.insights_achievement = Some(listing.id.clone());
    }

    // A demand whose deadline passed yesterday, and an achievement nobody confirmed.
    let long_ago = now - Duration::days(200);
    if let Some(owner) = enterprises.first() {
        let content = ListingContent {
            title: "食品冷链温湿度追溯标签技术需求".into(),
            body: "需要低成本的温湿度记录标签，覆盖冷链运输全程，数据可由手机读取并上传追溯平台。".into(),
            field: Field::ElectronicInformation,
            keywords: vec!["冷链".into(), "温湿度".into(), "追溯".into()],
            trl: Some(6),
            price_fen: Some(30_000_000),
            negotiable: false,
            transfer_modes: Vec::new(),
            patent_numbers: Vec::new(),
            region: "山东省".into(),
            deadline: Some(crate::domain::voucher::shanghai_date(now) - Duration::days(1)),
        }
        .validated(ListingKind::Demand)?;
        let row = service::listings::create(c, owner, ListingKind::Demand, content, now - Duration::days(60))?;
        publish_existing(c, admin, owner, ListingKind::Demand, &row.id, now - Duration::days(60))?;
        showcase.expired_demand = Some(row.id);
    }
    let content = ListingContent {
        title: "秸秆纤维素酶解制备生物基材料技术".into(),
        body: "以农作物秸秆为原料，经预处理与酶解制备生物基可降解材料，已完成小试。".into(),
        field: Field::ModernAgriculture,
        keywords: vec!["秸秆".into(), "酶解".into(), "生物基材料".into()],
        trl: Some(4),
        price_fen: None,
        negotiable: true,
        transfer_modes: vec![TransferMode::License, TransferMode::CoDevelopment],
        patent_numbers: Vec::new(),
        region: "河南省".into(),
        deadline: None,
    }
    .validated(ListingKind::Achievement)?;
    let row = service::listings::create(c, university, ListingKind::Achievement, content, long_ago)?;
    publish_existing(c, admin, university, ListingKind::Achievement, &row.id, long_ago)?;
    showcase.stale_achievement = Some(row.id);
    // The hourly sweep as it would have run: expires the demand, marks the achievement stale.
    service::freshness::sweep(c, &crate::matching::Params::default().freshness(), now)?;
    Ok(showcase)
}

/// Submits and approves a listing just created.
fn publish_existing(
    c: &mut AnyConnection,
    admin: &Actor,
    owner: &Actor,
    kind: ListingKind,
    id: &str,
    at: DateTime<Utc>,
) -> AppResult<()> {
    service::listings::submit(c, owner, kind, id, at + Duration::minutes(5))?;
    service::listings::review(c, admin, kind, id, true, None, at + Duration::hours(3))?;
    Ok(())
}

/// What `seed-demo` prints: the counts and the accounts, and which account to use for what.
pub fn describe(summary: &Summary) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "seeded {} verified organizations, {} published achievements, {} published demands\n",
        summary.organizations, summary.achievements, summary.demands
    );
    let _ = writeln!(out, "demo accounts (password {DEMO_PASSWORD} unless noted):");
    for a in &summary.accounts {
        let password = if a.role == "admin" { ADMIN_PASSWORD } else { "" };
        let _ =
            writeln!(out, "  {:<42} {:<17} {} {}", a.email, a.role, a.organization.as_deref().unwrap_or(""), password);
    }
    out.push_str(
        "voucher program open today for small, medium and micro enterprises: apply as \
         enterprise1@demo.techtransfer.cn (small); enterprise2 (micro) holds a voucher to redeem \
         with a service provider; enterprise4 and enterprise8 are large and not eligible",
    );
    if let Some(id) = &summary.freshness.insights_achievement {
        let _ = write!(out, "\ninsights: GET /api/v1/achievements/{id}/insights as university1");
    }
    if let (Some(expired), Some(stale)) = (&summary.freshness.expired_demand, &summary.freshness.stale_achievement) {
        let _ = write!(
            out,
            "\nfreshness: demand {expired} has expired (enterprise1 extends it); achievement {stale} is stale \
             (university1 confirms it)"
        );
    }
    out
}

/// A few 供需对接 conversations in different states between enterprises and institutions.
fn connections(c: &mut AnyConnection, owners: &[(OrgKind, Actor)], at: DateTime<Utc>) -> AppResult<()> {
    let enterprises: Vec<&Actor> = owners.iter().filter(|(k, _)| *k == OrgKind::Enterprise).map(|(_, a)| a).collect();
    let institutions: Vec<&Actor> =
        owners.iter().filter(|(k, _)| matches!(k, OrgKind::University | OrgKind::Institute)).map(|(_, a)| a).collect();
    for (i, requester) in enterprises.iter().take(6).enumerate() {
        let owner = institutions[i % institutions.len()];
        let Some(org_id) = owner.org_id() else { continue };
        let filter = db::listings::ListFilter {
            kind: "achievement".into(),
            status: Some("published".into()),
            org_id: Some(org_id.to_owned()),
            ..Default::default()
        };
        let (rows, _) = db::listings::list(c, &filter, i as i64, 1)?;
        let Some(listing) = rows.first() else { continue };
        let t = at + Duration::hours(i as i64 * 5);
        let d = service::connections::request(
            c,
            requester,
            ListingKind::Achievement,
            &listing.id,
            "我公司对该成果很感兴趣，希望进一步了解技术细节、转化方式与报价。",
            t,
        )?;
        match i % 3 {
            0 => {
                service::connections::respond(c, owner, &d.row.id, None, t + Duration::hours(20))?;
                service::connections::post_message(
                    c,
                    requester,
                    &d.row.id,
                    "能否安排一次线上技术交流？",
                    t + Duration::hours(22),
                )?;
                service::connections::post_message(
                    c,
                    owner,
                    &d.row.id,
                    "可以，下周二下午方便。",
                    t + Duration::hours(26),
                )?;
            }
            1 => {
                let reason = Some("目前成果尚处于中试阶段，暂不具备量产条件。".to_owned());
                service::connections::respond(
                    c,
                    owner,
                    &d.row.id,
                    Some((crate::domain::connection::DeclineReason::TooEarly, reason)),
                    t + Duration::hours(30),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}
