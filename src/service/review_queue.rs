//! The admin review queue: everything `pending_review`, across kinds, oldest first.

use chrono::{DateTime, Utc};

use crate::db::time::from_db;
use crate::db::{self, AnyConnection};
use crate::error::AppResult;

use super::{Actor, Page};

pub struct QueueItem {
    pub kind: String,
    pub id: String,
    pub title: String,
    pub org_id: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

pub fn list(c: &mut AnyConnection, actor: &Actor, page: Page) -> AppResult<(Vec<QueueItem>, i64)> {
    actor.require_admin()?;
    let wanted = page.offset() + page.limit();
    let (listings, listing_total) = db::listings::pending_review(c, wanted)?;
    let mut items: Vec<QueueItem> = listings
        .into_iter()
        .map(|r| QueueItem {
            kind: r.kind,
            id: r.id,
            title: r.title,
            org_id: r.org_id,
            submitted_at: r.submitted_at.map(from_db),
        })
        .collect();
    let (challenges, challenge_total) = db::challenges::pending_review(c, wanted)?;
    let total = listing_total + challenge_total;
    items.extend(challenges.into_iter().map(|r| QueueItem {
        kind: "challenge".to_owned(),
        id: r.id,
        title: r.title,
        org_id: r.issuer_org_id,
        submitted_at: r.submitted_at.map(from_db),
    }));
    items.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then_with(|| a.id.cmp(&b.id)));
    let items = items.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
    Ok((items, total))
}
