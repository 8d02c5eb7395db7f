//! `techtransfer bench search`: index build time, index memory and query latency
//! (p50/p95/p99) for typical 1–3 word queries with one filter, at several corpus sizes, and
//! what counting the page's search appearances adds to each query (`tally_us`, the mean).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::synth::Pieces;
use super::{percentiles, rss_mib};
use crate::domain::listing::Field;
use crate::search::index::{Collection, Filters, Sort};

pub fn run(sizes: &[usize], queries: usize) -> anyhow::Result<()> {
    crate::search::analyzer::Analyzer::warm_up();
    let pieces = Pieces::from_demo();
    println!(
        "search benchmark: listings recombined from {} clauses of real listings, {queries} queries of 1-3 keywords + one filter",
        pieces.len()
    );
    println!(
        "{:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "listings", "build_s", "index_mib", "p50_ms", "p95_ms", "p99_ms", "hits_avg", "tally_us"
    );
    for &n in sizes {
        let before = rss_mib();
        let collection = Collection::new(256 * 1024 * 1024)?;
        let started = Instant::now();
        let docs: Vec<_> = pieces.listings(n, 42).collect();
        for chunk in docs.chunks(20_000) {
            collection.apply(chunk, &[])?;
        }
        collection.optimize()?;
        let build = started.elapsed();
        drop(docs);
        let memory = rss_mib() - before;

        let mut rng = StdRng::seed_from_u64(7);
        let mut samples: Vec<Duration> = Vec::with_capacity(queries);
        let mut hits = 0usize;
        let tally = crate::service::insights::SearchTally::default();
        let mut tallying = Duration::ZERO;
        let now = chrono::Utc::now();
        for i in 0..queries + 50 {
            let q = pieces.short_query(&mut rng);
            let filters = match i % 3 {
                0 => Filters { field: Some(rng.random_range(0..Field::ALL.len()) as u64), ..Filters::default() },
                1 => Filters { min_trl: Some(rng.random_range(3..8)), ..Filters::default() },
                _ => Filters { max_price: Some(rng.random_range(1..1000u64) * 1_000_000), ..Filters::default() },
            };
            let t = Instant::now();
            let (ids, total) = collection.search(&q, &filters, Sort::Relevance, 0, 20)?;
            let took = t.elapsed();
            let t = Instant::now();
            tally.shown(&ids, now);
            let counted = t.elapsed();
            if i >= 50 {
                samples.push(took);
                hits += total;
                tallying += counted;
            }
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        println!(
            "{n:>9} {:>10.2} {memory:>10.1} {p50:>9.3} {p95:>9.3} {p99:>9.3} {:>9} {:>9.2}",
            build.as_secs_f64(),
            hits / queries.max(1),
            tallying.as_secs_f64() * 1e6 / queries.max(1) as f64
        );
    }
    Ok(())
}
