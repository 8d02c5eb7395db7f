//! Prometheus metrics: request counts and latency histograms by route, pool state and job
//! queue depth, rendered as text at `/metrics`.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<(String, String), RouteStats>>,
    /// Longest commit-to-sequence wait of the audit sequencer's last pass (ms).
    pub audit_lag_ms: std::sync::atomic::AtomicI64,
}

#[derive(Default)]
struct RouteStats {
    by_status: HashMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

/// Gauges read at scrape time.
pub struct Gauges {
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    pub jobs_pending: i64,
    pub jobs_failed: i64,
    /// Write transactions re-run after a deadlock or serialization failure, and those that
    /// still failed after their last retry (answered 503).
    pub tx_retries: u64,
    pub tx_retries_exhausted: u64,
    /// Audit entries waiting for the sequencer, and the longest wait of the last pass (ms).
    pub audit_pending: i64,
    pub audit_lag_ms: i64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let Ok(mut routes) = self.routes.lock() else { return };
        let stats = routes.entry((method.to_owned(), route.to_owned())).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum_secs += secs;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            stats.buckets[i] += 1;
        }
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP http_requests_total HTTP requests by method, route pattern and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        let routes = match self.routes.lock() {
            Ok(routes) => routes,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut keys: Vec<_> = routes.keys().collect();
        keys.sort();
        for key in &keys {
            let stats = &routes[*key];
            let mut statuses: Vec<_> = stats.by_status.iter().collect();
            statuses.sort();
            for (status, n) in statuses {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    key.0,
                    escape(&key.1)
                );
            }
        }
        out.push_str("# HELP http_request_duration_seconds Request latency by method and route pattern.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for key in &keys {
            let stats = &routes[*key];
            let labels = format!("method=\"{}\",route=\"{}\"", key.0, escape(&key.1));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                cumulative += n;
                let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", stats.count);
            let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {}", stats.sum_secs);
            let _ = writeln!(out, "http_request_duration_seconds_count{{{labels}}} {}", stats.count);
        }
        drop(routes);
        out.push_str("# HELP db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE db_pool_connections gauge\n");
        let _ = writeln!(out, "db_pool_connections{{state=\"open\"}} {}", gauges.pool_connections);
        let _ = writeln!(out, "db_pool_connections{{state=\"idle\"}} {}", gauges.pool_idle);
        let _ = writeln!(out, "db_pool_connections{{state=\"max\"}} {}", gauges.pool_max);
        out.push_str(
            "# HELP jobs_queue_depth Background jobs waiting (pending) or parked after their last attempt (failed).\n",
        );
        out.push_str("# TYPE jobs_queue_depth gauge\n");
        let _ = writeln!(out, "jobs_queue_depth{{status=\"pending\"}} {}", gauges.jobs_pending);
        let _ = writeln!(out, "jobs_queue_depth{{status=\"failed\"}} {}", gauges.jobs_failed);
        out.push_str("# HELP db_transaction_retries_total Write transactions re-run after a deadlock or serialization failure.\n");
        out.push_str("# TYPE db_transaction_retries_total counter\n");
        let _ = writeln!(out, "db_transaction_retries_total {}", gauges.tx_retries);
        out.push_str("# HELP db_transaction_retries_exhausted_total Write transactions that still collided after their last retry (503).\n");
        out.push_str("# TYPE db_transaction_retries_exhausted_total counter\n");
        let _ = writeln!(out, "db_transaction_retries_exhausted_total {}", gauges.tx_retries_exhausted);
        out.push_str(
            "# HELP audit_pending_entries Audit entries committed but not yet sequenced into the hash chain.\n",
        );
        out.push_str("# TYPE audit_pending_entries gauge\n");
        let _ = writeln!(out, "audit_pending_entries {}", gauges.audit_pending);
        out.push_str(
            "# HELP audit_sequencing_lag_milliseconds Longest commit-to-sequence wait in the sequencer's last pass.\n",
        );
        out.push_str("# TYPE audit_sequencing_lag_milliseconds gauge\n");
        let _ = writeln!(out, "audit_sequencing_lag_milliseconds {}", gauges.audit_lag_ms);
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}
