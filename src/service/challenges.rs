//! 揭榜挂帅 challenges: publication, bidding (alone or as a consortium), expert review with
//! conflict-of-interest checks, award (single winner or a 赛马制 horse race, optionally
//! after a public notice period), milestone delivery and payment, elimination, cancellation.
//! Directed commissions (定向委托) share the flow with one chosen organization.

use crate::domain::error::{Message, Rule};
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::db::challenges::{BidRow, ChallengeRow, MilestoneRow, NewBid, NewChallenge, ScoreRow};
use crate::db::time::{from_db, to_db};
use crate::db::{self, AnyConnection};
use crate::domain::challenge::{
    self as rules, BidAction, BidStatus, ChallengeAction, ChallengeMode, ChallengeStatus, MilestoneStatus,
};
use crate::domain::error::{DomainError, ErrorCode};
use crate::domain::listing::Field;
use crate::domain::money::Fen;
use crate::domain::organization::{OrgKind, OrgStatus};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, integrity, new_id};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    #[schema(min_length = 1)]
    pub name: String,
    #[schema(min_length = 1)]
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamMember {
    #[schema(min_length = 1)]
    pub name: String,
    pub title: String,
}

#[derive(Clone)]
pub struct NewMilestone {
    pub title: String,
    pub due_date: NaiveDate,
    pub payment_fen: i64,
}

#[derive(Clone)]
pub struct NewChallengeInput {
    pub title: String,
    pub description: String,
    pub field: Field,
    pub indicators: Vec<Indicator>,
    pub reward_fen: i64,
    pub mode: ChallengeMode,
    pub directed_org_id: Option<String>,
    pub max_winners: i32,
    pub bid_deadline: DateTime<Utc>,
    pub publicity_days: i32,
    pub eligible_kinds: Vec<OrgKind>,
    pub milestones: Vec<NewMilestone>,
}

#[derive(Clone)]
pub struct NewBidInput {
    pub proposal: String,
    pub budget_fen: i64,
    pub plan: String,
    pub team: Vec<TeamMember>,
    pub partner_org_ids: Vec<String>,
}

/// A challenge with what its views need.
pub struct Details {
    pub row: ChallengeRow,
    /// The status a reader sees (deadlines applied).
    pub status: ChallengeStatus,
    pub milestones: Vec<MilestoneRow>,
    pub progress: Vec<db::challenges::ProgressRow>,
    pub payments: Vec<db::challenges::PaymentRow>,
    pub winners: Vec<String>,
    pub expert_count: usize,
}

fn stored_status(row: &ChallengeRow) -> AppResult<ChallengeStatus> {
    ChallengeStatus::parse(&row.status).ok_or_else(|| super::corrupt("challenge status", &row.status))
}

fn mode_of(row: &ChallengeRow) -> AppResult<ChallengeMode> {
    ChallengeMode::parse(&row.mode).ok_or_else(|| super::corrupt("challenge mode", &row.mode))
}

pub fn effective(row: &ChallengeRow, now: DateTime<Utc>) -> AppResult<ChallengeStatus> {
    Ok(rules::effective_status(stored_status(row)?, from_db(row.bid_deadline), row.publicity_ends_at.map(from_db), now))
}

fn bid_status(bid: &BidRow) -> AppResult<BidStatus> {
    BidStatus::parse(&bid.status).ok_or_else(|| super::corrupt("bid status", &bid.status))
}

fn is_issuer(actor: &Actor, row: &ChallengeRow) -> bool {
    actor.is_member_of(&row.issuer_org_id)
}

fn is_assigned_expert(c: &mut AnyConnection, actor: &Actor, row: &ChallengeRow) -> AppResult<bool> {
    Ok(db::challenges::experts(c, &row.id)?.contains(&actor.id))
}

/// Who may see a challenge: the public once it is open (except directed commissions, seen
/// only by the issuer, the chosen organization and admins); before that the issuer and
/// admins; assigned experts always.
fn visible_to(c: &mut AnyConnection, actor: Option<&Actor>, row: &ChallengeRow) -> AppResult<bool> {
    let assigned = match actor {
        Some(a) if !(a.is_admin() || is_issuer(a, row)) => is_assigned_expert(c, a, row)?,
        _ => false,
    };
    visible(actor, row, assigned)
}

/// [`visible_to`] with the expert assignment already known.
fn visible(actor: Option<&Actor>, row: &ChallengeRow, assigned_expert: bool) -> AppResult<bool> {
    if let Some(a) = actor
        && (a.is_admin() || is_issuer(a, row) || assigned_expert)
    {
        return Ok(true);
    }
    let status = stored_status(row)?;
    if !rules::is_public(status) {
        return Ok(false);
    }
    Ok(match &row.directed_org_id {
        Some(directed) => actor.is_some_and(|a| a.is_member_of(directed)),
        None => true,
    })
}

fn load_visible(c: &mut AnyConnection, actor: Option<&Actor>, id: &str) -> AppResult<ChallengeRow> {
    let row = db::challenges::find(c, id)?.ok_or_else(|| AppError::not_found("challenge"))?;
    if visible_to(c, actor, &row)? { Ok(row) } else { Err(AppError::not_found("challenge")) }
}

/// Whether the actor's organization leads `bid` or is one of its consortium partners.
fn on_team(actor: &Actor, bid: &BidRow) -> bool {
    actor.is_member_of(&bid.org_id) || actor.org_id().is_some_and(|org| bid.partner_org_ids().iter().any(|p| p == org))
}

/// The challenge as `viewer` may see it. Milestone reports, reject reasons and per-bid
/// payments are the parties' business: the issuer, assigned experts and admins see all of
/// them, a bidding team (lead or partner) its own bid's, everyone else none; statuses, dates,
/// milestone titles and the winners stay public.
fn details(c: &mut AnyConnection, viewer: Option<&Actor>, row: ChallengeRow, now: DateTime<Utc>) -> AppResult<Details> {
    let id = row.id.clone();
    details_of(c, viewer, vec![row], now)?.pop().ok_or_else(|| super::corrupt("challenge", &id))
}

/// [`details`] of many challenges in five statements whatever their number: milestones,
/// progress, payments, bids and experts are each read once for all rows.
pub fn details_of(
    c: &mut AnyConnection,
    viewer: Option<&Actor>,
    rows: Vec<ChallengeRow>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Details>> {
    use super::group_by_key;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut milestones = group_by_key(db::challenges::milestones_of(c, &ids)?, |m| m.challenge_id.clone());
    let mut progress = group_by_key(db::challenges::progress_of(c, &ids)?, |p| p.challenge_id.clone());
    let mut payments = group_by_key(db::challenges::payments_of(c, &ids)?, |p| p.challenge_id.clone());
    let mut bids = group_by_key(db::challenges::bids_of_many(c, &ids)?, |b| b.challenge_id.clone());
    let mut experts = group_by_key(db::challenges::experts_of(c, &ids)?, |(challenge, _)| challenge.clone());
    rows.into_iter()
        .map(|row| {
            let id = row.id.clone();
            let experts = experts.remove(&id).unwrap_or_default().into_iter().map(|(_, e)| e).collect();
            let related = Related {
                milestones: milestones.remove(&id).unwrap_or_default(),
                progress: progress.remove(&id).unwrap_or_default(),
                payments: payments.remove(&id).unwrap_or_default(),
                bids: bids.remove(&id).unwrap_or_default(),
                experts,
            };
            view(viewer, row, related, now)
        })
        .collect()
}

/// What a challenge's view is made of besides its row.
struct Related {
    milestones: Vec<MilestoneRow>,
    progress: Vec<db::challenges::ProgressRow>,
    payments: Vec<db::challenges::PaymentRow>,
    bids: Vec<BidRow>,
    experts: Vec<String>,
}

fn view(viewer: Option<&Actor>, row: ChallengeRow, related: Related, now: DateTime<Utc>) -> AppResult<Details> {
    let status = effective(&row, now)?;
    let Related { milestones, mut progress, mut payments, bids, experts } = related;
    let sees_all = viewer.is_some_and(|a| a.is_admin() || is_issuer(a, &row) || experts.contains(&a.id));
    if !sees_all {
        let own: Vec<&str> =
            bids.iter().filter(|b| viewer.is_some_and(|a| on_team(a, b))).map(|b| b.id.as_str()).collect();
        for p in progress.iter_mut().filter(|p| !own.contains(&p.bid_id.as_str())) {
            p.report = None;
            p.reject_reason = None;
        }
        payments.retain(|p| own.contains(&p.bid_id.as_str()));
    }
    let winners = bids.into_iter().filter(|b| b.status == BidStatus::Awarded.as_str()).map(|b| b.id).collect();
    Ok(Details { row, status, milestones, progress, payments, winners, expert_count: experts.len() })
}

pub fn get(c: &mut AnyConnection, actor: Option<&Actor>, id: &str, now: DateTime<Utc>) -> AppResult<Details> {
    let row = load_visible(c, actor, id)?;
    details(c, actor, row, now)
}

fn reload(c: &mut AnyConnection, viewer: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<Details> {
    let row = db::challenges::find(c, id)?.ok_or_else(|| AppError::not_found("challenge"))?;
    details(c, Some(viewer), row, now)
}

pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    input: NewChallengeInput,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let org = actor.require_verified_org()?;
    if !matches!(org.kind, OrgKind::Enterprise | OrgKind::Government) {
        return Err(AppError::forbidden(Rule::ChallengeIssuers));
    }
    let payments: Vec<i64> = input.milestones.iter().map(|m| m.payment_fen).collect();
    rules::check_plan(input.mode, input.max_winners, input.reward_fen, &payments)?;
    let mut v = crate::domain::error::Validator::new();
    v.check(input.bid_deadline > now, "bid_deadline", Rule::Future);
    match (input.mode, &input.directed_org_id) {
        (ChallengeMode::Directed, None) => {
            v.add("directed_org_id", Rule::DirectedNeedsOrg);
        }
        (ChallengeMode::Directed, Some(target)) => {
            let found = db::organizations::find(c, target)?;
            v.check(
                found.as_ref().is_some_and(|o| o.status == OrgStatus::Verified.as_str()),
                "directed_org_id",
                Rule::VerifiedOrganization,
            );
            v.check(*target != org.id, "directed_org_id", Rule::DirectedSelf);
        }
        (_, Some(_)) => {
            v.add("directed_org_id", Rule::DirectedOnly);
        }
        (_, None) => {}
    }
    v.finish()?;
    let id = new_id();
    let indicators = serde_json::to_string(&input.indicators).map_err(AppError::internal)?;
    let kinds: Vec<&str> = input.eligible_kinds.iter().map(|k| k.as_str()).collect();
    let kinds = serde_json::to_string(&kinds).map_err(AppError::internal)?;
    db::challenges::insert(
        c,
        &NewChallenge {
            id: &id,
            issuer_org_id: &org.id,
            created_by: &actor.id,
            title: &input.title,
            description: &input.description,
            field: input.field.as_str(),
            indicators: &indicators,
            reward_fen: input.reward_fen,
            mode: input.mode.as_str(),
            directed_org_id: input.directed_org_id.as_deref(),
            max_winners: input.max_winners,
            bid_deadline: to_db(input.bid_deadline),
            publicity_days: input.publicity_days,
            eligible_kinds: &kinds,
            status: ChallengeStatus::Draft.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )?;
    for (seq, m) in input.milestones.into_iter().enumerate() {
        db::challenges::insert_milestone(
            c,
            &MilestoneRow {
                id: new_id(),
                challenge_id: id.clone(),
                seq: seq as i32 + 1,
                title: m.title,
                due_date: m.due_date,
                payment_fen: m.payment_fen,
            },
        )?;
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("challenge.create", "challenge", &id)
            .status(None, "draft")
            .detail(serde_json::json!({ "mode": input.mode.as_str(), "reward_fen": input.reward_fen })),
        now,
    )?;
    reload(c, actor, &id, now)
}

/// Persists a challenge transition (guarded on the stored status) and records it.
fn move_to(
    c: &mut AnyConnection,
    actor_id: Option<&str>,
    row: &ChallengeRow,
    action: ChallengeAction,
    detail: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> AppResult<ChallengeStatus> {
    let from = stored_status(row)?;
    let to = rules::apply(from, action, row.publicity_days)?;
    if !db::challenges::transition(c, &row.id, from.as_str(), to.as_str(), now)? {
        return Err(DomainError::transition("challenge", from.as_str(), action.as_str()).into());
    }
    let action_name = format!("challenge.{}", action.as_str());
    let mut change = Change::new(&action_name, "challenge", &row.id).status(Some(from.as_str()), to.as_str());
    if let Some(d) = detail {
        change = change.detail(d);
    }
    audit::record(c, actor_id, change, now)?;
    Ok(to)
}

/// Writes `bidding_closed` for an `open` challenge whose deadline passed (readers already
/// see it closed), so later transitions start from the real state.
fn settle_deadline(c: &mut AnyConnection, row: ChallengeRow, now: DateTime<Utc>) -> AppResult<ChallengeRow> {
    if stored_status(&row)? == ChallengeStatus::Open && from_db(row.bid_deadline) <= now {
        move_to(c, None, &row, ChallengeAction::CloseBidding, None, now)?;
        return db::challenges::find(c, &row.id)?.ok_or_else(|| AppError::not_found("challenge"));
    }
    if stored_status(&row)? == ChallengeStatus::Publicizing && row.publicity_ends_at.is_some_and(|t| from_db(t) <= now)
    {
        move_to(c, None, &row, ChallengeAction::EndPublicity, None, now)?;
        return db::challenges::find(c, &row.id)?.ok_or_else(|| AppError::not_found("challenge"));
    }
    Ok(row)
}

/// Locks the challenge row before a change reads the state it decides on (lock order:
/// challenge → bid → progress and payments; see `db::lock`).
fn lock(c: &mut AnyConnection, id: &str) -> AppResult<()> {
    db::lock::lock(c, db::lock::Root::Challenge, id)?;
    Ok(())
}

fn issuer_row(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<ChallengeRow> {
    let row = load_visible(c, Some(actor), id)?;
    if !is_issuer(actor, &row) {
        return Err(AppError::forbidden(Rule::IssuerOnly));
    }
    Ok(row)
}

pub fn submit(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<Details> {
    lock(c, id)?;
    let row = issuer_row(c, actor, id)?;
    move_to(c, Some(&actor.id), &row, ChallengeAction::Submit, None, now)?;
    reload(c, actor, id, now)
}

pub fn review(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    approve: bool,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    actor.require_admin()?;
    lock(c, id)?;
    let row = db::challenges::find(c, id)?.ok_or_else(|| AppError::not_found("challenge"))?;
    let action = if approve { ChallengeAction::Approve } else { ChallengeAction::Reject };
    move_to(c, Some(&actor.id), &row, action, reason.map(|r| serde_json::json!({ "reason": r })), now)?;
    if approve {
        jobs::schedule(
            c,
            &Job::CloseBidding { challenge_id: id.to_owned() },
            from_db(row.bid_deadline),
            &format!("close_bidding:{id}"),
        )?;
        if row.directed_org_id.is_none() {
            jobs::enqueue(c, &Job::MatchSubscriptions { target: "challenge".into(), entity_id: id.to_owned() }, now)?;
        }
        notify::send(
            c,
            Recipient::Org(row.issuer_org_id.clone()),
            Notice::new("challenge_open", format!("榜单已发布：{}", row.title), "审核通过，已开放揭榜。")
                .about("challenge", id),
            now,
        )?;
        if let Some(directed) = &row.directed_org_id {
            notify::send(
                c,
                Recipient::Org(directed.clone()),
                Notice::new(
                    "challenge_directed",
                    format!("定向委托：{}", row.title),
                    "贵单位被定向委托承担该任务，请在截止时间前提交方案。",
                )
                .about("challenge", id),
                now,
            )?;
        }
    } else {
        db::challenges::set_reason(c, id, reason, None)?;
        notify::send(
            c,
            Recipient::Org(row.issuer_org_id.clone()),
            Notice::new(
                "challenge_rejected",
                format!("榜单未通过审核：{}", row.title),
                format!("原因：{}", reason.unwrap_or_default()),
            )
            .about("challenge", id),
            now,
        )?;
    }
    reload(c, actor, id, now)
}

pub struct ListQuery {
    pub status: Option<ChallengeStatus>,
    pub field: Option<Field>,
}

/// The search hits (challenge ids, best first) the actor may see, filtered by effective status,
/// and one page of them with details; the total counts every visible hit. A constant number of
/// statements whatever the number of hits.
pub fn search_hits(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    hits: &[String],
    status: Option<ChallengeStatus>,
    page: Page,
    now: DateTime<Utc>,
) -> AppResult<(Vec<Details>, i64)> {
    let mut rows: HashMap<String, ChallengeRow> =
        db::challenges::find_many(c, hits)?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let assigned: HashSet<String> = match actor {
        Some(a) => db::challenges::experts_of(c, hits)?
            .into_iter()
            .filter(|(_, expert)| *expert == a.id)
            .map(|(challenge, _)| challenge)
            .collect(),
        None => HashSet::new(),
    };
    let mut shown = Vec::new();
    for id in hits {
        let Some(row) = rows.remove(id) else { continue };
        let wanted = match status {
            None => true,
            Some(s) => effective(&row, now)? == s,
        };
        if wanted && visible(actor, &row, assigned.contains(id))? {
            shown.push(row);
        }
    }
    let total = shown.len() as i64;
    let page_rows: Vec<ChallengeRow> =
        shown.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
    Ok((details_of(c, actor, page_rows, now)?, total))
}

pub fn list(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    q: &ListQuery,
    page: Page,
    now: DateTime<Utc>,
) -> AppResult<(Vec<Details>, i64)> {
    use ChallengeStatus as S;
    let public: Vec<S> = S::ALL.iter().copied().filter(|s| rules::is_public(*s)).collect();
    let mut filter = db::challenges::ChallengeFilter {
        field: q.field.map(|f| f.as_str().to_owned()),
        viewer_org: actor.and_then(|a| a.org_id().map(str::to_owned)),
        all_directed: actor.is_some_and(Actor::is_admin),
        ..Default::default()
    };
    let statuses: Vec<S> = match q.status {
        None => public,
        Some(s) if !rules::is_public(s) => return Ok((Vec::new(), 0)),
        Some(S::BiddingClosed) => {
            filter.open_past_deadline_at = Some(to_db(now));
            vec![S::BiddingClosed]
        }
        Some(S::Open) => {
            filter.open_before = Some(to_db(now));
            vec![S::Open]
        }
        Some(s) => vec![s],
    };
    filter.statuses = statuses.iter().map(|s| s.as_str().to_owned()).collect();
    let (rows, total) = db::challenges::list(c, &filter, page.offset(), page.limit())?;
    Ok((details_of(c, actor, rows, now)?, total))
}

pub fn bid(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    input: NewBidInput,
    now: DateTime<Utc>,
) -> AppResult<BidRow> {
    lock(c, challenge_id)?;
    let row = load_visible(c, Some(actor), challenge_id)?;
    if let Some(directed) = &row.directed_org_id
        && !actor.is_member_of(directed)
        && !is_issuer(actor, &row)
    {
        return Err(AppError::not_found("challenge"));
    }
    let org = actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    if is_issuer(actor, &row) {
        return Err(AppError::forbidden(Rule::IssuerCannotBid));
    }
    if effective(&row, now)? != ChallengeStatus::Open {
        return Err(DomainError::new(ErrorCode::BiddingClosed, Rule::ChallengeBiddingClosed).into());
    }
    if !row.eligible_kinds().iter().any(|k| k == org.kind.as_str()) {
        return Err(AppError::forbidden(Message::rule(Rule::KindNotEligible).word("kind", org.kind.as_str())));
    }
    let mut v = crate::domain::error::Validator::new();
    let partners = &input.partner_org_ids;
    v.check(partners.len() <= 4, "partner_org_ids", Rule::ConsortiumSize);
    let mut unique = partners.clone();
    unique.sort();
    unique.dedup();
    v.check(unique.len() == partners.len(), "partner_org_ids", Rule::PartnerTwice);
    for p in partners {
        if *p == org.id {
            v.add("partner_org_ids", Rule::LeadNotPartner);
        } else if *p == row.issuer_org_id {
            v.add("partner_org_ids", Rule::IssuerNotPartner);
        } else if db::organizations::find(c, p)?.is_none_or(|o| o.status != OrgStatus::Verified.as_str()) {
            v.add("partner_org_ids", Message::rule(Rule::PartnerNotVerified).arg("id", p.as_str()));
        } else if integrity::org_vetoed(c, p, now)? {
            v.add("partner_org_ids", Message::rule(Rule::PartnerVetoed).arg("id", p.as_str()));
        }
    }
    v.finish()?;
    let duplicate = Rule::LiveBid;
    if db::challenges::live_bid_exists(c, challenge_id, &org.id)? {
        return Err(DomainError::new(ErrorCode::DuplicateBid, duplicate).into());
    }
    let id = new_id();
    let team = serde_json::to_string(&input.team).map_err(AppError::internal)?;
    let partner_json = serde_json::to_string(partners).map_err(AppError::internal)?;
    db::challenges::insert_bid(
        c,
        &NewBid {
            id: &id,
            challenge_id,
            org_id: &org.id,
            created_by: &actor.id,
            proposal: &input.proposal,
            budget_fen: input.budget_fen,
            plan: &input.plan,
            team: &team,
            partner_org_ids: &partner_json,
            status: BidStatus::Submitted.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )
    .map_err(|e| AppError::on_unique(e, ErrorCode::DuplicateBid, duplicate))?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("bid.submit", "bid", &id)
            .status(None, "submitted")
            .detail(serde_json::json!({ "challenge_id": challenge_id, "partners": partners })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(row.issuer_org_id.clone()),
        Notice::new(
            "bid_received",
            format!("收到新的揭榜方案：{}", row.title),
            format!("{} 提交了揭榜方案。", org.name),
        )
        .about("challenge", challenge_id),
        now,
    )?;
    db::challenges::find_bid(c, &id)?.ok_or_else(|| AppError::not_found("bid"))
}

fn bid_of(c: &mut AnyConnection, row: &ChallengeRow, bid_id: &str) -> AppResult<BidRow> {
    db::challenges::find_bid(c, bid_id)?.filter(|b| b.challenge_id == row.id).ok_or_else(|| AppError::not_found("bid"))
}

fn move_bid(
    c: &mut AnyConnection,
    actor_id: &str,
    bid: &BidRow,
    action: BidAction,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = bid_status(bid)?;
    let to = rules::apply_bid(from, action)?;
    if !db::challenges::bid_transition(c, &bid.id, from.as_str(), to.as_str(), reason, now)? {
        return Err(DomainError::transition("bid", from.as_str(), action.as_str()).into());
    }
    let name = format!("bid.{}", action.as_str());
    audit::record(c, Some(actor_id), Change::new(&name, "bid", &bid.id).status(Some(from.as_str()), to.as_str()), now)
}

pub fn withdraw_bid(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    bid_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BidRow> {
    lock(c, challenge_id)?;
    let row = load_visible(c, Some(actor), challenge_id)?;
    let bid = bid_of(c, &row, bid_id)?;
    if !actor.is_member_of(&bid.org_id) {
        return Err(AppError::not_found("bid"));
    }
    if effective(&row, now)? != ChallengeStatus::Open {
        return Err(DomainError::new(ErrorCode::BiddingClosed, Rule::WithdrawBeforeDeadline).into());
    }
    move_bid(c, &actor.id, &bid, BidAction::Withdraw, None, now)?;
    db::challenges::find_bid(c, bid_id)?.ok_or_else(|| AppError::not_found("bid"))
}

/// Bids the actor may read: all of them for admins, assigned experts and (after the
/// deadline) the issuer; otherwise only their own organization's.
pub fn bids(c: &mut AnyConnection, actor: &Actor, challenge_id: &str, now: DateTime<Utc>) -> AppResult<Vec<BidRow>> {
    let row = load_visible(c, Some(actor), challenge_id)?;
    let all = db::challenges::bids_of(c, challenge_id)?;
    if actor.is_admin() || is_assigned_expert(c, actor, &row)? {
        return Ok(all);
    }
    if is_issuer(actor, &row) {
        if effective(&row, now)? == ChallengeStatus::Open {
            return Err(AppError::forbidden(Rule::BidsAfterDeadline));
        }
        return Ok(all);
    }
    Ok(all.into_iter().filter(|b| on_team(actor, b)).collect())
}

pub fn assign_experts(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    user_ids: &[String],
    now: DateTime<Utc>,
) -> AppResult<Details> {
    actor.require_admin()?;
    lock(c, challenge_id)?;
    let row = db::challenges::find(c, challenge_id)?.ok_or_else(|| AppError::not_found("challenge"))?;
    let row = settle_deadline(c, row, now)?;
    rules::apply(stored_status(&row)?, ChallengeAction::AssignExperts, row.publicity_days)?;
    let bids: Vec<BidRow> = db::challenges::bids_of(c, challenge_id)?
        .into_iter()
        .filter(|b| b.status != BidStatus::Withdrawn.as_str())
        .collect();
    let mut conflicted_orgs: Vec<String> = vec![row.issuer_org_id.clone()];
    for b in &bids {
        conflicted_orgs.push(b.org_id.clone());
        conflicted_orgs.extend(b.partner_org_ids());
    }
    for user_id in user_ids {
        let user = db::users::find(c, user_id)?.filter(|u| u.role == "expert");
        let Some(user) = user else {
            return Err(AppError::field("user_ids", Message::rule(Rule::NotExpert).arg("id", user_id.as_str())));
        };
        let org_vetoed = match user.org_id.as_deref() {
            Some(org) => integrity::org_vetoed(c, org, now)?,
            None => false,
        };
        if integrity::user_vetoed(c, &user.id, now)? || org_vetoed {
            return Err(DomainError::new(
                ErrorCode::IntegrityVeto,
                Message::rule(Rule::ExpertVetoed).arg("id", user_id.as_str()),
            )
            .with_status(409)
            .into());
        }
        if let Some(org) = &user.org_id
            && conflicted_orgs.contains(org)
        {
            return Err(DomainError::new(
                ErrorCode::ConflictOfInterest,
                Message::rule(Rule::ExpertConflicted).arg("id", user_id.as_str()),
            )
            .into());
        }
    }
    for user_id in user_ids {
        db::challenges::add_expert(c, challenge_id, user_id, &actor.id, now)?;
        notify::send(
            c,
            Recipient::User(user_id.clone()),
            Notice::new(
                "experts_assigned",
                format!("评审邀请：{}", row.title),
                "您被指派为该揭榜挂帅项目的评审专家，请对全部方案打分。",
            )
            .about("challenge", challenge_id),
            now,
        )?;
    }
    move_to(
        c,
        Some(&actor.id),
        &row,
        ChallengeAction::AssignExperts,
        Some(serde_json::json!({ "experts": user_ids })),
        now,
    )?;
    reload(c, actor, challenge_id, now)
}

#[derive(Clone)]
pub struct ScoreInput {
    pub technical: i32,
    pub team: i32,
    pub budget: i32,
    pub comment: String,
}

pub fn score(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    bid_id: &str,
    input: ScoreInput,
    now: DateTime<Utc>,
) -> AppResult<ScoreRow> {
    lock(c, challenge_id)?;
    let row = load_visible(c, Some(actor), challenge_id)?;
    if !is_assigned_expert(c, actor, &row)? {
        return Err(AppError::forbidden(Rule::AssignedExpertsScore));
    }
    let status = stored_status(&row)?;
    if status != ChallengeStatus::UnderReview {
        return Err(DomainError::transition("challenge", status.as_str(), "score").into());
    }
    let bid = bid_of(c, &row, bid_id)?;
    if bid_status(&bid)? != BidStatus::Submitted {
        return Err(DomainError::transition("bid", &bid.status, "score").into());
    }
    let score = ScoreRow {
        bid_id: bid_id.to_owned(),
        expert_id: actor.id.clone(),
        technical: input.technical,
        team: input.team,
        budget: input.budget,
        comment: input.comment,
        updated_at: to_db(now),
    };
    db::challenges::put_score(c, &score)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("bid.score", "bid", bid_id).detail(serde_json::json!({ "total": score.total() })),
        now,
    )?;
    Ok(score)
}

/// One row of the ranking.
pub struct Ranked {
    pub bid: BidRow,
    pub expert_totals: Vec<i32>,
    pub aggregate: f64,
    pub comments: Vec<String>,
}

/// Bids that took part in the review (everything but withdrawn), best aggregate first.
fn ranked(c: &mut AnyConnection, row: &ChallengeRow) -> AppResult<Vec<Ranked>> {
    let experts = db::challenges::experts(c, &row.id)?;
    let bids: Vec<BidRow> = db::challenges::bids_of(c, &row.id)?
        .into_iter()
        .filter(|b| b.status != BidStatus::Withdrawn.as_str())
        .collect();
    let ids: Vec<String> = bids.iter().map(|b| b.id.clone()).collect();
    let scores = db::challenges::scores_of(c, &ids)?;
    let mut out: Vec<Ranked> = bids
        .into_iter()
        .map(|bid| {
            let mine: Vec<&ScoreRow> = experts
                .iter()
                .filter_map(|e| scores.iter().find(|s| s.bid_id == bid.id && s.expert_id == *e))
                .collect();
            let expert_totals: Vec<i32> = mine.iter().map(|s| s.total()).collect();
            let comments = mine.iter().map(|s| s.comment.clone()).filter(|c| !c.trim().is_empty()).collect();
            Ranked { aggregate: rules::aggregate(&expert_totals), expert_totals, comments, bid }
        })
        .collect();
    out.sort_by(|a, b| b.aggregate.total_cmp(&a.aggregate).then_with(|| a.bid.id.cmp(&b.bid.id)));
    Ok(out)
}

pub fn ranking(c: &mut AnyConnection, actor: &Actor, challenge_id: &str) -> AppResult<Vec<Ranked>> {
    let row = load_visible(c, Some(actor), challenge_id)?;
    if !(actor.is_admin() || is_issuer(actor, &row) || is_assigned_expert(c, actor, &row)?) {
        return Err(AppError::forbidden(Rule::RankingReaders));
    }
    ranked(c, &row)
}

pub struct Feedback {
    pub bid_id: String,
    pub aggregate: f64,
    pub rank: usize,
    pub total: usize,
    pub comments: Vec<String>,
}

/// What a bidder learns after the award: their score, rank and the experts' comments.
pub fn feedback(c: &mut AnyConnection, actor: &Actor, challenge_id: &str, bid_id: &str) -> AppResult<Feedback> {
    let row = load_visible(c, Some(actor), challenge_id)?;
    let bid = bid_of(c, &row, bid_id)?;
    if !actor.is_member_of(&bid.org_id) {
        return Err(AppError::not_found("bid"));
    }
    if row.awarded_at.is_none() {
        return Err(DomainError::new(ErrorCode::InvalidStateTransition, Rule::FeedbackAfterAward).into());
    }
    let all = ranked(c, &row)?;
    let position = all.iter().position(|r| r.bid.id == bid_id).ok_or_else(|| AppError::not_found("bid"))?;
    let mine = &all[position];
    Ok(Feedback {
        bid_id: bid_id.to_owned(),
        aggregate: mine.aggregate,
        rank: position + 1,
        total: all.len(),
        comments: mine.comments.clone(),
    })
}

pub fn award(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    bid_ids: &[String],
    now: DateTime<Utc>,
) -> AppResult<Details> {
    lock(c, challenge_id)?;
    let row = issuer_row(c, actor, challenge_id)?;
    let mode = mode_of(&row)?;
    let experts = db::challenges::experts(c, challenge_id)?;
    let without_review = mode == ChallengeMode::Directed && experts.is_empty();
    let row = if without_review { row } else { settle_deadline(c, row, now)? };
    let action = if without_review { ChallengeAction::AwardWithoutReview } else { ChallengeAction::Award };
    rules::apply(stored_status(&row)?, action, row.publicity_days)?;
    rules::check_winner_count(mode, row.max_winners, bid_ids)?;
    let all_bids = db::challenges::bids_of(c, challenge_id)?;
    let submitted: Vec<&BidRow> = all_bids.iter().filter(|b| b.status == BidStatus::Submitted.as_str()).collect();
    for id in bid_ids {
        if !submitted.iter().any(|b| b.id == *id) {
            return Err(AppError::field("bid_ids", Message::rule(Rule::NotSubmittedBid).arg("id", id.as_str())));
        }
    }
    if !without_review {
        let ids: Vec<String> = submitted.iter().map(|b| b.id.clone()).collect();
        let scores = db::challenges::scores_of(c, &ids)?;
        let missing = experts
            .iter()
            .flat_map(|e| ids.iter().map(move |b| (e, b)))
            .filter(|(e, b)| !scores.iter().any(|s| s.expert_id == **e && s.bid_id == **b))
            .count();
        rules::check_scores_complete(missing)?;
    }
    let from = stored_status(&row)?;
    let to = rules::apply(from, action, row.publicity_days)?;
    let ends = (row.publicity_days > 0).then(|| now + Duration::days(i64::from(row.publicity_days)));
    if !db::challenges::award(c, challenge_id, from.as_str(), to.as_str(), ends, now)? {
        return Err(DomainError::transition("challenge", from.as_str(), "award").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("challenge.award", "challenge", challenge_id)
            .status(Some(from.as_str()), to.as_str())
            .detail(serde_json::json!({ "winners": bid_ids })),
        now,
    )?;
    let milestones = db::challenges::milestones(c, challenge_id)?;
    for bid in &submitted {
        let won = bid_ids.contains(&bid.id);
        move_bid(c, &actor.id, bid, if won { BidAction::Award } else { BidAction::NotSelect }, None, now)?;
        if won {
            for m in &milestones {
                db::challenges::insert_progress(c, challenge_id, &m.id, &bid.id)?;
            }
        }
        let notice = if won {
            Notice::new(
                "award_result",
                format!("恭喜中榜：{}", row.title),
                "贵单位的揭榜方案已被选中，请按里程碑推进并提交成果。",
            )
        } else {
            Notice::new(
                "award_result",
                format!("揭榜结果：{}", row.title),
                "很遗憾，贵单位的方案未被选中。可查看专家评分与意见反馈。",
            )
        };
        notify::send(c, Recipient::Org(bid.org_id.clone()), notice.about("challenge", challenge_id), now)?;
    }
    if let Some(ends) = ends {
        jobs::schedule(
            c,
            &Job::EndPublicity { challenge_id: challenge_id.to_owned() },
            ends,
            &format!("end_publicity:{challenge_id}"),
        )?;
    }
    reload(c, actor, challenge_id, now)
}

fn winner_progress(
    c: &mut AnyConnection,
    row: &ChallengeRow,
    milestone_id: &str,
    bid_id: &str,
) -> AppResult<(BidRow, db::challenges::ProgressRow)> {
    let bid = bid_of(c, row, bid_id)?;
    let progress =
        db::challenges::find_progress(c, milestone_id, bid_id)?.ok_or_else(|| AppError::not_found("milestone"))?;
    Ok((bid, progress))
}

fn require_in_progress(row: &ChallengeRow, now: DateTime<Utc>, action: &str) -> AppResult<()> {
    let status = effective(row, now)?;
    if status == ChallengeStatus::InProgress {
        Ok(())
    } else {
        Err(DomainError::transition("challenge", status.as_str(), action).into())
    }
}

pub fn deliver(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    milestone_id: &str,
    bid_id: &str,
    report: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    lock(c, challenge_id)?;
    let row = load_visible(c, Some(actor), challenge_id)?;
    let (bid, progress) = winner_progress(c, &row, milestone_id, bid_id)?;
    if !actor.is_member_of(&bid.org_id) {
        return Err(AppError::forbidden(Rule::WinnerDelivers));
    }
    let row = settle_deadline(c, row, now)?;
    require_in_progress(&row, now, "deliver")?;
    if bid.status != BidStatus::Awarded.as_str() {
        return Err(DomainError::transition("bid", &bid.status, "deliver").into());
    }
    if !db::challenges::progress_transition(
        c,
        &progress.id,
        MilestoneStatus::Pending.as_str(),
        MilestoneStatus::Delivered.as_str(),
        Some(report),
        now,
    )? {
        return Err(DomainError::transition("milestone", &progress.status, "deliver").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("milestone.deliver", "milestone", milestone_id)
            .status(Some("pending"), "delivered")
            .detail(serde_json::json!({ "bid_id": bid_id })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(row.issuer_org_id.clone()),
        Notice::new(
            "milestone_delivered",
            format!("里程碑成果已提交：{}", row.title),
            "中榜团队提交了里程碑成果，请验收。",
        )
        .about("challenge", challenge_id),
        now,
    )?;
    reload(c, actor, challenge_id, now)
}

/// The issuer accepts a delivered milestone (paying its tranche) or sends it back.
pub fn judge_milestone(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    milestone_id: &str,
    bid_id: &str,
    reject_reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    lock(c, challenge_id)?;
    let row = issuer_row(c, actor, challenge_id)?;
    let row = settle_deadline(c, row, now)?;
    let (bid, progress) = winner_progress(c, &row, milestone_id, bid_id)?;
    require_in_progress(&row, now, if reject_reason.is_some() { "reject_milestone" } else { "accept_milestone" })?;
    if bid.status != BidStatus::Awarded.as_str() {
        return Err(DomainError::transition("bid", &bid.status, "accept_milestone").into());
    }
    let (to, action) = match reject_reason {
        Some(_) => (MilestoneStatus::Pending, "milestone.reject"),
        None => (MilestoneStatus::Accepted, "milestone.accept"),
    };
    if !db::challenges::progress_transition(
        c,
        &progress.id,
        MilestoneStatus::Delivered.as_str(),
        to.as_str(),
        reject_reason,
        now,
    )? {
        return Err(DomainError::new(
            ErrorCode::InvalidStateTransition,
            Message::rule(Rule::MilestoneNotDelivered).word("status", &progress.status),
        )
        .into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new(action, "milestone", milestone_id)
            .status(Some("delivered"), to.as_str())
            .detail(serde_json::json!({ "bid_id": bid_id, "reason": reject_reason })),
        now,
    )?;
    if reject_reason.is_none() {
        pay(c, &row, &bid, milestone_id, now)?;
    }
    let (kind, title) = match reject_reason {
        None => ("milestone_accepted", format!("里程碑已验收：{}", row.title)),
        Some(_) => ("milestone_rejected", format!("里程碑未通过验收：{}", row.title)),
    };
    let body =
        reject_reason.map_or_else(|| "发榜方已验收该里程碑，对应款项已记录。".to_owned(), |r| format!("原因：{r}"));
    notify::send(
        c,
        Recipient::Org(bid.org_id.clone()),
        Notice::new(kind, title, body).about("challenge", challenge_id),
        now,
    )?;
    if reject_reason.is_none() {
        complete_if_done(c, actor, challenge_id, &bid.id, now)?;
    }
    reload(c, actor, challenge_id, now)
}

/// Records the payment for an accepted milestone: the tranche, shared among the winners
/// still in the race, never beyond the reward.
fn pay(
    c: &mut AnyConnection,
    row: &ChallengeRow,
    bid: &BidRow,
    milestone_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let milestone = db::challenges::milestones(c, &row.id)?
        .into_iter()
        .find(|m| m.id == milestone_id)
        .ok_or_else(|| AppError::not_found("milestone"))?;
    let live: Vec<String> = db::challenges::bids_of(c, &row.id)?
        .into_iter()
        .filter(|b| b.status == BidStatus::Awarded.as_str())
        .map(|b| b.id)
        .collect();
    let paid_here: Vec<db::challenges::PaymentRow> =
        db::challenges::payments(c, &row.id)?.into_iter().filter(|p| p.milestone_id == milestone_id).collect();
    let already = Fen::sum(paid_here.iter().map(|p| p.amount_fen))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("milestone payments beyond the money ceiling")))?
        .get();
    let others_unpaid = live.iter().filter(|b| **b != bid.id && !paid_here.iter().any(|p| p.bid_id == **b)).count();
    let amount = rules::milestone_share(milestone.payment_fen, live.len() as i64, already, others_unpaid == 0);
    if !db::challenges::add_paid(c, &row.id, amount, now)? {
        return Err(DomainError::new(ErrorCode::Conflict, Rule::RewardExceeded).into());
    }
    db::challenges::insert_payment(c, &row.id, &bid.id, milestone_id, amount, now)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::MilestonePaid))?;
    db::challenges::add_bid_paid(c, &bid.id, amount)?;
    audit::record(
        c,
        None,
        Change::new("challenge.payment", "challenge", &row.id)
            .detail(serde_json::json!({ "bid_id": bid.id, "milestone_id": milestone_id, "amount_fen": amount })),
        now,
    )
}

fn complete_if_done(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    bid_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let progress = db::challenges::progress(c, challenge_id)?;
    let mine: Vec<_> = progress.iter().filter(|p| p.bid_id == bid_id).collect();
    if !mine.is_empty() && mine.iter().all(|p| p.status == MilestoneStatus::Accepted.as_str()) {
        let row = db::challenges::find(c, challenge_id)?.ok_or_else(|| AppError::not_found("challenge"))?;
        move_to(
            c,
            Some(&actor.id),
            &row,
            ChallengeAction::Complete,
            Some(serde_json::json!({ "bid_id": bid_id })),
            now,
        )?;
    }
    Ok(())
}

pub fn eliminate(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    bid_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    lock(c, challenge_id)?;
    let row = issuer_row(c, actor, challenge_id)?;
    if mode_of(&row)? != ChallengeMode::HorseRace {
        return Err(DomainError::new(ErrorCode::InvalidStateTransition, Rule::HorseRaceOnly).into());
    }
    let status = effective(&row, now)?;
    if !matches!(status, ChallengeStatus::Publicizing | ChallengeStatus::InProgress) {
        return Err(DomainError::transition("challenge", status.as_str(), "eliminate").into());
    }
    let bid = bid_of(c, &row, bid_id)?;
    let from = bid_status(&bid)?;
    let to = rules::apply_bid(from, BidAction::Eliminate)?;
    if !db::challenges::eliminate_winner(c, challenge_id, bid_id, reason, now)? {
        return Err(DomainError::new(ErrorCode::InvalidStateTransition, Rule::LastWinner).into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("bid.eliminate", "bid", &bid.id).status(Some(from.as_str()), to.as_str()),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(bid.org_id.clone()),
        Notice::new("bid_eliminated", format!("赛马淘汰：{}", row.title), format!("原因：{reason}"))
            .about("challenge", challenge_id),
        now,
    )?;
    reload(c, actor, challenge_id, now)
}

pub fn cancel(
    c: &mut AnyConnection,
    actor: &Actor,
    challenge_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    lock(c, challenge_id)?;
    let row = load_visible(c, Some(actor), challenge_id)?;
    if !(actor.is_admin() || is_issuer(actor, &row)) {
        return Err(AppError::forbidden(Rule::ChallengeCancellers));
    }
    move_to(c, Some(&actor.id), &row, ChallengeAction::Cancel, Some(serde_json::json!({ "reason": reason })), now)?;
    db::challenges::set_reason(c, challenge_id, None, Some(reason))?;
    for bid in db::challenges::bids_of(c, challenge_id)? {
        if BidStatus::parse(&bid.status).is_some_and(BidStatus::is_live) {
            notify::send(
                c,
                Recipient::Org(bid.org_id.clone()),
                Notice::new("challenge_cancelled", format!("榜单已取消：{}", row.title), format!("原因：{reason}"))
                    .about("challenge", challenge_id),
                now,
            )?;
        }
    }
    reload(c, actor, challenge_id, now)
}

/// Job body: persist `bidding_closed` for one challenge whose deadline passed.
pub fn close_bidding(c: &mut AnyConnection, challenge_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    lock(c, challenge_id)?;
    if let Some(row) = db::challenges::find(c, challenge_id)? {
        settle_deadline(c, row, now)?;
    }
    Ok(())
}

/// What subscriptions match a published challenge against.
pub fn published_item(c: &mut AnyConnection, id: &str) -> AppResult<Option<super::subscriptions::Published>> {
    Ok(db::challenges::find(c, id)?.filter(|r| r.directed_org_id.is_none()).map(|r| super::subscriptions::Published {
        title: r.title,
        text: r.description,
        field: r.field,
        region: None,
        org_id: r.issuer_org_id,
    }))
}
