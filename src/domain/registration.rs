//! 技术合同认定登记: the registration of a signed contract as a workflow between the seller and
//! the registration office (登记机构) of the seller's region, its review deadline and the
//! registration number.

use chrono::{Datelike, NaiveDate};

use super::error::DomainError;
use crate::text_enum;

text_enum!(
    RegistrationStatus {
        /// Filed by the seller, waiting for the office.
        Filed = "filed",
        /// The office asked for more material; the seller answers with a supplement.
        SupplementRequested = "supplement_requested",
        UnderReview = "under_review",
        /// Registered: the contract is `registered`.
        Approved = "approved",
        /// 未予登记: the contract stays `signed` and may be filed again.
        Refused = "refused",
        /// An approved registration withdrawn: the contract is `signed` again.
        Cancelled = "cancelled",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationAction {
    RequestSupplement,
    Supplement,
    Accept,
    Approve,
    Refuse,
    Amend,
    Cancel,
}

impl RegistrationAction {
    pub const ALL: [RegistrationAction; 7] = [
        Self::RequestSupplement,
        Self::Supplement,
        Self::Accept,
        Self::Approve,
        Self::Refuse,
        Self::Amend,
        Self::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestSupplement => "request_supplement",
            Self::Supplement => "supplement",
            Self::Accept => "accept",
            Self::Approve => "approve",
            Self::Refuse => "refuse",
            Self::Amend => "amend",
            Self::Cancel => "cancel",
        }
    }

    /// The seller acts on `supplement`; every other action is the registrar's.
    pub fn by_seller(self) -> bool {
        self == Self::Supplement
    }
}

impl RegistrationStatus {
    /// A live registration blocks another filing for the same contract.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Filed | Self::SupplementRequested | Self::UnderReview | Self::Approved)
    }

    /// The review deadline runs while the office holds the file.
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Filed | Self::UnderReview)
    }
}

/// The registration state machine.
pub fn apply(from: RegistrationStatus, action: RegistrationAction) -> Result<RegistrationStatus, DomainError> {
    use RegistrationAction as A;
    use RegistrationStatus as S;
    let to = match (from, action) {
        (S::Filed, A::RequestSupplement) => Some(S::SupplementRequested),
        (S::SupplementRequested, A::Supplement) => Some(S::Filed),
        (S::Filed, A::Accept) => Some(S::UnderReview),
        (S::UnderReview, A::Approve) => Some(S::Approved),
        (S::Filed | S::UnderReview, A::Refuse) => Some(S::Refused),
        (S::Approved, A::Amend) => Some(S::Approved),
        (S::Approved, A::Cancel) => Some(S::Cancelled),
        _ => None,
    };
    to.ok_or_else(|| DomainError::transition("registration", from.as_str(), action.as_str()))
}

/// The day the review is due: `days` counted calendar days after the filing day, where the
/// listed holidays do not count.
pub fn due_on(filed_on: NaiveDate, days: u32, holidays: &[NaiveDate]) -> NaiveDate {
    let mut day = filed_on;
    let mut counted = 0;
    while counted < days {
        day = day.succ_opt().unwrap_or(day);
        if !holidays.contains(&day) {
            counted += 1;
        }
    }
    day
}

/// Overdue once the due day has passed (`today` in Asia/Shanghai).
pub fn is_overdue(status: RegistrationStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status.clock_runs() && today > due_on
}

/// A registration number as the platform issues it (`super::contract::registration_no`):
/// a four-digit year from 2000 to `max_year`, a dash, and a sequence of at least six digits
/// that is not zero. Returns the year and the sequence.
pub fn parse_registration_no(text: &str, max_year: i32) -> Option<(i32, i64)> {
    let (year, seq) = text.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year) || seq.len() < 6 || seq.len() > 12 || !digits(seq) {
        return None;
    }
    let (year, seq): (i32, i64) = (year.parse().ok()?, seq.parse().ok()?);
    ((2000..=max_year).contains(&year) && seq > 0).then_some((year, seq))
}

/// The year a number may carry at most, given today's date (numbers are never issued ahead).
pub fn max_registration_year(today: NaiveDate) -> i32 {
    today.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_action_pair() {
        use RegistrationAction as A;
        use RegistrationStatus as S;
        for &from in RegistrationStatus::ALL {
            for action in RegistrationAction::ALL {
                let expected = match (from, action) {
                    (S::Filed, A::RequestSupplement) => Some(S::SupplementRequested),
                    (S::SupplementRequested, A::Supplement) => Some(S::Filed),
                    (S::Filed, A::Accept) => Some(S::UnderReview),
                    (S::UnderReview, A::Approve) => Some(S::Approved),
                    (S::Filed, A::Refuse) | (S::UnderReview, A::Refuse) => Some(S::Refused),
                    (S::Approved, A::Amend) => Some(S::Approved),
                    (S::Approved, A::Cancel) => Some(S::Cancelled),
                    _ => None,
                };
                assert_eq!(apply(from, action).ok(), expected, "{from} {action:?}");
            }
        }
    }

    #[test]
    fn open_statuses_block_a_new_filing() {
        let open: Vec<_> = RegistrationStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open.len(), 4);
        assert!(!RegistrationStatus::Refused.is_open() && !RegistrationStatus::Cancelled.is_open());
    }

    #[test]
    fn deadlines_skip_holidays() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(due_on(d("2026-09-28"), 10, &[]), d("2026-10-08"));
        let golden_week: Vec<NaiveDate> = (1..=7).map(|i| d(&format!("2026-10-0{i}"))).collect();
        assert_eq!(due_on(d("2026-09-28"), 10, &golden_week), d("2026-10-15"));
        assert_eq!(due_on(d("2026-12-31"), 0, &[]), d("2026-12-31"));
        assert!(!is_overdue(RegistrationStatus::Filed, d("2026-10-08"), d("2026-10-08")));
        assert!(is_overdue(RegistrationStatus::UnderReview, d("2026-10-08"), d("2026-10-09")));
        assert!(!is_overdue(RegistrationStatus::SupplementRequested, d("2026-10-08"), d("2026-10-09")));
    }

    #[test]
    fn registration_numbers_are_checked() {
        assert_eq!(parse_registration_no("2026-000123", 2026), Some((2026, 123)));
        assert_eq!(parse_registration_no("2026-1234567", 2026), Some((2026, 1_234_567)));
        for bad in
            ["2027-000001", "1999-000001", "2026-00012", "2026-000000", "26-000123", "2026000123", "2026-00a123", ""]
        {
            assert_eq!(parse_registration_no(bad, 2026), None, "{bad}");
        }
        assert_eq!(parse_registration_no(&super::super::contract::registration_no(2026, 42), 2026), Some((2026, 42)));
    }
}
