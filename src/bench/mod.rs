//! Benchmark commands (`techtransfer bench <name>`): they print their numbers; nothing here
//! runs in the test suite.

pub mod batches;
pub mod files;
pub mod match_quality;
pub mod matching;
pub mod search;
pub mod stats;
pub mod synth;
pub mod vouchers;

use std::time::Duration;

/// p50/p95/p99 of a set of durations, in milliseconds.
pub fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |p: f64| {
        if samples.is_empty() {
            return 0.0;
        }
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95), at(0.99))
}

/// Resident memory of this process in MiB (Linux), for index-size estimates.
pub fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}
