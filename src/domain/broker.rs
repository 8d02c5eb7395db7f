//! 技术经理人: a broker's public profile and the rules of its commission.

use super::error::{Message, Rule, Validator};
use super::listing::Field;
use super::money::{MAX_FEN, mul_bp_floor};

/// The longest a career can plausibly be, in years.
pub const MAX_YEARS: i32 = 60;

/// What a broker says about itself in `POST /me/broker-profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Fields of expertise (the listings' taxonomy), each once, in the order given.
    pub fields: Vec<Field>,
    /// The 技术经理人 certificate number.
    pub certificate_no: String,
    pub years_of_practice: i32,
    pub bio: String,
}

impl Profile {
    /// Checks every field at once; texts are trimmed and repeated fields dropped.
    pub fn validated(mut self) -> Result<Self, super::error::DomainError> {
        let mut v = Validator::new();
        v.check(!self.fields.is_empty(), "fields", Rule::BrokerFieldsRequired);
        v.check(self.fields.len() <= Field::ALL.len(), "fields", Message::too_many(Field::ALL.len()));
        v.text("certificate_no", &self.certificate_no, 64);
        v.check((0..=MAX_YEARS).contains(&self.years_of_practice), "years_of_practice", Message::between(0, 60));
        v.text("bio", &self.bio, 2000);
        v.finish()?;
        let mut unique: Vec<Field> = Vec::with_capacity(self.fields.len());
        for field in self.fields {
            if !unique.contains(&field) {
                unique.push(field);
            }
        }
        self.fields = unique;
        self.certificate_no = self.certificate_no.trim().to_owned();
        self.bio = self.bio.trim().to_owned();
        Ok(self)
    }
}

/// A broker's commission on a contract: a fixed amount or a ratio of the contract amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commission {
    Fen(i64),
    Bp(i32),
}

impl Commission {
    /// Reads `commission_fen` / `commission_bp` for a contract of `amount_fen`: at most one
    /// of the two; a ratio in 0..=10000 bp; an amount between 0 and the contract amount.
    pub fn parse(
        amount_fen: i64,
        fen: Option<i64>,
        bp: Option<i32>,
    ) -> Result<Option<Self>, super::error::DomainError> {
        let mut v = Validator::new();
        let both = fen.is_some() && bp.is_some();
        v.check(!both, "commission_bp", Message::rule(Rule::CommissionOneOf));
        if let Some(fen) = fen {
            v.check(fen >= 0, "commission_fen", Rule::NonNegative);
            v.check(fen <= amount_fen.min(MAX_FEN), "commission_fen", Rule::CommissionWithinAmount);
        }
        if let Some(bp) = bp {
            v.check((0..=10_000).contains(&bp), "commission_bp", Message::between(0, 10000));
        }
        v.finish()?;
        Ok(match (fen, bp) {
            (Some(fen), None) => Some(Self::Fen(fen)),
            (None, Some(bp)) => Some(Self::Bp(bp)),
            _ => None,
        })
    }

    /// What the broker is owed on a contract of `amount_fen` (a ratio rounds down).
    pub fn due(self, amount_fen: i64) -> i64 {
        match self {
            Self::Fen(fen) => fen,
            Self::Bp(bp) => mul_bp_floor(amount_fen, bp),
        }
    }

    pub fn from_columns(fen: Option<i64>, bp: Option<i32>) -> Option<Self> {
        fen.map(Self::Fen).or(bp.map(Self::Bp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::ErrorCode;

    #[test]
    fn commission_is_one_bounded_figure() {
        assert_eq!(Commission::parse(1000, None, None).ok(), Some(None));
        assert_eq!(Commission::parse(1000, Some(1000), None).ok(), Some(Some(Commission::Fen(1000))));
        assert_eq!(Commission::parse(1000, None, Some(10_000)).ok(), Some(Some(Commission::Bp(10_000))));
        for (fen, bp) in
            [(Some(1001), None), (Some(-1), None), (None, Some(10_001)), (None, Some(-1)), (Some(1), Some(1))]
        {
            let err = Commission::parse(1000, fen, bp).err().map(|e| e.code);
            assert_eq!(err, Some(ErrorCode::ValidationFailed), "{fen:?} {bp:?}");
        }
        assert_eq!(Commission::Bp(550).due(1_000_001), 55_000);
        assert_eq!(Commission::Fen(7).due(1_000_001), 7);
    }

    #[test]
    fn profiles_are_checked_and_tidied() {
        let p = Profile {
            fields: vec![Field::NewEnergy, Field::NewEnergy, Field::Biomedicine],
            certificate_no: " JSJL-2024-0001 ".into(),
            years_of_practice: 8,
            bio: " 专注新能源成果转化。 ".into(),
        };
        let ok = p.clone().validated().ok();
        assert_eq!(ok.as_ref().map(|p| p.fields.len()), Some(2));
        assert_eq!(ok.map(|p| p.certificate_no), Some("JSJL-2024-0001".to_owned()));
        let bad = Profile { fields: vec![], years_of_practice: 61, bio: " ".into(), ..p }.validated();
        let fields = bad.err().map(|e| e.errors.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        assert_eq!(fields, vec!["bio", "fields", "years_of_practice"]);
    }
}
