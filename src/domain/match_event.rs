//! Match impressions and their outcomes, and the online metrics computed from them: how often a
//! shown match leads to a connection request, and how requests fare by the rank they were shown
//! at. Pure: the counts come in, the report goes out.

use serde::Serialize;

use crate::text_enum;

text_enum!(
    /// What happened to a match: shown in a list, then (perhaps) requested, answered, contracted.
    MatchEventKind {
        Shown = "shown",
        Requested = "requested",
        Accepted = "accepted",
        Declined = "declined",
        Contracted = "contracted",
    }
);

text_enum!(
    /// How the list was ranked: text and embeddings together, or text alone.
    MatchMode { Hybrid = "hybrid", Lexical = "lexical" }
);

/// Ranks are reported in these buckets (1-based, inclusive): the top three one by one, then
/// wider bands where fewer people look.
pub const RANK_BUCKETS: &[(i32, i32)] = &[(1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 50)];

/// The bucket a rank falls in, as its label ("1", "4–5", "11–50").
pub fn bucket_label(rank: i32) -> Option<String> {
    RANK_BUCKETS
        .iter()
        .find(|(lo, hi)| (*lo..=*hi).contains(&rank))
        .map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") })
}

/// One aggregated count from the event log. `impressions` are distinct (organization, listing
/// shown for, listing shown) triples, so reloading a list does not inflate them; the outcome
/// kinds count events (one per connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub kind: MatchEventKind,
    pub rank: Option<i32>,
    pub mode: Option<MatchMode>,
    /// The decline reason code, for `declined`.
    pub reason: Option<String>,
    pub n: i64,
}

/// The match funnel of one slice (a rank bucket, a mode, or everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Funnel {
    pub impressions: i64,
    pub requests: i64,
    pub accepted: i64,
    pub declined: i64,
    pub contracted: i64,
}

impl Funnel {
    fn add(&mut self, kind: MatchEventKind, n: i64) {
        let slot = match kind {
            MatchEventKind::Shown => &mut self.impressions,
            MatchEventKind::Requested => &mut self.requests,
            MatchEventKind::Accepted => &mut self.accepted,
            MatchEventKind::Declined => &mut self.declined,
            MatchEventKind::Contracted => &mut self.contracted,
        };
        *slot = slot.saturating_add(n);
    }

    /// Connection requests per impression; `None` before anything was shown.
    pub fn request_rate(&self) -> Option<f64> {
        ratio(self.requests, self.impressions)
    }

    /// Accepted share of the answered requests; `None` while none is answered.
    pub fn acceptance(&self) -> Option<f64> {
        ratio(self.accepted, self.accepted.saturating_add(self.declined))
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankRow {
    pub ranks: String,
    #[serde(flatten)]
    pub funnel: Funnel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeRow {
    pub mode: MatchMode,
    #[serde(flatten)]
    pub funnel: Funnel,
}

/// Online match metrics over a window of the event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Everything that came from a match list.
    pub total: Funnel,
    pub by_rank: Vec<RankRow>,
    pub by_mode: Vec<ModeRow>,
    /// Requests for listings the requesting organization was never shown in a match list
    /// (found by search or browsing), with their outcomes.
    pub not_from_matches: Funnel,
    /// Decline reason codes of requests that came from match lists, most frequent first.
    pub decline_reasons: Vec<(String, i64)>,
}

/// Folds aggregated counts into the report.
pub fn report(counts: &[Count]) -> Report {
    let mut total = Funnel::default();
    let mut not_from_matches = Funnel::default();
    let mut by_rank: Vec<RankRow> = RANK_BUCKETS
        .iter()
        .filter_map(|(lo, _)| bucket_label(*lo))
        .map(|ranks| RankRow { ranks, funnel: Funnel::default() })
        .collect();
    let mut by_mode: Vec<ModeRow> =
        MatchMode::ALL.iter().map(|&mode| ModeRow { mode, funnel: Funnel::default() }).collect();
    let mut reasons: Vec<(String, i64)> = Vec::new();
    for count in counts {
        let Some(rank) = count.rank else {
            not_from_matches.add(count.kind, count.n);
            continue;
        };
        total.add(count.kind, count.n);
        if let Some(label) = bucket_label(rank)
            && let Some(row) = by_rank.iter_mut().find(|r| r.ranks == label)
        {
            row.funnel.add(count.kind, count.n);
        }
        if let Some(row) = by_mode.iter_mut().find(|r| Some(r.mode) == count.mode) {
            row.funnel.add(count.kind, count.n);
        }
        if count.kind == MatchEventKind::Declined {
            let code = count.reason.clone().unwrap_or_else(|| "other".to_owned());
            match reasons.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n = n.saturating_add(count.n),
                None => reasons.push((code, count.n)),
            }
        }
    }
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Report { total, by_rank, by_mode, not_from_matches, decline_reasons: reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(kind: MatchEventKind, rank: Option<i32>, mode: Option<MatchMode>, n: i64) -> Count {
        Count { kind, rank, mode, reason: None, n }
    }

    #[test]
    fn ranks_fall_in_their_buckets() {
        assert_eq!(bucket_label(1).as_deref(), Some("1"));
        assert_eq!(bucket_label(3).as_deref(), Some("3"));
        assert_eq!(bucket_label(4).as_deref(), Some("4–5"));
        assert_eq!(bucket_label(10).as_deref(), Some("6–10"));
        assert_eq!(bucket_label(50).as_deref(), Some("11–50"));
        assert_eq!(bucket_label(0), None);
        assert_eq!(bucket_label(51), None);
    }

    #[test]
    fn report_splits_the_funnel_by_rank_and_mode() {
        use MatchEventKind::*;
        let hybrid = Some(MatchMode::Hybrid);
        let lexical = Some(MatchMode::Lexical);
        let mut declined = count(Declined, Some(2), lexical, 1);
        declined.reason = Some("price".to_owned());
        let counts = vec![
            count(Shown, Some(1), hybrid, 10),
            count(Shown, Some(2), lexical, 8),
            count(Shown, Some(7), hybrid, 5),
            count(Requested, Some(1), hybrid, 4),
            count(Requested, Some(2), lexical, 2),
            count(Accepted, Some(1), hybrid, 3),
            declined,
            count(Contracted, Some(1), hybrid, 1),
            count(Requested, None, None, 6),
            count(Accepted, None, None, 2),
        ];
        let r = report(&counts);
        assert_eq!(r.total, Funnel { impressions: 23, requests: 6, accepted: 3, declined: 1, contracted: 1 });
        assert_eq!(r.by_rank[0].ranks, "1");
        assert_eq!(r.by_rank[0].funnel.request_rate(), Some(0.4));
        assert_eq!(r.by_rank[0].funnel.acceptance(), Some(1.0));
        assert_eq!(r.by_rank[1].funnel.acceptance(), Some(0.0));
        assert_eq!(r.by_rank[4].ranks, "6–10");
        assert_eq!(r.by_rank[4].funnel.impressions, 5);
        assert_eq!(r.by_rank[4].funnel.request_rate(), Some(0.0));
        assert_eq!(r.by_mode[0].mode, MatchMode::Hybrid);
        assert_eq!(r.by_mode[0].funnel.impressions, 15);
        assert_eq!(r.by_mode[1].funnel.requests, 2);
        assert_eq!(r.not_from_matches, Funnel { requests: 6, accepted: 2, ..Funnel::default() });
        assert_eq!(r.decline_reasons, vec![("price".to_owned(), 1)]);
    }

    #[test]
    fn rates_are_absent_without_a_denominator() {
        let empty = Funnel::default();
        assert_eq!(empty.request_rate(), None);
        assert_eq!(empty.acceptance(), None);
    }
}
