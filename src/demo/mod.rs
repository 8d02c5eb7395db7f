//! `techtransfer seed-demo`: fills an empty database with a realistic Chinese marketplace so
//! a newcomer sees it alive: verified organizations of every kind, ~200 published
//! achievements and ~60 demands across all fields, a few items waiting for review, some
//! connections with messages and subscriptions, an innovation-voucher program open today
//! for small, medium and micro enterprises, shared instruments with bookings in every state,
//! and one account per role.
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
    /// Documents the seeded records refer to: the caller writes them to object storage.
    pub files: Vec<DemoFile>,
    /// Listing freshness and insights on show (see [`freshness`]).
    pub freshness: Showcase,
}

/// The bytes of a seeded file and where they belong.
pub struct DemoFile {
    pub storage_key: String,
    pub bytes: Vec<u8>,
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
    brokers(c, &admin, &owners, now - Duration::days(3))?;
    let sharing_voucher = vouchers(c, &admin, &owners, now)?;
    instruments(c, &owners, sharing_voucher.as_deref(), now)?;
    let showcase = freshness(c, &admin, &owners, now)?;
    if showcase.stale_achievement.is_some() {
        published.0 += 1;
    }
    let files = registrations(c, &admin, &owners, now)?;

    // The seeded accounts did not really ask to be told about their own demo data (the
    // registration deadlines stay scheduled).
    diesel::delete(
        db::schema::jobs::table.filter(db::schema::jobs::kind.ne_all(["daily_digest", "registration_overdue"])),
    )
    .execute(c)?;
    Ok(Summary {
        organizations: owners.len(),
        achievements: published.0,
        demands: published.1,
        accounts,
        files,
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
/// application waiting for the administrator. `enterprise1` has not applied yet. Returns the
/// code of `enterprise2`'s instrument-sharing voucher.
fn vouchers(
    c: &mut AnyConnection,
    admin: &Actor,
    owners: &[(OrgKind, Actor)],
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
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
    let mut sharing = None;
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
        let testing = service::vouchers::approve(c, admin, &application.id, 5_000_000, at + Duration::days(2))?;
        settled_in_a_batch(c, admin, owners, holder, &program.id, &testing.code, now)?;
        let application = apply(
            c,
            holder,
            3_000_000,
            "预约扫描电镜和液相色谱开展菌剂载体材料表征",
            ServiceCategory::InstrumentSharing,
            at,
        )?;
        let voucher = service::vouchers::approve(c, admin, &application.id, 3_000_000, at + Duration::days(2))?;
        sharing = Some(voucher.code);
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
    Ok(sharing)
}

/// Two testing services paid by `enterprise2`'s testing voucher: the first, confirmed eight
/// days ago, settled in a settlement batch (结算批次) closed a week ago; the second confirmed
/// two days ago and waiting for the next batch.
fn settled_in_a_batch(
    c: &mut AnyConnection,
    admin: &Actor,
    owners: &[(OrgKind, Actor)],
    holder: &Actor,
    program_id: &str,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(provider) = owners.iter().find_map(|(kind, a)| {
        let offers = a.org.as_ref().is_some_and(|o| o.service_categories.contains(&ServiceCategory::InspectionTesting));
        (*kind == OrgKind::ServiceProvider && offers).then_some(a)
    }) else {
        return Ok(());
    };
    for (days_ago, fee, invoice) in [(10, 1_600_000, "32002600000011223344"), (4, 900_000, "32002600000011225566")] {
        let at = now - Duration::days(days_ago);
        let input = service::vouchers::RedemptionInput {
            voucher_code: code.to_owned(),
            service_fee_fen: fee,
            invoice_no: invoice.to_owned(),
            description: "菌剂活性与安全性第三方检测".to_owned(),
        };
        let r = service::vouchers::redeem(c, provider, &input, at)?;
        service::vouchers::confirm(c, holder, &r.id, at + Duration::days(2))?;
        if days_ago == 10 {
            let closed = now - Duration::days(7);
            let cut_off = crate::domain::voucher::shanghai_date(closed - Duration::days(1));
            service::settlement_batches::create(c, admin, program_id, cut_off, closed)?;
        }
    }
    Ok(())
}

/// A demo booking: instrument, enterprise, days from now, hours, samples, paid by voucher,
/// the provider's steps.
type Planned = (usize, usize, i64, i64, Option<i32>, bool, &'static [crate::domain::instrument::BookingAction]);

/// Shared instruments of the demo provider that opens its instruments (科技资源开放共享), with
/// bookings by the demo enterprises in every state: completed and missed in the past, one
/// paid by `enterprise2`'s instrument-sharing voucher, approved and requested ahead.
fn instruments(
    c: &mut AnyConnection,
    owners: &[(OrgKind, Actor)],
    sharing_voucher: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use crate::domain::instrument::{BookingAction, InstrumentStatus};
    use service::instruments::{BookingInput, InstrumentInput, StepInput};
    let Some(provider) = owners.iter().find_map(|(kind, a)| {
        let offers = a.org.as_ref().is_some_and(|o| o.service_categories.contains(&ServiceCategory::InstrumentSharing));
        (*kind == OrgKind::ServiceProvider && offers).then_some(a)
    }) else {
        return Ok(());
    };
    let listed = now - Duration::days(60);
    let catalogue = [
        (
            "场发射扫描电子显微镜",
            "Gemini 560",
            "电子显微镜",
            Some(60_000),
            Some(30_000),
            "能谱仪（EDS）、离子溅射仪",
            40,
        ),
        (
            "高效液相色谱仪",
            "Agilent 1260 Infinity II",
            "色谱仪",
            Some(25_000),
            Some(12_000),
            "二极管阵列检测器、自动进样器",
            50,
        ),
        ("X 射线衍射仪", "D8 ADVANCE", "衍射仪", None, Some(20_000), "高温附件、薄膜附件", 40),
    ];
    let mut ids = Vec::new();
    for (name, model, category, per_hour, per_sample, accessories, weekly) in catalogue {
        let input = InstrumentInput {
            name: name.to_owned(),
            model: model.to_owned(),
            category: category.to_owned(),
            location: "南京市江宁区诚信大道 19 号检测大楼".to_owned(),
            region: "江苏省".to_owned(),
            description: format!("{name}（{model}）面向中小企业开放共享，可开具 CMA 检测报告；可使用科技创新券支付。"),
            fee_per_hour_fen: per_hour,
            fee_per_sample_fen: per_sample,
            accessories: accessories.to_owned(),
            open_hours: "工作日 9:00–17:00".to_owned(),
            weekly_open_hours: weekly,
            training_required: per_hour.is_some(),
            status: InstrumentStatus::Active,
        };
        ids.push(service::instruments::create(c, provider, input, listed)?.id);
    }
    let enterprises = enterprises(owners);
    let settings = crate::config::InstrumentSettings { no_show_limit: 0, no_show_window_days: 90 };
    let plan: [Planned; 6] = [
        (0, 0, -12, 3, None, false, &[BookingAction::Approve, BookingAction::Complete]),
        (1, 2, -9, 2, Some(6), false, &[BookingAction::Approve, BookingAction::Complete]),
        (0, 3, -5, 2, None, false, &[BookingAction::Approve, BookingAction::NoShow]),
        (0, 1, 3, 2, None, true, &[BookingAction::Approve]),
        (1, 0, 5, 4, None, false, &[]),
        (2, 2, 7, 1, Some(4), false, &[BookingAction::Reject]),
    ];
    for (instrument, who, days, hours, samples, paid, steps) in plan {
        let Some(booker) = enterprises.get(who) else { continue };
        let starts = (now + Duration::days(days)).date_naive().and_hms_opt(1, 30, 0).unwrap_or_default().and_utc();
        let booked_at = starts - Duration::days(3);
        let input = BookingInput {
            starts_at: starts,
            ends_at: starts + Duration::hours(hours),
            samples,
            purpose: "新材料样品表征与成分分析".to_owned(),
            voucher_code: sharing_voucher.filter(|_| paid).map(str::to_owned),
        };
        let booking = service::instruments::book(c, booker, &ids[instrument], &input, &settings, booked_at)?;
        for (n, action) in steps.iter().enumerate() {
            let at = if matches!(action, BookingAction::Approve | BookingAction::Reject) {
                booked_at + Duration::hours(4)
            } else {
                starts + Duration::hours(hours + i64::try_from(n).unwrap_or(0))
            };
            let step = StepInput {
                reason: (*action == BookingAction::Reject).then(|| "该时段仪器年度计量校准，请改约其他时间".to_owned()),
                invoice_no: Some(format!("3201{:016}", n + 1)),
            };
            service::instruments::step(c, provider, &booking.id, *action, &step, at)?;
        }
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
         with a service provider and an instrument-sharing voucher paying for a booked microscope; \
         enterprise4 and enterprise8 are large and not eligible; service-provider1 opens three \
         shared instruments with bookings in every state\n",
    );
    out.push_str(
        "技术合同认定登记: government1 is the registration office of university1's region; \
         university1 has six signed contracts whose registrations are filed (overdue), \
         supplement_requested, under_review, approved, refused and cancelled",
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

/// A small PDF standing for a signed contract.
fn demo_pdf(title: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {title}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

/// 技术合同认定登记: the first government organization becomes the registration office of the
/// first university's region, and six contracts that university signed with enterprises are
/// filed for registration, one left in each status. Returns the contract files to store.
fn registrations(
    c: &mut AnyConnection,
    admin: &Actor,
    owners: &[(OrgKind, Actor)],
    now: DateTime<Utc>,
) -> AppResult<Vec<DemoFile>> {
    use crate::domain::contract::ContractKind;
    use crate::service::contracts::{NewContractInput, PlanItem};
    use crate::service::registrations::{self as reg, Decision, Filing};
    use sha2::Digest;
    let first = |kind: OrgKind| owners.iter().find(|(k, _)| *k == kind).map(|(_, a)| a);
    let missing = || AppError::internal(anyhow::anyhow!("the demo needs a university and a government body"));
    let (seller, office) =
        (first(OrgKind::University).ok_or_else(missing)?, first(OrgKind::Government).ok_or_else(missing)?);
    let enterprises = enterprises(owners);
    let (Some(seller_org), Some(office_org)) = (seller.org_id(), office.org_id()) else { return Err(missing()) };
    let region = db::organizations::find(c, seller_org)?.map(|o| o.region).ok_or_else(missing)?;
    reg::designate_office(c, admin, office_org, &region, now - Duration::days(30))?;
    let settings = crate::config::RegistrationSettings::default();
    let mut files = Vec::new();
    let statuses = ["filed", "supplement_requested", "under_review", "approved", "refused", "cancelled"];
    for (i, status) in statuses.into_iter().enumerate() {
        let buyer = enterprises[i % enterprises.len()];
        let Some(buyer_org) = buyer.org_id() else { continue };
        let at = now - Duration::days(24 - 2 * i as i64);
        let amount = 50_000_000 * (i as i64 + 1);
        let title = format!("技术开发（委托）合同 第{}号", i + 1);
        let contract = service::contracts::create(
            c,
            seller,
            NewContractInput {
                kind: ContractKind::Development,
                title: title.clone(),
                seller_org_id: seller_org.to_owned(),
                buyer_org_id: buyer_org.to_owned(),
                achievement_id: None,
                demand_id: None,
                challenge_id: None,
                connection_id: None,
                amount_fen: amount,
                payment_plan: vec![PlanItem { due_date: (now + Duration::days(180)).date_naive(), amount_fen: amount }],
                royalty_rate_bp: None,
                commission: None,
            },
            at,
        )?;
        let id = contract.row.id;
        service::contracts::sign(c, seller, &id, at)?;
        service::contracts::sign(c, buyer, &id, at)?;
        let bytes = demo_pdf(&title);
        let file_id = service::new_id();
        let stored = service::files::Stored {
            storage_key: service::files::storage_key(&file_id, at),
            id: file_id.clone(),
            name: format!("{title}（签署版）.pdf"),
            size: bytes.len() as i64,
            content_type: "application/pdf".to_owned(),
            sha256: crate::domain::audit::hex(&sha2::Sha256::digest(&bytes)),
            purpose: crate::domain::file::Purpose::SignedContract,
        };
        service::files::register(c, seller, &stored, Duration::hours(24), at)?;
        files.push(DemoFile { storage_key: stored.storage_key, bytes });
        let filing = Filing {
            declared_amount_fen: amount,
            note: "合同已经双方签署盖章，申请认定登记。".to_owned(),
            attachments: vec![service::files::AttachmentRef {
                file_id,
                purpose: crate::domain::file::Purpose::SignedContract,
            }],
        };
        // The oldest filing is left past its deadline, so the demo shows an overdue review.
        let filed_at = if status == "filed" { now - Duration::days(14) } else { at };
        reg::file(c, seller, &id, &filing, &settings, filed_at)?;
        let later = at + Duration::days(1);
        let decide =
            |c: &mut AnyConnection, d: Decision, t: DateTime<Utc>| reg::decide(c, office, &id, d, t).map(|_| ());
        match status {
            "supplement_requested" => {
                let reason = "请补充技术开发成果的第三方评价报告。".to_owned();
                decide(c, Decision::RequestSupplement { reason }, later)?;
            }
            "under_review" => decide(c, Decision::Accept, later)?,
            "approved" | "cancelled" => {
                decide(c, Decision::Accept, later)?;
                let approve = Decision::Approve { registered_amount_fen: amount, registration_no: None };
                decide(c, approve, later + Duration::days(1))?;
                if status == "cancelled" {
                    let reason = "合同双方协议解除，申请撤销登记。".to_owned();
                    decide(c, Decision::Cancel { reason }, later + Duration::days(2))?;
                }
            }
            "refused" => {
                let reason = "合同标的为一般技术服务，不属于技术开发合同。".to_owned();
                decide(c, Decision::Refuse { reason }, later)?;
            }
            _ => {}
        }
    }
    Ok(files)
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

/// 技术经理人: the demo service providers' owners keep broker profiles; the first accepted
/// connection has a broker who advises in its thread, and in the second the broker drafted a
/// license contract with a commission, which both parties signed and the platform registered.
fn brokers(c: &mut AnyConnection, admin: &Actor, owners: &[(OrgKind, Actor)], at: DateTime<Utc>) -> AppResult<()> {
    use crate::db::connections::ConnectionRow;
    use crate::db::schema::connections as k;
    use crate::domain::broker::{Commission, Profile};

    let profiles = [
        (
            vec![Field::NewEnergy, Field::NewMaterials],
            "JSJL-2023-0318",
            9,
            "长期从事新能源与新材料领域的技术转移，促成高校专利许可与作价投资项目二十余项。",
        ),
        (
            vec![Field::Biomedicine],
            "JSJL-2024-0107",
            6,
            "医药领域技术经理人，熟悉创新药与医疗器械成果的许可谈判和技术合同认定登记。",
        ),
        (
            vec![Field::AdvancedManufacturing, Field::AiSoftware],
            "JSJL-2022-0529",
            12,
            "专注智能制造与工业软件成果转化，擅长中试熟化方案设计与收益分配方案。",
        ),
    ];
    let providers: Vec<&Actor> =
        owners.iter().filter(|(k, _)| *k == OrgKind::ServiceProvider).map(|(_, a)| a).collect();
    let mut broker_ids = Vec::new();
    for ((fields, certificate_no, years, bio), provider) in profiles.into_iter().zip(&providers) {
        let profile =
            Profile { fields, certificate_no: certificate_no.into(), years_of_practice: years, bio: bio.into() }
                .validated()?;
        let (saved, _) = service::brokers::save_profile(c, provider, profile, at)?;
        broker_ids.push(((*provider).clone(), saved.row.id));
    }
    let accepted: Vec<ConnectionRow> =
        k::table.filter(k::status.eq("accepted")).order((k::created_at, k::id)).limit(2).load(c)?;
    let actor_of = |org_id: &str| owners.iter().map(|(_, a)| a).find(|a| a.is_member_of(org_id));
    for (i, (row, (broker, broker_id))) in accepted.iter().zip(&broker_ids).enumerate() {
        let (Some(requester), Some(owner)) = (actor_of(&row.requester_org_id), actor_of(&row.listing_org_id)) else {
            continue;
        };
        let t = at + Duration::hours(i as i64 * 6);
        let inviter = if i == 0 { requester } else { owner };
        service::connections::invite_broker(c, inviter, &row.id, broker_id, t)?;
        if i == 0 {
            service::connections::post_message(
                c,
                broker,
                &row.id,
                "建议先签订保密协议并安排中试样品检测，再商定许可方式与费用。",
                t + Duration::hours(1),
            )?;
            continue;
        }
        let amount_fen = 80_000_000;
        let input = service::contracts::NewContractInput {
            kind: crate::domain::contract::ContractKind::License,
            title: "成果普通许可合同（技术经理人促成）".into(),
            seller_org_id: row.listing_org_id.clone(),
            buyer_org_id: row.requester_org_id.clone(),
            achievement_id: Some(row.listing_id.clone()),
            demand_id: None,
            challenge_id: None,
            connection_id: Some(row.id.clone()),
            amount_fen,
            payment_plan: vec![service::contracts::PlanItem {
                due_date: (t + Duration::days(90)).date_naive(),
                amount_fen,
            }],
            royalty_rate_bp: None,
            commission: Some(Commission::Bp(800)),
        };
        let contract = service::contracts::create(c, broker, input, t + Duration::hours(2))?;
        for party in [owner, requester] {
            service::contracts::sign(c, party, &contract.row.id, t + Duration::hours(4))?;
        }
        service::contracts::register(c, admin, &contract.row.id, None, t + Duration::hours(8))?;
    }
    Ok(())
}
