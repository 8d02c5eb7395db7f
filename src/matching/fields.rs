//! Relatedness between the 15 technology fields (`data/field_relations.txt`, symmetric).

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::domain::listing::Field;

static RELATED: LazyLock<HashSet<(u64, u64)>> = LazyLock::new(|| {
    let code = |name: &str| Field::ALL.iter().position(|f| f.as_str() == name).map(|i| i as u64);
    include_str!("../search/data/field_relations.txt")
        .lines()
        .filter_map(|line| {
            let mut parts = line.split('#').next().unwrap_or("").split_whitespace();
            Some((code(parts.next()?)?, code(parts.next()?)?))
        })
        .flat_map(|(a, b)| [(a, b), (b, a)])
        .collect()
});

/// Whether two different fields are listed as related.
pub fn related(a: u64, b: u64) -> bool {
    RELATED.contains(&(a, b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_loads_every_pair() {
        let text = include_str!("../search/data/field_relations.txt");
        let pairs = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
        assert_eq!(super::RELATED.len(), pairs * 2, "every line names two known fields");
    }
}
