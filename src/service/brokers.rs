//! 技术经理人: members of verified service providers keep a public profile; either party of a
//! connection invites one, who then sees that connection (and only that one), talks in it and
//! may draft its contract. The registry shows what each broker has brought about.

use chrono::{DateTime, Utc};

use crate::db::brokers::{BrokerChanges, BrokerFilter, ListedBroker};
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::broker::Profile;
use crate::domain::error::{ErrorCode, Rule};
use crate::domain::listing::Field;
use crate::domain::organization::{OrgKind, OrgStatus};
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::{Actor, Page, new_id};

/// What a broker has brought about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Connections the broker is (now) invited to.
    pub connections: i64,
    /// Contracts drafted from those connections, in any status.
    pub contracts: i64,
    /// 技术交易额: the registered amount (else the amount) of its contracts that reached
    /// `registered` or a later status (`performing`, `completed`).
    pub transaction_amount_fen: i64,
}

/// Creates or updates the caller's own profile; `true` when it was created.
pub fn save_profile(
    c: &mut AnyConnection,
    actor: &Actor,
    profile: Profile,
    now: DateTime<Utc>,
) -> AppResult<(ListedBroker, bool)> {
    let org = actor.require_verified_org()?;
    if org.kind != OrgKind::ServiceProvider {
        return Err(AppError::forbidden(Rule::BrokerServiceProvider));
    }
    let fields = serde_json::to_string(&profile.fields).map_err(AppError::internal)?;
    let changes = BrokerChanges {
        org_id: &org.id,
        fields: &fields,
        certificate_no: &profile.certificate_no,
        years_of_practice: profile.years_of_practice,
        bio: &profile.bio,
        updated_at: to_db(now),
    };
    let (id, created) = match db::brokers::find_by_user(c, &actor.id)? {
        Some(row) => {
            db::brokers::update(c, &row.id, &changes)?;
            (row.id, false)
        }
        None => {
            let id = new_id();
            db::brokers::insert(c, &id, &actor.id, &changes, to_db(now))
                .map_err(|e| AppError::on_unique(e, ErrorCode::Conflict, Rule::BrokerProfileBusy))?;
            (id, true)
        }
    };
    audit::record(
        c,
        Some(&actor.id),
        Change::new(if created { "broker.create" } else { "broker.update" }, "broker", &id).detail(
            serde_json::json!({ "org_id": org.id, "certificate_no": profile.certificate_no, "fields": profile.fields }),
        ),
        now,
    )?;
    Ok((live(c, &id)?, created))
}

/// A live profile (its user still a member of its verified service provider), else 404.
pub fn live(c: &mut AnyConnection, id: &str) -> AppResult<ListedBroker> {
    let filter = BrokerFilter { id: Some(id.to_owned()), ..Default::default() };
    let (mut rows, _) = db::brokers::list(c, &filter, 0, 1)?;
    rows.pop().ok_or_else(|| AppError::not_found("broker"))
}

pub fn get(c: &mut AnyConnection, id: &str) -> AppResult<(ListedBroker, Figures)> {
    let broker = live(c, id)?;
    let f = db::brokers::figures(c, id)?;
    let total: i128 = f.amounts.iter().map(|(registered, amount)| i128::from(registered.unwrap_or(*amount))).sum();
    let figures = Figures {
        connections: f.connections,
        contracts: f.contracts,
        transaction_amount_fen: crate::domain::money::saturate(total),
    };
    Ok((broker, figures))
}

/// The public registry, searched by `q` (name, bio, certificate number), field and region.
pub fn list(
    c: &mut AnyConnection,
    q: Option<String>,
    field: Option<Field>,
    region: Option<String>,
    page: Page,
) -> AppResult<(Vec<ListedBroker>, i64)> {
    let filter = BrokerFilter { q, field: field.map(|f| f.as_str().to_owned()), region, id: None };
    db::brokers::list(c, &filter, page.offset(), page.limit())
}

/// Whether the actor is the live broker `broker_id`: the profile's user, still a member of
/// the profile's organization, which is still verified.
pub fn is_broker(c: &mut AnyConnection, actor: &Actor, broker_id: Option<&str>) -> AppResult<bool> {
    let Some(id) = broker_id else { return Ok(false) };
    let Some(org) = actor.org.as_ref().filter(|o| o.status == OrgStatus::Verified) else { return Ok(false) };
    Ok(db::brokers::find(c, id)?.is_some_and(|b| b.user_id == actor.id && b.org_id == org.id))
}

/// Whether the actor is a live broker invited to a connection about the listing `listing_id`
/// (it then sees the listing as the parties do, even when it is no longer published).
pub fn invited_about_listing(c: &mut AnyConnection, actor: &Actor, listing_id: &str) -> AppResult<bool> {
    let Some(profile) = db::brokers::find_by_user(c, &actor.id)? else { return Ok(false) };
    if !is_broker(c, actor, Some(&profile.id))? {
        return Ok(false);
    }
    db::brokers::invited_about(c, &profile.id, listing_id)
}
