//! Research integrity (科研诚信): a record is in force until lifted or expired, judged with
//! the clock at the moment of the check; a `veto` (一票否决) bars its subject.

use chrono::{DateTime, Utc};

use crate::text_enum;

text_enum!(Severity { Warning = "warning", Veto = "veto" });

text_enum!(
    /// The strongest record in force on a subject.
    Standing { Clear = "clear", Warning = "warning", Veto = "veto" }
);

/// The facts of a record that decide whether it is in force.
#[derive(Debug, Clone, Copy)]
pub struct RecordState {
    pub severity: Severity,
    pub expires_at: Option<DateTime<Utc>>,
    pub lifted_at: Option<DateTime<Utc>>,
}

impl RecordState {
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.lifted_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The strongest standing among `records` at `now`.
pub fn standing(records: impl IntoIterator<Item = RecordState>, now: DateTime<Utc>) -> Standing {
    records.into_iter().filter(|r| r.in_force(now)).fold(Standing::Clear, |acc, r| match (acc, r.severity) {
        (_, Severity::Veto) | (Standing::Veto, _) => Standing::Veto,
        _ => Standing::Warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn strongest_record_in_force_wins() {
        let now = Utc::now();
        let warning = RecordState { severity: Severity::Warning, expires_at: None, lifted_at: None };
        let veto = RecordState { severity: Severity::Veto, expires_at: None, lifted_at: None };
        let expired_veto = RecordState { expires_at: Some(now - Duration::seconds(1)), ..veto };
        let lifted_veto = RecordState { lifted_at: Some(now), ..veto };
        let future_veto = RecordState { expires_at: Some(now + Duration::days(1)), ..veto };
        assert_eq!(standing([], now), Standing::Clear);
        assert_eq!(standing([warning], now), Standing::Warning);
        assert_eq!(standing([warning, veto], now), Standing::Veto);
        assert_eq!(standing([veto, warning], now), Standing::Veto);
        assert_eq!(standing([expired_veto, lifted_veto], now), Standing::Clear);
        assert_eq!(standing([expired_veto, warning], now), Standing::Warning);
        assert_eq!(standing([future_veto], now), Standing::Veto);
    }
}
