//! Listing freshness: the owner confirms a listing is still current or extends a demand's
//! deadline, and an hourly job expires demands at their deadline, tells owners when a listing
//! leaves matching for want of confirmation, and reminds them before both.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

use crate::db::freshness::Sent;
use crate::db::listings::ListingRow;
use crate::db::time::from_db;
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, Rule};
use crate::domain::freshness::{self as rules, DEADLINE_REMINDER_DAYS, Facts, Policy};
use crate::domain::listing::{self as listing_rules, ListingAction, ListingKind, ListingStatus};
use crate::domain::voucher::shanghai_date;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};

use super::Actor;
use super::audit::{self, Change};
use super::listings::{load, owned, status_of};
use super::notify::{self, Notice, Recipient};

/// What the freshness rules read from a row (an unknown status reads as not published).
pub fn facts(row: &ListingRow) -> Facts {
    Facts {
        kind: if row.kind == ListingKind::Demand.as_str() { ListingKind::Demand } else { ListingKind::Achievement },
        status: ListingStatus::parse(&row.status).unwrap_or(ListingStatus::Withdrawn),
        deadline: row.deadline,
        published_at: row.published_at.map(from_db),
        confirmed_at: row.confirmed_at.map(from_db),
    }
}

/// Whether the listing is offered by matching and subscriptions right now.
pub fn matchable(row: &ListingRow, policy: &Policy, now: DateTime<Utc>) -> bool {
    policy.matchable(&facts(row), now)
}

pub fn is_stale(row: &ListingRow, policy: &Policy, now: DateTime<Utc>) -> bool {
    policy.is_stale(&facts(row), now)
}

/// `POST /{kind}s/{id}/confirm`: the owner says a published listing is still current; it
/// returns to matching if it had left.
pub fn confirm(
    c: &mut AnyConnection,
    actor: &Actor,
    kind: ListingKind,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let row = owned(c, actor, kind, id)?;
    let from = status_of(&row)?;
    listing_rules::apply(kind, from, ListingAction::Confirm)?;
    if !db::freshness::confirm(c, id, now)? {
        return Err(DomainError::transition(kind.noun(), from.as_str(), "confirm").into());
    }
    audit::record(c, Some(&actor.id), Change::new("listing.confirm", kind.noun(), id), now)?;
    load(c, kind, id)
}

/// `POST /demands/{id}/extend`: a later deadline (a day after today) for a published or
/// expired demand; an expired one is published again at once (its content is unchanged, so
/// it needs no new review). Extending also confirms the demand.
pub fn extend(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    deadline: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<ListingRow> {
    let kind = ListingKind::Demand;
    let row = owned(c, actor, kind, id)?;
    let from = status_of(&row)?;
    let to = listing_rules::apply(kind, from, ListingAction::Extend)?;
    if !rules::valid_extension(deadline, now) {
        return Err(AppError::field("deadline", Rule::Future));
    }
    if !db::freshness::extend(c, id, from.as_str(), deadline, now)? {
        return Err(DomainError::transition(kind.noun(), from.as_str(), "extend").into());
    }
    let detail = serde_json::json!({ "from_deadline": row.deadline, "deadline": deadline });
    let change = Change::new("listing.extend", kind.noun(), id).status(Some(from.as_str()), to.as_str()).detail(detail);
    audit::record(c, Some(&actor.id), change, now)?;
    load(c, kind, id)
}

/// The next sweep: the top of the next hour.
pub fn next_sweep_time(now: DateTime<Utc>) -> DateTime<Utc> {
    let hour = now.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(now);
    hour + Duration::hours(1)
}

/// Makes sure the next sweep is scheduled (once).
pub fn schedule_sweep(c: &mut AnyConnection, now: DateTime<Utc>) -> AppResult<()> {
    jobs::schedule(c, &Job::FreshnessSweep, next_sweep_time(now), "freshness_sweep")
}

fn tell(
    c: &mut AnyConnection,
    row: &ListingRow,
    kind: &str,
    title: String,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let noun = if row.kind == ListingKind::Demand.as_str() { "demand" } else { "achievement" };
    notify::send(c, Recipient::Org(row.org_id.clone()), Notice::new(kind, title, body).about(noun, &row.id), now)
}

fn chinese(row: &ListingRow) -> &'static str {
    if row.kind == ListingKind::Demand.as_str() { "技术需求" } else { "科技成果" }
}

/// Job body: expires demands past their deadline, sends the one-time reminders and stale
/// notices, then schedules the next run. Returns the listings whose place in search or
/// matching changed (the caller refreshes them in the index, which also drops cached lists).
pub fn sweep(c: &mut AnyConnection, policy: &Policy, now: DateTime<Utc>) -> AppResult<Vec<String>> {
    let mut changed = Vec::new();
    let today = shanghai_date(now);
    for row in db::freshness::demands_due(c, today, false)? {
        if !rules::deadline_passed(row.deadline, now) {
            continue;
        }
        let to = listing_rules::apply(ListingKind::Demand, ListingStatus::Published, ListingAction::Expire)?;
        if !db::listings::transition(c, &row.id, "published", to.as_str(), None, now)? {
            continue;
        }
        let change = Change::new("listing.expire", "demand", &row.id).status(Some("published"), to.as_str());
        audit::record(c, None, change, now)?;
        let title = format!("技术需求已到期：{}", row.title);
        tell(
            c,
            &row,
            "demand_expired",
            title,
            "截止日期已过，需求已下架，不再出现在检索与匹配中。延长截止日期即可重新发布。",
            now,
        )?;
        changed.push(row.id);
    }
    let soon = today + Duration::days(DEADLINE_REMINDER_DAYS - 1);
    for row in db::freshness::demands_due(c, soon, true)? {
        if rules::deadline_reminder_due(row.deadline, now)
            && db::freshness::mark_sent(c, &row.id, Sent::DeadlineReminder, now)?
        {
            let title = format!("技术需求即将到期：{}", row.title);
            tell(c, &row, "demand_deadline_soon", title, "需求将在 7 天内到期，如仍有需要请延长截止日期。", now)?;
        }
    }
    if policy.confirm_after_days > 0 {
        let cutoff = now - Duration::days(policy.confirm_after_days);
        for row in db::freshness::unconfirmed_since(c, cutoff, false)? {
            if is_stale(&row, policy, now) && db::freshness::mark_sent(c, &row.id, Sent::Stale, now)? {
                let title = format!("{}已暂停匹配：{}", chinese(&row), row.title);
                tell(
                    c,
                    &row,
                    "listing_stale",
                    title,
                    "长期未确认的信息不再参与匹配与订阅推送。确认信息仍有效后即恢复。",
                    now,
                )?;
                changed.push(row.id);
            }
        }
        let early = cutoff + Duration::days(policy.reminder_days.max(0));
        for row in db::freshness::unconfirmed_since(c, early, true)? {
            if policy.stale_reminder_due(&facts(&row), now)
                && db::freshness::mark_sent(c, &row.id, Sent::StaleReminder, now)?
            {
                let title = format!("请确认{}仍然有效：{}", chinese(&row), row.title);
                tell(c, &row, "listing_confirm_soon", title, "长期未确认的信息将暂停匹配，请及时确认。", now)?;
            }
        }
    }
    schedule_sweep(c, now)?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_run_at_the_top_of_each_hour() {
        let t =
            DateTime::parse_from_rfc3339("2026-12-07T21:35:12.5Z").map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        assert_eq!(next_sweep_time(t).to_rfc3339(), "2026-12-07T22:00:00+00:00");
    }
}
