//! `techtransfer bench match`: top-10 match latency (analysis, candidate retrieval,
//! re-ranking and explanations) at several corpus sizes, with index build time and memory.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::synth::Pieces;
use super::{percentiles, rss_mib};
use crate::matching::{self, Params, QueryListing, Role};
use crate::search::index::Collection;

pub fn run(sizes: &[usize], queries: usize, params: &Params) -> anyhow::Result<()> {
    crate::search::analyzer::Analyzer::warm_up();
    let pieces = Pieces::from_demo();
    println!("match benchmark: top-10 with explanations, {queries} synthetic demands per size (release build)");
    println!("corpus recombined from {} clauses of real listings; match-dev demands touch Σdf/N = 0.56", pieces.len());
    println!(
        "{:>9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>10} {:>10} {:>8} {:>8}",
        "listings",
        "build_s",
        "index_mib",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "terms_avg",
        "df_sum/N",
        "rank_p50",
        "rank_p95"
    );
    for &n in sizes {
        let before = rss_mib();
        let collection = Collection::new(512 * 1024 * 1024)?;
        let started = Instant::now();
        let mut batch = Vec::with_capacity(50_000);
        for doc in pieces.listings(n, 42) {
            batch.push(doc);
            if batch.len() == 50_000 {
                collection.apply(&batch, &[])?;
                batch.clear();
            }
        }
        collection.apply(&batch, &[])?;
        collection.optimize()?;
        let build = started.elapsed();
        let memory = rss_mib() - before;

        // Queries shaped like demands: a title, 3–5 keywords and a 4–6 phrase description.
        let demands: Vec<_> = pieces.queries(queries + 20, 99).collect();
        let mut rng = StdRng::seed_from_u64(5);
        let mut samples: Vec<Duration> = Vec::with_capacity(queries);
        let mut terms_total = 0;
        let mut load = 0.0;
        let mut rank_only: Vec<Duration> = Vec::with_capacity(queries);
        for (i, d) in demands.iter().enumerate() {
            let q = QueryListing {
                role: Role::Demand,
                title: &d.title,
                keywords: &d.keywords,
                body: &d.body,
                field: d.field,
                region: d.region,
                trl: Some(rng.random_range(3..8)),
                price: Some(rng.random_range(1..1000u64) * 1_000_000),
                org_id: None,
            };
            let t = Instant::now();
            let ranked = matching::rank(&collection, &q, params, 10)?;
            let ranked_at = t.elapsed();
            let terms = matching::query_terms(&q);
            let idf_cache = matching::idfs(&collection, &terms)?;
            for r in &ranked {
                // Explanations re-read the text; here the query text stands in for the
                // candidate's (same length), which keeps the timing honest.
                matching::matched_terms(
                    &collection,
                    &terms,
                    &idf_cache,
                    &r.id,
                    &d.keywords,
                    &d.body,
                    params.matched_terms_max,
                )?;
            }
            let took = t.elapsed();
            if i >= 20 {
                samples.push(took);
                rank_only.push(ranked_at);
                terms_total += terms.len();
                load += matching::postings_load(&collection, &terms)?;
            }
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        let (r50, r95, _) = percentiles(&mut rank_only);
        println!(
            "{n:>9} {:>9.1} {memory:>10.0} {p50:>8.2} {p95:>8.2} {p99:>8.2} {:>10} {:>10.2} {r50:>8.2} {r95:>8.2}",
            build.as_secs_f64(),
            terms_total / queries.max(1),
            load / queries.max(1) as f64
        );
    }
    Ok(())
}

/// `techtransfer bench vectors`: the vector side of hybrid matching, the 100 nearest of `n` listings by brute force over
/// 8-bit vectors (384 dimensions, as multilingual-e5-small), with the memory they take.
/// Synthetic unit vectors: the cost does not depend on what they mean.
pub fn vectors(sizes: &[usize], queries: usize) -> anyhow::Result<()> {
    use crate::matching::embeddings::{Quantized, unit};
    use crate::matching::vectors::VectorIndex;
    use crate::search::Kind;
    println!("vector candidates: top-100 of n listings, 384-dimension 8-bit vectors, {queries} queries per size");
    println!("{:>9} {:>10} {:>8} {:>8} {:>8}", "listings", "index_mib", "p50_ms", "p95_ms", "p99_ms");
    let mut rng = StdRng::seed_from_u64(7);
    let random_unit = |rng: &mut StdRng| unit((0..384).map(|_| rng.random_range(-1.0f32..1.0)).collect());
    for &n in sizes {
        let before = rss_mib();
        let index = VectorIndex::new(Some("synthetic"));
        for i in 0..n {
            index.put(Kind::Achievement, &format!("{i:08}"), Some(Quantized::new(&random_unit(&mut rng))));
        }
        let memory = rss_mib() - before;
        let mut samples = Vec::with_capacity(queries);
        for _ in 0..queries {
            let q = random_unit(&mut rng);
            let t = Instant::now();
            let top = index.top(Kind::Achievement, &q, 100);
            samples.push(t.elapsed());
            anyhow::ensure!(top.len() == 100.min(n), "top-100 returned {}", top.len());
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        println!("{n:>9} {memory:>10.0} {p50:>8.2} {p95:>8.2} {p99:>8.2}");
    }
    Ok(())
}
