//! 揭榜挂帅 challenges and their bids: the state machines, deadlines read with the clock,
//! the review aggregate, award rules and the milestone payment split.

use crate::domain::error::{Message, Rule};
use chrono::{DateTime, Utc};

use super::error::{DomainError, ErrorCode};
use crate::text_enum;

text_enum!(
    ChallengeStatus {
        Draft = "draft",
        PendingReview = "pending_review",
        Rejected = "rejected",
        Open = "open",
        BiddingClosed = "bidding_closed",
        UnderReview = "under_review",
        Publicizing = "publicizing",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

text_enum!(
    BidStatus {
        Submitted = "submitted",
        Withdrawn = "withdrawn",
        Awarded = "awarded",
        NotSelected = "not_selected",
        Eliminated = "eliminated",
    }
);

text_enum!(
    /// `single`: one winner; `horse_race` (赛马制): 2..5 winners run in parallel;
    /// `directed` (定向委托): one chosen organization, no open call.
    ChallengeMode { Single = "single", HorseRace = "horse_race", Directed = "directed" }
);

text_enum!(MilestoneStatus { Pending = "pending", Delivered = "delivered", Accepted = "accepted" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeAction {
    Submit,
    Approve,
    Reject,
    /// The bid deadline passed.
    CloseBidding,
    AssignExperts,
    /// Award straight after bidding (directed commissions without experts).
    AwardWithoutReview,
    Award,
    /// The public notice period (公示) ended.
    EndPublicity,
    Complete,
    Cancel,
}

impl ChallengeAction {
    pub const ALL: [ChallengeAction; 10] = [
        Self::Submit,
        Self::Approve,
        Self::Reject,
        Self::CloseBidding,
        Self::AssignExperts,
        Self::AwardWithoutReview,
        Self::Award,
        Self::EndPublicity,
        Self::Complete,
        Self::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::CloseBidding => "close_bidding",
            Self::AssignExperts => "assign_experts",
            Self::AwardWithoutReview => "award",
            Self::Award => "award",
            Self::EndPublicity => "end_publicity",
            Self::Complete => "complete",
            Self::Cancel => "cancel",
        }
    }
}

/// The challenge state machine. `publicity_days == 0` skips the notice period.
pub fn apply(
    from: ChallengeStatus,
    action: ChallengeAction,
    publicity_days: i32,
) -> Result<ChallengeStatus, DomainError> {
    use ChallengeAction as A;
    use ChallengeStatus as S;
    let after_award = if publicity_days > 0 { S::Publicizing } else { S::InProgress };
    let to = match (from, action) {
        (S::Draft | S::Rejected, A::Submit) => Some(S::PendingReview),
        (S::PendingReview, A::Approve) => Some(S::Open),
        (S::PendingReview, A::Reject) => Some(S::Rejected),
        (S::Open, A::CloseBidding) => Some(S::BiddingClosed),
        (S::BiddingClosed | S::UnderReview, A::AssignExperts) => Some(S::UnderReview),
        (S::Open | S::BiddingClosed, A::AwardWithoutReview) => Some(after_award),
        (S::UnderReview, A::Award) => Some(after_award),
        (S::Publicizing, A::EndPublicity) => Some(S::InProgress),
        (S::InProgress, A::Complete) => Some(S::Completed),
        (s, A::Cancel) if s != S::Completed && s != S::Cancelled => Some(S::Cancelled),
        _ => None,
    };
    to.ok_or_else(|| DomainError::transition("challenge", from.as_str(), action.as_str()))
}

/// The status a reader sees: a passed bid deadline closes bidding and an elapsed notice
/// period starts the work, even before the background job has written it.
pub fn effective_status(
    status: ChallengeStatus,
    bid_deadline: DateTime<Utc>,
    publicity_ends_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ChallengeStatus {
    match status {
        ChallengeStatus::Open if bid_deadline <= now => ChallengeStatus::BiddingClosed,
        ChallengeStatus::Publicizing if publicity_ends_at.is_some_and(|t| t <= now) => ChallengeStatus::InProgress,
        s => s,
    }
}

/// Challenges the public may see (directed ones are further restricted by the service).
pub fn is_public(status: ChallengeStatus) -> bool {
    !matches!(status, ChallengeStatus::Draft | ChallengeStatus::PendingReview | ChallengeStatus::Rejected)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidAction {
    Withdraw,
    Award,
    NotSelect,
    Eliminate,
}

impl BidAction {
    pub const ALL: [BidAction; 4] = [Self::Withdraw, Self::Award, Self::NotSelect, Self::Eliminate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdraw => "withdraw",
            Self::Award => "award",
            Self::NotSelect => "not_select",
            Self::Eliminate => "eliminate",
        }
    }
}

/// The bid state machine.
pub fn apply_bid(from: BidStatus, action: BidAction) -> Result<BidStatus, DomainError> {
    use BidAction as A;
    use BidStatus as S;
    match (from, action) {
        (S::Submitted, A::Withdraw) => Ok(S::Withdrawn),
        (S::Submitted, A::Award) => Ok(S::Awarded),
        (S::Submitted, A::NotSelect) => Ok(S::NotSelected),
        (S::Awarded, A::Eliminate) => Ok(S::Eliminated),
        _ => Err(DomainError::transition("bid", from.as_str(), action.as_str())),
    }
}

impl BidStatus {
    /// Live bids block a second bid from the same organization.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Submitted | Self::Awarded)
    }
}

/// Checks the winners chosen for a mode: `single` and `directed` exactly one,
/// `horse_race` 2..=`max_winners`, no duplicates.
pub fn check_winner_count(mode: ChallengeMode, max_winners: i32, chosen: &[String]) -> Result<(), DomainError> {
    let mut unique = chosen.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != chosen.len() {
        return Err(DomainError::field("bid_ids", Rule::BidTwice));
    }
    let n = chosen.len() as i32;
    let ok = match mode {
        ChallengeMode::Single | ChallengeMode::Directed => n == 1,
        ChallengeMode::HorseRace => (2..=max_winners).contains(&n),
    };
    if ok {
        return Ok(());
    }
    let expected = match mode {
        ChallengeMode::HorseRace => Message::rule(Rule::HorseRaceAwards).arg("max", max_winners),
        _ => Rule::OneAward.into(),
    };
    Err(DomainError::field("bid_ids", expected))
}

/// The review aggregate of one bid from its experts' totals: with five or more experts the
/// highest and the lowest total are dropped, then the mean (the usual Chinese practice).
pub fn aggregate(totals: &[i32]) -> f64 {
    if totals.is_empty() {
        return 0.0;
    }
    let mut sorted = totals.to_vec();
    sorted.sort();
    let kept = if sorted.len() >= 5 { &sorted[1..sorted.len() - 1] } else { &sorted[..] };
    kept.iter().map(|t| f64::from(*t)).sum::<f64>() / kept.len() as f64
}

/// What an accepted milestone pays a winner: its tranche, shared equally among the winners
/// still in the race (so a horse race never pays out more than the reward); any remainder
/// fen goes to the last of them to be accepted.
pub fn milestone_share(payment_fen: i64, live_winners: i64, already_paid_for_milestone: i64, last: bool) -> i64 {
    let winners = live_winners.max(1);
    if last { (payment_fen - already_paid_for_milestone).max(0) } else { payment_fen / winners }
}

/// Validation shared by creation: milestones pay exactly the reward, winners fit the mode.
pub fn check_plan(mode: ChallengeMode, max_winners: i32, reward_fen: i64, payments: &[i64]) -> Result<(), DomainError> {
    let mut v = super::error::Validator::new();
    v.check(reward_fen > 0, "reward_fen", Rule::Positive);
    v.check(!payments.is_empty(), "milestones", Rule::MilestonesRequired);
    v.check(payments.iter().all(|p| *p >= 0), "milestones", Rule::PaymentsNegative);
    let sum = payments.iter().try_fold(0_i64, |acc, p| acc.checked_add(*p));
    v.check(sum == Some(reward_fen), "milestones", Rule::MilestonesSum);
    match mode {
        ChallengeMode::Single | ChallengeMode::Directed => {
            v.check(max_winners == 1, "max_winners", Rule::SingleWinner);
        }
        ChallengeMode::HorseRace => {
            v.check((2..=5).contains(&max_winners), "max_winners", Rule::HorseRaceWinners);
        }
    }
    v.finish()
}

/// Refuses to award a bid list when some assigned expert has not scored some live bid.
pub fn check_scores_complete(missing: usize) -> Result<(), DomainError> {
    if missing == 0 {
        Ok(())
    } else {
        Err(DomainError::new(ErrorCode::ScoresIncomplete, Message::rule(Rule::ScoresMissing).arg("count", missing)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChallengeAction as A;
    use ChallengeStatus as S;

    fn expected(from: S, action: A, publicity_days: i32) -> Option<S> {
        let after_award = if publicity_days > 0 { S::Publicizing } else { S::InProgress };
        match (from, action) {
            (S::Draft, A::Submit) | (S::Rejected, A::Submit) => Some(S::PendingReview),
            (S::PendingReview, A::Approve) => Some(S::Open),
            (S::PendingReview, A::Reject) => Some(S::Rejected),
            (S::Open, A::CloseBidding) => Some(S::BiddingClosed),
            (S::BiddingClosed, A::AssignExperts) | (S::UnderReview, A::AssignExperts) => Some(S::UnderReview),
            (S::Open, A::AwardWithoutReview) | (S::BiddingClosed, A::AwardWithoutReview) => Some(after_award),
            (S::UnderReview, A::Award) => Some(after_award),
            (S::Publicizing, A::EndPublicity) => Some(S::InProgress),
            (S::InProgress, A::Complete) => Some(S::Completed),
            (S::Completed, A::Cancel) | (S::Cancelled, A::Cancel) => None,
            (_, A::Cancel) => Some(S::Cancelled),
            _ => None,
        }
    }

    #[test]
    fn every_challenge_state_action_pair() {
        for days in [0, 5] {
            for &from in ChallengeStatus::ALL {
                for action in ChallengeAction::ALL {
                    let got = apply(from, action, days).ok();
                    assert_eq!(got, expected(from, action, days), "{from} {action:?} days={days}");
                    if got.is_none() {
                        assert_eq!(
                            apply(from, action, days).err().map(|e| e.code),
                            Some(ErrorCode::InvalidStateTransition)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_bid_state_action_pair() {
        for &from in BidStatus::ALL {
            for action in BidAction::ALL {
                let expected = match (from, action) {
                    (BidStatus::Submitted, BidAction::Withdraw) => Some(BidStatus::Withdrawn),
                    (BidStatus::Submitted, BidAction::Award) => Some(BidStatus::Awarded),
                    (BidStatus::Submitted, BidAction::NotSelect) => Some(BidStatus::NotSelected),
                    (BidStatus::Awarded, BidAction::Eliminate) => Some(BidStatus::Eliminated),
                    _ => None,
                };
                assert_eq!(apply_bid(from, action).ok(), expected, "{from} {action:?}");
            }
        }
    }

    #[test]
    fn deadlines_are_read_with_the_clock() {
        let now = Utc::now();
        let past = now - chrono::Duration::seconds(1);
        let future = now + chrono::Duration::hours(1);
        assert_eq!(effective_status(S::Open, past, None, now), S::BiddingClosed);
        assert_eq!(effective_status(S::Open, future, None, now), S::Open);
        assert_eq!(effective_status(S::Publicizing, past, Some(past), now), S::InProgress);
        assert_eq!(effective_status(S::Publicizing, past, Some(future), now), S::Publicizing);
        assert_eq!(effective_status(S::UnderReview, past, None, now), S::UnderReview);
    }

    #[test]
    fn aggregate_drops_extremes_from_five_experts() {
        assert_eq!(aggregate(&[]), 0.0);
        assert_eq!(aggregate(&[200, 220]), 210.0);
        assert_eq!(aggregate(&[100, 200, 210, 220, 300]), 210.0);
        assert_eq!(aggregate(&[90, 200, 200, 220, 230, 290]), 212.5);
        assert!((aggregate(&[100, 200, 300, 400]) - 250.0).abs() < 1e-9, "four experts: plain mean");
    }

    #[test]
    fn winner_counts_per_mode() {
        let ids = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert!(check_winner_count(ChallengeMode::Single, 1, &ids(1)).is_ok());
        assert!(check_winner_count(ChallengeMode::Single, 1, &ids(2)).is_err());
        assert!(check_winner_count(ChallengeMode::Directed, 1, &ids(0)).is_err());
        assert!(check_winner_count(ChallengeMode::HorseRace, 3, &ids(1)).is_err());
        assert!(check_winner_count(ChallengeMode::HorseRace, 3, &ids(3)).is_ok());
        assert!(check_winner_count(ChallengeMode::HorseRace, 3, &ids(4)).is_err());
        assert!(check_winner_count(ChallengeMode::HorseRace, 3, &["a".into(), "a".into()]).is_err());
    }

    #[test]
    fn plans_pay_exactly_the_reward() {
        assert!(check_plan(ChallengeMode::Single, 1, 100, &[40, 60]).is_ok());
        assert!(check_plan(ChallengeMode::Single, 1, 100, &[40, 50]).is_err());
        assert!(check_plan(ChallengeMode::Single, 2, 100, &[100]).is_err());
        assert!(check_plan(ChallengeMode::HorseRace, 1, 100, &[100]).is_err());
        assert!(check_plan(ChallengeMode::HorseRace, 6, 100, &[100]).is_err());
        assert!(check_plan(ChallengeMode::Single, 1, 100, &[]).is_err());
        assert!(check_plan(ChallengeMode::Single, 1, i64::MAX, &[i64::MAX, 1]).is_err(), "overflow is refused");
    }

    #[test]
    fn horse_race_shares_never_exceed_the_tranche() {
        // Two winners: each gets half; the last one accepted gets the remainder.
        assert_eq!(milestone_share(101, 2, 0, false), 50);
        assert_eq!(milestone_share(101, 2, 50, true), 51);
        // One winner left: the whole tranche.
        assert_eq!(milestone_share(60, 1, 0, true), 60);
    }
}
