//! 技术合同: created by either party (from a listing, a connection or a challenge's winning
//! bid), signed by both, registered by an admin with a sequential number, paid, followed to
//! market, with the income split to inventors as the law requires.

use crate::domain::error::{Message, Rule};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::config::ContractSettings;
use crate::db::brokers::BrokerRow;
use crate::db::contracts::{ContractRow, DistributionRow, NewContract, PaymentRow, PlanRow, ReportRow};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::broker::Commission;
use crate::domain::challenge::BidStatus;
use crate::domain::connection::ConnectionStatus;
use crate::domain::contract::{self as rules, ContractAction, ContractKind, ContractStatus, Share, Stage};
use crate::domain::error::{DomainError, ErrorCode, Validator};
use crate::domain::organization::{OrgKind, OrgStatus};
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, integrity, new_id};

#[derive(Clone)]
pub struct PlanItem {
    pub due_date: NaiveDate,
    pub amount_fen: i64,
}

#[derive(Clone)]
pub struct NewContractInput {
    pub kind: ContractKind,
    pub title: String,
    pub seller_org_id: String,
    pub buyer_org_id: String,
    pub achievement_id: Option<String>,
    pub demand_id: Option<String>,
    pub challenge_id: Option<String>,
    pub connection_id: Option<String>,
    pub amount_fen: i64,
    pub payment_plan: Vec<PlanItem>,
    pub royalty_rate_bp: Option<i32>,
    /// The broker's commission; only for a contract from a connection with a broker.
    pub commission: Option<Commission>,
}

/// A contract with everything its view shows.
pub struct Details {
    pub row: ContractRow,
    pub plan: Vec<PlanRow>,
    pub payments: Vec<PaymentRow>,
    pub timeline: Vec<ReportRow>,
    pub distribution: Option<DistributionRow>,
}

fn status_of(row: &ContractRow) -> AppResult<ContractStatus> {
    ContractStatus::parse(&row.status).ok_or_else(|| super::corrupt("contract status", &row.status))
}

fn kind_of(row: &ContractRow) -> AppResult<ContractKind> {
    ContractKind::parse(&row.kind).ok_or_else(|| super::corrupt("contract kind", &row.kind))
}

fn details(c: &mut AnyConnection, row: ContractRow) -> AppResult<Details> {
    let id = row.id.clone();
    details_of(c, vec![row])?.pop().ok_or_else(|| super::corrupt("contract", &id))
}

/// The details of a page of contracts in four statements whatever its size: plans, payments,
/// reports and distributions are each read once for all rows and dealt out by contract.
fn details_of(c: &mut AnyConnection, rows: Vec<ContractRow>) -> AppResult<Vec<Details>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut plans = super::group_by_key(db::contracts::plans_of(c, &ids)?, |p| p.contract_id.clone());
    let mut payments = super::group_by_key(db::contracts::payments_of_many(c, &ids)?, |p| p.contract_id.clone());
    let mut timelines = super::group_by_key(db::contracts::timelines(c, &ids)?, |r| r.contract_id.clone());
    let mut distributions = super::group_by_key(db::contracts::distributions_of(c, &ids)?, |d| d.contract_id.clone());
    Ok(rows
        .into_iter()
        .map(|row| Details {
            plan: plans.remove(&row.id).unwrap_or_default(),
            payments: payments.remove(&row.id).unwrap_or_default(),
            timeline: timelines.remove(&row.id).unwrap_or_default(),
            // Newest first: the current distribution.
            distribution: distributions.remove(&row.id).and_then(|d| d.into_iter().next()),
            row,
        })
        .collect())
}

fn is_party(actor: &Actor, row: &ContractRow) -> bool {
    actor.is_member_of(&row.seller_org_id) || actor.is_member_of(&row.buyer_org_id)
}

/// The parties, the broker who brought it about and admins see a contract; everyone else
/// gets 404.
fn visible(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<ContractRow> {
    let row = db::contracts::find(c, id)?.ok_or_else(|| AppError::not_found("contract"))?;
    if is_party(actor, &row) || actor.is_admin() || super::brokers::is_broker(c, actor, row.broker_id.as_deref())? {
        Ok(row)
    } else {
        Err(AppError::not_found("contract"))
    }
}

/// A party's view of the contract, for a change: the contract row is locked first (lock
/// order: contract → payments, reports, distribution → the listing it transfers), so the
/// state read next is the latest and changes to one contract run one at a time.
fn party(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<ContractRow> {
    db::lock::lock(c, db::lock::Root::Contract, id)?;
    let row = visible(c, actor, id)?;
    if is_party(actor, &row) { Ok(row) } else { Err(AppError::forbidden(Rule::ContractPartiesOnly)) }
}

pub fn get(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<Details> {
    let row = visible(c, actor, id)?;
    details(c, row)
}

fn reload(c: &mut AnyConnection, id: &str) -> AppResult<Details> {
    let row = db::contracts::find(c, id)?.ok_or_else(|| AppError::not_found("contract"))?;
    details(c, row)
}

/// Checks the links of a new contract and returns the winning bid it refers to, if any.
fn check_links(c: &mut AnyConnection, input: &NewContractInput) -> AppResult<Option<String>> {
    let mut v = Validator::new();
    let mut bid_id = None;
    if let Some(id) = &input.achievement_id {
        let ok = db::listings::find(c, "achievement", id)?.is_some_and(|l| l.org_id == input.seller_org_id);
        v.check(ok, "achievement_id", Rule::SellerAchievement);
    }
    if let Some(id) = &input.demand_id {
        let ok = db::listings::find(c, "demand", id)?.is_some_and(|l| l.org_id == input.buyer_org_id);
        v.check(ok, "demand_id", Rule::BuyerDemand);
    }
    if let Some(id) = &input.connection_id {
        let ok = db::connections::find(c, id)?.is_some_and(|conn| {
            let orgs = [conn.requester_org_id.as_str(), conn.listing_org_id.as_str()];
            conn.status == ConnectionStatus::Accepted.as_str()
                && orgs.contains(&input.seller_org_id.as_str())
                && orgs.contains(&input.buyer_org_id.as_str())
        });
        v.check(ok, "connection_id", Rule::PartiesConnection);
    }
    if let Some(id) = &input.challenge_id {
        let challenge = db::challenges::find(c, id)?;
        let winner = db::challenges::bids_of(c, id)?
            .into_iter()
            .find(|b| b.status == BidStatus::Awarded.as_str() && b.org_id == input.seller_org_id);
        let ok = challenge.is_some_and(|ch| ch.issuer_org_id == input.buyer_org_id) && winner.is_some();
        v.check(ok, "challenge_id", Rule::BuyerChallenge);
        bid_id = winner.map(|b| b.id);
    }
    v.finish()?;
    Ok(bid_id)
}

/// The broker of the connection a new contract comes from, if it has one.
fn broker_of(c: &mut AnyConnection, input: &NewContractInput) -> AppResult<Option<BrokerRow>> {
    let Some(id) = &input.connection_id else { return Ok(None) };
    let Some(broker_id) = db::connections::find(c, id)?.and_then(|conn| conn.broker_id) else { return Ok(None) };
    db::brokers::find(c, &broker_id)
}

pub fn create(c: &mut AnyConnection, actor: &Actor, input: NewContractInput, now: DateTime<Utc>) -> AppResult<Details> {
    let org = actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    let broker = broker_of(c, &input)?;
    let drafted_by_broker = super::brokers::is_broker(c, actor, broker.as_ref().map(|b| b.id.as_str()))?;
    if org.id != input.seller_org_id && org.id != input.buyer_org_id && !drafted_by_broker {
        return Err(AppError::forbidden(Rule::DraftAsParty));
    }
    if input.commission.is_some() && broker.is_none() {
        let field =
            if matches!(input.commission, Some(Commission::Bp(_))) { "commission_bp" } else { "commission_fen" };
        return Err(AppError::field(field, Rule::CommissionNeedsBroker));
    }
    let mut v = Validator::new();
    v.check(input.seller_org_id != input.buyer_org_id, "buyer_org_id", Rule::DistinctParties);
    for (field, id) in [("seller_org_id", &input.seller_org_id), ("buyer_org_id", &input.buyer_org_id)] {
        let ok = db::organizations::find(c, id)?.is_some_and(|o| o.status == OrgStatus::Verified.as_str());
        v.check(ok, field, Rule::VerifiedOrganization);
    }
    v.finish()?;
    // The parties other than the drafter's organization (both, when a broker drafts).
    let others: Vec<String> =
        [&input.seller_org_id, &input.buyer_org_id].into_iter().filter(|o| **o != org.id).cloned().collect();
    for other in &others {
        if integrity::org_vetoed(c, other, now)? {
            return Err(DomainError::new(ErrorCode::IntegrityVeto, Rule::OtherPartyVetoed).into());
        }
    }
    let bid_id = check_links(c, &input)?;
    let id = new_id();
    db::contracts::insert(
        c,
        &NewContract {
            id: &id,
            kind: input.kind.as_str(),
            title: &input.title,
            seller_org_id: &input.seller_org_id,
            buyer_org_id: &input.buyer_org_id,
            created_by: &actor.id,
            achievement_id: input.achievement_id.as_deref(),
            demand_id: input.demand_id.as_deref(),
            challenge_id: input.challenge_id.as_deref(),
            bid_id: bid_id.as_deref(),
            connection_id: input.connection_id.as_deref(),
            amount_fen: input.amount_fen,
            royalty_rate_bp: input.royalty_rate_bp,
            status: ContractStatus::Draft.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
            broker_id: broker.as_ref().map(|b| b.id.as_str()),
            broker_org_id: broker.as_ref().map(|b| b.org_id.as_str()),
            commission_fen: match input.commission {
                Some(Commission::Fen(fen)) => Some(fen),
                _ => None,
            },
            commission_bp: match input.commission {
                Some(Commission::Bp(bp)) => Some(bp),
                _ => None,
            },
        },
    )?;
    for (i, item) in input.payment_plan.iter().enumerate() {
        db::contracts::insert_plan(c, &id, i as i32 + 1, item.due_date, item.amount_fen)?;
    }
    if let Some(connection) = &input.connection_id {
        super::connections::mark_contracted(c, actor, connection, now)?;
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.create", "contract", &id).status(None, "draft").detail(serde_json::json!({
            "kind": input.kind.as_str(),
            "amount_fen": input.amount_fen,
            "broker_id": broker.as_ref().map(|b| &b.id),
            "commission_fen": input.commission.map(|k| k.due(input.amount_fen)),
        })),
        now,
    )?;
    for other in others {
        notify::send(
            c,
            Recipient::Org(other),
            Notice::new(
                "contract_awaiting_signature",
                format!("待签署合同：{}", input.title),
                format!("{} 起草了一份{}合同，等待贵方签署。", org.name, input.kind.chinese()),
            )
            .about("contract", &id),
            now,
        )?;
    }
    reload(c, &id)
}

/// One party signs; when both have, the contract is `signed` (and a transfer marks its
/// achievement `transferred`).
pub fn sign(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<Details> {
    let row = party(c, actor, id)?;
    actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    let status = status_of(&row)?;
    if status != ContractStatus::Draft {
        return Err(DomainError::transition("contract", status.as_str(), "sign").into());
    }
    let seller = actor.is_member_of(&row.seller_org_id);
    if !db::contracts::sign(c, id, seller, &actor.id, now)? {
        return Err(DomainError::new(ErrorCode::InvalidStateTransition, Rule::AlreadySigned).into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.sign", "contract", id)
            .detail(serde_json::json!({ "side": if seller { "seller" } else { "buyer" } })),
        now,
    )?;
    let row = db::contracts::find(c, id)?.ok_or_else(|| AppError::not_found("contract"))?;
    let other = if seller { &row.buyer_org_id } else { &row.seller_org_id };
    if row.seller_signed_at.is_some() && row.buyer_signed_at.is_some() {
        if !db::contracts::transition(c, id, "draft", "signed", now)? {
            return Err(DomainError::transition("contract", &row.status, "sign").into());
        }
        audit::record(
            c,
            Some(&actor.id),
            Change::new("contract.signed", "contract", id).status(Some("draft"), "signed"),
            now,
        )?;
        if kind_of(&row)? == ContractKind::Transfer
            && let Some(achievement) = &row.achievement_id
        {
            // The achievement leaves the marketplace (the handler refreshes the index).
            super::listings::mark_transferred(c, actor, achievement, now)?;
        }
        for org in [&row.seller_org_id, &row.buyer_org_id] {
            notify::send(
                c,
                Recipient::Org(org.clone()),
                Notice::new(
                    "contract_signed",
                    format!("合同已签署：{}", row.title),
                    "双方均已签署，可申请技术合同认定登记。",
                )
                .about("contract", id),
                now,
            )?;
        }
    } else {
        notify::send(
            c,
            Recipient::Org(other.clone()),
            Notice::new(
                "contract_awaiting_signature",
                format!("待签署合同：{}", row.title),
                "对方已签署，等待贵方签署。",
            )
            .about("contract", id),
            now,
        )?;
    }
    reload(c, id)
}

/// 技术合同认定登记 in one step by an administrator: a unique sequential number per year and
/// the recognised amount. It is recorded as an approved registration (an open one is approved),
/// so it can be amended or cancelled like any other.
pub fn register(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    registered_amount: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    actor.require_admin()?;
    db::lock::lock(c, db::lock::Root::Contract, id)?;
    let row = db::contracts::find(c, id)?.ok_or_else(|| AppError::not_found("contract"))?;
    let status = status_of(&row)?;
    rules::apply(status, ContractAction::Register)?;
    let amount = registered_amount.unwrap_or(row.amount_fen);
    check_registered_amount(&row, amount, "registered_amount_fen")?;
    let number = allocate_registration_no(c, now)?;
    mark_registered(c, actor, &row, &number, amount, now)?;
    super::registrations::record_one_step(c, actor, &row, &number, amount, now)?;
    reload(c, id)
}

/// The recognised amount (技术交易额) is positive and at most the contract amount.
pub fn check_registered_amount(row: &ContractRow, amount: i64, field: &str) -> Result<(), DomainError> {
    let mut v = Validator::new();
    v.check(amount > 0, field, Rule::Positive);
    v.check(amount <= row.amount_fen, field, Rule::RegisteredAmount);
    v.finish()
}

/// The next free number of the current year (`2026-000123`); numbers an office typed in by
/// hand are skipped, so a number is never issued twice.
pub fn allocate_registration_no(c: &mut AnyConnection, now: DateTime<Utc>) -> AppResult<String> {
    let year = crate::domain::voucher::shanghai_date(now).year();
    loop {
        let number = rules::registration_no(year, db::contracts::next_registration_seq(c, year)?);
        if !db::registrations::number_taken(c, &number)? {
            return Ok(number);
        }
    }
}

/// Moves a signed contract to `registered` with its number and amount: the one-step path and
/// an approved registration share the guarded update, the audit entry and the notices.
pub fn mark_registered(
    c: &mut AnyConnection,
    actor: &Actor,
    row: &ContractRow,
    number: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let id = row.id.as_str();
    let status = status_of(row)?;
    rules::apply(status, ContractAction::Register)?;
    let updated = db::contracts::register(c, id, number, amount, now)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::RegistrationNumberTaken))?;
    if !updated {
        return Err(DomainError::transition("contract", status.as_str(), "register").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.register", "contract", id)
            .status(Some("signed"), "registered")
            .detail(serde_json::json!({ "registration_no": number, "registered_amount_fen": amount })),
        now,
    )?;
    for org in [&row.seller_org_id, &row.buyer_org_id] {
        notify::send(
            c,
            Recipient::Org(org.clone()),
            Notice::new(
                "contract_registered",
                format!("合同已完成认定登记：{}", row.title),
                format!("登记编号 {number}。"),
            )
            .about("contract", id),
            now,
        )?;
    }
    Ok(())
}

/// A cancelled registration: the contract is `signed` again, without number or amount. Only
/// before performance starts (a contract with payments keeps its registration).
pub fn mark_deregistered(
    c: &mut AnyConnection,
    actor: &Actor,
    row: &ContractRow,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let status = status_of(row)?;
    rules::apply(status, ContractAction::CancelRegistration)?;
    if !db::contracts::deregister(c, &row.id, status.as_str(), now)? {
        return Err(DomainError::transition("contract", status.as_str(), "cancel_registration").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.registration_cancelled", "contract", &row.id)
            .status(Some(status.as_str()), "signed")
            .detail(serde_json::json!({ "registration_no": row.registration_no, "reason": reason })),
        now,
    )?;
    for org in [&row.seller_org_id, &row.buyer_org_id] {
        notify::send(
            c,
            Recipient::Org(org.clone()),
            Notice::new(
                "contract_registration_cancelled",
                format!("合同认定登记已撤销：{}", row.title),
                format!("原因：{reason}"),
            )
            .about("contract", &row.id),
            now,
        )?;
    }
    Ok(())
}

pub fn record_payment(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    amount: i64,
    paid_at: DateTime<Utc>,
    reference: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let row = party(c, actor, id)?;
    if !actor.is_member_of(&row.seller_org_id) {
        return Err(AppError::forbidden(Rule::SellerRecordsPayments));
    }
    let status = status_of(&row)?;
    if !matches!(status, ContractStatus::Registered | ContractStatus::Performing) {
        return Err(DomainError::transition("contract", status.as_str(), "record_payment").into());
    }
    if !db::contracts::add_paid(c, id, amount, now)? {
        return Err(AppError::field(
            "amount_fen",
            Message::rule(Rule::Overpaid).arg("paid", row.paid_fen).arg("amount", row.amount_fen),
        ));
    }
    db::contracts::insert_payment(c, id, amount, paid_at, reference, &actor.id, now)?;
    if status == ContractStatus::Registered {
        rules::apply(status, ContractAction::StartPerforming)?;
        if !db::contracts::transition(c, id, "registered", "performing", now)? {
            return Err(DomainError::transition("contract", status.as_str(), "record_payment").into());
        }
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.payment", "contract", id)
            .status(Some(status.as_str()), "performing")
            .detail(serde_json::json!({ "amount_fen": amount, "reference": reference })),
        now,
    )?;
    reload(c, id)
}

/// A commercialization progress report.
#[derive(Clone)]
pub struct ProgressReport {
    pub stage: Stage,
    pub note: String,
    pub revenue_fen: Option<i64>,
    pub reported_at: DateTime<Utc>,
}

pub fn report(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    r: ProgressReport,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let ProgressReport { stage, note, revenue_fen, reported_at } = r;
    let note = note.as_str();
    let row = party(c, actor, id)?;
    let status = status_of(&row)?;
    if matches!(status, ContractStatus::Draft | ContractStatus::Terminated) {
        return Err(DomainError::transition("contract", status.as_str(), "report_commercialization").into());
    }
    if let Some(furthest) = db::contracts::max_stage_rank(c, id)?
        && stage.rank() < furthest
    {
        return Err(AppError::field("stage", Rule::StagesForward));
    }
    let org_id = actor.org_id().ok_or_else(|| AppError::forbidden(Rule::NoOrganization))?;
    db::contracts::insert_report(
        c,
        &ReportRow {
            id: uuid::Uuid::now_v7().to_string(),
            contract_id: id.to_owned(),
            stage: stage.as_str().to_owned(),
            stage_rank: stage.rank(),
            note: note.to_owned(),
            revenue_fen,
            reported_at: to_db(reported_at),
            reported_by: actor.id.clone(),
            reporter_org_id: org_id.to_owned(),
            created_at: to_db(now),
        },
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.commercialization", "contract", id)
            .detail(serde_json::json!({ "stage": stage.as_str(), "revenue_fen": revenue_fen })),
        now,
    )?;
    reload(c, id)
}

/// An income split to record.
pub struct Split {
    pub net_income_fen: i64,
    pub inventor_share_bp: i32,
    pub beneficiaries: Vec<Share>,
}

pub fn distribute(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    split: &Split,
    settings: &ContractSettings,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let Split { net_income_fen, inventor_share_bp, beneficiaries } = split;
    let (net_income_fen, inventor_share_bp) = (*net_income_fen, *inventor_share_bp);
    let row = party(c, actor, id)?;
    let seller_org = actor.org.as_ref().filter(|o| o.id == row.seller_org_id);
    let Some(seller_org) = seller_org else {
        return Err(AppError::forbidden(Rule::SellerDistributes));
    };
    if !matches!(seller_org.kind, OrgKind::University | OrgKind::Institute) {
        return Err(AppError::forbidden(Rule::DistributionInstitutions));
    }
    let status = status_of(&row)?;
    if !matches!(status, ContractStatus::Registered | ContractStatus::Performing | ContractStatus::Completed) {
        return Err(DomainError::transition("contract", status.as_str(), "distribute_revenue").into());
    }
    let commission =
        Commission::from_columns(row.commission_fen, row.commission_bp).map_or(0, |k| k.due(row.amount_fen));
    let (pool, shares) = rules::distribute(
        kind_of(&row)?,
        net_income_fen,
        commission,
        inventor_share_bp,
        settings.inventor_min_share_bp,
        beneficiaries,
    )?;
    db::contracts::insert_distribution(
        c,
        &DistributionRow {
            id: uuid::Uuid::now_v7().to_string(),
            contract_id: id.to_owned(),
            net_income_fen,
            inventor_share_bp,
            inventor_pool_fen: pool,
            beneficiaries: serde_json::to_string(&shares).map_err(AppError::internal)?,
            recorded_by: actor.id.clone(),
            created_at: to_db(now),
            broker_commission_fen: commission,
        },
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("contract.revenue_distribution", "contract", id).detail(serde_json::json!({
            "net_income_fen": net_income_fen,
            "broker_commission_fen": commission,
            "inventor_share_bp": inventor_share_bp,
            "inventor_pool_fen": pool,
        })),
        now,
    )?;
    reload(c, id)
}

/// Either party completes or terminates the contract.
pub fn close(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    terminate: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let row = party(c, actor, id)?;
    let from = status_of(&row)?;
    let action = if terminate.is_some() { ContractAction::Terminate } else { ContractAction::Complete };
    let to = rules::apply(from, action)?;
    if !db::contracts::transition(c, id, from.as_str(), to.as_str(), now)? {
        return Err(DomainError::transition("contract", from.as_str(), action.as_str()).into());
    }
    if let Some(reason) = terminate {
        db::contracts::set_terminate_reason(c, id, reason)?;
    }
    let name = format!("contract.{}", action.as_str());
    audit::record(
        c,
        Some(&actor.id),
        Change::new(&name, "contract", id)
            .status(Some(from.as_str()), to.as_str())
            .detail(serde_json::json!({ "reason": terminate })),
        now,
    )?;
    reload(c, id)
}

pub fn list(
    c: &mut AnyConnection,
    actor: &Actor,
    status: Option<ContractStatus>,
    kind: Option<ContractKind>,
    page: Page,
) -> AppResult<(Vec<Details>, i64)> {
    let org = if actor.is_admin() {
        None
    } else {
        match actor.org_id() {
            Some(o) => Some(o),
            None => return Ok((Vec::new(), 0)),
        }
    };
    let filter = db::contracts::ContractFilter {
        org_id: org,
        status: status.map(ContractStatus::as_str),
        kind: kind.map(ContractKind::as_str),
    };
    let (rows, total) = db::contracts::list(c, &filter, page.offset(), page.limit())?;
    Ok((details_of(c, rows)?, total))
}
