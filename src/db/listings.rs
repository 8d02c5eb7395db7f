//! Queries on listings (achievements and demands), subscriptions and digest items.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{digest_items, listings, subscriptions};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct ListingRow {
    pub id: String,
    pub kind: String,
    pub org_id: String,
    pub created_by: String,
    pub title: String,
    pub body: String,
    pub field: String,
    pub keywords: String,
    pub transfer_modes: String,
    pub patent_numbers: String,
    pub trl: Option<i32>,
    pub price_fen: Option<i64>,
    pub negotiable: bool,
    pub region: String,
    pub deadline: Option<NaiveDate>,
    pub status: String,
    pub reject_reason: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub first_matched_at: Option<NaiveDateTime>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub deadline_reminded_at: Option<NaiveDateTime>,
    pub stale_reminded_at: Option<NaiveDateTime>,
    pub stale_notified_at: Option<NaiveDateTime>,
}

impl ListingRow {
    pub fn keywords(&self) -> Vec<String> {
        serde_json::from_str(&self.keywords).unwrap_or_default()
    }
    pub fn transfer_modes(&self) -> Vec<String> {
        serde_json::from_str(&self.transfer_modes).unwrap_or_default()
    }
    pub fn patent_numbers(&self) -> Vec<String> {
        serde_json::from_str(&self.patent_numbers).unwrap_or_default()
    }
}

/// The editable content of a listing.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = listings, treat_none_as_null = true)]
pub struct Content {
    pub title: String,
    pub body: String,
    pub field: String,
    pub keywords: String,
    pub transfer_modes: String,
    pub patent_numbers: String,
    pub trl: Option<i32>,
    pub price_fen: Option<i64>,
    pub negotiable: bool,
    pub region: String,
    pub deadline: Option<NaiveDate>,
}

pub fn insert(
    c: &mut AnyConnection,
    id: &str,
    kind: &str,
    org_id: &str,
    created_by: &str,
    content: &Content,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(listings::table)
        .values((
            listings::id.eq(id),
            listings::kind.eq(kind),
            listings::org_id.eq(org_id),
            listings::created_by.eq(created_by),
            listings::title.eq(&content.title),
            listings::body.eq(&content.body),
            listings::field.eq(&content.field),
            listings::keywords.eq(&content.keywords),
            listings::transfer_modes.eq(&content.transfer_modes),
            listings::patent_numbers.eq(&content.patent_numbers),
            listings::trl.eq(content.trl),
            listings::price_fen.eq(content.price_fen),
            listings::negotiable.eq(content.negotiable),
            listings::region.eq(&content.region),
            listings::deadline.eq(content.deadline),
            listings::status.eq("draft"),
            listings::created_at.eq(to_db(now)),
            listings::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, kind: &str, id: &str) -> AppResult<Option<ListingRow>> {
    Ok(listings::table.find(id).filter(listings::kind.eq(kind)).first(c).optional()?)
}

/// [`find`] and whether the listing has public attachments, in one statement (most listings
/// have none, and then the by-id read needs no second query). Written in the query DSL, not as
/// SQL text, so the statement stays prepared per connection.
pub fn find_noting_attachments(c: &mut AnyConnection, kind: &str, id: &str) -> AppResult<Option<(ListingRow, bool)>> {
    use super::schema::attachments;
    // The public record types of attachments are the listing kinds themselves.
    let has_attachments = diesel::dsl::exists(
        attachments::table
            .filter(attachments::record_type.eq(listings::kind))
            .filter(attachments::record_id.eq(listings::id)),
    );
    Ok(listings::table
        .find(id)
        .filter(listings::kind.eq(kind))
        .select((listings::all_columns, has_attachments))
        .first(c)
        .optional()?)
}

pub fn find_any(c: &mut AnyConnection, id: &str) -> AppResult<Option<ListingRow>> {
    Ok(listings::table.find(id).first(c).optional()?)
}

/// `(id, title)` of the listings with these ids, of any kind and status.
pub fn titles(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<(String, String)>> {
    Ok(listings::table.filter(listings::id.eq_any(ids)).select((listings::id, listings::title)).load(c)?)
}

pub fn find_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<ListingRow>> {
    Ok(listings::table.filter(listings::id.eq_any(ids)).load(c)?)
}

/// Content edit, only while the status is still `status` (guarded).
pub fn update_content(
    c: &mut AnyConnection,
    id: &str,
    status: &str,
    content: &Content,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(listings::table.find(id).filter(listings::status.eq(status)))
        .set((content, listings::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}

/// Guarded status change with the timestamps each status records.
pub fn transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let now_db = to_db(now);
    let target = listings::table.find(id).filter(listings::status.eq(from));
    let n = match to {
        "pending_review" => diesel::update(target)
            .set((listings::status.eq(to), listings::submitted_at.eq(now_db), listings::updated_at.eq(now_db)))
            .execute(c)?,
        "published" => diesel::update(target)
            .set((
                listings::status.eq(to),
                listings::published_at.eq(now_db),
                listings::reject_reason.eq(None::<String>),
                listings::updated_at.eq(now_db),
            ))
            .execute(c)?,
        "rejected" => diesel::update(target)
            .set((listings::status.eq(to), listings::reject_reason.eq(reason), listings::updated_at.eq(now_db)))
            .execute(c)?,
        _ => diesel::update(target).set((listings::status.eq(to), listings::updated_at.eq(now_db))).execute(c)?,
    };
    Ok(n == 1)
}

/// Filters of a database listing query (lists without full-text `q`).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub kind: String,
    /// `None`: any status (an organization's own listings).
    pub status: Option<String>,
    pub org_id: Option<String>,
    pub field: Option<String>,
    pub region: Option<String>,
    pub min_trl: Option<i32>,
    pub max_trl: Option<i32>,
    pub max_price: Option<i64>,
    pub min_price: Option<i64>,
    pub transfer_mode: Option<String>,
    /// Substring of the title or body.
    pub text: Option<String>,
}

pub fn list(c: &mut AnyConnection, f: &ListFilter, offset: i64, limit: i64) -> AppResult<(Vec<ListingRow>, i64)> {
    let build = || {
        let mut q = listings::table.filter(listings::kind.eq(&f.kind)).into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(listings::status.eq(s.clone()));
        }
        if let Some(o) = &f.org_id {
            q = q.filter(listings::org_id.eq(o.clone()));
        }
        if let Some(v) = &f.field {
            q = q.filter(listings::field.eq(v.clone()));
        }
        if let Some(v) = &f.region {
            q = q.filter(listings::region.eq(v.clone()));
        }
        if let Some(v) = f.min_trl {
            q = q.filter(listings::trl.ge(v));
        }
        if let Some(v) = f.max_trl {
            q = q.filter(listings::trl.le(v));
        }
        if let Some(v) = f.max_price {
            q = q.filter(listings::price_fen.le(v));
        }
        if let Some(v) = f.min_price {
            q = q.filter(listings::price_fen.ge(v));
        }
        if let Some(mode) = &f.transfer_mode {
            q = q.filter(listings::transfer_modes.like(format!("%\"{mode}\"%")));
        }
        if let Some(text) = &f.text {
            let pattern = super::like_pattern(text);
            q = q.filter(
                listings::title.like(pattern.clone()).escape('\\').or(listings::body.like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .order((listings::published_at.desc(), listings::created_at.desc(), listings::id))
        .offset(offset)
        .limit(limit)
        .load(c)?;
    Ok((rows, total))
}

/// Listings waiting for review, oldest submission first (at most `limit`), and their count.
pub fn pending_review(c: &mut AnyConnection, limit: i64) -> AppResult<(Vec<ListingRow>, i64)> {
    let q = || listings::table.filter(listings::status.eq("pending_review"));
    let total = q().count().get_result(c)?;
    let rows = q().order((listings::submitted_at, listings::id)).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Every published listing of `kind`, in pages (index rebuild).
pub fn published_page(c: &mut AnyConnection, kind: &str, after_id: &str, limit: i64) -> AppResult<Vec<ListingRow>> {
    Ok(listings::table
        .filter(listings::kind.eq(kind))
        .filter(listings::status.eq("published"))
        .filter(listings::id.gt(after_id))
        .order(listings::id)
        .limit(limit)
        .load(c)?)
}

/// Listings changed at or after `since` (index catch-up), in (updated_at, id) order, after the
/// row `after_id` of that instant (empty: from the start of it).
pub fn changed_since(
    c: &mut AnyConnection,
    since: NaiveDateTime,
    after_id: &str,
    limit: i64,
) -> AppResult<Vec<ListingRow>> {
    Ok(listings::table
        .filter(listings::updated_at.ge(since))
        .filter(listings::updated_at.gt(since).or(listings::id.gt(after_id)))
        .order((listings::updated_at, listings::id))
        .limit(limit)
        .load(c)?)
}

// ---- subscriptions ----

#[derive(Debug, Clone, Queryable)]
pub struct SubscriptionRow {
    pub id: String,
    pub user_id: String,
    pub target: String,
    pub fields: String,
    pub keywords: String,
    pub region: Option<String>,
    pub created_at: NaiveDateTime,
}

impl SubscriptionRow {
    pub fn fields(&self) -> Vec<String> {
        serde_json::from_str(&self.fields).unwrap_or_default()
    }
    pub fn keywords(&self) -> Vec<String> {
        serde_json::from_str(&self.keywords).unwrap_or_default()
    }
}

pub fn insert_subscription(c: &mut AnyConnection, row: &SubscriptionRow) -> AppResult<()> {
    diesel::insert_into(subscriptions::table)
        .values((
            subscriptions::id.eq(&row.id),
            subscriptions::user_id.eq(&row.user_id),
            subscriptions::target.eq(&row.target),
            subscriptions::fields.eq(&row.fields),
            subscriptions::keywords.eq(&row.keywords),
            subscriptions::region.eq(&row.region),
            subscriptions::created_at.eq(row.created_at),
        ))
        .execute(c)?;
    Ok(())
}

pub fn subscriptions_of(c: &mut AnyConnection, user_id: &str) -> AppResult<Vec<SubscriptionRow>> {
    Ok(subscriptions::table
        .filter(subscriptions::user_id.eq(user_id))
        .order((subscriptions::created_at.desc(), subscriptions::id))
        .load(c)?)
}

pub fn subscriptions_for(c: &mut AnyConnection, target: &str) -> AppResult<Vec<SubscriptionRow>> {
    Ok(subscriptions::table.filter(subscriptions::target.eq(target)).order(subscriptions::id).load(c)?)
}

pub fn delete_subscription(c: &mut AnyConnection, user_id: &str, id: &str) -> AppResult<bool> {
    let n = diesel::delete(subscriptions::table.find(id).filter(subscriptions::user_id.eq(user_id))).execute(c)?;
    Ok(n == 1)
}

// ---- digest ----

pub fn add_digest_item(
    c: &mut AnyConnection,
    user_id: &str,
    target: &str,
    entity_id: &str,
    title: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let exists: i64 = digest_items::table
        .filter(digest_items::user_id.eq(user_id))
        .filter(digest_items::target.eq(target))
        .filter(digest_items::entity_id.eq(entity_id))
        .count()
        .get_result(c)?;
    if exists == 0 {
        diesel::insert_into(digest_items::table)
            .values((
                digest_items::id.eq(uuid::Uuid::new_v4().to_string()),
                digest_items::user_id.eq(user_id),
                digest_items::target.eq(target),
                digest_items::entity_id.eq(entity_id),
                digest_items::title.eq(title),
                digest_items::created_at.eq(to_db(now)),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Unsent digest items: (user id, target, entity id, title), grouped by user.
pub fn unsent_digest(c: &mut AnyConnection) -> AppResult<Vec<(String, String, String, String)>> {
    Ok(digest_items::table
        .filter(digest_items::sent_at.is_null())
        .order((digest_items::user_id, digest_items::created_at, digest_items::id))
        .select((digest_items::user_id, digest_items::target, digest_items::entity_id, digest_items::title))
        .load(c)?)
}

pub fn mark_digest_sent(c: &mut AnyConnection, user_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    diesel::update(
        digest_items::table.filter(digest_items::user_id.eq(user_id)).filter(digest_items::sent_at.is_null()),
    )
    .set(digest_items::sent_at.eq(to_db(now)))
    .execute(c)?;
    Ok(())
}

/// Records the first time the engine showed a listing's owner a counterpart.
pub fn mark_matched(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> AppResult<()> {
    diesel::update(listings::table.find(id).filter(listings::first_matched_at.is_null()))
        .set(listings::first_matched_at.eq(to_db(now)))
        .execute(c)?;
    Ok(())
}
