//! Money is integer fen (0.01 yuan); ratios are integer basis points (5000 = 50%). No floats.
//!
//! Every amount a client sends is at most [`MAX_FEN`] (10^15 fen, ten trillion yuan), checked
//! at the edge for every field named `*_fen`, so sums of a few thousand amounts still fit in
//! an i64; totals over whole tables (statistics, ledgers) are added in i128.

/// The largest amount any field accepts: 10^15 fen.
pub const MAX_FEN: i64 = 1_000_000_000_000_000;

/// Whether `amount` is within ±[`MAX_FEN`].
pub fn within_ceiling(amount: i64) -> bool {
    (-MAX_FEN..=MAX_FEN).contains(&amount)
}

/// An amount of money in fen, always within ±[`MAX_FEN`]: the one type money should travel in.
/// Arithmetic is checked (`None` when a result leaves the range) and sums are taken in i128,
/// so no addition of amounts can overflow or silently wrap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    pub const MAX: Fen = Fen(MAX_FEN);

    /// `amount` as money, when within the ceiling.
    pub fn new(amount: i64) -> Option<Fen> {
        within_ceiling(amount).then_some(Fen(amount))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).and_then(Fen::new)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).and_then(Fen::new)
    }

    /// The sum of `amounts` (added in i128), when it is within the ceiling.
    pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Option<Fen> {
        let total: i128 = amounts.into_iter().map(i128::from).sum();
        i64::try_from(total).ok().and_then(Fen::new)
    }

    /// `self × bp / 10000`, rounded down.
    pub fn mul_bp_floor(self, bp: i32) -> Fen {
        Fen(mul_bp_floor(self.0, bp))
    }
}

impl<'de> serde::Deserialize<'de> for Fen {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let amount = i64::deserialize(deserializer)?;
        Fen::new(amount).ok_or_else(|| {
            serde::de::Error::custom(format!("must be a whole number of fen between -{MAX_FEN} and {MAX_FEN}"))
        })
    }
}

impl std::fmt::Display for Fen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An i128 total narrowed for a response: exact when it fits in an i64 (always, for sums of
/// fewer than 9 223 amounts at the ceiling), else saturated.
pub fn saturate(total: i128) -> i64 {
    i64::try_from(total).unwrap_or(if total > 0 { i64::MAX } else { i64::MIN })
}

/// `amount × bp / 10000`, rounded down (the platform never pays a fraction of a fen more
/// than the ratio allows). Computed in i128, so it cannot overflow for any i64 amount.
pub fn mul_bp_floor(amount_fen: i64, bp: i32) -> i64 {
    let product = i128::from(amount_fen) * i128::from(bp) / 10_000;
    i64::try_from(product).unwrap_or(if product > 0 { i64::MAX } else { i64::MIN })
}

/// Sum of amounts, or `None` on overflow.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts.into_iter().try_fold(0_i64, i64::checked_add)
}

/// Splits `total` by basis-point shares so the parts add up to `total` exactly: each part is
/// rounded down and the remainder goes to the largest shares first.
pub fn split_by_bp(total: i64, shares_bp: &[i32]) -> Vec<i64> {
    let mut parts: Vec<i64> = shares_bp.iter().map(|bp| mul_bp_floor(total, *bp)).collect();
    let allotted: i128 = parts.iter().map(|p| i128::from(*p)).sum();
    let mut remainder = saturate(i128::from(total) - allotted);
    let mut order: Vec<usize> = (0..shares_bp.len()).collect();
    order.sort_by(|a, b| shares_bp[*b].cmp(&shares_bp[*a]).then(a.cmp(b)));
    for i in order.into_iter().cycle().take(remainder.max(0) as usize) {
        if remainder == 0 {
            break;
        }
        parts[i] += 1;
        remainder -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_stays_within_the_ceiling() {
        assert_eq!(Fen::new(MAX_FEN), Some(Fen::MAX));
        assert_eq!(Fen::new(MAX_FEN + 1), None);
        assert_eq!(Fen::new(i64::MAX), None);
        assert_eq!(Fen::MAX.checked_add(Fen::new(1).unwrap_or_default()), None);
        assert_eq!(Fen::ZERO.checked_sub(Fen::MAX).map(Fen::get), Some(-MAX_FEN));
        assert_eq!(Fen::sum([i64::MAX, i64::MAX]), None, "no wrap-around");
        assert_eq!(Fen::sum([MAX_FEN, -MAX_FEN, 5]).map(Fen::get), Some(5));
        assert_eq!(Fen::new(10_001).map(|f| f.mul_bp_floor(5000).get()), Some(5000));
        let parsed: Result<Fen, _> = serde_json::from_str("1000000000000001");
        assert!(parsed.is_err());
        assert_eq!(serde_json::to_string(&Fen::new(42)).unwrap_or_default(), "42");
    }

    #[test]
    fn basis_points_round_down() {
        assert_eq!(mul_bp_floor(10_001, 5000), 5000);
        assert_eq!(mul_bp_floor(99, 3333), 32);
        assert_eq!(mul_bp_floor(i64::MAX, 10_000), i64::MAX);
        assert_eq!(mul_bp_floor(0, 5000), 0);
    }

    #[test]
    fn splits_add_up() {
        let parts = split_by_bp(1001, &[5000, 3000, 2000]);
        assert_eq!(parts.iter().sum::<i64>(), 1001);
        assert_eq!(parts, vec![501, 300, 200]);
        assert_eq!(split_by_bp(10, &[3333, 3333, 3334]).iter().sum::<i64>(), 10);
        assert_eq!(checked_sum([i64::MAX, 1]), None);
    }
}
