//! 科技创新券: programs with a fixed budget, applications approved within the budget and the
//! per-enterprise cap, vouchers that pay a share of services from registered providers,
//! redemption (reserved at once), confirmation, settlement (兑付), rejection, revocation,
//! expiry and the settlement deadline. Every money movement is a guarded UPDATE and a ledger
//! row in the same transaction, so balances, budget and ledger always agree.

use crate::domain::error::{Message, Rule};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;

use crate::db::time::{from_db, to_db};
use crate::db::vouchers::{
    ApplicationRow, NewApplication, NewProgram, NewRedemption, NewVoucher, ProgramRow, RedemptionRow, VoucherRow,
};
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, ErrorCode};
use crate::domain::money::saturate;
use crate::domain::organization::{EnterpriseScale, OrgKind, ServiceCategory};
use crate::domain::voucher::{
    self as rules, ApplicationStatus, LedgerKind, RedemptionAction, RedemptionStatus, VoucherStatus,
};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, ActorOrg, Page, integrity, new_id};

#[derive(Clone)]
pub struct NewProgramInput {
    pub name: String,
    pub year: i32,
    pub total_budget_fen: i64,
    pub per_enterprise_cap_fen: i64,
    pub coverage_ratio_bp: i32,
    pub service_categories: Vec<ServiceCategory>,
    pub eligible_scales: Vec<EnterpriseScale>,
    pub valid_days: i32,
    pub applications_open: NaiveDate,
    pub applications_close: NaiveDate,
    pub settle_by: NaiveDate,
}

pub fn create_program(
    c: &mut AnyConnection,
    actor: &Actor,
    p: NewProgramInput,
    now: DateTime<Utc>,
) -> AppResult<ProgramRow> {
    actor.require_admin()?;
    let id = new_id();
    let categories: Vec<&str> = p.service_categories.iter().map(|s| s.as_str()).collect();
    let scales: Vec<&str> = p.eligible_scales.iter().map(|s| s.as_str()).collect();
    let categories = serde_json::to_string(&categories).map_err(AppError::internal)?;
    let scales = serde_json::to_string(&scales).map_err(AppError::internal)?;
    db::vouchers::insert_program(
        c,
        &NewProgram {
            id: &id,
            name: &p.name,
            year: p.year,
            total_budget_fen: p.total_budget_fen,
            per_enterprise_cap_fen: p.per_enterprise_cap_fen,
            coverage_ratio_bp: p.coverage_ratio_bp,
            service_categories: &categories,
            eligible_scales: &scales,
            valid_days: p.valid_days,
            applications_open: p.applications_open,
            applications_close: p.applications_close,
            settle_by: p.settle_by,
            created_by: &actor.id,
            created_at: to_db(now),
        },
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_program.create", "voucher_program", &id)
            .detail(serde_json::json!({ "total_budget_fen": p.total_budget_fen })),
        now,
    )?;
    // After the settlement deadline, open redemptions are closed out by a job.
    jobs::schedule(
        c,
        &Job::CloseSettlement { program_id: id.clone() },
        rules::end_of_shanghai_day(p.settle_by),
        &format!("close_settlement:{id}"),
    )?;
    program(c, &id)
}

/// Locks the program row, for changes that reach the program's balances after touching a
/// voucher or a redemption (settle, reject, revoke, expire): they lock the program first, so
/// every flow takes its rows in one order: program → enterprise total → application →
/// voucher → redemption (see `db::lock`). Flows whose first lock already is the program
/// (approval: the guarded budget update) or that never reach it (redeem: the voucher's
/// guarded reservation; confirm; rejecting an application) take no extra lock.
pub(crate) fn lock_program(c: &mut AnyConnection, id: &str) -> AppResult<()> {
    db::lock::lock(c, db::lock::Root::VoucherProgram, id)?;
    Ok(())
}

pub fn program(c: &mut AnyConnection, id: &str) -> AppResult<ProgramRow> {
    db::vouchers::find_program(c, id)?.ok_or_else(|| AppError::not_found("voucher program"))
}

#[derive(Clone)]
pub struct NewApplicationInput {
    pub requested_fen: i64,
    pub purpose: String,
    pub service_category: ServiceCategory,
}

pub fn apply(
    c: &mut AnyConnection,
    actor: &Actor,
    program_id: &str,
    input: NewApplicationInput,
    now: DateTime<Utc>,
) -> AppResult<ApplicationRow> {
    let p = program(c, program_id)?;
    let org = actor.require_verified_org()?;
    if org.kind != OrgKind::Enterprise {
        return Err(AppError::forbidden(Rule::VouchersForEnterprises));
    }
    integrity::require_not_vetoed(c, actor, now)?;
    if !org.scale.is_some_and(|s| p.eligible_scales().iter().any(|e| e == s.as_str())) {
        return Err(AppError::forbidden(Message::rule(Rule::ProgramScales).words("scales", &p.eligible_scales())));
    }
    let mut v = crate::domain::error::Validator::new();
    v.check(
        p.service_categories().iter().any(|s| s == input.service_category.as_str()),
        "service_category",
        Rule::ProgramCategory,
    );
    v.check(
        input.requested_fen <= p.per_enterprise_cap_fen,
        "requested_fen",
        Message::rule(Rule::PerEnterpriseCap).arg("cap", p.per_enterprise_cap_fen),
    );
    v.finish()?;
    rules::check_window(p.applications_open, p.applications_close, now)?;
    let id = new_id();
    db::vouchers::insert_application(
        c,
        &NewApplication {
            id: &id,
            program_id,
            enterprise_id: &org.id,
            applicant_id: &actor.id,
            requested_fen: input.requested_fen,
            purpose: &input.purpose,
            service_category: input.service_category.as_str(),
            status: ApplicationStatus::Submitted.as_str(),
            created_at: to_db(now),
        },
    )?;
    db::vouchers::ensure_enterprise_total(c, program_id, &org.id)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_application.submit", "voucher_application", &id)
            .status(None, "submitted")
            .detail(serde_json::json!({ "requested_fen": input.requested_fen })),
        now,
    )?;
    application(c, &id)
}

fn application(c: &mut AnyConnection, id: &str) -> AppResult<ApplicationRow> {
    db::vouchers::find_application(c, id)?.ok_or_else(|| AppError::not_found("application"))
}

/// A voucher code people can read out: `TV` + year + 10 characters without look-alikes.
fn voucher_code(year: i32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let tail: String = (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("TV{year}-{tail}")
}

/// Approves an application for `approved_fen` (≤ requested): the budget and the enterprise's
/// cap are checked by guarded updates, then a voucher is issued.
pub fn approve(
    c: &mut AnyConnection,
    actor: &Actor,
    application_id: &str,
    approved_fen: i64,
    now: DateTime<Utc>,
) -> AppResult<VoucherRow> {
    actor.require_admin()?;
    let a = application(c, application_id)?;
    let from = ApplicationStatus::parse(&a.status).ok_or_else(|| super::corrupt("application status", &a.status))?;
    rules::decide_application(from, true)?;
    let mut v = crate::domain::error::Validator::new();
    v.check(approved_fen > 0, "approved_fen", Rule::Positive);
    v.check(
        approved_fen <= a.requested_fen,
        "approved_fen",
        Message::rule(Rule::RequestedAmount).arg("requested", a.requested_fen),
    );
    v.finish()?;
    let p = program(c, &a.program_id)?;
    if !db::vouchers::program_issue(c, &p.id, approved_fen)? {
        return Err(DomainError::new(
            ErrorCode::VoucherBudgetExceeded,
            Message::rule(Rule::ProgramRemaining).arg("left", program(c, &p.id)?.remaining_fen()),
        )
        .into());
    }
    db::vouchers::ensure_enterprise_total(c, &p.id, &a.enterprise_id)?;
    if !db::vouchers::enterprise_add(c, &p.id, &a.enterprise_id, approved_fen, p.per_enterprise_cap_fen)? {
        let held = db::vouchers::enterprise_net(c, &p.id, &a.enterprise_id)?;
        return Err(DomainError::new(
            ErrorCode::EnterpriseCapExceeded,
            Message::rule(Rule::EnterpriseHolds).arg("held", held).arg("cap", p.per_enterprise_cap_fen),
        )
        .into());
    }
    let voucher_id = new_id();
    let expires_at = now + Duration::days(i64::from(p.valid_days));
    let mut code = voucher_code(p.year);
    let mut attempts = 0;
    while !db::vouchers::insert_voucher(
        c,
        &NewVoucher {
            id: &voucher_id,
            code: &code,
            program_id: &p.id,
            enterprise_id: &a.enterprise_id,
            application_id: &a.id,
            service_category: &a.service_category,
            face_value_fen: approved_fen,
            balance_fen: approved_fen,
            status: VoucherStatus::Active.as_str(),
            expires_at: to_db(expires_at),
            issued_at: to_db(now),
        },
    )? {
        attempts += 1;
        if attempts > 5 {
            return Err(AppError::internal(anyhow::anyhow!("could not draw a free voucher code")));
        }
        code = voucher_code(p.year);
    }
    if !db::vouchers::decide_application(
        c,
        application_id,
        "approved",
        Some(approved_fen),
        None,
        Some(&voucher_id),
        now,
    )? {
        return Err(DomainError::transition("application", &a.status, "approve").into());
    }
    db::vouchers::add_ledger(c, &p.id, &voucher_id, None, LedgerKind::Issue.as_str(), approved_fen, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_application.approve", "voucher_application", application_id)
            .status(Some("submitted"), "approved")
            .detail(serde_json::json!({ "approved_fen": approved_fen, "voucher_id": voucher_id })),
        now,
    )?;
    jobs::schedule(
        c,
        &Job::ExpireVoucher { voucher_id: voucher_id.clone() },
        expires_at,
        &format!("expire_voucher:{voucher_id}"),
    )?;
    notify::send(
        c,
        Recipient::Org(a.enterprise_id.clone()),
        Notice::new(
            "voucher_application_approved",
            format!("创新券申请已批准：{}", p.name),
            format!("核定金额 {} 元，券码 {}，有效期至 {}。", yuan(approved_fen), code, expires_at.format("%Y-%m-%d")),
        )
        .about("voucher", &voucher_id),
        now,
    )?;
    voucher(c, &voucher_id)
}

pub(crate) fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

pub fn reject_application(
    c: &mut AnyConnection,
    actor: &Actor,
    application_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<ApplicationRow> {
    actor.require_admin()?;
    let a = application(c, application_id)?;
    let from = ApplicationStatus::parse(&a.status).ok_or_else(|| super::corrupt("application status", &a.status))?;
    rules::decide_application(from, false)?;
    if !db::vouchers::decide_application(c, application_id, "rejected", None, Some(reason), None, now)? {
        return Err(DomainError::transition("application", &a.status, "reject").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_application.reject", "voucher_application", application_id)
            .status(Some("submitted"), "rejected")
            .detail(serde_json::json!({ "reason": reason })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(a.enterprise_id.clone()),
        Notice::new("voucher_application_rejected", "创新券申请未获批准", format!("原因：{reason}"))
            .about("voucher_application", application_id),
        now,
    )?;
    application(c, application_id)
}

pub fn applications(
    c: &mut AnyConnection,
    actor: &Actor,
    status: Option<ApplicationStatus>,
    program_id: Option<&str>,
    page: Page,
) -> AppResult<(Vec<ApplicationRow>, i64)> {
    let status = status.map(ApplicationStatus::as_str);
    if actor.is_admin() {
        return db::vouchers::list_applications(c, None, status, program_id, page.offset(), page.limit());
    }
    let Some(org) = actor.org_id() else { return Ok((Vec::new(), 0)) };
    db::vouchers::list_applications(c, Some(org), status, program_id, page.offset(), page.limit())
}

fn voucher(c: &mut AnyConnection, id: &str) -> AppResult<VoucherRow> {
    db::vouchers::find_voucher(c, id)?.ok_or_else(|| AppError::not_found("voucher"))
}

pub fn voucher_status(v: &VoucherRow, now: DateTime<Utc>) -> AppResult<VoucherStatus> {
    let status = VoucherStatus::parse(&v.status).ok_or_else(|| super::corrupt("voucher status", &v.status))?;
    Ok(rules::effective_status(status, from_db(v.expires_at), now))
}

/// The holder enterprise and admins see a voucher.
pub fn get_voucher(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<VoucherRow> {
    let v = voucher(c, id)?;
    if actor.is_admin() || actor.is_member_of(&v.enterprise_id) { Ok(v) } else { Err(AppError::not_found("voucher")) }
}

pub fn vouchers(
    c: &mut AnyConnection,
    actor: &Actor,
    program_id: Option<&str>,
    page: Page,
) -> AppResult<(Vec<VoucherRow>, i64)> {
    if actor.is_admin() {
        return db::vouchers::list_vouchers(c, None, program_id, page.offset(), page.limit());
    }
    let Some(org) = actor.org_id() else { return Ok((Vec::new(), 0)) };
    db::vouchers::list_vouchers(c, Some(org), program_id, page.offset(), page.limit())
}

pub struct RedemptionInput {
    pub voucher_code: String,
    pub service_fee_fen: i64,
    pub invoice_no: String,
    pub description: String,
}

/// A provider redeems a voucher for a service: the covered share of the fee, at most the
/// balance, is reserved at once.
pub fn redeem(
    c: &mut AnyConnection,
    actor: &Actor,
    input: &RedemptionInput,
    now: DateTime<Utc>,
) -> AppResult<RedemptionRow> {
    let org = actor.require_verified_org()?;
    if org.kind != OrgKind::ServiceProvider {
        return Err(AppError::forbidden(Rule::ProvidersRedeem));
    }
    integrity::require_not_vetoed(c, actor, now)?;
    let v = db::vouchers::find_voucher_by_code(c, input.voucher_code.trim())?
        .ok_or_else(|| AppError::not_found("voucher"))?;
    if !org.service_categories.iter().any(|s| s.as_str() == v.service_category) {
        return Err(AppError::forbidden(Message::rule(Rule::ServiceNotOffered).word("service", &v.service_category)));
    }
    let p = program(c, &v.program_id)?;
    rules::check_settlement(p.settle_by, now)?;
    let (v, amount) = reserve(c, v, &p, input.service_fee_fen, now)?;
    let id = new_id();
    let r = open_redemption(c, actor, org, &v, &id, input, amount, now)?;
    db::vouchers::add_ledger(c, &p.id, &v.id, Some(&id), LedgerKind::Reserve.as_str(), amount, now)?;
    Ok(r)
}

/// Reserves the covered share of `fee_fen` on a voucher: `coverage_ratio_bp` of the fee, at
/// most the balance. The guarded reservation can lose a race with another reservation of the
/// same voucher (PostgreSQL, read committed): it re-reads the balance and reserves what is left.
/// Returns the voucher as it was read last and the amount reserved.
pub(crate) fn reserve(
    c: &mut AnyConnection,
    mut v: VoucherRow,
    p: &ProgramRow,
    fee_fen: i64,
    now: DateTime<Utc>,
) -> AppResult<(VoucherRow, i64)> {
    let mut attempts = 0;
    loop {
        let status = VoucherStatus::parse(&v.status).ok_or_else(|| super::corrupt("voucher status", &v.status))?;
        rules::check_redeemable(status, from_db(v.expires_at), now)?;
        let amount = rules::redemption_amount(fee_fen, p.coverage_ratio_bp, v.balance_fen);
        if amount <= 0 {
            return Err(AppError::field("service_fee_fen", Rule::FeeTooSmall));
        }
        if db::vouchers::voucher_reserve(c, &v.id, amount, now)? {
            return Ok((v, amount));
        }
        attempts += 1;
        if attempts >= 5 {
            return Err(DomainError::new(ErrorCode::Conflict, Rule::VoucherBusy).into());
        }
        v = voucher(c, &v.id)?;
    }
}

/// Records a redemption of `amount`, already reserved on `v`, by the provider `org`, and asks
/// the holder to confirm it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn open_redemption(
    c: &mut AnyConnection,
    actor: &Actor,
    org: &ActorOrg,
    v: &VoucherRow,
    id: &str,
    input: &RedemptionInput,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<RedemptionRow> {
    db::vouchers::insert_redemption(
        c,
        &NewRedemption {
            id,
            voucher_id: &v.id,
            program_id: &v.program_id,
            provider_org_id: &org.id,
            created_by: &actor.id,
            service_fee_fen: input.service_fee_fen,
            amount_fen: amount,
            invoice_no: &input.invoice_no,
            description: &input.description,
            status: RedemptionStatus::PendingConfirmation.as_str(),
            created_at: to_db(now),
        },
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_redemption.create", "voucher_redemption", id)
            .status(None, "pending_confirmation")
            .detail(serde_json::json!({ "voucher_id": v.id, "amount_fen": amount })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(v.enterprise_id.clone()),
        Notice::new(
            "voucher_redemption_pending",
            "创新券兑付待确认",
            format!("{} 申请使用创新券 {} 支付 {} 元服务费，请确认已接受服务。", org.name, v.code, yuan(amount)),
        )
        .about("voucher_redemption", id),
        now,
    )?;
    redemption(c, id)
}

fn redemption(c: &mut AnyConnection, id: &str) -> AppResult<RedemptionRow> {
    db::vouchers::find_redemption(c, id)?.ok_or_else(|| AppError::not_found("redemption"))
}

fn redemption_status(r: &RedemptionRow) -> AppResult<RedemptionStatus> {
    RedemptionStatus::parse(&r.status).ok_or_else(|| super::corrupt("redemption status", &r.status))
}

/// The provider, the holder enterprise and admins see a redemption.
pub fn get_redemption(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<RedemptionRow> {
    let r = redemption(c, id)?;
    let v = voucher(c, &r.voucher_id)?;
    if actor.is_admin() || actor.is_member_of(&r.provider_org_id) || actor.is_member_of(&v.enterprise_id) {
        Ok(r)
    } else {
        Err(AppError::not_found("redemption"))
    }
}

fn move_redemption(
    c: &mut AnyConnection,
    actor_id: Option<&str>,
    r: &RedemptionRow,
    action: RedemptionAction,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = redemption_status(r)?;
    let to = rules::apply_redemption(from, action)?;
    if !db::vouchers::redemption_transition(c, &r.id, from.as_str(), to.as_str(), reason, now)? {
        return Err(DomainError::transition("redemption", from.as_str(), action.as_str()).into());
    }
    let name = format!("voucher_redemption.{}", action.as_str());
    let mut change = Change::new(&name, "voucher_redemption", &r.id).status(Some(from.as_str()), to.as_str());
    if let Some(reason) = reason {
        change = change.detail(serde_json::json!({ "reason": reason }));
    }
    audit::record(c, actor_id, change, now)
}

/// The holder enterprise confirms it received the service.
pub fn confirm(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<RedemptionRow> {
    let r = get_redemption(c, actor, id)?;
    let v = voucher(c, &r.voucher_id)?;
    if !actor.is_member_of(&v.enterprise_id) {
        return Err(AppError::forbidden(Rule::HolderConfirms));
    }
    move_redemption(c, Some(&actor.id), &r, RedemptionAction::Confirm, None, now)?;
    redemption(c, id)
}

/// An admin settles (兑付) a confirmed redemption before the program's settlement deadline.
pub fn settle(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<RedemptionRow> {
    actor.require_admin()?;
    let program_id = redemption(c, id)?.program_id;
    lock_program(c, &program_id)?;
    let r = redemption(c, id)?;
    let from = redemption_status(&r)?;
    let to = rules::apply_redemption(from, RedemptionAction::Settle)?;
    let p = program(c, &r.program_id)?;
    rules::check_settlement(p.settle_by, now)?;
    settle_one(c, &r, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_redemption.settle", "voucher_redemption", &r.id).status(Some(from.as_str()), to.as_str()),
        now,
    )?;
    let v = voucher(c, &r.voucher_id)?;
    let notice = Notice::new(
        "voucher_redemption_settled",
        "创新券已兑付",
        format!("券码 {} 的 {} 元服务费已完成兑付。", v.code, yuan(r.amount_fen)),
    )
    .about("voucher_redemption", id);
    notify::send(c, Recipient::Org(r.provider_org_id.clone()), notice.clone(), now)?;
    notify::send(c, Recipient::Org(v.enterprise_id.clone()), notice, now)?;
    redemption(c, id)
}

/// Settles one confirmed redemption: `settle_redemption`, then its amount moved from reserved
/// to settled on the voucher and the program. The caller holds the program's lock, has
/// checked the settlement deadline and records the audit entry.
fn settle_one(c: &mut AnyConnection, r: &RedemptionRow, now: DateTime<Utc>) -> AppResult<()> {
    settle_redemption(c, r, None, now)?;
    settle_on_voucher(c, &r.voucher_id, r.amount_fen)?;
    db::vouchers::program_settle(c, &r.program_id, r.amount_fen)?;
    Ok(())
}

/// The per-redemption half of settling: guarded `confirmed → settled` (naming `batch_id`)
/// and the ledger's `settle` row. The balances follow: `settle_on_voucher` and
/// `db::vouchers::program_settle` (a batch sums them per voucher and per program).
pub(crate) fn settle_redemption(
    c: &mut AnyConnection,
    r: &RedemptionRow,
    batch_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !db::vouchers::redemption_settle(c, &r.id, batch_id, now)? {
        return Err(DomainError::transition("redemption", &r.status, RedemptionAction::Settle.as_str()).into());
    }
    db::vouchers::add_ledger(
        c,
        &r.program_id,
        &r.voucher_id,
        Some(&r.id),
        LedgerKind::Settle.as_str(),
        r.amount_fen,
        now,
    )
}

/// Moves `amount` of a voucher's reservations to settled.
pub(crate) fn settle_on_voucher(c: &mut AnyConnection, voucher_id: &str, amount: i64) -> AppResult<()> {
    if !db::vouchers::voucher_settle(c, voucher_id, amount)? {
        return Err(AppError::internal(anyhow::anyhow!("voucher {voucher_id} reserved less than {amount} to settle")));
    }
    Ok(())
}

/// An admin rejects a redemption: its reservation goes back to the voucher (or, if the
/// voucher has closed meanwhile, to the program).
pub fn reject_redemption(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<RedemptionRow> {
    if let Some(a) = actor {
        a.require_admin()?;
    }
    let program_id = redemption(c, id)?.program_id;
    lock_program(c, &program_id)?;
    let r = redemption(c, id)?;
    move_redemption(c, actor.map(|a| a.id.as_str()), &r, RedemptionAction::Reject, Some(reason), now)?;
    release_reservation(c, &r, now)?;
    let v = voucher(c, &r.voucher_id)?;
    let notice = Notice::new("voucher_redemption_rejected", "创新券兑付被驳回", format!("券码 {}：{reason}", v.code))
        .about("voucher_redemption", id);
    notify::send(c, Recipient::Org(r.provider_org_id.clone()), notice.clone(), now)?;
    notify::send(c, Recipient::Org(v.enterprise_id.clone()), notice, now)?;
    redemption(c, id)
}

fn release_reservation(c: &mut AnyConnection, r: &RedemptionRow, now: DateTime<Utc>) -> AppResult<()> {
    release(c, &r.voucher_id, Some(&r.id), r.amount_fen, now)
}

/// Gives a reservation of `amount` back: to the voucher's balance, or, if the voucher has
/// closed meanwhile, to its program. `redemption_id` names the redemption that held it
/// (None for a reservation held by an instrument booking). Callers hold the program's lock.
pub(crate) fn release(
    c: &mut AnyConnection,
    voucher_id: &str,
    redemption_id: Option<&str>,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let v = voucher(c, voucher_id)?;
    let status = VoucherStatus::parse(&v.status).ok_or_else(|| super::corrupt("voucher status", &v.status))?;
    db::vouchers::add_ledger(c, &v.program_id, &v.id, redemption_id, LedgerKind::Release.as_str(), amount, now)?;
    let short = || AppError::internal(anyhow::anyhow!("voucher {} reserved less than {amount} to release", v.id));
    match status {
        VoucherStatus::Active | VoucherStatus::Exhausted => {
            if !db::vouchers::voucher_release(c, &v.id, amount)? {
                return Err(short());
            }
        }
        closed => {
            // The voucher has expired or been revoked: the money goes home to the program.
            if !db::vouchers::voucher_return_reserved(c, &v.id, amount)? {
                return Err(short());
            }
            let kind = if closed == VoucherStatus::Revoked { LedgerKind::Revoke } else { LedgerKind::Expire };
            give_back(c, &v, amount, kind, now)?;
        }
    }
    Ok(())
}

/// Returns `amount` of a voucher's money to its program and the enterprise's cap.
fn give_back(
    c: &mut AnyConnection,
    v: &VoucherRow,
    amount: i64,
    kind: LedgerKind,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if amount == 0 {
        return Ok(());
    }
    db::vouchers::program_release(c, &v.program_id, amount)?;
    db::vouchers::enterprise_sub(c, &v.program_id, &v.enterprise_id, amount)?;
    db::vouchers::add_ledger(c, &v.program_id, &v.id, None, kind.as_str(), amount, now)
}

/// Closes a voucher (revoke or expire): its unreserved balance returns to the program;
/// open reservations stay and can still be settled or rejected.
fn close_voucher(
    c: &mut AnyConnection,
    v: &VoucherRow,
    to: VoucherStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = VoucherStatus::parse(&v.status).ok_or_else(|| super::corrupt("voucher status", &v.status))?;
    if !rules::can_close(from) {
        return Err(DomainError::transition(
            "voucher",
            from.as_str(),
            if to == VoucherStatus::Revoked { "revoke" } else { "expire" },
        )
        .into());
    }
    if !db::vouchers::voucher_close(c, &v.id, from.as_str(), to.as_str(), v.balance_fen, reason)? {
        return Err(DomainError::new(ErrorCode::Conflict, Rule::VoucherChanged).into());
    }
    let kind = if to == VoucherStatus::Revoked { LedgerKind::Revoke } else { LedgerKind::Expire };
    give_back(c, v, v.balance_fen, kind, now)
}

pub fn revoke(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<VoucherRow> {
    actor.require_admin()?;
    let program_id = voucher(c, id)?.program_id;
    lock_program(c, &program_id)?;
    let v = voucher(c, id)?;
    close_voucher(c, &v, VoucherStatus::Revoked, Some(reason), now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher.revoke", "voucher", id)
            .status(Some(&v.status), "revoked")
            .detail(serde_json::json!({ "reason": reason, "returned_fen": v.balance_fen })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(v.enterprise_id.clone()),
        Notice::new("voucher_revoked", "创新券已被收回", format!("券码 {}：{reason}", v.code)).about("voucher", id),
        now,
    )?;
    voucher(c, id)
}

/// Job body: expire one voucher if its time has come.
pub fn expire(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<()> {
    let Some(found) = db::vouchers::find_voucher(c, id)? else { return Ok(()) };
    lock_program(c, &found.program_id)?;
    let v = voucher(c, id)?;
    let status = VoucherStatus::parse(&v.status).ok_or_else(|| super::corrupt("voucher status", &v.status))?;
    if !rules::can_close(status) || from_db(v.expires_at) > now {
        return Ok(());
    }
    close_voucher(c, &v, VoucherStatus::Expired, None, now)?;
    audit::record(
        c,
        None,
        Change::new("voucher.expire", "voucher", id)
            .status(Some(&v.status), "expired")
            .detail(serde_json::json!({ "returned_fen": v.balance_fen })),
        now,
    )
}

/// Job body: after a program's settlement deadline, open redemptions are rejected and their
/// reservations return.
pub fn close_settlement(c: &mut AnyConnection, program_id: &str, now: DateTime<Utc>) -> AppResult<usize> {
    lock_program(c, program_id)?;
    let p = program(c, program_id)?;
    if rules::check_settlement(p.settle_by, now).is_ok() {
        return Ok(0);
    }
    let open = db::vouchers::open_redemptions(c, program_id)?;
    for r in &open {
        reject_redemption(c, None, &r.id, "结算期已截止，未完成兑付", now)?;
    }
    Ok(open.len())
}

pub fn redemptions(
    c: &mut AnyConnection,
    actor: &Actor,
    status: Option<RedemptionStatus>,
    page: Page,
) -> AppResult<(Vec<RedemptionRow>, i64)> {
    let status = status.map(RedemptionStatus::as_str);
    if actor.is_admin() {
        return db::vouchers::list_redemptions(c, None, None, status, page.offset(), page.limit());
    }
    let Some(org) = &actor.org else { return Ok((Vec::new(), 0)) };
    if org.kind == OrgKind::ServiceProvider {
        return db::vouchers::list_redemptions(c, Some(&org.id), None, status, page.offset(), page.limit());
    }
    let (held, _) = db::vouchers::list_vouchers(c, Some(&org.id), None, 0, 10_000)?;
    let ids: Vec<String> = held.into_iter().map(|v| v.id).collect();
    db::vouchers::list_redemptions(c, None, Some(&ids), status, page.offset(), page.limit())
}

/// The program's totals, computed from the ledger (and checked against the balances by tests).
pub struct Summary {
    pub total_budget_fen: i64,
    pub issued_fen: i64,
    pub reserved_fen: i64,
    pub settled_fen: i64,
    pub released_fen: i64,
    pub remaining_fen: i64,
}

pub fn summary(c: &mut AnyConnection, actor: &Actor, program_id: &str) -> AppResult<Summary> {
    actor.require_admin()?;
    let p = program(c, program_id)?;
    // Ledger sums are bounded by the budget (≤ 10^15 fen); they are combined in i128 and
    // narrowed once, so even a corrupt ledger reads as a clamped figure, never a 500.
    let sum =
        |c: &mut AnyConnection, k: LedgerKind| db::vouchers::ledger_sum(c, program_id, k.as_str()).map(i128::from);
    let issued = sum(c, LedgerKind::Issue)?;
    let reserve = sum(c, LedgerKind::Reserve)?;
    let release = sum(c, LedgerKind::Release)?;
    let settled = sum(c, LedgerKind::Settle)?;
    let released = sum(c, LedgerKind::Expire)? + sum(c, LedgerKind::Revoke)?;
    let budget = i128::from(p.total_budget_fen);
    Ok(Summary {
        total_budget_fen: p.total_budget_fen,
        issued_fen: saturate(issued),
        reserved_fen: saturate(reserve - release - settled),
        settled_fen: saturate(settled),
        released_fen: saturate(released),
        remaining_fen: saturate(budget - issued + released),
    })
}

pub fn ledger(
    c: &mut AnyConnection,
    actor: &Actor,
    program_id: &str,
    page: Page,
) -> AppResult<(Vec<db::vouchers::LedgerRow>, i64)> {
    actor.require_admin()?;
    program(c, program_id)?;
    db::vouchers::ledger(c, program_id, page.offset(), page.limit())
}
