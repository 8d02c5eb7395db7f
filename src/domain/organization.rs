//! Organizations: kinds, statuses, the GB 32100 unified social credit code, regions and
//! service categories.

use super::error::{DomainError, Rule};
use crate::text_enum;

text_enum!(
    OrgKind {
        Enterprise = "enterprise",
        University = "university",
        Institute = "institute",
        ServiceProvider = "service_provider",
        Government = "government",
    }
);

text_enum!(
    OrgStatus { Pending = "pending", Verified = "verified", Rejected = "rejected", Suspended = "suspended" }
);

text_enum!(
    /// An invitation to join an organization: `pending → accepted | declined | revoked |
    /// expired`.
    InvitationStatus {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
        Revoked = "revoked",
        Expired = "expired",
    }
);

/// Days an invitation stays open.
pub const INVITATION_DAYS: i64 = 14;

text_enum!(
    EnterpriseScale { Large = "large", Medium = "medium", Small = "small", Micro = "micro" }
);

text_enum!(
    /// Services a provider offers and a voucher program covers.
    ServiceCategory {
        InspectionTesting = "inspection_testing",
        RdDesign = "rd_design",
        TechnologyConsulting = "technology_consulting",
        TechnologyTransfer = "technology_transfer",
        PilotProduction = "pilot_production",
        IpServices = "ip_services",
        InstrumentSharing = "instrument_sharing",
    }
);

/// Admin review of an organization: `pending` → `verified` | `rejected`.
pub fn review(from: OrgStatus, approve: bool) -> Result<OrgStatus, DomainError> {
    match (from, approve) {
        (OrgStatus::Pending, true) => Ok(OrgStatus::Verified),
        (OrgStatus::Pending, false) => Ok(OrgStatus::Rejected),
        (other, approve) => {
            Err(DomainError::transition("organization", other.as_str(), if approve { "verify" } else { "reject" }))
        }
    }
}

/// The 31 characters of GB 32100-2015 codes (no I, O, S, V, Z).
const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Position weights 3^i mod 31 for the first 17 characters.
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Validates an 18-character unified social credit code (统一社会信用代码) and its check
/// character; returns it upper-cased.
pub fn validate_credit_code(raw: &str) -> Result<String, Rule> {
    let code = raw.trim().to_ascii_uppercase();
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(Rule::CreditCodeLength);
    }
    let mut values = Vec::with_capacity(18);
    for c in &chars {
        match CREDIT_CHARS.find(*c) {
            Some(v) => values.push(v as u32),
            None => return Err(Rule::CreditCodeChars),
        }
    }
    if !chars[2..8].iter().all(char::is_ascii_digit) {
        return Err(Rule::CreditCodeRegion);
    }
    let sum: u32 = values[..17].iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return Err(Rule::CreditCodeCheck);
    }
    Ok(code)
}

/// Computes the check character for the first 17 characters (used by demo data and tests).
pub fn credit_check_char(first17: &str) -> Option<char> {
    let values: Option<Vec<u32>> = first17.chars().map(|c| CREDIT_CHARS.find(c).map(|v| v as u32)).collect();
    let values = values.filter(|v| v.len() == 17)?;
    let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    CREDIT_CHARS.chars().nth(((31 - sum % 31) % 31) as usize)
}

/// China's 34 province-level divisions, as used in the `region` field.
pub const REGIONS: [&str; 34] = [
    "北京市",
    "天津市",
    "河北省",
    "山西省",
    "内蒙古自治区",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "上海市",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "广西壮族自治区",
    "海南省",
    "重庆市",
    "四川省",
    "贵州省",
    "云南省",
    "西藏自治区",
    "陕西省",
    "甘肃省",
    "青海省",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "台湾省",
    "香港特别行政区",
    "澳门特别行政区",
];

pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_are_checked() {
        // Published example codes with valid check characters.
        assert_eq!(validate_credit_code("91350100M000100Y43"), Ok("91350100M000100Y43".to_owned()));
        assert!(validate_credit_code("91350100m000100y43").is_ok(), "lower case is accepted");
        assert_eq!(validate_credit_code("91350100M000100Y44"), Err(Rule::CreditCodeCheck));
        assert!(validate_credit_code("91350100M000100Y4").is_err());
        assert!(validate_credit_code("91350100M0001O0Y43").is_err(), "letter O is not in the alphabet");
        assert!(validate_credit_code("91AB0100M000100Y43").is_err());
    }

    #[test]
    fn check_char_round_trips() {
        let first = "91110108MA01XXXX0";
        let first: String = first.replace('X', "1");
        let c = credit_check_char(&first).unwrap_or('?');
        assert!(validate_credit_code(&format!("{first}{c}")).is_ok());
    }

    #[test]
    fn review_only_from_pending() {
        assert_eq!(review(OrgStatus::Pending, true), Ok(OrgStatus::Verified));
        assert_eq!(review(OrgStatus::Pending, false), Ok(OrgStatus::Rejected));
        for from in [OrgStatus::Verified, OrgStatus::Rejected, OrgStatus::Suspended] {
            for approve in [true, false] {
                let err = review(from, approve).err().map(|e| e.code);
                assert_eq!(err, Some(super::super::error::ErrorCode::InvalidStateTransition));
            }
        }
    }
}
