//! 科技资源开放共享: service providers open instruments to other organizations, which book
//! time slots (no two live bookings of one instrument overlap), may pay with an innovation
//! voucher for instrument sharing (the covered share is reserved at booking and becomes a
//! redemption on completion), and lose booking rights after repeated no-shows. Usage figures
//! (booked hours, utilization, enterprises served) are what sharing programs are assessed on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::InstrumentSettings;
use crate::db::instruments::{BookingChange, BookingFilter, BookingRow, InstrumentFilter, InstrumentRow};
use crate::db::lock::{self, Root};
use crate::db::time::{from_db, to_db};
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::instrument::{self as rules, BookingAction, BookingStatus, Fees, InstrumentStatus};
use crate::domain::organization::{OrgKind, ServiceCategory};
use crate::domain::voucher::{LedgerKind, end_of_shanghai_day};
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::vouchers::{self, RedemptionInput};
use super::{Actor, Page, integrity, new_id};

/// What a provider says about an instrument (create, or the whole of an edit).
#[derive(Debug, Clone)]
pub struct InstrumentInput {
    pub name: String,
    pub model: String,
    pub category: String,
    pub location: String,
    pub region: String,
    pub description: String,
    pub fee_per_hour_fen: Option<i64>,
    pub fee_per_sample_fen: Option<i64>,
    pub accessories: String,
    pub open_hours: String,
    pub weekly_open_hours: i32,
    pub training_required: bool,
    pub status: InstrumentStatus,
}

impl InstrumentInput {
    pub fn of(row: &InstrumentRow) -> AppResult<Self> {
        Ok(Self {
            name: row.name.clone(),
            model: row.model.clone(),
            category: row.category.clone(),
            location: row.location.clone(),
            region: row.region.clone(),
            description: row.description.clone(),
            fee_per_hour_fen: row.fee_per_hour_fen,
            fee_per_sample_fen: row.fee_per_sample_fen,
            accessories: row.accessories.clone(),
            open_hours: row.open_hours.clone(),
            weekly_open_hours: row.weekly_open_hours,
            training_required: row.training_required,
            status: instrument_status(row)?,
        })
    }

    fn check(&self) -> AppResult<()> {
        if self.fee_per_hour_fen.is_none() && self.fee_per_sample_fen.is_none() {
            return Err(AppError::field("fee_per_hour_fen", Rule::InstrumentFee));
        }
        Ok(())
    }
}

fn instrument_status(row: &InstrumentRow) -> AppResult<InstrumentStatus> {
    InstrumentStatus::parse(&row.status).ok_or_else(|| super::corrupt("instrument status", &row.status))
}

fn booking_status(row: &BookingRow) -> AppResult<BookingStatus> {
    BookingStatus::parse(&row.status).ok_or_else(|| super::corrupt("booking status", &row.status))
}

fn instrument(c: &mut AnyConnection, id: &str) -> AppResult<InstrumentRow> {
    db::instruments::find(c, id)?.ok_or_else(|| AppError::not_found("instrument"))
}

fn booking(c: &mut AnyConnection, id: &str) -> AppResult<BookingRow> {
    db::instruments::find_booking(c, id)?.ok_or_else(|| AppError::not_found("booking"))
}

/// A member of a verified service provider lists an instrument of its organization.
pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    input: InstrumentInput,
    now: DateTime<Utc>,
) -> AppResult<InstrumentRow> {
    let org = actor.require_verified_org()?;
    if org.kind != OrgKind::ServiceProvider {
        return Err(AppError::forbidden(Rule::InstrumentListers));
    }
    integrity::require_not_vetoed(c, actor, now)?;
    input.check()?;
    let row = InstrumentRow {
        id: new_id(),
        org_id: org.id.clone(),
        name: input.name,
        model: input.model,
        category: input.category,
        location: input.location,
        region: input.region,
        description: input.description,
        fee_per_hour_fen: input.fee_per_hour_fen,
        fee_per_sample_fen: input.fee_per_sample_fen,
        accessories: input.accessories,
        open_hours: input.open_hours,
        weekly_open_hours: input.weekly_open_hours,
        training_required: input.training_required,
        status: input.status.as_str().to_owned(),
        created_by: actor.id.clone(),
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    db::instruments::insert(c, &row)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("instrument.create", "instrument", &row.id).status(None, &row.status),
        now,
    )?;
    Ok(row)
}

/// Anyone reads an instrument.
pub fn get(c: &mut AnyConnection, id: &str) -> AppResult<InstrumentRow> {
    instrument(c, id)
}

/// The owning organization's members (and admins) edit an instrument; `edit` receives the
/// current fields and changes what the request names.
pub fn update(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    edit: impl FnOnce(&mut InstrumentInput),
    now: DateTime<Utc>,
) -> AppResult<InstrumentRow> {
    let row = instrument(c, id)?;
    if !actor.is_member_of(&row.org_id) && !actor.is_admin() {
        return Err(AppError::forbidden(Message::rule(Rule::InstrumentOwnerOnly).word("action", "edit")));
    }
    let before = instrument_status(&row)?;
    let mut input = InstrumentInput::of(&row)?;
    edit(&mut input);
    input.check()?;
    let updated = InstrumentRow {
        name: input.name,
        model: input.model,
        category: input.category,
        location: input.location,
        region: input.region,
        description: input.description,
        fee_per_hour_fen: input.fee_per_hour_fen,
        fee_per_sample_fen: input.fee_per_sample_fen,
        accessories: input.accessories,
        open_hours: input.open_hours,
        weekly_open_hours: input.weekly_open_hours,
        training_required: input.training_required,
        status: input.status.as_str().to_owned(),
        updated_at: to_db(now),
        ..row
    };
    db::instruments::update(c, &updated)?;
    let mut change = Change::new("instrument.update", "instrument", id);
    if before != input.status {
        change = change.status(Some(before.as_str()), input.status.as_str());
    }
    audit::record(c, Some(&actor.id), change, now)?;
    Ok(updated)
}

pub struct InstrumentQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub region: Option<String>,
    pub org_id: Option<String>,
    pub status: Option<InstrumentStatus>,
}

/// The public catalogue: every word of `q` must appear in the name, model, category or
/// description.
pub fn list(c: &mut AnyConnection, q: &InstrumentQuery, page: Page) -> AppResult<(Vec<InstrumentRow>, i64)> {
    let filter = InstrumentFilter {
        words: q.q.as_deref().map(|t| t.split_whitespace().take(8).collect()).unwrap_or_default(),
        category: q.category.as_deref(),
        region: q.region.as_deref(),
        org_id: q.org_id.as_deref(),
        status: q.status.map(InstrumentStatus::as_str),
    };
    db::instruments::list(c, &filter, page.offset(), page.limit())
}

pub struct BookingInput {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub samples: Option<i32>,
    pub purpose: String,
    pub voucher_code: Option<String>,
}

/// A member of a verified organization books a slot. The instrument's row lock orders
/// concurrent bookings, so of two overlapping requests exactly one is recorded.
pub fn book(
    c: &mut AnyConnection,
    actor: &Actor,
    instrument_id: &str,
    input: &BookingInput,
    settings: &InstrumentSettings,
    now: DateTime<Utc>,
) -> AppResult<BookingRow> {
    let org = actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    if !lock::lock(c, Root::Instrument, instrument_id)? {
        return Err(AppError::not_found("instrument"));
    }
    let ins = instrument(c, instrument_id)?;
    if ins.org_id == org.id {
        return Err(AppError::forbidden(Rule::OwnInstrument));
    }
    if instrument_status(&ins)? != InstrumentStatus::Active {
        return Err(AppError::new(ErrorCode::Conflict, Rule::InstrumentInactive));
    }
    rules::check_slot(input.starts_at, input.ends_at, now)?;
    let since = now - Duration::days(i64::from(settings.no_show_window_days));
    let missed = db::instruments::no_shows_since(c, &org.id, since)?;
    rules::check_booking_rights(missed, settings.no_show_limit, settings.no_show_window_days)?;
    let fees = Fees { per_hour_fen: ins.fee_per_hour_fen, per_sample_fen: ins.fee_per_sample_fen };
    let minutes = (input.ends_at - input.starts_at).num_minutes();
    let fee = rules::booking_fee(fees, minutes, input.samples)
        .ok_or_else(|| AppError::field("samples", Rule::BookingFeeBasis))?;
    let holding = BookingStatus::HOLDS_SLOT.map(BookingStatus::as_str);
    if let Some(other) = db::instruments::overlapping(c, &ins.id, &holding, input.starts_at, input.ends_at)? {
        return Err(AppError::new(
            ErrorCode::SlotTaken,
            Message::rule(Rule::SlotOverlap)
                .arg("from", from_db(other.starts_at).to_rfc3339())
                .arg("to", from_db(other.ends_at).to_rfc3339()),
        ));
    }
    let id = new_id();
    let (voucher_id, program_id, reserved) = match input.voucher_code.as_deref() {
        Some(code) => {
            let (v, amount) = reserve_voucher(c, &org.id, &ins, code, fee, now)?;
            db::vouchers::add_ledger(c, &v.program_id, &v.id, None, LedgerKind::Reserve.as_str(), amount, now)?;
            (Some(v.id), Some(v.program_id), amount)
        }
        None => (None, None, 0),
    };
    let row = BookingRow {
        id: id.clone(),
        instrument_id: ins.id.clone(),
        org_id: org.id.clone(),
        requested_by: actor.id.clone(),
        starts_at: to_db(input.starts_at),
        ends_at: to_db(input.ends_at),
        samples: input.samples,
        purpose: input.purpose.clone(),
        fee_fen: fee,
        voucher_id,
        program_id,
        reserved_fen: reserved,
        redemption_id: None,
        status: BookingStatus::Requested.as_str().to_owned(),
        reason: None,
        created_at: to_db(now),
        decided_at: None,
        finished_at: None,
    };
    db::instruments::insert_booking(c, &row)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("instrument_booking.create", "instrument_booking", &id)
            .status(None, "requested")
            .detail(serde_json::json!({ "instrument_id": ins.id, "fee_fen": fee, "reserved_fen": reserved,
                                "voucher_id": row.voucher_id })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(ins.org_id.clone()),
        Notice::new(
            "instrument_booking_requested",
            format!("仪器预约申请：{}", ins.name),
            format!("{} 预约了 {}，请审核。", org.name, ins.name),
        )
        .about("instrument_booking", &id),
        now,
    )?;
    Ok(row)
}

/// Reserves the covered share of a booking's fee on the booking organization's voucher for
/// instrument sharing, when the instrument's provider offers that service.
fn reserve_voucher(
    c: &mut AnyConnection,
    org_id: &str,
    ins: &InstrumentRow,
    code: &str,
    fee: i64,
    now: DateTime<Utc>,
) -> AppResult<(crate::db::vouchers::VoucherRow, i64)> {
    let v = db::vouchers::find_voucher_by_code(c, code.trim())?.ok_or_else(|| AppError::not_found("voucher"))?;
    if v.enterprise_id != org_id {
        return Err(AppError::forbidden(Rule::VoucherHolderBooks));
    }
    let sharing = ServiceCategory::InstrumentSharing.as_str();
    if v.service_category != sharing {
        return Err(AppError::field(
            "voucher_code",
            Message::rule(Rule::VoucherForInstruments).word("service", &v.service_category),
        ));
    }
    let provider = db::organizations::find(c, &ins.org_id)?.ok_or_else(|| AppError::not_found("organization"))?;
    if !super::parse_categories(&provider.service_categories).contains(&ServiceCategory::InstrumentSharing) {
        return Err(AppError::field("voucher_code", Message::rule(Rule::ServiceNotOffered).word("service", sharing)));
    }
    let p = vouchers::program(c, &v.program_id)?;
    crate::domain::voucher::check_settlement(p.settle_by, now)?;
    vouchers::reserve(c, v, &p, fee, now)
}

/// The booking organization, the instrument's organization and admins see a booking.
pub fn get_booking(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<BookingRow> {
    let b = booking(c, id)?;
    if actor.is_admin() || actor.is_member_of(&b.org_id) {
        return Ok(b);
    }
    let ins = instrument(c, &b.instrument_id)?;
    if actor.is_member_of(&ins.org_id) { Ok(b) } else { Err(AppError::not_found("booking")) }
}

/// The instrument's organization and admins see every booking of it; others their own
/// organization's.
pub fn bookings(
    c: &mut AnyConnection,
    actor: &Actor,
    instrument_id: &str,
    status: Option<BookingStatus>,
    page: Page,
) -> AppResult<(Vec<BookingRow>, i64)> {
    let ins = instrument(c, instrument_id)?;
    let org_id = if actor.is_admin() || actor.is_member_of(&ins.org_id) {
        None
    } else {
        match actor.org_id() {
            Some(org) => Some(org),
            None => return Ok((Vec::new(), 0)),
        }
    };
    let filter = BookingFilter { instrument_id, org_id, status: status.map(BookingStatus::as_str) };
    db::instruments::list_bookings(c, &filter, page.offset(), page.limit())
}

/// What an action on a booking carries.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub reason: Option<String>,
    /// The provider's invoice, required on completing a booking paid by voucher.
    pub invoice_no: Option<String>,
}

/// Moves a booking. The provider approves, rejects, completes and records a no-show; the
/// booking organization or the provider cancels. Rejecting, cancelling and a no-show give a
/// voucher reservation back; completing turns it into a redemption the holder confirms.
pub fn step(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    action: BookingAction,
    input: &StepInput,
    now: DateTime<Utc>,
) -> AppResult<BookingRow> {
    let b = get_booking(c, actor, id)?;
    let ins = instrument(c, &b.instrument_id)?;
    let allowed = match action {
        BookingAction::Cancel => actor.is_member_of(&b.org_id) || actor.is_member_of(&ins.org_id),
        _ => actor.is_member_of(&ins.org_id),
    };
    if !allowed {
        let rule = match action {
            BookingAction::Cancel => Message::rule(Rule::BookingParties),
            _ => Message::rule(Rule::InstrumentOwnerOnly).word("action", action.as_str()),
        };
        return Err(AppError::forbidden(rule));
    }
    let releases = matches!(action, BookingAction::Reject | BookingAction::NoShow | BookingAction::Cancel);
    if let Some(program_id) = b.program_id.as_deref().filter(|_| releases && b.reserved_fen > 0) {
        // Lock order: voucher program before what it pays for.
        vouchers::lock_program(c, program_id)?;
    }
    let from = booking_status(&b)?;
    let to = rules::apply_booking(from, action)?;
    rules::check_timing(action, from_db(b.starts_at), now)?;
    let redemption_id = match (action, b.voucher_id.as_deref()) {
        (BookingAction::Complete, Some(voucher_id)) => Some(redeem(c, actor, &b, &ins, voucher_id, input, now)?),
        _ => None,
    };
    let change = BookingChange {
        reason: input.reason.as_deref(),
        redemption_id: redemption_id.as_deref(),
        decided: matches!(action, BookingAction::Approve | BookingAction::Reject),
        finished: matches!(action, BookingAction::Complete | BookingAction::NoShow | BookingAction::Cancel),
    };
    if !db::instruments::booking_transition(c, id, from.as_str(), to.as_str(), &change, now)? {
        return Err(DomainError::transition("booking", from.as_str(), action.as_str()).into());
    }
    if let Some(voucher_id) = b.voucher_id.as_deref().filter(|_| releases && b.reserved_fen > 0) {
        vouchers::release(c, voucher_id, None, b.reserved_fen, now)?;
    }
    let name = format!("instrument_booking.{}", action.as_str());
    let mut audited = Change::new(&name, "instrument_booking", id).status(Some(from.as_str()), to.as_str());
    if let Some(reason) = &input.reason {
        audited = audited.detail(serde_json::json!({ "reason": reason }));
    }
    audit::record(c, Some(&actor.id), audited, now)?;
    let other = if actor.is_member_of(&b.org_id) { &ins.org_id } else { &b.org_id };
    let title = format!("仪器预约{}：{}", status_label(to), ins.name);
    let body = match &input.reason {
        Some(reason) => format!(
            "{} {} 至 {} 的预约{}。原因：{reason}",
            ins.name,
            from_db(b.starts_at),
            from_db(b.ends_at),
            status_label(to)
        ),
        None => format!("{} {} 至 {} 的预约{}。", ins.name, from_db(b.starts_at), from_db(b.ends_at), status_label(to)),
    };
    notify::send(
        c,
        Recipient::Org(other.clone()),
        Notice::new("instrument_booking_updated", title, body).about("instrument_booking", id),
        now,
    )?;
    booking(c, id)
}

fn status_label(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Requested => "待审核",
        BookingStatus::Approved => "已确认",
        BookingStatus::Rejected => "被驳回",
        BookingStatus::Completed => "已完成",
        BookingStatus::NoShow => "记为爽约",
        BookingStatus::Cancelled => "已取消",
    }
}

/// Completing a booking paid by voucher: its reservation becomes a redemption by the provider,
/// pending the holder's confirmation like any other.
fn redeem(
    c: &mut AnyConnection,
    actor: &Actor,
    b: &BookingRow,
    ins: &InstrumentRow,
    voucher_id: &str,
    input: &StepInput,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let invoice_no = input
        .invoice_no
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AppError::field("invoice_no", Rule::InvoiceForVoucher))?;
    let org = actor.require_verified_org()?;
    let v = db::vouchers::find_voucher(c, voucher_id)?.ok_or_else(|| AppError::not_found("voucher"))?;
    let id = new_id();
    let redemption = RedemptionInput {
        voucher_code: v.code.clone(),
        service_fee_fen: b.fee_fen,
        invoice_no,
        description: format!("共享仪器 {}（{}）：{}", ins.name, ins.model, b.purpose),
    };
    vouchers::open_redemption(c, actor, org, &v, &id, &redemption, b.reserved_fen, now)?;
    Ok(id)
}

/// Usage of one instrument over Shanghai calendar days `[from, to]`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub instrument_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Bookings starting in the period, by status.
    pub bookings: BTreeMap<String, i64>,
    /// Hours of approved and completed bookings.
    pub booked_hours: f64,
    /// Hours of completed bookings.
    pub used_hours: f64,
    /// Hours the instrument was open (`weekly_open_hours` spread over the period).
    pub open_hours: f64,
    /// Used hours as a share of open hours, in basis points (at most 10000).
    pub utilization_bp: i32,
    /// Distinct organizations with a completed booking.
    pub enterprises_served: i64,
    /// Fees of completed bookings, and the part vouchers covered.
    pub fees_fen: i64,
    pub voucher_covered_fen: i64,
}

pub fn usage(c: &mut AnyConnection, id: &str, from: NaiveDate, to: NaiveDate) -> AppResult<Usage> {
    let ins = instrument(c, id)?;
    let start = end_of_shanghai_day(from) - Duration::days(1);
    let end = end_of_shanghai_day(to);
    let uses = db::instruments::uses_in(c, id, start, end)?;
    let mut bookings = BTreeMap::new();
    let (mut booked, mut used) = (0_i64, 0_i64);
    let mut served = BTreeSet::new();
    let (mut fees, mut covered) = (0_i128, 0_i128);
    for u in &uses {
        *bookings.entry(u.status.clone()).or_insert(0) += 1;
        let minutes = (u.ends_at - u.starts_at).num_minutes();
        match BookingStatus::parse(&u.status) {
            Some(BookingStatus::Approved) => booked += minutes,
            Some(BookingStatus::Completed) => {
                booked += minutes;
                used += minutes;
                served.insert(u.org_id.as_str());
                fees += i128::from(u.fee_fen);
                covered += i128::from(u.reserved_fen);
            }
            _ => {}
        }
    }
    let days = (to - from).num_days() + 1;
    let open = rules::open_minutes(ins.weekly_open_hours, days);
    let hours = |minutes: i64| (minutes as f64 / 6.0).round() / 10.0;
    Ok(Usage {
        instrument_id: ins.id,
        from,
        to,
        bookings,
        booked_hours: hours(booked),
        used_hours: hours(used),
        open_hours: hours(open),
        utilization_bp: rules::utilization_bp(used, open),
        enterprises_served: i64::try_from(served.len()).unwrap_or(i64::MAX),
        fees_fen: i64::try_from(fees).unwrap_or(i64::MAX),
        voucher_covered_fen: i64::try_from(covered).unwrap_or(i64::MAX),
    })
}
