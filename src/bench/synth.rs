//! Synthetic listings for speed benchmarks, recombined from the pieces of the demo data set
//! (titles, keywords and the clauses of summaries and descriptions, all real listing
//! language). Any corpus size keeps the term statistics of real listings: on match-dev a
//! full demand's terms touch Σdf/N ≈ 0.56 of the index, and these queries do the same.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::domain::listing::{Field, TransferMode};
use crate::domain::organization::REGIONS;
use crate::search::index::IndexDoc;

#[derive(Deserialize)]
struct Piece {
    title: String,
    #[serde(alias = "summary")]
    description: String,
    keywords: Vec<String>,
}

/// Titles, keywords and clauses to recombine.
pub struct Pieces {
    titles: Vec<String>,
    keywords: Vec<String>,
    clauses: Vec<String>,
}

impl Pieces {
    pub fn from_demo() -> Self {
        let sources = [
            include_str!("../demo/achievements.jsonl"),
            include_str!("../demo/demands.jsonl"),
            include_str!("../demo/extra_demands.jsonl"),
        ];
        let mut pieces = Pieces { titles: Vec::new(), keywords: Vec::new(), clauses: Vec::new() };
        for line in sources.iter().flat_map(|s| s.lines()) {
            let Ok(p) = serde_json::from_str::<Piece>(line) else { continue };
            pieces.titles.push(p.title);
            pieces.keywords.extend(p.keywords);
            pieces.clauses.extend(
                p.description
                    .split(['，', '。', '；', ';'])
                    .map(str::trim)
                    .filter(|c| c.chars().count() >= 4)
                    .map(str::to_owned),
            );
        }
        pieces
    }

    pub fn len(&self) -> usize {
        self.clauses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    fn any<'a>(list: &'a [String], rng: &mut StdRng) -> &'a str {
        &list[rng.random_range(0..list.len())]
    }

    fn doc(&self, rng: &mut StdRng, i: usize, clauses: std::ops::Range<usize>) -> IndexDoc {
        let title = Self::any(&self.titles, rng).to_owned();
        let keywords = (0..rng.random_range(3..6)).map(|_| Self::any(&self.keywords, rng).to_owned()).collect();
        let body = (0..rng.random_range(clauses)).map(|_| Self::any(&self.clauses, rng)).collect::<Vec<_>>().join("，");
        IndexDoc {
            id: format!("synth-{i}"),
            title,
            keywords,
            body,
            field: rng.random_range(0..Field::ALL.len()) as u64,
            region: rng.random_range(0..REGIONS.len()) as u64,
            org_id: format!("org-{}", i / 20),
            trl: Some(rng.random_range(1..=9)),
            price: rng.random_bool(0.7).then(|| rng.random_range(1..2_000u64) * 1_000_000),
            modes: vec![rng.random_range(0..TransferMode::ALL.len()) as u64],
            published_us: 1_700_000_000_000_000 + i as i64,
        }
    }

    /// `n` synthetic published listings with ids `synth-<i>` (4–7 clauses each, like a
    /// 150–250 character summary).
    pub fn listings(&self, n: usize, seed: u64) -> impl Iterator<Item = IndexDoc> + '_ {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(move |i| self.doc(&mut rng, i, 4..8))
    }

    /// Demand-like queries: a title, 3–5 keywords and 4–7 clauses.
    pub fn queries(&self, n: usize, seed: u64) -> impl Iterator<Item = IndexDoc> + '_ {
        self.listings(n, seed)
    }

    /// A one to three word query from listing keywords.
    pub fn short_query(&self, rng: &mut StdRng) -> String {
        (0..rng.random_range(1..=3)).map(|_| Self::any(&self.keywords, rng).to_owned()).collect::<Vec<_>>().join(" ")
    }
}
