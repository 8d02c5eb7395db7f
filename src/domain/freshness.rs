//! Listing freshness: demands expire at their deadline, and a published listing its owner has
//! not confirmed for a while leaves matching until it is confirmed. Pure: the clock and the
//! configured number of days come in.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::listing::{ListingKind, ListingStatus};
use super::voucher::shanghai_date;

/// The owner of a published demand is reminded this many days before its deadline (once).
pub const DEADLINE_REMINDER_DAYS: i64 = 7;

/// What freshness needs to know about a listing.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub kind: ListingKind,
    pub status: ListingStatus,
    pub deadline: Option<NaiveDate>,
    pub published_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// How long a confirmation lasts, and how early the owner hears that it is running out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `matching.confirm_after_days`; 0 turns staleness off.
    pub confirm_after_days: i64,
    /// `matching.confirm_reminder_days`: the reminder comes this many days before.
    pub reminder_days: i64,
}

/// A deadline is the last day a demand is open (Asia/Shanghai), so it has passed once that
/// calendar day has ended.
pub fn deadline_passed(deadline: Option<NaiveDate>, now: DateTime<Utc>) -> bool {
    deadline.is_some_and(|d| shanghai_date(now) > d)
}

/// An extension must name a day after today (Asia/Shanghai).
pub fn valid_extension(deadline: NaiveDate, now: DateTime<Utc>) -> bool {
    deadline > shanghai_date(now)
}

/// Whether the one reminder before the deadline is due: at most [`DEADLINE_REMINDER_DAYS`]
/// before the demand closes (the end of its deadline day), and it has not closed yet.
pub fn deadline_reminder_due(deadline: Option<NaiveDate>, now: DateTime<Utc>) -> bool {
    let today = shanghai_date(now);
    deadline.is_some_and(|d| today <= d && (d - today).num_days() < DEADLINE_REMINDER_DAYS)
}

impl Policy {
    /// When a published listing goes stale: `confirm_after_days` after the later of its
    /// publication and its owner's last confirmation. `None` when it never does (not
    /// published, or staleness off).
    pub fn stale_at(&self, f: &Facts) -> Option<DateTime<Utc>> {
        if f.status != ListingStatus::Published || self.confirm_after_days <= 0 {
            return None;
        }
        let anchor = f.published_at.max(f.confirmed_at)?;
        anchor.checked_add_signed(Duration::days(self.confirm_after_days))
    }

    pub fn is_stale(&self, f: &Facts, now: DateTime<Utc>) -> bool {
        self.stale_at(f).is_some_and(|at| now >= at)
    }

    /// Whether the reminder before staleness is due (the caller sends it once).
    pub fn stale_reminder_due(&self, f: &Facts, now: DateTime<Utc>) -> bool {
        self.stale_at(f).is_some_and(|at| now < at && now >= at - Duration::days(self.reminder_days.max(0)))
    }

    /// Whether the listing takes part in matching (as a query's counterpart, in either
    /// direction, and in subscription deliveries): published, not stale, and for a demand
    /// not past its deadline (even before the job has marked it `expired`).
    pub fn matchable(&self, f: &Facts, now: DateTime<Utc>) -> bool {
        f.status == ListingStatus::Published
            && !self.is_stale(f, now)
            && !(f.kind == ListingKind::Demand && deadline_passed(f.deadline, now))
    }
}

/// One ISO week of a listing's insights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Week {
    /// Monday of the week.
    pub starts: NaiveDate,
    /// Distinct (organization, their listing) pairs shown this listing in a match list.
    pub match_appearances: i64,
    /// Search results pages that listed it.
    pub search_appearances: i64,
    pub connection_requests: i64,
    pub accepted: i64,
    pub declined: i64,
}

impl Week {
    /// `2026-W49`.
    pub fn label(&self) -> String {
        let w = self.starts.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    }
}

/// The Monday of the ISO week `day` falls in.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The `weeks` ISO weeks ending with the one containing `today`, oldest first, all zero.
pub fn empty_weeks(today: NaiveDate, weeks: u32) -> Vec<Week> {
    let last = week_start(today);
    (0..i64::from(weeks)).rev().map(|back| Week { starts: last - Duration::weeks(back), ..Week::default() }).collect()
}

/// What happened to a listing, one row each, as the insights read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Shown in a match list to `viewer` (organization and the listing it matched for).
    Shown {
        viewer: String,
    },
    /// `n` search results pages listed it that day.
    Searched {
        n: i64,
    },
    Requested,
    Accepted,
    Declined {
        reason: Option<String>,
    },
}

/// Listing insights over a run of weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insights {
    pub weeks: Vec<Week>,
    /// Decline reason codes with their counts, most frequent first (ties by code); a decline
    /// without a code counts as `other`.
    pub decline_reasons: Vec<(String, i64)>,
}

/// Buckets `events` (by their Asia/Shanghai day) into `weeks`; events outside them are
/// ignored. A viewer seeing the listing several times in one week counts once that week.
pub fn insights(mut weeks: Vec<Week>, events: &[(NaiveDate, Event)]) -> Insights {
    use std::collections::{BTreeMap, HashSet};
    let mut seen: HashSet<(NaiveDate, &str)> = HashSet::new();
    let mut reasons: BTreeMap<String, i64> = BTreeMap::new();
    for (day, event) in events {
        let starts = week_start(*day);
        let Some(week) = weeks.iter_mut().find(|w| w.starts == starts) else { continue };
        match event {
            Event::Shown { viewer } => {
                if seen.insert((starts, viewer.as_str())) {
                    week.match_appearances += 1;
                }
            }
            Event::Searched { n } => week.search_appearances = week.search_appearances.saturating_add(*n),
            Event::Requested => week.connection_requests += 1,
            Event::Accepted => week.accepted += 1,
            Event::Declined { reason } => {
                week.declined += 1;
                *reasons.entry(reason.clone().unwrap_or_else(|| "other".to_owned())).or_default() += 1;
            }
        }
    }
    let mut decline_reasons: Vec<(String, i64)> = reasons.into_iter().collect();
    decline_reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Insights { weeks, decline_reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn facts(status: ListingStatus, published: &str, confirmed: Option<&str>) -> Facts {
        Facts {
            kind: ListingKind::Achievement,
            status,
            deadline: None,
            published_at: Some(at(published)),
            confirmed_at: confirmed.map(at),
        }
    }

    const POLICY: Policy = Policy { confirm_after_days: 180, reminder_days: 14 };

    #[test]
    fn deadlines_end_with_their_shanghai_day() {
        let d = Some(day("2026-12-10"));
        assert!(!deadline_passed(d, at("2026-12-10T15:59:59Z")), "23:59:59 in Shanghai");
        assert!(deadline_passed(d, at("2026-12-10T16:00:00Z")));
        assert!(!deadline_passed(None, at("2099-01-01T00:00:00Z")));
        assert!(valid_extension(day("2026-12-11"), at("2026-12-10T15:00:00Z")));
        assert!(!valid_extension(day("2026-12-10"), at("2026-12-10T15:00:00Z")), "today is not the future");
    }

    #[test]
    fn the_deadline_reminder_comes_in_the_last_week() {
        let d = Some(day("2026-12-10"));
        assert!(!deadline_reminder_due(d, at("2026-12-03T15:59:59Z")), "more than 7 days before it closes");
        assert!(deadline_reminder_due(d, at("2026-12-03T16:00:00Z")), "7 days before it closes");
        assert!(deadline_reminder_due(d, at("2026-12-10T12:00:00Z")), "on the day");
        assert!(!deadline_reminder_due(d, at("2026-12-11T12:00:00Z")), "passed");
    }

    #[test]
    fn listings_go_stale_after_the_later_of_publication_and_confirmation() {
        let f = facts(ListingStatus::Published, "2026-01-01T00:00:00Z", None);
        assert!(!POLICY.is_stale(&f, at("2026-06-29T23:59:59Z")));
        assert!(POLICY.is_stale(&f, at("2026-06-30T00:00:00Z")), "180 days after publication");
        let confirmed = facts(ListingStatus::Published, "2026-01-01T00:00:00Z", Some("2026-06-01T00:00:00Z"));
        assert!(!POLICY.is_stale(&confirmed, at("2026-06-30T00:00:00Z")));
        assert!(POLICY.is_stale(&confirmed, at("2026-11-28T00:00:00Z")));
        let withdrawn = facts(ListingStatus::Withdrawn, "2026-01-01T00:00:00Z", None);
        assert!(!POLICY.is_stale(&withdrawn, at("2030-01-01T00:00:00Z")), "only published listings");
        let off = Policy { confirm_after_days: 0, reminder_days: 14 };
        assert!(!off.is_stale(&f, at("2030-01-01T00:00:00Z")));
        assert!(!POLICY.stale_reminder_due(&f, at("2026-06-15T23:59:59Z")));
        assert!(POLICY.stale_reminder_due(&f, at("2026-06-16T00:00:00Z")), "14 days before");
        assert!(!POLICY.stale_reminder_due(&f, at("2026-06-30T00:00:00Z")), "already stale");
    }

    #[test]
    fn only_fresh_open_published_listings_match() {
        let now = at("2026-03-01T00:00:00Z");
        let mut f = facts(ListingStatus::Published, "2026-01-01T00:00:00Z", None);
        assert!(POLICY.matchable(&f, now));
        f.kind = ListingKind::Demand;
        f.deadline = Some(day("2026-02-27"));
        assert!(!POLICY.matchable(&f, now), "past its deadline before the job ran");
        f.deadline = Some(day("2026-03-01"));
        assert!(POLICY.matchable(&f, now));
        assert!(!POLICY.matchable(&f, at("2026-07-01T00:00:00Z")), "stale");
        f.status = ListingStatus::Expired;
        assert!(!POLICY.matchable(&f, now));
    }

    #[test]
    fn insights_count_per_iso_week() {
        let weeks = empty_weeks(day("2026-12-09"), 2);
        assert_eq!(weeks.iter().map(Week::label).collect::<Vec<_>>(), ["2026-W49", "2026-W50"]);
        let shown = |v: &str| Event::Shown { viewer: v.to_owned() };
        let events = vec![
            (day("2026-12-01"), shown("a|x")),
            (day("2026-12-02"), shown("a|x")),
            (day("2026-12-03"), shown("b|y")),
            (day("2026-12-08"), shown("a|x")),
            (day("2026-11-20"), shown("c|z")),
            (day("2026-12-01"), Event::Searched { n: 5 }),
            (day("2026-12-09"), Event::Searched { n: 2 }),
            (day("2026-12-02"), Event::Requested),
            (day("2026-12-02"), Event::Requested),
            (day("2026-12-08"), Event::Accepted),
            (day("2026-12-08"), Event::Declined { reason: Some("budget".into()) }),
            (day("2026-12-09"), Event::Declined { reason: None }),
            (day("2026-12-09"), Event::Declined { reason: Some("budget".into()) }),
        ];
        let out = insights(weeks, &events);
        let w = &out.weeks;
        assert_eq!((w[0].match_appearances, w[1].match_appearances), (2, 1), "once per viewer per week");
        assert_eq!((w[0].search_appearances, w[1].search_appearances), (5, 2));
        assert_eq!((w[0].connection_requests, w[1].accepted, w[1].declined), (2, 1, 3));
        assert_eq!(out.decline_reasons, vec![("budget".to_owned(), 2), ("other".to_owned(), 1)]);
    }
}
