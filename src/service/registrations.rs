//! 技术合同认定登记 as a workflow. The seller files a signed contract with the signed text and
//! the declared 技术交易额; a registrar of the seller's region (a platform administrator, or a
//! member of a verified government organization designated as the region's registration
//! office) asks for supplements, accepts, approves with the registered amount and number, or
//! refuses; an approved registration may be amended or cancelled. Approval moves the contract
//! `signed → registered` exactly as the one-step administrator path does, cancellation moves
//! it back.
//!
//! Who sees what: the contract's parties, the registrars of the registration's region and
//! administrators see it; anyone else (a registrar of another region included) gets 404, as
//! for any record they cannot see. Someone who sees it but may not take the action gets 403.

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::RegistrationSettings;
use crate::db::contracts::ContractRow;
use crate::db::registrations::{Changes, OfficeRow, RegistrationRow, StepRow};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::contract::ContractStatus;
use crate::domain::error::{DomainError, ErrorCode, Message, Rule, Validator};
use crate::domain::file::{Purpose, RecordType};
use crate::domain::organization::{OrgKind, OrgStatus, is_region};
use crate::domain::registration::{self as rules, RegistrationAction, RegistrationStatus};
use crate::domain::voucher::{end_of_shanghai_day, shanghai_date};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::files::AttachmentRef;
use super::notify::{self, Notice, Recipient};
use super::{Actor, new_id};

/// A registration with its history.
pub struct View {
    pub row: RegistrationRow,
    pub steps: Vec<StepRow>,
    /// The review deadline has passed while the office holds the file.
    pub overdue: bool,
}

fn status_of(row: &RegistrationRow) -> AppResult<RegistrationStatus> {
    RegistrationStatus::parse(&row.status).ok_or_else(|| super::corrupt("registration status", &row.status))
}

/// An administrator, or a member of a verified government organization that is a
/// registration office for `region`.
pub fn is_registrar(c: &mut AnyConnection, actor: &Actor, region: &str) -> AppResult<bool> {
    if actor.is_admin() {
        return Ok(true);
    }
    match &actor.org {
        Some(org) if org.kind == OrgKind::Government && org.status == OrgStatus::Verified => {
            db::registrations::is_office(c, &org.id, region)
        }
        _ => Ok(false),
    }
}

fn is_party(actor: &Actor, contract: &ContractRow) -> bool {
    actor.is_member_of(&contract.seller_org_id) || actor.is_member_of(&contract.buyer_org_id)
}

/// What the actor may do with a contract's current registration.
struct Access {
    contract: ContractRow,
    registration: RegistrationRow,
    registrar: bool,
}

/// The contract and its latest registration, if the actor may see them: the parties,
/// administrators and the registrars of the registration's region. Others: 404.
fn access(c: &mut AnyConnection, actor: &Actor, contract_id: &str) -> AppResult<Access> {
    let contract = db::contracts::find(c, contract_id)?.ok_or_else(|| AppError::not_found("contract"))?;
    let registration = db::registrations::latest_of(c, contract_id)?;
    let registrar = match &registration {
        Some(r) => is_registrar(c, actor, &r.region)?,
        None => actor.is_admin(),
    };
    if !registrar && !is_party(actor, &contract) {
        return Err(AppError::not_found("contract"));
    }
    let registration = registration.ok_or_else(|| AppError::not_found("registration"))?;
    Ok(Access { contract, registration, registrar })
}

/// For a change: the contract row is locked first (lock order: contract → registration), so
/// changes to one contract's registration run one at a time.
fn access_for_change(c: &mut AnyConnection, actor: &Actor, contract_id: &str) -> AppResult<Access> {
    db::lock::lock(c, db::lock::Root::Contract, contract_id)?;
    access(c, actor, contract_id)
}

fn view(c: &mut AnyConnection, row: RegistrationRow, now: DateTime<Utc>) -> AppResult<View> {
    let steps = db::registrations::steps_of(c, &row.id)?;
    let overdue = rules::is_overdue(status_of(&row)?, row.due_on, shanghai_date(now));
    Ok(View { row, steps, overdue })
}

fn reload(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<View> {
    let row = db::registrations::find(c, id)?.ok_or_else(|| AppError::not_found("registration"))?;
    view(c, row, now)
}

pub fn get(c: &mut AnyConnection, actor: &Actor, contract_id: &str, now: DateTime<Utc>) -> AppResult<View> {
    let a = access(c, actor, contract_id)?;
    view(c, a.registration, now)
}

/// Whether `actor` may read a registration's attachments (the parties, its registrars).
pub fn may_read(c: &mut AnyConnection, actor: &Actor, registration_id: &str) -> AppResult<bool> {
    let Some(row) = db::registrations::find(c, registration_id)? else { return Ok(false) };
    let Some(contract) = db::contracts::find(c, &row.contract_id)? else { return Ok(false) };
    Ok(is_party(actor, &contract) || is_registrar(c, actor, &row.region)?)
}

/// Appends a step to the registration's history and the audit log.
#[allow(clippy::too_many_arguments)]
fn step(
    c: &mut AnyConnection,
    actor: &Actor,
    registration_id: &str,
    action: &str,
    from: Option<RegistrationStatus>,
    to: RegistrationStatus,
    note: Option<&str>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let seq = db::registrations::next_seq(c, registration_id)?;
    db::registrations::insert_step(
        c,
        &StepRow {
            id: uuid::Uuid::now_v7().to_string(),
            registration_id: registration_id.to_owned(),
            seq,
            action: action.to_owned(),
            from_status: from.map(|s| s.as_str().to_owned()),
            to_status: to.as_str().to_owned(),
            actor_id: actor.id.clone(),
            note: note.map(str::to_owned),
            detail: detail.to_string(),
            created_at: to_db(now),
        },
    )?;
    let name = format!("registration.{action}");
    let mut detail = detail;
    if let Some(note) = note {
        detail["note"] = serde_json::json!(note);
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new(&name, "registration", registration_id)
            .status(from.map(RegistrationStatus::as_str), to.as_str())
            .detail(detail),
        now,
    )
}

/// The review deadline of a filing made `now` for a contract of `amount_fen`, and the job
/// that tells the office when it passes.
fn start_clock(
    c: &mut AnyConnection,
    registration_id: &str,
    amount_fen: i64,
    settings: &RegistrationSettings,
    now: DateTime<Utc>,
) -> AppResult<NaiveDate> {
    let due = rules::due_on(shanghai_date(now), settings.days_for(amount_fen), &settings.holidays);
    jobs::schedule(
        c,
        &Job::RegistrationOverdue { registration_id: registration_id.to_owned() },
        end_of_shanghai_day(due),
        &format!("registration_overdue:{registration_id}:{due}"),
    )?;
    Ok(due)
}

/// Who handles a region's registrations: its offices' members, or the administrators where
/// the region has no office.
fn registrars_of(c: &mut AnyConnection, region: &str) -> AppResult<Vec<Recipient>> {
    let offices = db::registrations::office_orgs(c, region)?;
    if offices.is_empty() {
        Ok(db::registrations::admin_ids(c)?.into_iter().map(Recipient::User).collect())
    } else {
        Ok(offices.into_iter().map(Recipient::Org).collect())
    }
}

fn tell_registrars(c: &mut AnyConnection, region: &str, notice: Notice, now: DateTime<Utc>) -> AppResult<()> {
    for to in registrars_of(c, region)? {
        notify::send(c, to, notice.clone(), now)?;
    }
    Ok(())
}

fn tell_seller(c: &mut AnyConnection, contract: &ContractRow, notice: Notice, now: DateTime<Utc>) -> AppResult<()> {
    notify::send(c, Recipient::Org(contract.seller_org_id.clone()), notice.about("contract", &contract.id), now)
}

/// A filing: the signed contract's text and the declared amount.
pub struct Filing {
    pub declared_amount_fen: i64,
    pub note: String,
    pub attachments: Vec<AttachmentRef>,
}

/// The seller files the registration of a signed contract.
pub fn file(
    c: &mut AnyConnection,
    actor: &Actor,
    contract_id: &str,
    filing: &Filing,
    settings: &RegistrationSettings,
    now: DateTime<Utc>,
) -> AppResult<View> {
    db::lock::lock(c, db::lock::Root::Contract, contract_id)?;
    let contract = db::contracts::find(c, contract_id)?
        .filter(|k| is_party(actor, k) || actor.is_admin())
        .ok_or_else(|| AppError::not_found("contract"))?;
    if !actor.is_member_of(&contract.seller_org_id) {
        return Err(AppError::forbidden(Rule::SellerFilesRegistration));
    }
    actor.require_verified_org()?;
    if contract.status != ContractStatus::Signed.as_str() {
        return Err(DomainError::transition("contract", &contract.status, "file_registration").into());
    }
    super::contracts::check_registered_amount(&contract, filing.declared_amount_fen, "declared_amount_fen")?;
    if !filing.attachments.iter().any(|a| a.purpose == Purpose::SignedContract) {
        let message = Message::rule(Rule::MissingAttachment).arg("purpose", Purpose::SignedContract.as_str());
        let mut err = DomainError::new(ErrorCode::MissingAttachments, message.clone());
        err.errors.insert("attachments".to_owned(), vec![message]);
        return Err(err.into());
    }
    if db::registrations::latest_of(c, contract_id)?
        .is_some_and(|r| RegistrationStatus::parse(&r.status).is_some_and(RegistrationStatus::is_open))
    {
        return Err(AppError::new(ErrorCode::Conflict, Rule::RegistrationOpen));
    }
    let region = db::organizations::find(c, &contract.seller_org_id)?
        .map(|o| o.region)
        .ok_or_else(|| super::corrupt("contract seller", &contract.seller_org_id))?;
    let id = uuid::Uuid::now_v7().to_string();
    let due_on = start_clock(c, &id, contract.amount_fen, settings, now)?;
    let row = RegistrationRow {
        id: id.clone(),
        contract_id: contract_id.to_owned(),
        region: region.clone(),
        status: RegistrationStatus::Filed.as_str().to_owned(),
        declared_amount_fen: filing.declared_amount_fen,
        registered_amount_fen: None,
        registration_no: None,
        note: filing.note.clone(),
        filed_by: actor.id.clone(),
        filed_at: to_db(now),
        due_on,
        overdue_notified_at: None,
        reason: None,
        decided_by: None,
        decided_at: None,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    // The unique index on live registrations decides between concurrent filings.
    db::registrations::insert(c, &row)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::RegistrationOpen))?;
    super::files::attach(c, actor, RecordType::Registration, &id, &filing.attachments, "attachments", now)?;
    let detail = serde_json::json!({
        "contract_id": contract_id,
        "declared_amount_fen": filing.declared_amount_fen,
        "region": region,
        "due_on": due_on,
    });
    let note = Some(filing.note.as_str()).filter(|n| !n.is_empty());
    step(c, actor, &id, "file", None, RegistrationStatus::Filed, note, detail, now)?;
    let notice = Notice::new(
        "registration_filed",
        format!("新的技术合同认定登记申请：{}", contract.title),
        format!("申报技术交易额 {} 分，请于 {due_on} 前办理。", filing.declared_amount_fen),
    )
    .about("contract", contract_id);
    tell_registrars(c, &region, notice, now)?;
    reload(c, &id, now)
}

/// The seller's answer to a supplement request: more documents (and a note). The registration
/// is `filed` again and the review clock restarts.
pub fn supplement(
    c: &mut AnyConnection,
    actor: &Actor,
    contract_id: &str,
    attachments: &[AttachmentRef],
    note: &str,
    settings: &RegistrationSettings,
    now: DateTime<Utc>,
) -> AppResult<View> {
    let a = access_for_change(c, actor, contract_id)?;
    if !actor.is_member_of(&a.contract.seller_org_id) {
        return Err(AppError::forbidden(Rule::SellerFilesRegistration));
    }
    let from = status_of(&a.registration)?;
    let to = rules::apply(from, RegistrationAction::Supplement)?;
    if attachments.is_empty() {
        return Err(AppError::field("attachments", Rule::Required));
    }
    let id = a.registration.id.as_str();
    let due_on = start_clock(c, id, a.contract.amount_fen, settings, now)?;
    let changes =
        Changes { status: Some(to.as_str()), filed_at: Some(to_db(now)), due_on: Some(due_on), ..Changes::default() };
    if !db::registrations::update(c, id, from.as_str(), &changes, now)? {
        return Err(DomainError::transition("registration", from.as_str(), "supplement").into());
    }
    super::files::attach(c, actor, RecordType::Registration, id, attachments, "attachments", now)?;
    let note = Some(note).filter(|n| !n.is_empty());
    let detail =
        serde_json::json!({ "files": attachments.iter().map(|f| &f.file_id).collect::<Vec<_>>(), "due_on": due_on });
    step(c, actor, id, "supplement", Some(from), to, note, detail, now)?;
    let notice = Notice::new(
        "registration_supplemented",
        format!("认定登记申请已补正：{}", a.contract.title),
        format!("请于 {due_on} 前办理。"),
    )
    .about("contract", contract_id);
    tell_registrars(c, &a.registration.region, notice, now)?;
    reload(c, id, now)
}

/// A registrar's decision on the registration.
#[derive(Debug, Clone)]
pub enum Decision {
    RequestSupplement { reason: String },
    Accept,
    Approve { registered_amount_fen: i64, registration_no: Option<String> },
    Refuse { reason: String },
    Amend { registered_amount_fen: Option<i64>, registration_no: Option<String>, reason: String },
    Cancel { reason: String },
}

impl Decision {
    fn action(&self) -> RegistrationAction {
        match self {
            Self::RequestSupplement { .. } => RegistrationAction::RequestSupplement,
            Self::Accept => RegistrationAction::Accept,
            Self::Approve { .. } => RegistrationAction::Approve,
            Self::Refuse { .. } => RegistrationAction::Refuse,
            Self::Amend { .. } => RegistrationAction::Amend,
            Self::Cancel { .. } => RegistrationAction::Cancel,
        }
    }
}

/// A registration number an office gives: the platform's form (`2026-000123`), not in use.
/// Without one, the next number of the year is issued.
fn number_for(c: &mut AnyConnection, given: Option<&str>, now: DateTime<Utc>) -> AppResult<String> {
    let Some(number) = given else { return super::contracts::allocate_registration_no(c, now) };
    let max_year = rules::max_registration_year(shanghai_date(now));
    if rules::parse_registration_no(number, max_year).is_none() {
        return Err(AppError::field("registration_no", Rule::RegistrationNumber));
    }
    if db::registrations::number_taken(c, number)? {
        return Err(AppError::new(ErrorCode::Conflict, Rule::RegistrationNumberTaken));
    }
    Ok(number.to_owned())
}

fn guarded(
    c: &mut AnyConnection,
    id: &str,
    from: RegistrationStatus,
    action: RegistrationAction,
    changes: &Changes<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let updated = db::registrations::update(c, id, from.as_str(), changes, now)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::RegistrationNumberTaken))?;
    if updated { Ok(()) } else { Err(DomainError::transition("registration", from.as_str(), action.as_str()).into()) }
}

/// A registrar of the registration's region decides.
pub fn decide(
    c: &mut AnyConnection,
    actor: &Actor,
    contract_id: &str,
    decision: Decision,
    now: DateTime<Utc>,
) -> AppResult<View> {
    let a = access_for_change(c, actor, contract_id)?;
    if !a.registrar {
        return Err(AppError::forbidden(Rule::RegistrarsOnly));
    }
    let action = decision.action();
    let from = status_of(&a.registration)?;
    let to = rules::apply(from, action)?;
    let (reg, contract) = (&a.registration, &a.contract);
    let id = reg.id.as_str();
    let decided = Changes {
        status: Some(to.as_str()),
        decided_by: Some(&actor.id),
        decided_at: Some(to_db(now)),
        ..Changes::default()
    };
    match &decision {
        Decision::RequestSupplement { reason } => {
            guarded(c, id, from, action, &Changes { reason: Some(reason), ..decided }, now)?;
            step(c, actor, id, action.as_str(), Some(from), to, Some(reason), serde_json::json!({}), now)?;
            let notice = Notice::new(
                "registration_supplement_requested",
                format!("认定登记需补正材料：{}", contract.title),
                format!("登记机构要求补正：{reason}"),
            );
            tell_seller(c, contract, notice, now)?;
        }
        Decision::Accept => {
            guarded(c, id, from, action, &Changes { status: Some(to.as_str()), ..Changes::default() }, now)?;
            step(c, actor, id, action.as_str(), Some(from), to, None, serde_json::json!({}), now)?;
        }
        Decision::Approve { registered_amount_fen, registration_no } => {
            let amount = *registered_amount_fen;
            super::contracts::check_registered_amount(contract, amount, "registered_amount_fen")?;
            let number = number_for(c, registration_no.as_deref(), now)?;
            let changes = Changes { registered_amount_fen: Some(amount), registration_no: Some(&number), ..decided };
            guarded(c, id, from, action, &changes, now)?;
            super::contracts::mark_registered(c, actor, contract, &number, amount, now)?;
            let detail = serde_json::json!({ "registered_amount_fen": amount, "registration_no": number });
            step(c, actor, id, action.as_str(), Some(from), to, None, detail, now)?;
        }
        Decision::Refuse { reason } => {
            guarded(c, id, from, action, &Changes { reason: Some(reason), ..decided }, now)?;
            step(c, actor, id, action.as_str(), Some(from), to, Some(reason), serde_json::json!({}), now)?;
            let notice = Notice::new(
                "registration_refused",
                format!("技术合同未予登记：{}", contract.title),
                format!("原因：{reason}。可补充材料后重新申请。"),
            );
            tell_seller(c, contract, notice, now)?;
        }
        Decision::Amend { registered_amount_fen, registration_no, reason } => {
            amend(c, actor, &a, *registered_amount_fen, registration_no.as_deref(), reason, now)?;
        }
        Decision::Cancel { reason } => {
            guarded(c, id, from, action, &Changes { reason: Some(reason), ..decided }, now)?;
            super::contracts::mark_deregistered(c, actor, contract, reason, now)?;
            let detail = serde_json::json!({ "registration_no": reg.registration_no });
            step(c, actor, id, action.as_str(), Some(from), to, Some(reason), detail, now)?;
        }
    }
    reload(c, id, now)
}

/// Corrects an approved registration's amount or number (on the contract too); the history
/// keeps what it was before.
fn amend(
    c: &mut AnyConnection,
    actor: &Actor,
    a: &Access,
    amount: Option<i64>,
    number: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (reg, contract) = (&a.registration, &a.contract);
    if amount.is_none() && number.is_none() {
        let mut v = Validator::new();
        v.add("registered_amount_fen", Rule::RegistrationAmendNothing)
            .add("registration_no", Rule::RegistrationAmendNothing);
        v.finish()?;
    }
    let old_amount = reg.registered_amount_fen.ok_or_else(|| super::corrupt("approved amount", &reg.id))?;
    let old_number = reg.registration_no.clone().ok_or_else(|| super::corrupt("approved number", &reg.id))?;
    let new_amount = amount.unwrap_or(old_amount);
    super::contracts::check_registered_amount(contract, new_amount, "registered_amount_fen")?;
    let new_number = match number {
        Some(n) if n != old_number => number_for(c, Some(n), now)?,
        _ => old_number.clone(),
    };
    let changes =
        Changes { registered_amount_fen: Some(new_amount), registration_no: Some(&new_number), ..Changes::default() };
    guarded(c, &reg.id, RegistrationStatus::Approved, RegistrationAction::Amend, &changes, now)?;
    let on_contract = db::contracts::amend_registration(c, &contract.id, &old_number, &new_number, new_amount, now)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::RegistrationNumberTaken))?;
    if !on_contract {
        return Err(super::corrupt("registered contract", &contract.id));
    }
    let detail = serde_json::json!({
        "before": { "registered_amount_fen": old_amount, "registration_no": old_number },
        "after": { "registered_amount_fen": new_amount, "registration_no": new_number },
    });
    let approved = RegistrationStatus::Approved;
    step(c, actor, &reg.id, "amend", Some(approved), approved, Some(reason), detail, now)
}

/// The one-step administrator path (`POST /admin/contracts/{id}/register`) recorded as an
/// approved registration: the contract's open registration is approved, or one is created.
pub fn record_one_step(
    c: &mut AnyConnection,
    actor: &Actor,
    contract: &ContractRow,
    number: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let approved = RegistrationStatus::Approved;
    let detail = serde_json::json!({ "registered_amount_fen": amount, "registration_no": number, "one_step": true });
    let open = db::registrations::latest_of(c, &contract.id)?
        .filter(|r| RegistrationStatus::parse(&r.status).is_some_and(RegistrationStatus::is_open));
    if let Some(open) = open {
        let from = status_of(&open)?;
        let changes = Changes {
            status: Some(approved.as_str()),
            registered_amount_fen: Some(amount),
            registration_no: Some(number),
            decided_by: Some(&actor.id),
            decided_at: Some(to_db(now)),
            ..Changes::default()
        };
        guarded(c, &open.id, from, RegistrationAction::Approve, &changes, now)?;
        return step(c, actor, &open.id, "register", Some(from), approved, None, detail, now);
    }
    let region = db::organizations::find(c, &contract.seller_org_id)?.map(|o| o.region).unwrap_or_default();
    let id = uuid::Uuid::now_v7().to_string();
    let row = RegistrationRow {
        id: id.clone(),
        contract_id: contract.id.clone(),
        region,
        status: approved.as_str().to_owned(),
        declared_amount_fen: amount,
        registered_amount_fen: Some(amount),
        registration_no: Some(number.to_owned()),
        note: String::new(),
        filed_by: actor.id.clone(),
        filed_at: to_db(now),
        due_on: shanghai_date(now),
        overdue_notified_at: None,
        reason: None,
        decided_by: Some(actor.id.clone()),
        decided_at: Some(to_db(now)),
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    db::registrations::insert(c, &row)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::RegistrationOpen))?;
    step(c, actor, &id, "register", None, approved, None, detail, now)
}

/// The overdue job: tells the registrars (once per registration) that a review passed its
/// deadline. Nothing happens if the registration left review or its clock was restarted.
pub fn notify_overdue(c: &mut AnyConnection, registration_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let Some(row) = db::registrations::find(c, registration_id)? else { return Ok(false) };
    if !rules::is_overdue(status_of(&row)?, row.due_on, shanghai_date(now)) {
        return Ok(false);
    }
    if !db::registrations::mark_overdue_notified(c, registration_id, now)? {
        return Ok(false);
    }
    let title = db::contracts::find(c, &row.contract_id)?.map(|k| k.title).unwrap_or_default();
    let notice = Notice::new(
        "registration_overdue",
        format!("认定登记办理已超期：{title}"),
        format!("审查期限为 {}，请尽快办理。", row.due_on),
    )
    .about("contract", &row.contract_id);
    tell_registrars(c, &row.region, notice, now)?;
    audit::record(
        c,
        None,
        Change::new("registration.overdue", "registration", registration_id)
            .detail(serde_json::json!({ "due_on": row.due_on })),
        now,
    )?;
    Ok(true)
}

/// An administrator designates a verified government organization as the registration office
/// of a province-level region.
pub fn designate_office(
    c: &mut AnyConnection,
    actor: &Actor,
    org_id: &str,
    region: &str,
    now: DateTime<Utc>,
) -> AppResult<OfficeRow> {
    actor.require_admin()?;
    let mut v = Validator::new();
    v.check(is_region(region), "region", Rule::Region);
    let org = db::organizations::find(c, org_id)?;
    let government = org
        .as_ref()
        .is_some_and(|o| o.kind == OrgKind::Government.as_str() && o.status == OrgStatus::Verified.as_str());
    v.check(government, "org_id", Rule::VerifiedGovernment);
    v.finish()?;
    let row = OfficeRow {
        id: new_id(),
        org_id: org_id.to_owned(),
        region: region.to_owned(),
        created_by: actor.id.clone(),
        created_at: to_db(now),
    };
    db::registrations::insert_office(c, &row)
        .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::OfficeExists))?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("registration_office.create", "organization", org_id)
            .detail(serde_json::json!({ "office_id": row.id, "region": region })),
        now,
    )?;
    Ok(row)
}
