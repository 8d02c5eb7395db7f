//! 科技创新券: application windows and eligibility, redemption amounts, the voucher and
//! redemption state machines. Calendar dates are days in Asia/Shanghai with inclusive bounds.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::error::{DomainError, ErrorCode, Message, Rule, Validator};
use super::money::mul_bp_floor;
use crate::text_enum;

text_enum!(ApplicationStatus { Submitted = "submitted", Approved = "approved", Rejected = "rejected" });

text_enum!(VoucherStatus { Active = "active", Exhausted = "exhausted", Expired = "expired", Revoked = "revoked" });

text_enum!(
    RedemptionStatus {
        PendingConfirmation = "pending_confirmation",
        Confirmed = "confirmed",
        Settled = "settled",
        Rejected = "rejected",
    }
);

text_enum!(
    LedgerKind {
        /// A voucher was issued (program → voucher).
        Issue = "issue",
        /// A redemption reserved part of a voucher's balance.
        Reserve = "reserve",
        /// A rejected redemption gave its reservation back to the voucher.
        Release = "release",
        /// A reservation was paid out (兑付).
        Settle = "settle",
        /// An expired voucher's unreserved balance returned to the program.
        Expire = "expire",
        /// A revoked voucher's unreserved balance returned to the program.
        Revoke = "revoke",
    }
);

/// Calendar day in Asia/Shanghai (UTC+8, no daylight saving) of an instant.
pub fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

/// The first instant after the Shanghai calendar day `day` ends.
pub fn end_of_shanghai_day(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt().unwrap_or(day).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(8)
}

/// Applications are accepted on the days `[open, close]`.
pub fn check_window(open: NaiveDate, close: NaiveDate, now: DateTime<Utc>) -> Result<(), DomainError> {
    let today = shanghai_date(now);
    if today < open || today > close {
        return Err(DomainError::new(
            ErrorCode::ApplicationsClosed,
            Message::rule(Rule::ApplicationWindow)
                .arg("open", open.to_string())
                .arg("close", close.to_string())
                .arg("today", today.to_string()),
        ));
    }
    Ok(())
}

/// Settlement is possible until the end of `settle_by`.
pub fn check_settlement(settle_by: NaiveDate, now: DateTime<Utc>) -> Result<(), DomainError> {
    if shanghai_date(now) > settle_by {
        return Err(DomainError::new(
            ErrorCode::SettlementClosed,
            Message::rule(Rule::SettlementEnded).arg("date", settle_by.to_string()),
        ));
    }
    Ok(())
}

/// A settlement batch's cut-off day: not after today (Shanghai) and within the program's
/// settlement period, from its first application day to its last settlement day.
pub fn check_cut_off(
    cut_off: NaiveDate,
    applications_open: NaiveDate,
    settle_by: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let today = shanghai_date(now);
    let mut v = Validator::new();
    v.check(cut_off <= today, "cut_off", Message::rule(Rule::CutOffFuture).arg("today", today.to_string()));
    v.check(
        (applications_open..=settle_by).contains(&cut_off),
        "cut_off",
        Message::rule(Rule::CutOffPeriod).arg("from", applications_open.to_string()).arg("to", settle_by.to_string()),
    );
    v.finish()
}

/// What a redemption reserves: the voucher pays `coverage_ratio_bp` of the fee, at most its
/// balance.
pub fn redemption_amount(service_fee_fen: i64, coverage_ratio_bp: i32, balance_fen: i64) -> i64 {
    mul_bp_floor(service_fee_fen, coverage_ratio_bp).min(balance_fen).max(0)
}

/// The status a reader sees: a passed `expires_at` reads `expired` at once.
pub fn effective_status(status: VoucherStatus, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> VoucherStatus {
    match status {
        VoucherStatus::Active | VoucherStatus::Exhausted if expires_at <= now => VoucherStatus::Expired,
        s => s,
    }
}

/// A voucher that can still pay for services.
pub fn check_redeemable(
    status: VoucherStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    match effective_status(status, expires_at, now) {
        VoucherStatus::Active => Ok(()),
        other => Err(DomainError::new(
            ErrorCode::VoucherNotActive,
            Message::rule(Rule::VoucherStatus).word("status", other.as_str()),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedemptionAction {
    Confirm,
    Settle,
    Reject,
}

impl RedemptionAction {
    pub const ALL: [RedemptionAction; 3] = [Self::Confirm, Self::Settle, Self::Reject];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Settle => "settle",
            Self::Reject => "reject",
        }
    }
}

/// The redemption state machine.
pub fn apply_redemption(from: RedemptionStatus, action: RedemptionAction) -> Result<RedemptionStatus, DomainError> {
    use RedemptionAction as A;
    use RedemptionStatus as S;
    match (from, action) {
        (S::PendingConfirmation, A::Confirm) => Ok(S::Confirmed),
        (S::Confirmed, A::Settle) => Ok(S::Settled),
        (S::PendingConfirmation | S::Confirmed, A::Reject) => Ok(S::Rejected),
        _ => Err(DomainError::transition("redemption", from.as_str(), action.as_str())),
    }
}

/// Applications: submitted → approved | rejected.
pub fn decide_application(from: ApplicationStatus, approve: bool) -> Result<ApplicationStatus, DomainError> {
    match (from, approve) {
        (ApplicationStatus::Submitted, true) => Ok(ApplicationStatus::Approved),
        (ApplicationStatus::Submitted, false) => Ok(ApplicationStatus::Rejected),
        (other, approve) => {
            Err(DomainError::transition("application", other.as_str(), if approve { "approve" } else { "reject" }))
        }
    }
}

/// Vouchers that may be revoked or expire (and give their balance back).
pub fn can_close(status: VoucherStatus) -> bool {
    matches!(status, VoucherStatus::Active | VoucherStatus::Exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn windows_are_shanghai_days_inclusive() {
        let (open, close) = (day("2026-03-01"), day("2026-03-31"));
        // 2026-02-28T16:00Z is 2026-03-01 00:00 in Shanghai.
        assert!(check_window(open, close, at("2026-02-28T16:00:00Z")).is_ok());
        assert!(check_window(open, close, at("2026-02-28T15:59:59Z")).is_err());
        assert!(check_window(open, close, at("2026-03-31T15:59:59Z")).is_ok());
        let closed = check_window(open, close, at("2026-03-31T16:00:00Z"));
        assert_eq!(closed.err().map(|e| e.code), Some(ErrorCode::ApplicationsClosed));
        assert!(check_settlement(close, at("2026-03-31T15:59:59Z")).is_ok());
        assert_eq!(
            check_settlement(close, at("2026-03-31T16:00:00Z")).err().map(|e| e.code),
            Some(ErrorCode::SettlementClosed)
        );
        assert_eq!(end_of_shanghai_day(close), at("2026-03-31T16:00:00Z"));
    }

    #[test]
    fn redemption_pays_the_ratio_up_to_the_balance() {
        assert_eq!(redemption_amount(10_000, 5000, 1_000_000), 5_000);
        assert_eq!(redemption_amount(10_001, 5000, 1_000_000), 5_000);
        assert_eq!(redemption_amount(100_000, 5000, 30_000), 30_000);
        assert_eq!(redemption_amount(100, 5000, 0), 0);
    }

    #[test]
    fn expiry_is_read_with_the_clock() {
        let now = Utc::now();
        assert_eq!(effective_status(VoucherStatus::Active, now, now), VoucherStatus::Expired);
        assert_eq!(effective_status(VoucherStatus::Active, now + Duration::seconds(1), now), VoucherStatus::Active);
        assert_eq!(effective_status(VoucherStatus::Revoked, now, now), VoucherStatus::Revoked);
        assert!(check_redeemable(VoucherStatus::Exhausted, now + Duration::days(1), now).is_err());
    }

    #[test]
    fn every_redemption_state_action_pair() {
        use RedemptionAction as A;
        use RedemptionStatus as S;
        for &from in RedemptionStatus::ALL {
            for action in RedemptionAction::ALL {
                let expected = match (from, action) {
                    (S::PendingConfirmation, A::Confirm) => Some(S::Confirmed),
                    (S::Confirmed, A::Settle) => Some(S::Settled),
                    (S::PendingConfirmation, A::Reject) | (S::Confirmed, A::Reject) => Some(S::Rejected),
                    _ => None,
                };
                assert_eq!(apply_redemption(from, action).ok(), expected, "{from} {action:?}");
            }
        }
        for &from in ApplicationStatus::ALL {
            for approve in [true, false] {
                let ok = decide_application(from, approve).is_ok();
                assert_eq!(ok, from == ApplicationStatus::Submitted, "{from} {approve}");
            }
        }
    }
}
