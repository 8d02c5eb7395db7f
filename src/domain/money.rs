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
