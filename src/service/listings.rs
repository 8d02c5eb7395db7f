//! Achievements and demands: creation by verified organizations of the right kind, edits
//! while draft or rejected, submission, admin review, withdrawal, visibility and lists.

use chrono::{DateTime, Utc};

use crate::db::listings::{Content, ListFilter, ListingRow};
use crate::db::{self, AnyConnection};
use crate::domain::error::{Message, Rule};
use crate::domain::listing::{self as rules, ListingAction, ListingContent, ListingKind, ListingStatus};
use crate::domain::organization::OrgKind;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, new_id};

/// Which organization kinds may list which kind of listing.
pub fn may_list(kind: ListingKind, org: OrgKind) -> bool {
    match kind {
        ListingKind::Achievement => matches!(org, OrgKind::University | OrgKind::Institute),
        ListingKind::Demand => matches!(org, OrgKind::Enterprise | OrgKind::Government),
    }
}

fn to_columns(content: &ListingContent) -> AppResult<Content> {
    let json = |v: &[String]| serde_json::to_string(v).map_err(AppError::internal);
    let modes: Vec<String> = content.transfer_modes.iter().map(|m| m.as_str().to_owned()).collect();
    Ok(Content {
        title: content.title.clone(),
        body: content.body.clone(),
        field: content.field.as_str().to_owned(),
        keywords: json(&content.keywords)?,
        transfer_modes: json(&modes)?,
        patent_numbers: json(&content.patent_numbers)?,
        trl: content.trl,
        price_fen: content.price_fen,
        negotiable: content.negotiable,
        region: content.region.clone(),
        deadline: content.deadline,
    })
}

/// The content stored in a row, as the domain sees it.
pub fn content_of(row: &ListingRow) -> AppResult<ListingContent> {
    Ok(ListingContent {
        title: row.title.clone(),
        body: row.body.clone(),
        field: rules::Field::parse(&row.field).ok_or_else(|| super::corrupt("field", &row.field))?,
        keywords: row.keywords(),
        trl: row.trl,
        price_fen: row.price_fen,
        negotiable: row.negotiable,
        transfer_modes: row.transfer_modes().iter().filter_map(|m| rules::TransferMode::parse(m)).collect(),
        patent_numbers: row.patent_numbers(),
        region: row.region.clone(),
        deadline: row.deadline,
    })
}

pub fn status_of(row: &ListingRow) -> AppResult<ListingStatus> {
    ListingStatus::parse(&row.status).ok_or_else(|| super::corrupt("listing status", &row.status))
}

pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    content: ListingContent,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let org = actor.require_verified_org()?;
    if !may_list(kind, org.kind) {
        return Err(AppError::forbidden(match kind {
            ListingKind::Achievement => Rule::AchievementPosters,
            ListingKind::Demand => Rule::DemandPosters,
        }));
    }
    let id = new_id();
    db::listings::insert(c, &id, kind.as_str(), &org.id, &actor.id, &to_columns(&content)?, now)?;
    audit::record(c, Some(&actor.id), Change::new("listing.create", kind.noun(), &id).status(None, "draft"), now)?;
    load(c, kind, &id)
}

pub(crate) fn load(c: &mut AnyConnection, kind: ListingKind, id: &str) -> AppResult<ListingRow> {
    db::listings::find(c, kind.as_str(), id)?.ok_or_else(|| AppError::not_found(kind.noun()))
}

/// Published listings are public; the rest only to the owning organization and admins.
pub fn visible(row: &ListingRow, actor: Option<&Actor>) -> bool {
    row.status == ListingStatus::Published.as_str()
        || actor.is_some_and(|a| a.is_admin() || a.is_member_of(&row.org_id))
}

pub fn get(c: &mut AnyConnection, actor: Option<&Actor>, kind: ListingKind, id: &str) -> AppResult<ListingRow> {
    let row = load(c, kind, id)?;
    if visible_to(c, &row, actor)? { Ok(row) } else { Err(AppError::not_found(kind.noun())) }
}

/// [`visible`], and a broker invited to a connection about the listing sees it as the
/// parties do.
fn visible_to(c: &mut AnyConnection, row: &ListingRow, actor: Option<&Actor>) -> AppResult<bool> {
    if visible(row, actor) {
        return Ok(true);
    }
    match actor {
        Some(actor) => super::brokers::invited_about_listing(c, actor, &row.id),
        None => Ok(false),
    }
}

/// [`get`] and whether the listing has public attachments (see
/// `db::listings::find_noting_attachments`).
pub fn get_noting_attachments(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    kind: ListingKind,
    id: &str,
) -> AppResult<(ListingRow, bool)> {
    let (row, attachments) =
        db::listings::find_noting_attachments(c, kind.as_str(), id)?.ok_or_else(|| AppError::not_found(kind.noun()))?;
    if visible_to(c, &row, actor)? { Ok((row, attachments)) } else { Err(AppError::not_found(kind.noun())) }
}

/// Loads a listing the actor's organization owns: 404 when they cannot even see it, 403
/// when they can (a published listing of someone else).
pub(crate) fn owned(c: &mut AnyConnection, actor: &Actor, kind: ListingKind, id: &str) -> AppResult<ListingRow> {
    let row = get(c, Some(actor), kind, id)?;
    if actor.is_member_of(&row.org_id) {
        Ok(row)
    } else {
        Err(AppError::forbidden(Message::rule(Rule::ListingOwnerOnly).word("what", kind.noun())))
    }
}

/// Applies a partial edit (a function of the current content) while draft or rejected.
pub fn update(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    id: &str,
    edit: impl FnOnce(ListingContent) -> ListingContent,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let row = owned(c, actor, kind, id)?;
    let status = status_of(&row)?;
    rules::apply(kind, status, ListingAction::Edit)?;
    let content = edit(content_of(&row)?).validated(kind)?;
    if !db::listings::update_content(c, id, status.as_str(), &to_columns(&content)?, now)? {
        return Err(crate::domain::error::DomainError::transition(kind.noun(), status.as_str(), "edit").into());
    }
    audit::record(c, Some(&actor.id), Change::new("listing.edit", kind.noun(), id), now)?;
    load(c, kind, id)
}

/// Moves a listing with a guarded update and records it.
fn transition(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    row: &ListingRow,
    action: ListingAction,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<ListingStatus> {
    let from = status_of(row)?;
    let to = rules::apply(kind, from, action)?;
    if !db::listings::transition(c, &row.id, from.as_str(), to.as_str(), reason, now)? {
        return Err(crate::domain::error::DomainError::transition(kind.noun(), from.as_str(), action.as_str()).into());
    }
    let action_name = format!("listing.{}", action.as_str());
    let mut change = Change::new(&action_name, kind.noun(), &row.id).status(Some(from.as_str()), to.as_str());
    if let Some(reason) = reason {
        change = change.detail(serde_json::json!({ "reason": reason }));
    }
    audit::record(c, Some(&actor.id), change, now)?;
    Ok(to)
}

pub fn submit(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let row = owned(c, actor, kind, id)?;
    transition(c, actor, kind, &row, ListingAction::Submit, None, now)?;
    load(c, kind, id)
}

pub fn withdraw(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let row = owned(c, actor, kind, id)?;
    transition(c, actor, kind, &row, ListingAction::Withdraw, None, now)?;
    load(c, kind, id)
}

/// Admin review: approve publishes (subscribers are told), reject needs a reason.
pub fn review(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    id: &str,
    approve: bool,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    actor.require_admin()?;
    let row = load(c, kind, id)?;
    let action = if approve { ListingAction::Approve } else { ListingAction::Reject };
    transition(c, actor, kind, &row, action, reason, now)?;
    let notice = if approve {
        jobs::enqueue(c, &Job::MatchSubscriptions { target: kind.as_str().to_owned(), entity_id: id.to_owned() }, now)?;
        Notice::new(
            "listing_published",
            format!("{}已发布：{}", kind.chinese(), row.title),
            "审核通过，已在平台公开发布。",
        )
    } else {
        Notice::new(
            "listing_rejected",
            format!("{}未通过审核：{}", kind.chinese(), row.title),
            format!("原因：{}。修改后可重新提交。", reason.unwrap_or_default()),
        )
    };
    notify::send(c, Recipient::Org(row.org_id.clone()), notice.about(kind.noun(), id), now)?;
    load(c, kind, id)
}

/// A signed `transfer` contract moves its achievement to `transferred`.
pub fn mark_transferred(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let Some(row) = db::listings::find(c, ListingKind::Achievement.as_str(), id)? else { return Ok(false) };
    if status_of(&row)? != ListingStatus::Published {
        return Ok(false);
    }
    transition(c, actor, ListingKind::Achievement, &row, ListingAction::MarkTransferred, None, now)?;
    Ok(true)
}

/// A database-backed list (no full-text query): published listings, or with `mine` every
/// listing of the actor's organization.
pub fn list(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    mine: bool,
    mut filter: ListFilter,
    page: Page,
) -> AppResult<(Vec<ListingRow>, i64)> {
    if mine {
        let actor =
            actor.ok_or_else(|| AppError::new(crate::domain::error::ErrorCode::Unauthorized, Rule::MineNeedsToken))?;
        let Some(org_id) = actor.org_id() else { return Ok((Vec::new(), 0)) };
        filter.org_id = Some(org_id.to_owned());
        filter.status = None;
    } else {
        filter.status = Some(ListingStatus::Published.as_str().to_owned());
    }
    db::listings::list(c, &filter, page.offset(), page.limit())
}

/// Rows for ids found by the index, in the index's order, skipping any that stopped being
/// public since the index was updated.
pub fn hydrate(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<ListingRow>> {
    let mut rows = db::listings::find_many(c, ids)?;
    rows.retain(|r| r.status == ListingStatus::Published.as_str());
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}
