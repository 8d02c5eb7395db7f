//! Subscriptions: a user asks to hear about newly published achievements, demands or
//! challenges in some fields, with some keywords, in a region. Publication enqueues a job
//! that notifies every matching subscriber in the app and queues the item for their daily
//! email digest.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::listings::SubscriptionRow;
use crate::db::time::to_db;
use crate::db::{self, AnyConnection};
use crate::domain::freshness::Policy;
use crate::domain::links;
use crate::domain::listing::Field;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job};
use crate::mail::{DigestItem, Email};
use crate::search::analyzer::{Analyzer, norm};

use super::notify::{self, Notice, Recipient};
use super::{Actor, new_id};

crate::text_enum!(Target { Achievement = "achievement", Demand = "demand", Challenge = "challenge" });

impl Target {
    fn chinese(self) -> &'static str {
        match self {
            Target::Achievement => "科技成果",
            Target::Demand => "技术需求",
            Target::Challenge => "揭榜挂帅榜单",
        }
    }
}

#[derive(Clone)]
pub struct NewSubscription {
    pub target: Target,
    pub fields: Vec<Field>,
    pub keywords: Vec<String>,
    pub region: Option<String>,
}

pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    input: NewSubscription,
    now: DateTime<Utc>,
) -> AppResult<SubscriptionRow> {
    let fields: Vec<&str> = input.fields.iter().map(|f| f.as_str()).collect();
    let row = SubscriptionRow {
        id: new_id(),
        user_id: actor.id.clone(),
        target: input.target.as_str().to_owned(),
        fields: serde_json::to_string(&fields).map_err(AppError::internal)?,
        keywords: serde_json::to_string(&input.keywords).map_err(AppError::internal)?,
        region: input.region,
        created_at: to_db(now),
    };
    db::listings::insert_subscription(c, &row)?;
    Ok(row)
}

pub fn delete(c: &mut AnyConnection, actor: &Actor, id: &str) -> AppResult<()> {
    if db::listings::delete_subscription(c, &actor.id, id)? { Ok(()) } else { Err(AppError::not_found("subscription")) }
}

/// What a subscription is matched against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub title: String,
    pub text: String,
    pub field: String,
    pub region: Option<String>,
    pub org_id: String,
}

/// Whether a newly published item fits a subscription: any of its fields (if given), its
/// region (if given), and any of its keywords (if given) found in the text, literally or
/// through the synonym table.
pub fn fits(sub: &SubscriptionRow, item: &Published) -> bool {
    let fields = sub.fields();
    if !fields.is_empty() && !fields.contains(&item.field) {
        return false;
    }
    if let Some(region) = &sub.region
        && item.region.as_deref() != Some(region.as_str())
    {
        return false;
    }
    let keywords = sub.keywords();
    if keywords.is_empty() {
        return true;
    }
    let text = norm(&format!("{} {}", item.title, item.text));
    let analyzer = Analyzer::global();
    let item_terms: std::collections::HashSet<String> = analyzer.analyze(&text).into_iter().collect();
    keywords.iter().any(|k| {
        let k_norm = norm(k);
        if !k_norm.is_empty() && text.contains(&k_norm) {
            return true;
        }
        let terms = analyzer.analyze(k);
        !terms.is_empty() && terms.iter().all(|t| item_terms.contains(t))
    })
}

fn published_item(
    c: &mut AnyConnection,
    target: Target,
    id: &str,
    policy: &Policy,
    now: DateTime<Utc>,
) -> AppResult<Option<Published>> {
    Ok(match target {
        // A listing that left matching (expired, stale) is not announced either.
        Target::Achievement | Target::Demand => db::listings::find_any(c, id)?
            .filter(|row| super::freshness::matchable(row, policy, now))
            .map(|row| Published {
                text: format!("{} {}", row.keywords().join(" "), row.body),
                title: row.title,
                field: row.field,
                region: Some(row.region),
                org_id: row.org_id,
            }),
        Target::Challenge => super::challenges::published_item(c, id)?,
    })
}

/// Job body: tell every matching subscriber (outside the publishing organization).
pub fn deliver_matches(
    c: &mut AnyConnection,
    target: &str,
    id: &str,
    policy: &Policy,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let target = Target::parse(target).ok_or_else(|| super::corrupt("subscription target", target))?;
    let Some(item) = published_item(c, target, id, policy, now)? else { return Ok(0) };
    let mut told = 0;
    for sub in db::listings::subscriptions_for(c, target.as_str())? {
        if !fits(&sub, &item) {
            continue;
        }
        let Some(user) = db::users::find(c, &sub.user_id)? else { continue };
        if user.org_id.as_deref() == Some(item.org_id.as_str()) {
            continue;
        }
        notify::send(
            c,
            Recipient::User(user.id.clone()),
            Notice::new(
                "subscription_match",
                format!("新发布的{}：{}", target.chinese(), item.title),
                "符合您订阅条件的信息已发布。",
            )
            .about(target.as_str(), id)
            .in_app_only(),
            now,
        )?;
        db::listings::add_digest_item(c, &user.id, target.as_str(), id, &item.title, now)?;
        told += 1;
    }
    Ok(told)
}

/// The next daily digest time: 09:00 Asia/Shanghai (01:00 UTC) after `now`.
pub fn next_digest_time(now: DateTime<Utc>) -> DateTime<Utc> {
    let at = now.date_naive().and_time(NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default()).and_utc();
    if at > now { at } else { at + Duration::days(1) }
}

/// Job body: one digest email per user with unsent items, then the next day's run.
pub fn send_digests(c: &mut AnyConnection, base_url: &str, now: DateTime<Utc>) -> AppResult<usize> {
    let items = db::listings::unsent_digest(c)?;
    let mut users = 0;
    let mut start = 0;
    while start < items.len() {
        let user_id = items[start].0.clone();
        let end = items[start..].iter().position(|i| i.0 != user_id).map_or(items.len(), |p| start + p);
        if let Some(user) = db::users::find(c, &user_id)? {
            let digest = items[start..end]
                .iter()
                .map(|(_, target, id, title)| DigestItem {
                    title: title.clone(),
                    link: format!("{base_url}{}", links::record_path(target, id)),
                })
                .collect();
            jobs::enqueue(c, &Job::SendEmail { to: user.email, email: Email::Digest { items: digest } }, now)?;
            users += 1;
        }
        db::listings::mark_digest_sent(c, &user_id, now)?;
        start = end;
    }
    schedule_digest(c, now)?;
    Ok(users)
}

/// Makes sure the next daily digest is scheduled (once).
pub fn schedule_digest(c: &mut AnyConnection, now: DateTime<Utc>) -> AppResult<()> {
    jobs::schedule(c, &Job::DailyDigest, next_digest_time(now), "daily_digest")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(fields: &[&str], keywords: &[&str], region: Option<&str>) -> SubscriptionRow {
        SubscriptionRow {
            id: "s".into(),
            user_id: "u".into(),
            target: "achievement".into(),
            fields: serde_json::to_string(fields).unwrap_or_default(),
            keywords: serde_json::to_string(keywords).unwrap_or_default(),
            region: region.map(str::to_owned),
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    fn item() -> Published {
        Published {
            title: "高效钙钛矿太阳能电池".into(),
            text: "采用两步法制备大面积钙钛矿薄膜".into(),
            field: "new_energy".into(),
            region: Some("江苏省".into()),
            org_id: "o".into(),
        }
    }

    #[test]
    fn subscriptions_match_on_field_region_and_keywords() {
        assert!(fits(&sub(&[], &[], None), &item()));
        assert!(fits(&sub(&["new_energy"], &["钙钛矿"], Some("江苏省")), &item()));
        assert!(!fits(&sub(&["biomedicine"], &[], None), &item()));
        assert!(!fits(&sub(&[], &[], Some("上海市")), &item()));
        assert!(!fits(&sub(&[], &["锂电池"], None), &item()));
        assert!(fits(&sub(&[], &["锂电池", "薄膜"], None), &item()), "any keyword suffices");
    }

    #[test]
    fn digest_runs_at_nine_in_shanghai() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-23T00:30:00Z").map(|d| d.with_timezone(&Utc));
        let t = t.unwrap_or_default();
        assert_eq!(next_digest_time(t).to_rfc3339(), "2026-11-23T01:00:00+00:00");
        assert_eq!(next_digest_time(t + Duration::hours(1)).to_rfc3339(), "2026-11-24T01:00:00+00:00");
    }
}
