//! Achievements (科技成果) and demands (技术需求): the shared lifecycle, the taxonomy, and
//! Chinese patent application numbers.

use super::error::DomainError;
use crate::domain::error::{Message, Rule};
use crate::text_enum;

text_enum!(ListingKind { Achievement = "achievement", Demand = "demand" });

text_enum!(
    ListingStatus {
        Draft = "draft",
        PendingReview = "pending_review",
        Published = "published",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        /// Achievements only: a signed `transfer` contract moved it to its new owner.
        Transferred = "transferred",
        /// Demands only: the deadline passed while published (the freshness job).
        Expired = "expired",
    }
);

text_enum!(
    /// Technology field: one taxonomy for achievements, demands and challenges.
    Field {
        NewMaterials = "new_materials",
        AdvancedManufacturing = "advanced_manufacturing",
        ElectronicInformation = "electronic_information",
        Biomedicine = "biomedicine",
        NewEnergy = "new_energy",
        EnergySavingEnvironment = "energy_saving_environment",
        ModernAgriculture = "modern_agriculture",
        Aerospace = "aerospace",
        Marine = "marine",
        ResourcesMining = "resources_mining",
        ChemicalEngineering = "chemical_engineering",
        Transportation = "transportation",
        Construction = "construction",
        TextileLightIndustry = "textile_light_industry",
        AiSoftware = "ai_software",
    }
);

text_enum!(
    TransferMode {
        Transfer = "transfer",
        License = "license",
        Equity = "equity",
        CoDevelopment = "co_development",
        Service = "service",
    }
);

impl ListingKind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Achievement => "achievement",
            Self::Demand => "demand",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Achievement => "科技成果",
            Self::Demand => "技术需求",
        }
    }

    pub fn counterpart(self) -> Self {
        match self {
            Self::Achievement => Self::Demand,
            Self::Demand => Self::Achievement,
        }
    }
}

/// What can be done to a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingAction {
    Edit,
    Submit,
    Approve,
    Reject,
    Withdraw,
    MarkTransferred,
    /// Demands: the deadline passed (the freshness job).
    Expire,
    /// Demands: the owner moves the deadline (published, or expired to published again).
    Extend,
    /// The owner confirms a published listing is still current.
    Confirm,
}

impl ListingAction {
    pub const ALL: [ListingAction; 9] = [
        ListingAction::Edit,
        ListingAction::Submit,
        ListingAction::Approve,
        ListingAction::Reject,
        ListingAction::Withdraw,
        ListingAction::MarkTransferred,
        ListingAction::Expire,
        ListingAction::Extend,
        ListingAction::Confirm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Withdraw => "withdraw",
            Self::MarkTransferred => "mark_transferred",
            Self::Expire => "expire",
            Self::Extend => "extend",
            Self::Confirm => "confirm",
        }
    }
}

/// The listing state machine: the status after `action`, or 409 `invalid_state_transition`.
pub fn apply(kind: ListingKind, from: ListingStatus, action: ListingAction) -> Result<ListingStatus, DomainError> {
    use ListingAction as A;
    use ListingStatus as S;
    let to = match (from, action) {
        (S::Draft | S::Rejected, A::Edit) => Some(from),
        (S::Draft | S::Rejected, A::Submit) => Some(S::PendingReview),
        (S::PendingReview, A::Approve) => Some(S::Published),
        (S::PendingReview, A::Reject) => Some(S::Rejected),
        (S::Published, A::Withdraw) => Some(S::Withdrawn),
        (S::Published, A::MarkTransferred) if kind == ListingKind::Achievement => Some(S::Transferred),
        (S::Published, A::Expire) if kind == ListingKind::Demand => Some(S::Expired),
        (S::Published | S::Expired, A::Extend) if kind == ListingKind::Demand => Some(S::Published),
        (S::Published, A::Confirm) => Some(S::Published),
        _ => None,
    };
    to.ok_or_else(|| DomainError::transition(kind.noun(), from.as_str(), action.as_str()))
}

/// Validates a Chinese patent application number (专利申请号) with its check digit:
/// `CN` + 12 digits (year, type, serial) + `.` + check, e.g. `CN202310123456.6`, or the
/// pre-2004 8-digit form. The check digit is Σ digit·weight mod 11 (10 written `X`) with
/// weights 2,3,4,5,6,7,8,9,2,3,4,5. Returns the number normalised to `CN…`.
pub fn validate_patent_number(raw: &str) -> Result<String, Rule> {
    let s = raw.trim().to_ascii_uppercase();
    let s = s.strip_prefix("ZL").or_else(|| s.strip_prefix("CN")).unwrap_or(&s);
    let (digits, check) = s.split_once('.').ok_or(Rule::PatentShape)?;
    if !(digits.len() == 12 || digits.len() == 8) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rule::PatentDigits);
    }
    if digits.len() == 12 && !matches!(digits.as_bytes()[4], b'1' | b'2' | b'3' | b'8' | b'9') {
        return Err(Rule::PatentType);
    }
    const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = digits.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let expected = match sum % 11 {
        10 => "X".to_owned(),
        d => d.to_string(),
    };
    if check != expected {
        return Err(Rule::PatentCheck);
    }
    Ok(format!("CN{digits}.{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_action_pair() {
        use ListingAction as A;
        use ListingStatus as S;
        for kind in ListingKind::ALL {
            for &from in ListingStatus::ALL {
                for action in ListingAction::ALL {
                    let expected = match (from, action) {
                        (S::Draft, A::Edit) => Some(S::Draft),
                        (S::Rejected, A::Edit) => Some(S::Rejected),
                        (S::Draft | S::Rejected, A::Submit) => Some(S::PendingReview),
                        (S::PendingReview, A::Approve) => Some(S::Published),
                        (S::PendingReview, A::Reject) => Some(S::Rejected),
                        (S::Published, A::Withdraw) => Some(S::Withdrawn),
                        (S::Published, A::MarkTransferred) if *kind == ListingKind::Achievement => Some(S::Transferred),
                        (S::Published, A::Expire) if *kind == ListingKind::Demand => Some(S::Expired),
                        (S::Published | S::Expired, A::Extend) if *kind == ListingKind::Demand => Some(S::Published),
                        (S::Published, A::Confirm) => Some(S::Published),
                        _ => None,
                    };
                    let got = apply(*kind, from, action).ok();
                    assert_eq!(got, expected, "{kind} {from} {action:?}");
                    if got.is_none() {
                        let err = apply(*kind, from, action).err().map(|e| e.code);
                        assert_eq!(err, Some(super::super::error::ErrorCode::InvalidStateTransition));
                    }
                }
            }
        }
    }

    #[test]
    fn patent_numbers_carry_a_check_digit() {
        assert_eq!(validate_patent_number("CN202310123456.6"), Ok("CN202310123456.6".to_owned()));
        assert_eq!(validate_patent_number("zl202310123456.6"), Ok("CN202310123456.6".to_owned()));
        assert_eq!(validate_patent_number("202310123456.6"), Ok("CN202310123456.6".to_owned()));
        assert!(validate_patent_number("CN202310123456.7").is_err());
        assert!(validate_patent_number("CN202310123456").is_err());
        assert!(validate_patent_number("CN202350123456.6").is_err(), "type digit 5 does not exist");
        assert!(validate_patent_number("CN20231012345.6").is_err());
        // 8-digit legacy form: 0 2 1 1 2 3 4 5 → 0+6+4+5+12+21+32+45 = 125 → 125 mod 11 = 4.
        assert_eq!(validate_patent_number("CN02112345.4"), Ok("CN02112345.4".to_owned()));
    }
}

/// The editable content of a listing, validated as a whole (after a PATCH is merged too).
#[derive(Debug, Clone, PartialEq)]
pub struct ListingContent {
    pub title: String,
    pub body: String,
    pub field: Field,
    pub keywords: Vec<String>,
    /// TRL of an achievement; minimum TRL of a demand.
    pub trl: Option<i32>,
    /// Asking price of an achievement; budget of a demand.
    pub price_fen: Option<i64>,
    pub negotiable: bool,
    pub transfer_modes: Vec<TransferMode>,
    pub patent_numbers: Vec<String>,
    pub region: String,
    pub deadline: Option<chrono::NaiveDate>,
}

/// Names of the API fields that carry each part of the content, per kind.
pub struct FieldNames {
    pub body: &'static str,
    pub trl: &'static str,
    pub price: &'static str,
}

impl ListingKind {
    pub fn field_names(self) -> FieldNames {
        match self {
            Self::Achievement => FieldNames { body: "summary", trl: "trl", price: "asking_price_fen" },
            Self::Demand => FieldNames { body: "description", trl: "min_trl", price: "budget_fen" },
        }
    }
}

pub const MAX_KEYWORDS: usize = 20;

impl ListingContent {
    /// Trims text, de-duplicates lists and checks every rule; field errors use the kind's
    /// API names (`summary` / `description`, `trl` / `min_trl`, …).
    pub fn validated(mut self, kind: ListingKind) -> Result<Self, DomainError> {
        let names = kind.field_names();
        let mut v = super::error::Validator::new();
        self.title = self.title.trim().to_owned();
        self.body = self.body.trim().to_owned();
        self.region = self.region.trim().to_owned();
        v.text("title", &self.title, 200);
        v.text(names.body, &self.body, 10_000);
        let mut keywords = Vec::new();
        for k in self.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            if !keywords.iter().any(|x: &String| x == k) {
                keywords.push(k.to_owned());
            }
        }
        v.check(keywords.len() <= MAX_KEYWORDS, "keywords", Message::too_many(MAX_KEYWORDS));
        v.check(
            keywords.iter().all(|k| k.chars().count() <= 40),
            "keywords",
            Message::rule(Rule::KeywordTooLong).arg("max", 40),
        );
        self.keywords = keywords;
        match (kind, self.trl) {
            (ListingKind::Achievement, None) => {
                v.add(names.trl, Rule::Required);
            }
            (_, Some(t)) if !(1..=9).contains(&t) => {
                v.add(names.trl, Message::between(1, 9));
            }
            _ => {}
        }
        v.check(self.price_fen.is_none_or(|p| p >= 0), names.price, Rule::NonNegative);
        v.check(super::organization::is_region(&self.region), "region", Rule::Region);
        self.transfer_modes.sort();
        self.transfer_modes.dedup();
        if kind == ListingKind::Achievement {
            v.check(!self.transfer_modes.is_empty(), "transfer_modes", Rule::TransferModesRequired);
        }
        let mut patents = Vec::new();
        for raw in &self.patent_numbers {
            match validate_patent_number(raw) {
                Ok(p) if !patents.contains(&p) => patents.push(p),
                Ok(_) => {}
                Err(rule) => {
                    v.add("patent_numbers", Message::rule(rule).arg("number", raw.as_str()));
                }
            }
        }
        v.check(patents.len() <= 50, "patent_numbers", Message::too_many(50));
        self.patent_numbers = patents;
        v.finish()?;
        Ok(self)
    }
}
