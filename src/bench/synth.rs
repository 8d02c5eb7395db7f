//! Synthetic listings for speed benchmarks: titles, keywords and bodies composed from the
//! domain vocabulary of the synonym table (so the analyzer sees realistic technical terms),
//! with Zipf-like term frequencies, spread over fields, regions, TRLs and prices.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::listing::{Field, TransferMode};
use crate::domain::organization::REGIONS;
use crate::search::index::IndexDoc;

const FILLERS: [&str; 16] = [
    "采用",
    "基于",
    "实现",
    "提高",
    "降低",
    "适用于",
    "通过",
    "结合",
    "形成",
    "具有",
    "用于",
    "解决",
    "满足",
    "支持",
    "优化",
    "集成",
];

/// Domain terms (synonym variants), most general first.
pub struct Vocabulary {
    terms: Vec<String>,
}

impl Vocabulary {
    pub fn from_synonyms() -> Self {
        let data = include_str!("../search/data/synonyms.txt");
        let mut terms: Vec<String> = data
            .lines()
            .filter_map(|l| l.split('#').next())
            .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ',' || c == '，'))
            .filter(|t| t.chars().count() >= 2 && !t.contains('_'))
            .map(str::to_owned)
            .collect();
        terms.dedup();
        Self { terms }
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// A term drawn with a Zipf-like skew (a few terms are common, most are rare).
    pub fn pick(&self, rng: &mut StdRng) -> &str {
        let u: f64 = rng.random::<f64>();
        let i = ((self.terms.len() as f64).powf(u) - 1.0) as usize;
        &self.terms[i.min(self.terms.len() - 1)]
    }

    fn phrase(&self, rng: &mut StdRng, words: usize) -> String {
        let mut s = String::new();
        for k in 0..words {
            if k > 0 && rng.random_bool(0.4) {
                s.push_str(FILLERS[rng.random_range(0..FILLERS.len())]);
            }
            s.push_str(self.pick(rng));
        }
        s
    }
}

/// `n` synthetic published listings with ids `synth-<i>`.
pub fn listings(vocab: &Vocabulary, n: usize, seed: u64) -> impl Iterator<Item = IndexDoc> + '_ {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(move |i| {
        let title = vocab.phrase(&mut rng, 3);
        let keywords = (0..rng.random_range(3..6)).map(|_| vocab.pick(&mut rng).to_owned()).collect();
        let body = (0..rng.random_range(3..6)).map(|_| vocab.phrase(&mut rng, 4)).collect::<Vec<_>>().join("，");
        IndexDoc {
            id: format!("synth-{i}"),
            title,
            keywords,
            body,
            field: rng.random_range(0..Field::ALL.len()) as u64,
            region: rng.random_range(0..REGIONS.len()) as u64,
            org_id: format!("org-{}", rng.random_range(0..(n / 20).max(1))),
            trl: Some(rng.random_range(1..=9)),
            price: rng.random_bool(0.7).then(|| rng.random_range(1..2_000u64) * 1_000_000),
            modes: vec![rng.random_range(0..TransferMode::ALL.len()) as u64],
            published_us: 1_700_000_000_000_000 + i as i64,
        }
    })
}
