//! CSV export of contracts for spreadsheet users: UTF-8 with a BOM (so Excel reads the
//! Chinese correctly), bilingual headers, produced page by page.

use crate::db::{self, AnyConnection};
use crate::error::{AppError, AppResult};

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

/// RFC 4180 records: CRLF line ends, a cell quoted only when it holds a comma, a quote or a
/// line break.
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> AppResult<String> {
    let bytes = writer.into_inner().map_err(|e| AppError::internal(anyhow::anyhow!("CSV buffer: {e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// The BOM and the header row: `中文名 (field)` so people and programs both find columns.
pub fn csv_header(columns: &[(&str, &str)]) -> AppResult<String> {
    let mut w = writer();
    w.write_record(columns.iter().map(|(zh, en)| format!("{zh} ({en})"))).map_err(AppError::internal)?;
    Ok(format!("\u{feff}{}", finish(w)?))
}

pub fn contracts_header() -> AppResult<String> {
    csv_header(&COLUMNS)
}

/// CSV records of `rows`, formulas defused.
pub fn csv_rows(rows: impl IntoIterator<Item = Vec<String>>) -> AppResult<String> {
    let mut w = writer();
    for cells in rows {
        w.write_record(cells.iter().map(|v| defuse(v).into_owned())).map_err(AppError::internal)?;
    }
    finish(w)
}

/// Defuses spreadsheet formulas: a cell starting with `=`, `+`, `-` or `@` gets a leading `'`
/// so Excel shows it as text instead of evaluating it.
pub fn defuse(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@']) { format!("'{value}").into() } else { value.into() }
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
    let mut w = writer();
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
        w.write_record(cells.iter().map(|v| defuse(v).into_owned())).map_err(AppError::internal)?;
    }
    Ok((finish(w)?, Some(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> String {
        let mut w = writer();
        w.write_record(cells.iter().map(|v| defuse(v).into_owned())).unwrap();
        finish(w).unwrap()
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(
            row(&["普通", "a,b", "say \"hi\"", "=SUM(A1)", "", "two\nlines"]),
            "普通,\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),,\"two\nlines\"\r\n"
        );
        let header = contracts_header().unwrap();
        assert!(header.starts_with("\u{feff}合同ID (id),合同名称 (title),"), "{header}");
        assert!(header.ends_with("创建时间 (created_at)\r\n"));
    }
}
