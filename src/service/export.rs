//! CSV export of contracts for spreadsheet users: UTF-8 with a BOM (so Excel reads the
//! Chinese correctly), bilingual headers, produced page by page.

use crate::db::{self, AnyConnection};
use crate::error::AppResult;

const COLUMNS: [(&str, &str); 12] = [
    ("合同ID", "id"),
    ("合同名称", "title"),
    ("合同类型", "kind"),
    ("状态", "status"),
    ("卖方", "seller"),
    ("买方", "buyer"),
    ("合同金额(分)", "amount_fen"),
    ("已付金额(分)", "paid_fen"),
    ("登记编号", "registration_no"),
    ("技术交易额(分)", "registered_amount_fen"),
    ("登记时间", "registered_at"),
    ("创建时间", "created_at"),
];

/// The BOM and the header row: `中文名 (field)` so people and programs both find columns.
pub fn contracts_header() -> String {
    let cells: Vec<String> = COLUMNS.iter().map(|(zh, en)| format!("{zh} ({en})")).collect();
    format!("\u{feff}{}\r\n", cells.join(","))
}

/// Quotes a CSV cell when needed (RFC 4180) and defuses spreadsheet formulas.
pub fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// The next page of rows after contract id `after`: (CSV text, last id or None when done).
pub fn contracts_page(c: &mut AnyConnection, after: &str, limit: i64) -> AppResult<(String, Option<String>)> {
    let rows = db::contracts::page_after(c, after, limit)?;
    let Some(last) = rows.last().map(|r| r.id.clone()) else { return Ok((String::new(), None)) };
    let mut org_ids: Vec<String> =
        rows.iter().flat_map(|r| [r.seller_org_id.clone(), r.buyer_org_id.clone()]).collect();
    org_ids.sort();
    org_ids.dedup();
    let orgs = db::organizations::find_many(c, &org_ids)?;
    let name = |id: &str| orgs.iter().find(|o| o.id == id).map(|o| o.name.clone()).unwrap_or_default();
    let time =
        |t: Option<chrono::NaiveDateTime>| t.map(|t| crate::db::time::from_db(t).to_rfc3339()).unwrap_or_default();
    let mut out = String::with_capacity(rows.len() * 200);
    for r in &rows {
        let cells = [
            r.id.clone(),
            r.title.clone(),
            r.kind.clone(),
            r.status.clone(),
            name(&r.seller_org_id),
            name(&r.buyer_org_id),
            r.amount_fen.to_string(),
            r.paid_fen.to_string(),
            r.registration_no.clone().unwrap_or_default(),
            r.registered_amount_fen.map(|a| a.to_string()).unwrap_or_default(),
            time(r.registered_at),
            time(Some(r.created_at)),
        ];
        out.push_str(&cells.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok((out, Some(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("普通"), "普通");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert!(contracts_header().starts_with('\u{feff}'));
    }
}
