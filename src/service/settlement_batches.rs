//! Settlement batches (结算批次): an admin closes a batch at a cut-off day and every
//! redemption of the program confirmed up to that day and not yet settled is settled in one
//! transaction, under the program's lock, exactly as a single settle does. The batch keeps
//! the count, the total and a SHA-256 of its sorted redemption ids; one audit entry records it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::db::settlement_batches::{self as store, BatchRow, NewBatch};
use crate::db::time::to_db;
use crate::db::vouchers::{RedemptionRow, VoucherRow};
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::voucher as rules;
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::vouchers::{lock_program, program, settle_on_voucher, settle_redemption};
use super::{Actor, Page, new_id};

/// Redemptions are read and settled this many at a time.
const CHUNK: i64 = 1000;

pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    program_id: &str,
    cut_off: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<BatchRow> {
    actor.require_admin()?;
    program(c, program_id)?;
    lock_program(c, program_id)?;
    let p = program(c, program_id)?;
    rules::check_cut_off(cut_off, p.applications_open, p.settle_by, now)?;
    rules::check_settlement(p.settle_by, now)?;
    let id = new_id();
    store::insert(c, &NewBatch { id: &id, program_id, cut_off, created_by: &actor.id, created_at: to_db(now) })?;
    let confirmed_before = to_db(rules::end_of_shanghai_day(cut_off));
    let mut hash = Sha256::new();
    let (mut count, mut total) = (0_i64, 0_i64);
    let mut after = String::new();
    let overflow = || AppError::internal(anyhow::anyhow!("batch total overflows"));
    loop {
        let chunk = store::eligible_after(c, program_id, confirmed_before, &after, CHUNK)?;
        let Some(last) = chunk.last() else { break };
        after = last.id.clone();
        // Balances move once per voucher per chunk and once per batch for the program, not
        // once per redemption: updating one row thousands of times in a transaction is slow.
        let mut per_voucher: BTreeMap<&str, i64> = BTreeMap::new();
        for r in &chunk {
            settle_redemption(c, r, Some(&id), now)?;
            hash.update(r.id.as_bytes());
            hash.update(b"\n");
            count += 1;
            total = total.checked_add(r.amount_fen).ok_or_else(overflow)?;
            let on_voucher = per_voucher.entry(r.voucher_id.as_str()).or_default();
            *on_voucher = on_voucher.checked_add(r.amount_fen).ok_or_else(overflow)?;
        }
        for (voucher_id, amount) in per_voucher {
            settle_on_voucher(c, voucher_id, amount)?;
        }
    }
    if count == 0 {
        return Err(DomainError::new(
            ErrorCode::NothingToSettle,
            Message::rule(Rule::NothingToSettle).arg("date", cut_off.to_string()),
        )
        .into());
    }
    db::vouchers::program_settle(c, program_id, total)?;
    let ids_sha256 = crate::domain::audit::hex(&hash.finalize());
    store::finish(c, &id, count, total, &ids_sha256)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("voucher_settlement_batch.create", "voucher_settlement_batch", &id).detail(serde_json::json!({
            "program_id": program_id,
            "cut_off": cut_off,
            "count": count,
            "total_fen": total,
            "redemption_ids_sha256": ids_sha256,
        })),
        now,
    )?;
    batch(c, &id)
}

fn batch(c: &mut AnyConnection, id: &str) -> AppResult<BatchRow> {
    store::find(c, id)?.ok_or_else(|| AppError::not_found("settlement batch"))
}

pub fn list(c: &mut AnyConnection, actor: &Actor, program_id: &str, page: Page) -> AppResult<(Vec<BatchRow>, i64)> {
    actor.require_admin()?;
    program(c, program_id)?;
    store::list(c, program_id, page.offset(), page.limit())
}

/// One settled redemption of a batch, with the names a statement shows.
pub struct Line {
    pub redemption: RedemptionRow,
    pub voucher_code: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub provider_name: String,
}

/// The batch, after an admin check (for the statement endpoints).
pub fn for_statement(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<BatchRow> {
    actor.require_admin()?;
    batch(c, id)
}

/// The next `limit` lines of a batch after redemption id `after`, in id order.
pub fn lines_after(c: &mut AnyConnection, batch_id: &str, after: &str, limit: i64) -> AppResult<Vec<Line>> {
    let rows = store::lines_after(c, batch_id, after, limit)?;
    let mut voucher_ids: Vec<String> = rows.iter().map(|r| r.voucher_id.clone()).collect();
    voucher_ids.sort();
    voucher_ids.dedup();
    let vouchers: Vec<VoucherRow> = db::vouchers::find_vouchers(c, &voucher_ids)?;
    let mut org_ids: Vec<String> = rows
        .iter()
        .map(|r| r.provider_org_id.clone())
        .chain(vouchers.iter().map(|v| v.enterprise_id.clone()))
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let orgs = db::organizations::find_many(c, &org_ids)?;
    let name = |id: &str| orgs.iter().find(|o| o.id == id).map(|o| o.name.clone()).unwrap_or_default();
    rows.into_iter()
        .map(|r| {
            let v = vouchers
                .iter()
                .find(|v| v.id == r.voucher_id)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("redemption {} has no voucher", r.id)))?;
            Ok(Line {
                voucher_code: v.code.clone(),
                enterprise_id: v.enterprise_id.clone(),
                enterprise_name: name(&v.enterprise_id),
                provider_name: name(&r.provider_org_id),
                redemption: r,
            })
        })
        .collect()
}

/// Every line of a batch, read `CHUNK` at a time.
pub fn all_lines(c: &mut AnyConnection, batch_id: &str) -> AppResult<Vec<Line>> {
    let mut lines = Vec::new();
    loop {
        let after = lines.last().map(|l: &Line| l.redemption.id.clone()).unwrap_or_default();
        let chunk = lines_after(c, batch_id, &after, CHUNK)?;
        if chunk.is_empty() {
            return Ok(lines);
        }
        lines.extend(chunk);
    }
}

/// Per provider organization: (org id, name, count, Σ service fees, Σ settled), by name.
pub struct ProviderTotal {
    pub org_id: String,
    pub name: String,
    pub count: i64,
    pub service_fee_fen: i64,
    pub amount_fen: i64,
}

pub fn provider_totals(lines: &[Line]) -> AppResult<Vec<ProviderTotal>> {
    let mut totals: Vec<ProviderTotal> = Vec::new();
    let overflow = || AppError::internal(anyhow::anyhow!("statement total overflows"));
    for l in lines {
        let r = &l.redemption;
        let i = match totals.iter().position(|t| t.org_id == r.provider_org_id) {
            Some(i) => i,
            None => {
                totals.push(ProviderTotal {
                    org_id: r.provider_org_id.clone(),
                    name: l.provider_name.clone(),
                    count: 0,
                    service_fee_fen: 0,
                    amount_fen: 0,
                });
                totals.len() - 1
            }
        };
        let t = &mut totals[i];
        t.count += 1;
        t.service_fee_fen = t.service_fee_fen.checked_add(r.service_fee_fen).ok_or_else(overflow)?;
        t.amount_fen = t.amount_fen.checked_add(r.amount_fen).ok_or_else(overflow)?;
    }
    totals.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.org_id.cmp(&b.org_id)));
    Ok(totals)
}

/// The CSV header (with the BOM) of a statement.
pub fn csv_header() -> AppResult<String> {
    super::export::csv_header(&CSV_COLUMNS)
}

const CSV_COLUMNS: [(&str, &str); 9] = [
    ("兑付ID", "redemption_id"),
    ("券码", "voucher_code"),
    ("服务机构", "provider"),
    ("持券企业", "enterprise"),
    ("发票号", "invoice_no"),
    ("服务费(分)", "service_fee_fen"),
    ("兑付金额(分)", "amount_fen"),
    ("确认时间", "confirmed_at"),
    ("批次ID", "batch_id"),
];

/// The next page of CSV rows after redemption id `after`: (CSV text, last id or None when done).
pub fn csv_page(c: &mut AnyConnection, batch_id: &str, after: &str, limit: i64) -> AppResult<(String, Option<String>)> {
    let lines = lines_after(c, batch_id, after, limit)?;
    let Some(last) = lines.last().map(|l| l.redemption.id.clone()) else { return Ok((String::new(), None)) };
    let rows = lines.iter().map(|l| {
        let r = &l.redemption;
        vec![
            r.id.clone(),
            l.voucher_code.clone(),
            l.provider_name.clone(),
            l.enterprise_name.clone(),
            r.invoice_no.clone(),
            r.service_fee_fen.to_string(),
            r.amount_fen.to_string(),
            r.confirmed_at.map(|t| crate::db::time::from_db(t).to_rfc3339()).unwrap_or_default(),
            batch_id.to_owned(),
        ]
    });
    Ok((super::export::csv_rows(rows)?, Some(last)))
}
