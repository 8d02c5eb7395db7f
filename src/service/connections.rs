//! 供需对接: requests between organizations about a published listing, the owner's answer,
//! a message thread, and the hand-off to a contract.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::connections::{ConnectionRow, MessageRow, NewConnection, Side};
use crate::db::listings::ListingRow;
use crate::db::organizations::OrgRow;
use crate::db::time::to_db;
use crate::db::users::UserRow;
use crate::db::{self, AnyConnection};
use crate::domain::connection::{self as rules, ConnectionAction, ConnectionStatus, DeclineReason};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::listing::{ListingKind, ListingStatus};
use crate::domain::match_event::MatchEventKind;
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, integrity, new_id};

/// A connection with what its views need.
pub struct Details {
    pub row: ConnectionRow,
    pub listing_title: String,
    pub requester_org: OrgRow,
    pub listing_org: OrgRow,
    pub requester_user: UserRow,
}

pub fn status_of(row: &ConnectionRow) -> AppResult<ConnectionStatus> {
    ConnectionStatus::parse(&row.status).ok_or_else(|| super::corrupt("connection status", &row.status))
}

fn details(c: &mut AnyConnection, row: ConnectionRow) -> AppResult<Details> {
    let id = row.id.clone();
    details_of(c, vec![row])?.pop().ok_or_else(|| super::corrupt("connection", &id))
}

/// The views of many connections in four statements whatever their number: the listings'
/// titles, the organizations and the requesting users are each read once for all rows.
fn details_of(c: &mut AnyConnection, rows: Vec<ConnectionRow>) -> AppResult<Vec<Details>> {
    let ids = |f: fn(&ConnectionRow) -> &String| -> Vec<String> {
        let mut v: Vec<String> = rows.iter().map(|r| f(r).clone()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let titles: HashMap<String, String> = db::listings::titles(c, &ids(|r| &r.listing_id))?.into_iter().collect();
    let mut org_ids = ids(|r| &r.requester_org_id);
    org_ids.extend(ids(|r| &r.listing_org_id));
    let orgs: HashMap<String, OrgRow> =
        db::organizations::find_many(c, &org_ids)?.into_iter().map(|o| (o.id.clone(), o)).collect();
    let users: HashMap<String, UserRow> =
        db::users::find_many(c, &ids(|r| &r.requester_user_id))?.into_iter().map(|u| (u.id.clone(), u)).collect();
    rows.into_iter()
        .map(|row| {
            let missing = |what: &str| super::corrupt(what, &row.id);
            Ok(Details {
                listing_title: titles.get(&row.listing_id).cloned().ok_or_else(|| missing("connection listing"))?,
                requester_org: orgs.get(&row.requester_org_id).cloned().ok_or_else(|| missing("requester org"))?,
                listing_org: orgs.get(&row.listing_org_id).cloned().ok_or_else(|| missing("listing org"))?,
                requester_user: users.get(&row.requester_user_id).cloned().ok_or_else(|| missing("requester user"))?,
                row,
            })
        })
        .collect()
}

fn is_party(actor: &Actor, row: &ConnectionRow) -> bool {
    actor.is_member_of(&row.requester_org_id) || actor.is_member_of(&row.listing_org_id)
}

/// Loads a connection the actor may see: a member of either organization, its invited
/// broker, or an admin.
fn visible(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<ConnectionRow> {
    let row = db::connections::find(c, id)?.ok_or_else(|| AppError::not_found("connection"))?;
    if is_party(actor, &row) || actor.is_admin() || super::brokers::is_broker(c, actor, row.broker_id.as_deref())? {
        Ok(row)
    } else {
        Err(AppError::not_found("connection"))
    }
}

/// Either party invites a broker into a live connection, or replaces the one it has; the
/// broker may not belong to either party.
pub fn invite_broker(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    broker_id: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let row = visible(c, actor, id)?;
    if !is_party(actor, &row) {
        return Err(AppError::forbidden(Rule::BrokerInviters));
    }
    actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    let from = status_of(&row)?;
    rules::apply(from, ConnectionAction::InviteBroker)?;
    let broker = super::brokers::live(c, broker_id).map_err(|_| AppError::field("broker_id", Rule::BrokerUnknown))?.row;
    if [&row.requester_org_id, &row.listing_org_id].contains(&&broker.org_id) {
        return Err(DomainError::new(ErrorCode::ConflictOfInterest, Rule::BrokerIsParty).into());
    }
    if row.broker_id.as_deref() == Some(broker.id.as_str()) {
        return details(c, row);
    }
    if !db::connections::set_broker(c, id, &broker.id, now)? {
        return Err(
            DomainError::transition("connection", from.as_str(), ConnectionAction::InviteBroker.as_str()).into()
        );
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("connection.invite_broker", "connection", id)
            .detail(serde_json::json!({ "broker_id": broker.id, "replaced": row.broker_id })),
        now,
    )?;
    let updated = db::connections::find(c, id)?.ok_or_else(|| AppError::not_found("connection"))?;
    let d = details(c, updated)?;
    notify::send(
        c,
        Recipient::User(broker.user_id.clone()),
        Notice::new(
            "broker_invited",
            format!("对接邀请：{}", d.listing_title),
            format!("{} 与 {} 的对接邀请您作为技术经理人参与。", d.requester_org.name, d.listing_org.name),
        )
        .about("connection", id),
        now,
    )?;
    let other = if actor.is_member_of(&row.requester_org_id) { &row.listing_org_id } else { &row.requester_org_id };
    notify::send(
        c,
        Recipient::Org(other.clone()),
        Notice::new(
            "broker_invited",
            format!("技术经理人加入对接：{}", d.listing_title),
            "对方邀请了一位技术经理人参与本次对接。",
        )
        .about("connection", id)
        .in_app_only(),
        now,
    )?;
    Ok(d)
}

pub fn request(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    listing_id: &str,
    message: &str,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let org = actor.require_verified_org()?;
    integrity::require_not_vetoed(c, actor, now)?;
    let listing: ListingRow = super::listings::get(c, Some(actor), kind, listing_id)?;
    if listing.org_id == org.id {
        return Err(AppError::forbidden(Rule::OwnListingConnection));
    }
    if listing.status != ListingStatus::Published.as_str() {
        return Err(DomainError::new(
            ErrorCode::InvalidStateTransition,
            Message::rule(Rule::ListingNotPublished).word("what", kind.noun()),
        )
        .into());
    }
    let duplicate = || DomainError::new(ErrorCode::DuplicateConnection, Rule::LiveConnection);
    if db::connections::live_exists(c, &org.id, listing_id)? {
        return Err(duplicate().into());
    }
    let id = new_id();
    db::connections::insert(
        c,
        &NewConnection {
            id: &id,
            listing_id,
            listing_kind: kind.as_str(),
            listing_org_id: &listing.org_id,
            requester_org_id: &org.id,
            requester_user_id: &actor.id,
            message,
            status: ConnectionStatus::Requested.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )
    .map_err(|e| AppError::on_unique(e, ErrorCode::DuplicateConnection, Rule::LiveConnection))?;
    super::match_events::requested(c, &org.id, listing_id, &id, now)?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("connection.request", "connection", &id)
            .status(None, "requested")
            .detail(serde_json::json!({ "listing_id": listing_id, "listing_kind": kind.as_str() })),
        now,
    )?;
    notify::send(
        c,
        Recipient::Org(listing.org_id.clone()),
        Notice::new(
            "connection_requested",
            format!("新的对接请求：{}", listing.title),
            format!("{} 希望就此{}与您对接：{}", org.name, kind.chinese(), message),
        )
        .about("connection", &id),
        now,
    )?;
    get(c, actor, &id)
}

pub fn get(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<Details> {
    let row = visible(c, actor, id)?;
    details(c, row)
}

/// The listing owner's answer: accept, or decline with a reason code.
pub fn respond(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    decline: Option<(DeclineReason, Option<String>)>,
    now: DateTime<Utc>,
) -> AppResult<Details> {
    let row = visible(c, actor, id)?;
    if !actor.is_member_of(&row.listing_org_id) {
        return Err(AppError::forbidden(Rule::ConnectionAnswerer));
    }
    let from = status_of(&row)?;
    let action = if decline.is_some() { ConnectionAction::Decline } else { ConnectionAction::Accept };
    let to = rules::apply(from, action)?;
    let reason = decline.as_ref().map(|(code, text)| (code.as_str(), text.as_deref()));
    if !db::connections::transition(c, id, from.as_str(), to.as_str(), reason, now)? {
        return Err(DomainError::transition("connection", from.as_str(), action.as_str()).into());
    }
    let mut change =
        Change::new(if decline.is_some() { "connection.decline" } else { "connection.accept" }, "connection", id)
            .status(Some(from.as_str()), to.as_str());
    if let Some((code, text)) = &decline {
        change = change.detail(serde_json::json!({ "reason_code": code.as_str(), "reason": text }));
    }
    audit::record(c, Some(&actor.id), change, now)?;
    let event = if decline.is_some() { MatchEventKind::Declined } else { MatchEventKind::Accepted };
    super::match_events::outcome(c, id, event, reason.map(|(code, _)| code), now)?;
    let updated = db::connections::find(c, id)?.ok_or_else(|| AppError::not_found("connection"))?;
    let d = details(c, updated)?;
    let notice = match &decline {
        None => Notice::new(
            "connection_accepted",
            format!("对接请求已接受：{}", d.listing_title),
            format!("{} 接受了您的对接请求，双方联系方式已可查看。", d.listing_org.name),
        ),
        Some((code, text)) => Notice::new(
            "connection_declined",
            format!("对接请求未被接受：{}", d.listing_title),
            format!(
                "{} 婉拒了您的对接请求（{}）。{}",
                d.listing_org.name,
                code.as_str(),
                text.clone().unwrap_or_default()
            ),
        ),
    };
    notify::send(c, Recipient::Org(d.row.requester_org_id.clone()), notice.about("connection", id), now)?;
    Ok(d)
}

pub fn list(
    c: &mut AnyConnection,
    actor: &Actor,
    side: Side,
    status: Option<ConnectionStatus>,
    page: Page,
) -> AppResult<(Vec<Details>, i64)> {
    let Some(org_id) = actor.org_id() else { return Ok((Vec::new(), 0)) };
    let (rows, total) =
        db::connections::list(c, org_id, side, status.map(ConnectionStatus::as_str), page.offset(), page.limit())?;
    Ok((details_of(c, rows)?, total))
}

/// The connections the actor is the invited broker of (none when its profile is not live).
pub fn list_brokered(
    c: &mut AnyConnection,
    actor: &Actor,
    status: Option<ConnectionStatus>,
    page: Page,
) -> AppResult<(Vec<Details>, i64)> {
    let Some(profile) = db::brokers::find_by_user(c, &actor.id)? else { return Ok((Vec::new(), 0)) };
    if !super::brokers::is_broker(c, actor, Some(&profile.id))? {
        return Ok((Vec::new(), 0));
    }
    let status = status.map(ConnectionStatus::as_str);
    let (rows, total) = db::connections::list_brokered(c, &profile.id, status, page.offset(), page.limit())?;
    Ok((details_of(c, rows)?, total))
}

pub fn post_message(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<MessageRow> {
    let row = visible(c, actor, id)?;
    let broker = super::brokers::is_broker(c, actor, row.broker_id.as_deref())?;
    let writer = actor.org_id().filter(|o| broker || *o == row.requester_org_id || *o == row.listing_org_id);
    let Some(org_id) = writer else {
        return Err(AppError::forbidden(Rule::ThreadWriters));
    };
    rules::apply(status_of(&row)?, ConnectionAction::Message)?;
    let message_id = db::connections::add_message(c, id, &actor.id, org_id, body, now)?;
    // The other side hears of it; a broker's message goes to both parties.
    let mut readers = Vec::with_capacity(2);
    if org_id != row.requester_org_id {
        readers.push(row.requester_org_id.clone());
    }
    if org_id != row.listing_org_id {
        readers.push(row.listing_org_id.clone());
    }
    for reader in readers {
        notify::send(
            c,
            Recipient::Org(reader),
            Notice::new("connection_message", "对接消息", body.chars().take(200).collect::<String>())
                .about("connection", id)
                .in_app_only(),
            now,
        )?;
    }
    db::connections::find_message(c, &message_id)?.ok_or_else(|| AppError::not_found("message"))
}

pub fn messages(c: &mut AnyConnection, actor: &Actor, id: &str, page: Page) -> AppResult<(Vec<MessageRow>, i64)> {
    let row = visible(c, actor, id)?;
    db::connections::messages(c, &row.id, page.offset(), page.limit())
}

/// A contract created from an accepted connection moves it to `contracted`.
pub fn mark_contracted(c: &mut AnyConnection, actor: &Actor, id: &str, now: DateTime<Utc>) -> AppResult<ConnectionRow> {
    let row = visible(c, actor, id)?;
    let from = status_of(&row)?;
    let to = rules::apply(from, ConnectionAction::Contract)?;
    if !db::connections::transition(c, id, from.as_str(), to.as_str(), None, now)? {
        return Err(DomainError::transition("connection", from.as_str(), "contract").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("connection.contract", "connection", id).status(Some(from.as_str()), to.as_str()),
        now,
    )?;
    super::match_events::outcome(c, id, MatchEventKind::Contracted, None, now)?;
    db::connections::find(c, id)?.ok_or_else(|| AppError::not_found("connection"))
}
