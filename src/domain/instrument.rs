//! 科技资源开放共享: shared instruments, the booking state machine, what a booking costs, and
//! the utilization figure sharing programs are assessed on.

use chrono::{DateTime, Duration, Utc};

use super::error::{DomainError, ErrorCode, Message, Rule};
use super::money::MAX_FEN;
use crate::text_enum;

text_enum!(InstrumentStatus { Active = "active", Inactive = "inactive" });

text_enum!(
    BookingStatus {
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        Completed = "completed",
        NoShow = "no_show",
        Cancelled = "cancelled",
    }
);

text_enum!(
    BookingAction { Approve = "approve", Reject = "reject", Complete = "complete", NoShow = "no_show", Cancel = "cancel" }
);

/// The longest single booking.
pub const MAX_BOOKING_HOURS: i64 = 7 * 24;

impl BookingStatus {
    /// Statuses whose time slot nobody else may book: a requested booking holds its slot until
    /// the provider decides, so two organizations never race for one approval.
    pub const HOLDS_SLOT: [BookingStatus; 4] = [Self::Requested, Self::Approved, Self::Completed, Self::NoShow];

    /// Statuses in which a voucher reservation is still held by the booking.
    pub fn holds_reservation(self) -> bool {
        matches!(self, Self::Requested | Self::Approved)
    }
}

/// The booking state machine: `requested → approved | rejected`,
/// `approved → completed | no_show | cancelled`.
pub fn apply_booking(from: BookingStatus, action: BookingAction) -> Result<BookingStatus, DomainError> {
    use BookingAction as A;
    use BookingStatus as S;
    match (from, action) {
        (S::Requested, A::Approve) => Ok(S::Approved),
        (S::Requested, A::Reject) => Ok(S::Rejected),
        (S::Approved, A::Complete) => Ok(S::Completed),
        (S::Approved, A::NoShow) => Ok(S::NoShow),
        (S::Approved, A::Cancel) => Ok(S::Cancelled),
        _ => Err(DomainError::transition("booking", from.as_str(), action.as_str())),
    }
}

/// When an action may happen relative to the booked slot: a slot is cancelled before it
/// starts, and completed or missed only once it has started.
pub fn check_timing(action: BookingAction, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DomainError> {
    let ok = match action {
        BookingAction::Cancel => now < starts_at,
        BookingAction::Complete | BookingAction::NoShow => now >= starts_at,
        BookingAction::Approve | BookingAction::Reject => true,
    };
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::InvalidStateTransition,
            Message::rule(Rule::BookingTiming).word("action", action.as_str()),
        ))
    }
}

/// The requested slot: in the future, ends after it starts, at most [`MAX_BOOKING_HOURS`].
pub fn check_slot(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DomainError> {
    if starts_at <= now {
        return Err(DomainError::field("starts_at", Rule::BookingInFuture));
    }
    if ends_at <= starts_at {
        return Err(DomainError::field("ends_at", Rule::BookingEndsAfterStart));
    }
    if ends_at - starts_at > Duration::hours(MAX_BOOKING_HOURS) {
        return Err(DomainError::field("ends_at", Message::rule(Rule::BookingTooLong).arg("hours", MAX_BOOKING_HOURS)));
    }
    Ok(())
}

/// How an instrument charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub per_hour_fen: Option<i64>,
    pub per_sample_fen: Option<i64>,
}

/// The fee of a booking: per sample when samples are given and the instrument charges per
/// sample, else per hour for the booked minutes (rounded down to the fen). `None` when the
/// instrument does not charge that way or the amount leaves the money range.
pub fn booking_fee(fees: Fees, minutes: i64, samples: Option<i32>) -> Option<i64> {
    let fee = match (samples, fees.per_sample_fen, fees.per_hour_fen) {
        (Some(n), Some(per_sample), _) => per_sample.checked_mul(i64::from(n))?,
        (None, _, Some(per_hour)) => i64::try_from(i128::from(per_hour) * i128::from(minutes) / 60).ok()?,
        _ => return None,
    };
    (0..=MAX_FEN).contains(&fee).then_some(fee)
}

/// Used minutes as a share of open minutes, in basis points (at most 10000; 0 when the
/// instrument was never open).
pub fn utilization_bp(used_minutes: i64, open_minutes: i64) -> i32 {
    if open_minutes <= 0 {
        return 0;
    }
    let bp = i128::from(used_minutes.max(0)) * 10_000 / i128::from(open_minutes);
    i32::try_from(bp.min(10_000)).unwrap_or(10_000)
}

/// Open minutes of an instrument open `weekly_open_hours` a week, over `days` days.
pub fn open_minutes(weekly_open_hours: i32, days: i64) -> i64 {
    i64::from(weekly_open_hours.max(0)) * 60 * days.max(0) / 7
}

/// Whether an organization with `no_shows` missed bookings in the window may book again.
pub fn check_booking_rights(no_shows: i64, limit: u32, window_days: u32) -> Result<(), DomainError> {
    if limit > 0 && no_shows >= i64::from(limit) {
        return Err(DomainError::new(
            ErrorCode::BookingSuspended,
            Message::rule(Rule::BookingRightsSuspended).arg("count", no_shows).arg("days", window_days),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn the_state_machine_allows_exactly_the_documented_moves() {
        use BookingAction as A;
        use BookingStatus as S;
        let allowed = [
            (S::Requested, A::Approve, S::Approved),
            (S::Requested, A::Reject, S::Rejected),
            (S::Approved, A::Complete, S::Completed),
            (S::Approved, A::NoShow, S::NoShow),
            (S::Approved, A::Cancel, S::Cancelled),
        ];
        for from in S::ALL {
            for action in BookingAction::ALL {
                let expected = allowed.iter().find(|(f, a, _)| f == from && a == action).map(|(_, _, to)| *to);
                assert_eq!(apply_booking(*from, *action).ok(), expected, "{from} {action}");
            }
        }
    }

    #[test]
    fn fees_by_the_hour_and_by_the_sample() {
        let both = Fees { per_hour_fen: Some(60_000), per_sample_fen: Some(5_000) };
        assert_eq!(booking_fee(both, 90, None), Some(90_000));
        assert_eq!(booking_fee(both, 90, Some(3)), Some(15_000));
        let hourly = Fees { per_hour_fen: Some(100), per_sample_fen: None };
        assert_eq!(booking_fee(hourly, 1, None), Some(1));
        assert_eq!(booking_fee(hourly, 10, Some(2)), None);
        let huge = Fees { per_hour_fen: None, per_sample_fen: Some(MAX_FEN) };
        assert_eq!(booking_fee(huge, 60, Some(2)), None);
    }

    #[test]
    fn slots_are_in_the_future_ordered_and_bounded() {
        assert!(check_slot(at(1), at(2), at(0)).is_ok());
        assert!(check_slot(at(0), at(2), at(0)).is_err());
        assert!(check_slot(at(2), at(2), at(0)).is_err());
        assert!(check_slot(at(1), at(2 + MAX_BOOKING_HOURS), at(0)).is_err());
    }

    #[test]
    fn timing_of_cancel_complete_and_no_show() {
        assert!(check_timing(BookingAction::Cancel, at(1), at(0)).is_ok());
        assert!(check_timing(BookingAction::Cancel, at(1), at(1)).is_err());
        assert!(check_timing(BookingAction::Complete, at(1), at(0)).is_err());
        assert!(check_timing(BookingAction::NoShow, at(1), at(2)).is_ok());
    }

    #[test]
    fn utilization_is_capped_and_safe_on_zero() {
        assert_eq!(utilization_bp(30, 60), 5000);
        assert_eq!(utilization_bp(120, 60), 10_000);
        assert_eq!(utilization_bp(10, 0), 0);
        assert_eq!(open_minutes(40, 7), 2400);
    }

    #[test]
    fn rights_are_suspended_at_the_limit() {
        assert!(check_booking_rights(2, 3, 90).is_ok());
        assert!(check_booking_rights(3, 3, 90).is_err());
        assert!(check_booking_rights(9, 0, 90).is_ok());
    }
}
