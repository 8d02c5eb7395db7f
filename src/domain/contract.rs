//! 技术合同: the six kinds of technology-contract registration, the contract state machine,
//! registration numbers, commercialization stages and the inventors' legal share.

use super::error::{DomainError, ErrorCode, Message, Rule, Validator};
use super::money::split_by_bp;
use crate::text_enum;

text_enum!(
    ContractKind {
        /// 技术转让
        Transfer = "transfer",
        /// 技术许可
        License = "license",
        /// 作价投资
        Equity = "equity",
        /// 技术开发
        Development = "development",
        /// 技术咨询
        Consulting = "consulting",
        /// 技术服务
        Service = "service",
    }
);

text_enum!(
    ContractStatus {
        Draft = "draft",
        Signed = "signed",
        Registered = "registered",
        Performing = "performing",
        Completed = "completed",
        Terminated = "terminated",
    }
);

text_enum!(
    Stage { Lab = "lab", Pilot = "pilot", MassProduction = "mass_production", OnMarket = "on_market" }
);

impl ContractKind {
    /// Kinds whose income from a university's or institute's results must give inventors
    /// at least the legal share (促进科技成果转化法 第45条).
    pub fn needs_inventor_share(self) -> bool {
        matches!(self, Self::Transfer | Self::License | Self::Equity)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Transfer => "技术转让",
            Self::License => "技术许可",
            Self::Equity => "作价投资",
            Self::Development => "技术开发",
            Self::Consulting => "技术咨询",
            Self::Service => "技术服务",
        }
    }
}

impl Stage {
    /// Position on the road to market; reports may repeat a stage but never go back.
    pub fn rank(self) -> i32 {
        match self {
            Self::Lab => 1,
            Self::Pilot => 2,
            Self::MassProduction => 3,
            Self::OnMarket => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractAction {
    /// The second party signed.
    CompleteSigning,
    Register,
    /// The approved registration was cancelled: back to `signed` (only before any payment).
    CancelRegistration,
    /// The first payment was recorded.
    StartPerforming,
    Complete,
    Terminate,
}

impl ContractAction {
    pub const ALL: [ContractAction; 6] = [
        Self::CompleteSigning,
        Self::Register,
        Self::CancelRegistration,
        Self::StartPerforming,
        Self::Complete,
        Self::Terminate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CompleteSigning => "sign",
            Self::Register => "register",
            Self::CancelRegistration => "cancel_registration",
            Self::StartPerforming => "record_payment",
            Self::Complete => "complete",
            Self::Terminate => "terminate",
        }
    }
}

/// The contract state machine.
pub fn apply(from: ContractStatus, action: ContractAction) -> Result<ContractStatus, DomainError> {
    use ContractAction as A;
    use ContractStatus as S;
    let to = match (from, action) {
        (S::Draft, A::CompleteSigning) => Some(S::Signed),
        (S::Signed, A::Register) => Some(S::Registered),
        (S::Registered | S::Performing, A::CancelRegistration) => Some(S::Signed),
        (S::Registered, A::StartPerforming) => Some(S::Performing),
        (S::Registered | S::Performing, A::Complete) => Some(S::Completed),
        (S::Draft | S::Signed | S::Registered | S::Performing, A::Terminate) => Some(S::Terminated),
        _ => None,
    };
    to.ok_or_else(|| DomainError::transition("contract", from.as_str(), action.as_str()))
}

/// `2026-000123`: the year and a sequence number within it.
pub fn registration_no(year: i32, seq: i64) -> String {
    format!("{year}-{seq:06}")
}

/// A beneficiary's part of the inventors' pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Share {
    pub name: String,
    pub share_bp: i32,
    /// Computed: the beneficiary's part of the inventors' pool, in fen.
    #[serde(default)]
    pub amount_fen: i64,
}

/// Validates an income split and computes everyone's amount. A broker's commission is a
/// cost of the transaction: it is taken out of the net income first, and the inventors' pool
/// is `(net − commission) × inventor_share_bp` (the legal minimum applies to that base),
/// split by `share_bp` so the parts add up to the pool exactly.
pub fn distribute(
    kind: ContractKind,
    net_income_fen: i64,
    broker_commission_fen: i64,
    inventor_share_bp: i32,
    min_share_bp: i32,
    beneficiaries: &[Share],
) -> Result<(i64, Vec<Share>), DomainError> {
    let mut v = Validator::new();
    v.check(net_income_fen >= 0, "net_income_fen", Rule::NonNegative);
    v.check(
        broker_commission_fen <= net_income_fen,
        "net_income_fen",
        Message::rule(Rule::CommissionExceedsIncome).arg("commission", broker_commission_fen),
    );
    v.check((0..=10_000).contains(&inventor_share_bp), "inventor_share_bp", Message::between(0, 10000));
    v.check(!beneficiaries.is_empty(), "beneficiaries", Rule::BeneficiariesRequired);
    v.check(beneficiaries.iter().all(|b| !b.name.trim().is_empty()), "beneficiaries", Rule::BeneficiaryNames);
    v.check(beneficiaries.iter().all(|b| b.share_bp > 0), "beneficiaries", Rule::SharesPositive);
    let total: i64 = beneficiaries.iter().map(|b| i64::from(b.share_bp)).sum();
    v.check(total == 10_000, "beneficiaries", Rule::SharesSum);
    v.finish()?;
    if kind.needs_inventor_share() && inventor_share_bp < min_share_bp {
        let mut err = DomainError::new(
            ErrorCode::InventorShareTooLow,
            Message::rule(Rule::InventorShare).arg("kind", kind.chinese()).arg("min", min_share_bp),
        );
        err.errors.insert("inventor_share_bp".into(), vec![Message::rule(Rule::AtLeast).arg("min", min_share_bp)]);
        return Err(err);
    }
    let base = net_income_fen.saturating_sub(broker_commission_fen.max(0));
    let pool = super::money::mul_bp_floor(base, inventor_share_bp);
    let shares: Vec<i32> = beneficiaries.iter().map(|b| b.share_bp).collect();
    let amounts = split_by_bp(pool, &shares);
    let out = beneficiaries
        .iter()
        .zip(amounts)
        .map(|(b, amount_fen)| Share { name: b.name.trim().to_owned(), share_bp: b.share_bp, amount_fen })
        .collect();
    Ok((pool, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_action_pair() {
        use ContractAction as A;
        use ContractStatus as S;
        for &from in ContractStatus::ALL {
            for action in ContractAction::ALL {
                let expected = match (from, action) {
                    (S::Draft, A::CompleteSigning) => Some(S::Signed),
                    (S::Signed, A::Register) => Some(S::Registered),
                    (S::Registered, A::CancelRegistration) | (S::Performing, A::CancelRegistration) => Some(S::Signed),
                    (S::Registered, A::StartPerforming) => Some(S::Performing),
                    (S::Registered, A::Complete) | (S::Performing, A::Complete) => Some(S::Completed),
                    (S::Draft, A::Terminate) | (S::Signed, A::Terminate) => Some(S::Terminated),
                    (S::Registered, A::Terminate) | (S::Performing, A::Terminate) => Some(S::Terminated),
                    _ => None,
                };
                assert_eq!(apply(from, action).ok(), expected, "{from} {action:?}");
            }
        }
    }

    #[test]
    fn registration_numbers_are_readable() {
        assert_eq!(registration_no(2026, 123), "2026-000123");
        assert_eq!(registration_no(2027, 1_234_567), "2027-1234567");
    }

    #[test]
    fn distribution_follows_the_law_and_adds_up() {
        let b = |n: &str, bp: i32| Share { name: n.into(), share_bp: bp, amount_fen: 0 };
        let (pool, parts) =
            distribute(ContractKind::Transfer, 1_000_001, 0, 7000, 5000, &[b("张", 6000), b("李", 4000)])
                .unwrap_or_default();
        assert_eq!(pool, 700_000);
        assert_eq!(parts.iter().map(|p| p.amount_fen).sum::<i64>(), pool);
        let low = distribute(ContractKind::License, 100, 0, 4999, 5000, &[b("张", 10_000)]);
        assert_eq!(low.err().map(|e| e.code), Some(ErrorCode::InventorShareTooLow));
        assert!(
            distribute(ContractKind::Service, 100, 0, 1000, 5000, &[b("张", 10_000)]).is_ok(),
            "services are not bound by Art. 45"
        );
        let bad_sum = distribute(ContractKind::Transfer, 100, 0, 6000, 5000, &[b("张", 6000)]);
        assert_eq!(bad_sum.err().map(|e| e.code), Some(ErrorCode::ValidationFailed));
    }

    #[test]
    fn a_broker_commission_comes_out_before_the_inventors_share() {
        let b = |n: &str, bp: i32| Share { name: n.into(), share_bp: bp, amount_fen: 0 };
        let (pool, _) =
            distribute(ContractKind::Transfer, 1_000_000, 100_000, 5000, 5000, &[b("张", 10_000)]).unwrap_or_default();
        assert_eq!(pool, 450_000, "half of what remains after the commission");
        let too_much = distribute(ContractKind::Transfer, 1_000, 1_001, 5000, 5000, &[b("张", 10_000)]);
        assert_eq!(too_much.err().map(|e| e.code), Some(ErrorCode::ValidationFailed));
        let low = distribute(ContractKind::Transfer, 1_000_000, 100_000, 4999, 5000, &[b("张", 10_000)]);
        assert_eq!(low.err().map(|e| e.code), Some(ErrorCode::InventorShareTooLow), "the legal minimum still holds");
    }

    #[test]
    fn stages_are_ordered() {
        assert!(Stage::Lab.rank() < Stage::Pilot.rank());
        assert!(Stage::MassProduction.rank() < Stage::OnMarket.rank());
    }
}
